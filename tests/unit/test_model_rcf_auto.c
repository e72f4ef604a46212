/* The rcf model's shingle_size "auto": a key holds its first 512 records (answered as warming up),
 * then the dominant period of its fields sets the shingle (1 without a period) and the held
 * records train the forest. Checked against a model given that shingle size explicitly (the same
 * forest bit for bit from record 513 on), on series whose period the test knows; held records
 * survive a snapshot; bad records are refused as the forest refuses them and are not held. A
 * period longer than 32 gets a dilated shingle (at most 32 elements, each older one the mean of
 * `stride` records, one period in all): checked against an explicit shingle-1 forest fed the
 * points the test composes, through a snapshot, with explanations and imputation. */
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
#include "rcfd/status.h"
#include "rcf_test_conf.h"

#define HELD 512 /* src/models/rcf.c's AUTO_RECORDS */
#define SEED 91u

/* A config: the small forest, then up to three NAME=VALUE (NULL: none). */
static void *conf_with(const char *a, const char *b, const char *c)
{
    const char *kv[] = {"number_of_trees=20", "sub_sample_size=64", "recent_mean=10", a, b, c};
    size_t n = 3;
    while (n < 6 && kv[n] != NULL) {
        n++;
    }
    return rcf_test_conf(kv, n);
}

static void *conf_of(const char *shingle)
{
    return conf_with(shingle, NULL, NULL);
}

#define conf_free rcf_test_conf_free

/* Deterministic noise in [-0.5, 0.5). */
static double noise(uint64_t i)
{
    uint64_t z = (i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0 - 0.5;
}

/* Field f of record i: a sine of period `period` (0: noise alone) plus a little noise. */
static double wave(int i, int f, int period)
{
    double n = 0.1 * noise((uint64_t)i * 2 + (uint64_t)f);
    return period > 0 ? 10 * sin(2 * M_PI * i / period) + n : n * 10;
}

static const rcfd_rcf_result_t *step(void *m, double a, double b)
{
    double v[2] = {a, b};
    const void *res;
    assert_int_equal(rcfd_model_rcf.process(m, v, 2, &res), 0);
    return res;
}

/* The shingle size "auto" chooses for fields of periods pa and pb (0: noise), and its stride. */
static uint32_t chosen_stride(int pa, int pb, uint32_t *stride)
{
    void *conf = conf_of("shingle_size=auto");
    void *m;
    char err[256];
    assert_int_equal(rcfd_model_rcf.create(conf, 2, SEED, &m, err, sizeof err), 0);
    const rcfd_rcf_result_t *r = NULL;
    for (int i = 0; i < HELD; i++) {
        r = step(m, wave(i, 0, pa), wave(i, 1, pb));
        assert_int_equal(r->auto_shingle, 1);
        assert_int_equal(r->shingle_size, i + 1 < HELD ? 0 : r->shingle_size);
        assert_int_equal(r->r.ready, 0);
        assert_true(r->alert.warming_up);
    }
    uint32_t s = r->shingle_size;
    *stride = r->shingle_stride;
    assert_non_null(rcfd_rcf_model_forest(m));
    rcfd_model_rcf.destroy(m);
    conf_free(conf);
    return s;
}

static uint32_t chosen(int pa, int pb)
{
    uint32_t stride;
    uint32_t s = chosen_stride(pa, pb, &stride);
    assert_int_equal(stride, 1);
    return s;
}

static void test_choices(void **state)
{
    (void)state;
    assert_int_equal(chosen(24, 0), 24);
    assert_int_equal(chosen(12, 12), 12);
    assert_int_equal(chosen(0, 0), 1);     /* noise: no period */
    assert_int_equal(chosen(32, 0), 32);   /* at the cap: still the plain shingle */
    assert_int_equal(chosen(10, 30), 30);  /* fields differ: the longest */
    /* longer than the cap: stride ceil(p / 32), ceil(p / stride) elements (one period) */
    uint32_t stride;
    assert_int_equal(chosen_stride(150, 0, &stride), 30);
    assert_int_equal(stride, 5);
    assert_int_equal(chosen_stride(0, 100, &stride), 25);
    assert_int_equal(stride, 4);
    assert_int_equal(chosen_stride(12, 40, &stride), 20);
    assert_int_equal(stride, 2);
}

/* A dilated shingle (period 150: 30 elements, 5 records apart) is the explicit shingle-1 forest
 * (recent_mean 0, normalize none: KDA's) of 30 fields fed the points the test composes (the
 * record, after the means of the 29 runs of 5 records before it, oldest first), from record 513
 * on, bit for bit; a snapshot taken at record 900 goes on the same; a config with a fixed shingle
 * refuses it, and damage is refused. */
#define DP 150
#define DS 5u
#define DK 30u
static double dwave(int i)
{
    return wave(i, 0, DP) + (i == 1300 ? 25.0 : 0.0);
}

static const rcfd_rcf_result_t *step1(void *m, double x)
{
    const void *res;
    assert_int_equal(rcfd_model_rcf.process(m, &x, 1, &res), 0);
    return res;
}

static void test_dilated_matches_explicit(void **state)
{
    (void)state;
    void *ca = conf_with("shingle_size=auto", "normalize=none", "recent_mean=0");
    void *ce = conf_with("shingle_size=1", "normalize=none", "recent_mean=0");
    void *c24 = conf_with("shingle_size=24", "normalize=none", "recent_mean=0");
    void *a, *e, *b = NULL, *x = NULL;
    char err[256];
    assert_int_equal(rcfd_model_rcf.create(ca, 1, SEED, &a, err, sizeof err), 0);
    assert_int_equal(rcfd_model_rcf.create(ce, DK, SEED, &e, err, sizeof err), 0);
    rcfd_buf_t snap = {0};
    double pt[DK];
    int scored = 0;
    for (int i = 0; i < 2000; i++) {
        const rcfd_rcf_result_t *ra = step1(a, dwave(i));
        double sa = ra->r.score;
        assert_int_equal(ra->r.ready, i >= HELD ? sa > 0 : 0);
        if (i >= HELD - 1) {
            assert_int_equal(ra->shingle_size, DK);
            assert_int_equal(ra->shingle_stride, DS);
            assert_int_equal(rcfd_rcf_model_records(a), (uint64_t)i + 1);
        }
        if (b != NULL) {
            assert_true(step1(b, dwave(i))->r.score == sa);
        }
        if ((uint32_t)i >= (DK - 1) * DS) { /* the explicit forest's point */
            for (uint32_t j = 0; j + 1 < DK; j++) {
                uint32_t last = (DK - 1 - j) * DS;
                pt[j] = 0;
                for (uint32_t age = last - DS + 1; age <= last; age++) {
                    pt[j] += dwave(i - (int)age);
                }
                pt[j] /= DS;
            }
            pt[DK - 1] = dwave(i);
            const void *res;
            assert_int_equal(rcfd_model_rcf.process(e, pt, DK, &res), 0);
            if (i >= HELD) {
                assert_true(sa == ((const rcfd_rcf_result_t *)res)->r.score);
                scored += sa > 0;
            }
        }
        if (i == 900) {
            assert_int_equal(rcfd_model_rcf.save(a, &snap), 0);
            assert_int_equal(rcfd_model_rcf.load(ca, 1, snap.p, snap.len, &b, err, sizeof err),
                             0);
        }
    }
    assert_true(scored > 1400);
    assert_int_equal(rcfd_model_rcf.load(c24, 1, snap.p, snap.len, &x, err, sizeof err),
                     RCFD_ECONFIG);
    assert_non_null(strstr(err, "dilated"));
    assert_int_equal(rcfd_model_rcf.load(ce, 1, snap.p, snap.len, &x, err, sizeof err),
                     RCFD_ECONFIG);
    unsigned char *bad = malloc(snap.len);
    memcpy(bad, snap.p, snap.len);
    bad[snap.len / 2] ^= 0x10;
    assert_true(rcfd_model_rcf.load(ca, 1, bad, snap.len, &x, err, sizeof err) < 0);
    assert_null(x);
    assert_true(rcfd_model_rcf.load(ca, 1, snap.p, snap.len - 8, &x, err, sizeof err) < 0);
    assert_null(x);
    free(bad);
    rcfd_buf_free(&snap);
    rcfd_model_rcf.destroy(a);
    rcfd_model_rcf.destroy(b);
    rcfd_model_rcf.destroy(e);
    conf_free(ca);
    conf_free(ce);
    conf_free(c24);
}

/* With recent means, explain and a dilated shingle: the columns' attributions still sum to the
 * score; a snapshot goes on bit for bit; imputation answers near the wave. */
static void test_dilated_explain_impute(void **state)
{
    (void)state;
    void *ca = conf_with("shingle_size=auto", "explain=true", NULL);
    void *a, *b = NULL;
    char err[256];
    assert_int_equal(rcfd_model_rcf.create(ca, 2, SEED, &a, err, sizeof err), 0);
    rcfd_buf_t snap = {0};
    int near = 0;
    for (int i = 0; i < 1600; i++) {
        double x = dwave(i), y = wave(i, 1, 0);
        const rcfd_rcf_result_t *r = step(a, x, y);
        double score = r->r.score;
        if (i >= HELD) {
            assert_int_equal(r->shingle_stride, DS);
            assert_non_null(r->r.explanation);
            double sum = r->r.explanation[0].attribution + r->r.explanation[1].attribution;
            assert_true(fabs(sum - score) <= 1e-9 * (1 + score));
        }
        if (b != NULL) {
            assert_true(step(b, x, y)->r.score == score);
        }
        if (i == 700) {
            assert_int_equal(rcfd_model_rcf.save(a, &snap), 0);
            assert_int_equal(rcfd_model_rcf.load(ca, 2, snap.p, snap.len, &b, err, sizeof err),
                             0);
        }
        if (i > 1000 && i % 10 == 0) {
            double v[2] = {0, wave(i + 1, 1, 0)};
            unsigned char missing[2] = {1, 0};
            assert_int_equal(rcfd_model_rcf.impute(a, v, missing, 2), 0);
            near += fabs(v[0] - wave(i + 1, 0, DP)) < 3.0;
        }
    }
    assert_true(near > 50); /* of 60 */
    rcfd_buf_free(&snap);
    rcfd_model_rcf.destroy(a);
    rcfd_model_rcf.destroy(b);
    conf_free(ca);
}

/* From the 513th record on, "auto" is the explicit model of the size it chose: same scores, bit
 * for bit (same seed, same records in the same order). */
static void test_matches_explicit(void **state)
{
    (void)state;
    /* normalize none: "auto" scales the fields by default (test_scales) */
    void *ca = conf_with("shingle_size=auto", "normalize=none", NULL);
    void *ce = conf_of("shingle_size=24");
    void *a, *e;
    char err[256];
    assert_int_equal(rcfd_model_rcf.create(ca, 2, SEED, &a, err, sizeof err), 0);
    assert_int_equal(rcfd_model_rcf.create(ce, 2, SEED, &e, err, sizeof err), 0);
    int scored = 0;
    for (int i = 0; i < 1500; i++) {
        double x = wave(i, 0, 24) + (i == 1200 ? 25 : 0), y = wave(i, 1, 0);
        const rcfd_rcf_result_t *ra = step(a, x, y);
        double sa = ra->r.score;
        uint32_t size = ra->shingle_size;
        const rcfd_rcf_result_t *re = step(e, x, y);
        assert_int_equal(re->auto_shingle, 0);
        if (i >= HELD) {
            assert_int_equal(size, 24);
            assert_true(sa == re->r.score);
            scored += sa > 0;
        } else {
            assert_true(sa == 0);
        }
    }
    assert_true(scored > 900);
    rcfd_model_rcf.destroy(a);
    rcfd_model_rcf.destroy(e);
    conf_free(ca);
    conf_free(ce);
}

/* A snapshot taken while records are held loads back and goes on as if uninterrupted; it is
 * refused by a config with a fixed shingle size, and when damaged. After the choice, the forest's
 * snapshot loads under "auto" and under the size chosen. */
static void test_snapshot_while_held(void **state)
{
    (void)state;
    void *ca = conf_of("shingle_size=auto"), *c5 = conf_of("shingle_size=5");
    void *a, *b;
    char err[256];
    assert_int_equal(rcfd_model_rcf.create(ca, 2, SEED, &a, err, sizeof err), 0);
    for (int i = 0; i < 300; i++) {
        step(a, wave(i, 0, 24), wave(i, 1, 0));
    }
    rcfd_buf_t s = {0};
    assert_int_equal(rcfd_model_rcf.save(a, &s), 0);
    assert_int_equal(rcfd_model_rcf.load(ca, 2, s.p, s.len, &b, err, sizeof err), 0);
    assert_null(rcfd_rcf_model_forest(b));
    for (int i = 300; i < 900; i++) {
        double sa = step(a, wave(i, 0, 24), wave(i, 1, 0))->r.score;
        const rcfd_rcf_result_t *rb = step(b, wave(i, 0, 24), wave(i, 1, 0));
        assert_true(rb->r.score == sa);
        assert_int_equal(rb->shingle_size, i >= HELD - 1 ? 24 : 0);
    }
    void *x = NULL;
    assert_int_equal(rcfd_model_rcf.load(c5, 2, s.p, s.len, &x, err, sizeof err), RCFD_ECONFIG);
    assert_non_null(strstr(err, "automatic shingle size"));
    unsigned char *bad = malloc(s.len);
    memcpy(bad, s.p, s.len);
    bad[40] ^= 0x10; /* inside the held records */
    assert_true(rcfd_model_rcf.load(ca, 2, bad, s.len, &x, err, sizeof err) < 0);
    assert_null(x);
    free(bad);
    /* once chosen: a forest snapshot, loadable under "auto" and under shingle_size 24 */
    rcfd_buf_t f = {0};
    assert_int_equal(rcfd_model_rcf.save(b, &f), 0);
    void *c24 = conf_of("shingle_size=24");
    assert_int_equal(rcfd_model_rcf.load(ca, 2, f.p, f.len, &x, err, sizeof err), 0);
    rcfd_model_rcf.destroy(x);
    assert_int_equal(rcfd_model_rcf.load(c24, 2, f.p, f.len, &x, err, sizeof err), 0);
    rcfd_model_rcf.destroy(x);
    assert_int_equal(rcfd_model_rcf.load(c5, 2, f.p, f.len, &x, err, sizeof err), RCFD_ECONFIG);
    assert_non_null(strstr(err, "shingle_size"));
    rcfd_buf_free(&f);
    rcfd_buf_free(&s);
    rcfd_model_rcf.destroy(a);
    rcfd_model_rcf.destroy(b);
    conf_free(ca);
    conf_free(c5);
    conf_free(c24);
}

/* While held, a record the forest would refuse is refused the same way and not held: the model
 * then chooses and scores as one never shown it. */
static void test_refused_not_held(void **state)
{
    (void)state;
    void *ca = conf_of("shingle_size=auto");
    void *a, *b;
    char err[256];
    assert_int_equal(rcfd_model_rcf.create(ca, 2, SEED, &a, err, sizeof err), 0);
    assert_int_equal(rcfd_model_rcf.create(ca, 2, SEED, &b, err, sizeof err), 0);
    for (int i = 0; i < 800; i++) {
        if (i == 100) {
            double nan_row[2] = {NAN, 1}, big[2] = {1e39, 1};
            const void *res;
            assert_int_equal(rcfd_model_rcf.process(a, nan_row, 2, &res), RCFD_ENONFINITE);
            assert_int_equal(rcfd_model_rcf.process(a, big, 2, &res), RCFD_ENONFINITE);
            assert_int_equal(rcfd_model_rcf.process(a, big, 1, &res), RCFD_EDIM);
            double s;
            assert_int_equal(rcfd_rcf_model_score(a, nan_row, 1, &s), RCFD_EDIM);
            assert_int_equal(rcfd_rcf_model_score(a, nan_row, 2, &s), RCFD_ENONFINITE);
        }
        double sa = step(a, wave(i, 0, 12), wave(i, 1, 0))->r.score;
        assert_true(step(b, wave(i, 0, 12), wave(i, 1, 0))->r.score == sa);
    }
    rcfd_model_rcf.destroy(a);
    rcfd_model_rcf.destroy(b);
    conf_free(ca);
}

/* normalize "auto": the fields are centred and scaled by the mean and standard deviation of the
 * 512 held records, frozen: the model is the explicit forest (normalize none) fed the values the
 * test scales itself, bit for bit; a small-scaled field's anomaly then scores well above what the
 * unscaled forest gives it beside a large-scaled field; the scales survive a snapshot, which a
 * config with normalize none refuses. */
static double big(int i)
{
    return 1000 * sin(2 * M_PI * i / 16.0) + 50 * noise((uint64_t)i);
}

static double small_field(int i)
{
    return 0.5 * sin(2 * M_PI * i / 16.0 + 1) + 0.02 * noise((uint64_t)i + 7777) +
           (i == 1200 ? 2.0 : 0.0);
}

static void test_scales(void **state)
{
    (void)state;
    void *ca = conf_with("shingle_size=auto", "recent_mean=0", NULL);
    void *ce = conf_with("shingle_size=16", "recent_mean=0", "normalize=none");
    void *cn = conf_with("shingle_size=auto", "recent_mean=0", "normalize=none");
    void *a, *e, *n;
    char err[256];
    assert_int_equal(rcfd_model_rcf.create(ca, 2, SEED, &a, err, sizeof err), 0);
    assert_int_equal(rcfd_model_rcf.create(ce, 2, SEED, &e, err, sizeof err), 0);
    assert_int_equal(rcfd_model_rcf.create(cn, 2, SEED, &n, err, sizeof err), 0);
    /* the scales, as the test computes them over the held records */
    double mean[2] = {0, 0}, sd[2] = {0, 0};
    for (int f = 0; f < 2; f++) {
        for (int i = 0; i < HELD; i++) {
            mean[f] += f == 0 ? big(i) : small_field(i);
        }
        mean[f] /= HELD;
        for (int i = 0; i < HELD; i++) {
            double d = (f == 0 ? big(i) : small_field(i)) - mean[f];
            sd[f] += d * d;
        }
        sd[f] = sqrt(sd[f] / HELD);
    }
    rcfd_buf_t snap = {0};
    double spike_scaled = 0, spike_raw = 0;
    for (int i = 0; i < 1500; i++) {
        double x = big(i), y = small_field(i);
        double sa = step(a, x, y)->r.score;
        double sn = step(n, x, y)->r.score;
        double se = step(e, (x - mean[0]) / sd[0], (y - mean[1]) / sd[1])->r.score;
        if (i >= HELD) {
            assert_true(sa == se);
        }
        if (i == 1200) {
            spike_scaled = sa;
            spike_raw = sn;
        }
        if (i == 800) {
            assert_int_equal(rcfd_model_rcf.save(a, &snap), 0);
        }
    }
    assert_true(spike_scaled > 1.5 * spike_raw);
    void *b, *x = NULL;
    assert_int_equal(rcfd_model_rcf.load(ca, 2, snap.p, snap.len, &b, err, sizeof err), 0);
    assert_int_equal(rcfd_model_rcf.load(cn, 2, snap.p, snap.len, &x, err, sizeof err),
                     RCFD_ECONFIG);
    assert_non_null(strstr(err, "normalize"));
    void *a2;
    assert_int_equal(rcfd_model_rcf.create(ca, 2, SEED, &a2, err, sizeof err), 0);
    for (int i = 0; i < 1000; i++) {
        double sa = step(a2, big(i), small_field(i))->r.score;
        if (i > 800) {
            assert_true(step(b, big(i), small_field(i))->r.score == sa);
        }
    }
    rcfd_buf_free(&snap);
    rcfd_model_rcf.destroy(a);
    rcfd_model_rcf.destroy(a2);
    rcfd_model_rcf.destroy(b);
    rcfd_model_rcf.destroy(e);
    rcfd_model_rcf.destroy(n);
    conf_free(ca);
    conf_free(ce);
    conf_free(cn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_choices),
        cmocka_unit_test(test_matches_explicit),
        cmocka_unit_test(test_snapshot_while_held),
        cmocka_unit_test(test_refused_not_held),
        cmocka_unit_test(test_scales),
        cmocka_unit_test(test_dilated_matches_explicit),
        cmocka_unit_test(test_dilated_explain_impute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
