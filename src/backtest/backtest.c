#include "backtest/backtest.h"
#include "score/likelihood.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/errstr.h"
#include "common/keytab.h"
#include "config/schema.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "stream/runtime.h"
#include "train/input.h"
#include "train/linear.h"
#include "models/impute.h"
#include "train/progress.h"
#include "train/trainer.h"

/* ---- scoring through the runtime ---- */

#define NO_KEY UINT32_MAX /* a dead-lettered record: the pipeline did not say its key */
#define MAX_KEYS (1u << 22)

typedef struct collect {
    const rcfd_trainer_t *trainer;
    rcfd_bt_file_t *f;
    rcfd_keytab_t *keys; /* key -> index + 1 */
    size_t cap, key_cap;
    int oom;
    size_t scored;
    rcfd_linear_plan_t plan; /* impute "linear" */
    char first_dead[256]; /* why the first dead-lettered record was */
    rcfd_progress_t *progress;
} collect_t;

static void key_noop(void *value, void *ud)
{
    (void)value;
    (void)ud;
}

static int grow(collect_t *c)
{
    if (c->f->n < c->cap) {
        return 0;
    }
    size_t cap = c->cap ? 2 * c->cap : 4096;
    double **arrs[5] = {&c->f->score, &c->f->grade, &c->f->threshold, &c->f->novelty,
                        &c->f->decision};
    for (int i = 0; i < 5; i++) {
        double *p = rcfd_realloc(*arrs[i], cap * sizeof *p);
        if (p == NULL) {
            return RCFD_ENOMEM;
        }
        *arrs[i] = p;
    }
    double *v = rcfd_realloc(c->f->vals, cap * c->f->n_fields * sizeof *v);
    if (v == NULL) {
        return RCFD_ENOMEM;
    }
    c->f->vals = v;
    uint32_t *k = rcfd_realloc(c->f->key, cap * sizeof *k);
    if (k == NULL) {
        return RCFD_ENOMEM;
    }
    c->f->key = k;
    c->cap = cap;
    return 0;
}

static uint32_t key_index(collect_t *c, const char *key, size_t len)
{
    uintptr_t idx = (uintptr_t)rcfd_keytab_get(c->keys, key, len);
    if (idx != 0) {
        return (uint32_t)(idx - 1);
    }
    rcfd_bt_file_t *f = c->f;
    if (f->n_keys == c->key_cap) {
        size_t cap = c->key_cap ? 2 * c->key_cap : 16;
        char **k = rcfd_realloc(f->keys, cap * sizeof *k);
        if (k == NULL) {
            return NO_KEY;
        }
        f->keys = k;
        c->key_cap = cap;
    }
    char *copy = rcfd_strndup(key, len);
    if (copy == NULL || f->n_keys >= MAX_KEYS ||
        rcfd_keytab_put(c->keys, key, len, (void *)(uintptr_t)(f->n_keys + 1)) != 0) {
        rcfd_free(copy);
        return NO_KEY;
    }
    f->keys[f->n_keys] = copy;
    return (uint32_t)f->n_keys++;
}

static void push(collect_t *c, const char *key, size_t key_len, const double *values, double score,
                 double grade, double threshold, double novelty, double decision)
{
    if (c->oom || grow(c) != 0) {
        c->oom = 1;
        return;
    }
    rcfd_bt_file_t *f = c->f;
    size_t i = f->n;
    uint32_t k = NO_KEY;
    if (key != NULL && (k = key_index(c, key, key_len)) == NO_KEY) {
        c->oom = 1;
        return;
    }
    f->n++;
    for (size_t j = 0; j < f->n_fields; j++) {
        f->vals[i * f->n_fields + j] = values != NULL ? values[j] : NAN;
    }
    f->key[i] = k;
    f->score[i] = score;
    f->grade[i] = grade;
    f->threshold[i] = threshold;
    f->novelty[i] = novelty;
    f->decision[i] = decision;
    if (c->progress != NULL) {
        rcfd_progress_add(c->progress, 1);
    }
}

static int linear_ahead(void *ud, const rcfd_pipeline_conf_t *p, uint64_t line, double *values,
                        const unsigned char *missing, size_t n)
{
    (void)p;
    return rcfd_linear_plan_fill(&((collect_t *)ud)->plan, line, values, missing, n);
}

static void on_scored(void *ud, const rcfd_pipeline_conf_t *p, const char *key, size_t key_len,
                      const double *values, const rcfd_model_type_t *const *types,
                      const void *const *results, size_t n_models)
{
    (void)p;
    collect_t *c = ud;
    double s = NAN, g = NAN, t = NAN, nv = NAN, dec = NAN;
    if (n_models > 0) {
        c->trainer->figures(results[0], &s, &g, &t, &nv);
        dec = types[0]->alert != NULL ? (double)types[0]->alert(results[0]) : g;
    }
    c->scored++;
    push(c, key != NULL ? key : "", key != NULL ? key_len : 0, values, s, g, t, nv, dec);
}

static void on_dead(void *ud, const rcfd_pipeline_conf_t *p, const char *reason)
{
    (void)p;
    collect_t *c = ud;
    if (c->first_dead[0] == '\0') {
        snprintf(c->first_dead, sizeof c->first_dead, "%s", reason != NULL ? reason : "?");
    }
    push(c, NULL, 0, NULL, NAN, NAN, NAN, NAN, NAN);
}

static int count_row(void *ud, const rcfd_input_row_t *row)
{
    (void)ud;
    (void)row;
    return 0;
}

/* The daemon config a backtest runs: the file as a file source, one pipeline, output discarded. */
static cJSON *bt_config(const rcfd_bt_opts_t *o, const char *path, int format)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *log = cJSON_AddObjectToObject(root, "log");
    cJSON_AddStringToObject(log, "level", "warn");
    cJSON *src = cJSON_CreateObject();
    cJSON_AddStringToObject(src, "name", "in");
    cJSON_AddStringToObject(src, "type", "file");
    cJSON_AddStringToObject(src, "path", path);
    cJSON_AddStringToObject(src, "format", format == RCFD_FORMAT_CSV ? "csv" : "json");
    char d[2] = {o->delim, '\0'};
    cJSON_AddStringToObject(src, "csv_delimiter", d);
    cJSON_AddItemToObject(root, "sources", cJSON_CreateArray());
    cJSON_AddItemToArray(cJSON_GetObjectItem(root, "sources"), src);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "name", "discard");
    cJSON_AddStringToObject(out, "type", "file");
    cJSON_AddStringToObject(out, "path", "/dev/null");
    cJSON_AddItemToObject(root, "outputs", cJSON_CreateArray());
    cJSON_AddItemToArray(cJSON_GetObjectItem(root, "outputs"), out);
    cJSON *pl = cJSON_CreateObject();
    cJSON_AddStringToObject(pl, "name", "backtest");
    cJSON_AddStringToObject(pl, "source", "in");
    cJSON *fields = cJSON_AddArrayToObject(pl, "fields");
    for (size_t i = 0; i < o->fields.n; i++) {
        cJSON_AddItemToArray(fields, cJSON_CreateString(o->fields.v[i]));
    }
    if (o->key != NULL && o->key[0] != '\0') {
        cJSON_AddStringToObject(pl, "key", o->key);
    }
    cJSON *m = cJSON_Duplicate(o->params, 1);
    cJSON_AddStringToObject(m, "type", o->model);
    cJSON *models = cJSON_AddArrayToObject(pl, "models");
    cJSON_AddItemToArray(models, m);
    if (o->impute != NULL) {
        cJSON_AddStringToObject(pl, "impute", o->impute);
    }
    if (o->impute_values != NULL) { /* "A=1,B=2": the config checks the fields and numbers */
        cJSON *iv = cJSON_AddObjectToObject(pl, "impute_values");
        rcfd_strlist_t kv = {0};
        if (rcfd_strlist_split(o->impute_values, ',', &kv) == 0) {
            for (size_t i = 0; i < kv.n; i++) {
                char *eq = strchr(kv.v[i], '=');
                char *end = NULL;
                double v = eq != NULL ? strtod(eq + 1, &end) : NAN;
                if (eq != NULL) {
                    *eq = '\0';
                }
                if (eq != NULL && end != eq + 1 && *end == '\0') {
                    cJSON_AddNumberToObject(iv, kv.v[i], v);
                } else {
                    cJSON_AddStringToObject(iv, kv.v[i], eq != NULL ? eq + 1 : "");
                }
            }
        }
        rcfd_strlist_free(&kv);
    }
    if (o->impute_max_consecutive > 0) {
        cJSON_AddNumberToObject(pl, "impute_max_consecutive", (double)o->impute_max_consecutive);
    }
    if (o->impute_lookahead > 0) {
        cJSON_AddNumberToObject(pl, "impute_lookahead", (double)o->impute_lookahead);
    }
    cJSON *outs = cJSON_AddArrayToObject(pl, "outputs");
    cJSON_AddItemToArray(outs, cJSON_CreateString("discard"));
    cJSON_AddItemToObject(root, "pipelines", cJSON_CreateArray());
    cJSON_AddItemToArray(cJSON_GetObjectItem(root, "pipelines"), pl);
    return root;
}

typedef struct side {
    rcfd_bt_file_t *f;
    size_t n;
} side_t;

static int on_row(void *ud, const rcfd_input_row_t *row)
{
    side_t *s = ud;
    if (row->index >= s->f->n) {
        return RCFD_ERANGE;
    }
    s->f->label[row->index] = (unsigned char)row->label;
    s->f->ts[row->index] = row->has_ts ? row->ts_us : (int64_t)row->index;
    s->f->has_ts &= row->has_ts;
    s->n++;
    return 0;
}

void rcfd_bt_file_free(rcfd_bt_file_t *f)
{
    rcfd_free(f->name);
    rcfd_free(f->ts);
    rcfd_free(f->vals);
    rcfd_free(f->input);
    rcfd_free(f->key);
    for (size_t i = 0; i < f->n_keys; i++) {
        rcfd_free(f->keys[i]);
    }
    rcfd_free(f->keys);
    rcfd_free(f->score);
    rcfd_free(f->grade);
    rcfd_free(f->threshold);
    rcfd_free(f->novelty);
    rcfd_free(f->decision);
    rcfd_free(f->label);
    rcfd_free(f->windows);
    memset(f, 0, sizeof *f);
}

int rcfd_bt_run_file(const rcfd_bt_opts_t *o, const char *path, const char *name,
                     const int64_t *limits, size_t n_win, rcfd_bt_file_t *f, char *errstr,
                     size_t es)
{
    memset(f, 0, sizeof *f);
    const rcfd_trainer_t *tr = rcfd_trainer_find(o->model);
    if (tr == NULL || tr->figures == NULL) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "model \"%s\" has no per-record score to backtest", o->model);
    }
    int format = o->format >= 0 ? o->format : rcfd_input_guess_format(path);
    cJSON *doc = bt_config(o, path, format);
    char *text = doc != NULL ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (text == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    rcfd_config_t *cfg;
    int rc = rcfd_config_parse(text, strlen(text), &cfg, errstr, es);
    rcfd_free(text);
    if (rc != 0) {
        return rc;
    }
    f->n_fields = o->fields.n;
    collect_t c = {.trainer = tr, .f = f, .progress = o->progress};
    if (rcfd_keytab_new(MAX_KEYS, key_noop, NULL, &c.keys) != 0) {
        rcfd_config_free(cfg);
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    rcfd_runtime_hooks_t hooks = {.ud = &c, .on_scored = on_scored, .on_dead = on_dead};
    const rcfd_pipeline_conf_t *pc = &cfg->pipelines[0];
    if (pc->impute == RCFD_IMPUTE_LINEAR) {
        /* the look-ahead the daemon has not: the whole file, planned before the replay */
        rcfd_input_spec_t ls = {.path = path,
                                .format = format,
                                .delim = o->delim,
                                .fields = &o->fields,
                                .key = o->key};
        rc = rcfd_linear_plan_build(&ls, (size_t)pc->impute_lookahead, &c.plan, errstr, es);
        if (rc != 0) {
            rcfd_keytab_destroy(c.keys);
            rcfd_config_free(cfg);
            return rc;
        }
        hooks.impute_ahead = linear_ahead;
    }
    rcfd_runtime_t *rt;
    int code;
    rc = rcfd_runtime_new(cfg, NULL, &hooks, &rt, &code, errstr, es);
    if (rc != 0) {
        rcfd_linear_plan_free(&c.plan);
        rcfd_keytab_destroy(c.keys);
        rcfd_config_free(cfg);
        rcfd_bt_file_free(f);
        return rc;
    }
    code = rcfd_runtime_run(rt);
    rcfd_runtime_destroy(rt);
    rcfd_linear_plan_free(&c.plan);
    rcfd_keytab_destroy(c.keys);
    f->name = rcfd_strdup(name != NULL ? name : path);
    if (c.oom || f->name == NULL) {
        rcfd_bt_file_free(f);
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    if (code == RCFD_EXIT_DATAERR && format == RCFD_FORMAT_CSV) {
        /* The CSV header lacks a field or the key: the reader's message lists the header. */
        rcfd_input_spec_t hs = {
            .path = path, .format = format, .delim = o->delim, .fields = &o->fields, .key = o->key};
        rcfd_bt_file_free(f);
        if (rcfd_input_read(&hs, count_row, NULL, errstr, es) != 0) {
            return RCFD_ECONFIG;
        }
    }
    if (code != RCFD_EXIT_OK) {
        rcfd_bt_file_free(f);
        return rcfd_errf(RCFD_EIO, errstr, es, "%s: the pipeline stopped with exit code %d", path,
                         code);
    }
    if (c.scored == 0 && f->n > 0) {
        int n = (int)f->n;
        rcfd_bt_file_free(f);
        return rcfd_errf(RCFD_EMALFORMED, errstr, es,
                         "%s: none of its %d records could be scored (the first: %s); check "
                         "--fields%s and --format",
                         path, n, c.first_dead, o->key != NULL ? ", --key" : "");
    }
    /* Timestamps and labels, read beside the pipeline with the same decoding. */
    f->ts = rcfd_calloc(f->n ? f->n : 1, sizeof *f->ts);
    f->label = rcfd_calloc(f->n ? f->n : 1, 1);
    if (f->ts == NULL || f->label == NULL) {
        rcfd_bt_file_free(f);
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    f->has_ts = 1;
    rcfd_input_spec_t spec = {.path = path,
                              .format = format,
                              .delim = o->delim,
                              .timestamp = o->timestamp,
                              .timestamp_optional = limits == NULL,
                              .label = limits == NULL ? o->label : NULL};
    side_t side = {.f = f};
    rc = rcfd_input_read(&spec, on_row, &side, errstr, es);
    if (rc == 0 && side.n != f->n) {
        rc =
            rcfd_errf(RCFD_EMALFORMED, errstr, es,
                      "%s: the pipeline saw %zu records, the label reader %zu", path, f->n, side.n);
    } else if (rc == RCFD_ERANGE) {
        rcfd_errf(rc, errstr, es, "%s: the label reader saw more records than the pipeline", path);
    }
    if (rc == 0 && limits != NULL) {
        /* A timestamp going backwards (NAB's machine_temperature file has one) is tolerated:
         * windows are found by a forward scan, as NAB matches them row by row. */
        if (!f->has_ts) {
            rc = rcfd_errf(RCFD_EMALFORMED, errstr, es,
                           "%s: windows need a timestamp in field \"%s\" on every record", path,
                           o->timestamp ? o->timestamp : "");
        }
        f->n_windows = n_win;
        f->windows = rcfd_calloc(n_win ? n_win : 1, sizeof *f->windows);
        if (rc == 0 && f->windows == NULL) {
            rc = rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
        }
        if (rc == 0) {
            char werr[200];
            rc = rcfd_nab_windows_from_times(f->ts, f->n, limits, n_win, f->windows, werr,
                                             sizeof werr);
            if (rc != 0) {
                rcfd_errf(rc, errstr, es, "%s: %s", name, werr);
            }
        }
        for (size_t j = 0; rc == 0 && j < n_win; j++) {
            memset(f->label + f->windows[j].first, 1, f->windows[j].last - f->windows[j].first + 1);
        }
    } else if (rc == 0) {
        /* Label runs become windows, so NAB scores a label column too. */
        for (size_t i = 0; i < f->n; i++) {
            if (f->label[i] && (i == 0 || !f->label[i - 1])) {
                f->n_windows++;
            }
        }
        f->windows = rcfd_calloc(f->n_windows ? f->n_windows : 1, sizeof *f->windows);
        if (f->windows == NULL) {
            rc = rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
        }
        for (size_t i = 0, j = 0; rc == 0 && i < f->n; i++) {
            if (f->label[i] && (i == 0 || !f->label[i - 1])) {
                f->windows[j].first = i;
            }
            if (f->label[i] && (i + 1 == f->n || !f->label[i + 1])) {
                f->windows[j++].last = i;
            }
        }
    }
    if (rc != 0) {
        rcfd_bt_file_free(f);
    }
    return rc;
}

/* ---- summary ---- */

const char *rcfd_bt_input_name(int in)
{
    return in == RCFD_BT_NAB_SCORE        ? "score"
           : in == RCFD_BT_NAB_RATIO      ? "ratio"
           : in == RCFD_BT_NAB_NOVELTY    ? "novelty"
           : in == RCFD_BT_NAB_LIKELIHOOD ? "likelihood"
                                          : "grade";
}

const char *rcfd_bt_input_label(int in)
{
    return in == RCFD_BT_NAB_SCORE        ? "anomaly_score"
           : in == RCFD_BT_NAB_RATIO      ? "anomaly_score / threshold"
           : in == RCFD_BT_NAB_NOVELTY    ? "anomaly_novelty"
           : in == RCFD_BT_NAB_LIKELIHOOD ? "anomaly likelihood"
                                          : "anomaly grade";
}

void *rcfd_bt_effective_config(const rcfd_bt_opts_t *o, const char *path, char *errstr, size_t es)
{
    int format = o->format >= 0 ? o->format : rcfd_input_guess_format(path);
    cJSON *doc = bt_config(o, path, format);
    char *text = doc != NULL ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (text == NULL) {
        rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
        return NULL;
    }
    rcfd_config_t *cfg;
    int rc = rcfd_config_parse(text, strlen(text), &cfg, errstr, es);
    rcfd_free(text);
    if (rc != 0) {
        return NULL;
    }
    char *printed = rcfd_config_print(cfg);
    rcfd_config_free(cfg);
    cJSON *j = printed != NULL ? cJSON_Parse(printed) : NULL;
    cJSON_free(printed);
    if (j == NULL) {
        rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    return j;
}

static int flagged(const rcfd_bt_opts_t *o, double grade)
{
    return grade >= o->grade_cutoff; /* NAN compares false: dead letters are never flagged */
}

/* The values the NAB threshold sweeps, per record (a copy the file owns). */
static int file_input(const rcfd_bt_opts_t *o, rcfd_bt_file_t *f)
{
    rcfd_free(f->input);
    f->input = rcfd_malloc((f->n ? f->n : 1) * sizeof *f->input);
    if (f->input == NULL) {
        return RCFD_ENOMEM;
    }
    if (o->nab_input == RCFD_BT_NAB_LIKELIHOOD) {
        rcfd_likelihood_t lh;
        if (rcfd_likelihood_init(&lh, RCFD_LH_LEARN) != 0) {
            return RCFD_ENOMEM;
        }
        for (size_t r = 0; r < f->n; r++) {
            f->input[r] = rcfd_likelihood_update(&lh, f->score[r]);
        }
        rcfd_likelihood_free(&lh);
        return 0;
    }
    for (size_t r = 0; r < f->n; r++) {
        double v = f->grade[r];
        if (o->nab_input == RCFD_BT_NAB_SCORE) {
            v = f->score[r];
        } else if (o->nab_input == RCFD_BT_NAB_NOVELTY) {
            v = f->novelty[r]; /* what the daemon's model wrote, per key */
        } else if (o->nab_input == RCFD_BT_NAB_RATIO) {
            v = f->threshold[r] > 0.0 ? f->score[r] / f->threshold[r] : 0.0;
        }
        f->input[r] = v;
    }
    return 0;
}

/* Without labels (or an explicit --alert-threshold) the report marks the input's natural level:
 * novelty 1 (as novel as the key's third-biggest event so far), the grade cut-off, ratio 1. */
static double default_alert(const rcfd_bt_opts_t *o)
{
    switch (o->nab_input) {
    case RCFD_BT_NAB_NOVELTY:
        return 1.0;
    case RCFD_BT_NAB_GRADE:
        return o->grade_cutoff;
    case RCFD_BT_NAB_RATIO:
        return 1.0;
    default:
        return NAN;
    }
}

/* The NAB scores of labelled files: one threshold per profile, optimised over the corpus. */
static int nab_summary(const rcfd_bt_opts_t *o, rcfd_bt_file_t *files, size_t nf,
                       rcfd_bt_summary_t *s, size_t total, size_t nw)
{
    rcfd_nab_point_t *pts = rcfd_malloc((total ? total : 1) * sizeof *pts);
    rcfd_nab_point_t *fix = rcfd_malloc((total ? total : 1) * sizeof *fix);
    size_t *off = rcfd_malloc((nf + 1) * sizeof *off);
    if (pts == NULL || fix == NULL || off == NULL) {
        rcfd_free(pts);
        rcfd_free(fix);
        rcfd_free(off);
        return RCFD_ENOMEM;
    }
    size_t k = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nf; i++) {
        rcfd_bt_file_t *f = &files[i];
        off[i] = k;
        rcfd_nab_points(f->decision, f->n, f->windows, f->n_windows, f->window_base, fix + k);
        k += rcfd_nab_points(f->input, f->n, f->windows, f->n_windows, f->window_base, pts + k);
    }
    off[nf] = k;
    for (int p = 0; rc == 0 && p < RCFD_NAB_N_PROFILES; p++) {
        const rcfd_nab_profile_t *prof = &rcfd_nab_profiles[p];
        rc = rcfd_nab_optimize(pts, k, nw, prof, &s->nab[p]);
        rc = rc ? rc : rcfd_nab_null(pts, k, nw, prof, &s->null_raw[p]);
        rc = rc ? rc : rcfd_nab_score(fix, k, nw, prof, o->grade_cutoff, &s->fixed[p]);
        if (rc != 0) {
            break;
        }
        s->nab_norm[p] = rcfd_nab_normalize(s->nab[p].raw, s->null_raw[p], nw, prof);
        s->fixed_norm[p] = rcfd_nab_normalize(s->fixed[p].raw, s->null_raw[p], nw, prof);
        for (size_t i = 0; rc == 0 && i < nf; i++) {
            size_t n = off[i + 1] - off[i];
            rc = rcfd_nab_score(pts + off[i], n, nw, prof, s->nab[p].threshold, &files[i].nab[p]);
            rc =
                rc ? rc
                   : rcfd_nab_score(fix + off[i], n, nw, prof, o->grade_cutoff, &files[i].fixed[p]);
        }
    }
    rcfd_free(pts);
    rcfd_free(fix);
    rcfd_free(off);
    return rc;
}

int rcfd_bt_summarize(const rcfd_bt_opts_t *o, rcfd_bt_file_t *files, size_t nf,
                      rcfd_bt_summary_t *s)
{
    memset(s, 0, sizeof *s);
    size_t total = 0, nw = 0;
    int rc = 0;
    for (size_t i = 0; i < nf; i++) {
        files[i].window_base = nw;
        nw += files[i].n_windows;
        total += files[i].n;
        memset(&files[i].metrics, 0, sizeof files[i].metrics);
        for (size_t r = 0; r < files[i].n; r++) {
            rcfd_metrics_add(&files[i].metrics, files[i].label[r], flagged(o, files[i].decision[r]));
        }
        rcfd_metrics_finish(&files[i].metrics);
        rcfd_metrics_merge(&s->metrics, &files[i].metrics);
        if ((rc = file_input(o, &files[i])) != 0) {
            return rc;
        }
    }
    rcfd_metrics_finish(&s->metrics);
    s->labelled_windows = nw;
    s->records = total;
    if (o->labelled) {
        rc = nab_summary(o, files, nf, s, total, nw);
    }
    s->alert_threshold = o->alert_threshold;
    s->alert_source = "--alert-threshold";
    if (isnan(s->alert_threshold) && o->labelled) {
        s->alert_threshold = s->nab[0].threshold;
        s->alert_source = "the NAB standard profile's best threshold";
    } else if (isnan(s->alert_threshold)) {
        s->alert_threshold = default_alert(o);
        s->alert_source = "the input's default level (no labels)";
    }
    for (size_t i = 0; rc == 0 && i < nf; i++) {
        rcfd_bt_file_t *f = &files[i];
        size_t from = o->labelled ? rcfd_nab_probation(f->n) : 0;
        f->alerts = 0;
        f->input_max = NAN;
        for (size_t r = 0; r < f->n; r++) {
            if (isfinite(f->input[r]) && !(f->input[r] <= f->input_max)) {
                f->input_max = f->input[r];
            }
            f->alerts += r >= from && f->input[r] >= s->alert_threshold;
        }
        s->alerts += f->alerts;
    }
    return rc;
}
