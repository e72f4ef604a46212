/* A detector allocates nothing per record: rcfd's allocation counter must not move while a long,
 * churning stream (hotspots forming, merging, splitting, leaving) runs through it, for either
 * algorithm, and neither may the JSON writer or hs_recompute. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rcfd/alloc.h"
#include "rcfd/hotspots.h"
#include "streams.h"

static void run(uint32_t dim, uint32_t window, hs_algorithm_t algorithm, int records)
{
    hs_params_t p = hs_params_default(dim);
    p.window_size = window;
    p.scan_radius = 0.3 * sqrt((double)dim);
    p.min_points = 5;
    p.algorithm = algorithm;
    p.scale[0] = 2.0;
    hs_detector_t *d;
    assert_int_equal(hs_new(&p, &d, NULL, 0), 0);
    stream_rng_t g;
    stream_rng_seed(&g, dim + window);
    rcfd_alloc_stats_t before, after;
    rcfd_alloc_stats(&before);
    static char json[1 << 16];
    size_t len;
    uint64_t hotspots_seen = 0;
    for (int i = 0; i < records; i++) {
        double v[8];
        int burst = (i / 300) % 3;
        for (uint32_t k = 0; k < dim; k++) {
            v[k] = stream_uniform(&g) < 0.5 ? burst + 0.2 * stream_gaussian(&g)
                                             : 5.0 * stream_uniform(&g);
        }
        hs_result_t r;
        assert_int_equal(hs_process(d, v, dim, &r), 0);
        hotspots_seen += r.n_hotspots;
        (void)hs_result_json(d, &r, json, sizeof json, &len, 0);
        if (i % 97 == 0) {
            assert_int_equal(hs_recompute(d, &r), 0);
        }
    }
    rcfd_alloc_stats(&after);
    assert_int_equal(after.calls, before.calls);
    assert_int_equal(after.bytes_in_use, before.bytes_in_use);
    print_message("d=%u W=%u: %llu hotspots reported\n", dim, window, (unsigned long long)hotspots_seen);
    assert_true(hotspots_seen > (uint64_t)records);
    hs_destroy(d);
}

static void test_incremental(void **state)
{
    (void)state;
    run(2, 200, HS_ALGORITHM_INCREMENTAL, 20000);
    run(5, 500, HS_ALGORITHM_INCREMENTAL, 10000);
}

static void test_brute_force(void **state)
{
    (void)state;
    run(2, 50, HS_ALGORITHM_BRUTE_FORCE, 3000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incremental),
        cmocka_unit_test(test_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
