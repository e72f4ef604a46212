/* The models on worker threads (runtime.workers > 1): the loop hands jobs (one record for one
 * pipeline) to the worker that owns the key's models, and writes the results to the outputs in
 * the order the records were routed.
 *
 * Loop side, at route time: the record's values and key are read (runtime.c), then everything the
 * output needs from the record is encoded now, while rt->rec still holds it: the head ('{' and
 * the original members, per output style the pipeline uses), the origin, and the raw bytes when
 * the pipeline has a dead_letter. The job goes into the open batch of the key's worker; a full
 * batch is submitted at once, a partial one from the loop's prepare (rcfd_dispatch_flush).
 *
 * Worker side: the key's models from the worker's own keymodels set (sets[worker]), process(),
 * and each output line joined into the batch (the loop's head and origin, the models' members,
 * the tail), so the loop only hands bytes to the outputs; the loop never touches a set while a
 * worker may (rcfd_runtime_quiesce).
 *
 * Back on the loop (woken by a worker whose queue is down to half, or collecting at each loop
 * iteration's prepare: rcfd_dispatch_collect), batches come in submission order, but jobs of
 * different workers interleave: a ring of every job in route order is emitted from its head as
 * far as the batches are done, so each output sees exactly the sequence workers: 1 produces.
 * Every job holds a delivery reference from route to emission, so offsets are stored only once
 * the record reached every output. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "common/errstr.h"
#include "common/log.h"
#include "stream/runtime_int.h"
#include "models/impute.h"
#include "stream/workers.h"
#include "state/warm.h"

#define COMP "runtime"
#define BATCH_JOBS 64    /* per-record synchronisation is one batch's share */
#define QUEUE_BATCHES 16 /* per worker: ~1000 records, ~10 ms of a 100-tree forest's work */
#define NO_BYTES UINT32_MAX
/* Key placement: a (shard, key) hashes to one of PLACEMENT_SLOTS slots, and a slot goes to a
 * worker the first time a key of it is routed or restored: to the worker holding the fewest
 * slots, for the runtime's life, so a key always lands on the same worker. A few keys thus split
 * evenly (a hash modulo 2 splits 8 keys 5/3 or worse in most orders), many spread as by a hash. */
#define PLACEMENT_SLOTS 4096

typedef struct job {
    uint32_t pipeline, shard;
    rcfd_delivery_t *d;
    size_t key, key_len;    /* in b->in */
    size_t vals;            /* index in b->vals (and b->miss when the pipeline imputes) */
    size_t head[2], head_len[2];
    size_t origin, origin_len;
    size_t raw, raw_len;
    int bad;                /* the loop could not encode its part (out of memory) */
    int loop_dead;          /* a dead letter the loop decided (reason in b->in): the worker
                             * skips it, emission keeps its place among the scored records */
    size_t reason, reason_len;
    /* written by the worker */
    int status;             /* 0 scored; else a dead letter of dead_reason, the reason at out[0] */
    rcfd_dead_reason_t dead_reason;
    int impute_ran;         /* rcfd_pipeline_impute() ran: its code and outcome */
    int impute_rc;
    rcfd_impute_outcome_t io;
    rcfd_verdict_t verdict;
    size_t out[2], out_len[2]; /* the output line per style; out_len NO_BYTES: not encoded */
} job_t;

typedef struct batch {
    rcfd_work_item_t item;
    job_t *jobs;
    size_t n, cap;
    double *vals;
    unsigned char *miss; /* beside vals: the fields a record lacks (impute), else unused */
    size_t n_vals, cap_vals;
    rcfd_buf_t in;  /* loop-written bytes */
    rcfd_buf_t out; /* worker-written bytes */
    size_t left;    /* jobs not emitted yet */
    int done;       /* handed back by the pool */
    struct batch *next_free, *next_all;
} batch_t;

typedef struct ring_slot {
    batch_t *b;
    size_t job;
} ring_slot_t;

typedef struct wscratch {
    const void **results;
    rcfd_buf_t models; /* one style's models' members, before the join */
    char reason[256];
} wscratch_t;

struct rcfd_dispatch {
    rcfd_workers_t *pool;
    size_t n;
    batch_t **open;  /* per worker: filling, not submitted */
    batch_t *free_list, *all;
    ring_slot_t *ring;
    size_t ring_cap, ring_head, ring_n;
    wscratch_t *scratch; /* per worker */
    uv_mutex_t warm_mu;  /* initial_state tables are shared by every worker */
    int have_warm_mu;
    int stopped;         /* the threads are joined: nothing is submitted any more */
    int holding;         /* rcfd_dispatch_ready() said 0: wake the sources when a queue calms */
    uint16_t slot_worker[PLACEMENT_SLOTS]; /* 0: no key yet, else the owning worker + 1 */
    size_t *slots_of;                      /* per worker: slots it owns */
};

size_t rcfd_runtime_online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

size_t rcfd_runtime_set_of(rcfd_runtime_t *rt, uint32_t shard, const char *key, size_t key_len)
{
    rcfd_dispatch_t *ds = rt->dispatch;
    if (rt->n_sets <= 1 || ds == NULL) {
        return 0;
    }
    /* FNV-1a over the shard and the key, then a final mix, picks the key's slot. */
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < 4; i++) {
        h = (h ^ ((shard >> (8 * i)) & 0xff)) * 1099511628211ULL;
    }
    for (size_t i = 0; i < key_len; i++) {
        h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    uint16_t *slot = &ds->slot_worker[h % PLACEMENT_SLOTS];
    if (*slot == 0) {
        size_t least = 0;
        for (size_t w = 1; w < ds->n; w++) {
            least = ds->slots_of[w] < ds->slots_of[least] ? w : least;
        }
        ds->slots_of[least]++;
        *slot = (uint16_t)(least + 1);
    }
    return (size_t)*slot - 1;
}

/* ---- worker side ---- */

static void run_job(rcfd_runtime_t *rt, size_t w, batch_t *b, job_t *j)
{
    rcfd_dispatch_t *ds = rt->dispatch;
    wscratch_t *sc = &ds->scratch[w];
    rcfd_pipeline_t *p = &rt->pipelines[j->pipeline];
    if (j->loop_dead) {
        return;
    }
    rcfd_keymodels_t *km = p->sets[w];
    const char *key = b->in.p + j->key;
    j->out_len[0] = j->out_len[1] = NO_BYTES;
    if (p->warm != NULL) {
        uv_mutex_lock(&ds->warm_mu);
    }
    void **models =
        rcfd_keymodels_get(km, j->shard, key, j->key_len, p->warm, sc->reason, sizeof sc->reason);
    if (p->warm != NULL) {
        uv_mutex_unlock(&ds->warm_mu);
    }
    int rc = 0;
    if (models == NULL) {
        rc = RCFD_ENOMEM;
    }
    int64_t heap = rcfd_alloc_thread_net();
    double *values = b->vals + j->vals;
    const unsigned char *missing = b->miss + j->vals;
    int imputing = p->conf->impute != RCFD_IMPUTE_DEAD_LETTER;
    j->dead_reason = RCFD_DEAD_MODEL;
    if (rc == 0 && imputing) {
        /* no look-ahead: runtimes with hooks (backtests) keep the models on the loop */
        j->impute_ran = 1;
        rc = j->impute_rc = rcfd_pipeline_impute(p, models, values, missing, NULL, NULL, &j->io,
                                                 sc->reason, sizeof sc->reason);
        if (rc != 0) {
            j->dead_reason = RCFD_DEAD_FIELD;
        }
    }
    for (size_t m = 0; rc == 0 && m < p->conf->n_models; m++) {
        const rcfd_model_type_t *t = p->types[m];
        rc = t->process(models[m], values, p->conf->fields.n, &sc->results[m]);
        if (rc != 0) {
            snprintf(sc->reason, sizeof sc->reason, "model %s rejected the record: %s", t->name,
                     rcfd_strerror(rc));
            break;
        }
    }
    if (models != NULL && rcfd_alloc_thread_net() != heap) {
        rcfd_keymodels_grew(km, models, rcfd_alloc_thread_net() - heap);
    }
    j->status = rc;
    if (rc != 0) {
        j->out[0] = b->out.len;
        if (rcfd_buf_append(&b->out, sc->reason, strlen(sc->reason) + 1) != 0) {
            j->out_len[0] = NO_BYTES;
        } else {
            j->out_len[0] = strlen(sc->reason);
        }
        return;
    }
    rcfd_models_verdict(p->types, sc->results, p->conf->n_models, &j->verdict);
    const rcfd_imputed_t marks = {&p->conf->fields, missing, values};
    /* The whole line, joined here rather than on the loop: the head and the origin the loop
     * encoded at route time, the models' members, the tail. */
    for (int style = 0; style < 2 && !j->bad; style++) {
        if (!(p->styles & (1u << style))) {
            continue;
        }
        size_t at = b->out.len;
        rcfd_buf_reset(&sc->models);
        if (rcfd_encode_scored_models(&sc->models, (rcfd_style_t)style, &p->conf->fields,
                                      p->types, sc->results, p->conf->n_models,
                                      imputing && j->io.imputed > 0 ? &marks : NULL) == 0 &&
            rcfd_encode_scored_join(&b->out, (rcfd_style_t)style, b->in.p + j->head[style],
                                    j->head_len[style], sc->models.p, sc->models.len,
                                    p->conf->name, p->has_key ? b->in.p + j->key : NULL,
                                    j->key_len, b->in.p + j->origin, j->origin_len) == 0) {
            j->out[style] = at;
            j->out_len[style] = b->out.len - at;
        } else {
            b->out.len = at;
        }
    }
}

static void work(void *ud, size_t w, rcfd_work_item_t *it)
{
    rcfd_runtime_t *rt = ud;
    batch_t *b = (batch_t *)((char *)it - offsetof(batch_t, item));
    for (size_t i = 0; i < b->n; i++) {
        run_job(rt, w, b, &b->jobs[i]);
    }
}

/* ---- loop side ---- */

static void batch_free(batch_t *b)
{
    rcfd_free(b->jobs);
    rcfd_free(b->vals);
    rcfd_free(b->miss);
    rcfd_buf_free(&b->in);
    rcfd_buf_free(&b->out);
    rcfd_free(b);
}

static batch_t *batch_get(rcfd_dispatch_t *ds)
{
    batch_t *b = ds->free_list;
    if (b != NULL) {
        ds->free_list = b->next_free;
        return b;
    }
    b = rcfd_calloc(1, sizeof *b);
    if (b == NULL) {
        return NULL;
    }
    b->jobs = rcfd_calloc(BATCH_JOBS, sizeof *b->jobs);
    if (b->jobs == NULL) {
        rcfd_free(b);
        return NULL;
    }
    b->cap = BATCH_JOBS;
    b->next_all = ds->all;
    ds->all = b;
    return b;
}

static void batch_recycle(rcfd_dispatch_t *ds, batch_t *b)
{
    b->n = b->n_vals = b->left = 0;
    b->done = 0;
    rcfd_buf_reset(&b->in);
    rcfd_buf_reset(&b->out);
    b->next_free = ds->free_list;
    ds->free_list = b;
}

static int ring_push(rcfd_dispatch_t *ds, batch_t *b, size_t job)
{
    if (ds->ring_n == ds->ring_cap) {
        size_t cap = ds->ring_cap ? ds->ring_cap * 2 : 1024;
        ring_slot_t *r = rcfd_malloc(cap * sizeof *r);
        if (r == NULL) {
            return RCFD_ENOMEM;
        }
        for (size_t i = 0; i < ds->ring_n; i++) {
            r[i] = ds->ring[(ds->ring_head + i) & (ds->ring_cap - 1)];
        }
        rcfd_free(ds->ring);
        ds->ring = r;
        ds->ring_cap = cap;
        ds->ring_head = 0;
    }
    ds->ring[(ds->ring_head + ds->ring_n) & (ds->ring_cap - 1)] = (ring_slot_t){b, job};
    ds->ring_n++;
    return 0;
}

static void write_dead(rcfd_runtime_t *rt, rcfd_pipeline_t *p, batch_t *b, job_t *j,
                       const char *reason)
{
    if (p->conf->dead_letter_index < 0) {
        return;
    }
    rcfd_buf_t *e = &rt->enc[0];
    rcfd_buf_reset(e);
    if (j->bad ||
        rcfd_encode_dead_letter_at(e, b->in.p + j->origin, j->origin_len, p->conf->name, reason,
                                   b->in.p + j->raw, j->raw_len) != 0 ||
        rcfd_output_submit(&rt->outputs[p->conf->dead_letter_index], e->p, e->len, j->d) != 0) {
        RCFD_LOG(RCFD_LOG_ERROR, p->conf->name, "out of memory writing a dead letter");
    }
}

static void emit(rcfd_runtime_t *rt, batch_t *b, job_t *j)
{
    rcfd_pipeline_t *p = &rt->pipelines[j->pipeline];
    const char *key = b->in.p + j->key;
    if (j->impute_ran) {
        rcfd_pipeline_count_impute(p, j->impute_rc, &j->io, b->miss + j->vals);
    }
    if (j->loop_dead) {
        write_dead(rt, p, b, j, b->in.p + j->reason);
        rcfd_delivery_unref(j->d);
        return;
    }
    if (j->status != 0) {
        const char *reason = j->out_len[0] != NO_BYTES ? b->out.p + j->out[0] : "out of memory";
        p->dead++;
        p->dead_by[j->dead_reason]++;
        RCFD_LOG(RCFD_LOG_TRACE, p->conf->name, "dead letter: %s", reason);
        write_dead(rt, p, b, j, reason);
        rcfd_delivery_unref(j->d);
        return;
    }
    p->scored++;
    p->alerts += j->verdict.alert > 0;
    for (size_t o = 0; o < p->conf->outputs.n; o++) {
        rcfd_output_t *out = &rt->outputs[p->conf->output_index[o]];
        if (!rcfd_output_wants(out, &j->verdict)) {
            out->stats.filtered++;
            continue;
        }
        int style = out->conf->style;
        if (j->bad || j->out_len[style] == NO_BYTES) {
            RCFD_LOG(RCFD_LOG_ERROR, p->conf->name, "out of memory encoding a record");
            continue;
        }
        if (rcfd_output_submit_keyed(out, b->out.p + j->out[style], j->out_len[style],
                                     p->has_key ? key : NULL, j->key_len, j->d) != 0) {
            RCFD_LOG(RCFD_LOG_ERROR, p->conf->name, "out of memory queueing a record");
        }
    }
    RCFD_LOG(RCFD_LOG_TRACE, p->conf->name, "scored key=%.*s score=%g", (int)j->key_len, key,
             j->verdict.score);
    rcfd_delivery_unref(j->d);
}

/* Emits the ring's head as far as its batches are back. */
static void drain(rcfd_runtime_t *rt)
{
    rcfd_dispatch_t *ds = rt->dispatch;
    while (ds->ring_n > 0) {
        ring_slot_t s = ds->ring[ds->ring_head];
        if (!s.b->done) {
            break;
        }
        ds->ring_head = (ds->ring_head + 1) & (ds->ring_cap - 1);
        ds->ring_n--;
        emit(rt, s.b, &s.b->jobs[s.job]); /* may re-enter: quiesce appends to the ring's tail */
        if (--s.b->left == 0) {
            batch_recycle(ds, s.b);
        }
    }
    if (ds->holding && rcfd_workers_calm_one(ds->pool)) {
        /* some queue has room: a source holding records for that worker takes them now (one
         * holding records for a still busy worker holds them on) */
        ds->holding = 0;
        rcfd_runtime_wake(rt);
    }
    rcfd_runtime_backpressure(rt);
}

static void done(void *ud, rcfd_work_item_t *it)
{
    rcfd_runtime_t *rt = ud;
    batch_t *b = (batch_t *)((char *)it - offsetof(batch_t, item));
    b->done = 1;
    drain(rt);
}

static void submit(rcfd_runtime_t *rt, size_t w)
{
    rcfd_dispatch_t *ds = rt->dispatch;
    batch_t *b = ds->open[w];
    if (b == NULL || ds->stopped) {
        return; /* after the stop its jobs stay in the ring: destroy releases them */
    }
    ds->open[w] = NULL;
    rcfd_workers_submit(ds->pool, w, &b->item);
}

void rcfd_dispatch_collect(rcfd_runtime_t *rt)
{
    if (rt->dispatch != NULL && !rt->dispatch->stopped) {
        rcfd_workers_collect(rt->dispatch->pool);
    }
}

void rcfd_dispatch_flush(rcfd_runtime_t *rt)
{
    rcfd_dispatch_t *ds = rt->dispatch;
    if (ds == NULL) {
        return;
    }
    for (size_t w = 0; w < ds->n; w++) {
        submit(rt, w);
    }
    rcfd_runtime_backpressure(rt);
}

void rcfd_runtime_quiesce(rcfd_runtime_t *rt)
{
    if (rt->dispatch == NULL) {
        return;
    }
    rcfd_dispatch_flush(rt);
    rcfd_workers_quiesce(rt->dispatch->pool);
}

int rcfd_dispatch_ready(rcfd_runtime_t *rt, size_t worker)
{
    rcfd_dispatch_t *ds = rt->dispatch;
    if (!rcfd_workers_busy_one(ds->pool, worker)) {
        return 1;
    }
    ds->holding = 1;
    return 0;
}

int rcfd_dispatch_full(rcfd_runtime_t *rt)
{
    return rt->dispatch != NULL && rcfd_workers_full(rt->dispatch->pool);
}

int rcfd_dispatch_calm(rcfd_runtime_t *rt)
{
    return rt->dispatch == NULL || rcfd_workers_calm(rt->dispatch->pool);
}

static size_t put(rcfd_buf_t *b, const void *data, size_t len, int *bad)
{
    size_t at = b->len;
    if (rcfd_buf_append(b, data, len) != 0) {
        *bad = 1;
    }
    return at;
}

/* A new job in the open batch of worker w, its place taken in the route order; NULL when out of
 * memory (logged). nf values are reserved at b->vals + j->vals. */
static job_t *job_new(rcfd_runtime_t *rt, rcfd_pipeline_t *p, size_t w, size_t nf,
                      const rcfd_origin_t *origin, rcfd_delivery_t *d, batch_t **bp)
{
    rcfd_dispatch_t *ds = rt->dispatch;
    batch_t *b = ds->open[w];
    if (b == NULL && (b = ds->open[w] = batch_get(ds)) == NULL) {
        RCFD_LOG(RCFD_LOG_ERROR, p->conf->name, "out of memory handing a record to a worker");
        return NULL;
    }
    if (b->n_vals + nf > b->cap_vals) {
        size_t cap = b->cap_vals ? b->cap_vals * 2 : BATCH_JOBS * 4;
        while (cap < b->n_vals + nf) {
            cap *= 2;
        }
        double *v = rcfd_realloc(b->vals, cap * sizeof *v);
        if (v != NULL) {
            b->vals = v;
        }
        unsigned char *mv = v != NULL ? rcfd_realloc(b->miss, cap) : NULL;
        if (mv == NULL) {
            RCFD_LOG(RCFD_LOG_ERROR, p->conf->name, "out of memory handing a record to a worker");
            return NULL;
        }
        b->miss = mv;
        b->cap_vals = cap;
    }
    if (ring_push(ds, b, b->n) != 0) {
        RCFD_LOG(RCFD_LOG_ERROR, p->conf->name, "out of memory handing a record to a worker");
        return NULL;
    }
    job_t *j = &b->jobs[b->n++];
    memset(j, 0, sizeof *j);
    j->pipeline = (uint32_t)(p - rt->pipelines);
    j->shard = origin->shard;
    j->d = d;
    rcfd_delivery_ref(d);
    j->vals = b->n_vals;
    b->n_vals += nf;
    j->origin = b->in.len;
    if (rcfd_encode_origin(&b->in, origin) != 0) {
        j->bad = 1;
    }
    j->origin_len = b->in.len - j->origin;
    if (p->conf->dead_letter_index >= 0) {
        j->raw = put(&b->in, rt->rec.data, rt->rec.len, &j->bad);
        j->raw_len = rt->rec.len;
    }
    b->left++;
    *bp = b;
    return j;
}

/* Submits worker w's batch once it is full. */
static void job_added(rcfd_runtime_t *rt, size_t w, batch_t *b)
{
    if (b->n == b->cap) {
        submit(rt, w);
        rcfd_runtime_backpressure(rt);
    }
}

void rcfd_dispatch_route(rcfd_runtime_t *rt, rcfd_pipeline_t *p, const rcfd_origin_t *origin,
                         rcfd_delivery_t *d, const char *key, size_t key_len, size_t w)
{
    size_t nf = p->conf->fields.n;
    batch_t *b;
    job_t *j = job_new(rt, p, w, nf, origin, d, &b);
    if (j == NULL) {
        return;
    }
    memcpy(b->vals + j->vals, p->values, nf * sizeof *p->values);
    if (p->conf->impute != RCFD_IMPUTE_DEAD_LETTER) {
        memcpy(b->miss + j->vals, p->missing, nf);
    }
    j->key = put(&b->in, key, key_len, &j->bad);
    j->key_len = key_len;
    for (int style = 0; style < 2; style++) {
        if (p->styles & (1u << style)) {
            j->head[style] = b->in.len;
            if (rcfd_encode_scored_head(&b->in, (rcfd_style_t)style, &rt->rec) != 0) {
                j->bad = 1;
            }
            j->head_len[style] = b->in.len - j->head[style];
        }
    }
    job_added(rt, w, b);
}

void rcfd_dispatch_dead(rcfd_runtime_t *rt, rcfd_pipeline_t *p, const char *reason,
                        const rcfd_origin_t *origin, rcfd_delivery_t *d)
{
    batch_t *b;
    job_t *j = job_new(rt, p, 0, 0, origin, d, &b);
    if (j == NULL) {
        return;
    }
    j->loop_dead = 1;
    j->status = RCFD_EMALFORMED;
    j->reason = put(&b->in, reason, strlen(reason) + 1, &j->bad);
    job_added(rt, 0, b);
}

int rcfd_dispatch_new(rcfd_runtime_t *rt, size_t n, char *errstr, size_t es)
{
    rcfd_dispatch_t *ds = rcfd_calloc(1, sizeof *ds);
    if (ds == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    rt->dispatch = ds;
    ds->n = n;
    ds->open = rcfd_calloc(n, sizeof *ds->open);
    ds->scratch = rcfd_calloc(n, sizeof *ds->scratch);
    ds->slots_of = rcfd_calloc(n, sizeof *ds->slots_of);
    if (ds->open == NULL || ds->scratch == NULL || ds->slots_of == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    size_t max_models = 1;
    for (size_t i = 0; i < rt->n_pipelines; i++) {
        if (rt->pipelines[i].conf->n_models > max_models) {
            max_models = rt->pipelines[i].conf->n_models;
        }
    }
    for (size_t w = 0; w < n; w++) {
        ds->scratch[w].results = rcfd_calloc(max_models, sizeof *ds->scratch[w].results);
        if (ds->scratch[w].results == NULL) {
            return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
        }
    }
    int rc = uv_mutex_init(&ds->warm_mu);
    if (rc != 0) {
        return rcfd_errf(rc, errstr, es, "runtime.workers: %s", uv_strerror(rc));
    }
    ds->have_warm_mu = 1;
    rc = rcfd_workers_new(&rt->loop, n, QUEUE_BATCHES, work, done, rt, &ds->pool);
    if (rc != 0) {
        return rcfd_errf(rc, errstr, es, "runtime.workers: cannot start %zu threads: %s", n,
                         rc == RCFD_ENOMEM ? "out of memory" : uv_strerror(rc));
    }
    return 0;
}

void rcfd_dispatch_stop(rcfd_runtime_t *rt)
{
    if (rt->dispatch != NULL) {
        rt->dispatch->stopped = 1;
        rcfd_workers_stop(rt->dispatch->pool, NULL); /* what it did not run stays in the ring */
    }
}

void rcfd_dispatch_destroy(rcfd_runtime_t *rt)
{
    rcfd_dispatch_t *ds = rt->dispatch;
    if (ds == NULL) {
        return;
    }
    rcfd_dispatch_stop(rt);
    /* Records never emitted (a stop that timed out) release their references as the outputs'
     * abandoned ones do; their offsets were not stored before the sources closed. */
    for (size_t i = 0; i < ds->ring_n; i++) {
        ring_slot_t s = ds->ring[(ds->ring_head + i) & (ds->ring_cap - 1)];
        rcfd_delivery_unref(s.b->jobs[s.job].d);
    }
    ds->ring_n = 0;
    while (ds->all != NULL) {
        batch_t *b = ds->all;
        ds->all = b->next_all;
        batch_free(b);
    }
    rcfd_workers_destroy(ds->pool);
    for (size_t w = 0; ds->scratch != NULL && w < ds->n; w++) {
        rcfd_free(ds->scratch[w].results);
        rcfd_buf_free(&ds->scratch[w].models);
    }
    if (ds->have_warm_mu) {
        uv_mutex_destroy(&ds->warm_mu);
    }
    rcfd_free(ds->scratch);
    rcfd_free(ds->slots_of);
    rcfd_free(ds->open);
    rcfd_free(ds->ring);
    rcfd_free(ds);
    rt->dispatch = NULL;
}

void rcfd_dispatch_stats(const rcfd_runtime_t *rt, rcfd_workers_stats_t *out)
{
    memset(out, 0, sizeof *out);
    if (rt->dispatch != NULL) {
        rcfd_workers_stats(rt->dispatch->pool, out);
    }
}
