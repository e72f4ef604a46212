#include "pointstore.h"

#include <string.h>

#include "rcfd/alloc.h"
#include "rcfd/status.h"

/* The first compaction happens after this many records; later marks follow the live size. */
#define MIN_COMPACT_RECORDS 4096u

size_t pointstore_fixed_bytes(uint32_t capacity)
{
    return (size_t)capacity * 4 * sizeof(uint32_t);
}

uint64_t pointstore_log_capacity(uint32_t capacity, uint32_t shingle)
{
    /* Worst case: every live point covers its own `shingle` records, plus the tail that starts the
     * next point. */
    return (uint64_t)capacity * shingle + shingle;
}

int pointstore_init(pointstore_t *ps, void *mem, uint32_t capacity, uint32_t base_dim,
                    uint32_t shingle)
{
    memset(ps, 0, sizeof *ps);
    ps->base_dim = base_dim;
    ps->shingle = shingle;
    ps->dim = base_dim * shingle;
    ps->capacity = capacity;
    uint32_t *words = mem;
    ps->start = words;
    ps->refs = words + capacity;
    ps->free_slots = words + 2 * (size_t)capacity;
    ps->order = words + 3 * (size_t)capacity;
    ps->log_cap = pointstore_log_capacity(capacity, shingle);
    ps->log_bytes = (size_t)ps->log_cap * base_dim * sizeof(float);
    ps->log = rcfd_reserve(ps->log_bytes);
    if (ps->log == NULL) {
        return RCFD_ENOMEM;
    }
    ps->compact_at = pointstore_min_compact_mark(ps);
    pointstore_rebuild_free(ps);
    return 0;
}

uint64_t pointstore_min_compact_mark(const pointstore_t *ps)
{
    return ps->log_cap < MIN_COMPACT_RECORDS ? ps->log_cap : MIN_COMPACT_RECORDS;
}

void pointstore_fini(pointstore_t *ps)
{
    rcfd_unreserve(ps->log, ps->log_bytes);
    ps->log = NULL;
}

void pointstore_rebuild_free(pointstore_t *ps)
{
    /* Highest id at the bottom of the stack so low ids are reused first: keeps touched memory dense. */
    ps->free_top = 0;
    ps->live = 0;
    for (uint32_t i = ps->capacity; i-- > 0;) {
        if (ps->refs[i] == 0) {
            ps->free_slots[ps->free_top++] = i;
        } else {
            ps->live++;
        }
    }
}

/* In-place heapsort of live slot ids by start; heapsort because qsort may allocate. */
static void sift_down(uint32_t *a, const uint32_t *key, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n) {
            return;
        }
        if (child + 1 < n && key[a[child + 1]] > key[a[child]]) {
            child++;
        }
        if (key[a[root]] >= key[a[child]]) {
            return;
        }
        uint32_t t = a[root];
        a[root] = a[child];
        a[child] = t;
        root = child;
    }
}

static void sort_by_start(uint32_t *a, const uint32_t *start, size_t n)
{
    for (size_t i = n / 2; i-- > 0;) {
        sift_down(a, start, i, n);
    }
    for (size_t end = n; end-- > 1;) {
        uint32_t t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift_down(a, start, 0, end);
    }
}

/* Moves every record some live point covers, and the tail, to the front of the log, keeping order.
 * Points sorted by start form runs of overlapping intervals; each run is copied once. */
static void compact(pointstore_t *ps)
{
    const uint32_t s = ps->shingle;
    const size_t rec_bytes = (size_t)ps->base_dim * sizeof(float);
    size_t n = 0;
    for (uint32_t i = 0; i < ps->capacity; i++) {
        if (ps->refs[i] != 0) {
            ps->order[n++] = i;
        }
    }
    sort_by_start(ps->order, ps->start, n);

    uint64_t out = 0;     /* next free record in the compacted log */
    uint64_t run_lo = 0;  /* current run of covered records [run_lo, run_hi) in the old log */
    uint64_t run_hi = 0;
    uint64_t run_out = 0; /* where run_lo lands */
    int in_run = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t id = ps->order[k];
        uint64_t lo = ps->start[id];
        if (!in_run || lo > run_hi) {
            if (in_run) {
                memmove(ps->log + run_out * ps->base_dim, ps->log + run_lo * ps->base_dim,
                        (size_t)(run_hi - run_lo) * rec_bytes);
                out = run_out + (run_hi - run_lo);
            }
            run_lo = lo;
            run_hi = lo + s;
            run_out = out;
            in_run = 1;
        } else if (lo + s > run_hi) {
            run_hi = lo + s;
        }
        ps->start[id] = (uint32_t)(run_out + (lo - run_lo));
    }
    /* The tail (last s-1 records) joins the final run or forms its own. */
    uint64_t tail_lo = ps->log_len >= s - 1 ? ps->log_len - (s - 1) : 0;
    if (in_run && tail_lo <= run_hi) {
        run_hi = ps->log_len;
    } else {
        if (in_run) {
            memmove(ps->log + run_out * ps->base_dim, ps->log + run_lo * ps->base_dim,
                    (size_t)(run_hi - run_lo) * rec_bytes);
            out = run_out + (run_hi - run_lo);
        }
        run_lo = tail_lo;
        run_hi = ps->log_len;
        run_out = out;
    }
    memmove(ps->log + run_out * ps->base_dim, ps->log + run_lo * ps->base_dim,
            (size_t)(run_hi - run_lo) * rec_bytes);
    ps->log_len = run_out + (run_hi - run_lo);

    /* Next mark: room for as many new records as survived, at least MIN_COMPACT_RECORDS. */
    uint64_t grow = ps->log_len > MIN_COMPACT_RECORDS ? ps->log_len : MIN_COMPACT_RECORDS;
    ps->compact_at = ps->log_len + grow < ps->log_cap ? ps->log_len + grow : ps->log_cap;
}

void pointstore_append(pointstore_t *ps, const float *record)
{
    if (ps->log_len >= ps->compact_at) {
        compact(ps);
    }
    memcpy(ps->log + ps->log_len * ps->base_dim, record, (size_t)ps->base_dim * sizeof(float));
    ps->log_len++;
    if (ps->log_len > ps->log_high_water) {
        ps->log_high_water = ps->log_len;
    }
}

void pointstore_copy_tail(const pointstore_t *ps, uint32_t n, float *out)
{
    memcpy(out, ps->log + (ps->log_len - n) * ps->base_dim,
           (size_t)n * ps->base_dim * sizeof(float));
}

uint32_t pointstore_add_latest(pointstore_t *ps)
{
    /* Never empty: capacity counts every sampler entry plus this point. */
    uint32_t id = ps->free_slots[--ps->free_top];
    ps->start[id] = (uint32_t)(ps->log_len - ps->shingle);
    ps->refs[id] = 0;
    ps->live++;
    return id;
}

static void free_slot(pointstore_t *ps, uint32_t id)
{
    ps->free_slots[ps->free_top++] = id;
    ps->live--;
}

void pointstore_release(pointstore_t *ps, uint32_t id)
{
    if (--ps->refs[id] == 0) {
        free_slot(ps, id);
    }
}

void pointstore_release_if_unused(pointstore_t *ps, uint32_t id)
{
    if (ps->refs[id] == 0) {
        free_slot(ps, id);
    }
}
