/* Checkpoints: the models of one (pipeline, source partition) together with the source offset they
 * reflect, as one versioned, checksummed file in a state directory.
 *
 *   DIR/<name>.ckpt       the latest checkpoint
 *   DIR/<name>.ckpt.prev  the one before, used when the latest is damaged
 *
 * A write goes to DIR/<name>.ckpt.tmp, is fsynced, the latest becomes .prev and the new file is
 * renamed over the latest, then the directory is fsynced: a crash at any point leaves a readable
 * latest or previous checkpoint. Encoding and decoding are pure (loop thread); the file functions
 * block, so the daemon calls them from the threadpool.
 *
 * File layout (little-endian): the common snapshot envelope (kind RCFD_SNAP_KIND_CHECKPOINT,
 * version 2, CRC-32C of the payload), then: u64 next_offset; the identity: u32 length + source
 * name, u32 length + topic, u32 partition, u64 config hash, u32 length + Kafka cluster id; u32
 * n_entries, and per entry: u32 key length + key bytes, u32 type length + model type name, u64
 * snapshot length + the model snapshot (itself versioned and checksummed by its own library).
 * Version 1 (no identity) is still read; its identity counts as unknown.
 *
 * A reader refuses, like a damaged one, a checkpoint whose identity is not the partition's it
 * restores (files swapped between partitions, another pipeline configuration, another cluster),
 * and never reads more than its caller's byte cap: the envelope is checked against the file's
 * size before anything is allocated.
 *
 * Ownership: entries passed to rcfd_ckpt_encode are borrowed. A decoded checkpoint owns its
 * buffer; its entries point into it and live until rcfd_ckpt_free. Not thread-safe per object. */
#ifndef RCFD_STATE_CHECKPOINT_H
#define RCFD_STATE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

typedef struct rcfd_ckpt_entry {
    const char *key; /* not NUL-terminated in a decoded checkpoint: use key_len */
    size_t key_len;
    const char *type;
    size_t type_len;
    const void *snapshot;
    size_t snapshot_len;
} rcfd_ckpt_entry_t;

/* Whose checkpoint it is. */
typedef struct rcfd_ckpt_id {
    const char *source;   /* the source's name */
    const char *topic;
    int32_t partition;
    uint64_t config_hash; /* of the source's pipelines: names, fields, keys, models (state.c) */
    const char *cluster;  /* the Kafka cluster id; "" or NULL when unknown */
} rcfd_ckpt_id_t;

typedef struct rcfd_ckpt {
    uint64_t next_offset; /* the source offset to resume from */
    /* The identity (pointing into data, not NUL-terminated); has_id is 0 for version 1. */
    int has_id;
    const char *source, *topic, *cluster;
    size_t source_len, topic_len, cluster_len;
    int32_t partition;
    uint64_t config_hash;
    size_t n_entries;
    rcfd_ckpt_entry_t *entries;
    void *data;           /* the file's bytes */
    size_t data_len;
    int from_previous;    /* 1 if the latest file was damaged and .prev was used */
} rcfd_ckpt_t;

/* id may be NULL (an image whose identity is kept elsewhere: the Kafka store's key messages). */
int rcfd_ckpt_encode(const rcfd_ckpt_id_t *id, uint64_t next_offset,
                     const rcfd_ckpt_entry_t *entries, size_t n, rcfd_buf_t *out);

/* Parses and checks a checkpoint image, taking ownership of `data` (rcfd_malloc'd) on success. */
int rcfd_ckpt_decode(void *data, size_t len, rcfd_ckpt_t *out, char *errstr, size_t errstr_size);

/* 0 when the checkpoint is `want`'s, or carries no identity (version 1, or an empty source);
 * else RCFD_EBADSTATE with errstr saying what differs. An unknown cluster on either side is not
 * compared. */
int rcfd_ckpt_check_id(const rcfd_ckpt_t *c, const rcfd_ckpt_id_t *want, char *errstr,
                       size_t errstr_size);

/* Atomically replaces DIR/<name>.ckpt, keeping the previous one as .prev. Blocking. */
int rcfd_ckpt_write(const char *dir, const char *name, const void *data, size_t len,
                    char *errstr, size_t errstr_size);

/* Reads the latest readable checkpoint of `want` (may be NULL: any identity): DIR/<name>.ckpt,
 * or .prev if the latest is missing, truncated, corrupted, someone else's (check_id) or larger
 * than max_bytes (then `warning` says why the latest was refused and from_previous is 1).
 * RCFD_ENOENT when neither exists. Blocking. */
int rcfd_ckpt_read(const char *dir, const char *name, const rcfd_ckpt_id_t *want,
                   uint64_t max_bytes, rcfd_ckpt_t *out, char *warning, size_t warning_size,
                   char *errstr, size_t errstr_size);

/* Reads one checkpoint file as rcfd_ckpt_read does each candidate (no fallback). Blocking. */
int rcfd_ckpt_read_path(const char *path, const rcfd_ckpt_id_t *want, uint64_t max_bytes,
                        rcfd_ckpt_t *out, char *errstr, size_t errstr_size);

void rcfd_ckpt_free(rcfd_ckpt_t *c);

/* Collects the entries of a checkpoint being taken: keys and snapshots are appended to one buffer
 * (so a checkpoint is one allocation to hand to the threadpool). An entry's key is the pipeline
 * name, a NUL byte, then the record key: one checkpoint holds every pipeline of a partition.
 *
 *   rcfd_ckpt_builder_begin(b, "p", key, len, "rcf");
 *   type->save(model, &b->bytes);            // the snapshot goes straight into the buffer
 *   rcfd_ckpt_builder_end(b);
 *
 * Owns its buffers; rcfd_ckpt_builder_free releases them. */
typedef struct rcfd_ckpt_slot {
    size_t key_off, key_len;
    const char *type; /* a model type's static name */
    size_t snap_off, snap_len;
} rcfd_ckpt_slot_t;

typedef struct rcfd_ckpt_builder {
    rcfd_buf_t bytes;
    rcfd_ckpt_slot_t *v;
    size_t n, cap;
} rcfd_ckpt_builder_t;

int rcfd_ckpt_builder_begin(rcfd_ckpt_builder_t *b, const char *pipeline, const char *key,
                            size_t key_len, const char *type);
void rcfd_ckpt_builder_end(rcfd_ckpt_builder_t *b);
/* Drops the entry begun last (its snapshot could not be written). */
void rcfd_ckpt_builder_cancel(rcfd_ckpt_builder_t *b);
/* The entries, pointing into b->bytes (valid until the builder changes); free with rcfd_free. */
int rcfd_ckpt_builder_entries(const rcfd_ckpt_builder_t *b, rcfd_ckpt_entry_t **out);
void rcfd_ckpt_builder_free(rcfd_ckpt_builder_t *b);

/* The end of the run of entries from i on that share entries[i]'s key (one key's models are
 * consecutive in a checkpoint). */
size_t rcfd_ckpt_key_run_end(const rcfd_ckpt_entry_t *entries, size_t i, size_t n);

/* Splits an entry's key into the pipeline name and the record key; -1 if it has no NUL. */
int rcfd_ckpt_entry_split(const rcfd_ckpt_entry_t *e, const char **pipeline, size_t *pipeline_len,
                          const char **key, size_t *key_len);

#endif
