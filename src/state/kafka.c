/* The Kafka checkpoint store: a compacted topic shared by every daemon of a consumer group, so a
 * partition's models follow it to whichever daemon it is assigned.
 *
 * Messages (all of a source partition go to state partition  partition % partitions(topic), so a
 * restore reads one state partition):
 *
 *   "<source>/<topic>/<partition>/<slot>/<pipeline>/<key>"  one key's snapshots: a checkpoint image
 *                                                         (checkpoint.h) with the offset and one
 *                                                         entry per model
 *   "<source>/<topic>/<partition>/commit"                 written after every key message was
 *                                                         acknowledged: the offset and the list
 *                                                         of keys, each naming its slot
 *
 * Two slots alternate between consecutive checkpoints, so compaction never removes the messages a
 * committed checkpoint needs while the next one is half written: a crash mid-write leaves the
 * last commit and its slot intact. A restore takes the newest commit whose key messages are all
 * present and carry its offset, else the commit before it. (source and pipeline names are
 * percent-encoded where they hold '/' or '%'.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "common/keytab.h"
#include "common/log.h"
#include "state/store.h"

#define COMP "state:kafka"

typedef struct kafka_store {
    rcfd_store_t base;
    rd_kafka_t *producer;
    rd_kafka_conf_t *reader_conf; /* template for the reader made at each restore */
    char *topic;
    int timeout_ms;
    int partitions;          /* of the state topic; 0 until known */
    rcfd_keytab_t *last_slot; /* "<source>/<topic>/<partition>/" -> (uintptr_t)slot + 1 */
} kafka_store_t;

typedef struct delivery_tally {
    int pending;
    rd_kafka_resp_err_t err;
} delivery_tally_t;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    delivery_tally_t *t = m->_private;
    t->pending--;
    if (m->err && t->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        t->err = m->err;
    }
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    char comp[96];
    snprintf(comp, sizeof comp, COMP ":rdkafka:%s", fac);
    rcfd_log_syslog(level, comp, buf);
}

static int append_escaped(rcfd_buf_t *b, const char *s, size_t len)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < len; i++) {
        rc = s[i] == '/' ? rcfd_buf_puts(b, "%2F")
             : s[i] == '%' ? rcfd_buf_puts(b, "%25")
                           : rcfd_buf_append(b, &s[i], 1);
    }
    return rc;
}

/* Appends "<slot>/<pipeline>/<key>" for a checkpoint entry's key (pipeline NUL key): the part of a
 * key message's Kafka key after the partition's prefix. */
static int append_key_suffix(rcfd_buf_t *b, int slot, const rcfd_ckpt_entry_t *e)
{
    const char *pipeline, *key;
    size_t pipeline_len, key_len;
    if (rcfd_ckpt_entry_split(e, &pipeline, &pipeline_len, &key, &key_len) != 0) {
        return RCFD_EBADSTATE;
    }
    int rc = rcfd_buf_printf(b, "%d/", slot);
    rc = rc ? rc : append_escaped(b, pipeline, pipeline_len);
    rc = rc ? rc : rcfd_buf_puts(b, "/");
    return rc ? rc : rcfd_buf_append(b, key, key_len);
}

/* The next write of this partition goes to the slot the last commit did not use. */
static void remember_slot(kafka_store_t *st, const rcfd_buf_t *prefix, int slot)
{
    rcfd_keytab_remove(st->last_slot, prefix->p, prefix->len);
    rcfd_keytab_put(st->last_slot, prefix->p, prefix->len, (void *)(uintptr_t)(slot + 1));
}

/* "<source>/<topic>/<partition>/" */
static int prefix_of(const rcfd_ckpt_id_t *id, rcfd_buf_t *b)
{
    rcfd_buf_reset(b);
    int rc = append_escaped(b, id->source, strlen(id->source));
    return rc ? rc : rcfd_buf_printf(b, "/%s/%d/", id->topic, (int)id->partition);
}

/* The state topic's partition count, asked once. */
static int state_partitions(kafka_store_t *st, rd_kafka_t *rk, char *errstr, size_t es)
{
    if (st->partitions > 0) {
        return st->partitions;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, st->topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, st->timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return rcfd_errf(RCFD_EAGAIN, errstr, es, "state topic %s: metadata: %s", st->topic,
                         rd_kafka_err2str(err));
    }
    int n = 0;
    if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        n = md->topics[0].partition_cnt;
    } else if (md->topic_cnt == 1) {
        err = md->topics[0].err;
    }
    rd_kafka_metadata_destroy(md);
    if (n <= 0) {
        return rcfd_errf(RCFD_EAGAIN, errstr, es,
                         "state topic %s: %s (create it with cleanup.policy=compact)", st->topic,
                         err ? rd_kafka_err2str(err) : "no partitions");
    }
    st->partitions = n;
    return n;
}

static int produce(kafka_store_t *st, int32_t part, const rcfd_buf_t *key, const rcfd_buf_t *val,
                   delivery_tally_t *t, char *errstr, size_t es)
{
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            st->producer, RD_KAFKA_V_TOPIC(st->topic), RD_KAFKA_V_PARTITION(part),
            RD_KAFKA_V_KEY(key->p, key->len), RD_KAFKA_V_VALUE(val->p, val->len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(t), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(st->producer, 100);
            continue;
        }
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return rcfd_errf(RCFD_EAGAIN, errstr, es, "state topic %s: produce: %s", st->topic,
                             rd_kafka_err2str(err));
        }
        t->pending++;
        return 0;
    }
}

/* Waits for every message of the tally to be acknowledged (acks=all). */
static int settle(kafka_store_t *st, delivery_tally_t *t, char *errstr, size_t es)
{
    rd_kafka_flush(st->producer, st->timeout_ms);
    if (t->pending > 0) {
        return rcfd_errf(RCFD_EAGAIN, errstr, es,
                         "state topic %s: %d messages not acknowledged within %d ms", st->topic,
                         t->pending, st->timeout_ms);
    }
    if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return rcfd_errf(RCFD_EAGAIN, errstr, es, "state topic %s: delivery failed: %s",
                         st->topic, rd_kafka_err2str(t->err));
    }
    return 0;
}

static int kafka_write(rcfd_store_t *base, const rcfd_ckpt_id_t *id, uint64_t next_offset,
                       const rcfd_ckpt_entry_t *entries, size_t n, char *errstr, size_t es)
{
    kafka_store_t *st = (kafka_store_t *)base;
    int parts = state_partitions(st, st->producer, errstr, es);
    if (parts < 0) {
        return parts;
    }
    int32_t part = id->partition % parts;
    rcfd_buf_t prefix = {0}, key = {0}, val = {0};
    rcfd_ckpt_entry_t *marks = rcfd_calloc(n > 0 ? n : 1, sizeof *marks);
    int rc = marks == NULL ? RCFD_ENOMEM : prefix_of(id, &prefix);
    uintptr_t last = rc == 0 ? (uintptr_t)rcfd_keytab_get(st->last_slot, prefix.p, prefix.len) : 0;
    int slot = last == 1 ? 1 : 0; /* the slot the last commit did not use */
    static const char *const slot_names[2] = {"0", "1"};
    delivery_tally_t t = {0, RD_KAFKA_RESP_ERR_NO_ERROR};
    size_t n_marks = 0;
    for (size_t i = 0, j; rc == 0 && i < n; i = j) {
        j = rcfd_ckpt_key_run_end(entries, i, n);
        rcfd_buf_reset(&key);
        rc = rcfd_buf_append(&key, prefix.p, prefix.len);
        if (rc == 0 && (rc = append_key_suffix(&key, slot, &entries[i])) == RCFD_EBADSTATE) {
            rcfd_errf(rc, errstr, es, "checkpoint entry without a pipeline");
            break;
        }
        rc = rc ? rc : rcfd_ckpt_encode(NULL, next_offset, &entries[i], j - i, &val);
        rc = rc ? rc : produce(st, part, &key, &val, &t, errstr, es);
        marks[n_marks++] = (rcfd_ckpt_entry_t){.key = entries[i].key,
                                               .key_len = entries[i].key_len,
                                               .type = slot_names[slot],
                                               .type_len = 1};
    }
    if (rc == RCFD_ENOMEM) {
        rcfd_errf(rc, errstr, es, "out of memory");
    }
    rc = rc ? rc : settle(st, &t, errstr, es);
    /* Every key is durable: commit. */
    if (rc == 0) {
        rcfd_buf_reset(&key);
        rc = rcfd_buf_append(&key, prefix.p, prefix.len);
        rc = rc ? rc : rcfd_buf_puts(&key, "commit");
        rc = rc ? rc : rcfd_ckpt_encode(id, next_offset, marks, n_marks, &val);
        rc = rc ? rc : produce(st, part, &key, &val, &t, errstr, es);
        rc = rc ? rc : settle(st, &t, errstr, es);
    }
    if (rc == 0) {
        remember_slot(st, &prefix, slot);
    } else {
        rd_kafka_purge(st->producer, RD_KAFKA_PURGE_F_QUEUE);
        rd_kafka_poll(st->producer, 0);
    }
    rcfd_free(marks);
    rcfd_buf_free(&prefix);
    rcfd_buf_free(&key);
    rcfd_buf_free(&val);
    return rc;
}

/* ---- restore ---- */

typedef struct blob {
    size_t len;
    unsigned char data[];
} blob_t;

static void blob_free(void *v, void *ud)
{
    (void)ud;
    rcfd_free(v);
}

typedef struct scan {
    rcfd_keytab_t *latest;  /* message key suffix after the prefix -> blob_t (newest value) */
    blob_t *commits[2];     /* the last two commit messages, [1] newest */
    uint64_t bytes, max_bytes; /* held in `latest`, and the cap (0: none) */
} scan_t;

static int keep_message(scan_t *sc, const rcfd_buf_t *prefix, const rd_kafka_message_t *m)
{
    if (m->key_len < prefix->len || memcmp(m->key, prefix->p, prefix->len) != 0) {
        return 0; /* another partition's state */
    }
    const char *suffix = (const char *)m->key + prefix->len;
    size_t suffix_len = m->key_len - prefix->len;
    if (m->payload == NULL) {
        const blob_t *gone = rcfd_keytab_get(sc->latest, suffix, suffix_len);
        if (gone != NULL) {
            sc->bytes -= gone->len;
        }
        rcfd_keytab_remove(sc->latest, suffix, suffix_len); /* tombstone */
        return 0;
    }
    blob_t *b = rcfd_malloc(sizeof *b + m->len);
    if (b == NULL) {
        return RCFD_ENOMEM;
    }
    b->len = m->len;
    memcpy(b->data, m->payload, m->len);
    if (suffix_len == 6 && memcmp(suffix, "commit", 6) == 0) {
        rcfd_free(sc->commits[0]);
        sc->commits[0] = sc->commits[1];
        sc->commits[1] = b;
        return 0;
    }
    const blob_t *old = rcfd_keytab_get(sc->latest, suffix, suffix_len);
    if (old != NULL) {
        sc->bytes -= old->len;
    }
    rcfd_keytab_remove(sc->latest, suffix, suffix_len);
    if (rcfd_keytab_put(sc->latest, suffix, suffix_len, b) != 0) {
        rcfd_free(b);
        return RCFD_ENOMEM;
    }
    sc->bytes += b->len;
    if (sc->max_bytes > 0 && sc->bytes > sc->max_bytes) {
        return RCFD_ERANGE;
    }
    return 0;
}

/* Reads the state partition from its start to its end as it was when the read began. */
static int scan_partition(kafka_store_t *st, int32_t part, const rcfd_buf_t *prefix, scan_t *sc,
                          char *errstr, size_t es)
{
    char kerr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(st->reader_conf);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, kerr, sizeof kerr);
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "state reader: %s", kerr);
    }
    int rc = 0;
    int parts = state_partitions(st, rk, errstr, es);
    if (parts < 0) {
        rd_kafka_destroy(rk);
        return parts;
    }
    part %= parts;
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(rk, st->topic, part, &lo, &hi, st->timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rc = rcfd_errf(RCFD_EAGAIN, errstr, es, "state topic %s[%d]: watermarks: %s", st->topic,
                       (int)part, rd_kafka_err2str(err));
    } else if (hi > lo) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, st->topic, part)->offset = lo;
        err = rd_kafka_assign(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        int idle_ms = 0;
        int64_t next = lo;
        while (rc == 0 && err == RD_KAFKA_RESP_ERR_NO_ERROR && next < hi) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
            if (m == NULL) {
                if ((idle_ms += 100) >= st->timeout_ms) {
                    rc = rcfd_errf(RCFD_EAGAIN, errstr, es,
                                   "state topic %s[%d]: read stalled at offset %lld of %lld",
                                   st->topic, (int)part, (long long)next, (long long)hi);
                }
                continue;
            }
            idle_ms = 0;
            if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                next = m->offset + 1;
                rc = keep_message(sc, prefix, m);
                if (rc == RCFD_ENOMEM) {
                    rcfd_errf(rc, errstr, es, "out of memory reading the state topic");
                } else if (rc == RCFD_ERANGE) {
                    rcfd_errf(rc, errstr, es,
                              "state topic %s[%d]: the partition's key messages hold more than "
                              "state.max_checkpoint_bytes (%llu)",
                              st->topic, (int)part, (unsigned long long)sc->max_bytes);
                }
            } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                rc = rcfd_errf(RCFD_EAGAIN, errstr, es, "state topic %s[%d]: %s", st->topic,
                               (int)part, rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
        }
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rc = rcfd_errf(RCFD_EAGAIN, errstr, es, "state topic %s[%d]: assign: %s", st->topic,
                           (int)part, rd_kafka_err2str(err));
        }
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

/* Assembles the checkpoint a commit describes: every key it lists must have a message in the
 * slot it names, carrying the commit's offset. */
static int assemble(scan_t *sc, const blob_t *commit, const rcfd_ckpt_id_t *want,
                    rcfd_buf_t *image, int *slot_used, char *errstr, size_t es)
{
    void *copy = rcfd_malloc(commit->len ? commit->len : 1);
    if (copy == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    memcpy(copy, commit->data, commit->len);
    rcfd_ckpt_t marks;
    int rc = rcfd_ckpt_decode(copy, commit->len, &marks, errstr, es);
    if (rc != 0) {
        rcfd_free(copy);
        return rc;
    }
    rcfd_ckpt_entry_t *all = NULL;
    size_t n_all = 0, cap = 0;
    rcfd_ckpt_t *keys = rcfd_calloc(marks.n_entries ? marks.n_entries : 1, sizeof *keys);
    size_t n_keys = 0;
    rcfd_buf_t suffix = {0};
    if (keys == NULL) {
        rc = rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    for (size_t i = 0; rc == 0 && i < marks.n_entries; i++) {
        const rcfd_ckpt_entry_t *mk = &marks.entries[i];
        const char *pipeline, *k;
        size_t pl, kl;
        if (mk->type_len != 1 || (mk->type[0] != '0' && mk->type[0] != '1') ||
            rcfd_ckpt_entry_split(mk, &pipeline, &pl, &k, &kl) != 0) {
            rc = rcfd_errf(RCFD_EBADSTATE, errstr, es, "commit entry %zu is malformed", i);
            break;
        }
        *slot_used = mk->type[0] - '0';
        char pname[256]; /* for messages */
        snprintf(pname, sizeof pname, "%.*s", (int)pl, pipeline);
        rcfd_buf_reset(&suffix);
        rc = append_key_suffix(&suffix, *slot_used, mk);
        const blob_t *b = rc == 0 ? rcfd_keytab_get(sc->latest, suffix.p, suffix.len) : NULL;
        if (rc == 0 && b == NULL) {
            rc = rcfd_errf(RCFD_ETRUNCATED, errstr, es,
                           "key \"%.*s\" of pipeline %s is missing from slot %c", (int)kl, k,
                           pname, mk->type[0]);
            break;
        }
        void *data = rc == 0 ? rcfd_malloc(b->len ? b->len : 1) : NULL;
        if (rc == 0 && data == NULL) {
            rc = rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
            break;
        }
        if (rc != 0) {
            break;
        }
        memcpy(data, b->data, b->len);
        char why[256];
        if ((rc = rcfd_ckpt_decode(data, b->len, &keys[n_keys], why, sizeof why)) != 0) {
            rcfd_free(data);
            rc = rcfd_errf(rc, errstr, es, "key \"%.*s\" of pipeline %s: %s", (int)kl, k, pname,
                           why);
            break;
        }
        n_keys++;
        if (keys[n_keys - 1].next_offset != marks.next_offset) {
            rc = rcfd_errf(RCFD_EBADSTATE, errstr, es,
                           "key \"%.*s\" of pipeline %s holds offset %llu, the commit %llu",
                           (int)kl, k, pname, (unsigned long long)keys[n_keys - 1].next_offset,
                           (unsigned long long)marks.next_offset);
            break;
        }
        for (size_t e = 0; e < keys[n_keys - 1].n_entries; e++) {
            if (n_all == cap) {
                cap = cap ? cap * 2 : 64;
                rcfd_ckpt_entry_t *v = rcfd_realloc(all, cap * sizeof *v);
                if (v == NULL) {
                    rc = rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
                    break;
                }
                all = v;
            }
            all[n_all++] = keys[n_keys - 1].entries[e];
        }
    }
    if (rc == 0 && (rc = rcfd_ckpt_check_id(&marks, want, errstr, es)) == 0 &&
        rcfd_ckpt_encode(want, marks.next_offset, all, n_all, image) != 0) {
        rc = rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    for (size_t i = 0; i < n_keys; i++) {
        rcfd_ckpt_free(&keys[i]);
    }
    rcfd_free(keys);
    rcfd_free(all);
    rcfd_buf_free(&suffix);
    rcfd_ckpt_free(&marks);
    return rc;
}

static int kafka_read(rcfd_store_t *base, const rcfd_ckpt_id_t *id, uint64_t max_bytes,
                      rcfd_ckpt_t *out, char *warning, size_t ws, char *errstr, size_t es)
{
    kafka_store_t *st = (kafka_store_t *)base;
    warning[0] = '\0';
    rcfd_buf_t prefix = {0}, image = {0};
    scan_t sc = {0};
    int rc = prefix_of(id, &prefix);
    /* No cap: a keytab evicts beyond its cap, and a checkpoint needs every key message. */
    rc = rc ? rc : rcfd_keytab_new(SIZE_MAX, blob_free, NULL, &sc.latest);
    sc.max_bytes = max_bytes;
    if (rc != 0) {
        rcfd_buf_free(&prefix);
        return rcfd_errf(rc, errstr, es, "out of memory");
    }
    rc = scan_partition(st, id->partition, &prefix, &sc, errstr, es);
    if (rc == 0 && sc.commits[1] == NULL) {
        rc = rcfd_errf(RCFD_ENOENT, errstr, es, "no checkpoint");
    }
    int slot = 0;
    if (rc == 0) {
        char why[512];
        rc = assemble(&sc, sc.commits[1], id, &image, &slot, why, sizeof why);
        if (rc != 0 && rc != RCFD_ENOMEM && sc.commits[0] != NULL) {
            snprintf(warning, ws, "the latest checkpoint is refused (%s); using the previous one",
                     why);
            rc = assemble(&sc, sc.commits[0], id, &image, &slot, errstr, es);
        } else if (rc != 0) {
            rcfd_errf(rc, errstr, es, "the latest checkpoint is refused (%s)", why);
        }
    }
    if (rc == 0) {
        void *data = image.p;
        size_t len = image.len;
        image = (rcfd_buf_t){0};
        rc = rcfd_ckpt_decode(data, len, out, errstr, es);
        if (rc != 0) {
            rcfd_free(data);
        }
        out->from_previous = warning[0] != '\0';
        remember_slot(st, &prefix, slot); /* the next write spares the slot just restored */
    }
    rcfd_keytab_destroy(sc.latest);
    rcfd_free(sc.commits[0]);
    rcfd_free(sc.commits[1]);
    rcfd_buf_free(&prefix);
    rcfd_buf_free(&image);
    return rc;
}

static void kafka_destroy(rcfd_store_t *base)
{
    kafka_store_t *st = (kafka_store_t *)base;
    if (st->producer != NULL) {
        rd_kafka_flush(st->producer, 1000);
        rd_kafka_destroy(st->producer);
    }
    if (st->reader_conf != NULL) {
        rd_kafka_conf_destroy(st->reader_conf);
    }
    rcfd_keytab_destroy(st->last_slot);
    rcfd_free(st->topic);
    rcfd_free(st);
}

static int set(rd_kafka_conf_t *c, const char *k, const char *v, char *errstr, size_t es)
{
    char kerr[512];
    if (rd_kafka_conf_set(c, k, v, kerr, sizeof kerr) != RD_KAFKA_CONF_OK) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "state.rdkafka.\"%s\": %s", k, kerr);
    }
    return 0;
}

static int has_key(const rcfd_kv_t *kv, const char *k)
{
    for (size_t i = 0; i < kv->n; i++) {
        if (strcmp(kv->keys[i], k) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The user's settings over rcfd's defaults, for the producer or the reader. */
static int make_conf(const rcfd_state_conf_t *c, const char *bootstrap, int producer,
                     rd_kafka_conf_t **out, char *errstr, size_t es)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    static const char *const producer_defaults[][2] = {
        {"acks", "all"}, {"linger.ms", "5"}, {"message.max.bytes", "100000000"}};
    static const char *const reader_defaults[][2] = {
        {"group.id", "rcfd-state-reader"}, {"enable.auto.commit", "false"},
        {"enable.partition.eof", "false"}, {"fetch.message.max.bytes", "100000000"}};
    const char *const(*defs)[2] = producer ? producer_defaults : reader_defaults;
    size_t n_defs = producer ? 3 : 4;
    int rc = 0;
    if (bootstrap != NULL && !has_key(&c->rdkafka, "bootstrap.servers")) {
        rc = set(conf, "bootstrap.servers", bootstrap, errstr, es);
    }
    for (size_t i = 0; rc == 0 && i < n_defs; i++) {
        if (!has_key(&c->rdkafka, defs[i][0])) {
            rc = set(conf, defs[i][0], defs[i][1], errstr, es);
        }
    }
    for (size_t i = 0; rc == 0 && i < c->rdkafka.n; i++) {
        /* Producer-only keys would only draw warnings from the reader. */
        if (!producer && (strcmp(c->rdkafka.keys[i], "acks") == 0 ||
                          strcmp(c->rdkafka.keys[i], "linger.ms") == 0 ||
                          strcmp(c->rdkafka.keys[i], "compression.codec") == 0 ||
                          strcmp(c->rdkafka.keys[i], "enable.idempotence") == 0)) {
            continue;
        }
        rc = set(conf, c->rdkafka.keys[i], c->rdkafka.vals[i], errstr, es);
    }
    if (rc != 0) {
        rd_kafka_conf_destroy(conf);
        return rc;
    }
    rd_kafka_conf_set_log_cb(conf, on_log);
    if (producer) {
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    }
    *out = conf;
    return 0;
}

int rcfd_store_kafka_new(const rcfd_state_conf_t *c, const char *default_bootstrap,
                         rcfd_store_t **out, char *errstr, size_t es)
{
    *out = NULL;
    kafka_store_t *st = rcfd_calloc(1, sizeof *st);
    if (st == NULL || (st->topic = rcfd_strdup(c->topic)) == NULL ||
        rcfd_keytab_new(SIZE_MAX, NULL, NULL, &st->last_slot) != 0) {
        if (st != NULL) {
            kafka_destroy(&st->base);
        }
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    st->timeout_ms = (int)c->kafka_timeout_ms;
    st->base.kind = "kafka";
    snprintf(st->base.where, sizeof st->base.where, "topic %s", c->topic);
    st->base.write = kafka_write;
    st->base.read = kafka_read;
    st->base.destroy = kafka_destroy;
    rd_kafka_conf_t *pconf = NULL;
    int rc = make_conf(c, default_bootstrap, 1, &pconf, errstr, es);
    rc = rc ? rc : make_conf(c, default_bootstrap, 0, &st->reader_conf, errstr, es);
    if (rc == 0) {
        char kerr[512];
        st->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, kerr, sizeof kerr);
        if (st->producer == NULL) {
            rd_kafka_conf_destroy(pconf);
            rc = rcfd_errf(RCFD_ECONFIG, errstr, es, "state: %s", kerr);
        }
    } else if (pconf != NULL) {
        rd_kafka_conf_destroy(pconf);
    }
    if (rc != 0) {
        kafka_destroy(&st->base);
        return rc;
    }
    *out = &st->base;
    return 0;
}
