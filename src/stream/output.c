#include "stream/output.h"

#include <string.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "stream/log.h"

int rcfd_output_init(rcfd_output_t *o, uv_loop_t *loop, const rcfd_output_conf_t *conf,
                     char *errstr, size_t es)
{
    memset(o, 0, sizeof *o);
    o->conf = conf;
    o->loop = loop;
    o->type = &rcfd_sink_file;
    o->backoff_ms = (uint64_t)conf->retry_initial_ms;
    int rc = o->type->open(o, errstr, es);
    if (rc != 0) {
        return rc;
    }
    uv_timer_init(loop, &o->retry_timer);
    o->retry_timer.data = o;
    return 0;
}

int rcfd_output_submit(rcfd_output_t *o, const char *data, size_t len, rcfd_delivery_t *d)
{
    if (o->batch_n == o->batch_cap) {
        size_t cap = o->batch_cap ? o->batch_cap * 2 : 256;
        rcfd_delivery_t **v = rcfd_realloc(o->batch_d, cap * sizeof *v);
        if (v == NULL) {
            return RCFD_ENOMEM;
        }
        o->batch_d = v;
        o->batch_cap = cap;
    }
    int rc = rcfd_buf_reserve(&o->batch, len + 1);
    if (rc != 0) {
        return rc;
    }
    rcfd_buf_append(&o->batch, data, len);
    rcfd_buf_putc(&o->batch, '\n');
    o->batch_d[o->batch_n++] = d;
    rcfd_delivery_ref(d);
    if (o->batch.len >= (size_t)o->conf->batch_max_bytes) {
        rcfd_output_flush(o);
    }
    return 0;
}

static void start_send(rcfd_output_t *o, int retry)
{
    o->busy = 1;
    if (o->type->send(o, o->sending.p, o->sending.len, retry) != 0) {
        /* Could not even start: treat as RETRY, but from the timer, not recursively. */
        o->stats.retries++;
        uv_timer_start(&o->retry_timer, NULL, 0, 0);
    }
}

static void on_retry(uv_timer_t *t)
{
    rcfd_output_t *o = t->data;
    start_send(o, 1);
}

void rcfd_output_flush(rcfd_output_t *o)
{
    if (o->busy || o->batch_n == 0) {
        return;
    }
    /* Swap the accumulating batch into the send slot; both keep their allocations. */
    rcfd_buf_t tb = o->sending;
    o->sending = o->batch;
    o->batch = tb;
    rcfd_buf_reset(&o->batch);
    rcfd_delivery_t **td = o->send_d;
    size_t tcap = o->send_cap;
    o->send_d = o->batch_d;
    o->send_cap = o->batch_cap;
    o->send_n = o->batch_n;
    o->batch_d = td;
    o->batch_cap = tcap;
    o->batch_n = 0;
    start_send(o, 0);
}

static void release(rcfd_output_t *o)
{
    o->busy = 0;
    rcfd_buf_reset(&o->sending);
    size_t n = o->send_n;
    o->send_n = 0;
    for (size_t i = 0; i < n; i++) {
        rcfd_delivery_unref(o->send_d[i]);
    }
}

void rcfd_output_sent(rcfd_output_t *o, rcfd_sink_result_t result)
{
    switch (result) {
    case RCFD_SINK_OK:
        o->stats.records += o->send_n;
        o->stats.bytes += o->sending.len;
        o->backoff_ms = (uint64_t)o->conf->retry_initial_ms;
        release(o);
        break;
    case RCFD_SINK_DROP:
        o->stats.dropped += o->send_n;
        RCFD_LOG(RCFD_LOG_ERROR, o->conf->name, "dropped %zu records after a permanent error",
                 o->send_n);
        release(o);
        break;
    case RCFD_SINK_RETRY:
        o->stats.retries++;
        RCFD_LOG(RCFD_LOG_WARN, o->conf->name, "write failed; retrying %zu records in %llu ms",
                 o->send_n, (unsigned long long)o->backoff_ms);
        uv_timer_start(&o->retry_timer, on_retry, o->backoff_ms, 0);
        o->backoff_ms *= 2;
        if (o->backoff_ms > (uint64_t)o->conf->retry_max_ms) {
            o->backoff_ms = (uint64_t)o->conf->retry_max_ms;
        }
        return;
    }
    if (o->batch_n > 0 && o->batch.len >= (size_t)o->conf->batch_max_bytes) {
        rcfd_output_flush(o);
    }
    if (rcfd_output_idle(o) && o->on_idle != NULL) {
        o->on_idle(o->ud);
    }
}

int rcfd_output_idle(const rcfd_output_t *o)
{
    return !o->busy && o->batch_n == 0;
}

void rcfd_output_reopen(rcfd_output_t *o)
{
    if (o->type->reopen != NULL) {
        o->type->reopen(o);
    }
}

void rcfd_output_abandon(rcfd_output_t *o)
{
    size_t n = o->send_n, m = o->batch_n;
    o->send_n = o->batch_n = 0;
    o->busy = 0;
    for (size_t i = 0; i < n; i++) {
        rcfd_delivery_unref(o->send_d[i]);
    }
    for (size_t i = 0; i < m; i++) {
        rcfd_delivery_unref(o->batch_d[i]);
    }
}

void rcfd_output_destroy(rcfd_output_t *o)
{
    if (o->type != NULL && o->type->close != NULL) {
        o->type->close(o);
    }
    rcfd_buf_free(&o->batch);
    rcfd_buf_free(&o->sending);
    rcfd_free(o->batch_d);
    rcfd_free(o->send_d);
    o->batch_d = o->send_d = NULL;
}
