/* The forecast model type: forecasts of a noisy sine beat the last value held, the calibrated
 * intervals hold about `coverage` of the values they forecast (counted here from the model's own
 * output, independently of its tracker), a snapshot taken mid-stream continues bit for bit and is
 * refused under another horizon, and the JSON it writes parses with the documented shape. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "common/buf.h"
#include "models/model.h"
#include "rcfd/status.h"
#include "streams.h"
#include "train/trainer.h"

#define N 4000
#define HORIZON 6

static void *conf_of(const char *const *kv, size_t n)
{
    cJSON *p = cJSON_CreateObject();
    char err[256];
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(
            rcfd_trainer_set_param(&rcfd_trainer_forecast, p, kv[i], 2, err, sizeof err), 0);
    }
    void *conf = calloc(1, rcfd_trainer_conf_size(&rcfd_trainer_forecast));
    assert_int_equal(rcfd_trainer_params(&rcfd_trainer_forecast, p, conf, err, sizeof err), 0);
    cJSON_Delete(p);
    return conf;
}

static void conf_free(void *conf)
{
    rcfd_conf_free(rcfd_trainer_conf(&rcfd_trainer_forecast), conf);
    free(conf);
}

/* The output of one result as a parsed object (the encoder writes members after a comma). */
static cJSON *encoded(const void *res)
{
    rcfd_buf_t b = {0};
    rcfd_strlist_t cols = {0};
    char *names[] = {"v"};
    cols.v = names;
    cols.n = 1;
    assert_int_equal(rcfd_buf_puts(&b, "{\"x\":0"), 0);
    assert_int_equal(rcfd_model_forecast.encode(res, &cols, RCFD_STYLE_RCFD, &b), 0);
    assert_int_equal(rcfd_buf_puts(&b, "}"), 0);
    cJSON *o = cJSON_ParseWithLength(b.p, b.len);
    assert_non_null(o);
    rcfd_buf_free(&b);
    return o;
}

static void test_forecasts_and_coverage(void **state)
{
    (void)state;
    static double v[N + HORIZON];
    stream_sine(v, N + HORIZON, 40.0, 10.0, 0.5, NULL, 0, 0.0, 3);
    const char *kv[] = {"horizon=6", "shingle_size=40", "coverage=0.8"};
    void *conf = conf_of(kv, 3);
    void *m;
    char err[256];
    assert_int_equal(rcfd_model_forecast.create(conf, 1, 42, &m, err, sizeof err), 0);
    static double fc[N][HORIZON], lo[N][HORIZON], hi[N][HORIZON];
    static int ok[N];
    for (int i = 0; i < N; i++) {
        const void *res;
        assert_int_equal(rcfd_model_forecast.process(m, &v[i], 1, &res), 0);
        cJSON *o = encoded(res);
        cJSON *f = cJSON_GetObjectItem(o, "forecast");
        ok[i] = f != NULL && cJSON_IsTrue(cJSON_GetObjectItem(f, "calibrated"));
        if (f != NULL) {
            assert_int_equal(cJSON_GetObjectItem(f, "horizon")->valueint, HORIZON);
            cJSON *fv = cJSON_GetObjectItem(cJSON_GetObjectItem(f, "fields"), "v");
            for (int h = 0; h < HORIZON; h++) {
                fc[i][h] = cJSON_GetArrayItem(cJSON_GetObjectItem(fv, "value"), h)->valuedouble;
                lo[i][h] = cJSON_GetArrayItem(cJSON_GetObjectItem(fv, "lower"), h)->valuedouble;
                hi[i][h] = cJSON_GetArrayItem(cJSON_GetObjectItem(fv, "upper"), h)->valuedouble;
                assert_true(lo[i][h] <= fc[i][h] && fc[i][h] <= hi[i][h]);
            }
        } else {
            assert_true(i < 300); /* only while warming up */
        }
        cJSON_Delete(o);
    }
    /* Over the second half: coverage per step near 0.8, errors well below the last value held. */
    for (int h = 0; h < HORIZON; h++) {
        int n = 0, in = 0;
        double err_fc = 0.0, err_naive = 0.0;
        for (int i = N / 2; i + h + 1 < N; i++) {
            if (!ok[i]) {
                continue;
            }
            double y = v[i + h + 1];
            n++;
            in += lo[i][h] <= y && y <= hi[i][h];
            err_fc += fabs(fc[i][h] - y);
            err_naive += fabs(v[i] - y);
        }
        double cov = (double)in / n;
        print_message("step %d: coverage %.3f, error %.3f, last value %.3f\n", h + 1, cov,
                      err_fc / n, err_naive / n);
        assert_true(n > 1000);
        assert_true(fabs(cov - 0.8) < 0.05);
        assert_true(err_fc < 0.6 * err_naive || h == 0);
    }
    rcfd_model_forecast.destroy(m);
    conf_free(conf);
}

static void test_snapshot_continues(void **state)
{
    (void)state;
    static double v[1600];
    stream_sine(v, 1600, 25.0, 3.0, 0.3, NULL, 0, 0.0, 8);
    const char *kv[] = {"horizon=4", "shingle_size=10", "number_of_trees=20", "calibrate_after=20"};
    void *conf = conf_of(kv, 4);
    void *a, *b;
    char err[256];
    assert_int_equal(rcfd_model_forecast.create(conf, 1, 7, &a, err, sizeof err), 0);
    const void *ra, *rb;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(rcfd_model_forecast.process(a, &v[i], 1, &ra), 0);
    }
    rcfd_buf_t s = {0}, s2 = {0};
    assert_int_equal(rcfd_model_forecast.save(a, &s), 0);
    assert_int_equal(rcfd_model_forecast.load(conf, 1, s.p, s.len, &b, err, sizeof err), 0);
    assert_int_equal(rcfd_model_forecast.save(b, &s2), 0);
    assert_int_equal(s.len, s2.len);
    assert_memory_equal(s.p, s2.p, s.len);
    for (int i = 1000; i < 1600; i++) {
        assert_int_equal(rcfd_model_forecast.process(a, &v[i], 1, &ra), 0);
        assert_int_equal(rcfd_model_forecast.process(b, &v[i], 1, &rb), 0);
        cJSON *oa = encoded(ra), *ob = encoded(rb);
        char *ta = cJSON_PrintUnformatted(oa), *tb = cJSON_PrintUnformatted(ob);
        assert_string_equal(ta, tb);
        free(ta);
        free(tb);
        cJSON_Delete(oa);
        cJSON_Delete(ob);
    }
    /* another horizon, another shingle: refused naming the parameter */
    const char *kv2[] = {"horizon=5", "shingle_size=10", "number_of_trees=20"};
    void *other = conf_of(kv2, 3);
    void *c = NULL;
    assert_int_equal(rcfd_model_forecast.load(other, 1, s.p, s.len, &c, err, sizeof err),
                     RCFD_ECONFIG);
    assert_non_null(strstr(err, "horizon"));
    const char *kv3[] = {"horizon=4", "shingle_size=12", "number_of_trees=20"};
    void *other2 = conf_of(kv3, 3);
    assert_int_equal(rcfd_model_forecast.load(other2, 1, s.p, s.len, &c, err, sizeof err),
                     RCFD_ECONFIG);
    assert_non_null(strstr(err, "shingle_size"));
    /* truncated and corrupted snapshots are refused, never read past */
    for (size_t cut = 0; cut < s.len; cut += s.len / 37 + 1) {
        assert_true(rcfd_model_forecast.load(conf, 1, s.p, cut, &c, err, sizeof err) < 0);
    }
    s.p[s.len - 9] ^= 0x40;
    assert_true(rcfd_model_forecast.load(conf, 1, s.p, s.len, &c, err, sizeof err) < 0);
    rcfd_buf_free(&s);
    rcfd_buf_free(&s2);
    rcfd_model_forecast.destroy(a);
    rcfd_model_forecast.destroy(b);
    conf_free(conf);
    conf_free(other);
    conf_free(other2);
}

static void test_parameters(void **state)
{
    (void)state;
    char err[256];
    cJSON *p = cJSON_CreateObject();
    assert_int_equal(
        rcfd_trainer_set_param(&rcfd_trainer_forecast, p, "shingle_size=1", 2, err, sizeof err), 0);
    void *conf = calloc(1, rcfd_trainer_conf_size(&rcfd_trainer_forecast));
    /* a shingle of one record has no past to extrapolate */
    assert_int_equal(rcfd_trainer_params(&rcfd_trainer_forecast, p, conf, err, sizeof err),
                     RCFD_ECONFIG);
    assert_non_null(strstr(err, "shingle_size"));
    cJSON_Delete(p);
    free(conf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forecasts_and_coverage),
        cmocka_unit_test(test_snapshot_continues),
        cmocka_unit_test(test_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
