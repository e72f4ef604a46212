/* The incremental detector, the library's brute-force reference and an independent oracle in this
 * file (union-find over all pairs) must report exactly the same hotspots after every record, on
 * long random streams over many window sizes, radii, minimum counts, dimensions and scales.
 *
 * The streams are built to hit the hard cases: bursts that appear, merge, thin out and leave;
 * values snapped to multiples of radius/2 (points exactly at the radius and on cell borders, many
 * duplicates); and hotspots that split as their oldest dense points leave. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rcfd/hotspots.h"
#include "streams.h"

#define MAX_W 400
#define MAX_D 8

typedef struct config {
    uint32_t window, min_points, dim;
    double radius;
    int snap;   /* snap values to multiples of radius / 2 */
    int scaled; /* per-dimension scales */
    int walk;   /* half the records are a random walk in steps of ~radius: chains that split */
    uint32_t records;
} config_t;

/* ---- independent oracle -------------------------------------------------------------------- */

typedef struct spot {
    double density;
    uint32_t count, dense;
    double min[MAX_D], max[MAX_D];
    int has_new;
} spot_t;

static uint32_t oracle_dim;

static int spot_order(const void *pa, const void *pb)
{
    const spot_t *a = pa, *b = pb;
    if (a->density != b->density) {
        return a->density > b->density ? -1 : 1;
    }
    if (a->count != b->count) {
        return a->count > b->count ? -1 : 1;
    }
    if (a->dense != b->dense) {
        return a->dense > b->dense ? -1 : 1;
    }
    for (uint32_t k = 0; k < oracle_dim; k++) {
        if (a->min[k] != b->min[k]) {
            return a->min[k] < b->min[k] ? -1 : 1;
        }
    }
    for (uint32_t k = 0; k < oracle_dim; k++) {
        if (a->max[k] != b->max[k]) {
            return a->max[k] < b->max[k] ? -1 : 1;
        }
    }
    return b->has_new - a->has_new;
}

static uint32_t find_root(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* rows: n records oldest first. Returns the number of hotspots written to out (sorted). */
static size_t oracle(const double *rows, uint32_t n, const hs_params_t *p, spot_t *out)
{
    static double pos[MAX_W][MAX_D];
    static uint32_t cnt[MAX_W], parent[MAX_W], member[MAX_W], slot_of_root[MAX_W];
    static unsigned char adj[MAX_W][MAX_W];
    const uint32_t d = p->dim;
    const double r2 = p->scan_radius * p->scan_radius;
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t k = 0; k < d; k++) {
            pos[i][k] = rows[i * d + k] * p->scale[k];
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t j = 0; j < n; j++) {
            double s = 0.0;
            for (uint32_t k = 0; k < d; k++) {
                double t = pos[i][k] - pos[j][k];
                s += t * t;
            }
            adj[i][j] = s <= r2;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        cnt[i] = 0;
        parent[i] = i;
        for (uint32_t j = 0; j < n; j++) {
            cnt[i] += adj[i][j];
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t j = 0; j < n; j++) {
            if (cnt[i] >= p->min_points && cnt[j] >= p->min_points && adj[i][j]) {
                parent[find_root(parent, i)] = find_root(parent, j);
            }
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        member[i] = UINT32_MAX;
        if (cnt[i] >= p->min_points) {
            member[i] = find_root(parent, i);
            continue;
        }
        uint32_t newest = UINT32_MAX;
        for (uint32_t j = 0; j < n; j++) {
            if (j != i && adj[i][j] && cnt[j] >= p->min_points) {
                newest = j;
            }
        }
        if (newest != UINT32_MAX) {
            member[i] = find_root(parent, newest);
        }
    }
    size_t n_spots = 0;
    for (uint32_t i = 0; i < n; i++) {
        slot_of_root[i] = UINT32_MAX;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t root = member[i];
        if (root == UINT32_MAX) {
            continue;
        }
        if (slot_of_root[root] == UINT32_MAX) {
            slot_of_root[root] = (uint32_t)n_spots;
            spot_t *s = &out[n_spots++];
            memset(s, 0, sizeof *s);
            for (uint32_t k = 0; k < d; k++) {
                s->min[k] = rows[i * d + k];
                s->max[k] = rows[i * d + k];
            }
        }
        spot_t *s = &out[slot_of_root[root]];
        for (uint32_t k = 0; k < d; k++) {
            double v = rows[i * d + k];
            s->min[k] = v < s->min[k] ? v : s->min[k];
            s->max[k] = v > s->max[k] ? v : s->max[k];
        }
        s->count++;
        s->dense += cnt[i] >= p->min_points;
        s->has_new |= i == n - 1;
    }
    for (size_t c = 0; c < n_spots; c++) {
        spot_t *s = &out[c];
        double size = 1.0;
        for (uint32_t k = 0; k < d; k++) {
            double w = s->max[k] - s->min[k], floor_w = p->scan_radius / p->scale[k];
            size *= w > floor_w ? w : floor_w;
        }
        s->density = (double)s->count / size;
    }
    oracle_dim = d;
    qsort(out, n_spots, sizeof *out, spot_order);
    return n_spots;
}

/* ---- stream ---------------------------------------------------------------------------------- */

typedef struct gen {
    stream_rng_t rng;
    double centre[3][MAX_D];
    double walker[MAX_D];
    double spread[3];
    config_t c;
} gen_t;

static void gen_next(gen_t *g, uint64_t i, double *v)
{
    const config_t *c = &g->c;
    double u = stream_uniform(&g->rng);
    /* Bursts switch on and off over time so hotspots form, merge, split and leave. */
    if (c->walk && u < 0.5) {
        for (uint32_t k = 0; k < c->dim; k++) {
            g->walker[k] += 0.9 * c->radius * (2.0 * stream_uniform(&g->rng) - 1.0);
            g->walker[k] = g->walker[k] < 0 ? 0 : g->walker[k] > 4 ? 4 : g->walker[k];
            double x = g->walker[k];
            if (c->snap) {
                double step = c->radius / 2;
                x = step * (double)(long)(x / step);
            }
            v[k] = x;
        }
        return;
    }
    int phase = (int)((i / (c->window / 2 + 7)) % 4);
    int cluster = u < 0.3 ? -1 : (int)(u * 10) % 3;
    if (phase == 3 && cluster == 2) {
        cluster = -1;
    }
    for (uint32_t k = 0; k < c->dim; k++) {
        double x;
        if (cluster < 0) {
            x = 10.0 * stream_uniform(&g->rng);
        } else {
            g->centre[cluster][k] += 0.02 * c->radius * stream_gaussian(&g->rng);
            x = g->centre[cluster][k] + g->spread[cluster] * c->radius * stream_gaussian(&g->rng);
        }
        if (c->snap) {
            double step = c->radius / 2;
            x = step * (double)(long)(x / step);
        }
        v[k] = x;
    }
}

static void run(const config_t *c, uint64_t seed)
{
    hs_params_t p = hs_params_default(c->dim);
    p.window_size = c->window;
    p.min_points = c->min_points;
    p.scan_radius = c->radius;
    for (uint32_t k = 0; k < c->dim && c->scaled; k++) {
        p.scale[k] = k % 2 ? 0.5 : 2.0; /* powers of two keep snapped values exactly snapped */
    }
    hs_detector_t *inc, *brute;
    char err[256];
    assert_int_equal(hs_new(&p, &inc, err, sizeof err), 0);
    hs_params_t pb = p;
    pb.algorithm = HS_ALGORITHM_BRUTE_FORCE;
    assert_int_equal(hs_new(&pb, &brute, err, sizeof err), 0);

    gen_t g;
    memset(&g, 0, sizeof g);
    g.c = *c;
    stream_rng_seed(&g.rng, seed);
    for (int j = 0; j < 3; j++) {
        for (uint32_t k = 0; k < c->dim; k++) {
            g.centre[j][k] = 2.0 + 3.0 * j + 0.3 * (double)k;
        }
        g.spread[j] = 0.3 + 0.5 * j;
    }
    static double window[MAX_W * MAX_D];
    static spot_t expect[MAX_W];
    uint32_t held = 0;
    size_t nonempty = 0, multi = 0;
    for (uint64_t i = 0; i < c->records; i++) {
        double v[MAX_D];
        gen_next(&g, i, v);
        hs_result_t ri, rb, rr;
        assert_int_equal(hs_process(inc, v, c->dim, &ri), 0);
        assert_int_equal(hs_process(brute, v, c->dim, &rb), 0);
        assert_int_equal(hs_recompute(inc, &rr), 0);
        if (rr.changed) {
            fail_msg("record %llu (W=%u m=%u d=%u r=%g): incremental differs from brute force",
                     (unsigned long long)i, c->window, c->min_points, c->dim, c->radius);
        }
        assert_int_equal(ri.n_hotspots, rb.n_hotspots);
        assert_int_equal(ri.changed, rb.changed);
        for (size_t h = 0; h < ri.n_hotspots; h++) {
            assert_int_equal(ri.hotspots[h].count, rb.hotspots[h].count);
            assert_true(ri.hotspots[h].density == rb.hotspots[h].density);
            assert_memory_equal(ri.hotspots[h].min_values, rb.hotspots[h].min_values,
                                c->dim * sizeof(double));
            assert_memory_equal(ri.hotspots[h].max_values, rb.hotspots[h].max_values,
                                c->dim * sizeof(double));
        }
        /* The oracle sees the window as this test keeps it. */
        if (held == c->window) {
            memmove(window, window + c->dim, (size_t)(held - 1) * c->dim * sizeof(double));
            held--;
        }
        for (uint32_t k = 0; k < c->dim; k++) {
            window[(size_t)held * c->dim + k] = v[k] + 0.0;
        }
        held++;
        if (i % 3 == 0 || i + 1 == c->records) {
            size_t n = oracle(window, held, &p, expect);
            assert_int_equal(n, ri.n_hotspots);
            for (size_t h = 0; h < n; h++) {
                const hs_hotspot_t *got = &ri.hotspots[h];
                assert_int_equal(got->count, expect[h].count);
                assert_int_equal(got->dense_count, expect[h].dense);
                assert_int_equal(got->contains_new, expect[h].has_new);
                assert_true(got->density == expect[h].density);
                assert_memory_equal(got->min_values, expect[h].min, c->dim * sizeof(double));
                assert_memory_equal(got->max_values, expect[h].max, c->dim * sizeof(double));
            }
        }
        nonempty += ri.n_hotspots > 0;
        multi += ri.n_hotspots > 1;
    }
    /* The stream must actually exercise clustering, or agreement proves little. */
    assert_true(nonempty > c->records / 10);
    hs_stats_t st;
    hs_stats(inc, &st);
    print_message("W=%u m=%u d=%u r=%g snap=%d: %zu records with hotspots, %zu with several, "
                  "%llu merges, %llu splits\n",
                  c->window, c->min_points, c->dim, c->radius, c->snap, nonempty, multi,
                  (unsigned long long)st.merges, (unsigned long long)st.splits);
    hs_destroy(inc);
    hs_destroy(brute);
}

static void test_small_windows(void **state)
{
    (void)state;
    static const config_t cases[] = {
        {10, 2, 1, 0.5, 0, 0, 0, 600},   {10, 3, 2, 1.0, 1, 0, 0, 600},  {12, 9, 2, 6.0, 0, 0, 0, 600},
        {16, 4, 3, 1.0, 1, 1, 0, 600},   {20, 2, 2, 0.25, 1, 0, 0, 800}, {25, 5, 1, 0.3, 1, 0, 0, 800},
        {30, 6, 4, 1.5, 0, 1, 0, 800},   {33, 3, 8, 2.0, 1, 0, 0, 800},  {40, 8, 2, 0.7, 0, 0, 0, 900},
        {10, 10, 1, 6.0, 1, 0, 0, 400},   {20, 2, 2, 0.5, 0, 0, 1, 1500},
        {30, 3, 2, 0.5, 1, 0, 1, 1500},   {24, 2, 1, 0.2, 0, 0, 1, 1500},
        {40, 4, 3, 1.0, 1, 1, 1, 1500},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run(&cases[i], 100 + i);
    }
}

static void test_medium_windows(void **state)
{
    (void)state;
    static const config_t cases[] = {
        {64, 5, 2, 0.6, 0, 0, 0, 1200},  {100, 10, 2, 0.5, 1, 0, 0, 1200}, {100, 4, 3, 0.8, 0, 1, 0, 1200},
        {128, 17, 2, 0.5, 0, 0, 0, 1200}, {150, 3, 1, 0.1, 1, 0, 0, 1200}, {90, 6, 5, 1.5, 1, 1, 0, 1000},
        {120, 12, 8, 2.5, 0, 0, 0, 1000}, {77, 2, 2, 0.2, 1, 0, 0, 1200},
        {100, 3, 2, 0.3, 0, 0, 1, 2000},  {150, 5, 2, 0.3, 1, 0, 1, 2000},
        {80, 2, 3, 0.6, 0, 1, 1, 2000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run(&cases[i], 200 + i);
    }
}

static void test_large_windows(void **state)
{
    (void)state;
    static const config_t cases[] = {
        {300, 20, 2, 0.4, 0, 0, 0, 1500},
        {300, 4, 2, 0.25, 0, 0, 1, 2500},
        {400, 8, 3, 0.5, 1, 0, 0, 1500},
        {250, 30, 2, 1.0, 1, 1, 0, 1500},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run(&cases[i], 300 + i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_windows),
        cmocka_unit_test(test_medium_windows),
        cmocka_unit_test(test_large_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
