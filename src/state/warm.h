/* Warm start: the snapshots of a pipeline's `initial_state` directory (written by `rcfd train`,
 * DIR/<key>.<type>.snap), read and loaded at start, before the loop runs, and kept by key until
 * the runtime creates that key's instance.
 *
 * Ownership: rcfd_warm_load() gives a table only rcfd_warm_destroy() frees; it owns the models it
 * holds until rcfd_warm_take() hands them over. Not thread-safe (startup, then the loop thread). */
#ifndef RCFD_STATE_WARM_H
#define RCFD_STATE_WARM_H

#include <stddef.h>

#include "config/schema.h"

typedef struct rcfd_warm rcfd_warm_t;

/* Loads every DIR/<key>.<type>.snap whose type is one of the pipeline's models with that model's
 * load(); other files are ignored. The key is the file name's prefix, percent-decoded; "_" is the
 * empty key of a pipeline without a key field. *out is NULL when initial_state is empty. Errors
 * (a missing directory, an unreadable snapshot, one whose parameters differ from the config)
 * return RCFD_ECONFIG or RCFD_EIO/RCFD_ENOMEM with a message naming the file. */
int rcfd_warm_load(const rcfd_pipeline_conf_t *conf, rcfd_warm_t **out, char *errstr,
                   size_t errstr_size);

/* Moves the key's loaded models into models[m] (n_models slots) where the snapshot had one and
 * leaves the others untouched; returns how many it moved (0 when the key has none, or had them
 * taken already: a key evicted and seen again starts cold). */
size_t rcfd_warm_take(rcfd_warm_t *w, const char *key, size_t key_len, void **models);

/* Keys loaded at start. */
size_t rcfd_warm_keys(const rcfd_warm_t *w);

void rcfd_warm_destroy(rcfd_warm_t *w);

#endif
