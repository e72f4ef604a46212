/* The wide box kernels (box.h): AVX on x86-64 CPUs that have it (a runtime check, never a build
 * flag, so one binary runs everywhere), else the SSE2 ones. Both give the same bits: one AVX
 * register holds the four partial sums the SSE2 code keeps in two, and each lane adds its
 * dimensions in the same order. */
#include "box.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(RCFD_NO_AVX)
#include <immintrin.h>

__attribute__((target("avx"))) static double range_sum_avx(const float *mn, const float *mx,
                                                           size_t d)
{
    __m256d acc = _mm256_setzero_pd();
    size_t i = 0;
    for (; i + 4 <= d; i += 4) {
        acc = _mm256_add_pd(acc, _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(mx + i)),
                                               _mm256_cvtps_pd(_mm_loadu_ps(mn + i))));
    }
    double p[4];
    _mm256_storeu_pd(p, acc);
    for (size_t k = 0; i < d; i++, k++) {
        p[k] += (double)mx[i] - (double)mn[i];
    }
    return (p[0] + p[1]) + (p[2] + p[3]);
}

/* (p0 + p1) + (p2 + p3) of the four partial sums, as the SSE2 code adds them. */
__attribute__((target("avx"))) static inline double sum_partials(__m256d acc)
{
    __m256d pairs = _mm256_hadd_pd(acc, acc); /* p0 + p1, p0 + p1, p2 + p3, p2 + p3 */
    return _mm_cvtsd_f64(
        _mm_add_sd(_mm256_castpd256_pd128(pairs), _mm256_extractf128_pd(pairs, 1)));
}

__attribute__((target("avx"))) static double gap_avx(const float *mn, const float *mx, size_t d,
                                                     const float *x)
{
    /* |x - clamp(x, lo, hi)|, as in box_gap_narrow. The clamp runs eight floats wide; dimensions
     * i .. i+3 and then i+4 .. i+7 go into the one accumulator, lane k taking dimension k mod 4,
     * so the sums are added in the SSE2 order. */
    const __m256d sign = _mm256_set1_pd(-0.0);
    __m256d acc = _mm256_setzero_pd();
    size_t i = 0;
    for (; i + 8 <= d; i += 8) {
        __m256 cf = _mm256_min_ps(_mm256_max_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(mn + i)),
                                  _mm256_loadu_ps(mx + i));
        __m256d t0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)),
                                   _mm256_cvtps_pd(_mm256_castps256_ps128(cf)));
        __m256d t1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i + 4)),
                                   _mm256_cvtps_pd(_mm256_extractf128_ps(cf, 1)));
        acc = _mm256_add_pd(acc, _mm256_andnot_pd(sign, t0));
        acc = _mm256_add_pd(acc, _mm256_andnot_pd(sign, t1));
    }
    for (; i + 4 <= d; i += 4) {
        __m128 xf = _mm_loadu_ps(x + i);
        __m128 cf = _mm_min_ps(_mm_max_ps(xf, _mm_loadu_ps(mn + i)), _mm_loadu_ps(mx + i));
        __m256d t = _mm256_sub_pd(_mm256_cvtps_pd(xf), _mm256_cvtps_pd(cf));
        acc = _mm256_add_pd(acc, _mm256_andnot_pd(sign, t));
    }
    if (i == d) {
        return sum_partials(acc);
    }
    double p[4];
    _mm256_storeu_pd(p, acc);
    for (size_t k = 0; i < d; i++, k++) {
        p[k] += box_gap_term(x[i], mn[i], mx[i]);
    }
    return (p[0] + p[1]) + (p[2] + p[3]);
}

/* The score walk with its gap inlined (no call per level) and x converted to double once per
 * walk: a gap term is then |(double)c - xd| with c the clamp, the same bits as |xd - (double)c|
 * (subtraction is antisymmetric), summed as gap_avx sums. */
__attribute__((target("avx"))) static double score_walk_avx(const unsigned char *records,
                                                            size_t stride, const uint32_t *path,
                                                            uint32_t depth, const float *x,
                                                            size_t d, double score)
{
    double xd[BOX_WALK_MAX_D];
    size_t c = 0;
    for (; c + 4 <= d; c += 4) {
        _mm256_storeu_pd(xd + c, _mm256_cvtps_pd(_mm_loadu_ps(x + c)));
    }
    for (; c < d; c++) {
        xd[c] = (double)x[c];
    }
    const __m256d sign = _mm256_set1_pd(-0.0);
    for (uint32_t k = depth; k-- > 0;) {
        const unsigned char *rec = records + (size_t)path[k] * stride;
        const float *mn = (const float *)(const void *)(rec + 8), *mx = mn + d;
        __m256d acc = _mm256_setzero_pd();
        size_t i = 0;
        for (; i + 8 <= d; i += 8) {
            __m256 cf = _mm256_min_ps(
                _mm256_max_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(mn + i)),
                _mm256_loadu_ps(mx + i));
            __m256d t0 =
                _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(cf)), _mm256_loadu_pd(xd + i));
            __m256d t1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(cf, 1)),
                                       _mm256_loadu_pd(xd + i + 4));
            acc = _mm256_add_pd(acc, _mm256_andnot_pd(sign, t0));
            acc = _mm256_add_pd(acc, _mm256_andnot_pd(sign, t1));
        }
        double gap;
        if (i == d) {
            gap = sum_partials(acc);
        } else {
            for (; i + 4 <= d; i += 4) {
                __m128 cf = _mm_min_ps(_mm_max_ps(_mm_loadu_ps(x + i), _mm_loadu_ps(mn + i)),
                                       _mm_loadu_ps(mx + i));
                __m256d t = _mm256_sub_pd(_mm256_cvtps_pd(cf), _mm256_loadu_pd(xd + i));
                acc = _mm256_add_pd(acc, _mm256_andnot_pd(sign, t));
            }
            double p[4];
            _mm256_storeu_pd(p, acc);
            for (size_t j = 0; i < d; i++, j++) {
                p[j] += box_gap_term(x[i], mn[i], mx[i]);
            }
            gap = (p[0] + p[1]) + (p[2] + p[3]);
        }
        if (gap <= 0.0) {
            break; /* x inside this box, hence inside every box above */
        }
        score = box_walk_level(score, gap, *(const double *)(const void *)rec, k);
    }
    return score;
}

__attribute__((target("avx"))) static int outside_avx(const float *mn, const float *mx, size_t d,
                                                      const float *x)
{
    size_t i = 0;
    __m256 out = _mm256_setzero_ps();
    for (; i + 8 <= d; i += 8) {
        __m256 xv = _mm256_loadu_ps(x + i);
        out =
            _mm256_or_ps(out, _mm256_or_ps(_mm256_cmp_ps(xv, _mm256_loadu_ps(mn + i), _CMP_LT_OQ),
                                           _mm256_cmp_ps(xv, _mm256_loadu_ps(mx + i), _CMP_GT_OQ)));
    }
    if (_mm256_movemask_ps(out) != 0) {
        return 1;
    }
    for (; i < d; i++) {
        if (x[i] < mn[i] || x[i] > mx[i]) {
            return 1;
        }
    }
    return 0;
}

__attribute__((target("avx"))) static void blend_avx(const float *x, const float *mn,
                                                     const float *mx, size_t d, double per_unit,
                                                     double keep, double *hi, double *lo)
{
    const __m256d zero = _mm256_setzero_pd();
    const __m256d unit4 = _mm256_set1_pd(per_unit), keep4 = _mm256_set1_pd(keep);
    size_t i = 0;
    for (; i + 4 <= d; i += 4) {
        __m256d xv = _mm256_cvtps_pd(_mm_loadu_ps(x + i));
        __m256d up = _mm256_max_pd(_mm256_sub_pd(xv, _mm256_cvtps_pd(_mm_loadu_ps(mx + i))), zero);
        __m256d down =
            _mm256_max_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(mn + i)), xv), zero);
        _mm256_storeu_pd(hi + i, _mm256_add_pd(_mm256_mul_pd(unit4, up),
                                               _mm256_mul_pd(keep4, _mm256_loadu_pd(hi + i))));
        _mm256_storeu_pd(lo + i, _mm256_add_pd(_mm256_mul_pd(unit4, down),
                                               _mm256_mul_pd(keep4, _mm256_loadu_pd(lo + i))));
    }
    box_blend_outside_narrow(x + i, mn + i, mx + i, d - i, per_unit, keep, hi + i, lo + i);
}

static void blend_sse2(const float *x, const float *mn, const float *mx, size_t d, double per_unit,
                       double keep, double *hi, double *lo)
{
    box_blend_outside_narrow(x, mn, mx, d, per_unit, keep, hi, lo);
}

static double range_sum_sse2(const float *mn, const float *mx, size_t d)
{
    return box_range_sum_narrow(mn, mx, d);
}

static double gap_sse2(const float *mn, const float *mx, size_t d, const float *x)
{
    return box_gap_narrow(mn, mx, d, x);
}

static int outside_sse2(const float *mn, const float *mx, size_t d, const float *x)
{
    return box_outside_narrow(mn, mx, d, x);
}

static const box_kernels_t kernels_avx = {"avx",       range_sum_avx, gap_avx,
                                          outside_avx, blend_avx,     score_walk_avx};
static const box_kernels_t kernels_sse2 = {"sse2",       range_sum_sse2, gap_sse2,
                                           outside_sse2, blend_sse2,     NULL};

const box_kernels_t *box_kernels(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx") ? &kernels_avx : &kernels_sse2;
}

const box_kernels_t *box_kernels_baseline(void)
{
    return &kernels_sse2;
}

#else

static double range_sum_portable(const float *mn, const float *mx, size_t d)
{
    return box_range_sum_narrow(mn, mx, d);
}

static double gap_portable(const float *mn, const float *mx, size_t d, const float *x)
{
    return box_gap_narrow(mn, mx, d, x);
}

static int outside_portable(const float *mn, const float *mx, size_t d, const float *x)
{
    return box_outside_narrow(mn, mx, d, x);
}

static void blend_portable(const float *x, const float *mn, const float *mx, size_t d,
                           double per_unit, double keep, double *hi, double *lo)
{
    box_blend_outside_narrow(x, mn, mx, d, per_unit, keep, hi, lo);
}

static const box_kernels_t kernels_portable = {"portable",       range_sum_portable, gap_portable,
                                               outside_portable, blend_portable,     NULL};

const box_kernels_t *box_kernels(void)
{
    return &kernels_portable;
}

const box_kernels_t *box_kernels_baseline(void)
{
    return &kernels_portable;
}

#endif
