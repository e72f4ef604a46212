/* Fuzzes the anomaly_novelty's state reader (the kind-5 section of an rcf model's snapshot).
 * Whatever the bytes, reading must fail cleanly or give a novelty that keeps working and writes a
 * state that reads back and writes again to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_snapshot.h"
#include "score/likelihood.h"

#define MAX_FIELDS 8

static int read_into(rcfd_novelty_t *nv, const unsigned char *payload, size_t len, uint32_t version,
                     size_t n_fields)
{
    char err[256];
    rcfd_snap_loader_t l = {{payload, len, 0, 0}, err, sizeof err, 0, 0};
    return rcfd_novelty_read(nv, &l, version, n_fields);
}

static unsigned char *write_state(const rcfd_novelty_t *nv, size_t *len)
{
    *len = rcfd_novelty_payload_size(nv);
    unsigned char *b = malloc(*len);
    if (b != NULL) {
        rcfd_writer_t w = {b, 0, *len};
        rcfd_novelty_write(nv, &w);
        if (w.len != *len) {
            abort(); /* the size and the writer disagree */
        }
    }
    return b;
}

static void load_and_exercise(const uint8_t *data, size_t size)
{
    const unsigned char *payload;
    size_t plen;
    uint32_t version;
    char err[256];
    if (rcfd_snap_open(data, size, RCFD_SNAP_KIND_NOVELTY, &payload, &plen, &version, err,
                       sizeof err) != 0 ||
        version < 1 || version > RCFD_NOVELTY_STATE_VERSION || plen < 4) {
        return;
    }
    /* versions 1 and 2 begin with the field count, which the reader checks against the model's */
    size_t n_fields = payload[0] % (MAX_FIELDS + 1);
    rcfd_novelty_t nv, again;
    rcfd_novelty_init(&nv, 100.0);
    if (read_into(&nv, payload, plen, version, n_fields) == 0) {
        for (int i = 0; i < 40; i++) {
            double x = rcfd_novelty_update(&nv, (double)(i % 9) * 0.4);
            if (!(x >= 0.0)) {
                abort(); /* a novelty is >= 0 for a score >= 0 */
            }
        }
        size_t la, lb;
        unsigned char *a = write_state(&nv, &la), *b = NULL;
        if (a != NULL) {
            rcfd_novelty_init(&again, 100.0);
            if (read_into(&again, a, la, RCFD_NOVELTY_STATE_VERSION, n_fields) != 0) {
                abort(); /* a state we wrote must read */
            }
            b = write_state(&again, &lb);
            if (b != NULL && (la != lb || memcmp(a, b, la) != 0)) {
                abort(); /* and write back to the same bytes */
            }
        }
        free(a);
        free(b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_snapshot_input(data, size, RCFD_SNAP_KIND_NOVELTY, load_and_exercise);
    return 0;
}
