#include "backtest/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rcfd/alloc.h"
#include "rcfd/status.h"

#define PLOT_W 960.0
#define MAX_BUCKETS 1000 /* plots keep min and max per bucket: the file stays small, spikes stay */

static int esc(rcfd_buf_t *b, const char *s)
{
    int rc = 0;
    for (; rc == 0 && *s; s++) {
        switch (*s) {
        case '<': rc = rcfd_buf_puts(b, "&lt;"); break;
        case '>': rc = rcfd_buf_puts(b, "&gt;"); break;
        case '&': rc = rcfd_buf_puts(b, "&amp;"); break;
        case '"': rc = rcfd_buf_puts(b, "&quot;"); break;
        default: rc = rcfd_buf_putc(b, *s);
        }
    }
    return rc;
}

static void range(const double *v, size_t n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(v[i])) {
            *lo = v[i] < *lo ? v[i] : *lo;
            *hi = v[i] > *hi ? v[i] : *hi;
        }
    }
    if (!(*lo <= *hi)) {
        *lo = 0.0;
        *hi = 1.0;
    }
    if (*hi - *lo < 1e-12) {
        *hi = *lo + 1.0;
    }
}

/* A polyline of v over rows, min and max per bucket, broken where values are missing. */
static int line(rcfd_buf_t *b, const double *v, size_t n, double lo, double hi, double h,
                const char *cls)
{
    size_t per = n / MAX_BUCKETS + 1;
    int open = 0, rc = 0;
    for (size_t s = 0; rc == 0 && s < n; s += per) {
        size_t e = s + per < n ? s + per : n, imin = s, imax = s;
        int any = 0;
        for (size_t i = s; i < e; i++) {
            if (isfinite(v[i])) {
                if (!any || v[i] < v[imin]) {
                    imin = i;
                }
                if (!any || v[i] > v[imax]) {
                    imax = i;
                }
                any = 1;
            }
        }
        if (!any) {
            if (open) {
                rc = rcfd_buf_puts(b, "\"/>\n");
                open = 0;
            }
            continue;
        }
        if (!open) {
            rc = rcfd_buf_printf(b, "<polyline class=\"%s\" points=\"", cls);
            open = 1;
        }
        size_t a = imin < imax ? imin : imax, z = imin < imax ? imax : imin;
        size_t pts[2] = {a, z};
        for (int k = 0; rc == 0 && k < (a == z ? 1 : 2); k++) {
            double x = PLOT_W * (double)pts[k] / (double)(n > 1 ? n - 1 : 1);
            double y = h - 2.0 - (h - 4.0) * (v[pts[k]] - lo) / (hi - lo);
            rc = rcfd_buf_printf(b, "%.1f,%.1f ", x, y);
        }
    }
    if (rc == 0 && open) {
        rc = rcfd_buf_puts(b, "\"/>\n");
    }
    return rc;
}

static int panel(rcfd_buf_t *b, const rcfd_bt_file_t *f, const char *title, double h,
                 const double *v1, const char *c1, const double *v2, const char *c2, double lo,
                 double hi)
{
    int rc = rcfd_buf_printf(b,
                             "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" "
                             "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n"
                             "<title>",
                             PLOT_W, h, PLOT_W, h);
    rc = rc ? rc : esc(b, title);
    rc = rc ? rc : rcfd_buf_puts(b, "</title>\n");
    double den = (double)(f->n > 1 ? f->n - 1 : 1);
    for (size_t j = 0; rc == 0 && j < f->n_windows; j++) {
        double x0 = PLOT_W * (double)f->windows[j].first / den;
        double x1 = PLOT_W * (double)f->windows[j].last / den;
        rc = rcfd_buf_printf(b,
                             "<rect class=\"win\" x=\"%.1f\" y=\"0\" width=\"%.1f\" "
                             "height=\"%.0f\"/>\n",
                             x0, x1 - x0 < 1.0 ? 1.0 : x1 - x0, h);
    }
    rc = rc ? rc : line(b, v1, f->n, lo, hi, h, c1);
    if (rc == 0 && v2 != NULL) {
        rc = line(b, v2, f->n, lo, hi, h, c2);
    }
    rc = rc ? rc
            : rcfd_buf_printf(b, "<text x=\"4\" y=\"12\">%s (%.3g .. %.3g)</text>\n</svg>\n",
                              title, lo, hi);
    return rc;
}

static const char *const PROFILE_LABEL[RCFD_NAB_N_PROFILES] = {"standard", "low FP", "low FN"};

int rcfd_report_html(const rcfd_bt_opts_t *o, const rcfd_bt_file_t *files, size_t nf,
                     const rcfd_bt_summary_t *s, rcfd_buf_t *b)
{
    int rc = rcfd_buf_puts(
        b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
           "<title>rcfd backtest</title>\n<style>\n"
           "body{font-family:sans-serif;margin:1.5em;color:#222}"
           "table{border-collapse:collapse;margin:.5em 0}"
           "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
           "th{background:#f0f0f0}td.n{text-align:left}"
           "svg.plot{display:block;border:1px solid #ddd;margin:2px 0;background:#fff}"
           "rect.win{fill:#f4b183;fill-opacity:.45}"
           "polyline{fill:none;stroke-width:1}.series{stroke:#1f4e79}.score{stroke:#7030a0}"
           ".thr{stroke:#c00000;stroke-dasharray:4 2}.grade{stroke:#38761d}"
           "text{font-size:11px;fill:#444}\n</style>\n</head>\n<body>\n"
           "<h1>rcfd backtest</h1>\n");
    rc = rc ? rc
            : rcfd_buf_printf(b,
                              "<p>Model <b>%s</b>; a record is flagged when its grade is at "
                              "least %g; the NAB threshold sweeps the %s. Shaded bands are the "
                              "labelled windows.</p>\n",
                              o->model, o->grade_cutoff,
                              o->nab_input == RCFD_BT_NAB_SCORE        ? "score"
                              : o->nab_input == RCFD_BT_NAB_RATIO      ? "score/threshold"
                              : o->nab_input == RCFD_BT_NAB_NOVELTY    ? "anomaly novelty"
                              : o->nab_input == RCFD_BT_NAB_LIKELIHOOD ? "anomaly likelihood"
                                                                       : "grade");
    rc = rc ? rc
            : rcfd_buf_printf(b,
                              "<h2>Summary</h2>\n<table>\n<tr><th>files</th><th>records</th>"
                              "<th>windows</th><th>precision</th><th>recall</th><th>F1</th>"
                              "<th>accuracy</th></tr>\n<tr><td>%zu</td><td>%llu</td><td>%zu</td>"
                              "<td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td></tr>\n"
                              "</table>\n",
                              nf,
                              (unsigned long long)(s->metrics.tp + s->metrics.fp +
                                                   s->metrics.fn + s->metrics.tn),
                              s->labelled_windows, s->metrics.precision, s->metrics.recall,
                              s->metrics.f1, s->metrics.accuracy);
    rc = rc ? rc
            : rcfd_buf_puts(b, "<table>\n<tr><th>NAB profile</th><th>score (best threshold)</th>"
                               "<th>threshold</th><th>windows hit</th><th>false positives</th>"
                               "<th>score (grade cut-off)</th></tr>\n");
    for (int p = 0; rc == 0 && p < RCFD_NAB_N_PROFILES; p++) {
        rc = rcfd_buf_printf(b,
                             "<tr><td class=\"n\">%s</td><td>%.1f</td><td>%.4g</td>"
                             "<td>%zu/%zu</td><td>%zu</td><td>%.1f</td></tr>\n",
                             PROFILE_LABEL[p], s->nab_norm[p], s->nab[p].threshold,
                             s->nab[p].windows_hit, s->nab[p].windows_total, s->nab[p].fp,
                             s->fixed_norm[p]);
    }
    rc = rc ? rc : rcfd_buf_puts(b, "</table>\n<h2>Files</h2>\n");
    for (size_t i = 0; rc == 0 && i < nf; i++) {
        const rcfd_bt_file_t *f = &files[i];
        rc = rcfd_buf_puts(b, "<div class=\"file\">\n<h3>");
        rc = rc ? rc : esc(b, f->name);
        rc = rc ? rc
                : rcfd_buf_printf(b,
                                  "</h3>\n<p>%zu records, %zu windows; precision %.3f, recall "
                                  "%.3f, F1 %.3f, accuracy %.3f; NAB raw (standard) %.3f</p>\n",
                                  f->n, f->n_windows, f->metrics.precision, f->metrics.recall,
                                  f->metrics.f1, f->metrics.accuracy, f->nab[0].raw);
        double lo, hi, slo, shi, tlo, thi;
        range(f->value, f->n, &lo, &hi);
        range(f->score, f->n, &slo, &shi);
        range(f->threshold, f->n, &tlo, &thi);
        slo = slo < tlo ? slo : tlo;
        shi = shi > thi ? shi : thi;
        rc = rc ? rc : panel(b, f, "series", 110, f->value, "series", NULL, NULL, lo, hi);
        rc = rc ? rc
                : panel(b, f, "score and threshold", 80, f->score, "score", f->threshold, "thr",
                        slo, shi);
        rc = rc ? rc : panel(b, f, "grade", 50, f->grade, "grade", NULL, NULL, 0.0, 1.0);
        rc = rc ? rc : rcfd_buf_puts(b, "</div>\n");
    }
    return rc ? rc : rcfd_buf_puts(b, "</body>\n</html>\n");
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

int rcfd_report_json(const rcfd_bt_opts_t *o, const rcfd_bt_file_t *files, size_t nf,
                     const rcfd_bt_summary_t *s, rcfd_buf_t *b)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", o->model);
    cJSON_AddItemToObject(root, "params", cJSON_Duplicate(o->params, 1));
    cJSON_AddNumberToObject(root, "grade_cutoff", o->grade_cutoff);
    cJSON_AddStringToObject(root, "nab_input",
                            o->nab_input == RCFD_BT_NAB_SCORE          ? "score"
                            : o->nab_input == RCFD_BT_NAB_RATIO        ? "score/threshold"
                            : o->nab_input == RCFD_BT_NAB_NOVELTY    ? "novelty"
                            : o->nab_input == RCFD_BT_NAB_LIKELIHOOD ? "likelihood"
                                                                       : "grade");
    cJSON *c = cJSON_AddObjectToObject(root, "corpus");
    cJSON_AddNumberToObject(c, "files", (double)nf);
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
    cJSON *arr = cJSON_AddArrayToObject(root, "files");
    for (size_t i = 0; i < nf; i++) {
        const rcfd_bt_file_t *f = &files[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", f->name);
        cJSON_AddNumberToObject(e, "records", (double)f->n);
        cJSON_AddNumberToObject(e, "windows", (double)f->n_windows);
        cJSON_AddItemToObject(e, "metrics", metrics_json(&f->metrics));
        cJSON *fn = cJSON_AddObjectToObject(e, "nab_raw");
        for (int p = 0; p < RCFD_NAB_N_PROFILES; p++) {
            cJSON_AddItemToObject(fn, rcfd_nab_profiles[p].name, nab_json(&f->nab[p], 0, 0));
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
    int rc = rcfd_buf_puts(b, "file,row,value,score,grade,novelty,window\n");
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
            rc = rc ? rc : csv_double(b, f->value[r]);
            rc = rc ? rc : csv_double(b, f->score[r]);
            rc = rc ? rc : csv_double(b, f->grade[r]);
            rc = rc ? rc : csv_double(b, f->novelty[r]);
            rc = rc ? rc : rcfd_buf_printf(b, ",%ld\n", win);
        }
        rcfd_buf_free(&name);
    }
    return rc;
}
