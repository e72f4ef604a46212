/* Score post-processing (score/likelihood.h): anomaly_novelty against hand-computed values (the
 * window, fraction, rank scale and its decay) and against an independent implementation, its state
 * saved and read back (continues bit for bit, re-saves to the same bytes, every truncation and
 * corruptions refused), states of versions 1 and 2 read and continued, and the anomaly
 * likelihood's learning period, quiet level and spike. */
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
    const double d = exp(-1.0 / 100.0); /* memory of 100 records */
    rcfd_novelty_init(&nv, 100.0);
    /* rise = score * max(0, score - 0.9 * max(previous scores)); novelty = rise / (1 + the 3rd
     * largest earlier rise), that scale 0 until three rises were seen */
    assert_true(rcfd_novelty_update(&nv, 2.0) == 4.0);                    /* 2 * (2 - 0) */
    assert_true(fabs(rcfd_novelty_update(&nv, 2.0) - 2.0 * 0.2) < 1e-15); /* 2 (2 - 1.8) */
    assert_true(rcfd_novelty_update(&nv, 1.0) == 0.0);                    /* below 0.9 * 2 */
    assert_true(isnan(rcfd_novelty_update(&nv, NAN)));                    /* not remembered */
    assert_true(fabs(rcfd_novelty_update(&nv, 3.0) - 3.6) < 1e-14);       /* 3 (3 - 1.8) */
    /* rises so far 4, 0.4, 3.6, each decayed by d per record since: the scale is the smallest */
    double want = 5.0 * (5.0 - 2.7) / (1.0 + 0.4 * pow(d, 3));
    assert_true(fabs(rcfd_novelty_update(&nv, 5.0) - want) < 1e-13);
    /* The 5.0 is remembered for RCFD_NOVELTY_WINDOW records, then forgotten. */
    for (size_t i = 0; i < RCFD_NOVELTY_WINDOW; i++) {
        assert_true(rcfd_novelty_update(&nv, 0.1) == 0.0);
    }
    /* kept rises: 11.5, 4 d^4 and 3.6 d (after the 5.0), decayed 201 more records */
    want = 0.2 * (0.2 - 0.9 * 0.1) / (1.0 + 3.6 * pow(d, 202));
    assert_true(fabs(rcfd_novelty_update(&nv, 0.2) - want) < 1e-15);
}

/* An independent implementation: the window's maximum by a scan of every earlier score, the scale
 * by sorting every earlier rise, each decayed once per record as the library decays its own (so
 * the bits agree: the rises the library drops are below its third and can never return, all
 * decaying alike). */
typedef struct {
    double scores[4000], rises[4000];
    size_t n, n_rises;
    double decay;
} ref_novelty_t;

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

static double ref_update(ref_novelty_t *r, double x)
{
    double mx = 0.0;
    for (size_t i = r->n > RCFD_NOVELTY_WINDOW ? r->n - RCFD_NOVELTY_WINDOW : 0; i < r->n; i++) {
        mx = r->scores[i] > mx ? r->scores[i] : mx;
    }
    r->scores[r->n++] = x;
    double jump = x - 0.9 * mx;
    double rise = jump > 0.0 && x > 0.0 ? jump * x : 0.0;
    for (size_t i = 0; i < r->n_rises; i++) {
        r->rises[i] *= r->decay;
    }
    static double sorted[4000];
    memcpy(sorted, r->rises, r->n_rises * sizeof *sorted);
    qsort(sorted, r->n_rises, sizeof *sorted, cmp_desc);
    double scale = r->n_rises >= 3 ? sorted[2] : 0.0;
    if (rise > 0.0) {
        r->rises[r->n_rises++] = rise;
    }
    return rise / (1.0 + scale);
}

/* Scores of a stream with noise, drift and bursts (the forest's scores have such shapes). */
static double stream_score(int i)
{
    uint64_t s = (uint64_t)i * 0x9e3779b97f4a7c15ull;
    s ^= s >> 29;
    s *= 0xbf58476d1ce4e5b9ull;
    s ^= s >> 32;
    double u = (double)(s >> 11) / 9007199254740992.0;
    return 0.6 + 0.3 * u + 0.2 * sin(i * 0.01) + (i % 331 < 4 ? 2.0 + 0.3 * (i % 7) : 0.0);
}

static void test_novelty_reference(void **state)
{
    (void)state;
    static rcfd_novelty_t nv;
    static ref_novelty_t ref;
    rcfd_novelty_init(&nv, 700.0);
    memset(&ref, 0, sizeof ref);
    ref.decay = exp(-1.0 / 700.0);
    size_t risen = 0;
    for (int i = 0; i < 4000; i++) {
        double x = stream_score(i);
        double got = rcfd_novelty_update(&nv, x), want = ref_update(&ref, x);
        assert_true(got == want);
        risen += got > 0.0;
    }
    assert_true(risen > 40 && risen < 1000); /* the stream exercised both branches */
}

/* A key whose scores jump all the time needs a bigger jump to reach the same novelty. */
static void test_novelty_scale(void **state)
{
    (void)state;
    static rcfd_novelty_t quiet, noisy;
    rcfd_novelty_init(&quiet, 100000.0);
    rcfd_novelty_init(&noisy, 100000.0);
    for (size_t i = 0; i < 1000; i++) {
        rcfd_novelty_update(&quiet, 1.0);
        /* a jump to 4 now and then, beyond the window of the one before */
        int jump = i == 0 || i == 230 || i == 520 || i == 740;
        rcfd_novelty_update(&noisy, jump ? 4.0 : 1.0);
    }
    double q = rcfd_novelty_update(&quiet, 4.0);
    double n = rcfd_novelty_update(&noisy, 4.0);
    assert_true(q > 3.0 * n);
}

static void feed(rcfd_novelty_t *nv, int from, int to, double *out)
{
    for (int i = from; i < to; i++) {
        double x = rcfd_novelty_update(nv, stream_score(i));
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

static int read_state(rcfd_novelty_t *nv, const unsigned char *b, size_t len, uint32_t version,
                      size_t n_fields, char *err, size_t es)
{
    rcfd_snap_loader_t l = {{b, len, 0, 0}, err, es, 0, 0};
    rcfd_novelty_init(nv, 500.0);
    return rcfd_novelty_read(nv, &l, version, n_fields);
}

static void test_novelty_state(void **state)
{
    (void)state;
    static rcfd_novelty_t a, b, c;
    static double xa[1500], xb[1500];
    char err[256];
    for (int cut = 0; cut <= 1200; cut += 150) {
        rcfd_novelty_init(&a, 500.0);
        feed(&a, 0, cut, NULL);
        size_t len, len2;
        unsigned char *s = save_state(&a, &len);
        /* the window's filled slots and the rises kept, nothing else */
        assert_int_equal(len, 8 + 8 + 8 * (cut < 200 ? (size_t)cut : 200) + 4 + 8 * a.n_top);
        assert_int_equal(read_state(&b, s, len, RCFD_NOVELTY_STATE_VERSION, 2, err, sizeof err),
                         0);
        unsigned char *s2 = save_state(&b, &len2);
        assert_int_equal(len2, len);
        assert_memory_equal(s2, s, len); /* re-saves to the same bytes */
        feed(&a, cut, 1500, xa);
        feed(&b, cut, 1500, xb);
        assert_memory_equal(xa, xb, (size_t)(1500 - cut) * sizeof *xa); /* bit for bit */
        free(s2);
        if (cut == 1200) { /* every truncation is refused, none read past the end */
            for (size_t n = 0; n < len; n += n < 64 ? 1 : 97) {
                assert_int_equal(read_state(&c, s, n, 3, 2, err, sizeof err), RCFD_ETRUNCATED);
            }
            /* a ring position past its capacity: after the two layout constants and the count
             * (offsets in messages count the 32-byte envelope the payload sits in) */
            s[8 + 4] = 0xff;
            assert_int_equal(read_state(&c, s, len, 3, 2, err, sizeof err), RCFD_EBADSTATE);
            assert_non_null(
                strstr(err, "snapshot byte 40: the score's rises: count 200 and position 255"));
            s[8 + 4] = 0; /* mended */
            assert_int_equal(read_state(&c, s, len, 3, 2, err, sizeof err), 0);
            double bad = -1.0; /* a score the forest cannot give */
            memcpy(s + 16, &bad, 8);
            assert_int_equal(read_state(&c, s, len, 3, 2, err, sizeof err), RCFD_EBADSTATE);
            assert_non_null(strstr(err, "the score's rises: value 0 is -1"));
            /* another build's window */
            s[0] = 100;
            assert_int_equal(read_state(&c, s, len, 3, 2, err, sizeof err), RCFD_EBADSTATE);
            assert_non_null(strstr(err, "layout constant 0 is 100, this build's is 200"));
        }
        free(s);
    }
}

/* Versions 1 and 2, written before the periodic, level and range rules were removed: the field
 * count, five layout constants, records seen, the score's rises (what this novelty keeps), the
 * level's rises, the periodic rule's rises, per field its range and level windows. Version 1
 * stored every slot of each ring, version 2 the filled ones. The rules' parts here are what such
 * a key could have held (the level rule's rises, three periodic rises, values per field). */
static size_t write_old(const rcfd_novelty_t *nv, uint32_t version, size_t n_fields,
                        unsigned char *b, size_t cap)
{
    const int v1 = version == 1;
    rcfd_writer_t w = {b, 0, cap};
    rcfd_put_u32(&w, (uint32_t)n_fields);
    const uint32_t layout[] = {200, 3, 16, 5, 200};
    for (size_t i = 0; i < 5; i++) {
        rcfd_put_u32(&w, layout[i]);
    }
    rcfd_put_u64(&w, 5000); /* records seen */
    rcfd_put_u32(&w, (uint32_t)nv->n);
    rcfd_put_u32(&w, (uint32_t)nv->pos);
    for (size_t i = 0; i < (v1 ? 200 : nv->n); i++) {
        rcfd_put_f64(&w, nv->ring[i]); /* unfilled slots are 0, as v1 wrote them */
    }
    rcfd_put_u32(&w, (uint32_t)nv->n_top);
    for (size_t i = 0; i < (v1 ? 3 : nv->n_top); i++) {
        rcfd_put_f64(&w, i < nv->n_top ? nv->top[i] : 0.0);
    }
    /* the level's rises: 7 values, 2 rises */
    rcfd_put_u32(&w, 7);
    rcfd_put_u32(&w, 7);
    for (size_t i = 0; i < (v1 ? 200 : 7); i++) {
        rcfd_put_f64(&w, i < 7 ? 0.1 * (double)i : 0.0);
    }
    rcfd_put_u32(&w, 2);
    for (size_t i = 0; i < (v1 ? 3 : 2); i++) {
        rcfd_put_f64(&w, i < 2 ? 0.5 - 0.2 * (double)i : 0.0);
    }
    /* three periodic rises */
    rcfd_put_u32(&w, 3);
    rcfd_put_u32(&w, 3);
    for (size_t i = 0; i < (v1 ? 16 : 3); i++) {
        rcfd_put_u64(&w, i < 3 ? 4000 + 300 * i : 0);
    }
    for (size_t i = 0; i < (v1 ? 16 : 3); i++) {
        rcfd_put_f64(&w, i < 3 ? 2.5 : 0.0);
    }
    for (size_t f = 0; f < n_fields; f++) { /* range [-1, 9], 5 last values, 200 before */
        rcfd_put_f64(&w, -1.0);
        rcfd_put_f64(&w, 9.0);
        rcfd_put_u32(&w, 5);
        rcfd_put_u32(&w, 0);
        rcfd_put_u32(&w, 200);
        rcfd_put_u32(&w, 17);
        for (size_t i = 0; i < 205; i++) {
            rcfd_put_f64(&w, (double)((i * 7 + f) % 10) - 1.0);
        }
    }
    return w.len;
}

/* An old state reads and goes on bit for bit as this novelty fed the same scores; its rules'
 * parts are still checked. */
static void test_novelty_state_old(void **state)
{
    (void)state;
    static rcfd_novelty_t a, b;
    static double xa[1500], xb[1500];
    static unsigned char buf[1 << 16];
    char err[256];
    for (uint32_t version = 1; version <= 2; version++) {
        for (int cut = 0; cut <= 900; cut += 150) {
            rcfd_novelty_init(&a, 500.0);
            feed(&a, 0, cut, NULL);
            size_t n = write_old(&a, version, 2, buf, sizeof buf);
            assert_int_equal(read_state(&b, buf, n, version, 2, err, sizeof err), 0);
            feed(&a, cut, 1500, xa);
            feed(&b, cut, 1500, xb);
            assert_memory_equal(xa, xb, (size_t)(1500 - cut) * sizeof *xa);
            /* written again, it is this version's state, and no bigger than the old one */
            size_t len;
            unsigned char *s = save_state(&b, &len);
            assert_true(len < n);
            free(s);
        }
        size_t n = write_old(&a, version, 2, buf, sizeof buf);
        for (size_t k = 0; k < n; k += k < 64 ? 1 : 101) {
            assert_int_equal(read_state(&b, buf, k, version, 2, err, sizeof err),
                             RCFD_ETRUNCATED);
        }
        /* a key with another number of fields */
        assert_int_equal(read_state(&b, buf, n, version, 3, err, sizeof err), RCFD_EBADSTATE);
        assert_non_null(strstr(err, "2 fields, the model 3"));
        /* a value of the last field's level window no record can have given */
        double orig, bad = NAN;
        memcpy(&orig, buf + n - 8, 8);
        memcpy(buf + n - 8, &bad, 8);
        assert_int_equal(read_state(&b, buf, n, version, 2, err, sizeof err), RCFD_EBADSTATE);
        assert_non_null(strstr(err, "a field's level window: value 199 is nan"));
        memcpy(buf + n - 8, &orig, 8);
        assert_int_equal(read_state(&b, buf, n, version, 2, err, sizeof err), 0);
        /* a byte more than the state */
        assert_int_equal(read_state(&b, buf, n + 1, version, 2, err, sizeof err), RCFD_EBADSTATE);
        assert_non_null(strstr(err, "1 bytes after the novelty's state"));
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
        cmocka_unit_test(test_novelty),       cmocka_unit_test(test_novelty_reference),
        cmocka_unit_test(test_novelty_scale), cmocka_unit_test(test_novelty_state),
        cmocka_unit_test(test_novelty_state_old), cmocka_unit_test(test_likelihood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
