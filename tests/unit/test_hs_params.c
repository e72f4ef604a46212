/* Parameter validation (messages name the parameter and its range) and input errors that must leave
 * the detector exactly as it was. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rcfd/hotspots.h"
#include "rcfd/status.h"

static void expect_rejected(const hs_params_t *p, int code, const char *needle)
{
    char err[256] = "";
    hs_detector_t *d = (hs_detector_t *)p; /* must be reset to NULL */
    assert_int_equal(hs_new(p, &d, err, sizeof err), code);
    assert_null(d);
    if (strstr(err, needle) == NULL) {
        fail_msg("message \"%s\" does not mention \"%s\"", err, needle);
    }
    assert_int_equal(hs_params_model_bytes(p), 0);
}

static void test_defaults_are_kda_example(void **state)
{
    (void)state;
    hs_params_t p = hs_params_default(2);
    assert_int_equal(p.window_size, 1000);
    assert_true(p.scan_radius == 0.2);
    assert_int_equal(p.min_points, 17);
    assert_true(p.scale[0] == 1.0 && p.scale[HS_MAX_DIM - 1] == 1.0);
    assert_int_equal(hs_params_validate(&p, NULL, 0), 0);
    assert_true(hs_params_model_bytes(&p) > 1000 * 2 * sizeof(double));
    hs_detector_t *d;
    assert_int_equal(hs_new(&p, &d, NULL, 0), 0);
    hs_stats_t st;
    hs_stats(d, &st);
    assert_int_equal(st.bytes, hs_params_model_bytes(&p));
    assert_int_equal(hs_params(d)->min_points, 17);
    hs_destroy(d);
    hs_destroy(NULL);
}

static void test_ranges(void **state)
{
    (void)state;
    hs_params_t p = hs_params_default(2);
    p.window_size = 9;
    p.min_points = 5;
    expect_rejected(&p, RCFD_ERANGE, "windowSize must be in 10..100000, got 9");
    p.window_size = 100001;
    expect_rejected(&p, RCFD_ERANGE, "windowSize");
    p = hs_params_default(2);
    p.scan_radius = 0.0;
    expect_rejected(&p, RCFD_ERANGE, "scanRadius must be in 1e-150..1e+150, got 0");
    p.scan_radius = 5e-324; /* its square underflows: found by the fuzzer */
    expect_rejected(&p, RCFD_ERANGE, "scanRadius");
    p.scan_radius = NAN;
    expect_rejected(&p, RCFD_ERANGE, "scanRadius");
    p.scan_radius = 1e151;
    expect_rejected(&p, RCFD_ERANGE, "scanRadius");
    p = hs_params_default(2);
    p.min_points = 1;
    expect_rejected(&p, RCFD_ERANGE, "minimumNumberOfPointsInAHotspot must be in 2..windowSize (1000)");
    p.min_points = 1001;
    expect_rejected(&p, RCFD_ERANGE, "got 1001");
    p = hs_params_default(0);
    expect_rejected(&p, RCFD_ERANGE, "dimension (numeric columns) must be in 1..64, got 0");
    p = hs_params_default(65);
    expect_rejected(&p, RCFD_ERANGE, "got 65");
    p = hs_params_default(3);
    p.scale[2] = -1.0;
    expect_rejected(&p, RCFD_ERANGE, "scale[2] must be finite and > 0");
    p.scale[2] = INFINITY;
    expect_rejected(&p, RCFD_ERANGE, "scale[2]");
    p = hs_params_default(3);
    p.algorithm = (hs_algorithm_t)7;
    expect_rejected(&p, RCFD_EINVAL, "algorithm");
    p = hs_params_default(3);
    p.only_containing_new = 2;
    expect_rejected(&p, RCFD_EINVAL, "only_containing_new");
    p = hs_params_default(3);
    p.emit_only_on_change = -1;
    expect_rejected(&p, RCFD_EINVAL, "emit_only_on_change");
    /* Extremes that are allowed. */
    p = hs_params_default(HS_MAX_DIM);
    p.window_size = HS_MIN_WINDOW;
    p.min_points = HS_MIN_WINDOW;
    assert_int_equal(hs_params_validate(&p, NULL, 0), 0);
    assert_int_equal(hs_params_validate(NULL, NULL, 0), RCFD_EINVAL);
}

static void test_bad_records_leave_state_unchanged(void **state)
{
    (void)state;
    hs_params_t p = hs_params_default(2);
    p.window_size = 10;
    p.scan_radius = 1.0;
    p.min_points = 2;
    p.scale[1] = 1e300;
    hs_detector_t *d;
    assert_int_equal(hs_new(&p, &d, NULL, 0), 0);
    hs_result_t r, before;
    double ok[2] = {1.0, 0.0};
    assert_int_equal(hs_process(d, ok, 2, &r), 0);
    assert_int_equal(hs_process(d, ok, 2, &before), 0);
    size_t len_before = hs_snapshot_size(d);
    static unsigned char snap_before[4096], snap_after[4096];
    size_t len;
    assert_int_equal(hs_save(d, snap_before, sizeof snap_before, &len), 0);
    double bad[][2] = {{NAN, 0.0}, {0.0, INFINITY}, {-INFINITY, 1.0}, {0.0, 1e10}};
    int codes[] = {RCFD_ENONFINITE, RCFD_ENONFINITE, RCFD_ENONFINITE, RCFD_ENONFINITE};
    for (size_t i = 0; i < 4; i++) {
        memset(&r, 0x5a, sizeof r);
        assert_int_equal(hs_process(d, bad[i], 2, &r), codes[i]);
        assert_int_equal(r.record, 0x5a5a5a5a5a5a5a5aull); /* untouched */
    }
    assert_int_equal(hs_process(d, ok, 1, &r), RCFD_EDIM);
    assert_int_equal(hs_process(d, ok, 3, &r), RCFD_EDIM);
    assert_int_equal(hs_process(d, NULL, 2, &r), RCFD_EINVAL);
    assert_int_equal(hs_process(NULL, ok, 2, &r), RCFD_EINVAL);
    assert_int_equal(hs_snapshot_size(d), len_before);
    assert_int_equal(hs_save(d, snap_after, sizeof snap_after, &len), 0);
    assert_memory_equal(snap_before, snap_after, len);
    hs_stats_t st;
    hs_stats(d, &st);
    assert_int_equal(st.records, 2);
    assert_int_equal(st.hotspots, 1);
    /* And the next good record continues as if nothing happened. */
    assert_int_equal(hs_process(d, ok, 2, &r), 0);
    assert_int_equal(r.record, 3);
    assert_int_equal(r.hotspots[0].count, 3);
    hs_destroy(d);
}

static void test_negative_zero_is_positive_zero(void **state)
{
    (void)state;
    hs_params_t p = hs_params_default(1);
    p.window_size = 10;
    p.scan_radius = 1.0;
    p.min_points = 2;
    hs_detector_t *d;
    assert_int_equal(hs_new(&p, &d, NULL, 0), 0);
    double nz = -0.0, z = 0.0;
    hs_result_t r;
    assert_int_equal(hs_process(d, &nz, 1, &r), 0);
    assert_int_equal(hs_process(d, &z, 1, &r), 0);
    assert_false(signbit(r.hotspots[0].min_values[0]));
    char json[128];
    size_t len;
    assert_int_equal(hs_result_json(d, &r, json, sizeof json, &len, HS_JSON_KDA), 0);
    assert_non_null(strstr(json, "\"minValues\":[0]"));
    hs_destroy(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_kda_example),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_bad_records_leave_state_unchanged),
        cmocka_unit_test(test_negative_zero_is_positive_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
