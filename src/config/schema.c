#include "config/schema.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "common/errstr.h"
#include "models/impute.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"

static const char *const level_enum[] = {"error", "warn", "info", "debug", "trace", NULL};
static const char *const source_type_enum[] = {"kafka", "file", "kinesis", NULL};
static const char *const kinesis_start_enum[] = {"TRIM_HORIZON", "LATEST", NULL};
static const char *const format_enum[] = {"json", "csv", NULL};
static const char *const ts_unit_enum[] = {"s", "ms", "us", NULL};
static const char *const output_type_enum[] = {"file", "webhook", "kafka", "kinesis", NULL};
static const char *const out_format_enum[] = {"jsonl", "csv", NULL};
static const char *const fsync_enum[] = {"none", "batch", "interval", NULL};
static const char *const style_enum[] = {"rcfd", "kda", NULL};
static const char *const store_enum[] = {"none", "dir", "kafka", NULL};

const rcfd_conf_desc_t rcfd_root_desc[] = {
    {"log", RCFD_CT_NESTED, 0, NULL, 0, 0, NULL, 0, "logging (see log)"},
    {"runtime", RCFD_CT_NESTED, 0, NULL, 0, 0, NULL, 0, "loop-wide limits (see runtime)"},
    {"state", RCFD_CT_NESTED, 0, NULL, 0, 0, NULL, 0,
     "checkpoints of the models of Kafka partitions (see state)"},
    {"sources", RCFD_CT_NESTED, 0, NULL, 0, 0, NULL, RCFD_CONF_REQUIRED,
     "array of sources (see sources[])"},
    {"outputs", RCFD_CT_NESTED, 0, NULL, 0, 0, NULL, RCFD_CONF_REQUIRED,
     "array of outputs (see outputs[])"},
    {"pipelines", RCFD_CT_NESTED, 0, NULL, 0, 0, NULL, RCFD_CONF_REQUIRED,
     "array of pipelines (see pipelines[])"},
    {NULL},
};

#define O(f) offsetof(rcfd_log_conf_t, f)
const rcfd_conf_desc_t rcfd_log_desc[] = {
    {"level", RCFD_CT_ENUM, O(level), "\"info\"", 0, 0, level_enum, RCFD_CONF_HOT,
     "least severe level written to stderr; per-record messages only at trace"},
    {NULL},
};
#undef O

#define O(f) offsetof(rcfd_runtime_conf_t, f)
const rcfd_conf_desc_t rcfd_runtime_desc[] = {
    {"max_inflight", RCFD_CT_INT, O(max_inflight), "20000", 1, 1e8, NULL, 0,
     "records read but not yet accepted by every output; above it sources pause, below half they "
     "resume"},
    {"shutdown_timeout_ms", RCFD_CT_INT, O(shutdown_timeout_ms), "10000", 0, 3600000, NULL, 0,
     "on SIGTERM, how long outputs may take to accept in-flight records before rcfd gives up "
     "(exit 75)"},
    {"stats_interval_ms", RCFD_CT_INT, O(stats_interval_ms), "60000", 0, 86400000, NULL,
     RCFD_CONF_HOT, "period of the counters line in the log; 0 disables it"},
    {"max_inflight_bytes", RCFD_CT_INT, O(max_inflight_bytes), "67108864", 4096, 1e12, NULL, 0,
     "bytes queued in outputs (encoded records not yet accepted); above it sources pause, below "
     "half (and max_inflight below half) they resume: the cap on the outputs' memory"},
    {"admin_listen", RCFD_CT_STRING, O(admin_listen), "\"\"", 0, 0, NULL, 0,
     "HOST:PORT of the HTTP listener serving GET /metrics (Prometheus text) and GET /health; "
     "empty disables it. Bind a loopback address: it has no authentication"},
    {"workers", RCFD_CT_INT, O(workers), "0", 0, 256, NULL, 0,
     "threads that run the per-key models (a key always runs on the same one; the loop thread "
     "keeps all I/O); 0: one per online core; 1: the models run on the loop thread, no threads"},
    {NULL},
};
#undef O

#define O(f) offsetof(rcfd_state_conf_t, f)
const rcfd_conf_desc_t rcfd_state_desc[] = {
    {"store", RCFD_CT_ENUM, O(store), "\"dir\"", 0, 0, store_enum, 0,
     "where checkpoints go: a local directory, a compacted Kafka topic (for daemons sharing a "
     "consumer group), or none"},
    {"dir", RCFD_CT_STRING, O(dir), "\"\"", 0, 0, NULL, 0,
     "store \"dir\": the directory; empty uses $STATE_DIRECTORY (systemd's StateDirectory=) and, "
     "without it, turns state off"},
    {"interval_ms", RCFD_CT_INT, O(interval_ms), "60000", 100, 86400000, NULL, 0,
     "period of the checkpoints; a SIGKILL replays at most this much input (plus what was in "
     "flight). Partitions are also checkpointed when revoked and at a graceful stop"},
    {"topic", RCFD_CT_STRING, O(topic), "\"\"", 0, 0, NULL, 0,
     "store \"kafka\": the state topic; create it with cleanup.policy=compact and "
     "max.message.bytes above one key's snapshot"},
    {"rdkafka", RCFD_CT_KV, O(rdkafka), "{}", 0, 0, NULL, 0,
     "store \"kafka\": librdkafka settings for the state producer and reader; bootstrap.servers "
     "defaults to the first Kafka source's"},
    {"kafka_timeout_ms", RCFD_CT_INT, O(kafka_timeout_ms), "30000", 100, 3600000, NULL, 0,
     "store \"kafka\": how long one checkpoint write or restore may take before it is retried"},
    {"max_checkpoint_bytes", RCFD_CT_INT, O(max_checkpoint_bytes), "4294967296", 4096, 1e15,
     NULL, 0,
     "a restore refuses a partition's checkpoint larger than this (a damaged or foreign file "
     "must not exhaust memory); it must hold the partition's keys times their snapshot size"},
    {NULL},
};
#undef O

#define O(f) offsetof(rcfd_source_conf_t, f)
const rcfd_conf_desc_t rcfd_source_desc[] = {
    {"name", RCFD_CT_STRING, O(name), NULL, 0, 0, NULL, RCFD_CONF_REQUIRED | RCFD_CONF_NONEMPTY,
     "unique name that pipelines refer to"},
    {"type", RCFD_CT_ENUM, O(type), NULL, 0, 0, source_type_enum, RCFD_CONF_REQUIRED,
     "where records come from"},
    {"format", RCFD_CT_ENUM, O(format), "\"json\"", 0, 0, format_enum, 0,
     "record encoding: one JSON object, or one CSV line, per message or line"},
    {"csv_header", RCFD_CT_BOOL, O(csv_header), "true", 0, 0, NULL, 0,
     "file sources: the first CSV line names the columns"},
    {"csv_delimiter", RCFD_CT_STRING, O(csv_delimiter), "\",\"", 0, 0, NULL, RCFD_CONF_NONEMPTY,
     "CSV field separator (one character)"},
    {"csv_columns", RCFD_CT_STRLIST, O(csv_columns), "[]", 0, 0, NULL, RCFD_CONF_NONEMPTY,
     "CSV column names when there is no header line (Kafka messages never have one)"},
    {"timestamp_field", RCFD_CT_STRING, O(timestamp_field), "\"\"", 0, 0, NULL, 0,
     "field holding the event time (number in timestamp_unit, or ISO-8601 string); used for "
     "replay pacing"},
    {"timestamp_unit", RCFD_CT_ENUM, O(timestamp_unit), "\"ms\"", 0, 0, ts_unit_enum, 0,
     "unit of numeric timestamps (epoch)"},
    {"max_record_bytes", RCFD_CT_INT, O(max_record_bytes), "1048576", 16, 1073741824, NULL, 0,
     "longer records are dead-lettered"},
    {NULL},
};

const rcfd_conf_desc_t rcfd_source_kafka_desc[] = {
    {"topics", RCFD_CT_STRLIST, O(topics), NULL, 1, 1000, NULL,
     RCFD_CONF_REQUIRED | RCFD_CONF_NONEMPTY, "topics to subscribe to (consumer group)"},
    {"rdkafka", RCFD_CT_KV, O(rdkafka), NULL, 0, 0, NULL, RCFD_CONF_REQUIRED,
     "librdkafka properties passed verbatim to rd_kafka_conf_set (bootstrap.servers and group.id "
     "needed)"},
    {"poll_budget_messages", RCFD_CT_INT, O(poll_budget_messages), "1000", 1, 1000000, NULL, 0,
     "messages handled per loop callback before yielding to other work"},
    {"poll_budget_us", RCFD_CT_INT, O(poll_budget_us), "2000", 50, 1000000, NULL, 0,
     "time spent per loop callback before yielding to other work"},
    {"safety_poll_ms", RCFD_CT_INT, O(safety_poll_ms), "500", 10, 60000, NULL, 0,
     "period of the timer that polls the consumer even without a wakeup (keeps group membership "
     "alive)"},
    {"close_timeout_ms", RCFD_CT_INT, O(close_timeout_ms), "10000", 0, 3600000, NULL, 0,
     "on stop, how long the consumer may take to commit its stored offsets and leave its group; "
     "past it (brokers unreachable) rcfd leaves without them, and records whose offsets were not "
     "committed are read again"},
    {NULL},
};

const rcfd_conf_desc_t rcfd_source_file_desc[] = {
    {"path", RCFD_CT_STRING, O(path), NULL, 0, 0, NULL, RCFD_CONF_REQUIRED | RCFD_CONF_NONEMPTY,
     "file to read, or \"-\" for stdin; the daemon stops when every file source is done"},
    {"replay_speed", RCFD_CT_DOUBLE, O(replay_speed), "0", 0, 1e6, NULL, 0,
     "0: as fast as possible; N > 0: replay at N times the event-time speed of timestamp_field"},
    {"read_chunk_bytes", RCFD_CT_INT, O(read_chunk_bytes), "65536", 512, 67108864, NULL, 0,
     "bytes per read"},
    {NULL},
};

const rcfd_conf_desc_t rcfd_source_kinesis_desc[] = {
    {"stream", RCFD_CT_STRING, O(stream), NULL, 0, 0, NULL, RCFD_CONF_REQUIRED | RCFD_CONF_NONEMPTY,
     "the Kinesis data stream to read"},
    {"region", RCFD_CT_STRING, O(region), "\"\"", 0, 0, NULL, 0,
     "AWS region; empty: $AWS_REGION, else $AWS_DEFAULT_REGION"},
    {"endpoint", RCFD_CT_STRING, O(endpoint), "\"\"", 0, 0, NULL, 0,
     "http(s)://host:port of the Kinesis API; empty: https://kinesis.REGION.amazonaws.com"},
    {"profile", RCFD_CT_STRING, O(profile), "\"\"", 0, 0, NULL, 0,
     "profile of the shared credentials file when AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are "
     "not set; empty: $AWS_PROFILE, else default"},
    {"starting_position", RCFD_CT_ENUM, O(starting_position), "\"LATEST\"", 0, 0,
     kinesis_start_enum, 0,
     "where a shard without a checkpoint starts: LATEST (records from now on, KDA's NOW) or "
     "TRIM_HORIZON (the oldest kept); a shard born of a reshard always starts at TRIM_HORIZON"},
    {"get_records_limit", RCFD_CT_INT, O(get_records_limit), "10000", 1, 10000, NULL, 0,
     "records per GetRecords call (Kinesis' maximum is 10000)"},
    {"poll_interval_ms", RCFD_CT_INT, O(poll_interval_ms), "1000", 200, 60000, NULL, 0,
     "wait between GetRecords calls of a shard that is caught up (Kinesis allows 5 calls a second "
     "per shard); a shard behind is read again after 200 ms"},
    {"list_shards_interval_ms", RCFD_CT_INT, O(list_shards_interval_ms), "10000", 500, 3600000,
     NULL, 0, "period of ListShards, which finds the shards a reshard creates"},
    {"request_timeout_ms", RCFD_CT_INT, O(request_timeout_ms), "10000", 100, 600000, NULL, 0,
     "timeout of one API call; a timed-out call is retried"},
    {"throttle_initial_ms", RCFD_CT_INT, O(throttle_initial_ms), "500", 10, 600000, NULL, 0,
     "first wait after ProvisionedThroughputExceeded or an error; doubles (with jitter) up to "
     "throttle_max_ms"},
    {"throttle_max_ms", RCFD_CT_INT, O(throttle_max_ms), "10000", 10, 3600000, NULL, 0,
     "longest wait between retries"},
    {"instance", RCFD_CT_INT, O(instance), "0", 0, 1023, NULL, 0,
     "static split over several daemons: this one reads the shards whose number modulo instances "
     "is instance (a reshard's children stay with their parent's daemon); no lease coordination"},
    {"instances", RCFD_CT_INT, O(instances), "1", 1, 1024, NULL, 0,
     "how many daemons share the stream"},
    {NULL},
};
#undef O

#define O(f) offsetof(rcfd_output_conf_t, f)
const rcfd_conf_desc_t rcfd_output_desc[] = {
    {"name", RCFD_CT_STRING, O(name), NULL, 0, 0, NULL, RCFD_CONF_REQUIRED | RCFD_CONF_NONEMPTY,
     "unique name that pipelines refer to"},
    {"type", RCFD_CT_ENUM, O(type), NULL, 0, 0, output_type_enum, RCFD_CONF_REQUIRED,
     "where scored records go"},
    {"style", RCFD_CT_ENUM, O(style), "\"rcfd\"", 0, 0, style_enum, 0,
     "rcfd: anomaly_score, explanation, hotspots, _rcfd; kda: ANOMALY_SCORE, ANOMALY_EXPLANATION, "
     "HOTSPOTS_RESULT exactly as Kinesis Data Analytics"},
    {"min_score", RCFD_CT_DOUBLE, O(min_score), "0", 0, 1e9, NULL, RCFD_CONF_HOT,
     "filter: only records scoring at least this are written (dead letters are always written; "
     "filtered records count as accepted)"},
    {"min_grade", RCFD_CT_DOUBLE, O(min_grade), "0", 0, 1, NULL, RCFD_CONF_HOT,
     "filter: only records whose RCF anomaly_grade is at least this are written"},
    {"min_novelty", RCFD_CT_DOUBLE, O(min_novelty), "0", 0, 1e9, NULL, RCFD_CONF_HOT,
     "filter: only records whose RCF anomaly_novelty is at least this are written (one threshold "
     "across keys of different score levels; docs/rcf.md)"},
    {"alert", RCFD_CT_BOOL, O(alert), "false", 0, 0, NULL, RCFD_CONF_HOT,
     "filter: only records where the rcf model's alert decision starts an alert (anomaly: true, "
     "one per episode) are written; the way to send alerts (docs/rcf.md)"},
    {"require_hotspots", RCFD_CT_BOOL, O(require_hotspots), "false", 0, 0, NULL, RCFD_CONF_HOT,
     "filter: only records with at least one HOTSPOTS hotspot are written"},
    {"dead_letter", RCFD_CT_STRING, O(dead_letter), "\"\"", 0, 0, NULL, 0,
     "output that takes records this one gave up on (permanent errors), with the reason; empty: "
     "count and drop them"},
    {"batch_max_bytes", RCFD_CT_INT, O(batch_max_bytes), "1048576", 1024, 268435456, NULL, 0,
     "bytes per batch (file write, HTTP request, produce round)"},
    {"batch_max_records", RCFD_CT_INT, O(batch_max_records), "100000", 1, 10000000, NULL, 0,
     "records per batch (webhook: 1 posts single JSON objects, more posts JSON arrays)"},
    {"batch_max_delay_ms", RCFD_CT_INT, O(batch_max_delay_ms), "0", 0, 600000, NULL, 0,
     "how long a batch may wait to fill up; 0: send once per loop iteration"},
    {"retry_initial_ms", RCFD_CT_INT, O(retry_initial_ms), "100", 1, 600000, NULL, 0,
     "first retry delay after a failed send; doubles (with jitter: 50-100% of it) up to "
     "retry_max_ms"},
    {"retry_max_ms", RCFD_CT_INT, O(retry_max_ms), "30000", 1, 3600000, NULL, 0,
     "largest retry delay"},
    {NULL},
};

const rcfd_conf_desc_t rcfd_output_file_desc[] = {
    {"path", RCFD_CT_STRING, O(path), NULL, 0, 0, NULL, RCFD_CONF_REQUIRED | RCFD_CONF_NONEMPTY,
     "file to append to, or \"-\" for stdout; reopened on SIGHUP (logrotate)"},
    {"format", RCFD_CT_ENUM, O(format), "\"jsonl\"", 0, 0, out_format_enum, 0,
     "jsonl: one JSON object per line; csv: the top-level members of the first record as header "
     "(written at the start of every file), nested values as JSON text"},
    {"fsync", RCFD_CT_ENUM, O(fsync), "\"none\"", 0, 0, fsync_enum, 0,
     "none: records count as accepted once written; batch: fdatasync after every write before "
     "they do; interval: fdatasync before acknowledging when fsync_interval_ms has passed since the "
     "last one"},
    {"fsync_interval_ms", RCFD_CT_INT, O(fsync_interval_ms), "1000", 1, 3600000, NULL, 0,
     "fsync interval policy: period"},
    {"rotate_bytes", RCFD_CT_INT, O(rotate_bytes), "0", 0, 1e13, NULL, 0,
     "rename the file to PATH.<UTC time>.<n> and start a new one before it would exceed this; 0: "
     "never"},
    {"rotate_interval_ms", RCFD_CT_INT, O(rotate_interval_ms), "0", 0, 31622400000.0, NULL, 0,
     "rotate a non-empty file this long after it was opened; 0: never"},
    {NULL},
};

const rcfd_conf_desc_t rcfd_output_webhook_desc[] = {
    {"url", RCFD_CT_STRING, O(url), NULL, 0, 0, NULL, RCFD_CONF_REQUIRED | RCFD_CONF_NONEMPTY,
     "http:// or https:// URL records are POSTed to (Content-Type: application/json)"},
    {"headers", RCFD_CT_KV, O(headers), "{}", 0, 0, NULL, 0,
     "extra request headers; use ${NAME} for tokens: {\"Authorization\": \"Bearer ${TOKEN}\"}"},
    {"timeout_ms", RCFD_CT_INT, O(timeout_ms), "10000", 1, 3600000, NULL, 0,
     "whole request timeout; a timed-out request is retried"},
    {"connect_timeout_ms", RCFD_CT_INT, O(connect_timeout_ms), "3000", 1, 3600000, NULL, 0,
     "connection timeout"},
    {"tls_verify", RCFD_CT_BOOL, O(tls_verify), "true", 0, 0, NULL, 0,
     "verify the server certificate and host name"},
    {"ca_file", RCFD_CT_STRING, O(ca_file), "\"\"", 0, 0, NULL, 0,
     "CA bundle (PEM) to verify the server with; empty: the system's"},
    {NULL},
};

const rcfd_conf_desc_t rcfd_output_kafka_desc[] = {
    {"topic", RCFD_CT_STRING, O(topic), NULL, 0, 0, NULL, RCFD_CONF_REQUIRED | RCFD_CONF_NONEMPTY,
     "topic to produce to; the pipeline key is the message key"},
    {"rdkafka", RCFD_CT_KV, O(rdkafka), NULL, 0, 0, NULL, RCFD_CONF_REQUIRED,
     "librdkafka producer properties (bootstrap.servers at least); enable.idempotence defaults to "
     "true"},
    {NULL},
};

const rcfd_conf_desc_t rcfd_output_kinesis_desc[] = {
    {"stream", RCFD_CT_STRING, O(k_stream), NULL, 0, 0, NULL, RCFD_CONF_REQUIRED | RCFD_CONF_NONEMPTY,
     "the Kinesis data stream to put records to; the pipeline key is the partition key"},
    {"region", RCFD_CT_STRING, O(k_region), "\"\"", 0, 0, NULL, 0,
     "AWS region; empty: $AWS_REGION, else $AWS_DEFAULT_REGION"},
    {"endpoint", RCFD_CT_STRING, O(k_endpoint), "\"\"", 0, 0, NULL, 0,
     "http(s)://host:port of the Kinesis API; empty: https://kinesis.REGION.amazonaws.com"},
    {"profile", RCFD_CT_STRING, O(k_profile), "\"\"", 0, 0, NULL, 0,
     "profile of the shared credentials file when the environment has no keys"},
    {"timeout_ms", RCFD_CT_INT, O(k_timeout_ms), "10000", 100, 600000, NULL, 0,
     "timeout of one PutRecords call; a timed-out call is retried"},
    {NULL},
};
#undef O

#define O(f) offsetof(rcfd_pipeline_conf_t, f)
const rcfd_conf_desc_t rcfd_pipeline_desc[] = {
    {"name", RCFD_CT_STRING, O(name), NULL, 0, 0, NULL, RCFD_CONF_REQUIRED | RCFD_CONF_NONEMPTY,
     "unique name, written into each output record"},
    {"source", RCFD_CT_STRING, O(source), NULL, 0, 0, NULL, RCFD_CONF_REQUIRED,
     "name of the source to read"},
    {"fields", RCFD_CT_STRLIST, O(fields), NULL, 1, 1000, NULL,
     RCFD_CONF_REQUIRED | RCFD_CONF_NONEMPTY,
     "numeric fields that form the point: JSON paths (\"a.b.c\", \"arr.0\") or CSV column names "
     "or 0-based indexes; or derived fields, {\"name\": \"x_scaled\", \"expr\": \"x / 100\"} (see "
     "pipelines[].fields[] as an object)"},
    {"key", RCFD_CT_STRING, O(key), "\"\"", 0, 0, NULL, 0,
     "field naming the entity: one model per distinct value; empty: one model for all records"},
    {"max_keys", RCFD_CT_INT, O(max_keys), "10000", 1, 10000000, NULL, 0,
     "models kept at once; beyond it the least recently used key's model is evicted (counted)"},
    {"memory_limit", RCFD_CT_INT, O(memory_limit), "0", 0, 1e15, NULL, 0,
     "bytes the pipeline's models may hold: live instances plus evicted keys' snapshots; over it "
     "snapshots are spilled to the state directory (store \"dir\") and read back when their key "
     "returns, or dropped (the key restarts cold, counted) without one; 0: only max_keys bounds "
     "them"},
    {"models", RCFD_CT_NESTED, 0, NULL, 0, 0, NULL, RCFD_CONF_REQUIRED,
     "array of models (see models[]); at most one of each type"},
    {"outputs", RCFD_CT_STRLIST, O(outputs), NULL, 1, 64, NULL,
     RCFD_CONF_REQUIRED | RCFD_CONF_NONEMPTY, "names of the outputs every scored record goes to"},
    {"dead_letter", RCFD_CT_STRING, O(dead_letter), "\"\"", 0, 0, NULL, 0,
     "output for malformed records with the reason; empty: count and drop them"},
    {"initial_state", RCFD_CT_STRING, O(initial_state), "\"\"", 0, 0, NULL, 0,
     "warm start: a directory written by `rcfd train` (DIR/<key>.<type>.snap); the snapshots are "
     "loaded at start and a key with one scores from its first record; empty: every key starts "
     "cold"},
    {"impute", RCFD_CT_ENUM, O(impute), "\"dead_letter\"", 0, 0, rcfd_impute_methods, 0,
     "a field that is absent or null: \"dead_letter\" the record; or score it with the field "
     "imputed, marked in the output (\"imputed\": [\"field\"]): \"zero\", \"fixed\" "
     "(impute_values), \"previous\" (the key's last value), \"rcf\" (the key's forest's "
     "estimate given the present fields and the key's recent records; \"previous\" until the "
     "forest scores), \"linear\" (between the previous and the next value: only in `rcfd "
     "backtest` and `rcfd train`, which know the next; the daemon refuses it). A field that is present but not a number is still a "
     "dead letter (docs/rcf.md \"Missing values\")"},
    {"impute_values", RCFD_CT_NESTED, 0, NULL, 0, 0, NULL, 0,
     "with impute \"fixed\": an object giving every field its value, {\"temp\": 20.5}"},
    {"impute_max_consecutive", RCFD_CT_INT, O(impute_max_consecutive), "10", 1, 1e9, NULL, 0,
     "records of a key imputed in a row at most; later ones are dead letters naming the field, "
     "until a complete record"},
    {"impute_lookahead", RCFD_CT_INT, O(impute_lookahead), "10", 1, 1e6, NULL, 0,
     "with impute \"linear\": the next observed value must come within this many records of "
     "the key, else the previous value is taken"},
    {NULL},
};
#undef O

/* A derived field, parsed by parse_fields() before the pipeline's own table sees its name. */
typedef struct field_obj {
    char *name;
    char *expr;
} field_obj_t;

#define O(f) offsetof(field_obj_t, f)
const rcfd_conf_desc_t rcfd_field_desc[] = {
    {"name", RCFD_CT_STRING, O(name), NULL, 0, 0, NULL, RCFD_CONF_REQUIRED | RCFD_CONF_NONEMPTY,
     "the field's name: its column in explanations and attributions"},
    {"expr", RCFD_CT_STRING, O(expr), NULL, 0, 0, NULL, RCFD_CONF_REQUIRED | RCFD_CONF_NONEMPTY,
     "arithmetic over the record's numeric fields: numbers, field names as in fields (\"a.b\"), "
     "or \"quoted\" for other names, + - * /, unary minus, parentheses; e.g. \"x / 100\", "
     "\"(rx + tx) * 8\". Compiled at load; a record where it is not a finite number is "
     "dead-lettered"},
    {NULL},
};
#undef O

const rcfd_conf_desc_t rcfd_model_desc[] = {
    {"type", RCFD_CT_STRING, offsetof(rcfd_model_conf_t, type_name), NULL, 0, 0, NULL,
     RCFD_CONF_REQUIRED, "model type: rcf or hotspots"},
    {NULL},
};

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static int check_rdkafka(const rcfd_source_conf_t *s, const char *path, char *errstr, size_t es)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int have_bootstrap = 0, have_group = 0;
    int rc = 0;
    for (size_t i = 0; i < s->rdkafka.n && rc == 0; i++) {
        const char *k = s->rdkafka.keys[i], *v = s->rdkafka.vals[i];
        char kerr[512];
        if (strcmp(k, "enable.auto.offset.store") == 0 || strcmp(k, "log.queue") == 0 ||
            strcmp(k, "enable.partition.eof") == 0) {
            rc = rcfd_errf(RCFD_ECONFIG, errstr, es,
                           "%s.rdkafka.\"%s\": set by rcfd itself (at-least-once offset storing "
                           "and log routing); remove it",
                           path, k);
            break;
        }
        if (rd_kafka_conf_set(conf, k, v, kerr, sizeof kerr) != RD_KAFKA_CONF_OK) {
            rc = rcfd_errf(RCFD_ECONFIG, errstr, es, "%s.rdkafka.\"%s\": %s", path, k, kerr);
        }
        have_bootstrap |= strcmp(k, "bootstrap.servers") == 0 || strcmp(k, "metadata.broker.list") == 0 ||
                          strcmp(k, "test.mock.num.brokers") == 0;
        have_group |= strcmp(k, "group.id") == 0;
    }
    rd_kafka_conf_destroy(conf);
    if (rc == 0 && !have_bootstrap) {
        rc = rcfd_errf(RCFD_ECONFIG, errstr, es,
                       "%s.rdkafka: \"bootstrap.servers\" is required", path);
    }
    if (rc == 0 && !have_group) {
        rc = rcfd_errf(RCFD_ECONFIG, errstr, es, "%s.rdkafka: \"group.id\" is required", path);
    }
    return rc;
}

static int is_index(const char *s)
{
    if (*s == '\0') {
        return 0;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return 0;
        }
    }
    return 1;
}

static int check_state(const rcfd_state_conf_t *st, char *errstr, size_t es)
{
    if (st->store == RCFD_STORE_KAFKA && st->topic[0] == '\0') {
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "state.topic: required with \"store\": \"kafka\"");
    }
    return 0;
}

static int parse_sources(rcfd_config_t *cfg, const cJSON *arr, char *errstr, size_t es)
{
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "sources: expected a non-empty array");
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    cfg->sources = rcfd_calloc(n, sizeof *cfg->sources);
    if (cfg->sources == NULL) {
        return RCFD_ENOMEM;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        size_t i = cfg->n_sources++;
        rcfd_source_conf_t *s = &cfg->sources[i];
        char path[64];
        snprintf(path, sizeof path, "sources[%zu]", i);
        const char *type = rcfd_conf_peek_string(it, "type");
        const rcfd_conf_desc_t *specific = rcfd_source_file_desc;
        if (type != NULL && strcmp(type, "kafka") == 0) {
            specific = rcfd_source_kafka_desc;
        } else if (type != NULL && strcmp(type, "kinesis") == 0) {
            specific = rcfd_source_kinesis_desc;
        }
        rcfd_conf_section_t secs[] = {{rcfd_source_desc, s}, {specific, s}};
        int rc = rcfd_conf_parse(secs, 2, it, path, errstr, es);
        if (rc != 0) {
            return rc;
        }
        if (strlen(s->csv_delimiter) != 1) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es,
                             "%s.csv_delimiter: must be exactly one character", path);
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->sources[j].name, s->name) == 0) {
                return rcfd_errf(RCFD_ECONFIG, errstr, es,
                                 "%s.name: \"%s\" is already used by sources[%zu]", path, s->name,
                                 j);
            }
        }
        if (s->type == RCFD_SOURCE_KAFKA && (rc = check_rdkafka(s, path, errstr, es)) != 0) {
            return rc;
        }
        if (s->type == RCFD_SOURCE_KINESIS) {
            if (s->instance >= s->instances) {
                return rcfd_errf(RCFD_ECONFIG, errstr, es,
                                 "%s.instance: %lld must be below instances (%lld)", path,
                                 (long long)s->instance, (long long)s->instances);
            }
            if (s->throttle_initial_ms > s->throttle_max_ms) {
                return rcfd_errf(RCFD_ECONFIG, errstr, es,
                                 "%s.throttle_initial_ms: above throttle_max_ms", path);
            }
        }
    }
    return 0;
}

/* The type-specific table of an output object (by its "type"; file when absent or unknown, so
 * the common table reports the bad type). */
static const rcfd_conf_desc_t *output_type_desc(const cJSON *obj)
{
    const char *t = rcfd_conf_peek_string(obj, "type");
    if (t != NULL && strcmp(t, "webhook") == 0) {
        return rcfd_output_webhook_desc;
    }
    if (t != NULL && strcmp(t, "kafka") == 0) {
        return rcfd_output_kafka_desc;
    }
    if (t != NULL && strcmp(t, "kinesis") == 0) {
        return rcfd_output_kinesis_desc;
    }
    return rcfd_output_file_desc;
}

static const rcfd_conf_desc_t *output_conf_desc(const rcfd_output_conf_t *o)
{
    return o->type == RCFD_OUTPUT_WEBHOOK   ? rcfd_output_webhook_desc
           : o->type == RCFD_OUTPUT_KAFKA   ? rcfd_output_kafka_desc
           : o->type == RCFD_OUTPUT_KINESIS ? rcfd_output_kinesis_desc
                                            : rcfd_output_file_desc;
}

static int check_producer(const rcfd_output_conf_t *o, const char *path, char *errstr, size_t es)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int have_bootstrap = 0, rc = 0;
    for (size_t i = 0; i < o->rdkafka.n && rc == 0; i++) {
        const char *k = o->rdkafka.keys[i], *v = o->rdkafka.vals[i];
        char kerr[512];
        if (rd_kafka_conf_set(conf, k, v, kerr, sizeof kerr) != RD_KAFKA_CONF_OK) {
            rc = rcfd_errf(RCFD_ECONFIG, errstr, es, "%s.rdkafka.\"%s\": %s", path, k, kerr);
        }
        have_bootstrap |= strcmp(k, "bootstrap.servers") == 0 ||
                          strcmp(k, "metadata.broker.list") == 0 ||
                          strcmp(k, "test.mock.num.brokers") == 0;
    }
    rd_kafka_conf_destroy(conf);
    if (rc == 0 && !have_bootstrap) {
        rc = rcfd_errf(RCFD_ECONFIG, errstr, es, "%s.rdkafka: \"bootstrap.servers\" is required",
                       path);
    }
    return rc;
}

static int link_output_dead_letters(rcfd_config_t *cfg, char *errstr, size_t es);

static int parse_outputs(rcfd_config_t *cfg, const cJSON *arr, char *errstr, size_t es)
{
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "outputs: expected a non-empty array");
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    cfg->outputs = rcfd_calloc(n, sizeof *cfg->outputs);
    if (cfg->outputs == NULL) {
        return RCFD_ENOMEM;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        size_t i = cfg->n_outputs++;
        rcfd_output_conf_t *o = &cfg->outputs[i];
        char path[64];
        snprintf(path, sizeof path, "outputs[%zu]", i);
        o->dead_letter_index = -1;
        rcfd_conf_section_t secs[] = {{rcfd_output_desc, o}, {output_type_desc(it), o}};
        int rc = rcfd_conf_parse(secs, 2, it, path, errstr, es);
        if (rc != 0) {
            return rc;
        }
        if (o->type == RCFD_OUTPUT_KAFKA && (rc = check_producer(o, path, errstr, es)) != 0) {
            return rc;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->outputs[j].name, o->name) == 0) {
                return rcfd_errf(RCFD_ECONFIG, errstr, es,
                                 "%s.name: \"%s\" is already used by outputs[%zu]", path, o->name,
                                 j);
            }
        }
    }
    return link_output_dead_letters(cfg, errstr, es);
}

static long find_output(const rcfd_config_t *cfg, const char *name);

static int link_output_dead_letters(rcfd_config_t *cfg, char *errstr, size_t es)
{
    for (size_t i = 0; i < cfg->n_outputs; i++) {
        rcfd_output_conf_t *o = &cfg->outputs[i];
        if (o->dead_letter[0] == '\0') {
            continue;
        }
        long d = find_output(cfg, o->dead_letter);
        if (d < 0) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es,
                             "outputs[%zu].dead_letter: no output is named \"%s\"", i,
                             o->dead_letter);
        }
        if ((size_t)d == i || cfg->outputs[d].dead_letter[0] != '\0') {
            return rcfd_errf(RCFD_ECONFIG, errstr, es,
                             "outputs[%zu].dead_letter: \"%s\" must be another output without a "
                             "dead_letter of its own",
                             i, o->dead_letter);
        }
        o->dead_letter_index = d;
    }
    return 0;
}

static long find_output(const rcfd_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_outputs; i++) {
        if (strcmp(cfg->outputs[i].name, name) == 0) {
            return (long)i;
        }
    }
    return -1;
}

/* KDA's SQL argument names (RANDOM_CUT_FOREST, HOTSPOTS) and Random Cut Forest's camelCase, as
 * the config accepts them beside rcfd's names; `rcfd train -p` and `rcfd backtest -p` too. */
static const struct {
    const char *type, *alias, *key;
} model_aliases[] = {
    {"rcf", "numberOfTrees", "number_of_trees"},
    {"rcf", "subSampleSize", "sub_sample_size"},
    {"rcf", "timeDecay", "time_decay"},
    {"rcf", "shingleSize", "shingle_size"},
    {"rcf", "outputAfter", "output_after"},
    {"rcf", "randomSeed", "seed"},
    {"hotspots", "windowSize", "window_size"},
    {"hotspots", "scanRadius", "scan_radius"},
    {"hotspots", "minimumNumberOfPointsInAHotspot", "min_points"},
};

const char *rcfd_config_model_alias(const char *type, const char *name)
{
    for (size_t i = 0; type != NULL && name != NULL &&
                       i < sizeof model_aliases / sizeof model_aliases[0];
         i++) {
        if (strcmp(model_aliases[i].type, type) == 0 &&
            strcmp(model_aliases[i].alias, name) == 0) {
            return model_aliases[i].key;
        }
    }
    return NULL;
}

/* A copy of the model object with KDA's names renamed to rcfd's (*out NULL when it has none).
 * Both spellings of one parameter is an error naming both. */
static int rename_aliases(const char *type, const cJSON *obj, cJSON **out, const char *path,
                          char *errstr, size_t es)
{
    *out = NULL;
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        const char *key = rcfd_config_model_alias(type, c->string);
        if (key == NULL) {
            continue;
        }
        if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL) {
            cJSON_Delete(*out);
            *out = NULL;
            return rcfd_errf(RCFD_ECONFIG, errstr, es,
                             "%s: \"%s\" and \"%s\" are the same parameter (%s is KDA's name "
                             "for %s); give one",
                             path, c->string, key, c->string, key);
        }
        if (*out == NULL && (*out = cJSON_Duplicate(obj, 1)) == NULL) {
            return RCFD_ENOMEM;
        }
    }
    for (cJSON *c = *out != NULL ? (*out)->child : NULL; c != NULL; c = c->next) {
        const char *key = rcfd_config_model_alias(type, c->string);
        char *copy = key != NULL ? cJSON_malloc(strlen(key) + 1) : NULL;
        if (key != NULL && copy == NULL) {
            cJSON_Delete(*out);
            *out = NULL;
            return RCFD_ENOMEM;
        }
        if (copy != NULL) {
            memcpy(copy, key, strlen(key) + 1);
            cJSON_free(c->string);
            c->string = copy;
        }
    }
    return 0;
}

/* After an error in a renamed object: the message names rcfd's key; say how the file spelled it. */
static void note_alias(const char *type, const cJSON *obj, char *errstr, size_t es)
{
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        const char *key = rcfd_config_model_alias(type, c->string);
        char pat[96];
        snprintf(pat, sizeof pat, ".%s:", key != NULL ? key : "");
        if (key != NULL && strstr(errstr, pat) != NULL) {
            size_t len = strlen(errstr);
            snprintf(errstr + len, es > len ? es - len : 0, " (written %s, KDA's name for %s)",
                     c->string, key);
            return;
        }
    }
}

static int parse_models(rcfd_pipeline_conf_t *p, const cJSON *arr, const char *ppath,
                        char *errstr, size_t es)
{
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s.models: expected a non-empty array",
                         ppath);
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    p->models = rcfd_calloc(n, sizeof *p->models);
    if (p->models == NULL) {
        return RCFD_ENOMEM;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        size_t i = p->n_models++;
        rcfd_model_conf_t *m = &p->models[i];
        char path[128];
        snprintf(path, sizeof path, "%s.models[%zu]", ppath, i);
        if (!cJSON_IsObject(it)) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: expected an object", path);
        }
        const char *type = rcfd_conf_peek_string(it, "type");
        m->type = rcfd_model_type_find(type);
        if (m->type == NULL) {
            char list[256] = "";
            size_t off = 0;
            for (size_t t = 0; rcfd_model_types[t] != NULL; t++) {
                off += (size_t)snprintf(list + off, sizeof list - off, "%s\"%s\"", t ? ", " : "",
                                        rcfd_model_types[t]->name);
            }
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s.type: %s%s%s is not one of %s", path,
                             type ? "\"" : "", type ? type : "missing", type ? "\"" : "", list);
        }
        m->params = rcfd_calloc(1, m->type->conf_size);
        if (m->params == NULL) {
            return RCFD_ENOMEM;
        }
        rcfd_conf_section_t secs[] = {{rcfd_model_desc, m}, {m->type->conf, m->params}};
        cJSON *renamed;
        int rc = rename_aliases(m->type->name, it, &renamed, path, errstr, es);
        if (rc != 0) {
            return rc;
        }
        rc = rcfd_conf_parse(secs, 2, renamed != NULL ? renamed : it, path, errstr, es);
        cJSON_Delete(renamed);
        if (rc != 0) {
            note_alias(m->type->name, it, errstr, es);
            return rc;
        }
        for (size_t j = 0; j < i; j++) {
            if (p->models[j].type == m->type) {
                return rcfd_errf(RCFD_ECONFIG, errstr, es,
                                 "%s.type: a pipeline has at most one \"%s\" model (%s.models[%zu] "
                                 "is one); use a second pipeline",
                                 path, m->type->name, ppath, j);
            }
        }
        char merr[400];
        rc = m->type->validate(m->params, p->fields.n, merr, sizeof merr);
        if (rc != 0) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: %s", path, merr);
        }
    }
    return 0;
}

/* Derived fields: every object in the pipeline's "fields" is parsed and its expression compiled
 * into exprs[] (n entries), and the object is replaced by its name in *copy, a duplicate of the
 * pipeline object that the pipeline table then parses like any other. *copy stays NULL when
 * "fields" has no object. */
static int parse_fields(const cJSON *pipe, const char *path, cJSON **copy, rcfd_expr_t ***exprs,
                        char *errstr, size_t es)
{
    *copy = NULL;
    *exprs = NULL;
    const cJSON *fields = get(pipe, "fields"), *f;
    const cJSON *list = cJSON_IsArray(fields) ? fields : NULL;
    int any = 0;
    cJSON_ArrayForEach(f, list)
    {
        any |= cJSON_IsObject(f);
    }
    if (!any) {
        return 0;
    }
    size_t n = (size_t)cJSON_GetArraySize(fields);
    *copy = cJSON_Duplicate(pipe, 1);
    *exprs = rcfd_calloc(n, sizeof **exprs);
    if (*copy == NULL || *exprs == NULL) {
        return RCFD_ENOMEM;
    }
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(*copy, "fields");
    for (size_t i = 0; i < n; i++) {
        const cJSON *it = cJSON_GetArrayItem(arr, (int)i);
        if (!cJSON_IsObject(it)) {
            continue; /* strings are the table's; anything else it reports */
        }
        char ipath[96];
        snprintf(ipath, sizeof ipath, "%s.fields[%zu]", path, i);
        field_obj_t fo = {0};
        rcfd_conf_section_t secs[] = {{rcfd_field_desc, &fo}};
        int rc = rcfd_conf_parse(secs, 1, it, ipath, errstr, es);
        if (rc == 0) {
            char eerr[256];
            rc = rcfd_expr_compile(fo.expr, &(*exprs)[i], eerr, sizeof eerr);
            if (rc != 0) {
                rcfd_errf(rc, errstr, es, "%s.expr: %s", ipath, eerr);
            }
        }
        cJSON *name = rc == 0 ? cJSON_CreateString(fo.name) : NULL;
        rcfd_conf_free(rcfd_field_desc, &fo);
        if (rc != 0) {
            return rc;
        }
        if (name == NULL || !cJSON_ReplaceItemInArray(arr, (int)i, name)) {
            cJSON_Delete(name);
            return RCFD_ENOMEM;
        }
    }
    return 0;
}

static void free_exprs(rcfd_expr_t **exprs, size_t n)
{
    for (size_t i = 0; exprs != NULL && i < n; i++) {
        rcfd_expr_free(exprs[i]);
    }
    rcfd_free(exprs);
}

/* impute_values (a number per field, with "fixed" only) and the models the method needs. */
static int parse_impute(rcfd_pipeline_conf_t *p, const cJSON *vals, const char *path,
                        char *errstr, size_t es)
{
    if (vals != NULL && p->impute != RCFD_IMPUTE_FIXED) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "%s.impute_values: only with impute \"fixed\" (impute is \"%s\")", path,
                         rcfd_impute_methods[p->impute]);
    }
    if (p->impute == RCFD_IMPUTE_FIXED) {
        if (!cJSON_IsObject(vals)) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es,
                             "%s.impute_values: impute \"fixed\" needs an object giving every "
                             "field its value",
                             path);
        }
        p->impute_fixed = rcfd_calloc(p->fields.n, sizeof *p->impute_fixed);
        unsigned char *seen = rcfd_calloc(p->fields.n, 1);
        if (p->impute_fixed == NULL || seen == NULL) {
            rcfd_free(seen);
            return RCFD_ENOMEM;
        }
        int rc = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, vals)
        {
            size_t f;
            for (f = 0; f < p->fields.n && strcmp(p->fields.v[f], v->string) != 0; f++) {
            }
            if (f == p->fields.n) {
                rc = rcfd_errf(RCFD_ECONFIG, errstr, es,
                               "%s.impute_values.\"%s\": not one of the pipeline's fields", path,
                               v->string);
                break;
            }
            if (!cJSON_IsNumber(v) || !(fabs(v->valuedouble) <= FLT_MAX)) {
                rc = rcfd_errf(RCFD_ECONFIG, errstr, es,
                               "%s.impute_values.\"%s\": expected a finite number", path,
                               v->string);
                break;
            }
            p->impute_fixed[f] = v->valuedouble;
            seen[f] = 1;
        }
        for (size_t f = 0; rc == 0 && f < p->fields.n; f++) {
            if (!seen[f]) {
                rc = rcfd_errf(RCFD_ECONFIG, errstr, es,
                               "%s.impute_values: no value for field \"%s\"", path,
                               p->fields.v[f]);
            }
        }
        rcfd_free(seen);
        if (rc != 0) {
            return rc;
        }
    }
    if (p->impute == RCFD_IMPUTE_DEAD_LETTER) {
        return 0;
    }
    int holder = 0, estimator = 0;
    for (size_t m = 0; m < p->n_models; m++) {
        holder |= p->models[m].type->impute_state != NULL;
        estimator |= p->models[m].type->impute != NULL;
    }
    if (!holder) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "%s.impute: \"%s\" keeps per-key state in the snapshot of a model of "
                         "type \"rcf\" or \"forecast\"; the pipeline has neither",
                         path, rcfd_impute_methods[p->impute]);
    }
    if (p->impute == RCFD_IMPUTE_RCF && !estimator) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "%s.impute: \"rcf\" needs a model of type \"rcf\" in the pipeline",
                         path);
    }
    return 0;
}

static int parse_pipelines(rcfd_config_t *cfg, const cJSON *arr, char *errstr, size_t es)
{
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "pipelines: expected a non-empty array");
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    cfg->pipelines = rcfd_calloc(n, sizeof *cfg->pipelines);
    if (cfg->pipelines == NULL) {
        return RCFD_ENOMEM;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        size_t i = cfg->n_pipelines++;
        rcfd_pipeline_conf_t *p = &cfg->pipelines[i];
        p->dead_letter_index = -1;
        char path[64];
        snprintf(path, sizeof path, "pipelines[%zu]", i);
        cJSON *copy;
        rcfd_expr_t **exprs;
        const cJSON *fields = get(it, "fields");
        size_t n_fields = cJSON_IsArray(fields) ? (size_t)cJSON_GetArraySize(fields) : 0;
        int rc = parse_fields(it, path, &copy, &exprs, errstr, es);
        if (rc == 0) {
            rcfd_conf_section_t secs[] = {{rcfd_pipeline_desc, p}};
            rc = rcfd_conf_parse(secs, 1, copy != NULL ? copy : it, path, errstr, es);
        }
        cJSON_Delete(copy);
        if (rc != 0) {
            free_exprs(exprs, n_fields);
            return rc;
        }
        p->field_exprs = exprs;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->pipelines[j].name, p->name) == 0) {
                return rcfd_errf(RCFD_ECONFIG, errstr, es,
                                 "%s.name: \"%s\" is already used by pipelines[%zu]", path,
                                 p->name, j);
            }
        }
        size_t s;
        for (s = 0; s < cfg->n_sources && strcmp(cfg->sources[s].name, p->source) != 0; s++) {
        }
        if (s == cfg->n_sources) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s.source: no source is named \"%s\"",
                             path, p->source);
        }
        p->source_index = s;
        const rcfd_source_conf_t *src = &cfg->sources[s];
        if (src->format == RCFD_FORMAT_CSV) {
            int named = src->csv_columns.n > 0 || (src->type == RCFD_SOURCE_FILE && src->csv_header);
            for (size_t f = 0; f < p->fields.n; f++) {
                const rcfd_expr_t *e = p->field_exprs ? p->field_exprs[f] : NULL;
                for (size_t r = 0; e != NULL && r < rcfd_expr_n_refs(e); r++) {
                    if (!named && !is_index(rcfd_expr_ref(e, r))) {
                        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                                         "%s.fields[%zu].expr: \"%s\" is a column name, but "
                                         "source \"%s\" has no column names; use a 0-based "
                                         "column index",
                                         path, f, rcfd_expr_ref(e, r), src->name);
                    }
                }
                if (!named && e == NULL && !is_index(p->fields.v[f])) {
                    return rcfd_errf(RCFD_ECONFIG, errstr, es,
                                     "%s.fields[%zu]: \"%s\" is a column name, but source \"%s\" "
                                     "has no csv_columns%s; use a 0-based column index",
                                     path, f, p->fields.v[f], src->name,
                                     src->type == RCFD_SOURCE_FILE ? " and no csv_header" : "");
                }
            }
        }
        for (size_t a = 0; a < p->fields.n; a++) {
            for (size_t b = 0; b < a; b++) {
                if (strcmp(p->fields.v[a], p->fields.v[b]) == 0) {
                    return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s.fields[%zu]: \"%s\" repeats "
                                     "fields[%zu]", path, a, p->fields.v[a], b);
                }
            }
        }
        p->output_index = rcfd_calloc(p->outputs.n, sizeof *p->output_index);
        if (p->output_index == NULL) {
            return RCFD_ENOMEM;
        }
        for (size_t o = 0; o < p->outputs.n; o++) {
            long idx = find_output(cfg, p->outputs.v[o]);
            if (idx < 0) {
                return rcfd_errf(RCFD_ECONFIG, errstr, es,
                                 "%s.outputs[%zu]: no output is named \"%s\"", path, o,
                                 p->outputs.v[o]);
            }
            p->output_index[o] = (size_t)idx;
        }
        if (p->dead_letter[0] != '\0') {
            p->dead_letter_index = find_output(cfg, p->dead_letter);
            if (p->dead_letter_index < 0) {
                return rcfd_errf(RCFD_ECONFIG, errstr, es,
                                 "%s.dead_letter: no output is named \"%s\"", path,
                                 p->dead_letter);
            }
        }
        rc = parse_models(p, get(it, "models"), path, errstr, es);
        rc = rc ? rc : parse_impute(p, get(it, "impute_values"), path, errstr, es);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int rcfd_config_parse(const char *json, size_t len, rcfd_config_t **out, char *errstr, size_t es)
{
    *out = NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (root == NULL) {
        size_t off = end != NULL && end >= json ? (size_t)(end - json) : 0;
        size_t line = 1, col = 1;
        for (size_t i = 0; i < off && i < len; i++) {
            if (json[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "invalid JSON at line %zu, column %zu", line,
                         col);
    }
    rcfd_config_t *cfg = rcfd_calloc(1, sizeof *cfg);
    if (cfg == NULL) {
        cJSON_Delete(root);
        return RCFD_ENOMEM;
    }
    int rc;
    rcfd_conf_section_t rsec[] = {{rcfd_root_desc, cfg}};
    if ((rc = rcfd_conf_parse(rsec, 1, root, "", errstr, es)) != 0) {
        goto fail;
    }
    rcfd_conf_section_t lsec[] = {{rcfd_log_desc, &cfg->log}};
    rcfd_conf_section_t usec[] = {{rcfd_runtime_desc, &cfg->runtime}};
    rcfd_conf_section_t ssec[] = {{rcfd_state_desc, &cfg->state}};
    const cJSON *log = get(root, "log"), *rt = get(root, "runtime"), *st = get(root, "state");
    if ((rc = log ? rcfd_conf_parse(lsec, 1, log, "log", errstr, es)
                  : rcfd_conf_defaults(rcfd_log_desc, &cfg->log, errstr, es)) != 0 ||
        (rc = rt ? rcfd_conf_parse(usec, 1, rt, "runtime", errstr, es)
                 : rcfd_conf_defaults(rcfd_runtime_desc, &cfg->runtime, errstr, es)) != 0 ||
        (rc = st ? rcfd_conf_parse(ssec, 1, st, "state", errstr, es)
                 : rcfd_conf_defaults(rcfd_state_desc, &cfg->state, errstr, es)) != 0 ||
        (rc = check_state(&cfg->state, errstr, es)) != 0 ||
        (rc = parse_sources(cfg, get(root, "sources"), errstr, es)) != 0 ||
        (rc = parse_outputs(cfg, get(root, "outputs"), errstr, es)) != 0 ||
        (rc = parse_pipelines(cfg, get(root, "pipelines"), errstr, es)) != 0) {
        goto fail;
    }
    cJSON_Delete(root);
    *out = cfg;
    return 0;
fail:
    if (rc == RCFD_ENOMEM) {
        rcfd_errf(rc, errstr, es, "out of memory while parsing the config");
    }
    cJSON_Delete(root);
    rcfd_config_free(cfg);
    return rc;
}

int rcfd_config_check_daemon(const rcfd_config_t *cfg, char *errstr, size_t es)
{
    for (size_t i = 0; i < cfg->n_pipelines; i++) {
        if (cfg->pipelines[i].impute == RCFD_IMPUTE_LINEAR) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es,
                             "pipelines[%zu].impute: \"linear\" needs the next value of a "
                             "field, which only `rcfd backtest` and `rcfd train` know (pipeline "
                             "\"%s\"); use \"previous\" or \"rcf\" in the daemon",
                             i, cfg->pipelines[i].name);
        }
    }
    return 0;
}

int rcfd_config_load(const char *path, rcfd_config_t **out, char *errstr, size_t es)
{
    *out = NULL;
    rcfd_buf_t b = {0};
    char inner[768];
    int rc = rcfd_buf_read_file(&b, path, 64u << 20, inner, sizeof inner);
    if (rc != 0) {
        rcfd_buf_free(&b);
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s", inner);
    }
    rc = rcfd_config_parse(b.p ? b.p : "", b.len, out, inner, sizeof inner);
    rcfd_buf_free(&b);
    if (rc != 0) {
        rcfd_errf(rc, errstr, es, "%s: %s", path, inner);
    }
    return rc;
}

void rcfd_config_free(rcfd_config_t *cfg)
{
    if (cfg == NULL) {
        return;
    }
    rcfd_conf_free(rcfd_runtime_desc, &cfg->runtime);
    rcfd_conf_free(rcfd_state_desc, &cfg->state);
    for (size_t i = 0; i < cfg->n_sources; i++) {
        rcfd_conf_free(rcfd_source_desc, &cfg->sources[i]);
        rcfd_conf_free(rcfd_source_kafka_desc, &cfg->sources[i]);
        rcfd_conf_free(rcfd_source_file_desc, &cfg->sources[i]);
        rcfd_conf_free(rcfd_source_kinesis_desc, &cfg->sources[i]);
    }
    for (size_t i = 0; i < cfg->n_outputs; i++) {
        rcfd_conf_free(rcfd_output_desc, &cfg->outputs[i]);
        /* Type tables cover disjoint fields: freeing all three also covers an output whose
         * "type" failed to parse after another table's defaults were applied. */
        rcfd_conf_free(rcfd_output_file_desc, &cfg->outputs[i]);
        rcfd_conf_free(rcfd_output_webhook_desc, &cfg->outputs[i]);
        rcfd_conf_free(rcfd_output_kafka_desc, &cfg->outputs[i]);
        rcfd_conf_free(rcfd_output_kinesis_desc, &cfg->outputs[i]);
    }
    for (size_t i = 0; i < cfg->n_pipelines; i++) {
        rcfd_pipeline_conf_t *p = &cfg->pipelines[i];
        for (size_t m = 0; m < p->n_models; m++) {
            if (p->models[m].params != NULL && p->models[m].type != NULL) {
                rcfd_conf_free(p->models[m].type->conf, p->models[m].params);
            }
            rcfd_free(p->models[m].params);
            rcfd_conf_free(rcfd_model_desc, &p->models[m]);
        }
        rcfd_free(p->models);
        rcfd_free(p->output_index);
        free_exprs(p->field_exprs, p->fields.n);
        rcfd_free(p->impute_fixed);
        rcfd_conf_free(rcfd_pipeline_desc, p);
    }
    rcfd_free(cfg->sources);
    rcfd_free(cfg->outputs);
    rcfd_free(cfg->pipelines);
    rcfd_free(cfg);
}

static cJSON *section_json(const rcfd_conf_desc_t *a, const rcfd_conf_desc_t *b, const void *base)
{
    cJSON *o = cJSON_CreateObject();
    if (o != NULL && (rcfd_conf_emit(a, base, o) != 0 || (b && rcfd_conf_emit(b, base, o) != 0))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *config_json(const rcfd_config_t *cfg)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "log", section_json(rcfd_log_desc, NULL, &cfg->log));
    cJSON_AddItemToObject(root, "runtime", section_json(rcfd_runtime_desc, NULL, &cfg->runtime));
    cJSON_AddItemToObject(root, "state", section_json(rcfd_state_desc, NULL, &cfg->state));
    cJSON *a = cJSON_AddArrayToObject(root, "sources");
    for (size_t i = 0; i < cfg->n_sources; i++) {
        const rcfd_source_conf_t *s = &cfg->sources[i];
        cJSON_AddItemToArray(a, section_json(rcfd_source_desc,
                                             s->type == RCFD_SOURCE_KAFKA     ? rcfd_source_kafka_desc
                                             : s->type == RCFD_SOURCE_KINESIS ? rcfd_source_kinesis_desc
                                                                              : rcfd_source_file_desc,
                                             s));
    }
    a = cJSON_AddArrayToObject(root, "outputs");
    for (size_t i = 0; i < cfg->n_outputs; i++) {
        cJSON_AddItemToArray(a, section_json(rcfd_output_desc, output_conf_desc(&cfg->outputs[i]),
                                             &cfg->outputs[i]));
    }
    a = cJSON_AddArrayToObject(root, "pipelines");
    for (size_t i = 0; i < cfg->n_pipelines; i++) {
        const rcfd_pipeline_conf_t *p = &cfg->pipelines[i];
        cJSON *po = section_json(rcfd_pipeline_desc, NULL, p);
        cJSON *fa = po != NULL ? cJSON_GetObjectItemCaseSensitive(po, "fields") : NULL;
        for (size_t f = 0; fa != NULL && p->field_exprs != NULL && f < p->fields.n; f++) {
            if (p->field_exprs[f] != NULL) {
                cJSON *fo = cJSON_CreateObject();
                cJSON_AddStringToObject(fo, "name", p->fields.v[f]);
                cJSON_AddStringToObject(fo, "expr", rcfd_expr_source(p->field_exprs[f]));
                cJSON_ReplaceItemInArray(fa, (int)f, fo);
            }
        }
        if (p->impute_fixed != NULL) {
            cJSON *iv = cJSON_AddObjectToObject(po, "impute_values");
            for (size_t f = 0; iv != NULL && f < p->fields.n; f++) {
                cJSON_AddNumberToObject(iv, p->fields.v[f], p->impute_fixed[f]);
            }
        }
        cJSON *ma = cJSON_AddArrayToObject(po, "models");
        for (size_t m = 0; m < p->n_models; m++) {
            cJSON *mo = cJSON_CreateObject();
            cJSON_AddStringToObject(mo, "type", p->models[m].type->name);
            rcfd_conf_emit(p->models[m].type->conf, p->models[m].params, mo);
            cJSON_AddItemToArray(ma, mo);
        }
        cJSON_AddItemToArray(a, po);
    }
    return root;
}

char *rcfd_config_print(const rcfd_config_t *cfg)
{
    cJSON *root = config_json(cfg);
    char *s = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    return s;
}

int rcfd_config_apply_hot(rcfd_config_t *to, const rcfd_config_t *from, int *restart_needed)
{
    int rc = rcfd_conf_apply_hot(rcfd_log_desc, &to->log, &from->log);
    rc = rc ? rc : rcfd_conf_apply_hot(rcfd_runtime_desc, &to->runtime, &from->runtime);
    for (size_t i = 0; rc == 0 && i < to->n_outputs; i++) {
        for (size_t j = 0; j < from->n_outputs; j++) {
            if (strcmp(to->outputs[i].name, from->outputs[j].name) == 0) {
                rc = rcfd_conf_apply_hot(rcfd_output_desc, &to->outputs[i], &from->outputs[j]);
            }
        }
    }
    if (rc == 0) {
        /* After copying the HOT keys, any remaining difference is in a restart-only key. */
        char *a = rcfd_config_print(to), *b = rcfd_config_print(from);
        *restart_needed = a == NULL || b == NULL || strcmp(a, b) != 0;
        cJSON_free(a);
        cJSON_free(b);
    }
    return rc;
}

static int ref_section(rcfd_buf_t *out, const char *title, const char *intro,
                       const rcfd_conf_desc_t *desc)
{
    int rc = rcfd_buf_printf(out, "\n## %s\n\n%s%s", title, intro, intro[0] ? "\n\n" : "");
    return rc ? rc : rcfd_conf_reference(desc, out);
}

int rcfd_config_reference(rcfd_buf_t *out)
{
    int rc = rcfd_buf_puts(
        out,
        "# rcfd configuration reference\n\n"
        "Generated by `rcfd --config-reference` from the descriptor tables in src/config/ and "
        "src/models/; do not edit by hand.\n\n"
        "The config is one JSON file. Unknown keys, wrong types and out-of-range values are "
        "errors that name the JSON path (`pipelines[0].models[0].shingle_size`) and exit with "
        "code 78. String values may use `${NAME}` to read an environment variable (unset is an "
        "error) or `${NAME:-default}` (the default when it is unset or empty: the examples write "
        "`${STATE_DIRECTORY:-.}/scored.jsonl`). Model parameters may also be written with KDA's "
        "names (`numberOfTrees`, `subSampleSize`, `timeDecay`, `shingleSize`, `windowSize`, "
        "`scanRadius`, `minimumNumberOfPointsInAHotspot`); they are read as rcfd's. Keys marked "
        "`SIGHUP` are applied by `kill -HUP`; the others need a restart. `rcfd --print-config -c "
        "FILE` shows the effective config with every default filled in. See docs/daemon.md for "
        "how the pieces fit together, and conf/*.json for examples.\n");
    rc = rc ? rc : ref_section(out, "Top level", "", rcfd_root_desc);
    rc = rc ? rc : ref_section(out, "log", "", rcfd_log_desc);
    rc = rc ? rc : ref_section(out, "runtime", "", rcfd_runtime_desc);
    rc = rc ? rc : ref_section(out, "state",
                               "Checkpoints of the per-key models of every Kafka partition, with "
                               "the offset they reflect: written periodically, when a partition "
                               "is revoked and at a graceful stop; read when a partition is "
                               "assigned, so a restart or a rebalance scores as if nothing had "
                               "stopped. File sources are replays and are not checkpointed. See "
                               "docs/operations.md.",
                               rcfd_state_desc);
    rc = rc ? rc : ref_section(out, "sources[]", "Keys of every source.", rcfd_source_desc);
    rc = rc ? rc : ref_section(out, "sources[] with \"type\": \"kafka\"",
                               "A consumer-group member. Offsets are stored only after every "
                               "output accepted a record (at-least-once); librdkafka commits "
                               "them. `rdkafka` keys are librdkafka's own (its CONFIGURATION.md); "
                               "`enable.auto.offset.store`, `log.queue` and "
                               "`enable.partition.eof` are set by rcfd.",
                               rcfd_source_kafka_desc);
    rc = rc ? rc : ref_section(out, "sources[] with \"type\": \"file\"",
                               "JSONL or CSV from a file or stdin; for backtests.",
                               rcfd_source_file_desc);
    rc = rc ? rc : ref_section(out, "sources[] with \"type\": \"kinesis\"",
                               "A Kinesis Data Streams reader on the loop: ListShards, "
                               "GetShardIterator and GetRecords through libcurl, signed with "
                               "SigV4. Records are at-least-once like Kafka's: with a state store, "
                               "each checkpoint holds the sequence number every shard was read to, "
                               "and a restart resumes after it (without one, shards start at "
                               "starting_position). After a reshard a child shard is read once its "
                               "parents are read to their end. Throttling backs off per shard. "
                               "Several daemons split the shards statically "
                               "(instance/instances); KCL's lease coordination is not implemented.",
                               rcfd_source_kinesis_desc);
    rc = rc ? rc : ref_section(out, "outputs[]", "Keys of every output.", rcfd_output_desc);
    rc = rc ? rc : ref_section(out, "outputs[] with \"type\": \"file\"",
                               "JSONL or CSV appended with uv_fs_write (threadpool); size and time "
                               "rotation; reopened on SIGHUP.",
                               rcfd_output_file_desc);
    rc = rc ? rc : ref_section(out, "outputs[] with \"type\": \"webhook\"",
                               "HTTP POST of JSON (one object, or an array per batch) through "
                               "libcurl's multi interface on the loop. 2xx: accepted; 408, 429, "
                               "5xx, timeouts and transport errors: retried with backoff; other "
                               "statuses: given up (dead_letter). One request in flight per output, "
                               "so records of a key arrive in order.",
                               rcfd_output_webhook_desc);
    rc = rc ? rc : ref_section(out, "outputs[] with \"type\": \"kafka\"",
                               "A librdkafka producer on the loop; a record counts as accepted "
                               "when its delivery report succeeds. Retriable errors are retried; "
                               "permanent ones (size, authorization, unknown topic) go to "
                               "dead_letter.",
                               rcfd_output_kafka_desc);
    rc = rc ? rc : ref_section(out, "outputs[] with \"type\": \"kinesis\"",
                               "PutRecords on the loop (libcurl, SigV4), at most 500 records and "
                               "5 MiB per call. A record accepted in a partially failed call counts "
                               "as accepted; ProvisionedThroughputExceeded and internal failures "
                               "are retried for the failed records only, with backoff; other "
                               "errors (and records above 1 MiB) go to dead_letter.",
                               rcfd_output_kinesis_desc);
    rc = rc ? rc : ref_section(out, "pipelines[]", "", rcfd_pipeline_desc);
    rc = rc ? rc : ref_section(out, "pipelines[].fields[] as an object",
                               "A derived field: the value of an expression over the record's "
                               "fields, computed before the models see the point (KDA's `\"x\" / "
                               "100` inside a CURSOR). It allocates nothing per record.",
                               rcfd_field_desc);
    rc = rc ? rc : ref_section(out, "pipelines[].models[]", "Keys of every model.",
                               rcfd_model_desc);
    for (size_t t = 0; rc == 0 && rcfd_model_types[t] != NULL; t++) {
        char title[128];
        snprintf(title, sizeof title, "pipelines[].models[] with \"type\": \"%s\"",
                 rcfd_model_types[t]->name);
        rc = ref_section(out, title, rcfd_model_types[t]->help, rcfd_model_types[t]->conf);
    }
    return rc;
}
