/* The OpenBLAS recompute (rcfd_train) must agree exactly with the incremental detector, including
 * for pairs at exactly the radius and for points far from the origin, where the Gram-matrix formula
 * cancels and the exact recheck has to take over. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rcfd/hotspots.h"
#include "streams.h"

static void run(uint32_t dim, uint32_t window, double radius, double offset, int snap)
{
    hs_params_t p = hs_params_default(dim);
    p.window_size = window;
    p.scan_radius = radius;
    p.min_points = 4;
    hs_detector_t *d;
    assert_int_equal(hs_new(&p, &d, NULL, 0), 0);
    stream_rng_t g;
    stream_rng_seed(&g, dim * 31 + window);
    int nonempty = 0;
    for (int i = 0; i < 3 * (int)window; i++) {
        double v[16];
        int burst = stream_uniform(&g) < 0.5;
        for (uint32_t k = 0; k < dim; k++) {
            double x = burst ? 1.0 + 0.5 * radius / sqrt(dim) * stream_gaussian(&g)
                             : 6.0 * stream_uniform(&g);
            if (snap) {
                x = radius / 2 * (double)(long)(x / (radius / 2));
            }
            v[k] = x + offset;
        }
        hs_result_t r, check;
        assert_int_equal(hs_process(d, v, dim, &r), 0);
        nonempty += r.n_hotspots > 0;
        if (i % 7 == 0) {
            assert_int_equal(hs_recompute_blas(d, &check), 0);
            assert_int_equal(check.changed, 0);
            assert_int_equal(check.n_hotspots, r.n_hotspots);
        }
    }
    assert_true(nonempty > (int)window);
    hs_destroy(d);
}

static void test_blas_agrees(void **state)
{
    (void)state;
    run(2, 100, 0.5, 0.0, 1);
    run(3, 300, 0.5, 0.0, 0);
    run(8, 200, 1.0, 0.0, 1);
    run(16, 150, 2.0, 0.0, 0);
    run(2, 100, 0.5, 1e6, 1); /* |a|^2 ~ 1e12 against r^2 = 0.25: nearly every pair rechecked */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blas_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
