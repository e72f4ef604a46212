/* A pipeline's impute (models/impute.h) over the rcf model: zero, fixed and previous against
 * hand-computed values; rcf against an independent twin (a plain forest with the model's
 * parameters, fed the same completed records, asked through rcf_forest_point + rcf_forest_impute
 * itself) bit for bit, with its fallback to previous before the forest scores and its accuracy on
 * a field that depends on another; the consecutive limit; the state's snapshot round trip (a
 * loaded key goes on exactly as the saved one, the same bytes), old snapshots without the section,
 * and damaged sections. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/snapshot.h"
#include "models/impute.h"
#include "models/model.h"
#include "models/rcf.h"
#include "rcfd/rcf.h"
#include "rcfd/status.h"
#include "rcf_test_conf.h"

#define SEED 7u
#define SHINGLE 4

static char *names[] = {"x", "y"};
static const rcfd_strlist_t fields = {names, 2};

static void *small_conf(void)
{
    const char *kv[] = {"number_of_trees=30", "sub_sample_size=64", "recent_mean=0",
                        "shingle_size=4", "output_after=64", "normalize=none"};
    return rcf_test_conf(kv, 6);
}

static double xs(int i)
{
    return 10 + 5 * sin(2 * M_PI * i / 25.0) + 0.01 * ((i * 7919) % 11 - 5);
}

static double ys(int i)
{
    return 2 * xs(i) + 0.01 * ((i * 104729) % 7 - 3);
}

/* Imputes one record of m (y missing when miss_y) and processes it; returns the imputed y. */
static int step(void *m, const rcfd_impute_conf_t *c, double x, double y, int miss_y,
                double *values, rcfd_impute_outcome_t *io, char *reason, size_t rs)
{
    const rcfd_model_type_t *types[] = {&rcfd_model_rcf};
    void *models[] = {m};
    unsigned char missing[2] = {0, (unsigned char)miss_y};
    values[0] = x;
    values[1] = miss_y ? NAN : y;
    int rc = rcfd_impute_record(c, types, models, 1, &fields, values, missing, io, reason, rs);
    if (rc == 0) {
        const void *res;
        assert_int_equal(rcfd_model_rcf.process(m, values, 2, &res), 0);
    }
    return rc;
}

static void test_zero_fixed_previous(void **state)
{
    (void)state;
    void *conf = small_conf();
    const double fixed[2] = {-1.5, 42.25};
    for (int method = RCFD_IMPUTE_ZERO; method <= RCFD_IMPUTE_PREVIOUS; method++) {
        void *m;
        char err[256];
        assert_int_equal(rcfd_model_rcf.create(conf, 2, SEED, &m, err, sizeof err), 0);
        rcfd_impute_conf_t c = {.method = method, .fixed = fixed, .max_consecutive = 10};
        rcfd_impute_outcome_t io;
        double v[2];
        int rc = step(m, &c, 1.0, 0, 1, v, &io, err, sizeof err);
        if (method == RCFD_IMPUTE_PREVIOUS) { /* nothing earlier: a dead letter, no state */
            assert_int_equal(rc, RCFD_ENOENT);
            assert_non_null(strstr(err, "\"y\""));
            assert_int_equal((*rcfd_model_rcf.impute_state(m))->have_last, 0);
        } else {
            assert_int_equal(rc, 0);
            assert_true(v[1] == (method == RCFD_IMPUTE_ZERO ? 0.0 : 42.25));
        }
        /* by hand: previous carries the last accepted record's y, imputed ones included */
        const double ys_in[] = {3.0, NAN, NAN, 7.5, NAN};
        const double want_prev[] = {3.0, 3.0, 3.0, 7.5, 7.5};
        for (int i = 0; i < 5; i++) {
            int miss = isnan(ys_in[i]);
            assert_int_equal(step(m, &c, (double)i, ys_in[i], miss, v, &io, err, sizeof err), 0);
            assert_true(v[0] == (double)i); /* present fields are left alone */
            assert_int_equal(io.imputed, (size_t)miss);
            double want = !miss                          ? ys_in[i]
                          : method == RCFD_IMPUTE_ZERO  ? 0.0
                          : method == RCFD_IMPUTE_FIXED ? 42.25
                                                        : want_prev[i];
            assert_true(v[1] == want);
        }
        rcfd_impute_state_t *s = *rcfd_model_rcf.impute_state(m);
        assert_int_equal(s->consecutive, 1);
        assert_true(s->last[1] == (method == RCFD_IMPUTE_ZERO    ? 0.0
                                   : method == RCFD_IMPUTE_FIXED ? 42.25
                                                                 : 7.5));
        rcfd_model_rcf.destroy(m);
    }
    rcf_test_conf_free(conf);
}

static void test_consecutive_limit(void **state)
{
    (void)state;
    void *conf = small_conf();
    void *m;
    char err[256];
    assert_int_equal(rcfd_model_rcf.create(conf, 2, SEED, &m, err, sizeof err), 0);
    rcfd_impute_conf_t c = {.method = RCFD_IMPUTE_PREVIOUS, .max_consecutive = 3};
    rcfd_impute_outcome_t io;
    double v[2];
    assert_int_equal(step(m, &c, 1, 2, 0, v, &io, err, sizeof err), 0);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 3; i++) {
            assert_int_equal(step(m, &c, 1, 0, 1, v, &io, err, sizeof err), 0);
        }
        for (int i = 0; i < 2; i++) { /* the 4th and later: dead letters until a complete one */
            err[0] = '\0';
            assert_int_equal(step(m, &c, 1, 0, 1, v, &io, err, sizeof err), RCFD_ERANGE);
            assert_non_null(strstr(err, "missing field \"y\""));
            assert_non_null(strstr(err, "impute_max_consecutive"));
            assert_int_equal((*rcfd_model_rcf.impute_state(m))->consecutive, 3);
        }
        assert_int_equal(step(m, &c, 1, 5, 0, v, &io, err, sizeof err), 0);
        assert_int_equal((*rcfd_model_rcf.impute_state(m))->consecutive, 0);
    }
    rcfd_model_rcf.destroy(m);
    rcf_test_conf_free(conf);
}

/* y missing every 7th record from the start, and in runs of three later on. */
static int y_missing(int i)
{
    return i % 7 == 3 || (i > 1500 && i % 50 < 3);
}

static void test_rcf_matches_twin(void **state)
{
    (void)state;
    void *conf = small_conf();
    void *m;
    char err[256];
    assert_int_equal(rcfd_model_rcf.create(conf, 2, SEED, &m, err, sizeof err), 0);
    rcf_params_t p = *rcf_forest_params(rcfd_rcf_model_forest(m));
    assert_int_equal(p.shingle_size, SHINGLE);
    assert_int_equal(p.seed, SEED);
    rcf_forest_t *twin;
    assert_int_equal(rcf_forest_new(&p, &twin, err, sizeof err), 0);
    rcfd_impute_conf_t c = {.method = RCFD_IMPUTE_RCF, .max_consecutive = 10};
    double last_y = NAN, err_rcf = 0, err_prev = 0;
    int fallbacks = 0, estimated = 0, n_late = 0;
    for (int i = 0; i < 3000; i++) {
        int miss = y_missing(i) && i > 0;
        double v[2];
        rcfd_impute_outcome_t io;
        /* the twin's answer, computed before either learns the record */
        double want = NAN;
        if (miss) {
            double rec[2] = {xs(i), NAN}, point[2 * SHINGLE];
            uint32_t at = (SHINGLE - 1) * 2 + 1;
            int ready = (int64_t)i >= p.output_after;
            if (ready && rcf_forest_point(twin, rec, point) == 0 &&
                rcf_forest_impute(twin, point, &at, 1, 0.25, &want, NULL, NULL) == 0) {
                estimated++;
            } else {
                want = last_y; /* the documented fallback */
                fallbacks++;
            }
        }
        assert_int_equal(step(m, &c, xs(i), ys(i), miss, v, &io, err, sizeof err), 0);
        assert_int_equal(io.fallback, miss && (int64_t)i < p.output_after);
        if (miss) {
            assert_true(v[1] == want);
            if (i > 1500) {
                err_rcf += fabs(v[1] - ys(i));
                err_prev += fabs(last_y - ys(i));
                n_late++;
            }
        }
        rcf_result_t tr;
        assert_int_equal(rcf_forest_process(twin, v, 2, &tr), 0);
        last_y = v[1];
    }
    assert_true(fallbacks > 0 && estimated > 100);
    /* y = 2x: the forest reads y off x; the previous value lags the sine */
    err_rcf /= n_late;
    err_prev /= n_late;
    print_message("rcf mean error %.4f, previous %.4f over %d late imputations\n", err_rcf,
                  err_prev, n_late);
    assert_true(err_rcf < 0.5 * err_prev);
    rcf_forest_destroy(twin);
    rcfd_model_rcf.destroy(m);
    rcf_test_conf_free(conf);
}

/* The daemon's defaults: shingle_size "auto" holds the first 512 records (previous meanwhile),
 * then the estimate is made in the forest's scaled units (normalize "auto") with the recent means
 * known, and scaled back: near y = 2x, far better than previous. */
static void test_rcf_defaults(void **state)
{
    (void)state;
    const char *kv[] = {"number_of_trees=30", "seed=3"};
    void *conf = rcf_test_conf(kv, 2);
    void *m;
    char err[256];
    assert_int_equal(rcfd_model_rcf.create(conf, 2, SEED, &m, err, sizeof err), 0);
    rcfd_impute_conf_t c = {.method = RCFD_IMPUTE_RCF, .max_consecutive = 10};
    double e_rcf = 0, e_prev = 0, last_y = 0;
    int n = 0;
    for (int i = 0; i < 1500; i++) {
        int miss = i % 11 == 5;
        double v[2];
        rcfd_impute_outcome_t io;
        /* x wanders off its period, so the estimate must read y off the record's own x */
        double x = 100 + 40 * sin(2 * M_PI * i / 30.0) + 4 * ((i * 7919) % 101 / 101.0 - 0.5);
        double y = 2 * x + 0.2 * ((i * 104729) % 13 / 13.0 - 0.5);
        assert_int_equal(step(m, &c, x, y, miss, v, &io, err, sizeof err), 0);
        if (miss && i < 512) {
            assert_int_equal(io.fallback, 1);
            assert_true(v[1] == last_y);
        }
        if (miss && i >= 700) {
            assert_int_equal(io.fallback, 0);
            e_rcf += fabs(v[1] - y);
            e_prev += fabs(last_y - y);
            n++;
        }
        last_y = v[1];
    }
    print_message("defaults: rcf mean error %.3f, previous %.3f (%d)\n", e_rcf / n, e_prev / n, n);
    assert_true(e_rcf < 0.25 * e_prev);
    rcfd_model_rcf.destroy(m);
    rcf_test_conf_free(conf);
}

/* Shingle 1 and every field missing: nothing to condition on but the recent means, so the
 * previous value is taken (a fallback); one field present is enough to estimate. */
static void test_rcf_nothing_known(void **state)
{
    (void)state;
    const char *kv[] = {"number_of_trees=20", "sub_sample_size=32", "shingle_size=1",
                        "output_after=32"};
    void *conf = rcf_test_conf(kv, 4);
    void *m;
    char err[256];
    assert_int_equal(rcfd_model_rcf.create(conf, 2, SEED, &m, err, sizeof err), 0);
    const rcfd_model_type_t *types[] = {&rcfd_model_rcf};
    rcfd_impute_conf_t c = {.method = RCFD_IMPUTE_RCF, .max_consecutive = 10};
    rcfd_impute_outcome_t io;
    double v[2];
    for (int i = 0; i < 200; i++) {
        assert_int_equal(step(m, &c, xs(i), ys(i), 0, v, &io, err, sizeof err), 0);
    }
    unsigned char both[2] = {1, 1};
    v[0] = v[1] = NAN;
    assert_int_equal(
        rcfd_impute_record(&c, types, &m, 1, &fields, v, both, &io, err, sizeof err), 0);
    assert_int_equal(io.fallback, 1);
    assert_true(v[0] == xs(199) && v[1] == ys(199));
    assert_int_equal(step(m, &c, xs(200), 0, 1, v, &io, err, sizeof err), 0);
    assert_int_equal(io.fallback, 0);
    assert_true(fabs(v[1] - ys(200)) < 2.0);
    rcfd_model_rcf.destroy(m);
    rcf_test_conf_free(conf);
}

static void test_snapshot_round_trip(void **state)
{
    (void)state;
    void *conf = small_conf();
    void *a, *b;
    char err[256];
    assert_int_equal(rcfd_model_rcf.create(conf, 2, SEED, &a, err, sizeof err), 0);
    rcfd_impute_conf_t c = {.method = RCFD_IMPUTE_RCF, .max_consecutive = 2};
    rcfd_impute_outcome_t io;
    double va[2], vb[2];
    /* old layout first: a model that never imputed saves no impute section, and loads */
    for (int i = 0; i < 100; i++) {
        va[0] = xs(i);
        va[1] = ys(i);
        const void *res;
        assert_int_equal(rcfd_model_rcf.process(a, va, 2, &res), 0);
    }
    rcfd_buf_t snap = {0};
    assert_int_equal(rcfd_model_rcf.save(a, &snap), 0);
    assert_int_equal(rcfd_model_rcf.load(conf, 2, snap.p, snap.len, &b, err, sizeof err), 0);
    assert_null(*rcfd_model_rcf.impute_state(b));
    rcfd_model_rcf.destroy(b);
    /* mid-stream: in the middle of a run of imputations (consecutive 1 of max 2) */
    for (int i = 100; i < 795; i++) { /* 794 is missing */
        assert_int_equal(step(a, &c, xs(i), ys(i), y_missing(i), va, &io, err, sizeof err), 0);
    }
    assert_int_equal((*rcfd_model_rcf.impute_state(a))->consecutive, 1);
    rcfd_buf_reset(&snap);
    assert_int_equal(rcfd_model_rcf.save(a, &snap), 0);
    assert_int_equal(rcfd_model_rcf.load(conf, 2, snap.p, snap.len, &b, err, sizeof err), 0);
    rcfd_buf_t again = {0};
    assert_int_equal(rcfd_model_rcf.save(b, &again), 0);
    assert_int_equal(again.len, snap.len);
    assert_memory_equal(again.p, snap.p, snap.len);
    for (int i = 795; i < 1200; i++) {
        int miss = i % 5 == 0 || (i >= 800 && i <= 803); /* 802, 803: past the limit */
        int ra = step(a, &c, xs(i), ys(i), miss, va, &io, err, sizeof err);
        int rb = step(b, &c, xs(i), ys(i), miss, vb, &io, err, sizeof err);
        assert_int_equal(ra, rb);
        assert_int_equal(ra, i == 802 || i == 803 ? RCFD_ERANGE : 0);
        if (ra == 0) {
            assert_memory_equal(va, vb, sizeof va);
        }
    }
    rcfd_buf_reset(&snap);
    rcfd_buf_reset(&again);
    assert_int_equal(rcfd_model_rcf.save(a, &snap), 0);
    assert_int_equal(rcfd_model_rcf.save(b, &again), 0);
    assert_int_equal(again.len, snap.len);
    assert_memory_equal(again.p, snap.p, snap.len);
    /* damage: the section must be last, whole, and for this field count */
    size_t sec = rcfd_impute_section_size(*rcfd_model_rcf.impute_state(a));
    void *x;
    assert_int_equal(rcfd_model_rcf.load(conf, 2, snap.p, snap.len - 1, &x, err, sizeof err) < 0,
                     1);
    rcfd_buf_t twice = {0};
    assert_int_equal(rcfd_buf_append(&twice, snap.p, snap.len), 0);
    assert_int_equal(rcfd_buf_append(&twice, snap.p + snap.len - sec, sec), 0);
    assert_int_equal(rcfd_model_rcf.load(conf, 2, twice.p, twice.len, &x, err, sizeof err),
                     RCFD_EBADSTATE);
    assert_non_null(strstr(err, "impute state"));
    unsigned char *last = (unsigned char *)snap.p + snap.len - 8; /* the last value: NaN */
    double nan = NAN;
    memcpy(last, &nan, 8);
    rcfd_snap_seal((unsigned char *)snap.p + snap.len - sec, RCFD_SNAP_KIND_IMPUTE,
                   RCFD_IMPUTE_STATE_VERSION, sec - RCFD_SNAP_HEADER_SIZE);
    assert_int_equal(rcfd_model_rcf.load(conf, 2, snap.p, snap.len, &x, err, sizeof err),
                     RCFD_EBADSTATE);
    assert_non_null(strstr(err, "not a finite float"));
    rcfd_buf_free(&twice);
    rcfd_buf_free(&again);
    rcfd_buf_free(&snap);
    rcfd_model_rcf.destroy(a);
    rcfd_model_rcf.destroy(b);
    rcf_test_conf_free(conf);
}

/* A forecast-only pipeline: the forecast model holds the state, in its snapshot after the
 * calibration; a snapshot without it (older, or never imputed) loads; a loaded key goes on as the
 * saved one. */
static void test_forecast_holds_state(void **state)
{
    (void)state;
    cJSON *p = cJSON_CreateObject();
    char err[256];
    const char *kv[] = {"horizon=3", "shingle_size=8", "number_of_trees=20", "sub_sample_size=64"};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(rcfd_trainer_set_param(&rcfd_trainer_forecast, p, kv[i], 1, err,
                                                sizeof err),
                         0);
    }
    void *conf = calloc(1, rcfd_trainer_conf_size(&rcfd_trainer_forecast));
    assert_int_equal(rcfd_trainer_params(&rcfd_trainer_forecast, p, conf, err, sizeof err), 0);
    cJSON_Delete(p);
    void *a, *b;
    assert_int_equal(rcfd_model_forecast.create(conf, 1, SEED, &a, err, sizeof err), 0);
    const rcfd_model_type_t *types[] = {&rcfd_model_forecast};
    static char *one[] = {"v"};
    const rcfd_strlist_t f1 = {one, 1};
    rcfd_impute_conf_t c = {.method = RCFD_IMPUTE_PREVIOUS, .max_consecutive = 5};
    rcfd_buf_t s0 = {0}, s1 = {0}, s2 = {0};
    assert_int_equal(rcfd_model_forecast.save(a, &s0), 0); /* no impute section yet */
    assert_int_equal(rcfd_model_forecast.load(conf, 1, s0.p, s0.len, &b, err, sizeof err), 0);
    assert_null(*rcfd_model_forecast.impute_state(b));
    rcfd_model_forecast.destroy(b);
    double va, vb;
    for (int i = 0; i < 300; i++) {
        unsigned char miss = i % 6 == 5;
        rcfd_impute_outcome_t io;
        va = miss ? NAN : xs(i);
        assert_int_equal(rcfd_impute_record(&c, types, &a, 1, &f1, &va, &miss, &io, err,
                                            sizeof err),
                         0);
        assert_true(!miss || va == xs(i - 1));
        const void *res;
        assert_int_equal(rcfd_model_forecast.process(a, &va, 1, &res), 0);
    }
    assert_int_equal(rcfd_model_forecast.save(a, &s1), 0);
    size_t sec = rcfd_impute_section_size(*rcfd_model_forecast.impute_state(a));
    assert_true(s1.len > sec);
    assert_memory_equal(s1.p + s1.len - sec, "RCFDSNAP\x0a\0\0\0", 12); /* last: kind 10 */
    assert_int_equal(rcfd_model_forecast.load(conf, 1, s1.p, s1.len, &b, err, sizeof err), 0);
    assert_int_equal(rcfd_model_forecast.save(b, &s2), 0);
    assert_int_equal(s2.len, s1.len);
    assert_memory_equal(s2.p, s1.p, s1.len);
    for (int i = 300; i < 400; i++) {
        unsigned char miss = i % 4 == 1;
        rcfd_impute_outcome_t io;
        void *ma = a, *mb = b;
        va = vb = miss ? NAN : xs(i);
        assert_int_equal(rcfd_impute_record(&c, types, &ma, 1, &f1, &va, &miss, &io, err,
                                            sizeof err),
                         0);
        assert_int_equal(rcfd_impute_record(&c, types, &mb, 1, &f1, &vb, &miss, &io, err,
                                            sizeof err),
                         0);
        assert_true(va == vb);
        const void *ra, *rb;
        assert_int_equal(rcfd_model_forecast.process(a, &va, 1, &ra), 0);
        assert_int_equal(rcfd_model_forecast.process(b, &vb, 1, &rb), 0);
    }
    rcfd_buf_reset(&s1);
    rcfd_buf_reset(&s2);
    assert_int_equal(rcfd_model_forecast.save(a, &s1), 0);
    assert_int_equal(rcfd_model_forecast.save(b, &s2), 0);
    assert_int_equal(s2.len, s1.len);
    assert_memory_equal(s2.p, s1.p, s1.len);
    /* a trailing section of another kind is refused */
    assert_int_equal(rcfd_buf_append(&s1, s0.p + s0.len - 64, 64), 0);
    void *x = NULL;
    assert_true(rcfd_model_forecast.load(conf, 1, s1.p, s1.len, &x, err, sizeof err) < 0);
    assert_null(x);
    rcfd_buf_free(&s0);
    rcfd_buf_free(&s1);
    rcfd_buf_free(&s2);
    rcfd_model_forecast.destroy(a);
    rcfd_model_forecast.destroy(b);
    rcfd_conf_free(rcfd_trainer_conf(&rcfd_trainer_forecast), conf);
    free(conf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_fixed_previous),
        cmocka_unit_test(test_consecutive_limit),
        cmocka_unit_test(test_rcf_matches_twin),
        cmocka_unit_test(test_rcf_defaults),
        cmocka_unit_test(test_rcf_nothing_known),
        cmocka_unit_test(test_snapshot_round_trip),
        cmocka_unit_test(test_forecast_holds_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
