/* Fuzzes the forest snapshot loader. Whatever the bytes, loading must either fail cleanly or give
 * a forest that processes records and saves to a snapshot that loads again to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_snapshot.h"
#include "rcfd/rcf.h"

static void load_and_exercise(const uint8_t *data, size_t size)
{
    rcf_forest_t *f;
    char err[256];
    if (rcf_forest_load(data, size, &f, err, sizeof err) != 0) {
        return;
    }
    const rcf_params_t *p = rcf_forest_params(f);
    double values[8] = {0.5, -1.0, 2.0, 3.5, 0.0, 1.0, -2.0, 4.0};
    if (p->input_dim <= 8) {
        rcf_result_t r;
        for (int i = 0; i < 4; i++) {
            values[0] += 1.0;
            if (rcf_forest_process(f, values, p->input_dim, &r) != 0) {
                abort();
            }
        }
    }
    size_t len = rcf_forest_snapshot_size(f);
    unsigned char *a = malloc(len), *b = malloc(len);
    size_t la = 0, lb = 0;
    rcf_forest_t *g = NULL;
    if (a != NULL && b != NULL && rcf_forest_save(f, a, len, &la) == 0) {
        if (rcf_forest_load(a, la, &g, err, sizeof err) != 0) {
            abort(); /* a snapshot we wrote must load */
        }
        if (rcf_forest_save(g, b, len, &lb) != 0 || la != lb || memcmp(a, b, la) != 0) {
            abort(); /* and save back to the same bytes */
        }
    }
    rcf_forest_destroy(g);
    rcf_forest_destroy(f);
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_snapshot_input(data, size, RCFD_SNAP_KIND_RCF, load_and_exercise);
    return 0;
}
