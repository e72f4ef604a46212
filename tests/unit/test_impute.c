/* Conditional estimates (rcf_forest_impute, rcf_forest_point, rcf_forest_forecast): agreement with
 * an independent implementation written here (a recursive walk over the trees and a median by
 * counting), accuracy on streams whose missing values are predictable, forecasts of a sine, bad
 * arguments, and that the model is unchanged and nothing is allocated. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rcf/forest_int.h"
#include "rcfd/alloc.h"
#include "rcfd/rcf.h"
#include "rcfd/status.h"
#include "streams.h"

static rcf_forest_t *make(uint32_t dim, uint32_t shingle, uint32_t trees, uint64_t seed)
{
    rcf_params_t p = rcf_params_default(dim);
    p.shingle_size = shingle;
    p.number_of_trees = trees;
    p.sub_sample_size = 128;
    p.seed = seed;
    rcf_forest_t *f = NULL;
    char err[256];
    assert_int_equal(rcf_forest_new(&p, &f, err, sizeof err), 0);
    return f;
}

static void feed(rcf_forest_t *f, const double *rows, size_t n, size_t dim)
{
    for (size_t i = 0; i < n; i++) {
        rcf_result_t r;
        assert_int_equal(rcf_forest_process(f, rows + i * dim, dim, &r), 0);
    }
}

/* ---- the independent implementation ------------------------------------------------------- */

typedef struct ref_best {
    double dist;
    uint32_t mass;
    const float *leaf;
} ref_best_t;

static void ref_walk(const rcf_tree_t *t, const pointstore_t *ps, uint32_t n, const float *x,
                     const unsigned char *unknown, ref_best_t *best)
{
    if (n >= t->capacity - 1) { /* a leaf */
        uint32_t slot = n - (t->capacity - 1);
        const float *lp = pointstore_values(ps, t->leaf_point[slot]);
        double dist = 0.0;
        for (uint32_t i = 0; i < t->dim; i++) {
            dist += unknown[i] ? 0.0 : fabs((double)x[i] - (double)lp[i]);
        }
        if (best->leaf == NULL || dist < best->dist ||
            (dist == best->dist && t->leaf_mass[slot] > best->mass)) {
            best->dist = dist;
            best->mass = t->leaf_mass[slot];
            best->leaf = lp;
        }
        return;
    }
    const rcf_node_t *node = &t->node[n];
    if (unknown[node->cut_dim]) {
        ref_walk(t, ps, node->child[0], x, unknown, best);
        ref_walk(t, ps, node->child[1], x, unknown, best);
    } else {
        ref_walk(t, ps, node->child[x[node->cut_dim] > node->cut_val], x, unknown, best);
    }
}

/* The element of rank r (0-based) among v[0..n), by counting (no sort). */
static double ref_rank(const double *v, size_t n, size_t r)
{
    for (size_t i = 0; i < n; i++) {
        size_t below = 0, equal = 0;
        for (size_t j = 0; j < n; j++) {
            below += v[j] < v[i];
            equal += v[j] == v[i];
        }
        if (below <= r && r < below + equal) {
            return v[i];
        }
    }
    fail_msg("rank %zu not found", r);
    return NAN;
}

static double ref_quantile(const double *v, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    double a = ref_rank(v, n, lo);
    if (lo + 1 >= n || pos == (double)lo) {
        return a;
    }
    return a + (pos - (double)lo) * (ref_rank(v, n, lo + 1) - a);
}

static void ref_impute(const rcf_forest_t *f, const double *point, const uint32_t *missing,
                       size_t n_missing, double q, double *value, double *lower, double *upper)
{
    const uint32_t d = f->dim, trees = f->params.number_of_trees;
    unsigned char unknown[256] = {0};
    float x[256];
    assert_true(d <= 256);
    for (size_t k = 0; k < n_missing; k++) {
        unknown[missing[k]] = 1;
    }
    for (uint32_t i = 0; i < d; i++) {
        x[i] = unknown[i] ? 0.0f : (float)point[i];
    }
    double *per_tree = calloc((size_t)trees * n_missing, sizeof(double));
    size_t n = 0;
    for (uint32_t t = 0; t < trees; t++) {
        ref_best_t best = {0};
        if (f->trees[t].root == RCF_TREE_NULL) {
            continue;
        }
        ref_walk(&f->trees[t], &f->ps, f->trees[t].root, x, unknown, &best);
        for (size_t k = 0; k < n_missing; k++) {
            per_tree[k * trees + n] = (double)best.leaf[missing[k]];
        }
        n++;
    }
    for (size_t k = 0; k < n_missing; k++) {
        value[k] = ref_quantile(per_tree + k * trees, n, 0.5);
        lower[k] = ref_quantile(per_tree + k * trees, n, q);
        upper[k] = ref_quantile(per_tree + k * trees, n, 1.0 - q);
    }
    free(per_tree);
}

static void test_matches_reference(void **state)
{
    (void)state;
    static const struct {
        uint32_t dim, shingle;
    } shapes[] = {{1, 8}, {3, 4}, {2, 1}, {6, 1}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const uint32_t dim = shapes[s].dim, sh = shapes[s].shingle, d = dim * sh;
        rcf_forest_t *f = make(dim, sh, 20, 11 + s);
        double rows[1500 * 6];
        stream_sensors(rows, 1500, dim, 0.3, 5 + s);
        feed(f, rows, 1500, dim);
        stream_rng_t rng;
        stream_rng_seed(&rng, 99 + s);
        for (int round = 0; round < 40; round++) {
            double point[64];
            uint32_t missing[64];
            size_t n_missing = 0;
            for (uint32_t i = 0; i < d; i++) {
                point[i] = 5.0 * stream_gaussian(&rng);
                if (stream_uniform(&rng) < 0.3 || (i == d - 1 && n_missing == 0)) {
                    missing[n_missing++] = i;
                    point[i] = NAN; /* ignored */
                }
            }
            double v[64], lo[64], hi[64], rv[64], rlo[64], rhi[64];
            assert_int_equal(rcf_forest_impute(f, point, missing, n_missing, 0.1, v, lo, hi), 0);
            ref_impute(f, point, missing, n_missing, 0.1, rv, rlo, rhi);
            assert_memory_equal(v, rv, n_missing * sizeof(double));
            assert_memory_equal(lo, rlo, n_missing * sizeof(double));
            assert_memory_equal(hi, rhi, n_missing * sizeof(double));
            for (size_t k = 0; k < n_missing; k++) {
                assert_true(lo[k] <= v[k] && v[k] <= hi[k]);
            }
        }
        rcf_forest_destroy(f);
    }
}

/* ---- accuracy ----------------------------------------------------------------------------- */

/* y = 2x + small noise: the forest's estimate of y given x is far better than the last y seen. */
static void test_imputes_a_dependent_field(void **state)
{
    (void)state;
    rcf_forest_t *f = make(2, 1, 50, 3);
    stream_rng_t rng;
    stream_rng_seed(&rng, 17);
    double rows[4000 * 2];
    for (size_t i = 0; i < 4000; i++) {
        rows[2 * i] = 10.0 * stream_uniform(&rng);
        rows[2 * i + 1] = 2.0 * rows[2 * i] + 0.1 * stream_gaussian(&rng);
    }
    feed(f, rows, 4000, 2);
    double err = 0.0, err_previous = 0.0, previous = rows[2 * 3999 + 1];
    const uint32_t missing[] = {1};
    for (int i = 0; i < 300; i++) {
        double x = 10.0 * stream_uniform(&rng), y = 2.0 * x;
        double point[2] = {x, NAN}, v;
        assert_int_equal(rcf_forest_impute(f, point, missing, 1, 0.25, &v, NULL, NULL), 0);
        err += fabs(v - y);
        err_previous += fabs(previous - y);
        previous = y;
    }
    err /= 300.0;
    err_previous /= 300.0;
    print_message("impute y = 2x: mean error %.3f, previous-value baseline %.3f\n", err,
                  err_previous);
    assert_true(err < 0.5);
    assert_true(err < 0.1 * err_previous);
    rcf_forest_destroy(f);
}

/* A shingled sine: the next values are the continuation of the wave; rcf_forest_point gives the
 * point the forest would score, and imputing its newest value is the expected current value. */
static void test_forecasts_a_sine(void **state)
{
    (void)state;
    const size_t n = 3000, period = 40;
    const uint32_t sh = 10, horizon = 8;
    double *v = calloc(n + horizon, sizeof(double));
    stream_sine(v, n + horizon, (double)period, 5.0, 0.05, NULL, 0, 0.0, 23);
    rcf_forest_t *f = make(1, sh, 50, 9);
    feed(f, v, n, 1);
    double fc[8], lo[8], hi[8];
    assert_int_equal(rcf_forest_forecast(f, horizon, 0.05, fc, lo, hi), 0);
    double err = 0.0, err_naive = 0.0;
    for (uint32_t h = 0; h < horizon; h++) {
        assert_true(lo[h] <= fc[h] && fc[h] <= hi[h]);
        err += fabs(fc[h] - v[n + h]);
        err_naive += fabs(v[n - 1] - v[n + h]); /* the last value, held */
    }
    print_message("sine forecast, %u steps: mean error %.3f, last-value baseline %.3f\n", horizon,
                  err / horizon, err_naive / horizon);
    assert_true(err / horizon < 0.5);
    assert_true(err < 0.3 * err_naive);

    /* Expected current value: the newest record of the point it would score, unknown. */
    double point[10];
    double actual = v[n];
    assert_int_equal(rcf_forest_point(f, &actual, point), 0);
    assert_true(point[sh - 1] == actual);
    assert_true(point[sh - 2] == (double)(float)v[n - 1]);
    const uint32_t newest[] = {sh - 1};
    double expected;
    assert_int_equal(rcf_forest_impute(f, point, newest, 1, 0.25, &expected, NULL, NULL), 0);
    assert_true(fabs(expected - actual) < 0.5);
    free(v);
    rcf_forest_destroy(f);
}

/* ---- arguments, state, allocation --------------------------------------------------------- */

static void test_bad_arguments(void **state)
{
    (void)state;
    rcf_forest_t *f = make(2, 1, 10, 1);
    double point[2] = {1.0, 2.0}, v[2];
    const uint32_t second[] = {1}, outside[] = {2};
    /* nothing learnt yet */
    assert_int_equal(rcf_forest_impute(f, point, second, 1, 0.1, v, NULL, NULL), RCFD_EAGAIN);
    double rows[200 * 2];
    stream_sensors(rows, 200, 2, 0.1, 3);
    feed(f, rows, 200, 2);
    assert_int_equal(rcf_forest_impute(f, point, second, 1, 0.1, v, NULL, NULL), 0);
    assert_int_equal(rcf_forest_impute(f, point, outside, 1, 0.1, v, NULL, NULL), RCFD_EINVAL);
    assert_int_equal(rcf_forest_impute(f, point, second, 1, 0.6, v, NULL, NULL), RCFD_EINVAL);
    assert_int_equal(rcf_forest_impute(f, point, second, 1, -0.1, v, NULL, NULL), RCFD_EINVAL);
    double bad[2] = {NAN, 0.0}; /* a NaN where the value is known */
    assert_int_equal(rcf_forest_impute(f, bad, second, 1, 0.1, v, NULL, NULL), RCFD_EINVAL);
    assert_int_equal(rcf_forest_impute(f, point, NULL, 0, 0.1, NULL, NULL, NULL), 0);
    /* a record alone has no past to extrapolate */
    assert_int_equal(rcf_forest_forecast(f, 3, 0.1, v, NULL, NULL), RCFD_EINVAL);
    rcf_forest_destroy(f);

    f = make(1, 4, 10, 1);
    double one = 1.0, p4[4];
    assert_int_equal(rcf_forest_forecast(f, 2, 0.1, v, NULL, NULL), RCFD_EAGAIN);
    assert_int_equal(rcf_forest_point(f, &one, p4), RCFD_EAGAIN);
    assert_int_equal(rcf_forest_forecast(f, 0, 0.1, v, NULL, NULL), RCFD_EINVAL);
    rcf_forest_destroy(f);
}

static void test_model_unchanged_and_no_allocation(void **state)
{
    (void)state;
    rcf_forest_t *f = make(1, 6, 30, 4);
    double v[2000];
    stream_sine(v, 2000, 30.0, 3.0, 0.2, NULL, 0, 0.0, 8);
    feed(f, v, 2000, 1);
    size_t len = rcf_forest_snapshot_size(f), got;
    unsigned char *before = malloc(len), *after = malloc(len);
    assert_int_equal(rcf_forest_save(f, before, len, &got), 0);

    rcfd_alloc_stats_t a, b;
    rcfd_alloc_stats(&a);
    double fc[16], point[6], e;
    const uint32_t newest[] = {5}, some[] = {0, 2, 5};
    for (int i = 0; i < 50; i++) {
        assert_int_equal(rcf_forest_forecast(f, 16, 0.1, fc, NULL, NULL), 0);
        assert_int_equal(rcf_forest_point(f, &v[i], point), 0);
        assert_int_equal(rcf_forest_impute(f, point, newest, 1, 0.2, &e, NULL, NULL), 0);
        assert_int_equal(rcf_forest_impute(f, point, some, 3, 0.2, fc, NULL, NULL), 0);
    }
    rcfd_alloc_stats(&b);
    assert_int_equal(a.calls, b.calls);

    assert_int_equal(rcf_forest_save(f, after, len, &got), 0);
    assert_memory_equal(before, after, len);
    free(before);
    free(after);
    rcf_forest_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_reference),
        cmocka_unit_test(test_imputes_a_dependent_field),
        cmocka_unit_test(test_forecasts_a_sine),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_model_unchanged_and_no_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
