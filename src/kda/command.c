/* rcfd kda import: reads a KDA SQL application, writes an rcfd config and a mapping report. */
#include "kda/command.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/errstr.h"
#include "kda/import.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "stream/runtime.h"

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: rcfd kda import APP.sql [options]\n"
        "       rcfd kda import --describe APP.json [APP.sql] [options]\n"
        "  Turns a Kinesis Data Analytics SQL application into an rcfd config (stdout or --out)\n"
        "  and prints what was mapped, assumed and not mapped (stderr or --report).\n"
        "  --describe FILE      the output of `aws kinesisanalytics describe-application`: the\n"
        "                       SQL (unless APP.sql is given), the input's columns, their JSON\n"
        "                       mappings and format, the Kinesis streams in and out, the\n"
        "                       starting position; options given as well take precedence\n"
        "  --out FILE           write the config here\n"
        "  --report FILE        write the report here (\"-\": stdout)\n"
        "  --source SPEC        the input: file:PATH (default file:-, stdin), kafka:TOPIC,\n"
        "                       kinesis:STREAM\n"
        "  --output SPEC        each stream nothing reads, {stream} for its name: file:PATH,\n"
        "                       kafka:TOPIC, kinesis:STREAM (default file:- for one output,\n"
        "                       else file:{stream}.jsonl)\n"
        "  --dead-letter SPEC   where records that cannot be scored go (default: counted)\n"
        "  --columns COLS       the input's columns as in CREATE STREAM, e.g.\n"
        "                       '\"heartRate\" INTEGER, \"rateType\" VARCHAR(20)' (KDA keeps them\n"
        "                       in the input schema, not in the SQL)\n"
        "  --format json|csv    the input's records (csv needs --columns; default json)\n"
        "  --kafka-bootstrap B  bootstrap.servers for kafka: specs (default ${KAFKA_BOOTSTRAP})\n"
        "  --region R           AWS region for kinesis: specs (default: $AWS_REGION when rcfd\n"
        "                       runs)\n");
}

static int write_file(const char *path, const rcfd_buf_t *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
    if (f == NULL) {
        return -errno;
    }
    int ok = fwrite(b->p, 1, b->len, f) == b->len;
    ok &= fflush(f) == 0;
    if (f != stdout) {
        ok &= fclose(f) == 0;
    }
    return ok ? 0 : RCFD_EIO;
}

/* What an application description (DescribeApplication's JSON) says beyond the SQL. */
typedef struct describe {
    char *code;
    rcfd_buf_t columns;
    rcfd_strlist_t names, paths; /* columns whose JSON path is not their name */
    rcfd_strlist_t out_names, out_specs;
    char *input_name, *source, *region, *start, *delimiter, *app;
    int csv;
    rcfd_buf_t notes;
} describe_t;

static void describe_free(describe_t *d)
{
    rcfd_free(d->code);
    rcfd_buf_free(&d->columns);
    rcfd_strlist_free(&d->names);
    rcfd_strlist_free(&d->paths);
    rcfd_strlist_free(&d->out_names);
    rcfd_strlist_free(&d->out_specs);
    rcfd_free(d->input_name);
    rcfd_free(d->source);
    rcfd_free(d->region);
    rcfd_free(d->start);
    rcfd_free(d->delimiter);
    rcfd_free(d->app);
    rcfd_buf_free(&d->notes);
}

static int list_add(rcfd_strlist_t *l, const char *v)
{
    char **n = rcfd_realloc(l->v, (l->n + 2) * sizeof *n);
    if (n == NULL) {
        return RCFD_ENOMEM;
    }
    l->v = n;
    if ((l->v[l->n] = rcfd_strdup(v)) == NULL) {
        return RCFD_ENOMEM;
    }
    l->v[++l->n] = NULL;
    return 0;
}

static const cJSON *jget(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = jget(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* KDA's JSONPath mapping ("$.a.b", "$.arr[0]", "$['a.b']") as an rcfd field path ("a.b",
 * "arr.0", "a\\.b"); NULL for what it cannot say (wildcards, filters). */
static char *jsonpath_to_field(const char *jp)
{
    if (jp == NULL || jp[0] != '$') {
        return NULL;
    }
    rcfd_buf_t b = {0};
    const char *p = jp + 1;
    int rc = 0;
    while (rc == 0 && *p) {
        if (b.len > 0) {
            rc = rcfd_buf_putc(&b, '.');
        }
        if (*p == '.') {
            p++;
            size_t n = strcspn(p, ".[");
            if (n == 0 || memchr(p, '*', n) != NULL) {
                rc = RCFD_EINVAL;
                break;
            }
            rc = rcfd_buf_append(&b, p, n);
            p += n;
        } else if (p[0] == '[' && p[1] == '\'') {
            const char *end = strstr(p + 2, "']");
            if (end == NULL) {
                rc = RCFD_EINVAL;
                break;
            }
            for (const char *q = p + 2; rc == 0 && q < end; q++) {
                rc = *q == '.' ? rcfd_buf_puts(&b, "\\.") : rcfd_buf_putc(&b, *q);
            }
            p = end + 2;
        } else if (*p == '[') {
            size_t n = strspn(p + 1, "0123456789");
            if (n == 0 || p[1 + n] != ']') {
                rc = RCFD_EINVAL;
                break;
            }
            rc = rcfd_buf_append(&b, p + 1, n);
            p += n + 2;
        } else {
            rc = RCFD_EINVAL;
        }
    }
    if (rc != 0 || b.len == 0) {
        rcfd_buf_free(&b);
        return NULL;
    }
    return b.p;
}

/* "arn:aws:kinesis:REGION:ACCOUNT:stream/NAME" -> region, name */
static int kinesis_arn(const char *arn, char *region, size_t rs, char *name, size_t ns)
{
    if (arn == NULL || strncmp(arn, "arn:", 4) != 0) {
        return -1;
    }
    const char *f[6];
    const char *p = arn;
    for (int i = 0; i < 6; i++) {
        f[i] = p;
        p = i < 5 ? strchr(p, ':') : p;
        if (p == NULL) {
            return -1;
        }
        p += i < 5;
    }
    if (strncmp(f[2], "kinesis:", 8) != 0 || strncmp(f[5], "stream/", 7) != 0) {
        return -1;
    }
    snprintf(region, rs, "%.*s", (int)(f[4] - f[3] - 1), f[3]);
    snprintf(name, ns, "%s", f[5] + 7);
    return 0;
}

static int load_describe(const char *path, describe_t *d, char *err, size_t es)
{
    rcfd_buf_t text = {0};
    char inner[512];
    if (rcfd_buf_read_file(&text, path, 16u << 20, inner, sizeof inner) != 0) {
        rcfd_buf_free(&text);
        return rcfd_errf(RCFD_EINVAL, err, es, "%s", inner);
    }
    cJSON *root = text.p ? cJSON_ParseWithLength(text.p, text.len) : NULL;
    rcfd_buf_free(&text);
    const cJSON *a = jget(root, "ApplicationDetail");
    if (a == NULL) {
        a = root;
    }
    int rc = 0;
    if (!cJSON_IsObject(a) ||
        (jget(a, "ApplicationCode") == NULL && jget(a, "InputDescriptions") == NULL)) {
        cJSON_Delete(root);
        return rcfd_errf(RCFD_EINVAL, err, es,
                         "%s: not the JSON of describe-application "
                         "(no ApplicationDetail)",
                         path);
    }
    const char *code = jstr(a, "ApplicationCode");
    const char *app = jstr(a, "ApplicationName");
    d->code = code ? rcfd_strdup(code) : NULL;
    d->app = app ? rcfd_strdup(app) : NULL;
    const cJSON *ins = jget(a, "InputDescriptions");
    if (cJSON_GetArraySize(ins) > 1) {
        rc = rcfd_errf(RCFD_EINVAL, err, es, "%s: %d inputs; rcfd imports one", path,
                       cJSON_GetArraySize(ins));
    }
    const cJSON *in = cJSON_GetArrayItem(ins, 0);
    if (rc == 0 && in != NULL) {
        const cJSON *names = jget(in, "InAppStreamNames");
        const char *prefix = jstr(in, "NamePrefix");
        char name[160] = "";
        if (cJSON_IsString(cJSON_GetArrayItem(names, 0))) {
            snprintf(name, sizeof name, "%s", cJSON_GetArrayItem(names, 0)->valuestring);
        } else if (prefix != NULL) {
            snprintf(name, sizeof name, "%s_001", prefix);
        }
        d->input_name = name[0] ? rcfd_strdup(name) : NULL;
        const cJSON *schema = jget(in, "InputSchema");
        const cJSON *fmt = jget(schema, "RecordFormat");
        const char *type = jstr(fmt, "RecordFormatType");
        const cJSON *mp = jget(fmt, "MappingParameters");
        d->csv = type != NULL && strcmp(type, "CSV") == 0;
        if (d->csv) {
            const char *delim = jstr(jget(mp, "CSVMappingParameters"), "RecordColumnDelimiter");
            d->delimiter = rcfd_strdup(delim ? delim : ",");
        } else {
            const char *row = jstr(jget(mp, "JSONMappingParameters"), "RecordRowPath");
            if (row != NULL && strcmp(row, "$") != 0) {
                rc = rcfd_errf(RCFD_EINVAL, err, es,
                               "%s: RecordRowPath \"%s\": rcfd reads one "
                               "record per message ($)",
                               path, row);
            }
        }
        const cJSON *col;
        cJSON_ArrayForEach(col, jget(schema, "RecordColumns"))
        {
            const char *cn = jstr(col, "Name"), *ct = jstr(col, "SqlType"),
                       *cm = jstr(col, "Mapping");
            if (rc != 0 || cn == NULL || ct == NULL) {
                continue;
            }
            rcfd_buf_t q = {0};
            for (const char *c = cn; *c; c++) {
                rcfd_buf_puts(&q, *c == '"' ? "\"\"" : (char[2]){*c, 0});
            }
            rc = rcfd_buf_printf(&d->columns, "%s\"%s\" %s", d->columns.len ? ", " : "",
                                 q.p ? q.p : "", ct);
            rcfd_buf_free(&q);
            if (rc == 0 && !d->csv && cm != NULL) {
                char *fp = jsonpath_to_field(cm);
                if (fp == NULL) {
                    rc = rcfd_errf(RCFD_EINVAL, err, es,
                                   "%s: column \"%s\": mapping %s is not a "
                                   "plain JSON path",
                                   path, cn, cm);
                } else if (strcmp(fp, cn) != 0) {
                    rc = list_add(&d->names, cn);
                    rc = rc ? rc : list_add(&d->paths, fp);
                }
                rcfd_free(fp);
            }
        }
        char region[64], sname[256];
        const char *arn = jstr(jget(in, "KinesisStreamsInputDescription"), "ResourceARN");
        if (rc == 0 && arn != NULL &&
            kinesis_arn(arn, region, sizeof region, sname, sizeof sname) == 0) {
            char spec[300];
            snprintf(spec, sizeof spec, "kinesis:%s", sname);
            d->source = rcfd_strdup(spec);
            d->region = rcfd_strdup(region);
        } else if (rc == 0 && jget(in, "KinesisFirehoseInputDescription") != NULL) {
            rcfd_buf_puts(&d->notes,
                          "  the input is a Firehose delivery stream, which rcfd does not "
                          "read: pass --source\n");
        }
        const char *start =
            jstr(jget(in, "InputStartingPositionConfiguration"), "InputStartingPosition");
        if (start != NULL && strcmp(start, "TRIM_HORIZON") == 0) {
            d->start = rcfd_strdup("TRIM_HORIZON");
        } else if (start != NULL && strcmp(start, "LAST_STOPPED_POINT") == 0) {
            rcfd_buf_puts(&d->notes,
                          "  InputStartingPosition LAST_STOPPED_POINT: rcfd resumes from its "
                          "own checkpoints; its first start reads from LATEST\n");
        }
    }
    const cJSON *o;
    cJSON_ArrayForEach(o, jget(a, "OutputDescriptions"))
    {
        const char *on = jstr(o, "Name");
        const char *arn = jstr(jget(o, "KinesisStreamsOutputDescription"), "ResourceARN");
        char region[64], sname[256];
        if (rc != 0 || on == NULL) {
            continue;
        }
        if (arn != NULL && kinesis_arn(arn, region, sizeof region, sname, sizeof sname) == 0) {
            char spec[300];
            snprintf(spec, sizeof spec, "kinesis:%s", sname);
            rc = list_add(&d->out_names, on);
            rc = rc ? rc : list_add(&d->out_specs, spec);
            if (rc == 0 && d->region == NULL) {
                d->region = rcfd_strdup(region);
            }
        } else {
            rcfd_buf_printf(&d->notes,
                            "  output %s goes to a %s, which rcfd does not write: it takes "
                            "--output\n",
                            on,
                            jget(o, "LambdaOutputDescription") ? "Lambda function"
                                                               : "Firehose delivery stream");
        }
        const char *df = jstr(jget(o, "DestinationSchema"), "RecordFormatType");
        if (df != NULL && strcmp(df, "CSV") == 0) {
            rcfd_buf_printf(&d->notes, "  output %s is CSV in KDA; rcfd writes JSON lines there\n",
                            on);
        }
    }
    cJSON_Delete(root);
    return rc;
}

/* "dir/my-app.sql" -> "my-app" */
static void app_name(const char *path, char *out, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = 0;
    for (const char *p = base; *p && *p != '.' && n + 1 < size; p++) {
        char ch = *p;
        out[n++] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                           (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'
                       ? ch
                       : '_';
    }
    out[n] = '\0';
    if (n == 0) {
        snprintf(out, size, "app");
    }
}

static int kda_import_main(int argc, char **argv)
{
    const char *sql_path = NULL, *out_path = NULL, *report_path = NULL, *describe_path = NULL;
    int format_given = 0;
    kda_import_opts_t o = {0};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--out") == 0) {
            slot = &out_path;
        } else if (strcmp(a, "--report") == 0) {
            slot = &report_path;
        } else if (strcmp(a, "--source") == 0) {
            slot = &o.source_spec;
        } else if (strcmp(a, "--output") == 0) {
            slot = &o.output_spec;
        } else if (strcmp(a, "--dead-letter") == 0) {
            slot = &o.dead_letter_spec;
        } else if (strcmp(a, "--columns") == 0) {
            slot = &o.columns;
        } else if (strcmp(a, "--kafka-bootstrap") == 0) {
            slot = &o.kafka_bootstrap;
        } else if (strcmp(a, "--region") == 0) {
            slot = &o.region;
        } else if (strcmp(a, "--describe") == 0) {
            slot = &describe_path;
        } else if (strcmp(a, "--format") == 0) {
            if (i + 1 >= argc ||
                (strcmp(argv[i + 1], "json") != 0 && strcmp(argv[i + 1], "csv") != 0)) {
                fprintf(stderr, "rcfd kda import: --format takes json or csv\n");
                return RCFD_EXIT_USAGE;
            }
            o.csv = strcmp(argv[++i], "csv") == 0;
            format_given = 1;
            continue;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return RCFD_EXIT_OK;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "rcfd kda import: unknown option '%s'\n", a);
            usage(stderr);
            return RCFD_EXIT_USAGE;
        } else if (sql_path == NULL) {
            sql_path = a;
            continue;
        } else {
            fprintf(stderr, "rcfd kda import: one application at a time ('%s' and '%s')\n",
                    sql_path, a);
            return RCFD_EXIT_USAGE;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "rcfd kda import: %s needs a value\n", a);
            return RCFD_EXIT_USAGE;
        }
        *slot = argv[++i];
    }
    describe_t d = {0};
    char err[1024];
    if (describe_path != NULL) {
        int drc = load_describe(describe_path, &d, err, sizeof err);
        if (drc != 0) {
            fprintf(stderr, "rcfd kda import: %s\n", drc == RCFD_ENOMEM ? "out of memory" : err);
            describe_free(&d);
            return drc == RCFD_ENOMEM ? RCFD_EXIT_SOFTWARE : RCFD_EXIT_DATAERR;
        }
        /* what the command line says wins */
        o.columns = o.columns ? o.columns : d.columns.len ? d.columns.p : NULL;
        if (!format_given) {
            o.csv = d.csv;
        }
        o.csv_delimiter = d.delimiter;
        o.path_names = (const char *const *)d.names.v;
        o.paths = (const char *const *)d.paths.v;
        o.n_paths = d.names.n;
        o.out_names = o.output_spec ? NULL : (const char *const *)d.out_names.v;
        o.out_specs = o.output_spec ? NULL : (const char *const *)d.out_specs.v;
        o.n_out = o.output_spec ? 0 : d.out_names.n;
        o.source_spec = o.source_spec ? o.source_spec : d.source;
        o.region = o.region ? o.region : d.region;
        o.starting_position = d.start;
        o.input_name = d.input_name;
    }
    if (sql_path == NULL && d.code == NULL) {
        usage(stderr);
        describe_free(&d);
        return RCFD_EXIT_USAGE;
    }
    const char *shown = sql_path != NULL ? sql_path : describe_path;
    char name[128];
    app_name(sql_path != NULL ? sql_path
             : d.app != NULL  ? d.app
                              : describe_path,
             name, sizeof name);
    o.app_name = name;
    rcfd_buf_t sql = {0}, config = {0}, report = {0};
    int rc = sql_path != NULL ? rcfd_buf_read_file(&sql, sql_path, 16u << 20, err, sizeof err)
                              : rcfd_buf_puts(&sql, d.code);
    if (rc != 0) {
        if (sql_path != NULL) {
            fprintf(stderr, "rcfd kda import: %s\n", err);
        } else {
            fprintf(stderr, "rcfd kda import: %s: %s\n", shown, rcfd_strerror(rc));
        }
        rcfd_buf_free(&sql);
        describe_free(&d);
        return RCFD_EXIT_CANTCREAT;
    }
    rc = kda_import(sql.p != NULL ? sql.p : "", sql.len, &o, &config, &report, err, sizeof err);
    rcfd_buf_free(&sql);
    int code = RCFD_EXIT_OK;
    if (rc != 0) {
        if (rc == RCFD_EINVAL) {
            fprintf(stderr, "rcfd kda import: %s\n", err);
            code = RCFD_EXIT_USAGE;
        } else {
            fprintf(stderr, "%s%s:%s\n", shown, sql_path ? "" : " (ApplicationCode)", err);
            code = rc == RCFD_ENOMEM ? RCFD_EXIT_SOFTWARE : RCFD_EXIT_DATAERR;
        }
    } else {
        if ((rc = write_file(out_path != NULL ? out_path : "-", &config)) != 0) {
            fprintf(stderr, "rcfd kda import: %s: %s\n", out_path ? out_path : "stdout",
                    rcfd_strerror(rc));
            code = RCFD_EXIT_CANTCREAT;
        } else {
            rcfd_buf_t head = {0};
            rcfd_buf_printf(&head, "rcfd kda import: %s -> %s: ", shown,
                            out_path != NULL ? out_path : "stdout");
            rcfd_buf_append(&head, report.p, report.len);
            if (d.notes.len > 0) {
                rcfd_buf_printf(&head, "from %s, not mapped:\n%.*s", describe_path,
                                (int)d.notes.len, d.notes.p);
            }
            FILE *rf = report_path == NULL ? stderr : strcmp(report_path, "-") == 0 ? stdout : NULL;
            if (rf != NULL) {
                fwrite(head.p, 1, head.len, rf);
            } else if ((rc = write_file(report_path, &head)) != 0) {
                fprintf(stderr, "rcfd kda import: %s: %s\n", report_path, rcfd_strerror(rc));
                code = RCFD_EXIT_CANTCREAT;
            }
            rcfd_buf_free(&head);
        }
    }
    rcfd_buf_free(&config);
    rcfd_buf_free(&report);
    describe_free(&d);
    return code;
}

int rcfd_kda_main(int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "import") == 0) {
        return kda_import_main(argc - 1, argv + 1);
    }
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        usage(stdout);
        return RCFD_EXIT_OK;
    }
    fprintf(stderr, "rcfd kda: expected a subcommand: import\n");
    usage(stderr);
    return RCFD_EXIT_USAGE;
}
