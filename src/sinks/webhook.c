/* Webhook sink: HTTP POST of JSON through libcurl's multi interface on the loop (curl_uv.c).
 *
 * One request in flight per output (the host sends one batch at a time), so the records of a key
 * reach the server in order even across retries. A batch of one record is posted as that JSON
 * object when batch_max_records is 1, otherwise as a JSON array. Statuses follow fluent-bit's
 * out_http table: 2xx accepted; 408, 429, 5xx, timeouts and transport errors RETRY (the host
 * backs off exponentially with jitter on a uv_timer; a 429 or 503 with Retry-After waits at least
 * that long, as curl --retry does, capped at retry_max_ms); any other status is permanent and the
 * batch goes to the output's dead_letter with the reason. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "net/curl_uv.h"
#include "common/log.h"
#include "sinks/output.h"

typedef struct webhook {
    rcfd_output_t *o;
    rcfd_curl_uv_t cu;
    struct curl_slist *headers;
    CURL *easy; /* the request in flight */
    rcfd_buf_t body;
    char curl_err[CURL_ERROR_SIZE];
    uint64_t requests, ok, http_retry, retry_after, timeouts, transport, given_up;
} webhook_t;

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static void on_done(CURL *easy, CURLcode res, void *ud);

static int wh_open(rcfd_output_t *o, char *errstr, size_t es)
{
    webhook_t *w = rcfd_calloc(1, sizeof *w);
    if (w == NULL) {
        return RCFD_ENOMEM;
    }
    w->o = o;
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    for (size_t i = 0; h != NULL && i < o->conf->headers.n; i++) {
        rcfd_buf_t line = {0};
        if (rcfd_buf_printf(&line, "%s: %s", o->conf->headers.keys[i],
                            o->conf->headers.vals[i]) != 0) {
            curl_slist_free_all(h);
            h = NULL;
            break;
        }
        struct curl_slist *n = curl_slist_append(h, line.p);
        rcfd_buf_free(&line);
        if (n == NULL) {
            curl_slist_free_all(h);
            h = NULL;
            break;
        }
        h = n;
    }
    /* "Expect: 100-continue" would add a round trip to every large POST. */
    struct curl_slist *n = h ? curl_slist_append(h, "Expect:") : NULL;
    if (n == NULL) {
        curl_slist_free_all(h);
        rcfd_free(w);
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "outputs \"%s\": out of memory", o->conf->name);
    }
    w->headers = n;
    int rc = rcfd_curl_uv_init(&w->cu, o->loop, on_done, w);
    if (rc != 0) {
        curl_slist_free_all(w->headers);
        rcfd_free(w);
        return rcfd_errf(rc, errstr, es, "outputs \"%s\": curl_multi_init failed", o->conf->name);
    }
    o->impl = w;
    return 0;
}

/* The fluent-bit out_http table. */
static rcfd_sink_result_t classify_status(long status)
{
    if (status >= 200 && status < 300) {
        return RCFD_SINK_OK;
    }
    if (status == 408 || status == 429 || status >= 500) {
        return RCFD_SINK_RETRY;
    }
    return RCFD_SINK_DROP;
}

static void on_done(CURL *easy, CURLcode res, void *ud)
{
    webhook_t *w = ud;
    rcfd_output_t *o = w->o;
    long status = 0;
    curl_off_t retry_after = 0; /* seconds; curl turns an HTTP-date into a delay from now */
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after);
    char err[CURL_ERROR_SIZE + 64];
    snprintf(err, sizeof err, "%s", w->curl_err[0] ? w->curl_err : curl_easy_strerror(res));
    curl_easy_cleanup(easy);
    w->easy = NULL;
    if (res != CURLE_OK) {
        if (res == CURLE_OPERATION_TIMEDOUT) {
            w->timeouts++;
        } else {
            w->transport++;
        }
        RCFD_LOG(RCFD_LOG_WARN, o->conf->name, "POST %s: %s", o->conf->url, err);
        rcfd_output_sent(o, RCFD_SINK_RETRY);
        return;
    }
    switch (classify_status(status)) {
    case RCFD_SINK_OK:
        w->ok++;
        rcfd_output_sent(o, RCFD_SINK_OK);
        break;
    case RCFD_SINK_RETRY:
        w->http_retry++;
        /* 429 and 503 are the statuses whose Retry-After means "not before" (RFC 6585 section 4,
         * RFC 9110 section 10.2.3); the host caps it at retry_max_ms. A date in the past reads
         * as a negative delay before curl 8.12. */
        if ((status == 429 || status == 503) && retry_after > 0) {
            w->retry_after++;
            RCFD_LOG(RCFD_LOG_WARN, o->conf->name, "POST %s: HTTP %ld, Retry-After %lld s",
                     o->conf->url, status, (long long)retry_after);
            rcfd_output_retry_after(o, retry_after > (curl_off_t)(UINT64_MAX / 1000)
                                           ? UINT64_MAX
                                           : (uint64_t)retry_after * 1000);
            break;
        }
        RCFD_LOG(RCFD_LOG_WARN, o->conf->name, "POST %s: HTTP %ld", o->conf->url, status);
        rcfd_output_sent(o, RCFD_SINK_RETRY);
        break;
    case RCFD_SINK_DROP: {
        w->given_up++;
        char reason[64];
        snprintf(reason, sizeof reason, "HTTP %ld", status);
        rcfd_output_drop(o, reason);
        break;
    }
    }
}

static int build_body(webhook_t *w)
{
    rcfd_output_t *o = w->o;
    const rcfd_out_batch_t *b = &o->sending;
    rcfd_buf_reset(&w->body);
    int single = o->conf->batch_max_records == 1 && b->n == 1;
    int rc = single ? 0 : rcfd_buf_putc(&w->body, '[');
    for (size_t i = 0; rc == 0 && i < b->n; i++) {
        rc = i ? rcfd_buf_putc(&w->body, ',') : 0;
        rc = rc ? rc : rcfd_buf_append(&w->body, b->data.p + b->r[i].off, b->r[i].len);
    }
    return rc ? rc : single ? 0 : rcfd_buf_putc(&w->body, ']');
}

static int wh_send(rcfd_output_t *o, const char *data, size_t len, int retry)
{
    (void)data;
    (void)len;
    (void)retry;
    webhook_t *w = o->impl;
    int rc = build_body(w);
    if (rc != 0) {
        return rc;
    }
    CURL *e = curl_easy_init();
    if (e == NULL) {
        return RCFD_ENOMEM;
    }
    const rcfd_output_conf_t *c = o->conf;
    w->curl_err[0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, c->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, w->body.p); /* ours until on_done */
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)w->body.len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, w->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
    if (c->ca_file != NULL && c->ca_file[0] != '\0') {
        curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
    }
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "rcfd");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, w->curl_err);
    curl_easy_setopt(e, CURLOPT_PRIVATE, w);
    if ((rc = rcfd_curl_uv_add(&w->cu, e)) != 0) {
        curl_easy_cleanup(e);
        return rc;
    }
    w->easy = e;
    w->requests++;
    return 0;
}

static void wh_close(rcfd_output_t *o)
{
    webhook_t *w = o->impl;
    if (w == NULL) {
        return;
    }
    RCFD_LOG(RCFD_LOG_INFO, o->conf->name,
             "webhook: %llu requests, %llu 2xx, %llu retried statuses (%llu with Retry-After), "
             "%llu timeouts, %llu transport errors, %llu given up",
             (unsigned long long)w->requests, (unsigned long long)w->ok,
             (unsigned long long)w->http_retry, (unsigned long long)w->retry_after,
             (unsigned long long)w->timeouts, (unsigned long long)w->transport,
             (unsigned long long)w->given_up);
    w->cu.closing = 1; /* the loop is closed: curl's callbacks must not touch uv handles */
    if (w->easy != NULL) {
        curl_multi_remove_handle(w->cu.multi, w->easy);
        curl_easy_cleanup(w->easy);
    }
    rcfd_curl_uv_cleanup(&w->cu);
    curl_slist_free_all(w->headers);
    rcfd_buf_free(&w->body);
    rcfd_free(w);
    o->impl = NULL;
}

const rcfd_sink_type_t rcfd_sink_webhook = {
    .name = "webhook",
    .open = wh_open,
    .send = wh_send,
    .close = wh_close,
};
