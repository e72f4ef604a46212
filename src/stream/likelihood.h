/* Anomaly likelihood: Numenta's post-processing of a raw anomaly score (NAB's "anomaly
 * likelihood"), streaming, per key. The raw scores are smoothed over a short window; the smoothed
 * values of a long window give a mean and standard deviation (re-estimated periodically); the
 * likelihood is 1 - the Gaussian tail probability of the current smoothed score, reported
 * log-scaled in [0, 1] (0.5 while learning). It answers "is this stream's score unusually high
 * for this stream?", so one threshold fits streams whose raw scores live at different levels.
 * No I/O; not thread-safe; an instance is per key. */
#ifndef RCFD_STREAM_LIKELIHOOD_H
#define RCFD_STREAM_LIKELIHOOD_H

#include <stddef.h>
#include <stdint.h>

#define RCFD_LH_SHORT 10     /* smoothing window of raw scores (Numenta: 10) */
#define RCFD_LH_HISTORY 8640 /* smoothed scores the distribution is estimated from (Numenta) */
#define RCFD_LH_REESTIMATE 100
#define RCFD_LH_LEARN 388 /* scores before the first estimate (Numenta: 288 + 100) */

typedef struct rcfd_likelihood {
    double shortw[RCFD_LH_SHORT];
    double short_sum;
    double *hist; /* RCFD_LH_HISTORY smoothed scores, ring */
    uint64_t n;   /* raw scores seen (those not skipped) */
    size_t hist_n, hist_pos;
    double mean, std;
    size_t learn; /* records before the first estimate */
    int estimated;
} rcfd_likelihood_t;

int rcfd_likelihood_init(rcfd_likelihood_t *lh, size_t learn);
void rcfd_likelihood_free(rcfd_likelihood_t *lh);
/* Feeds a raw score; returns the log-scaled likelihood in [0, 1]. A NAN score (none) returns NAN
 * and changes nothing. */
double rcfd_likelihood_update(rcfd_likelihood_t *lh, double score);

/* Anomaly novelty: how far a score rises above the highest score of the key's previous
 * RCFD_NOVELTY_WINDOW records (times RCFD_NOVELTY_FRACTION), 0 when it does not. A burst of high
 * scores alerts once, at its start, and a stream that is always noisy stays quiet: on the NAB
 * corpus it beats both the raw score and the likelihood above (bench/RESULTS.md, NAB). */
#define RCFD_NOVELTY_WINDOW 400
#define RCFD_NOVELTY_FRACTION 0.9

typedef struct rcfd_novelty {
    double ring[RCFD_NOVELTY_WINDOW];
    size_t n, pos;
    double max; /* max(0, ring): rescanned only when the maximum leaves the window */
} rcfd_novelty_t;

void rcfd_novelty_init(rcfd_novelty_t *nv);
/* Feeds a raw score; returns max(0, score - FRACTION * max(previous WINDOW scores)); NAN for NAN
 * (not remembered). */
double rcfd_novelty_update(rcfd_novelty_t *nv, double score);

#endif
