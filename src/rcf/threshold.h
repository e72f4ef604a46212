/* Adaptive thresholder: turns a stream of anomaly scores into a threshold and a grade in [0, 1],
 * so users alert on the grade instead of guessing a score cut-off per data set.
 *
 * Modelled on the reference library's BasicThresholder (anchors §3.2 formula 5); the definition is
 * in docs/rcf.md. Plain state, no allocation: it lives inside the forest and its snapshot. */
#ifndef RCFD_RCF_THRESHOLD_H
#define RCFD_RCF_THRESHOLD_H

#include <stdint.h>

/* Exponentially weighted mean and deviation; early on (count < 1/discount) a plain running mean. */
typedef struct ema_stats {
    double sum;
    double sum_sq;
    double weight;
    uint64_t count;
} ema_stats_t;

typedef struct thresholder {
    double anomaly_rate; /* target fraction of records graded above 0 */
    double z_factor;     /* threshold distance from the mean, in robust deviations */
    double discount;     /* EMA discount per score: anomaly_rate / 10 */
    ema_stats_t scores;  /* the scores themselves */
    ema_stats_t below;   /* mean - score, for scores below the mean: deviation unpolluted by
                            anomalies, which only ever sit above */
    double quantile;     /* running estimate of the (1 - anomaly_rate) quantile of the scores */
    uint64_t count;
} thresholder_t;

void thresholder_init(thresholder_t *t, double anomaly_rate, double z_factor);

/* Threshold and grade of `score` from the scores seen so far, then adds the score to them. */
void thresholder_process(thresholder_t *t, double score, double *threshold, double *grade);

/* 1 if the state is consistent with scores in [0, max_score] (snapshot validation). */
int thresholder_is_valid(const thresholder_t *t, double max_score);

#endif
