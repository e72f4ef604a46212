#include "common/keytab.h"

#include <stdint.h>
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
    rcfd_keytab_evict_cb on_evict;
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
    size_t nb = 16; /* grows with the table (grow()) */
    while (nb < max_keys && nb < 1024) {
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

static entry_t *find(const rcfd_keytab_t *t, const char *key, size_t len)
{
    uint64_t h = rcfd_hash(key, len);
    for (entry_t *e = t->buckets[h & (t->n_buckets - 1)]; e != NULL; e = e->hnext) {
        if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0) {
            return e;
        }
    }
    return NULL;
}

void *rcfd_keytab_get(rcfd_keytab_t *t, const char *key, size_t len)
{
    entry_t *e = find(t, key, len);
    if (e == NULL) {
        return NULL;
    }
    if (t->mru != e) {
        lru_unlink(t, e);
        lru_push_front(t, e);
    }
    return e->value;
}

static void unlink_entry(rcfd_keytab_t *t, entry_t *e)
{
    entry_t **pp = &t->buckets[e->hash & (t->n_buckets - 1)];
    while (*pp != e) {
        pp = &(*pp)->hnext;
    }
    *pp = e->hnext;
    lru_unlink(t, e);
    t->size--;
}

static void remove_entry(rcfd_keytab_t *t, entry_t *e)
{
    unlink_entry(t, e);
    if (t->free_value) {
        t->free_value(e->value, t->ud);
    }
    rcfd_free(e);
}

/* Doubles the buckets once the table holds more entries than buckets (chains stay short). A
 * failed allocation just keeps the longer chains. */
static void grow(rcfd_keytab_t *t)
{
    size_t nb = t->n_buckets * 2;
    entry_t **b = rcfd_calloc(nb, sizeof *b);
    if (b == NULL) {
        return;
    }
    for (size_t i = 0; i < t->n_buckets; i++) {
        for (entry_t *e = t->buckets[i], *next; e != NULL; e = next) {
            next = e->hnext;
            e->hnext = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    }
    rcfd_free(t->buckets);
    t->buckets = b;
    t->n_buckets = nb;
}

int rcfd_keytab_put(rcfd_keytab_t *t, const char *key, size_t len, void *value)
{
    entry_t *e = rcfd_malloc(sizeof *e + len + 1);
    if (e == NULL) {
        return RCFD_ENOMEM;
    }
    if (t->size >= t->max) {
        if (t->on_evict != NULL) {
            t->on_evict(t->lru->key, t->lru->len, t->lru->value, t->ud);
        }
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
    if (t->size > t->n_buckets && t->n_buckets < (SIZE_MAX / 2) / sizeof *t->buckets) {
        grow(t);
    }
    return 0;
}

void rcfd_keytab_on_evict(rcfd_keytab_t *t, rcfd_keytab_evict_cb cb)
{
    t->on_evict = cb;
}

int rcfd_keytab_remove(rcfd_keytab_t *t, const char *key, size_t len)
{
    entry_t *e = find(t, key, len);
    if (e == NULL) {
        return 0;
    }
    remove_entry(t, e);
    return 1;
}

void rcfd_keytab_foreach(rcfd_keytab_t *t, rcfd_keytab_visit_cb cb, void *ud)
{
    entry_t *e = t->lru;
    while (e != NULL) {
        entry_t *more_recent = e->lru_prev;
        if (cb(e->key, e->len, e->value, ud)) {
            remove_entry(t, e);
        }
        e = more_recent;
    }
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

void *rcfd_keytab_lru(const rcfd_keytab_t *t, const char **key, size_t *len)
{
    if (t->lru == NULL) {
        return NULL;
    }
    *key = t->lru->key;
    *len = t->lru->len;
    return t->lru->value;
}

void *rcfd_keytab_detach(rcfd_keytab_t *t, const char *key, size_t len)
{
    entry_t *e = find(t, key, len);
    if (e == NULL) {
        return NULL;
    }
    void *v = e->value;
    unlink_entry(t, e);
    rcfd_free(e);
    return v;
}

int rcfd_keytab_evict_lru(rcfd_keytab_t *t)
{
    if (t->lru == NULL) {
        return 0;
    }
    if (t->on_evict != NULL) {
        t->on_evict(t->lru->key, t->lru->len, t->lru->value, t->ud);
    }
    remove_entry(t, t->lru);
    t->evictions++;
    return 1;
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
