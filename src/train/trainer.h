/* Trainers: one descriptor per model type (rcf, hotspots). `rcfd train` and the daemon's warm start
 * go through these; a new model type adds a train_<type>.c file and one line in rcfd_trainers[].
 *
 * Training is streaming: a trainer feeds the records, in file order and per key, through the same
 * create/process calls the daemon makes (for rcf, the daemon's own model type rcfd_model_rcf, with
 * the key's seed from rcfd_key_seed), so a snapshot of N trained records is byte for byte the
 * state the daemon's model reaches after the same N records. Models are not thread-safe. */
#ifndef RCFD_TRAIN_TRAINER_H
#define RCFD_TRAIN_TRAINER_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/conf.h"
#include "models/model.h"

/* Another spelling of a parameter: KDA's SQL argument names and SageMaker's hyperparameters. */
typedef struct rcfd_param_alias {
    const char *alias;
    const char *key; /* the name in the parameter table; NULL: checked, not stored (feature_dim) */
} rcfd_param_alias_t;

typedef struct rcfd_trainer {
    const char *name; /* the model's "type" in config */
    /* The daemon's model type when it has one (its parameter table is then the trainer's), else
     * NULL and conf/conf_size give the table: see rcfd_trainer_conf(). */
    const rcfd_model_type_t *model;
    const rcfd_conf_desc_t *conf;
    size_t conf_size;
    const rcfd_param_alias_t *aliases; /* NULL-terminated */
    int (*create)(const void *params, size_t n_fields, uint64_t key_seed, void **out, char *errstr,
                  size_t errstr_size);
    /* Scores then learns one record; the figures are NAN where the model has none. */
    int (*process)(void *model, const double *values, size_t n_values, double *score,
                   double *grade, double *threshold);
    int (*save)(const void *model, rcfd_buf_t *out);
    /* Rebuilds a model from a snapshot; its parameters must match `params` and n_fields (except
     * the seed, which the snapshot carries), else RCFD_ECONFIG naming the parameter. */
    int (*load)(const void *params, size_t n_fields, const void *buf, size_t len, void **out,
                char *errstr, size_t errstr_size);
    void (*destroy)(void *model);
    /* Reads score, grade, threshold and anomaly_novelty (NAN when the model has none) from a
     * result of the daemon's model type (NULL when the trainer has no daemon model type). */
    void (*figures)(const void *result, double *score, double *grade, double *threshold,
                    double *novelty);
} rcfd_trainer_t;

extern const rcfd_trainer_t rcfd_trainer_rcf, rcfd_trainer_hotspots, rcfd_trainer_forecast;
extern const rcfd_trainer_t *const rcfd_trainers[]; /* NULL-terminated */
const rcfd_trainer_t *rcfd_trainer_find(const char *name);

const rcfd_conf_desc_t *rcfd_trainer_conf(const rcfd_trainer_t *t);
size_t rcfd_trainer_conf_size(const rcfd_trainer_t *t);

/* The seed a key's model gets (the daemon's rule: the model's "seed" row and a hash of the key). */
uint64_t rcfd_trainer_key_seed(const rcfd_trainer_t *t, const void *params, const char *key,
                               size_t key_len);

/* Applies "name=value" to a JSON object of model parameters, translating aliases; value is a JSON
 * number, true/false, or else taken as a string. feature_dim must equal n_fields. */
int rcfd_trainer_set_param(const rcfd_trainer_t *t, void *cjson_obj, const char *assignment,
                           size_t n_fields, char *errstr, size_t errstr_size);

/* Builds the JSON object of model parameters from command-line "name=value" assignments (-p),
 * via rcfd_trainer_set_param. On success *cjson_out owns a cJSON object (cJSON_Delete). */
int rcfd_trainer_params_from_args(const rcfd_trainer_t *t, const char *const *assignments,
                                  size_t n, size_t n_fields, void **cjson_out, char *errstr,
                                  size_t errstr_size);

/* Parses the JSON object (as built by set_param) into params (conf_size bytes) with the table's
 * defaults; free with rcfd_conf_free(rcfd_trainer_conf(t), params). */
int rcfd_trainer_params(const rcfd_trainer_t *t, const void *cjson_obj, void *params,
                        char *errstr, size_t errstr_size);

/* Snapshot file of a key under a directory: DIR/<key>.<type>.snap, the key percent-encoded
 * (bytes outside [A-Za-z0-9._-]); the empty key (no key field) is "_". */
int rcfd_trainer_snapshot_path(const char *dir, const rcfd_trainer_t *t, const char *key,
                               size_t key_len, char *out, size_t out_size);

/* Reads a snapshot file and loads it with t->load. RCFD_ENOENT when the file does not exist. */
int rcfd_trainer_load_file(const rcfd_trainer_t *t, const void *params, size_t n_fields,
                           const char *path, void **out, char *errstr, size_t errstr_size);

#endif
