/* Kafka sink: a librdkafka producer attached to the loop (style guide 2.8).
 *
 * The producer's main queue (delivery reports, logs, errors) signals an eventfd through
 * rd_kafka_queue_io_event_enable; a uv_poll on it calls rd_kafka_poll(rk, 0), which runs dr_msg_cb
 * on the loop thread. Each record of the batch in flight is produced with RD_KAFKA_MSG_F_COPY,
 * the pipeline key as message key and its index as the message opaque; its delivery report
 * settles it: success -> accepted (the source may store its offset); a permanent error (size,
 * authorization, unknown topic, invalid record) -> the output's dead_letter with the error;
 * anything else (librdkafka already retried until message.timeout.ms) -> the batch answers RETRY
 * once every report is in, and the resend produces only the records not yet settled.
 * __QUEUE_FULL is backpressure inside the batch: producing stops and resumes as delivery reports
 * free the queue (or from a short timer when none is outstanding); the batch is answered only when
 * every record is settled, so the source sees it as in flight and pauses at its watermark. Nothing
 * sleeps or flushes on the loop. enable.idempotence defaults to true. A fatal producer error
 * fails the output (rcfd_output_fatal: the daemon stops with exit 69); records not yet settled
 * stay unaccepted. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "common/log.h"
#include "sinks/output.h"

typedef struct ksink {
    rcfd_output_t *o;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    rd_kafka_queue_t *mainq;
    int wakefd;
    uv_poll_t poll;
    uv_timer_t safety; /* polls now and then, and answers a round that produced nothing */
    size_t outstanding;
    size_t next; /* first record of the batch not produced yet */
    int blocked; /* the last produce hit __QUEUE_FULL */
    int retry;
    int answer_pending;
    int fatal; /* the producer raised a fatal error: it is unusable, nothing is settled any more */
    uint64_t produced, delivered, failed_retriable, failed_permanent, queue_full;
} ksink_t;

static const uint64_t wake_payload = 1;

static int permanent(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
        return 1;
    default:
        return 0;
    }
}

static void produce_more(ksink_t *k);

/* A fatal error (idempotence: a gap or reordering it cannot repair; also
 * rd_kafka_test_fatal_error()) leaves the producer unusable. Its records are not the problem, so
 * they are neither dead-lettered nor retried: they stay unaccepted, and the daemon stops
 * (exit 69, like the consumer's fatal error) to come back with a new producer. */
static void producer_failed(ksink_t *k)
{
    if (k->fatal) {
        return;
    }
    k->fatal = 1;
    char why[512];
    rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(k->rk, why, sizeof why);
    char msg[640];
    snprintf(msg, sizeof msg, "fatal producer error %s: %s", rd_kafka_err2name(ferr), why);
    rcfd_output_fatal(k->o, msg); /* logs it */
}

static void answer(ksink_t *k)
{
    if (k->fatal) {
        return; /* the batch stays unanswered: the output has failed */
    }
    k->answer_pending = 0;
    int retry = k->retry;
    k->retry = 0;
    rcfd_output_sent(k->o, retry ? RCFD_SINK_RETRY : RCFD_SINK_OK);
}

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    ksink_t *k = opaque;
    size_t i = (size_t)(uintptr_t)m->_private;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        k->delivered++;
        rcfd_output_record_ok(k->o, i);
    } else if (k->fatal || m->err == RD_KAFKA_RESP_ERR__FATAL) {
        producer_failed(k); /* the record stays unsettled */
    } else if (permanent(m->err)) {
        k->failed_permanent++;
        char reason[512];
        snprintf(reason, sizeof reason, "%s: %s", rd_kafka_err2name(m->err),
                 rd_kafka_err2str(m->err));
        rcfd_output_record_dead(k->o, i, reason);
    } else {
        k->failed_retriable++;
        k->retry = 1;
        RCFD_LOG(RCFD_LOG_WARN, k->o->conf->name, "delivery failed, will retry: %s",
                 rd_kafka_err2str(m->err));
    }
    k->outstanding--;
    if (k->blocked) {
        produce_more(k);
    } else if (k->outstanding == 0 && k->answer_pending) {
        answer(k);
    }
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    ksink_t *k = rd_kafka_opaque(rk);
    char comp[160];
    snprintf(comp, sizeof comp, "%s:rdkafka:%s", k ? k->o->conf->name : "kafka", fac);
    rcfd_log_syslog(level, comp, buf);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    ksink_t *k = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        producer_failed(k);
        return;
    }
    RCFD_LOG(RCFD_LOG_WARN, k->o->conf->name, "%s: %s",
             rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void drain(ksink_t *k)
{
    uint64_t v;
    while (read(k->wakefd, &v, sizeof v) > 0) {
    }
    /* Serves delivery reports, logs and errors; bounded so one call cannot hog the loop. */
    for (int i = 0; i < 64 && rd_kafka_poll(k->rk, 0) > 0; i++) {
    }
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    drain(h->data);
}

static void on_safety(uv_timer_t *t)
{
    ksink_t *k = t->data;
    if (k->blocked) {
        produce_more(k);
    } else if (k->answer_pending && k->outstanding == 0) {
        answer(k);
    }
    drain(k);
}

static int ks_open(rcfd_output_t *o, char *errstr, size_t es)
{
    const rcfd_output_conf_t *c = o->conf;
    ksink_t *k = rcfd_calloc(1, sizeof *k);
    if (k == NULL) {
        return RCFD_ENOMEM;
    }
    k->o = o;
    k->wakefd = -1;
    char kerr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int idem = 0;
    for (size_t i = 0; i < c->rdkafka.n; i++) {
        idem |= strcmp(c->rdkafka.keys[i], "enable.idempotence") == 0;
        if (rd_kafka_conf_set(conf, c->rdkafka.keys[i], c->rdkafka.vals[i], kerr, sizeof kerr) !=
            RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            rcfd_free(k);
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "outputs \"%s\".rdkafka.\"%s\": %s",
                             c->name, c->rdkafka.keys[i], kerr);
        }
    }
    if (!idem) {
        rd_kafka_conf_set(conf, "enable.idempotence", "true", kerr, sizeof kerr);
    }
    rd_kafka_conf_set(conf, "log.queue", "true", kerr, sizeof kerr);
    rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_opaque(conf, k);
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, kerr, sizeof kerr);
    if (k->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        rcfd_free(k);
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "outputs \"%s\": %s", c->name, kerr);
    }
    /* conf now belongs to rk */
    rd_kafka_set_log_queue(k->rk, NULL); /* logs to the main queue: served on the loop */
    k->rkt = rd_kafka_topic_new(k->rk, c->topic, NULL);
    k->mainq = rd_kafka_queue_get_main(k->rk);
    k->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (k->rkt == NULL || k->mainq == NULL || k->wakefd < 0) {
        int err = errno;
        if (k->wakefd >= 0) {
            close(k->wakefd);
        }
        if (k->mainq) {
            rd_kafka_queue_destroy(k->mainq);
        }
        if (k->rkt) {
            rd_kafka_topic_destroy(k->rkt);
        }
        rd_kafka_destroy(k->rk);
        rcfd_free(k);
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "outputs \"%s\": producer setup: %s", c->name,
                         strerror(err));
    }
    rd_kafka_queue_io_event_enable(k->mainq, k->wakefd, &wake_payload, sizeof wake_payload);
    uv_poll_init(o->loop, &k->poll, k->wakefd);
    uv_timer_init(o->loop, &k->safety);
    k->poll.data = k->safety.data = k;
    uv_poll_start(&k->poll, UV_READABLE, on_readable);
    uv_timer_start(&k->safety, on_safety, 200, 200);
    uv_unref((uv_handle_t *)&k->safety);
    o->impl = k;
    return 0;
}

/* Produces records from k->next on; stops at __QUEUE_FULL. Answers the batch once everything is
 * produced and settled. May run from send() only through the timer (never answers inline). */
static void produce_round(ksink_t *k)
{
    rcfd_output_t *o = k->o;
    const rcfd_out_batch_t *b = &o->sending;
    k->blocked = 0;
    for (; !k->fatal && k->next < b->n; k->next++) {
        size_t i = k->next;
        const rcfd_out_rec_t *r = &b->r[i];
        if (r->done) {
            continue;
        }
        if (rd_kafka_produce(k->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                             (void *)(uintptr_t)(b->data.p + r->off), r->len,
                             r->has_key ? b->keys.p + r->koff : NULL, r->klen,
                             (void *)(uintptr_t)i) == 0) {
            k->outstanding++;
            k->produced++;
            continue;
        }
        rd_kafka_resp_err_t err = rd_kafka_last_error();
        if (err == RD_KAFKA_RESP_ERR__FATAL) {
            producer_failed(k); /* before the error event reached the loop */
            break;
        }
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            /* Backpressure: continue when delivery reports free the queue. */
            k->queue_full++;
            k->blocked = 1;
            break;
        }
        char reason[512];
        snprintf(reason, sizeof reason, "%s: %s", rd_kafka_err2name(err), rd_kafka_err2str(err));
        if (permanent(err)) {
            k->failed_permanent++;
            rcfd_output_record_dead(o, i, reason);
        } else {
            k->retry = 1; /* left unsettled: the host resends it after a backoff */
            RCFD_LOG(RCFD_LOG_WARN, o->conf->name, "produce failed, will retry: %s", reason);
        }
    }
}

static void produce_more(ksink_t *k)
{
    produce_round(k);
    if (k->outstanding == 0) {
        if (k->blocked) {
            uv_timer_start(&k->safety, on_safety, 10, 200); /* queue full of nothing of ours */
        } else if (k->answer_pending) {
            answer(k);
        }
    }
}

static int ks_send(rcfd_output_t *o, const char *data, size_t len, int retry)
{
    (void)data;
    (void)len;
    (void)retry;
    ksink_t *k = o->impl;
    k->retry = 0;
    k->next = 0;
    k->answer_pending = 1;
    produce_round(k);
    if (k->outstanding == 0) {
        /* Nothing to wait for: continue from the timer, never answer from inside send(). */
        uv_timer_start(&k->safety, on_safety, k->blocked ? 10 : 0, 200);
    }
    return 0;
}

static void ks_close(rcfd_output_t *o)
{
    ksink_t *k = o->impl;
    if (k == NULL) {
        return;
    }
    RCFD_LOG(RCFD_LOG_INFO, o->conf->name,
             "kafka: %llu produced, %llu delivered, %llu retriable failures, %llu permanent, %llu "
             "queue full",
             (unsigned long long)k->produced, (unsigned long long)k->delivered,
             (unsigned long long)k->failed_retriable, (unsigned long long)k->failed_permanent,
             (unsigned long long)k->queue_full);
    rd_kafka_queue_io_event_enable(k->mainq, -1, NULL, 0);
    close(k->wakefd);
    rd_kafka_queue_destroy(k->mainq);
    rd_kafka_topic_destroy(k->rkt);
    /* Everything was acknowledged before the loop stopped, unless shutdown timed out: then the
     * rest is purged (those offsets were not stored, so the records will be read again). */
    rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_destroy(k->rk);
    rcfd_free(k);
    o->impl = NULL;
}

const rcfd_sink_type_t rcfd_sink_kafka = {
    .name = "kafka",
    .open = ks_open,
    .send = ks_send,
    .close = ks_close,
};
