/* OpenBLAS versus plain loops for `rcfd train --suggest`: column means and covariance (dgemv,
 * blocked dsyrk) and k-nearest-neighbour distances (dgemm Gram matrix) agree with the loops to
 * rounding, on data far from the origin (where the Gram formula cancels worst) and with duplicate
 * rows; the loops themselves are checked against hand-computed values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "train/stats.h"

static double rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) / 9007199254740992.0;
}

static void test_hand_values(void **state)
{
    (void)state;
    /* Rows (0,0) (2,0) (0,4) (2,4): means (1,2), variances 4/3 and 16/3, covariance 0. */
    const double x[] = {0, 0, 2, 0, 0, 4, 2, 4};
    double mean[2], cov[4], kd[4];
    assert_int_equal(rcfd_colstats_plain(x, 4, 2, mean, cov), 0);
    assert_true(mean[0] == 1 && mean[1] == 2);
    assert_true(fabs(cov[0] - 4.0 / 3) < 1e-15 && fabs(cov[3] - 16.0 / 3) < 1e-15);
    assert_true(cov[1] == 0 && cov[2] == 0);
    assert_int_equal(rcfd_colstats_blas(x, 4, 2, mean, cov), 0);
    assert_true(fabs(mean[0] - 1) < 1e-15 && fabs(cov[3] - 16.0 / 3) < 1e-14);
    assert_true(fabs(cov[1]) < 1e-15 && fabs(cov[2]) < 1e-15);
    /* Nearest: 2 for every row; second nearest: 4; third: sqrt(20). */
    for (size_t k = 1; k <= 3; k++) {
        double want = k == 1 ? 2 : k == 2 ? 4 : sqrt(20);
        assert_int_equal(rcfd_kdist_plain(x, 4, 2, k, kd), 0);
        for (int i = 0; i < 4; i++) {
            assert_true(fabs(kd[i] - want) < 1e-12);
        }
        assert_int_equal(rcfd_kdist_blas(x, 4, 2, k, kd), 0);
        for (int i = 0; i < 4; i++) {
            assert_true(fabs(kd[i] - want) < 1e-9);
        }
    }
    assert_int_not_equal(rcfd_kdist_plain(x, 4, 2, 4, kd), 0); /* k must be < m */
    assert_int_not_equal(rcfd_kdist_blas(x, 4, 2, 4, kd), 0);
    double q[] = {3, 1, 2, 4};
    assert_true(rcfd_quantile_sorted(q, 4, 0.5) == 2.5);
}

static void test_blas_equals_plain(void **state)
{
    (void)state;
    uint64_t s = 42;
    static const size_t dims[] = {1, 2, 5, 17};
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
        /* n > 4096 so the covariance goes through more than one dsyrk block */
        size_t d = dims[di], n = 9000, m = 600;
        double *x = malloc(n * d * sizeof *x);
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < d; j++) {
                /* offset 1000 (far from the origin), scale per column, some duplicate rows */
                x[i * d + j] = i % 50 == 7 && i > 50 ? x[(i - 50) * d + j]
                                                     : 1000.0 + (double)(j + 1) * rnd(&s);
            }
        }
        double mp[17], mb[17], cp[17 * 17], cb[17 * 17];
        assert_int_equal(rcfd_colstats_plain(x, n, d, mp, cp), 0);
        assert_int_equal(rcfd_colstats_blas(x, n, d, mb, cb), 0);
        for (size_t j = 0; j < d; j++) {
            assert_true(fabs(mp[j] - mb[j]) <= 1e-12 * fabs(mp[j]));
        }
        for (size_t j = 0; j < d * d; j++) {
            assert_true(fabs(cp[j] - cb[j]) <= 1e-9 * (fabs(cp[j]) + 1e-3));
        }
        double *kp = malloc(m * sizeof *kp), *kb = malloc(m * sizeof *kb);
        for (size_t k = 1; k <= 16; k += 15) {
            assert_int_equal(rcfd_kdist_plain(x, m, d, k, kp), 0);
            assert_int_equal(rcfd_kdist_blas(x, m, d, k, kb), 0);
            for (size_t i = 0; i < m; i++) {
                /* The BLAS version centres the sample: squared distances are good to ~1e-15 of
                 * |a|^2 ~ d (the spread), not of the offset (1e6 d), so ~1e-7 in distance. */
                double tol = 1e-6 * sqrt((double)d) + 1e-9 * kp[i];
                if (fabs(kp[i] - kb[i]) > tol) {
                    fail_msg("d=%zu k=%zu row %zu: plain %.17g blas %.17g", d, k, i, kp[i], kb[i]);
                }
            }
            if (!(kp[0] > 0)) {
                fail_msg("d=%zu k=%zu: distance %g", d, k, kp[0]);
            }
        }
        free(kp);
        free(kb);
        free(x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_values),
        cmocka_unit_test(test_blas_equals_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
