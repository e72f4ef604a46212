/* Fuzzes the HOTSPOTS snapshot loader. Any input must load or be rejected cleanly; a detector that
 * loads must keep working (a few records, JSON, recompute agreement) and save to the same bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "rcfd/hotspots.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hs_detector_t *d;
    char err[256];
    if (hs_load(data, size, &d, err, sizeof err) != 0) {
        return 0;
    }
    /* Inputs can ask for huge windows; keep each run short. */
    uint32_t dim = hs_params(d)->dim;
    size_t len = hs_snapshot_size(d);
    unsigned char *again = malloc(len);
    if (again != NULL) {
        /* What loads must save, and what it saves must load (-0.0 may have become +0.0). */
        hs_detector_t *copy;
        if (hs_save(d, again, len, &len) != 0 || len != size ||
            hs_load(again, len, &copy, err, sizeof err) != 0) {
            abort();
        }
        hs_destroy(copy);
    }
    free(again);
    double row[HS_MAX_DIM];
    for (int i = 0; i < 3; i++) {
        for (uint32_t k = 0; k < dim; k++) {
            row[k] = (double)((i * 7 + (int)k) % 5);
        }
        hs_result_t r;
        if (hs_process(d, row, dim, &r) != 0) {
            abort();
        }
        char json[4096];
        hs_result_json(d, &r, json, sizeof json, &len, 0);
        if (hs_params(d)->window_size <= 2000) {
            hs_result_t check;
            if (hs_recompute(d, &check) != 0 || check.changed) {
                abort(); /* incremental and brute force disagree */
            }
        }
    }
    hs_destroy(d);
    return 0;
}
