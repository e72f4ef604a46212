/* Per-key model instances: a hash table with a cap and least-recently-used eviction.
 *
 * Ownership: the table copies keys and owns the values it holds; it calls `free_value` for a value
 * when evicting it and from rcfd_keytab_destroy(). Pointers returned by get/put stay valid until
 * the entry is evicted (by a later put) or the table is destroyed. Not thread-safe. */
#ifndef RCFD_COMMON_KEYTAB_H
#define RCFD_COMMON_KEYTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct rcfd_keytab rcfd_keytab_t;
typedef void (*rcfd_keytab_free_cb)(void *value, void *ud);
/* Sees an entry the cap evicts, before `free_value` frees its value (the state store keeps a
 * snapshot of evicted models). */
typedef void (*rcfd_keytab_evict_cb)(const char *key, size_t len, void *value, void *ud);
/* Visits an entry; returning nonzero removes it (its value is freed). */
typedef int (*rcfd_keytab_visit_cb)(const char *key, size_t len, void *value, void *ud);

int rcfd_keytab_new(size_t max_keys, rcfd_keytab_free_cb free_value, void *ud,
                    rcfd_keytab_t **out);
void rcfd_keytab_destroy(rcfd_keytab_t *t);

/* The value for key, marked most recently used; NULL if absent. */
void *rcfd_keytab_get(rcfd_keytab_t *t, const char *key, size_t len);
/* Inserts a new key (which must be absent), evicting the least recently used entry when full.
 * On failure the table is unchanged and `value` still belongs to the caller. */
int rcfd_keytab_put(rcfd_keytab_t *t, const char *key, size_t len, void *value);

void rcfd_keytab_on_evict(rcfd_keytab_t *t, rcfd_keytab_evict_cb cb);
/* Removes key; returns 1 if it was present (its value is freed), else 0. */
int rcfd_keytab_remove(rcfd_keytab_t *t, const char *key, size_t len);
/* Visits every entry, least recently used first; the callback may ask to remove the entry it
 * sees, but must not otherwise change the table. Recency is unchanged. */
void rcfd_keytab_foreach(rcfd_keytab_t *t, rcfd_keytab_visit_cb cb, void *ud);

size_t rcfd_keytab_size(const rcfd_keytab_t *t);
uint64_t rcfd_keytab_evictions(const rcfd_keytab_t *t);
/* Least recently used key (for tests and logs); NULL when empty. */
const char *rcfd_keytab_lru_key(const rcfd_keytab_t *t);

/* The least recently used entry without touching its recency: its value (NULL when empty), key
 * and length. The key stays valid until the entry goes. */
void *rcfd_keytab_lru(const rcfd_keytab_t *t, const char **key, size_t *len);
/* Removes key without freeing its value, which goes back to the caller; NULL if absent. */
void *rcfd_keytab_detach(rcfd_keytab_t *t, const char *key, size_t len);
/* Evicts the least recently used entry as the cap would (on_evict, then free_value); 0 if empty. */
int rcfd_keytab_evict_lru(rcfd_keytab_t *t);

/* FNV-1a; and the seed a key's models get from a model's master seed. */
uint64_t rcfd_hash(const char *key, size_t len);
uint64_t rcfd_key_seed(uint64_t master_seed, const char *key, size_t len);

#endif
