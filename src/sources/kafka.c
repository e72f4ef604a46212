/* Kafka source: a librdkafka consumer-group member attached to the loop (style guide 2.8).
 *
 * The consumer queue signals an eventfd (rd_kafka_queue_io_event_enable) watched by a uv_poll.
 * Each callback drains at most poll_budget_messages / poll_budget_us, then continues from a
 * uv_idle while the queue is not empty (librdkafka writes the fd only when the queue goes from
 * empty to non-empty, so stopping early without the idle would stall). A safety uv_timer drains
 * too, so rebalances, errors and group heartbeats keep flowing while idle or paused.
 *
 * At-least-once: enable.auto.offset.store=false; each record's offset enters its partition's
 * ackq; when every output accepted it the contiguous watermark is stored (a uv_prepare batches
 * the rd_kafka_offsets_store calls once per loop iteration) and librdkafka's auto-commit
 * persists it. Revoked partitions store their watermark before being unassigned; records of
 * theirs still in flight complete without storing (they will be read again: duplicates, never
 * losses).
 *
 * With runtime.workers > 1, each partition is fetched into its own queue (split_part()) and read
 * while its worker has room; a burst read when the worker turns busy is parked in order (park()),
 * and reading goes on for the other partitions.
 *
 * With a state store (state.h), an assigned partition is paused while its checkpoint is restored;
 * records fetched meanwhile are dropped unrouted, and the partition is then sought to the
 * checkpoint's offset (or back to the first dropped record) and resumed.
 *
 * A 1 s watch timer says what a silent consumer is doing: waiting for its first partition
 * assignment (a group waits for its previous members to rejoin or time out), and while it is
 * behind, how far and how fast it catches up. The brokers' state (librdkafka's statistics, every
 * 5 s unless statistics.interval.ms is set, its all-brokers-down error, and records fetched after
 * that: fetched()) feeds /health and /ready. */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "stream/ackq.h"
#include "common/log.h"
#include "admin/metrics.h"
#include "stream/runtime_int.h"

typedef struct kpart {
    struct kpart *next;
    char *topic;
    int32_t partition;
    rcfd_ackq_t q;
    uint32_t shard;
    int revoked;
    int dirty;
    int restoring;         /* held until the state manager restored its checkpoint */
    int64_t first_dropped; /* first record fetched (and dropped) while restoring; -1 none */
    int64_t resume_at;     /* after a restore: the offset the next record must have; -1 none */
    int reseeks;
    int64_t committed; /* the last offset the group coordinator accepted for it; -1 none yet */
    rd_kafka_message_t **parked; /* with workers: held while their worker is busy (park()) */
    size_t park_head, park_n, park_cap;
    rd_kafka_queue_t *pq; /* with workers: its own fetch queue, split off the consumer queue */
    rcfd_buf_t head; /* the records' origin up to the offset, encoded once (encode.h) */
} kpart_t;

/* Messages read past one that waits for its key's spilled models, so that the spill reads of the
 * keys behind it run at once instead of one by one. */
#define LOOKAHEAD 32

typedef struct kafka_src {
    rcfd_source_t *s;
    char comp[96];
    rd_kafka_t *rk;
    rd_kafka_queue_t *q;
    rd_kafka_queue_t *closeq;
    int wakefd;
    uv_poll_t poll;
    uv_idle_t idle;
    uv_timer_t safety;
    uv_prepare_t store;
    uv_timer_t close_timer; /* close_timeout_ms: the deadline of the group leave and commit */
    uv_timer_t watch;       /* 1 s: the assignment wait, the catch-up rate */
    uint64_t subscribed_ms, next_wait_log_ms;
    uint64_t assigned_ms;   /* the latest assignment */
    int assigned_once;      /* a rebalance assigned this member partitions (maybe none) */
    int brokers_down;       /* every broker unreachable (_ALL_BROKERS_DOWN, or the statistics) */
    size_t stale_msgs;      /* messages queued locally when brokers_down was set (fetched()) */
    int brokers_up, brokers_known; /* from the last statistics: real brokers UP / known */
    uint64_t rate_ms, rate_records;  /* the catch-up rate's previous sample */
    int64_t behind;                  /* lag at the last rate sample; -1 before any */
    uint64_t next_rate_log_ms;
    uint64_t commit_errors;          /* offset commits the coordinator refused or that failed */
    rd_kafka_resp_err_t last_commit_err; /* logged once per change, not per auto-commit */
    kpart_t *parts;
    kpart_t *last; /* the partition of the previous message (or NULL): runs come from one */
    /* Messages taken from the consumer but not routed yet, in order: the first waits for its
     * key's spilled models (rcfd_runtime_ready); the ones behind it were read ahead so that
     * their keys' reads run meanwhile. */
    rd_kafka_message_t *ahead[LOOKAHEAD];
    size_t ahead_head, n_ahead;
    size_t n_parked, parked_bytes; /* over every partition: messages, payload bytes */
    kpart_t *next_split; /* the split partition read_split() tries first */
    int head_waiting; /* the first one was refused; until wake() */
    rcfd_delivery_t *spare; /* recycled deliveries, chained through `part` */
    int paused, stopping, closing, closed, fatal;
    int close_abandoned; /* the close missed its deadline: the handle is never destroyed */
    char cluster[128];   /* the cluster id, once known (state jobs only) */
    struct kafka_src *next_abandoned;
} kafka_src_t;

static const uint64_t wake_payload = 1;

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    kafka_src_t *k = rd_kafka_opaque(rk);
    char comp[160];
    snprintf(comp, sizeof comp, "%s:rdkafka:%s", k ? k->comp : "kafka", fac);
    rcfd_log_syslog(level, comp, buf);
}

/* Messages librdkafka holds for the application: the consumer queue's, and with workers each
 * partition's own queue (an upper bound: a queue also counts its other events). */
static size_t queued_locally(const kafka_src_t *k)
{
    size_t n = k->q != NULL ? rd_kafka_queue_length(k->q) : 0;
    for (const kpart_t *p = k->parts; p != NULL; p = p->next) {
        n += p->pq != NULL ? rd_kafka_queue_length(p->pq) : 0;
    }
    return n;
}

/* A message newly taken from librdkafka's queues. The ones fetched before every broker went
 * down prove nothing about the brokers, and the queues may hold a whole prefetch of them: only
 * a message past that many says a fetch succeeded since, and the brokers are up (else /health
 * would answer up while the prefetch drains, until the next statistics). */
static void fetched(kafka_src_t *k, const rd_kafka_message_t *m)
{
    if (!k->brokers_down || m->err) {
        return;
    }
    if (k->stale_msgs > 0) {
        k->stale_msgs--;
        return;
    }
    k->brokers_down = 0;
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    kafka_src_t *k = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(rk, why, sizeof why);
        RCFD_LOG(RCFD_LOG_ERROR, k->comp, "fatal error %s: %s", rd_kafka_err2name(ferr), why);
        k->fatal = 1;
        rcfd_runtime_fail(k->s->rt, RCFD_EXIT_UNAVAILABLE);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        k->brokers_down = 1;
        k->stale_msgs = queued_locally(k);
    }
    /* librdkafka has logged a connection failure already (facility FAIL, at error): one line per
     * failure, the error callback's copy only at debug. */
    int logged = err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__RESOLVE ||
                 err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__SSL;
    RCFD_LOG(logged ? RCFD_LOG_DEBUG : RCFD_LOG_WARN, k->comp, "%s: %s",
             rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* librdkafka's statistics (a JSON document per statistics.interval.ms): the brokers' states. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    kafka_src_t *k = opaque;
    cJSON *j = cJSON_ParseWithLength(json, len);
    const cJSON *b;
    int up = 0, known = 0, boot_up = 0;
    cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(j, "brokers"))
    {
        const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "state"));
        double id = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(b, "nodeid"));
        int is_up = st != NULL && strcmp(st, "UP") == 0;
        if (id >= 0) { /* a broker from the metadata, not a bootstrap address */
            known++;
            up += is_up;
        } else {
            boot_up += is_up;
        }
    }
    cJSON_Delete(j);
    k->brokers_known = known;
    k->brokers_up = up;
    int was_down = k->brokers_down;
    k->brokers_down = known > 0 ? up == 0 : boot_up == 0 && k->brokers_down;
    if (k->brokers_down && !was_down) {
        k->stale_msgs = queued_locally(k);
    }
    return 0; /* librdkafka frees json */
}

static kpart_t *find_part(kafka_src_t *k, const char *topic, int32_t partition)
{
    for (kpart_t *p = k->parts; p != NULL; p = p->next) {
        if (!p->revoked && p->partition == partition && strcmp(p->topic, topic) == 0) {
            return p;
        }
    }
    return NULL;
}

static kpart_t *add_part(kafka_src_t *k, const char *topic, int32_t partition)
{
    kpart_t *p = find_part(k, topic, partition);
    if (p != NULL) {
        return p;
    }
    p = rcfd_calloc(1, sizeof *p);
    if (p == NULL || (p->topic = rcfd_strdup(topic)) == NULL) {
        rcfd_free(p);
        return NULL;
    }
    p->partition = partition;
    p->first_dropped = p->resume_at = p->committed = -1;
    rcfd_origin_t o = {.source = k->s->conf->name, .topic = p->topic, .partition = partition};
    if (rcfd_encode_origin_head(&p->head, &o) != 0 ||
        rcfd_state_shard(k->s->rt->state, k->s->index, topic, partition, &p->shard) != 0) {
        rcfd_buf_free(&p->head);
        rcfd_free(p->topic);
        rcfd_free(p);
        return NULL;
    }
    rcfd_ackq_init(&p->q);
    p->next = k->parts;
    k->parts = p;
    return p;
}

/* The result of an offset commit (auto-commit, or the final one of a revoke or close), served by
 * the consumer poll on the loop. It feeds rcfd_committed_offset: how far a restart of this group
 * would read again. _NO_OFFSET means nothing new was stored since the last commit. */
static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk;
    kafka_src_t *k = opaque;
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
        return;
    }
    rd_kafka_resp_err_t first = err;
    for (int i = 0; offsets != NULL && i < offsets->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &offsets->elems[i];
        if (tp->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            first = first != RD_KAFKA_RESP_ERR_NO_ERROR ? first : tp->err;
            continue;
        }
        kpart_t *p = tp->offset >= 0 ? find_part(k, tp->topic, tp->partition) : NULL;
        if (p != NULL) {
            p->committed = tp->offset;
        }
    }
    if (first != RD_KAFKA_RESP_ERR_NO_ERROR) {
        k->commit_errors++;
    }
    if (first != k->last_commit_err) {
        if (first != RD_KAFKA_RESP_ERR_NO_ERROR) {
            RCFD_LOG(RCFD_LOG_WARN, k->comp,
                     "offset commit failed: %s (records since the last commit will be read again "
                     "after a restart)",
                     rd_kafka_err2str(first));
        } else {
            RCFD_LOG(RCFD_LOG_INFO, k->comp, "offset commits succeed again");
        }
        k->last_commit_err = first;
    }
}

/* ---- split partition queues (runtime.workers > 1) ----
 * librdkafka forwards every partition's fetch queue to the one consumer queue, and stops fetching
 * for all of them once that queue holds queued.min.messages: the records of a partition whose
 * worker is behind then fill it, and the other workers starve however far the source parks.
 * With workers, each assigned partition's queue is split off before the assignment takes effect
 * (its fetch start then leaves the application's forwarding alone), so each partition is fetched
 * and read on its own: one whose worker is busy waits in librdkafka, within its own prefetch
 * limits, and the others are read on (read_split()). The queues signal the same eventfd; the
 * consumer queue keeps serving rebalances, commits, errors and logs. */
static void split_part(kafka_src_t *k, kpart_t *p)
{
    if (k->s->rt->dispatch == NULL || p->pq != NULL) {
        return;
    }
    p->pq = rd_kafka_queue_get_partition(k->rk, p->topic, p->partition);
    if (p->pq == NULL) {
        return; /* read from the consumer queue, parked while its worker is busy */
    }
    rd_kafka_queue_forward(p->pq, NULL);
    rd_kafka_queue_io_event_enable(p->pq, k->wakefd, &wake_payload, sizeof wake_payload);
}

/* Records still in the split queue were neither routed nor stored: the next owner reads them. */
static void unsplit_part(kpart_t *p)
{
    if (p->pq != NULL) {
        rd_kafka_queue_io_event_enable(p->pq, -1, NULL, 0);
        rd_kafka_queue_destroy(p->pq);
        p->pq = NULL;
    }
}

static void free_part(kafka_src_t *k, kpart_t *dead)
{
    for (kpart_t **pp = &k->parts; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == dead) {
            *pp = dead->next;
            break;
        }
    }
    if (k->last == dead) {
        k->last = NULL;
    }
    if (k->next_split == dead) {
        k->next_split = NULL;
    }
    unsplit_part(dead);
    rcfd_ackq_free(&dead->q);
    rcfd_free(dead->parked); /* emptied by drop_parked() while the handle was alive */
    rcfd_buf_free(&dead->head);
    rcfd_free(dead->topic);
    rcfd_free(dead);
}

/* Stores the watermark of every partition whose watermark moved. */
static void store_offsets(kafka_src_t *k)
{
    if (k->closed || k->fatal) {
        return;
    }
    rd_kafka_topic_partition_list_t *l = NULL;
    for (kpart_t *p = k->parts; p != NULL; p = p->next) {
        if (p->dirty && !p->revoked) {
            if (l == NULL) {
                l = rd_kafka_topic_partition_list_new(8);
            }
            rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = p->q.watermark;
        }
        p->dirty = 0;
    }
    if (l == NULL) {
        return;
    }
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(k->rk, l);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        RCFD_LOG(RCFD_LOG_DEBUG, k->comp, "offsets_store: %s", rd_kafka_err2str(err));
    }
    for (int i = 0; i < l->cnt; i++) {
        RCFD_LOG(RCFD_LOG_TRACE, k->comp, "stored %s[%d]@%lld", l->elems[i].topic,
                 (int)l->elems[i].partition, (long long)l->elems[i].offset);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

static void on_store(uv_prepare_t *h)
{
    store_offsets(h->data);
}

static void on_delivered(rcfd_delivery_t *d)
{
    kafka_src_t *k = d->owner;
    kpart_t *p = d->part;
    if (rcfd_ackq_done(&p->q, d->seq)) {
        p->dirty = 1;
        rcfd_state_delivered(k->s->rt->state, p->shard, p->q.watermark);
    }
    if (p->revoked && rcfd_ackq_pending(&p->q) == 0) {
        free_part(k, p);
    }
    d->part = k->spare; /* kept for the next message: no malloc/free per record */
    k->spare = d;
    rcfd_runtime_inflight_done(k->s->rt, k->s);
}

static void seek_part(kafka_src_t *k, kpart_t *p, int64_t offset)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset = offset;
    /* With a timeout, no record fetched before the seek is returned after it; the wait is for
     * the fetcher's acknowledgement, not a broker round trip. */
    rd_kafka_error_t *e = rd_kafka_seek_partitions(k->rk, l, 5000);
    const char *why = e != NULL         ? rd_kafka_error_string(e)
                      : l->elems[0].err ? rd_kafka_err2str(l->elems[0].err)
                                        : NULL;
    if (why != NULL) {
        RCFD_LOG(RCFD_LOG_ERROR, k->comp, "%s[%d]: seek to %lld: %s", p->topic, (int)p->partition,
                 (long long)offset, why);
    }
    if (e != NULL) {
        rd_kafka_error_destroy(e);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* The first record after a restore must be the one the checkpoint resumes at. A seek issued
 * while librdkafka is still looking up the committed offset can be overridden by that lookup
 * (librdkafka issue #2256): records before the resume point are dropped (the checkpoint already
 * holds them), and a jump past it is sought back, a few times (after that the gap is real: a
 * compacted or transactional input topic). Returns 1 when the record may be routed. */
static int check_resume(kafka_src_t *k, kpart_t *p, int64_t offset)
{
    if (offset < p->resume_at) {
        return 0;
    }
    if (offset > p->resume_at && p->reseeks < 3) {
        p->reseeks++;
        RCFD_LOG(RCFD_LOG_DEBUG, k->comp, "%s[%d]: got offset %lld, expected %lld: seeking again",
                 p->topic, (int)p->partition, (long long)offset, (long long)p->resume_at);
        seek_part(k, p, p->resume_at);
        return 0;
    }
    p->resume_at = -1;
    return 1;
}

static void lag_sample(kafka_src_t *k, uint64_t now);

/* m's partition, NULL for an error message or one not seen yet; k->last caches the last hit. */
static kpart_t *msg_part(kafka_src_t *k, const rd_kafka_message_t *m)
{
    if (m->err || m->rkt == NULL) {
        return NULL;
    }
    kpart_t *p = k->last;
    const char *topic = rd_kafka_topic_name(m->rkt);
    if (p == NULL || p->revoked || p->partition != m->partition || strcmp(p->topic, topic) != 0) {
        p = find_part(k, topic, m->partition);
    }
    return p;
}

/* Returns 1 when the message must be held (rcfd_runtime_ready said so): the caller keeps it and
 * offers it again after the source's wake(); else 0 (the caller destroys it). */
static int handle_message(kafka_src_t *k, rd_kafka_message_t *m)
{
    rcfd_source_t *s = k->s;
    if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            return 0;
        }
        on_error(k->rk, m->err, rd_kafka_message_errstr(m), k);
        return 0;
    }
    if (k->behind < 0 && k->assigned_once) {
        lag_sample(k, uv_now(&k->s->rt->loop));
    }
    if (k->stopping) {
        return 0; /* not routed, not stored: read again after a restart */
    }
    const char *topic = rd_kafka_topic_name(m->rkt);
    kpart_t *p = msg_part(k, m);
    if (p == NULL && (p = add_part(k, topic, m->partition)) == NULL) {
        RCFD_LOG(RCFD_LOG_ERROR, k->comp, "out of memory");
        rcfd_runtime_fail(s->rt, RCFD_EXIT_SOFTWARE);
        return 0;
    }
    k->last = p;
    if (p->restoring) {
        if (p->first_dropped < 0) {
            p->first_dropped = m->offset; /* fetched before the pause took hold: read again */
        }
        return 0;
    }
    if (p->resume_at >= 0 && !check_resume(k, p, m->offset)) {
        return 0;
    }
    char reason[256];
    int prc;
    if (m->payload == NULL) {
        prc = rcfd_errf(RCFD_EMALFORMED, reason, sizeof reason, "empty message (tombstone)");
        rcfd_record_clear(&s->rt->rec);
        s->rt->rec.data = "";
        s->rt->rec.len = 0;
    } else {
        prc = rcfd_runtime_parse(s->rt, s, m->payload, m->len, reason, sizeof reason);
    }
    if (!rcfd_runtime_ready(s->rt, s, prc, p->shard)) {
        return 1; /* its key's models are being read back from the spill store */
    }
    rcfd_delivery_t *d = k->spare;
    if (d != NULL) {
        k->spare = d->part;
        memset(d, 0, sizeof *d);
    } else {
        d = rcfd_calloc(1, sizeof *d);
    }
    if (d == NULL || rcfd_ackq_push(&p->q, m->offset, &d->seq) != 0) {
        rcfd_free(d);
        RCFD_LOG(RCFD_LOG_ERROR, k->comp, "out of memory");
        rcfd_runtime_fail(s->rt, RCFD_EXIT_SOFTWARE);
        return 0;
    }
    d->refs = 1;
    d->done = on_delivered;
    d->owner = k;
    d->part = p;
    rcfd_runtime_inflight_add(s->rt, s);
    rcfd_origin_t origin = {.source = s->conf->name,
                            .topic = topic,
                            .partition = m->partition,
                            .offset = m->offset,
                            .shard = p->shard,
                            .head = p->head.p,
                            .head_len = p->head.len};
    rcfd_state_routed(rcfd_state_shard_get(s->rt->state, p->shard), m->offset);
    rcfd_runtime_route(s->rt, s, prc, reason, &origin, d);
    rcfd_delivery_unref(d);
    return 0;
}

/* Drops the messages read ahead of a partition (NULL topic: all); the order of the rest stays.
 * They were neither routed nor stored: their partition's next owner reads them. */
static void drop_ahead(kafka_src_t *k, const char *topic, int32_t partition)
{
    size_t kept = 0;
    for (size_t i = 0; i < k->n_ahead; i++) {
        rd_kafka_message_t *m = k->ahead[(k->ahead_head + i) % LOOKAHEAD];
        if (topic == NULL ||
            (m->partition == partition && strcmp(rd_kafka_topic_name(m->rkt), topic) == 0)) {
            rd_kafka_message_destroy(m);
            if (i == 0) {
                k->head_waiting = 0;
            }
        } else {
            k->ahead[(k->ahead_head + kept++) % LOOKAHEAD] = m;
        }
    }
    k->n_ahead = kept;
}

/* ---- parking (runtime.workers > 1) ----
 * A message whose key's worker is busy is parked in its partition's queue and the source reads
 * on, so the other partitions' records reach the other workers. A partition with parked messages
 * parks the next ones behind them: each partition stays in order (keys live in one partition).
 * Parked messages are not in the ack queue yet: nothing past them is stored, and a stop or a
 * revoke drops them to be read again. A split partition (split_part()) is not read while it has
 * parked messages, so it parks one burst at most; the limits below bound the rest, partitions
 * read from the consumer queue, where a fetch brings thousands of one partition's records in a
 * row: beyond either limit, the source holds. */
#define PARK_MAX_MESSAGES 65536
#define PARK_MAX_BYTES (32u << 20)

/* Queues m behind p's parked messages; out of memory it is dropped (not stored: read again after
 * a restart) and the daemon fails. */
static void park(kafka_src_t *k, kpart_t *p, rd_kafka_message_t *m)
{
    if (p->park_n == p->park_cap) {
        size_t cap = p->park_cap > 0 ? 2 * p->park_cap : 64;
        rd_kafka_message_t **a = rcfd_malloc(cap * sizeof *a);
        if (a == NULL) {
            rd_kafka_message_destroy(m);
            RCFD_LOG(RCFD_LOG_ERROR, k->comp, "out of memory");
            rcfd_runtime_fail(k->s->rt, RCFD_EXIT_SOFTWARE);
            return;
        }
        for (size_t i = 0; i < p->park_n; i++) {
            a[i] = p->parked[(p->park_head + i) % p->park_cap];
        }
        rcfd_free(p->parked);
        p->parked = a;
        p->park_cap = cap;
        p->park_head = 0;
    }
    p->parked[(p->park_head + p->park_n++) % p->park_cap] = m;
    k->n_parked++;
    k->parked_bytes += m->len;
}

static void unpark_head(kafka_src_t *k, kpart_t *p)
{
    k->parked_bytes -= p->parked[p->park_head]->len;
    rd_kafka_message_destroy(p->parked[p->park_head]);
    p->park_head = (p->park_head + 1) % p->park_cap;
    p->park_n--;
    k->n_parked--;
}

static void drop_parked(kafka_src_t *k, kpart_t *p)
{
    while (p->park_n > 0) {
        unpark_head(k, p);
    }
}

/* Routes each partition's parked messages, in order, as far as their workers take them. A
 * partition with parked messages is not revoked (revokes drop them), so handling them cannot
 * free it, and p->next is read after. */
static void unpark(kafka_src_t *k)
{
    for (kpart_t *p = k->parts; p != NULL && k->n_parked > 0; p = p->next) {
        while (p->park_n > 0 && !handle_message(k, p->parked[p->park_head])) {
            unpark_head(k, p);
        }
    }
}

/* Messages taken from one split queue before the next partition's turn. One at a time, with
 * rd_kafka_consume_queue: librdkafka 2.0's batch read can return messages from before a seek or
 * a pause (fixed in 2.1.0, confluentinc/librdkafka#4117 and #4208). */
#define SPLIT_BURST 64

/* Reads one burst from the next split partition, round robin, that has nothing parked (its worker
 * took its last record) and records waiting; routes them until its worker cannot take one, which
 * is parked (the partition is then skipped until unpark() empties its park). Returns how many
 * were read: 0 when no such partition has any. */
static size_t read_split(kafka_src_t *k)
{
    size_t parts = 0;
    for (const kpart_t *q = k->parts; q != NULL; q = q->next) {
        parts++;
    }
    kpart_t *p = k->next_split != NULL ? k->next_split : k->parts;
    for (size_t tried = 0; tried < parts && p != NULL; tried++) {
        size_t n = 0;
        while (n < SPLIT_BURST && p->pq != NULL && p->park_n == 0 && !p->revoked) {
            rd_kafka_message_t *m = rd_kafka_consume_queue(p->pq, 0);
            if (m == NULL) {
                break;
            }
            fetched(k, m);
            n++;
            if (handle_message(k, m)) {
                park(k, p, m);
            } else {
                rd_kafka_message_destroy(m);
            }
        }
        /* after the routing, which may have freed a revoked partition (never p: it is not) */
        kpart_t *next = p->next != NULL ? p->next : k->parts;
        if (n > 0) {
            k->next_split = next; /* a partition with records left waits its turn */
            return n;
        }
        p = next;
    }
    return 0;
}

/* A message behind a waiting one: parse it and let its pipelines start reading its keys' spilled
 * models; it is routed in its turn. */
static void prefetch(kafka_src_t *k, const rd_kafka_message_t *m)
{
    if (m->err || m->payload == NULL) {
        return;
    }
    kpart_t *p = find_part(k, rd_kafka_topic_name(m->rkt), m->partition);
    if (p == NULL || p->restoring) {
        return;
    }
    char reason[256];
    int prc = rcfd_runtime_parse(k->s->rt, k->s, m->payload, m->len, reason, sizeof reason);
    (void)rcfd_runtime_ready(k->s->rt, k->s, prc, p->shard);
}

static void set_assignment(kafka_src_t *k, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t *parts)
{
    int coop = strcmp(rd_kafka_rebalance_protocol(k->rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *e = NULL;
    rd_kafka_resp_err_t aerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_topic_partition_list_t *held = rd_kafka_topic_partition_list_new(parts->cnt);
        for (int i = 0; i < parts->cnt; i++) {
            kpart_t *p = add_part(k, parts->elems[i].topic, parts->elems[i].partition);
            if (p == NULL) {
                RCFD_LOG(RCFD_LOG_ERROR, k->comp, "out of memory");
                rcfd_runtime_fail(k->s->rt, RCFD_EXIT_SOFTWARE);
                continue;
            }
            split_part(k, p); /* before the assignment starts its fetches */
            if (rcfd_state_assigned(k->s->rt->state, p->shard)) {
                p->restoring = 1;
                p->first_dropped = -1;
                rd_kafka_topic_partition_list_add(held, p->topic, p->partition);
            }
        }
        k->assigned_ms = uv_now(&k->s->rt->loop);
        if (!k->assigned_once) {
            k->assigned_once = 1;
            RCFD_LOG(RCFD_LOG_INFO, k->comp, "assigned %d partitions (%s), %.1f s after "
                     "subscribing", parts->cnt, coop ? "cooperative" : "eager",
                     (double)(uv_now(&k->s->rt->loop) - k->subscribed_ms) / 1000.0);
        } else {
            RCFD_LOG(RCFD_LOG_INFO, k->comp, "assigned %d partitions (%s)", parts->cnt,
                     coop ? "cooperative" : "eager");
        }
        if (coop) {
            e = rd_kafka_incremental_assign(k->rk, parts);
        } else {
            aerr = rd_kafka_assign(k->rk, parts);
        }
        if (k->paused || k->stopping) {
            rd_kafka_pause_partitions(k->rk, parts);
        } else if (held->cnt > 0) {
            rd_kafka_pause_partitions(k->rk, held);
        }
        rd_kafka_topic_partition_list_destroy(held);
    } else {
        /* Store what is complete now, so the commit that accompanies the revoke includes it. */
        for (kpart_t *p = k->parts; p != NULL; p = p->next) {
            if (!p->revoked && p->q.watermark >= 0) {
                p->dirty = 1;
            }
        }
        store_offsets(k);
        for (int i = 0; i < parts->cnt; i++) {
            drop_ahead(k, parts->elems[i].topic, parts->elems[i].partition);
            kpart_t *p = find_part(k, parts->elems[i].topic, parts->elems[i].partition);
            if (p != NULL) {
                drop_parked(k, p);
                unsplit_part(p);
                rcfd_state_revoked(k->s->rt->state, p->shard);
                p->revoked = 1;
                if (rcfd_ackq_pending(&p->q) == 0) {
                    free_part(k, p);
                }
            }
        }
        RCFD_LOG(err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS ? RCFD_LOG_INFO : RCFD_LOG_WARN,
                 k->comp, "revoked %d partitions (%s)", parts->cnt, rd_kafka_err2str(err));
        if (coop) {
            e = rd_kafka_incremental_unassign(k->rk, parts);
        } else {
            aerr = rd_kafka_assign(k->rk, NULL);
        }
    }
    if (e != NULL) {
        RCFD_LOG(RCFD_LOG_ERROR, k->comp, "incremental (un)assign: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    if (aerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        RCFD_LOG(RCFD_LOG_ERROR, k->comp, "assign: %s", rd_kafka_err2str(aerr));
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    (void)rk;
    set_assignment(opaque, err, parts);
}

static void finish_close(kafka_src_t *k)
{
    if (k->closed) {
        return;
    }
    k->closed = 1;
    rd_kafka_queue_t *q = k->closeq != NULL ? k->closeq : k->q;
    rd_kafka_queue_io_event_enable(q, -1, NULL, 0);
    for (kpart_t *p = k->parts; p != NULL; p = p->next) {
        unsplit_part(p);
    }
    uv_poll_stop(&k->poll);
    uv_idle_stop(&k->idle);
    uv_timer_stop(&k->safety);
    uv_prepare_stop(&k->store);
    uv_timer_stop(&k->close_timer);
    uv_timer_stop(&k->watch);
    RCFD_LOG(RCFD_LOG_INFO, k->comp, "consumer closed");
    rcfd_runtime_source_closed(k->s->rt, k->s);
}

static void handle_close_event(kafka_src_t *k, rd_kafka_event_t *ev)
{
    switch (rd_kafka_event_type(ev)) {
    case RD_KAFKA_EVENT_REBALANCE:
        set_assignment(k, rd_kafka_event_error(ev), rd_kafka_event_topic_partition_list(ev));
        break;
    case RD_KAFKA_EVENT_LOG: {
        const char *fac, *str;
        int level;
        if (rd_kafka_event_log(ev, &fac, &str, &level) == 0) {
            on_log(k->rk, level, fac, str);
        }
        break;
    }
    case RD_KAFKA_EVENT_ERROR:
        RCFD_LOG(RCFD_LOG_WARN, k->comp, "while closing: %s", rd_kafka_event_error_string(ev));
        break;
    default:
        break; /* fetched messages after stop are not routed: they will be read again */
    }
    rd_kafka_event_destroy(ev);
}

static void on_idle(uv_idle_t *h);

static void drain(kafka_src_t *k)
{
    if (k->closed) {
        return;
    }
    const rcfd_source_conf_t *c = k->s->conf;
    uint64_t t0 = uv_hrtime();
    uint64_t limit_ns = (uint64_t)c->poll_budget_us * 1000u;
    int empty = 0;
    int parking = k->s->rt->dispatch != NULL;
    if (k->n_parked > 0 && !k->closing && !k->paused) {
        unpark(k); /* not while paused: parked records would slip past max_inflight */
    }
    for (int64_t n = 0; n < c->poll_budget_messages; n++) {
        if (k->closing) {
            rd_kafka_event_t *ev = rd_kafka_queue_poll(k->closeq, 0);
            if (ev == NULL) {
                empty = 1;
                break;
            }
            handle_close_event(k, ev);
        } else if (k->n_ahead > 0 && !k->head_waiting) {
            /* Messages read ahead go first, in order. */
            rd_kafka_message_t *m = k->ahead[k->ahead_head];
            if (handle_message(k, m)) {
                k->head_waiting = 1;
                continue;
            }
            k->ahead_head = (k->ahead_head + 1) % LOOKAHEAD;
            k->n_ahead--;
            rd_kafka_message_destroy(m);
        } else if (k->n_ahead > 0) {
            /* The first waits for its key's models: read ahead while the reads run. */
            if (k->n_ahead == LOOKAHEAD) {
                empty = 1;
                break;
            }
            rd_kafka_message_t *m = rd_kafka_consumer_poll(k->rk, 0);
            if (m == NULL) {
                empty = 1;
                break;
            }
            fetched(k, m);
            if (k->n_ahead == 0) { /* a revoke in the poll dropped the waiting one */
                k->ahead_head = 0;
            }
            k->ahead[(k->ahead_head + k->n_ahead++) % LOOKAHEAD] = m;
            prefetch(k, m);
        } else {
            if (k->n_parked >= PARK_MAX_MESSAGES || k->parked_bytes >= PARK_MAX_BYTES) {
                empty = 1; /* until wake() */
                break;
            }
            rd_kafka_message_t *m = rd_kafka_consumer_poll(k->rk, 0);
            if (m == NULL) {
                size_t got = parking ? read_split(k) : 0;
                if (got == 0) {
                    empty = 1;
                    break;
                }
                n += (int64_t)got - 1;
                if (uv_hrtime() - t0 >= limit_ns) {
                    break;
                }
                continue;
            }
            fetched(k, m);
            kpart_t *p = parking ? msg_part(k, m) : NULL;
            if (p != NULL && p->park_n > 0) {
                park(k, p, m); /* behind its partition's parked ones */
            } else if (handle_message(k, m)) {
                if (parking && (p = msg_part(k, m)) != NULL) {
                    park(k, p, m); /* its worker is busy: read on for the others */
                } else {
                    k->ahead_head = 0;
                    k->ahead[0] = m; /* until wake() */
                    k->n_ahead = 1;
                    k->head_waiting = 1;
                    continue;
                }
            } else {
                rd_kafka_message_destroy(m);
            }
        }
        if (uv_hrtime() - t0 >= limit_ns) {
            break;
        }
    }
    if (k->closing && rd_kafka_consumer_closed(k->rk)) {
        finish_close(k);
        return;
    }
    if (empty) {
        uv_idle_stop(&k->idle);
    } else {
        uv_idle_start(&k->idle, on_idle);
    }
}

static void on_idle(uv_idle_t *h)
{
    drain(h->data);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    (void)events;
    kafka_src_t *k = h->data;
    if (status < 0) {
        RCFD_LOG(RCFD_LOG_WARN, k->comp, "wake fd: %s", uv_strerror(status));
    }
    uint64_t v;
    while (read(k->wakefd, &v, sizeof v) > 0) {
    }
    drain(k);
}

static void on_safety(uv_timer_t *t)
{
    drain(t->data);
}

static int kafka_init(rcfd_source_t *s, char *errstr, size_t es)
{
    kafka_src_t *k = rcfd_calloc(1, sizeof *k);
    if (k == NULL) {
        return RCFD_ENOMEM;
    }
    k->s = s;
    k->wakefd = -1;
    s->impl = k;
    snprintf(k->comp, sizeof k->comp, "source:kafka:%s", s->conf->name);
    char kerr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (size_t i = 0; i < s->conf->rdkafka.n; i++) {
        if (rd_kafka_conf_set(conf, s->conf->rdkafka.keys[i], s->conf->rdkafka.vals[i], kerr,
                              sizeof kerr) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "sources \"%s\".rdkafka.\"%s\": %s",
                             s->conf->name, s->conf->rdkafka.keys[i], kerr);
        }
    }
    if (rd_kafka_conf_set(conf, "enable.auto.offset.store", "false", kerr, sizeof kerr) ||
        rd_kafka_conf_set(conf, "log.queue", "true", kerr, sizeof kerr) ||
        rd_kafka_conf_set(conf, "enable.partition.eof", "false", kerr, sizeof kerr)) {
        rd_kafka_conf_destroy(conf);
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "librdkafka: %s", kerr);
    }
    char sv[32];
    size_t svn = sizeof sv;
    if (rd_kafka_conf_get(conf, "statistics.interval.ms", sv, &svn) == RD_KAFKA_CONF_OK &&
        strcmp(sv, "0") == 0 &&
        rd_kafka_conf_set(conf, "statistics.interval.ms", "5000", kerr, sizeof kerr)) {
        rd_kafka_conf_destroy(conf);
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "librdkafka: %s", kerr);
    }
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_opaque(conf, k);
    k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, kerr, sizeof kerr);
    if (k->rk == NULL) {
        rd_kafka_conf_destroy(conf); /* rd_kafka_new owns conf only on success */
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "sources \"%s\": %s", s->conf->name, kerr);
    }
    conf = NULL;
    /* Route logs through the main queue, which poll_set_consumer forwards to the consumer queue:
     * log_cb then runs on the loop thread. */
    rd_kafka_set_log_queue(k->rk, NULL);
    rd_kafka_poll_set_consumer(k->rk);
    k->q = rd_kafka_queue_get_consumer(k->rk);
    k->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (k->wakefd < 0) {
        return rcfd_errf(-errno, errstr, es, "eventfd: %s", strerror(errno));
    }
    uv_loop_t *loop = &s->rt->loop;
    int rc = uv_poll_init(loop, &k->poll, k->wakefd);
    if (rc != 0) {
        return rcfd_errf(rc, errstr, es, "uv_poll_init: %s", uv_strerror(rc));
    }
    uv_idle_init(loop, &k->idle);
    uv_timer_init(loop, &k->safety);
    uv_prepare_init(loop, &k->store);
    uv_timer_init(loop, &k->close_timer);
    uv_timer_init(loop, &k->watch);
    k->poll.data = k->idle.data = k->safety.data = k->store.data = k->close_timer.data = k;
    k->watch.data = k;
    k->behind = -1;
    return 0;
}

static const char *conf_value(kafka_src_t *k, const char *name)
{
    for (size_t i = 0; i < k->s->conf->rdkafka.n; i++) {
        if (strcmp(k->s->conf->rdkafka.keys[i], name) == 0) {
            return k->s->conf->rdkafka.vals[i];
        }
    }
    return NULL;
}

/* The partition's lag: the high watermark librdkafka last saw minus the next offset to read;
 * -1 when unknown. */
static int64_t part_lag(kafka_src_t *k, const kpart_t *p)
{
    int64_t lo = -1, hi = -1;
    if (p->revoked ||
        rd_kafka_get_watermark_offsets(k->rk, p->topic, p->partition, &lo, &hi) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        hi < 0) {
        return -1;
    }
    const rcfd_shard_t *sh = rcfd_state_shard_get(k->s->rt->state, p->shard);
    int64_t next = sh != NULL && sh->next_offset >= 0 ? sh->next_offset : lo;
    return hi > next ? hi - next : 0;
}

#define BEHIND_RECORDS 10000 /* the catch-up rate is logged while the lag is above this */

/* The lag over the partitions whose high watermark librdkafka knows, and every 10 s how fast it
 * shrinks. The first sample is taken at the first message after the assignment (the fetch that
 * brought it told librdkafka the watermark), so a backlog is reported before it is read. */
static void lag_sample(kafka_src_t *k, uint64_t now)
{
    int64_t lag = 0;
    size_t parts = 0, assigned = 0;
    for (kpart_t *p = k->parts; p != NULL; p = p->next) {
        int64_t l = part_lag(k, p);
        assigned += !p->revoked;
        if (l >= 0) {
            lag += l;
            parts++;
        }
    }
    if (parts == 0) {
        return; /* no fetch answered yet: nothing known to compare with */
    }
    uint64_t records = k->s->records_in;
    if (k->behind < 0 && lag <= BEHIND_RECORDS && parts < assigned &&
        now < k->assigned_ms + 5000) {
        return; /* the first look waits for every partition's watermark (a few seconds at
                   most): the ones known first may be the short ones, and "no backlog" would
                   stand until the next look, 10 s later, when a fast catch-up is over */
    }
    if (k->behind >= 0 && now < k->next_rate_log_ms) {
        return;
    }
    if (k->behind < 0 && lag > BEHIND_RECORDS) {
        RCFD_LOG(RCFD_LOG_INFO, k->comp, "%lld records behind over %zu partitions; catching up",
                 (long long)lag, parts);
    } else if (k->behind >= 0 && now > k->rate_ms) {
        /* over the last log interval: records read, and how fast the lag shrank (the topic
         * grows meanwhile, so the time left comes from the lag, not from the read rate) */
        double secs = (double)(now - k->rate_ms) / 1000.0;
        double rate = (double)(records - k->rate_records) / secs;
        double gain = (double)(k->behind - lag) / secs;
        if (lag > BEHIND_RECORDS && rate > 0.5 && gain > 0.5) {
            RCFD_LOG(RCFD_LOG_INFO, k->comp,
                     "catching up: %lld records behind over %zu partitions, reading %.0f "
                     "records/s, %.0f/s more than arrive: caught up in about %.0f s",
                     (long long)lag, parts, rate, gain, (double)lag / gain);
        } else if (lag > BEHIND_RECORDS && rate > 0.5) {
            RCFD_LOG(RCFD_LOG_INFO, k->comp,
                     "%lld records behind over %zu partitions, reading %.0f records/s: not "
                     "gaining (records arrive as fast or faster)",
                     (long long)lag, parts, rate);
        } else if (lag > BEHIND_RECORDS) {
            RCFD_LOG(RCFD_LOG_INFO, k->comp, "%lld records behind over %zu partitions, reading "
                     "none%s", (long long)lag, parts,
                     k->paused ? " (paused: the outputs are behind)" : "");
        } else if (k->behind > BEHIND_RECORDS) {
            RCFD_LOG(RCFD_LOG_INFO, k->comp, "caught up (%lld records behind)", (long long)lag);
        }
    }
    k->rate_ms = now;
    k->rate_records = records;
    k->behind = lag;
    k->next_rate_log_ms = now + 10000;
}

static void on_watch(uv_timer_t *t)
{
    kafka_src_t *k = t->data;
    uint64_t now = uv_now(&k->s->rt->loop);
    if (k->closing || k->closed || k->stopping) {
        return;
    }
    if (!k->assigned_once) {
        if (now >= k->next_wait_log_ms) {
            const char *sto = conf_value(k, "session.timeout.ms");
            char why[256];
            if (k->brokers_down) {
                snprintf(why, sizeof why, "no broker is reachable (see the errors above)");
            } else {
                snprintf(why, sizeof why,
                         "the group waits for its previous members to rejoin or to time out, "
                         "up to session.timeout.ms (%s ms) after an unclean stop or a quick "
                         "restart; records wait in Kafka meanwhile",
                         sto != NULL ? sto : "45000, librdkafka's default");
            }
            RCFD_LOG(RCFD_LOG_INFO, k->comp, "no partitions assigned yet, %.0f s after "
                     "subscribing: %s", (double)(now - k->subscribed_ms) / 1000.0, why);
            k->next_wait_log_ms = now + 15000;
        }
        return;
    }
    lag_sample(k, now);
}

static int kafka_start(rcfd_source_t *s)
{
    kafka_src_t *k = s->impl;
    rd_kafka_topic_partition_list_t *topics =
        rd_kafka_topic_partition_list_new((int)s->conf->topics.n);
    for (size_t i = 0; i < s->conf->topics.n; i++) {
        rd_kafka_topic_partition_list_add(topics, s->conf->topics.v[i], RD_KAFKA_PARTITION_UA);
    }
    rd_kafka_resp_err_t err = rd_kafka_subscribe(k->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        RCFD_LOG(RCFD_LOG_ERROR, k->comp, "subscribe: %s", rd_kafka_err2str(err));
        return RCFD_EINVAL;
    }
    rd_kafka_queue_io_event_enable(k->q, k->wakefd, &wake_payload, sizeof wake_payload);
    uv_poll_start(&k->poll, UV_READABLE, on_readable);
    uv_timer_start(&k->safety, on_safety, (uint64_t)s->conf->safety_poll_ms,
                   (uint64_t)s->conf->safety_poll_ms);
    uv_prepare_start(&k->store, on_store);
    uv_timer_start(&k->watch, on_watch, 1000, 1000);
    k->subscribed_ms = uv_now(&s->rt->loop);
    k->next_wait_log_ms = k->subscribed_ms + 5000;
    RCFD_LOG(RCFD_LOG_INFO, k->comp, "subscribed to %zu topic%s (%s%s) as group \"%s\"; waiting "
             "for the group coordinator to assign partitions", s->conf->topics.n,
             s->conf->topics.n == 1 ? "" : "s", s->conf->topics.v[0],
             s->conf->topics.n > 1 ? ", ..." : "", conf_value(k, "group.id"));
    drain(k); /* anything queued before the fd was attached */
    return 0;
}

static void pause_all(kafka_src_t *k, int pause)
{
    rd_kafka_topic_partition_list_t *a = NULL;
    if (rd_kafka_assignment(k->rk, &a) == RD_KAFKA_RESP_ERR_NO_ERROR && a != NULL) {
        if (pause) {
            rd_kafka_pause_partitions(k->rk, a);
        } else {
            /* Partitions still being restored stay held. */
            for (int i = a->cnt - 1; i >= 0; i--) {
                kpart_t *p = find_part(k, a->elems[i].topic, a->elems[i].partition);
                if (p != NULL && p->restoring) {
                    rd_kafka_topic_partition_list_del_by_idx(a, i);
                }
            }
            rd_kafka_resume_partitions(k->rk, a);
        }
    }
    if (a != NULL) {
        rd_kafka_topic_partition_list_destroy(a);
    }
}

static void kafka_pause(rcfd_source_t *s)
{
    kafka_src_t *k = s->impl;
    if (!k->paused && !k->closed) {
        k->paused = 1;
        pause_all(k, 1);
    }
}

static void kafka_resume(rcfd_source_t *s)
{
    kafka_src_t *k = s->impl;
    if (k->paused && !k->stopping && !k->closed) {
        k->paused = 0;
        pause_all(k, 0);
        if (k->n_parked > 0) {
            uv_idle_start(&k->idle, on_idle); /* the parked records first */
        }
    }
}

static void kafka_stop(rcfd_source_t *s)
{
    kafka_src_t *k = s->impl;
    k->stopping = 1;
    drop_ahead(k, NULL, 0); /* not routed, not stored: read again */
    if (!k->closed && !k->fatal) {
        pause_all(k, 1); /* the poll and the safety timer keep serving the group meanwhile */
    }
}

/* The group leave and the final commit need a broker; with none reachable librdkafka would retry
 * until session.timeout.ms and beyond, and a stop must not hang on that. */
static void on_close_timeout(uv_timer_t *t)
{
    kafka_src_t *k = t->data;
    if (k->closed) {
        return;
    }
    RCFD_LOG(RCFD_LOG_WARN, k->comp,
             "the consumer did not commit and leave its group within close_timeout_ms (%lld ms; "
             "are the brokers reachable?): leaving without it; records whose offsets were not "
             "committed will be read again",
             (long long)k->s->conf->close_timeout_ms);
    k->close_abandoned = 1;
    finish_close(k);
}

static void kafka_close(rcfd_source_t *s)
{
    kafka_src_t *k = s->impl;
    if (k->closed || k->closing) {
        return;
    }
    store_offsets(k);
    if (k->fatal) {
        finish_close(k);
        return;
    }
    /* Close without blocking: the group leave and the final commit of the stored offsets happen
     * in librdkafka's threads; its events come to closeq, served by the same fd. */
    k->closeq = rd_kafka_queue_new(k->rk);
    rd_kafka_queue_io_event_enable(k->q, -1, NULL, 0);
    rd_kafka_queue_io_event_enable(k->closeq, k->wakefd, &wake_payload, sizeof wake_payload);
    rd_kafka_error_t *e = rd_kafka_consumer_close_queue(k->rk, k->closeq);
    if (e != NULL) {
        RCFD_LOG(RCFD_LOG_ERROR, k->comp, "close: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        finish_close(k);
        return;
    }
    k->closing = 1;
    uv_timer_start(&k->close_timer, on_close_timeout, (uint64_t)k->s->conf->close_timeout_ms, 0);
    drain(k);
}

static kpart_t *find_shard(kafka_src_t *k, uint32_t shard)
{
    for (kpart_t *p = k->parts; p != NULL; p = p->next) {
        if (!p->revoked && p->shard == shard) {
            return p;
        }
    }
    return NULL;
}

static void kafka_restored(rcfd_source_t *s, uint32_t shard, int64_t offset)
{
    kafka_src_t *k = s->impl;
    kpart_t *p = find_shard(k, shard);
    if (p == NULL || !p->restoring || k->closed || k->fatal) {
        return;
    }
    p->restoring = 0;
    int64_t from = offset >= 0 ? offset : p->first_dropped;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, p->topic, p->partition);
    if (from >= 0) {
        p->resume_at = from;
        p->reseeks = 0;
        seek_part(k, p, from);
        RCFD_LOG(RCFD_LOG_INFO, k->comp, "%s[%d]: resuming at offset %lld%s", p->topic,
                 (int)p->partition, (long long)from, offset >= 0 ? " (checkpoint)" : "");
    }
    if (!k->paused && !k->stopping) {
        rd_kafka_resume_partitions(k->rk, l);
    }
    rd_kafka_topic_partition_list_destroy(l);
    drain(k);
}

/* Per partition: the consumer lag (the high watermark librdkafka last saw minus the next offset
 * to read) and the committed offset; per source: the failed commits. */
static void kafka_collect(rcfd_source_t *s, rcfd_metrics_t *m)
{
    kafka_src_t *k = s->impl;
    for (kpart_t *p = k->parts; p != NULL && !k->closed; p = p->next) {
        char part[16];
        snprintf(part, sizeof part, "%d", (int)p->partition);
        int64_t lag = part_lag(k, p);
        if (lag >= 0) {
            rcfd_metric_set(rcfd_metrics_gauge(m, "rcfd_consumer_lag",
                                               "Records in the partition not yet read (high "
                                               "watermark minus the next offset).",
                                               "source", s->conf->name, "topic", p->topic,
                                               "partition", part, NULL),
                            (double)lag);
        }
        if (!p->revoked && p->committed >= 0) {
            rcfd_metric_set(rcfd_metrics_gauge(m, "rcfd_committed_offset",
                                               "The partition's offset the consumer group has "
                                               "committed: a restart reads again from here.",
                                               "source", s->conf->name, "topic", p->topic,
                                               "partition", part, NULL),
                            (double)p->committed);
        }
    }
    rcfd_metric_set(rcfd_metrics_counter(m, "rcfd_offset_commit_errors_total",
                                         "Offset commits that failed or that the group "
                                         "coordinator refused.",
                                         "source", s->conf->name, NULL),
                    (double)k->commit_errors);
}

static int kafka_health(rcfd_source_t *s, char *why, size_t n)
{
    kafka_src_t *k = s->impl;
    if (k->fatal) {
        snprintf(why, n, "librdkafka reported a fatal error");
        return RCFD_SOURCE_DOWN;
    }
    if (k->brokers_down) {
        snprintf(why, n, "no broker reachable");
        return RCFD_SOURCE_DOWN;
    }
    if (!k->assigned_once) {
        snprintf(why, n, "waiting for partition assignment");
        return RCFD_SOURCE_WAITING;
    }
    size_t parts = 0;
    for (kpart_t *p = k->parts; p != NULL; p = p->next) {
        parts += !p->revoked;
    }
    if (k->brokers_known > 0) {
        snprintf(why, n, "%zu partitions assigned; %d of %d brokers up", parts, k->brokers_up,
                 k->brokers_known);
    } else {
        snprintf(why, n, "%zu partitions assigned", parts);
    }
    return RCFD_SOURCE_UP;
}

static void kafka_wake(rcfd_source_t *s)
{
    kafka_src_t *k = s->impl;
    if (k != NULL && (k->n_ahead > 0 || k->n_parked > 0) && !k->closed) {
        k->head_waiting = 0;
        uv_idle_start(&k->idle, on_idle); /* drains from the waiting (or parked) messages on */
    }
}

/* Threadpool (the state manager's jobs, one at a time): librdkafka calls are thread-safe, and the
 * cached id is touched only from those jobs. */
static void kafka_cluster_id(rcfd_source_t *s, char *out, size_t size, int timeout_ms)
{
    kafka_src_t *k = s->impl;
    if (k->cluster[0] == '\0') {
        char *id = rd_kafka_clusterid(k->rk, timeout_ms);
        if (id != NULL) {
            snprintf(k->cluster, sizeof k->cluster, "%s", id);
            rd_kafka_mem_free(k->rk, id);
        }
    }
    snprintf(out, size, "%s", k->cluster);
}

static int kafka_bounds(rcfd_source_t *s, const char *topic, int32_t partition, int64_t *lo,
                        int64_t *hi, int timeout_ms)
{
    kafka_src_t *k = s->impl;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(k->rk, topic, partition, lo, hi, timeout_ms);
    return err == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : RCFD_EAGAIN;
}

/* Sources whose close was abandoned: rd_kafka_destroy would wait for the group coordinator until
 * the session times out (session.timeout.ms, 45 s by default), so their handles stay alive,
 * reachable from here, until the process exits a moment later. */
static kafka_src_t *abandoned;

static void kafka_destroy(rcfd_source_t *s)
{
    kafka_src_t *k = s->impl;
    if (k == NULL) {
        return;
    }
    s->impl = NULL;
    if (k->close_abandoned) {
        k->next_abandoned = abandoned;
        abandoned = k;
        return;
    }
    if (k->closeq != NULL) {
        rd_kafka_queue_destroy(k->closeq);
    }
    if (k->q != NULL) {
        rd_kafka_queue_destroy(k->q);
    }
    drop_ahead(k, NULL, 0);
    for (kpart_t *p = k->parts; p != NULL; p = p->next) {
        drop_parked(k, p);
        unsplit_part(p); /* the handles go before the consumer */
    }
    if (k->rk != NULL) {
        rd_kafka_destroy(k->rk);
    }
    if (k->wakefd >= 0) {
        close(k->wakefd);
    }
    while (k->parts != NULL) {
        free_part(k, k->parts);
    }
    while (k->spare != NULL) {
        rcfd_delivery_t *d = k->spare;
        k->spare = d->part;
        rcfd_free(d);
    }
    rcfd_free(k);
}

const rcfd_source_ops_t rcfd_source_kafka_ops = {
    .name = "kafka",
    .init = kafka_init,
    .start = kafka_start,
    .pause = kafka_pause,
    .resume = kafka_resume,
    .stop = kafka_stop,
    .close = kafka_close,
    .destroy = kafka_destroy,
    .restored = kafka_restored,
    .collect = kafka_collect,
    .health = kafka_health,
    .wake = kafka_wake,
    .cluster_id = kafka_cluster_id,
    .bounds = kafka_bounds,
};
