/* Internals shared by the runtime and its sources. Loop thread only, except what dispatch.c's
 * workers read: the pipelines' conf, types, warm (under a lock) and their own key set. */
#ifndef RCFD_STREAM_RUNTIME_INT_H
#define RCFD_STREAM_RUNTIME_INT_H

#include <signal.h>

#include <uv.h>

#include "stream/encode.h"
#include "stream/keymodels.h"
#include "common/keytab.h"
#include "sinks/output.h"
#include "stream/record.h"
#include "stream/runtime.h"
#include "stream/state.h"

typedef struct rcfd_source rcfd_source_t;

/* A source type (fluent-bit input plugin shape, with the pause/resume hooks for backpressure). */
typedef struct rcfd_source_ops {
    const char *name;
    int (*init)(rcfd_source_t *s, char *errstr, size_t errstr_size); /* before the loop runs */
    int (*start)(rcfd_source_t *s);
    void (*pause)(rcfd_source_t *s);
    void (*resume)(rcfd_source_t *s);
    /* Stop routing new records (in-flight ones still complete). */
    void (*stop)(rcfd_source_t *s);
    /* Release external resources asynchronously; call rcfd_runtime_source_closed() when done. */
    void (*close)(rcfd_source_t *s);
    void (*destroy)(rcfd_source_t *s); /* after uv_loop_close() */
    /* The checkpoint of a shard the source holds (rcfd_state_assigned returned 1) is restored:
     * resume it from `offset`, or from where the group left it when offset is -1. */
    void (*restored)(rcfd_source_t *s, uint32_t shard, int64_t offset);
    /* /metrics series of the source (optional): consumer lag per partition. */
    void (*collect)(rcfd_source_t *s, struct rcfd_metrics *m);
    /* For /health and /ready (optional; without it the source counts as up): one of
     * rcfd_source_health_t, with a short reason in `why`. */
    int (*health)(rcfd_source_t *s, char *why, size_t why_size);
    /* Optional, for sources whose position is not an offset (Kinesis sequence numbers): the
     * position to resume from after the records before next_offset, appended to `out`; it is
     * stored in the shard's checkpoint. With it, restored_position() replaces restored(), with
     * the bytes back (NULL when the checkpoint had none or there was no checkpoint). */
    int (*position)(rcfd_source_t *s, uint32_t shard, int64_t next_offset, rcfd_buf_t *out);
    void (*restored_position)(rcfd_source_t *s, uint32_t shard, int64_t offset, const void *pos,
                              size_t pos_len);
    /* A record the source holds because rcfd_runtime_ready() said 0 may be ready now: try it
     * again (optional: sources that never hold records). */
    void (*wake)(rcfd_source_t *s);
    /* For the state manager's jobs, on the threadpool (optional; may block up to timeout_ms):
     * the Kafka cluster's id ("" when unknown), and a partition's low and high watermarks (a
     * checkpoint whose offset lies outside them is refused). */
    void (*cluster_id)(rcfd_source_t *s, char *out, size_t size, int timeout_ms);
    int (*bounds)(rcfd_source_t *s, const char *topic, int32_t partition, int64_t *lo,
                  int64_t *hi, int timeout_ms);
} rcfd_source_ops_t;

typedef enum rcfd_source_health {
    RCFD_SOURCE_UP = 0,  /* consuming, or able to */
    RCFD_SOURCE_WAITING, /* not consuming yet (no partition assignment yet) */
    RCFD_SOURCE_DOWN     /* cannot make progress: no broker reachable, a fatal error */
} rcfd_source_health_t;

extern const rcfd_source_ops_t rcfd_source_kafka_ops, rcfd_source_file_ops,
    rcfd_source_kinesis_ops;

struct rcfd_source {
    rcfd_runtime_t *rt;
    const rcfd_source_conf_t *conf;
    size_t index;
    const rcfd_source_ops_t *ops;
    void *impl;
    rcfd_strlist_t header;          /* CSV names read from a header line */
    const rcfd_strlist_t *columns;  /* header or conf->csv_columns; NULL if unnamed */
    rcfd_field_t ts;
    int has_ts;
    int finished; /* a finite source reached its end and everything it read was delivered */
    int closed;
    uint32_t shard; /* file sources: their one shard */
    uint64_t records_in;
    uint64_t bytes_in; /* of the records read (as parsed, before any dead-lettering) */
    uint64_t inflight;
};

/* Why a pipeline dead-lettered a record: the `reason` label of rcfd_records_dead_total. */
typedef enum rcfd_dead_reason {
    RCFD_DEAD_MALFORMED, /* the record did not parse (or was too large) */
    RCFD_DEAD_FIELD,     /* a field or the key is missing, not a number, not finite, too long */
    RCFD_DEAD_MODEL,     /* a model rejected the record, or none could be created for its key */
    RCFD_DEAD_REASONS
} rcfd_dead_reason_t;

/* The longest key a pipeline reads from a record. */
#define RCFD_RUNTIME_KEY_BYTES 1024

typedef struct rcfd_pipeline {
    const rcfd_pipeline_conf_t *conf;
    rcfd_field_t *fields;
    /* Per field: a derived field's inputs, in rcfd_expr_ref() order (NULL for a plain field), and
     * the scratch their values are read into. */
    rcfd_field_t **refs;
    double *ref_values;
    rcfd_field_t key;
    int has_key;
    /* rt->n_sets key sets: with workers, set w holds the keys rcfd_runtime_set_of() gives worker
     * w, and only that worker touches it (the loop only inside rcfd_runtime_quiesce()). */
    rcfd_keymodels_t **sets;
    size_t n_sets;
    unsigned styles; /* bit (1 << rcfd_style_t) per output style its outputs use */
    const rcfd_model_type_t **types;
    const void **results;
    double *values;
    uint64_t scored, dead;
    uint64_t alerts; /* scored records that started an alert episode (`anomaly` true) */
    uint64_t dead_by[RCFD_DEAD_REASONS]; /* dead, by reason */
    /* impute: per record which fields were missing; counts for /metrics */
    unsigned char *missing;   /* fields.n */
    uint64_t *imputed_by;     /* fields.n: values imputed per field */
    uint64_t imputed_records, impute_fallback, impute_refused;
    struct rcfd_warm *warm; /* initial_state snapshots not yet taken; NULL without */
    /* The key rcfd_runtime_ready() read from rt->rec, kept for rcfd_runtime_route() so that a
     * record's key is read and placed once (loop thread only). Valid while placed_gen equals
     * rt->rec_gen (rcfd_runtime_parse() moves that on, so a newer record never sees it) and the
     * route's shard is placed_shard; placed_set is the key's set (rcfd_runtime_set_of) with
     * workers, else 0. The bytes are copied here: nothing points into rt->rec. Written per
     * record: the pad keeps them off the cache line of the fields workers read (warm). */
    char placed_pad[64];
    uint64_t placed_gen; /* 0: nothing placed (rt->rec_gen is at least 1 after a parse) */
    uint32_t placed_shard;
    size_t placed_len, placed_set;
    char placed_key[RCFD_RUNTIME_KEY_BYTES];
} rcfd_pipeline_t;

struct rcfd_runtime {
    uv_loop_t loop;
    rcfd_config_t *cfg;
    char *config_path;
    rcfd_runtime_hooks_t hooks;
    rcfd_source_t *sources;
    size_t n_sources;
    rcfd_output_t *outputs;
    size_t n_outputs;
    rcfd_pipeline_t *pipelines;
    size_t n_pipelines;
    rcfd_record_t rec;
    uint64_t rec_gen;  /* counts rcfd_runtime_parse() calls: which record rt->rec holds */
    rcfd_buf_t enc[2]; /* per style */
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_prepare_t flush;
    uv_timer_t stats_timer, deadline, watchdog; /* watchdog: systemd pings */
    struct rcfd_metrics *metrics; /* with runtime.admin_listen only */
    struct rcfd_admin *admin;
    rcfd_state_t *state;
    size_t n_sets;                   /* runtime.workers in effect: model threads, or 1 */
    struct rcfd_dispatch *dispatch;  /* the worker threads (dispatch.c); NULL with one set */
    uint64_t idle_ns_seen, scrape_ns_seen; /* loop utilisation between scrapes */
    uv_work_t reload_work;
    int reloading;
    rcfd_config_t *reload_cfg;
    char reload_err[1024];
    uint64_t inflight;
    int paused;
    int paused_quietly; /* by the workers' queues alone (logged at debug) */
    int stopping;   /* phase 1: draining in-flight records */
    int closing;    /* phase 2: closing sources */
    int exit_code;
    int timed_out;
    int loop_closed;
    /* SIGTERM and SIGINT ignored from the stop's end to destroy() (all_closed), and what they
     * were before */
    int saved_signals; /* run() kept the dispositions it found in old_term / old_int */
    int held_signals;  /* all_closed() ignores SIGTERM and SIGINT: destroy() restores them */
    struct sigaction old_term, old_int;
};

/* Delivery bookkeeping for sources: count a new in-flight record / its completion. */
void rcfd_runtime_inflight_add(rcfd_runtime_t *rt, rcfd_source_t *s);
void rcfd_runtime_inflight_done(rcfd_runtime_t *rt, rcfd_source_t *s);

/* Parses data into rt->rec (cleared first). Returns 0 or RCFD_EMALFORMED with reason. */
int rcfd_runtime_parse(rcfd_runtime_t *rt, rcfd_source_t *s, const char *data, size_t len,
                       char *reason, size_t reason_size);
/* Whether the parsed record in rt->rec can be routed now (1), or must be held (0) until the
 * source's wake(): a pipeline's key has its models in the spill store (a read has started), or
 * the pipeline is over its memory budget until spill writes end, or the worker threads' queues
 * are nearly full. Records that did not parse are always ready. */
int rcfd_runtime_ready(rcfd_runtime_t *rt, rcfd_source_t *s, int parse_rc, uint32_t shard);
/* Calls every source's wake(). */
void rcfd_runtime_wake(rcfd_runtime_t *rt);
/* Routes the record in rt->rec (parse_rc/reason from rcfd_runtime_parse) through every pipeline
 * of the source; outputs take references on d. */
void rcfd_runtime_route(rcfd_runtime_t *rt, rcfd_source_t *s, int parse_rc, const char *reason,
                        const rcfd_origin_t *origin, rcfd_delivery_t *d);
/* A file source learned its CSV column names: resolve the pipelines' fields. */
int rcfd_runtime_columns_known(rcfd_runtime_t *rt, rcfd_source_t *s);
void rcfd_runtime_source_finished(rcfd_runtime_t *rt, rcfd_source_t *s);
void rcfd_runtime_source_closed(rcfd_runtime_t *rt, rcfd_source_t *s);
/* Unrecoverable runtime condition: stop with this exit code. */
void rcfd_runtime_fail(rcfd_runtime_t *rt, int exit_code);
/* Pauses or resumes the sources when the in-flight records, the outputs' bytes or the workers'
 * queues crossed their limits. */
void rcfd_runtime_backpressure(rcfd_runtime_t *rt);

/* ---- impute (models/impute.h), on the thread that owns the key's models ---- */

struct rcfd_impute_outcome;
/* Completes values[i] for missing[i] of one record of a key whose instances are `models` (call it
 * for every record of a pipeline that imputes, complete ones too); ahead: impute "linear"'s
 * look-ahead (NULL without one). rcfd_impute_record()'s codes; reason says why on failure. */
int rcfd_pipeline_impute(const rcfd_pipeline_t *p, void *const *models, double *values,
                         const unsigned char *missing,
                         int (*ahead)(void *ud, double *values, const unsigned char *missing,
                                      size_t n),
                         void *ahead_ud, struct rcfd_impute_outcome *io, char *reason,
                         size_t reason_size);
/* Loop thread: counts one record's imputation for /metrics (rc: what rcfd_pipeline_impute said). */
void rcfd_pipeline_count_impute(rcfd_pipeline_t *p, int rc, const struct rcfd_impute_outcome *io,
                                const unsigned char *missing);

/* ---- the models on worker threads (dispatch.c) ---- */

typedef struct rcfd_dispatch rcfd_dispatch_t;
struct rcfd_workers_stats;

size_t rcfd_runtime_online_cores(void);
/* The key set (and worker) of a key, the same for the runtime's life; a key's first call places
 * it (dispatch.c: on the worker with the fewest keys' slots). Loop thread only. */
size_t rcfd_runtime_set_of(rcfd_runtime_t *rt, uint32_t shard, const char *key, size_t key_len);
/* Waits until the workers have processed every record routed so far: until the next record is
 * routed, the loop may use the pipelines' key sets (checkpoints, restores, drops, stats). A no-op
 * without workers. */
void rcfd_runtime_quiesce(rcfd_runtime_t *rt);
/* Starts n worker threads (n >= 2) for the runtime's pipelines. */
int rcfd_dispatch_new(rcfd_runtime_t *rt, size_t n, char *errstr, size_t errstr_size);
/* Hands the record in rt->rec, its values already in p->values (and, when the pipeline imputes,
 * its missing fields in p->missing), to worker w (rcfd_runtime_set_of() of its key); takes a
 * reference on d until its results reached the outputs. */
void rcfd_dispatch_route(rcfd_runtime_t *rt, rcfd_pipeline_t *p, const rcfd_origin_t *origin,
                         rcfd_delivery_t *d, const char *key, size_t key_len, size_t w);
/* A dead letter the loop decided for the record in rt->rec (counted by the caller), written in
 * its place among the records routed to workers, so every output's order is the one workers: 1
 * writes. */
void rcfd_dispatch_dead(rcfd_runtime_t *rt, rcfd_pipeline_t *p, const char *reason,
                        const rcfd_origin_t *origin, rcfd_delivery_t *d);
/* Submits the batches still filling (once per loop iteration). */
void rcfd_dispatch_flush(rcfd_runtime_t *rt);
/* Hands back the batches the workers finished (once per loop iteration, from the uv_prepare, not
 * from inside route or quiesce: done() emits): the workers wake the loop only when a queue is
 * down to half, so what finishes while the loop is awake anyway is collected here. */
void rcfd_dispatch_collect(rcfd_runtime_t *rt);
/* Backpressure. ready(): 0 when `worker`'s queue is 3/4 full: the source holds the record (no
 * Kafka pause: that would drop the prefetched messages; the Kafka source parks it and reads on
 * for the other partitions) and is woken once some queue is at most half full. full(): a queue
 * is full (a source that never holds records): pause the sources. */
int rcfd_dispatch_ready(rcfd_runtime_t *rt, size_t worker);
int rcfd_dispatch_full(rcfd_runtime_t *rt);
int rcfd_dispatch_calm(rcfd_runtime_t *rt);
void rcfd_dispatch_stats(const rcfd_runtime_t *rt, struct rcfd_workers_stats *out);
/* Joins the threads (before the loop's handles are closed). */
void rcfd_dispatch_stop(rcfd_runtime_t *rt);
/* After the loop closed: releases what was never emitted, frees everything. */
void rcfd_dispatch_destroy(rcfd_runtime_t *rt);

#endif
