#include "backtest/nab.h"

#include <math.h>
#include <stdlib.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"

const rcfd_nab_profile_t rcfd_nab_profiles[RCFD_NAB_N_PROFILES] = {
    {"standard", 1.0, 0.11, 1.0},
    {"reward_low_FP_rate", 1.0, 0.22, 1.0},
    {"reward_low_FN_rate", 1.0, 0.11, 2.0},
};

double rcfd_nab_scaled_sigmoid(double x)
{
    if (x > 3.0) {
        return -1.0;
    }
    return 2.0 / (1.0 + exp(5.0 * x)) - 1.0;
}

size_t rcfd_nab_probation(size_t n_rows)
{
    size_t p = (size_t)floor(0.15 * (double)n_rows);
    return p < 750 ? p : 750;
}

int rcfd_nab_windows_from_times(const int64_t *ts, size_t n, const int64_t *limits, size_t nw,
                                rcfd_nab_window_t *out, char *errstr, size_t es)
{
    size_t row = 0;
    for (size_t j = 0; j < nw; j++) {
        int64_t a = limits[2 * j], b = limits[2 * j + 1];
        if (b < a) {
            return rcfd_errf(RCFD_EINVAL, errstr, es, "window %zu ends before it starts", j);
        }
        if (j > 0 && a <= limits[2 * j - 1]) {
            return rcfd_errf(RCFD_EINVAL, errstr, es, "window %zu overlaps the one before", j);
        }
        while (row < n && ts[row] < a) {
            row++;
        }
        size_t first = row;
        while (row < n && ts[row] <= b) {
            row++;
        }
        if (row == first) {
            return rcfd_errf(RCFD_EINVAL, errstr, es, "window %zu holds no row of the file", j);
        }
        out[j].first = first;
        out[j].last = row - 1;
    }
    return 0;
}

size_t rcfd_nab_points(const double *scores, size_t n, const rcfd_nab_window_t *w, size_t nw,
                       size_t base, rcfd_nab_point_t *out)
{
    size_t prob = rcfd_nab_probation(n), k = 0, j = 0;
    long prev = -1; /* index of the window the row is past, -1 before the first */
    for (size_t i = 0; i < n; i++) {
        while (j < nw && w[j].last < i) {
            prev = (long)j++;
        }
        double sweep;
        long win = -1;
        if (j < nw && i >= w[j].first) {
            /* -(right - i + 1) / width: -1 on the window's first row, -1/width on its last. */
            double width = (double)(w[j].last - w[j].first + 1);
            sweep = rcfd_nab_scaled_sigmoid(-(double)(w[j].last - i + 1) / width);
            win = (long)(base + j);
        } else if (prev < 0) {
            sweep = -1.0;
        } else {
            /* NAB divides by width - 1; a one-row window would divide by zero there, and we
             * use 1 instead (NAB's corpus has none). */
            double width = (double)(w[prev].last - w[prev].first + 1);
            double den = width > 1.0 ? width - 1.0 : 1.0;
            sweep = rcfd_nab_scaled_sigmoid((double)(i - w[prev].last) / den);
        }
        if (i >= prob) {
            out[k].score = scores[i];
            out[k].sweep = sweep;
            out[k].window = win;
            k++;
        }
    }
    return k;
}

/* Window credit of a point for a profile: maxTP = scaled_sigmoid(-1) scales the earliest row to A_TP. */
static double tp_credit(const rcfd_nab_point_t *p, const rcfd_nab_profile_t *prof)
{
    return p->sweep * prof->a_tp / rcfd_nab_scaled_sigmoid(-1.0);
}

typedef struct sweep_state {
    double *best;  /* per window: best credit so far, or -A_FN */
    char *present; /* per window: has a scorable row */
    size_t windows_total;
} sweep_state_t;

static int sweep_init(sweep_state_t *s, const rcfd_nab_point_t *p, size_t n, size_t nw,
                      const rcfd_nab_profile_t *prof, double *window_sum)
{
    s->best = rcfd_malloc((nw ? nw : 1) * sizeof *s->best);
    s->present = rcfd_calloc(nw ? nw : 1, 1);
    if (s->best == NULL || s->present == NULL) {
        rcfd_free(s->best);
        rcfd_free(s->present);
        return RCFD_ENOMEM;
    }
    s->windows_total = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].window >= 0 && (size_t)p[i].window < nw && !s->present[p[i].window]) {
            s->present[p[i].window] = 1;
            s->windows_total++;
        }
    }
    for (size_t j = 0; j < nw; j++) {
        s->best[j] = -prof->a_fn;
    }
    *window_sum = -prof->a_fn * (double)s->windows_total;
    return 0;
}

static void sweep_free(sweep_state_t *s)
{
    rcfd_free(s->best);
    rcfd_free(s->present);
}

int rcfd_nab_score(const rcfd_nab_point_t *p, size_t n, size_t nw, const rcfd_nab_profile_t *prof,
                   double threshold, rcfd_nab_result_t *out)
{
    sweep_state_t s;
    double wsum, fpsum = 0.0;
    if (sweep_init(&s, p, n, nw, prof, &wsum) != 0) {
        return RCFD_ENOMEM;
    }
    size_t det = 0, fp = 0, hit = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(p[i].score >= threshold)) {
            continue;
        }
        det++;
        if (p[i].window < 0 || (size_t)p[i].window >= nw) {
            fp++;
            fpsum += p[i].sweep * prof->a_fp;
            continue;
        }
        double c = tp_credit(&p[i], prof);
        if (s.best[p[i].window] == -prof->a_fn) {
            hit++;
        }
        if (c > s.best[p[i].window]) {
            wsum += c - s.best[p[i].window];
            s.best[p[i].window] = c;
        }
    }
    out->threshold = threshold;
    out->raw = wsum + fpsum;
    out->detections = det;
    out->fp = fp;
    out->windows_hit = hit;
    out->windows_total = s.windows_total;
    sweep_free(&s);
    return 0;
}

static int by_score_desc(const void *a, const void *b)
{
    double x = ((const rcfd_nab_point_t *)a)->score, y = ((const rcfd_nab_point_t *)b)->score;
    return (x < y) - (x > y);
}

int rcfd_nab_optimize(const rcfd_nab_point_t *p, size_t n, size_t nw,
                      const rcfd_nab_profile_t *prof, rcfd_nab_result_t *best)
{
    rcfd_nab_point_t *q = rcfd_malloc((n ? n : 1) * sizeof *q);
    if (q == NULL) {
        return RCFD_ENOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(p[i].score)) {
            q[m++] = p[i];
        }
    }
    qsort(q, m, sizeof *q, by_score_desc);
    sweep_state_t s;
    double wsum, fpsum = 0.0;
    if (sweep_init(&s, p, n, nw, prof, &wsum) != 0) {
        rcfd_free(q);
        return RCFD_ENOMEM;
    }
    size_t det = 0, fp = 0, hit = 0;
    *best = (rcfd_nab_result_t){.threshold = INFINITY, .raw = wsum, .windows_total = s.windows_total};
    /* Lower the threshold one distinct score at a time; a group of equal scores enters together. */
    for (size_t i = 0; i < m;) {
        double t = q[i].score;
        for (; i < m && q[i].score == t; i++) {
            det++;
            long w = q[i].window;
            if (w < 0 || (size_t)w >= nw) {
                fp++;
                fpsum += q[i].sweep * prof->a_fp;
                continue;
            }
            double c = tp_credit(&q[i], prof);
            if (s.best[w] == -prof->a_fn) {
                hit++;
            }
            if (c > s.best[w]) {
                wsum += c - s.best[w];
                s.best[w] = c;
            }
        }
        if (wsum + fpsum > best->raw) {
            *best = (rcfd_nab_result_t){.threshold = t,
                                        .raw = wsum + fpsum,
                                        .detections = det,
                                        .fp = fp,
                                        .windows_hit = hit,
                                        .windows_total = s.windows_total};
        }
    }
    sweep_free(&s);
    rcfd_free(q);
    return 0;
}

int rcfd_nab_null(const rcfd_nab_point_t *p, size_t n, size_t nw, const rcfd_nab_profile_t *prof,
                  double *raw)
{
    rcfd_nab_point_t *q = rcfd_malloc((n ? n : 1) * sizeof *q);
    if (q == NULL) {
        return RCFD_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        q[i] = p[i];
        q[i].score = 0.5;
    }
    rcfd_nab_result_t r;
    int rc = rcfd_nab_optimize(q, n, nw, prof, &r);
    rcfd_free(q);
    if (rc == 0) {
        *raw = r.raw;
    }
    return rc;
}

double rcfd_nab_normalize(double raw, double null_raw, size_t labelled_windows,
                          const rcfd_nab_profile_t *prof)
{
    double perfect = prof->a_tp * (double)labelled_windows;
    if (perfect == null_raw) {
        return 0.0;
    }
    return 100.0 * (raw - null_raw) / (perfect - null_raw);
}
