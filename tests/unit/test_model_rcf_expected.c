/* The rcf model's `expected: true`: a record above the alert threshold carries, per field, the
 * forest's estimate given the key's recent records, computed before the record joins the forest.
 * Checked against an independent twin: a plain forest with the same parameters and seed fed the
 * same records, asked through rcf_forest_point + rcf_forest_impute before each record; the
 * estimates are equal bit for bit, present exactly on the records whose grade is above 0, near the
 * true value at an injected spike, and absent without `expected`. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "models/model.h"
#include "models/rcf.h"
#include "rcfd/rcf.h"
#include "rcfd/status.h"
#include "rcf_test_conf.h"

#define SEED 5u
#define N 4000
#define SHINGLE 8

static void *conf_of(const char *expected)
{
    const char *kv[] = {"number_of_trees=30", "sub_sample_size=64", "recent_mean=0",
                        "shingle_size=8", expected};
    return rcf_test_conf(kv, 5);
}

static double truth(int i)
{
    return 10 * sin(2 * M_PI * i / 40.0);
}

static double reading(int i)
{
    return truth(i) + (i == 2500 || i == 3300 ? 30 : 0) + 0.01 * ((i * 7919) % 13 - 6);
}

static void test_matches_twin(void **state)
{
    (void)state;
    void *conf = conf_of("expected=true");
    void *m;
    char err[256];
    assert_int_equal(rcfd_model_rcf.create(conf, 1, SEED, &m, err, sizeof err), 0);
    rcf_params_t p = rcf_params_default(1);
    p.number_of_trees = 30;
    p.sub_sample_size = 64;
    p.shingle_size = SHINGLE;
    p.seed = SEED;
    rcf_forest_t *twin;
    assert_int_equal(rcf_forest_new(&p, &twin, err, sizeof err), 0);
    double point[SHINGLE];
    int flagged = 0, spikes_near = 0;
    for (int i = 0; i < N; i++) {
        double v = reading(i), unknown = NAN, want = NAN;
        uint32_t missing = SHINGLE - 1;
        int have = rcf_forest_point(twin, &unknown, point) == 0 &&
                   rcf_forest_impute(twin, point, &missing, 1, 0.25, &want, NULL, NULL) == 0;
        rcf_result_t tr;
        assert_int_equal(rcf_forest_process(twin, &v, 1, &tr), 0);
        const void *res;
        assert_int_equal(rcfd_model_rcf.process(m, &v, 1, &res), 0);
        const rcfd_rcf_result_t *r = res;
        assert_true(r->r.score == tr.score);
        if (r->alert.grade > 0) {
            assert_non_null(r->expected);
            assert_true(have);
            assert_true(r->expected[0] == want);
            flagged++;
            if (i == 2500 || i == 3300) {
                spikes_near += fabs(r->expected[0] - truth(i)) < 3.0;
            }
        } else {
            assert_null(r->expected);
        }
    }
    assert_true(flagged >= 2);
    assert_int_equal(spikes_near, 2); /* the spike's estimate is the sine, not the spike */
    rcf_forest_destroy(twin);
    rcfd_model_rcf.destroy(m);
    rcf_test_conf_free(conf);
}

static void test_off_by_default(void **state)
{
    (void)state;
    void *conf = conf_of("expected=false");
    void *m;
    char err[256];
    assert_int_equal(rcfd_model_rcf.create(conf, 1, SEED, &m, err, sizeof err), 0);
    int graded = 0;
    for (int i = 0; i < N; i++) {
        double v = reading(i);
        const void *res;
        assert_int_equal(rcfd_model_rcf.process(m, &v, 1, &res), 0);
        assert_null(((const rcfd_rcf_result_t *)res)->expected);
        graded += ((const rcfd_rcf_result_t *)res)->alert.grade > 0;
    }
    assert_true(graded >= 2);
    rcfd_model_rcf.destroy(m);
    rcf_test_conf_free(conf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_twin),
        cmocka_unit_test(test_off_by_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
