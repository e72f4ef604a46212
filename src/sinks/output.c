#include "sinks/output.h"

#include <math.h>
#include <string.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "common/log.h"
#include "config/schema.h"

static const rcfd_sink_type_t *sink_for(int type)
{
    switch (type) {
    case RCFD_OUTPUT_WEBHOOK:
        return &rcfd_sink_webhook;
    case RCFD_OUTPUT_KAFKA:
        return &rcfd_sink_kafka;
    case RCFD_OUTPUT_KINESIS:
        return &rcfd_sink_kinesis;
    default:
        return &rcfd_sink_file;
    }
}

int rcfd_output_init(rcfd_output_t *o, uv_loop_t *loop, const rcfd_output_conf_t *conf,
                     char *errstr, size_t es)
{
    return rcfd_output_init_type(o, loop, conf, sink_for(conf->type), errstr, es);
}

int rcfd_output_init_type(rcfd_output_t *o, uv_loop_t *loop, const rcfd_output_conf_t *conf,
                          const rcfd_sink_type_t *type, char *errstr, size_t es)
{
    memset(o, 0, sizeof *o);
    o->conf = conf;
    o->loop = loop;
    o->type = type;
    o->backoff_ms = (uint64_t)conf->retry_initial_ms;
    o->rnd = uv_hrtime() | 1u;
    uv_timer_init(loop, &o->retry_timer);
    uv_timer_init(loop, &o->linger_timer);
    o->retry_timer.data = o->linger_timer.data = o;
    int rc = o->type->open(o, errstr, es);
    if (rc != 0) {
        o->type = NULL; /* nothing to close */
        return rc;
    }
    return 0;
}

void rcfd_outputs_link(rcfd_output_t *outs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        long d = outs[i].conf->dead_letter_index;
        outs[i].dead = d >= 0 && (size_t)d < n ? &outs[d] : NULL;
    }
}

int rcfd_output_wants(const rcfd_output_t *o, const rcfd_verdict_t *v)
{
    const rcfd_output_conf_t *c = o->conf;
    if (!isnan(v->score) && v->score < c->min_score) {
        return 0;
    }
    if (c->min_grade > 0 && !isnan(v->grade) && v->grade < c->min_grade) {
        return 0;
    }
    if (c->min_novelty > 0 && !isnan(v->novelty) && v->novelty < c->min_novelty) {
        return 0;
    }
    if (c->require_hotspots && !v->hotspots) {
        return 0;
    }
    if (c->alert && v->alert == 0) {
        return 0;
    }
    return 1;
}

static void batch_reset(rcfd_out_batch_t *b)
{
    rcfd_buf_reset(&b->data);
    rcfd_buf_reset(&b->keys);
    b->n = 0;
    b->head = 0;
}

static size_t pending_n(const rcfd_out_batch_t *b)
{
    return b->n - b->head;
}

static size_t pending_bytes(const rcfd_out_batch_t *b)
{
    return b->head < b->n ? b->data.len - b->r[b->head].off : 0;
}

static void batch_free(rcfd_out_batch_t *b)
{
    rcfd_buf_free(&b->data);
    rcfd_buf_free(&b->keys);
    rcfd_free(b->r);
    memset(b, 0, sizeof *b);
}

static int batch_full(const rcfd_output_t *o)
{
    return pending_n(&o->batch) >= (size_t)o->conf->batch_max_records ||
           pending_bytes(&o->batch) >= (size_t)o->conf->batch_max_bytes;
}

static void on_linger(uv_timer_t *t);
static void do_flush(rcfd_output_t *o);

static void on_linger(uv_timer_t *t)
{
    do_flush(t->data);
}

int rcfd_output_submit_keyed(rcfd_output_t *o, const char *data, size_t len, const char *key,
                             size_t key_len, rcfd_delivery_t *d)
{
    rcfd_out_batch_t *b = &o->batch;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        rcfd_out_rec_t *v = rcfd_realloc(b->r, cap * sizeof *v);
        if (v == NULL) {
            return RCFD_ENOMEM;
        }
        b->r = v;
        b->cap = cap;
    }
    int rc = rcfd_buf_reserve(&b->data, len + 1);
    if (rc == 0 && key != NULL) {
        rc = rcfd_buf_reserve(&b->keys, key_len + 1);
    }
    if (rc != 0) {
        return rc;
    }
    rcfd_out_rec_t *r = &b->r[b->n++];
    r->d = d;
    r->off = b->data.len;
    r->len = len;
    r->has_key = key != NULL;
    r->koff = b->keys.len;
    r->klen = key != NULL ? key_len : 0;
    r->done = 0;
    r->t0 = uv_hrtime();
    rcfd_buf_append(&b->data, data, len);
    rcfd_buf_putc(&b->data, '\n');
    if (key != NULL) {
        rcfd_buf_append(&b->keys, key, key_len);
    }
    rcfd_delivery_ref(d);
    if (pending_n(b) == 1) {
        o->batch_t0 = uv_now(o->loop);
        if (o->conf->batch_max_delay_ms > 0) {
            uv_timer_start(&o->linger_timer, on_linger, (uint64_t)o->conf->batch_max_delay_ms, 0);
        }
    }
    if (batch_full(o)) {
        rcfd_output_flush(o);
    }
    return 0;
}

int rcfd_output_submit(rcfd_output_t *o, const char *data, size_t len, rcfd_delivery_t *d)
{
    return rcfd_output_submit_keyed(o, data, len, NULL, 0, d);
}

static void start_send(rcfd_output_t *o, int retry)
{
    o->busy = 1;
    if (o->type->send(o, o->sending.data.p, o->sending.data.len, retry) != 0) {
        /* Could not even start: treat as RETRY, but from the timer, not recursively. */
        rcfd_output_sent(o, RCFD_SINK_RETRY);
    }
}

static void on_retry(uv_timer_t *t)
{
    rcfd_output_t *o = t->data;
    start_send(o, 1);
}

/* Moves records [head, head+k) of the accumulating batch into the (empty) send slot. */
static int move_head(rcfd_output_t *o, size_t k)
{
    rcfd_out_batch_t *b = &o->batch, *s = &o->sending;
    if (s->cap < k) {
        rcfd_out_rec_t *v = rcfd_realloc(s->r, k * sizeof *v);
        if (v == NULL) {
            return RCFD_ENOMEM;
        }
        s->r = v;
        s->cap = k;
    }
    const rcfd_out_rec_t *f = &b->r[b->head], *l = &b->r[b->head + k - 1];
    size_t dbytes = l->off + l->len + 1 - f->off, kbytes = l->koff + l->klen - f->koff;
    if (rcfd_buf_reserve(&s->data, dbytes) != 0 || rcfd_buf_reserve(&s->keys, kbytes) != 0) {
        return RCFD_ENOMEM;
    }
    rcfd_buf_append(&s->data, b->data.p + f->off, dbytes);
    if (kbytes > 0) {
        rcfd_buf_append(&s->keys, b->keys.p + f->koff, kbytes);
    }
    for (size_t i = 0; i < k; i++) {
        s->r[i] = f[i];
        s->r[i].off -= f->off;
        s->r[i].koff -= f->koff;
    }
    s->n = k;
    b->head += k;
    if (b->head == b->n) {
        batch_reset(b);
    } else if (b->head > b->n / 2) {
        /* Compact (amortised O(1) per record). */
        size_t doff = b->r[b->head].off, koff = b->r[b->head].koff, m = b->n - b->head;
        memmove(b->data.p, b->data.p + doff, b->data.len - doff);
        b->data.len -= doff;
        if (b->keys.len > koff) {
            memmove(b->keys.p, b->keys.p + koff, b->keys.len - koff);
        }
        b->keys.len -= koff;
        memmove(b->r, b->r + b->head, m * sizeof *b->r);
        for (size_t i = 0; i < m; i++) {
            b->r[i].off -= doff;
            b->r[i].koff -= koff;
        }
        b->n = m;
        b->head = 0;
    }
    return 0;
}

static void do_flush(rcfd_output_t *o)
{
    rcfd_out_batch_t *b = &o->batch;
    if (o->busy || o->failed || pending_n(b) == 0) {
        return;
    }
    uv_timer_stop(&o->linger_timer);
    /* At most batch_max_records records and batch_max_bytes bytes (at least one record). */
    size_t k = 0, bytes = 0;
    while (b->head + k < b->n && k < (size_t)o->conf->batch_max_records) {
        size_t l = b->r[b->head + k].len + 1;
        if (k > 0 && bytes + l > (size_t)o->conf->batch_max_bytes) {
            break;
        }
        bytes += l;
        k++;
    }
    if (b->head == 0 && k == b->n) {
        /* All of it: swap the slots; both keep their allocations. */
        rcfd_out_batch_t t = o->sending;
        o->sending = o->batch;
        o->batch = t;
        batch_reset(&o->batch);
    } else if (move_head(o, k) != 0) {
        RCFD_LOG(RCFD_LOG_ERROR, o->conf->name, "out of memory preparing a batch; retrying");
        uv_timer_start(&o->linger_timer, on_linger, 100, 0);
        return;
    }
    if (pending_n(b) > 0) {
        o->batch_t0 = uv_now(o->loop);
        if (o->conf->batch_max_delay_ms > 0) {
            uv_timer_start(&o->linger_timer, on_linger, (uint64_t)o->conf->batch_max_delay_ms, 0);
        }
    }
    start_send(o, 0);
}

void rcfd_output_flush(rcfd_output_t *o)
{
    if (o->busy || o->failed || pending_n(&o->batch) == 0) {
        return;
    }
    if (o->conf->batch_max_delay_ms > 0 && !batch_full(o) &&
        uv_now(o->loop) - o->batch_t0 < (uint64_t)o->conf->batch_max_delay_ms) {
        return; /* the linger timer sends it */
    }
    do_flush(o);
}

const double rcfd_output_lat_bounds[RCFD_LAT_BOUNDS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

/* Per accepted record: two bucket increments and an add, no allocation. */
static void lat_add(rcfd_output_t *o, uint64_t t0, uint64_t now)
{
    double us = (double)(now - t0) / 1e3;
    int i = us < 1 ? 0 : (int)(log2(us) * 8);
    if (i >= RCFD_LAT_BUCKETS) {
        i = RCFD_LAT_BUCKETS - 1;
    }
    o->stats.lat[i]++;
    double s = us / 1e6;
    size_t lo = 0, hi = RCFD_LAT_BOUNDS; /* the first bound >= s, or the +Inf bucket */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s <= rcfd_output_lat_bounds[mid]) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    o->stats.lat_le[lo]++;
    o->stats.lat_sum += s;
}

double rcfd_output_latency_ms(const rcfd_output_t *o, double q)
{
    uint64_t total = 0;
    for (int i = 0; i < RCFD_LAT_BUCKETS; i++) {
        total += o->stats.lat[i];
    }
    if (total == 0) {
        return NAN;
    }
    uint64_t want = (uint64_t)ceil(q * (double)total), seen = 0;
    for (int i = 0; i < RCFD_LAT_BUCKETS; i++) {
        seen += o->stats.lat[i];
        if (seen >= want && seen > 0) {
            return exp2((double)(i + 1) / 8) / 1e3; /* upper edge of the bucket */
        }
    }
    return NAN;
}

/* The `"_rcfd":{...}` object of an rcfd-style record (the last one: ours replaced any of the
 * original's). Inside a JSON string every quote is escaped, so `"_rcfd":{` is always a member. */
static int find_origin(const char *line, size_t len, size_t *off, size_t *olen)
{
    static const char pat[] = "\"_rcfd\":{";
    size_t pl = sizeof pat - 1;
    for (size_t i = len >= pl ? len - pl + 1 : 0; i-- > 0;) {
        if (memcmp(line + i, pat, pl) != 0) {
            continue;
        }
        size_t start = i + pl - 1, depth = 0;
        int in_str = 0;
        for (size_t j = start; j < len; j++) {
            char c = line[j];
            if (in_str) {
                if (c == '\\') {
                    j++;
                } else if (c == '"') {
                    in_str = 0;
                }
            } else if (c == '"') {
                in_str = 1;
            } else if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                *off = start;
                *olen = j + 1 - start;
                return 1;
            }
        }
        return 0;
    }
    return 0;
}

static void dead_letter(rcfd_output_t *o, rcfd_out_rec_t *r, const char *reason)
{
    const char *line = o->sending.data.p + r->off;
    if (o->dead == NULL) {
        o->stats.dropped++;
        return;
    }
    rcfd_buf_t b = {0};
    int rc = rcfd_buf_puts(&b, "{\"reason\":");
    rc = rc ? rc : rcfd_buf_json_string(&b, reason, strlen(reason));
    rc = rc ? rc : rcfd_buf_puts(&b, ",\"output\":");
    rc = rc ? rc : rcfd_buf_json_string(&b, o->conf->name, strlen(o->conf->name));
    size_t ooff, olen;
    if (rc == 0 && rcfd_buf_json_record_kept(line, r->len, RCFD_DEAD_RECORD_MAX) < r->len &&
        find_origin(line, r->len, &ooff, &olen)) {
        /* The cut record loses its origin at the end: keep it beside. */
        rc = rcfd_buf_puts(&b, ",\"origin\":");
        rc = rc ? rc : rcfd_buf_append(&b, line + ooff, olen);
    }
    rc = rc ? rc : rcfd_buf_json_record(&b, line, r->len, RCFD_DEAD_RECORD_MAX);
    rc = rc ? rc : rcfd_buf_putc(&b, '}');
    if (rc == 0) {
        rc = rcfd_output_submit_keyed(o->dead, b.p, b.len,
                                      r->has_key ? o->sending.keys.p + r->koff : NULL, r->klen,
                                      r->d);
    }
    rcfd_buf_free(&b);
    if (rc != 0) {
        RCFD_LOG(RCFD_LOG_ERROR, o->conf->name, "out of memory writing a dead letter");
        o->stats.dropped++;
        return;
    }
    o->stats.dead_lettered++;
}

void rcfd_output_record_ok(rcfd_output_t *o, size_t i)
{
    rcfd_out_rec_t *r = &o->sending.r[i];
    if (r->done) {
        return;
    }
    r->done = 1;
    o->stats.records++;
    o->stats.bytes += r->len + 1;
    lat_add(o, r->t0, uv_hrtime());
    rcfd_delivery_unref(r->d);
}

void rcfd_output_record_dead(rcfd_output_t *o, size_t i, const char *reason)
{
    rcfd_out_rec_t *r = &o->sending.r[i];
    if (r->done) {
        return;
    }
    r->done = 1;
    RCFD_LOG(RCFD_LOG_ERROR, o->conf->name, "giving up a record: %s", reason);
    dead_letter(o, r, reason);
    rcfd_delivery_unref(r->d);
}

static void finish(rcfd_output_t *o)
{
    o->busy = 0;
    batch_reset(&o->sending);
    if (pending_n(&o->batch) > 0 && batch_full(o)) {
        rcfd_output_flush(o);
    }
    if (rcfd_output_idle(o) && o->on_idle != NULL) {
        o->on_idle(o->ud);
    }
}

/* Records of the batch in flight not settled yet. */
static size_t unsettled(const rcfd_output_t *o)
{
    size_t n = 0;
    for (size_t i = 0; i < o->sending.n; i++) {
        n += !o->sending.r[i].done;
    }
    return n;
}

void rcfd_output_drop(rcfd_output_t *o, const char *reason)
{
    size_t n = unsettled(o);
    RCFD_LOG(RCFD_LOG_ERROR, o->conf->name, "giving up %zu records after a permanent error: %s%s",
             n, reason, o->dead != NULL ? " (dead-lettered)" : "");
    for (size_t i = 0; i < o->sending.n; i++) {
        rcfd_out_rec_t *r = &o->sending.r[i];
        if (!r->done) {
            r->done = 1;
            dead_letter(o, r, reason);
            rcfd_delivery_unref(r->d);
        }
    }
    o->backoff_ms = (uint64_t)o->conf->retry_initial_ms;
    finish(o);
}

void rcfd_output_sent(rcfd_output_t *o, rcfd_sink_result_t result)
{
    switch (result) {
    case RCFD_SINK_OK: {
        uint64_t now = uv_hrtime();
        o->stats.batches++;
        for (size_t i = 0; i < o->sending.n; i++) {
            rcfd_out_rec_t *r = &o->sending.r[i];
            if (!r->done) {
                r->done = 1;
                o->stats.records++;
                o->stats.bytes += r->len + 1;
                lat_add(o, r->t0, now);
                rcfd_delivery_unref(r->d);
            }
        }
        o->backoff_ms = (uint64_t)o->conf->retry_initial_ms;
        finish(o);
        return;
    }
    case RCFD_SINK_DROP:
        rcfd_output_drop(o, "permanent error");
        return;
    case RCFD_SINK_RETRY:
        rcfd_output_retry_after(o, 0);
        return;
    }
}

void rcfd_output_retry_after(rcfd_output_t *o, uint64_t min_delay_ms)
{
    o->stats.retries++;
    /* Exponential backoff with jitter: a delay in [backoff/2, backoff]. */
    o->rnd ^= o->rnd << 13;
    o->rnd ^= o->rnd >> 7;
    o->rnd ^= o->rnd << 17;
    uint64_t half = o->backoff_ms / 2;
    uint64_t delay = half + (o->rnd % (o->backoff_ms - half + 1));
    /* The server's wait wins over a shorter backoff, but not over the operator's ceiling: a
     * Retry-After of hours must not park the output (and the sources' offsets) that long. */
    uint64_t cap = (uint64_t)o->conf->retry_max_ms;
    if (min_delay_ms > delay) {
        delay = min_delay_ms < cap ? min_delay_ms : cap;
    }
    RCFD_LOG(RCFD_LOG_WARN, o->conf->name, "send failed; retrying %zu records in %llu ms",
             o->sending.n, (unsigned long long)delay);
    uv_timer_start(&o->retry_timer, on_retry, delay, 0);
    o->backoff_ms *= 2;
    if (o->backoff_ms > cap) {
        o->backoff_ms = cap;
    }
}

void rcfd_output_fatal(rcfd_output_t *o, const char *why)
{
    if (o->failed) {
        return;
    }
    o->failed = 1;
    uv_timer_stop(&o->retry_timer);
    uv_timer_stop(&o->linger_timer);
    RCFD_LOG(RCFD_LOG_ERROR, o->conf->name, "%s; sending nothing more, %zu records unaccepted", why,
             rcfd_output_inflight(o));
    if (o->on_fatal != NULL) {
        o->on_fatal(o->ud);
    }
}

int rcfd_output_idle(const rcfd_output_t *o)
{
    return !o->busy && pending_n(&o->batch) == 0;
}

size_t rcfd_output_inflight(const rcfd_output_t *o)
{
    return pending_n(&o->batch) + unsettled(o);
}

uint64_t rcfd_outputs_queued_bytes(const rcfd_output_t *outs, size_t n)
{
    uint64_t b = 0;
    for (size_t i = 0; i < n; i++) {
        b += pending_bytes(&outs[i].batch) + outs[i].sending.data.len;
    }
    return b;
}

void rcfd_output_reopen(rcfd_output_t *o)
{
    if (o->type != NULL && o->type->reopen != NULL) {
        o->type->reopen(o);
    }
}

void rcfd_output_abandon(rcfd_output_t *o)
{
    size_t n = o->sending.n, h = o->batch.head, m = o->batch.n;
    o->sending.n = o->batch.n = o->batch.head = 0;
    o->busy = 0;
    for (size_t i = 0; i < n; i++) {
        if (!o->sending.r[i].done) {
            rcfd_delivery_unref(o->sending.r[i].d);
        }
    }
    for (size_t i = h; i < m; i++) {
        rcfd_delivery_unref(o->batch.r[i].d);
    }
}

void rcfd_output_destroy(rcfd_output_t *o)
{
    if (o->conf != NULL && o->stats.records > 0) {
        RCFD_LOG(RCFD_LOG_INFO, o->conf->name,
                 "%llu records in %llu batches, %llu retries, %llu dead-lettered; latency p50 "
                 "%.3f ms p99 %.3f ms",
                 (unsigned long long)o->stats.records, (unsigned long long)o->stats.batches,
                 (unsigned long long)o->stats.retries,
                 (unsigned long long)o->stats.dead_lettered, rcfd_output_latency_ms(o, 0.5),
                 rcfd_output_latency_ms(o, 0.99));
    }
    if (o->type != NULL && o->type->close != NULL) {
        o->type->close(o);
    }
    batch_free(&o->batch);
    batch_free(&o->sending);
}
