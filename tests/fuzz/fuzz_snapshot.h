/* Shared driver for the snapshot-loader fuzz targets. */
#ifndef RCFD_FUZZ_SNAPSHOT_H
#define RCFD_FUZZ_SNAPSHOT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/snapshot.h"
#include "rcfd/alloc.h"

/* Snapshots may declare huge models; refusing big allocations keeps the fuzzer within its memory
 * limit and exercises the out-of-memory paths. */
#define FUZZ_ALLOC_LIMIT (64u << 20)

static void *fuzz_capped_malloc(size_t n)
{
    return n > FUZZ_ALLOC_LIMIT ? NULL : malloc(n);
}

static void *fuzz_capped_realloc(void *p, size_t n)
{
    return n > FUZZ_ALLOC_LIMIT ? NULL : realloc(p, n);
}

/* Runs `exercise` on the input as given, then on a copy whose envelope is resealed (length and
 * checksum fixed, kind and version kept from the input's bytes): random bytes almost never pass the
 * checksum, and the copy lets the fuzzer reach the payload decoder and its structural checks. */
static inline void fuzz_snapshot_input(const uint8_t *data, size_t size, uint32_t kind,
                                       void (*exercise)(const uint8_t *, size_t))
{
    static int initialised;
    if (!initialised) {
        rcfd_set_allocator(&(rcfd_allocator_t){fuzz_capped_malloc, fuzz_capped_realloc, free});
        initialised = 1;
    }
    exercise(data, size);
    if (size < RCFD_SNAP_HEADER_SIZE) {
        return;
    }
    uint8_t *copy = malloc(size);
    if (copy == NULL) {
        return;
    }
    memcpy(copy, data, size);
    uint32_t version = (uint32_t)copy[12] | (uint32_t)copy[13] << 8 | (uint32_t)copy[14] << 16 |
                       (uint32_t)copy[15] << 24;
    rcfd_snap_seal(copy, kind, version, size - RCFD_SNAP_HEADER_SIZE);
    exercise(copy, size);
    free(copy);
}

#endif
