/* Point store: the shingled points the trees reference, shared by all trees of a forest.
 *
 * Consecutive shingles overlap in all but one record, so instead of storing each point's
 * dim = base_dim x shingle values, the store keeps a log of *records* (base_dim floats each) and a
 * point is just the log position of its oldest record: its values are log[start .. start+shingle)
 * laid out contiguously. Reference counts say which points the trees still use; when the log reaches
 * its compaction mark, the records no live point covers are squeezed out (the last shingle-1 records
 * are always kept: they start the next point).
 *
 * The log is reserved for the worst case (every live point disjoint) with rcfd_reserve, so the memory
 * actually committed follows the real need; the compaction mark keeps it within about twice that.
 * Nothing here allocates after pointstore_init. */
#ifndef RCFD_RCF_POINTSTORE_H
#define RCFD_RCF_POINTSTORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct pointstore {
    uint32_t base_dim;
    uint32_t shingle;
    uint32_t dim;      /* base_dim * shingle */
    uint32_t capacity; /* point slots: every sampler entry plus the point being inserted */
    uint32_t live;     /* slots in use */
    uint32_t *start;   /* [capacity] log position (in records) of the point's oldest record */
    uint32_t *refs;    /* [capacity] sampler entries referencing the slot; 0 = free */
    uint32_t *free_slots; /* [capacity] stack of free slot ids */
    uint32_t free_top;
    uint32_t *order;   /* [capacity] scratch for compaction */
    float *log;        /* reserved: log_cap * base_dim floats */
    uint64_t log_cap;  /* records */
    uint64_t log_len;
    uint64_t log_high_water;
    uint64_t compact_at;
    size_t log_bytes;  /* bytes reserved for the log */
} pointstore_t;

/* Bytes of the fixed (non-log) arrays, carved by the caller from its slab. */
size_t pointstore_fixed_bytes(uint32_t capacity);
uint64_t pointstore_log_capacity(uint32_t capacity, uint32_t shingle);

/* `mem` points to pointstore_fixed_bytes(capacity) bytes. Reserves the log. 0 or RCFD_ENOMEM. */
int pointstore_init(pointstore_t *ps, void *mem, uint32_t capacity, uint32_t base_dim,
                    uint32_t shingle);
void pointstore_fini(pointstore_t *ps);

/* The lowest compaction mark the store ever sets (snapshot validation). */
uint64_t pointstore_min_compact_mark(const pointstore_t *ps);

/* Appends one record, compacting first if the log is at its mark. */
void pointstore_append(pointstore_t *ps, const float *record);

/* Copies the last n records of the log (oldest first) to out[0 .. n*base_dim). n <= log_len. */
void pointstore_copy_tail(const pointstore_t *ps, uint32_t n, float *out);

/* Takes a slot for the point made of the last `shingle` records; refs starts at 0. */
uint32_t pointstore_add_latest(pointstore_t *ps);

/* Drops one reference; frees the slot when none remain. */
void pointstore_release(pointstore_t *ps, uint32_t id);

/* Frees the slot if nothing references it (after the trees declined a new point). */
void pointstore_release_if_unused(pointstore_t *ps, uint32_t id);

static inline const float *pointstore_values(const pointstore_t *ps, uint32_t id)
{
    return ps->log + (size_t)ps->start[id] * ps->base_dim;
}

static inline void pointstore_retain(pointstore_t *ps, uint32_t id)
{
    ps->refs[id]++;
}

/* Rebuilds the free stack from refs (slots with refs == 0 are free), for snapshot loading. */
void pointstore_rebuild_free(pointstore_t *ps);

#endif
