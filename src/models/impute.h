/* Missing values: a pipeline's `impute` (docs/rcf.md "Missing values"). A record whose field is
 * absent or null is completed instead of dead-lettered: with zero, a fixed value per field, the
 * key's previous value, or the key's forest's conditional estimate (rcf). The key's state (its
 * last values, the imputations in a row) lives in the snapshot of the first of its models whose
 * type holds one (rcfd_model_type_t.impute_state: rcf, forecast), so checkpoints, evictions, warm starts and
 * `rcfd train` carry it as they carry the model.
 *
 * Called on the thread that owns the key's models (the loop, or the key's worker), like them.
 * The state is allocated at a key's first record under an
 * impute method; nothing is allocated per record after that. */
#ifndef RCFD_MODELS_IMPUTE_H
#define RCFD_MODELS_IMPUTE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "models/model.h"

/* Methods, in the order of rcfd_impute_methods[] (the config's enum). */
enum {
    RCFD_IMPUTE_DEAD_LETTER = 0, /* today's behaviour: a missing field dead-letters the record */
    RCFD_IMPUTE_ZERO,
    RCFD_IMPUTE_FIXED,
    RCFD_IMPUTE_PREVIOUS,
    RCFD_IMPUTE_LINEAR, /* needs look-ahead: only where the next value is known (rcfd backtest) */
    RCFD_IMPUTE_RCF
};
extern const char *const rcfd_impute_methods[]; /* NULL-terminated */

/* Version of the snapshot section RCFD_SNAP_KIND_IMPUTE. */
#define RCFD_IMPUTE_STATE_VERSION 1u

/* A key's imputation state. */
typedef struct rcfd_impute_state {
    uint32_t n_fields;
    uint32_t consecutive; /* records imputed in a row (a complete record resets it) */
    uint32_t have_last;   /* 0 until the key's first record was accepted */
    double *last;         /* n_fields: the values of the key's last accepted record */
} rcfd_impute_state_t;

/* Where the key's values come from, for one record. */
typedef struct rcfd_impute_conf {
    int method;                /* RCFD_IMPUTE_* */
    const double *fixed;       /* n_fields values with RCFD_IMPUTE_FIXED, else NULL */
    uint32_t max_consecutive;  /* past this many imputed records in a row: dead letter */
    /* RCFD_IMPUTE_LINEAR: fills values[i] for missing[i] from the key's next records, or
     * RCFD_EAGAIN (none in reach: previous); NULL elsewhere */
    int (*ahead)(void *ud, double *values, const unsigned char *missing, size_t n);
    void *ahead_ud;
} rcfd_impute_conf_t;

typedef struct rcfd_impute_outcome {
    size_t imputed;  /* fields imputed in this record */
    int fallback;    /* 1: rcf could not estimate yet (no forest, short history): previous */
} rcfd_impute_outcome_t;

/* Completes one record of a key: values[i] for every i with missing[i] != 0 is filled by the
 * method, then the key's state learns the record (its values, the imputations in a row). Call it
 * for every record of a pipeline with a method other than dead_letter, complete ones included
 * (previous needs them). `models` are the key's instances of `types`; the state is held by the
 * first whose type has impute_state, the rcf method asks the first whose type has impute. Returns
 * 0; RCFD_ERANGE when the record would be the (max_consecutive + 1)-th imputed in a row, or
 * RCFD_ENOENT when there is nothing to impute from (previous, or rcf's fallback, before the
 * key's first record): reason names the first missing field, and the state is unchanged.
 * RCFD_ENOMEM when the state cannot be allocated. */
int rcfd_impute_record(const rcfd_impute_conf_t *c, const rcfd_model_type_t *const *types,
                       void *const *models, size_t n_models, const rcfd_strlist_t *fields,
                       double *values, const unsigned char *missing, rcfd_impute_outcome_t *out,
                       char *reason, size_t reason_size);

/* For model types: a state for n_fields (all zero). NULL when out of memory. */
rcfd_impute_state_t *rcfd_impute_state_new(size_t n_fields);
void rcfd_impute_state_free(rcfd_impute_state_t *s);

/* The state's section, envelope included: its size, and writing it at out->p + out->len (room
 * reserved by the caller); payload u32 n_fields, u32 consecutive, u32 have_last, n_fields f64. */
size_t rcfd_impute_section_size(const rcfd_impute_state_t *s);
void rcfd_impute_section_write(const rcfd_impute_state_t *s, rcfd_buf_t *out);

/* Reads the section at b[0..len) (byte `at` of the snapshot, for messages) into a new state for
 * n_fields; RCFD_ECONFIG when it was written for another field count, RCFD_EBADSTATE /
 * RCFD_ETRUNCATED / RCFD_EVERSION naming the byte otherwise. */
int rcfd_impute_section_load(const unsigned char *b, size_t len, size_t at, size_t n_fields,
                             rcfd_impute_state_t **out, char *errstr, size_t errstr_size);

#endif
