/* Anomaly likelihood: Numenta's post-processing of a raw anomaly score (NAB's "anomaly
 * likelihood"), streaming, per key. The raw scores are smoothed over a short window; the smoothed
 * values of a long window give a mean and standard deviation (re-estimated periodically); the
 * likelihood is 1 - the Gaussian tail probability of the current smoothed score, reported
 * log-scaled in [0, 1] (0.5 while learning). It answers "is this stream's score unusually high
 * for this stream?", so one threshold fits streams whose raw scores live at different levels.
 * No I/O; not thread-safe; an instance is per key. */
#ifndef RCFD_SCORE_LIKELIHOOD_H
#define RCFD_SCORE_LIKELIHOOD_H

#include <stddef.h>
#include <stdint.h>

#include "common/snapshot.h"

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
 *
 * The first factor alerts once per burst: after a high score the key must beat 0.9 of it for
 * WINDOW records. Weighting by the score itself ranks a rise to a score the forest rarely gives
 * above an equal rise among low scores. Dividing by the key's third-largest earlier rise makes a
 * key whose scores jump all the time (tweet counts) need a bigger jump than a steady one (CPU of
 * a quiet host); that scale is 0 until the key has risen RANK times, and the stored rises decay by
 * e^(-age / memory) so a key forgets old events at the rate its forest forgets old points.
 * The constants were chosen on NAB (bench/RESULTS.md, NAB, second round). The periodic, level and
 * range rules that once sat on top were removed: none won on both NAB's and the UCR archive's
 * held-out halves (bench/RESULTS.md, "anomaly_novelty's rules under cross-validation"). */
#define RCFD_NOVELTY_WINDOW 200
#define RCFD_NOVELTY_FRACTION 0.9
#define RCFD_NOVELTY_RANK 3
#define RCFD_NOVELTY_FLOOR 1.0

typedef struct rcfd_novelty {
    double ring[RCFD_NOVELTY_WINDOW]; /* the previous scores */
    size_t n, pos;
    double top[RCFD_NOVELTY_RANK]; /* the largest earlier rises, decayed, descending */
    size_t n_top;
    /* The ring slots that can still hold the window's maximum, oldest first, values decreasing
     * (a monotonic queue: O(1) amortized per score instead of a WINDOW-long scan). Derived from
     * the ring: not in snapshots, rebuilt when one is read. */
    uint16_t mq[RCFD_NOVELTY_WINDOW];
    size_t mq_head, mq_len;
    double decay; /* per score: e^(-1 / memory) */
} rcfd_novelty_t;

/* memory: records over which an earlier rise fades by 1/e (the rcf model passes its time_decay; at
 * least 1). Allocates nothing, here or per record. */
void rcfd_novelty_init(rcfd_novelty_t *nv, double memory);
/* Feeds a raw score (>= 0); returns the novelty (>= 0); NAN for a NAN score, which changes
 * nothing. */
double rcfd_novelty_update(rcfd_novelty_t *nv, double score);

/* The novelty's state as a snapshot payload, so a restored or warm-started key goes on exactly
 * where it was (models/rcf.c seals it as a section after the forest's). Little-endian, version
 * RCFD_NOVELTY_STATE_VERSION: the layout constants WINDOW and RANK (u32 each), then u32 n, u32
 * pos, n f64 (the window's filled slots), u32 n_top, n_top f64. memory is not in it: it comes
 * from the model's parameters, which the forest's snapshot carries; the max queue is rebuilt.
 * Versions 1 and 2 (before the periodic, level and range rules were removed) still read: they
 * began with the field count and held the same score ring and rises, then the rules' state,
 * which is checked and dropped, so such a key goes on exactly as this novelty would have. */
#define RCFD_NOVELTY_STATE_VERSION 3u /* 3: the score's rises only; 1 and 2 still read */
size_t rcfd_novelty_payload_size(const rcfd_novelty_t *nv);
void rcfd_novelty_write(const rcfd_novelty_t *nv, rcfd_writer_t *w);
/* Reads such a payload of `version` into nv, which rcfd_novelty_init set up; n_fields is the
 * model's field count, which a version 1 or 2 state must match. On an error nv may be partly
 * overwritten (the caller discards it) and the message names the byte: RCFD_ETRUNCATED, or
 * RCFD_EBADSTATE for a layout or value no novelty can have. */
int rcfd_novelty_read(rcfd_novelty_t *nv, rcfd_snap_loader_t *l, uint32_t version, size_t n_fields);

#endif
