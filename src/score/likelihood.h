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
 * own largest earlier rises, so one threshold fits quiet and noisy keys alike; with two rules on
 * top, one that forgives a key's daily (periodic) spikes and one on the values themselves.
 *
 *   rise    = score * max(0, score - FRACTION * max(previous WINDOW scores))
 *   novelty = rise / (FLOOR + the RANK-th largest earlier rise of the key)
 *   novelty = 0 when the rise repeats two earlier ones (periodic, below)
 *   level   = log(1 + |mean of the last LEVEL_K values - median of the LEVEL_WINDOW values before|
 *                     / their interquartile range)
 *   novelty = max(novelty, LEVEL_WEIGHT x the same rise / rank scale computed over level)
 *   novelty = max(novelty, EXTREME) when a value lies beyond the key's range (below)
 *
 * The first factor alerts once per burst: after a high score the key must beat 0.9 of it for
 * WINDOW records. Weighting by the score itself ranks a rise to a score the forest rarely gives
 * above an equal rise among low scores. Dividing by the key's third-largest earlier rise makes a
 * key whose scores jump all the time (tweet counts) need a bigger jump than a steady one (CPU of
 * a quiet host); that scale is 0 until the key has risen RANK times, and the stored rises decay by
 * e^(-age / memory) so a key forgets old events at the rate its forest forgets old points.
 * Periodic: a rise whose score has been reached (PERIOD_HEIGHT of it) by two earlier rises at
 * t - d and about t - 2d (PERIOD_SLACK records either way, d >= PERIOD_MIN), among the key's last
 * PERIOD_EVENTS rises, is the third of a regular series (a nightly job's CPU spike) and is not
 * novel; the period is not configured, the spacing of the key's own rises gives it.
 * Level: the forest sees single values, so a shift of the level made of ordinary values (a
 * sensor stuck a little high) scores low; the mean of the last LEVEL_K values against the robust
 * location and spread of the LEVEL_WINDOW values before catches it, calibrated per key like the
 * score (its own window, rise and rank scale) and weighted down, so it only decides where the
 * forest has nothing. Each field has its own, the largest counts.
 * A record with a value more than RANGE_TOLERANCE x the field's range beyond the lowest or highest
 * value the key has had (Numenta's "spatial anomaly"; Numenta's 5% is worse on NAB than 1% with
 * the rcf model's recent means) is novel whatever the forest says: the forest's sample may hold
 * too few extreme points to isolate a new one.
 * On the NAB corpus this beats the raw score, Numenta's likelihood and the plain rise
 * (bench/RESULTS.md, NAB); the constants were chosen there, with a held-out check. */
#define RCFD_NOVELTY_WINDOW 200
#define RCFD_NOVELTY_FRACTION 0.9
#define RCFD_NOVELTY_RANK 3
#define RCFD_NOVELTY_FLOOR 1.0
#define RCFD_NOVELTY_RANGE_TOLERANCE 0.01
#define RCFD_NOVELTY_EXTREME 1.0
#define RCFD_NOVELTY_PERIOD_EVENTS 16
#define RCFD_NOVELTY_PERIOD_MIN 50
#define RCFD_NOVELTY_PERIOD_SLACK 5
#define RCFD_NOVELTY_PERIOD_HEIGHT 0.9
#define RCFD_NOVELTY_LEVEL_K 5
#define RCFD_NOVELTY_LEVEL_WINDOW 200
#define RCFD_NOVELTY_LEVEL_WEIGHT 0.3

/* The rise of an input over its previous WINDOW inputs and the RANK largest earlier rises. */
typedef struct rcfd_novelty_rise {
    double ring[RCFD_NOVELTY_WINDOW]; /* the previous inputs */
    size_t n, pos;
    double top[RCFD_NOVELTY_RANK]; /* the largest earlier rises, decayed, descending */
    size_t n_top;
    /* The ring slots that can still hold the window's maximum, oldest first, values decreasing
     * (a monotonic queue: O(1) amortized per input instead of a WINDOW-long scan). Derived from
     * the ring: not in snapshots, rebuilt when one is read. */
    uint16_t mq[RCFD_NOVELTY_WINDOW];
    size_t mq_head, mq_len;
} rcfd_novelty_rise_t;

/* One field's values for the level rule (3.3 kB). */
typedef struct rcfd_novelty_level {
    double recent[RCFD_NOVELTY_LEVEL_K];      /* the last values, ring */
    double hist[RCFD_NOVELTY_LEVEL_WINDOW];   /* the values before them, ring */
    double sorted[RCFD_NOVELTY_LEVEL_WINDOW]; /* the same, ascending */
    size_t n_recent, recent_pos, n_hist, hist_pos;
} rcfd_novelty_level_t;

typedef struct rcfd_novelty {
    rcfd_novelty_rise_t score;                   /* of the forest's score */
    rcfd_novelty_rise_t level;                   /* of the level rule's value */
    uint64_t ev_t[RCFD_NOVELTY_PERIOD_EVENTS];   /* the key's last rises of the score: when, ring */
    double ev_score[RCFD_NOVELTY_PERIOD_EVENTS]; /* and their scores */
    size_t n_ev, ev_pos;
    double decay;    /* per record: e^(-1 / memory) */
    size_t n_fields; /* values per record */
    double *lo, *hi; /* owned, n_fields each: the key's lowest and highest value per field */
    rcfd_novelty_level_t *lv; /* owned, n_fields */
    uint64_t seen;            /* records fed */
    uint64_t warm;            /* records before a value beyond the range counts */
} rcfd_novelty_t;

/* n_fields: values per record; memory: records over which an earlier rise fades by 1/e (the rcf
 * model passes its time_decay; at least 1); warm: records the key must have had before a value
 * beyond its range, or its level, counts (the rcf model passes output_after, so a key judges
 * values once its forest scores). Allocates the per-field state (about 3.3 kB a field):
 * RCFD_ENOMEM, else 0; free with rcfd_novelty_free. No allocation per record. */
int rcfd_novelty_init(rcfd_novelty_t *nv, size_t n_fields, double memory, uint64_t warm);
void rcfd_novelty_free(rcfd_novelty_t *nv);
/* Feeds a raw score (>= 0) and the record's n_fields values (NULL: no value rules); returns the
 * novelty (>= 0); NAN for a NAN score, which changes nothing. */
double rcfd_novelty_update(rcfd_novelty_t *nv, double score, const double *values);

/* The novelty's state as a snapshot payload, so a restored or warm-started key goes on exactly
 * where it was (models/rcf.c seals it as a section after the forest's). Little-endian,
 * version RCFD_NOVELTY_STATE_VERSION: the layout constants (fields, WINDOW, RANK, PERIOD_EVENTS,
 * LEVEL_K, LEVEL_WINDOW; u32 each), records seen (u64), the score's and the level's rise state
 * (u32 n, u32 pos, n f64, u32 n_top, n_top f64), the periodic rule's rises (u32 n, u32 pos,
 * n u64 records, n f64 scores), then per field: lowest and highest value (f64), the level rule's
 * u32 n_recent, recent_pos, n_hist, hist_pos and n_recent + n_hist f64 (recent values, window).
 * Version 1 stored every slot of each ring (WINDOW, RANK, PERIOD_EVENTS, LEVEL_K, LEVEL_WINDOW). Derived state is not in it (the rises' max queues, the window's
 * sorted copy: rebuilt on read), nor are memory and warm: they come from the model's parameters,
 * which the forest's snapshot carries. */
#define RCFD_NOVELTY_STATE_VERSION 2u /* 2: each ring's filled slots only; 1 still reads */
size_t rcfd_novelty_payload_size(const rcfd_novelty_t *nv);
void rcfd_novelty_write(const rcfd_novelty_t *nv, rcfd_writer_t *w);
/* Reads such a payload into nv, which rcfd_novelty_init set up for the key's field count. On an
 * error nv may be partly overwritten (the caller discards it) and the message names the byte:
 * RCFD_ETRUNCATED, or RCFD_EBADSTATE for a layout or value no novelty can have. */
int rcfd_novelty_read(rcfd_novelty_t *nv, rcfd_snap_loader_t *l, uint32_t version);

#endif
