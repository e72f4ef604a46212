#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "rcf/sampler.h"
#include "streams.h"

static void test_heap_keeps_smallest_keys(void **state)
{
    (void)state;
    enum { CAP = 50, N = 5000 };
    void *mem = malloc(sampler_bytes(CAP));
    sampler_t s;
    sampler_init(&s, mem, CAP);
    stream_rng_t r;
    stream_rng_seed(&r, 11);
    static double keys[N];
    for (uint32_t i = 0; i < N; i++) {
        keys[i] = stream_gaussian(&r);
        if (!sampler_is_full(&s)) {
            sampler_push(&s, keys[i], i);
        } else if (keys[i] < sampler_max_key(&s)) {
            uint32_t evicted = sampler_pop_max(&s);
            /* The evicted entry had the largest key held. */
            for (uint32_t k = 0; k < s.size; k++) {
                assert_true(s.key[k] <= keys[evicted]);
            }
            sampler_push(&s, keys[i], i);
        }
        assert_true(sampler_is_heap(&s));
    }
    /* What is held is exactly the CAP smallest keys seen. */
    int below = 0;
    double max_held = sampler_max_key(&s);
    for (uint32_t i = 0; i < N; i++) {
        below += keys[i] <= max_held;
    }
    assert_int_equal(below, CAP);
    free(mem);
}

/* Every u at or below the bound is rejected by the exact test (the forest's, in the same double
 * arithmetic) at every sequence index the bound covers, and the bound is close to the true edge. */
static void test_reject_bound_is_certain(void **state)
{
    (void)state;
    stream_rng_t r;
    stream_rng_seed(&r, 5);
    const double lambdas[] = {1e-5, 1e-3, 1.0 / 257.0, 1e-7};
    int tight = 0, bounds = 0;
    for (int trial = 0; trial < 4000; trial++) {
        double lambda = lambdas[trial % 4];
        uint64_t seq = (uint64_t)(stream_uniform(&r) * 5e6);
        /* max keys as the samplers hold them: -seq·lambda + ln(-ln u) for a kept u */
        double max_key = -(double)seq * lambda + log(-log(0.5 + 0.4999 * stream_uniform(&r))) -
                         3.0 * stream_uniform(&r);
        uint64_t until;
        double below = sampler_reject_below(max_key, seq, lambda, &until);
        assert_true(until > seq && until - seq <= 1024);
        assert_true(below >= 0.0 && below < 1.0);
        if (below == 0.0) {
            continue;
        }
        bounds++;
        /* the bound itself, the doubles just under it, and random ones below */
        double us[8] = {below, nextafter(below, 0.0), below * (1 - 1e-12), below * 0.5};
        for (int k = 4; k < 8; k++) {
            us[k] = below * stream_uniform(&r);
        }
        for (int k = 0; k < 8; k++) {
            if (!(us[k] > 0.0)) {
                continue;
            }
            const uint64_t ends[2] = {seq, until};
            for (int e = 0; e < 2; e++) {
                double key = -(double)ends[e] * lambda + log(-log(us[k]));
                assert_true(key >= max_key);
            }
        }
        /* not useless: just above the edge at seq some u is accepted */
        double edge = exp(-exp(max_key + (double)seq * lambda));
        tight += edge - below < 0.02 * (1.0 - below) + 1e-9;
    }
    assert_true(bounds > 3000);
    assert_true(tight > bounds / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_heap_keeps_smallest_keys),
                                       cmocka_unit_test(test_reject_bound_is_certain)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
