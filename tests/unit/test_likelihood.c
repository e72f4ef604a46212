/* Score post-processing (stream/likelihood.h): anomaly_novelty against hand-computed values (the
 * window, fraction, rank scale and its decay), and the anomaly likelihood's learning period, quiet
 * level and spike. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stream/likelihood.h"

static void test_novelty(void **state)
{
    (void)state;
    static rcfd_novelty_t nv;
    const double d = exp(-1.0 / 100.0); /* memory of 100 records */
    assert_int_equal(rcfd_novelty_init(&nv, 0, 100.0, 0), 0); /* no values: no range check */
    /* rise = score * max(0, score - 0.9 * max(previous scores)); novelty = rise / (1 + the 3rd
     * largest earlier rise), that scale 0 until three rises were seen */
    assert_true(rcfd_novelty_update(&nv, 2.0, NULL) == 4.0); /* 2 * (2 - 0) */
    assert_true(fabs(rcfd_novelty_update(&nv, 2.0, NULL) - 2.0 * 0.2) < 1e-15); /* 2 (2 - 1.8) */
    assert_true(rcfd_novelty_update(&nv, 1.0, NULL) == 0.0);     /* below 0.9 * 2 */
    assert_true(isnan(rcfd_novelty_update(&nv, NAN, NULL)));     /* not remembered */
    assert_true(fabs(rcfd_novelty_update(&nv, 3.0, NULL) - 3.6) < 1e-14); /* 3 (3 - 1.8) */
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

/* A value more than 5% of the field's range beyond the key's lowest or highest value is novel
 * (at least 1), once the key has had `warm` records. */
static double feed(rcfd_novelty_t *nv, double score, double v)
{
    return rcfd_novelty_update(nv, score, &v);
}

static void test_novelty_range(void **state)
{
    (void)state;
    static rcfd_novelty_t nv;
    assert_int_equal(rcfd_novelty_init(&nv, 1, 1e5, 3), 0);
    assert_true(feed(&nv, 0.0, 10.0) == 0.0);
    assert_true(feed(&nv, 0.0, 12.0) == 0.0);
    assert_true(feed(&nv, 0.0, 30.0) == 0.0);  /* beyond, but only 2 records before it */
    assert_true(feed(&nv, 0.0, 30.9) == 0.0);  /* range [10, 30]: within 30 + 1 */
    assert_true(feed(&nv, 0.0, 32.5) == 1.0);  /* beyond 30.9 + 1.045: novel; range to 32.5 */
    assert_true(feed(&nv, 0.0, 9.0) == 0.0);   /* above 10 - 0.05 x 22.5; range to 9 */
    assert_true(feed(&nv, 0.0, 7.5) == 1.0);   /* below 9 - 0.05 x 23.5 = 7.825 */
    assert_true(feed(&nv, 0.0, NAN) == 0.0);   /* a missing value is not judged */
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
        /* a jump to 4 every 250 records, beyond the window of the one before */
        rcfd_novelty_update(&noisy, i % 250 == 0 ? 4.0 : 1.0, NULL);
    }
    double q = rcfd_novelty_update(&quiet, 4.0, NULL);
    double n = rcfd_novelty_update(&noisy, 4.0, NULL);
    assert_true(q > 3.0 * n);
    rcfd_novelty_free(&quiet);
    rcfd_novelty_free(&noisy);
}

/* The window's maximum (a monotonic queue) against a scan of the previous WINDOW scores, over a
 * stream with ties, plateaus, NANs and long falls. */
static void test_novelty_window(void **state)
{
    (void)state;
    static rcfd_novelty_t nv;
    static double prev[100000];
    size_t n = 0;
    uint64_t rng = 12345;
    assert_int_equal(rcfd_novelty_init(&nv, 0, 50.0, 0), 0);
    double top[RCFD_NOVELTY_RANK] = {0};
    size_t n_top = 0;
    const double decay = exp(-1.0 / 50.0);
    for (int i = 0; i < 100000; i++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        unsigned r = (unsigned)(rng >> 40);
        double score = (r % 7 == 0)   ? 2.0                             /* ties */
                       : (r % 11 == 0) ? NAN                            /* not remembered */
                       : (i / 500) % 2 ? 3.0 - (double)(i % 500) / 200.0 /* long falls */
                                       : (double)(r % 1000) / 250.0;
        double got = rcfd_novelty_update(&nv, score, NULL);
        if (isnan(score)) {
            assert_true(isnan(got));
            continue;
        }
        double mx = 0.0;
        for (size_t k = n > RCFD_NOVELTY_WINDOW ? n - RCFD_NOVELTY_WINDOW : 0; k < n; k++) {
            mx = prev[k] > mx ? prev[k] : mx;
        }
        prev[n++] = score;
        double jump = score - RCFD_NOVELTY_FRACTION * mx;
        double rise = jump > 0.0 && score > 0.0 ? jump * score : 0.0;
        for (size_t k = 0; k < n_top; k++) {
            top[k] *= decay;
        }
        double scale = n_top == RCFD_NOVELTY_RANK ? top[RCFD_NOVELTY_RANK - 1] : 0.0;
        double want = rise / (RCFD_NOVELTY_FLOOR + scale);
        if (rise > 0.0 && (n_top < RCFD_NOVELTY_RANK || rise > top[n_top - 1])) {
            size_t k = n_top < RCFD_NOVELTY_RANK ? n_top++ : RCFD_NOVELTY_RANK - 1;
            for (; k > 0 && top[k - 1] < rise; k--) {
                top[k] = top[k - 1];
            }
            top[k] = rise;
        }
        assert_true(got == want);
    }
    rcfd_novelty_free(&nv);
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
        cmocka_unit_test(test_novelty),
        cmocka_unit_test(test_novelty_scale),
        cmocka_unit_test(test_novelty_range),
        cmocka_unit_test(test_novelty_window),
        cmocka_unit_test(test_likelihood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
