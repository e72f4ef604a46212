/* rcfd — HOTSPOTS: dense regions in a sliding window (the HOTSPOTS function of Kinesis Data Analytics).
 *
 *     hs_params_t p = hs_params_default(2);           // 2 numeric columns per record
 *     p.window_size = 1000; p.scan_radius = 0.2; p.min_points = 17;
 *     hs_detector_t *d;
 *     char err[256];
 *     if (hs_new(&p, &d, err, sizeof err) != 0) { fprintf(stderr, "%s\n", err); ... }
 *     hs_result_t r;
 *     hs_process(d, values, 2, &r);                    // r.hotspots[0..r.n_hotspots)
 *     char json[10000]; size_t len;
 *     hs_result_json(d, &r, json, sizeof json, &len, 0);  // KDA's HOTSPOTS_RESULT
 *     hs_destroy(d);
 *
 * Definition (docs/hotspots.md has the long form):
 * - The window holds the last window_size records. Each record is a point of `dim` values.
 * - Distance is Euclidean over scaled values: dist(a, b)^2 = sum_k ((a_k - b_k) * scale_k)^2, where
 *   the scaled values s_k * a_k are computed once per record and the sum runs over k = 0..dim-1 in
 *   double precision. Two points are neighbours when that sum is <= scan_radius^2 (so a point
 *   exactly scan_radius away is a neighbour). Every point is its own neighbour.
 * - A point is dense when it has at least min_points neighbours in the window (itself included).
 *   Dense points within scan_radius of each other are connected; a hotspot is a maximal connected
 *   set of dense points (DBSCAN's cluster of core points) plus its border points.
 * - A border point is a non-dense point with at least one dense neighbour. Border points that are
 *   within scan_radius of dense points of several hotspots belong to exactly one: the hotspot of
 *   their most recently arrived dense neighbour. Every record is in at most one hotspot.
 * - For each hotspot: count (its records), minValues/maxValues (per dimension, raw values) and
 *   density = count / size, size = prod_k max(maxValue_k - minValue_k, scan_radius / scale_k).
 *   Widths below the scan radius (in that column's units) count as the scan radius, so a hotspot of
 *   identical points has size (scan_radius / scale)^dim, never 0. A density that overflows is
 *   reported as DBL_MAX.
 * - Hotspots are ordered by density (highest first), then count (highest first), then minValues and
 *   maxValues (lexicographically, lowest first): a total order on what is reported.
 *
 * The incremental detector (the default) maintains neighbour counts in a hash grid of scan_radius
 * cells and re-clusters only the hotspots a record touched; the brute-force reference recomputes
 * everything from the window. Both give exactly the same result (same doubles), and the tests check
 * it on long random streams.
 *
 * The library does no I/O, takes no locks, never logs, and allocates nothing after hs_new() or
 * hs_load(): every array is sized from the parameters at creation (hs_params_model_bytes()).
 *
 * Thread-safety: a detector is not thread-safe and belongs to one thread at a time. Distinct
 * detectors are independent. Functions taking `const hs_detector_t *` may run concurrently with each
 * other, never with a function that takes a non-const detector.
 *
 * Ownership: hs_new()/hs_load() give the caller a detector that only hs_destroy() frees. Pointers in
 * an hs_result_t belong to the detector and stay valid until the next call that takes the same
 * non-const detector, or its destruction.
 *
 * Errors: functions return 0 or a negative RCFD_E* code (rcfd/status.h). Functions with an `errstr`
 * argument also write a message naming the offending parameter and its valid range, or the snapshot
 * byte that is wrong. A failed call leaves the detector exactly as it was.
 */
#ifndef RCFD_HOTSPOTS_H
#define RCFD_HOTSPOTS_H

#include <stddef.h>
#include <stdint.h>

#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parameter ranges. KDA allowed windowSize 100..1000 and 30 numeric columns; we accept more. */
#define HS_MIN_WINDOW 10u
#define HS_MAX_WINDOW 100000u
#define HS_MIN_DIM 1u
#define HS_MAX_DIM 64u
#define HS_MIN_POINTS 2u
/* scanRadius bounds keep radius^2 a normal double, so a squared distance that underflows to 0
 * still means the points are within the radius (the grid relies on it). */
#define HS_MIN_RADIUS 1e-150
#define HS_MAX_RADIUS 1e150

typedef enum hs_algorithm {
    HS_ALGORITHM_INCREMENTAL = 0, /* hash grid + incremental clustering (default) */
    HS_ALGORITHM_BRUTE_FORCE = 1  /* recompute from the whole window each record: O(window^2) */
} hs_algorithm_t;

typedef struct hs_params {
    uint32_t dim;         /* values per record (KDA: the numeric columns); 1..HS_MAX_DIM */
    uint32_t window_size; /* windowSize: records in the sliding window; 10..100000, default 1000 */
    double scan_radius;   /* scanRadius: neighbourhood radius in scaled units;
                             HS_MIN_RADIUS..HS_MAX_RADIUS, default 0.2 (KDA's example) */
    uint32_t min_points;  /* minimumNumberOfPointsInAHotspot: neighbours (self included) that
                             make a point dense; 2..window_size, default 17 (KDA's example) */
    double scale[HS_MAX_DIM]; /* per-dimension factor applied before distances, so columns in
                                 different units can be combined; finite, > 0; default 1 */
    int only_containing_new;  /* 1: report only the hotspot containing the new record (0 or 1
                                 hotspots); default 0: report every hotspot in the window */
    int emit_only_on_change;  /* 1: hs_result_t.emit is 0 when the reported list equals the one
                                 reported for the previous record; default 0: always emit */
    hs_algorithm_t algorithm; /* default HS_ALGORITHM_INCREMENTAL */
} hs_params_t;

/* Defaults for records of `dim` values: KDA's documented example HOTSPOTS(cursor, 1000, 0.2, 17),
 * unit scales, every hotspot reported after every record, incremental algorithm. */
RCFD_EXTERN hs_params_t hs_params_default(uint32_t dim);

/* 0 if the parameters are usable, else RCFD_ERANGE/RCFD_EINVAL with the parameter's name (KDA
 * spelling) and valid range in errstr. */
RCFD_EXTERN int hs_params_validate(const hs_params_t *params, char *errstr, size_t errstr_size);

/* Bytes a detector with these parameters allocates (all of it at creation). 0 if invalid. */
RCFD_EXTERN size_t hs_params_model_bytes(const hs_params_t *params);

typedef struct hs_detector hs_detector_t;

/* Creates a detector. On success *out owns it; on failure *out is NULL and errstr says why. */
RCFD_EXTERN int hs_new(const hs_params_t *params, hs_detector_t **out, char *errstr,
                       size_t errstr_size);

/* Frees the detector; NULL is a no-op. */
RCFD_EXTERN void hs_destroy(hs_detector_t *det);

/* The detector's parameters. Owned by the detector. */
RCFD_EXTERN const hs_params_t *hs_params(const hs_detector_t *det);

typedef struct hs_hotspot {
    double density;           /* count / size (see the definition above) */
    uint32_t count;           /* records in the hotspot */
    uint32_t dense_count;     /* of which dense (core) points */
    const double *min_values; /* dim values: per-dimension minimum over the hotspot's records */
    const double *max_values; /* dim values: per-dimension maximum */
    int contains_new;         /* 1 if the record just processed is in this hotspot */
} hs_hotspot_t;

typedef struct hs_result {
    uint64_t record;              /* 1-based index of the record just processed */
    uint32_t window_count;        /* records in the window (window_size once full) */
    size_t n_hotspots;            /* hotspots reported (after only_containing_new) */
    const hs_hotspot_t *hotspots; /* n_hotspots entries, densest first */
    int changed;                  /* 1 if the reported list differs from the previous record's
                                     (before the first record the list is empty) */
    int emit;                     /* 1 unless emit_only_on_change is set and changed is 0 */
} hs_result_t;

/* Adds one record (`n_values` must equal dim) to the window, dropping the oldest once the window is
 * full, and reports the hotspots of the new window. NaN, infinity, a value whose scaled form
 * overflows, or a wrong count return RCFD_ENONFINITE/RCFD_EDIM and leave the detector unchanged;
 * `out` is then untouched. A detector that has counted 2^53 records takes no more (RCFD_ERANGE):
 * the count stays exact, and what it saves loads again. -0.0 is stored as +0.0. Allocates
 * nothing. */
RCFD_EXTERN int hs_process(hs_detector_t *det, const double *values, size_t n_values,
                           hs_result_t *out);

/* Batch mode: adds `n_rows` records (row-major, dim values each) and reports once, after the last
 * one; `changed` compares with the report before the batch. The brute-force algorithm clusters
 * only once per batch, so this is how a window is loaded cheaply. All rows are checked before any
 * is added: on error nothing is added and *bad_row (if not NULL) names the first bad row (or, with
 * RCFD_ERANGE, the first that would pass 2^53 records). */
RCFD_EXTERN int hs_process_batch(hs_detector_t *det, const double *rows, size_t n_rows,
                                 hs_result_t *out, size_t *bad_row);

/* Recomputes the current window's hotspots from scratch with the brute-force reference (plain
 * pairwise loop), without changing the detector. `changed` is 1 if the result differs in any way
 * from the latest hs_process() report, so 0 means both algorithms agree exactly. The result lives
 * in a buffer of its own, valid until the next hs_recompute*() or non-const call. */
RCFD_EXTERN int hs_recompute(hs_detector_t *det, hs_result_t *out);

/* As hs_recompute, but the pairwise distances come from OpenBLAS (dgemm) with an exact recheck of
 * pairs near the radius, so the result is identical. Defined in the rcfd_train library (link it);
 * allocates window^2 / 8 bytes for the neighbour matrix per call, so it is for batch work only.
 * Returns RCFD_ENOMEM if that allocation fails. */
RCFD_EXTERN int hs_recompute_blas(hs_detector_t *det, hs_result_t *out);

/* Serialises a result as KDA's HOTSPOTS_RESULT JSON:
 *     {"hotspots":[{"density":D,"minValues":[..],"maxValues":[..],"count":N,"denseCount":M}, ...]}
 * With HS_JSON_KDA only density, minValues and maxValues are written (KDA's exact shape). Numbers
 * use the shortest form that reads back to the same double. Writes at most cap bytes including the
 * terminating NUL and sets *len to the JSON's length without the NUL. If buf is NULL or cap is not
 * larger than the JSON, returns RCFD_ENOBUFS with *len the length needed (then cap >= *len + 1 is
 * enough) and buf holding an empty string when cap > 0. */
#define HS_JSON_KDA 1u
RCFD_EXTERN int hs_result_json(const hs_detector_t *det, const hs_result_t *result, char *buf,
                               size_t cap, size_t *len, unsigned flags);

typedef struct hs_stats {
    uint64_t records;          /* records processed */
    uint32_t window_count;     /* records in the window */
    uint32_t hotspots;         /* hotspots in the window (before only_containing_new) */
    uint32_t dense_points;     /* dense (core) points in the window */
    uint32_t border_points;    /* non-dense points in a hotspot */
    uint64_t neighbour_queries; /* grid range queries since creation or load (incremental) */
    uint64_t splits;           /* hotspots split by a departing dense point */
    uint64_t merges;           /* hotspots merged by a new dense point */
    size_t bytes;              /* memory allocated by the detector */
} hs_stats_t;

RCFD_EXTERN void hs_stats(const hs_detector_t *det, hs_stats_t *out);

/* Snapshot: a versioned, checksummed, self-contained image of the detector (parameters, record
 * counter and the window's records). A detector loaded from it reports exactly what the saved one
 * would have, including `changed` for the next record. Counters in hs_stats_t other than records
 * restart at 0.
 *
 * hs_save writes into buf[0..cap) and sets *len. If buf is NULL or cap is too small it returns
 * RCFD_ENOBUFS and sets *len to the size needed. */
RCFD_EXTERN size_t hs_snapshot_size(const hs_detector_t *det);
RCFD_EXTERN int hs_save(const hs_detector_t *det, void *buf, size_t cap, size_t *len);

/* Rebuilds a detector from a snapshot. Truncated, corrupted or inconsistent input is rejected with an
 * error naming the problem (never a crash); on success *out owns the new detector. */
RCFD_EXTERN int hs_load(const void *buf, size_t len, hs_detector_t **out, char *errstr,
                        size_t errstr_size);

#ifdef __cplusplus
}
#endif

#endif /* RCFD_HOTSPOTS_H */
