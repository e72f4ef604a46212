/* Output record encoding (no I/O), separate from sending so each style is testable on its own.
 *
 * Scored record, style rcfd: the original record's members, then
 *   "anomaly_score": number, "explanation": {col: {attribution, strength, direction}} (explain on),
 *   "hotspots": [...] (HOTSPOTS), "_rcfd": {"pipeline","key","source", "topic","partition",
 *   "offset" | "path","line"}.
 * Style kda: the original members, then ANOMALY_SCORE (number), ANOMALY_EXPLANATION (a string
 * holding JSON with string values, keyed by column) and HOTSPOTS_RESULT (a string holding
 * {"hotspots":[...]}), exactly as Kinesis Data Analytics wrote them.
 * A member of the original record with the same name as one we add is replaced by ours.
 * Dead letter: {"reason","pipeline","source","topic","partition","offset" | "path","line",
 * "record": the raw bytes as a string, or "record_base64" when they are not UTF-8; at most
 * RCFD_DEAD_RECORD_MAX (buf.h) of them, then "record_bytes" and "truncated"}. */
#ifndef RCFD_STREAM_ENCODE_H
#define RCFD_STREAM_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "models/model.h"
#include "stream/record.h"

typedef struct rcfd_origin {
    const char *source; /* source name */
    const char *topic;  /* Kafka; NULL for files */
    int32_t partition;
    int64_t offset;
    const char *path; /* files */
    uint64_t line;    /* 1-based line number */
    uint32_t shard;   /* the models' scope (state.h) */
    /* Optional: rcfd_encode_origin_head() of these fields, kept by the source per partition or
     * file so each record appends it instead of encoding the names again; NULL: encoded here. */
    const char *head;
    size_t head_len;
} rcfd_origin_t;

/* The origin's members up to its offset (Kafka) or line (files), as the encoders write them:
 * ,"source":...,"topic":...,"partition":N,"offset":  or  ,"source":...,"path":...,"line": */
int rcfd_encode_origin_head(rcfd_buf_t *out, const rcfd_origin_t *o);

/* The fields a record's values were imputed for (models/impute.h), in the pipeline's order. */
typedef struct rcfd_imputed {
    const rcfd_strlist_t *fields;
    const unsigned char *missing; /* fields->n flags */
    const double *values;         /* fields->n: the values the models saw */
} rcfd_imputed_t;

/* A scored record: the input's members, the models' members, `imputed` (NULL: none) as
 * "imputed": ["field", ...] and "imputed_values": {"field": value, ...} ("IMPUTED",
 * "IMPUTED_VALUES" in the kda style: columns KDA's parsers ignore), then rcfd's _rcfd object. */
int rcfd_encode_scored(rcfd_buf_t *out, rcfd_style_t style, rcfd_record_t *rec,
                       const rcfd_origin_t *origin, const char *pipeline, const char *key,
                       size_t key_len, const rcfd_strlist_t *columns,
                       const rcfd_model_type_t *const *types, const void *const *results,
                       size_t n_models, const rcfd_imputed_t *imputed);

int rcfd_encode_dead_letter(rcfd_buf_t *out, const rcfd_origin_t *origin, const char *pipeline,
                            const char *reason, const char *data, size_t len);

/* The same records in pieces, for models that run on a worker thread while the record and its
 * origin stay on the loop (runtime.c): the origin's members (what follows a dead letter's
 * pipeline); '{' and the original record's members; the models' members (and the imputed
 * marks). join() puts a scored
 * record together from them, byte for byte what rcfd_encode_scored() writes, and
 * dead_letter_at() a dead letter from an encoded origin, byte for byte rcfd_encode_dead_letter(). */
int rcfd_encode_origin(rcfd_buf_t *out, const rcfd_origin_t *origin);
int rcfd_encode_scored_head(rcfd_buf_t *out, rcfd_style_t style, rcfd_record_t *rec);
int rcfd_encode_scored_models(rcfd_buf_t *out, rcfd_style_t style, const rcfd_strlist_t *columns,
                              const rcfd_model_type_t *const *types, const void *const *results,
                              size_t n_models, const rcfd_imputed_t *imputed);
int rcfd_encode_scored_join(rcfd_buf_t *out, rcfd_style_t style, const char *head, size_t head_len,
                            const char *models, size_t models_len, const char *pipeline,
                            const char *key, size_t key_len, const char *origin, size_t origin_len);
int rcfd_encode_dead_letter_at(rcfd_buf_t *out, const char *origin, size_t origin_len,
                               const char *pipeline, const char *reason, const char *data,
                               size_t len);

#endif
