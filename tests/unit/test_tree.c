/* Random cut tree: structural invariants after long random insert/delete sequences, and the cached
 * score/attribution against a from-scratch reference that recomputes every box from the leaves. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rcf/pointstore.h"
#include "rcf/tree.h"
#include "rcfd/alloc.h"
#include "streams.h"

#define CAP 64     /* leaves */
#define POINTS 400 /* point store slots */

typedef struct fixture {
    pointstore_t ps;
    void *ps_mem;
    rcf_tree_t tree;
    void *tree_mem;
    uint32_t path[CAP];
    uint32_t dim;
    uint32_t held[CAP * 4]; /* multiset of point ids in the tree */
    uint32_t n_held;
} fixture_t;

static void fixture_init(fixture_t *f, uint32_t dim, uint64_t seed)
{
    memset(f, 0, sizeof *f);
    f->dim = dim;
    f->ps_mem = calloc(1, pointstore_fixed_bytes(POINTS));
    assert_int_equal(pointstore_init(&f->ps, f->ps_mem, POINTS, dim, 1), 0);
    f->tree_mem = calloc(1, tree_bytes(CAP, dim));
    tree_init(&f->tree, f->tree_mem, CAP, dim, seed);
}

static void fixture_fini(fixture_t *f)
{
    pointstore_fini(&f->ps);
    free(f->ps_mem);
    free(f->tree_mem);
}

/* Checks one subtree; returns its mass and writes its exact box. */
static uint32_t check_subtree(const fixture_t *f, uint32_t ref, float *mn, float *mx,
                              int *leaves_seen, int *nodes_seen)
{
    const rcf_tree_t *t = &f->tree;
    if (tree_is_leaf(t, ref)) {
        uint32_t slot = tree_leaf_slot(t, ref);
        assert_true(slot < t->capacity);
        assert_true(t->leaf_mass[slot] > 0);
        leaves_seen[slot]++;
        const float *p = pointstore_values(&f->ps, t->leaf_point[slot]);
        memcpy(mn, p, sizeof(float) * f->dim);
        memcpy(mx, p, sizeof(float) * f->dim);
        return t->leaf_mass[slot];
    }
    assert_true(ref < t->capacity - 1);
    nodes_seen[ref]++;
    float lmin[8], lmax[8], rmin[8], rmax[8];
    uint32_t ml = check_subtree(f, t->node[ref].child[0], lmin, lmax, leaves_seen, nodes_seen);
    uint32_t mr = check_subtree(f, t->node[ref].child[1], rmin, rmax, leaves_seen, nodes_seen);
    assert_int_equal(t->mass[ref], ml + mr);
    uint32_t d = t->node[ref].cut_dim;
    assert_true(d < f->dim);
    /* The cut separates the children: left <= cut < right. */
    assert_true(lmax[d] <= t->node[ref].cut_val);
    assert_true(rmin[d] > t->node[ref].cut_val);
    const float *bmin = tree_box_min(t, ref), *bmax = tree_box_max(t, ref);
    double range = 0.0;
    for (uint32_t i = 0; i < f->dim; i++) {
        mn[i] = fminf(lmin[i], rmin[i]);
        mx[i] = fmaxf(lmax[i], rmax[i]);
        assert_true(bmin[i] == mn[i]); /* cached boxes are exact, not just containing */
        assert_true(bmax[i] == mx[i]);
        range += (double)mx[i] - (double)mn[i];
    }
    assert_true(tree_range_sum(t, ref) == range);
    return ml + mr;
}

static void check_invariants(const fixture_t *f)
{
    const rcf_tree_t *t = &f->tree;
    int leaves_seen[CAP] = {0}, nodes_seen[CAP] = {0};
    uint32_t mass = 0;
    if (t->root != RCF_TREE_NULL) {
        float mn[8], mx[8];
        mass = check_subtree(f, t->root, mn, mx, leaves_seen, nodes_seen);
    }
    assert_int_equal(mass, f->n_held);
    assert_int_equal(tree_mass(t), f->n_held);
    /* Free lists are exactly the complement of what the tree uses. */
    int node_free[CAP] = {0}, leaf_free[CAP] = {0};
    for (uint32_t k = 0; k < t->node_free_top; k++) {
        assert_int_equal(node_free[t->node_free[k]]++, 0);
    }
    for (uint32_t k = 0; k < t->leaf_free_top; k++) {
        assert_int_equal(leaf_free[t->leaf_free[k]]++, 0);
    }
    for (uint32_t i = 0; i + 1 < t->capacity; i++) {
        assert_int_equal(nodes_seen[i] + node_free[i], 1);
    }
    for (uint32_t i = 0; i < t->capacity; i++) {
        assert_int_equal(leaves_seen[i] + leaf_free[i], 1);
    }
    /* Each held point id's multiplicity is its leaf's mass. */
    for (uint32_t slot = 0; slot < t->capacity; slot++) {
        if (!leaves_seen[slot]) {
            continue;
        }
        uint32_t count = 0;
        for (uint32_t k = 0; k < f->n_held; k++) {
            count += f->held[k] == t->leaf_point[slot];
        }
        assert_int_equal(count, t->leaf_mass[slot]);
    }
}

static uint32_t add_point(fixture_t *f, const float *x)
{
    pointstore_append(&f->ps, x);
    return pointstore_add_latest(&f->ps);
}

static void insert(fixture_t *f, const float *x)
{
    uint32_t id = add_point(f, x);
    uint32_t used = tree_insert(&f->tree, &f->ps, id, x);
    pointstore_retain(&f->ps, used);
    pointstore_release_if_unused(&f->ps, id);
    f->held[f->n_held++] = used;
}

static void delete_at(fixture_t *f, uint32_t k)
{
    uint32_t id = f->held[k];
    assert_int_equal(tree_delete(&f->tree, &f->ps, id, f->path), 0);
    pointstore_release(&f->ps, id);
    f->held[k] = f->held[--f->n_held];
}

static void random_point(stream_rng_t *r, float *x, uint32_t dim, int coarse)
{
    for (uint32_t i = 0; i < dim; i++) {
        /* Coarse values make exact duplicates common, exercising leaf masses. */
        x[i] = coarse ? (float)(int)(stream_uniform(r) * 4) : (float)stream_gaussian(r);
    }
}

static void test_invariants_random_ops(void **state)
{
    (void)state;
    for (uint32_t dim = 1; dim <= 5; dim += 2) {
        for (int coarse = 0; coarse <= 1; coarse++) {
            fixture_t f;
            fixture_init(&f, dim, 1000 + dim);
            stream_rng_t r;
            stream_rng_seed(&r, 77 + dim * 2 + (uint64_t)coarse);
            float x[8];
            for (int op = 0; op < 6000; op++) {
                int do_insert = f.n_held == 0 ||
                                (f.n_held < CAP && stream_uniform(&r) < 0.55);
                if (do_insert) {
                    random_point(&r, x, dim, coarse);
                    insert(&f, x);
                } else {
                    delete_at(&f, (uint32_t)(stream_uniform(&r) * f.n_held));
                }
                if (op % 37 == 0) {
                    check_invariants(&f);
                }
            }
            while (f.n_held > 0) {
                delete_at(&f, f.n_held - 1);
            }
            check_invariants(&f);
            assert_int_equal(f.tree.root, RCF_TREE_NULL);
            assert_int_equal(f.ps.live, 0);
            fixture_fini(&f);
        }
    }
}

/* ---- reference scoring: boxes recomputed from the leaves at every node ------------------------ */

static void subtree_box(const fixture_t *f, uint32_t ref, double *mn, double *mx)
{
    const rcf_tree_t *t = &f->tree;
    if (tree_is_leaf(t, ref)) {
        const float *p = pointstore_values(&f->ps, t->leaf_point[tree_leaf_slot(t, ref)]);
        for (uint32_t i = 0; i < f->dim; i++) {
            mn[i] = mx[i] = p[i];
        }
        return;
    }
    double a[8], b[8], c[8], d[8];
    subtree_box(f, t->node[ref].child[0], a, b);
    subtree_box(f, t->node[ref].child[1], c, d);
    for (uint32_t i = 0; i < f->dim; i++) {
        mn[i] = fmin(a[i], c[i]);
        mx[i] = fmax(b[i], d[i]);
    }
}

/* Formula 3 and 4 written the long way: recursion to the leaf, then ancestors on the way back. */
static double reference(const fixture_t *f, uint32_t ref, uint32_t depth, const float *x,
                        double *hi, double *lo, int *inside)
{
    const rcf_tree_t *t = &f->tree;
    const uint32_t d = f->dim;
    double tree_m = (double)tree_mass(t);
    if (tree_is_leaf(t, ref)) {
        uint32_t slot = tree_leaf_slot(t, ref);
        const float *p = pointstore_values(&f->ps, t->leaf_point[slot]);
        int same = 1;
        for (uint32_t i = 0; i < d; i++) {
            same &= p[i] == x[i];
        }
        if (same) {
            double m = t->leaf_mass[slot];
            double s = (1.0 - m / (2.0 * tree_m)) / (depth + log2(m + 1.0));
            for (uint32_t i = 0; i < d; i++) {
                hi[i] = lo[i] = s / (2.0 * d);
            }
            *inside = 1;
            return s;
        }
        double sum = 0.0;
        for (uint32_t i = 0; i < d; i++) {
            sum += fabs((double)x[i] - p[i]);
        }
        double s = 1.0 / (depth + 1.0);
        for (uint32_t i = 0; i < d; i++) {
            hi[i] = x[i] > p[i] ? s * ((double)x[i] - p[i]) / sum : 0.0;
            lo[i] = x[i] < p[i] ? s * (p[i] - (double)x[i]) / sum : 0.0;
        }
        *inside = 0;
        return s;
    }
    uint32_t next = t->node[ref].child[x[t->node[ref].cut_dim] > t->node[ref].cut_val];
    double s = reference(f, next, depth + 1, x, hi, lo, inside);
    if (*inside) {
        return s;
    }
    double mn[8], mx[8], gap = 0.0, range = 0.0, up[8], down[8];
    subtree_box(f, ref, mn, mx);
    for (uint32_t i = 0; i < d; i++) {
        up[i] = fmax(0.0, x[i] - mx[i]);
        down[i] = fmax(0.0, mn[i] - x[i]);
        gap += up[i] + down[i];
        range += mx[i] - mn[i];
    }
    if (gap == 0.0) {
        *inside = 1;
        return s;
    }
    double p = gap / (range + gap);
    for (uint32_t i = 0; i < d; i++) {
        hi[i] = up[i] / (range + gap) / (depth + 1.0) + (1.0 - p) * hi[i];
        lo[i] = down[i] / (range + gap) / (depth + 1.0) + (1.0 - p) * lo[i];
    }
    return p / (depth + 1.0) + (1.0 - p) * s;
}

static void test_score_matches_reference(void **state)
{
    (void)state;
    const uint32_t dim = 3;
    fixture_t f;
    fixture_init(&f, dim, 99);
    stream_rng_t r;
    stream_rng_seed(&r, 5);
    float x[8];
    double high[8], low[8], th[8], tl[8], rh[8], rl[8];
    for (int round = 0; round < 300; round++) {
        if (f.n_held < CAP) {
            random_point(&r, x, dim, round % 3 == 0);
            insert(&f, x);
        } else {
            delete_at(&f, (uint32_t)(stream_uniform(&r) * f.n_held));
        }
        /* Query points: fresh ones, far outliers and exact copies of held points. */
        for (int q = 0; q < 3; q++) {
            if (q == 2) {
                memcpy(x, pointstore_values(&f.ps, f.held[round % f.n_held]), sizeof(float) * dim);
            } else {
                random_point(&r, x, dim, 0);
                x[0] *= q == 1 ? 8.0f : 1.0f;
            }
            double norm = log2((double)tree_mass(&f.tree) + 1.0);
            int inside = 0;
            double want = reference(&f, f.tree.root, 0, x, rh, rl, &inside) * norm;
            double got = tree_score(&f.tree, &f.ps, x, f.path);
            assert_float_equal(got, want, 1e-12 * fmax(1.0, want));
            memset(high, 0, sizeof high);
            memset(low, 0, sizeof low);
            double got2 = tree_attribution(&f.tree, &f.ps, x, f.path, 1.0, th, tl, high, low);
            assert_true(got2 == got); /* same traversal, same arithmetic */
            double sum = 0.0;
            for (uint32_t i = 0; i < dim; i++) {
                assert_float_equal(high[i], rh[i] * norm, 1e-12);
                assert_float_equal(low[i], rl[i] * norm, 1e-12);
                sum += high[i] + low[i];
            }
            assert_float_equal(sum, got, 1e-9 * got);
        }
    }
    fixture_fini(&f);
}

/* A single point, then its duplicate, then an outlier: the closed forms of formula 3. */
static void test_score_closed_forms(void **state)
{
    (void)state;
    fixture_t f;
    fixture_init(&f, 1, 3);
    float a = 1.0f, b = 2.0f;
    insert(&f, &a);
    /* Mass 1, root leaf at depth 0: unseen scores 1/(0+1) * log2(2) = 1. */
    assert_float_equal(tree_score(&f.tree, &f.ps, &b, f.path), 1.0, 1e-15);
    /* Seen: damp(1,1) * 1/(0 + log2 2) * log2 2 = 0.5. */
    assert_float_equal(tree_score(&f.tree, &f.ps, &a, f.path), 0.5, 1e-15);
    insert(&f, &a);
    /* Mass 2 leaf of a mass-2 tree: (1 - 2/4) / log2(3) * log2(3) = 0.5. */
    assert_float_equal(tree_score(&f.tree, &f.ps, &a, f.path), 0.5, 1e-15);
    assert_int_equal(f.tree.leaf_free_top, CAP - 1); /* still one leaf */
    insert(&f, &b);
    /* Tree {1,1 | 2}: x = 4 lands in leaf 2 at depth 1 (unseen 1/2), root box [1,2] with gap 2
     * and range 1 gives p = 2/3: 2/3 * 1 + 1/3 * 1/2 = 5/6, times log2(4) = 2. */
    float c = 4.0f;
    assert_float_equal(tree_score(&f.tree, &f.ps, &c, f.path), 5.0 / 3.0, 1e-12);
    check_invariants(&f);
    fixture_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invariants_random_ops),
        cmocka_unit_test(test_score_matches_reference),
        cmocka_unit_test(test_score_closed_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
