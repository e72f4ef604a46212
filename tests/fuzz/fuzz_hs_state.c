/* Fuzzes the HOTSPOTS snapshot loader. Any input must load or be rejected cleanly; a detector that
 * loads must keep working (records, JSON, exact agreement with the brute-force reference) and save
 * to a snapshot that loads again to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/snapshot.h"
#include "rcfd/alloc.h"
#include "rcfd/hotspots.h"

/* Snapshots may declare windows of 100000 records; refusing big allocations keeps the fuzzer within
 * its memory limit and exercises the out-of-memory path of hs_new. */
#define ALLOC_LIMIT (64u << 20)

static void *capped_malloc(size_t n)
{
    return n > ALLOC_LIMIT ? NULL : malloc(n);
}

static void *capped_realloc(void *p, size_t n)
{
    return n > ALLOC_LIMIT ? NULL : realloc(p, n);
}

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
        if (hs_process(d, row, dim, &r) != 0) {
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
    static int initialised;
    if (!initialised) {
        rcfd_set_allocator(&(rcfd_allocator_t){capped_malloc, capped_realloc, free});
        initialised = 1;
    }
    load_and_exercise(data, size);
    /* Random bytes almost never pass the checksum; load a resealed copy too, so the fuzzer reaches
     * the payload decoder. */
    if (size >= RCFD_SNAP_HEADER_SIZE) {
        uint8_t *copy = malloc(size);
        if (copy != NULL) {
            memcpy(copy, data, size);
            uint32_t version = (uint32_t)copy[12] | (uint32_t)copy[13] << 8 |
                               (uint32_t)copy[14] << 16 | (uint32_t)copy[15] << 24;
            rcfd_snap_seal(copy, RCFD_SNAP_KIND_HOTSPOTS, version, size - RCFD_SNAP_HEADER_SIZE);
            load_and_exercise(copy, size);
            free(copy);
        }
    }
    return 0;
}
