/* The state manager: shards, and the checkpoints that let models follow their partitions.
 *
 * A shard is one partition of a Kafka source (or a whole file source): the unit per-key models are
 * scoped to (keymodels.h) and checkpointed by. With a store (state.store, store.h):
 *
 *   - a checkpoint of a shard snapshots every pipeline's models of that shard between two records
 *     (on the loop, once the worker threads have processed every record routed so far:
 *     rcfd_runtime_quiesce), so it reflects exactly the records before `next_offset`; it is written once
 *     the outputs accepted all of those records (`delivered` reached it), so resuming from it can
 *     neither lose a record nor learn one twice. Taken every state.interval_ms for shards whose
 *     models changed, when a partition is revoked, and at a graceful stop.
 *   - when a partition is assigned, the source holds it while its checkpoint is read; the models
 *     are restored and the source resumes from the checkpoint's offset. Records read again after
 *     a crash are re-scored by the very models that scored them, so they get the same scores.
 *
 * Store calls block, so they run on the threadpool, one at a time in order (a restore waits for
 * the same partition's pending write). Without a store, models stay where they are.
 *
 * Ownership: the runtime owns the manager; shards live until rcfd_state_destroy(). Loop thread. */
#ifndef RCFD_STREAM_STATE_H
#define RCFD_STREAM_STATE_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "admin/metrics.h"

typedef struct rcfd_runtime rcfd_runtime_t;
typedef struct rcfd_state rcfd_state_t;
struct state_job;

typedef struct rcfd_shard {
    uint32_t id;
    size_t source;        /* index of the source */
    char *topic;          /* NULL for a file source */
    int32_t partition;
    int owned;            /* assigned here (file sources: always) */
    int restoring;        /* a restore is queued or running */
    int64_t next_offset;  /* after the last record routed; -1 before any */
    int64_t delivered;    /* every record before it was accepted by all outputs; -1 unknown */
    int dirty;            /* models changed since the last snapshot */
    struct state_job *pending; /* snapshot taken, waiting for `delivered` to reach its offset */
    uint64_t saved_at_ms;  /* uv_now of the last checkpoint written or restored; 0 never */
    int64_t saved_offset;  /* its offset; -1 none */
    uint64_t checkpoints, failures, restores, refused;
    uint64_t last_bytes;
} rcfd_shard_t;

int rcfd_state_new(rcfd_runtime_t *rt, rcfd_state_t **out, char *errstr, size_t errstr_size);
/* After the loop closed. */
void rcfd_state_destroy(rcfd_state_t *st);
/* Starts the periodic checkpoints (loop running). */
void rcfd_state_start(rcfd_state_t *st);
/* 1 when a store is configured. */
int rcfd_state_enabled(const rcfd_state_t *st);

/* The shard of a source partition (topic NULL: a file source), created on first use. */
int rcfd_state_shard(rcfd_state_t *st, size_t source, const char *topic, int32_t partition,
                     uint32_t *id);
rcfd_shard_t *rcfd_state_shard_get(rcfd_state_t *st, uint32_t id);

/* A partition was assigned. Returns 1 when its checkpoint is being restored: the source must not
 * route its records until rcfd_source_ops.restored() names the offset to resume from. */
int rcfd_state_assigned(rcfd_state_t *st, uint32_t id);
/* A partition was revoked: checkpoint it (when its models changed) and drop its models. */
void rcfd_state_revoked(rcfd_state_t *st, uint32_t id);

static inline void rcfd_state_routed(rcfd_shard_t *sh, int64_t offset)
{
    sh->next_offset = offset + 1;
    sh->dirty = 1;
}
/* The source's delivery watermark for the partition moved. */
void rcfd_state_delivered(rcfd_state_t *st, uint32_t id, int64_t watermark);

/* Graceful stop, once every record in flight was delivered: checkpoints every owned shard whose
 * models changed. Returns 1 and calls done(rt) later when writes are outstanding, else 0. */
int rcfd_state_flush(rcfd_state_t *st, void (*done)(rcfd_runtime_t *rt));
/* Stops the timer (before the loop's handles are closed). */
void rcfd_state_close(rcfd_state_t *st);

/* The spill hooks of the state store for a pipeline's memory budget (keymodels.h); 0 when the
 * store cannot take spills (none, or the Kafka store). Completions wake the sources. */
struct rcfd_spill_hooks;
int rcfd_state_spill_hooks(rcfd_state_t *st, struct rcfd_spill_hooks *out);

/* /metrics: checkpoint age, counts and sizes per partition. */
void rcfd_state_collect(rcfd_state_t *st, rcfd_metrics_t *m);

#endif
