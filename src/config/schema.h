/* The daemon's configuration: the descriptor tables for every section and the parsed structs.
 *
 *   { "log": {...}, "runtime": {...}, "state": {...}, "sources": [...], "outputs": [...], "pipelines": [...] }
 *
 * Ownership: rcfd_config_parse() gives the caller a config that only rcfd_config_free() frees.
 * Cross references (a pipeline's source, outputs, dead_letter) are resolved to indexes at parse
 * time, so a parsed config is always internally consistent. Not thread-safe; no I/O. */
#ifndef RCFD_CONFIG_SCHEMA_H
#define RCFD_CONFIG_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/expr.h"
#include "models/model.h"

enum { RCFD_SOURCE_KAFKA = 0, RCFD_SOURCE_FILE = 1, RCFD_SOURCE_KINESIS = 2 };
enum { RCFD_FORMAT_JSON = 0, RCFD_FORMAT_CSV = 1 };
enum { RCFD_TS_S = 0, RCFD_TS_MS = 1, RCFD_TS_US = 2 };
enum { RCFD_OUTPUT_FILE = 0, RCFD_OUTPUT_WEBHOOK = 1, RCFD_OUTPUT_KAFKA = 2, RCFD_OUTPUT_KINESIS = 3 };
enum { RCFD_KINESIS_TRIM_HORIZON = 0, RCFD_KINESIS_LATEST = 1 };
enum { RCFD_OUT_JSONL = 0, RCFD_OUT_CSV = 1 };
enum { RCFD_FSYNC_NONE = 0, RCFD_FSYNC_BATCH = 1, RCFD_FSYNC_INTERVAL = 2 };
enum { RCFD_STORE_NONE = 0, RCFD_STORE_DIR = 1, RCFD_STORE_KAFKA = 2 };

typedef struct rcfd_log_conf {
    int level;
} rcfd_log_conf_t;

typedef struct rcfd_runtime_conf {
    int64_t max_inflight;
    int64_t shutdown_timeout_ms;
    int64_t stats_interval_ms;
    int64_t max_inflight_bytes;
    char *admin_listen; /* HOST:PORT for GET /metrics and /health; "" = off */
    int64_t workers;    /* model threads; 0 = one per online core, 1 = the loop thread only */
} rcfd_runtime_conf_t;

/* Checkpoints of the per-key models of Kafka partitions (docs/operations.md). */
typedef struct rcfd_state_conf {
    int store;           /* RCFD_STORE_* */
    char *dir;           /* store "dir": "" = $STATE_DIRECTORY, else state is off */
    int64_t interval_ms; /* periodic checkpoints */
    char *topic;         /* store "kafka": the compacted topic */
    rcfd_kv_t rdkafka;   /* store "kafka": librdkafka settings of its producer and reader */
    int64_t kafka_timeout_ms;
    int64_t max_checkpoint_bytes; /* a restore reads at most this much of a partition's state */
} rcfd_state_conf_t;

typedef struct rcfd_source_conf {
    char *name;
    int type;
    int format;
    int csv_header;
    char *csv_delimiter;
    rcfd_strlist_t csv_columns;
    char *timestamp_field;
    int timestamp_unit;
    int64_t max_record_bytes;
    /* kafka */
    rcfd_strlist_t topics;
    rcfd_kv_t rdkafka;
    int64_t poll_budget_messages;
    int64_t poll_budget_us;
    int64_t safety_poll_ms;
    int64_t close_timeout_ms;
    /* file */
    char *path;
    double replay_speed;
    int64_t read_chunk_bytes;
    /* kinesis */
    char *stream;
    char *region;
    char *endpoint;
    char *profile;
    int starting_position; /* RCFD_KINESIS_* */
    int64_t get_records_limit;
    int64_t poll_interval_ms;
    int64_t list_shards_interval_ms;
    int64_t request_timeout_ms;
    int64_t throttle_initial_ms, throttle_max_ms;
    int64_t instance, instances;
} rcfd_source_conf_t;

typedef struct rcfd_output_conf {
    char *name;
    int type;
    int style;
    double min_score;
    double min_grade;
    double min_novelty;
    int alert;
    int require_hotspots;
    char *dead_letter;
    long dead_letter_index; /* resolved; -1 if none */
    int64_t batch_max_bytes;
    int64_t batch_max_records;
    int64_t batch_max_delay_ms;
    int64_t retry_initial_ms;
    int64_t retry_max_ms;
    /* file */
    char *path;
    int format;
    int fsync;
    int64_t fsync_interval_ms;
    int64_t rotate_bytes;
    int64_t rotate_interval_ms;
    /* webhook */
    char *url;
    rcfd_kv_t headers;
    int64_t timeout_ms;
    int64_t connect_timeout_ms;
    int tls_verify;
    char *ca_file;
    /* kafka */
    char *topic;
    rcfd_kv_t rdkafka;
    /* kinesis */
    char *k_stream;
    char *k_region;
    char *k_endpoint;
    char *k_profile;
    int64_t k_timeout_ms;
} rcfd_output_conf_t;

typedef struct rcfd_model_conf {
    char *type_name;
    const rcfd_model_type_t *type;
    void *params; /* type->conf_size bytes, filled by type->conf */
} rcfd_model_conf_t;

typedef struct rcfd_pipeline_conf {
    char *name;
    char *source;
    rcfd_strlist_t fields; /* the point's columns: a field path, or a derived field's name */
    char *key;
    int64_t max_keys;
    int64_t memory_limit; /* bytes of live models + kept snapshots; 0 = none */
    rcfd_strlist_t outputs;
    char *dead_letter;
    char *initial_state; /* warm start: directory of DIR/<key>.<type>.snap; "" for none */
    int impute;          /* RCFD_IMPUTE_* (models/impute.h): a missing or null field */
    int64_t impute_max_consecutive; /* imputed records in a row per key, then dead letters */
    int64_t impute_lookahead;       /* linear: the next value within this many key records */
    double *impute_fixed; /* fields.n values with impute "fixed" (impute_values); owned */
    /* fields.n entries: a derived field's compiled expression ({"name", "expr"}), NULL for a
     * plain field; owned */
    rcfd_expr_t **field_exprs;
    /* resolved */
    size_t source_index;
    size_t *output_index;  /* outputs.n entries */
    long dead_letter_index; /* -1 if none */
    rcfd_model_conf_t *models;
    size_t n_models;
} rcfd_pipeline_conf_t;

typedef struct rcfd_config {
    rcfd_log_conf_t log;
    rcfd_runtime_conf_t runtime;
    rcfd_state_conf_t state;
    rcfd_source_conf_t *sources;
    size_t n_sources;
    rcfd_output_conf_t *outputs;
    size_t n_outputs;
    rcfd_pipeline_conf_t *pipelines;
    size_t n_pipelines;
} rcfd_config_t;

extern const rcfd_conf_desc_t rcfd_root_desc[], rcfd_log_desc[], rcfd_runtime_desc[], rcfd_state_desc[],
    rcfd_source_desc[], rcfd_source_kafka_desc[], rcfd_source_file_desc[],
    rcfd_source_kinesis_desc[], rcfd_output_desc[], rcfd_output_file_desc[],
    rcfd_output_webhook_desc[], rcfd_output_kafka_desc[], rcfd_output_kinesis_desc[], rcfd_pipeline_desc[], rcfd_field_desc[], rcfd_model_desc[];

/* Parses and validates a whole config document (JSON text of `len` bytes). */
int rcfd_config_parse(const char *json, size_t len, rcfd_config_t **out, char *errstr,
                      size_t errstr_size);
/* What only the daemon refuses (a backtest may run it): impute "linear", which needs the next
 * value of a field. RCFD_ECONFIG naming the pipeline. */
int rcfd_config_check_daemon(const rcfd_config_t *cfg, char *errstr, size_t errstr_size);

/* Reads the file and parses it; errors name the file. */
int rcfd_config_load(const char *path, rcfd_config_t **out, char *errstr, size_t errstr_size);
void rcfd_config_free(rcfd_config_t *cfg);

/* The effective configuration, defaults filled in, as formatted JSON (caller frees with
 * cJSON_free(): cJSON allocates it through the hooks main() installs). */
char *rcfd_config_print(const rcfd_config_t *cfg);

/* Applies the HOT keys of `from` to `to` (matched by name). Sets *restart_needed when keys that
 * need a restart differ. */
int rcfd_config_apply_hot(rcfd_config_t *to, const rcfd_config_t *from, int *restart_needed);

/* conf/README.md: every table as markdown. */
int rcfd_config_reference(rcfd_buf_t *out);

/* rcfd's name for KDA's spelling of a model parameter ("numberOfTrees" of type "rcf" is
 * "number_of_trees"), or NULL when `name` is not one. The config file, `-p` of rcfd train and
 * rcfd backtest accept these beside rcfd's names. */
const char *rcfd_config_model_alias(const char *type, const char *name);

#endif
