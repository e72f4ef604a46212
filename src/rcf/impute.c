/* Conditional estimates (rcf.h): a tree's completion of a partly unknown point, the median and
 * quantiles over trees, and forecasts by extrapolating the shingle. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forest_int.h"
#include "rcfd/status.h"

/* The leaf (ref) a tree offers for x with the coordinates in mask unknown: the depth-first walk
 * visits both children at a cut on an unknown coordinate, one otherwise; among the leaves reached,
 * the nearest on known coordinates wins, then the heavier. RCF_TREE_NULL for an empty tree.
 * `stack` has room for 2 * capacity refs: a walk pushes at most two refs per internal node. */
static uint32_t tree_complete(const rcf_tree_t *t, const pointstore_t *ps, const float *x,
                              const unsigned char *mask, uint32_t *stack)
{
    if (t->root == RCF_TREE_NULL) {
        return RCF_TREE_NULL;
    }
    const uint32_t d = t->dim;
    uint32_t best = RCF_TREE_NULL, best_mass = 0;
    double best_dist = INFINITY;
    uint32_t sp = 0;
    stack[sp++] = t->root;
    while (sp > 0) {
        uint32_t n = stack[--sp];
        if (!tree_is_leaf(t, n)) {
            const rcf_node_t *node = &t->node[n];
            if (mask[node->cut_dim]) {
                /* Right first, so the left subtree is walked first (ties go to the first found). */
                stack[sp++] = node->child[1];
                stack[sp++] = node->child[0];
            } else {
                stack[sp++] = node->child[x[node->cut_dim] > node->cut_val];
            }
            continue;
        }
        uint32_t slot = tree_leaf_slot(t, n);
        const float *lp = pointstore_values(ps, t->leaf_point[slot]);
        double dist = 0.0;
        for (uint32_t i = 0; i < d; i++) {
            if (!mask[i]) {
                dist += fabs((double)x[i] - (double)lp[i]);
            }
        }
        uint32_t mass = t->leaf_mass[slot];
        if (dist < best_dist || (dist == best_dist && mass > best_mass)) {
            best = n;
            best_dist = dist;
            best_mass = mass;
        }
    }
    return best;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of sorted v[0..n) by linear interpolation between order statistics. */
static double quantile_of(const double *v, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    if (lo + 1 >= n) {
        return v[n - 1];
    }
    double frac = pos - (double)lo;
    return frac == 0.0 ? v[lo] : v[lo] + frac * (v[lo + 1] - v[lo]);
}

/* Completes f->imp_point (unknown coordinates marked in f->imp_mask) with every tree, then
 * summarises coordinate missing[k] into value/lower/upper[k]. */
static int complete(rcf_forest_t *f, const uint32_t *missing, size_t n_missing, double quantile,
                    double *value, double *lower, double *upper)
{
    const uint32_t trees = f->params.number_of_trees;
    size_t found = 0;
    for (uint32_t t = 0; t < trees; t++) {
        const rcf_tree_t *tree = &f->trees[t];
        uint32_t leaf = tree_complete(tree, &f->ps, f->imp_point, f->imp_mask, f->imp_stack);
        if (leaf == RCF_TREE_NULL) {
            continue;
        }
        const float *lp = pointstore_values(&f->ps, tree->leaf_point[tree_leaf_slot(tree, leaf)]);
        double *row = f->imp_values + found * n_missing;
        for (size_t k = 0; k < n_missing; k++) {
            row[k] = (double)lp[missing[k]];
        }
        found++;
    }
    if (found == 0) {
        return RCFD_EAGAIN;
    }
    for (size_t k = 0; k < n_missing; k++) {
        for (size_t j = 0; j < found; j++) {
            f->imp_sorted[j] = f->imp_values[j * n_missing + k];
        }
        qsort(f->imp_sorted, found, sizeof(double), cmp_double);
        value[k] = quantile_of(f->imp_sorted, found, 0.5);
        if (lower != NULL) {
            lower[k] = quantile_of(f->imp_sorted, found, quantile);
        }
        if (upper != NULL) {
            upper[k] = quantile_of(f->imp_sorted, found, 1.0 - quantile);
        }
    }
    return 0;
}

static int quantile_ok(double q)
{
    return q >= 0.0 && q <= 0.5;
}

int rcf_forest_impute(rcf_forest_t *f, const double *point, const uint32_t *missing,
                      size_t n_missing, double quantile, double *value, double *lower,
                      double *upper)
{
    if (f == NULL || point == NULL || (n_missing > 0 && (missing == NULL || value == NULL)) ||
        !quantile_ok(quantile)) {
        return RCFD_EINVAL;
    }
    const uint32_t d = f->dim;
    memset(f->imp_mask, 0, d);
    for (size_t k = 0; k < n_missing; k++) {
        if (missing[k] >= d) {
            return RCFD_EINVAL;
        }
        f->imp_mask[missing[k]] = 1;
    }
    for (uint32_t i = 0; i < d; i++) {
        double v = point[i];
        if (f->imp_mask[i]) {
            f->imp_point[i] = 0.0f;
        } else if (!isfinite(v) || v > FLT_MAX || v < -FLT_MAX) {
            return RCFD_EINVAL;
        } else {
            f->imp_point[i] = (float)v;
        }
    }
    if (n_missing == 0) {
        return 0;
    }
    return complete(f, missing, n_missing, quantile, value, lower, upper);
}

int rcf_forest_point(rcf_forest_t *f, const double *values, double *point)
{
    if (f == NULL || values == NULL || point == NULL) {
        return RCFD_EINVAL;
    }
    const uint32_t s = f->params.shingle_size, in = f->params.input_dim;
    if (f->records + 1 < s) {
        return RCFD_EAGAIN;
    }
    float *tail = f->imp_point; /* scratch of dim floats */
    pointstore_copy_tail(&f->ps, s - 1, tail);
    for (size_t i = 0; i < (size_t)(s - 1) * in; i++) {
        point[i] = (double)tail[i];
    }
    memcpy(point + (size_t)(s - 1) * in, values, sizeof(double) * in);
    return 0;
}

int rcf_forest_forecast(rcf_forest_t *f, uint32_t horizon, double quantile, double *value,
                        double *lower, double *upper)
{
    if (f == NULL || value == NULL || horizon == 0 || !quantile_ok(quantile)) {
        return RCFD_EINVAL;
    }
    const uint32_t s = f->params.shingle_size, in = f->params.input_dim;
    if (s < 2) {
        return RCFD_EINVAL;
    }
    if (f->records < s) {
        return RCFD_EAGAIN;
    }
    /* The unknown record is always the newest: the last input_dim coordinates. */
    const uint32_t first = (s - 1) * in;
    memset(f->imp_mask, 0, f->dim);
    memset(f->imp_mask + first, 1, in);
    uint32_t *miss = f->imp_missing;
    for (uint32_t c = 0; c < in; c++) {
        miss[c] = first + c;
    }
    /* The shingle ending at the last record: its last s - 1 records start the first step. */
    pointstore_copy_tail(&f->ps, s, f->imp_point);
    for (uint32_t h = 0; h < horizon; h++) {
        memmove(f->imp_point, f->imp_point + in, sizeof(float) * first);
        double *v = value + (size_t)h * in;
        int rc = complete(f, miss, in, quantile, v, lower != NULL ? lower + (size_t)h * in : NULL,
                          upper != NULL ? upper + (size_t)h * in : NULL);
        if (rc != 0) {
            return rc;
        }
        for (uint32_t c = 0; c < in; c++) {
            f->imp_point[first + c] = (float)v[c];
        }
    }
    return 0;
}
