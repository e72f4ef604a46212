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
 * Memory budget (the pipeline's memory_limit, 0: none): the live instances (their bytes measured
 * when created or loaded) plus the kept snapshots stay under it. Over it, the least recently used
 * kept snapshots are spilled to the state store when it can take them (rcfd_spill_hooks_t: the
 * directory store), else dropped; then live instances are evicted. A spilled key costs an index
 * entry in memory; when its next record comes, rcfd_keymodels_ready() starts reading it back and
 * the record waits (the source holds it) until rcfd_keymodels_spill_read() put it into the kept
 * table. Checkpoints name spilled keys (an entry of type RCFD_SPILL_TYPE) instead of holding their
 * snapshots. A key whose state was dropped, or whose spill could not be written or read, starts
 * fresh (counted: dropped, spill_failed).
 *
 * Ownership: the set owns its instances, kept snapshots and index. Pointers returned by get() stay
 * valid until the next get() or drop(). Not thread-safe: one thread at a time, the loop's, or (with
 * runtime.workers) the worker thread that owns the set, the loop using it only while the workers
 * are quiesced (runtime_int.h). A set with spill hooks stays on the loop thread: they start
 * loop jobs. */
#ifndef RCFD_STREAM_KEYMODELS_H
#define RCFD_STREAM_KEYMODELS_H

#include <stddef.h>
#include <stdint.h>

#include "state/checkpoint.h"
#include "config/schema.h"

/* The checkpoint entry type naming a key whose snapshots are in the spill store. */
#define RCFD_SPILL_TYPE "@spill"

struct rcfd_warm;
typedef struct rcfd_keymodels rcfd_keymodels_t;

typedef struct rcfd_keymodels_stats { /* all uint64_t: the metrics table copies them alike */
    uint64_t live;         /* instances in memory */
    uint64_t kept;         /* keys held as snapshots (evicted or restored, not seen since) */
    uint64_t kept_bytes;   /* their snapshot bytes (those being spilled included) */
    uint64_t created;      /* instances created fresh */
    uint64_t warm;         /* ... from initial_state */
    uint64_t restored;     /* ... from a kept snapshot */
    uint64_t evicted;      /* instances the cap or the budget evicted */
    uint64_t load_failed;  /* kept snapshots that no longer fit the config: started fresh */
    uint64_t live_bytes;   /* bytes of the live instances (heap and reserved, measured) */
    uint64_t spilled;      /* keys whose snapshots are only in the spill store */
    uint64_t spills;       /* snapshots written to the spill store */
    uint64_t spill_reads;  /* snapshots read back when their key returned */
    uint64_t dropped;      /* evicted states no store could take: those keys restart cold */
    uint64_t spill_failed; /* spill writes or reads that failed: those keys restart cold */
} rcfd_keymodels_stats_t;

/* How a set hands snapshots to the state store and gets them back (state.c). Each call starts
 * an asynchronous job and returns 0, or an error (nothing started). The hook copies `key` and the
 * `entries` array (one per model of the key, in config order; their key fields are the record
 * key); the snapshot bytes they point to stay valid until the set hears of the write's end. */
typedef struct rcfd_spill_hooks {
    void *ud;
    int (*write)(void *ud, rcfd_keymodels_t *km, uint32_t shard, const char *key, size_t key_len,
                 const rcfd_ckpt_entry_t *entries, size_t n, uint64_t token);
    int (*read)(void *ud, rcfd_keymodels_t *km, uint32_t shard, const char *key, size_t key_len,
                uint64_t token);
    size_t max_writes; /* spill writes in flight at most */
} rcfd_spill_hooks_t;

/* A set holds one of `parts` slices of the pipeline's keys (runtime.workers: one per worker
 * thread): its cap and budget are max_keys / parts and memory_limit / parts, rounded up. */
int rcfd_keymodels_new(const rcfd_pipeline_conf_t *conf, int keep_evicted, size_t parts,
                       rcfd_keymodels_t **out);
void rcfd_keymodels_destroy(rcfd_keymodels_t *km);
/* The spill store (NULL: none, over-budget kept snapshots are dropped). */
void rcfd_keymodels_set_spill(rcfd_keymodels_t *km, const rcfd_spill_hooks_t *hooks);
const rcfd_pipeline_conf_t *rcfd_keymodels_conf(const rcfd_keymodels_t *km);

/* Whether a record of `key` can be processed now: 0 when its snapshot is being read back from the
 * spill store (the read is started here if needed), or when the budget is exceeded and only
 * spill writes in flight can bring it back; the caller holds the record until the set's hooks
 * report a completion. Always 1 without a budget or spilled keys. */
int rcfd_keymodels_ready(rcfd_keymodels_t *km, uint32_t shard, const char *key, size_t key_len);

/* The models (conf->n_models of them, in config order) of `key` in `shard`: the live instance;
 * else one loaded from a kept snapshot; else one taken from `warm` (may be NULL); else new ones.
 * NULL with `reason` when out of memory (or, without a prior ready(), the key is spilled). */
void **rcfd_keymodels_get(rcfd_keymodels_t *km, uint32_t shard, const char *key, size_t key_len,
                          struct rcfd_warm *warm, char *reason, size_t reason_size);

/* The models that rcfd_keymodels_get returned grew (or shrank) by `delta` bytes since: a model
 * that allocates after its creation (the rcf model's forest, built once an automatic shingle size
 * is chosen) stays counted against the budget, which is enforced at the next new key. */
void rcfd_keymodels_grew(rcfd_keymodels_t *km, void **models, int64_t delta);

/* Appends one entry per model of every key of `shard`, live (saved now) or kept, and one
 * RCFD_SPILL_TYPE entry per spilled key, to b. */
int rcfd_keymodels_save(rcfd_keymodels_t *km, uint32_t shard, rcfd_ckpt_builder_t *b);

/* Keeps a key's snapshots from a checkpoint (entries[0..n), one per model in config order, of
 * the types the config names; or one RCFD_SPILL_TYPE entry) for the key's next record.
 * RCFD_ECONFIG with errstr when they do not match the pipeline's models; the key then starts
 * fresh. Call rcfd_keymodels_enforce() after a batch of them. */
int rcfd_keymodels_keep(rcfd_keymodels_t *km, uint32_t shard, const char *key, size_t key_len,
                        const rcfd_ckpt_entry_t *entries, size_t n, char *errstr,
                        size_t errstr_size);

/* Brings the set under its budget (spills, drops, evictions). */
void rcfd_keymodels_enforce(rcfd_keymodels_t *km);

/* The ends of spill jobs (loop thread): a write (rc 0: the store holds the snapshot), a read
 * (rc 0: entries hold the key's snapshots, copied here). */
void rcfd_keymodels_spill_written(rcfd_keymodels_t *km, uint32_t shard, const char *key,
                                  size_t key_len, uint64_t token, int rc);
void rcfd_keymodels_spill_read(rcfd_keymodels_t *km, uint32_t shard, const char *key,
                               size_t key_len, uint64_t token, int rc,
                               const rcfd_ckpt_entry_t *entries, size_t n);

/* Forgets every key of `shard` (its partition moved away). */
void rcfd_keymodels_drop(rcfd_keymodels_t *km, uint32_t shard);

void rcfd_keymodels_stats(const rcfd_keymodels_t *km, rcfd_keymodels_stats_t *out);

#endif
