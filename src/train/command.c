/* rcfd train: feeds a CSV/JSONL file through one model per key and writes their snapshots. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "train/input.h"
#include "train/progress.h"
#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "common/keytab.h"
#include "stream/runtime.h"
#include "config/schema.h"
#include "train/command.h"
#include "train/trainer.h"
#include "train/linear.h"
#include "models/impute.h"

#define MAX_KEYS (1u << 20) /* the table must never evict: a key's model would restart */

typedef struct entry {
    char *key;
    size_t len;
    void *model;
} entry_t;

typedef struct train_ctx {
    const rcfd_trainer_t *t;
    void *params;
    size_t n_fields;
    rcfd_keytab_t *models; /* key -> entry_t *, for lookup; `entries` owns them, in key order seen */
    entry_t *entries;
    size_t n_entries, cap_entries;
    uint64_t limit, seen, trained, skipped, imputed;
    rcfd_progress_t *progress;
    const rcfd_train_opts_t *o;
    const rcfd_linear_plan_t *plan; /* impute "linear" */
    double *values;                 /* n_fields: the row's values, completed */
    char err[512];
} train_ctx_t;

static void entry_noop(void *value, void *ud)
{
    (void)value;
    (void)ud;
}

static entry_t *add_entry(train_ctx_t *c, const char *key, size_t len, void *model)
{
    if (c->n_entries == c->cap_entries) {
        size_t cap = c->cap_entries ? 2 * c->cap_entries : 16;
        entry_t *e = rcfd_realloc(c->entries, cap * sizeof *e);
        if (e == NULL) {
            return NULL;
        }
        c->entries = e;
        c->cap_entries = cap;
    }
    entry_t *e = &c->entries[c->n_entries];
    e->key = rcfd_malloc(len + 1);
    if (e->key == NULL) {
        return NULL;
    }
    memcpy(e->key, key, len);
    e->key[len] = '\0';
    e->len = len;
    e->model = model;
    c->n_entries++;
    return e;
}

typedef struct linear_ctx {
    const rcfd_linear_plan_t *plan;
    size_t line;
} linear_ctx_t;

static int linear_ahead(void *ud, double *values, const unsigned char *missing, size_t n)
{
    const linear_ctx_t *l = ud;
    return rcfd_linear_plan_fill(l->plan, l->line, values, missing, n);
}

static int on_row(void *ud, const rcfd_input_row_t *row)
{
    train_ctx_t *c = ud;
    if (c->limit != 0 && c->seen >= c->limit) {
        return 0;
    }
    c->seen++;
    if (c->progress != NULL) {
        rcfd_progress_add(c->progress, 1);
    }
    if (row->bad != NULL) {
        c->skipped++; /* the daemon dead-letters it: its models never see it either */
        return 0;
    }
    /* Entries move when the array grows, so the table maps a key to its index + 1. */
    uintptr_t idx = (uintptr_t)rcfd_keytab_get(c->models, row->key, row->key_len);
    void *m;
    if (idx == 0) {
        if (c->n_entries >= MAX_KEYS) {
            return rcfd_errf(RCFD_ERANGE, c->err, sizeof c->err, "more than %u keys", MAX_KEYS);
        }
        uint64_t seed = rcfd_trainer_key_seed(c->t, c->params, row->key, row->key_len);
        int rc = c->t->create(c->params, c->n_fields, seed, &m, c->err, sizeof c->err);
        if (rc != 0) {
            return rc;
        }
        if (add_entry(c, row->key, row->key_len, m) == NULL) {
            c->t->destroy(m);
            return rcfd_errf(RCFD_ENOMEM, c->err, sizeof c->err, "out of memory");
        }
        if (rcfd_keytab_put(c->models, row->key, row->key_len, (void *)(uintptr_t)c->n_entries) !=
            0) {
            return rcfd_errf(RCFD_ENOMEM, c->err, sizeof c->err, "out of memory");
        }
    } else {
        m = c->entries[idx - 1].model;
    }
    const double *values = row->values;
    if (c->o->impute != RCFD_IMPUTE_DEAD_LETTER) {
        /* the daemon's step, on the same model: so the snapshot holds the same impute state */
        const rcfd_model_type_t *types[] = {c->t->model};
        void *models[] = {m};
        linear_ctx_t lc = {c->plan, row->line};
        rcfd_impute_conf_t ic = {.method = c->o->impute,
                                 .fixed = c->o->impute_fixed,
                                 .max_consecutive = (uint32_t)c->o->impute_max_consecutive,
                                 .ahead = c->plan != NULL ? linear_ahead : NULL,
                                 .ahead_ud = &lc};
        rcfd_impute_outcome_t io;
        char reason[256];
        memcpy(c->values, row->values, c->n_fields * sizeof *c->values);
        if (rcfd_impute_record(&ic, types, models, 1, c->o->fields, c->values, row->missing, &io,
                               reason, sizeof reason) != 0) {
            c->skipped++; /* dead-lettered by the daemon too */
            return 0;
        }
        c->imputed += io.imputed > 0;
        values = c->values;
    } else if (row->n_missing > 0) {
        c->skipped++;
        return 0;
    }
    double s, g, th;
    int rc = c->t->process(m, values, c->n_fields, &s, &g, &th);
    if (rc != 0) {
        c->skipped++; /* rejected by the model: a dead letter in the daemon too */
        return 0;
    }
    c->trained++;
    return 0;
}

typedef struct save_ctx {
    const rcfd_trainer_t *t;
    const char *dir;
    int rc;
    size_t files;
    char *err;
    size_t es;
} save_ctx_t;

static void save_one(save_ctx_t *s, const char *key, size_t key_len, void *model)
{
    if (s->rc != 0) {
        return;
    }
    char path[4096];
    rcfd_buf_t b = {0};
    s->rc = rcfd_trainer_snapshot_path(s->dir, s->t, key, key_len, path, sizeof path);
    s->rc = s->rc ? s->rc : s->t->save(model, &b);
    if (s->rc == 0) {
        FILE *f = fopen(path, "wb");
        if (f == NULL || fwrite(b.p, 1, b.len, f) != b.len) {
            s->rc = rcfd_errf(RCFD_EIO, s->err, s->es, "%s: %s", path, strerror(errno));
        }
        if (f != NULL && fclose(f) != 0 && s->rc == 0) {
            s->rc = rcfd_errf(RCFD_EIO, s->err, s->es, "%s: %s", path, strerror(errno));
        }
        s->files++;
    } else {
        rcfd_errf(s->rc, s->err, s->es, "cannot save the model of key \"%.*s\"", (int)key_len,
                  key);
    }
    rcfd_buf_free(&b);
}

int rcfd_train_file(const rcfd_train_opts_t *o, rcfd_train_stats_t *st, char *errstr, size_t es)
{
    const rcfd_trainer_t *t = rcfd_trainer_find(o->model);
    if (t == NULL) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "unknown model type \"%s\"", o->model);
    }
    train_ctx_t c = {
        .t = t, .n_fields = o->fields->n, .limit = o->limit, .progress = o->progress, .o = o};
    if (o->impute != RCFD_IMPUTE_DEAD_LETTER &&
        (t->model == NULL || t->model->impute_state == NULL)) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "--impute %s keeps its per-key state in the model's snapshot: use "
                         "--model rcf or forecast",
                         rcfd_impute_methods[o->impute]);
    }
    if (o->impute == RCFD_IMPUTE_RCF && t->model->impute == NULL) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "--impute rcf needs --model rcf");
    }
    if (o->impute == RCFD_IMPUTE_FIXED && o->impute_fixed == NULL) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "--impute fixed needs --impute-values");
    }
    rcfd_linear_plan_t plan = {0};
    c.params = rcfd_calloc(1, rcfd_trainer_conf_size(t));
    c.values = rcfd_calloc(c.n_fields ? c.n_fields : 1, sizeof *c.values);
    if (c.params == NULL || c.values == NULL) {
        rcfd_free(c.params);
        rcfd_free(c.values);
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    int rc = rcfd_trainer_params(t, o->params, c.params, errstr, es);
    if (rc == 0 && rcfd_keytab_new(MAX_KEYS, entry_noop, NULL, &c.models) != 0) {
        rc = rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    if (rc == 0) {
        rcfd_input_spec_t spec = {.path = o->path,
                                  .format = o->format >= 0 ? o->format
                                                           : rcfd_input_guess_format(o->path),
                                  .delim = ',',
                                  .fields = o->fields,
                                  .key = o->key,
                                  .allow_missing = o->impute != RCFD_IMPUTE_DEAD_LETTER};
        if (o->impute == RCFD_IMPUTE_LINEAR) {
            rc = rcfd_linear_plan_build(&spec, (size_t)o->impute_lookahead, &plan, errstr, es);
            c.plan = &plan;
        }
        if (o->progress != NULL && o->progress->mode != RCFD_PROGRESS_OFF) {
            uint64_t n = rcfd_progress_count_records(o->path, spec.format == RCFD_FORMAT_CSV);
            o->progress->total = o->limit != 0 && o->limit < n ? o->limit : n;
        }
        rc = rc ? rc : rcfd_input_read(&spec, on_row, &c, errstr, es);
        if (o->progress != NULL) {
            rcfd_progress_finish(o->progress);
        }
        if (rc != 0 && c.err[0] != '\0') {
            rcfd_errf(rc, errstr, es, "%s", c.err);
        }
    }
    if (rc == 0 && mkdir(o->out_dir, 0777) != 0 && errno != EEXIST) {
        rc = rcfd_errf(RCFD_EIO, errstr, es, "%s: %s", o->out_dir, strerror(errno));
    }
    if (rc == 0) {
        save_ctx_t s = {.t = t, .dir = o->out_dir, .err = errstr, .es = es};
        for (size_t i = 0; i < c.n_entries; i++) {
            save_one(&s, c.entries[i].key, c.entries[i].len, c.entries[i].model);
        }
        rc = s.rc;
        st->files = s.files;
    }
    st->records = c.seen;
    st->trained = c.trained;
    st->skipped = c.skipped;
    st->imputed = c.imputed;
    rcfd_linear_plan_free(&plan);
    rcfd_free(c.values);
    if (c.models != NULL) {
        rcfd_keytab_destroy(c.models);
    }
    for (size_t i = 0; i < c.n_entries; i++) {
        t->destroy(c.entries[i].model);
        rcfd_free(c.entries[i].key);
    }
    rcfd_free(c.entries);
    rcfd_conf_free(rcfd_trainer_conf(t), c.params);
    rcfd_free(c.params);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: rcfd train [options] --out DIR FILE\n"
                 "  --fields A,B      numeric fields of the point (default value)\n"
                 "  --key F           one model per value of F\n"
                 "  --model TYPE      rcf (default), hotspots or forecast\n"
                 "  -p NAME=VALUE     model parameter; KDA names (numberOfTrees, subSampleSize,\n"
                 "                    timeDecay, shingleSize, windowSize, scanRadius, ...) and\n"
                 "                    SageMaker's (num_trees, num_samples_per_tree, feature_dim)\n"
                 "  --records N       train on the first N records only\n"
                 "  --impute M        a missing or null field: dead_letter (default: skip the\n"
                 "                    record), zero, fixed, previous, linear or rcf, as a\n"
                 "                    pipeline's impute (--model rcf)\n"
                 "  --impute-values A=1,B=2   the values of impute fixed, every field\n"
                 "  --impute-max-consecutive N  imputed records in a row per key (default 10)\n"
                 "  --impute-lookahead N        linear: the next value within N records (10)\n"
                 "  --format csv|json default: from the file name\n"
                 "  --progress        a progress line on stderr even when it is not a terminal\n"
                 "  --quiet           no progress line\n"
                 "  --suggest         print column statistics and a HOTSPOTS scan_radius for the\n"
                 "                    file instead of training (--min-points K, default 17;\n"
                 "                    --sample M records, default 2000; --plain: no OpenBLAS)\n"
                 "Writes DIR/<key>.<type>.snap per key (\"_\" without --key).\n");
}

static int method_index(const char *v)
{
    for (int i = 0; rcfd_impute_methods[i] != NULL; i++) {
        if (strcmp(rcfd_impute_methods[i], v) == 0) {
            return i;
        }
    }
    return -1;
}

/* "A=1.5,B=2": a value for every field, in the fields' order. */
static int parse_fixed(const char *spec, const rcfd_strlist_t *fields, double *out, size_t cap,
                       char *err, size_t es)
{
    if (fields->n > cap) {
        return rcfd_errf(RCFD_EINVAL, err, es, "--impute-values: more than %zu fields", cap);
    }
    unsigned char seen[1000] = {0};
    rcfd_strlist_t kv = {0};
    if (rcfd_strlist_split(spec, ',', &kv) != 0) {
        return rcfd_errf(RCFD_ENOMEM, err, es, "out of memory");
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < kv.n; i++) {
        char *eq = strchr(kv.v[i], '=');
        size_t f = fields->n;
        if (eq != NULL) {
            *eq = '\0';
            for (f = 0; f < fields->n && strcmp(fields->v[f], kv.v[i]) != 0; f++) {
            }
        }
        char *end = NULL;
        double v = eq != NULL ? strtod(eq + 1, &end) : 0.0;
        if (eq == NULL || f == fields->n || end == eq + 1 || *end != '\0' || !isfinite(v)) {
            rc = rcfd_errf(RCFD_EINVAL, err, es,
                           "--impute-values: \"%s\" is not FIELD=NUMBER for one of --fields",
                           kv.v[i]);
            break;
        }
        out[f] = v;
        seen[f] = 1;
    }
    for (size_t f = 0; rc == 0 && f < fields->n; f++) {
        if (!seen[f]) {
            rc = rcfd_errf(RCFD_EINVAL, err, es, "--impute-values: no value for field \"%s\"",
                           fields->v[f]);
        }
    }
    rcfd_strlist_free(&kv);
    return rc;
}

int rcfd_train_main(int argc, char **argv)
{
    rcfd_train_opts_t o = {
        .format = -1, .model = "rcf", .impute_max_consecutive = 10, .impute_lookahead = 10};
    const char *fields = "value", *impute_values = NULL;
    double fixed[1000];
    const char *params[256];
    size_t n_params = 0;
    int suggest = 0, quiet = 0, force_progress = 0;
    rcfd_suggest_opts_t so = {.min_points = 17, .sample = 2000};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(a, "--fields") == 0 && v) {
            fields = v;
        } else if (strcmp(a, "--key") == 0 && v) {
            o.key = v;
        } else if (strcmp(a, "--model") == 0 && v) {
            o.model = v;
        } else if (strcmp(a, "-p") == 0 && v && n_params < 256) {
            params[n_params++] = v;
        } else if (strcmp(a, "--impute") == 0 && v && method_index(v) >= 0) {
            o.impute = method_index(v);
        } else if (strcmp(a, "--impute-values") == 0 && v) {
            impute_values = v;
        } else if (strcmp(a, "--impute-max-consecutive") == 0 && v && atoll(v) >= 1) {
            o.impute_max_consecutive = (uint64_t)atoll(v);
        } else if (strcmp(a, "--impute-lookahead") == 0 && v && atoll(v) >= 1) {
            o.impute_lookahead = (uint64_t)atoll(v);
        } else if (strcmp(a, "--records") == 0 && v) {
            o.limit = strtoull(v, NULL, 10);
        } else if (strcmp(a, "--suggest") == 0) {
            suggest = 1;
            takes = 0;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            quiet = 1;
            takes = 0;
        } else if (strcmp(a, "--progress") == 0) {
            force_progress = 1;
            takes = 0;
        } else if (strcmp(a, "--plain") == 0) {
            so.plain = 1;
            takes = 0;
        } else if (strcmp(a, "--min-points") == 0 && v && atoi(v) >= 2) {
            so.min_points = (size_t)atoi(v);
        } else if (strcmp(a, "--sample") == 0 && v && atoi(v) >= 3) {
            so.sample = (size_t)atoi(v);
        } else if (strcmp(a, "--out") == 0 && v) {
            o.out_dir = v;
        } else if (strcmp(a, "--format") == 0 && v &&
                   (strcmp(v, "csv") == 0 || strcmp(v, "json") == 0)) {
            o.format = strcmp(v, "csv") == 0 ? RCFD_FORMAT_CSV : RCFD_FORMAT_JSON;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return RCFD_EXIT_OK;
        } else if (a[0] != '-' && o.path == NULL) {
            o.path = a;
            takes = 0;
        } else {
            fprintf(stderr, "rcfd train: bad or incomplete argument '%s'\n", a);
            usage(stderr);
            return RCFD_EXIT_USAGE;
        }
        i += takes;
    }
    if (o.path == NULL || (o.out_dir == NULL && !suggest)) {
        usage(stderr);
        return RCFD_EXIT_USAGE;
    }
    const rcfd_trainer_t *t = rcfd_trainer_find(o.model);
    if (t == NULL) {
        fprintf(stderr, "rcfd train: unknown model type \"%s\"\n", o.model);
        return RCFD_EXIT_USAGE;
    }
    rcfd_strlist_t fl = {0};
    if (rcfd_strlist_split(fields, ',', &fl) != 0) {
        return RCFD_EXIT_SOFTWARE;
    }
    o.fields = &fl;
    char err[1024];
    if (impute_values != NULL) {
        if (parse_fixed(impute_values, &fl, fixed, sizeof fixed / sizeof fixed[0], err,
                        sizeof err) != 0) {
            fprintf(stderr, "rcfd train: %s\n", err);
            rcfd_strlist_free(&fl);
            return RCFD_EXIT_USAGE;
        }
        o.impute_fixed = fixed;
    }
    int code = RCFD_EXIT_OK;
    void *obj = NULL;
    int rc = rcfd_trainer_params_from_args(t, params, n_params, fl.n, &obj, err, sizeof err);
    cJSON *pj = obj;
    if (rc != 0) {
        fprintf(stderr, "rcfd train: %s\n", err);
        code = rc == RCFD_ENOMEM ? RCFD_EXIT_SOFTWARE : RCFD_EXIT_USAGE;
    } else if (suggest) {
        if (rcfd_train_suggest(&o, &so, stdout, err, sizeof err) != 0) {
            fprintf(stderr, "rcfd train: %s\n", err);
            code = RCFD_EXIT_DATAERR;
        }
    } else {
        o.params = pj;
        rcfd_progress_t progress;
        rcfd_progress_init(&progress, rcfd_progress_mode(quiet, force_progress), "rcfd train", 0);
        o.progress = &progress;
        rcfd_train_stats_t st = {0};
        rc = rcfd_train_file(&o, &st, err, sizeof err);
        if (rc != 0) {
            fprintf(stderr, "rcfd train: %s\n", err);
            code = rc == RCFD_ECONFIG ? RCFD_EXIT_CONFIG : RCFD_EXIT_DATAERR;
        } else {
            printf("%llu records read, %llu trained, %llu skipped (malformed); %zu snapshot(s) "
                   "in %s\n",
                   (unsigned long long)st.records, (unsigned long long)st.trained,
                   (unsigned long long)st.skipped, st.files, o.out_dir);
            if (o.impute != RCFD_IMPUTE_DEAD_LETTER) {
                printf("%llu records trained with an imputed field (impute %s)\n",
                       (unsigned long long)st.imputed, rcfd_impute_methods[o.impute]);
            }
        }
    }
    cJSON_Delete(pj);
    rcfd_strlist_free(&fl);
    return code;
}
