/* One random cut tree over the forest's shared point store.
 *
 * Flat arrays indexed by node id, sized once for `capacity` leaves (the sample size L):
 *   internal nodes  0 .. L-2        node[n] = {child[0] (left, values <= cut), child[1] (right),
 *                                   cut_dim, cut_val}; mass[n]; box record n = {range_sum (the sum
 *                                   of the box's side lengths), min[dim], max[dim]}
 * What one step of a walk reads sits together: the routing fields of a descent in one 16-byte
 * record, and the box with its side-length sum in one record on the way up (16 bytes when dim = 1),
 * so each level costs one cache line where separate columns cost two or three.
 *   leaves          ref L-1 .. 2L-2 leaf slot ref-(L-1): leaf_point (point store id), leaf_mass
 *   RCF_TREE_NULL                   no node
 * Boxes of internal nodes are cached (the reference library's bounding-box cache fraction 1.0), so
 * scoring costs one pass up the path. Free internal nodes and leaf slots are stacks of ids.
 *
 * Insertion follows the reference random-cut rule (anchors §3.2 formula 2) top-down: at each node a
 * cut is drawn on box ∪ {x} with probability proportional to side lengths; if it separates x from
 * the box, x becomes a sibling there. Deletion splices out the leaf's parent and re-tightens the
 * boxes above. Masses and boxes are exact after every operation. */
#ifndef RCFD_RCF_TREE_H
#define RCFD_RCF_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "box.h"
#include "pointstore.h"

#define RCF_TREE_NULL UINT32_MAX

typedef struct rcf_node {
    uint32_t child[2];
    uint32_t cut_dim;
    float cut_val;
} rcf_node_t;

typedef struct rcf_tree {
    uint32_t capacity; /* L */
    uint32_t dim;
    uint32_t root;
    rcf_node_t *node;     /* [L-1] routing: children and cut */
    uint32_t *mass;       /* [L-1] */

    unsigned char *boxes; /* [(L-1) * box_stride]: box records */
    size_t box_stride;    /* 8 + 8 * dim bytes */
    uint32_t *node_free;  /* [L-1] */
    uint32_t node_free_top;
    uint32_t *leaf_point; /* [L] */
    uint32_t *leaf_mass;  /* [L] */
    uint32_t *leaf_free;  /* [L] */
    uint32_t leaf_free_top;
    uint64_t rng;
    const box_kernels_t *kern; /* the box loops for this CPU (box.h), chosen at tree_init */
} rcf_tree_t;

size_t tree_bytes(uint32_t capacity, uint32_t dim);

/* Lays the tree's arrays out in `mem` (tree_bytes(capacity, dim) bytes, 8-aligned) and empties it. */
void tree_init(rcf_tree_t *t, void *mem, uint32_t capacity, uint32_t dim, uint64_t seed);

/* Empties the tree (all nodes and leaves free). */
void tree_clear(rcf_tree_t *t);

static inline int tree_is_leaf(const rcf_tree_t *t, uint32_t ref)
{
    return ref >= t->capacity - 1;
}

static inline uint32_t tree_leaf_slot(const rcf_tree_t *t, uint32_t ref)
{
    return ref - (t->capacity - 1);
}

static inline double tree_range_sum(const rcf_tree_t *t, uint32_t node)
{
    return *(const double *)(const void *)(t->boxes + (size_t)node * t->box_stride);
}

static inline const float *tree_box_min(const rcf_tree_t *t, uint32_t node)
{
    return (const float *)(const void *)(t->boxes + (size_t)node * t->box_stride + 8);
}

static inline const float *tree_box_max(const rcf_tree_t *t, uint32_t node)
{
    return tree_box_min(t, node) + t->dim;
}

uint32_t tree_mass(const rcf_tree_t *t);

/* Inserts point `id` (values x, already in the store). Returns the point id the sampler must
 * reference: `id`, or the id of an equal point already in the tree (whose leaf mass grew). */
uint32_t tree_insert(rcf_tree_t *t, const pointstore_t *ps, uint32_t id, const float *x);

/* Removes one occurrence of point `id`; `path` has room for L entries. Returns 0, or -1 if the tree
 * does not hold the point (an internal inconsistency). */
int tree_delete(rcf_tree_t *t, const pointstore_t *ps, uint32_t id, uint32_t *path);

/* Normalised anomaly score of x in this tree (anchors §3.2 formula 3 times log2(M+1)); 0 if empty.
 * `path` has room for L entries. */
double tree_score(const rcf_tree_t *t, const pointstore_t *ps, const float *x, uint32_t *path);

/* Trees descended side by side when scoring a forest (see trees_score_sum). */
#define RCF_LOCKSTEP 8

/* Sum of tree_score over trees[0..n_trees), in tree order (so bit-identical to summing tree_score),
 * descending RCF_LOCKSTEP trees in lockstep so their cache misses overlap. All trees share one
 * capacity L; `paths` has room for RCF_LOCKSTEP * L entries. */
double trees_score_sum(const rcf_tree_t *trees, uint32_t n_trees, const pointstore_t *ps,
                       const float *x, uint32_t *paths);

/* Adds this tree's normalised attribution of x, times `weight`, to high[]/low[] (formula 4).
 * Returns the tree's normalised score. `scratch_high`/`scratch_low` hold dim values each. */
double tree_attribution(const rcf_tree_t *t, const pointstore_t *ps, const float *x,
                        uint32_t *path, double weight, double *scratch_high, double *scratch_low,
                        double *high, double *low);

/* Sum of tree_attribution over trees[0..n_trees) in tree order, with lockstep descents like
 * trees_score_sum; `paths` has room for RCF_LOCKSTEP * L entries. */
double trees_attribution_sum(const rcf_tree_t *trees, uint32_t n_trees, const pointstore_t *ps,
                             const float *x, uint32_t *paths, double weight, double *hi,
                             double *lo, double *high, double *low);

/* Recomputes every internal node's mass and box from the leaves (snapshot loading). `stack` and
 * `order` have room for L entries each. */
void tree_rebuild_boxes(rcf_tree_t *t, const pointstore_t *ps, uint32_t *stack, uint32_t *order);

/* Internal node and leaf allocation, exposed for snapshot loading. RCF_TREE_NULL when exhausted. */
uint32_t tree_new_node(rcf_tree_t *t);
uint32_t tree_new_leaf(rcf_tree_t *t, uint32_t point, uint32_t mass);

#endif
