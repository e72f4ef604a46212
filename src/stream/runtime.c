#include "stream/runtime.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/build.h"
#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "rcfd/version.h"
#include "admin/http.h"
#include "common/log.h"
#include "admin/metrics.h"
#include "admin/notify.h"
#include "stream/runtime_int.h"
#include "stream/workers.h"
#include "state/warm.h"
#include "models/impute.h"

#define COMP "runtime"
#define MAX_KEY_BYTES RCFD_RUNTIME_KEY_BYTES

/* ---- pipelines ---- */

static int pipeline_init(rcfd_pipeline_t *p, const rcfd_pipeline_conf_t *conf, char *errstr,
                         size_t es)
{
    p->conf = conf;
    p->fields = rcfd_calloc(conf->fields.n, sizeof *p->fields);
    p->values = rcfd_calloc(conf->fields.n, sizeof *p->values);
    p->types = rcfd_calloc(conf->n_models, sizeof *p->types);
    p->results = rcfd_calloc(conf->n_models, sizeof *p->results);
    p->refs = rcfd_calloc(conf->fields.n, sizeof *p->refs);
    p->ref_values = rcfd_calloc(RCFD_EXPR_MAX_REFS, sizeof *p->ref_values);
    p->missing = rcfd_calloc(conf->fields.n, 1);
    p->imputed_by = rcfd_calloc(conf->fields.n, sizeof *p->imputed_by);
    if (p->fields == NULL || p->values == NULL || p->types == NULL || p->results == NULL ||
        p->refs == NULL || p->ref_values == NULL || p->missing == NULL || p->imputed_by == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    for (size_t i = 0; i < conf->fields.n; i++) {
        if (rcfd_field_compile(&p->fields[i], conf->fields.v[i]) != 0) {
            return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
        }
        const rcfd_expr_t *e = conf->field_exprs != NULL ? conf->field_exprs[i] : NULL;
        if (e == NULL) {
            continue;
        }
        p->refs[i] = rcfd_calloc(rcfd_expr_n_refs(e), sizeof **p->refs);
        if (p->refs[i] == NULL) {
            return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
        }
        for (size_t r = 0; r < rcfd_expr_n_refs(e); r++) {
            if (rcfd_field_compile(&p->refs[i][r], rcfd_expr_ref(e, r)) != 0) {
                return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
            }
        }
    }
    p->has_key = conf->key[0] != '\0';
    if (p->has_key && rcfd_field_compile(&p->key, conf->key) != 0) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    for (size_t m = 0; m < conf->n_models; m++) {
        p->types[m] = conf->models[m].type;
    }
    return 0;
}

static void pipeline_free(rcfd_pipeline_t *p)
{
    if (p->conf == NULL) {
        return;
    }
    for (size_t w = 0; p->sets != NULL && w < p->n_sets; w++) {
        rcfd_keymodels_destroy(p->sets[w]);
    }
    rcfd_free(p->sets);
    rcfd_warm_destroy(p->warm);
    for (size_t i = 0; p->fields != NULL && i < p->conf->fields.n; i++) {
        rcfd_field_free(&p->fields[i]);
    }
    for (size_t i = 0; p->refs != NULL && i < p->conf->fields.n; i++) {
        /* refs[i] is non-NULL only for a derived field, whose expression says how many */
        for (size_t r = 0; p->refs[i] != NULL && r < rcfd_expr_n_refs(p->conf->field_exprs[i]);
             r++) {
            rcfd_field_free(&p->refs[i][r]);
        }
        rcfd_free(p->refs[i]);
    }
    rcfd_free(p->refs);
    rcfd_free(p->ref_values);
    if (p->has_key) {
        rcfd_field_free(&p->key);
    }
    rcfd_free(p->fields);
    rcfd_free(p->values);
    rcfd_free(p->types);
    rcfd_free(p->results);
    rcfd_free(p->missing);
    rcfd_free(p->imputed_by);
}

static int resolve_csv(rcfd_pipeline_t *p, const rcfd_strlist_t *cols, char *errstr, size_t es)
{
    for (size_t i = 0; i < p->conf->fields.n; i++) {
        if (p->refs[i] != NULL) {
            const rcfd_expr_t *e = p->conf->field_exprs[i];
            for (size_t r = 0; r < rcfd_expr_n_refs(e); r++) {
                if (rcfd_field_resolve_csv(&p->refs[i][r], cols) != 0) {
                    return rcfd_errf(RCFD_ECONFIG, errstr, es,
                                     "pipeline \"%s\": field \"%s\" (in the expression of "
                                     "\"%s\") is not a CSV column",
                                     p->conf->name, rcfd_expr_ref(e, r), p->conf->fields.v[i]);
                }
            }
        } else if (rcfd_field_resolve_csv(&p->fields[i], cols) != 0) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es,
                             "pipeline \"%s\": field \"%s\" is not a CSV column", p->conf->name,
                             p->conf->fields.v[i]);
        }
    }
    if (p->has_key && rcfd_field_resolve_csv(&p->key, cols) != 0) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "pipeline \"%s\": key \"%s\" is not a CSV column", p->conf->name,
                         p->conf->key);
    }
    return 0;
}

int rcfd_runtime_columns_known(rcfd_runtime_t *rt, rcfd_source_t *s)
{
    char err[512];
    for (size_t i = 0; i < rt->n_pipelines; i++) {
        rcfd_pipeline_t *p = &rt->pipelines[i];
        if (p->conf->source_index == s->index && resolve_csv(p, s->columns, err, sizeof err) != 0) {
            RCFD_LOG(RCFD_LOG_ERROR, COMP, "%s", err);
            rcfd_runtime_fail(rt, RCFD_EXIT_DATAERR);
            return RCFD_ECONFIG;
        }
    }
    if (s->has_ts) {
        rcfd_field_resolve_csv(&s->ts, s->columns);
    }
    return 0;
}

/* ---- records ---- */

int rcfd_runtime_parse(rcfd_runtime_t *rt, rcfd_source_t *s, const char *data, size_t len,
                       char *reason, size_t rs)
{
    s->bytes_in += len;
    rt->rec_gen++; /* a key rcfd_runtime_ready() kept for the previous record is stale now */
    rcfd_record_clear(&rt->rec);
    /* A refused record's dead letter carries these bytes, whatever step refused it. */
    rt->rec.data = data;
    rt->rec.len = len;
    if (len > (size_t)s->conf->max_record_bytes) {
        return rcfd_errf(RCFD_EMALFORMED, reason, rs, "record is larger than %lld bytes",
                         (long long)s->conf->max_record_bytes);
    }
    if (len == 0 || (len == 1 && data[0] == '\r')) {
        return rcfd_errf(RCFD_EMALFORMED, reason, rs, "empty record");
    }
    /* JSON is UTF-8 (RFC 8259 section 8.1), and every output is JSON: bytes that are not would
     * make the scored record unreadable downstream. */
    size_t valid = rcfd_utf8_valid_prefix(data, len);
    if (valid < len) {
        return rcfd_errf(RCFD_EMALFORMED, reason, rs, "invalid UTF-8 at byte %zu", valid);
    }
    return rcfd_record_parse(&rt->rec, s->conf->format, data, len, s->conf->csv_delimiter[0],
                             s->columns, reason, rs);
}

static void dead_letter(rcfd_runtime_t *rt, rcfd_pipeline_t *p, rcfd_dead_reason_t why,
                        const char *reason, const rcfd_origin_t *origin, rcfd_delivery_t *d)
{
    p->dead++;
    p->dead_by[why]++;
    RCFD_LOG(RCFD_LOG_TRACE, p->conf->name, "dead letter: %s", reason);
    if (rt->hooks.on_dead != NULL) {
        rt->hooks.on_dead(rt->hooks.ud, p->conf, reason);
    }
    if (p->conf->dead_letter_index < 0) {
        return;
    }
    if (rt->dispatch != NULL) {
        rcfd_dispatch_dead(rt, p, reason, origin, d);
        return;
    }
    rcfd_buf_t *b = &rt->enc[0];
    rcfd_buf_reset(b);
    if (rcfd_encode_dead_letter(b, origin, p->conf->name, reason, rt->rec.data, rt->rec.len) != 0 ||
        rcfd_output_submit(&rt->outputs[p->conf->dead_letter_index], b->p, b->len, d) != 0) {
        RCFD_LOG(RCFD_LOG_ERROR, p->conf->name, "out of memory writing a dead letter");
    }
}

/* impute "linear": the look-ahead the runtime's hook has (rcfd backtest). */
typedef struct ahead_ctx {
    rcfd_runtime_t *rt;
    const rcfd_pipeline_conf_t *conf;
    uint64_t line;
} ahead_ctx_t;

static int impute_ahead(void *ud, double *values, const unsigned char *missing, size_t n)
{
    ahead_ctx_t *a = ud;
    return a->rt->hooks.impute_ahead(a->rt->hooks.ud, a->conf, a->line, values, missing, n);
}

int rcfd_pipeline_impute(const rcfd_pipeline_t *p, void *const *models, double *values,
                         const unsigned char *missing,
                         int (*ahead)(void *ud, double *values, const unsigned char *missing,
                                      size_t n),
                         void *ahead_ud, rcfd_impute_outcome_t *io, char *reason,
                         size_t reason_size)
{
    rcfd_impute_conf_t ic = {.method = p->conf->impute,
                             .fixed = p->conf->impute_fixed,
                             .max_consecutive = (uint32_t)p->conf->impute_max_consecutive,
                             .ahead = ahead,
                             .ahead_ud = ahead_ud};
    return rcfd_impute_record(&ic, p->types, models, p->conf->n_models, &p->conf->fields, values,
                              missing, io, reason, reason_size);
}

void rcfd_pipeline_count_impute(rcfd_pipeline_t *p, int rc, const rcfd_impute_outcome_t *io,
                                const unsigned char *missing)
{
    if (rc != 0) {
        p->impute_refused++;
    } else if (io->imputed > 0) {
        p->imputed_records++;
        p->impute_fallback += (uint64_t)io->fallback;
        for (size_t i = 0; i < p->conf->fields.n; i++) {
            p->imputed_by[i] += missing[i];
        }
    }
}

static void run_pipeline(rcfd_runtime_t *rt, rcfd_pipeline_t *p, const rcfd_origin_t *origin,
                         rcfd_delivery_t *d)
{
    char reason[256];
    rcfd_record_t *rec = &rt->rec;
    /* A missing reading (absent, null, an empty cell) is imputed when the pipeline says so; a
     * field that is there but not a number stays a bad record. */
    int imputing = p->conf->impute != RCFD_IMPUTE_DEAD_LETTER;
    size_t n_missing = 0;
    for (size_t i = 0; i < p->conf->fields.n; i++) {
        p->missing[i] = 0;
        if (p->refs[i] == NULL) {
            int rc = rcfd_record_number(rec, &p->fields[i], &p->values[i], reason, sizeof reason);
            if (rc == RCFD_ENOENT && imputing) {
                p->missing[i] = 1;
                n_missing++;
            } else if (rc != 0) {
                dead_letter(rt, p, RCFD_DEAD_FIELD, reason, origin, d);
                return;
            }
            continue;
        }
        const rcfd_expr_t *e = p->conf->field_exprs[i];
        for (size_t r = 0; r < rcfd_expr_n_refs(e); r++) {
            int rc = rcfd_record_number(rec, &p->refs[i][r], &p->ref_values[r], reason,
                                        sizeof reason);
            if (rc == RCFD_ENOENT && imputing) {
                p->missing[i] = 1; /* a derived field of a missing input is missing itself */
            } else if (rc != 0) {
                dead_letter(rt, p, RCFD_DEAD_FIELD, reason, origin, d);
                return;
            }
        }
        if (p->missing[i]) {
            n_missing++;
            continue;
        }
        if (rcfd_expr_eval(e, p->ref_values, &p->values[i]) != 0) {
            snprintf(reason, sizeof reason,
                     "derived field \"%s\" (%s) is not a finite number (%g)",
                     p->conf->fields.v[i], rcfd_expr_source(e), p->values[i]);
            dead_letter(rt, p, RCFD_DEAD_FIELD, reason, origin, d);
            return;
        }
    }
    char own_key[MAX_KEY_BYTES];
    const char *key = own_key;
    size_t key_len = 0;
    size_t set = SIZE_MAX;
    own_key[0] = '\0';
    if (p->placed_gen != 0 && p->placed_gen == rt->rec_gen && p->placed_shard == origin->shard) {
        /* rcfd_runtime_ready() read this record's key: it is the same bytes */
        key = p->placed_key;
        key_len = p->placed_len;
        set = p->placed_set;
    } else if (p->has_key && rcfd_record_text(rec, &p->key, own_key, sizeof own_key, &key_len,
                                              reason, sizeof reason) != 0) {
        dead_letter(rt, p, RCFD_DEAD_FIELD, reason, origin, d);
        return;
    }
    p->placed_gen = 0; /* used once */
    if (rt->dispatch != NULL) {
        if (set == SIZE_MAX) {
            set = rcfd_runtime_set_of(rt, origin->shard, key, key_len);
        }
        rcfd_dispatch_route(rt, p, origin, d, key, key_len, set);
        return;
    }
    rcfd_keymodels_t *km = p->sets[0];
    void **models =
        rcfd_keymodels_get(km, origin->shard, key, key_len, p->warm, reason, sizeof reason);
    if (models == NULL) {
        dead_letter(rt, p, RCFD_DEAD_MODEL, reason, origin, d);
        return;
    }
    size_t n_models = p->conf->n_models;
    int64_t heap = rcfd_alloc_thread_net(); /* models allocate once in a while (keymodels.h) */
    if (imputing) {
        ahead_ctx_t ac = {rt, p->conf, origin->line};
        rcfd_impute_outcome_t io;
        int rc = rcfd_pipeline_impute(p, models, p->values, p->missing,
                                      rt->hooks.impute_ahead != NULL ? impute_ahead : NULL, &ac,
                                      &io, reason, sizeof reason);
        rcfd_pipeline_count_impute(p, rc, &io, p->missing);
        if (rc != 0) {
            if (rcfd_alloc_thread_net() != heap) {
                rcfd_keymodels_grew(km, models, rcfd_alloc_thread_net() - heap);
            }
            dead_letter(rt, p, RCFD_DEAD_FIELD, reason, origin, d);
            return;
        }
    }
    const rcfd_imputed_t marks = {&p->conf->fields, p->missing, p->values};
    for (size_t m = 0; m < n_models; m++) {
        int rc = p->types[m]->process(models[m], p->values, p->conf->fields.n,
                                      &p->results[m]);
        if (rc != 0) {
            if (rcfd_alloc_thread_net() != heap) {
                rcfd_keymodels_grew(km, models, rcfd_alloc_thread_net() - heap);
            }
            snprintf(reason, sizeof reason, "model %s rejected the record: %s", p->types[m]->name,
                     rcfd_strerror(rc));
            dead_letter(rt, p, RCFD_DEAD_MODEL, reason, origin, d);
            return;
        }
    }
    rcfd_verdict_t v;
    rcfd_models_verdict(p->types, p->results, n_models, &v);
    int64_t grown = rcfd_alloc_thread_net() - heap;
    if (grown != 0) {
        rcfd_keymodels_grew(km, models, grown);
    }
    p->scored++;
    p->alerts += v.alert > 0;
    int encoded[2] = {0, 0};
    for (size_t o = 0; o < p->conf->outputs.n; o++) {
        rcfd_output_t *out = &rt->outputs[p->conf->output_index[o]];
        if (!rcfd_output_wants(out, &v)) {
            out->stats.filtered++;
            continue;
        }
        int style = out->conf->style;
        rcfd_buf_t *b = &rt->enc[style];
        if (!encoded[style]) {
            rcfd_buf_reset(b);
            if (rcfd_encode_scored(b, (rcfd_style_t)style, rec, origin, p->conf->name,
                                   p->has_key ? key : NULL, key_len, &p->conf->fields, p->types,
                                   p->results, n_models, n_missing > 0 ? &marks : NULL) != 0) {
                RCFD_LOG(RCFD_LOG_ERROR, p->conf->name, "out of memory encoding a record");
                continue;
            }
            encoded[style] = 1;
        }
        if (rcfd_output_submit_keyed(out, b->p, b->len, p->has_key ? key : NULL, key_len, d) !=
            0) {
            RCFD_LOG(RCFD_LOG_ERROR, p->conf->name, "out of memory queueing a record");
        }
    }
    RCFD_LOG(RCFD_LOG_TRACE, p->conf->name, "scored key=%s score=%g", key, v.score);
    if (rt->hooks.on_scored != NULL) {
        rt->hooks.on_scored(rt->hooks.ud, p->conf, key, key_len, p->values, p->types, p->results,
                            n_models);
    }
}

int rcfd_runtime_ready(rcfd_runtime_t *rt, rcfd_source_t *s, int parse_rc, uint32_t shard)
{
    if (parse_rc != 0) {
        return 1;
    }
    int ready = 1;
    for (size_t i = 0; i < rt->n_pipelines; i++) {
        rcfd_pipeline_t *p = &rt->pipelines[i];
        if (p->conf->source_index != s->index) {
            continue;
        }
        char *key = p->placed_key;
        size_t key_len = 0;
        p->placed_gen = 0;
        key[0] = '\0';
        /* A record without its key is dead-lettered by run_pipeline: nothing to wait for. */
        if (p->has_key &&
            rcfd_record_text(&rt->rec, &p->key, key, sizeof p->placed_key, &key_len, NULL, 0) !=
                0) {
            continue;
        }
        /* run_pipeline() takes the key from here if this record is routed next (placed_gen) */
        p->placed_gen = rt->rec_gen;
        p->placed_shard = shard;
        p->placed_len = key_len;
        p->placed_set = 0;
        if (rt->dispatch != NULL) {
            /* the key's worker has room (workers have no spill store: choose_workers) */
            p->placed_set = rcfd_runtime_set_of(rt, shard, key, key_len);
            ready &= rcfd_dispatch_ready(rt, p->placed_set);
            continue;
        }
        /* Every pipeline's read starts now, not one after the other. */
        ready &= rcfd_keymodels_ready(p->sets[0], shard, key, key_len);
    }
    return ready;
}

void rcfd_runtime_wake(rcfd_runtime_t *rt)
{
    for (size_t i = 0; i < rt->n_sources; i++) {
        if (rt->sources[i].ops->wake != NULL) {
            rt->sources[i].ops->wake(&rt->sources[i]);
        }
    }
}

void rcfd_runtime_route(rcfd_runtime_t *rt, rcfd_source_t *s, int parse_rc, const char *reason,
                        const rcfd_origin_t *origin, rcfd_delivery_t *d)
{
    s->records_in++;
    for (size_t i = 0; i < rt->n_pipelines; i++) {
        rcfd_pipeline_t *p = &rt->pipelines[i];
        if (p->conf->source_index != s->index) {
            continue;
        }
        if (parse_rc != 0) {
            dead_letter(rt, p, RCFD_DEAD_MALFORMED, reason, origin, d);
        } else {
            run_pipeline(rt, p, origin, d);
        }
    }
}

/* ---- backpressure and delivery accounting ---- */

static void maybe_close_sources(rcfd_runtime_t *rt);

void rcfd_runtime_backpressure(rcfd_runtime_t *rt)
{
    uint64_t bytes = rcfd_outputs_queued_bytes(rt->outputs, rt->n_outputs);
    int over = rt->inflight >= (uint64_t)rt->cfg->runtime.max_inflight ||
               bytes >= (uint64_t)rt->cfg->runtime.max_inflight_bytes;
    if (!rt->paused && (over || rcfd_dispatch_full(rt))) {
        rt->paused = 1;
        /* A full worker queue is the normal state of a source that cannot hold records and
         * reads faster than the models score: only the operator's limits get an info line. */
        rt->paused_quietly = !over;
        RCFD_LOG(over ? RCFD_LOG_INFO : RCFD_LOG_DEBUG, COMP,
                 "%llu records (%llu bytes) in flight%s: pausing sources",
                 (unsigned long long)rt->inflight, (unsigned long long)bytes,
                 over ? "" : ", a worker's queue full");
        for (size_t i = 0; i < rt->n_sources; i++) {
            rt->sources[i].ops->pause(&rt->sources[i]);
        }
    } else if (rt->paused && rt->inflight <= (uint64_t)rt->cfg->runtime.max_inflight / 2 &&
               bytes <= (uint64_t)rt->cfg->runtime.max_inflight_bytes / 2 &&
               rcfd_dispatch_calm(rt)) {
        rt->paused = 0;
        RCFD_LOG(rt->paused_quietly ? RCFD_LOG_DEBUG : RCFD_LOG_INFO, COMP,
                 "%llu records in flight: resuming sources", (unsigned long long)rt->inflight);
        for (size_t i = 0; i < rt->n_sources && !rt->stopping; i++) {
            rt->sources[i].ops->resume(&rt->sources[i]);
        }
    }
}

void rcfd_runtime_inflight_add(rcfd_runtime_t *rt, rcfd_source_t *s)
{
    rt->inflight++;
    s->inflight++;
    /* A full worker queue is checked where batches are submitted, not per record. */
    if (!rt->paused &&
        (rt->inflight >= (uint64_t)rt->cfg->runtime.max_inflight ||
         rcfd_outputs_queued_bytes(rt->outputs, rt->n_outputs) >=
             (uint64_t)rt->cfg->runtime.max_inflight_bytes)) {
        rcfd_runtime_backpressure(rt);
    }
}

void rcfd_runtime_inflight_done(rcfd_runtime_t *rt, rcfd_source_t *s)
{
    rt->inflight--;
    s->inflight--;
    if (rt->paused) {
        rcfd_runtime_backpressure(rt);
    }
    if (rt->stopping && rt->inflight == 0) {
        maybe_close_sources(rt);
    }
}

/* ---- stats ---- */

/* The sum over the pipeline's key sets (the workers quiesced first). */
static void pipeline_stats(rcfd_runtime_t *rt, rcfd_pipeline_t *p, rcfd_keymodels_stats_t *ks)
{
    rcfd_runtime_quiesce(rt);
    memset(ks, 0, sizeof *ks);
    for (size_t w = 0; w < p->n_sets; w++) {
        rcfd_keymodels_stats_t one;
        rcfd_keymodels_stats(p->sets[w], &one);
        uint64_t *to = (uint64_t *)ks;
        const uint64_t *from = (const uint64_t *)&one;
        for (size_t f = 0; f < sizeof one / sizeof(uint64_t); f++) {
            to[f] += from[f];
        }
    }
}

static void log_stats(rcfd_runtime_t *rt, int level)
{
    for (size_t i = 0; i < rt->n_sources; i++) {
        RCFD_LOG(level, COMP, "source %s: %llu records read", rt->sources[i].conf->name,
                 (unsigned long long)rt->sources[i].records_in);
    }
    for (size_t i = 0; i < rt->n_pipelines; i++) {
        rcfd_pipeline_t *p = &rt->pipelines[i];
        rcfd_keymodels_stats_t ks;
        pipeline_stats(rt, p, &ks);
        RCFD_LOG(level, COMP,
                 "pipeline %s: %llu scored, %llu dead-lettered, %zu keys, %llu models created, "
                 "%llu restored, %llu evicted, %llu dropped, %llu spilled, %llu MB live, "
                 "%llu MB kept",
                 p->conf->name, (unsigned long long)p->scored, (unsigned long long)p->dead,
                 (size_t)ks.live, (unsigned long long)(ks.created + ks.warm),
                 (unsigned long long)ks.restored, (unsigned long long)ks.evicted,
                 (unsigned long long)ks.dropped, (unsigned long long)ks.spilled,
                 (unsigned long long)(ks.live_bytes >> 20),
                 (unsigned long long)(ks.kept_bytes >> 20));
        if (p->n_sets > 1) {
            /* The keys each worker holds (placement: rcfd_runtime_set_of). */
            char split[256];
            size_t at = 0;
            for (size_t w = 0; w < p->n_sets && at < sizeof split; w++) {
                rcfd_keymodels_stats_t one;
                rcfd_keymodels_stats(p->sets[w], &one);
                at += (size_t)snprintf(split + at, sizeof split - at, "%s%llu", w ? "/" : "",
                                       (unsigned long long)one.live);
            }
            RCFD_LOG(level, COMP, "pipeline %s: keys per worker %s", p->conf->name, split);
        }
    }
    for (size_t i = 0; i < rt->n_outputs; i++) {
        rcfd_output_t *o = &rt->outputs[i];
        RCFD_LOG(level, COMP,
                 "output %s: %llu written, %llu filtered, %llu dropped, %llu dead-lettered, "
                 "%llu retries, %llu batches",
                 o->conf->name, (unsigned long long)o->stats.records,
                 (unsigned long long)o->stats.filtered, (unsigned long long)o->stats.dropped,
                 (unsigned long long)o->stats.dead_lettered, (unsigned long long)o->stats.retries,
                 (unsigned long long)o->stats.batches);
    }
}

/* GET /metrics: the runtime's own counters are the source of truth, copied into the registry at
 * scrape time, so the per-record path pays nothing for metrics. */
static void collect_metrics(rcfd_metrics_t *m, void *arg)
{
    rcfd_runtime_t *rt = arg;
    rcfd_metric_set(rcfd_metrics_gauge(m, "rcfd_build_info",
                                       "1, labelled with the running rcfd's version and the git "
                                       "commit it was built from.",
                                       "version", rcfd_version(), "commit", rcfd_build_commit(),
                                       NULL),
                    1.0);
    for (size_t i = 0; i < rt->n_sources; i++) {
        const char *name = rt->sources[i].conf->name;
        rcfd_metric_set(rcfd_metrics_counter(m, "rcfd_records_read_total",
                                             "Records read by the source.", "source", name, NULL),
                        (double)rt->sources[i].records_in);
        rcfd_metric_set(rcfd_metrics_counter(m, "rcfd_source_bytes_total",
                                             "Bytes of the records read by the source.", "source",
                                             name, NULL),
                        (double)rt->sources[i].bytes_in);
    }
    for (size_t i = 0; i < rt->n_pipelines; i++) {
        rcfd_pipeline_t *p = &rt->pipelines[i];
        const char *name = p->conf->name;
        rcfd_metric_set(rcfd_metrics_counter(m, "rcfd_records_scored_total",
                                             "Records scored by the pipeline's models.",
                                             "pipeline", name, NULL),
                        (double)p->scored);
        rcfd_metric_set(rcfd_metrics_counter(m, "rcfd_alerts_total",
                                             "Alerts the pipeline raised: scored records that "
                                             "started an anomaly episode (\"anomaly\": true).",
                                             "pipeline", name, NULL),
                        (double)p->alerts);
        static const char *const reasons[RCFD_DEAD_REASONS] = {[RCFD_DEAD_MALFORMED] = "malformed",
                                                               [RCFD_DEAD_FIELD] = "field",
                                                               [RCFD_DEAD_MODEL] = "model"};
        for (size_t r = 0; r < RCFD_DEAD_REASONS; r++) {
            rcfd_metric_set(rcfd_metrics_counter(m, "rcfd_records_dead_total",
                                                 "Records the pipeline could not score, by "
                                                 "reason (sent to its dead_letter output).",
                                                 "pipeline", name, "reason", reasons[r], NULL),
                            (double)p->dead_by[r]);
        }
        if (p->conf->impute != RCFD_IMPUTE_DEAD_LETTER) {
            for (size_t f = 0; f < p->conf->fields.n; f++) {
                rcfd_metric_set(rcfd_metrics_counter(m, "rcfd_imputed_total",
                                                     "Field values the pipeline imputed "
                                                     "(impute), by field.",
                                                     "pipeline", name, "field",
                                                     p->conf->fields.v[f], NULL),
                                (double)p->imputed_by[f]);
            }
            rcfd_metric_set(rcfd_metrics_counter(m, "rcfd_imputed_records_total",
                                                 "Records scored with at least one imputed "
                                                 "field.",
                                                 "pipeline", name, NULL),
                            (double)p->imputed_records);
            rcfd_metric_set(rcfd_metrics_counter(m, "rcfd_impute_fallback_total",
                                                 "Imputed records that took the previous value "
                                                 "because the method could not estimate yet "
                                                 "(rcf: the key's forest warming up; linear: no "
                                                 "next value in reach).",
                                                 "pipeline", name, NULL),
                            (double)p->impute_fallback);
            rcfd_metric_set(rcfd_metrics_counter(m, "rcfd_impute_refused_total",
                                                 "Records with a missing field dead-lettered "
                                                 "instead: past impute_max_consecutive, or "
                                                 "nothing to impute from yet.",
                                                 "pipeline", name, NULL),
                            (double)p->impute_refused);
        }
        rcfd_keymodels_stats_t ks;
        pipeline_stats(rt, p, &ks);
        static const struct {
            const char *metric, *help;
            int gauge;
            size_t offset;
        } model_series[] = {
#define KS(f) offsetof(rcfd_keymodels_stats_t, f)
            {"rcfd_models", "Per-key model instances held in memory.", 1, KS(live)},
            {"rcfd_models_kept", "Keys held as snapshots (evicted or restored, not seen since).",
             1, KS(kept)},
            {"rcfd_models_kept_bytes", "Bytes of those snapshots.", 1, KS(kept_bytes)},
            {"rcfd_models_created_total", "Per-key model instances created fresh.", 0,
             KS(created)},
            {"rcfd_models_warm_total", "Instances that started from initial_state.", 0, KS(warm)},
            {"rcfd_models_restored_total", "Instances loaded from a checkpoint or eviction.", 0,
             KS(restored)},
            {"rcfd_models_evicted_total", "Per-key models evicted by the key cap (LRU).", 0,
             KS(evicted)},
            {"rcfd_models_load_failed_total",
             "Checkpointed models that no longer fit the config (started fresh).", 0,
             KS(load_failed)},
            {"rcfd_models_bytes", "Bytes of the per-key model instances in memory (measured).", 1,
             KS(live_bytes)},
            {"rcfd_models_spilled", "Keys whose snapshots are only in the state directory.", 1,
             KS(spilled)},
            {"rcfd_models_spills_total",
             "Snapshots written to the state directory by the memory budget.", 0, KS(spills)},
            {"rcfd_models_spill_reads_total",
             "Spilled snapshots read back when their key returned.", 0, KS(spill_reads)},
            {"rcfd_models_dropped_total",
             "Evicted keys whose state nothing could keep (no store, or over the memory budget "
             "without a state directory): they restart cold.",
             0, KS(dropped)},
            {"rcfd_models_spill_failed_total",
             "Spill writes or reads that failed: those keys restart cold.", 0, KS(spill_failed)},
#undef KS
        };
        for (size_t k = 0; k < sizeof model_series / sizeof model_series[0]; k++) {
            uint64_t v;
            memcpy(&v, (const char *)&ks + model_series[k].offset, sizeof v);
            rcfd_metric_t *series =
                model_series[k].gauge
                    ? rcfd_metrics_gauge(m, model_series[k].metric, model_series[k].help,
                                         "pipeline", name, NULL)
                    : rcfd_metrics_counter(m, model_series[k].metric, model_series[k].help,
                                           "pipeline", name, NULL);
            rcfd_metric_set(series, (double)v);
        }
    }
    for (size_t i = 0; i < rt->n_outputs; i++) {
        const rcfd_output_t *o = &rt->outputs[i];
        const char *name = o->conf->name;
        static const struct {
            const char *metric, *help;
            size_t offset;
        } counters[] = {
            {"rcfd_output_records_total", "Records the output accepted.",
             offsetof(rcfd_output_stats_t, records)},
            {"rcfd_output_filtered_total", "Records the output's filter skipped.",
             offsetof(rcfd_output_stats_t, filtered)},
            {"rcfd_output_dropped_total", "Records the output gave up on.",
             offsetof(rcfd_output_stats_t, dropped)},
            {"rcfd_output_dead_lettered_total", "Records the output sent to its dead letter.",
             offsetof(rcfd_output_stats_t, dead_lettered)},
            {"rcfd_output_retries_total", "Retried sends.", offsetof(rcfd_output_stats_t, retries)},
            {"rcfd_output_batches_total", "Batches sent.", offsetof(rcfd_output_stats_t, batches)},
            {"rcfd_output_bytes_total", "Bytes of the records the output accepted.",
             offsetof(rcfd_output_stats_t, bytes)},
        };
        for (size_t k = 0; k < sizeof counters / sizeof counters[0]; k++) {
            uint64_t v;
            memcpy(&v, (const char *)&o->stats + counters[k].offset, sizeof v);
            rcfd_metric_set(rcfd_metrics_counter(m, counters[k].metric, counters[k].help, "output",
                                                 name, NULL),
                            (double)v);
        }
        rcfd_metric_set(rcfd_metrics_gauge(m, "rcfd_output_inflight_records",
                                           "Records queued or in flight in the output, not yet "
                                           "acknowledged by its sink.",
                                           "output", name, NULL),
                        (double)rcfd_output_inflight(o));
        rcfd_metric_set(rcfd_metrics_gauge(m, "rcfd_output_inflight_bytes",
                                           "Bytes queued or in flight in the output.", "output",
                                           name, NULL),
                        (double)rcfd_outputs_queued_bytes(o, 1));
        rcfd_metric_histogram_load(
            rcfd_metrics_histogram(m, "rcfd_output_latency_seconds",
                                   "Time from a record's submit to its acknowledgement by the "
                                   "sink (write done, delivery report, 2xx).",
                                   rcfd_output_lat_bounds, RCFD_LAT_BOUNDS, "output", name, NULL),
            o->stats.lat_le, RCFD_LAT_BOUNDS, o->stats.lat_sum);
    }
    rcfd_state_collect(rt->state, m);
    for (size_t i = 0; i < rt->n_sources; i++) {
        if (rt->sources[i].ops->collect != NULL) {
            rt->sources[i].ops->collect(&rt->sources[i], m);
        }
    }
    rcfd_metric_set(rcfd_metrics_gauge(m, "rcfd_inflight_records",
                                       "Records read but not yet accepted by every output.", NULL),
                    (double)rt->inflight);
    rcfd_metric_set(rcfd_metrics_gauge(m, "rcfd_sources_paused",
                                       "1 while backpressure pauses the sources.", NULL),
                    rt->paused ? 1.0 : 0.0);
    rcfd_workers_stats_t ws;
    rcfd_dispatch_stats(rt, &ws);
    rcfd_metric_set(rcfd_metrics_gauge(m, "rcfd_workers",
                                       "Threads running the models (runtime.workers in effect; 1: "
                                       "the models run on the loop thread).",
                                       NULL),
                    (double)rt->n_sets);
    rcfd_metric_set(rcfd_metrics_counter(m, "rcfd_worker_batches_total",
                                         "Batches of records handed to the worker threads.", NULL),
                    (double)ws.submitted);
    rcfd_metric_set(rcfd_metrics_counter(m, "rcfd_worker_stalls_total",
                                         "Hand-offs that waited for room in a full worker queue "
                                         "(the loop blocked until a worker finished a batch).",
                                         NULL),
                    (double)ws.stalls);
    rcfd_alloc_stats_t as;
    rcfd_alloc_stats(&as);
    rcfd_metric_set(rcfd_metrics_gauge(m, "rcfd_allocated_bytes",
                                       "Bytes allocated through rcfd's allocator (models included).",
                                       NULL),
                    (double)(as.bytes_in_use + as.bytes_reserved));
    /* Share of wall time the loop spent working since the previous scrape. */
    uint64_t now = uv_hrtime(), idle = uv_metrics_idle_time(&rt->loop);
    if (rt->scrape_ns_seen != 0 && now > rt->scrape_ns_seen) {
        double busy = 1.0 - (double)(idle - rt->idle_ns_seen) / (double)(now - rt->scrape_ns_seen);
        rcfd_metric_set(rcfd_metrics_gauge(m, "rcfd_loop_utilisation",
                                           "Share of time the event loop was busy since the "
                                           "previous scrape.",
                                           NULL),
                        busy < 0.0 ? 0.0 : busy);
    }
    rt->scrape_ns_seen = now;
    rt->idle_ns_seen = idle;
}

static int json_str(rcfd_buf_t *b, const char *s)
{
    int rc = rcfd_buf_putc(b, '"');
    for (; rc == 0 && *s; s++) {
        rc = *s == '"' || *s == '\\' ? rcfd_buf_printf(b, "\\%c", *s)
             : (unsigned char)*s < 0x20 ? rcfd_buf_printf(b, "\\u%04x", (unsigned)*s)
                                        : rcfd_buf_putc(b, *s);
    }
    return rc ? rc : rcfd_buf_putc(b, '"');
}

/* GET /health: can the daemon make progress? 200 "ok" (every source up), 200 "degraded" (some
 * source waiting or down, or an output retrying), 503 "down" when no source can make progress
 * (every one down: no broker reachable), 503 "stopping" once a stop has begun (take the instance
 * out of rotation). GET /ready: 200 only when every source is up and no output is retrying or
 * failed. Both list the sources' and outputs' states. */
static int report_health(void *arg, int ready_check, rcfd_buf_t *body)
{
    rcfd_runtime_t *rt = arg;
    static const char *const names[] = {"up", "waiting", "down"};
    size_t down = 0, not_up = 0, out_bad = 0;
    int rc = rcfd_buf_puts(body, "{\"sources\":[");
    for (size_t i = 0; rc == 0 && i < rt->n_sources; i++) {
        rcfd_source_t *s = &rt->sources[i];
        char why[256] = "";
        int h = s->ops->health != NULL && s->impl != NULL ? s->ops->health(s, why, sizeof why)
                                                          : RCFD_SOURCE_UP;
        h = h < RCFD_SOURCE_UP || h > RCFD_SOURCE_DOWN ? RCFD_SOURCE_DOWN : h;
        down += h == RCFD_SOURCE_DOWN;
        not_up += h != RCFD_SOURCE_UP;
        rc = rcfd_buf_printf(body, "%s{\"name\":", i ? "," : "");
        rc = rc ? rc : json_str(body, s->conf->name);
        rc = rc ? rc : rcfd_buf_printf(body, ",\"state\":\"%s\"", names[h]);
        if (rc == 0 && why[0] != '\0') {
            rc = rcfd_buf_puts(body, ",\"detail\":");
            rc = rc ? rc : json_str(body, why);
        }
        rc = rc ? rc : rcfd_buf_putc(body, '}');
    }
    rc = rc ? rc : rcfd_buf_puts(body, "],\"outputs\":[");
    for (size_t i = 0; rc == 0 && i < rt->n_outputs; i++) {
        const rcfd_output_t *o = &rt->outputs[i];
        const char *st = o->failed                                       ? "failed"
                         : uv_is_active((const uv_handle_t *)&o->retry_timer) ? "retrying"
                                                                          : "ok";
        out_bad += st[0] != 'o';
        rc = rcfd_buf_printf(body, "%s{\"name\":", i ? "," : "");
        rc = rc ? rc : json_str(body, o->conf->name);
        rc = rc ? rc : rcfd_buf_printf(body, ",\"state\":\"%s\"}", st);
    }
    int all_down = rt->n_sources > 0 && down == rt->n_sources;
    int ready = !rt->stopping && not_up == 0 && out_bad == 0;
    const char *status = rt->stopping ? "stopping"
                         : all_down   ? "down"
                         : not_up > 0 || out_bad > 0 ? "degraded"
                                                     : "ok";
    rc = rc ? rc
            : rcfd_buf_printf(body,
                              "],\"status\":\"%s\",\"ready\":%s,\"stopping\":%s,\"paused\":%s,"
                              "\"inflight\":%llu}",
                              status, ready ? "true" : "false", rt->stopping ? "true" : "false",
                              rt->paused ? "true" : "false", (unsigned long long)rt->inflight);
    if (rc != 0) {
        rcfd_buf_reset(body);
        return 500;
    }
    if (ready_check) {
        return ready ? 200 : 503;
    }
    return rt->stopping || all_down ? 503 : 200;
}

static int start_admin(rcfd_runtime_t *rt, char *errstr, size_t es)
{
    const char *listen = rt->cfg->runtime.admin_listen;
    if (listen == NULL || listen[0] == '\0') {
        return 0;
    }
    uv_loop_configure(&rt->loop, UV_METRICS_IDLE_TIME);
    int rc = rcfd_metrics_new(&rt->metrics);
    if (rc != 0) {
        return rcfd_errf(rc, errstr, es, "out of memory");
    }
    rcfd_metrics_on_collect(rt->metrics, collect_metrics, rt);
    char why[256];
    rc = rcfd_admin_start(&rt->loop, listen, rt->metrics, report_health, rt, &rt->admin, why,
                          sizeof why);
    if (rc == UV_EADDRINUSE) {
        return rcfd_errf(rc, errstr, es,
                         "runtime.admin_listen: %s is in use (another rcfd, or another program, "
                         "listens there): set runtime.admin_listen to a free HOST:PORT, or \"\" "
                         "for no listener",
                         listen);
    }
    if (rc != 0) {
        return rcfd_errf(rc, errstr, es, "runtime.admin_listen: %s", why);
    }
    rt->scrape_ns_seen = uv_hrtime(); /* the first scrape reports utilisation since start */
    rt->idle_ns_seen = 0;
    RCFD_LOG(RCFD_LOG_INFO, COMP, "admin listener on %.*s:%d (GET /metrics, /health, /ready)",
             (int)(strrchr(listen, ':') - listen), listen, rcfd_admin_port(rt->admin));
    return 0;
}

static void on_stats(uv_timer_t *t)
{
    log_stats(t->data, RCFD_LOG_INFO);
}

static void arm_stats(rcfd_runtime_t *rt)
{
    uint64_t ms = (uint64_t)rt->cfg->runtime.stats_interval_ms;
    if (ms > 0 && !rt->stopping) {
        uv_timer_start(&rt->stats_timer, on_stats, ms, ms);
    } else {
        uv_timer_stop(&rt->stats_timer);
    }
}

/* ---- shutdown ---- */

static void on_walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) {
        uv_close(h, NULL);
    }
}

static void all_closed(rcfd_runtime_t *rt)
{
    log_stats(rt, RCFD_LOG_INFO);
    RCFD_LOG(RCFD_LOG_INFO, COMP, "stopped (exit code %d)", rt->exit_code);
    rcfd_state_close(rt->state);
    rcfd_dispatch_stop(rt); /* joins the workers before their uv_async_t is closed */
    /* The stop is decided and every record settled: a SIGTERM or SIGINT from now on (systemd's
     * stop racing an input's end, a second Ctrl-C) must not turn the exit code into death by a
     * signal. Closing a signal's last uv_signal_t makes libuv reset it to SIG_DFL, so the handles
     * are closed first and the signals ignored right after (two adjacent calls, not the whole
     * teardown apart). destroy() gives back what run() found (rcfd backtest runs one runtime
     * after another in a process that Ctrl-C must still stop). */
    uv_close((uv_handle_t *)&rt->sig_term, NULL);
    uv_close((uv_handle_t *)&rt->sig_int, NULL);
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    rt->held_signals = rt->saved_signals && sigaction(SIGTERM, &ign, NULL) == 0 &&
                       sigaction(SIGINT, &ign, NULL) == 0;
    /* libuv shutdown idiom: close every handle; run() then drains the close callbacks. */
    uv_walk(&rt->loop, on_walk_close, NULL);
}

void rcfd_runtime_source_closed(rcfd_runtime_t *rt, rcfd_source_t *s)
{
    s->closed = 1;
    for (size_t i = 0; i < rt->n_sources; i++) {
        if (!rt->sources[i].closed) {
            return;
        }
    }
    all_closed(rt);
}

static void close_sources(rcfd_runtime_t *rt)
{
    for (size_t i = 0; i < rt->n_sources; i++) {
        rt->sources[i].ops->close(&rt->sources[i]);
    }
}

static void maybe_close_sources(rcfd_runtime_t *rt)
{
    if (rt->closing) {
        return;
    }
    for (size_t i = 0; i < rt->n_outputs; i++) {
        if (!rcfd_output_idle(&rt->outputs[i]) && !rt->timed_out) {
            return;
        }
    }
    rt->closing = 1;
    uv_timer_stop(&rt->deadline);
    if (rt->inflight > 0) {
        RCFD_LOG(RCFD_LOG_ERROR, COMP,
                 "%llu records were not accepted by every output within %lld ms; their offsets "
                 "are not stored, so they will be read again",
                 (unsigned long long)rt->inflight, (long long)rt->cfg->runtime.shutdown_timeout_ms);
        if (rt->exit_code == RCFD_EXIT_OK) { /* a failure's own code says more */
            rt->exit_code = RCFD_EXIT_TEMPFAIL;
        }
    } else if (rcfd_state_flush(rt->state, close_sources)) {
        /* Everything read was delivered: the last checkpoints are exact. Sources close (and
         * leave the group) once they are written. */
        RCFD_LOG(RCFD_LOG_INFO, COMP, "writing the final checkpoints");
        return;
    }
    close_sources(rt);
}

static void on_deadline(uv_timer_t *t)
{
    rcfd_runtime_t *rt = t->data;
    rt->timed_out = 1;
    maybe_close_sources(rt);
}

void rcfd_runtime_stop(rcfd_runtime_t *rt, int exit_code)
{
    if (rt->stopping) {
        return;
    }
    rt->stopping = 1;
    rt->exit_code = exit_code;
    rcfd_notify("STOPPING=1");
    /* Closed here, while the loop runs, so its memory is freed by its own close callbacks. */
    rcfd_admin_close(rt->admin);
    rt->admin = NULL;
    RCFD_LOG(RCFD_LOG_INFO, COMP, "stopping: %llu records in flight",
             (unsigned long long)rt->inflight);
    uv_timer_stop(&rt->stats_timer);
    for (size_t i = 0; i < rt->n_sources; i++) {
        rt->sources[i].ops->stop(&rt->sources[i]);
    }
    for (size_t i = 0; i < rt->n_outputs; i++) {
        rcfd_output_flush(&rt->outputs[i]);
    }
    uv_timer_start(&rt->deadline, on_deadline, (uint64_t)rt->cfg->runtime.shutdown_timeout_ms, 0);
    if (rt->inflight == 0) {
        maybe_close_sources(rt);
    }
}

void rcfd_runtime_fail(rcfd_runtime_t *rt, int exit_code)
{
    if (rt->stopping) {
        if (rt->exit_code == 0) {
            rt->exit_code = exit_code;
        }
        return;
    }
    rcfd_runtime_stop(rt, exit_code);
}

void rcfd_runtime_source_finished(rcfd_runtime_t *rt, rcfd_source_t *s)
{
    s->finished = 1;
    RCFD_LOG(RCFD_LOG_INFO, COMP, "source %s: finished after %llu records", s->conf->name,
             (unsigned long long)s->records_in);
    for (size_t i = 0; i < rt->n_sources; i++) {
        if (!rt->sources[i].finished) {
            return;
        }
    }
    rcfd_runtime_stop(rt, RCFD_EXIT_OK);
}

/* ---- signals and reload ---- */

static void on_signal(uv_signal_t *h, int signum)
{
    rcfd_runtime_t *rt = h->data;
    RCFD_LOG(RCFD_LOG_INFO, COMP, "received %s", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    rcfd_runtime_stop(rt, RCFD_EXIT_OK);
}

static void reload_work(uv_work_t *w)
{
    rcfd_runtime_t *rt = w->data;
    rt->reload_cfg = NULL;
    rcfd_config_load(rt->config_path, &rt->reload_cfg, rt->reload_err, sizeof rt->reload_err);
}

static void reload_done(uv_work_t *w, int status)
{
    rcfd_runtime_t *rt = w->data;
    rt->reloading = 0;
    if (status != 0 || rt->reload_cfg == NULL) {
        RCFD_LOG(RCFD_LOG_ERROR, COMP, "reload failed, keeping the running config: %s",
                 status != 0 ? uv_strerror(status) : rt->reload_err);
        return;
    }
    int restart = 0;
    if (rcfd_config_apply_hot(rt->cfg, rt->reload_cfg, &restart) != 0) {
        RCFD_LOG(RCFD_LOG_ERROR, COMP, "reload: out of memory");
    }
    rcfd_config_free(rt->reload_cfg);
    rt->reload_cfg = NULL;
    rcfd_log_set_level(rt->cfg->log.level);
    arm_stats(rt);
    RCFD_LOG(RCFD_LOG_INFO, COMP, "reloaded %s (log.level=%s)", rt->config_path,
             rcfd_log_level_names[rt->cfg->log.level]);
    if (restart) {
        RCFD_LOG(RCFD_LOG_WARN, COMP,
                 "%s changes keys that need a restart; those changes are not applied",
                 rt->config_path);
    }
}

static void on_hup(uv_signal_t *h, int signum)
{
    (void)signum;
    rcfd_runtime_t *rt = h->data;
    RCFD_LOG(RCFD_LOG_INFO, COMP, "received SIGHUP: reopening outputs, reloading hot keys");
    for (size_t i = 0; i < rt->n_outputs; i++) {
        rcfd_output_reopen(&rt->outputs[i]);
    }
    if (rt->config_path != NULL && !rt->reloading && !rt->stopping) {
        /* Reading the file may block (network filesystems): do it on the threadpool. */
        rt->reload_work.data = rt;
        if (uv_queue_work(&rt->loop, &rt->reload_work, reload_work, reload_done) == 0) {
            rt->reloading = 1;
        }
    }
}

static void on_flush(uv_prepare_t *h)
{
    rcfd_runtime_t *rt = h->data;
    rcfd_dispatch_collect(rt);
    rcfd_dispatch_flush(rt);
    for (size_t i = 0; i < rt->n_outputs; i++) {
        rcfd_output_flush(&rt->outputs[i]);
    }
    if (rt->stopping && rt->inflight == 0) {
        maybe_close_sources(rt);
    }
}

/* ---- lifecycle ---- */

/* An output without a dead_letter of its own hands the records its sink permanently refuses
 * (HTTP 400, MSG_SIZE_TOO_LARGE) to the dead_letter of the first pipeline writing to it, so a
 * refusal is never silently dropped while a dead-letter output exists. Only an output without a
 * dead_letter of its own may take them (no chains, no loops). */
static void default_dead_letters(rcfd_runtime_t *rt)
{
    const rcfd_config_t *cfg = rt->cfg;
    for (size_t i = 0; i < rt->n_outputs; i++) {
        rcfd_output_t *o = &rt->outputs[i];
        for (size_t k = 0; o->dead == NULL && k < cfg->n_pipelines; k++) {
            const rcfd_pipeline_conf_t *p = &cfg->pipelines[k];
            long d = p->dead_letter_index;
            if (d < 0 || (size_t)d == i || rt->outputs[d].dead != NULL) {
                continue;
            }
            for (size_t j = 0; j < p->outputs.n; j++) {
                if (p->output_index[j] == i) {
                    o->dead = &rt->outputs[d];
                    RCFD_LOG(RCFD_LOG_DEBUG, COMP,
                             "output %s: records it refuses go to %s (pipeline %s's dead_letter)",
                             o->conf->name, o->dead->conf->name, p->name);
                    break;
                }
            }
        }
    }
}

/* An output whose sink can never deliver again (a fatal producer error): stop like a fatal
 * consumer error does. */
static void output_fatal(void *ud)
{
    rcfd_runtime_fail(ud, RCFD_EXIT_UNAVAILABLE);
}

/* runtime.workers in effect. Models stay on the loop thread where a worker could not own them:
 * observers (the demo, backtest) read results synchronously, and a spill store's reads and
 * writes are loop-thread jobs started from inside the key sets. */
static size_t choose_workers(rcfd_runtime_t *rt)
{
    const rcfd_config_t *cfg = rt->cfg;
    size_t n = cfg->runtime.workers > 0 ? (size_t)cfg->runtime.workers
                                        : rcfd_runtime_online_cores();
    if (n <= 1) {
        return 1;
    }
    if (rt->hooks.on_scored != NULL || rt->hooks.on_dead != NULL) {
        RCFD_LOG(RCFD_LOG_DEBUG, COMP, "runtime.workers: models run on the loop (observed run)");
        return 1;
    }
    for (size_t i = 0; i < cfg->n_pipelines; i++) {
        rcfd_spill_hooks_t spill;
        if (cfg->pipelines[i].memory_limit > 0 && rcfd_state_spill_hooks(rt->state, &spill)) {
            RCFD_LOG(RCFD_LOG_INFO, COMP,
                     "runtime.workers %zu: pipeline %s spills to the state directory "
                     "(memory_limit), which needs its models on the loop thread: running "
                     "them there",
                     n, cfg->pipelines[i].name);
            return 1;
        }
    }
    RCFD_LOG(RCFD_LOG_INFO, COMP, "runtime.workers: %zu model threads", n);
    return n;
}

int rcfd_runtime_new(rcfd_config_t *cfg, const char *config_path,
                     const rcfd_runtime_hooks_t *hooks, rcfd_runtime_t **out, int *exit_code,
                     char *errstr, size_t es)
{
    *out = NULL;
    *exit_code = RCFD_EXIT_SOFTWARE;
    rcfd_runtime_t *rt = rcfd_calloc(1, sizeof *rt);
    if (rt == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    int rc = uv_loop_init(&rt->loop);
    if (rc != 0) {
        rcfd_free(rt);
        return rcfd_errf(rc, errstr, es, "uv_loop_init: %s", uv_strerror(rc));
    }
    rt->cfg = cfg;
    if (hooks != NULL) {
        rt->hooks = *hooks;
    }
    rt->config_path = config_path ? rcfd_strdup(config_path) : NULL;
    rt->outputs = rcfd_calloc(cfg->n_outputs, sizeof *rt->outputs);
    rt->sources = rcfd_calloc(cfg->n_sources, sizeof *rt->sources);
    rt->pipelines = rcfd_calloc(cfg->n_pipelines, sizeof *rt->pipelines);
    if (rt->outputs == NULL || rt->sources == NULL || rt->pipelines == NULL) {
        rc = rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
        goto fail;
    }
    rcfd_log_set_level(cfg->log.level);
    for (size_t i = 0; i < cfg->n_outputs; i++) {
        if ((rc = rcfd_output_init(&rt->outputs[i], &rt->loop, &cfg->outputs[i], errstr, es)) !=
            0) {
            *exit_code = RCFD_EXIT_CANTCREAT;
            goto fail;
        }
        rt->n_outputs++;
    }
    rcfd_outputs_link(rt->outputs, rt->n_outputs);
    for (size_t i = 0; i < rt->n_outputs; i++) {
        rt->outputs[i].on_fatal = output_fatal;
        rt->outputs[i].ud = rt;
    }
    default_dead_letters(rt);
    if ((rc = rcfd_state_new(rt, &rt->state, errstr, es)) != 0) {
        *exit_code = rc == RCFD_ECONFIG ? RCFD_EXIT_CONFIG : RCFD_EXIT_CANTCREAT;
        goto fail;
    }
    rt->n_sets = choose_workers(rt);
    for (size_t i = 0; i < cfg->n_pipelines; i++) {
        rt->n_pipelines++;
        if ((rc = pipeline_init(&rt->pipelines[i], &cfg->pipelines[i], errstr, es)) != 0) {
            goto fail;
        }
        if (rt->hooks.impute_ahead == NULL &&
            (rc = rcfd_config_check_daemon(cfg, errstr, es)) != 0) {
            *exit_code = RCFD_EXIT_CONFIG; /* main checks first; this guards other callers */
            goto fail;
        }
        rcfd_pipeline_t *p = &rt->pipelines[i];
        for (size_t o = 0; o < cfg->pipelines[i].outputs.n; o++) {
            p->styles |= 1u << rt->outputs[cfg->pipelines[i].output_index[o]].conf->style;
        }
        if ((p->sets = rcfd_calloc(rt->n_sets, sizeof *p->sets)) == NULL) {
            rc = rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
            goto fail;
        }
        p->n_sets = rt->n_sets;
        for (size_t w = 0; w < rt->n_sets; w++) {
            if ((rc = rcfd_keymodels_new(&cfg->pipelines[i], rcfd_state_enabled(rt->state),
                                         rt->n_sets, &p->sets[w])) != 0) {
                rcfd_errf(rc, errstr, es, "out of memory");
                goto fail;
            }
        }
        rcfd_spill_hooks_t spill;
        if (cfg->pipelines[i].memory_limit > 0 && rcfd_state_spill_hooks(rt->state, &spill)) {
            rcfd_keymodels_set_spill(p->sets[0], &spill); /* one set: choose_workers() */
        } else if (cfg->pipelines[i].memory_limit > 0) {
            RCFD_LOG(RCFD_LOG_INFO, COMP,
                     "pipeline %s: memory_limit %lld bytes without a state directory to spill "
                     "to: keys evicted over it restart cold (rcfd_models_dropped_total)",
                     cfg->pipelines[i].name, (long long)cfg->pipelines[i].memory_limit);
        }
        /* Warm start: the snapshot files are read here, before the loop runs. */
        char werr[768];
        if ((rc = rcfd_warm_load(&cfg->pipelines[i], &rt->pipelines[i].warm, werr, sizeof werr)) !=
            0) {
            rcfd_errf(rc, errstr, es, "pipelines[%zu].initial_state: %s", i, werr);
            *exit_code = RCFD_EXIT_CONFIG;
            goto fail;
        }
        if (rt->pipelines[i].warm != NULL) {
            RCFD_LOG(RCFD_LOG_INFO, COMP, "pipeline %s: %zu keys warm from %s",
                     cfg->pipelines[i].name, rcfd_warm_keys(rt->pipelines[i].warm),
                     cfg->pipelines[i].initial_state);
        }
    }
    for (size_t i = 0; i < cfg->n_sources; i++) {
        rcfd_source_t *s = &rt->sources[i];
        s->rt = rt;
        s->conf = &cfg->sources[i];
        s->index = i;
        s->ops = s->conf->type == RCFD_SOURCE_KAFKA     ? &rcfd_source_kafka_ops
                 : s->conf->type == RCFD_SOURCE_KINESIS ? &rcfd_source_kinesis_ops
                                                        : &rcfd_source_file_ops;
        if (s->conf->csv_columns.n > 0) {
            s->columns = &s->conf->csv_columns;
        }
        if (s->conf->timestamp_field[0] != '\0') {
            if (rcfd_field_compile(&s->ts, s->conf->timestamp_field) != 0) {
                rc = RCFD_ENOMEM;
                goto fail;
            }
            s->has_ts = 1;
        }
        rt->n_sources++;
        if (s->conf->type == RCFD_SOURCE_FILE &&
            (rc = rcfd_state_shard(rt->state, i, NULL, 0, &s->shard)) != 0) {
            goto fail;
        }
        if (s->conf->format == RCFD_FORMAT_CSV &&
            !(s->conf->type == RCFD_SOURCE_FILE && s->conf->csv_header)) {
            for (size_t p = 0; p < rt->n_pipelines; p++) {
                if (rt->pipelines[p].conf->source_index == i &&
                    (rc = resolve_csv(&rt->pipelines[p], s->columns, errstr, es)) != 0) {
                    *exit_code = RCFD_EXIT_CONFIG;
                    goto fail;
                }
            }
            if (s->has_ts) {
                rcfd_field_resolve_csv(&s->ts, s->columns);
            }
        }
        if ((rc = s->ops->init(s, errstr, es)) != 0) {
            *exit_code = s->conf->type != RCFD_SOURCE_FILE ? RCFD_EXIT_CONFIG
                                                           : RCFD_EXIT_CANTCREAT;
            goto fail;
        }
    }
    if (rt->n_sets > 1 && (rc = rcfd_dispatch_new(rt, rt->n_sets, errstr, es)) != 0) {
        goto fail;
    }
    uv_signal_init(&rt->loop, &rt->sig_term);
    uv_signal_init(&rt->loop, &rt->sig_int);
    uv_signal_init(&rt->loop, &rt->sig_hup);
    uv_prepare_init(&rt->loop, &rt->flush);
    uv_timer_init(&rt->loop, &rt->stats_timer);
    uv_timer_init(&rt->loop, &rt->deadline);
    uv_timer_init(&rt->loop, &rt->watchdog);
    rt->sig_term.data = rt->sig_int.data = rt->sig_hup.data = rt->flush.data = rt;
    rt->stats_timer.data = rt->deadline.data = rt->watchdog.data = rt;
    if ((rc = start_admin(rt, errstr, es)) != 0) {
        *exit_code = rc == UV_EADDRINUSE ? RCFD_EXIT_OSERR : RCFD_EXIT_CANTCREAT;
        goto fail;
    }
    *out = rt;
    *exit_code = RCFD_EXIT_OK;
    return 0;
fail:
    rt->cfg = NULL; /* still the caller's */
    rcfd_runtime_destroy(rt);
    return rc != 0 ? rc : RCFD_EINVAL;
}

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    rcfd_notify("WATCHDOG=1"); /* from a loop timer, so a stuck loop stops the pings */
}

/* Config, sources and outputs are up: tell systemd (Type=notify), and ping its watchdog at half
 * the interval it asked for. */
static void notify_ready(rcfd_runtime_t *rt)
{
    char status[160];
    snprintf(status, sizeof status, "READY=1\nSTATUS=%zu sources, %zu pipelines, %zu outputs",
             rt->n_sources, rt->n_pipelines, rt->n_outputs);
    int rc = rcfd_notify(status);
    if (rc != 0) {
        RCFD_LOG(RCFD_LOG_WARN, COMP, "sd_notify: %s", rcfd_strerror(rc));
    }
    uint64_t usec = rcfd_notify_watchdog_usec();
    if (usec >= 2000) {
        uv_timer_start(&rt->watchdog, on_watchdog, usec / 2000, usec / 2000);
    }
}

int rcfd_runtime_run(rcfd_runtime_t *rt)
{
    /* A closed stdout reader must surface as EPIPE on the write, not kill the daemon. */
    signal(SIGPIPE, SIG_IGN);
    rt->saved_signals = sigaction(SIGTERM, NULL, &rt->old_term) == 0 &&
                        sigaction(SIGINT, NULL, &rt->old_int) == 0;
    uv_signal_start(&rt->sig_term, on_signal, SIGTERM);
    uv_signal_start(&rt->sig_int, on_signal, SIGINT);
    uv_signal_start(&rt->sig_hup, on_hup, SIGHUP);
    uv_prepare_start(&rt->flush, on_flush);
    arm_stats(rt);
    rcfd_state_start(rt->state);
    RCFD_LOG(RCFD_LOG_INFO, COMP, "rcfd %s: %zu sources, %zu pipelines, %zu outputs",
             rcfd_version(), rt->n_sources, rt->n_pipelines, rt->n_outputs);
    for (size_t i = 0; i < rt->n_sources; i++) {
        int rc = rt->sources[i].ops->start(&rt->sources[i]);
        if (rc != 0) {
            RCFD_LOG(RCFD_LOG_ERROR, COMP, "source %s: cannot start: %s",
                     rt->sources[i].conf->name, rcfd_strerror(rc));
            rcfd_runtime_fail(rt, RCFD_EXIT_SOFTWARE);
            break;
        }
    }
    if (!rt->stopping) {
        notify_ready(rt);
    }
    uv_run(&rt->loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&rt->loop);
    rt->loop_closed = rc == 0;
    if (rc != 0) {
        RCFD_LOG(RCFD_LOG_ERROR, COMP, "uv_loop_close: %s (a handle leaked)", uv_strerror(rc));
        if (rt->exit_code == 0) {
            rt->exit_code = RCFD_EXIT_SOFTWARE;
        }
    }
    return rt->exit_code;
}

void rcfd_runtime_destroy(rcfd_runtime_t *rt)
{
    if (rt == NULL) {
        return;
    }
    /* A runtime that never ran (or failed to start) still has open handles: close them first,
     * because sources and outputs embed them. */
    rcfd_dispatch_stop(rt); /* no thread may touch the loop's handles from here on */
    if (!rt->loop_closed) {
        rcfd_admin_close(rt->admin);
        rt->admin = NULL;
        uv_walk(&rt->loop, on_walk_close, NULL);
        uv_run(&rt->loop, UV_RUN_DEFAULT);
        uv_loop_close(&rt->loop);
        rt->loop_closed = 1;
    }
    rcfd_dispatch_destroy(rt);
    for (size_t i = 0; i < rt->n_outputs; i++) {
        rcfd_output_abandon(&rt->outputs[i]);
    }
    for (size_t i = 0; i < rt->n_sources; i++) {
        rcfd_source_t *s = &rt->sources[i];
        if (s->ops != NULL && s->ops->destroy != NULL) {
            s->ops->destroy(s);
        }
        if (s->has_ts) {
            rcfd_field_free(&s->ts);
        }
        rcfd_strlist_free(&s->header);
    }
    for (size_t i = 0; i < rt->n_pipelines; i++) {
        pipeline_free(&rt->pipelines[i]);
    }
    rcfd_state_destroy(rt->state);
    for (size_t i = 0; i < rt->n_outputs; i++) {
        rcfd_output_destroy(&rt->outputs[i]);
    }
    rcfd_metrics_destroy(rt->metrics);
    rcfd_record_free(&rt->rec);
    rcfd_buf_free(&rt->enc[0]);
    rcfd_buf_free(&rt->enc[1]);
    rcfd_free(rt->sources);
    rcfd_free(rt->outputs);
    rcfd_free(rt->pipelines);
    rcfd_free(rt->config_path);
    rcfd_config_free(rt->cfg);
    if (rt->held_signals) {
        sigaction(SIGTERM, &rt->old_term, NULL);
        sigaction(SIGINT, &rt->old_int, NULL);
    }
    rcfd_free(rt);
}
