/* Box kernels: the per-dimension loops a tree runs at every level of an insert, a delete or a score
 * (a box is min[d] and max[d] in float; sums are in double).
 *
 * On shingled points (d = 48 and more) these loops are most of the forest's instructions, so each
 * has an SSE2 path (the x86-64 baseline), and the hottest four (box_avx.c) widen to AVX when
 * the CPU has it (checked at run time, never by -march). Every path gives the same
 * bits: a sum keeps four partial sums, dimension i feeding partial i mod 4, added in a fixed order
 * ((p0 + p1) + (p2 + p3)); min, max and compares are exact. So a forest scores the same on any
 * x86-64 machine, with or without AVX, and as the portable C does elsewhere. Inputs are finite
 * (the forest rejects NaN and infinities before they reach a tree). No allocation, no I/O. */
#ifndef RCFD_RCF_BOX_H
#define RCFD_RCF_BOX_H

#include <stddef.h>
#include <stdint.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Dimensions from which the sums call the dispatched wide versions (the call costs more than
 * it saves on short boxes). */
#define BOX_WIDE_MIN 16

/* The wide versions (box_avx.c) of box_range_sum, box_gap, box_outside and box_blend_outside
 * below, for one instruction set: same results as the narrow ones, bit for bit. */
typedef struct box_kernels {
    const char *name; /* "avx" or "sse2" */
    double (*range_sum)(const float *mn, const float *mx, size_t d);
    double (*gap)(const float *mn, const float *mx, size_t d, const float *x);
    int (*outside)(const float *mn, const float *mx, size_t d, const float *x);
    void (*blend)(const float *x, const float *mn, const float *mx, size_t d, double per_unit,
                  double keep, double *hi, double *lo);
    /* A scoring walk's levels up a path (tree.c score_from_leaf): from level depth-1 to 0, the
     * box record of node path[k] at records + path[k] * stride = {side-length sum (a double),
     * min[d], max[d]}; each level with gap > 0 updates the score by box_walk_level, the first
     * with gap 0 ends the walk. NULL where the narrow loop serves; boxes outside
     * [BOX_WALK_MIN_D, BOX_WALK_MAX_D] dimensions take that loop too. */
    double (*score_walk)(const unsigned char *records, size_t stride, const uint32_t *path,
                         uint32_t depth, const float *x, size_t d, double score);
} box_kernels_t;

/* The boxes score_walk takes: from 8 dimensions (one 8-float step per level, where the narrow
 * loop takes two 4-float steps and a call per level: 21% fewer instructions at 8 dimensions, as at
 * 48), up to 256 (it keeps x in double on the stack). */
#define BOX_WALK_MIN_D 8
#define BOX_WALK_MAX_D 256

/* One level of formula 3's walk up: x is outside the node's box by `gap` > 0, and the box's side
 * lengths sum to `range`; k is the node's depth. Every walk uses it, so all agree bit for bit. */
static inline double box_walk_level(double score, double gap, double range, uint32_t k)
{
    double p = gap / (range + gap);
    return p * (1.0 / ((double)k + 1.0)) + (1.0 - p) * score;
}

/* The best set this CPU runs (asks the CPU: call it when a tree is created, not per record). */
const box_kernels_t *box_kernels(void);
/* The SSE2 set (the portable C off x86-64), for tests that compare the two. */
const box_kernels_t *box_kernels_baseline(void);

static inline double box_gap_term(float x, float lo, float hi)
{
    double up = (double)x - (double)hi;
    double down = (double)lo - (double)x;
    return (up > 0.0 ? up : 0.0) + (down > 0.0 ? down : 0.0);
}

static inline double box_range_sum_narrow(const float *mn, const float *mx, size_t d)
{
    if (d < 4) { /* one partial per dimension, the others 0: the plain sum, same bits */
        double s = 0.0;
        for (size_t i = 0; i < d; i++) {
            s += (double)mx[i] - (double)mn[i];
        }
        return s;
    }
    double acc[4] = {0.0, 0.0, 0.0, 0.0};
    size_t i = 0;
#if defined(__SSE2__)
    __m128d acc01 = _mm_setzero_pd(), acc23 = _mm_setzero_pd();
    for (; i + 4 <= d; i += 4) {
        __m128 lof = _mm_loadu_ps(mn + i), hif = _mm_loadu_ps(mx + i);
        acc01 = _mm_add_pd(acc01, _mm_sub_pd(_mm_cvtps_pd(hif), _mm_cvtps_pd(lof)));
        acc23 = _mm_add_pd(acc23, _mm_sub_pd(_mm_cvtps_pd(_mm_movehl_ps(hif, hif)),
                                             _mm_cvtps_pd(_mm_movehl_ps(lof, lof))));
    }
    _mm_storeu_pd(acc, acc01);
    _mm_storeu_pd(acc + 2, acc23);
#else
    for (; i + 4 <= d; i += 4) {
        for (size_t k = 0; k < 4; k++) {
            acc[k] += (double)mx[i + k] - (double)mn[i + k];
        }
    }
#endif
    for (size_t k = 0; i < d; i++, k++) {
        acc[k] += (double)mx[i] - (double)mn[i];
    }
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

static inline __attribute__((always_inline)) double box_gap_narrow(const float *mn, const float *mx,
                                                                   size_t d, const float *x)
{
    if (d < 4) {
        double s = 0.0;
        for (size_t i = 0; i < d; i++) {
            s += box_gap_term(x[i], mn[i], mx[i]);
        }
        return s;
    }
    double acc[4] = {0.0, 0.0, 0.0, 0.0};
    size_t i = 0;
#if defined(__SSE2__)
    /* A term is |x - clamp(x, lo, hi)| in double: x - hi above the box, -(x - lo) = lo - x below
     * it (IEEE subtraction is antisymmetric), +0 inside; the very bits of box_gap_term, with one
     * conversion less and no second max. */
    const __m128d sign = _mm_set1_pd(-0.0);
    __m128d acc01 = _mm_setzero_pd(), acc23 = _mm_setzero_pd();
    for (; i + 4 <= d; i += 4) {
        __m128 xf = _mm_loadu_ps(x + i);
        __m128 cf = _mm_min_ps(_mm_max_ps(xf, _mm_loadu_ps(mn + i)), _mm_loadu_ps(mx + i));
        __m128d t01 = _mm_sub_pd(_mm_cvtps_pd(xf), _mm_cvtps_pd(cf));
        __m128d t23 = _mm_sub_pd(_mm_cvtps_pd(_mm_movehl_ps(xf, xf)),
                                 _mm_cvtps_pd(_mm_movehl_ps(cf, cf)));
        acc01 = _mm_add_pd(acc01, _mm_andnot_pd(sign, t01));
        acc23 = _mm_add_pd(acc23, _mm_andnot_pd(sign, t23));
    }
    _mm_storeu_pd(acc, acc01);
    _mm_storeu_pd(acc + 2, acc23);
#else
    for (; i + 4 <= d; i += 4) {
        for (size_t k = 0; k < 4; k++) {
            acc[k] += box_gap_term(x[i + k], mn[i + k], mx[i + k]);
        }
    }
#endif
    for (size_t k = 0; i < d; i++, k++) {
        acc[k] += box_gap_term(x[i], mn[i], mx[i]);
    }
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

static inline double box_range_sum(const box_kernels_t *k, const float *mn, const float *mx,
                                   size_t d)
{
    return d >= BOX_WIDE_MIN ? k->range_sum(mn, mx, d) : box_range_sum_narrow(mn, mx, d);
}

/* Total distance by which x lies outside the box (0 inside): the numerator of the probability
 * that a random cut separates x from the box. */
static inline __attribute__((always_inline)) double box_gap(const box_kernels_t *k,
                                                            const float *mn, const float *mx,
                                                            size_t d, const float *x)
{
    return d >= BOX_WIDE_MIN ? k->gap(mn, mx, d, x) : box_gap_narrow(mn, mx, d, x);
}

static inline int box_outside_narrow(const float *mn, const float *mx, size_t d, const float *x)
{
    size_t i = 0;
#if defined(__SSE2__)
    if (d >= 4) {
        __m128 out = _mm_setzero_ps();
        for (; i + 4 <= d; i += 4) {
            __m128 xv = _mm_loadu_ps(x + i);
            out = _mm_or_ps(out, _mm_or_ps(_mm_cmplt_ps(xv, _mm_loadu_ps(mn + i)),
                                           _mm_cmpgt_ps(xv, _mm_loadu_ps(mx + i))));
        }
        if (_mm_movemask_ps(out) != 0) {
            return 1;
        }
    }
#endif
    for (; i < d; i++) {
        if (x[i] < mn[i] || x[i] > mx[i]) {
            return 1;
        }
    }
    return 0;
}

/* 1 when x lies outside the box in some dimension (exactly when box_gap > 0), without the sum. */
static inline int box_outside(const box_kernels_t *k, const float *mn, const float *mx, size_t d,
                              const float *x)
{
    return d >= BOX_WIDE_MIN ? k->outside(mn, mx, d, x) : box_outside_narrow(mn, mx, d, x);
}

/* Grows the box to contain x; returns whether it changed. */
static inline int box_extend(float *mn, float *mx, size_t d, const float *x)
{
    size_t i = 0;
    int changed = 0;
#if defined(__SSE2__)
    if (d >= 4) {
        __m128 diff = _mm_setzero_ps();
        for (; i + 4 <= d; i += 4) {
            __m128 xv = _mm_loadu_ps(x + i), lo = _mm_loadu_ps(mn + i), hi = _mm_loadu_ps(mx + i);
            __m128 nlo = _mm_min_ps(xv, lo), nhi = _mm_max_ps(xv, hi);
            diff = _mm_or_ps(diff, _mm_or_ps(_mm_cmpneq_ps(nlo, lo), _mm_cmpneq_ps(nhi, hi)));
            _mm_storeu_ps(mn + i, nlo);
            _mm_storeu_ps(mx + i, nhi);
        }
        changed = _mm_movemask_ps(diff) != 0;
    }
#endif
    for (; i < d; i++) {
        if (x[i] < mn[i]) {
            mn[i] = x[i];
            changed = 1;
        }
        if (x[i] > mx[i]) {
            mx[i] = x[i];
            changed = 1;
        }
    }
    return changed;
}

/* out = the smallest box holding boxes a and b (a point is a box with mn = mx). */
static inline void box_union(float *out_mn, float *out_mx, const float *a_mn, const float *a_mx,
                             const float *b_mn, const float *b_mx, size_t d)
{
    size_t i = 0;
#if defined(__SSE2__)
    for (; i + 4 <= d; i += 4) {
        _mm_storeu_ps(out_mn + i, _mm_min_ps(_mm_loadu_ps(a_mn + i), _mm_loadu_ps(b_mn + i)));
        _mm_storeu_ps(out_mx + i, _mm_max_ps(_mm_loadu_ps(a_mx + i), _mm_loadu_ps(b_mx + i)));
    }
#endif
    for (; i < d; i++) {
        out_mn[i] = a_mn[i] < b_mn[i] ? a_mn[i] : b_mn[i];
        out_mx[i] = a_mx[i] > b_mx[i] ? a_mx[i] : b_mx[i];
    }
}

/* box_union into a box that held something before; returns whether it changed. */
static inline int box_merge(float *out_mn, float *out_mx, const float *a_mn, const float *a_mx,
                            const float *b_mn, const float *b_mx, size_t d)
{
    size_t i = 0;
    int changed = 0;
#if defined(__SSE2__)
    if (d >= 4) {
        __m128 diff = _mm_setzero_ps();
        for (; i + 4 <= d; i += 4) {
            __m128 lo = _mm_min_ps(_mm_loadu_ps(a_mn + i), _mm_loadu_ps(b_mn + i));
            __m128 hi = _mm_max_ps(_mm_loadu_ps(a_mx + i), _mm_loadu_ps(b_mx + i));
            diff = _mm_or_ps(diff, _mm_or_ps(_mm_cmpneq_ps(lo, _mm_loadu_ps(out_mn + i)),
                                             _mm_cmpneq_ps(hi, _mm_loadu_ps(out_mx + i))));
            _mm_storeu_ps(out_mn + i, lo);
            _mm_storeu_ps(out_mx + i, hi);
        }
        changed = _mm_movemask_ps(diff) != 0;
    }
#endif
    for (; i < d; i++) {
        float lo = a_mn[i] < b_mn[i] ? a_mn[i] : b_mn[i];
        float hi = a_mx[i] > b_mx[i] ? a_mx[i] : b_mx[i];
        if (lo != out_mn[i] || hi != out_mx[i]) {
            out_mn[i] = lo;
            out_mx[i] = hi;
            changed = 1;
        }
    }
    return changed;
}

/* hi[i] = per_unit * max(0, x[i] - mx[i]) + keep * hi[i], and likewise lo[i] with mn[i] - x[i]:
 * one level of formula 4. The SSE2 path does the same double operations in the same order. */
#if defined(__SSE2__)
/* Two floats into the low half of a register (__m128i loads may alias anything). */
static inline __m128 box_load2f(const float *p)
{
    return _mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(const void *)p));
}
#endif

static inline void box_blend_outside_narrow(const float *x, const float *mn, const float *mx,
                                            size_t d, double per_unit, double keep, double *hi,
                                            double *lo)
{
    size_t i = 0;
#if defined(__SSE2__)
    const __m128d zero = _mm_setzero_pd();
    const __m128d unit2 = _mm_set1_pd(per_unit), keep2 = _mm_set1_pd(keep);
    for (; i + 2 <= d; i += 2) {
        __m128d xv = _mm_cvtps_pd(box_load2f(x + i));
        __m128d lov = _mm_cvtps_pd(box_load2f(mn + i));
        __m128d hiv = _mm_cvtps_pd(box_load2f(mx + i));
        __m128d up = _mm_max_pd(_mm_sub_pd(xv, hiv), zero);
        __m128d down = _mm_max_pd(_mm_sub_pd(lov, xv), zero);
        __m128d h = _mm_add_pd(_mm_mul_pd(unit2, up), _mm_mul_pd(keep2, _mm_loadu_pd(hi + i)));
        __m128d l = _mm_add_pd(_mm_mul_pd(unit2, down), _mm_mul_pd(keep2, _mm_loadu_pd(lo + i)));
        _mm_storeu_pd(hi + i, h);
        _mm_storeu_pd(lo + i, l);
    }
#endif
    for (; i < d; i++) {
        double up = (double)x[i] - (double)mx[i];
        double down = (double)mn[i] - (double)x[i];
        up = up > 0.0 ? up : 0.0;
        down = down > 0.0 ? down : 0.0;
        hi[i] = per_unit * up + keep * hi[i];
        lo[i] = per_unit * down + keep * lo[i];
    }
}

static inline void box_blend_outside(const box_kernels_t *k, const float *x, const float *mn,
                                     const float *mx, size_t d, double per_unit, double keep,
                                     double *hi, double *lo)
{
    if (d >= BOX_WIDE_MIN) {
        k->blend(x, mn, mx, d, per_unit, keep, hi, lo);
    } else {
        box_blend_outside_narrow(x, mn, mx, d, per_unit, keep, hi, lo);
    }
}

#endif
