/* The daemon's runtime: one libuv loop that owns the sources, pipelines and outputs of a config.
 *
 *   rcfd_runtime_t *rt;
 *   if (rcfd_runtime_new(cfg, path, NULL, &rt, err, sizeof err) == 0) {  // cfg now owned by rt
 *       int code = rcfd_runtime_run(rt);                                 // until stopped
 *       rcfd_runtime_destroy(rt);
 *   }
 *
 * Signals (uv_signal): SIGTERM/SIGINT stop gracefully: sources stop routing new records, outputs
 * get up to runtime.shutdown_timeout_ms to accept what is in flight (offsets are stored as they
 * do), Kafka consumers then close (committing the stored offsets), every handle is closed and the
 * loop is closed. SIGHUP reopens output files and re-reads the config to apply the keys marked
 * SIGHUP in conf/README.md. Once every record is settled SIGTERM/SIGINT are ignored (the exit
 * code is decided); destroy() restores the dispositions run() found.
 *
 * Threads: the API is not thread-safe: call it from one thread, the one that calls run(), where
 * the loop and all I/O run. With runtime.workers > 1 the per-key models run on worker threads the
 * runtime starts in new() and joins before the loop closes (stream/dispatch.c); they touch only
 * their own key sets, and the loop reaches those only while the workers are quiesced
 * (checkpoints, restores, revokes, stats). Hooks are called on the loop thread; a runtime with
 * hooks keeps its models there. */
#ifndef RCFD_STREAM_RUNTIME_H
#define RCFD_STREAM_RUNTIME_H

#include <stddef.h>

#include "models/model.h"
#include "config/schema.h"

/* Process exit codes (sysexits.h values). */
enum {
    RCFD_EXIT_OK = 0,
    RCFD_EXIT_USAGE = 64,
    RCFD_EXIT_DATAERR = 65,     /* input the config cannot describe (CSV header lacks a field) */
    RCFD_EXIT_UNAVAILABLE = 69, /* librdkafka reported a fatal error */
    RCFD_EXIT_SOFTWARE = 70,
    RCFD_EXIT_OSERR = 71,       /* a listen address is in use (runtime.admin_listen) */
    RCFD_EXIT_CANTCREAT = 73,   /* an output or input file could not be opened */
    RCFD_EXIT_TEMPFAIL = 75,    /* stopped with records that no output accepted in time */
    RCFD_EXIT_CONFIG = 78       /* bad config (systemd: RestartPreventExitStatus=78) */
};

typedef struct rcfd_runtime rcfd_runtime_t;

/* Optional observers (the demo's summary). Called on the loop thread, after the outputs got the
 * record; the pointers are valid only during the call. */
typedef struct rcfd_runtime_hooks {
    void *ud;
    void (*on_scored)(void *ud, const rcfd_pipeline_conf_t *p, const char *key, size_t key_len,
                      const double *values, const rcfd_model_type_t *const *types,
                      const void *const *results, size_t n_models);
    void (*on_dead)(void *ud, const rcfd_pipeline_conf_t *p, const char *reason);
    /* impute "linear" needs the next value of a field, which only a replay knows: this fills
     * values[i] for missing[i] of the record at `line` (1-based) of a file source from the key's
     * records around it, or returns RCFD_EAGAIN (no next value within its look-ahead: the record
     * takes the previous value). Without it a pipeline with impute "linear" is a config error. */
    int (*impute_ahead)(void *ud, const rcfd_pipeline_conf_t *p, uint64_t line, double *values,
                        const unsigned char *missing, size_t n);
} rcfd_runtime_hooks_t;

/* Builds everything (opens files, creates Kafka consumers) without running the loop. On success
 * the runtime owns cfg; on failure the caller still does. Errors for unusable outputs or inputs
 * return a negative code with errstr; *exit_code tells which exit status fits. */
int rcfd_runtime_new(rcfd_config_t *cfg, const char *config_path,
                     const rcfd_runtime_hooks_t *hooks, rcfd_runtime_t **out, int *exit_code,
                     char *errstr, size_t errstr_size);
/* Runs the loop until the runtime stops; returns the process exit code. */
int rcfd_runtime_run(rcfd_runtime_t *rt);
/* Starts a graceful stop (as SIGTERM does) with the exit code to report when nothing fails. */
void rcfd_runtime_stop(rcfd_runtime_t *rt, int exit_code);
void rcfd_runtime_destroy(rcfd_runtime_t *rt);

#endif
