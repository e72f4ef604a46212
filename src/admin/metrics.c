#include "admin/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rcfd/alloc.h"
#include "rcfd/status.h"

struct rcfd_metrics {
    rcfd_metric_t *head; /* registration order; families render in first-seen order */
    rcfd_metric_t *tail;
    rcfd_metrics_collect_cb collect;
    void *collect_arg;
};

int rcfd_metrics_new(rcfd_metrics_t **out)
{
    *out = rcfd_calloc(1, sizeof **out);
    return *out != NULL ? 0 : RCFD_ENOMEM;
}

static void free_series(rcfd_metric_t *s)
{
    rcfd_free(s->name);
    rcfd_free(s->help);
    rcfd_free(s->labels);
    rcfd_free(s->bounds);
    rcfd_free(s->buckets);
    rcfd_free(s);
}

void rcfd_metrics_destroy(rcfd_metrics_t *m)
{
    if (m == NULL) {
        return;
    }
    for (rcfd_metric_t *s = m->head, *next; s != NULL; s = next) {
        next = s->next;
        free_series(s);
    }
    rcfd_free(m);
}

void rcfd_metrics_on_collect(rcfd_metrics_t *m, rcfd_metrics_collect_cb cb, void *arg)
{
    m->collect = cb;
    m->collect_arg = arg;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = rcfd_malloc(n);
    if (p != NULL) {
        memcpy(p, s, n);
    }
    return p;
}

/* Renders (name, value) pairs up to a NULL name as `a="x",b="y"`, escaping backslash, quote and
 * newline in values (topic names and keys can hold anything). */
static char *format_labels(va_list ap)
{
    rcfd_buf_t b = {0};
    int rc = rcfd_buf_putc(&b, '\0');
    b.len = 0;
    const char *key;
    while (rc == 0 && (key = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        rc |= rcfd_buf_printf(&b, "%s%s=\"", b.len > 0 ? "," : "", key);
        for (const char *p = value != NULL ? value : ""; *p != '\0' && rc == 0; p++) {
            rc |= *p == '\\' ? rcfd_buf_puts(&b, "\\\\")
                  : *p == '"' ? rcfd_buf_puts(&b, "\\\"")
                  : *p == '\n' ? rcfd_buf_puts(&b, "\\n")
                               : rcfd_buf_putc(&b, *p);
        }
        rc |= rcfd_buf_putc(&b, '"');
    }
    if (rc != 0 || rcfd_buf_putc(&b, '\0') != 0) {
        rcfd_buf_free(&b);
        return NULL;
    }
    return b.p;
}

static rcfd_metric_t *find_or_add(rcfd_metrics_t *m, rcfd_metric_kind_t kind, const char *name,
                                  const char *help, char *labels)
{
    if (labels == NULL) {
        return NULL;
    }
    for (rcfd_metric_t *s = m->head; s != NULL; s = s->next) {
        if (strcmp(s->name, name) == 0) {
            if (s->kind != kind) {
                rcfd_free(labels);
                return NULL;
            }
            if (strcmp(s->labels, labels) == 0) {
                rcfd_free(labels);
                return s;
            }
        }
    }
    rcfd_metric_t *s = rcfd_calloc(1, sizeof *s);
    if (s == NULL || (s->name = dup_str(name)) == NULL || (s->help = dup_str(help)) == NULL) {
        if (s != NULL) {
            s->labels = labels;
            free_series(s);
        } else {
            rcfd_free(labels);
        }
        return NULL;
    }
    s->kind = kind;
    s->labels = labels;
    /* Keep a family's series together: insert after its last series, else at the end. */
    rcfd_metric_t *after = NULL;
    for (rcfd_metric_t *t = m->head; t != NULL; t = t->next) {
        if (strcmp(t->name, name) == 0) {
            after = t;
        }
    }
    if (after != NULL) {
        s->next = after->next;
        after->next = s;
        if (m->tail == after) {
            m->tail = s;
        }
    } else if (m->tail != NULL) {
        m->tail->next = s;
        m->tail = s;
    } else {
        m->head = m->tail = s;
    }
    return s;
}

rcfd_metric_t *rcfd_metrics_counter(rcfd_metrics_t *m, const char *name, const char *help, ...)
{
    va_list ap;
    va_start(ap, help);
    char *l = format_labels(ap);
    va_end(ap);
    return find_or_add(m, RCFD_METRIC_COUNTER, name, help, l);
}

rcfd_metric_t *rcfd_metrics_gauge(rcfd_metrics_t *m, const char *name, const char *help, ...)
{
    va_list ap;
    va_start(ap, help);
    char *l = format_labels(ap);
    va_end(ap);
    return find_or_add(m, RCFD_METRIC_GAUGE, name, help, l);
}

rcfd_metric_t *rcfd_metrics_histogram(rcfd_metrics_t *m, const char *name, const char *help,
                                      const double *bounds, size_t n_bounds, ...)
{
    va_list ap;
    va_start(ap, n_bounds);
    char *l = format_labels(ap);
    va_end(ap);
    rcfd_metric_t *s = find_or_add(m, RCFD_METRIC_HISTOGRAM, name, help, l);
    if (s == NULL || s->buckets != NULL) {
        return s;
    }
    s->bounds = rcfd_malloc(sizeof(double) * (n_bounds > 0 ? n_bounds : 1));
    s->buckets = rcfd_calloc(n_bounds + 1, sizeof(uint64_t));
    if (s->bounds == NULL || s->buckets == NULL) {
        rcfd_free(s->buckets);
        s->buckets = NULL;
        return NULL; /* the series stays registered, empty; freed with the registry */
    }
    memcpy(s->bounds, bounds, sizeof(double) * n_bounds);
    s->n_bounds = n_bounds;
    return s;
}

void rcfd_metric_observe(rcfd_metric_t *h, double v)
{
    if (h == NULL || h->buckets == NULL) {
        return;
    }
    size_t i = 0;
    while (i < h->n_bounds && v > h->bounds[i]) {
        i++;
    }
    h->buckets[i]++; /* per-bucket here; made cumulative when rendered */
    h->count++;
    h->value += v;
}

void rcfd_metric_histogram_load(rcfd_metric_t *h, const uint64_t *buckets, size_t n_bounds,
                                double sum)
{
    if (h == NULL || h->buckets == NULL || h->n_bounds != n_bounds) {
        return;
    }
    h->count = 0;
    for (size_t i = 0; i <= n_bounds; i++) {
        h->buckets[i] = buckets[i];
        h->count += buckets[i];
    }
    h->value = sum;
}

static void put_value(rcfd_buf_t *out, double v)
{
    if (isnan(v)) {
        rcfd_buf_puts(out, "NaN");
    } else if (isinf(v)) {
        rcfd_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    } else if (v == floor(v) && fabs(v) < 1e15) {
        rcfd_buf_printf(out, "%.0f", v);
    } else {
        char tmp[40];
        rcfd_fmt_double(tmp, sizeof tmp, v);
        rcfd_buf_puts(out, tmp);
    }
}

static void put_series(rcfd_buf_t *out, const char *name, const char *suffix, const char *labels,
                       const char *extra)
{
    rcfd_buf_printf(out, "%s%s", name, suffix);
    if (labels[0] != '\0' || extra != NULL) {
        rcfd_buf_printf(out, "{%s%s%s}", labels, labels[0] != '\0' && extra != NULL ? "," : "",
                        extra != NULL ? extra : "");
    }
    rcfd_buf_putc(out, ' ');
}

int rcfd_metrics_render(rcfd_metrics_t *m, rcfd_buf_t *out)
{
    static const char *const kinds[] = {"counter", "gauge", "histogram"};
    if (m->collect != NULL) {
        m->collect(m, m->collect_arg);
    }
    const char *family = NULL;
    for (const rcfd_metric_t *s = m->head; s != NULL; s = s->next) {
        if (family == NULL || strcmp(family, s->name) != 0) {
            family = s->name;
            rcfd_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", s->name, s->help, s->name,
                            kinds[s->kind]);
        }
        if (s->kind != RCFD_METRIC_HISTOGRAM) {
            put_series(out, s->name, "", s->labels, NULL);
            put_value(out, s->value);
            rcfd_buf_putc(out, '\n');
            continue;
        }
        uint64_t cumulative = 0;
        char le[64];
        for (size_t i = 0; i <= s->n_bounds; i++) {
            cumulative += s->buckets != NULL ? s->buckets[i] : 0;
            if (i < s->n_bounds) {
                char v[40];
                rcfd_fmt_double(v, sizeof v, s->bounds[i]);
                snprintf(le, sizeof le, "le=\"%s\"", v);
            } else {
                snprintf(le, sizeof le, "le=\"+Inf\"");
            }
            put_series(out, s->name, "_bucket", s->labels, le);
            rcfd_buf_printf(out, "%llu\n", (unsigned long long)cumulative);
        }
        put_series(out, s->name, "_sum", s->labels, NULL);
        put_value(out, s->value);
        rcfd_buf_putc(out, '\n');
        put_series(out, s->name, "_count", s->labels, NULL);
        rcfd_buf_printf(out, "%llu\n", (unsigned long long)s->count);
    }
    return rcfd_buf_putc(out, '\0') == 0 ? (out->len--, 0) : RCFD_ENOMEM;
}
