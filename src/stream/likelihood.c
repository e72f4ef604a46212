#include "stream/likelihood.h"

#include <math.h>
#include <string.h>

#include "rcfd/alloc.h"
#include "rcfd/status.h"

int rcfd_likelihood_init(rcfd_likelihood_t *lh, size_t learn)
{
    memset(lh, 0, sizeof *lh);
    lh->hist = rcfd_malloc(RCFD_LH_HISTORY * sizeof *lh->hist);
    lh->learn = learn;
    return lh->hist != NULL ? 0 : RCFD_ENOMEM;
}

void rcfd_likelihood_free(rcfd_likelihood_t *lh)
{
    rcfd_free(lh->hist);
    lh->hist = NULL;
}

static void estimate(rcfd_likelihood_t *lh)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < lh->hist_n; i++) {
        s += lh->hist[i];
    }
    double mean = s / (double)lh->hist_n;
    for (size_t i = 0; i < lh->hist_n; i++) {
        ss += (lh->hist[i] - mean) * (lh->hist[i] - mean);
    }
    double var = lh->hist_n > 1 ? ss / (double)(lh->hist_n - 1) : 0;
    /* A floor on the spread, relative to the level (Numenta floors the variance of [0,1] scores
     * at 1.5e-5): a perfectly flat history would otherwise make any change certain. */
    double floor_std = 1e-3 * (fabs(mean) > 1e-3 ? fabs(mean) : 1e-3);
    lh->mean = mean;
    lh->std = sqrt(var) > floor_std ? sqrt(var) : floor_std;
    lh->estimated = 1;
}

double rcfd_likelihood_update(rcfd_likelihood_t *lh, double score)
{
    if (isnan(score)) {
        return NAN;
    }
    if (lh->n == 0 && score == 0.0) {
        return 0.5; /* the model's warm-up zeros (RCF output_after) say nothing about the stream */
    }
    size_t slot = (size_t)(lh->n % RCFD_LH_SHORT);
    lh->short_sum += score - lh->shortw[slot];
    lh->shortw[slot] = score;
    lh->n++;
    double avg = lh->short_sum / (double)(lh->n < RCFD_LH_SHORT ? lh->n : RCFD_LH_SHORT);
    double out = 0.5;
    if (lh->estimated) {
        double z = (avg - lh->mean) / lh->std;
        /* one-sided: only scores above the usual level are anomalous */
        double tail = z > 0 ? 0.5 * erfc(z / sqrt(2.0)) : 0.5;
        double lik = 1.0 - tail;
        out = log(1.0000000001 - lik) / log(1.0 - 0.9999999999);
        out = out < 0 ? 0 : out > 1 ? 1 : out;
    }
    lh->hist[lh->hist_pos] = avg;
    lh->hist_pos = (lh->hist_pos + 1) % RCFD_LH_HISTORY;
    if (lh->hist_n < RCFD_LH_HISTORY) {
        lh->hist_n++;
    }
    if (lh->n >= lh->learn && (!lh->estimated || lh->n % RCFD_LH_REESTIMATE == 0)) {
        estimate(lh);
    }
    return out;
}

int rcfd_novelty_init(rcfd_novelty_t *nv, size_t n_fields, double memory, uint64_t warm)
{
    memset(nv, 0, sizeof *nv);
    nv->decay = exp(-1.0 / (memory >= 1.0 ? memory : 1.0));
    nv->n_fields = n_fields;
    nv->warm = warm;
    if (n_fields > 0) {
        nv->lo = rcfd_malloc(2 * n_fields * sizeof *nv->lo);
        nv->lv = rcfd_calloc(n_fields, sizeof *nv->lv);
        if (nv->lo == NULL || nv->lv == NULL) {
            rcfd_novelty_free(nv);
            return RCFD_ENOMEM;
        }
        nv->hi = nv->lo + n_fields;
        for (size_t i = 0; i < n_fields; i++) { /* empty: no value is beyond it */
            nv->lo[i] = INFINITY;
            nv->hi[i] = -INFINITY;
        }
    }
    return 0;
}

void rcfd_novelty_free(rcfd_novelty_t *nv)
{
    rcfd_free(nv->lo);
    rcfd_free(nv->lv);
    nv->lo = nv->hi = NULL;
    nv->lv = NULL;
}

/* rise = x * max(0, x - FRACTION * max(previous WINDOW inputs)); returns rise / (FLOOR + the
 * RANK-th largest earlier rise, decayed) and sets *rise_out. */
static double rise_update(rcfd_novelty_rise_t *r, double decay, double x, double *rise_out)
{
    double mx = 0.0;
    for (size_t i = 0; i < r->n; i++) {
        mx = r->ring[i] > mx ? r->ring[i] : mx;
    }
    r->ring[r->pos] = x;
    r->pos = (r->pos + 1) % RCFD_NOVELTY_WINDOW;
    if (r->n < RCFD_NOVELTY_WINDOW) {
        r->n++;
    }
    double jump = x - RCFD_NOVELTY_FRACTION * mx;
    double rise = jump > 0.0 && x > 0.0 ? jump * x : 0.0;
    for (size_t i = 0; i < r->n_top; i++) {
        r->top[i] *= decay;
    }
    double scale = r->n_top == RCFD_NOVELTY_RANK ? r->top[RCFD_NOVELTY_RANK - 1] : 0.0;
    double out = rise / (RCFD_NOVELTY_FLOOR + scale);
    if (rise > 0.0 && (r->n_top < RCFD_NOVELTY_RANK || rise > r->top[r->n_top - 1])) {
        /* insertion into the short descending list; the smallest falls off when it is full */
        size_t i = r->n_top < RCFD_NOVELTY_RANK ? r->n_top++ : RCFD_NOVELTY_RANK - 1;
        for (; i > 0 && r->top[i - 1] < rise; i--) {
            r->top[i] = r->top[i - 1];
        }
        r->top[i] = rise;
    }
    *rise_out = rise;
    return out;
}

/* Whether a rise of score x at record t follows two earlier rises of about its height at t - d
 * and t - 2d (PERIOD_SLACK records either way); then remembers it. */
static int periodic(rcfd_novelty_t *nv, uint64_t t, double x)
{
    const size_t cap = RCFD_NOVELTY_PERIOD_EVENTS;
    const double h = RCFD_NOVELTY_PERIOD_HEIGHT * x;
    int out = 0;
    for (size_t j = 0; !out && j < nv->n_ev; j++) {
        size_t a = (nv->ev_pos + cap - 1 - j) % cap; /* newest first */
        int64_t d = (int64_t)(t - nv->ev_t[a]);
        if (d < RCFD_NOVELTY_PERIOD_MIN || nv->ev_score[a] < h) {
            continue;
        }
        int64_t want = (int64_t)nv->ev_t[a] - d;
        for (size_t k = 0; !out && k < nv->n_ev; k++) {
            int64_t off = (int64_t)nv->ev_t[k] - want;
            out = off >= -RCFD_NOVELTY_PERIOD_SLACK && off <= RCFD_NOVELTY_PERIOD_SLACK &&
                  nv->ev_score[k] >= h;
        }
    }
    nv->ev_t[nv->ev_pos] = t;
    nv->ev_score[nv->ev_pos] = x;
    nv->ev_pos = (nv->ev_pos + 1) % cap;
    if (nv->n_ev < cap) {
        nv->n_ev++;
    }
    return out;
}

/* One field's level value: log(1 + |mean of the last K values - median of the WINDOW before| /
 * their interquartile range), 0 until the window is full or the key is warm; then takes v in. */
static double level_update(rcfd_novelty_t *nv, size_t f, double v)
{
    rcfd_novelty_level_t *l = &nv->lv[f];
    const size_t k = RCFD_NOVELTY_LEVEL_K, w = RCFD_NOVELTY_LEVEL_WINDOW;
    if (l->n_recent == k) { /* the oldest of the last K moves into the window */
        double y = l->recent[l->recent_pos];
        size_t n = l->n_hist;
        if (n == w) { /* the oldest of the window leaves the sorted copy */
            double old = l->hist[l->hist_pos];
            size_t i = 0;
            while (l->sorted[i] < old) {
                i++;
            }
            memmove(&l->sorted[i], &l->sorted[i + 1], (n - 1 - i) * sizeof *l->sorted);
            n--;
        }
        size_t i = n;
        for (; i > 0 && l->sorted[i - 1] > y; i--) {
            l->sorted[i] = l->sorted[i - 1];
        }
        l->sorted[i] = y;
        l->hist[l->hist_pos] = y;
        l->hist_pos = (l->hist_pos + 1) % w;
        l->n_hist = n + 1;
    } else {
        l->n_recent++;
    }
    l->recent[l->recent_pos] = v;
    l->recent_pos = (l->recent_pos + 1) % k;
    if (l->n_hist < w || nv->seen < nv->warm) {
        return 0.0;
    }
    double sum = 0.0;
    for (size_t j = 0; j < k; j++) { /* oldest first, as the reference sums */
        sum += l->recent[(l->recent_pos + j) % k];
    }
    double spread = l->sorted[(3 * w) / 4] - l->sorted[w / 4];
    double range_floor = 1e-3 * (nv->hi[f] - nv->lo[f]);
    spread = spread > range_floor ? spread : range_floor;
    spread = spread > 1e-300 ? spread : 1e-300;
    return log1p(fabs(sum / (double)k - l->sorted[w / 2]) / spread);
}

/* Whether a value lies beyond the key's range by more than the tolerance; then widens the range. */
static int beyond_range(rcfd_novelty_t *nv, const double *values)
{
    int out = 0;
    for (size_t i = 0; i < nv->n_fields; i++) {
        double v = values[i];
        if (isnan(v)) {
            continue;
        }
        if (nv->seen >= nv->warm && nv->hi[i] > nv->lo[i]) {
            double slack = RCFD_NOVELTY_RANGE_TOLERANCE * (nv->hi[i] - nv->lo[i]);
            out |= v > nv->hi[i] + slack || v < nv->lo[i] - slack;
        }
        nv->lo[i] = v < nv->lo[i] ? v : nv->lo[i];
        nv->hi[i] = v > nv->hi[i] ? v : nv->hi[i];
    }
    return out;
}

double rcfd_novelty_update(rcfd_novelty_t *nv, double score, const double *values)
{
    if (isnan(score)) {
        return NAN;
    }
    double rise;
    double out = rise_update(&nv->score, nv->decay, score, &rise);
    if (rise > 0.0 && periodic(nv, nv->seen, score)) {
        out = 0.0;
    }
    double level = 0.0;
    int have = values != NULL && nv->lo != NULL;
    for (size_t f = 0; have && f < nv->n_fields; f++) {
        if (!isnan(values[f])) {
            double l = level_update(nv, f, values[f]);
            level = l > level ? l : level;
        }
    }
    double lrise;
    double lnov = RCFD_NOVELTY_LEVEL_WEIGHT * rise_update(&nv->level, nv->decay, level, &lrise);
    out = lnov > out ? lnov : out;
    if (have && beyond_range(nv, values) && out < RCFD_NOVELTY_EXTREME) {
        out = RCFD_NOVELTY_EXTREME;
    }
    nv->seen++;
    return out;
}
