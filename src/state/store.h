/* Checkpoint stores: where the checkpoint of one partition (every pipeline's models of a source's
 * topic partition, and the offset they reflect) is written and read back.
 *
 *   dir    DIR/<source>.<topic>.<partition>.ckpt (+ .prev), see checkpoint.h; spilled keys in
 *          DIR/spill/<source>.<topic>.<partition>/<xx>/<hash of pipeline and key>
 *   kafka  a compacted topic: one message per (source, partition, pipeline, key) holding that
 *          key's snapshots, then a commit message listing the keys; see docs/operations.md
 *
 * Both functions block (file I/O, Kafka round trips): the state manager calls them on the
 * threadpool, one call at a time per store, never concurrently. A store owns what it allocates;
 * rcfd_store_destroy() frees it once no call is running. */
#ifndef RCFD_STATE_STORE_H
#define RCFD_STATE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "state/checkpoint.h"
#include "config/schema.h"

typedef struct rcfd_store rcfd_store_t;
struct rcfd_store {
    const char *kind;  /* "dir" or "kafka" */
    char where[512];   /* the directory or topic, for logs */
    /* Replaces the partition's checkpoint; durable when it returns 0. */
    int (*write)(rcfd_store_t *st, const rcfd_ckpt_id_t *id, uint64_t next_offset,
                 const rcfd_ckpt_entry_t *entries, size_t n, char *errstr, size_t errstr_size);
    /* The latest good checkpoint of `id` (a damaged one, one of another identity
     * (rcfd_ckpt_check_id) or one larger than max_bytes is refused): RCFD_ENOENT when there is
     * none; `warning` is non-empty when the latest one was refused and the previous one is
     * returned. RCFD_EAGAIN: the store could not be reached (try again). */
    int (*read)(rcfd_store_t *st, const rcfd_ckpt_id_t *id, uint64_t max_bytes, rcfd_ckpt_t *out,
                char *warning, size_t warning_size, char *errstr, size_t errstr_size);
    void (*destroy)(rcfd_store_t *st);
    /* Optional (the directory store): one key's snapshots beside the checkpoints, for a
     * pipeline's memory budget (keymodels.h). spill_write replaces the key's file atomically
     * (entries: one per model; their keys are ignored); spill_read returns it, refused like a
     * checkpoint when damaged or someone else's (RCFD_ENOENT: none); spill_sync makes every
     * spill written so far durable (before a checkpoint that names them). Thread-safe: any
     * number may run at once, beside write and read. */
    int (*spill_write)(rcfd_store_t *st, const rcfd_ckpt_id_t *id, const char *pipeline,
                       const char *key, size_t key_len, const rcfd_ckpt_entry_t *entries,
                       size_t n, char *errstr, size_t errstr_size);
    int (*spill_read)(rcfd_store_t *st, const rcfd_ckpt_id_t *id, const char *pipeline,
                      const char *key, size_t key_len, rcfd_ckpt_t *out, char *errstr,
                      size_t errstr_size);
    int (*spill_sync)(rcfd_store_t *st, char *errstr, size_t errstr_size);
};

/* Checks that dir is a writable directory (creating it if its parent exists). */
int rcfd_store_dir_new(const char *dir, rcfd_store_t **out, char *errstr, size_t errstr_size);

/* A producer for the state topic; bootstrap.servers defaults to `default_bootstrap` when the
 * state's rdkafka settings lack it. Nothing is contacted until the first write or read. */
int rcfd_store_kafka_new(const rcfd_state_conf_t *conf, const char *default_bootstrap,
                         rcfd_store_t **out, char *errstr, size_t errstr_size);

static inline void rcfd_store_destroy(rcfd_store_t *st)
{
    if (st != NULL) {
        st->destroy(st);
    }
}

/* "<source>.<topic>.<partition>" with bytes outside [A-Za-z0-9._-] as %XX: a file name. */
int rcfd_ckpt_id_name(const rcfd_ckpt_id_t *id, char *out, size_t size);

#endif
