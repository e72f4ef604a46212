#include "stream/keymodels.h"

#include <string.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "common/keytab.h"
#include "common/log.h"
#include "state/warm.h"

#define MAX_KEY_BYTES 1024
#define SHARD_BYTES sizeof(uint32_t)
/* Snapshots read back for waiting records, kept from spilling: twice the Kafka source's
 * read-ahead. */
#define MAX_WANTED 64

/* Table keys are the shard id's bytes followed by the record key. */
typedef struct {
    char b[SHARD_BYTES + MAX_KEY_BYTES];
    size_t len;
} scoped_key_t;

/* A live key: its models and what they cost. */
typedef struct live {
    size_t bytes;
    void *models[]; /* n_models */
} live_t;

typedef struct kept {
    size_t n;
    size_t total;
    size_t lens[]; /* n lengths (0: no snapshot for that model), then the snapshots' bytes */
} kept_t;

/* A snapshot on its way to the spill store: owned here until the write ends, whatever becomes of
 * its key meanwhile. */
typedef struct spill_write {
    struct spill_write *next;
    uint64_t token;
    kept_t *k;
    size_t bytes; /* its allocation */
} spill_write_t;

enum { SP_WRITING, SP_SPILLED, SP_READING };

/* The index entry of a key whose snapshot is (being) spilled. */
typedef struct spill_ref {
    int state;
    int loaded;         /* WRITING: the key came back meanwhile; forgotten when the write ends */
    uint64_t token;     /* of the write or read in flight */
    spill_write_t *w;   /* WRITING: its snapshot */
} spill_ref_t;

struct rcfd_keymodels {
    const rcfd_pipeline_conf_t *conf;
    rcfd_keytab_t *live; /* scoped key -> live_t */
    rcfd_keytab_t *kept; /* scoped key -> kept_t; NULL without keep_evicted */
    /* scoped key -> kept_t read back from the spill store for a record that waits for it: never
     * spilled again before that record used it (else the two would chase each other) */
    rcfd_keytab_t *wanted;
    rcfd_keytab_t *refs; /* scoped key -> spill_ref_t; NULL without spill hooks */
    rcfd_spill_hooks_t hooks;
    int has_spill;
    spill_write_t *writes; /* in flight */
    size_t n_writes;
    uint64_t writing_bytes;
    uint64_t next_token;
    uint64_t limit; /* memory_limit; 0: none */
    int enforcing;
    rcfd_keymodels_stats_t st;
};

static int scope(scoped_key_t *k, uint32_t shard, const char *key, size_t len)
{
    if (len > MAX_KEY_BYTES) {
        return RCFD_ERANGE;
    }
    memcpy(k->b, &shard, SHARD_BYTES);
    memcpy(k->b + SHARD_BYTES, key, len);
    k->len = SHARD_BYTES + len;
    return 0;
}

static uint32_t shard_of(const char *scoped)
{
    uint32_t s;
    memcpy(&s, scoped, SHARD_BYTES);
    return s;
}

static unsigned char *kept_bytes(kept_t *k)
{
    return (unsigned char *)&k->lens[k->n];
}

static size_t kept_alloc(const kept_t *k)
{
    return sizeof *k + k->n * sizeof k->lens[0] + k->total;
}

static uint64_t used(const rcfd_keymodels_t *km)
{
    return km->st.live_bytes + km->st.kept_bytes;
}

static void models_destroy(rcfd_keymodels_t *km, void **models)
{
    for (size_t m = 0; m < km->conf->n_models; m++) {
        if (models[m] != NULL) {
            km->conf->models[m].type->destroy(models[m]);
        }
    }
}

static void live_free(void *value, void *ud)
{
    rcfd_keymodels_t *km = ud;
    live_t *l = value;
    models_destroy(km, l->models);
    km->st.live_bytes -= l->bytes;
    rcfd_free(l);
}

static void kept_free(void *value, void *ud)
{
    rcfd_keymodels_t *km = ud;
    kept_t *k = value;
    km->st.kept_bytes -= kept_alloc(k);
    rcfd_free(k);
}

static void ref_free(void *value, void *ud)
{
    rcfd_keymodels_t *km = ud;
    spill_ref_t *r = value;
    km->st.spilled -= r->state != SP_WRITING; /* counts the SPILLED and READING ones */
    rcfd_free(r);
}

/* Serializes a key's live models into a kept_t: the header is reserved at the start of the buffer
 * the snapshots are appended to, and the buffer becomes the kept_t (one allocation, no copy). */
static kept_t *kept_from_models(rcfd_keymodels_t *km, void **models)
{
    size_t n = km->conf->n_models;
    size_t header = sizeof(kept_t) + n * sizeof(size_t);
    rcfd_buf_t b = {0};
    if (rcfd_buf_reserve(&b, header) != 0) {
        return NULL;
    }
    b.len = header;
    for (size_t m = 0; m < n; m++) {
        size_t before = b.len;
        if (km->conf->models[m].type->save(models[m], &b) != 0) {
            rcfd_buf_free(&b);
            return NULL;
        }
        ((kept_t *)(void *)b.p)->lens[m] = b.len - before;
    }
    /* The buffer grew by doubling: give back the slack, the budget counts what is held. */
    char *fit = rcfd_realloc(b.p, b.len);
    kept_t *k = (kept_t *)(void *)(fit != NULL ? fit : b.p);
    k->n = n;
    k->total = b.len - header;
    return k;
}

static void kept_put(rcfd_keymodels_t *km, const char *scoped, size_t len, kept_t *k)
{
    rcfd_keytab_remove(km->kept, scoped, len); /* a newer snapshot replaces an older one */
    if (rcfd_keytab_put(km->kept, scoped, len, k) != 0) {
        rcfd_free(k);
        km->st.dropped++;
        RCFD_LOG(RCFD_LOG_ERROR, km->conf->name, "out of memory keeping an evicted model");
        return;
    }
    km->st.kept_bytes += kept_alloc(k);
}

/* The cap or the budget evicts a live key: keep its snapshot so it resumes where it left off. */
static void on_evict(const char *scoped, size_t len, void *value, void *ud)
{
    rcfd_keymodels_t *km = ud;
    live_t *l = value;
    km->st.evicted++;
    if (km->kept == NULL) {
        km->st.dropped++; /* no store: the key restarts cold */
        return;
    }
    kept_t *k = kept_from_models(km, l->models);
    if (k == NULL) {
        km->st.dropped++;
        RCFD_LOG(RCFD_LOG_ERROR, km->conf->name,
                 "out of memory saving an evicted model: the key will start fresh");
        return;
    }
    kept_put(km, scoped, len, k);
}

int rcfd_keymodels_new(const rcfd_pipeline_conf_t *conf, int keep_evicted, size_t parts,
                       rcfd_keymodels_t **out)
{
    *out = NULL;
    rcfd_keymodels_t *km = rcfd_calloc(1, sizeof *km);
    if (km == NULL) {
        return RCFD_ENOMEM;
    }
    km->conf = conf;
    parts = parts > 0 ? parts : 1;
    km->limit = ((uint64_t)conf->memory_limit + parts - 1) / parts;
    int rc = rcfd_keytab_new(((size_t)conf->max_keys + parts - 1) / parts, live_free, km,
                             &km->live);
    /* Kept snapshots are bounded by the keys the partitions hold (or the budget), not the cap. */
    if (rc == 0 && keep_evicted) {
        rc = rcfd_keytab_new(SIZE_MAX, kept_free, km, &km->kept);
    }
    if (rc != 0) {
        rcfd_keymodels_destroy(km);
        return rc;
    }
    rcfd_keytab_on_evict(km->live, on_evict);
    *out = km;
    return 0;
}

static void write_free(spill_write_t *w)
{
    rcfd_free(w->k);
    rcfd_free(w);
}

void rcfd_keymodels_destroy(rcfd_keymodels_t *km)
{
    if (km == NULL) {
        return;
    }
    rcfd_keytab_destroy(km->live);
    rcfd_keytab_destroy(km->kept);
    rcfd_keytab_destroy(km->wanted);
    rcfd_keytab_destroy(km->refs);
    /* Writes still in flight only when the loop stopped with jobs queued (a failure). */
    while (km->writes != NULL) {
        spill_write_t *w = km->writes;
        km->writes = w->next;
        write_free(w);
    }
    rcfd_free(km);
}

void rcfd_keymodels_set_spill(rcfd_keymodels_t *km, const rcfd_spill_hooks_t *hooks)
{
    if (hooks == NULL || km->kept == NULL || km->refs != NULL ||
        rcfd_keytab_new(SIZE_MAX, ref_free, km, &km->refs) != 0) {
        return;
    }
    if (rcfd_keytab_new(SIZE_MAX, kept_free, km, &km->wanted) != 0) {
        rcfd_keytab_destroy(km->refs);
        km->refs = NULL;
        return;
    }
    km->hooks = *hooks;
    if (km->hooks.max_writes == 0) {
        km->hooks.max_writes = 1;
    }
    km->has_spill = 1;
}

const rcfd_pipeline_conf_t *rcfd_keymodels_conf(const rcfd_keymodels_t *km)
{
    return km->conf;
}

/* ---- the budget ---- */

/* The entries of a kept snapshot, pointing into it. */
static rcfd_ckpt_entry_t *kept_entries(rcfd_keymodels_t *km, kept_t *k, const char *key,
                                       size_t key_len)
{
    rcfd_ckpt_entry_t *e = rcfd_calloc(k->n ? k->n : 1, sizeof *e);
    if (e == NULL) {
        return NULL;
    }
    const unsigned char *p = kept_bytes(k);
    for (size_t m = 0; m < k->n; p += k->lens[m], m++) {
        const char *type = km->conf->models[m].type->name;
        e[m] = (rcfd_ckpt_entry_t){key, key_len, type, strlen(type), p, k->lens[m]};
    }
    return e;
}

/* Starts spilling the least recently used kept snapshot. 0 when one went (or was given up), 1
 * when none can go now (writes at their cap, or that key's previous write still runs). */
static int spill_one(rcfd_keymodels_t *km)
{
    const char *scoped;
    size_t len;
    if (km->n_writes >= km->hooks.max_writes || rcfd_keytab_lru(km->kept, &scoped, &len) == NULL) {
        return 1;
    }
    scoped_key_t sk;
    memcpy(sk.b, scoped, len);
    sk.len = len;
    spill_ref_t *old = rcfd_keytab_get(km->refs, sk.b, sk.len);
    if (old != NULL && old->state == SP_WRITING) {
        /* Two writes of one key must not race: this snapshot waits for the earlier one, at the
         * recent end of the table. */
        rcfd_keytab_get(km->kept, sk.b, sk.len);
        return 1;
    }
    const char *key = sk.b + SHARD_BYTES;
    size_t key_len = sk.len - SHARD_BYTES;
    kept_t *k = rcfd_keytab_detach(km->kept, sk.b, sk.len);
    size_t bytes = kept_alloc(k); /* still counted in kept_bytes until the write ends */
    spill_write_t *w = rcfd_calloc(1, sizeof *w);
    spill_ref_t *r = rcfd_calloc(1, sizeof *r);
    rcfd_ckpt_entry_t *e = kept_entries(km, k, key, key_len);
    uint64_t token = ++km->next_token;
    int rc = w != NULL && r != NULL && e != NULL ? 0 : RCFD_ENOMEM;
    int inserted = 0;
    if (rc == 0) {
        *w = (spill_write_t){.next = km->writes, .token = token, .k = k, .bytes = bytes};
        *r = (spill_ref_t){.state = SP_WRITING, .token = token, .w = w};
        rcfd_keytab_remove(km->refs, sk.b, sk.len);
        rc = rcfd_keytab_put(km->refs, sk.b, sk.len, r);
        inserted = rc == 0;
    }
    if (rc == 0) {
        rc = km->hooks.write(km->hooks.ud, km, shard_of(sk.b), key, key_len, e, k->n, token);
    }
    rcfd_free(e);
    if (rc != 0) {
        if (inserted) {
            rcfd_keytab_remove(km->refs, sk.b, sk.len);
        } else {
            rcfd_free(r);
        }
        rcfd_free(w);
        rcfd_free(k);
        km->st.kept_bytes -= bytes;
        km->st.spill_failed++;
        RCFD_LOG(RCFD_LOG_ERROR, km->conf->name,
                 "cannot spill an evicted model (%s): the key will start fresh", rcfd_strerror(rc));
        return 0;
    }
    km->writes = w;
    km->n_writes++;
    km->writing_bytes += bytes;
    return 0;
}

void rcfd_keymodels_grew(rcfd_keymodels_t *km, void **models, int64_t delta)
{
    live_t *l = (live_t *)(void *)((char *)models - offsetof(live_t, models));
    if (delta < 0 && (size_t)-delta > l->bytes) {
        delta = -(int64_t)l->bytes;
    }
    l->bytes = (size_t)((int64_t)l->bytes + delta);
    km->st.live_bytes = (uint64_t)((int64_t)km->st.live_bytes + delta);
}

void rcfd_keymodels_enforce(rcfd_keymodels_t *km)
{
    if (km->limit == 0 || km->enforcing) {
        return;
    }
    km->enforcing = 1; /* the evictions below call back into the set */
    size_t guard = rcfd_keytab_size(km->live) + (km->kept ? rcfd_keytab_size(km->kept) : 0) + 8;
    while (used(km) > km->limit && guard-- > 0) {
        if (used(km) - km->writing_bytes <= km->limit) {
            break; /* the writes in flight bring it under */
        }
        /* Kept snapshots first (their keys were not seen since their eviction): spilled when the
         * store can take them, else dropped. */
        if (km->kept != NULL && rcfd_keytab_size(km->kept) > 0) {
            if (!km->has_spill) {
                const char *scoped;
                size_t len;
                rcfd_keytab_lru(km->kept, &scoped, &len);
                scoped_key_t sk;
                memcpy(sk.b, scoped, len);
                rcfd_keytab_remove(km->kept, sk.b, len);
                km->st.dropped++;
                continue;
            }
            if (spill_one(km) == 0) {
                continue;
            }
            break; /* wait for the writes in flight */
        }
        /* Then live instances (into the kept table, or dropped without a store); one stays. */
        if (rcfd_keytab_size(km->live) > 1) {
            rcfd_keytab_evict_lru(km->live);
            continue;
        }
        break;
    }
    km->enforcing = 0;
}

/* ---- lookups ---- */

int rcfd_keymodels_ready(rcfd_keymodels_t *km, uint32_t shard, const char *key, size_t key_len)
{
    if (km->refs == NULL || (km->limit == 0 && rcfd_keytab_size(km->refs) == 0)) {
        return 1;
    }
    scoped_key_t sk;
    if (scope(&sk, shard, key, key_len) != 0 || rcfd_keytab_get(km->live, sk.b, sk.len) != NULL) {
        return 1; /* a live key costs nothing more */
    }
    spill_ref_t *r = rcfd_keytab_get(km->refs, sk.b, sk.len);
    if (r != NULL && r->state == SP_READING) {
        return 0;
    }
    if (r != NULL && r->state == SP_SPILLED) {
        r->state = SP_READING;
        r->token = ++km->next_token;
        if (km->hooks.read(km->hooks.ud, km, shard, key, key_len, r->token) != 0) {
            km->st.spill_failed++;
            rcfd_keytab_remove(km->refs, sk.b, sk.len); /* starts fresh */
            return 1;
        }
        return 0;
    }
    if (km->limit > 0 && used(km) > km->limit) {
        rcfd_keymodels_enforce(km);
        if (used(km) > km->limit && km->n_writes > 0) {
            /* Only the writes in flight can make room: a key that needs a new instance (fresh,
             * or loaded from its snapshot) waits for them. */
            return 0;
        }
    }
    return 1;
}

/* The model's own seed parameter: every model type's table has a "seed" row or none. */
static uint64_t master_seed(const rcfd_model_conf_t *mc)
{
    for (const rcfd_conf_desc_t *d = mc->type->conf; d->key != NULL; d++) {
        if (strcmp(d->key, "seed") == 0) {
            int64_t v;
            memcpy(&v, (const char *)mc->params + d->offset, sizeof v);
            return (uint64_t)v;
        }
    }
    return 0;
}

/* Loads the kept snapshots into models[] (where present); a snapshot that does not fit the config
 * any more (its parameters changed since it was written) is logged and left to start fresh. */
static void load_kept(rcfd_keymodels_t *km, kept_t *k, void **models)
{
    const unsigned char *p = kept_bytes(k);
    for (size_t m = 0; m < k->n; p += k->lens[m], m++) {
        if (k->lens[m] == 0) {
            continue;
        }
        const rcfd_model_conf_t *mc = &km->conf->models[m];
        char err[256];
        if (mc->type->load(mc->params, km->conf->fields.n, p, k->lens[m], &models[m], err,
                           sizeof err) != 0) {
            models[m] = NULL;
            if (km->st.load_failed++ == 0) {
                RCFD_LOG(RCFD_LOG_WARN, km->conf->name,
                         "a checkpointed %s model does not fit the config (%s): such keys start "
                         "fresh (rcfd_models_load_failed_total counts them)",
                         mc->type->name, err);
            }
        }
    }
}

void **rcfd_keymodels_get(rcfd_keymodels_t *km, uint32_t shard, const char *key, size_t key_len,
                          struct rcfd_warm *warm, char *reason, size_t rs)
{
    scoped_key_t sk;
    if (scope(&sk, shard, key, key_len) != 0) {
        rcfd_errf(RCFD_ERANGE, reason, rs, "key is longer than %d bytes", MAX_KEY_BYTES);
        return NULL;
    }
    live_t *l = rcfd_keytab_get(km->live, sk.b, sk.len);
    if (l != NULL) {
        return l->models;
    }
    spill_ref_t *r = km->refs != NULL ? rcfd_keytab_get(km->refs, sk.b, sk.len) : NULL;
    if (r != NULL && r->state != SP_WRITING) {
        rcfd_errf(RCFD_EAGAIN, reason, rs, "the key's models are still in the spill store");
        return NULL;
    }
    size_t n = km->conf->n_models;
    int64_t before = rcfd_alloc_thread_net();
    l = rcfd_calloc(1, sizeof *l + n * sizeof l->models[0]);
    if (l == NULL) {
        rcfd_errf(RCFD_ENOMEM, reason, rs, "out of memory for a new key");
        return NULL;
    }
    void **models = l->models;
    rcfd_keytab_t *from = km->kept;
    kept_t *k = km->kept != NULL ? rcfd_keytab_get(km->kept, sk.b, sk.len) : NULL;
    if (k == NULL && km->wanted != NULL && (k = rcfd_keytab_get(km->wanted, sk.b, sk.len))) {
        from = km->wanted;
    }
    if (k != NULL) {
        load_kept(km, k, models);
        km->st.restored++;
    } else if (r != NULL) {
        load_kept(km, r->w->k, models); /* its write still runs: it is read-only meanwhile */
        r->loaded = 1;
        km->st.restored++;
    } else if (rcfd_warm_take(warm, key, key_len, models) > 0) {
        km->st.warm++;
    } else {
        km->st.created++;
    }
    for (size_t m = 0; m < n; m++) {
        const rcfd_model_conf_t *mc = &km->conf->models[m];
        if (models[m] != NULL) {
            continue;
        }
        char err[256];
        if (mc->type->create(mc->params, km->conf->fields.n,
                             rcfd_key_seed(master_seed(mc), key, key_len), &models[m], err,
                             sizeof err) != 0) {
            rcfd_errf(RCFD_ENOMEM, reason, rs, "cannot create a model: %s", err);
            models_destroy(km, models);
            rcfd_free(l);
            return NULL;
        }
    }
    l->bytes = (size_t)(rcfd_alloc_thread_net() - before);
    if (rcfd_keytab_put(km->live, sk.b, sk.len, l) != 0) {
        models_destroy(km, models);
        rcfd_free(l);
        rcfd_errf(RCFD_ENOMEM, reason, rs, "out of memory for a new key");
        return NULL;
    }
    km->st.live_bytes += l->bytes;
    if (k != NULL) {
        rcfd_keytab_remove(from, sk.b, sk.len);
    }
    rcfd_keymodels_enforce(km);
    return models;
}

/* ---- checkpoints ---- */

typedef struct save_ctx {
    rcfd_keymodels_t *km;
    uint32_t shard;
    rcfd_ckpt_builder_t *b;
    int rc;
} save_ctx_t;

static int save_live(const char *scoped, size_t len, void *value, void *ud)
{
    save_ctx_t *c = ud;
    const rcfd_pipeline_conf_t *conf = c->km->conf;
    live_t *l = value;
    for (size_t m = 0; c->rc == 0 && shard_of(scoped) == c->shard && m < conf->n_models; m++) {
        const rcfd_model_type_t *t = conf->models[m].type;
        c->rc = rcfd_ckpt_builder_begin(c->b, conf->name, scoped + SHARD_BYTES, len - SHARD_BYTES,
                                        t->name);
        if (c->rc == 0 && (c->rc = t->save(l->models[m], &c->b->bytes)) != 0) {
            rcfd_ckpt_builder_cancel(c->b);
        } else if (c->rc == 0) {
            rcfd_ckpt_builder_end(c->b);
        }
    }
    return 0;
}

static void save_snapshot(save_ctx_t *c, const char *scoped, size_t len, kept_t *k)
{
    const rcfd_pipeline_conf_t *conf = c->km->conf;
    const unsigned char *p = kept_bytes(k);
    for (size_t m = 0; c->rc == 0 && m < k->n; p += k->lens[m], m++) {
        if (k->lens[m] == 0) {
            continue;
        }
        c->rc = rcfd_ckpt_builder_begin(c->b, conf->name, scoped + SHARD_BYTES, len - SHARD_BYTES,
                                        conf->models[m].type->name);
        if (c->rc == 0 && (c->rc = rcfd_buf_append(&c->b->bytes, p, k->lens[m])) != 0) {
            rcfd_ckpt_builder_cancel(c->b);
        } else if (c->rc == 0) {
            rcfd_ckpt_builder_end(c->b);
        }
    }
}

static int save_kept(const char *scoped, size_t len, void *value, void *ud)
{
    save_ctx_t *c = ud;
    if (shard_of(scoped) == c->shard) {
        save_snapshot(c, scoped, len, value);
    }
    return 0;
}

static int save_ref(const char *scoped, size_t len, void *value, void *ud)
{
    save_ctx_t *c = ud;
    spill_ref_t *r = value;
    if (shard_of(scoped) != c->shard || c->rc != 0 || r->loaded) {
        return 0; /* a loaded key is saved as live or kept */
    }
    if (r->state == SP_WRITING) {
        save_snapshot(c, scoped, len, r->w->k); /* not in the store yet */
        return 0;
    }
    c->rc = rcfd_ckpt_builder_begin(c->b, c->km->conf->name, scoped + SHARD_BYTES,
                                    len - SHARD_BYTES, RCFD_SPILL_TYPE);
    if (c->rc == 0) {
        rcfd_ckpt_builder_end(c->b);
    }
    return 0;
}

int rcfd_keymodels_save(rcfd_keymodels_t *km, uint32_t shard, rcfd_ckpt_builder_t *b)
{
    save_ctx_t c = {km, shard, b, 0};
    rcfd_keytab_foreach(km->live, save_live, &c);
    if (km->kept != NULL) {
        rcfd_keytab_foreach(km->kept, save_kept, &c);
    }
    if (km->wanted != NULL) {
        rcfd_keytab_foreach(km->wanted, save_kept, &c);
    }
    if (km->refs != NULL) {
        rcfd_keytab_foreach(km->refs, save_ref, &c);
    }
    return c.rc;
}

/* A key's snapshots, checked against the pipeline's models, as one kept_t. */
static int kept_from_entries(rcfd_keymodels_t *km, const rcfd_ckpt_entry_t *entries, size_t n,
                             kept_t **out, char *errstr, size_t es)
{
    const rcfd_pipeline_conf_t *conf = km->conf;
    if (n != conf->n_models) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "the checkpoint has %zu models per key, the pipeline %zu", n,
                         conf->n_models);
    }
    size_t total = 0;
    for (size_t m = 0; m < n; m++) {
        const char *want = conf->models[m].type->name;
        if (entries[m].type_len != strlen(want) ||
            memcmp(entries[m].type, want, entries[m].type_len) != 0) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es,
                             "model %zu is \"%.*s\" in the checkpoint, \"%s\" in the config", m,
                             (int)entries[m].type_len, entries[m].type, want);
        }
        total += entries[m].snapshot_len;
    }
    kept_t *k = rcfd_malloc(sizeof *k + n * sizeof k->lens[0] + total);
    if (k == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    k->n = n;
    k->total = total;
    unsigned char *p = kept_bytes(k);
    for (size_t m = 0; m < n; m++) {
        k->lens[m] = entries[m].snapshot_len;
        memcpy(p, entries[m].snapshot, entries[m].snapshot_len);
        p += entries[m].snapshot_len;
    }
    *out = k;
    return 0;
}

static int is_spill_entry(const rcfd_ckpt_entry_t *e)
{
    size_t n = sizeof RCFD_SPILL_TYPE - 1;
    return e->type_len == n && memcmp(e->type, RCFD_SPILL_TYPE, n) == 0;
}

int rcfd_keymodels_keep(rcfd_keymodels_t *km, uint32_t shard, const char *key, size_t key_len,
                        const rcfd_ckpt_entry_t *entries, size_t n, char *errstr, size_t es)
{
    if (km->kept == NULL) {
        return rcfd_errf(RCFD_EINVAL, errstr, es, "state is off");
    }
    scoped_key_t sk;
    if (scope(&sk, shard, key, key_len) != 0) {
        return rcfd_errf(RCFD_ERANGE, errstr, es, "key is longer than %d bytes", MAX_KEY_BYTES);
    }
    /* A live instance of the key is older than the checkpoint being restored: replace it. */
    rcfd_keytab_remove(km->live, sk.b, sk.len);
    if (km->wanted != NULL) {
        rcfd_keytab_remove(km->wanted, sk.b, sk.len);
    }
    if (n == 1 && is_spill_entry(&entries[0])) {
        if (km->refs == NULL) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es,
                             "the key's snapshot was spilled, and this state store has no spill");
        }
        spill_ref_t *r = rcfd_calloc(1, sizeof *r);
        if (r == NULL) {
            return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
        }
        r->state = SP_SPILLED;
        rcfd_keytab_remove(km->kept, sk.b, sk.len);
        rcfd_keytab_remove(km->refs, sk.b, sk.len); /* a write in flight ends unnoticed */
        if (rcfd_keytab_put(km->refs, sk.b, sk.len, r) != 0) {
            rcfd_free(r);
            return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
        }
        km->st.spilled++;
        return 0;
    }
    kept_t *k;
    int rc = kept_from_entries(km, entries, n, &k, errstr, es);
    if (rc != 0) {
        return rc;
    }
    if (km->refs != NULL) {
        rcfd_keytab_remove(km->refs, sk.b, sk.len);
    }
    kept_put(km, sk.b, sk.len, k);
    return 0;
}

/* ---- spill completions ---- */

static void wake_budget(rcfd_keymodels_t *km)
{
    if (km->limit > 0 && used(km) > km->limit) {
        rcfd_keymodels_enforce(km);
    }
}

void rcfd_keymodels_spill_written(rcfd_keymodels_t *km, uint32_t shard, const char *key,
                                  size_t key_len, uint64_t token, int rc)
{
    spill_write_t **pp = &km->writes, *w = NULL;
    for (; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->token == token) {
            w = *pp;
            *pp = w->next;
            break;
        }
    }
    if (w == NULL) {
        return;
    }
    km->n_writes--;
    km->writing_bytes -= w->bytes;
    km->st.kept_bytes -= w->bytes;
    scoped_key_t sk;
    spill_ref_t *r = NULL;
    if (scope(&sk, shard, key, key_len) == 0) {
        r = rcfd_keytab_get(km->refs, sk.b, sk.len);
    }
    if (r != NULL && r->token == token && r->state == SP_WRITING) {
        if (r->loaded) {
            rcfd_keytab_remove(km->refs, sk.b, sk.len); /* the key is live or kept again */
        } else if (rc == 0) {
            r->state = SP_SPILLED;
            r->w = NULL;
            km->st.spilled++;
            km->st.spills++;
        } else {
            rcfd_keytab_remove(km->refs, sk.b, sk.len);
            km->st.spill_failed++;
            RCFD_LOG(RCFD_LOG_ERROR, km->conf->name,
                     "spilling an evicted model failed (%s): the key will start fresh",
                     rcfd_strerror(rc));
        }
    } else if (rc == 0) {
        km->st.spills++;
    }
    write_free(w);
    wake_budget(km);
}

void rcfd_keymodels_spill_read(rcfd_keymodels_t *km, uint32_t shard, const char *key,
                               size_t key_len, uint64_t token, int rc,
                               const rcfd_ckpt_entry_t *entries, size_t n)
{
    scoped_key_t sk;
    if (km->refs == NULL || scope(&sk, shard, key, key_len) != 0) {
        return;
    }
    spill_ref_t *r = rcfd_keytab_get(km->refs, sk.b, sk.len);
    if (r == NULL || r->token != token || r->state != SP_READING) {
        return; /* dropped or restored meanwhile */
    }
    rcfd_keytab_remove(km->refs, sk.b, sk.len);
    char err[256] = "";
    kept_t *k = NULL;
    if (rc == 0) {
        rc = kept_from_entries(km, entries, n, &k, err, sizeof err);
    }
    if (rc != 0) {
        km->st.spill_failed++;
        RCFD_LOG(RCFD_LOG_ERROR, km->conf->name,
                 "reading a spilled model back failed (%s%s%s): the key starts fresh",
                 rcfd_strerror(rc), err[0] ? ": " : "", err);
        return;
    }
    km->st.spill_reads++;
    /* Wanted by a waiting record: kept out of the spill's reach until it is used. A record that
     * never comes (its partition moved away meanwhile) cannot pin more than a few: beyond them
     * the oldest go back to the kept table. */
    rcfd_keytab_remove(km->kept, sk.b, sk.len);
    if (rcfd_keytab_put(km->wanted, sk.b, sk.len, k) != 0) {
        kept_put(km, sk.b, sk.len, k);
    } else {
        km->st.kept_bytes += kept_alloc(k);
    }
    while (rcfd_keytab_size(km->wanted) > MAX_WANTED) {
        const char *old_key;
        size_t old_len;
        rcfd_keytab_lru(km->wanted, &old_key, &old_len);
        scoped_key_t ok;
        memcpy(ok.b, old_key, old_len);
        ok.len = old_len;
        kept_t *o = rcfd_keytab_detach(km->wanted, ok.b, ok.len);
        km->st.kept_bytes -= kept_alloc(o);
        kept_put(km, ok.b, ok.len, o);
    }
    wake_budget(km);
}

/* ---- shards ---- */

static int in_shard(const char *scoped, size_t len, void *value, void *ud)
{
    (void)len;
    (void)value;
    return shard_of(scoped) == *(const uint32_t *)ud;
}

void rcfd_keymodels_drop(rcfd_keymodels_t *km, uint32_t shard)
{
    rcfd_keytab_foreach(km->live, in_shard, &shard);
    if (km->kept != NULL) {
        rcfd_keytab_foreach(km->kept, in_shard, &shard);
    }
    if (km->wanted != NULL) {
        rcfd_keytab_foreach(km->wanted, in_shard, &shard);
    }
    if (km->refs != NULL) {
        rcfd_keytab_foreach(km->refs, in_shard, &shard); /* writes in flight end unnoticed */
    }
}

void rcfd_keymodels_stats(const rcfd_keymodels_t *km, rcfd_keymodels_stats_t *out)
{
    *out = km->st;
    out->live = rcfd_keytab_size(km->live);
    out->kept = (km->kept != NULL ? rcfd_keytab_size(km->kept) : 0) +
                (km->wanted != NULL ? rcfd_keytab_size(km->wanted) : 0);
}
