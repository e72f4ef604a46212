#include "score/alert.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIN_PEAKS 10 /* excesses below which the tail is not fitted */

void rcfd_alert_init(rcfd_alert_t *a, double alert_rate, uint32_t shingle)
{
    memset(a, 0, sizeof *a);
    a->alert_rate = alert_rate;
    rcfd_alert_set_shingle(a, shingle);
    a->level = a->gamma = a->sigma = a->threshold = NAN;
}

void rcfd_alert_set_shingle(rcfd_alert_t *a, uint32_t shingle)
{
    /* An anomalous record stays in the forest's point for `shingle` records: the episode
     * outlasts it, and a few ordinary records more. */
    a->quiet = 2 * (shingle > 0 ? shingle : 1) + 8;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Tail probability P(S > s) for s above the level, from the fitted distribution. */
static double tail(const rcfd_alert_t *a, double s)
{
    double x = s - a->level;
    if (fabs(a->gamma) < 1e-6) {
        return a->rate * exp(-x / a->sigma);
    }
    double base = 1.0 + a->gamma * x / a->sigma;
    return base <= 0.0 ? 0.0 : a->rate * pow(base, -1.0 / a->gamma);
}

/* The k largest of v[0..n) (k <= TOP_MAX), into top[] in descending order. */
#define TOP_MAX 32
static void largest(const double *v, uint32_t n, uint32_t k, double *top)
{
    uint32_t have = 0;
    for (uint32_t i = 0; i < n; i++) {
        double x = v[i];
        if (have == k && !(x > top[k - 1])) {
            continue; /* most scores: below the k-th largest so far */
        }
        uint32_t j = have < k ? have++ : k - 1;
        for (; j > 0 && top[j - 1] < x; j--) {
            top[j] = top[j - 1];
        }
        top[j] = x;
    }
}

/* Re-estimates the level from the window, then the tail from the peaks above it. The level is
 * the window's RCFD_ALERT_LEVEL quantile, its element of rank floor(LEVEL * (n - 1)) in order:
 * the k-th largest for k = n - rank (12 of 512), so a pass keeping the k largest finds it where a
 * sort of the window cost more than the rest of the alert's work. Same value either way. */
static void estimate(rcfd_alert_t *a)
{
    uint32_t n = a->n_window;
    uint32_t rank = (uint32_t)floor(RCFD_ALERT_LEVEL * (n - 1));
    uint32_t kth = n - rank;
    double top[TOP_MAX] = {0}, highest;
    if (kth <= TOP_MAX) {
        largest(a->window, n, kth, top);
        a->level = top[kth - 1];
        highest = top[0];
    } else { /* a lower level than RCFD_ALERT_LEVEL's: sort */
        double sorted[RCFD_ALERT_WINDOW];
        memcpy(sorted, a->window, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, cmp_double);
        a->level = sorted[rank];
        highest = sorted[n - 1];
    }
    uint32_t above = 0;
    for (uint32_t i = 0; i < n; i++) {
        above += a->window[i] > a->level;
    }
    a->rate = (double)above / n;
    double sum = 0, sum_sq = 0;
    uint32_t k = 0;
    for (uint32_t i = 0; i < a->n_peaks; i++) {
        double e = a->peaks[i] - a->level;
        if (e > 0) {
            sum += e;
            sum_sq += e * e;
            k++;
        }
    }
    a->since_level = 0;
    if (k < MIN_PEAKS || a->rate <= 0.0) {
        /* Too few distinct high scores to fit a tail (a flat or very regular key): alert only on
         * a score beyond every score of the window. */
        a->gamma = a->sigma = NAN;
        a->threshold = fmax(RCFD_ALERT_FLOOR, highest * (1.0 + 1e-9));
        return;
    }
    double m = sum / k, v = sum_sq / k - m * m;
    if (v <= 1e-12 * m * m) {
        a->gamma = 0.0;
        a->sigma = m;
    } else {
        /* Method of moments for the generalized Pareto distribution (valid for gamma < 1/2). A
         * bounded tail (gamma < 0) is not taken: the peaks still miss every score of an episode
         * above the threshold but its highest, a truncation that by itself makes the tail look
         * bounded, which would lower the threshold and start more alerts, which truncates more
         * (measured: without this, and without the episode maxima, NAB's alerts nearly
         * quadruple). An exponential tail is the conservative fit then. */
        double r = m * m / v;
        a->gamma = fmin(0.45, 0.5 * (1.0 - r));
        if (a->gamma < 0.0) {
            a->gamma = 0.0;
            a->sigma = m;
        } else {
            a->sigma = 0.5 * m * (1.0 + r);
        }
    }
    double ratio = a->alert_rate / a->rate;
    double z = a->level;
    if (ratio < 1.0) {
        z = fabs(a->gamma) < 1e-6 ? a->level - a->sigma * log(ratio)
                                  : a->level + a->sigma / a->gamma * (pow(ratio, -a->gamma) - 1.0);
    }
    a->threshold = fmax(RCFD_ALERT_FLOOR, z);
}

static double grade_of(const rcfd_alert_t *a, double s)
{
    if (!(s > a->threshold)) {
        return 0.0;
    }
    double g = isnan(a->sigma) ? (s - a->threshold) / a->threshold
                               : 1.0 - tail(a, s) / a->alert_rate;
    return fmin(1.0, fmax(0.0, g));
}

static void learn(rcfd_alert_t *a, double score)
{
    a->window[a->window_pos] = score;
    a->window_pos = (a->window_pos + 1) % RCFD_ALERT_WINDOW;
    a->n_window += a->n_window < RCFD_ALERT_WINDOW;
    /* Peaks are taken above the current level (before the first estimate: above the window's
     * values so far is unknown, so every score is kept and the fit filters them). */
    if (isnan(a->level) || score > a->level) {
        a->peaks[a->peaks_pos] = score;
        a->peaks_pos = (a->peaks_pos + 1) % RCFD_ALERT_PEAKS;
        a->n_peaks += a->n_peaks < RCFD_ALERT_PEAKS;
    }
    a->since_level++;
    if (isnan(a->level) ? a->n_window >= RCFD_ALERT_WINDOW / 2
                        : a->since_level >= RCFD_ALERT_WINDOW / 4) {
        estimate(a);
    }
}

/* One record inside an episode: an escalation, and whether the episode is over. Returns 1 when
 * it ends here. */
static int episode_step(rcfd_alert_t *a, double score, int above, rcfd_alert_result_t *out)
{
    a->ep_len++;
    a->below = above ? 0 : a->below + 1;
    if (score - a->level > 2.0 * (a->ep_max - a->level)) {
        a->alerts++;
        out->anomaly = 1; /* a far stronger anomaly than the episode's so far */
    }
    a->ep_max = fmax(a->ep_max, score);
    if (a->below >= a->quiet || a->ep_len > RCFD_ALERT_WINDOW) {
        a->in_episode = 0; /* over, or a key's new normal (then the next crossing alerts again) */
        return 1;
    }
    return 0;
}

void rcfd_alert_update(rcfd_alert_t *a, int ready, double score, rcfd_alert_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->threshold = NAN;
    if (!ready || !isfinite(score)) {
        out->warming_up = 1;
        return;
    }
    if (isnan(a->level)) {
        out->warming_up = 1;
        learn(a, score);
        return;
    }
    int above = score > a->threshold;
    out->threshold = a->threshold;
    out->grade = grade_of(a, score);
    int ended = 0;
    if (a->in_episode) {
        ended = episode_step(a, score, above, out);
    } else if (above) {
        a->in_episode = 1;
        a->below = 0;
        a->ep_len = 1;
        a->ep_max = score;
        a->alerts++;
        out->anomaly = 1;
    }
    /* What the tail is fitted on. Every score at or below the threshold, inside an episode too
     * (as SPOT does). A score above it is learned once its episode is over, and only the
     * episode's highest: one anomaly's scores are dependent (its shingle), so it counts as one
     * peak (declustering), and without it the peaks would never hold a score beyond the
     * threshold, a truncated tail that fits too light and lowers the threshold it is cut at
     * (bench/RESULTS.md, "Peaks starvation"). */
    if (!above) {
        learn(a, score);
    }
    if (ended && isfinite(a->ep_max)) { /* +inf: an episode read from a version 1 snapshot */
        learn(a, a->ep_max);
    }
}

/* Version 2 writes the filled part of each ring only (a key that scored a few records, or none
 * yet, snapshots in about 100 bytes); version 1 wrote both rings whole and no episode maximum. */
#define HEAD_BYTES (8 * 4 + 5 * 8 + 8)
#define V1_BYTES (HEAD_BYTES + 8 * (RCFD_ALERT_WINDOW + RCFD_ALERT_PEAKS))

size_t rcfd_alert_payload_size(const rcfd_alert_t *a)
{
    return HEAD_BYTES + 8 + 8 * ((size_t)a->n_window + a->n_peaks);
}

void rcfd_alert_write(const rcfd_alert_t *a, rcfd_writer_t *w)
{
    const uint32_t u[8] = {a->n_window, a->window_pos, a->since_level, a->n_peaks,
                           a->peaks_pos, a->in_episode, a->below,      a->ep_len};
    for (size_t i = 0; i < 8; i++) {
        rcfd_put_u32(w, u[i]);
    }
    const double d[5] = {a->level, a->rate, a->gamma, a->sigma, a->threshold};
    for (size_t i = 0; i < 5; i++) {
        rcfd_put_f64(w, d[i]);
    }
    rcfd_put_u64(w, a->alerts);
    rcfd_put_f64(w, a->ep_max);
    /* a ring that is not full holds its entries at 0 .. n-1 (its position is n) */
    for (size_t i = 0; i < a->n_window; i++) {
        rcfd_put_f64(w, a->window[i]);
    }
    for (size_t i = 0; i < a->n_peaks; i++) {
        rcfd_put_f64(w, a->peaks[i]);
    }
}

int rcfd_alert_read(rcfd_alert_t *a, rcfd_snap_loader_t *l, uint32_t version)
{
    size_t at = rcfd_snap_at(l);
    uint32_t u[8];
    for (size_t i = 0; i < 8; i++) {
        u[i] = rcfd_get_u32(&l->r);
    }
    double d[5];
    for (size_t i = 0; i < 5; i++) {
        d[i] = rcfd_get_f64(&l->r);
    }
    uint64_t alerts = rcfd_get_u64(&l->r);
    /* version 1 has no episode maximum: an episode in progress then does not escalate */
    double ep_max = version >= 2 ? rcfd_get_f64(&l->r) : INFINITY;
    if (l->r.err) {
        return rcfd_snap_truncated(l, "the alert decision's state");
    }
    if (u[0] > RCFD_ALERT_WINDOW || u[1] >= RCFD_ALERT_WINDOW || u[3] > RCFD_ALERT_PEAKS ||
        u[4] >= RCFD_ALERT_PEAKS || u[5] > 1 ||
        (u[0] < RCFD_ALERT_WINDOW && u[1] != u[0]) || (u[3] < RCFD_ALERT_PEAKS && u[4] != u[3])) {
        return rcfd_snap_bad_at(l, at, "the alert decision's counters are out of range");
    }
    size_t want = version >= 2 ? HEAD_BYTES + 8 + 8 * ((size_t)u[0] + u[3]) : V1_BYTES;
    if (l->r.len != want) {
        return rcfd_snap_bad_at(l, at, "the alert decision's state holds %zu bytes, its counters "
                                       "say %zu", l->r.len, want);
    }
    /* level and threshold: both unset (NAN) while calibrating, else finite, with a rate */
    int set = !isnan(d[0]);
    if (set != !isnan(d[4]) ||
        (set && (!isfinite(d[0]) || !isfinite(d[4]) || !(d[1] >= 0.0 && d[1] <= 1.0)))) {
        return rcfd_snap_bad_at(l, at + 32, "the alert decision's level, rate or threshold is "
                                            "not one it can hold");
    }
    if (isnan(ep_max)) { /* +inf: read from version 1, no escalation */
        return rcfd_snap_bad_at(l, at + HEAD_BYTES,
                                "the alert decision's episode maximum is not a number");
    }
    double window[RCFD_ALERT_WINDOW] = {0}, peaks[RCFD_ALERT_PEAKS] = {0};
    size_t n_window = version >= 2 ? u[0] : RCFD_ALERT_WINDOW;
    size_t n_peaks = version >= 2 ? u[3] : RCFD_ALERT_PEAKS;
    for (size_t i = 0; i < n_window + n_peaks; i++) {
        size_t pos = rcfd_snap_at(l);
        double v = rcfd_get_f64(&l->r);
        if (!isfinite(v)) {
            return rcfd_snap_bad_at(l, pos, "an alert decision score is not finite");
        }
        if (i < n_window) {
            window[i] = v;
        } else {
            peaks[i - n_window] = v;
        }
    }
    a->n_window = u[0];
    a->window_pos = u[1];
    a->since_level = u[2];
    a->n_peaks = u[3];
    a->peaks_pos = u[4];
    a->in_episode = u[5];
    a->below = u[6];
    a->ep_len = u[7];
    a->level = d[0];
    a->rate = d[1];
    a->gamma = d[2];
    a->sigma = d[3];
    a->threshold = d[4];
    a->alerts = alerts;
    a->ep_max = ep_max;
    memcpy(a->window, window, sizeof window);
    memcpy(a->peaks, peaks, sizeof peaks);
    return 0;
}
