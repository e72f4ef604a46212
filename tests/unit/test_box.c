/* Box kernels (src/rcf/box.h): the wide versions (AVX where the CPU has it) give the narrow
 * (SSE2) versions' bits, and both give the documented definition: four partial sums, dimension i
 * into partial i mod 4, added as (p0 + p1) + (p2 + p3). Boxes mix magnitudes from 1e-6 to 1e8 so
 * that the summation order shows in the last bits, and lengths cover every tail (d mod 4). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/rng.h"
#include "rcf/box.h"

#define MAX_D 67
#define ROUNDS 300

/* The set trees use on this CPU, then the baseline set: both must give the narrow results. */
static const box_kernels_t *wide;

typedef struct box_case {
    float mn[MAX_D], mx[MAX_D], x[MAX_D];
    size_t d;
} box_case_t;

/* x inside, below or above the box in each dimension (a third each), magnitudes mixed. */
static void make_case(box_case_t *c, size_t d, uint64_t *rng)
{
    c->d = d;
    for (size_t i = 0; i < d; i++) {
        double scale = pow(10.0, (double)(rcfd_rng_next(rng) % 15) - 6.0);
        float a = (float)(scale * rcfd_rng_uniform(rng)),
              b = (float)(scale * rcfd_rng_uniform(rng));
        c->mn[i] = a < b ? a : b;
        c->mx[i] = a < b ? b : a;
        switch (rcfd_rng_next(rng) % 3) {
        case 0:
            c->x[i] = c->mn[i] + (c->mx[i] - c->mn[i]) * 0.5f;
            break;
        case 1:
            c->x[i] = c->mn[i] - (float)(scale * rcfd_rng_uniform(rng));
            break;
        default:
            c->x[i] = c->mx[i] + (float)(scale * rcfd_rng_uniform(rng));
            break;
        }
    }
}

static double ref_range_sum(const box_case_t *c)
{
    double p[4] = {0.0, 0.0, 0.0, 0.0};
    for (size_t i = 0; i < c->d; i++) {
        p[i % 4] += (double)c->mx[i] - (double)c->mn[i];
    }
    return (p[0] + p[1]) + (p[2] + p[3]);
}

static double ref_gap(const box_case_t *c)
{
    double p[4] = {0.0, 0.0, 0.0, 0.0};
    for (size_t i = 0; i < c->d; i++) {
        double up = (double)c->x[i] - (double)c->mx[i];
        double down = (double)c->mn[i] - (double)c->x[i];
        p[i % 4] += (up > 0.0 ? up : 0.0) + (down > 0.0 ? down : 0.0);
    }
    return (p[0] + p[1]) + (p[2] + p[3]);
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static void test_sums_agree(void **state)
{
    (void)state;
    uint64_t rng = 0x5eed;
    int order_mattered = 0;
    for (int r = 0; r < ROUNDS; r++) {
        for (size_t d = 1; d <= MAX_D; d++) {
            box_case_t c;
            make_case(&c, d, &rng);
            double want = ref_range_sum(&c);
            assert_true(same_bits(box_range_sum_narrow(c.mn, c.mx, d), want));
            assert_true(same_bits(wide->range_sum(c.mn, c.mx, d), want));
            double gap = ref_gap(&c);
            assert_true(same_bits(box_gap_narrow(c.mn, c.mx, d, c.x), gap));
            assert_true(same_bits(wide->gap(c.mn, c.mx, d, c.x), gap));
            double seq = 0.0;
            for (size_t i = 0; i < d; i++) {
                seq += (double)c.mx[i] - (double)c.mn[i];
            }
            order_mattered |= !same_bits(seq, want);
        }
    }
    /* The data is hard enough that a plain left-to-right sum would have differed somewhere. */
    assert_true(order_mattered);
}

static void test_outside_matches_gap(void **state)
{
    (void)state;
    uint64_t rng = 77;
    for (int r = 0; r < ROUNDS; r++) {
        for (size_t d = 1; d <= MAX_D; d++) {
            box_case_t c;
            make_case(&c, d, &rng);
            if (rcfd_rng_next(&rng) % 2 == 0) { /* half the cases: x inside everywhere */
                memcpy(c.x, c.mn, d * sizeof(float));
            }
            int outside = box_gap_narrow(c.mn, c.mx, d, c.x) > 0.0;
            assert_int_equal(box_outside_narrow(c.mn, c.mx, d, c.x), outside);
            assert_int_equal(wide->outside(c.mn, c.mx, d, c.x), outside);
        }
    }
}

static void test_blend_agrees(void **state)
{
    (void)state;
    uint64_t rng = 991;
    for (int r = 0; r < ROUNDS; r++) {
        for (size_t d = 1; d <= MAX_D; d++) {
            box_case_t c;
            make_case(&c, d, &rng);
            double hi0[MAX_D], lo0[MAX_D], hi1[MAX_D], lo1[MAX_D], hi2[MAX_D], lo2[MAX_D];
            for (size_t i = 0; i < d; i++) {
                hi0[i] = hi1[i] = hi2[i] = rcfd_rng_uniform(&rng);
                lo0[i] = lo1[i] = lo2[i] = rcfd_rng_uniform(&rng);
            }
            double unit = rcfd_rng_uniform(&rng), keep = rcfd_rng_uniform(&rng);
            box_blend_outside_narrow(c.x, c.mn, c.mx, d, unit, keep, hi1, lo1);
            wide->blend(c.x, c.mn, c.mx, d, unit, keep, hi2, lo2);
            assert_memory_equal(hi1, hi2, d * sizeof(double));
            assert_memory_equal(lo1, lo2, d * sizeof(double));
            for (size_t i = 0; i < d; i++) { /* and the formula, element by element */
                double up = (double)c.x[i] - (double)c.mx[i];
                double down = (double)c.mn[i] - (double)c.x[i];
                assert_true(same_bits(hi1[i], unit * (up > 0.0 ? up : 0.0) + keep * hi0[i]));
                assert_true(same_bits(lo1[i], unit * (down > 0.0 ? down : 0.0) + keep * lo0[i]));
            }
        }
    }
}

/* score_walk (where the set has one) against the narrow loop tree.c runs otherwise: a path of
 * nested box records {side-length sum, min, max}, widening towards the root, x outside the lower
 * ones and (in some walks) inside an upper one, which ends the walk. */
static void test_score_walk_agrees(void **state)
{
    (void)state;
    if (wide->score_walk == NULL) {
        skip();
    }
    enum { LEVELS = 12 };
    const size_t stride = 8 + 8 * (size_t)MAX_D;
    static unsigned char records[LEVELS * (8 + 8 * MAX_D)];
    uint64_t rng = 31337;
    int ended_early = 0;
    for (int r = 0; r < ROUNDS; r++) {
        for (size_t d = BOX_WALK_MIN_D; d <= MAX_D; d++) {
            box_case_t c;
            make_case(&c, d, &rng);
            uint32_t path[LEVELS];
            uint32_t depth = 1 + (uint32_t)(rcfd_rng_next(&rng) % LEVELS);
            uint32_t inside_from = (uint32_t)(rcfd_rng_next(&rng) % (2 * LEVELS)); /* often never */
            for (uint32_t k = depth; k-- > 0;) {
                path[k] = (k * 7 + 3) % LEVELS; /* records in no particular order */
                unsigned char *rec = records + (size_t)path[k] * stride;
                float *mn = (float *)(void *)(rec + 8), *mx = mn + d;
                for (size_t i = 0; i < d; i++) { /* widen the child's box (level k + 1) */
                    float grow = (float)((double)(depth - k) * rcfd_rng_uniform(&rng));
                    mn[i] = c.mn[i] - grow * (c.mx[i] - c.mn[i]);
                    mx[i] = c.mx[i] + grow * (c.mx[i] - c.mn[i]);
                    if (k + LEVELS / 2 <= inside_from) { /* x inside from this level up */
                        mn[i] = fminf(mn[i], c.x[i]);
                        mx[i] = fmaxf(mx[i], c.x[i]);
                    }
                }
                double sum = box_range_sum_narrow(mn, mx, d);
                memcpy(rec, &sum, sizeof sum);
            }
            double start = 1.0 / ((double)depth + 1.0), want = start;
            for (uint32_t k = depth; k-- > 0;) {
                const unsigned char *rec = records + (size_t)path[k] * stride;
                const float *mn = (const float *)(const void *)(rec + 8);
                double gap = box_gap_narrow(mn, mn + d, d, c.x);
                if (gap <= 0.0) {
                    ended_early = 1;
                    break;
                }
                double range;
                memcpy(&range, rec, sizeof range);
                want = box_walk_level(want, gap, range, k);
            }
            double got = wide->score_walk(records, stride, path, depth, c.x, d, start);
            assert_true(same_bits(got, want));
        }
    }
    assert_true(ended_early);
}

static void test_extend_and_merge(void **state)
{
    (void)state;
    uint64_t rng = 4242;
    for (int r = 0; r < ROUNDS; r++) {
        for (size_t d = 1; d <= MAX_D; d++) {
            box_case_t c;
            make_case(&c, d, &rng);
            float mn[MAX_D], mx[MAX_D];
            memcpy(mn, c.mn, d * sizeof(float));
            memcpy(mx, c.mx, d * sizeof(float));
            int changed = box_extend(mn, mx, d, c.x);
            assert_int_equal(changed, box_outside_narrow(c.mn, c.mx, d, c.x));
            for (size_t i = 0; i < d; i++) {
                assert_true(mn[i] == fminf(c.mn[i], c.x[i]) && mx[i] == fmaxf(c.mx[i], c.x[i]));
            }
            /* merging with the point again changes nothing; union from scratch gives the same */
            assert_int_equal(box_merge(mn, mx, mn, mx, c.x, c.x, d), 0);
            float un[MAX_D], ux[MAX_D];
            box_union(un, ux, c.mn, c.mx, c.x, c.x, d);
            assert_memory_equal(un, mn, d * sizeof(float));
            assert_memory_equal(ux, mx, d * sizeof(float));
        }
    }
}

static int use_best(void **state)
{
    (void)state;
    wide = box_kernels();
    return 0;
}

static int use_baseline(void **state)
{
    (void)state;
    wide = box_kernels_baseline();
    return 0;
}

int main(void)
{
    printf("box kernels on this CPU: %s\n", box_kernels()->name);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_sums_agree, use_best),
        cmocka_unit_test_setup(test_outside_matches_gap, use_best),
        cmocka_unit_test_setup(test_blend_agrees, use_best),
        cmocka_unit_test_setup(test_score_walk_agrees, use_best),
        cmocka_unit_test_setup(test_sums_agree, use_baseline),
        cmocka_unit_test_setup(test_outside_matches_gap, use_baseline),
        cmocka_unit_test_setup(test_blend_agrees, use_baseline),
        cmocka_unit_test(test_extend_and_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
