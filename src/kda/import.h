/* `rcfd kda import`: a KDA SQL application (kda/sql.h) turned into an rcfd config and a report.
 *
 * The in-application stream chain is followed from the application's input (the one stream that
 * is read and never written, SOURCE_SQL_STREAM_001 in the console's naming) through pumps and
 * intermediate streams to the streams nothing reads (DESTINATION_SQL_STREAM): each
 * RANDOM_CUT_FOREST, RANDOM_CUT_FOREST_WITH_EXPLANATION or HOTSPOTS call becomes a pipeline whose
 * fields are the CURSOR's numeric columns (arithmetic on columns, also through intermediate
 * streams, becomes derived fields), each stream nothing reads becomes an output in the kda style,
 * and WHERE ANOMALY_SCORE > c on the way becomes that output's min_score. The rcf model is KDA's
 * forest exactly (recent_mean 0, KDA's defaults for omitted arguments). What has no rcfd
 * equivalent is an error naming the line, column and construct, or, where dropping it changes
 * nothing about the scores (ORDER BY, ROWTIME, a projection of output columns), a "not mapped"
 * line in the report. The generated config is checked with the daemon's own config parser.
 *
 * Not thread-safe; no I/O. */
#ifndef RCFD_KDA_IMPORT_H
#define RCFD_KDA_IMPORT_H

#include <stddef.h>

#include "common/buf.h"

typedef struct kda_import_opts {
    const char *app_name; /* names the Kafka consumer group ("rcfd-APP"); not NULL */
    /* Where the input and outputs live: "file:PATH" ("-": stdin, stdout), "kafka:TOPIC",
     * "kinesis:STREAM". In output_spec, "{stream}" is the in-application stream's name. NULL:
     * "file:-" for the input; for outputs "file:-" when there is one, else "file:{stream}.jsonl".
     */
    const char *source_spec;
    const char *output_spec;
    const char *dead_letter_spec; /* NULL: none */
    /* The input stream's columns, as in CREATE STREAM: "\"x\" DOUBLE, \"name\" VARCHAR(8)"; NULL:
     * inferred from how the application uses them (the report says so). */
    const char *columns;
    int csv;                   /* the input is CSV (needs columns) instead of JSON */
    const char *csv_delimiter; /* NULL: "," */
    /* Where input columns are in a JSON record, as rcfd field paths (KDA's RecordColumns
     * Mapping "$.a.b" is "a.b"): n_paths pairs; other columns are the member of their name. */
    const char *const *path_names;
    const char *const *paths;
    size_t n_paths;
    /* Specs for named output streams (before output_spec): n_out pairs. */
    const char *const *out_names;
    const char *const *out_specs;
    size_t n_out;
    const char *input_name;        /* the input stream the application must read; NULL: any */
    const char *starting_position; /* kinesis sources: NULL: "LATEST" (KDA's NOW) */
    const char *kafka_bootstrap;   /* NULL: "${KAFKA_BOOTSTRAP}" */
    const char *region;            /* kinesis: NULL: the daemon's $AWS_REGION */
} kda_import_opts_t;

/* Imports sql[0..len). On success appends the config (JSON) to `config` and the report (text,
 * one line per construct) to `report`. Errors: RCFD_EMALFORMED with "LINE:COL: message (in
 * CONSTRUCT)" for the application, RCFD_EINVAL for bad options, RCFD_ENOMEM. */
int kda_import(const char *sql, size_t len, const kda_import_opts_t *opts, rcfd_buf_t *config,
               rcfd_buf_t *report, char *errstr, size_t errstr_size);

#endif
