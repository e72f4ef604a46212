/* Fuzzes the HOTSPOTS snapshot loader. Any input must load or be rejected cleanly; a detector that
 * loads must keep working (records, JSON, exact agreement with the brute-force reference) and save
 * to a snapshot that loads again to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_snapshot.h"
#include "rcfd/hotspots.h"
#include "rcfd/status.h"

static void load_and_exercise(const uint8_t *data, size_t size)
{
    hs_detector_t *d;
    char err[256];
    if (hs_load(data, size, &d, err, sizeof err) != 0) {
        return;
    }
    uint32_t dim = hs_params(d)->dim;
    double row[HS_MAX_DIM];
    for (int i = 0; i < 3; i++) {
        for (uint32_t k = 0; k < dim; k++) {
            row[k] = (double)((i * 7 + (int)k) % 5);
        }
        hs_result_t r;
        int rc = hs_process(d, row, dim, &r);
        hs_stats_t st;
        hs_stats(d, &st);
        if (rc == RCFD_ERANGE && st.records >= (1ULL << 53)) {
            break; /* a snapshot at the count's end: it takes no more records */
        }
        if (rc != 0) {
            abort();
        }
        char json[4096];
        size_t len;
        hs_result_json(d, &r, json, sizeof json, &len, 0);
        /* Brute force is O(window^2): check agreement on small windows only. */
        if (hs_params(d)->window_size <= 2000) {
            hs_result_t check;
            if (hs_recompute(d, &check) != 0 || check.changed) {
                abort();
            }
        }
    }
    size_t len = hs_snapshot_size(d);
    unsigned char *a = malloc(len), *b = malloc(len);
    size_t la = 0, lb = 0;
    hs_detector_t *g = NULL;
    if (a != NULL && b != NULL && hs_save(d, a, len, &la) == 0) {
        if (hs_load(a, la, &g, err, sizeof err) != 0) {
            abort(); /* a snapshot we wrote must load */
        }
        if (hs_save(g, b, len, &lb) != 0 || la != lb || memcmp(a, b, la) != 0) {
            abort(); /* and save back to the same bytes */
        }
    }
    hs_destroy(g);
    hs_destroy(d);
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_snapshot_input(data, size, RCFD_SNAP_KIND_HOTSPOTS, load_and_exercise);
    return 0;
}
