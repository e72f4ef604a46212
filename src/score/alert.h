/* The alert decision: per key, turns the stream of forest scores into `anomaly` (an alert starts
 * here), `anomaly_grade` in [0, 1] and the `threshold` used, with one knob, `alert_rate`.
 *
 * Peaks over threshold (SPOT, Siffer et al., KDD 2017): the scores above a high level t (the
 * key's LEVEL quantile, re-estimated from its last WINDOW learned scores) are its peaks; their
 * excesses over t are fitted with a generalized Pareto distribution (method of moments over the
 * last PEAKS peaks), and the threshold is the score whose tail probability is alert_rate:
 *
 *   P(S > s) = r * (1 + gamma (s - t) / sigma)^(-1 / gamma),   r = the rate of records above t
 *   threshold = t + sigma / gamma * ((alert_rate / r)^(-gamma) - 1)     (gamma -> 0: exponential)
 *
 * and never below FLOOR (the reference thresholder's absolute floor, anchors §3.2). The grade of a
 * score above the threshold is 1 - P(S > score) / alert_rate: 0 at the threshold, 1 far beyond.
 * An episode starts when a score crosses the threshold (`anomaly` true on that record only) and
 * ends after QUIET(shingle) records at or below it. Inside one, a score whose excess over the level
 * t is more than twice the episode's highest excess so far is a stronger anomaly than the one that
 * started it and alerts again, so a weak false alarm does not hide a real anomaly that follows
 * within QUIET records (with an exponential tail, a doubled excess is about rate/alert_rate times
 * less likely; a score still rising through one anomaly's shingle rarely doubles its excess).
 * The level and the peaks learn every score at or below the threshold, inside an episode too; of
 * the scores above it, only each episode's highest, once the episode is over (one anomaly is one
 * peak: its shingle's scores are not independent). Without those maxima the tail would be fitted
 * on scores the rule itself cut at the threshold, which fits it too light and alerts several times
 * more often than alert_rate on a heavy tail. No alert before the forest scores and WINDOW scores
 * have calibrated the tail (`warming_up`).
 * Plain fixed-size state (about 5.2 kB; its snapshot holds only the scores it has), no allocation, no I/O; not thread-safe: one per key. */
#ifndef RCFD_SCORE_ALERT_H
#define RCFD_SCORE_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "common/snapshot.h"

#define RCFD_ALERT_WINDOW 512 /* learned scores the level is estimated from */
#define RCFD_ALERT_LEVEL 0.98 /* SPOT's initial quantile */
#define RCFD_ALERT_PEAKS 128  /* excesses the tail is fitted on */
#define RCFD_ALERT_FLOOR 0.8  /* no threshold below this score (the reference's lowerThreshold) */
#define RCFD_ALERT_STATE_VERSION 2u /* 2 adds ep_max; version 1 still reads */

typedef struct rcfd_alert {
    double alert_rate; /* the knob: target fraction of ordinary records above the threshold */
    uint32_t quiet;    /* records at or below the threshold that end an episode */
    double window[RCFD_ALERT_WINDOW]; /* the last learned scores, ring */
    uint32_t n_window, window_pos;
    uint32_t since_level; /* learned scores since the level was estimated */
    double peaks[RCFD_ALERT_PEAKS];   /* the last learned scores above the level, ring */
    uint32_t n_peaks, peaks_pos;
    double level;     /* t; NAN until calibrated */
    double rate;      /* fraction of the window's scores above t */
    double gamma, sigma, threshold;
    uint32_t in_episode; /* 1 inside an episode */
    uint32_t below;      /* consecutive records at or below the threshold inside an episode */
    uint32_t ep_len;     /* records in the current episode: one longer than WINDOW ends (a
                            drift: its highest is learned, and the next crossing alerts again) */
    double ep_max;       /* the highest score in the current episode */
    uint64_t alerts;     /* alerts raised: episodes started, and escalations inside one */
} rcfd_alert_t;

typedef struct rcfd_alert_result {
    int warming_up; /* 1: no decision yet (the forest or the tail is still calibrating) */
    int anomaly;    /* 1: an episode starts at this record, or escalates (a far stronger score) */
    double grade;   /* in [0, 1]; 0 at or below the threshold */
    double threshold; /* NAN while warming up */
} rcfd_alert_result_t;

/* alert_rate in (0, 0.5); shingle: the forest's shingle size (an anomaly stays in the shingle for
 * that many records, so episodes last at least that long). */
void rcfd_alert_init(rcfd_alert_t *a, double alert_rate, uint32_t shingle);

/* The forest's shingle size, once chosen later than init (shingle_size "auto"); the state so far
 * is kept. */
void rcfd_alert_set_shingle(rcfd_alert_t *a, uint32_t shingle);

/* Decides on `score`; ready: 0 while the forest warms up (its score means nothing yet). */
void rcfd_alert_update(rcfd_alert_t *a, int ready, double score, rcfd_alert_result_t *out);

/* Snapshot payload: its size (version RCFD_ALERT_STATE_VERSION, for this state), writer and
 * validating reader of versions 1 and 2 (alert_rate and quiet come from the config, not the
 * snapshot; a snapshot from another alert_rate is still read). */
size_t rcfd_alert_payload_size(const rcfd_alert_t *a);
void rcfd_alert_write(const rcfd_alert_t *a, rcfd_writer_t *w);
int rcfd_alert_read(rcfd_alert_t *a, rcfd_snap_loader_t *l, uint32_t version);

#endif
