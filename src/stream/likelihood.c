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
        if (nv->lo == NULL) {
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
    nv->lo = nv->hi = NULL;
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
    /* The previous WINDOW scores are those of records seen - WINDOW .. seen - 1. */
    enum { CAP = RCFD_NOVELTY_WINDOW + 1 };
    uint64_t t = nv->seen;
    while (nv->dq_len > 0 && nv->dq_t[nv->dq_head] + RCFD_NOVELTY_WINDOW < t) {
        nv->dq_head = (nv->dq_head + 1) % CAP;
        nv->dq_len--;
    }
    double mx = 0.0;
    if (nv->dq_len > 0 && nv->dq_v[nv->dq_head] > mx) {
        mx = nv->dq_v[nv->dq_head];
    }
    while (nv->dq_len > 0 && nv->dq_v[(nv->dq_head + nv->dq_len - 1) % CAP] <= score) {
        nv->dq_len--; /* never the maximum again: this score is newer and at least as high */
    }
    size_t tail = (nv->dq_head + nv->dq_len) % CAP;
    nv->dq_v[tail] = score;
    nv->dq_t[tail] = t;
    nv->dq_len++;
    double jump = score - RCFD_NOVELTY_FRACTION * mx;
    double rise = jump > 0.0 && score > 0.0 ? jump * score : 0.0;
    for (size_t i = 0; i < nv->n_top; i++) {
        nv->top[i] *= nv->decay;
    }
    double scale = nv->n_top == RCFD_NOVELTY_RANK ? nv->top[RCFD_NOVELTY_RANK - 1] : 0.0;
    double out = rise / (RCFD_NOVELTY_FLOOR + scale);
    if (rise > 0.0 && (nv->n_top < RCFD_NOVELTY_RANK || rise > nv->top[nv->n_top - 1])) {
        /* insertion into the short descending list; the smallest falls off when it is full */
        size_t i = nv->n_top < RCFD_NOVELTY_RANK ? nv->n_top++ : RCFD_NOVELTY_RANK - 1;
        for (; i > 0 && nv->top[i - 1] < rise; i--) {
            nv->top[i] = nv->top[i - 1];
        }
        nv->top[i] = rise;
    }
    if (values != NULL && nv->lo != NULL && beyond_range(nv, values) &&
        out < RCFD_NOVELTY_EXTREME) {
        out = RCFD_NOVELTY_EXTREME;
    }
    nv->seen++;
    return out;
}
