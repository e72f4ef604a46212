/* Kinesis Data Streams sink: PutRecords through libcurl on the loop (net/curl_uv.h), signed with
 * SigV4 by libcurl (net/aws.h).
 *
 * The host hands over one batch; it goes out as consecutive PutRecords calls of at most 500
 * records and 4 MiB of data and keys (Kinesis' limits are 500 records and 5 MiB a call, 1 MiB a
 * record). The partition key is the pipeline key, or for records without one a counter (they
 * spread over the shards). A call can fail for some records only: the ones accepted are settled
 * at once (rcfd_output_record_ok), ones failing with a permanent error go to the dead letter
 * output with the error, and those throttled (ProvisionedThroughputExceeded) or failed
 * internally stay unsettled, so the host retries the batch with backoff and only they are sent
 * again. A whole call that fails is retried, or dropped to the dead letter output when the error
 * is permanent (an unknown stream, a malformed request). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/errstr.h"
#include "common/log.h"
#include "net/aws.h"
#include "net/curl_uv.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "sinks/output.h"

#define MAX_CALL_RECORDS 500
#define MAX_CALL_BYTES (4u << 20)
#define MAX_RECORD_BYTES (1u << 20)
#define MAX_KEY_BYTES 256

typedef struct kin_sink {
    rcfd_output_t *o;
    rcfd_aws_t aws;
    rcfd_curl_uv_t cu;
    rcfd_aws_req_t req;
    uv_timer_t answer; /* answers a batch that needed no call, from the loop */
    int in_flight;
    size_t next;  /* first record of the batch not yet in a call */
    size_t *call; /* the batch indexes of the call in flight */
    size_t n_call;
    int any_retry;    /* a record of this batch must be sent again */
    uint64_t counter; /* partition keys of records without a key */
    uint64_t calls, records_ok, records_retried, records_dead, calls_failed;
} kin_sink_t;

static void on_done(CURL *easy, CURLcode res, void *ud);

static int ks_open(rcfd_output_t *o, char *errstr, size_t es)
{
    kin_sink_t *k = rcfd_calloc(1, sizeof *k);
    if (k == NULL) {
        return RCFD_ENOMEM;
    }
    k->o = o;
    k->call = rcfd_calloc(MAX_CALL_RECORDS, sizeof *k->call);
    char err[512];
    const rcfd_output_conf_t *c = o->conf;
    int rc = k->call == NULL ? RCFD_ENOMEM
                             : rcfd_aws_init(&k->aws, "kinesis", c->k_region, c->k_endpoint,
                                             c->k_profile, err, sizeof err);
    if (rc != 0) {
        rcfd_free(k->call);
        rcfd_free(k);
        return rcfd_errf(rc, errstr, es, "outputs \"%s\": %s", c->name,
                         rc == RCFD_ENOMEM ? "out of memory" : err);
    }
    if ((rc = rcfd_aws_req_init(&k->req, &k->aws, "Kinesis_20131202.PutRecords",
                                (long)c->k_timeout_ms)) != 0 ||
        (rc = rcfd_curl_uv_init(&k->cu, o->loop, on_done, k)) != 0) {
        rcfd_aws_req_free(&k->req);
        rcfd_aws_free(&k->aws);
        rcfd_free(k->call);
        rcfd_free(k);
        return rcfd_errf(rc, errstr, es, "outputs \"%s\": cannot set up libcurl (%s)", c->name,
                         rcfd_strerror(rc));
    }
    k->req.ud = k;
    uv_timer_init(o->loop, &k->answer); /* closed by the loop walk at shutdown */
    k->answer.data = k;
    o->impl = k;
    RCFD_LOG(RCFD_LOG_INFO, c->name, "kinesis stream %s at %s, credentials from %s", c->k_stream,
             k->aws.endpoint, k->aws.creds_from);
    return 0;
}

/* Builds and starts the next call from k->next on; 0 when there is nothing left to send. */
static int put_next(kin_sink_t *k, int *started)
{
    rcfd_output_t *o = k->o;
    const rcfd_out_batch_t *b = &o->sending;
    rcfd_buf_t *body = &k->req.body;
    rcfd_buf_reset(body);
    *started = 0;
    k->n_call = 0;
    int rc = rcfd_buf_puts(body, "{\"StreamName\":");
    rc = rc ? rc : rcfd_buf_json_string(body, o->conf->k_stream, strlen(o->conf->k_stream));
    rc = rc ? rc : rcfd_buf_puts(body, ",\"Records\":[");
    size_t bytes = 0;
    for (; rc == 0 && k->next < b->n && k->n_call < MAX_CALL_RECORDS; k->next++) {
        const rcfd_out_rec_t *r = &b->r[k->next];
        if (r->done) {
            continue;
        }
        char key[MAX_KEY_BYTES + 1];
        size_t klen;
        if (r->has_key && r->klen > 0) {
            klen = r->klen > MAX_KEY_BYTES ? MAX_KEY_BYTES : r->klen;
            memcpy(key, b->keys.p + r->koff, klen);
        } else {
            klen = (size_t)snprintf(key, sizeof key, "%llu", (unsigned long long)k->counter++);
        }
        if (r->len + klen > MAX_RECORD_BYTES) {
            char why[96];
            snprintf(why, sizeof why, "a record of %zu bytes is above Kinesis' 1 MiB limit",
                     r->len + klen);
            k->records_dead++;
            rcfd_output_record_dead(o, k->next, why);
            continue;
        }
        if (k->n_call > 0 && bytes + r->len + klen > MAX_CALL_BYTES) {
            break;
        }
        bytes += r->len + klen;
        rc = k->n_call ? rcfd_buf_putc(body, ',') : 0;
        rc = rc ? rc : rcfd_buf_puts(body, "{\"Data\":\"");
        rc = rc ? rc : rcfd_base64_encode(body, b->data.p + r->off, r->len);
        rc = rc ? rc : rcfd_buf_puts(body, "\",\"PartitionKey\":");
        rc = rc ? rc : rcfd_buf_json_string(body, key, klen);
        rc = rc ? rc : rcfd_buf_putc(body, '}');
        k->call[k->n_call++] = k->next;
    }
    rc = rc ? rc : rcfd_buf_puts(body, "]}");
    if (rc != 0 || k->n_call == 0) {
        return rc;
    }
    rcfd_aws_req_ready(&k->req);
    if ((rc = rcfd_curl_uv_add(&k->cu, k->req.easy)) != 0) {
        return rc;
    }
    k->in_flight = 1;
    k->calls++;
    *started = 1;
    return 0;
}

/* After a call: the next one, or the batch's answer. */
static void continue_batch(kin_sink_t *k)
{
    int started;
    int rc = put_next(k, &started);
    if (rc != 0) {
        RCFD_LOG(RCFD_LOG_ERROR, k->o->conf->name, "PutRecords: %s", rcfd_strerror(rc));
        rcfd_output_sent(k->o, RCFD_SINK_RETRY);
    } else if (!started) {
        rcfd_output_sent(k->o, k->any_retry ? RCFD_SINK_RETRY : RCFD_SINK_OK);
    }
}

static void on_done(CURL *easy, CURLcode res, void *ud)
{
    (void)easy;
    kin_sink_t *k = ud;
    rcfd_output_t *o = k->o;
    k->in_flight = 0;
    char type[96], msg[512];
    rcfd_aws_class_t cls = rcfd_aws_classify(&k->req, res, type, sizeof type, msg, sizeof msg);
    if (cls != RCFD_AWS_OK) {
        k->calls_failed++;
        RCFD_LOG(RCFD_LOG_WARN, o->conf->name, "PutRecords to %s: %s", o->conf->k_stream, msg);
        if (cls == RCFD_AWS_PERMANENT) {
            k->records_dead += k->n_call;
            rcfd_output_drop(o, msg);
        } else {
            rcfd_output_sent(o, RCFD_SINK_RETRY);
        }
        return;
    }
    cJSON *j = cJSON_ParseWithLength(k->req.resp.p, k->req.resp.len);
    const cJSON *recs = cJSON_GetObjectItemCaseSensitive(j, "Records");
    if (!cJSON_IsArray(recs) || (size_t)cJSON_GetArraySize(recs) != k->n_call) {
        cJSON_Delete(j);
        RCFD_LOG(RCFD_LOG_WARN, o->conf->name,
                 "PutRecords: an answer without one result per "
                 "record; retrying");
        rcfd_output_sent(o, RCFD_SINK_RETRY);
        return;
    }
    size_t i = 0;
    const cJSON *r;
    char first_retry[400] = "";
    cJSON_ArrayForEach(r, recs)
    {
        size_t at = k->call[i++];
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(r, "ErrorCode");
        if (!cJSON_IsString(code)) {
            k->records_ok++;
            rcfd_output_record_ok(o, at);
            continue;
        }
        const cJSON *em = cJSON_GetObjectItemCaseSensitive(r, "ErrorMessage");
        char why[384];
        snprintf(why, sizeof why, "PutRecords: %s: %s", code->valuestring,
                 cJSON_IsString(em) ? em->valuestring : "");
        if (rcfd_aws_class_of(code->valuestring) == RCFD_AWS_PERMANENT) {
            k->records_dead++;
            rcfd_output_record_dead(o, at, why);
        } else {
            k->records_retried++;
            k->any_retry = 1;
            if (first_retry[0] == '\0') {
                snprintf(first_retry, sizeof first_retry, "%s", why);
            }
        }
    }
    cJSON_Delete(j);
    if (first_retry[0] != '\0') {
        RCFD_LOG(RCFD_LOG_DEBUG, o->conf->name, "partial failure, retrying the failed records: %s",
                 first_retry);
    }
    continue_batch(k);
}

static void on_answer(uv_timer_t *t)
{
    kin_sink_t *k = t->data;
    rcfd_output_sent(k->o, RCFD_SINK_OK);
}

static int ks_send(rcfd_output_t *o, const char *data, size_t len, int retry)
{
    (void)data;
    (void)len;
    (void)retry; /* records settled before are marked done and skipped */
    kin_sink_t *k = o->impl;
    k->next = 0;
    k->any_retry = 0;
    int started;
    int rc = put_next(k, &started);
    if (rc != 0) {
        return rc;
    }
    if (!started) {
        /* every record was settled while building (too large): answer from the loop, not from
         * inside send() */
        uv_timer_start(&k->answer, on_answer, 0, 0);
    }
    return 0;
}

static void ks_close(rcfd_output_t *o)
{
    kin_sink_t *k = o->impl;
    if (k == NULL) {
        return;
    }
    RCFD_LOG(RCFD_LOG_INFO, o->conf->name,
             "kinesis: %llu PutRecords calls (%llu failed whole), %llu records accepted, %llu "
             "retried, %llu given up",
             (unsigned long long)k->calls, (unsigned long long)k->calls_failed,
             (unsigned long long)k->records_ok, (unsigned long long)k->records_retried,
             (unsigned long long)k->records_dead);
    k->cu.closing = 1;
    if (k->in_flight) {
        curl_multi_remove_handle(k->cu.multi, k->req.easy);
    }
    rcfd_aws_req_free(&k->req);
    rcfd_curl_uv_cleanup(&k->cu);
    rcfd_aws_free(&k->aws);
    rcfd_free(k->call);
    rcfd_free(k);
    o->impl = NULL;
}

const rcfd_sink_type_t rcfd_sink_kinesis = {
    .name = "kinesis",
    .open = ks_open,
    .send = ks_send,
    .close = ks_close,
};
