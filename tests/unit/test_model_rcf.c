/* The rcf model's recent_mean: with it the forest's point is the record's values followed by,
 * per field, the mean of the key's earlier values weighted by (1 - 1/R)^age (the first record's
 * own values stand in before there are any). Checked against an independent loop over
 * rcf_forest_process; a snapshot taken mid-stream loads back (with the same recent_mean only) and
 * continues with the same scores and novelty; rejected records leave the means
 * alone; recent_mean 0 is the plain forest (KDA). */
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

#include "train/trainer.h"
#include "model_snapshot.h"
#include "rcf_test_conf.h"
#include "rcfd/rcf.h"
#include "rcfd/status.h"
#include "models/model.h"
#include "models/rcf.h"

#define N 600
#define SEED 77u

static uint64_t rcf_forest_stats_records(const rcf_forest_t *f)
{
    rcf_stats_t st;
    rcf_forest_stats(f, &st);
    return st.records;
}

static double series(int i, int f)
{
    return f == 0 ? 50 + 10 * sin(i * 0.1) + (i == 450 ? 30 : 0) : 5 + (i % 7);
}

#define conf_of rcf_test_conf
#define conf_free rcf_test_conf_free

static const char *const small[] = {"number_of_trees=20", "sub_sample_size=64", "recent_mean=20",
                                    "shingle_size=1"};
/* recent_mean 0 (the default is not: src/models/rcf.c's schema) */
static const char *const plain_kv[] = {"number_of_trees=20", "sub_sample_size=64", "recent_mean=0",
                                       "shingle_size=1"};

static void test_matches_independent_loop(void **state)
{
    (void)state;
    void *conf = conf_of(small, 4);
    char err[256];
    void *m;
    assert_int_equal(rcfd_model_rcf.create(conf, 2, SEED, &m, err, sizeof err), 0);
    rcf_params_t p = rcf_params_default(4);
    p.number_of_trees = 20;
    p.sub_sample_size = 64;
    p.seed = SEED;
    rcf_forest_t *f;
    assert_int_equal(rcf_forest_new(&p, &f, err, sizeof err), 0);
    double mean[2] = {0, 0};
    int nonzero = 0;
    for (int i = 0; i < N; i++) {
        double v[2] = {series(i, 0), series(i, 1)};
        if (i == 0) {
            mean[0] = v[0];
            mean[1] = v[1];
        }
        double point[4] = {v[0], v[1], mean[0], mean[1]};
        rcf_result_t want;
        assert_int_equal(rcf_forest_process(f, point, 4, &want), 0);
        const void *res;
        assert_int_equal(rcfd_model_rcf.process(m, v, 2, &res), 0);
        assert_true(rcfd_model_rcf.score(res) == want.score);
        nonzero += want.score > 0;
        for (int k = 0; k < 2; k++) {
            mean[k] += (v[k] - mean[k]) / 20.0;
        }
    }
    assert_true(nonzero > N / 2);
    /* a record the forest rejects changes nothing, the means included */
    double bad[2] = {NAN, 1};
    const void *res;
    assert_true(rcfd_model_rcf.process(m, bad, 2, &res) < 0);
    double v[2] = {series(N, 0), series(N, 1)}, point[4] = {v[0], v[1], mean[0], mean[1]};
    rcf_result_t want;
    assert_int_equal(rcf_forest_process(f, point, 4, &want), 0);
    assert_int_equal(rcfd_model_rcf.process(m, v, 2, &res), 0);
    assert_true(rcfd_model_rcf.score(res) == want.score);
    rcf_forest_destroy(f);
    rcfd_model_rcf.destroy(m);
    conf_free(conf);
}

static void test_off_is_the_plain_forest(void **state)
{
    (void)state;
    void *conf = conf_of(plain_kv, 4);
    char err[256];
    void *m;
    assert_int_equal(rcfd_model_rcf.create(conf, 2, SEED, &m, err, sizeof err), 0);
    rcf_params_t p = rcf_params_default(2);
    p.number_of_trees = 20;
    p.sub_sample_size = 64;
    p.seed = SEED;
    rcf_forest_t *f;
    assert_int_equal(rcf_forest_new(&p, &f, err, sizeof err), 0);
    rcfd_novelty_t nv;
    model_novelty_init(&nv, f);
    rcfd_alert_t al;
    rcfd_alert_result_t ar;
    model_alert_init(&al, f);
    for (int i = 0; i < N; i++) {
        double v[2] = {series(i, 0), series(i, 1)};
        rcf_result_t want;
        const void *res;
        assert_int_equal(rcf_forest_process(f, v, 2, &want), 0);
        assert_int_equal(rcfd_model_rcf.process(m, v, 2, &res), 0);
        assert_true(rcfd_model_rcf.score(res) == want.score);
        rcfd_novelty_update(&nv, want.score);
        rcfd_alert_update(&al, want.ready, want.score, &ar);
    }
    /* and its snapshot is the forest's own, then the novelty's section */
    rcfd_buf_t b = {0};
    assert_int_equal(rcfd_model_rcf.save(m, &b), 0);
    size_t len = 0;
    unsigned char *fs = model_snapshot(f, &nv, &al, &len);
    assert_non_null(fs);
    assert_int_equal(b.len, len);
    assert_memory_equal(b.p, fs, len);
    free(fs);
    rcfd_buf_free(&b);
    rcf_forest_destroy(f);
    rcfd_model_rcf.destroy(m);
    conf_free(conf);
}

static void test_snapshot_continues(void **state)
{
    (void)state;
    void *conf = conf_of(small, 4);
    char err[256];
    void *a, *b;
    assert_int_equal(rcfd_model_rcf.create(conf, 2, SEED, &a, err, sizeof err), 0);
    for (int i = 0; i < N / 2; i++) {
        double v[2] = {series(i, 0), series(i, 1)};
        const void *res;
        assert_int_equal(rcfd_model_rcf.process(a, v, 2, &res), 0);
    }
    rcfd_buf_t s = {0}, s2 = {0};
    assert_int_equal(rcfd_model_rcf.save(a, &s), 0);
    assert_int_equal(rcfd_model_rcf.load(conf, 2, s.p, s.len, &b, err, sizeof err), 0);
    assert_int_equal(rcfd_model_rcf.save(b, &s2), 0);
    assert_int_equal(s2.len, s.len);
    assert_memory_equal(s2.p, s.p, s.len);
    for (int i = N / 2; i < N; i++) {
        double v[2] = {series(i, 0), series(i, 1)};
        const void *ra, *rb;
        assert_int_equal(rcfd_model_rcf.process(a, v, 2, &ra), 0);
        double sa = rcfd_model_rcf.score(ra);
        double na = ((const rcfd_rcf_result_t *)ra)->novelty;
        assert_int_equal(rcfd_model_rcf.process(b, v, 2, &rb), 0);
        assert_true(rcfd_model_rcf.score(rb) == sa);
        assert_true(((const rcfd_rcf_result_t *)rb)->novelty == na); /* the novelty goes on too */
    }
    rcfd_model_rcf.destroy(b);

    /* another recent_mean, none, or a plain forest snapshot: refused, naming recent_mean */
    void *other = conf_of(
        (const char *const[]){"number_of_trees=20", "sub_sample_size=64", "recent_mean=21", "shingle_size=1"}, 4);
    void *off = conf_of(plain_kv, 4);
    assert_int_equal(rcfd_model_rcf.load(other, 2, s.p, s.len, &b, err, sizeof err), RCFD_ECONFIG);
    assert_non_null(strstr(err, "recent_mean"));
    assert_int_equal(rcfd_model_rcf.load(off, 2, s.p, s.len, &b, err, sizeof err), RCFD_ECONFIG);
    assert_non_null(strstr(err, "recent_mean"));
    void *plain;
    assert_int_equal(rcfd_model_rcf.create(off, 2, SEED, &plain, err, sizeof err), 0);
    rcfd_buf_t ps = {0};
    assert_int_equal(rcfd_model_rcf.save(plain, &ps), 0);
    assert_int_equal(rcfd_model_rcf.load(conf, 2, ps.p, ps.len, &b, err, sizeof err), RCFD_ECONFIG);
    assert_non_null(strstr(err, "recent_mean"));
    /* a damaged or truncated section after the forest (here the novelty's, the last) */
    unsigned char *bad = malloc(s.len);
    memcpy(bad, s.p, s.len);
    bad[s.len - 3] ^= 0x40;
    assert_true(rcfd_model_rcf.load(conf, 2, bad, s.len, &b, err, sizeof err) < 0);
    assert_true(rcfd_model_rcf.load(conf, 2, s.p, s.len - 8, &b, err, sizeof err) < 0);
    free(bad);
    rcfd_buf_free(&ps);
    rcfd_model_rcf.destroy(plain);
    conf_free(other);
    conf_free(off);
    rcfd_buf_free(&s);
    rcfd_buf_free(&s2);
    rcfd_model_rcf.destroy(a);
    conf_free(conf);
}

/* With explain, a column's attribution holds its recent mean's share too: the columns sum to the
 * score, as KDA's ATTRIBUTION_SCOREs do, and the spiking column gets the most. */
static void test_explanation_sums_to_score(void **state)
{
    (void)state;
    void *conf = conf_of((const char *const[]){"number_of_trees=20", "sub_sample_size=64",
                                               "recent_mean=20", "explain=true", "shingle_size=1"},
                         5);
    char err[256];
    void *m;
    assert_int_equal(rcfd_model_rcf.create(conf, 2, SEED, &m, err, sizeof err), 0);
    int checked = 0;
    for (int i = 0; i < N; i++) {
        double v[2] = {series(i, 0), series(i, 1)};
        const void *res;
        assert_int_equal(rcfd_model_rcf.process(m, v, 2, &res), 0);
        const rcf_result_t *r = &((const rcfd_rcf_result_t *)res)->r;
        if (!r->ready) {
            continue;
        }
        assert_non_null(r->explanation);
        double sum = r->explanation[0].attribution + r->explanation[1].attribution;
        assert_true(fabs(sum - r->score) <= 1e-9 * (1.0 + r->score));
        if (i == 450) { /* the spike in field 0 */
            assert_true(r->explanation[0].attribution > r->explanation[1].attribution);
        }
        checked++;
    }
    assert_true(checked > N / 2);
    rcfd_model_rcf.destroy(m);
    conf_free(conf);
}

/* rcfd_rcf_model_score (what Python's Forest.score calls): the score process() then gives the
 * same record, and nothing learnt: the snapshot is byte for byte the one before, from the first
 * record (no means yet) on, with and without recent means. */
static void score_learns_nothing(const char *const *kv, size_t n_kv)
{
    void *conf = conf_of(kv, n_kv);
    char err[256];
    void *m;
    assert_int_equal(rcfd_model_rcf.create(conf, 2, SEED, &m, err, sizeof err), 0);
    rcfd_buf_t before = {0}, after = {0};
    int scored = 0;
    for (int i = 0; i < N; i++) {
        double v[2] = {series(i, 0), series(i, 1)}, s = -1;
        rcfd_buf_reset(&before);
        rcfd_buf_reset(&after);
        assert_int_equal(rcfd_model_rcf.save(m, &before), 0);
        assert_int_equal(rcfd_rcf_model_score(m, v, 2, &s), 0);
        assert_int_equal(rcfd_model_rcf.save(m, &after), 0);
        assert_int_equal(after.len, before.len);
        assert_memory_equal(after.p, before.p, before.len);
        const void *res;
        assert_int_equal(rcfd_model_rcf.process(m, v, 2, &res), 0);
        assert_true(rcfd_model_rcf.score(res) == s);
        scored += s > 0;
    }
    assert_true(scored > N / 2);
    double nan_row[2] = {NAN, 1}, s;
    assert_int_equal(rcfd_rcf_model_score(m, nan_row, 2, &s), RCFD_ENONFINITE);
    assert_int_equal(rcfd_rcf_model_score(m, nan_row, 1, &s), RCFD_EDIM);
    assert_int_equal(rcf_forest_stats_records(rcfd_rcf_model_forest(m)), N);
    rcfd_buf_free(&before);
    rcfd_buf_free(&after);
    rcfd_model_rcf.destroy(m);
    conf_free(conf);
}

static void test_score_learns_nothing(void **state)
{
    (void)state;
    score_learns_nothing(small, 4);
    score_learns_nothing(plain_kv, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_independent_loop),
        cmocka_unit_test(test_off_is_the_plain_forest),
        cmocka_unit_test(test_snapshot_continues),
        cmocka_unit_test(test_explanation_sums_to_score),
        cmocka_unit_test(test_score_learns_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
