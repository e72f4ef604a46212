/* Score post-processing (score/likelihood.h): anomaly_novelty against hand-computed values (the
 * window, fraction, rank scale and its decay), its state saved and read back (continues bit for
 * bit, re-saves to the same bytes, every truncation and a structural corruption refused), and the
 * anomaly likelihood's learning period, quiet level and spike. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rcfd/status.h"
#include "score/likelihood.h"

static void test_novelty(void **state)
{
    (void)state;
    static rcfd_novelty_t nv;
    const double d = exp(-1.0 / 100.0);                       /* memory of 100 records */
    assert_int_equal(rcfd_novelty_init(&nv, 0, 100.0, 0), 0); /* no values: no range check */
    /* rise = score * max(0, score - 0.9 * max(previous scores)); novelty = rise / (1 + the 3rd
     * largest earlier rise), that scale 0 until three rises were seen */
    assert_true(rcfd_novelty_update(&nv, 2.0, NULL) == 4.0);                    /* 2 * (2 - 0) */
    assert_true(fabs(rcfd_novelty_update(&nv, 2.0, NULL) - 2.0 * 0.2) < 1e-15); /* 2 (2 - 1.8) */
    assert_true(rcfd_novelty_update(&nv, 1.0, NULL) == 0.0);                    /* below 0.9 * 2 */
    assert_true(isnan(rcfd_novelty_update(&nv, NAN, NULL)));                    /* not remembered */
    assert_true(fabs(rcfd_novelty_update(&nv, 3.0, NULL) - 3.6) < 1e-14);       /* 3 (3 - 1.8) */
    /* rises so far 4, 0.4, 3.6, each decayed by d per record since: the scale is the smallest */
    double want = 5.0 * (5.0 - 2.7) / (1.0 + 0.4 * pow(d, 3));
    assert_true(fabs(rcfd_novelty_update(&nv, 5.0, NULL) - want) < 1e-13);
    /* The 5.0 is remembered for RCFD_NOVELTY_WINDOW records, then forgotten. */
    for (size_t i = 0; i < RCFD_NOVELTY_WINDOW; i++) {
        assert_true(rcfd_novelty_update(&nv, 0.1, NULL) == 0.0);
    }
    /* kept rises: 11.5, 4 d^4 and 3.6 d (after the 5.0), decayed 201 more records */
    want = 0.2 * (0.2 - 0.9 * 0.1) / (1.0 + 3.6 * pow(d, 202));
    assert_true(fabs(rcfd_novelty_update(&nv, 0.2, NULL) - want) < 1e-15);
    rcfd_novelty_free(&nv);
}

/* A value more than RANGE_TOLERANCE (1%) of the field's range beyond the key's lowest or highest
 * value is novel (at least 1), once the key has had `warm` records. */
static double feed(rcfd_novelty_t *nv, double score, double v)
{
    return rcfd_novelty_update(nv, score, &v);
}

static void test_novelty_range(void **state)
{
    (void)state;
    static rcfd_novelty_t nv;
    assert_true(RCFD_NOVELTY_RANGE_TOLERANCE == 0.01);
    assert_int_equal(rcfd_novelty_init(&nv, 1, 1e5, 3), 0);
    assert_true(feed(&nv, 0.0, 10.0) == 0.0);
    assert_true(feed(&nv, 0.0, 12.0) == 0.0);
    assert_true(feed(&nv, 0.0, 30.0) == 0.0);   /* beyond, but only 2 records before it */
    assert_true(feed(&nv, 0.0, 30.1) == 0.0);   /* range [10, 30]: within 30 + 0.2 */
    assert_true(feed(&nv, 0.0, 30.5) == 1.0);   /* beyond 30.1 + 0.201: novel; range to 30.5 */
    assert_true(feed(&nv, 0.0, 9.9) == 0.0);    /* above 10 - 0.01 x 20.5; range to 9.9 */
    assert_true(feed(&nv, 0.0, 9.6) == 1.0);    /* below 9.9 - 0.01 x 20.6 = 9.694 */
    assert_true(feed(&nv, 0.0, NAN) == 0.0);    /* a missing value is not judged */
    assert_true(feed(&nv, 5.0, 100.0) == 25.0); /* a larger novelty stays: 5 x 5 / (1 + 0) */
    assert_true(isnan(feed(&nv, NAN, 1000.0))); /* no score: nothing remembered */
    assert_true(feed(&nv, 0.0, 100.0) == 0.0);  /* the 1000 did not widen the range */
    rcfd_novelty_free(&nv);
}

/* A key whose scores jump all the time needs a bigger jump to reach the same novelty. */
static void test_novelty_scale(void **state)
{
    (void)state;
    static rcfd_novelty_t quiet, noisy;
    assert_int_equal(rcfd_novelty_init(&quiet, 0, 100000.0, 0), 0);
    assert_int_equal(rcfd_novelty_init(&noisy, 0, 100000.0, 0), 0);
    for (size_t i = 0; i < 1000; i++) {
        rcfd_novelty_update(&quiet, 1.0, NULL);
        /* a jump to 4 now and then, beyond the window of the one before and not evenly
         * spaced (the periodic rule would forgive a regular series) */
        int jump = i == 0 || i == 230 || i == 520 || i == 740;
        rcfd_novelty_update(&noisy, jump ? 4.0 : 1.0, NULL);
    }
    double q = rcfd_novelty_update(&quiet, 4.0, NULL);
    double n = rcfd_novelty_update(&noisy, 4.0, NULL);
    assert_true(q > 3.0 * n);
    rcfd_novelty_free(&quiet);
    rcfd_novelty_free(&noisy);
}

/* A rise that repeats two earlier ones of about its height, evenly spaced, is not novel; a higher
 * one, or one off the beat, still is. Records between the spikes score 0 (no rise). */
static void test_novelty_periodic(void **state)
{
    (void)state;
    static rcfd_novelty_t nv;
    assert_int_equal(rcfd_novelty_init(&nv, 0, 100000.0, 0), 0);
    static const size_t at[] = {300, 600, 900, 1200, 1500, 1803, 2150};
    double spike[7];
    for (size_t i = 0, k = 0; i <= 2150; i++) {
        int hit = k < 7 && i == at[k];
        double out = rcfd_novelty_update(&nv, hit ? (i == 1200 ? 6.0 : 4.0) : 0.0, NULL);
        if (hit) {
            spike[k++] = out;
        } else {
            assert_true(out == 0.0);
        }
    }
    assert_true(spike[0] == 16.0); /* 4 x 4 / (1 + 0) */
    assert_true(spike[1] == 16.0);
    assert_true(spike[2] == 0.0); /* 900 after 600 and 300 */
    assert_true(spike[3] > 1.0);  /* 1200: 6 > the series' 4 / 0.9 */
    assert_true(spike[4] == 0.0); /* 1500 after 1200 (6 >= 0.9 x 4) and 900 */
    assert_true(spike[5] == 0.0); /* 1803 after 1500 and 1200, 3 records off the beat */
    assert_true(spike[6] > 0.5);  /* 2150: 347 after 1803, nothing 347 before; 16 / (1 + 16) */
    rcfd_novelty_free(&nv);
}

/* A shift of the level within the key's range, which the forest does not score (0 here), is novel
 * through the level rule; the ordinary alternation before it is not. */
static void test_novelty_level(void **state)
{
    (void)state;
    static rcfd_novelty_t nv;
    assert_int_equal(rcfd_novelty_init(&nv, 1, 100000.0, 0), 0);
    assert_true(feed(&nv, 0.0, 0.0) == 0.0);
    assert_true(feed(&nv, 0.0, 20.0) == 0.0); /* the range is [0, 20] */
    double before = 0.0, after = 0.0;
    for (size_t i = 0; i < 600; i++) {
        double out = feed(&nv, 0.0, 10.0 + (double)(i % 2));
        before = i >= 300 && out > before ? out : before;
    }
    for (size_t i = 0; i < 10; i++) {
        double out = feed(&nv, 0.0, 15.0); /* inside the range: not the range rule */
        assert_true(out < RCFD_NOVELTY_EXTREME);
        after = out > after ? out : after;
    }
    /* 0.0065 and 0.137 (bench/nab_posthoc.py computes the same): the level's own rank scale
     * holds the rises of its first, unsettled values */
    assert_true(before < 0.01);
    assert_true(after > 0.1 && after > 10.0 * before);
    rcfd_novelty_free(&nv);
}

/* A stream with every rule at work: noise, spikes every 97 records (periodic), a level shift,
 * values beyond the range. */
static void feed_mixed(rcfd_novelty_t *nv, int from, int to, double *out)
{
    for (int i = from; i < to; i++) {
        double v[2] = {10.0 + sin(i * 0.3) + (i > 900 ? 2.0 : 0.0) + (i % 401 == 0 ? 30.0 : 0.0),
                       (double)(i % 13)};
        double score = 0.5 + 0.2 * cos(i * 0.7) + (i % 97 == 0 ? 3.0 : 0.0);
        double x = rcfd_novelty_update(nv, score, v);
        if (out != NULL) {
            out[i - from] = x;
        }
    }
}

static unsigned char *save_state(const rcfd_novelty_t *nv, size_t *len)
{
    *len = rcfd_novelty_payload_size(nv);
    unsigned char *b = malloc(*len);
    rcfd_writer_t w = {b, 0, *len};
    rcfd_novelty_write(nv, &w);
    assert_int_equal(w.len, *len);
    return b;
}

static int read_state(rcfd_novelty_t *nv, const unsigned char *b, size_t len, char *err, size_t es)
{
    rcfd_snap_loader_t l = {{b, len, 0, 0}, err, es, 0, 0};
    return rcfd_novelty_read(nv, &l, RCFD_NOVELTY_STATE_VERSION);
}

/* The version 1 layout, every slot of every ring (what earlier builds wrote). */
static size_t write_v1(const rcfd_novelty_t *nv, unsigned char *b, size_t cap)
{
    rcfd_writer_t w = {b, 0, cap};
    rcfd_put_u32(&w, (uint32_t)nv->n_fields);
    const uint32_t layout[] = {RCFD_NOVELTY_WINDOW, RCFD_NOVELTY_RANK, RCFD_NOVELTY_PERIOD_EVENTS,
                               RCFD_NOVELTY_LEVEL_K, RCFD_NOVELTY_LEVEL_WINDOW};
    for (size_t i = 0; i < 5; i++) {
        rcfd_put_u32(&w, layout[i]);
    }
    rcfd_put_u64(&w, nv->seen);
    const rcfd_novelty_rise_t *rises[2] = {&nv->score, &nv->level};
    for (size_t k = 0; k < 2; k++) {
        rcfd_put_u32(&w, (uint32_t)rises[k]->n);
        rcfd_put_u32(&w, (uint32_t)rises[k]->pos);
        for (size_t i = 0; i < RCFD_NOVELTY_WINDOW; i++) {
            rcfd_put_f64(&w, rises[k]->ring[i]);
        }
        rcfd_put_u32(&w, (uint32_t)rises[k]->n_top);
        for (size_t i = 0; i < RCFD_NOVELTY_RANK; i++) {
            rcfd_put_f64(&w, rises[k]->top[i]);
        }
    }
    rcfd_put_u32(&w, (uint32_t)nv->n_ev);
    rcfd_put_u32(&w, (uint32_t)nv->ev_pos);
    for (size_t i = 0; i < RCFD_NOVELTY_PERIOD_EVENTS; i++) {
        rcfd_put_u64(&w, nv->ev_t[i]);
    }
    for (size_t i = 0; i < RCFD_NOVELTY_PERIOD_EVENTS; i++) {
        rcfd_put_f64(&w, nv->ev_score[i]);
    }
    for (size_t f = 0; f < nv->n_fields; f++) {
        const rcfd_novelty_level_t *l = &nv->lv[f];
        rcfd_put_f64(&w, nv->lo[f]);
        rcfd_put_f64(&w, nv->hi[f]);
        rcfd_put_u32(&w, (uint32_t)l->n_recent);
        rcfd_put_u32(&w, (uint32_t)l->recent_pos);
        rcfd_put_u32(&w, (uint32_t)l->n_hist);
        rcfd_put_u32(&w, (uint32_t)l->hist_pos);
        for (size_t i = 0; i < RCFD_NOVELTY_LEVEL_K; i++) {
            rcfd_put_f64(&w, l->recent[i]);
        }
        for (size_t i = 0; i < RCFD_NOVELTY_LEVEL_WINDOW; i++) {
            rcfd_put_f64(&w, l->hist[i]);
        }
    }
    return w.len;
}

/* A version 1 state reads and goes on as the state it was written from; version 2 of a young
 * key is a fraction of version 1's size. */
static void test_novelty_state_v1(void **state)
{
    (void)state;
    static rcfd_novelty_t a, b;
    static double xa[1500], xb[1500];
    static unsigned char buf[1 << 16];
    char err[256];
    for (int cut = 0; cut <= 900; cut += 300) {
        assert_int_equal(rcfd_novelty_init(&a, 2, 500.0, 64), 0);
        assert_int_equal(rcfd_novelty_init(&b, 2, 500.0, 64), 0);
        feed_mixed(&a, 0, cut, NULL);
        size_t n = write_v1(&a, buf, sizeof buf);
        rcfd_snap_loader_t l = {{buf, n, 0, 0}, err, sizeof err, 0, 0};
        assert_int_equal(rcfd_novelty_read(&b, &l, 1), 0);
        if (cut == 0) {
            assert_true(rcfd_novelty_payload_size(&a) * 20 < n);
        }
        feed_mixed(&a, cut, 1500, xa);
        feed_mixed(&b, cut, 1500, xb);
        assert_memory_equal(xa, xb, (size_t)(1500 - cut) * sizeof *xa);
        rcfd_novelty_free(&a);
        rcfd_novelty_free(&b);
    }
}

static void test_novelty_state(void **state)
{
    (void)state;
    static rcfd_novelty_t a, b, c;
    static double xa[1500], xb[1500];
    char err[256];
    for (int cut = 0; cut <= 1200; cut += 150) {
        assert_int_equal(rcfd_novelty_init(&a, 2, 500.0, 64), 0);
        assert_int_equal(rcfd_novelty_init(&b, 2, 500.0, 64), 0);
        feed_mixed(&a, 0, cut, NULL);
        size_t len, len2;
        unsigned char *s = save_state(&a, &len);
        assert_int_equal(read_state(&b, s, len, err, sizeof err), 0);
        unsigned char *s2 = save_state(&b, &len2);
        assert_int_equal(len2, len);
        assert_memory_equal(s2, s, len); /* re-saves to the same bytes */
        feed_mixed(&a, cut, 1500, xa);
        feed_mixed(&b, cut, 1500, xb);
        assert_memory_equal(xa, xb, (size_t)(1500 - cut) * sizeof *xa); /* bit for bit */
        free(s2);
        if (cut == 1200) { /* every truncation is refused, none read past the end */
            for (size_t n = 0; n < len; n += n < 64 ? 1 : 97) {
                assert_int_equal(rcfd_novelty_init(&c, 2, 500.0, 64), 0);
                assert_int_equal(read_state(&c, s, n, err, sizeof err), RCFD_ETRUNCATED);
                rcfd_novelty_free(&c);
            }
            /* a ring position past its capacity: the score ring's, after the field count, five
             * layout constants, records seen and the ring's count (offsets in messages count the
             * 32-byte envelope the payload sits in) */
            s[4 + 20 + 8 + 4] = 0xff;
            assert_int_equal(rcfd_novelty_init(&c, 2, 500.0, 64), 0);
            assert_int_equal(read_state(&c, s, len, err, sizeof err), RCFD_EBADSTATE);
            assert_non_null(
                strstr(err, "snapshot byte 64: the score's rises: count 200 and position 255"));
            rcfd_novelty_free(&c);
            s[4 + 20 + 8 + 4] = 0; /* mended */
            /* a value of field 0's level window that no record can have given (its first value,
             * after the rises, the periodic rises, the range, four counts and the last values);
             * the window's sorted copy is rebuilt from the window, so it cannot disagree with
             * it (fuzz_novelty_state once found a stored copy that did: a read past the array) */
            assert_int_equal(rcfd_novelty_init(&c, 2, 500.0, 64), 0);
            assert_int_equal(read_state(&c, s, len, err, sizeof err), 0);
            /* version 2 stores each ring's filled slots only */
            size_t first = 4 + 20 + 8 + (4 + 4 + 8 * c.score.n + 4 + 8 * c.score.n_top) +
                           (4 + 4 + 8 * c.level.n + 4 + 8 * c.level.n_top) + 8 + 16 * c.n_ev +
                           16 + 16 + 8 * c.lv[0].n_recent;
            rcfd_novelty_free(&c);
            double orig, bad = NAN;
            memcpy(&orig, s + first, 8);
            memcpy(s + first, &bad, 8);
            assert_int_equal(rcfd_novelty_init(&c, 2, 500.0, 64), 0);
            assert_int_equal(read_state(&c, s, len, err, sizeof err), RCFD_EBADSTATE);
            assert_non_null(strstr(err, "a field's level window: value 0 is nan"));
            rcfd_novelty_free(&c);
            memcpy(s + first, &orig, 8);
            assert_int_equal(rcfd_novelty_init(&c, 2, 500.0, 64), 0);
            assert_int_equal(read_state(&c, s, len, err, sizeof err), 0);
            rcfd_novelty_free(&c);
            /* a key with another number of fields */
            assert_int_equal(rcfd_novelty_init(&c, 3, 500.0, 64), 0);
            assert_int_equal(read_state(&c, s, len, err, sizeof err), RCFD_EBADSTATE);
            assert_non_null(strstr(err, "2 fields, the model 3"));
            rcfd_novelty_free(&c);
        }
        free(s);
        rcfd_novelty_free(&a);
        rcfd_novelty_free(&b);
    }
}

static void test_likelihood(void **state)
{
    (void)state;
    rcfd_likelihood_t lh;
    assert_int_equal(rcfd_likelihood_init(&lh, RCFD_LH_LEARN), 0);
    assert_true(rcfd_likelihood_update(&lh, 0.0) == 0.5); /* warm-up zeros are skipped */
    uint64_t s = 7;
    double last = 0;
    for (int i = 0; i < 2000; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double v = 1.0 + 0.1 * ((double)(s >> 11) / 9007199254740992.0 - 0.5);
        last = rcfd_likelihood_update(&lh, v);
        if (i < RCFD_LH_LEARN - 1) {
            assert_true(last == 0.5);
        }
    }
    assert_true(last < 0.3); /* an ordinary score of a steady stream */
    double spike = 0;
    for (int i = 0; i < 5; i++) {
        spike = rcfd_likelihood_update(&lh, 3.0);
    }
    assert_true(spike > 0.9);
    rcfd_likelihood_free(&lh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_novelty),       cmocka_unit_test(test_novelty_scale),
        cmocka_unit_test(test_novelty_range), cmocka_unit_test(test_novelty_periodic),
        cmocka_unit_test(test_novelty_level), cmocka_unit_test(test_novelty_state),
        cmocka_unit_test(test_novelty_state_v1),
        cmocka_unit_test(test_likelihood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
