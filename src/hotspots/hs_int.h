/* Internal layout of a HOTSPOTS detector, shared by the incremental path, the brute-force
 * reference, the JSON writer, snapshots and the BLAS recompute in rcfd_train. */
#ifndef RCFD_HS_INT_H
#define RCFD_HS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "rcfd/hotspots.h"

/* Records a detector counts: exact as a double (2^53: 285 years at a million a second). A
 * snapshot may say no more were seen, and a detector refuses records past it (RCFD_ERANGE), so
 * every snapshot it writes loads again. */
#define HS_MAX_RECORDS (1ULL << 53)

#define HS_NONE UINT32_MAX
#define HS_GRID_MAX_DIMS 3u /* the grid hashes the first min(dim, 3) dims: 3^3 cells per query */

/* Hash grid of scan_radius cells over the first `k` scaled dimensions. Open addressing with linear
 * probing and backward-shift deletion, so there are no tombstones to clean up. */
typedef struct hs_grid {
    uint32_t k;          /* dims hashed */
    uint32_t mask;       /* table size - 1 (power of two, >= 2 x window) */
    double inv_radius;   /* 1 / scan_radius */
    int64_t *cell_key;   /* [table][k] */
    uint32_t *cell_head; /* [table] first slot in the cell, HS_NONE when the entry is empty */
    int64_t *slot_key;   /* [window][k] the cell each slot sits in */
    uint32_t *next;      /* [window] next slot in the same cell */
    uint32_t *prev;      /* [window] previous slot in the same cell, HS_NONE for the head */
} hs_grid_t;

/* A hotspot under construction: dense points linked through core_next/core_prev; border points
 * hang off the dense point that owns them. */
typedef struct hs_cluster {
    uint32_t count;     /* members: dense points + the borders they own */
    uint32_t n_cores;
    uint32_t core_head;
    uint32_t active_pos; /* index in det->active, HS_NONE when free */
    uint32_t seed_head; /* split seeds gathered for this cluster (deletion phase) */
    uint8_t dirty;      /* count and bounds are recomputed from the members at the end */
    uint8_t in_seed_list;
} hs_cluster_t;

/* One reported list (double-buffered for change detection; a third buffer for hs_recompute). */
typedef struct hs_report {
    hs_hotspot_t *spots; /* capacity: det->report_cap */
    double *bounds;      /* [report_cap][2][dim]: min then max */
    size_t n;
    size_t n_all;        /* hotspots before only_containing_new */
    uint32_t dense_all;  /* dense points over all hotspots */
    uint32_t members_all; /* records over all hotspots */
} hs_report_t;

struct hs_detector {
    hs_params_t params;
    uint32_t dim;
    uint32_t window;
    uint32_t min_points;
    double radius2; /* fl(scan_radius^2): neighbours have squared distance <= radius2 */
    int scaled;     /* any scale != 1: `pos` is a separate array */
    uint64_t records;
    uint32_t count; /* records in the window */
    uint32_t head;  /* slot of the oldest record */

    double *raw;   /* [window][dim] values as given (-0 normalised) */
    double *pos;   /* [window][dim] scaled values; == raw when unscaled */
    uint64_t *seq; /* [window] 1-based record index */

    /* incremental state (also scratch for the brute force) */
    uint32_t *cnt;   /* [window] neighbours in the window, self included */
    uint32_t *label; /* [window] cluster of a dense point, HS_NONE otherwise */
    uint32_t *owner; /* [window] dense point owning a border point, HS_NONE for noise */
    uint32_t *own_head, *own_next, *own_prev; /* border lists per owning dense point */
    uint32_t *core_next, *core_prev;          /* dense-point lists per cluster */
    uint32_t *seed_next;                      /* [window] split seed lists */
    hs_grid_t grid;

    hs_cluster_t *clusters; /* [cluster_cap] */
    double *cl_bounds;      /* [cluster_cap][2][dim] */
    uint32_t cluster_cap;
    uint32_t *active; /* live cluster ids, unordered */
    uint32_t n_active;
    uint32_t *free_ids;
    uint32_t n_free;
    uint32_t *dirty; /* clusters to recompute at the end of the record */
    uint32_t n_dirty;
    int all_dirty; /* the dirty list overflowed: recompute every live cluster */

    /* scratch, [window] each */
    uint32_t *nbr;   /* neighbours of the point being inserted or deleted */
    uint32_t *nbr2;  /* neighbours of a second point (upgrades, downgrades, BFS) */
    uint32_t *queue; /* BFS queue */
    uint32_t *pending; /* split BFS: reached seeds not yet expanded */
    uint32_t *list_a; /* dense points gained or lost this record */
    uint32_t *list_b; /* border points that lost their owner */
    uint32_t *stamp;  /* BFS visit marks */
    uint32_t epoch;
    uint32_t *seed_mark;
    uint32_t seed_epoch;
    uint32_t *b_cnt, *b_label, *b_queue; /* brute force, by age index */
    double *min_width; /* [dim] scan_radius / scale_k: the narrowest a hotspot counts as */

    size_t report_cap;
    hs_report_t report[3]; /* [cur] latest, [1 - cur] previous, [2] hs_recompute */
    int cur;

    uint64_t queries, splits, merges;
    size_t bytes;
};

/* Ring slot of the i-th oldest record in the window. */
static inline uint32_t hs_slot(const hs_detector_t *d, uint32_t i)
{
    uint32_t s = d->head + i;
    return s >= d->window ? s - d->window : s;
}

/* fl(sum of squared scaled differences) in dimension order, stopping once it exceeds limit: the
 * partial sums only grow, so the answer to "<= limit" is the same as with the full sum. */
static inline int hs_within(const double *a, const double *b, uint32_t dim, double limit)
{
    double s = 0.0;
    for (uint32_t k = 0; k < dim; k++) {
        double t = a[k] - b[k];
        s += t * t;
        if (s > limit) {
            return 0;
        }
    }
    return 1;
}

/* grid.c */
int hs_grid_init(hs_grid_t *g, uint32_t dim, uint32_t window, double radius);
void hs_grid_free(hs_grid_t *g);
size_t hs_grid_bytes(uint32_t dim, uint32_t window);
void hs_grid_insert(hs_grid_t *g, uint32_t slot, const double *y);
void hs_grid_remove(hs_grid_t *g, uint32_t slot);
/* Slots within the radius of y (self excluded via `skip`) into out; returns how many. */
uint32_t hs_grid_query(hs_detector_t *d, const double *y, uint32_t skip, uint32_t *out);

/* incremental.c */
void hs_inc_reset(hs_detector_t *d);
void hs_inc_delete_oldest(hs_detector_t *d);
void hs_inc_insert(hs_detector_t *d, uint32_t slot);
void hs_inc_finish(hs_detector_t *d);
/* Fills report `which` from the incremental clusters. */
void hs_inc_report(hs_detector_t *d, hs_report_t *rep);

/* brute.c: fills `rep` from the window alone. With adj != NULL (row-major bit matrix over the window
 * in age order, row stride `stride` words) neighbours come from it instead of distances. */
void hs_brute_report(hs_detector_t *d, const uint64_t *adj, size_t stride, hs_report_t *rep);
/* Builds that bit matrix with the plain exact loop (the baseline for the BLAS variant). */
void hs_brute_adjacency(const hs_detector_t *d, uint64_t *adj, size_t stride);

/* train_blas.c (rcfd_train only): the same matrix from OpenBLAS dgemm plus an exact recheck near
 * the radius. Allocates scratch; RCFD_ENOMEM if that fails. */
int hs_blas_adjacency(const hs_detector_t *d, uint64_t *adj, size_t stride);

/* grid.c: count / box volume, each side at least its minimum width (brute.c and incremental.c). */
double hs_density(const hs_detector_t *d, uint32_t count, const double *min, const double *max);

/* detector.c */
/* Totals, only_containing_new filter and sort of a freshly filled report. */
void hs_report_finish(hs_detector_t *d, hs_report_t *rep);
/* 1 if both lists report the same thing. `strict` also compares contains_new. */
int hs_report_equal(const hs_detector_t *d, const hs_report_t *a, const hs_report_t *b,
                    int strict);
void hs_fill_result(const hs_detector_t *d, const hs_report_t *rep, int changed,
                    hs_result_t *out);
/* Appends one validated record to the window (no report). */
void hs_append(hs_detector_t *d, const double *values);
/* Builds the report for the current window into report[1 - cur], diffs it against report[cur]
 * and makes it current; returns 1 if it changed. */
int hs_report_now(hs_detector_t *d);

#endif
