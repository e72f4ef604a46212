/* score/period.h: the period of a noisy sine, none on white noise or a trend, the lag limit. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "score/period.h"

#define N 1024

static uint64_t rng = 88172645463325252ull;
static double unif(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static void test_noisy_sine(void **state)
{
    (void)state;
    double x[N];
    for (size_t i = 0; i < N; i++) {
        x[i] = sin(2 * M_PI * (double)i / 24) + 0.3 * (unif() - 0.5);
    }
    assert_int_equal(rcfd_period_estimate(x, N, 1, 64), 24);
    /* beyond the limit: none */
    assert_int_equal(rcfd_period_estimate(x, N, 1, 16), 0);
}

static void test_noise_and_trend(void **state)
{
    (void)state;
    double x[N], t[N];
    for (size_t i = 0; i < N; i++) {
        x[i] = unif();
        t[i] = (double)i + unif();
    }
    assert_int_equal(rcfd_period_estimate(x, N, 1, 64), 0);
    assert_int_equal(rcfd_period_estimate(t, N, 1, 64), 0);
}

static void test_stride(void **state)
{
    (void)state;
    double x[2 * N];
    for (size_t i = 0; i < N; i++) {
        x[2 * i] = unif();
        x[2 * i + 1] = cos(2 * M_PI * (double)i / 10);
    }
    assert_int_equal(rcfd_period_estimate(x + 1, N, 2, 64), 10);
    assert_int_equal(rcfd_period_estimate(x, N, 2, 64), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_noisy_sine),
        cmocka_unit_test(test_noise_and_trend),
        cmocka_unit_test(test_stride),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
