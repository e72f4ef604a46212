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

/* Anomaly novelty: how much a score rises above the key's recent scores, measured against the key's
 * own largest earlier rises, so one threshold fits quiet and noisy keys alike.
 *
 *   rise    = score * max(0, score - FRACTION * max(previous WINDOW scores))
 *   novelty = rise / (FLOOR + the RANK-th largest earlier rise of the key)
 *   novelty = max(novelty, EXTREME) when a value lies beyond the key's range (below)
 *
 * The first factor alerts once per burst: after a high score the key must beat 0.9 of it for
 * WINDOW records. Weighting by the score itself ranks a rise to a score the forest rarely gives
 * above an equal rise among low scores. Dividing by the key's third-largest earlier rise makes a
 * key whose scores jump all the time (tweet counts) need a bigger jump than a steady one (CPU of
 * a quiet host); that scale is 0 until the key has risen RANK times, and the stored rises decay by
 * e^(-age / memory) so a key forgets old events at the rate its forest forgets old points.
 * A record with a value more than RANGE_TOLERANCE x the field's range beyond the lowest or highest
 * value the key has had (Numenta's "spatial anomaly", with its 5%) is novel whatever the forest
 * says: the forest's sample may hold too few extreme points to isolate a new one.
 * On the NAB corpus this beats the raw score, Numenta's likelihood and the plain rise
 * (bench/RESULTS.md, NAB); WINDOW, RANK and FLOOR were chosen there, with a held-out check. */
#define RCFD_NOVELTY_WINDOW 200
#define RCFD_NOVELTY_FRACTION 0.9
#define RCFD_NOVELTY_RANK 3
#define RCFD_NOVELTY_FLOOR 1.0
#define RCFD_NOVELTY_RANGE_TOLERANCE 0.05
#define RCFD_NOVELTY_EXTREME 1.0

typedef struct rcfd_novelty {
    /* The maximum of the previous WINDOW scores, as a monotonic queue (O(1) amortized per record
     * instead of a WINDOW-long scan): the scores that can still be the window's maximum, oldest
     * first, values decreasing, with the record number each came at. */
    double dq_v[RCFD_NOVELTY_WINDOW + 1];
    uint64_t dq_t[RCFD_NOVELTY_WINDOW + 1];
    size_t dq_head, dq_len;
    double top[RCFD_NOVELTY_RANK]; /* the largest earlier rises, decayed, descending */
    size_t n_top;
    double decay;    /* per record: e^(-1 / memory) */
    size_t n_fields; /* values per record */
    double *lo, *hi; /* owned, n_fields each: the key's lowest and highest value per field */
    uint64_t seen;   /* records fed */
    uint64_t warm;   /* records before a value beyond the range counts */
} rcfd_novelty_t;

/* n_fields: values per record; memory: records over which an earlier rise fades by 1/e (the rcf
 * model passes its time_decay; at least 1); warm: records the key must have had before a value
 * beyond its range counts (the rcf model passes output_after, so a key judges extremes once its
 * forest scores). Allocates the range arrays: RCFD_ENOMEM, else 0; free with rcfd_novelty_free. */
int rcfd_novelty_init(rcfd_novelty_t *nv, size_t n_fields, double memory, uint64_t warm);
void rcfd_novelty_free(rcfd_novelty_t *nv);
/* Feeds a raw score (>= 0) and the record's n_fields values (NULL: no range check); returns the
 * novelty (>= 0); NAN for a NAN score, which changes nothing. */
double rcfd_novelty_update(rcfd_novelty_t *nv, double score, const double *values);

#endif
