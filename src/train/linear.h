/* impute "linear" for replays: a missing value between a key's previous and next observed values
 * of the field, interpolated by the key's record count, when the next one comes within
 * `lookahead` records of the key. Only a file read ahead knows the next value, so `rcfd train`
 * and `rcfd backtest` plan the whole file first (one pass with the daemon's record decoding) and
 * look the values up by line as the records are replayed; the daemon refuses "linear".
 *
 * Memory: 8 bytes x fields x lines of the file while the plan lives. */
#ifndef RCFD_TRAIN_LINEAR_H
#define RCFD_TRAIN_LINEAR_H

#include <stddef.h>
#include <stdint.h>

#include "train/input.h"

typedef struct rcfd_linear_plan {
    size_t n_lines, n_fields;
    double *v; /* [line - 1][field]: the interpolated value, NAN where none is planned */
} rcfd_linear_plan_t;

/* Reads spec's file (fields, key; allow_missing is implied) and plans every missing value that
 * has an observed value of its field before it and one within `lookahead` records after it in
 * the same key. */
int rcfd_linear_plan_build(const rcfd_input_spec_t *spec, size_t lookahead,
                           rcfd_linear_plan_t *out, char *errstr, size_t errstr_size);

/* Fills values[i] for every missing[i] of the record at `line`: 0, or RCFD_EAGAIN (values
 * untouched) when one of them has no planned value. */
int rcfd_linear_plan_fill(const rcfd_linear_plan_t *p, uint64_t line, double *values,
                          const unsigned char *missing, size_t n);

void rcfd_linear_plan_free(rcfd_linear_plan_t *p);

#endif
