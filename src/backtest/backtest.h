/* rcfd backtest: replays labelled files through the daemon's pipeline code (stream/runtime.h with
 * a file source) and scores the result: record-level precision/recall/F1/accuracy and the NAB
 * score (nab.h) per file and for a corpus, then writes an HTML report and a JSON summary. */
#ifndef RCFD_BACKTEST_BACKTEST_H
#define RCFD_BACKTEST_BACKTEST_H

#include <stddef.h>
#include <stdint.h>

#include "backtest/metrics.h"
#include "backtest/nab.h"
#include "common/conf.h"

struct rcfd_progress;

/* What the NAB threshold sweeps: the grade, the raw score, or score / adaptive threshold (the
 * score relative to its stream's own level, so one corpus-wide threshold fits every file). */
enum { RCFD_BT_NAB_GRADE = 0, RCFD_BT_NAB_SCORE = 1, RCFD_BT_NAB_RATIO = 2, RCFD_BT_NAB_LIKELIHOOD = 3,
       RCFD_BT_NAB_NOVELTY = 4 };

typedef struct rcfd_bt_opts {
    const char *model;  /* model type, "rcf" */
    const void *params; /* cJSON object of the model's parameters */
    rcfd_strlist_t fields;
    const char *key, *timestamp, *label;
    const char *windows; /* the windows file (NAB labels), or NULL */
    int labelled;        /* labels (a field or windows) are given: metrics and NAB are computed */
    int format; /* -1: from the file name */
    char delim;
    double grade_cutoff; /* a record is flagged when grade >= this */
    int nab_input;       /* what the NAB threshold sweeps over: grade or score */
    double alert_threshold; /* the report's alerts: input >= this; NAN: the NAB threshold (or
                             * the input's default without labels) */
    size_t plot_points;     /* buckets per key in the report's charts (min/max kept) */
    /* The pipeline's impute keys (NULL/0: their defaults); impute_values as "A=1,B=2" */
    const char *impute, *impute_values;
    long long impute_max_consecutive, impute_lookahead;
    struct rcfd_progress *progress; /* NULL: none */
    /* For the report's record of how it was made (may be NULL/0). */
    int argc;
    const char *const *argv;
    const void *effective;  /* cJSON: the daemon config the first file ran with, defaults in */
    const char *reproduce;  /* the command line that reruns it with every effective parameter */
} rcfd_bt_opts_t;

typedef struct rcfd_bt_file {
    char *name; /* as in the windows file, or the path */
    size_t n;
    size_t n_fields;
    int64_t *ts;
    int has_ts;
    /* vals: n x n_fields, row-major; the rest one per record. NAN where the pipeline
     * dead-lettered; novelty is the model's anomaly_novelty (NAN when the model type has none) */
    double *vals, *score, *grade, *threshold, *novelty;
    /* the shipped decision per record: the model's alert flag (1 where an alert starts, else 0)
     * when it has one, else its grade; what grade_cutoff and the "fixed" figures judge */
    double *decision;
    double *input;   /* what the NAB threshold sweeps (nab_input), set by rcfd_bt_summarize */
    uint32_t *key;   /* each record's key, an index into keys */
    char **keys;     /* distinct keys in order of first sight ("" without --key) */
    size_t n_keys;
    unsigned char *label;
    rcfd_nab_window_t *windows;
    size_t n_windows;
    size_t window_base; /* first corpus-wide window id */
    rcfd_metrics_t metrics;
    rcfd_nab_result_t nab[RCFD_NAB_N_PROFILES];   /* at the (corpus or file) best threshold */
    rcfd_nab_result_t fixed[RCFD_NAB_N_PROFILES]; /* at grade >= grade_cutoff */
    size_t alerts; /* records with input >= the alert threshold (after the probation) */
    double input_max;
} rcfd_bt_file_t;

typedef struct rcfd_bt_summary {
    size_t labelled_windows;
    size_t records;
    rcfd_metrics_t metrics;
    double null_raw[RCFD_NAB_N_PROFILES];
    rcfd_nab_result_t nab[RCFD_NAB_N_PROFILES];
    double nab_norm[RCFD_NAB_N_PROFILES];
    rcfd_nab_result_t fixed[RCFD_NAB_N_PROFILES];
    double fixed_norm[RCFD_NAB_N_PROFILES];
    double alert_threshold; /* what the report marks: opts' or NAB standard's; NAN: none */
    const char *alert_source; /* how alert_threshold was chosen, for the report */
    size_t alerts;
} rcfd_bt_summary_t;

/* The name of what nab_input sweeps ("novelty", "score", ...) and its long form for people. */
const char *rcfd_bt_input_name(int nab_input);
const char *rcfd_bt_input_label(int nab_input);

/* The effective daemon config a backtest of `path` runs (every default filled in), as a cJSON
 * object the caller owns; NULL with errstr set when it does not parse. */
void *rcfd_bt_effective_config(const rcfd_bt_opts_t *opts, const char *path, char *errstr,
                               size_t errstr_size);

/* Scores one file through a runtime built for it; windows (time limits, 2 per window) label the
 * records when given, else opts->label does, else the file is unlabelled (no windows). On success
 * f owns its arrays (rcfd_bt_file_free). */
int rcfd_bt_run_file(const rcfd_bt_opts_t *opts, const char *path, const char *name,
                     const int64_t *limits, size_t n_limits, rcfd_bt_file_t *f, char *errstr,
                     size_t errstr_size);
void rcfd_bt_file_free(rcfd_bt_file_t *f);

/* Metrics and NAB scores of files already run (labelled opts): the NAB threshold is optimised over
 * all of them; and each file's alerts at the report's threshold. */
int rcfd_bt_summarize(const rcfd_bt_opts_t *opts, rcfd_bt_file_t *files, size_t n_files,
                      rcfd_bt_summary_t *out);

/* `rcfd backtest ...` (argv after the subcommand). Returns a process exit code. */
int rcfd_backtest_main(int argc, char **argv);

#endif
