/* Time-decayed weighted reservoir sampler for one tree (anchors §3.2 formula 1).
 *
 * A point offered at sequence index t gets key = -t·λ + ln(-ln u), u uniform in (0,1). The sampler
 * keeps the `capacity` smallest keys in a max-heap: newer points have smaller keys on average, so
 * a point's life in the sample is about exponential with mean 1/λ records (Efraimidis–Spirakis).
 * Until the reservoir is full every point is accepted. */
#ifndef RCFD_RCF_SAMPLER_H
#define RCFD_RCF_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

typedef struct sampler {
    uint32_t capacity;
    uint32_t size;
    double max_key; /* key[0] while size > 0: the accept test reads this, not the heap array,
                       so rejecting a point touches no cold memory */
    double *key;    /* [capacity] max-heap */
    uint32_t *point; /* [capacity] point store id of each entry */
    /* The forest's shortcut past the accept test's two logarithms (forest.c, update; see
     * sampler_reject_below): while max_key == skip_max and the sequence index is at most
     * skip_until, a u <= skip_u is certainly rejected. Not saved: zeroes (skip_u 0 never skips)
     * make it recompute. */
    double skip_u;
    double skip_max;
    uint64_t skip_until;
} sampler_t;

size_t sampler_bytes(uint32_t capacity);
void sampler_init(sampler_t *s, void *mem, uint32_t capacity);

static inline int sampler_is_full(const sampler_t *s)
{
    return s->size == s->capacity;
}

/* Largest key held (only meaningful when size > 0). */
static inline double sampler_max_key(const sampler_t *s)
{
    return s->max_key;
}

/* Removes the entry with the largest key and returns its point id. size > 0. */
uint32_t sampler_pop_max(sampler_t *s);

/* Adds an entry. size < capacity. */
void sampler_push(sampler_t *s, double key, uint32_t point);

/* Certain rejection without logarithms. The accept test rejects u when -seq·lambda + ln(-ln u) >=
 * max_key; ln(-ln u) falls as u grows and the left side only falls as seq grows, so for every
 * seq' in [seq, seq + horizon] and u <= exp(-exp(max_key + (seq + horizon)·lambda + margin)) the
 * point is rejected for certain. The margin (1e-9 relative, against some 1e-15 of rounding in the
 * exact test) keeps that true in floating point; no bound (0) when it would sit within 1e-6 of 1,
 * where -ln u is too small for the margin to hold. The horizon keeps the bound's width in ln(-ln u)
 * (horizon·lambda) at 0.01 or less, so the band it leaves to the exact test stays thin. */
double sampler_reject_below(double max_key, uint64_t seq, double lambda, uint64_t *until);

/* Sets s's skip_u, skip_max and skip_until from sampler_reject_below for sequence index seq. */
void sampler_set_reject_bound(sampler_t *s, uint64_t seq, double lambda);

/* 1 if the array satisfies the max-heap property (snapshot validation). */
int sampler_is_heap(const sampler_t *s);

#endif
