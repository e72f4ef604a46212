/* rcfd kda import: reads a KDA SQL application, writes an rcfd config and a mapping report. */
#include "kda/command.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "kda/import.h"
#include "rcfd/status.h"
#include "stream/runtime.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rcfd kda import APP.sql [options]\n"
            "  Turns a Kinesis Data Analytics SQL application into an rcfd config (stdout or --out)\n"
            "  and prints what was mapped, assumed and not mapped (stderr or --report).\n"
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

static int read_file(const char *path, rcfd_buf_t *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        return -errno;
    }
    char chunk[8192];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b->len + n > (16u << 20)) {
            rc = RCFD_ERANGE;
            break;
        }
        if (rcfd_buf_append(b, chunk, n) != 0) {
            rc = RCFD_ENOMEM;
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        rc = RCFD_EIO;
    }
    if (f != stdin) {
        fclose(f);
    }
    return rc;
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

/* "dir/my-app.sql" -> "my-app" */
static void app_name(const char *path, char *out, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = 0;
    for (const char *p = base; *p && *p != '.' && n + 1 < size; p++) {
        char ch = *p;
        out[n++] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                           ch == '-' || ch == '_'
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
    const char *sql_path = NULL, *out_path = NULL, *report_path = NULL;
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
        } else if (strcmp(a, "--format") == 0) {
            if (i + 1 >= argc || (strcmp(argv[i + 1], "json") != 0 && strcmp(argv[i + 1], "csv") != 0)) {
                fprintf(stderr, "rcfd kda import: --format takes json or csv\n");
                return RCFD_EXIT_USAGE;
            }
            o.csv = strcmp(argv[++i], "csv") == 0;
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
    if (sql_path == NULL) {
        usage(stderr);
        return RCFD_EXIT_USAGE;
    }
    char name[128];
    app_name(sql_path, name, sizeof name);
    o.app_name = name;
    rcfd_buf_t sql = {0}, config = {0}, report = {0};
    int rc = read_file(sql_path, &sql);
    if (rc != 0) {
        fprintf(stderr, "rcfd kda import: %s: %s\n", sql_path,
                rc == RCFD_ERANGE ? "larger than 16 MiB" : rcfd_strerror(rc));
        rcfd_buf_free(&sql);
        return RCFD_EXIT_CANTCREAT;
    }
    char err[1024];
    rc = kda_import(sql.p != NULL ? sql.p : "", sql.len, &o, &config, &report, err, sizeof err);
    rcfd_buf_free(&sql);
    int code = RCFD_EXIT_OK;
    if (rc != 0) {
        if (rc == RCFD_EINVAL) {
            fprintf(stderr, "rcfd kda import: %s\n", err);
            code = RCFD_EXIT_USAGE;
        } else {
            fprintf(stderr, "%s:%s\n", sql_path, err);
            code = rc == RCFD_ENOMEM ? RCFD_EXIT_SOFTWARE : RCFD_EXIT_DATAERR;
        }
    } else {
        if ((rc = write_file(out_path != NULL ? out_path : "-", &config)) != 0) {
            fprintf(stderr, "rcfd kda import: %s: %s\n", out_path ? out_path : "stdout",
                    rcfd_strerror(rc));
            code = RCFD_EXIT_CANTCREAT;
        } else {
            rcfd_buf_t head = {0};
            rcfd_buf_printf(&head, "rcfd kda import: %s -> %s: ", sql_path,
                            out_path != NULL ? out_path : "stdout");
            rcfd_buf_append(&head, report.p, report.len);
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
