/* Outputs: the sink interface and the host that batches, sends, retries and acknowledges.
 *
 * A sink type is a descriptor (like fluent-bit's output plugins): open / send / reopen / close.
 * Encoding happens before a record reaches the sink (encode.h), so a sink only moves bytes. The
 * host appends encoded lines to a batch, hands one batch at a time to the sink from a uv_prepare
 * (once per loop iteration) or when the batch is full, and on the sink's answer:
 *   OK    -> every record in the batch is accepted: its delivery reference is released;
 *   RETRY -> the same batch is sent again after an exponential backoff on a uv_timer;
 *   DROP  -> the batch is given up (counted) and its deliveries are released.
 * A sink that can never deliver again calls rcfd_output_fatal() instead of answering.
 *
 * Deliveries: a record read from a source carries one rcfd_delivery_t. Each output it is handed
 * to holds a reference; when the last is released the source's callback runs (the Kafka source
 * then advances the partition watermark and stores the offset). All on the loop thread. */
#ifndef RCFD_SINKS_OUTPUT_H
#define RCFD_SINKS_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "common/buf.h"
#include "config/schema.h"
#include "models/model.h"

typedef struct rcfd_delivery rcfd_delivery_t;
typedef void (*rcfd_delivery_cb)(rcfd_delivery_t *d);
struct rcfd_delivery {
    uint32_t refs;
    rcfd_delivery_cb done; /* runs once when refs drops to 0; frees d */
    void *owner;
    void *part;
    uint64_t seq;
};

static inline void rcfd_delivery_ref(rcfd_delivery_t *d)
{
    d->refs++;
}

static inline void rcfd_delivery_unref(rcfd_delivery_t *d)
{
    if (--d->refs == 0) {
        d->done(d);
    }
}

typedef enum rcfd_sink_result {
    RCFD_SINK_OK = 0,
    RCFD_SINK_RETRY = 1,
    RCFD_SINK_DROP = 2
} rcfd_sink_result_t;

typedef struct rcfd_output rcfd_output_t;

typedef struct rcfd_sink_type {
    const char *name;
    /* Startup, before the loop runs (may block briefly, e.g. open(2)). */
    int (*open)(rcfd_output_t *o, char *errstr, size_t errstr_size);
    /* Starts delivering data[0..len) (the batch's lines, each ending in '\n'; o->sending.r[] has
     * each record's place and key). The sink later calls rcfd_output_sent() exactly once, never
     * from inside send(). `retry` is 1 when the host resends the same batch after RETRY (a sink
     * that wrote part of it resumes where it stopped; records marked done are skipped). Returns 0,
     * or an error meaning RETRY. */
    int (*send)(rcfd_output_t *o, const char *data, size_t len, int retry);
    /* SIGHUP: reopen files before the next send. */
    void (*reopen)(rcfd_output_t *o);
    /* After the loop has stopped: release everything (no callbacks any more). */
    void (*close)(rcfd_output_t *o);
} rcfd_sink_type_t;

extern const rcfd_sink_type_t rcfd_sink_file, rcfd_sink_webhook, rcfd_sink_kafka, rcfd_sink_kinesis;

#define RCFD_LAT_BUCKETS 256 /* latency histogram: bucket i holds [2^(i/8), 2^((i+1)/8)) us */
/* The /metrics latency histogram's upper bounds in seconds, 0.5 ms to 30 s (Prometheus `le`). */
#define RCFD_LAT_BOUNDS 15
extern const double rcfd_output_lat_bounds[RCFD_LAT_BOUNDS];

typedef struct rcfd_output_stats {
    uint64_t records;       /* records accepted */
    uint64_t dropped;       /* given up with no dead-letter output to take them */
    uint64_t dead_lettered; /* given up and handed to the dead-letter output */
    uint64_t filtered;      /* below min_score / min_grade / min_novelty, no alert, no hotspot */
    uint64_t retries;       /* RETRY answers */
    uint64_t batches;       /* sends answered OK */
    uint64_t bytes;
    uint64_t lat[RCFD_LAT_BUCKETS]; /* submit -> accepted */
    /* The same latencies in rcfd_output_lat_bounds' buckets (per bucket, not cumulative; the last
     * is +Inf) and their sum in seconds: what /metrics exports. */
    uint64_t lat_le[RCFD_LAT_BOUNDS + 1];
    double lat_sum;
} rcfd_output_stats_t;

/* One queued record: its line in the batch's data (without the '\n') and its key. */
typedef struct rcfd_out_rec {
    rcfd_delivery_t *d;
    size_t off, len;
    size_t koff, klen;
    int has_key;
    int done; /* settled individually (accepted or dead-lettered) during a partial send */
    uint64_t t0; /* uv_hrtime() at submit */
} rcfd_out_rec_t;

typedef struct rcfd_out_batch {
    rcfd_buf_t data;
    rcfd_buf_t keys;
    rcfd_out_rec_t *r;
    size_t n, cap;
    size_t head; /* accumulating batch: records before head were moved to the send slot */
} rcfd_out_batch_t;

struct rcfd_output {
    const rcfd_output_conf_t *conf;
    const rcfd_sink_type_t *type;
    void *impl; /* the sink's state */
    uv_loop_t *loop;
    rcfd_output_t *dead; /* conf->dead_letter's output, or NULL */
    rcfd_out_batch_t batch;   /* accumulating */
    rcfd_out_batch_t sending; /* handed to the sink */
    int busy;
    int failed; /* rcfd_output_fatal(): sends nothing more */
    uint64_t backoff_ms;
    uint64_t rnd;
    uint64_t batch_t0; /* uv_now() when the accumulating batch got its first record */
    uv_timer_t retry_timer;
    uv_timer_t linger_timer;
    rcfd_output_stats_t stats;
    void (*on_idle)(void *ud); /* called when the output has nothing queued or in flight */
    void (*on_fatal)(void *ud); /* called once by rcfd_output_fatal() */
    void *ud;
};

int rcfd_output_init(rcfd_output_t *o, uv_loop_t *loop, const rcfd_output_conf_t *conf,
                     char *errstr, size_t errstr_size);
/* The same with an explicit sink type (tests drive the host with a fake sink). */
int rcfd_output_init_type(rcfd_output_t *o, uv_loop_t *loop, const rcfd_output_conf_t *conf,
                          const rcfd_sink_type_t *type, char *errstr, size_t errstr_size);
/* Resolves every output's dead_letter index to a pointer (after all are initialised). */
void rcfd_outputs_link(rcfd_output_t *outs, size_t n);
/* The record filter (min_score, min_grade, min_novelty, alert, require_hotspots): 1 if the
 * output wants it. A NaN in v, or alert -1, means the pipeline has no such result: that filter
 * does not apply. alert: 1 when an alert starts at this record, else 0. */
int rcfd_output_wants(const rcfd_output_t *o, const rcfd_verdict_t *v);
/* Queues one encoded record (a newline is added) and takes a reference on d. */
int rcfd_output_submit(rcfd_output_t *o, const char *data, size_t len, rcfd_delivery_t *d);
/* The same with the record's key (the Kafka sink's message key); key may be NULL. */
int rcfd_output_submit_keyed(rcfd_output_t *o, const char *data, size_t len, const char *key,
                             size_t key_len, rcfd_delivery_t *d);
/* Starts sending the queued batch unless a send is in flight or it is waiting for
 * batch_max_delay_ms to fill up. */
void rcfd_output_flush(rcfd_output_t *o);
/* The sink's answer for the batch in flight. DROP hands the records to the dead-letter output. */
void rcfd_output_sent(rcfd_output_t *o, rcfd_sink_result_t result);
/* RETRY after at least min_delay_ms (a server's Retry-After; 0: the backoff alone), but never
 * longer than retry_max_ms. */
void rcfd_output_retry_after(rcfd_output_t *o, uint64_t min_delay_ms);
/* DROP with a reason written into each dead letter ("HTTP 400", "MSG_SIZE_TOO_LARGE: ..."). */
void rcfd_output_drop(rcfd_output_t *o, const char *reason);
/* The sink can never deliver again (librdkafka's fatal producer error): the output sends nothing
 * more, the batch in flight is never answered, and its unsettled records and the queued ones stay
 * unaccepted (a Kafka source does not store their offsets, so they are read again after a
 * restart). Calls on_fatal once; later calls do nothing. */
void rcfd_output_fatal(rcfd_output_t *o, const char *why);
/* Settles record i of the batch in flight before the batch's answer (sinks that deliver records
 * one by one): accepted, or dead-lettered with reason. */
void rcfd_output_record_ok(rcfd_output_t *o, size_t i);
void rcfd_output_record_dead(rcfd_output_t *o, size_t i, const char *reason);
int rcfd_output_idle(const rcfd_output_t *o);
/* Records queued or in flight in this output: submitted, not yet accepted or given up. */
size_t rcfd_output_inflight(const rcfd_output_t *o);
/* Bytes queued or in flight in these outputs (backpressure). */
uint64_t rcfd_outputs_queued_bytes(const rcfd_output_t *outs, size_t n);
/* Latency quantile (0..1) of accepted records in milliseconds; NAN if none. */
double rcfd_output_latency_ms(const rcfd_output_t *o, double q);
void rcfd_output_reopen(rcfd_output_t *o);
/* After uv_loop_close(), before the sources go: releases the deliveries of records this output
 * never accepted (their offsets stay unstored). */
void rcfd_output_abandon(rcfd_output_t *o);
/* After uv_loop_close(): frees buffers and the sink (the timer was closed by the loop walk). */
void rcfd_output_destroy(rcfd_output_t *o);

#endif
