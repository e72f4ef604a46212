/* Score post-processing (stream/likelihood.h): anomaly_novelty against hand-computed values (the
 * window and fraction), and the anomaly likelihood's learning period, quiet level and spike. */
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
    rcfd_novelty_init(&nv);
    assert_true(rcfd_novelty_update(&nv, 1.0) == 1.0);       /* nothing before: the score */
    assert_true(rcfd_novelty_update(&nv, 1.0) == 1.0 - 0.9); /* 1 - 0.9 * 1 */
    assert_true(rcfd_novelty_update(&nv, 0.5) == 0.0);       /* below 0.9 * max */
    assert_true(isnan(rcfd_novelty_update(&nv, NAN)));       /* not remembered */
    assert_true(fabs(rcfd_novelty_update(&nv, 3.0) - (3.0 - 0.9)) < 1e-15);
    /* The 3.0 is remembered for RCFD_NOVELTY_WINDOW records, then forgotten. */
    for (size_t i = 0; i < RCFD_NOVELTY_WINDOW; i++) {
        assert_true(rcfd_novelty_update(&nv, 0.1) == 0.0);
    }
    assert_true(fabs(rcfd_novelty_update(&nv, 0.2) - (0.2 - 0.9 * 0.1)) < 1e-15);
}

/* The cached maximum gives exactly what scanning the window every time gives, on streams that
 * rise, fall (the maximum leaves the window every record) and repeat values. */
static void test_novelty_window(void **state)
{
    (void)state;
    static rcfd_novelty_t nv;
    static double hist[5000];
    rcfd_novelty_init(&nv);
    uint64_t s = 11;
    for (size_t i = 0; i < 5000; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(s >> 11) / 9007199254740992.0;
        double v = i < 1500 ? u : i < 3000 ? (3000.0 - (double)i) / 100.0 : (double)(i % 7) / 4;
        hist[i] = v;
        double mx = 0.0;
        for (size_t j = i > RCFD_NOVELTY_WINDOW ? i - RCFD_NOVELTY_WINDOW : 0; j < i; j++) {
            mx = hist[j] > mx ? hist[j] : mx;
        }
        double want = v - RCFD_NOVELTY_FRACTION * mx;
        assert_true(rcfd_novelty_update(&nv, v) == (want > 0.0 ? want : 0.0));
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
        cmocka_unit_test(test_novelty),
        cmocka_unit_test(test_novelty_window),
        cmocka_unit_test(test_likelihood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
