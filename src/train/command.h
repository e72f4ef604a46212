/* rcfd train: one model per key over a CSV/JSONL file, snapshots written to a directory
 * (trainer.h names the files), ready for the daemon's warm start. */
#ifndef RCFD_TRAIN_COMMAND_H
#define RCFD_TRAIN_COMMAND_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/conf.h"

struct rcfd_progress;

typedef struct rcfd_train_opts {
    const char *path;
    int format; /* -1: from the file name */
    const rcfd_strlist_t *fields;
    const char *key;    /* NULL or "": one model */
    const char *model;  /* "rcf", "hotspots" */
    const void *params; /* cJSON object of parameters (rcfd_trainer_set_param) */
    uint64_t limit;     /* records to train on; 0: all */
    const char *out_dir;
    struct rcfd_progress *progress; /* NULL: none (progress.h) */
    /* impute (the pipeline's keys, models/impute.h): method, fields->n fixed values with
     * "fixed", the consecutive limit, linear's look-ahead; method 0 dead-letters (skips) */
    int impute;
    const double *impute_fixed;
    uint64_t impute_max_consecutive, impute_lookahead;
} rcfd_train_opts_t;

typedef struct rcfd_train_stats {
    uint64_t records, trained, skipped;
    uint64_t imputed; /* records trained with an imputed field */
    size_t files;
} rcfd_train_stats_t;

int rcfd_train_file(const rcfd_train_opts_t *opts, rcfd_train_stats_t *stats, char *errstr,
                    size_t errstr_size);

typedef struct rcfd_suggest_opts {
    size_t min_points; /* HOTSPOTS minimumNumberOfPointsInAHotspot the radius is for */
    size_t sample;     /* records (evenly spaced) for the k-distances */
    int plain;         /* plain loops instead of OpenBLAS */
} rcfd_suggest_opts_t;

/* rcfd train --suggest: prints column statistics and a suggested HOTSPOTS scan_radius (the median
 * distance of a sampled record to its (min_points - 1)-th nearest neighbour) for the file. */
int rcfd_train_suggest(const rcfd_train_opts_t *opts, const rcfd_suggest_opts_t *so, FILE *out,
                       char *errstr, size_t errstr_size);

/* `rcfd train ...` (argv after the subcommand). Returns a process exit code. */
int rcfd_train_main(int argc, char **argv);

#endif
