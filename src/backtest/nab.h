/* The Numenta Anomaly Benchmark's scoring (numenta/NAB nab/sweeper.py), reimplemented.
 *
 * A detector gives every row of a file a score; a row is a detection when its score is at least the
 * threshold. Rows in the probationary period (the first 15% of a file, at most 750 rows) are not
 * scored. Each labelled window earns the credit of its earliest detection, A_TP times a scaled
 * sigmoid of its position in the window (1 at the window's first row, falling towards its end), or
 * -A_FN when nothing inside it is detected. Each detection outside the windows costs A_FP times a
 * scaled sigmoid of its distance past the preceding window (in window lengths; the full A_FP
 * when no window precedes it or it is more than 3 lengths past). A corpus is scored by pooling the
 * rows of every file and choosing the one threshold that maximises the total; the total is
 * normalised to 100 * (raw - null) / (perfect - null), where the null detector never fires usefully
 * and the perfect one earns A_TP on every labelled window. See docs/backtest.md.
 *
 * Pure computation, no I/O; not thread-safe per object, reentrant otherwise. */
#ifndef RCFD_BACKTEST_NAB_H
#define RCFD_BACKTEST_NAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct rcfd_nab_profile {
    const char *name;
    double a_tp, a_fp, a_fn;
} rcfd_nab_profile_t;

#define RCFD_NAB_N_PROFILES 3
/* standard (1, 0.11, 1), reward_low_FP_rate (1, 0.22, 1), reward_low_FN_rate (1, 0.11, 2). */
extern const rcfd_nab_profile_t rcfd_nab_profiles[RCFD_NAB_N_PROFILES];

/* 2 * sigmoid(-5 x) - 1, and -1 beyond x = 3. */
double rcfd_nab_scaled_sigmoid(double x);
/* Rows of a file of n rows that are never scored: min(floor(0.15 n), 750). */
size_t rcfd_nab_probation(size_t n_rows);

/* A labelled window as row indexes, both inclusive. */
typedef struct rcfd_nab_window {
    size_t first, last;
} rcfd_nab_window_t;

/* Maps time limits (limits[2j], limits[2j+1], microseconds, inclusive) to rows of ascending
 * timestamps: the first row at or after the start, the last row at or before the end. Windows must
 * be ordered and disjoint and each must contain at least one row, else RCFD_EINVAL with errstr. */
int rcfd_nab_windows_from_times(const int64_t *ts, size_t n_rows, const int64_t *limits,
                                size_t n_windows, rcfd_nab_window_t *out, char *errstr,
                                size_t errstr_size);

/* One scorable row. */
typedef struct rcfd_nab_point {
    double score; /* detector output */
    double sweep; /* unweighted scaled sigmoid: TP credit inside a window, FP cost (< 0) outside */
    long window;  /* corpus-wide window id, or -1 outside every window */
} rcfd_nab_point_t;

/* Writes the scorable rows of one file (n_rows - probation of them) into out; window ids are
 * window_base + j. Windows must come from rcfd_nab_windows_from_times (ordered, in range).
 * Returns the number written. */
size_t rcfd_nab_points(const double *scores, size_t n_rows, const rcfd_nab_window_t *w,
                       size_t n_windows, size_t window_base, rcfd_nab_point_t *out);

typedef struct rcfd_nab_result {
    double threshold;     /* detections are scores >= threshold; +inf: none */
    double raw;           /* the profile-weighted sum */
    size_t detections;    /* rows detected */
    size_t fp;            /* of them outside every window */
    size_t windows_hit;   /* scorable windows with a detection */
    size_t windows_total; /* scorable windows (some row after the probationary period) */
} rcfd_nab_result_t;

/* Raw score of the points at a fixed threshold. n_windows bounds the window ids. */
int rcfd_nab_score(const rcfd_nab_point_t *p, size_t n, size_t n_windows,
                   const rcfd_nab_profile_t *prof, double threshold, rcfd_nab_result_t *out);

/* The threshold with the highest raw score (NAB's sweep: every distinct score is a candidate, plus
 * "no detection"); the highest threshold wins ties. */
int rcfd_nab_optimize(const rcfd_nab_point_t *p, size_t n, size_t n_windows,
                      const rcfd_nab_profile_t *prof, rcfd_nab_result_t *best);

/* NAB's null detector (a constant score everywhere), optimised like any other detector. */
int rcfd_nab_null(const rcfd_nab_point_t *p, size_t n, size_t n_windows,
                  const rcfd_nab_profile_t *prof, double *raw);

/* 100 * (raw - null) / (perfect - null) with perfect = A_TP * labelled windows (all of them, as
 * NAB counts them from the label file). */
double rcfd_nab_normalize(double raw, double null_raw, size_t labelled_windows,
                          const rcfd_nab_profile_t *prof);

#endif
