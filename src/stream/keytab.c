#include "stream/keytab.h"

#include <string.h>

#include "common/rng.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"

typedef struct entry {
    struct entry *hnext;             /* hash chain */
    struct entry *lru_prev, *lru_next; /* prev: more recent */
    uint64_t hash;
    void *value;
    size_t len;
    char key[]; /* NUL-terminated */
} entry_t;

struct rcfd_keytab {
    entry_t **buckets;
    size_t n_buckets;
    size_t size, max;
    entry_t *mru, *lru;
    uint64_t evictions;
    rcfd_keytab_free_cb free_value;
    void *ud;
};

uint64_t rcfd_hash(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ull;
    }
    return h;
}

uint64_t rcfd_key_seed(uint64_t master_seed, const char *key, size_t len)
{
    return rcfd_rng_derive(master_seed, rcfd_hash(key, len));
}

int rcfd_keytab_new(size_t max_keys, rcfd_keytab_free_cb free_value, void *ud,
                    rcfd_keytab_t **out)
{
    rcfd_keytab_t *t = rcfd_calloc(1, sizeof *t);
    if (t == NULL) {
        return RCFD_ENOMEM;
    }
    size_t nb = 16;
    while (nb < max_keys && nb < (1u << 24)) {
        nb *= 2;
    }
    t->buckets = rcfd_calloc(nb, sizeof *t->buckets);
    if (t->buckets == NULL) {
        rcfd_free(t);
        return RCFD_ENOMEM;
    }
    t->n_buckets = nb;
    t->max = max_keys ? max_keys : 1;
    t->free_value = free_value;
    t->ud = ud;
    *out = t;
    return 0;
}

static void lru_unlink(rcfd_keytab_t *t, entry_t *e)
{
    if (e->lru_prev) {
        e->lru_prev->lru_next = e->lru_next;
    } else {
        t->mru = e->lru_next;
    }
    if (e->lru_next) {
        e->lru_next->lru_prev = e->lru_prev;
    } else {
        t->lru = e->lru_prev;
    }
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(rcfd_keytab_t *t, entry_t *e)
{
    e->lru_prev = NULL;
    e->lru_next = t->mru;
    if (t->mru) {
        t->mru->lru_prev = e;
    }
    t->mru = e;
    if (t->lru == NULL) {
        t->lru = e;
    }
}

void *rcfd_keytab_get(rcfd_keytab_t *t, const char *key, size_t len)
{
    uint64_t h = rcfd_hash(key, len);
    for (entry_t *e = t->buckets[h & (t->n_buckets - 1)]; e != NULL; e = e->hnext) {
        if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0) {
            if (t->mru != e) {
                lru_unlink(t, e);
                lru_push_front(t, e);
            }
            return e->value;
        }
    }
    return NULL;
}

static void remove_entry(rcfd_keytab_t *t, entry_t *e)
{
    entry_t **pp = &t->buckets[e->hash & (t->n_buckets - 1)];
    while (*pp != e) {
        pp = &(*pp)->hnext;
    }
    *pp = e->hnext;
    lru_unlink(t, e);
    t->size--;
    if (t->free_value) {
        t->free_value(e->value, t->ud);
    }
    rcfd_free(e);
}

int rcfd_keytab_put(rcfd_keytab_t *t, const char *key, size_t len, void *value)
{
    entry_t *e = rcfd_malloc(sizeof *e + len + 1);
    if (e == NULL) {
        return RCFD_ENOMEM;
    }
    if (t->size >= t->max) {
        remove_entry(t, t->lru);
        t->evictions++;
    }
    e->hash = rcfd_hash(key, len);
    e->value = value;
    e->len = len;
    memcpy(e->key, key, len);
    e->key[len] = '\0';
    entry_t **b = &t->buckets[e->hash & (t->n_buckets - 1)];
    e->hnext = *b;
    *b = e;
    lru_push_front(t, e);
    t->size++;
    return 0;
}

size_t rcfd_keytab_size(const rcfd_keytab_t *t)
{
    return t->size;
}

uint64_t rcfd_keytab_evictions(const rcfd_keytab_t *t)
{
    return t->evictions;
}

const char *rcfd_keytab_lru_key(const rcfd_keytab_t *t)
{
    return t->lru ? t->lru->key : NULL;
}

void rcfd_keytab_destroy(rcfd_keytab_t *t)
{
    if (t == NULL) {
        return;
    }
    while (t->lru != NULL) {
        remove_entry(t, t->lru);
    }
    rcfd_free(t->buckets);
    rcfd_free(t);
}
