#include "tree.h"

#include <math.h>
#include <string.h>

#include "common/rng.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

size_t tree_bytes(uint32_t capacity, uint32_t dim)
{
    size_t nodes = capacity - 1;
    return align8(nodes * sizeof(rcf_node_t)) + align8(nodes * 2 * sizeof(uint32_t)) +
           align8((size_t)capacity * 3 * sizeof(uint32_t)) + nodes * (8 + (size_t)8 * dim);
}

void tree_init(rcf_tree_t *t, void *mem, uint32_t capacity, uint32_t dim, uint64_t seed)
{
    size_t nodes = capacity - 1;
    unsigned char *p = mem;
    t->capacity = capacity;
    t->dim = dim;
    t->rng = seed;
    t->node = (rcf_node_t *)p;
    p += align8(nodes * sizeof(rcf_node_t));
    t->mass = (uint32_t *)p;
    t->node_free = t->mass + nodes;
    p += align8(nodes * 2 * sizeof(uint32_t));
    t->leaf_point = (uint32_t *)p;
    t->leaf_mass = t->leaf_point + capacity;
    t->leaf_free = t->leaf_mass + capacity;
    p += align8((size_t)capacity * 3 * sizeof(uint32_t));
    t->boxes = p;
    t->box_stride = 8 + (size_t)8 * dim;
    tree_clear(t);
}

void tree_clear(rcf_tree_t *t)
{
    t->root = RCF_TREE_NULL;
    /* Lowest ids on top of the stacks, so they are used first. */
    t->node_free_top = 0;
    for (uint32_t i = t->capacity - 1; i-- > 0;) {
        t->node_free[t->node_free_top++] = i;
    }
    t->leaf_free_top = 0;
    for (uint32_t i = t->capacity; i-- > 0;) {
        t->leaf_free[t->leaf_free_top++] = i;
        t->leaf_mass[i] = 0;
    }
}

uint32_t tree_new_node(rcf_tree_t *t)
{
    return t->node_free_top == 0 ? RCF_TREE_NULL : t->node_free[--t->node_free_top];
}

uint32_t tree_new_leaf(rcf_tree_t *t, uint32_t point, uint32_t mass)
{
    if (t->leaf_free_top == 0) {
        return RCF_TREE_NULL;
    }
    uint32_t slot = t->leaf_free[--t->leaf_free_top];
    t->leaf_point[slot] = point;
    t->leaf_mass[slot] = mass;
    return slot + (t->capacity - 1);
}

static void free_leaf(rcf_tree_t *t, uint32_t slot)
{
    t->leaf_mass[slot] = 0;
    t->leaf_free[t->leaf_free_top++] = slot;
}

uint32_t tree_mass(const rcf_tree_t *t)
{
    if (t->root == RCF_TREE_NULL) {
        return 0;
    }
    return tree_is_leaf(t, t->root) ? t->leaf_mass[tree_leaf_slot(t, t->root)] : t->mass[t->root];
}

static uint32_t ref_mass(const rcf_tree_t *t, uint32_t ref)
{
    return tree_is_leaf(t, ref) ? t->leaf_mass[tree_leaf_slot(t, ref)] : t->mass[ref];
}

static int points_equal(const float *a, const float *b, uint32_t d)
{
    for (uint32_t i = 0; i < d; i++) {
        if (a[i] != b[i]) {
            return 0;
        }
    }
    return 1;
}

/* Sum of side lengths, always recomputed from the box in dimension order so the cached value equals
 * what a snapshot reload computes. */
static double box_range_sum(const float *mn, const float *mx, uint32_t d)
{
    double s = 0.0;
    for (uint32_t i = 0; i < d; i++) {
        s += (double)mx[i] - (double)mn[i];
    }
    return s;
}

static float *box_min_rw(rcf_tree_t *t, uint32_t node)
{
    return (float *)(void *)(t->boxes + (size_t)node * t->box_stride + 8);
}

static void set_range_sum(rcf_tree_t *t, uint32_t node, double v)
{
    *(double *)(void *)(t->boxes + (size_t)node * t->box_stride) = v;
}

/* Min and max corners of any ref: a leaf's box is its point. */
static void ref_box(const rcf_tree_t *t, const pointstore_t *ps, uint32_t ref, const float **mn,
                    const float **mx)
{
    if (tree_is_leaf(t, ref)) {
        *mn = *mx = pointstore_values(ps, t->leaf_point[tree_leaf_slot(t, ref)]);
    } else {
        *mn = tree_box_min(t, ref);
        *mx = tree_box_max(t, ref);
    }
}

static void extend_box(rcf_tree_t *t, uint32_t node, const float *x)
{
    float *mn = box_min_rw(t, node);
    float *mx = mn + t->dim;
    int changed = 0;
    for (uint32_t i = 0; i < t->dim; i++) {
        if (x[i] < mn[i]) {
            mn[i] = x[i];
            changed = 1;
        }
        if (x[i] > mx[i]) {
            mx[i] = x[i];
            changed = 1;
        }
    }
    if (changed) {
        set_range_sum(t, node, box_range_sum(mn, mx, t->dim));
    }
}

/* Draws a random cut on box [mn, mx] ∪ {x} whose total side length is `range` > 0: a dimension with
 * probability proportional to its side, then a uniform position along it (formula 2). Returns the
 * dimension; *lo_out is the merged side's lower end and *cut the position in double precision. */
static uint32_t draw_cut(uint64_t *rng, const float *mn, const float *mx, const float *x,
                         uint32_t d, double range, double *cut)
{
    double r = rcfd_rng_uniform(rng) * range;
    uint32_t last = 0;
    double last_lo = 0.0, last_side = 0.0;
    for (uint32_t i = 0; i < d; i++) {
        double lo = x[i] < mn[i] ? (double)x[i] : (double)mn[i];
        double hi = x[i] > mx[i] ? (double)x[i] : (double)mx[i];
        double side = hi - lo;
        if (side <= 0.0) {
            continue;
        }
        if (r < side) {
            *cut = lo + r;
            return i;
        }
        r -= side;
        last = i;
        last_lo = lo;
        last_side = side;
    }
    /* Rounding left r just past the end: cut the last non-empty side in the middle. */
    *cut = last_lo + 0.5 * last_side;
    return last;
}

static void set_node(rcf_tree_t *t, uint32_t node, uint32_t dim, float cut, uint32_t left,
                     uint32_t right, uint32_t mass, const float *mn, const float *mx,
                     const float *x)
{
    t->node[node].cut_dim = dim;
    t->node[node].cut_val = cut;
    t->node[node].child[0] = left;
    t->node[node].child[1] = right;
    t->mass[node] = mass;
    float *bmin = box_min_rw(t, node);
    float *bmax = bmin + t->dim;
    for (uint32_t i = 0; i < t->dim; i++) {
        bmin[i] = x[i] < mn[i] ? x[i] : mn[i];
        bmax[i] = x[i] > mx[i] ? x[i] : mx[i];
    }
    set_range_sum(t, node, box_range_sum(bmin, bmax, t->dim));
}

static void relink(rcf_tree_t *t, uint32_t parent, int side, uint32_t ref)
{
    if (parent == RCF_TREE_NULL) {
        t->root = ref;
    } else {
        t->node[parent].child[(uint32_t)side] = ref;
    }
}

uint32_t tree_insert(rcf_tree_t *t, const pointstore_t *ps, uint32_t id, const float *x)
{
    const uint32_t d = t->dim;
    if (t->root == RCF_TREE_NULL) {
        t->root = tree_new_leaf(t, id, 1);
        return id;
    }
    uint32_t parent = RCF_TREE_NULL;
    int side = 0;
    uint32_t n = t->root;
    /* Every node passed on the way down ends up an ancestor of x, so it is updated as we go. */
    for (;;) {
        if (tree_is_leaf(t, n)) {
            uint32_t slot = tree_leaf_slot(t, n);
            const float *lp = pointstore_values(ps, t->leaf_point[slot]);
            if (points_equal(x, lp, d)) {
                t->leaf_mass[slot]++;
                return t->leaf_point[slot];
            }
            double range = 0.0;
            for (uint32_t i = 0; i < d; i++) {
                range += fabs((double)x[i] - (double)lp[i]);
            }
            double cut;
            uint32_t dim = draw_cut(&t->rng, lp, lp, x, d, range, &cut);
            float hi = x[dim] > lp[dim] ? x[dim] : lp[dim];
            float cutf = (float)cut;
            if (cutf >= hi) {
                cutf = nextafterf(hi, -INFINITY);
            }
            uint32_t node = tree_new_node(t);
            uint32_t leaf = tree_new_leaf(t, id, 1);
            int x_left = x[dim] <= cutf;
            set_node(t, node, dim, cutf, x_left ? leaf : n, x_left ? n : leaf,
                     t->leaf_mass[slot] + 1, lp, lp, x);
            relink(t, parent, side, node);
            return id;
        }

        const float *mn = tree_box_min(t, n);
        const float *mx = tree_box_max(t, n);
        double gap = 0.0;
        for (uint32_t i = 0; i < d; i++) {
            if (x[i] > mx[i]) {
                gap += (double)x[i] - (double)mx[i];
            } else if (x[i] < mn[i]) {
                gap += (double)mn[i] - (double)x[i];
            }
        }
        if (gap > 0.0) {
            double cut;
            uint32_t dim = draw_cut(&t->rng, mn, mx, x, d, tree_range_sum(t, n) + gap, &cut);
            int separates_left = x[dim] < mn[dim] && cut < (double)mn[dim];
            int separates_right = x[dim] > mx[dim] && cut >= (double)mx[dim];
            if (separates_left || separates_right) {
                float cutf = (float)cut;
                if (separates_left && cutf >= mn[dim]) {
                    cutf = nextafterf(mn[dim], -INFINITY);
                } else if (separates_right && cutf >= x[dim]) {
                    cutf = nextafterf(x[dim], -INFINITY);
                }
                uint32_t node = tree_new_node(t);
                uint32_t leaf = tree_new_leaf(t, id, 1);
                set_node(t, node, dim, cutf, separates_left ? leaf : n,
                         separates_left ? n : leaf, t->mass[n] + 1, mn, mx, x);
                relink(t, parent, side, node);
                return id;
            }
            extend_box(t, n, x);
        }
        t->mass[n]++;
        parent = n;
        side = x[t->node[n].cut_dim] > t->node[n].cut_val;
        n = t->node[n].child[(uint32_t)side];
    }
}

/* Re-tightens a node's box from its children; returns whether it changed. */
static int refit_box(rcf_tree_t *t, const pointstore_t *ps, uint32_t node)
{
    const float *lmin, *lmax, *rmin, *rmax;
    ref_box(t, ps, t->node[node].child[0], &lmin, &lmax);
    ref_box(t, ps, t->node[node].child[1], &rmin, &rmax);
    float *mn = box_min_rw(t, node);
    float *mx = mn + t->dim;
    int changed = 0;
    for (uint32_t i = 0; i < t->dim; i++) {
        float lo = lmin[i] < rmin[i] ? lmin[i] : rmin[i];
        float hi = lmax[i] > rmax[i] ? lmax[i] : rmax[i];
        if (lo != mn[i] || hi != mx[i]) {
            mn[i] = lo;
            mx[i] = hi;
            changed = 1;
        }
    }
    if (changed) {
        set_range_sum(t, node, box_range_sum(mn, mx, t->dim));
    }
    return changed;
}

int tree_delete(rcf_tree_t *t, const pointstore_t *ps, uint32_t id, uint32_t *path)
{
    if (t->root == RCF_TREE_NULL) {
        return -1;
    }
    const float *y = pointstore_values(ps, id);
    uint32_t top = 0;
    uint32_t n = t->root;
    while (!tree_is_leaf(t, n)) {
        path[top++] = n;
        n = t->node[n].child[y[t->node[n].cut_dim] > t->node[n].cut_val];
    }
    uint32_t slot = tree_leaf_slot(t, n);
    if (t->leaf_point[slot] != id) {
        return -1;
    }
    if (t->leaf_mass[slot] > 1) {
        t->leaf_mass[slot]--;
        for (uint32_t k = 0; k < top; k++) {
            t->mass[path[k]]--;
        }
        return 0;
    }
    free_leaf(t, slot);
    if (top == 0) {
        t->root = RCF_TREE_NULL;
        return 0;
    }
    uint32_t p = path[top - 1];
    uint32_t sibling = t->node[p].child[0] == n ? t->node[p].child[1] : t->node[p].child[0];
    if (top == 1) {
        t->root = sibling;
    } else {
        uint32_t g = path[top - 2];
        t->node[g].child[t->node[g].child[0] == p ? 0u : 1u] = sibling;
    }
    t->node_free[t->node_free_top++] = p;
    int boxes_settled = 0;
    for (uint32_t k = top - 1; k-- > 0;) {
        uint32_t a = path[k];
        t->mass[a]--;
        /* Once a box stays the same, every box above it does too. */
        if (!boxes_settled && !refit_box(t, ps, a)) {
            boxes_settled = 1;
        }
    }
    return 0;
}

/* Descends along the cuts, recording internal nodes; returns the leaf ref reached. */
static uint32_t descend(const rcf_tree_t *t, const float *x, uint32_t *path, uint32_t *depth)
{
    uint32_t top = 0;
    uint32_t n = t->root;
    while (!tree_is_leaf(t, n)) {
        path[top++] = n;
        n = t->node[n].child[x[t->node[n].cut_dim] > t->node[n].cut_val];
    }
    *depth = top;
    return n;
}

/* Total distance by which x lies outside the box [mn, mx] (the numerator of the separation
 * probability). The hottest loop of scoring. Dimension i feeds partial sum i mod 4 and the four are
 * added in a fixed order; each term is computed in double exactly as the scalar code does, so the
 * SSE2 path and the portable one give the same bits. */
static inline double gap_term(float x, float lo, float hi)
{
    double up = (double)x - (double)hi;
    double down = (double)lo - (double)x;
    return (up > 0.0 ? up : 0.0) + (down > 0.0 ? down : 0.0);
}

static double gap_to_box(const float *mn, const float *mx, size_t d, const float *x)
{
    double acc[4] = {0.0, 0.0, 0.0, 0.0};
    size_t i = 0;
#if defined(__SSE2__)
    const __m128d zero = _mm_setzero_pd();
    __m128d acc01 = zero, acc23 = zero;
    for (; i + 4 <= d; i += 4) {
        __m128 xf = _mm_loadu_ps(x + i), lof = _mm_loadu_ps(mn + i), hif = _mm_loadu_ps(mx + i);
        __m128d x01 = _mm_cvtps_pd(xf), x23 = _mm_cvtps_pd(_mm_movehl_ps(xf, xf));
        __m128d lo01 = _mm_cvtps_pd(lof), lo23 = _mm_cvtps_pd(_mm_movehl_ps(lof, lof));
        __m128d hi01 = _mm_cvtps_pd(hif), hi23 = _mm_cvtps_pd(_mm_movehl_ps(hif, hif));
        acc01 = _mm_add_pd(acc01, _mm_add_pd(_mm_max_pd(_mm_sub_pd(x01, hi01), zero),
                                             _mm_max_pd(_mm_sub_pd(lo01, x01), zero)));
        acc23 = _mm_add_pd(acc23, _mm_add_pd(_mm_max_pd(_mm_sub_pd(x23, hi23), zero),
                                             _mm_max_pd(_mm_sub_pd(lo23, x23), zero)));
    }
    _mm_storeu_pd(acc, acc01);
    _mm_storeu_pd(acc + 2, acc23);
#else
    for (; i + 4 <= d; i += 4) {
        for (size_t k = 0; k < 4; k++) {
            acc[k] += gap_term(x[i + k], mn[i + k], mx[i + k]);
        }
    }
#endif
    for (size_t k = 0; i < d; i++, k++) {
        acc[k] += gap_term(x[i], mn[i], mx[i]);
    }
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

static double box_gap(const rcf_tree_t *t, uint32_t node, const float *x)
{
    return gap_to_box(tree_box_min(t, node), tree_box_max(t, node), t->dim, x);
}

/* The upward half of formula 3: from the leaf reached at `depth` back to the root along `path`. */
static double score_from_leaf(const rcf_tree_t *t, const pointstore_t *ps, const float *x,
                              const uint32_t *path, uint32_t depth, uint32_t leaf)
{
    const double tree_m = (double)tree_mass(t);
    uint32_t slot = tree_leaf_slot(t, leaf);
    double score;
    if (points_equal(x, pointstore_values(ps, t->leaf_point[slot]), t->dim)) {
        /* Seen before: x lies inside every ancestor's box, so no ancestor changes the score. */
        double m = (double)t->leaf_mass[slot];
        score = (1.0 - m / (2.0 * tree_m)) / ((double)depth + log2(m + 1.0));
        return score * log2(tree_m + 1.0);
    }
    score = 1.0 / ((double)depth + 1.0);
    for (uint32_t k = depth; k-- > 0;) {
        uint32_t node = path[k];
        double gap = box_gap(t, node, x);
        if (gap <= 0.0) {
            break; /* x inside this box, hence inside every box above */
        }
        double p = gap / (tree_range_sum(t, node) + gap);
        /* Same arithmetic as tree_attribution, so both report bit-identical scores. */
        score = p * (1.0 / ((double)k + 1.0)) + (1.0 - p) * score;
    }
    return score * log2(tree_m + 1.0);
}

double tree_score(const rcf_tree_t *t, const pointstore_t *ps, const float *x, uint32_t *path)
{
    if (t->root == RCF_TREE_NULL) {
        return 0.0;
    }
    uint32_t depth;
    uint32_t leaf = descend(t, x, path, &depth);
    return score_from_leaf(t, ps, x, path, depth, leaf);
}

static void prefetch_box(const rcf_tree_t *t, uint32_t node)
{
    const unsigned char *p = t->boxes + (size_t)node * t->box_stride;
    for (size_t off = 0; off < t->box_stride; off += 64) {
        __builtin_prefetch(p + off);
    }
}

/* Descends trees[0..group) along x's cuts one level of every unfinished tree per pass, so the
 * independent chains of loads overlap; records each path and the leaf reached (RCF_TREE_NULL for an
 * empty tree), and starts fetching the deepest boxes, which the walk up reads first. */
static void descend_group(const rcf_tree_t *trees, uint32_t group, const float *x, uint32_t *paths,
                          uint32_t cap, uint32_t *cur, uint32_t *depth)
{
    uint32_t active = 0;
    for (uint32_t j = 0; j < group; j++) {
        cur[j] = trees[j].root;
        depth[j] = 0;
        active += cur[j] != RCF_TREE_NULL && !tree_is_leaf(&trees[j], cur[j]);
    }
    while (active > 0) {
        active = 0;
        for (uint32_t j = 0; j < group; j++) {
            const rcf_tree_t *t = &trees[j];
            uint32_t n = cur[j];
            if (n == RCF_TREE_NULL || tree_is_leaf(t, n)) {
                continue;
            }
            paths[j * cap + depth[j]++] = n;
            n = t->node[n].child[x[t->node[n].cut_dim] > t->node[n].cut_val];
            cur[j] = n;
            active += !tree_is_leaf(t, n);
        }
    }
    for (uint32_t j = 0; j < group; j++) {
        for (uint32_t k = depth[j], m = 0; k-- > 0 && m < 2; m++) {
            prefetch_box(&trees[j], paths[j * cap + k]);
        }
    }
}

double trees_score_sum(const rcf_tree_t *trees, uint32_t n_trees, const pointstore_t *ps,
                       const float *x, uint32_t *paths)
{
    const uint32_t cap = trees[0].capacity;
    double sum = 0.0;
    for (uint32_t first = 0; first < n_trees; first += RCF_LOCKSTEP) {
        uint32_t group = n_trees - first < RCF_LOCKSTEP ? n_trees - first : RCF_LOCKSTEP;
        uint32_t cur[RCF_LOCKSTEP], depth[RCF_LOCKSTEP];
        descend_group(trees + first, group, x, paths, cap, cur, depth);
        for (uint32_t j = 0; j < group; j++) {
            if (cur[j] != RCF_TREE_NULL) {
                sum += score_from_leaf(&trees[first + j], ps, x, paths + j * cap, depth[j],
                                       cur[j]);
            }
        }
    }
    return sum;
}

/* hi[i] = per_unit * max(0, x[i] - mx[i]) + keep * hi[i], and likewise lo[i] with mn[i] - x[i]:
 * one level of formula 4. The SSE2 path does the same double operations in the same order. */
#if defined(__SSE2__)
/* Two floats into the low half of a register (__m128i loads may alias anything). */
static inline __m128 load2f(const float *p)
{
    return _mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(const void *)p));
}
#endif

static void blend_outside(const float *x, const float *mn, const float *mx, size_t d,
                          double per_unit, double keep, double *hi, double *lo)
{
    size_t i = 0;
#if defined(__SSE2__)
    const __m128d zero = _mm_setzero_pd();
    const __m128d unit2 = _mm_set1_pd(per_unit), keep2 = _mm_set1_pd(keep);
    for (; i + 2 <= d; i += 2) {
        __m128d xv = _mm_cvtps_pd(load2f(x + i));
        __m128d lov = _mm_cvtps_pd(load2f(mn + i));
        __m128d hiv = _mm_cvtps_pd(load2f(mx + i));
        __m128d up = _mm_max_pd(_mm_sub_pd(xv, hiv), zero);
        __m128d down = _mm_max_pd(_mm_sub_pd(lov, xv), zero);
        __m128d h = _mm_add_pd(_mm_mul_pd(unit2, up), _mm_mul_pd(keep2, _mm_loadu_pd(hi + i)));
        __m128d l = _mm_add_pd(_mm_mul_pd(unit2, down), _mm_mul_pd(keep2, _mm_loadu_pd(lo + i)));
        _mm_storeu_pd(hi + i, h);
        _mm_storeu_pd(lo + i, l);
    }
#endif
    for (; i < d; i++) {
        double up = (double)x[i] - (double)mx[i];
        double down = (double)mn[i] - (double)x[i];
        up = up > 0.0 ? up : 0.0;
        down = down > 0.0 ? down : 0.0;
        hi[i] = per_unit * up + keep * hi[i];
        lo[i] = per_unit * down + keep * lo[i];
    }
}

/* The upward half of formula 4 for one tree, from the leaf reached at `depth`. */
static double attribution_from_leaf(const rcf_tree_t *t, const pointstore_t *ps, const float *x,
                                    const uint32_t *path, uint32_t depth, uint32_t leaf,
                                    double weight, double *hi, double *lo, double *high,
                                    double *low)
{
    const uint32_t d = t->dim;
    const double tree_m = (double)tree_mass(t);
    const double norm = log2(tree_m + 1.0);
    uint32_t slot = tree_leaf_slot(t, leaf);
    const float *lp = pointstore_values(ps, t->leaf_point[slot]);
    double score;
    if (points_equal(x, lp, d)) {
        double m = (double)t->leaf_mass[slot];
        score = (1.0 - m / (2.0 * tree_m)) / ((double)depth + log2(m + 1.0));
        double share = score * norm * weight / (2.0 * d);
        for (uint32_t i = 0; i < d; i++) {
            high[i] += share;
            low[i] += share;
        }
        return score * norm;
    }
    /* The leaf is a zero-volume box: every unit of distance from it is a separating range. */
    double leaf_range = 0.0;
    for (uint32_t i = 0; i < d; i++) {
        leaf_range += fabs((double)x[i] - (double)lp[i]);
    }
    score = 1.0 / ((double)depth + 1.0);
    for (uint32_t i = 0; i < d; i++) {
        double diff = (double)x[i] - (double)lp[i];
        hi[i] = diff > 0.0 ? score * diff / leaf_range : 0.0;
        lo[i] = diff < 0.0 ? score * -diff / leaf_range : 0.0;
    }
    for (uint32_t k = depth; k-- > 0;) {
        uint32_t node = path[k];
        double gap = box_gap(t, node, x);
        if (gap <= 0.0) {
            break;
        }
        const float *mn = tree_box_min(t, node);
        const float *mx = mn + d;
        double new_range = tree_range_sum(t, node) + gap;
        double p = gap / new_range;
        double unseen = 1.0 / ((double)k + 1.0);
        double keep = 1.0 - p;
        /* One division per level, not two per dimension. */
        blend_outside(x, mn, mx, d, unseen / new_range, keep, hi, lo);
        score = p * unseen + keep * score;
    }
    double scale = norm * weight;
    for (uint32_t i = 0; i < d; i++) {
        high[i] += hi[i] * scale;
        low[i] += lo[i] * scale;
    }
    return score * norm;
}

double tree_attribution(const rcf_tree_t *t, const pointstore_t *ps, const float *x,
                        uint32_t *path, double weight, double *hi, double *lo, double *high,
                        double *low)
{
    if (t->root == RCF_TREE_NULL) {
        return 0.0;
    }
    uint32_t depth;
    uint32_t leaf = descend(t, x, path, &depth);
    return attribution_from_leaf(t, ps, x, path, depth, leaf, weight, hi, lo, high, low);
}

double trees_attribution_sum(const rcf_tree_t *trees, uint32_t n_trees, const pointstore_t *ps,
                             const float *x, uint32_t *paths, double weight, double *hi,
                             double *lo, double *high, double *low)
{
    const uint32_t cap = trees[0].capacity;
    double sum = 0.0;
    for (uint32_t first = 0; first < n_trees; first += RCF_LOCKSTEP) {
        uint32_t group = n_trees - first < RCF_LOCKSTEP ? n_trees - first : RCF_LOCKSTEP;
        uint32_t cur[RCF_LOCKSTEP], depth[RCF_LOCKSTEP];
        descend_group(trees + first, group, x, paths, cap, cur, depth);
        for (uint32_t j = 0; j < group; j++) {
            if (cur[j] != RCF_TREE_NULL) {
                sum += attribution_from_leaf(&trees[first + j], ps, x, paths + j * cap, depth[j],
                                             cur[j], weight, hi, lo, high, low);
            }
        }
    }
    return sum;
}

void tree_rebuild_boxes(rcf_tree_t *t, const pointstore_t *ps, uint32_t *stack, uint32_t *order)
{
    if (t->root == RCF_TREE_NULL || tree_is_leaf(t, t->root)) {
        return;
    }
    /* Preorder lists parents before children, so walking it backwards visits children first. */
    uint32_t sp = 0, count = 0;
    stack[sp++] = t->root;
    while (sp > 0) {
        uint32_t n = stack[--sp];
        if (tree_is_leaf(t, n)) {
            continue;
        }
        order[count++] = n;
        stack[sp++] = t->node[n].child[0];
        stack[sp++] = t->node[n].child[1];
    }
    for (uint32_t k = count; k-- > 0;) {
        uint32_t n = order[k];
        t->mass[n] = ref_mass(t, t->node[n].child[0]) + ref_mass(t, t->node[n].child[1]);
        const float *lmin, *lmax, *rmin, *rmax;
        ref_box(t, ps, t->node[n].child[0], &lmin, &lmax);
        ref_box(t, ps, t->node[n].child[1], &rmin, &rmax);
        float *mn = box_min_rw(t, n);
        float *mx = mn + t->dim;
        for (uint32_t i = 0; i < t->dim; i++) {
            mn[i] = lmin[i] < rmin[i] ? lmin[i] : rmin[i];
            mx[i] = lmax[i] > rmax[i] ? lmax[i] : rmax[i];
        }
        set_range_sum(t, n, box_range_sum(mn, mx, t->dim));
    }
}
