#include "stream/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/errstr.h"
#include "common/keytab.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "stream/keymodels.h"
#include "common/log.h"
#include "stream/runtime_int.h"
#include "state/store.h"

#define COMP "state"
#define RETRY_MS 1000

enum { JOB_WRITE, JOB_READ };

typedef struct state_job {
    uv_work_t work;
    struct state_job *next;
    rcfd_state_t *st;
    uint32_t shard;
    int kind;
    int64_t offset;            /* write: the checkpoint's offset */
    int sync_spills;           /* write: it names spilled keys, whose files must be durable */
    rcfd_ckpt_builder_t b;     /* write: the snapshots */
    rcfd_ckpt_t ck;            /* read: what the store returned */
    int rc;
    int refused;               /* read: checkpoints refused (damaged, foreign, out of range) */
    char err[1024], warn[1024];
} state_job_t;

struct rcfd_state {
    rcfd_runtime_t *rt;
    rcfd_store_t *store;
    uint64_t *config_hash; /* per source: what its checkpoints' identity carries */
    rcfd_shard_t **shards;
    size_t n_shards, cap_shards;
    state_job_t *head, *tail; /* queued jobs; head runs when `running` */
    int running;
    uv_timer_t timer, retry;
    int timer_open;
    int closed; /* the loop's handles are closing: no new jobs, no callbacks */
    void (*flush_done)(rcfd_runtime_t *rt);
};

/* ---- shards ---- */

int rcfd_state_shard(rcfd_state_t *st, size_t source, const char *topic, int32_t partition,
                     uint32_t *id)
{
    for (size_t i = 0; i < st->n_shards; i++) {
        rcfd_shard_t *sh = st->shards[i];
        if (sh->source == source && sh->partition == partition &&
            (topic == NULL ? sh->topic == NULL
                           : sh->topic != NULL && strcmp(sh->topic, topic) == 0)) {
            *id = sh->id;
            return 0;
        }
    }
    if (st->n_shards == st->cap_shards) {
        size_t cap = st->cap_shards ? st->cap_shards * 2 : 16;
        rcfd_shard_t **v = rcfd_realloc(st->shards, cap * sizeof *v);
        if (v == NULL) {
            return RCFD_ENOMEM;
        }
        st->shards = v;
        st->cap_shards = cap;
    }
    rcfd_shard_t *sh = rcfd_calloc(1, sizeof *sh);
    if (sh == NULL || (topic != NULL && (sh->topic = rcfd_strdup(topic)) == NULL)) {
        rcfd_free(sh);
        return RCFD_ENOMEM;
    }
    sh->id = (uint32_t)st->n_shards;
    sh->source = source;
    sh->partition = partition;
    sh->owned = topic == NULL;
    sh->next_offset = sh->delivered = sh->saved_offset = -1;
    st->shards[st->n_shards++] = sh;
    *id = sh->id;
    return 0;
}

rcfd_shard_t *rcfd_state_shard_get(rcfd_state_t *st, uint32_t id)
{
    return id < st->n_shards ? st->shards[id] : NULL;
}

int rcfd_state_enabled(const rcfd_state_t *st)
{
    return st->store != NULL;
}

static const char *source_name(rcfd_state_t *st, const rcfd_shard_t *sh)
{
    return st->rt->sources[sh->source].conf->name;
}

/* ---- the job queue: one store call at a time, in order ---- */

static void pump(rcfd_state_t *st);

static void job_free(state_job_t *j)
{
    rcfd_ckpt_builder_free(&j->b);
    rcfd_ckpt_free(&j->ck);
    rcfd_free(j);
}

/* A restored checkpoint must resume inside its partition: an offset past the end (another
 * cluster's state, a forged file) would skip records, one before the start names records that
 * are gone. The checkpoint is then refused and the partition replayed from the committed offset. */
static void check_bounds(state_job_t *j, rcfd_source_t *src, const rcfd_shard_t *sh, int timeout)
{
    int64_t lo = -1, hi = -1;
    if (src->ops->bounds(src, sh->topic, sh->partition, &lo, &hi, timeout) != 0) {
        rcfd_ckpt_free(&j->ck);
        j->rc = rcfd_errf(RCFD_EAGAIN, j->err, sizeof j->err,
                          "cannot read the partition's offsets to check the checkpoint against");
        return;
    }
    uint64_t at = j->ck.next_offset;
    if (lo < 0 || hi < 0 || at < (uint64_t)lo || at > (uint64_t)hi) {
        j->rc = rcfd_errf(RCFD_EBADSTATE, j->err, sizeof j->err,
                          "%sthe checkpoint resumes at offset %llu, outside the partition's "
                          "offsets [%lld, %lld]",
                          j->ck.from_previous ? "the latest is refused and " : "",
                          (unsigned long long)at, (long long)lo, (long long)hi);
        rcfd_ckpt_free(&j->ck);
        j->refused++;
    }
}

static void run_job(uv_work_t *w)
{
    state_job_t *j = w->data;
    rcfd_state_t *st = j->st;
    rcfd_shard_t *sh = st->shards[j->shard];
    rcfd_source_t *src = &st->rt->sources[sh->source];
    int timeout = (int)st->rt->cfg->state.kafka_timeout_ms;
    char cluster[128] = "";
    if (src->ops->cluster_id != NULL) {
        src->ops->cluster_id(src, cluster, sizeof cluster, timeout);
    }
    rcfd_ckpt_id_t id = {source_name(st, sh), sh->topic, sh->partition,
                         st->config_hash[sh->source], cluster};
    j->err[0] = j->warn[0] = '\0';
    j->refused = 0;
    if (j->kind == JOB_WRITE) {
        rcfd_ckpt_entry_t *entries = NULL;
        j->rc = rcfd_ckpt_builder_entries(&j->b, &entries);
        if (j->rc == 0 && j->sync_spills && st->store->spill_sync != NULL) {
            j->rc = st->store->spill_sync(st->store, j->err, sizeof j->err);
        }
        if (j->rc == 0) {
            j->rc = st->store->write(st->store, &id, (uint64_t)j->offset, entries, j->b.n, j->err,
                                     sizeof j->err);
        }
        rcfd_free(entries);
    } else {
        j->rc = st->store->read(st->store, &id, (uint64_t)st->rt->cfg->state.max_checkpoint_bytes,
                                &j->ck, j->warn, sizeof j->warn, j->err, sizeof j->err);
        j->refused = j->warn[0] != '\0';
        if (j->rc != 0 && j->rc != RCFD_ENOENT && j->rc != RCFD_EAGAIN && j->rc != RCFD_ENOMEM) {
            j->refused++;
        }
        if (j->rc == 0 && src->ops->bounds != NULL) {
            check_bounds(j, src, sh, timeout);
        }
    }
}

static void enqueue(rcfd_state_t *st, state_job_t *j)
{
    if (st->closed) {
        job_free(j);
        return;
    }
    j->next = NULL;
    if (st->tail != NULL) {
        st->tail->next = j;
    } else {
        st->head = j;
    }
    st->tail = j;
    pump(st);
}

static void queue_restore(rcfd_state_t *st, rcfd_shard_t *sh)
{
    state_job_t *j = rcfd_calloc(1, sizeof *j);
    if (j == NULL) {
        RCFD_LOG(RCFD_LOG_ERROR, COMP, "out of memory queueing a restore");
        return;
    }
    j->st = st;
    j->shard = sh->id;
    j->kind = JOB_READ;
    enqueue(st, j);
}

/* Jobs queued or snapshots waiting for deliveries. */
static int busy(const rcfd_state_t *st)
{
    for (size_t i = 0; st->head == NULL && i < st->n_shards; i++) {
        if (st->shards[i]->pending != NULL) {
            return 1;
        }
    }
    return st->head != NULL;
}

static void maybe_flush_done(rcfd_state_t *st)
{
    if (st->flush_done == NULL || busy(st)) {
        return;
    }
    void (*done)(rcfd_runtime_t *) = st->flush_done;
    st->flush_done = NULL;
    done(st->rt);
}

/* Forgets the shard's keys in every key set of its source's pipelines. */
static void drop_shard(rcfd_runtime_t *rt, const rcfd_shard_t *sh)
{
    rcfd_runtime_quiesce(rt);
    for (size_t k = 0; k < rt->n_pipelines; k++) {
        rcfd_pipeline_t *p = &rt->pipelines[k];
        for (size_t w = 0; p->conf->source_index == sh->source && w < p->n_sets; w++) {
            rcfd_keymodels_drop(p->sets[w], sh->id);
        }
    }
}

/* Hands the restored models to the pipelines of the shard's source. */
static void install(rcfd_state_t *st, rcfd_shard_t *sh, const rcfd_ckpt_t *ck)
{
    rcfd_runtime_t *rt = st->rt;
    size_t kept = 0, refused = 0;
    rcfd_runtime_quiesce(rt); /* the key sets belong to the workers otherwise */
    for (size_t i = 0, j; i < ck->n_entries; i = j) {
        const rcfd_ckpt_entry_t *e = &ck->entries[i];
        j = rcfd_ckpt_key_run_end(ck->entries, i, ck->n_entries);
        const char *pname, *key;
        size_t plen, klen;
        if (rcfd_ckpt_entry_split(e, &pname, &plen, &key, &klen) != 0) {
            refused++;
            continue;
        }
        if (plen == 0) {
            continue; /* the source's position (no pipeline has an empty name) */
        }
        rcfd_pipeline_t *p = NULL;
        for (size_t k = 0; k < rt->n_pipelines; k++) {
            const rcfd_pipeline_conf_t *pc = rt->pipelines[k].conf;
            if (pc->source_index == sh->source && strlen(pc->name) == plen &&
                memcmp(pc->name, pname, plen) == 0) {
                p = &rt->pipelines[k];
            }
        }
        char err[256];
        if (p == NULL) {
            refused++;
            continue; /* a pipeline removed from the config since */
        }
        rcfd_keymodels_t *km = p->sets[rcfd_runtime_set_of(rt, sh->id, key, klen)];
        if (rcfd_keymodels_keep(km, sh->id, key, klen, e, j - i, err, sizeof err) != 0) {
            if (refused++ == 0) {
                RCFD_LOG(RCFD_LOG_WARN, COMP, "%s[%d]: pipeline %s: %s; such keys start fresh",
                         sh->topic, (int)sh->partition, p->conf->name, err);
            }
            continue;
        }
        kept++;
    }
    for (size_t k = 0; k < rt->n_pipelines; k++) {
        for (size_t w = 0; rt->pipelines[k].conf->source_index == sh->source &&
                           w < rt->pipelines[k].n_sets;
             w++) {
            rcfd_keymodels_enforce(rt->pipelines[k].sets[w]); /* a restore may be over budget */
        }
    }
    RCFD_LOG(RCFD_LOG_INFO, COMP,
             "%s %s[%d]: restored %zu keys at offset %llu%s%s", source_name(st, sh), sh->topic,
             (int)sh->partition, kept, (unsigned long long)ck->next_offset,
             refused ? ", refused " : "", refused ? "some keys (see above)" : "");
}

static void on_retry(uv_timer_t *t)
{
    pump(t->data);
}

static void job_done(uv_work_t *w, int status)
{
    state_job_t *j = w->data;
    rcfd_state_t *st = j->st;
    rcfd_shard_t *sh = st->shards[j->shard];
    rcfd_runtime_t *rt = st->rt;
    rcfd_source_t *src = &rt->sources[sh->source];
    st->running = 0;
    if (status != 0) {
        j->rc = status;
        snprintf(j->err, sizeof j->err, "%s", uv_strerror(status));
    }
    int retry = j->rc == RCFD_EAGAIN && !rt->stopping && !st->closed;
    if (retry) {
        RCFD_LOG(RCFD_LOG_ERROR, COMP, "%s %s[%d]: %s %s: %s; retrying in %d ms",
                 source_name(st, sh), sh->topic, (int)sh->partition,
                 j->kind == JOB_WRITE ? "checkpoint to" : "restore from", st->store->where, j->err,
                 RETRY_MS);
        uv_timer_start(&st->retry, on_retry, RETRY_MS, 0);
        return; /* stays at the head of the queue */
    }
    st->head = j->next;
    if (st->head == NULL) {
        st->tail = NULL;
    }
    if (j->kind == JOB_WRITE) {
        if (j->rc == 0) {
            sh->checkpoints++;
            sh->saved_at_ms = uv_now(&rt->loop);
            sh->saved_offset = j->offset;
            sh->last_bytes = j->b.bytes.len;
            RCFD_LOG(RCFD_LOG_DEBUG, COMP, "%s %s[%d]: checkpoint at offset %lld, %zu entries",
                     source_name(st, sh), sh->topic, (int)sh->partition, (long long)j->offset,
                     j->b.n);
        } else {
            sh->failures++;
            sh->dirty = 1; /* try again at the next interval */
            RCFD_LOG(RCFD_LOG_ERROR, COMP, "%s %s[%d]: checkpoint to %s failed: %s",
                     source_name(st, sh), sh->topic, (int)sh->partition, st->store->where,
                     j->err);
        }
    } else {
        sh->restoring = 0;
        sh->refused += (uint64_t)j->refused;
        int64_t resume = -1;
        if (j->warn[0] != '\0' && sh->owned && !st->closed) {
            RCFD_LOG(RCFD_LOG_WARN, COMP, "%s %s[%d]: %s", source_name(st, sh), sh->topic,
                     (int)sh->partition, j->warn);
        }
        if (!sh->owned || st->closed) {
            /* revoked while restoring, or stopping: nothing to install */
        } else if (j->rc == 0) {
            drop_shard(rt, sh);
            install(st, sh, &j->ck);
            resume = (int64_t)j->ck.next_offset;
            sh->restores++;
            sh->saved_at_ms = uv_now(&rt->loop);
            sh->saved_offset = sh->next_offset = sh->delivered = resume;
            sh->dirty = 0;
        } else if (j->rc == RCFD_ENOENT) {
            RCFD_LOG(RCFD_LOG_INFO, COMP, "%s %s[%d]: no checkpoint in %s: models start fresh",
                     source_name(st, sh), sh->topic, (int)sh->partition, st->store->where);
        } else {
            RCFD_LOG(RCFD_LOG_ERROR, COMP,
                     "%s %s[%d]: no usable checkpoint in %s (%s): models start fresh from the "
                     "committed offset (rcfd_checkpoints_refused_total counts it)",
                     source_name(st, sh), sh->topic, (int)sh->partition, st->store->where,
                     j->err);
        }
        if (sh->owned && !st->closed && src->ops->restored_position != NULL) {
            const void *pos = NULL;
            size_t pos_len = 0;
            for (size_t i = 0; j->rc == 0 && i < j->ck.n_entries; i++) {
                const rcfd_ckpt_entry_t *e = &j->ck.entries[i];
                if (e->key_len == 1 && e->key[0] == '\0') {
                    pos = e->snapshot;
                    pos_len = e->snapshot_len;
                }
            }
            src->ops->restored_position(src, sh->id, resume, pos, pos_len);
        } else if (sh->owned && !st->closed && src->ops->restored != NULL) {
            src->ops->restored(src, sh->id, resume);
        }
    }
    job_free(j);
    pump(st);
    maybe_flush_done(st);
}

static void pump(rcfd_state_t *st)
{
    if (st->closed || st->running || st->head == NULL ||
        uv_is_active((uv_handle_t *)&st->retry)) {
        return;
    }
    state_job_t *j = st->head;
    j->work.data = j;
    if (uv_queue_work(&st->rt->loop, &j->work, run_job, job_done) == 0) {
        st->running = 1;
    }
}

/* ---- checkpoints ---- */

/* Snapshots the shard's models now; the write waits until every record before the snapshot was
 * delivered. An older snapshot still waiting is kept (it will be writable sooner). */
static void snapshot(rcfd_state_t *st, rcfd_shard_t *sh)
{
    rcfd_runtime_t *rt = st->rt;
    if (!sh->dirty || sh->pending != NULL || sh->next_offset < 0 || sh->topic == NULL) {
        return;
    }
    state_job_t *j = rcfd_calloc(1, sizeof *j);
    if (j == NULL) {
        RCFD_LOG(RCFD_LOG_ERROR, COMP, "out of memory taking a checkpoint");
        return;
    }
    j->st = st;
    j->shard = sh->id;
    j->kind = JOB_WRITE;
    j->offset = sh->next_offset;
    int rc = 0;
    /* Every record routed before next_offset has been learned once the workers are quiet: the
     * snapshot is of exactly those records. */
    rcfd_runtime_quiesce(rt);
    for (size_t k = 0; rc == 0 && k < rt->n_pipelines; k++) {
        rcfd_pipeline_t *p = &rt->pipelines[k];
        for (size_t w = 0; rc == 0 && p->conf->source_index == sh->source && w < p->n_sets; w++) {
            rc = rcfd_keymodels_save(p->sets[w], sh->id, &j->b);
        }
    }
    rcfd_source_t *src = &rt->sources[sh->source];
    if (rc == 0 && src->ops->position != NULL &&
        (rc = rcfd_ckpt_builder_begin(&j->b, "", "", 0, "position")) == 0) {
        /* the key "" of pipeline "": an entry no pipeline can have */
        rc = src->ops->position(src, sh->id, j->offset, &j->b.bytes);
        if (rc == 0) {
            rcfd_ckpt_builder_end(&j->b);
        } else {
            rcfd_ckpt_builder_cancel(&j->b);
        }
    }
    if (rc != 0) {
        RCFD_LOG(RCFD_LOG_ERROR, COMP, "%s[%d]: cannot snapshot the models: %s", sh->topic,
                 (int)sh->partition, rcfd_strerror(rc));
        sh->failures++;
        job_free(j);
        return;
    }
    sh->dirty = 0;
    for (size_t i = 0; i < j->b.n && !j->sync_spills; i++) {
        j->sync_spills = strcmp(j->b.v[i].type, RCFD_SPILL_TYPE) == 0;
    }
    if (sh->delivered >= j->offset) {
        enqueue(st, j);
    } else {
        sh->pending = j;
    }
}

/* Every partition held here whose models changed (periodic, and at a graceful stop). */
static void snapshot_owned(rcfd_state_t *st)
{
    for (size_t i = 0; i < st->n_shards; i++) {
        if (st->shards[i]->owned && !st->shards[i]->restoring) {
            snapshot(st, st->shards[i]);
        }
    }
}

void rcfd_state_delivered(rcfd_state_t *st, uint32_t id, int64_t watermark)
{
    rcfd_shard_t *sh = st->shards[id];
    sh->delivered = watermark;
    if (sh->pending != NULL && watermark >= sh->pending->offset) {
        state_job_t *j = sh->pending;
        sh->pending = NULL;
        enqueue(st, j);
        if (sh->restoring) {
            queue_restore(st, sh);
        }
    }
}

int rcfd_state_assigned(rcfd_state_t *st, uint32_t id)
{
    rcfd_shard_t *sh = st->shards[id];
    sh->owned = 1;
    if (st->store == NULL) {
        return 0;
    }
    sh->restoring = 1;
    /* The partition's last checkpoint may still be waiting for deliveries (revoked just
     * before): the restore is queued behind its write when it goes (the queue is in order). */
    if (sh->pending == NULL) {
        queue_restore(st, sh);
    }
    return 1;
}

void rcfd_state_revoked(rcfd_state_t *st, uint32_t id)
{
    rcfd_shard_t *sh = st->shards[id];
    sh->owned = 0;
    if (st->store == NULL) {
        return; /* nowhere to move them: the models stay, and serve the partition if it returns */
    }
    snapshot(st, sh);
    drop_shard(st->rt, sh);
}

static void on_timer(uv_timer_t *t)
{
    snapshot_owned(t->data);
}

int rcfd_state_flush(rcfd_state_t *st, void (*done)(rcfd_runtime_t *rt))
{
    if (st->store == NULL) {
        return 0;
    }
    snapshot_owned(st);
    if (!busy(st)) {
        return 0;
    }
    st->flush_done = done;
    return 1;
}

/* ---- spills: a pipeline's evicted snapshots over its memory budget ---- */

/* Spill jobs run on the threadpool beside the checkpoint queue, several at once (the dir store's
 * spill calls are thread-safe); keymodels.c never starts two for one key. */
typedef struct spill_job {
    uv_work_t work;
    rcfd_state_t *st;
    rcfd_keymodels_t *km;
    uint32_t shard;
    int write;
    uint64_t token;
    char *key;
    size_t key_len;
    rcfd_ckpt_entry_t *entries; /* write: a copy of the array; the snapshots are borrowed */
    size_t n;
    rcfd_ckpt_t ck; /* read */
    int rc;
    char err[512];
} spill_job_t;

static void spill_run(uv_work_t *w)
{
    spill_job_t *j = w->data;
    rcfd_state_t *st = j->st;
    rcfd_shard_t *sh = st->shards[j->shard];
    /* No cluster id: the source caches it for the checkpoint queue, one job at a time. */
    rcfd_ckpt_id_t id = {source_name(st, sh), sh->topic, sh->partition,
                         st->config_hash[sh->source], ""};
    const char *pipeline = rcfd_keymodels_conf(j->km)->name;
    j->err[0] = '\0';
    if (j->write) {
        j->rc = st->store->spill_write(st->store, &id, pipeline, j->key, j->key_len, j->entries,
                                       j->n, j->err, sizeof j->err);
    } else {
        j->rc = st->store->spill_read(st->store, &id, pipeline, j->key, j->key_len, &j->ck,
                                      j->err, sizeof j->err);
    }
}

static void spill_done(uv_work_t *w, int status)
{
    spill_job_t *j = w->data;
    rcfd_state_t *st = j->st;
    if (status != 0 && j->rc == 0) {
        j->rc = status;
    }
    if (j->rc != 0 && j->err[0] != '\0') {
        RCFD_LOG(RCFD_LOG_WARN, COMP, "spill %s: %s", j->write ? "write" : "read", j->err);
    }
    if (j->write) {
        rcfd_keymodels_spill_written(j->km, j->shard, j->key, j->key_len, j->token, j->rc);
    } else {
        rcfd_keymodels_spill_read(j->km, j->shard, j->key, j->key_len, j->token, j->rc,
                                  j->ck.entries, j->ck.n_entries);
    }
    rcfd_ckpt_free(&j->ck);
    rcfd_free(j->entries);
    rcfd_free(j->key);
    rcfd_free(j);
    if (!st->closed) {
        rcfd_runtime_wake(st->rt); /* records waiting for a read, or for room, go on */
    }
}

static int spill_start(rcfd_state_t *st, rcfd_keymodels_t *km, uint32_t shard, const char *key,
                       size_t key_len, const rcfd_ckpt_entry_t *entries, size_t n, int write,
                       uint64_t token)
{
    if (st->closed) {
        return RCFD_ECLOSED;
    }
    spill_job_t *j = rcfd_calloc(1, sizeof *j);
    if (j == NULL || (j->key = rcfd_malloc(key_len ? key_len : 1)) == NULL ||
        (write && (j->entries = rcfd_calloc(n ? n : 1, sizeof *j->entries)) == NULL)) {
        if (j != NULL) {
            rcfd_free(j->key);
        }
        rcfd_free(j);
        return RCFD_ENOMEM;
    }
    memcpy(j->key, key, key_len);
    j->key_len = key_len;
    if (write) {
        memcpy(j->entries, entries, n * sizeof *entries);
    }
    j->st = st;
    j->km = km;
    j->shard = shard;
    j->write = write;
    j->n = n;
    j->token = token;
    j->work.data = j;
    int rc = uv_queue_work(&st->rt->loop, &j->work, spill_run, spill_done);
    if (rc != 0) {
        rcfd_free(j->entries);
        rcfd_free(j->key);
        rcfd_free(j);
    }
    return rc;
}

static int hook_write(void *ud, rcfd_keymodels_t *km, uint32_t shard, const char *key,
                      size_t key_len, const rcfd_ckpt_entry_t *entries, size_t n, uint64_t token)
{
    return spill_start(ud, km, shard, key, key_len, entries, n, 1, token);
}

static int hook_read(void *ud, rcfd_keymodels_t *km, uint32_t shard, const char *key,
                     size_t key_len, uint64_t token)
{
    return spill_start(ud, km, shard, key, key_len, NULL, 0, 0, token);
}

int rcfd_state_spill_hooks(rcfd_state_t *st, rcfd_spill_hooks_t *out)
{
    if (st->store == NULL || st->store->spill_write == NULL) {
        return 0;
    }
    /* Half the threadpool at most, so checkpoints and file outputs keep theirs. */
    *out = (rcfd_spill_hooks_t){.ud = st, .write = hook_write, .read = hook_read, .max_writes = 2};
    return 1;
}

/* ---- lifecycle ---- */

static const char *first_bootstrap(const rcfd_config_t *cfg)
{
    for (size_t i = 0; i < cfg->n_sources; i++) {
        const rcfd_kv_t *kv = &cfg->sources[i].rdkafka;
        for (size_t k = 0; cfg->sources[i].type == RCFD_SOURCE_KAFKA && k < kv->n; k++) {
            if (strcmp(kv->keys[k], "bootstrap.servers") == 0 ||
                strcmp(kv->keys[k], "metadata.broker.list") == 0) {
                return kv->vals[k];
            }
        }
    }
    return NULL;
}

/* What a source's checkpoints are valid for: every pipeline reading it, with its fields, key and
 * models' parameters (FNV-1a of their canonical text). */
static uint64_t config_hash(const rcfd_config_t *cfg, size_t source)
{
    rcfd_buf_t b = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < cfg->n_pipelines; i++) {
        const rcfd_pipeline_conf_t *p = &cfg->pipelines[i];
        if (p->source_index != source) {
            continue;
        }
        rc = rcfd_buf_printf(&b, "pipeline %s\nkey %s\n", p->name, p->key);
        for (size_t f = 0; rc == 0 && f < p->fields.n; f++) {
            rc = rcfd_buf_printf(&b, "field %s\n", p->fields.v[f]);
        }
        for (size_t m = 0; rc == 0 && m < p->n_models; m++) {
            cJSON *o = cJSON_CreateObject();
            char *txt = NULL;
            if (o == NULL || rcfd_conf_emit(p->models[m].type->conf, p->models[m].params, o) != 0 ||
                (txt = cJSON_PrintUnformatted(o)) == NULL) {
                rc = RCFD_ENOMEM;
            } else {
                rc = rcfd_buf_printf(&b, "model %s %s\n", p->models[m].type->name, txt);
            }
            cJSON_free(txt);
            cJSON_Delete(o);
        }
    }
    uint64_t h = rc == 0 ? rcfd_hash(b.p != NULL ? b.p : "", b.len) : 0;
    rcfd_buf_free(&b);
    return h;
}

int rcfd_state_new(rcfd_runtime_t *rt, rcfd_state_t **out, char *errstr, size_t es)
{
    *out = NULL;
    rcfd_state_t *st = rcfd_calloc(1, sizeof *st);
    if (st == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    st->rt = rt;
    const rcfd_config_t *cfg = rt->cfg;
    const rcfd_state_conf_t *c = &cfg->state;
    st->config_hash = rcfd_calloc(cfg->n_sources ? cfg->n_sources : 1, sizeof *st->config_hash);
    if (st->config_hash == NULL) {
        rcfd_free(st);
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    for (size_t i = 0; i < cfg->n_sources; i++) {
        st->config_hash[i] = config_hash(cfg, i);
    }
    int has_kafka = 0; /* a source with positions to checkpoint: Kafka or Kinesis */
    for (size_t i = 0; i < cfg->n_sources; i++) {
        has_kafka |= cfg->sources[i].type != RCFD_SOURCE_FILE;
    }
    int rc = 0;
    if (c->store == RCFD_STORE_DIR && has_kafka) {
        const char *dir = c->dir[0] != '\0' ? c->dir : getenv("STATE_DIRECTORY");
        if (dir != NULL && dir[0] != '\0') {
            char first[512]; /* systemd lists several StateDirectory= paths with ':' */
            snprintf(first, sizeof first, "%.*s", (int)strcspn(dir, ":"), dir);
            char why[768];
            if ((rc = rcfd_store_dir_new(first, &st->store, why, sizeof why)) != 0) {
                rcfd_errf(rc == RCFD_ENOMEM ? rc : RCFD_ECONFIG, errstr, es, "state.dir: %s", why);
                rc = rc == RCFD_ENOMEM ? rc : RCFD_ECONFIG;
            }
        } else {
            RCFD_LOG(RCFD_LOG_INFO, COMP,
                     "state is off (no state.dir and no $STATE_DIRECTORY): models are not "
                     "checkpointed");
        }
    } else if (c->store == RCFD_STORE_KAFKA && has_kafka) {
        char why[768];
        if ((rc = rcfd_store_kafka_new(c, first_bootstrap(cfg), &st->store, why, sizeof why)) !=
            0) {
            rcfd_errf(rc, errstr, es, "%s", why);
        }
    }
    if (rc != 0) {
        rcfd_free(st->config_hash);
        rcfd_free(st);
        return rc;
    }
    uv_timer_init(&rt->loop, &st->timer);
    uv_timer_init(&rt->loop, &st->retry);
    st->timer.data = st->retry.data = st;
    st->timer_open = 1;
    if (st->store != NULL) {
        RCFD_LOG(RCFD_LOG_INFO, COMP, "checkpoints every %lld ms to %s %s",
                 (long long)c->interval_ms, st->store->kind, st->store->where);
    }
    *out = st;
    return 0;
}

void rcfd_state_start(rcfd_state_t *st)
{
    if (st->store != NULL) {
        uint64_t ms = (uint64_t)st->rt->cfg->state.interval_ms;
        uv_timer_start(&st->timer, on_timer, ms, ms);
    }
}

void rcfd_state_close(rcfd_state_t *st)
{
    if (st != NULL && st->timer_open) {
        st->closed = 1;
        uv_timer_stop(&st->timer);
        uv_timer_stop(&st->retry);
    }
}

void rcfd_state_destroy(rcfd_state_t *st)
{
    if (st == NULL) {
        return;
    }
    while (st->head != NULL) { /* only when the loop stopped with jobs queued (a failure) */
        state_job_t *j = st->head;
        st->head = j->next;
        job_free(j);
    }
    for (size_t i = 0; i < st->n_shards; i++) {
        if (st->shards[i]->pending != NULL) {
            job_free(st->shards[i]->pending);
        }
        rcfd_free(st->shards[i]->topic);
        rcfd_free(st->shards[i]);
    }
    rcfd_free(st->shards);
    rcfd_store_destroy(st->store);
    rcfd_free(st->config_hash);
    rcfd_free(st);
}

void rcfd_state_collect(rcfd_state_t *st, rcfd_metrics_t *m)
{
    uint64_t now = uv_now(&st->rt->loop);
    for (size_t i = 0; st->store != NULL && i < st->n_shards; i++) {
        rcfd_shard_t *sh = st->shards[i];
        if (sh->topic == NULL) {
            continue;
        }
        char part[16];
        snprintf(part, sizeof part, "%d", (int)sh->partition);
        const char *src = source_name(st, sh);
#define LABELS "source", src, "topic", sh->topic, "partition", part, NULL
        if (sh->owned && sh->saved_at_ms != 0) {
            rcfd_metric_set(rcfd_metrics_gauge(m, "rcfd_checkpoint_age_seconds",
                                               "Seconds since the partition's models were last "
                                               "checkpointed (or restored).",
                                               LABELS),
                            (double)(now - sh->saved_at_ms) / 1000.0);
        }
        rcfd_metric_set(rcfd_metrics_counter(m, "rcfd_checkpoints_total",
                                             "Checkpoints written.", LABELS),
                        (double)sh->checkpoints);
        rcfd_metric_set(rcfd_metrics_counter(m, "rcfd_checkpoint_failures_total",
                                             "Checkpoints that could not be taken or written.",
                                             LABELS),
                        (double)sh->failures);
        rcfd_metric_set(rcfd_metrics_counter(m, "rcfd_restores_total",
                                             "Checkpoints restored on assignment.", LABELS),
                        (double)sh->restores);
        rcfd_metric_set(rcfd_metrics_counter(m, "rcfd_checkpoints_refused_total",
                                             "Checkpoints refused at a restore: damaged, of "
                                             "another partition, configuration or cluster, too "
                                             "large, or resuming outside the partition.",
                                             LABELS),
                        (double)sh->refused);
        rcfd_metric_set(rcfd_metrics_gauge(m, "rcfd_checkpoint_bytes",
                                           "Size of the partition's last checkpoint.", LABELS),
                        (double)sh->last_bytes);
#undef LABELS
    }
}
