/* rcfd — streaming, shingled Random Cut Forest (the RANDOM_CUT_FOREST of Kinesis Data Analytics).
 *
 * A forest scores each record against the model *before* the record updates it, as KDA did:
 *
 *     rcf_params_t p = rcf_params_default(3);          // 3 numeric columns per record
 *     rcf_forest_t *f;
 *     char err[256];
 *     if (rcf_forest_new(&p, &f, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); ... }
 *     rcf_result_t r;
 *     rcf_forest_process(f, values, 3, &r);            // r.score, r.explanation, ...
 *     rcf_forest_destroy(f);
 *
 * The library does no I/O, takes no locks, never logs and allocates nothing after rcf_forest_new()
 * (or rcf_forest_load()): every store is sized from the parameters at creation.
 *
 * Thread-safety: a forest is not thread-safe and belongs to one thread at a time. Distinct forests
 * are independent. Functions taking `const rcf_forest_t *` (stats, save, params) may run
 * concurrently with each other, never with a function that takes a non-const forest.
 *
 * Ownership: rcf_forest_new()/rcf_forest_load() give the caller a forest that only
 * rcf_forest_destroy() frees. Pointers inside rcf_result_t belong to the forest and stay valid until
 * the next call that takes the same non-const forest, or its destruction.
 *
 * Errors: functions return 0 or a negative RCFD_E* code (rcfd/status.h). Functions with an `errstr`
 * argument also write a message naming the offending parameter and its valid range, or the snapshot
 * byte that is wrong. A failed call leaves the forest exactly as it was.
 *
 * Score, attribution and explanation are defined in docs/rcf.md.
 */
#ifndef RCFD_RCF_H
#define RCFD_RCF_H

#include <stddef.h>
#include <stdint.h>

#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parameter ranges. KDA's ranges are the minimum we accept; several go further. */
#define RCF_MIN_TREES 1u
#define RCF_MAX_TREES 1000u
#define RCF_MIN_SAMPLE_SIZE 10u
#define RCF_MAX_SAMPLE_SIZE 32768u
#define RCF_MIN_TIME_DECAY 1ull
#define RCF_MAX_TIME_DECAY 1000000000000ull
#define RCF_MIN_SHINGLE 1u
#define RCF_MAX_SHINGLE 1024u
#define RCF_MAX_DIM 16384u /* input_dim x shingle_size */
#define RCF_OUTPUT_AFTER_DEFAULT (-1)
#define RCF_MAX_ANOMALY_RATE 0.5
#define RCF_MIN_Z_FACTOR 1.0
#define RCF_MAX_Z_FACTOR 10.0

typedef struct rcf_params {
    uint32_t input_dim;       /* values per record (KDA: the numeric columns); 1..RCF_MAX_DIM */
    uint32_t number_of_trees; /* numberOfTrees, 1..1000, default 100 */
    uint32_t sub_sample_size; /* subSampleSize: points per tree, 10..32768, default 256 */
    uint64_t time_decay;      /* timeDecay in records (decay rate 1/time_decay); default 100000;
                                 must exceed sub_sample_size */
    uint32_t shingle_size;    /* shingleSize, 1..1024, default 1; the forest keeps the shingle */
    int64_t output_after;     /* records that score 0 while the forest warms up; default
                                 RCF_OUTPUT_AFTER_DEFAULT, meaning sub_sample_size (as KDA) */
    uint64_t seed;            /* master seed: equal seeds and inputs give bit-identical scores */
    int explain;              /* 1: every record also gets attribution and the KDA explanation
                                 (RANDOM_CUT_FOREST_WITH_EXPLANATION); default 0 */
    double anomaly_rate;      /* thresholder: at most about this fraction of records get a grade
                                 above 0; (0, 0.5], default 0.005 */
    double z_factor;          /* thresholder: threshold distance from the mean score in robust
                                 deviations; 1..10, default 3 */
} rcf_params_t;

/* KDA's defaults for records of `input_dim` values (seed 0x5eed, explain off). */
RCFD_EXTERN rcf_params_t rcf_params_default(uint32_t input_dim);

/* 0 if the parameters are usable, else RCFD_ERANGE/RCFD_EINVAL with the parameter's name (KDA
 * spelling) and valid range in errstr. */
RCFD_EXTERN int rcf_params_validate(const rcf_params_t *params, char *errstr, size_t errstr_size);

/* Bytes a forest with these parameters holds once its sample is full (the point store's share is an
 * estimate for a typical stream). 0 if the parameters are invalid. For capacity planning. */
RCFD_EXTERN size_t rcf_params_model_bytes(const rcf_params_t *params);

typedef struct rcf_forest rcf_forest_t;

/* Creates a forest. On success *out owns it; on failure *out is NULL and errstr says why. */
RCFD_EXTERN int rcf_forest_new(const rcf_params_t *params, rcf_forest_t **out, char *errstr,
                               size_t errstr_size);

/* Frees the forest; NULL is a no-op. */
RCFD_EXTERN void rcf_forest_destroy(rcf_forest_t *forest);

/* The effective parameters (output_after resolved). Owned by the forest. */
RCFD_EXTERN const rcf_params_t *rcf_forest_params(const rcf_forest_t *forest);

typedef enum rcf_direction {
    RCF_DIRECTION_LOW = 0,
    RCF_DIRECTION_HIGH = 1
} rcf_direction_t;

/* KDA's ANOMALY_EXPLANATION entry for one input column (see docs/rcf.md for the derivation). */
typedef struct rcf_column_explanation {
    double attribution;        /* ATTRIBUTION_SCORE: the column's share of the score (>= 0) */
    double strength;           /* STRENGTH: |high - low| relative to the column's usual attribution */
    rcf_direction_t direction; /* DIRECTION: HIGH if the column pushed the score up by being high */
} rcf_column_explanation_t;

typedef struct rcf_result {
    uint64_t record;      /* 1-based index of this record in the stream */
    int ready;            /* 1 once past output_after; before that every figure below is 0 */
    double score;         /* ANOMALY_SCORE, in [0, log2(sub_sample_size + 1)] */
    double threshold;     /* the adaptive threshold the score was compared with */
    double grade;         /* anomaly grade in [0, 1]: 0 below the threshold, 0.5 at it, 1 about
                             one deviation unit above it (docs/rcf.md) */
    /* With params.explain only, else NULL. Arrays of input_dim x shingle_size values, laid out as
     * the shingle: oldest record first, columns in input order. Sum of both = score (1e-9 rel.). */
    const double *attribution_high;
    const double *attribution_low;
    /* With params.explain only, else NULL. input_dim entries, one per input column. */
    const rcf_column_explanation_t *explanation;
} rcf_result_t;

/* Scores one record (`n_values` must equal input_dim) against the forest, then adds it to the
 * forest. NaN, infinity, values outside the float range or a wrong count return an error and leave
 * the forest unchanged; `out` is then untouched. Allocates nothing. */
RCFD_EXTERN int rcf_forest_process(rcf_forest_t *forest, const double *values, size_t n_values,
                                   rcf_result_t *out);

/* Scores a record as rcf_forest_process would, without adding it: the forest's model is unchanged
 * (only its scratch buffers are used). `high`/`low` may be NULL; when given they receive
 * input_dim x shingle_size attribution values. Returns 0 with *score = 0 during warm-up. */
RCFD_EXTERN int rcf_forest_score(rcf_forest_t *forest, const double *values, size_t n_values,
                                 double *score, double *high, double *low);

/* Conditional estimates: imputation of unknown values, expected values, forecasts (docs/rcf.md).
 *
 * A tree completes a point whose coordinates are partly unknown: it descends along the cuts on
 * known coordinates, follows both children at a cut on an unknown one, and keeps the leaf it
 * reaches that is nearest to the point on the known coordinates (L1 distance; ties go to the
 * heavier leaf, then to the first one found); that leaf's values fill the unknown coordinates. The
 * forest's estimate of each unknown coordinate is the median of its trees' completions; `lower` and
 * `upper` (either may be NULL) get the `quantile` and 1 - `quantile` quantiles of them, a spread of
 * what the trees found, not a calibrated interval. Empty trees abstain. The model is unchanged;
 * the forest's scratch buffers are used (so, as for rcf_forest_score, one call at a time), and
 * nothing is allocated.
 *
 * rcf_forest_impute: `point` holds input_dim x shingle_size values laid out as the shingle (oldest
 * record first, columns in input order); the `n_missing` positions in `missing` are unknown and
 * their values in `point` are ignored (NaN is fine). Returns 0 with value/lower/upper[k] for
 * missing[k]; RCFD_EINVAL for a position outside the point, a quantile outside [0, 0.5] or a
 * non-finite known value; RCFD_EAGAIN while no tree holds a point. */
RCFD_EXTERN int rcf_forest_impute(rcf_forest_t *forest, const double *point,
                                  const uint32_t *missing, size_t n_missing, double quantile,
                                  double *value, double *lower, double *upper);

/* The point the forest would score for a record `values` (input_dim values) now: the last
 * shingle_size - 1 records it processed followed by `values`, copied as given (NaN stays NaN, so
 * unknown fields can be marked for rcf_forest_impute). RCFD_EAGAIN before shingle_size - 1 records
 * were processed. `point` has input_dim x shingle_size entries. */
RCFD_EXTERN int rcf_forest_point(rcf_forest_t *forest, const double *values, double *point);

/* Forecast of the next `horizon` records after the last one processed, by extrapolating the
 * shingle: each step's point is the shingle's last shingle_size - 1 records (observed, then
 * forecast) followed by an unknown record, completed as above; the step's median is its forecast
 * and enters the next step's shingle. value/lower/upper (lower/upper may be NULL) receive horizon x
 * input_dim entries, step by step. RCFD_EINVAL with shingle_size 1 (a record alone has no past to
 * extrapolate) or a horizon of 0; RCFD_EAGAIN before a full shingle was seen or while the trees
 * are empty. */
RCFD_EXTERN int rcf_forest_forecast(rcf_forest_t *forest, uint32_t horizon, double quantile,
                                    double *value, double *lower, double *upper);

typedef struct rcf_stats {
    uint64_t records;       /* records processed */
    uint64_t updates;       /* full shingles offered to the samplers */
    uint64_t accepted;      /* (tree, point) insertions the samplers accepted */
    uint32_t points_live;   /* distinct points referenced by the trees */
    uint64_t nodes_used;    /* internal nodes over all trees */
    uint64_t store_records; /* records held by the point store's log (shingles overlap there) */
    size_t bytes_fixed;     /* arrays sized at creation: nodes, boxes, samplers, scratch */
    size_t bytes_points;    /* point store memory touched so far (its high-water mark) */
    size_t bytes_reserved;  /* address space reserved for the point store's worst case */
} rcf_stats_t;

RCFD_EXTERN void rcf_forest_stats(const rcf_forest_t *forest, rcf_stats_t *out);

/* Snapshot: a versioned, checksummed, self-contained binary image of the whole forest (parameters,
 * random generator states, samplers, trees, point store, explanation baselines). A forest loaded
 * from it produces exactly the scores the saved one would have.
 *
 * rcf_forest_save writes into buf[0..cap) and sets *len. If buf is NULL or cap is too small it
 * returns RCFD_ENOBUFS and sets *len to the size needed. */
RCFD_EXTERN size_t rcf_forest_snapshot_size(const rcf_forest_t *forest);
RCFD_EXTERN int rcf_forest_save(const rcf_forest_t *forest, void *buf, size_t cap, size_t *len);

/* Rebuilds a forest from a snapshot. Truncated, corrupted or inconsistent input is rejected with an
 * error naming the problem (never a crash); on success *out owns the new forest. */
RCFD_EXTERN int rcf_forest_load(const void *buf, size_t len, rcf_forest_t **out, char *errstr,
                                size_t errstr_size);

#ifdef __cplusplus
}
#endif

#endif /* RCFD_RCF_H */
