/* The per-key model instances of one pipeline.
 *
 * Every key's models are scoped to the shard its records come from (a Kafka partition, or a file
 * source), so that a partition's models can be checkpointed, dropped when the partition moves to
 * another daemon, and restored where it lands. The live instances sit in an LRU table capped by
 * the pipeline's max_keys. With `keep_evicted` (state store on), an evicted key's models are
 * serialized into a "kept" table instead of being lost; a kept key is loaded again when its next
 * record comes, and kept keys are part of their shard's checkpoints. Checkpoints being restored
 * land in the kept table too, so a restore costs no model loading until a key is seen.
 *
 * Ownership: the set owns its instances and kept snapshots. Pointers returned by get() stay valid
 * until the next get() or drop(). Loop thread only. */
#ifndef RCFD_STREAM_KEYMODELS_H
#define RCFD_STREAM_KEYMODELS_H

#include <stddef.h>
#include <stdint.h>

#include "state/checkpoint.h"
#include "config/schema.h"

struct rcfd_warm;
typedef struct rcfd_keymodels rcfd_keymodels_t;

typedef struct rcfd_keymodels_stats { /* all uint64_t: the metrics table copies them alike */
    uint64_t live;         /* instances in memory */
    uint64_t kept;         /* keys held as snapshots (evicted or restored, not seen since) */
    uint64_t kept_bytes;   /* their snapshot bytes */
    uint64_t created;      /* instances created fresh */
    uint64_t warm;         /* ... from initial_state */
    uint64_t restored;     /* ... from a kept snapshot */
    uint64_t evicted;      /* instances the cap evicted */
    uint64_t load_failed;  /* kept snapshots that no longer fit the config: started fresh */
} rcfd_keymodels_stats_t;

int rcfd_keymodels_new(const rcfd_pipeline_conf_t *conf, int keep_evicted,
                       rcfd_keymodels_t **out);
void rcfd_keymodels_destroy(rcfd_keymodels_t *km);

/* The models (conf->n_models of them, in config order) of `key` in `shard`: the live instance;
 * else one loaded from a kept snapshot; else one taken from `warm` (may be NULL); else new ones.
 * NULL with `reason` when out of memory. */
void **rcfd_keymodels_get(rcfd_keymodels_t *km, uint32_t shard, const char *key, size_t key_len,
                          struct rcfd_warm *warm, char *reason, size_t reason_size);

/* Appends one entry per model of every key of `shard`, live (saved now) or kept, to b. */
int rcfd_keymodels_save(rcfd_keymodels_t *km, uint32_t shard, rcfd_ckpt_builder_t *b);

/* Keeps a key's snapshots from a checkpoint (entries[0..n), one per model in config order, of
 * the types the config names) for the key's next record. RCFD_ECONFIG with errstr when they do
 * not match the pipeline's models; the key then starts fresh. */
int rcfd_keymodels_keep(rcfd_keymodels_t *km, uint32_t shard, const char *key, size_t key_len,
                        const rcfd_ckpt_entry_t *entries, size_t n, char *errstr,
                        size_t errstr_size);

/* Forgets every key of `shard` (its partition moved away). */
void rcfd_keymodels_drop(rcfd_keymodels_t *km, uint32_t shard);

void rcfd_keymodels_stats(const rcfd_keymodels_t *km, rcfd_keymodels_stats_t *out);

#endif
