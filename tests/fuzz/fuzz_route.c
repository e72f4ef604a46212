/* Fuzzes whole records through the daemon's runtime, not only the decoder: a real runtime
 * (rcfd_runtime_new on a config with two pipelines over one JSON source, a scored output and a
 * dead-letter output) parses each input as a record and routes it through both pipelines, their
 * per-key models and the outputs' queues, as a source does. The first byte chooses whether the
 * scored output then accepts its batch or permanently refuses it, which sends the encoded
 * records through the output's dead-letter path. Invariants: every line an output queues is a
 * JSON object (scored records with "_rcfd", dead letters with a reason and the record's bytes or
 * base64, an output's refusal naming the output and the origin), dead letters stay under 64 KiB
 * plus their envelope, and the record's delivery completes exactly once. The sinks are replaced
 * by one that answers nothing, so no I/O happens. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rcfd/alloc.h"
#include "stream/runtime_int.h"

/* workers 1: each input is routed, scored and queued within the call, as the invariants below
 * need (with worker threads the results would come back on a later loop turn, and this target
 * does not run the loop). */
static const char config[] =
    "{\"runtime\": {\"stats_interval_ms\": 0, \"workers\": 1},"
    " \"sources\": [{\"name\": \"in\", \"type\": \"file\", \"path\": \"/dev/null\","
    "               \"max_record_bytes\": 70000}],"
    " \"outputs\": [{\"name\": \"out\", \"type\": \"file\", \"path\": \"/dev/null\"},"
    "             {\"name\": \"dead\", \"type\": \"file\", \"path\": \"/dev/null\"}],"
    " \"pipelines\": ["
    "  {\"name\": \"p\", \"source\": \"in\", \"key\": \"k\", \"fields\": [\"v\", \"a.b\"],"
    "   \"max_keys\": 8, \"outputs\": [\"out\"], \"dead_letter\": \"dead\","
    "   \"models\": [{\"type\": \"rcf\", \"number_of_trees\": 3, \"sub_sample_size\": 10,"
    "                \"output_after\": 1, \"explain\": true}]},"
    "  {\"name\": \"q\", \"source\": \"in\", \"fields\": [\"v\"], \"outputs\": [\"out\"],"
    "   \"dead_letter\": \"dead\","
    "   \"models\": [{\"type\": \"rcf\", \"number_of_trees\": 2, \"sub_sample_size\": 10,"
    "                \"recent_mean\": 0}]}]}";

static rcfd_runtime_t *rt;

static int silent_send(rcfd_output_t *o, const char *data, size_t len, int retry)
{
    (void)o;
    (void)data;
    (void)len;
    (void)retry;
    return 0; /* answered by the target */
}

static const rcfd_sink_type_t silent = {.name = "silent", .send = silent_send};

static void init(void)
{
    cJSON_Hooks hooks = {.malloc_fn = rcfd_malloc, .free_fn = rcfd_free};
    cJSON_InitHooks(&hooks);
    rcfd_config_t *cfg;
    char err[1024];
    int code;
    if (rcfd_config_parse(config, sizeof config - 1, &cfg, err, sizeof err) != 0 ||
        rcfd_runtime_new(cfg, NULL, NULL, &rt, &code, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_route: %s\n", err);
        abort();
    }
    for (size_t i = 0; i < rt->n_outputs; i++) {
        rt->outputs[i].type->close(&rt->outputs[i]); /* the file sink's descriptor */
        rt->outputs[i].type = &silent;
    }
}

static int completed;

static void on_done(rcfd_delivery_t *d)
{
    (void)d;
    completed++;
}

/* The lines of the batch an output is sending: each must be a JSON object passing `check`. */
static void check_sending(const rcfd_output_t *o, void (*check)(const cJSON *, size_t))
{
    const rcfd_out_batch_t *b = &o->sending;
    for (size_t i = 0; i < b->n; i++) {
        cJSON *j = cJSON_ParseWithLength(b->data.p + b->r[i].off, b->r[i].len);
        if (j == NULL || !cJSON_IsObject(j)) {
            abort();
        }
        check(j, b->r[i].len);
        cJSON_Delete(j);
    }
}

static void check_scored(const cJSON *j, size_t len)
{
    (void)len;
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "_rcfd"))) {
        abort();
    }
}

static void check_dead(const cJSON *j, size_t len)
{
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "reason")) ||
        len > RCFD_DEAD_RECORD_MAX + 4096) {
        abort();
    }
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(j, "record");
    const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(j, "record_base64");
    if ((rec == NULL) == (b64 == NULL)) {
        abort();
    }
    const cJSON *out = cJSON_GetObjectItemCaseSensitive(j, "output");
    if (out != NULL) {
        /* refused by the output: the origin is in the record, or beside a cut one */
        if (!cJSON_IsString(out) || strcmp(out->valuestring, "out") != 0 ||
            (cJSON_GetObjectItemCaseSensitive(j, "origin") == NULL &&
             (rec == NULL || strstr(rec->valuestring, "\"_rcfd\":{") == NULL))) {
            abort();
        }
    } else if (cJSON_GetObjectItemCaseSensitive(j, "line") == NULL) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (rt == NULL) {
        init();
    }
    if (size == 0) {
        return 0;
    }
    int refuse = data[0] & 1;
    const char *rec = (const char *)data + 1;
    size_t len = size - 1;
    rcfd_source_t *s = &rt->sources[0];
    rcfd_output_t *out = &rt->outputs[0], *dead = &rt->outputs[1];
    static uint64_t line;
    rcfd_delivery_t d = {.refs = 1, .done = on_done};
    rcfd_origin_t origin = {.source = "in", .path = "/dev/null", .line = ++line, .shard = s->shard};
    char reason[256];
    completed = 0;
    int prc = rcfd_runtime_parse(rt, s, rec, len, reason, sizeof reason);
    if (rcfd_runtime_ready(rt, s, prc, s->shard)) {
        rcfd_runtime_route(rt, s, prc, reason, &origin, &d);
    }
    rcfd_delivery_unref(&d);
    rcfd_output_flush(out);
    check_sending(out, check_scored);
    if (out->busy) {
        if (refuse) {
            rcfd_output_drop(out, "MSG_SIZE_TOO_LARGE: Broker: Message size too large");
        } else {
            rcfd_output_sent(out, RCFD_SINK_OK);
        }
    }
    rcfd_output_flush(dead);
    check_sending(dead, check_dead);
    if (dead->busy) {
        rcfd_output_sent(dead, RCFD_SINK_OK);
    }
    if (completed != 1 || rcfd_output_inflight(out) != 0 || rcfd_output_inflight(dead) != 0) {
        abort();
    }
    return 0;
}
