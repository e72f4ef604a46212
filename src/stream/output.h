/* Outputs: the sink interface and the host that batches, sends, retries and acknowledges.
 *
 * A sink type is a descriptor (like fluent-bit's output plugins): open / send / reopen / close.
 * Encoding happens before a record reaches the sink (encode.h), so a sink only moves bytes. The
 * host appends encoded lines to a batch, hands one batch at a time to the sink from a uv_prepare
 * (once per loop iteration) or when the batch is full, and on the sink's answer:
 *   OK    -> every record in the batch is accepted: its delivery reference is released;
 *   RETRY -> the same batch is sent again after an exponential backoff on a uv_timer;
 *   DROP  -> the batch is given up (counted) and its deliveries are released.
 *
 * Deliveries: a record read from a source carries one rcfd_delivery_t. Each output it is handed
 * to holds a reference; when the last is released the source's callback runs (the Kafka source
 * then advances the partition watermark and stores the offset). All on the loop thread. */
#ifndef RCFD_STREAM_OUTPUT_H
#define RCFD_STREAM_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "stream/buf.h"
#include "stream/schema.h"

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
    /* Starts delivering data[0..len). The sink later calls rcfd_output_sent() exactly once, never
     * from inside send(). `retry` is 1 when the host resends the same batch after RETRY (a sink
     * that wrote part of it resumes where it stopped). Returns 0, or an error meaning RETRY. */
    int (*send)(rcfd_output_t *o, const char *data, size_t len, int retry);
    /* SIGHUP: reopen files before the next send. */
    void (*reopen)(rcfd_output_t *o);
    /* After the loop has stopped: release everything (no callbacks any more). */
    void (*close)(rcfd_output_t *o);
} rcfd_sink_type_t;

extern const rcfd_sink_type_t rcfd_sink_file;

typedef struct rcfd_output_stats {
    uint64_t records;      /* records accepted */
    uint64_t dropped;      /* records in DROPped batches */
    uint64_t filtered;     /* below min_score */
    uint64_t retries;      /* RETRY answers */
    uint64_t bytes;
} rcfd_output_stats_t;

struct rcfd_output {
    const rcfd_output_conf_t *conf;
    const rcfd_sink_type_t *type;
    void *impl; /* the sink's state */
    uv_loop_t *loop;
    rcfd_buf_t batch;
    rcfd_delivery_t **batch_d;
    size_t batch_n, batch_cap;
    rcfd_buf_t sending;
    rcfd_delivery_t **send_d;
    size_t send_n, send_cap;
    int busy;
    uint64_t backoff_ms;
    uv_timer_t retry_timer;
    rcfd_output_stats_t stats;
    void (*on_idle)(void *ud); /* called when the output has nothing queued or in flight */
    void *ud;
};

int rcfd_output_init(rcfd_output_t *o, uv_loop_t *loop, const rcfd_output_conf_t *conf,
                     char *errstr, size_t errstr_size);
/* Queues one encoded record (a newline is added) and takes a reference on d. */
int rcfd_output_submit(rcfd_output_t *o, const char *data, size_t len, rcfd_delivery_t *d);
/* Starts sending the queued batch unless a send is in flight. */
void rcfd_output_flush(rcfd_output_t *o);
/* The sink's answer for the batch in flight. */
void rcfd_output_sent(rcfd_output_t *o, rcfd_sink_result_t result);
int rcfd_output_idle(const rcfd_output_t *o);
void rcfd_output_reopen(rcfd_output_t *o);
/* After uv_loop_close(), before the sources go: releases the deliveries of records this output
 * never accepted (their offsets stay unstored). */
void rcfd_output_abandon(rcfd_output_t *o);
/* After uv_loop_close(): frees buffers and the sink (the timer was closed by the loop walk). */
void rcfd_output_destroy(rcfd_output_t *o);

#endif
