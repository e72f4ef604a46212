/* rcfd backtest: the command line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backtest/backtest.h"
#include "backtest/report.h"
#include "common/errstr.h"
#include "config/schema.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "stream/record.h"
#include "stream/runtime.h"
#include "train/input.h"
#include "train/progress.h"
#include "train/trainer.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rcfd backtest [options] FILE            one file, labelled or not\n"
            "       rcfd backtest [options] --corpus DIR    a NAB tree: DIR/data/..., "
            "DIR/labels/combined_windows.json\n"
            "  --fields A,B        numeric fields of the point (default value)\n"
            "  --key F             one model per value of F (charted per key)\n"
            "  --timestamp F       event time field (default timestamp; without it on every\n"
            "                      record the charts' x axis is the record number)\n"
            "  --label F           label field: non-zero marks an anomaly\n"
            "  --windows JSON      NAB windows (combined_windows.json) labelling FILE: its entry\n"
            "                      is the one whose name FILE's path ends with, or --name NAME\n"
            "  (no --label or --windows: the file is scored and charted, without metrics)\n"
            "  --model TYPE        rcf (default)\n"
            "  -p NAME=VALUE       model parameter; KDA and SageMaker names are accepted\n"
            "  --grade-cutoff G    flag records with grade >= G (default 0.5)\n"
            "  --nab-input novelty|score|likelihood|ratio|grade\n"
            "                      what the NAB threshold sweeps and the alerts are drawn on\n"
            "                      (default novelty: the anomaly_novelty the daemon outputs)\n"
            "  --alert-threshold T the report's alerts: input >= T (default: the NAB standard\n"
            "                      profile's best threshold; without labels novelty 1)\n"
            "  --format csv|json   default: from the file name\n"
            "  --html PATH         report (default backtest.html)\n"
            "  --json PATH         summary (default: the report's path with .json)\n"
            "  --scores PATH       every record's value, score, grade, novelty and window (CSV)\n"
            "  --plot-points N     chart buckets per key (default 2000; min and max kept)\n"
            "  --impute M          a missing or null field: dead_letter (default), zero, fixed,\n"
            "                      previous, linear or rcf (a pipeline's impute)\n"
            "  --impute-values A=1,B=2  impute fixed's values, every field\n"
            "  --impute-max-consecutive N, --impute-lookahead N  (defaults 10, 10)\n"
            "  --progress          a progress line on stderr even when it is not a terminal\n"
            "  --quiet             no progress line\n");
}

static cJSON *load_json(const char *path, char *errstr, size_t es)
{
    rcfd_buf_t b = {0};
    if (rcfd_buf_read_file(&b, path, 0, errstr, es) != 0) {
        rcfd_buf_free(&b);
        return NULL;
    }
    cJSON *j = b.p != NULL ? cJSON_ParseWithLength(b.p, b.len) : NULL;
    rcfd_buf_free(&b);
    if (j == NULL) {
        rcfd_errf(RCFD_EMALFORMED, errstr, es, "%s: not valid JSON", path);
    }
    return j;
}

/* [[start, end], ...] as microseconds. */
static int window_limits(const cJSON *arr, const char *name, int64_t **out, size_t *n, char *errstr,
                         size_t es)
{
    if (!cJSON_IsArray(arr)) {
        return rcfd_errf(RCFD_EINVAL, errstr, es, "windows of \"%s\": not found or not an array",
                         name);
    }
    *n = (size_t)cJSON_GetArraySize(arr);
    *out = rcfd_calloc(2 * *n + 1, sizeof **out);
    if (*out == NULL) {
        return RCFD_ENOMEM;
    }
    size_t j = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, arr)
    {
        for (int k = 0; k < 2; k++) {
            const cJSON *t = cJSON_GetArrayItem(w, k);
            if (!cJSON_IsString(t) ||
                rcfd_parse_iso8601_us(t->valuestring, &(*out)[2 * j + (size_t)k]) != 0) {
                return rcfd_errf(RCFD_EINVAL, errstr, es,
                                 "windows of \"%s\": window %zu is not [start, end] timestamps",
                                 name, j);
            }
        }
        j++;
    }
    return 0;
}

static int write_file(const char *path, const rcfd_buf_t *b)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        return RCFD_EIO;
    }
    size_t w = fwrite(b->p, 1, b->len, f);
    return (fclose(f) != 0 || w != b->len) ? RCFD_EIO : 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A finite number and nothing else; 1 on success. */
static int parse_number(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v)) {
        return 0;
    }
    *out = v;
    return 1;
}

/* The windows entry FILE's path ends with (".../data/realKnownCause/x.csv" ends with
 * "realKnownCause/x.csv"), so --name is only needed for a file stored under another name. */
static const char *match_windows(const cJSON *wj, const char *file)
{
    const char *best = NULL;
    size_t fl = strlen(file), bl = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, wj)
    {
        size_t n = strlen(e->string);
        if (n <= fl && strcmp(file + fl - n, e->string) == 0 &&
            (n == fl || file[fl - n - 1] == '/') && n > bl) {
            best = e->string;
            bl = n;
        }
    }
    return best;
}

/* Entries with the same last path component, for an error that says what would have matched. */
static void same_basename(const cJSON *wj, const char *name, char *out, size_t size)
{
    const char *base = strrchr(name, '/') != NULL ? strrchr(name, '/') + 1 : name;
    size_t off = 0;
    out[0] = '\0';
    const cJSON *e;
    cJSON_ArrayForEach(e, wj)
    {
        const char *eb = strrchr(e->string, '/') != NULL ? strrchr(e->string, '/') + 1 : e->string;
        if (strcmp(eb, base) == 0 && off + 4 < size) {
            int n = snprintf(out + off, size - off, "%s\"%s\"", off ? ", " : "", e->string);
            off += n > 0 ? (size_t)n : 0;
        }
    }
}

/* A shell word: quoted when it holds anything but [A-Za-z0-9._,/=:+-]. */
static int shell_word(rcfd_buf_t *b, const char *w)
{
    int plain = w[0] != '\0';
    for (const char *c = w; *c; c++) {
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._,/=:+-@%",
                    *c)) {
            plain = 0;
        }
    }
    if (plain) {
        return rcfd_buf_puts(b, w);
    }
    int rc = rcfd_buf_putc(b, '\'');
    for (const char *c = w; rc == 0 && *c; c++) {
        rc = *c == '\'' ? rcfd_buf_puts(b, "'\\''") : rcfd_buf_putc(b, *c);
    }
    return rc ? rc : rcfd_buf_putc(b, '\'');
}

static int opt_word(rcfd_buf_t *b, const char *opt, const char *v)
{
    int rc = rcfd_buf_printf(b, " %s ", opt);
    return rc ? rc : shell_word(b, v);
}

/* The command line that reruns this backtest with every effective model parameter spelled out
 * (defaults included, so a later release's defaults cannot change the result). */
static int reproduce_line(rcfd_buf_t *b, const rcfd_bt_opts_t *o, const cJSON *params,
                          const char *fields, const char *file, const char *corpus,
                          const char *windows, const char *name)
{
    int rc = rcfd_buf_puts(b, "rcfd backtest");
    rc = rc ? rc : opt_word(b, "--fields", fields);
    if (rc == 0 && o->key != NULL) {
        rc = opt_word(b, "--key", o->key);
    }
    rc = rc ? rc : opt_word(b, "--timestamp", o->timestamp);
    if (rc == 0 && o->label != NULL) {
        rc = opt_word(b, "--label", o->label);
    }
    if (rc == 0 && windows != NULL && corpus == NULL) {
        rc = opt_word(b, "--windows", windows);
        rc = rc ? rc : opt_word(b, "--name", name);
    }
    if (rc == 0 && o->impute != NULL) {
        rc = opt_word(b, "--impute", o->impute);
    }
    if (rc == 0 && o->impute_values != NULL) {
        rc = opt_word(b, "--impute-values", o->impute_values);
    }
    if (rc == 0 && o->impute_max_consecutive > 0) {
        rc = rcfd_buf_printf(b, " --impute-max-consecutive %lld", o->impute_max_consecutive);
    }
    if (rc == 0 && o->impute_lookahead > 0) {
        rc = rcfd_buf_printf(b, " --impute-lookahead %lld", o->impute_lookahead);
    }
    rc = rc ? rc : opt_word(b, "--model", o->model);
    const cJSON *p;
    cJSON_ArrayForEach(p, params)
    {
        if (rc != 0 || strcmp(p->string, "type") == 0) {
            continue;
        }
        char *v = cJSON_IsString(p) ? NULL : cJSON_PrintUnformatted(p);
        rcfd_buf_t kv = {0};
        rc = rcfd_buf_printf(&kv, "%s=%s", p->string, v != NULL ? v : p->valuestring);
        rc = rc ? rc : opt_word(b, "-p", kv.p);
        rcfd_buf_free(&kv);
        cJSON_free(v);
    }
    char g[64];
    snprintf(g, sizeof g, "%.17g", o->grade_cutoff);
    rc = rc ? rc : opt_word(b, "--grade-cutoff", g);
    rc = rc ? rc : opt_word(b, "--nab-input", rcfd_bt_input_name(o->nab_input));
    if (rc == 0 && !isnan(o->alert_threshold)) {
        snprintf(g, sizeof g, "%.17g", o->alert_threshold);
        rc = opt_word(b, "--alert-threshold", g);
    }
    if (rc == 0 && o->format >= 0) {
        rc = opt_word(b, "--format", o->format == RCFD_FORMAT_CSV ? "csv" : "json");
    }
    if (rc == 0 && corpus != NULL) {
        rc = opt_word(b, "--corpus", corpus);
    } else if (rc == 0) {
        rc = rcfd_buf_putc(b, ' ');
        rc = rc ? rc : shell_word(b, file);
    }
    return rc;
}

int rcfd_backtest_main(int argc, char **argv)
{
    rcfd_bt_opts_t o = {.model = "rcf",
                        .timestamp = "timestamp",
                        .format = -1,
                        .delim = ',',
                        .grade_cutoff = 0.5,
                        .nab_input = RCFD_BT_NAB_NOVELTY,
                        .alert_threshold = NAN,
                        .plot_points = 2000};
    const char *file = NULL, *corpus = NULL, *windows = NULL, *name = NULL;
    const char *html = "backtest.html", *json = NULL, *fields = "value";
    const char *scores = NULL;
    const char *params[256];
    size_t n_params = 0;
    int quiet = 0, force_progress = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(a, "--fields") == 0 && v) {
            fields = v;
        } else if (strcmp(a, "--key") == 0 && v) {
            o.key = v;
        } else if (strcmp(a, "--timestamp") == 0 && v) {
            o.timestamp = v;
        } else if (strcmp(a, "--label") == 0 && v) {
            o.label = v;
        } else if (strcmp(a, "--windows") == 0 && v) {
            windows = v;
        } else if (strcmp(a, "--name") == 0 && v) {
            name = v;
        } else if (strcmp(a, "--corpus") == 0 && v) {
            corpus = v;
        } else if (strcmp(a, "--model") == 0 && v) {
            o.model = v;
        } else if (strcmp(a, "-p") == 0 && v && n_params < 256) {
            params[n_params++] = v;
        } else if (strcmp(a, "--grade-cutoff") == 0 && v && parse_number(v, &o.grade_cutoff)) {
            /* parsed */
        } else if (strcmp(a, "--alert-threshold") == 0 && v &&
                   parse_number(v, &o.alert_threshold)) {
            /* parsed */
        } else if (strcmp(a, "--plot-points") == 0 && v && atoi(v) >= 10 && atoi(v) <= 1000000) {
            o.plot_points = (size_t)atoi(v);
        } else if (strcmp(a, "--nab-input") == 0 && v &&
                   (strcmp(v, "grade") == 0 || strcmp(v, "score") == 0 || strcmp(v, "ratio") == 0 ||
                    strcmp(v, "likelihood") == 0 || strcmp(v, "novelty") == 0)) {
            o.nab_input = strcmp(v, "score") == 0        ? RCFD_BT_NAB_SCORE
                          : strcmp(v, "novelty") == 0    ? RCFD_BT_NAB_NOVELTY
                          : strcmp(v, "likelihood") == 0 ? RCFD_BT_NAB_LIKELIHOOD
                          : strcmp(v, "ratio") == 0      ? RCFD_BT_NAB_RATIO
                                                         : RCFD_BT_NAB_GRADE;
        } else if (strcmp(a, "--format") == 0 && v &&
                   (strcmp(v, "csv") == 0 || strcmp(v, "json") == 0)) {
            o.format = strcmp(v, "csv") == 0 ? RCFD_FORMAT_CSV : RCFD_FORMAT_JSON;
        } else if (strcmp(a, "--html") == 0 && v) {
            html = v;
        } else if (strcmp(a, "--json") == 0 && v) {
            json = v;
        } else if (strcmp(a, "--impute") == 0 && v) {
            o.impute = v;
        } else if (strcmp(a, "--impute-values") == 0 && v) {
            o.impute_values = v;
        } else if (strcmp(a, "--impute-max-consecutive") == 0 && v && atoll(v) >= 1) {
            o.impute_max_consecutive = atoll(v);
        } else if (strcmp(a, "--impute-lookahead") == 0 && v && atoll(v) >= 1) {
            o.impute_lookahead = atoll(v);
        } else if (strcmp(a, "--scores") == 0 && v) {
            scores = v;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            quiet = 1;
            takes = 0;
        } else if (strcmp(a, "--progress") == 0) {
            force_progress = 1;
            takes = 0;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return RCFD_EXIT_OK;
        } else if (a[0] != '-' && file == NULL) {
            file = a;
            takes = 0;
        } else {
            fprintf(stderr, "rcfd backtest: bad or incomplete argument '%s'\n", a);
            usage(stderr);
            return RCFD_EXIT_USAGE;
        }
        i += takes;
    }
    /* The summary goes beside the report unless told otherwise: X.html -> X.json. */
    char json_buf[4096];
    if (json == NULL) {
        size_t hl = strlen(html);
        if (hl > 5 && strcmp(html + hl - 5, ".html") == 0 && hl < sizeof json_buf) {
            snprintf(json_buf, sizeof json_buf, "%.*s.json", (int)(hl - 5), html);
        } else {
            snprintf(json_buf, sizeof json_buf, "%s.json", html);
        }
        json = json_buf;
    }
    if ((file == NULL) == (corpus == NULL)) {
        fprintf(stderr, "rcfd backtest: give one FILE, or --corpus DIR\n");
        usage(stderr);
        return RCFD_EXIT_USAGE;
    }
    if (name != NULL && windows == NULL) {
        fprintf(stderr, "rcfd backtest: --name names FILE's entry in the --windows file; give "
                        "--windows too\n");
        return RCFD_EXIT_USAGE;
    }
    if (o.label != NULL && (windows != NULL || corpus != NULL)) {
        fprintf(stderr, "rcfd backtest: label with --label or with windows (--windows, "
                        "--corpus), not both\n");
        return RCFD_EXIT_USAGE;
    }
    o.labelled = o.label != NULL || windows != NULL || corpus != NULL;
    const char *full_argv[600]; /* for the report: the command as given */
    full_argv[0] = "rcfd";
    full_argv[1] = "backtest";
    for (int i = 0; i < argc && i < 590; i++) {
        full_argv[i + 2] = argv[i];
    }
    o.argc = argc < 590 ? argc + 2 : 592;
    o.argv = full_argv;
    char err[1024];
    int rc = 0, code = RCFD_EXIT_OK;
    const rcfd_trainer_t *tr = rcfd_trainer_find(o.model);
    cJSON *pj = NULL;
    cJSON *wj = NULL;
    cJSON *eff = NULL;
    rcfd_bt_file_t *files = NULL;
    size_t nf = 0;
    char **names = NULL;
    rcfd_buf_t repro = {0};
    rcfd_progress_t progress;
    rcfd_progress_init(&progress, rcfd_progress_mode(quiet, force_progress), "rcfd backtest", 0);
    if (tr == NULL) {
        fprintf(stderr, "rcfd backtest: unknown model type \"%s\"\n", o.model);
        code = RCFD_EXIT_USAGE;
        goto out;
    }
    if (rcfd_strlist_split(fields, ',', &o.fields) != 0) {
        code = RCFD_EXIT_SOFTWARE;
        goto out;
    }
    void *obj = NULL;
    rc = rcfd_trainer_params_from_args(tr, params, n_params, o.fields.n, &obj, err, sizeof err);
    pj = obj;
    if (rc != 0) {
        fprintf(stderr, "rcfd backtest: %s\n", err);
        code = RCFD_EXIT_USAGE;
        goto out;
    }
    o.params = pj;
    char path[4096];
    if (corpus != NULL) {
        snprintf(path, sizeof path, "%s/labels/combined_windows.json", corpus);
        windows = path;
    }
    o.windows = windows;
    if (windows != NULL && (wj = load_json(windows, err, sizeof err)) == NULL) {
        fprintf(stderr, "rcfd backtest: %s\n", err);
        code = RCFD_EXIT_DATAERR;
        goto out;
    }
    if (windows != NULL && !cJSON_IsObject(wj)) {
        fprintf(stderr, "rcfd backtest: %s: expected an object of file name -> windows\n", windows);
        code = RCFD_EXIT_DATAERR;
        goto out;
    }
    if (file != NULL && wj != NULL) {
        const char *want = name != NULL ? name : match_windows(wj, file);
        if (want == NULL || cJSON_GetObjectItemCaseSensitive(wj, want) == NULL) {
            char alt[1024];
            same_basename(wj, want != NULL ? want : file, alt, sizeof alt);
            const cJSON *first = wj->child;
            if (want != NULL) {
                fprintf(stderr, "rcfd backtest: %s has no entry \"%s\"", windows, want);
            } else {
                fprintf(stderr, "rcfd backtest: no entry of %s is the end of the path %s", windows,
                        file);
            }
            if (alt[0] != '\0') {
                fprintf(stderr,
                        ": its entries are paths inside the corpus; did you mean --name "
                        "%s?\n",
                        alt);
            } else {
                fprintf(stderr,
                        ": its entries are paths inside the corpus (%s%s%s); name FILE's "
                        "with --name\n",
                        first != NULL ? "\"" : "", first != NULL ? first->string : "it is empty",
                        first != NULL ? "\"" : "");
            }
            code = RCFD_EXIT_USAGE;
            goto out;
        }
        name = want;
    }
    size_t want = corpus != NULL ? (size_t)cJSON_GetArraySize(wj) : 1;
    names = rcfd_calloc(want + 1, sizeof *names);
    files = rcfd_calloc(want + 1, sizeof *files);
    if (names == NULL || files == NULL) {
        code = RCFD_EXIT_SOFTWARE;
        goto out;
    }
    if (corpus != NULL) {
        size_t k = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, wj)
        {
            names[k++] = e->string;
        }
        qsort(names, k, sizeof *names, by_name);
    } else {
        names[0] = (char *)(name != NULL ? name : file);
    }
    /* The daemon config the files run with, for the report (and an early config error). */
    {
        char first[4096];
        if (corpus != NULL) {
            snprintf(first, sizeof first, "%s/data/%s", corpus, want > 0 ? names[0] : "");
        } else {
            snprintf(first, sizeof first, "%s", file);
        }
        if ((eff = rcfd_bt_effective_config(&o, first, err, sizeof err)) == NULL) {
            fprintf(stderr, "rcfd backtest: %s\n", err);
            code = RCFD_EXIT_USAGE;
            goto out;
        }
        o.effective = eff;
        const cJSON *m = cJSON_GetArrayItem(
            cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(eff, "pipelines"), 0),
                                "models"),
            0);
        if (reproduce_line(&repro, &o, m, fields, file, corpus, windows, name) != 0) {
            code = RCFD_EXIT_SOFTWARE;
            goto out;
        }
        o.reproduce = repro.p;
    }
    uint64_t total = 0;
    for (size_t i = 0; progress.mode != RCFD_PROGRESS_OFF && i < want; i++) {
        char fpath[4096];
        snprintf(fpath, sizeof fpath, "%s%s%s", corpus != NULL ? corpus : "",
                 corpus != NULL ? "/data/" : "", corpus != NULL ? names[i] : file);
        int fmt = o.format >= 0 ? o.format : rcfd_input_guess_format(fpath);
        total += rcfd_progress_count_records(fpath, fmt == RCFD_FORMAT_CSV);
    }
    progress.total = total;
    o.progress = &progress;
    for (size_t i = 0; i < want; i++) {
        char fpath[4096];
        if (corpus != NULL) {
            snprintf(fpath, sizeof fpath, "%s/data/%s", corpus, names[i]);
        } else {
            snprintf(fpath, sizeof fpath, "%s", file);
        }
        if (want > 1) {
            char note[160];
            snprintf(note, sizeof note, "file %zu/%zu %s", i + 1, want, names[i]);
            rcfd_progress_note(&progress, note);
        }
        int64_t *limits = NULL;
        size_t nw = 0;
        if (wj != NULL) {
            rc = window_limits(cJSON_GetObjectItemCaseSensitive(wj, names[i]), names[i], &limits,
                               &nw, err, sizeof err);
        }
        rc = rc ? rc
                : rcfd_bt_run_file(&o, fpath, names[i], wj != NULL ? limits : NULL, nw, &files[nf],
                                   err, sizeof err);
        rcfd_free(limits);
        if (rc != 0) {
            rcfd_progress_finish(&progress);
            fprintf(stderr, "rcfd backtest: %s\n", err);
            code = RCFD_EXIT_DATAERR;
            goto out;
        }
        nf++;
        if (want > 1 && !quiet && progress.mode != RCFD_PROGRESS_TTY) {
            fprintf(stderr, "rcfd backtest: %s: %zu records\n", names[i], files[nf - 1].n);
        }
    }
    rcfd_progress_finish(&progress);
    rcfd_bt_summary_t s;
    rcfd_buf_t hb = {0}, jb = {0}, sb = {0};
    rc = rcfd_bt_summarize(&o, files, nf, &s);
    rc = rc ? rc : rcfd_report_html(&o, files, nf, &s, &hb);
    rc = rc ? rc : rcfd_report_json(&o, files, nf, &s, &jb);
    rc = rc || scores == NULL ? rc : rcfd_report_scores_csv(files, nf, &sb);
    if (rc == 0 && (write_file(html, &hb) != 0 || write_file(json, &jb) != 0)) {
        fprintf(stderr, "rcfd backtest: cannot write %s or %s\n", html, json);
        code = RCFD_EXIT_CANTCREAT;
    } else if (rc == 0 && scores != NULL && write_file(scores, &sb) != 0) {
        fprintf(stderr, "rcfd backtest: cannot write %s\n", scores);
        code = RCFD_EXIT_CANTCREAT;
    } else if (rc != 0) {
        code = RCFD_EXIT_SOFTWARE;
    } else if (o.labelled) {
        printf("files %zu  records %zu  windows %zu  precision %.4f  recall %.4f  F1 %.4f  "
               "accuracy %.4f\n",
               nf, s.records, s.labelled_windows, s.metrics.precision, s.metrics.recall,
               s.metrics.f1, s.metrics.accuracy);
        for (int p = 0; p < RCFD_NAB_N_PROFILES; p++) {
            printf("NAB %-19s %6.1f (threshold %.4g, %zu/%zu windows, %zu FP)   at the shipped rule (alert flag; grade >= %g without one): "
                   "%6.1f\n",
                   rcfd_nab_profiles[p].name, s.nab_norm[p], s.nab[p].threshold,
                   s.nab[p].windows_hit, s.nab[p].windows_total, s.nab[p].fp, o.grade_cutoff,
                   s.fixed_norm[p]);
        }
        printf("report %s, summary %s\n", html, json);
    } else {
        printf("files %zu  records %zu  (no labels: scores only)  %zu alerts at %s >= %g\n"
               "report %s, summary %s\n",
               nf, s.records, s.alerts, rcfd_bt_input_label(o.nab_input), s.alert_threshold, html,
               json);
    }
    rcfd_buf_free(&hb);
    rcfd_buf_free(&jb);
    rcfd_buf_free(&sb);
out:
    for (size_t i = 0; i < nf; i++) {
        rcfd_bt_file_free(&files[i]);
    }
    rcfd_free(files);
    rcfd_free(names);
    cJSON_Delete(wj);
    cJSON_Delete(pj);
    cJSON_Delete(eff);
    rcfd_buf_free(&repro);
    rcfd_strlist_free(&o.fields);
    return code;
}
