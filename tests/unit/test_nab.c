/* The NAB scorer against a hand-worked example.
 *
 * File of 20 rows, probationary period floor(0.15 * 20) = 3 rows (0..2 are never scored).
 * Windows: W0 = rows 5..8 (width 4), W1 = rows 14..15 (width 2). Scores: row 1 = 0.9 (probation),
 * row 4 = 0.6, row 6 = 0.7, row 7 = 0.8, row 10 = 0.55, row 19 = 0.3, every other row 0.
 *
 * ss(x) = 2 / (1 + e^(5x)) - 1;  maxTP = ss(-1) = 2 / (1 + e^-5) - 1 = 0.98661430.
 * Standard profile (A_TP 1, A_FP 0.11, A_FN 1), threshold 0.5, detections rows 4, 6, 7, 10:
 *   row 4: before any window, FP cost -1 * 0.11                                = -0.11
 *   row 6: in W0 at -(8 - 6 + 1) / 4 = -0.75: ss(-0.75) = 0.95404526, / maxTP = +0.96698909
 *   row 7: in W0 at -0.5, credit 0.85979257 < row 6's: the window keeps its best (earliest) credit
 *   row 10: past W0 by (10 - 8) / (4 - 1) = 2/3: ss(2/3) = -0.93110961, * 0.11 = -0.10242206
 *   W1: no detection                                                          = -1
 *   raw = 0.96698909 - 0.11 - 0.10242206 - 1                                   = -0.24543297
 * Sweep: none -2; t=0.8 (row 7): 0.85979257 - 1 = -0.14020743; t=0.7 (row 6): -0.03301091;
 *   t=0.6 (row 4): -0.14301091; t=0.55: -0.24543297; t=0.3: -0.35543297; t=0 detects every row
 *   3..19: W0 and W1 earn 1 each (their first rows); FPs rows 3, 4: -1 each; rows 9..13 past W0
 *   by 1/3 .. 5/3; rows 16..19 past W1 by 1, 2, 3, 4 (4 > 3 gives -1): sum of ss = -10.58348593,
 *   * 0.11 = -1.16418345; total 0.83581655. So on so short a file the best threshold is 0, and the
 *   null detector (0.5 everywhere: all or nothing) scores the same: normalised 0.
 * A hand profile with A_FP = 1 makes false positives dear: t=0.7 gives -0.03301091 (no FP), t=0
 *   gives 2 - 10.58348593 = -8.58348593, the null detector max(-2, -8.58348593) = -2, and the
 *   normalised score is 100 * (-0.03301091 + 2) / (2 + 2) = 49.17472720. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backtest/nab.h"

#define EPS 1e-7

static const rcfd_nab_profile_t *std_prof(void)
{
    return &rcfd_nab_profiles[0];
}

static size_t example(rcfd_nab_point_t *pts)
{
    double s[20] = {0};
    s[1] = 0.9;
    s[4] = 0.6;
    s[6] = 0.7;
    s[7] = 0.8;
    s[10] = 0.55;
    s[19] = 0.3;
    rcfd_nab_window_t w[2] = {{5, 8}, {14, 15}};
    return rcfd_nab_points(s, 20, w, 2, 0, pts);
}

static void test_sigmoid_and_probation(void **state)
{
    (void)state;
    assert_true(fabs(rcfd_nab_scaled_sigmoid(-1.0) - 0.98661430) < EPS);
    assert_true(fabs(rcfd_nab_scaled_sigmoid(0.0)) < EPS);
    assert_true(fabs(rcfd_nab_scaled_sigmoid(3.0) + 0.99999939) < EPS);
    assert_true(rcfd_nab_scaled_sigmoid(3.0001) == -1.0);
    assert_int_equal(rcfd_nab_probation(20), 3);
    assert_int_equal(rcfd_nab_probation(4032), 604);
    assert_int_equal(rcfd_nab_probation(22695), 750); /* capped at 0.15 * 5000 */
}

static void test_points(void **state)
{
    (void)state;
    rcfd_nab_point_t p[20];
    assert_int_equal(example(p), 17); /* rows 3..19 */
    /* p[k] is row k + 3. */
    assert_int_equal(p[1].window, -1);
    assert_true(fabs(p[1].sweep + 1.0) < EPS);
    assert_int_equal(p[3].window, 0);
    assert_true(fabs(p[3].sweep - 0.95404526) < 1e-6);
    assert_true(fabs(p[7].sweep + 0.93110961) < 1e-6);
    assert_int_equal(p[11].window, 1);
    assert_true(p[16].sweep == -1.0);
}

static void test_fixed_threshold(void **state)
{
    (void)state;
    rcfd_nab_point_t p[20];
    size_t n = example(p);
    rcfd_nab_result_t r;
    assert_int_equal(rcfd_nab_score(p, n, 2, std_prof(), 0.5, &r), 0);
    assert_true(fabs(r.raw + 0.24543297) < EPS);
    assert_int_equal(r.detections, 4);
    assert_int_equal(r.fp, 2);
    assert_int_equal(r.windows_hit, 1);
    assert_int_equal(r.windows_total, 2);
    /* Low-FN profile: the missed window costs 2. */
    assert_int_equal(rcfd_nab_score(p, n, 2, &rcfd_nab_profiles[2], 0.5, &r), 0);
    assert_true(fabs(r.raw + 1.24543297) < EPS);
}

static void test_optimize_null_normalize(void **state)
{
    (void)state;
    rcfd_nab_point_t p[20];
    size_t n = example(p);
    rcfd_nab_result_t best;
    assert_int_equal(rcfd_nab_optimize(p, n, 2, std_prof(), &best), 0);
    assert_true(best.threshold == 0.0);
    assert_true(fabs(best.raw - 0.83581655) < EPS);
    assert_int_equal(best.detections, 17);
    double null_raw;
    assert_int_equal(rcfd_nab_null(p, n, 2, std_prof(), &null_raw), 0);
    assert_true(fabs(null_raw - 0.83581655) < EPS);
    assert_true(fabs(rcfd_nab_normalize(best.raw, null_raw, 2, std_prof())) < 1e-9);

    const rcfd_nab_profile_t dear = {"dear_fp", 1.0, 1.0, 1.0};
    assert_int_equal(rcfd_nab_optimize(p, n, 2, &dear, &best), 0);
    assert_true(best.threshold == 0.7);
    assert_true(fabs(best.raw + 0.03301091) < EPS);
    assert_int_equal(best.windows_hit, 1);
    assert_int_equal(rcfd_nab_null(p, n, 2, &dear, &null_raw), 0);
    assert_true(fabs(null_raw + 2.0) < EPS);
    assert_true(fabs(rcfd_nab_normalize(best.raw, null_raw, 2, &dear) - 49.17472720) < 1e-5);
    /* A perfect detector (windows' first rows only) scores 100. */
    for (size_t i = 0; i < n; i++) {
        p[i].score = (i + 3 == 5 || i + 3 == 14) ? 1.0 : 0.0;
    }
    assert_int_equal(rcfd_nab_optimize(p, n, 2, std_prof(), &best), 0);
    assert_true(fabs(rcfd_nab_normalize(best.raw, null_raw, 2, std_prof()) - 100.0) < 1e-9);
}

static void test_windows_from_times(void **state)
{
    (void)state;
    int64_t ts[6] = {0, 10, 20, 30, 40, 50};
    int64_t lim[4] = {5, 20, 40, 100};
    rcfd_nab_window_t w[2];
    char err[128];
    assert_int_equal(rcfd_nab_windows_from_times(ts, 6, lim, 2, w, err, sizeof err), 0);
    assert_int_equal(w[0].first, 1);
    assert_int_equal(w[0].last, 2);
    assert_int_equal(w[1].first, 4);
    assert_int_equal(w[1].last, 5);
    int64_t empty[2] = {11, 19};
    assert_true(rcfd_nab_windows_from_times(ts, 6, empty, 1, w, err, sizeof err) < 0);
    int64_t overlap[4] = {0, 20, 10, 30};
    assert_true(rcfd_nab_windows_from_times(ts, 6, overlap, 2, w, err, sizeof err) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigmoid_and_probation),
        cmocka_unit_test(test_points),
        cmocka_unit_test(test_fixed_threshold),
        cmocka_unit_test(test_optimize_null_normalize),
        cmocka_unit_test(test_windows_from_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
