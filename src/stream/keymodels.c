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

/* Table keys are the shard id's bytes followed by the record key. */
typedef struct {
    char b[SHARD_BYTES + MAX_KEY_BYTES];
    size_t len;
} scoped_key_t;

typedef struct kept {
    size_t n;
    size_t total;
    size_t lens[]; /* n lengths (0: no snapshot for that model), then the snapshots' bytes */
} kept_t;

struct rcfd_keymodels {
    const rcfd_pipeline_conf_t *conf;
    rcfd_keytab_t *live; /* scoped key -> void *models[n_models] */
    rcfd_keytab_t *kept; /* scoped key -> kept_t; NULL without keep_evicted */
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

static void models_free(void *value, void *ud)
{
    rcfd_keymodels_t *km = ud;
    void **models = value;
    for (size_t m = 0; m < km->conf->n_models; m++) {
        if (models[m] != NULL) {
            km->conf->models[m].type->destroy(models[m]);
        }
    }
    rcfd_free(models);
}

static void kept_free(void *value, void *ud)
{
    rcfd_keymodels_t *km = ud;
    kept_t *k = value;
    km->st.kept_bytes -= k->total;
    rcfd_free(k);
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
    kept_t *k = (kept_t *)(void *)b.p;
    k->n = n;
    k->total = b.len - header;
    return k;
}

static void kept_put(rcfd_keymodels_t *km, const char *scoped, size_t len, kept_t *k)
{
    rcfd_keytab_remove(km->kept, scoped, len); /* a newer snapshot replaces an older one */
    if (rcfd_keytab_put(km->kept, scoped, len, k) != 0) {
        rcfd_free(k);
        RCFD_LOG(RCFD_LOG_ERROR, km->conf->name, "out of memory keeping an evicted model");
        return;
    }
    km->st.kept_bytes += k->total;
}

/* The cap evicts a live key: keep its snapshot so it resumes where it left off. */
static void on_evict(const char *scoped, size_t len, void *value, void *ud)
{
    rcfd_keymodels_t *km = ud;
    km->st.evicted++;
    if (km->kept == NULL) {
        return;
    }
    kept_t *k = kept_from_models(km, value);
    if (k == NULL) {
        RCFD_LOG(RCFD_LOG_ERROR, km->conf->name,
                 "out of memory saving an evicted model: the key will start fresh");
        return;
    }
    kept_put(km, scoped, len, k);
}

int rcfd_keymodels_new(const rcfd_pipeline_conf_t *conf, int keep_evicted, rcfd_keymodels_t **out)
{
    *out = NULL;
    rcfd_keymodels_t *km = rcfd_calloc(1, sizeof *km);
    if (km == NULL) {
        return RCFD_ENOMEM;
    }
    km->conf = conf;
    int rc = rcfd_keytab_new((size_t)conf->max_keys, models_free, km, &km->live);
    /* Kept snapshots are bounded by the keys the partitions hold, not by the cap. */
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

void rcfd_keymodels_destroy(rcfd_keymodels_t *km)
{
    if (km == NULL) {
        return;
    }
    rcfd_keytab_destroy(km->live);
    rcfd_keytab_destroy(km->kept);
    rcfd_free(km);
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
    void **models = rcfd_keytab_get(km->live, sk.b, sk.len);
    if (models != NULL) {
        return models;
    }
    size_t n = km->conf->n_models;
    models = rcfd_calloc(n, sizeof *models);
    if (models == NULL) {
        rcfd_errf(RCFD_ENOMEM, reason, rs, "out of memory for a new key");
        return NULL;
    }
    kept_t *k = km->kept != NULL ? rcfd_keytab_get(km->kept, sk.b, sk.len) : NULL;
    if (k != NULL) {
        load_kept(km, k, models);
        rcfd_keytab_remove(km->kept, sk.b, sk.len);
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
            models_free(models, km);
            return NULL;
        }
    }
    if (rcfd_keytab_put(km->live, sk.b, sk.len, models) != 0) {
        models_free(models, km);
        rcfd_errf(RCFD_ENOMEM, reason, rs, "out of memory for a new key");
        return NULL;
    }
    return models;
}

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
    void **models = value;
    for (size_t m = 0; c->rc == 0 && shard_of(scoped) == c->shard && m < conf->n_models; m++) {
        const rcfd_model_type_t *t = conf->models[m].type;
        c->rc = rcfd_ckpt_builder_begin(c->b, conf->name, scoped + SHARD_BYTES, len - SHARD_BYTES,
                                        t->name);
        if (c->rc == 0 && (c->rc = t->save(models[m], &c->b->bytes)) != 0) {
            rcfd_ckpt_builder_cancel(c->b);
        } else if (c->rc == 0) {
            rcfd_ckpt_builder_end(c->b);
        }
    }
    return 0;
}

static int save_kept(const char *scoped, size_t len, void *value, void *ud)
{
    save_ctx_t *c = ud;
    const rcfd_pipeline_conf_t *conf = c->km->conf;
    kept_t *k = value;
    const unsigned char *p = kept_bytes(k);
    for (size_t m = 0; c->rc == 0 && shard_of(scoped) == c->shard && m < k->n;
         p += k->lens[m], m++) {
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
    return 0;
}

int rcfd_keymodels_save(rcfd_keymodels_t *km, uint32_t shard, rcfd_ckpt_builder_t *b)
{
    save_ctx_t c = {km, shard, b, 0};
    rcfd_keytab_foreach(km->live, save_live, &c);
    if (km->kept != NULL) {
        rcfd_keytab_foreach(km->kept, save_kept, &c);
    }
    return c.rc;
}

int rcfd_keymodels_keep(rcfd_keymodels_t *km, uint32_t shard, const char *key, size_t key_len,
                        const rcfd_ckpt_entry_t *entries, size_t n, char *errstr, size_t es)
{
    const rcfd_pipeline_conf_t *conf = km->conf;
    if (km->kept == NULL) {
        return rcfd_errf(RCFD_EINVAL, errstr, es, "state is off");
    }
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
    scoped_key_t sk;
    if (scope(&sk, shard, key, key_len) != 0) {
        return rcfd_errf(RCFD_ERANGE, errstr, es, "key is longer than %d bytes", MAX_KEY_BYTES);
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
    /* A live instance of the key is older than the checkpoint being restored: replace it. */
    rcfd_keytab_remove(km->live, sk.b, sk.len);
    kept_put(km, sk.b, sk.len, k);
    return 0;
}

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
}

void rcfd_keymodels_stats(const rcfd_keymodels_t *km, rcfd_keymodels_stats_t *out)
{
    *out = km->st;
    out->live = rcfd_keytab_size(km->live);
    out->kept = km->kept != NULL ? rcfd_keytab_size(km->kept) : 0;
}
