/* Forest internals shared by forest.c (streaming) and state.c (snapshots). */
#ifndef RCFD_RCF_FOREST_INT_H
#define RCFD_RCF_FOREST_INT_H

#include "pointstore.h"
#include "rcfd/rcf.h"
#include "sampler.h"
#include "threshold.h"
#include "tree.h"

struct rcf_forest {
    rcf_params_t params; /* effective: output_after resolved */
    uint32_t dim;        /* input_dim * shingle_size */
    double lambda;       /* 1 / time_decay */
    uint64_t records;    /* records processed */
    uint64_t updates;    /* full shingles offered to the samplers: the next point's sequence index */
    uint64_t accepted;   /* sampler insertions */
    uint64_t explained;  /* records that fed the explanation baselines */

    thresholder_t thresholder;

    pointstore_t ps;
    rcf_tree_t *trees;   /* [number_of_trees] */
    sampler_t *samplers; /* [number_of_trees] */

    /* Scratch and results, sized at creation. */
    float *x;               /* [dim] the shingle being scored */
    float *record;          /* [input_dim] the record as floats */
    uint32_t *path;         /* [sub_sample_size] */
    uint32_t *path2;        /* [sub_sample_size] */
    uint32_t *paths;        /* [sub_sample_size * RCF_LOCKSTEP] lockstep descents */
    double *high, *low;     /* [dim] forest attribution */
    double *tree_high, *tree_low; /* [dim] one tree's attribution */
    double *baseline;       /* [input_dim] running mean attribution per column */
    rcf_column_explanation_t *explanation; /* [input_dim] */
    /* Conditional estimates (impute.c). */
    double *imp_values;      /* [number_of_trees * dim] each tree's completion */
    double *imp_sorted;      /* [number_of_trees] one coordinate's completions, sorted */
    float *imp_point;        /* [dim] the partial point (forecasts: the shingle being extended) */
    unsigned char *imp_mask; /* [dim] 1 = unknown coordinate */
    uint32_t *imp_stack;     /* [2 * sub_sample_size] depth-first walk */
    uint32_t *imp_missing;   /* [dim] forecasts: the unknown positions */

    void *slab;
    size_t slab_bytes;
};

/* Allocates a forest for valid, resolved params with empty trees, samplers and point store. */
int forest_alloc(const rcf_params_t *params, rcf_forest_t **out, char *errstr, size_t errstr_size);

/* Resolves defaults (output_after) into a copy of params. */
rcf_params_t forest_resolve_params(const rcf_params_t *params);

#endif
