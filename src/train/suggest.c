/* rcfd train --suggest: column statistics of the training file and a HOTSPOTS scan_radius from the
 * k-distance quantiles of a sample (stats.h does the arithmetic, with OpenBLAS or plain). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "train/input.h"
#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "train/command.h"
#include "train/stats.h"

typedef struct suggest_ctx {
    size_t d;
    uint64_t limit, seen;
    double *x;
    size_t n, cap;
} suggest_ctx_t;

static int on_row(void *ud, const rcfd_input_row_t *row)
{
    suggest_ctx_t *c = ud;
    if ((c->limit != 0 && c->seen >= c->limit) || row->bad != NULL) {
        c->seen += row->bad == NULL;
        return 0;
    }
    c->seen++;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 1024;
        double *nx = rcfd_realloc(c->x, nc * c->d * sizeof *nx);
        if (nx == NULL) {
            return RCFD_ENOMEM;
        }
        c->x = nx;
        c->cap = nc;
    }
    memcpy(c->x + c->n * c->d, row->values, c->d * sizeof *c->x);
    c->n++;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int rcfd_train_suggest(const rcfd_train_opts_t *o, const rcfd_suggest_opts_t *so, FILE *out,
                       char *errstr, size_t es)
{
    suggest_ctx_t c = {.d = o->fields->n, .limit = o->limit};
    rcfd_input_spec_t spec = {.path = o->path,
                              .format = o->format >= 0 ? o->format
                                                       : rcfd_input_guess_format(o->path),
                              .delim = ',',
                              .fields = o->fields,
                              .key = o->key};
    int rc = rcfd_input_read(&spec, on_row, &c, errstr, es);
    size_t d = c.d, k = so->min_points > 1 ? so->min_points - 1 : 1;
    size_t m = c.n < so->sample ? c.n : so->sample;
    if (rc == 0 && (c.n < 2 || m <= k)) {
        rc = rcfd_errf(RCFD_EINVAL, errstr, es,
                       "%zu usable records: --suggest needs more than min_points (%zu)", c.n,
                       so->min_points);
    }
    double *mean = NULL, *cov = NULL, *sample = NULL, *kd = NULL;
    if (rc == 0) {
        mean = rcfd_malloc(d * sizeof *mean);
        cov = rcfd_malloc(d * d * sizeof *cov);
        sample = rcfd_malloc(m * d * sizeof *sample);
        kd = rcfd_malloc(m * sizeof *kd);
        if (mean == NULL || cov == NULL || sample == NULL || kd == NULL) {
            rc = rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
        }
    }
    double t0 = now_s(), t1 = t0, t2 = t0;
    if (rc == 0) {
        rc = (so->plain ? rcfd_colstats_plain : rcfd_colstats_blas)(c.x, c.n, d, mean, cov);
        t1 = now_s();
        /* Evenly spaced rows: deterministic, and spread over the whole file. */
        for (size_t i = 0; i < m; i++) {
            memcpy(sample + i * d, c.x + (i * c.n / m) * d, d * sizeof *sample);
        }
        rc = rc ? rc : (so->plain ? rcfd_kdist_plain : rcfd_kdist_blas)(sample, m, d, k, kd);
        t2 = now_s();
    }
    if (rc == 0) {
        const char *how = so->plain ? "plain loops" : "OpenBLAS";
        fprintf(out, "%zu records, %zu fields (%s: statistics %.3f ms, k-distances %.3f ms)\n",
                c.n, d, how, (t1 - t0) * 1e3, (t2 - t1) * 1e3);
        fprintf(out, "%-24s %14s %14s\n", "field", "mean", "std");
        for (size_t j = 0; j < d; j++) {
            fprintf(out, "%-24s %14.6g %14.6g\n", o->fields->v[j], mean[j],
                    sqrt(cov[j * d + j] > 0 ? cov[j * d + j] : 0));
        }
        if (d > 1) {
            fprintf(out, "correlation:\n");
            for (size_t a = 0; a < d; a++) {
                fprintf(out, "  %-22s", o->fields->v[a]);
                for (size_t b = 0; b < d; b++) {
                    double den = sqrt(cov[a * d + a] * cov[b * d + b]);
                    fprintf(out, " %7.3f", den > 0 ? cov[a * d + b] / den : NAN);
                }
                fprintf(out, "\n");
            }
        }
        static const double qs[] = {0.1, 0.25, 0.5, 0.75, 0.9};
        fprintf(out, "distance to the %zu-th nearest neighbour over %zu sampled records:\n", k,
                m);
        double med = 0;
        for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
            double q = rcfd_quantile_sorted(kd, m, qs[i]);
            if (qs[i] == 0.5) {
                med = q;
            }
            fprintf(out, "  q%02.0f %14.6g\n", qs[i] * 100, q);
        }
        fprintf(out,
                "suggested HOTSPOTS scan_radius for min_points=%zu: %.6g (the median: about half "
                "of the records are dense; lower it for tighter hotspots)\n",
                so->min_points, med);
    }
    rcfd_free(mean);
    rcfd_free(cov);
    rcfd_free(sample);
    rcfd_free(kd);
    rcfd_free(c.x);
    return rc;
}
