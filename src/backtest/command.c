/* rcfd backtest: the command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backtest/backtest.h"
#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "backtest/report.h"
#include "stream/record.h"
#include "stream/runtime.h"
#include "config/schema.h"
#include "train/trainer.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rcfd backtest [options] FILE            one labelled file\n"
            "       rcfd backtest [options] --corpus DIR    a NAB tree: DIR/data/..., "
            "DIR/labels/combined_windows.json\n"
            "  --fields A,B        numeric fields of the point (default value)\n"
            "  --key F             one model per value of F\n"
            "  --timestamp F       event time field (default timestamp)\n"
            "  --label F           label field: non-zero marks an anomaly\n"
            "  --windows JSON --name NAME   NAB windows of file NAME instead of a label field\n"
            "  --model TYPE        rcf (default)\n"
            "  -p NAME=VALUE       model parameter; KDA and SageMaker names are accepted\n"
            "  --grade-cutoff G    flag records with grade >= G (default 0.5)\n"
            "  --nab-input novelty|score|likelihood|ratio|grade\n"
            "                      what the NAB threshold sweeps (default novelty: the\n"
            "                      anomaly_novelty the daemon outputs)\n"
            "  --format csv|json   default: from the file name\n"
            "  --html PATH         report (default backtest.html)\n"
            "  --json PATH         summary (default backtest.json)\n"
            "  --scores PATH       every record's value, score, grade, novelty and window (CSV)\n");
}

static cJSON *load_json(const char *path, char *errstr, size_t es)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        rcfd_errf(RCFD_ENOENT, errstr, es, "%s: cannot open", path);
        return NULL;
    }
    rcfd_buf_t b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (rcfd_buf_append(&b, chunk, n) != 0) {
            break;
        }
    }
    fclose(f);
    cJSON *j = b.p != NULL ? cJSON_ParseWithLength(b.p, b.len) : NULL;
    rcfd_buf_free(&b);
    if (j == NULL) {
        rcfd_errf(RCFD_EMALFORMED, errstr, es, "%s: not valid JSON", path);
    }
    return j;
}

/* [[start, end], ...] as microseconds. */
static int window_limits(const cJSON *arr, const char *name, int64_t **out, size_t *n,
                         char *errstr, size_t es)
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
            if (!cJSON_IsString(t) || rcfd_parse_iso8601_us(t->valuestring, &(*out)[2 * j + (size_t)k]) != 0) {
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

int rcfd_backtest_main(int argc, char **argv)
{
    rcfd_bt_opts_t o = {.model = "rcf",
                        .timestamp = "timestamp",
                        .format = -1,
                        .delim = ',',
                        .grade_cutoff = 0.5,
                        .nab_input = RCFD_BT_NAB_NOVELTY};
    const char *file = NULL, *corpus = NULL, *windows = NULL, *name = NULL;
    const char *html = "backtest.html", *json = "backtest.json", *fields = "value";
    const char *scores = NULL;
    const char *params[256];
    size_t n_params = 0;
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
        } else if (strcmp(a, "--grade-cutoff") == 0 && v) {
            o.grade_cutoff = atof(v);
        } else if (strcmp(a, "--nab-input") == 0 && v &&
                   (strcmp(v, "grade") == 0 || strcmp(v, "score") == 0 ||
                    strcmp(v, "ratio") == 0 || strcmp(v, "likelihood") == 0 ||
                    strcmp(v, "novelty") == 0)) {
            o.nab_input = strcmp(v, "score") == 0        ? RCFD_BT_NAB_SCORE
                          : strcmp(v, "novelty") == 0    ? RCFD_BT_NAB_NOVELTY
                          : strcmp(v, "likelihood") == 0 ? RCFD_BT_NAB_LIKELIHOOD
                          : strcmp(v, "ratio") == 0 ? RCFD_BT_NAB_RATIO
                                                    : RCFD_BT_NAB_GRADE;
        } else if (strcmp(a, "--format") == 0 && v &&
                   (strcmp(v, "csv") == 0 || strcmp(v, "json") == 0)) {
            o.format = strcmp(v, "csv") == 0 ? RCFD_FORMAT_CSV : RCFD_FORMAT_JSON;
        } else if (strcmp(a, "--html") == 0 && v) {
            html = v;
        } else if (strcmp(a, "--json") == 0 && v) {
            json = v;
        } else if (strcmp(a, "--scores") == 0 && v) {
            scores = v;
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
    if ((file == NULL) == (corpus == NULL) || (windows != NULL && name == NULL) ||
        (corpus == NULL && windows == NULL && o.label == NULL)) {
        fprintf(stderr, "rcfd backtest: give FILE with --label or --windows/--name, or "
                        "--corpus DIR\n");
        usage(stderr);
        return RCFD_EXIT_USAGE;
    }
    char err[1024];
    int rc = 0, code = RCFD_EXIT_OK;
    const rcfd_trainer_t *tr = rcfd_trainer_find(o.model);
    cJSON *pj = NULL;
    cJSON *wj = NULL;
    rcfd_bt_file_t *files = NULL;
    size_t nf = 0;
    char **names = NULL;
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
    if (windows != NULL && (wj = load_json(windows, err, sizeof err)) == NULL) {
        fprintf(stderr, "rcfd backtest: %s\n", err);
        code = RCFD_EXIT_DATAERR;
        goto out;
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
    for (size_t i = 0; i < want; i++) {
        char fpath[4096];
        if (corpus != NULL) {
            snprintf(fpath, sizeof fpath, "%s/data/%s", corpus, names[i]);
        } else {
            snprintf(fpath, sizeof fpath, "%s", file);
        }
        int64_t *limits = NULL;
        size_t nw = 0;
        if (wj != NULL) {
            rc = window_limits(cJSON_GetObjectItemCaseSensitive(wj, names[i]), names[i], &limits,
                               &nw, err, sizeof err);
        }
        rc = rc ? rc
                : rcfd_bt_run_file(&o, fpath, names[i], wj != NULL ? limits : NULL, nw,
                                   &files[nf], err, sizeof err);
        rcfd_free(limits);
        if (rc != 0) {
            fprintf(stderr, "rcfd backtest: %s\n", err);
            code = RCFD_EXIT_DATAERR;
            goto out;
        }
        nf++;
        fprintf(stderr, "rcfd backtest: %s: %zu records\n", names[i], files[nf - 1].n);
    }
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
    } else {
        printf("files %zu  windows %zu  precision %.4f  recall %.4f  F1 %.4f  accuracy %.4f\n",
               nf, s.labelled_windows, s.metrics.precision, s.metrics.recall, s.metrics.f1,
               s.metrics.accuracy);
        for (int p = 0; p < RCFD_NAB_N_PROFILES; p++) {
            printf("NAB %-19s %6.1f (threshold %.4g, %zu/%zu windows, %zu FP)   at grade >= %g: "
                   "%6.1f\n",
                   rcfd_nab_profiles[p].name, s.nab_norm[p], s.nab[p].threshold,
                   s.nab[p].windows_hit, s.nab[p].windows_total, s.nab[p].fp, o.grade_cutoff,
                   s.fixed_norm[p]);
        }
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
    rcfd_strlist_free(&o.fields);
    return code;
}
