/* Reads a CSV (with a header line) or JSONL file with the daemon's record decoding and field
 * selection (stream/record.h), calling back once per non-blank line in file order, as the
 * daemon's file source routes them. Used by `rcfd train` (the model input) and `rcfd backtest`
 * (timestamps and labels beside the pipeline's scores). */
#ifndef RCFD_TRAIN_INPUT_H
#define RCFD_TRAIN_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"

typedef struct rcfd_input_spec {
    const char *path;
    int format; /* RCFD_FORMAT_CSV or RCFD_FORMAT_JSON */
    char delim;
    const rcfd_strlist_t *fields; /* may be NULL (no values wanted) */
    const char *key;              /* NULL or "": no key */
    const char *timestamp;        /* NULL or "": no timestamps */
    int timestamp_optional;       /* a CSV header without the timestamp column is no error */
    const char *label;            /* NULL or "": no labels; a number, non-zero = anomaly */
    int allow_missing;            /* a missing or null field is marked in `missing` (impute),
                                     not a bad record */
} rcfd_input_spec_t;

typedef struct rcfd_input_row {
    size_t index;          /* 0-based record number */
    size_t line;           /* 1-based line of the file (the daemon's file source counts so) */
    const double *values;  /* fields->n values */
    const char *key;       /* NUL-terminated */
    size_t key_len;
    int has_ts;
    int64_t ts_us;
    int label;
    const char *bad;       /* non-NULL: the record is malformed (the daemon dead-letters it) */
    const unsigned char *missing; /* with allow_missing: fields->n flags (the value is NAN) */
    size_t n_missing;
} rcfd_input_row_t;

typedef int (*rcfd_input_cb)(void *ud, const rcfd_input_row_t *row);

/* "csv" when the path ends in .csv, else "json". */
int rcfd_input_guess_format(const char *path);

/* A callback returning non-zero stops the read with that code. */
int rcfd_input_read(const rcfd_input_spec_t *spec, rcfd_input_cb cb, void *ud, char *errstr,
                    size_t errstr_size);

#endif
