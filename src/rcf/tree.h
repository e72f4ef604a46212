/* One random cut tree over the forest's shared point store.
 *
 * Flat structure-of-arrays, sized once for `capacity` leaves (the sample size L):
 *   internal nodes  0 .. L-2        child[2n] (left, values <= cut), child[2n+1] (right),
 *                                   cut_dim[n], cut_val[n], mass[n], box[n] (min[dim] then max[dim]),
 *                                   range_sum[n] = sum of the box's side lengths
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

#include "pointstore.h"

#define RCF_TREE_NULL UINT32_MAX

typedef struct rcf_tree {
    uint32_t capacity; /* L */
    uint32_t dim;
    uint32_t root;
    uint32_t *child;      /* [2(L-1)] */
    uint32_t *cut_dim;    /* [L-1] */
    float *cut_val;       /* [L-1] */
    uint32_t *mass;       /* [L-1] */
    double *range_sum;    /* [L-1] */
    float *box;           /* [(L-1) * 2 * dim] */
    uint32_t *node_free;  /* [L-1] */
    uint32_t node_free_top;
    uint32_t *leaf_point; /* [L] */
    uint32_t *leaf_mass;  /* [L] */
    uint32_t *leaf_free;  /* [L] */
    uint32_t leaf_free_top;
    uint64_t rng;
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

static inline const float *tree_box_min(const rcf_tree_t *t, uint32_t node)
{
    return t->box + (size_t)node * 2 * t->dim;
}

static inline const float *tree_box_max(const rcf_tree_t *t, uint32_t node)
{
    return t->box + (size_t)node * 2 * t->dim + t->dim;
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

/* Adds this tree's normalised attribution of x, times `weight`, to high[]/low[] (formula 4).
 * Returns the tree's normalised score. `scratch_high`/`scratch_low` hold dim values each. */
double tree_attribution(const rcf_tree_t *t, const pointstore_t *ps, const float *x,
                        uint32_t *path, double weight, double *scratch_high, double *scratch_low,
                        double *high, double *low);

/* Recomputes every internal node's mass and box from the leaves (snapshot loading). `stack` and
 * `order` have room for L entries each. */
void tree_rebuild_boxes(rcf_tree_t *t, const pointstore_t *ps, uint32_t *stack, uint32_t *order);

/* Internal node and leaf allocation, exposed for snapshot loading. RCF_TREE_NULL when exhausted. */
uint32_t tree_new_node(rcf_tree_t *t);
uint32_t tree_new_leaf(rcf_tree_t *t, uint32_t point, uint32_t mass);

#endif
