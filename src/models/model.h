/* Model types: one descriptor per kind of model (RCF now, HOTSPOTS when its library lands). A
 * pipeline keeps, per key, one instance of each of its models and calls process() once per record.
 *
 * Ownership: create() gives the caller an instance that only destroy() frees. The result pointer
 * from process() belongs to the instance and is valid until the next call on the same instance.
 * Instances are not thread-safe: they live on the loop thread. */
#ifndef RCFD_MODELS_MODEL_H
#define RCFD_MODELS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/conf.h"

typedef enum rcfd_style {
    RCFD_STYLE_RCFD = 0, /* lower-case rcfd schema: anomaly_score, explanation, hotspots */
    RCFD_STYLE_KDA = 1   /* Kinesis Data Analytics columns: ANOMALY_SCORE, ... */
} rcfd_style_t;

typedef struct rcfd_model_type {
    const char *name; /* the "type" value in config */
    const char *help;
    const rcfd_conf_desc_t *conf; /* parameter table */
    size_t conf_size;             /* size of the parameter struct the table fills */
    /* Checks the parameters for records of n_fields columns (errstr without the JSON path). */
    int (*validate)(const void *conf, size_t n_fields, char *errstr, size_t errstr_size);
    int (*create)(const void *conf, size_t n_fields, uint64_t key_seed, void **out, char *errstr,
                  size_t errstr_size);
    void (*destroy)(void *model);
    /* Rebuilds an instance from a snapshot (rcfd train, warm start). The snapshot's parameters
     * must be the ones `conf` and n_fields give (the seed excepted: the snapshot carries it), else
     * RCFD_ECONFIG with errstr naming the first parameter that differs. */
    int (*load)(const void *conf, size_t n_fields, const void *buf, size_t len, void **out,
                char *errstr, size_t errstr_size);
    /* Appends the instance's snapshot (what load() reads) to out. */
    int (*save)(const void *model, rcfd_buf_t *out);
    /* Scores the record, then learns it. */
    int (*process)(void *model, const double *values, size_t n_values, const void **result);
    /* The record's anomaly score for filtering and summaries; NAN when the model has none. */
    double (*score)(const void *result);
    /* Appends `,"name":value` members for this result to an output object in `style`;
     * `columns` are the pipeline's field names (KDA keys the explanation by column). */
    int (*encode)(const void *result, const rcfd_strlist_t *columns, rcfd_style_t style,
                  rcfd_buf_t *out);
    /* Output filters (optional): the anomaly grade in [0, 1] (NAN: none), and whether the result
     * holds at least one hotspot. */
    double (*grade)(const void *result);
    int (*has_hotspots)(const void *result);
    /* Optional: 1 when the model's alert decision starts an alert at this record, else 0. */
    int (*alert)(const void *result);
    /* Optional: the record's anomaly_novelty (rcf: the score's rise against the key's earlier
     * rises, docs/rcf.md), for the min_novelty filter. */
    double (*novelty)(const void *result);
    /* Optional: the instance's slot for its key's imputation state (models/impute.h), saved last
     * in its snapshot when non-NULL; the first model of a pipeline with this hook holds it. */
    struct rcfd_impute_state **(*impute_state)(void *model);
    /* Optional: the model's estimate of values[i] for each i with missing[i] != 0, given the
     * other values and the key's history; the other values are left as they are and nothing is
     * learnt. RCFD_EAGAIN (values untouched) while it cannot estimate yet. Allocates at most once
     * per instance. */
    int (*impute)(void *model, double *values, const unsigned char *missing, size_t n);
} rcfd_model_type_t;

extern const rcfd_model_type_t rcfd_model_rcf;
extern const rcfd_model_type_t rcfd_model_forecast;
#ifdef RCFD_HAVE_HOTSPOTS
extern const rcfd_model_type_t rcfd_model_hotspots;
#endif

/* NULL-terminated list of the compiled-in model types. */
extern const rcfd_model_type_t *const rcfd_model_types[];
const rcfd_model_type_t *rcfd_model_type_find(const char *name);

/* What an output's filters look at for one scored record, folded over a pipeline's models: the
 * first model's score, the last grade and novelty any model gives, whether any has a hotspot,
 * whether any starts an alert. NAN (or alert -1) where no model of the pipeline has one: the
 * filter on it does not apply. */
typedef struct rcfd_verdict {
    double score, grade, novelty;
    int hotspots;
    int alert;
} rcfd_verdict_t;

void rcfd_models_verdict(const rcfd_model_type_t *const *types, const void *const *results,
                         size_t n_models, rcfd_verdict_t *v);

#endif
