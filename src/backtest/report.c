/* The backtest report: one self-contained HTML file (dygraphs and report.js inlined, the data as
 * JSON in the page, no external references) and the JSON summary. */
#include "backtest/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "backtest/embedded.h"
#include "common/build.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "rcfd/version.h"

#define MAX_PLOT_KEYS 200   /* keys charted per file (the most alerting first); the rest listed */
#define MAX_DETECTIONS 5000 /* detection marks per key */

static int esc(rcfd_buf_t *b, const char *s)
{
    int rc = 0;
    for (; rc == 0 && *s; s++) {
        switch (*s) {
        case '<':
            rc = rcfd_buf_puts(b, "&lt;");
            break;
        case '>':
            rc = rcfd_buf_puts(b, "&gt;");
            break;
        case '&':
            rc = rcfd_buf_puts(b, "&amp;");
            break;
        case '"':
            rc = rcfd_buf_puts(b, "&quot;");
            break;
        default:
            rc = rcfd_buf_putc(b, *s);
        }
    }
    return rc;
}

/* A JSON string safe inside a <script> element: <, > and & as \u escapes. */
static int jstr(rcfd_buf_t *b, const char *s)
{
    int rc = rcfd_buf_putc(b, '"');
    for (; rc == 0 && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            rc = rcfd_buf_printf(b, "\\%c", c);
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            rc = rcfd_buf_printf(b, "\\u%04x", c);
        } else {
            rc = rcfd_buf_putc(b, (char)c);
        }
    }
    return rc ? rc : rcfd_buf_putc(b, '"');
}

static int num(rcfd_buf_t *b, double v)
{
    return isfinite(v) ? rcfd_buf_printf(b, "%.6g", v) : rcfd_buf_puts(b, "null");
}

/* An x value (ms since the epoch, or a row number): integral, every digit. */
static int numx(rcfd_buf_t *b, double x)
{
    return rcfd_buf_printf(b, "%.0f", x);
}

static const char *const PROFILE_LABEL[RCFD_NAB_N_PROFILES] = {"standard", "low FP", "low FN"};

/* x of a record: its time in ms when every record has one, else its row number. */
static double xof(const rcfd_bt_file_t *f, size_t r)
{
    return f->has_ts ? (double)(f->ts[r] / 1000) : (double)r;
}

typedef struct keyinfo {
    uint32_t key;
    size_t rows, alerts;
    double max;
} keyinfo_t;

static int by_alerts(const void *a, const void *b)
{
    const keyinfo_t *x = a, *y = b;
    if (x->alerts != y->alerts) {
        return x->alerts > y->alerts ? -1 : 1;
    }
    double mx = isfinite(x->max) ? x->max : -INFINITY, my = isfinite(y->max) ? y->max : -INFINITY;
    if (mx != my) {
        return mx > my ? -1 : 1;
    }
    return x->key < y->key ? -1 : x->key > y->key;
}

/* Per key of the file: rows, alerts and the input's maximum, the most alerting key first. */
static keyinfo_t *key_table(const rcfd_bt_opts_t *o, const rcfd_bt_file_t *f,
                            const rcfd_bt_summary_t *s)
{
    keyinfo_t *k = rcfd_calloc(f->n_keys ? f->n_keys : 1, sizeof *k);
    if (k == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < f->n_keys; i++) {
        k[i].key = (uint32_t)i;
        k[i].max = NAN;
    }
    size_t from = o->labelled ? rcfd_nab_probation(f->n) : 0;
    for (size_t r = 0; r < f->n; r++) {
        if (f->key[r] >= f->n_keys) {
            continue; /* dead-lettered */
        }
        keyinfo_t *e = &k[f->key[r]];
        e->rows++;
        double v = f->input[r];
        if (isfinite(v) && !(v <= e->max)) {
            e->max = v;
        }
        e->alerts += r >= from && v >= s->alert_threshold;
    }
    qsort(k, f->n_keys, sizeof *k, by_alerts);
    return k;
}

/* One key's chart data: per bucket of consecutive records, x of its first, each field's min, mean
 * and max, the score's min and max, the threshold's mean, the input's min and max; and the
 * detections. Keeping min and max keeps every spike at any length. */
static int key_data(rcfd_buf_t *b, const rcfd_bt_opts_t *o, const rcfd_bt_file_t *f,
                    const rcfd_bt_summary_t *s, const keyinfo_t *ki, size_t buckets_max)
{
    size_t m = ki->rows;
    size_t *rows = rcfd_malloc((m ? m : 1) * sizeof *rows);
    if (rows == NULL) {
        return RCFD_ENOMEM;
    }
    for (size_t r = 0, j = 0; r < f->n; r++) {
        if (f->key[r] == ki->key) {
            rows[j++] = r;
        }
    }
    size_t nb = m < buckets_max ? m : buckets_max;
    size_t nf = f->n_fields;
    /* columns: x, per field lo/mean/hi, score lo/hi, threshold, input lo/hi */
    size_t ncol = 1 + 3 * nf + 5;
    double *col = rcfd_malloc((nb ? nb : 1) * ncol * sizeof *col);
    if (col == NULL) {
        rcfd_free(rows);
        return RCFD_ENOMEM;
    }
    for (size_t k = 0; k < nb; k++) {
        size_t a = k * m / nb, z = (k + 1) * m / nb;
        double *c = col + k * ncol;
        c[0] = xof(f, rows[a]);
        for (size_t j = 1; j < ncol; j++) {
            c[j] = NAN;
        }
        for (size_t fi = 0; fi < nf; fi++) {
            double lo = INFINITY, hi = -INFINITY, sum = 0;
            size_t cnt = 0;
            for (size_t i = a; i < z; i++) {
                double v = f->vals[rows[i] * nf + fi];
                if (isfinite(v)) {
                    lo = v < lo ? v : lo;
                    hi = v > hi ? v : hi;
                    sum += v;
                    cnt++;
                }
            }
            if (cnt > 0) {
                c[1 + 3 * fi] = lo;
                c[2 + 3 * fi] = sum / (double)cnt;
                c[3 + 3 * fi] = hi;
            }
        }
        double slo = INFINITY, shi = -INFINITY, tsum = 0, ilo = INFINITY, ihi = -INFINITY;
        size_t tn = 0;
        for (size_t i = a; i < z; i++) {
            size_t r = rows[i];
            if (isfinite(f->score[r])) {
                slo = f->score[r] < slo ? f->score[r] : slo;
                shi = f->score[r] > shi ? f->score[r] : shi;
            }
            if (isfinite(f->threshold[r])) {
                tsum += f->threshold[r];
                tn++;
            }
            if (isfinite(f->input[r])) {
                ilo = f->input[r] < ilo ? f->input[r] : ilo;
                ihi = f->input[r] > ihi ? f->input[r] : ihi;
            }
        }
        double *t = c + 1 + 3 * nf;
        if (slo <= shi) {
            t[0] = slo;
            t[1] = shi;
        }
        if (tn > 0) {
            t[2] = tsum / (double)tn;
        }
        if (ilo <= ihi) {
            t[3] = ilo;
            t[4] = ihi;
        }
    }
    int rc = rcfd_buf_puts(b, "{\"name\":");
    rc = rc ? rc : jstr(b, f->keys[ki->key]);
    rc =
        rc ? rc : rcfd_buf_printf(b, ",\"rows\":%zu,\"alerts\":%zu,\"max\":", ki->rows, ki->alerts);
    rc = rc ? rc : num(b, ki->max);
    static const char *const names[] = {"sl", "sh", "t", "il", "ih"};
    /* x */
    rc = rc ? rc : rcfd_buf_puts(b, ",\"x\":[");
    for (size_t k = 0; rc == 0 && k < nb; k++) {
        rc = (k ? rcfd_buf_putc(b, ',') : 0);
        rc = rc ? rc : numx(b, col[k * ncol]);
    }
    const char *fnames[3] = {"fl", "fm", "fh"};
    for (int w = 0; rc == 0 && w < 3; w++) {
        rc = rcfd_buf_printf(b, "],\"%s\":[", fnames[w]);
        for (size_t fi = 0; rc == 0 && fi < nf; fi++) {
            rc = rcfd_buf_puts(b, fi ? ",[" : "[");
            for (size_t k = 0; rc == 0 && k < nb; k++) {
                rc = (k ? rcfd_buf_putc(b, ',') : 0);
                rc = rc ? rc : num(b, col[k * ncol + 1 + 3 * fi + (size_t)w]);
            }
            rc = rc ? rc : rcfd_buf_putc(b, ']');
        }
    }
    for (size_t j = 0; rc == 0 && j < 5; j++) {
        rc = rcfd_buf_printf(b, "],\"%s\":[", names[j]);
        for (size_t k = 0; rc == 0 && k < nb; k++) {
            rc = (k ? rcfd_buf_putc(b, ',') : 0);
            rc = rc ? rc : num(b, col[k * ncol + 1 + 3 * nf + j]);
        }
    }
    /* detections: [x, 0 false positive | 1 inside a window | 2 an alert without labels] */
    rc = rc ? rc : rcfd_buf_puts(b, "],\"det\":[");
    size_t from = o->labelled ? rcfd_nab_probation(f->n) : 0, nd = 0;
    for (size_t i = 0; rc == 0 && i < m && nd < MAX_DETECTIONS; i++) {
        size_t r = rows[i];
        if (r >= from && f->input[r] >= s->alert_threshold) {
            rc = nd++ ? rcfd_buf_putc(b, ',') : 0;
            rc = rc ? rc : rcfd_buf_putc(b, '[');
            rc = rc ? rc : numx(b, xof(f, r));
            rc = rc ? rc : rcfd_buf_printf(b, ",%d]", o->labelled ? f->label[r] != 0 : 2);
        }
    }
    rc = rc ? rc : rcfd_buf_puts(b, "]}");
    rcfd_free(col);
    rcfd_free(rows);
    return rc;
}

static int file_data(rcfd_buf_t *b, const rcfd_bt_opts_t *o, const rcfd_bt_file_t *f,
                     const rcfd_bt_summary_t *s, const keyinfo_t *ki)
{
    int rc = rcfd_buf_puts(b, "{\"name\":");
    rc = rc ? rc : jstr(b, f->name);
    rc = rc ? rc : rcfd_buf_printf(b, ",\"time\":%s,\"fields\":[", f->has_ts ? "true" : "false");
    for (size_t i = 0; rc == 0 && i < f->n_fields; i++) {
        rc = i ? rcfd_buf_putc(b, ',') : 0;
        rc = rc ? rc : jstr(b, o->fields.v[i]);
    }
    rc = rc ? rc : rcfd_buf_puts(b, "],\"x0\":");
    rc = rc ? rc : numx(b, f->n ? xof(f, 0) : 0);
    rc = rc ? rc : rcfd_buf_puts(b, ",\"probation\":");
    size_t prob = o->labelled ? rcfd_nab_probation(f->n) : 0;
    rc = rc ? rc : (prob > 0 ? numx(b, xof(f, prob - 1)) : rcfd_buf_puts(b, "null"));
    rc = rc ? rc : rcfd_buf_puts(b, ",\"windows\":[");
    for (size_t j = 0; rc == 0 && j < f->n_windows; j++) {
        rc = j ? rcfd_buf_putc(b, ',') : 0;
        rc = rc ? rc : rcfd_buf_putc(b, '[');
        rc = rc ? rc : numx(b, xof(f, f->windows[j].first));
        rc = rc ? rc : rcfd_buf_putc(b, ',');
        rc = rc ? rc : numx(b, xof(f, f->windows[j].last));
        rc = rc ? rc : rcfd_buf_putc(b, ']');
    }
    rc = rc ? rc : rcfd_buf_puts(b, "],\"keys\":[");
    size_t nk = f->n_keys < MAX_PLOT_KEYS ? f->n_keys : MAX_PLOT_KEYS;
    size_t budget = o->plot_points;
    if (nk > 1) {
        /* several keys share a budget of 4 single-key charts, at least 200 buckets each */
        budget = 4 * o->plot_points / nk;
        budget = budget < 200 ? 200 : budget > o->plot_points ? o->plot_points : budget;
    }
    for (size_t k = 0, shown = 0; rc == 0 && k < nk; k++) {
        if (ki[k].rows == 0) {
            continue;
        }
        rc = shown++ ? rcfd_buf_putc(b, ',') : 0;
        rc = rc ? rc : key_data(b, o, f, s, &ki[k], budget);
    }
    return rc ? rc : rcfd_buf_puts(b, "]}");
}

static int params_table(rcfd_buf_t *b, const cJSON *params)
{
    int rc = rcfd_buf_puts(b, "<table><tr><th class=\"n\">parameter</th><th>value</th></tr>\n");
    const cJSON *p;
    cJSON_ArrayForEach(p, params)
    {
        char *v = cJSON_PrintUnformatted(p);
        rc = rc ? rc : rcfd_buf_puts(b, "<tr><td class=\"n\">");
        rc = rc ? rc : esc(b, p->string);
        rc = rc ? rc : rcfd_buf_puts(b, "</td><td>");
        rc = rc ? rc : esc(b, v != NULL ? v : "");
        rc = rc ? rc : rcfd_buf_puts(b, "</td></tr>\n");
        cJSON_free(v);
    }
    return rc ? rc : rcfd_buf_puts(b, "</table>\n");
}

/* The model's effective parameters: the first pipeline's first model in the effective config. */
static const cJSON *effective_params(const rcfd_bt_opts_t *o)
{
    const cJSON *pl = cJSON_GetArrayItem(cJSON_GetObjectItem(o->effective, "pipelines"), 0);
    return cJSON_GetArrayItem(cJSON_GetObjectItem(pl, "models"), 0);
}

static int header(rcfd_buf_t *b, const rcfd_bt_opts_t *o, const rcfd_bt_file_t *files, size_t nf,
                  const rcfd_bt_summary_t *s)
{
    char when[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
    int rc =
        rcfd_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                         "<meta name=\"viewport\" content=\"width=device-width\"/>\n"
                         "<title>rcfd backtest: ");
    rc = rc ? rc : (nf == 1 ? esc(b, files[0].name) : rcfd_buf_printf(b, "%zu files", nf));
    rc = rc ? rc : rcfd_buf_puts(b, "</title>\n<style>\n");
    rc = rc ? rc : rcfd_buf_append(b, rcfd_dygraphs_css, rcfd_dygraphs_css_len);
    rc = rc ? rc : rcfd_buf_append(b, rcfd_report_css, rcfd_report_css_len);
    rc = rc ? rc : rcfd_buf_puts(b, "</style>\n<script>\n");
    rc = rc ? rc : rcfd_buf_append(b, rcfd_dygraphs_js, rcfd_dygraphs_js_len);
    rc = rc ? rc : rcfd_buf_puts(b, "\n</script>\n</head>\n<body>\n<h1>rcfd backtest: ");
    rc = rc ? rc : (nf == 1 ? esc(b, files[0].name) : rcfd_buf_printf(b, "%zu files", nf));
    rc = rc ? rc
            : rcfd_buf_printf(b,
                              "</h1>\n<p class=\"meta\">rcfd %s (commit %s), %s. Model <b>%s</b>; "
                              "%zu records; alerts on <b>%s</b>",
                              rcfd_version(), rcfd_build_commit(), when, o->model, s->records,
                              rcfd_bt_input_label(o->nab_input));
    if (rc == 0 && isfinite(s->alert_threshold)) {
        rc = rcfd_buf_printf(b, " &ge; <b>%.6g</b> (%s): %zu alerts", s->alert_threshold,
                             s->alert_source, s->alerts);
    } else if (rc == 0) {
        rc = rcfd_buf_puts(b, " (no threshold without labels: give --alert-threshold)");
    }
    rc = rc ? rc
            : rcfd_buf_puts(b, ".</p>\n<div id=\"rcfd-errors\" hidden></div>\n"
                               "<p class=\"note\">Charts: drag to zoom, shift-drag to pan, "
                               "double-click to reset; the range selector under each file's first "
                               "chart moves all its charts. The band of a line is the minimum "
                               "to maximum of the records it stands for (one point per bucket of "
                               "records), so no spike is lost.");
    if (rc == 0 && o->labelled) {
        rc =
            rcfd_buf_puts(b, " <span class=\"legend-key\" style=\"background:rgba(244,160,60,.3)\">"
                             "</span>labelled window <span class=\"legend-key\" "
                             "style=\"background:rgba(128,128,128,.15)\"></span>NAB probation "
                             "(not scored) <span class=\"legend-key\" "
                             "style=\"background:rgb(20,140,40)\"></span>detection in a window "
                             "<span class=\"legend-key\" style=\"background:rgb(200,30,30)\">"
                             "</span>false positive");
    } else if (rc == 0) {
        rc = rcfd_buf_puts(b, " <span class=\"legend-key\" style=\"background:rgb(230,120,0)\">"
                              "</span>alert");
    }
    rc = rc ? rc
            : rcfd_buf_puts(b, "</p>\n<details><summary>Reproduce: the command and every "
                               "effective parameter</summary>\n<pre>");
    rc = rc ? rc : esc(b, o->reproduce != NULL ? o->reproduce : "");
    rc = rc ? rc : rcfd_buf_puts(b, "</pre>\n");
    const cJSON *params = effective_params(o);
    if (rc == 0 && params != NULL) {
        rc = params_table(b, params);
    }
    if (rc == 0 && o->effective != NULL) {
        char *cfg = cJSON_Print(o->effective);
        rc = rcfd_buf_puts(
            b, "<p>The daemon config each file ran with (the first file's):</p>\n<pre>");
        rc = rc ? rc : esc(b, cfg != NULL ? cfg : "");
        rc = rc ? rc : rcfd_buf_puts(b, "</pre>\n");
        cJSON_free(cfg);
    }
    return rc ? rc : rcfd_buf_puts(b, "</details>\n");
}

static int summary(rcfd_buf_t *b, const rcfd_bt_opts_t *o, size_t nf, const rcfd_bt_summary_t *s)
{
    if (!o->labelled) {
        return rcfd_buf_printf(b,
                               "<h2>Summary</h2>\n<p>No labels (give --label, --windows or "
                               "--corpus for precision, recall and the NAB score): %zu "
                               "file(s), %zu records scored.</p>\n",
                               nf, s->records);
    }
    int rc = rcfd_buf_printf(
        b,
        "<h2>Summary</h2>\n<table>\n<tr><th>files</th><th>records</th><th>windows</th>"
        "<th>precision</th><th>recall</th><th>F1</th><th>accuracy</th></tr>\n<tr><td>%zu</td>"
        "<td>%zu</td><td>%zu</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td></tr>\n"
        "</table>\n<p class=\"note\">precision, recall, F1 and accuracy count records flagged "
        "with grade &ge; %g; the NAB score sweeps %s over the corpus.</p>\n",
        nf, s->records, s->labelled_windows, s->metrics.precision, s->metrics.recall, s->metrics.f1,
        s->metrics.accuracy, o->grade_cutoff, rcfd_bt_input_label(o->nab_input));
    rc = rc ? rc
            : rcfd_buf_puts(b, "<table>\n<tr><th class=\"n\">NAB profile</th><th>score (best "
                               "threshold)</th><th>threshold</th><th>windows hit</th><th>false "
                               "positives</th><th>score (grade cut-off)</th></tr>\n");
    for (int p = 0; rc == 0 && p < RCFD_NAB_N_PROFILES; p++) {
        rc = rcfd_buf_printf(b,
                             "<tr><td class=\"n\">%s</td><td>%.1f</td><td>%.4g</td>"
                             "<td>%zu/%zu</td><td>%zu</td><td>%.1f</td></tr>\n",
                             PROFILE_LABEL[p], s->nab_norm[p], s->nab[p].threshold,
                             s->nab[p].windows_hit, s->nab[p].windows_total, s->nab[p].fp,
                             s->fixed_norm[p]);
    }
    return rc ? rc : rcfd_buf_puts(b, "</table>\n");
}

/* A sortable number cell: `decimals` places, or 4 significant digits when it is negative. */
static int td_num(rcfd_buf_t *b, double v, int decimals)
{
    if (!isfinite(v)) {
        return rcfd_buf_puts(b, "<td data-v=\"-1e300\">&ndash;</td>");
    }
    return decimals >= 0 ? rcfd_buf_printf(b, "<td data-v=\"%.17g\">%.*f</td>", v, decimals, v)
                         : rcfd_buf_printf(b, "<td data-v=\"%.17g\">%.4g</td>", v, v);
}

static int index_table(rcfd_buf_t *b, const rcfd_bt_opts_t *o, const rcfd_bt_file_t *files,
                       size_t nf)
{
    int rc = rcfd_buf_printf(b,
                             "<h2>Files</h2>\n<p class=\"note\">Click a column to sort, a "
                             "name to go to its charts.</p>\n<table class=\"sortable\" "
                             "id=\"index\">\n<thead><tr><th class=\"n\">file</th>"
                             "<th>records</th><th>keys</th>%s<th>alerts</th><th>max %s</th>"
                             "</tr></thead>\n<tbody>\n",
                             o->labelled ? "<th>windows</th><th>windows hit</th><th>false "
                                           "positives</th><th>NAB raw (standard)</th>"
                                           "<th>precision</th><th>recall</th><th>F1</th>"
                                         : "",
                             rcfd_bt_input_name(o->nab_input));
    for (size_t i = 0; rc == 0 && i < nf; i++) {
        const rcfd_bt_file_t *f = &files[i];
        rc = rcfd_buf_printf(b, "<tr><td class=\"n\"><a href=\"#f%zu\">", i);
        rc = rc ? rc : esc(b, f->name);
        rc = rc ? rc : rcfd_buf_puts(b, "</a></td>");
        rc = rc ? rc : td_num(b, (double)f->n, 0);
        rc = rc ? rc : td_num(b, (double)f->n_keys, 0);
        if (rc == 0 && o->labelled) {
            rc = td_num(b, (double)f->n_windows, 0);
            rc = rc ? rc : td_num(b, (double)f->nab[0].windows_hit, 0);
            rc = rc ? rc : td_num(b, (double)f->nab[0].fp, 0);
            rc = rc ? rc : td_num(b, f->nab[0].raw, 3);
            rc = rc ? rc : td_num(b, f->metrics.precision, 3);
            rc = rc ? rc : td_num(b, f->metrics.recall, 3);
            rc = rc ? rc : td_num(b, f->metrics.f1, 3);
        }
        rc = rc ? rc : td_num(b, (double)f->alerts, 0);
        rc = rc ? rc : td_num(b, f->input_max, -1);
        rc = rc ? rc : rcfd_buf_puts(b, "</tr>\n");
    }
    return rc ? rc : rcfd_buf_puts(b, "</tbody>\n</table>\n");
}

static int file_section(rcfd_buf_t *b, const rcfd_bt_opts_t *o, const rcfd_bt_file_t *f, size_t i,
                        const keyinfo_t *ki)
{
    int rc =
        rcfd_buf_printf(b, "<section class=\"file\" id=\"f%zu\" data-file=\"%zu\">\n<h3>", i, i);
    rc = rc ? rc : esc(b, f->name);
    rc = rc ? rc : rcfd_buf_printf(b, "</h3>\n<p>%zu records", f->n);
    if (rc == 0 && f->n_keys > 1) {
        rc = rcfd_buf_printf(b, ", %zu keys", f->n_keys);
    }
    if (rc == 0 && o->labelled) {
        rc = rcfd_buf_printf(b,
                             ", %zu windows; NAB (standard) %zu of %zu windows hit, %zu false "
                             "positives, raw %.3f; precision %.3f, recall %.3f, F1 %.3f",
                             f->n_windows, f->nab[0].windows_hit, f->nab[0].windows_total,
                             f->nab[0].fp, f->nab[0].raw, f->metrics.precision, f->metrics.recall,
                             f->metrics.f1);
    }
    rc = rc ? rc : rcfd_buf_printf(b, "; %zu alerts.", f->alerts);
    if (rc == 0 && !f->has_ts) {
        rc = rcfd_buf_printf(b,
                             " The x axis is the record number (no timestamp field \"%s\" on "
                             "every record).",
                             o->timestamp != NULL ? o->timestamp : "");
    }
    rc = rc ? rc : rcfd_buf_puts(b, "</p>\n");
    size_t nk = f->n_keys < MAX_PLOT_KEYS ? f->n_keys : MAX_PLOT_KEYS;
    if (rc == 0 && f->n_keys > 1) {
        rc = rcfd_buf_puts(b, "<p>Key: <select class=\"key\">");
        for (size_t k = 0, shown = 0; rc == 0 && k < nk; k++) {
            if (ki[k].rows == 0) {
                continue;
            }
            rc = rcfd_buf_printf(b, "<option value=\"%zu\">", shown++);
            rc = rc ? rc : esc(b, f->keys[ki[k].key]);
            rc = rc ? rc
                    : rcfd_buf_printf(b, " (%zu records, %zu alerts, max %.4g)</option>",
                                      ki[k].rows, ki[k].alerts, ki[k].max);
        }
        rc = rc ? rc : rcfd_buf_puts(b, "</select>");
        if (rc == 0 && f->n_keys > nk) {
            rc = rcfd_buf_printf(b,
                                 " <span class=\"note\">the %zu most alerting of %zu keys"
                                 "</span>",
                                 nk, f->n_keys);
        }
        rc = rc ? rc : rcfd_buf_puts(b, "</p>\n");
    }
    return rc ? rc : rcfd_buf_puts(b, "<div class=\"charts\"></div>\n</section>\n");
}

int rcfd_report_html(const rcfd_bt_opts_t *o, const rcfd_bt_file_t *files, size_t nf,
                     const rcfd_bt_summary_t *s, rcfd_buf_t *b)
{
    keyinfo_t **ki = rcfd_calloc(nf ? nf : 1, sizeof *ki);
    if (ki == NULL) {
        return RCFD_ENOMEM;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nf; i++) {
        if ((ki[i] = key_table(o, &files[i], s)) == NULL) {
            rc = RCFD_ENOMEM;
        }
    }
    rc = rc ? rc : header(b, o, files, nf, s);
    rc = rc ? rc : summary(b, o, nf, s);
    rc = rc ? rc : index_table(b, o, files, nf);
    for (size_t i = 0; rc == 0 && i < nf; i++) {
        rc = file_section(b, o, &files[i], i, ki[i]);
    }
    rc = rc ? rc
            : rcfd_buf_puts(b, "<script type=\"application/json\" id=\"rcfd-data\">{\"input\":");
    rc = rc ? rc : jstr(b, rcfd_bt_input_label(o->nab_input));
    rc = rc ? rc : rcfd_buf_puts(b, ",\"threshold\":");
    rc = rc ? rc : num(b, s->alert_threshold);
    rc = rc ? rc
            : rcfd_buf_printf(b, ",\"labelled\":%s,\"files\":[", o->labelled ? "true" : "false");
    for (size_t i = 0; rc == 0 && i < nf; i++) {
        rc = i ? rcfd_buf_puts(b, ",\n") : 0;
        rc = rc ? rc : file_data(b, o, &files[i], s, ki[i]);
    }
    rc = rc ? rc : rcfd_buf_puts(b, "]}</script>\n<script>\n");
    rc = rc ? rc : rcfd_buf_append(b, rcfd_report_js, rcfd_report_js_len);
    rc = rc ? rc : rcfd_buf_puts(b, "</script>\n</body>\n</html>\n");
    for (size_t i = 0; i < nf; i++) {
        rcfd_free(ki[i]);
    }
    rcfd_free(ki);
    return rc;
}

static cJSON *metrics_json(const rcfd_metrics_t *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "tp", (double)m->tp);
    cJSON_AddNumberToObject(o, "fp", (double)m->fp);
    cJSON_AddNumberToObject(o, "fn", (double)m->fn);
    cJSON_AddNumberToObject(o, "tn", (double)m->tn);
    cJSON_AddNumberToObject(o, "precision", m->precision);
    cJSON_AddNumberToObject(o, "recall", m->recall);
    cJSON_AddNumberToObject(o, "f1", m->f1);
    cJSON_AddNumberToObject(o, "accuracy", m->accuracy);
    return o;
}

static cJSON *nab_json(const rcfd_nab_result_t *r, double norm, int with_norm)
{
    cJSON *o = cJSON_CreateObject();
    if (with_norm) {
        cJSON_AddNumberToObject(o, "score", norm);
    }
    cJSON_AddNumberToObject(o, "raw", r->raw);
    if (isfinite(r->threshold)) {
        cJSON_AddNumberToObject(o, "threshold", r->threshold);
    } else {
        cJSON_AddNullToObject(o, "threshold");
    }
    cJSON_AddNumberToObject(o, "detections", (double)r->detections);
    cJSON_AddNumberToObject(o, "false_positives", (double)r->fp);
    cJSON_AddNumberToObject(o, "windows_hit", (double)r->windows_hit);
    cJSON_AddNumberToObject(o, "windows_scored", (double)r->windows_total);
    return o;
}

static void add_num_or_null(cJSON *o, const char *k, double v)
{
    if (isfinite(v)) {
        cJSON_AddNumberToObject(o, k, v);
    } else {
        cJSON_AddNullToObject(o, k);
    }
}

int rcfd_report_json(const rcfd_bt_opts_t *o, const rcfd_bt_file_t *files, size_t nf,
                     const rcfd_bt_summary_t *s, rcfd_buf_t *b)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *ver = cJSON_AddObjectToObject(root, "rcfd");
    cJSON_AddStringToObject(ver, "version", rcfd_version());
    cJSON_AddStringToObject(ver, "commit", rcfd_build_commit());
    cJSON *cmd = cJSON_AddArrayToObject(root, "command");
    for (int i = 0; i < o->argc; i++) {
        cJSON_AddItemToArray(cmd, cJSON_CreateString(o->argv[i]));
    }
    if (o->reproduce != NULL) {
        cJSON_AddStringToObject(root, "reproduce", o->reproduce);
    }
    cJSON_AddStringToObject(root, "model", o->model);
    const cJSON *params = effective_params(o);
    cJSON *pc = params != NULL ? cJSON_Duplicate(params, 1) : cJSON_Duplicate(o->params, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(pc, "type");
    cJSON_AddItemToObject(root, "params", pc);
    cJSON *opts = cJSON_AddObjectToObject(root, "options");
    cJSON *fl = cJSON_AddArrayToObject(opts, "fields");
    for (size_t i = 0; i < o->fields.n; i++) {
        cJSON_AddItemToArray(fl, cJSON_CreateString(o->fields.v[i]));
    }
    o->key != NULL ? (void)cJSON_AddStringToObject(opts, "key", o->key)
                   : (void)cJSON_AddNullToObject(opts, "key");
    cJSON_AddStringToObject(opts, "timestamp", o->timestamp != NULL ? o->timestamp : "");
    o->label != NULL ? (void)cJSON_AddStringToObject(opts, "label", o->label)
                     : (void)cJSON_AddNullToObject(opts, "label");
    o->windows != NULL ? (void)cJSON_AddStringToObject(opts, "windows", o->windows)
                       : (void)cJSON_AddNullToObject(opts, "windows");
    cJSON_AddNumberToObject(opts, "plot_points", (double)o->plot_points);
    if (o->effective != NULL) {
        cJSON_AddItemToObject(root, "effective_config", cJSON_Duplicate(o->effective, 1));
    }
    cJSON_AddBoolToObject(root, "labelled", o->labelled);
    cJSON_AddNumberToObject(root, "grade_cutoff", o->grade_cutoff);
    cJSON_AddStringToObject(root, "nab_input",
                            o->nab_input == RCFD_BT_NAB_RATIO ? "score/threshold"
                                                              : rcfd_bt_input_name(o->nab_input));
    cJSON *al = cJSON_AddObjectToObject(root, "alerts");
    cJSON_AddStringToObject(al, "on", rcfd_bt_input_label(o->nab_input));
    add_num_or_null(al, "threshold", s->alert_threshold);
    cJSON_AddStringToObject(al, "threshold_from", s->alert_source);
    cJSON_AddNumberToObject(al, "count", (double)s->alerts);
    cJSON *c = cJSON_AddObjectToObject(root, "corpus");
    cJSON_AddNumberToObject(c, "files", (double)nf);
    cJSON_AddNumberToObject(c, "records", (double)s->records);
    if (o->labelled) {
        cJSON_AddNumberToObject(c, "windows", (double)s->labelled_windows);
        cJSON_AddItemToObject(c, "metrics", metrics_json(&s->metrics));
        cJSON *nab = cJSON_AddObjectToObject(c, "nab");
        cJSON *fix = cJSON_AddObjectToObject(c, "nab_at_grade_cutoff");
        for (int p = 0; p < RCFD_NAB_N_PROFILES; p++) {
            cJSON *e = nab_json(&s->nab[p], s->nab_norm[p], 1);
            cJSON_AddNumberToObject(e, "null_raw", s->null_raw[p]);
            cJSON_AddItemToObject(nab, rcfd_nab_profiles[p].name, e);
            cJSON_AddItemToObject(fix, rcfd_nab_profiles[p].name,
                                  nab_json(&s->fixed[p], s->fixed_norm[p], 1));
        }
    }
    cJSON *arr = cJSON_AddArrayToObject(root, "files");
    for (size_t i = 0; i < nf; i++) {
        const rcfd_bt_file_t *f = &files[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", f->name);
        cJSON_AddNumberToObject(e, "records", (double)f->n);
        cJSON_AddNumberToObject(e, "keys", (double)f->n_keys);
        cJSON_AddNumberToObject(e, "alerts", (double)f->alerts);
        add_num_or_null(e, "max_input", f->input_max);
        if (o->labelled) {
            cJSON_AddNumberToObject(e, "windows", (double)f->n_windows);
            cJSON_AddItemToObject(e, "metrics", metrics_json(&f->metrics));
            cJSON *fn = cJSON_AddObjectToObject(e, "nab_raw");
            for (int p = 0; p < RCFD_NAB_N_PROFILES; p++) {
                cJSON_AddItemToObject(fn, rcfd_nab_profiles[p].name, nab_json(&f->nab[p], 0, 0));
            }
        }
        cJSON_AddItemToArray(arr, e);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (text == NULL) {
        return RCFD_ENOMEM;
    }
    int rc = rcfd_buf_puts(b, text);
    rc = rc ? rc : rcfd_buf_putc(b, '\n');
    cJSON_free(text);
    return rc;
}

static int csv_double(rcfd_buf_t *b, double v)
{
    int rc = rcfd_buf_putc(b, ',');
    return rc || isnan(v) ? rc : rcfd_buf_printf(b, "%.17g", v);
}

int rcfd_report_scores_csv(const rcfd_bt_file_t *files, size_t nf, rcfd_buf_t *b)
{
    int rc = rcfd_buf_puts(b, "file,row,value,score,grade,novelty,window,anomaly,threshold\n");
    for (size_t i = 0; rc == 0 && i < nf; i++) {
        const rcfd_bt_file_t *f = &files[i];
        /* the name as one CSV field: quoted, quotes doubled, when it needs it */
        rcfd_buf_t name = {0};
        int quote = strpbrk(f->name, ",\"\r\n") != NULL;
        rc = quote ? rcfd_buf_putc(&name, '"') : 0;
        for (const char *c = f->name; rc == 0 && *c; c++) {
            rc = *c == '"' ? rcfd_buf_puts(&name, "\"\"") : rcfd_buf_putc(&name, *c);
        }
        rc = rc ? rc : quote ? rcfd_buf_putc(&name, '"') : 0;
        size_t w = 0;
        for (size_t r = 0; rc == 0 && r < f->n; r++) {
            while (w < f->n_windows && f->windows[w].last < r) {
                w++;
            }
            long win = w < f->n_windows && r >= f->windows[w].first ? (long)w : -1;
            rc = rcfd_buf_append(b, name.p, name.len);
            rc = rc ? rc : rcfd_buf_printf(b, ",%zu", r);
            rc = rc ? rc : csv_double(b, f->vals[r * f->n_fields]);
            rc = rc ? rc : csv_double(b, f->score[r]);
            rc = rc ? rc : csv_double(b, f->grade[r]);
            rc = rc ? rc : csv_double(b, f->novelty[r]);
            rc = rc ? rc : rcfd_buf_printf(b, ",%ld", win);
            rc = rc ? rc : csv_double(b, f->decision[r]);
            rc = rc ? rc : csv_double(b, f->threshold[r]);
            rc = rc ? rc : rcfd_buf_putc(b, '\n');
        }
        rcfd_buf_free(&name);
    }
    return rc;
}
