/* HOTSPOTS detector: parameters, lifetime, the per-record entry points and the reported list. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "common/errstr.h"
#include "hs_int.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"

hs_params_t hs_params_default(uint32_t dim)
{
    hs_params_t p = {
        .dim = dim,
        .window_size = 1000,
        .scan_radius = 0.2,
        .min_points = 17,
        .only_containing_new = 0,
        .emit_only_on_change = 0,
        .algorithm = HS_ALGORITHM_INCREMENTAL,
    };
    for (uint32_t k = 0; k < HS_MAX_DIM; k++) {
        p.scale[k] = 1.0;
    }
    return p;
}

int hs_params_validate(const hs_params_t *p, char *errstr, size_t errstr_size)
{
    if (p == NULL) {
        return rcfd_errf(RCFD_EINVAL, errstr, errstr_size, "params is NULL");
    }
    if (p->dim < HS_MIN_DIM || p->dim > HS_MAX_DIM) {
        return rcfd_errf(RCFD_ERANGE, errstr, errstr_size,
                         "dimension (numeric columns) must be in %u..%u, got %u", HS_MIN_DIM,
                         HS_MAX_DIM, p->dim);
    }
    if (p->window_size < HS_MIN_WINDOW || p->window_size > HS_MAX_WINDOW) {
        return rcfd_errf(RCFD_ERANGE, errstr, errstr_size, "windowSize must be in %u..%u, got %u",
                         HS_MIN_WINDOW, HS_MAX_WINDOW, p->window_size);
    }
    if (!(p->scan_radius >= HS_MIN_RADIUS && p->scan_radius <= HS_MAX_RADIUS)) {
        return rcfd_errf(RCFD_ERANGE, errstr, errstr_size, "scanRadius must be in %g..%g, got %g",
                         HS_MIN_RADIUS, HS_MAX_RADIUS, p->scan_radius);
    }
    if (p->min_points < HS_MIN_POINTS || p->min_points > p->window_size) {
        return rcfd_errf(RCFD_ERANGE, errstr, errstr_size,
                         "minimumNumberOfPointsInAHotspot must be in %u..windowSize (%u), got %u",
                         HS_MIN_POINTS, p->window_size, p->min_points);
    }
    for (uint32_t k = 0; k < p->dim; k++) {
        if (!(p->scale[k] > 0.0) || !isfinite(p->scale[k])) {
            return rcfd_errf(RCFD_ERANGE, errstr, errstr_size,
                             "scale[%u] must be finite and > 0, got %g", k, p->scale[k]);
        }
    }
    if (p->only_containing_new != 0 && p->only_containing_new != 1) {
        return rcfd_errf(RCFD_EINVAL, errstr, errstr_size,
                         "only_containing_new must be 0 or 1, got %d", p->only_containing_new);
    }
    if (p->emit_only_on_change != 0 && p->emit_only_on_change != 1) {
        return rcfd_errf(RCFD_EINVAL, errstr, errstr_size,
                         "emit_only_on_change must be 0 or 1, got %d", p->emit_only_on_change);
    }
    if (p->algorithm != HS_ALGORITHM_INCREMENTAL && p->algorithm != HS_ALGORITHM_BRUTE_FORCE) {
        return rcfd_errf(RCFD_EINVAL, errstr, errstr_size,
                         "algorithm must be %d (incremental) or %d (brute force), got %d",
                         HS_ALGORITHM_INCREMENTAL, HS_ALGORITHM_BRUTE_FORCE, (int)p->algorithm);
    }
    return 0;
}

static int any_scaled(const hs_params_t *p)
{
    for (uint32_t k = 0; k < p->dim; k++) {
        if (p->scale[k] != 1.0) {
            return 1;
        }
    }
    return 0;
}

/* At most window/2 hotspots exist at once (docs/hotspots.md proves it); one spare. */
static size_t report_capacity(uint32_t window)
{
    return window / 2 + 1;
}

/* Every array's size in one place, so hs_params_model_bytes() and hs_new() cannot disagree. */
typedef struct layout {
    size_t points, u32s, u32s_inc, clusters, cluster_bounds, report, grid;
} layout_t;

static layout_t layout_of(const hs_params_t *p)
{
    layout_t l;
    size_t w = p->window_size, dim = p->dim;
    size_t cap = w + 1;
    l.points = w * dim * sizeof(double) * (any_scaled(p) ? 2 : 1) + w * sizeof(uint64_t) +
               dim * sizeof(double);
    l.u32s = 3 * w * sizeof(uint32_t); /* brute-force scratch */
    int inc = p->algorithm == HS_ALGORITHM_INCREMENTAL;
    /* cnt label owner own_head own_next own_prev core_next core_prev seed_next nbr nbr2 queue
     * pending list_a list_b stamp seed_mark, plus active free_ids and the dirty list */
    l.u32s_inc = inc ? 17 * w * sizeof(uint32_t) + 4 * cap * sizeof(uint32_t) : 0;
    l.clusters = inc ? cap * sizeof(hs_cluster_t) : 0;
    l.cluster_bounds = inc ? cap * 2 * dim * sizeof(double) : 0;
    l.report = 3 * report_capacity(p->window_size) * (sizeof(hs_hotspot_t) + 2 * dim * sizeof(double));
    l.grid = inc ? hs_grid_bytes(p->dim, p->window_size) : 0;
    return l;
}

size_t hs_params_model_bytes(const hs_params_t *p)
{
    if (hs_params_validate(p, NULL, 0) != 0) {
        return 0;
    }
    layout_t l = layout_of(p);
    return sizeof(hs_detector_t) + l.points + l.u32s + l.u32s_inc + l.clusters +
           l.cluster_bounds + l.report + l.grid;
}

void hs_destroy(hs_detector_t *d)
{
    if (d == NULL) {
        return;
    }
    if (d->pos != d->raw) {
        rcfd_free(d->pos);
    }
    uint32_t **u32s[] = {&d->cnt,     &d->label,     &d->owner,  &d->own_head, &d->own_next,
                         &d->own_prev, &d->core_next, &d->core_prev, &d->seed_next, &d->nbr,
                         &d->nbr2,    &d->queue,     &d->pending, &d->list_a, &d->list_b,   &d->stamp,
                         &d->seed_mark, &d->active,  &d->free_ids, &d->dirty,  &d->b_cnt,
                         &d->b_label, &d->b_queue};
    for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++) {
        rcfd_free(*u32s[i]);
    }
    rcfd_free(d->raw);
    rcfd_free(d->seq);
    rcfd_free(d->min_width);
    rcfd_free(d->clusters);
    rcfd_free(d->cl_bounds);
    for (int i = 0; i < 3; i++) {
        rcfd_free(d->report[i].spots);
        rcfd_free(d->report[i].bounds);
    }
    hs_grid_free(&d->grid);
    rcfd_free(d);
}

int hs_new(const hs_params_t *params, hs_detector_t **out, char *errstr, size_t errstr_size)
{
    if (out == NULL) {
        return rcfd_errf(RCFD_EINVAL, errstr, errstr_size, "out is NULL");
    }
    *out = NULL;
    int rc = hs_params_validate(params, errstr, errstr_size);
    if (rc != 0) {
        return rc;
    }
    hs_detector_t *d = rcfd_calloc(1, sizeof *d);
    if (d == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, errstr_size, "out of memory allocating a detector");
    }
    d->params = *params;
    for (uint32_t k = params->dim; k < HS_MAX_DIM; k++) {
        d->params.scale[k] = 1.0; /* unused slots compare equal across save and load */
    }
    const size_t w = params->window_size, dim = params->dim;
    d->dim = params->dim;
    d->window = params->window_size;
    d->min_points = params->min_points;
    d->radius2 = params->scan_radius * params->scan_radius;
    d->scaled = any_scaled(params);
    d->cluster_cap = d->window + 1;
    d->report_cap = report_capacity(d->window);
    d->raw = rcfd_malloc(w * dim * sizeof(double));
    d->pos = d->scaled ? rcfd_malloc(w * dim * sizeof(double)) : d->raw;
    d->seq = rcfd_calloc(w, sizeof(uint64_t));
    d->min_width = rcfd_malloc(dim * sizeof(double));
    d->b_cnt = rcfd_malloc(w * sizeof(uint32_t));
    d->b_label = rcfd_malloc(w * sizeof(uint32_t));
    d->b_queue = rcfd_malloc(w * sizeof(uint32_t));
    int ok = d->raw && d->pos && d->seq && d->min_width && d->b_cnt && d->b_label && d->b_queue;
    for (int i = 0; i < 3 && ok; i++) {
        d->report[i].spots = rcfd_calloc(d->report_cap, sizeof(hs_hotspot_t));
        d->report[i].bounds = rcfd_malloc(d->report_cap * 2 * dim * sizeof(double));
        ok = d->report[i].spots && d->report[i].bounds;
    }
    if (ok && params->algorithm == HS_ALGORITHM_INCREMENTAL) {
        uint32_t **per_slot[] = {&d->cnt,      &d->label,     &d->owner,     &d->own_head,
                                 &d->own_next, &d->own_prev,  &d->core_next, &d->core_prev,
                                 &d->seed_next, &d->nbr,      &d->nbr2,      &d->queue,
                                 &d->pending,
                                 &d->list_a,   &d->list_b,    &d->stamp,     &d->seed_mark};
        for (size_t i = 0; i < sizeof per_slot / sizeof per_slot[0] && ok; i++) {
            *per_slot[i] = rcfd_malloc(w * sizeof(uint32_t));
            ok = *per_slot[i] != NULL;
        }
        size_t cap = d->cluster_cap;
        d->active = rcfd_malloc(cap * sizeof(uint32_t));
        d->free_ids = rcfd_malloc(cap * sizeof(uint32_t));
        d->dirty = rcfd_malloc(2 * cap * sizeof(uint32_t));
        d->clusters = rcfd_calloc(cap, sizeof(hs_cluster_t));
        d->cl_bounds = rcfd_malloc(cap * 2 * dim * sizeof(double));
        ok = ok && d->active && d->free_ids && d->dirty && d->clusters && d->cl_bounds &&
             hs_grid_init(&d->grid, d->dim, d->window, params->scan_radius) == 0;
        if (ok) {
            hs_inc_reset(d);
        }
    }
    if (!ok) {
        hs_destroy(d);
        return rcfd_errf(RCFD_ENOMEM, errstr, errstr_size,
                         "out of memory allocating a detector of %zu bytes",
                         hs_params_model_bytes(params));
    }
    for (uint32_t k = 0; k < d->dim; k++) {
        d->min_width[k] = params->scan_radius / params->scale[k];
    }
    d->bytes = hs_params_model_bytes(params);
    *out = d;
    return 0;
}

const hs_params_t *hs_params(const hs_detector_t *d)
{
    return &d->params;
}

/* Negative when a is reported before b. Covers every field, so the order is total. */
static int spot_cmp(const hs_hotspot_t *a, const hs_hotspot_t *b, uint32_t dim)
{
    if (a->density != b->density) {
        return a->density > b->density ? -1 : 1;
    }
    if (a->count != b->count) {
        return a->count > b->count ? -1 : 1;
    }
    if (a->dense_count != b->dense_count) {
        return a->dense_count > b->dense_count ? -1 : 1;
    }
    for (uint32_t k = 0; k < dim; k++) {
        if (a->min_values[k] != b->min_values[k]) {
            return a->min_values[k] < b->min_values[k] ? -1 : 1;
        }
    }
    for (uint32_t k = 0; k < dim; k++) {
        if (a->max_values[k] != b->max_values[k]) {
            return a->max_values[k] < b->max_values[k] ? -1 : 1;
        }
    }
    return b->contains_new - a->contains_new;
}

/* Heapsort: no recursion, no allocation, no global comparator state. */
static void sift_down(hs_hotspot_t *s, size_t root, size_t n, uint32_t dim)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n) {
            return;
        }
        if (child + 1 < n && spot_cmp(&s[child], &s[child + 1], dim) < 0) {
            child++;
        }
        if (spot_cmp(&s[root], &s[child], dim) >= 0) {
            return;
        }
        hs_hotspot_t t = s[root];
        s[root] = s[child];
        s[child] = t;
        root = child;
    }
}

static void sort_spots(hs_hotspot_t *s, size_t n, uint32_t dim)
{
    for (size_t i = n / 2; i-- > 0;) {
        sift_down(s, i, n, dim);
    }
    for (size_t end = n; end-- > 1;) {
        hs_hotspot_t t = s[0];
        s[0] = s[end];
        s[end] = t;
        sift_down(s, 0, end, dim);
    }
}

void hs_report_finish(hs_detector_t *d, hs_report_t *rep)
{
    rep->n_all = rep->n;
    rep->dense_all = 0;
    rep->members_all = 0;
    size_t kept = 0;
    for (size_t i = 0; i < rep->n; i++) {
        rep->dense_all += rep->spots[i].dense_count;
        rep->members_all += rep->spots[i].count;
        if (!d->params.only_containing_new || rep->spots[i].contains_new) {
            rep->spots[kept++] = rep->spots[i];
        }
    }
    rep->n = kept;
    sort_spots(rep->spots, rep->n, d->dim);
}

int hs_report_equal(const hs_detector_t *d, const hs_report_t *a, const hs_report_t *b,
                    int strict)
{
    if (a->n != b->n) {
        return 0;
    }
    for (size_t i = 0; i < a->n; i++) {
        const hs_hotspot_t *x = &a->spots[i], *y = &b->spots[i];
        if (x->count != y->count || x->dense_count != y->dense_count ||
            memcmp(&x->density, &y->density, sizeof(double)) != 0 ||
            memcmp(x->min_values, y->min_values, d->dim * sizeof(double)) != 0 ||
            memcmp(x->max_values, y->max_values, d->dim * sizeof(double)) != 0 ||
            (strict && x->contains_new != y->contains_new)) {
            return 0;
        }
    }
    return !strict || (a->n_all == b->n_all && a->dense_all == b->dense_all &&
                       a->members_all == b->members_all);
}

void hs_fill_result(const hs_detector_t *d, const hs_report_t *rep, int changed, hs_result_t *out)
{
    out->record = d->records;
    out->window_count = d->count;
    out->n_hotspots = rep->n;
    out->hotspots = rep->spots;
    out->changed = changed;
    out->emit = changed || !d->params.emit_only_on_change;
}

static int check_row(const hs_detector_t *d, const double *values, size_t n_values)
{
    if (n_values != d->dim) {
        return RCFD_EDIM;
    }
    for (uint32_t k = 0; k < d->dim; k++) {
        if (!isfinite(values[k]) || !isfinite(values[k] * d->params.scale[k])) {
            return RCFD_ENONFINITE;
        }
    }
    return 0;
}

void hs_append(hs_detector_t *d, const double *values)
{
    int incremental = d->params.algorithm == HS_ALGORITHM_INCREMENTAL;
    if (d->count == d->window) {
        if (incremental) {
            hs_inc_delete_oldest(d);
        } else {
            d->head = d->head + 1 == d->window ? 0 : d->head + 1;
            d->count--;
        }
    }
    uint32_t slot = hs_slot(d, d->count);
    double *raw = d->raw + (size_t)slot * d->dim;
    for (uint32_t k = 0; k < d->dim; k++) {
        raw[k] = values[k] + 0.0; /* -0.0 becomes +0.0: min/max must not depend on order */
    }
    if (d->scaled) {
        double *pos = d->pos + (size_t)slot * d->dim;
        for (uint32_t k = 0; k < d->dim; k++) {
            pos[k] = raw[k] * d->params.scale[k];
        }
    }
    d->seq[slot] = ++d->records;
    if (incremental) {
        hs_inc_insert(d, slot);
        hs_inc_finish(d);
    } else {
        d->count++;
    }
}

int hs_report_now(hs_detector_t *d)
{
    hs_report_t *rep = &d->report[1 - d->cur];
    if (d->params.algorithm == HS_ALGORITHM_INCREMENTAL) {
        hs_inc_report(d, rep);
    } else {
        hs_brute_report(d, NULL, 0, rep);
    }
    hs_report_finish(d, rep);
    int changed = !hs_report_equal(d, rep, &d->report[d->cur], 0);
    d->cur = 1 - d->cur;
    return changed;
}

int hs_process(hs_detector_t *d, const double *values, size_t n_values, hs_result_t *out)
{
    if (d == NULL || values == NULL) {
        return RCFD_EINVAL;
    }
    int rc = check_row(d, values, n_values);
    if (rc != 0) {
        return rc;
    }
    if (d->records >= HS_MAX_RECORDS) {
        return RCFD_ERANGE;
    }
    hs_append(d, values);
    int changed = hs_report_now(d);
    if (out != NULL) {
        hs_fill_result(d, &d->report[d->cur], changed, out);
    }
    return 0;
}

int hs_process_batch(hs_detector_t *d, const double *rows, size_t n_rows, hs_result_t *out,
                     size_t *bad_row)
{
    if (d == NULL || (rows == NULL && n_rows > 0)) {
        return RCFD_EINVAL;
    }
    for (size_t i = 0; i < n_rows; i++) {
        int rc = check_row(d, rows + i * d->dim, d->dim);
        if (rc != 0) {
            if (bad_row != NULL) {
                *bad_row = i;
            }
            return rc;
        }
    }
    if (n_rows > HS_MAX_RECORDS - d->records) {
        if (bad_row != NULL) {
            *bad_row = (size_t)(HS_MAX_RECORDS - d->records);
        }
        return RCFD_ERANGE;
    }
    /* Rows that would leave the window before the batch ends never affect the report. */
    size_t first = n_rows > d->window ? n_rows - d->window : 0;
    d->records += first;
    for (size_t i = first; i < n_rows; i++) {
        hs_append(d, rows + i * d->dim);
    }
    int changed = hs_report_now(d);
    if (out != NULL) {
        hs_fill_result(d, &d->report[d->cur], changed, out);
    }
    return 0;
}

int hs_recompute(hs_detector_t *d, hs_result_t *out)
{
    if (d == NULL || out == NULL) {
        return RCFD_EINVAL;
    }
    hs_brute_report(d, NULL, 0, &d->report[2]);
    hs_report_finish(d, &d->report[2]);
    hs_fill_result(d, &d->report[2], !hs_report_equal(d, &d->report[2], &d->report[d->cur], 1),
                   out);
    return 0;
}

void hs_stats(const hs_detector_t *d, hs_stats_t *out)
{
    const hs_report_t *rep = &d->report[d->cur];
    memset(out, 0, sizeof *out);
    out->records = d->records;
    out->window_count = d->count;
    out->hotspots = (uint32_t)rep->n_all;
    out->dense_points = rep->dense_all;
    out->border_points = rep->members_all - rep->dense_all;
    out->neighbour_queries = d->queries;
    out->splits = d->splits;
    out->merges = d->merges;
    out->bytes = d->bytes;
}
