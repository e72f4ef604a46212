#include "threshold.h"

#include <math.h>

/* Before this many scores the deviation means little and the initial threshold applies; it hands
 * over linearly to the learned one by twice this many (as the reference library does). */
#define MINIMUM_SCORES 10
#define INITIAL_THRESHOLD 1.5
/* Scores of ordinary points sit around 0.5–1; nothing below this is ever an anomaly. */
#define ABSOLUTE_THRESHOLD 0.8

static void ema_update(ema_stats_t *s, double value, double discount)
{
    double keep = 1.0 - discount;
    double early = 1.0 - 1.0 / ((double)s->count + 2.0);
    if (early < keep) {
        keep = early; /* plain running mean until the EMA's horizon is reached */
    }
    s->sum = s->sum * keep + value;
    s->sum_sq = s->sum_sq * keep + value * value;
    s->weight = s->weight * keep + 1.0;
    s->count++;
}

static double ema_mean(const ema_stats_t *s)
{
    return s->weight > 0.0 ? s->sum / s->weight : 0.0;
}

static double ema_deviation(const ema_stats_t *s)
{
    if (s->weight <= 0.0) {
        return 0.0;
    }
    double mean = s->sum / s->weight;
    double var = s->sum_sq / s->weight - mean * mean;
    return var > 0.0 ? sqrt(var) : 0.0;
}

void thresholder_init(thresholder_t *t, double anomaly_rate, double z_factor)
{
    *t = (thresholder_t){.anomaly_rate = anomaly_rate,
                         .z_factor = z_factor,
                         .discount = anomaly_rate / 10.0,
                         .quantile = INITIAL_THRESHOLD};
}

/* Robust deviation: the spread below the mean (scaled to a two-sided deviation) caps the plain
 * deviation, so a burst of anomalies does not lift the threshold over the next ones. */
static double robust_deviation(const thresholder_t *t)
{
    double plain = ema_deviation(&t->scores);
    double below = sqrt(2.0) * ema_deviation(&t->below);
    if (t->below.count < MINIMUM_SCORES) {
        return plain;
    }
    return below < plain ? below : plain;
}

void thresholder_process(thresholder_t *t, double score, double *threshold_out, double *grade_out)
{
    double mean = ema_mean(&t->scores);
    double deviation = robust_deviation(t);
    double learned = mean + t->z_factor * deviation;
    if (t->count >= 2 * MINIMUM_SCORES && t->quantile > learned) {
        learned = t->quantile; /* at most about anomaly_rate of the records exceed it */
    }
    double fraction = t->count < MINIMUM_SCORES       ? 0.0
                      : t->count >= 2 * MINIMUM_SCORES ? 1.0
                                                       : (double)(t->count - MINIMUM_SCORES) /
                                                             MINIMUM_SCORES;
    double threshold = fraction * learned + (1.0 - fraction) * INITIAL_THRESHOLD;
    if (threshold < ABSOLUTE_THRESHOLD) {
        threshold = ABSOLUTE_THRESHOLD;
    }

    /* Grade 0.5 at the threshold, rising by 0.5 per deviation unit above it: with z = 3 the grade
     * reaches 1 at about four deviations from the mean. */
    double grade = 0.0;
    if (score >= threshold) {
        double unit = (threshold - mean) / t->z_factor;
        grade = unit > 0.0 ? 0.5 * (1.0 + (score - threshold) / unit) : 1.0;
        if (grade > 1.0) {
            grade = 1.0;
        }
    }

    /* Learn from this score. The quantile moves by a step scaled to the spread, up when exceeded
     * and down otherwise, so that it settles where anomaly_rate of the scores lie above it. */
    double below = mean - score;
    if (t->scores.count > 0 && below > 0.0) {
        ema_update(&t->below, below, t->discount);
    }
    ema_update(&t->scores, score, t->discount);
    if (t->count + 1 == 2 * MINIMUM_SCORES) {
        t->quantile = mean + t->z_factor * deviation; /* start the quantile where it should be */
    } else if (t->count + 1 > 2 * MINIMUM_SCORES) {
        double step = 0.1 * (deviation > 1e-3 ? deviation : 1e-3);
        t->quantile +=
            score > t->quantile ? step * (1.0 - t->anomaly_rate) : -step * t->anomaly_rate;
    }
    t->count++;

    *threshold_out = threshold;
    *grade_out = grade;
}

/* Values fed to the statistics lie in [0, max_value]; so must every mean they imply, or a forged
 * snapshot could drive later updates to overflow. */
static int stats_valid(const ema_stats_t *s, double max_value)
{
    return isfinite(s->sum) && isfinite(s->sum_sq) && isfinite(s->weight) && s->weight >= 0.0 &&
           s->weight <= (double)s->count && s->sum >= 0.0 && s->sum <= s->weight * max_value &&
           s->sum_sq >= 0.0 && s->sum_sq <= s->weight * max_value * max_value;
}

int thresholder_is_valid(const thresholder_t *t, double max_score)
{
    max_score *= 1.0 + 1e-9; /* rounding slack */
    return stats_valid(&t->scores, max_score) && stats_valid(&t->below, max_score) &&
           isfinite(t->quantile) && fabs(t->quantile) <= 1e6 * (1.0 + max_score) &&
           t->below.count <= t->scores.count && t->scores.count == t->count;
}
