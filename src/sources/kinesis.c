/* Kinesis Data Streams source: ListShards, GetShardIterator and GetRecords through libcurl on the
 * loop (net/curl_uv.h), signed with SigV4 by libcurl (net/aws.h). Nothing blocks.
 *
 * Shards. ListShards runs at start and every list_shards_interval_ms, so the children of a
 * reshard are found. A shard is read once every parent this daemon reads is read to its end
 * (GetRecords returned no next iterator), so a key's records reach its models in order across a
 * split or a merge. Each shard has at most one call in flight: GetRecords again after 200 ms while
 * it is behind, after poll_interval_ms when caught up (Kinesis allows 5 calls a second per shard),
 * and after a backoff (throttle_initial_ms doubling to throttle_max_ms, with jitter) when
 * throttled or failing. An expired iterator is renewed after the last record read.
 *
 * Delivery. All shards of the stream that this daemon reads are one shard of the state manager
 * (stream/state.h): records get consecutive offsets in the order they are routed, one ackq gives
 * the delivered watermark, and the models of a key stay the same when its records move to a
 * child shard. A checkpoint holds, beside the models, the position: the sequence number of the
 * last record routed from every Kinesis shard (ops.position); a restart resumes every shard
 * AFTER_SEQUENCE_NUMBER of it, a shard the checkpoint does not know (born since) at
 * TRIM_HORIZON, so records after the checkpoint are read again (at-least-once, as with Kafka)
 * and none is lost. Without a checkpoint, a shard without parents starts at starting_position.
 *
 * Scale-out: instance/instances split the shards statically, by shard number modulo instances;
 * a child belongs to its parent's daemon. There is no lease coordination (KCL's). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "admin/metrics.h"
#include "common/errstr.h"
#include "common/log.h"
#include "net/aws.h"
#include "net/curl_uv.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "stream/ackq.h"
#include "stream/runtime_int.h"

#define BEHIND_MS 200 /* Kinesis' 5 GetRecords calls a second per shard */
#define SEQ_MAX 130   /* a sequence number: at most 129 digits (the API's pattern) */

enum { S_WAIT_PARENTS, S_ITERATOR, S_READING, S_DONE };

typedef struct kshard kshard_t;

typedef struct kreq {
    rcfd_aws_req_t r;
    int inited;
    kshard_t *shard; /* NULL: the ListShards call */
} kreq_t;

struct kshard {
    kshard_t *next;
    char *id;
    char *parent, *adjacent; /* NULL when none */
    long number;             /* the digits of the id */
    int owned;
    int state;
    char *iterator;
    char last_seq[SEQ_MAX + 1]; /* of the last record routed (or restored); "" none. A buffer:
                                 * the source allocates nothing per record */
    int from_checkpoint;
    int busy;
    uint64_t due; /* uv_now() from which the next call may go */
    uint64_t backoff;
    uint64_t records, behind_ms, throttled, errors;
    kreq_t it_req, gr_req;
    rcfd_buf_t head; /* the records' origin up to the offset (encode.h) */
};

typedef struct kin_src {
    rcfd_source_t *s;
    char comp[96];
    rcfd_aws_t aws;
    rcfd_curl_uv_t cu;
    uv_timer_t timer;
    kreq_t list_req;
    int list_busy;
    uint64_t list_due;
    uint64_t list_backoff;
    kshard_t *shards;
    uint32_t shard; /* the state manager's shard */
    rcfd_ackq_t q;
    int64_t next_offset;
    int restoring, restored, have_checkpoint, listed;
    int paused, stopping, closed;
    cJSON *resume; /* the checkpoint's position until every shard it names is known */
    rcfd_delivery_t *spare;
    rcfd_buf_t data;
    uint64_t rnd;
} kin_src_t;

static void schedule(kin_src_t *k);

static uint64_t jitter(kin_src_t *k, uint64_t ms)
{
    k->rnd = k->rnd * 6364136223846793005ULL + 1442695040888963407ULL;
    return ms / 2 + (k->rnd >> 33) % (ms / 2 + 1);
}

static uint64_t next_backoff(kin_src_t *k, uint64_t *b)
{
    const rcfd_source_conf_t *c = k->s->conf;
    *b = *b == 0 ? (uint64_t)c->throttle_initial_ms : *b * 2;
    if (*b > (uint64_t)c->throttle_max_ms) {
        *b = (uint64_t)c->throttle_max_ms;
    }
    return jitter(k, *b);
}

static int req_start(kin_src_t *k, kreq_t *q, const char *op)
{
    if (!q->inited) {
        char target[64];
        snprintf(target, sizeof target, "Kinesis_20131202.%s", op);
        rcfd_buf_t body = q->r.body; /* filled by the caller; init clears the request */
        int rc = rcfd_aws_req_init(&q->r, &k->aws, target, (long)k->s->conf->request_timeout_ms);
        q->r.body = body;
        if (rc != 0) {
            return rc;
        }
        q->r.ud = q;
        q->inited = 1;
    }
    rcfd_aws_req_ready(&q->r);
    return rcfd_curl_uv_add(&k->cu, q->r.easy);
}

static kshard_t *find_shard(kin_src_t *k, const char *id)
{
    for (kshard_t *sh = k->shards; sh != NULL; sh = sh->next) {
        if (strcmp(sh->id, id) == 0) {
            return sh;
        }
    }
    return NULL;
}

/* ---- ListShards ---- */

static void start_list(kin_src_t *k, const char *token)
{
    rcfd_buf_t *b = &k->list_req.r.body;
    rcfd_buf_reset(b);
    int rc;
    if (token != NULL) {
        rc = rcfd_buf_puts(b, "{\"NextToken\":");
        rc = rc ? rc : rcfd_buf_json_string(b, token, strlen(token));
    } else {
        rc = rcfd_buf_puts(b, "{\"StreamName\":");
        rc = rc ? rc : rcfd_buf_json_string(b, k->s->conf->stream, strlen(k->s->conf->stream));
    }
    rc = rc ? rc : rcfd_buf_putc(b, '}');
    rc = rc ? rc : req_start(k, &k->list_req, "ListShards");
    if (rc != 0) {
        RCFD_LOG(RCFD_LOG_ERROR, k->comp, "ListShards: %s", rcfd_strerror(rc));
        k->list_due = uv_now(&k->s->rt->loop) + next_backoff(k, &k->list_backoff);
        return;
    }
    k->list_busy = 1;
}

/* Applies the checkpoint's sequence numbers to the shards known now. */
static void apply_resume(kin_src_t *k)
{
    if (k->resume == NULL) {
        return;
    }
    const cJSON *seqs = cJSON_GetObjectItemCaseSensitive(k->resume, "seq"), *it;
    cJSON_ArrayForEach(it, seqs)
    {
        kshard_t *sh = find_shard(k, it->string);
        if (sh != NULL && cJSON_IsString(it) && !sh->from_checkpoint &&
            strlen(it->valuestring) <= SEQ_MAX) {
            snprintf(sh->last_seq, sizeof sh->last_seq, "%s", it->valuestring);
            sh->from_checkpoint = 1;
        }
    }
}

static int owner_of(kin_src_t *k, const kshard_t *sh, int depth)
{
    const rcfd_source_conf_t *c = k->s->conf;
    kshard_t *p = sh->parent != NULL && depth < 64 ? find_shard(k, sh->parent) : NULL;
    if (p != NULL) {
        return owner_of(k, p, depth + 1); /* a child stays with its parent's daemon */
    }
    return (int)(sh->number % c->instances) == (int)c->instance;
}

static kshard_t *add_shard(kin_src_t *k, const cJSON *j)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "ShardId");
    if (!cJSON_IsString(id)) {
        return NULL;
    }
    kshard_t *sh = find_shard(k, id->valuestring);
    if (sh != NULL) {
        return sh;
    }
    sh = rcfd_calloc(1, sizeof *sh);
    if (sh == NULL || (sh->id = rcfd_strdup(id->valuestring)) == NULL) {
        rcfd_free(sh);
        return NULL;
    }
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "ParentShardId");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "AdjacentParentShardId");
    sh->parent = cJSON_IsString(p) ? rcfd_strdup(p->valuestring) : NULL;
    sh->adjacent = cJSON_IsString(a) ? rcfd_strdup(a->valuestring) : NULL;
    const char *dash = strrchr(sh->id, '-');
    sh->number = dash != NULL ? strtol(dash + 1, NULL, 10) : 0;
    sh->state = S_WAIT_PARENTS;
    sh->it_req.shard = sh->gr_req.shard = sh;
    rcfd_origin_t o = {
        .source = k->s->conf->name, .topic = k->s->conf->stream, .partition = (int32_t)sh->number};
    if (rcfd_encode_origin_head(&sh->head, &o) != 0) {
        rcfd_buf_free(&sh->head);
        rcfd_free(sh->parent);
        rcfd_free(sh->adjacent);
        rcfd_free(sh->id);
        rcfd_free(sh);
        return NULL;
    }
    /* appended, so the list stays in ListShards' order (parents first) */
    kshard_t **tail = &k->shards;
    while (*tail != NULL) {
        tail = &(*tail)->next;
    }
    *tail = sh;
    return sh;
}

static void list_done(kin_src_t *k, CURLcode res)
{
    k->list_busy = 0;
    uint64_t now = uv_now(&k->s->rt->loop);
    char type[96], msg[512];
    rcfd_aws_class_t cls =
        rcfd_aws_classify(&k->list_req.r, res, type, sizeof type, msg, sizeof msg);
    if (cls != RCFD_AWS_OK) {
        RCFD_LOG(cls == RCFD_AWS_PERMANENT ? RCFD_LOG_ERROR : RCFD_LOG_WARN, k->comp,
                 "ListShards on %s: %s", k->s->conf->stream, msg);
        k->list_due = now + next_backoff(k, &k->list_backoff);
        return;
    }
    k->list_backoff = 0;
    cJSON *j = cJSON_ParseWithLength(k->list_req.r.resp.p, k->list_req.r.resp.len);
    const cJSON *shards = cJSON_GetObjectItemCaseSensitive(j, "Shards"), *it;
    size_t added = 0;
    cJSON_ArrayForEach(it, shards)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "ShardId");
        if (cJSON_IsString(id) && find_shard(k, id->valuestring) != NULL) {
            continue;
        }
        kshard_t *sh = add_shard(k, it);
        if (sh == NULL) {
            RCFD_LOG(RCFD_LOG_ERROR, k->comp,
                     "ListShards: a shard without an id, or out of memory");
            continue;
        }
        sh->owned = owner_of(k, sh, 0);
        added++;
        if (sh->owned) {
            RCFD_LOG(RCFD_LOG_INFO, k->comp, "shard %s%s%s%s%s%s", sh->id,
                     sh->parent ? " (child of " : "", sh->parent ? sh->parent : "",
                     sh->adjacent ? " and " : "", sh->adjacent ? sh->adjacent : "",
                     sh->parent ? ")" : "");
        }
    }
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "NextToken");
    char *token = cJSON_IsString(tok) && tok->valuestring[0] ? rcfd_strdup(tok->valuestring) : NULL;
    cJSON_Delete(j);
    if (added > 0) {
        apply_resume(k);
    }
    if (token != NULL) {
        start_list(k, token);
        rcfd_free(token);
        return;
    }
    k->listed = 1;
    k->list_due = now + (uint64_t)k->s->conf->list_shards_interval_ms;
}

/* ---- reading ---- */

static int parents_done(kin_src_t *k, const kshard_t *sh)
{
    const char *ps[2] = {sh->parent, sh->adjacent};
    for (int i = 0; i < 2; i++) {
        kshard_t *p = ps[i] != NULL ? find_shard(k, ps[i]) : NULL;
        /* a parent another daemon reads, or one trimmed from the stream, cannot be waited for */
        if (p != NULL && p->owned && p->state != S_DONE) {
            return 0;
        }
    }
    return 1;
}

static void start_iterator(kin_src_t *k, kshard_t *sh)
{
    const rcfd_source_conf_t *c = k->s->conf;
    rcfd_buf_t *b = &sh->it_req.r.body;
    rcfd_buf_reset(b);
    int rc = rcfd_buf_puts(b, "{\"StreamName\":");
    rc = rc ? rc : rcfd_buf_json_string(b, c->stream, strlen(c->stream));
    rc = rc ? rc : rcfd_buf_puts(b, ",\"ShardId\":");
    rc = rc ? rc : rcfd_buf_json_string(b, sh->id, strlen(sh->id));
    const char *type;
    if (sh->last_seq[0] != '\0') {
        type = "AFTER_SEQUENCE_NUMBER";
        rc = rc ? rc : rcfd_buf_puts(b, ",\"StartingSequenceNumber\":");
        rc = rc ? rc : rcfd_buf_json_string(b, sh->last_seq, strlen(sh->last_seq));
    } else if (sh->parent != NULL || k->have_checkpoint ||
               c->starting_position == RCFD_KINESIS_TRIM_HORIZON) {
        /* a child, or a shard the checkpoint did not reach yet: all of it */
        type = "TRIM_HORIZON";
    } else {
        type = "LATEST";
    }
    rc = rc ? rc : rcfd_buf_printf(b, ",\"ShardIteratorType\":\"%s\"}", type);
    rc = rc ? rc : req_start(k, &sh->it_req, "GetShardIterator");
    if (rc != 0) {
        RCFD_LOG(RCFD_LOG_ERROR, k->comp, "GetShardIterator %s: %s", sh->id, rcfd_strerror(rc));
        sh->due = uv_now(&k->s->rt->loop) + next_backoff(k, &sh->backoff);
        return;
    }
    RCFD_LOG(RCFD_LOG_DEBUG, k->comp, "%s: iterator %s %s", sh->id, type, sh->last_seq);
    sh->busy = 1;
}

static void start_records(kin_src_t *k, kshard_t *sh)
{
    rcfd_buf_t *b = &sh->gr_req.r.body;
    rcfd_buf_reset(b);
    int rc = rcfd_buf_puts(b, "{\"ShardIterator\":");
    rc = rc ? rc : rcfd_buf_json_string(b, sh->iterator, strlen(sh->iterator));
    rc = rc ? rc : rcfd_buf_printf(b, ",\"Limit\":%lld}", (long long)k->s->conf->get_records_limit);
    rc = rc ? rc : req_start(k, &sh->gr_req, "GetRecords");
    if (rc != 0) {
        RCFD_LOG(RCFD_LOG_ERROR, k->comp, "GetRecords %s: %s", sh->id, rcfd_strerror(rc));
        sh->due = uv_now(&k->s->rt->loop) + next_backoff(k, &sh->backoff);
        return;
    }
    sh->busy = 1;
}

static void iterator_done(kin_src_t *k, kshard_t *sh, CURLcode res)
{
    sh->busy = 0;
    uint64_t now = uv_now(&k->s->rt->loop);
    char type[96], msg[512];
    rcfd_aws_class_t cls =
        rcfd_aws_classify(&sh->it_req.r, res, type, sizeof type, msg, sizeof msg);
    if (cls == RCFD_AWS_OK) {
        cJSON *j = cJSON_ParseWithLength(sh->it_req.r.resp.p, sh->it_req.r.resp.len);
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(j, "ShardIterator");
        if (cJSON_IsString(it)) {
            rcfd_free(sh->iterator);
            sh->iterator = rcfd_strdup(it->valuestring);
            sh->state = sh->iterator != NULL ? S_READING : S_ITERATOR;
            sh->backoff = 0;
            sh->due = now;
        } else {
            sh->due = now + next_backoff(k, &sh->backoff);
        }
        cJSON_Delete(j);
        return;
    }
    if (cls == RCFD_AWS_THROTTLED) {
        sh->throttled++;
    } else {
        sh->errors++;
    }
    if (cls == RCFD_AWS_PERMANENT && sh->last_seq[0] != '\0' &&
        strcmp(type, "InvalidArgumentException") == 0) {
        /* the checkpoint's sequence number is no longer in the stream (past its retention) */
        RCFD_LOG(RCFD_LOG_WARN, k->comp,
                 "%s: cannot resume after %s (%s); reading from the oldest "
                 "record kept",
                 sh->id, sh->last_seq, msg);
        sh->last_seq[0] = '\0';
    } else {
        RCFD_LOG(cls == RCFD_AWS_PERMANENT ? RCFD_LOG_ERROR : RCFD_LOG_WARN, k->comp,
                 "GetShardIterator %s: %s", sh->id, msg);
    }
    sh->due = now + next_backoff(k, &sh->backoff);
}

static void on_delivered(rcfd_delivery_t *d)
{
    kin_src_t *k = d->owner;
    if (rcfd_ackq_done(&k->q, d->seq)) {
        rcfd_state_delivered(k->s->rt->state, k->shard, k->q.watermark);
    }
    d->part = k->spare;
    k->spare = d;
    rcfd_runtime_inflight_done(k->s->rt, k->s);
}

/* Routes one record; 0, or an error that stops the shard (out of memory). */
static int route(kin_src_t *k, kshard_t *sh, const cJSON *rec)
{
    rcfd_source_t *s = k->s;
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(rec, "SequenceNumber");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(rec, "Data");
    if (!cJSON_IsString(seq) || strlen(seq->valuestring) > SEQ_MAX) {
        RCFD_LOG(RCFD_LOG_WARN, k->comp, "%s: a record without a valid sequence number, skipped",
                 sh->id);
        return 0;
    }
    rcfd_delivery_t *d = k->spare;
    if (d != NULL) {
        k->spare = d->part;
        memset(d, 0, sizeof *d);
    } else {
        d = rcfd_calloc(1, sizeof *d);
    }
    int64_t offset = k->next_offset;
    if (d == NULL || rcfd_ackq_push(&k->q, offset, &d->seq) != 0) {
        rcfd_free(d);
        return RCFD_ENOMEM;
    }
    snprintf(sh->last_seq, sizeof sh->last_seq, "%s", seq->valuestring);
    k->next_offset++;
    sh->records++;
    d->refs = 1;
    d->done = on_delivered;
    d->owner = k;
    rcfd_runtime_inflight_add(s->rt, s);
    rcfd_origin_t origin = {.source = s->conf->name,
                            .topic = s->conf->stream,
                            .partition = (int32_t)sh->number,
                            .offset = offset,
                            .shard = k->shard,
                            .head = sh->head.p,
                            .head_len = sh->head.len};
    rcfd_state_routed(rcfd_state_shard_get(s->rt->state, k->shard), offset);
    char reason[256];
    int prc;
    rcfd_buf_reset(&k->data);
    if (!cJSON_IsString(data) ||
        rcfd_base64_decode(&k->data, data->valuestring, strlen(data->valuestring)) != 0) {
        prc = rcfd_errf(RCFD_EMALFORMED, reason, sizeof reason,
                        "Kinesis record %s: Data is not base64", seq->valuestring);
        rcfd_record_clear(&s->rt->rec);
        s->rt->rec.data = "";
        s->rt->rec.len = 0;
    } else {
        prc = rcfd_runtime_parse(s->rt, s, k->data.p != NULL ? k->data.p : "", k->data.len, reason,
                                 sizeof reason);
    }
    rcfd_runtime_route(s->rt, s, prc, reason, &origin, d);
    rcfd_delivery_unref(d);
    return 0;
}

static void records_done(kin_src_t *k, kshard_t *sh, CURLcode res)
{
    sh->busy = 0;
    uint64_t now = uv_now(&k->s->rt->loop);
    char type[96], msg[512];
    rcfd_aws_class_t cls =
        rcfd_aws_classify(&sh->gr_req.r, res, type, sizeof type, msg, sizeof msg);
    if (cls != RCFD_AWS_OK) {
        if (strcmp(type, "ExpiredIteratorException") == 0) {
            RCFD_LOG(RCFD_LOG_INFO, k->comp, "%s: iterator expired; renewing it", sh->id);
            sh->state = S_ITERATOR;
            sh->due = now;
            return;
        }
        if (cls == RCFD_AWS_THROTTLED) {
            sh->throttled++;
            RCFD_LOG(RCFD_LOG_DEBUG, k->comp, "GetRecords %s: %s", sh->id, msg);
        } else {
            sh->errors++;
            RCFD_LOG(cls == RCFD_AWS_PERMANENT ? RCFD_LOG_ERROR : RCFD_LOG_WARN, k->comp,
                     "GetRecords %s: %s", sh->id, msg);
        }
        sh->due = now + next_backoff(k, &sh->backoff);
        return;
    }
    sh->backoff = 0;
    if (k->stopping) {
        return; /* not routed: read again after a restart */
    }
    cJSON *j = cJSON_ParseWithLength(sh->gr_req.r.resp.p, sh->gr_req.r.resp.len);
    if (j == NULL) {
        RCFD_LOG(RCFD_LOG_WARN, k->comp, "GetRecords %s: an answer that is not JSON", sh->id);
        sh->due = now + next_backoff(k, &sh->backoff);
        return;
    }
    const cJSON *recs = cJSON_GetObjectItemCaseSensitive(j, "Records"), *r;
    size_t n = 0;
    cJSON_ArrayForEach(r, recs)
    {
        if (route(k, sh, r) != 0) {
            RCFD_LOG(RCFD_LOG_ERROR, k->comp, "out of memory");
            cJSON_Delete(j);
            rcfd_runtime_fail(k->s->rt, RCFD_EXIT_SOFTWARE);
            return;
        }
        n++;
    }
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(j, "NextShardIterator");
    const cJSON *behind = cJSON_GetObjectItemCaseSensitive(j, "MillisBehindLatest");
    sh->behind_ms =
        cJSON_IsNumber(behind) && behind->valuedouble > 0 ? (uint64_t)behind->valuedouble : 0;
    rcfd_free(sh->iterator);
    sh->iterator = cJSON_IsString(next) ? rcfd_strdup(next->valuestring) : NULL;
    cJSON_Delete(j);
    if (sh->iterator == NULL) {
        if (cJSON_IsString(next)) {
            RCFD_LOG(RCFD_LOG_ERROR, k->comp, "out of memory");
            rcfd_runtime_fail(k->s->rt, RCFD_EXIT_SOFTWARE);
            return;
        }
        sh->state = S_DONE;
        RCFD_LOG(RCFD_LOG_INFO, k->comp, "shard %s is closed and read to its end (%llu records)",
                 sh->id, (unsigned long long)sh->records);
        return;
    }
    int behind_now = sh->behind_ms > 0 || n >= (size_t)k->s->conf->get_records_limit;
    sh->due = now + (behind_now ? BEHIND_MS : (uint64_t)k->s->conf->poll_interval_ms);
}

static void on_done(CURL *easy, CURLcode res, void *ud)
{
    kin_src_t *k = ud;
    kreq_t *q = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&q);
    if (k->closed || q == NULL) {
        return;
    }
    /* rcfd_aws_req_init set CURLOPT_PRIVATE to the rcfd_aws_req_t, the first member of kreq_t */
    if (q->shard == NULL) {
        list_done(k, res);
    } else if (&q->shard->it_req == q) {
        iterator_done(k, q->shard, res);
    } else {
        records_done(k, q->shard, res);
    }
    schedule(k);
}

/* ---- the timer: every call that is due ---- */

static void on_timer(uv_timer_t *t)
{
    schedule(t->data);
}

static void schedule(kin_src_t *k)
{
    if (k->closed || k->stopping) {
        return;
    }
    uv_loop_t *loop = &k->s->rt->loop;
    uint64_t now = uv_now(loop), next = UINT64_MAX;
    if (!k->list_busy) {
        if (k->list_due <= now) {
            start_list(k, NULL);
        }
        if (!k->list_busy && k->list_due < next) {
            next = k->list_due;
        }
    }
    int reading = !k->restoring && !k->paused;
    for (kshard_t *sh = k->shards; reading && sh != NULL; sh = sh->next) {
        if (!sh->owned || sh->busy || sh->state == S_DONE) {
            continue;
        }
        if (sh->state == S_WAIT_PARENTS) {
            if (!parents_done(k, sh)) {
                continue; /* woken when a parent is done: every completion reschedules */
            }
            sh->state = S_ITERATOR;
            sh->due = now;
        }
        if (sh->due <= now) {
            if (sh->state == S_ITERATOR) {
                start_iterator(k, sh);
            } else {
                start_records(k, sh);
            }
        }
        if (!sh->busy && sh->due < next) {
            next = sh->due;
        }
    }
    if (next == UINT64_MAX) {
        uv_timer_stop(&k->timer);
    } else {
        uv_timer_start(&k->timer, on_timer, next > now ? next - now : 0, 0);
    }
}

/* ---- the source interface ---- */

static int kin_init(rcfd_source_t *s, char *errstr, size_t es)
{
    kin_src_t *k = rcfd_calloc(1, sizeof *k);
    if (k == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    k->s = s;
    s->impl = k;
    const rcfd_source_conf_t *c = s->conf;
    snprintf(k->comp, sizeof k->comp, "%s", c->name);
    k->rnd = (uint64_t)(uintptr_t)k ^ uv_hrtime();
    char err[512];
    int rc = rcfd_aws_init(&k->aws, "kinesis", c->region, c->endpoint, c->profile, err, sizeof err);
    if (rc != 0) {
        return rcfd_errf(rc, errstr, es, "sources \"%s\": %s", c->name,
                         rc == RCFD_ENOMEM ? "out of memory" : err);
    }
    rcfd_ackq_init(&k->q);
    if ((rc = rcfd_curl_uv_init(&k->cu, &s->rt->loop, on_done, k)) != 0) {
        return rcfd_errf(rc, errstr, es, "sources \"%s\": curl_multi_init failed", c->name);
    }
    uv_timer_init(&s->rt->loop, &k->timer);
    k->timer.data = k;
    if ((rc = rcfd_state_shard(s->rt->state, s->index, c->stream, (int32_t)c->instance,
                               &k->shard)) != 0) {
        return rcfd_errf(rc, errstr, es, "out of memory");
    }
    RCFD_LOG(RCFD_LOG_INFO, k->comp,
             "kinesis stream %s at %s (instance %lld of %lld), credentials "
             "from %s",
             c->stream, k->aws.endpoint, (long long)c->instance, (long long)c->instances,
             k->aws.creds_from);
    return 0;
}

static int kin_start(rcfd_source_t *s)
{
    kin_src_t *k = s->impl;
    if (rcfd_state_assigned(s->rt->state, k->shard)) {
        k->restoring = 1; /* reading waits for restored_position() */
    }
    schedule(k);
    return 0;
}

static void kin_restored(rcfd_source_t *s, uint32_t shard, int64_t offset, const void *pos,
                         size_t len)
{
    (void)shard;
    kin_src_t *k = s->impl;
    k->restoring = 0;
    if (offset >= 0) {
        k->next_offset = offset;
        k->have_checkpoint = 1;
    }
    if (pos != NULL) {
        k->resume = cJSON_ParseWithLength(pos, len);
        if (k->resume == NULL) {
            RCFD_LOG(RCFD_LOG_ERROR, k->comp,
                     "the checkpoint's position is not JSON: shards start "
                     "at TRIM_HORIZON");
        }
        apply_resume(k);
    } else if (offset >= 0) {
        RCFD_LOG(RCFD_LOG_WARN, k->comp,
                 "the checkpoint holds no position: shards start at "
                 "TRIM_HORIZON");
    }
    schedule(k);
}

static int kin_position(rcfd_source_t *s, uint32_t shard, int64_t next_offset, rcfd_buf_t *out)
{
    (void)shard;
    kin_src_t *k = s->impl;
    if (next_offset != k->next_offset) {
        return RCFD_EINVAL; /* the snapshot is not between this source's records */
    }
    int rc = rcfd_buf_puts(out, "{\"seq\":{");
    int first = 1;
    for (kshard_t *sh = k->shards; rc == 0 && sh != NULL; sh = sh->next) {
        if (!sh->owned || sh->last_seq[0] == '\0') {
            continue;
        }
        rc = first ? 0 : rcfd_buf_putc(out, ',');
        first = 0;
        rc = rc ? rc : rcfd_buf_json_string(out, sh->id, strlen(sh->id));
        rc = rc ? rc : rcfd_buf_putc(out, ':');
        rc = rc ? rc : rcfd_buf_json_string(out, sh->last_seq, strlen(sh->last_seq));
    }
    /* shards of the checkpoint not listed here (yet): carried over */
    const cJSON *seqs = k->resume ? cJSON_GetObjectItemCaseSensitive(k->resume, "seq") : NULL, *it;
    cJSON_ArrayForEach(it, seqs)
    {
        if (rc == 0 && cJSON_IsString(it) && find_shard(k, it->string) == NULL) {
            rc = first ? 0 : rcfd_buf_putc(out, ',');
            first = 0;
            rc = rc ? rc : rcfd_buf_json_string(out, it->string, strlen(it->string));
            rc = rc ? rc : rcfd_buf_putc(out, ':');
            rc = rc ? rc : rcfd_buf_json_string(out, it->valuestring, strlen(it->valuestring));
        }
    }
    return rc ? rc : rcfd_buf_puts(out, "}}");
}

static void kin_pause(rcfd_source_t *s)
{
    kin_src_t *k = s->impl;
    k->paused = 1;
}

static void kin_resume(rcfd_source_t *s)
{
    kin_src_t *k = s->impl;
    k->paused = 0;
    schedule(k);
}

static void kin_stop(rcfd_source_t *s)
{
    kin_src_t *k = s->impl;
    k->stopping = 1;
    uv_timer_stop(&k->timer);
}

static void remove_if_busy(kin_src_t *k, kreq_t *q, int busy)
{
    if (busy && q->inited) {
        curl_multi_remove_handle(k->cu.multi, q->r.easy);
    }
}

static void kin_close(rcfd_source_t *s)
{
    kin_src_t *k = s->impl;
    k->closed = 1;
    uv_timer_stop(&k->timer);
    /* calls in flight are abandoned: their records were never routed */
    remove_if_busy(k, &k->list_req, k->list_busy);
    for (kshard_t *sh = k->shards; sh != NULL; sh = sh->next) {
        remove_if_busy(k, &sh->it_req, sh->busy && sh->state == S_ITERATOR);
        remove_if_busy(k, &sh->gr_req, sh->busy && sh->state != S_ITERATOR);
        sh->busy = 0;
    }
    k->list_busy = 0;
    for (kshard_t *sh = k->shards; sh != NULL; sh = sh->next) {
        if (sh->owned) {
            RCFD_LOG(RCFD_LOG_INFO, k->comp, "shard %s: %llu records, %llu throttled, %llu errors",
                     sh->id, (unsigned long long)sh->records, (unsigned long long)sh->throttled,
                     (unsigned long long)sh->errors);
        }
    }
    rcfd_runtime_source_closed(s->rt, s);
}

static void kin_destroy(rcfd_source_t *s)
{
    kin_src_t *k = s->impl;
    if (k == NULL) {
        return;
    }
    k->cu.closing = 1;
    rcfd_aws_req_free(&k->list_req.r); /* safe when never initialized: all NULL */
    while (k->shards != NULL) {
        kshard_t *sh = k->shards;
        k->shards = sh->next;
        rcfd_aws_req_free(&sh->it_req.r);
        rcfd_aws_req_free(&sh->gr_req.r);
        rcfd_buf_free(&sh->head);
        rcfd_free(sh->iterator);
        rcfd_free(sh->parent);
        rcfd_free(sh->adjacent);
        rcfd_free(sh->id);
        rcfd_free(sh);
    }
    if (k->cu.multi != NULL) {
        rcfd_curl_uv_cleanup(&k->cu);
    }
    rcfd_aws_free(&k->aws);
    rcfd_ackq_free(&k->q);
    cJSON_Delete(k->resume);
    rcfd_buf_free(&k->data);
    while (k->spare != NULL) {
        rcfd_delivery_t *d = k->spare;
        k->spare = d->part;
        rcfd_free(d);
    }
    rcfd_free(k);
    s->impl = NULL;
}

/* Per shard read here: how far behind the stream's tip its last GetRecords was, and the throttled
 * and failed calls. */
static void kin_collect(rcfd_source_t *s, rcfd_metrics_t *m)
{
    kin_src_t *k = s->impl;
    for (kshard_t *sh = k->shards; sh != NULL && !k->closed; sh = sh->next) {
        if (!sh->owned) {
            continue;
        }
        const char *name = s->conf->name, *stream = s->conf->stream;
        rcfd_metric_set(rcfd_metrics_gauge(m, "rcfd_kinesis_millis_behind_latest",
                                           "MillisBehindLatest of the shard's last GetRecords "
                                           "(0 when caught up).",
                                           "source", name, "stream", stream, "shard", sh->id, NULL),
                        (double)sh->behind_ms);
        rcfd_metric_set(rcfd_metrics_counter(m, "rcfd_kinesis_throttled_total",
                                             "Calls for the shard answered "
                                             "ProvisionedThroughputExceeded or LimitExceeded.",
                                             "source", name, "stream", stream, "shard", sh->id,
                                             NULL),
                        (double)sh->throttled);
        rcfd_metric_set(rcfd_metrics_counter(m, "rcfd_kinesis_errors_total",
                                             "Calls for the shard that failed otherwise (retried).",
                                             "source", name, "stream", stream, "shard", sh->id,
                                             NULL),
                        (double)sh->errors);
        rcfd_metric_set(rcfd_metrics_gauge(m, "rcfd_kinesis_shard_closed",
                                           "1 once the shard is closed and read to its end.",
                                           "source", name, "stream", stream, "shard", sh->id, NULL),
                        sh->state == S_DONE ? 1 : 0);
    }
}

const rcfd_source_ops_t rcfd_source_kinesis_ops = {
    .name = "kinesis",
    .init = kin_init,
    .start = kin_start,
    .pause = kin_pause,
    .resume = kin_resume,
    .stop = kin_stop,
    .close = kin_close,
    .destroy = kin_destroy,
    .collect = kin_collect,
    .position = kin_position,
    .restored_position = kin_restored,
};
