#include "tree.h"

#include <math.h>
#include <string.h>

#include "box.h"
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
    t->kern = box_kernels();
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

/* The cached side-length sum is always recomputed from the box (box.h's fixed summation order), so
 * it equals what a snapshot reload computes. */
static void refresh_range_sum(rcf_tree_t *t, uint32_t node);

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

static void refresh_range_sum(rcf_tree_t *t, uint32_t node)
{
    const float *mn = box_min_rw(t, node);
    set_range_sum(t, node, box_range_sum(t->kern, mn, mn + t->dim, t->dim));
}

static void extend_box(rcf_tree_t *t, uint32_t node, const float *x)
{
    float *mn = box_min_rw(t, node);
    if (box_extend(mn, mn + t->dim, t->dim, x)) {
        refresh_range_sum(t, node);
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
    uint32_t i = 0;
#if defined(__SSE2__)
    /* Four merged sides at a time (the conversions and min/max are exact, so the walk below sees
     * the very doubles the scalar loop computes); the walk along them stays sequential. */
    for (; i + 4 <= d; i += 4) {
        __m128 xv = _mm_loadu_ps(x + i);
        __m128 lof = _mm_min_ps(xv, _mm_loadu_ps(mn + i));
        __m128 hif = _mm_max_ps(xv, _mm_loadu_ps(mx + i));
        double lo[4], side[4];
        __m128d lo01 = _mm_cvtps_pd(lof), lo23 = _mm_cvtps_pd(_mm_movehl_ps(lof, lof));
        _mm_storeu_pd(lo, lo01);
        _mm_storeu_pd(lo + 2, lo23);
        _mm_storeu_pd(side, _mm_sub_pd(_mm_cvtps_pd(hif), lo01));
        _mm_storeu_pd(side + 2, _mm_sub_pd(_mm_cvtps_pd(_mm_movehl_ps(hif, hif)), lo23));
        for (uint32_t k = 0; k < 4; k++) {
            if (side[k] <= 0.0) {
                continue;
            }
            if (r < side[k]) {
                *cut = lo[k] + r;
                return i + k;
            }
            r -= side[k];
            last = i + k;
            last_lo = lo[k];
            last_side = side[k];
        }
    }
#endif
    for (; i < d; i++) {
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
    box_union(bmin, bmin + t->dim, x, x, mn, mx, t->dim);
    refresh_range_sum(t, node);
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
        if (d >= BOX_WIDE_MIN) {
            /* Most levels of a wide box hold x inside: a compare settles them without the sum. */
            gap = box_outside(t->kern, mn, mx, d, x) ? t->kern->gap(mn, mx, d, x) : 0.0;
        } else {
            for (uint32_t i = 0; i < d; i++) {
                if (x[i] > mx[i]) {
                    gap += (double)x[i] - (double)mx[i];
                } else if (x[i] < mn[i]) {
                    gap += (double)mn[i] - (double)x[i];
                }
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
    int changed = box_merge(mn, mn + t->dim, lmin, lmax, rmin, rmax, t->dim);
    if (changed) {
        refresh_range_sum(t, node);
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

/* The scoring walk's hottest loop (box.h). */
static inline __attribute__((always_inline)) double node_gap(const rcf_tree_t *t, uint32_t node,
                                                             const float *x)
{
    return box_gap(t->kern, tree_box_min(t, node), tree_box_max(t, node), t->dim, x);
}

/* score_from_leaf's walk for one dimension, where a box record is {side length, min, max} in 16
 * bytes: the narrow loop's arithmetic (box_gap_term, then box_walk_level) with x converted once,
 * and none of its per-level dispatch on the dimension. At 1-D the walk up is a few levels, so
 * that dispatch was most of its instructions. */
static inline __attribute__((always_inline)) double
score_walk_one(const unsigned char *boxes, const uint32_t *path, uint32_t depth, double x,
               double score)
{
    for (uint32_t k = depth; k-- > 0;) {
        const unsigned char *rec = boxes + (size_t)path[k] * 16;
        double range = *(const double *)(const void *)rec;
        const float *lohi = (const float *)(const void *)(rec + 8);
        double up = x - (double)lohi[1];
        double down = (double)lohi[0] - x;
        double gap = (up > 0.0 ? up : 0.0) + (down > 0.0 ? down : 0.0);
        if (gap <= 0.0) {
            break; /* x inside this box, hence inside every box above */
        }
        score = box_walk_level(score, gap, range, k);
    }
    return score;
}

/* The upward half of formula 3: from the leaf reached at `depth` back to the root along `path`.
 * `norm` is log2(M + 1) for the tree's mass M (the callers keep it across trees of equal mass).
 * x can be the leaf's point only if the walk stopped at once (the point lies in every ancestor's
 * box), so the point is compared after the walk, and only then: most walks never make the point
 * store's three dependent loads. A level that changes the score by less than its rounding also
 * leaves it equal, which costs a compare, never a wrong score. */
static inline __attribute__((always_inline)) double
score_from_leaf(const rcf_tree_t *t, const pointstore_t *ps, const float *x,
                const uint32_t *path, uint32_t depth, uint32_t leaf, double norm)
{
    const double unseen = 1.0 / ((double)depth + 1.0);
    double score = unseen;
    if (t->dim == 1) {
        score = score_walk_one(t->boxes, path, depth, (double)x[0], score);
    } else if (t->dim >= BOX_WALK_MIN_D && t->dim <= BOX_WALK_MAX_D &&
               t->kern->score_walk != NULL) {
        score = t->kern->score_walk(t->boxes, t->box_stride, path, depth, x, t->dim, score);
    } else {
        for (uint32_t k = depth; k-- > 0;) {
            uint32_t node = path[k];
            double gap = node_gap(t, node, x);
            if (gap <= 0.0) {
                break; /* x inside this box, hence inside every box above */
            }
            /* The arithmetic of every walk (box.h), so all report bit-identical scores. */
            score = box_walk_level(score, gap, tree_range_sum(t, node), k);
        }
    }
    if (score == unseen) {
        uint32_t slot = tree_leaf_slot(t, leaf);
        if (points_equal(x, pointstore_values(ps, t->leaf_point[slot]), t->dim)) {
            /* Seen before: no ancestor changes the score. */
            double m = (double)t->leaf_mass[slot];
            score = (1.0 - m / (2.0 * (double)tree_mass(t))) / ((double)depth + log2(m + 1.0));
        }
    }
    return score * norm;
}

/* log2(M + 1) of a tree's mass, recomputed only when M differs from the last tree's (all trees of
 * a forest hold the same mass once their samples are full). */
static double tree_norm(const rcf_tree_t *t, uint32_t *last_mass, double *last_norm)
{
    uint32_t m = tree_mass(t);
    if (m != *last_mass) {
        *last_mass = m;
        *last_norm = log2((double)m + 1.0);
    }
    return *last_norm;
}

double tree_score(const rcf_tree_t *t, const pointstore_t *ps, const float *x, uint32_t *path)
{
    if (t->root == RCF_TREE_NULL) {
        return 0.0;
    }
    uint32_t depth;
    uint32_t leaf = descend(t, x, path, &depth);
    return score_from_leaf(t, ps, x, path, depth, leaf, log2((double)tree_mass(t) + 1.0));
}

/* Starts fetching one cache line. gcc 12 at -O1 and above drops __builtin_prefetch (and
 * _mm_prefetch) from the descent below: tree.o had no prefetch instruction left. An asm statement
 * it must keep. */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define PREFETCH_LINE(p) __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)(p)))
#define PREFETCH_LINE_L2(p) __asm__ volatile("prefetcht1 %0" : : "m"(*(const char *)(p)))
#else
#define PREFETCH_LINE(p) __builtin_prefetch(p)
#define PREFETCH_LINE_L2(p) __builtin_prefetch(p, 0, 2)
#endif

/* Starts fetching a wide box record's cache lines into L2: `lines` 64-byte steps from p, at most 8
 * (a wider box gets its first 512 bytes; the walk up stalls on the rest). Not into L1: a group's
 * paths at 48 dimensions are some 600 lines (38 KB, more than a 32 KB L1), so lines fetched there
 * for the first trees were evicted again before their walks. Into L2: 1.15x and 1.11x at shingle
 * 48 (A/B, 9 and 8 of 10 rounds); at 8 dimensions, two lines a level, L1 stays better. Unrolled:
 * it runs at every step of a descent. */
static inline void prefetch_record(const unsigned char *p, unsigned lines)
{
    switch (lines < 8 ? lines : 8) {
    case 8: PREFETCH_LINE_L2(p + 448); /* fall through */
    case 7: PREFETCH_LINE_L2(p + 384); /* fall through */
    case 6: PREFETCH_LINE_L2(p + 320); /* fall through */
    case 5: PREFETCH_LINE_L2(p + 256); /* fall through */
    case 4: PREFETCH_LINE_L2(p + 192); /* fall through */
    case 3: PREFETCH_LINE_L2(p + 128); /* fall through */
    case 2: PREFETCH_LINE_L2(p + 64); /* fall through */
    default: PREFETCH_LINE_L2(p);
    }
}

/* Descends trees[0..group) along x's cuts one level of every unfinished tree per pass, so the
 * independent chains of loads overlap; records each path and the leaf reached (RCF_TREE_NULL for an
 * empty tree), and starts fetching the box of every node it passes. The trees
 * still descending sit in a short list of {node array, path end, node} (finished ones swapped
 * out), so a step is a handful of loads and no index arithmetic; all trees share one capacity, so
 * "leaf or empty" is one compare. */
static inline __attribute__((always_inline)) void
descend_lockstep(const rcf_tree_t *trees, uint32_t group, const float *x, uint32_t *paths,
                 uint32_t cap, uint32_t *cur, uint32_t *depth, int fetch)
{
    const uint32_t first_leaf = cap - 1; /* RCF_TREE_NULL is above it too */
    const size_t stride = trees[0].box_stride;
    const unsigned lines = (unsigned)((stride + 63) / 64); /* prefetch_record caps it at 8 */
    struct walker {
        const rcf_node_t *node;
        const unsigned char *boxes;
        uint32_t *path; /* next free entry of this tree's path */
        uint32_t n;
        uint32_t j;
    } live[RCF_LOCKSTEP];
    uint32_t n_live = 0;
    for (uint32_t j = 0; j < group; j++) {
        cur[j] = trees[j].root;
        depth[j] = 0;
        if (cur[j] < first_leaf) {
            live[n_live++] =
                (struct walker){trees[j].node, trees[j].boxes, paths + j * cap, cur[j], j};
        }
    }
    while (n_live > 0) {
        for (uint32_t a = 0; a < n_live;) {
            struct walker *w = &live[a];
            uint32_t n = w->n;
            *w->path++ = n;
            /* The walk up reads nearly every box on the path: start fetching each one now. */
            if (fetch) {
                prefetch_record(w->boxes + (size_t)n * stride, lines);
            }
            const rcf_node_t *nd = &w->node[n];
            n = nd->child[x[nd->cut_dim] > nd->cut_val];
            w->n = n;
            if (n >= first_leaf) {
                cur[w->j] = n;
                depth[w->j] = (uint32_t)(w->path - (paths + w->j * cap));
                *w = live[--n_live];
            } else {
                a++;
            }
        }
    }
}

/* descend_lockstep for a full group of trees, with each tree's node in a register of its own (the
 * loop unrolled over the group) and a bit per tree still descending, instead of a list of walkers
 * in memory: 10% fewer instructions at 1-D, the same eight chains of loads in flight, and 1.09x
 * the records/s (A/B, 9 of 10 rounds). `fetch` is the box lines to prefetch per node (0 to 2);
 * with a wide record's eight it was slower at shingle 48 (0.875x, 3 of 8), so those keep the
 * walker list. At one dimension every cut is on x[0]. The paths, leaves and depths are
 * descend_lockstep's. */
static inline __attribute__((always_inline)) void
descend_eight(const rcf_tree_t *trees, const float *x, uint32_t *paths, uint32_t cap,
              uint32_t *cur, uint32_t *depth, unsigned fetch, int one_dim)
{
    const uint32_t first_leaf = cap - 1; /* RCF_TREE_NULL is above it too */
    const size_t stride = trees[0].box_stride;
    const float x0 = x[0];
    const rcf_node_t *node[RCF_LOCKSTEP];
    const unsigned char *boxes[RCF_LOCKSTEP];
    uint32_t n[RCF_LOCKSTEP];
    unsigned live = 0;
    for (uint32_t j = 0; j < RCF_LOCKSTEP; j++) {
        node[j] = trees[j].node;
        boxes[j] = trees[j].boxes;
        n[j] = trees[j].root;
        cur[j] = n[j];
        depth[j] = 0;
        live |= (unsigned)(n[j] < first_leaf) << j;
    }
    for (uint32_t d = 0; live != 0; d++) {
#pragma GCC unroll 8
        for (uint32_t j = 0; j < RCF_LOCKSTEP; j++) {
            if (live & (1u << j)) {
                paths[j * cap + d] = n[j];
                if (fetch > 0) {
                    const unsigned char *rec = boxes[j] + (size_t)n[j] * stride;
                    PREFETCH_LINE(rec);
                    if (fetch > 1) {
                        PREFETCH_LINE(rec + 64);
                    }
                }
                const rcf_node_t *nd = &node[j][n[j]];
                n[j] = nd->child[(one_dim ? x0 : x[nd->cut_dim]) > nd->cut_val];
                if (n[j] >= first_leaf) {
                    live &= ~(1u << j);
                    cur[j] = n[j];
                    depth[j] = d + 1;
                }
            }
        }
    }
}

static void descend_group(const rcf_tree_t *trees, uint32_t group, const float *x, uint32_t *paths,
                          uint32_t cap, uint32_t *cur, uint32_t *depth)
{
    /* A record within one cache line (under 8 dimensions) is not worth the prefetch's
     * instructions: the walk up reads two or three of them, no faster for being fetched ahead
     * (A/B at 1-D: 0.996x). Separate copies of the loop, so none tests it per step. */
    const size_t stride = trees[0].box_stride;
    if (group == RCF_LOCKSTEP && stride <= 128) {
        if (trees[0].dim == 1) {
            descend_eight(trees, x, paths, cap, cur, depth, 0, 1);
        } else if (stride <= 64) {
            descend_eight(trees, x, paths, cap, cur, depth, 0, 0);
        } else {
            descend_eight(trees, x, paths, cap, cur, depth, 2, 0);
        }
    } else if (stride > 64) {
        descend_lockstep(trees, group, x, paths, cap, cur, depth, 1);
    } else {
        descend_lockstep(trees, group, x, paths, cap, cur, depth, 0);
    }
}

/* Starts fetching the boxes the walks up of a group read first: the lowest RCF_WALK_FETCH levels of
 * each path. The walks run one tree after the other, each stalling on its first box until it
 * arrives; the descent, which prefetches every level's box of wider records, fetches none of
 * these narrow ones (most levels of a 1-D path are never walked: 2.5 of 14 on average). */
#define RCF_WALK_FETCH 3
static void fetch_walk_start(const rcf_tree_t *trees, uint32_t group, const uint32_t *paths,
                             uint32_t cap, const uint32_t *depth)
{
    const size_t stride = trees[0].box_stride;
    for (uint32_t j = 0; j < group; j++) {
        const uint32_t *path = paths + j * cap;
        for (uint32_t k = depth[j], n = 0; k-- > 0 && n < RCF_WALK_FETCH; n++) {
            PREFETCH_LINE(trees[j].boxes + (size_t)path[k] * stride);
        }
    }
}

double trees_score_sum(const rcf_tree_t *trees, uint32_t n_trees, const pointstore_t *ps,
                       const float *x, uint32_t *paths)
{
    const uint32_t cap = trees[0].capacity;
    double sum = 0.0;
    uint32_t last_mass = UINT32_MAX;
    double last_norm = 0.0;
    for (uint32_t first = 0; first < n_trees; first += RCF_LOCKSTEP) {
        uint32_t group = n_trees - first < RCF_LOCKSTEP ? n_trees - first : RCF_LOCKSTEP;
        uint32_t cur[RCF_LOCKSTEP], depth[RCF_LOCKSTEP];
        descend_group(trees + first, group, x, paths, cap, cur, depth);
        if (trees[0].box_stride <= 64) {
            fetch_walk_start(trees + first, group, paths, cap, depth);
        }
        for (uint32_t j = 0; j < group; j++) {
            if (cur[j] != RCF_TREE_NULL) {
                const rcf_tree_t *t = &trees[first + j];
                sum += score_from_leaf(t, ps, x, paths + j * cap, depth[j], cur[j],
                                       tree_norm(t, &last_mass, &last_norm));
            }
        }
    }
    return sum;
}

/* The upward half of formula 4 for one tree, from the leaf reached at `depth`. */
static double attribution_from_leaf(const rcf_tree_t *t, const pointstore_t *ps, const float *x,
                                    const uint32_t *path, uint32_t depth, uint32_t leaf,
                                    double weight, double *hi, double *lo, double *high,
                                    double *low, double norm)
{
    const uint32_t d = t->dim;
    const double tree_m = (double)tree_mass(t);
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
    uint32_t i = 0;
#if defined(__SSE2__)
    {
        /* score * -diff is -(score * diff) exactly, so one quotient of |diff| serves the side
         * that is nonzero; the same divisions, two at a time. */
        const __m128d sign = _mm_set1_pd(-0.0), zero = _mm_setzero_pd();
        const __m128d score2 = _mm_set1_pd(score), range2 = _mm_set1_pd(leaf_range);
        for (; i + 2 <= d; i += 2) {
            __m128d diff = _mm_sub_pd(_mm_cvtps_pd(box_load2f(x + i)),
                                      _mm_cvtps_pd(box_load2f(lp + i)));
            __m128d q = _mm_div_pd(_mm_mul_pd(score2, _mm_andnot_pd(sign, diff)), range2);
            _mm_storeu_pd(hi + i, _mm_and_pd(_mm_cmpgt_pd(diff, zero), q));
            _mm_storeu_pd(lo + i, _mm_and_pd(_mm_cmplt_pd(diff, zero), q));
        }
    }
#endif
    for (; i < d; i++) {
        double diff = (double)x[i] - (double)lp[i];
        hi[i] = diff > 0.0 ? score * diff / leaf_range : 0.0;
        lo[i] = diff < 0.0 ? score * -diff / leaf_range : 0.0;
    }
    for (uint32_t k = depth; k-- > 0;) {
        uint32_t node = path[k];
        double gap = node_gap(t, node, x);
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
        box_blend_outside(t->kern, x, mn, mx, d, unseen / new_range, keep, hi, lo);
        score = p * unseen + keep * score;
    }
    double scale = norm * weight;
    for (i = 0; i < d; i++) {
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
    return attribution_from_leaf(t, ps, x, path, depth, leaf, weight, hi, lo, high, low,
                                 log2((double)tree_mass(t) + 1.0));
}

double trees_attribution_sum(const rcf_tree_t *trees, uint32_t n_trees, const pointstore_t *ps,
                             const float *x, uint32_t *paths, double weight, double *hi,
                             double *lo, double *high, double *low)
{
    const uint32_t cap = trees[0].capacity;
    double sum = 0.0;
    uint32_t last_mass = UINT32_MAX;
    double last_norm = 0.0;
    for (uint32_t first = 0; first < n_trees; first += RCF_LOCKSTEP) {
        uint32_t group = n_trees - first < RCF_LOCKSTEP ? n_trees - first : RCF_LOCKSTEP;
        uint32_t cur[RCF_LOCKSTEP], depth[RCF_LOCKSTEP];
        descend_group(trees + first, group, x, paths, cap, cur, depth);
        for (uint32_t j = 0; j < group; j++) {
            if (cur[j] != RCF_TREE_NULL) {
                const rcf_tree_t *t = &trees[first + j];
                sum += attribution_from_leaf(t, ps, x, paths + j * cap, depth[j], cur[j], weight,
                                             hi, lo, high, low,
                                             tree_norm(t, &last_mass, &last_norm));
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
        box_union(mn, mn + t->dim, lmin, lmax, rmin, rmax, t->dim);
        refresh_range_sum(t, n);
    }
}
