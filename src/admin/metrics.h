/* Metrics registry and Prometheus text exposition.
 *
 * The daemon registers counters, gauges and fixed-bucket histograms once (at start or when a
 * partition or key first appears) and updates them on the loop thread; rendering happens on the
 * loop thread too, so nothing here locks. A series is a metric name plus a fixed label set,
 * e.g. name "rcfd_records_dead_total" with labels `reason="bad_json"`.
 *
 * Ownership: the registry owns every series; the pointers it returns stay valid until
 * rcfd_metrics_destroy(). Not thread-safe. */
#ifndef RCFD_ADMIN_METRICS_H
#define RCFD_ADMIN_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

typedef enum rcfd_metric_kind {
    RCFD_METRIC_COUNTER,
    RCFD_METRIC_GAUGE,
    RCFD_METRIC_HISTOGRAM
} rcfd_metric_kind_t;

typedef struct rcfd_metric {
    struct rcfd_metric *next;
    rcfd_metric_kind_t kind;
    char *name;
    char *help;
    char *labels; /* rendered label pairs without braces, "" for none */
    double value; /* counter or gauge; histogram: the sum */
    /* histograms only */
    size_t n_bounds;
    double *bounds;    /* upper bounds, ascending (le) */
    uint64_t *buckets; /* per bound, cumulative at render time; plus +Inf at [n_bounds] */
    uint64_t count;
} rcfd_metric_t;

typedef struct rcfd_metrics rcfd_metrics_t;

/* Called before each render, to refresh gauges that are cheaper to read than to track. */
typedef void (*rcfd_metrics_collect_cb)(rcfd_metrics_t *m, void *arg);

int rcfd_metrics_new(rcfd_metrics_t **out);
void rcfd_metrics_destroy(rcfd_metrics_t *m);
void rcfd_metrics_on_collect(rcfd_metrics_t *m, rcfd_metrics_collect_cb cb, void *arg);

/* Finds or creates a series. After `help` come label pairs, (const char *name, const char *value)
 * ..., ended by NULL: rcfd_metrics_counter(m, "rcfd_records_dead_total", "...", "reason", r, NULL).
 * Values are escaped as the exposition format requires. NULL on ENOMEM or when the name is
 * registered with another kind. */
__attribute__((sentinel)) rcfd_metric_t *rcfd_metrics_counter(rcfd_metrics_t *m, const char *name,
                                                              const char *help, ...);
__attribute__((sentinel)) rcfd_metric_t *rcfd_metrics_gauge(rcfd_metrics_t *m, const char *name,
                                                            const char *help, ...);
/* `bounds`: n_bounds ascending upper bounds; the +Inf bucket is implicit. Then label pairs. */
__attribute__((sentinel)) rcfd_metric_t *
rcfd_metrics_histogram(rcfd_metrics_t *m, const char *name, const char *help, const double *bounds,
                       size_t n_bounds, ...);

static inline void rcfd_metric_add(rcfd_metric_t *s, double v)
{
    if (s != NULL) {
        s->value += v;
    }
}

static inline void rcfd_metric_set(rcfd_metric_t *s, double v)
{
    if (s != NULL) {
        s->value = v;
    }
}

void rcfd_metric_observe(rcfd_metric_t *h, double v);

/* Replaces a histogram's state with counts kept elsewhere (copied at scrape time, like
 * rcfd_metric_set for counters): buckets[0..n_bounds] per bucket, not cumulative, the last one
 * +Inf; sum of the observed values. n_bounds must be the series' own (else nothing happens). */
void rcfd_metric_histogram_load(rcfd_metric_t *h, const uint64_t *buckets, size_t n_bounds,
                                double sum);

/* Appends the Prometheus text format (version 0.0.4) of every series, grouped by name. */
int rcfd_metrics_render(rcfd_metrics_t *m, rcfd_buf_t *out);

#endif
