/* Record-level metrics against hand-computed values.
 *
 * Ten records (label, predicted): (1,1) (1,1) (1,0) (0,1) (0,0) (0,0) (0,0) (0,0) (0,1) (1,0)
 * TP = 2, FN = 2, FP = 2, TN = 4.  precision = 2/4 = 0.5, recall = 2/4 = 0.5,
 * F1 = 2*0.5*0.5/(0.5+0.5) = 0.5, accuracy = (2+4)/10 = 0.6.
 * Merged with a second set TP 1, FP 0, FN 0, TN 1: TP 3, FP 2, FN 2, TN 5: precision 3/5 = 0.6,
 * recall 3/5 = 0.6, F1 = 6/10 = 0.6, accuracy 8/12 = 0.6667. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backtest/metrics.h"

static void test_counts(void **state)
{
    (void)state;
    const int lab[10] = {1, 1, 1, 0, 0, 0, 0, 0, 0, 1};
    const int pre[10] = {1, 1, 0, 1, 0, 0, 0, 0, 1, 0};
    rcfd_metrics_t m = {0};
    for (int i = 0; i < 10; i++) {
        rcfd_metrics_add(&m, lab[i], pre[i]);
    }
    rcfd_metrics_finish(&m);
    assert_int_equal(m.tp, 2);
    assert_int_equal(m.fn, 2);
    assert_int_equal(m.fp, 2);
    assert_int_equal(m.tn, 4);
    assert_true(fabs(m.precision - 0.5) < 1e-12);
    assert_true(fabs(m.recall - 0.5) < 1e-12);
    assert_true(fabs(m.f1 - 0.5) < 1e-12);
    assert_true(fabs(m.accuracy - 0.6) < 1e-12);
    rcfd_metrics_t o = {0};
    rcfd_metrics_add(&o, 1, 1);
    rcfd_metrics_add(&o, 0, 0);
    rcfd_metrics_merge(&m, &o);
    rcfd_metrics_finish(&m);
    assert_true(fabs(m.precision - 0.6) < 1e-12);
    assert_true(fabs(m.recall - 0.6) < 1e-12);
    assert_true(fabs(m.f1 - 0.6) < 1e-12);
    assert_true(fabs(m.accuracy - 8.0 / 12.0) < 1e-12);
}

static void test_empty_denominators(void **state)
{
    (void)state;
    rcfd_metrics_t m = {0};
    rcfd_metrics_add(&m, 0, 0);
    rcfd_metrics_add(&m, 0, 0);
    rcfd_metrics_finish(&m);
    assert_true(m.precision == 0.0 && m.recall == 0.0 && m.f1 == 0.0);
    assert_true(m.accuracy == 1.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_empty_denominators),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
