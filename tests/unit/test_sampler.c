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

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_heap_keeps_smallest_keys)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
