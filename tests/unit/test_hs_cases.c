/* HOTSPOTS semantics on hand-built windows: planted bursts, the edge cases the definition calls out,
 * the border-point rule, the two reporting options and the JSON writer. Every case also checks the
 * incremental result against the brute-force reference (hs_recompute). */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rcfd/hotspots.h"
#include "rcfd/status.h"
#include "streams.h"

static hs_detector_t *make(uint32_t dim, uint32_t window, double radius, uint32_t min_points)
{
    hs_params_t p = hs_params_default(dim);
    p.window_size = window;
    p.scan_radius = radius;
    p.min_points = min_points;
    hs_detector_t *d;
    char err[256];
    assert_int_equal(hs_new(&p, &d, err, sizeof err), 0);
    return d;
}

static void feed(hs_detector_t *d, const double *v, size_t dim, hs_result_t *r)
{
    assert_int_equal(hs_process(d, v, dim, r), 0);
    hs_result_t check;
    assert_int_equal(hs_recompute(d, &check), 0);
    assert_int_equal(check.changed, 0);
}

static void test_planted_bursts(void **state)
{
    (void)state;
    /* Noise over [0,10]^2 with two bursts: 150 points in [2,2.5]^2 and 80 in [7,7.4]x[1,1.2].
     * KDA's example parameters: window 1000, radius 0.2, 17 points. */
    hs_detector_t *d = make(2, 1000, 0.2, 17);
    stream_rng_t g;
    stream_rng_seed(&g, 42);
    hs_result_t r;
    uint32_t in_a = 0, in_b = 0;
    double a_min[2] = {1e9, 1e9}, a_max[2] = {-1e9, -1e9};
    for (int i = 0; i < 1000; i++) {
        double v[2];
        double u = stream_uniform(&g);
        if (i % 4 == 1 && in_a < 150) {
            v[0] = 2.0 + 0.5 * stream_uniform(&g);
            v[1] = 2.0 + 0.5 * stream_uniform(&g);
            in_a++;
            for (int k = 0; k < 2; k++) {
                a_min[k] = fmin(a_min[k], v[k]);
                a_max[k] = fmax(a_max[k], v[k]);
            }
        } else if (i % 4 == 3 && in_b < 80) {
            v[0] = 7.0 + 0.4 * stream_uniform(&g);
            v[1] = 1.0 + 0.2 * stream_uniform(&g);
            in_b++;
        } else {
            v[0] = 10.0 * u;
            v[1] = 10.0 * stream_uniform(&g);
        }
        feed(d, v, 2, &r);
    }
    assert_true(r.n_hotspots >= 2);
    /* The two densest are the bursts: burst B (80 points in 0.08 units^2) is denser than A. */
    const hs_hotspot_t *b = &r.hotspots[0], *a = &r.hotspots[1];
    assert_true(b->min_values[0] >= 6.8 && b->max_values[0] <= 7.6);
    assert_true(a->min_values[0] >= 1.8 && a->max_values[0] <= 2.7);
    /* Noise can join at the edges, but the burst is all there and the box hugs it. */
    assert_in_range(a->count, 150, 160);
    assert_in_range(b->count, 80, 86);
    for (int k = 0; k < 2; k++) {
        assert_true(a->min_values[k] <= a_min[k] && a->min_values[k] > a_min[k] - 0.2);
        assert_true(a->max_values[k] >= a_max[k] && a->max_values[k] < a_max[k] + 0.2);
    }
    double size_a = (a->max_values[0] - a->min_values[0]) * (a->max_values[1] - a->min_values[1]);
    assert_true(a->density == (double)a->count / size_a);
    assert_true(b->density > a->density);
    for (size_t i = 2; i < r.n_hotspots; i++) {
        assert_true(r.hotspots[i].density <= a->density);
        assert_true(r.hotspots[i].count < 40); /* chance clumps of noise only */
    }
    hs_destroy(d);
}

static void test_all_points_identical(void **state)
{
    (void)state;
    hs_detector_t *d = make(3, 50, 0.5, 5);
    double v[3] = {1.5, -2.0, 0.0};
    hs_result_t r;
    for (int i = 0; i < 200; i++) {
        feed(d, v, 3, &r);
        if (i < 4) {
            assert_int_equal(r.n_hotspots, 0); /* window smaller than minPoints */
        } else {
            assert_int_equal(r.n_hotspots, 1);
            assert_int_equal(r.hotspots[0].count, i < 50 ? i + 1 : 50);
            assert_int_equal(r.hotspots[0].dense_count, r.hotspots[0].count);
            /* Zero width in every dimension counts as the radius: size 0.5^3. */
            assert_true(r.hotspots[0].density == (double)r.hotspots[0].count / 0.125);
            assert_memory_equal(r.hotspots[0].min_values, v, sizeof v);
            assert_memory_equal(r.hotspots[0].max_values, v, sizeof v);
        }
    }
    hs_destroy(d);
}

static void test_exactly_at_radius_and_cell_borders(void **state)
{
    (void)state;
    /* Radius 0.5; points on multiples of 0.5 sit exactly on grid cell borders, and consecutive
     * ones are exactly one radius apart (exactly representable, so the distance is exact). */
    hs_detector_t *d = make(2, 20, 0.5, 3);
    hs_result_t r;
    double chain[][2] = {{0.0, 0.0}, {0.5, 0.0}, {1.0, 0.0}, {1.5, 0.0}, {1.5, 0.5}};
    for (size_t i = 0; i < 5; i++) {
        feed(d, chain[i], 2, &r);
    }
    /* Every inner point has 3 neighbours (itself and two at exactly 0.5): one chain hotspot. */
    assert_int_equal(r.n_hotspots, 1);
    assert_int_equal(r.hotspots[0].count, 5);
    assert_int_equal(r.hotspots[0].dense_count, 3); /* the two ends have 2 neighbours */
    assert_true(r.hotspots[0].min_values[0] == 0.0 && r.hotspots[0].max_values[0] == 1.5);
    assert_true(r.hotspots[0].max_values[1] == 0.5);
    hs_destroy(d);

    /* A 3-4-5 triangle scaled by 1/8: every coordinate and square is exact in binary. */

    d = make(2, 20, 0.625, 2);
    double p0[2] = {10.0, 10.0}, p1[2] = {10.375, 10.5}; /* distance exactly 0.625 */
    feed(d, p0, 2, &r);
    feed(d, p1, 2, &r);
    assert_int_equal(r.n_hotspots, 1);
    double p2[2] = {11.0, 10.5}; /* 0.625 from p1 as well */
    feed(d, p2, 2, &r);
    assert_int_equal(r.hotspots[0].count, 3);
    double far[2] = {11.625 + 1e-9, 10.5}; /* a hair beyond the radius of p2 */
    feed(d, far, 2, &r);
    assert_int_equal(r.n_hotspots, 1);
    assert_int_equal(r.hotspots[0].count, 3);
    hs_destroy(d);
}

static void test_hotspot_leaves_window(void **state)
{
    (void)state;
    hs_detector_t *d = make(2, 30, 0.3, 4);
    hs_result_t r;
    double burst[2] = {5.0, 5.0};
    for (int i = 0; i < 10; i++) {
        burst[0] = 5.0 + 0.01 * i;
        feed(d, burst, 2, &r);
    }
    assert_int_equal(r.n_hotspots, 1);
    assert_int_equal(r.hotspots[0].count, 10);
    /* Sparse records push the burst out one record at a time. */
    int gone_at = -1;
    for (int i = 0; i < 30; i++) {
        double v[2] = {(double)i, 100.0};
        feed(d, v, 2, &r);
        if (r.n_hotspots == 1) {
            assert_int_equal(r.hotspots[0].count, i < 20 ? 10 : 29 - i);
        } else if (gone_at < 0) {
            gone_at = i;
        }
    }
    /* 4 burst records are the least that still form a hotspot. */
    assert_int_equal(gone_at, 26);
    hs_destroy(d);
}

static void test_one_dimensional(void **state)
{
    (void)state;
    hs_detector_t *d = make(1, 100, 1.0, 3);
    hs_result_t r;
    double xs[] = {0, 0.5, 1.0, 20, 20.25, 50, 50, 50, 50, 90};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        feed(d, &xs[i], 1, &r);
    }
    assert_int_equal(r.n_hotspots, 2);
    /* 50 x4 at one value: size = radius = 1, density 4; {0,0.5,1}: width 1, density 3. */
    assert_true(r.hotspots[0].density == 4.0 && r.hotspots[0].min_values[0] == 50.0);
    assert_true(r.hotspots[1].density == 3.0 && r.hotspots[1].max_values[0] == 1.0);
    hs_destroy(d);
}

static void test_border_goes_to_newest_dense_neighbour(void **state)
{
    (void)state;
    /* Two dense groups with b = 1.0 exactly one radius from each group's edge point. b has 3
     * neighbours (itself and both edge points), below minPts 4, so it is a border of both groups
     * and must go to the group whose dense neighbour arrived last. */
    hs_detector_t *d = make(1, 50, 1.0, 4);
    hs_result_t r;
    double left[] = {0.0, -0.25, -0.5, -0.75}, right[] = {2.0, 2.25, 2.5, 2.75}, b = 1.0;
    for (int i = 0; i < 4; i++) {
        feed(d, &left[i], 1, &r);
    }
    feed(d, &b, 1, &r);
    for (int i = 0; i < 4; i++) {
        feed(d, &right[i], 1, &r);
    }
    assert_int_equal(r.n_hotspots, 2);
    /* right's dense point 2.0 is newer than left's 0.0, so b (1.0) belongs to the right group. */
    for (size_t i = 0; i < 2; i++) {
        const hs_hotspot_t *h = &r.hotspots[i];
        if (h->min_values[0] >= 0.5) {
            assert_true(h->min_values[0] == 1.0);
            assert_int_equal(h->count, 5);
        } else {
            assert_true(h->max_values[0] == 0.0);
            assert_int_equal(h->count, 4);
        }
    }
    hs_destroy(d);
}

static void test_scale_factors(void **state)
{
    (void)state;
    /* Column 1 is in milli-units: scale 0.001 makes 1000 of it count as 1 of column 0. */
    hs_params_t p = hs_params_default(2);
    p.window_size = 10;
    p.scan_radius = 1.0;
    p.min_points = 2;
    p.scale[1] = 0.001;
    hs_detector_t *d;
    assert_int_equal(hs_new(&p, &d, NULL, 0), 0);
    double a[2] = {0.0, 0.0}, b[2] = {0.5, 500.0};
    hs_result_t r;
    feed(d, a, 2, &r);
    feed(d, b, 2, &r);
    assert_int_equal(r.n_hotspots, 1);
    /* Widths below radius / scale count as that: column 0 as 1, column 1 as 1000 units. */
    assert_true(r.hotspots[0].density == 2.0 / (1.0 * 1000.0));
    double c[2] = {0.0, -999.0}; /* 0.999 scaled units from a: a neighbour */
    feed(d, c, 2, &r);
    assert_int_equal(r.hotspots[0].count, 3);
    double e[2] = {0.0, -1999.5}; /* 1.0005 from c, further from the rest: not a neighbour */
    feed(d, e, 2, &r);
    assert_int_equal(r.n_hotspots, 1);
    assert_int_equal(r.hotspots[0].count, 3);
    hs_destroy(d);
}

static void test_only_containing_new_and_emit_on_change(void **state)
{
    (void)state;
    hs_params_t p = hs_params_default(1);
    p.window_size = 100;
    p.scan_radius = 0.5;
    p.min_points = 2;
    p.only_containing_new = 1;
    p.emit_only_on_change = 1;
    hs_detector_t *d;
    assert_int_equal(hs_new(&p, &d, NULL, 0), 0);
    hs_result_t r;
    double v = 0.0;
    feed(d, &v, 1, &r);
    assert_int_equal(r.n_hotspots, 0);
    assert_int_equal(r.changed, 0); /* empty before, empty now */
    assert_int_equal(r.emit, 0);
    v = 0.25;
    feed(d, &v, 1, &r);
    assert_int_equal(r.n_hotspots, 1);
    assert_true(r.hotspots[0].contains_new);
    assert_int_equal(r.changed, 1);
    assert_int_equal(r.emit, 1);
    v = 10.0; /* not in any hotspot: the filtered list becomes empty */
    feed(d, &v, 1, &r);
    assert_int_equal(r.n_hotspots, 0);
    assert_int_equal(r.changed, 1);
    v = 20.0;
    feed(d, &v, 1, &r);
    assert_int_equal(r.changed, 0);
    assert_int_equal(r.emit, 0);
    hs_stats_t st;
    hs_stats(d, &st);
    assert_int_equal(st.hotspots, 1); /* still in the window, just not reported */
    assert_int_equal(st.dense_points, 2);
    hs_destroy(d);

    /* Unfiltered: the same hotspot re-reported after an unrelated record is not a change. */
    p.only_containing_new = 0;
    assert_int_equal(hs_new(&p, &d, NULL, 0), 0);
    double xs[] = {0.0, 0.25, 10.0, 20.0};
    int changed[] = {0, 1, 0, 0};
    for (int i = 0; i < 4; i++) {
        feed(d, &xs[i], 1, &r);
        assert_int_equal(r.changed, changed[i]);
        assert_int_equal(r.emit, changed[i]);
    }
    hs_destroy(d);
}

static void test_json(void **state)
{
    (void)state;
    hs_detector_t *d = make(2, 10, 0.5, 2);
    hs_result_t r;
    double a[2] = {0.1, -1.0}, b[2] = {0.3, -1.0};
    feed(d, a, 2, &r);
    char buf[512];
    size_t len;
    assert_int_equal(hs_result_json(d, &r, buf, sizeof buf, &len, 0), 0);
    assert_string_equal(buf, "{\"hotspots\":[]}");
    assert_int_equal(len, strlen(buf));
    feed(d, b, 2, &r);
    assert_int_equal(hs_result_json(d, &r, buf, sizeof buf, &len, 0), 0);
    /* density 2 / (0.2 x 0.5) = 20 (0.3 - 0.1 is 0.19999999999999998 in doubles) */
    char expect[256];
    snprintf(expect, sizeof expect,
             "{\"hotspots\":[{\"density\":%.17g,\"minValues\":[0.1,-1],\"maxValues\":[0.3,-1],"
             "\"count\":2,\"denseCount\":2}]}",
             r.hotspots[0].density);
    assert_string_equal(buf, expect);
    assert_int_equal(hs_result_json(d, &r, buf, sizeof buf, &len, HS_JSON_KDA), 0);
    assert_null(strstr(buf, "count"));
    assert_non_null(strstr(buf, "\"maxValues\":[0.3,-1]}]}"));
    /* Too small: ENOBUFS, the exact length needed, and an empty string left behind. */
    size_t need = len;
    for (size_t cap = 0; cap <= need; cap++) {
        size_t got = 0;
        assert_int_equal(hs_result_json(d, &r, cap ? buf : NULL, cap, &got, HS_JSON_KDA),
                         RCFD_ENOBUFS);
        assert_int_equal(got, need);
        if (cap > 0) {
            assert_int_equal(buf[0], '\0');
        }
    }
    assert_int_equal(hs_result_json(d, &r, buf, need + 1, &len, HS_JSON_KDA), 0);
    assert_int_equal(len, need);
    hs_destroy(d);
}

static void test_batch_matches_streaming(void **state)
{
    (void)state;
    hs_params_t p = hs_params_default(2);
    p.window_size = 200;
    p.scan_radius = 0.4;
    p.min_points = 5;
    hs_detector_t *stream, *batch_inc, *batch_brute;
    assert_int_equal(hs_new(&p, &stream, NULL, 0), 0);
    assert_int_equal(hs_new(&p, &batch_inc, NULL, 0), 0);
    p.algorithm = HS_ALGORITHM_BRUTE_FORCE;
    assert_int_equal(hs_new(&p, &batch_brute, NULL, 0), 0);
    static double rows[700 * 2];
    stream_sensors(rows, 700, 2, 0.3, 7);
    hs_result_t rs, ri, rb;
    for (int i = 0; i < 700; i++) {
        assert_int_equal(hs_process(stream, rows + 2 * i, 2, &rs), 0);
    }
    assert_int_equal(hs_process_batch(batch_inc, rows, 700, &ri, NULL), 0);
    assert_int_equal(hs_process_batch(batch_brute, rows, 700, &rb, NULL), 0);
    assert_true(rs.n_hotspots > 0);
    assert_int_equal(ri.record, 700);
    assert_int_equal(rb.record, 700);
    assert_int_equal(ri.n_hotspots, rs.n_hotspots);
    assert_int_equal(rb.n_hotspots, rs.n_hotspots);
    for (size_t h = 0; h < rs.n_hotspots; h++) {
        assert_true(ri.hotspots[h].density == rs.hotspots[h].density);
        assert_true(rb.hotspots[h].density == rs.hotspots[h].density);
        assert_int_equal(rb.hotspots[h].count, rs.hotspots[h].count);
    }
    /* A bad row anywhere rejects the whole batch. */
    rows[2 * 300 + 1] = NAN;
    size_t bad = 0;
    assert_int_equal(hs_process_batch(batch_inc, rows, 700, &ri, &bad), RCFD_ENONFINITE);
    assert_int_equal(bad, 300);
    hs_stats_t st;
    hs_stats(batch_inc, &st);
    assert_int_equal(st.records, 700);
    hs_destroy(stream);
    hs_destroy(batch_inc);
    hs_destroy(batch_brute);
}

static void test_extreme_values(void **state)
{
    (void)state;
    /* Huge magnitudes (grid falls back to a scan), the smallest radius, and overflowing sizes. */
    hs_detector_t *d = make(3, 20, HS_MIN_RADIUS, 2);
    hs_result_t r;
    double a[3] = {1e300, -1e300, 0}, b[3] = {1e300, -1e300, 0}, c[3] = {-1e300, 1e300, 0};
    feed(d, a, 3, &r);
    feed(d, b, 3, &r);
    assert_int_equal(r.n_hotspots, 1);
    assert_true(r.hotspots[0].density == DBL_MAX); /* 2 / (1e-150)^3 overflows */
    feed(d, c, 3, &r);
    feed(d, c, 3, &r);
    assert_int_equal(r.n_hotspots, 2);
    /* Subnormal values: their squared differences underflow to 0, so they are neighbours of 0. */
    double tiny[3] = {1e-310, 0, 0}, zero[3] = {0, 0, 0};
    feed(d, tiny, 3, &r);
    feed(d, zero, 3, &r);
    assert_int_equal(r.n_hotspots, 3);
    hs_destroy(d);
    d = make(1, 20, HS_MAX_RADIUS, 2);
    double lo = -1.7e308, hi = 1.7e308;
    feed(d, &lo, 1, &r);
    feed(d, &hi, 1, &r);
    assert_int_equal(r.n_hotspots, 0); /* the difference overflows to infinity: not neighbours */
    hs_destroy(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planted_bursts),
        cmocka_unit_test(test_all_points_identical),
        cmocka_unit_test(test_exactly_at_radius_and_cell_borders),
        cmocka_unit_test(test_hotspot_leaves_window),
        cmocka_unit_test(test_one_dimensional),
        cmocka_unit_test(test_border_goes_to_newest_dense_neighbour),
        cmocka_unit_test(test_scale_factors),
        cmocka_unit_test(test_only_containing_new_and_emit_on_change),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_batch_matches_streaming),
        cmocka_unit_test(test_extreme_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
