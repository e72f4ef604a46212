/* The RCF model type: RANDOM_CUT_FOREST and RANDOM_CUT_FOREST_WITH_EXPLANATION with KDA's
 * parameters, one forest per key. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/errstr.h"
#include "rcfd/rcf.h"
#include "rcfd/status.h"
#include "rcfd/alloc.h"
#include "stream/likelihood.h"
#include "stream/model.h"
#include "stream/model_rcf.h"

typedef struct rcf_conf {
    int64_t number_of_trees;
    int64_t sub_sample_size;
    int64_t time_decay;
    int64_t shingle_size;
    int64_t output_after;
    int64_t seed;
    int explain;
} rcf_conf_t;

#define O(f) offsetof(rcf_conf_t, f)
static const rcfd_conf_desc_t rcf_desc[] = {
    {"number_of_trees", RCFD_CT_INT, O(number_of_trees), "100", RCF_MIN_TREES, RCF_MAX_TREES, NULL,
     0, "KDA numberOfTrees: trees in the forest; the score is their mean"},
    {"sub_sample_size", RCFD_CT_INT, O(sub_sample_size), "256", RCF_MIN_SAMPLE_SIZE,
     RCF_MAX_SAMPLE_SIZE, NULL, 0,
     "KDA subSampleSize: points kept per tree; scores are 0 for this many first records"},
    {"time_decay", RCFD_CT_INT, O(time_decay), "100000", (double)RCF_MIN_TIME_DECAY,
     (double)RCF_MAX_TIME_DECAY, NULL, 0,
     "KDA timeDecay in records: how far back the forest remembers; must exceed sub_sample_size"},
    {"shingle_size", RCFD_CT_INT, O(shingle_size), "1", RCF_MIN_SHINGLE, RCF_MAX_SHINGLE, NULL, 0,
     "KDA shingleSize: consecutive records of a key that form one point"},
    {"output_after", RCFD_CT_INT, O(output_after), "-1", -1, 1e12, NULL, 0,
     "records per key that score 0 while the forest warms up; -1 means sub_sample_size (KDA)"},
    {"seed", RCFD_CT_INT, O(seed), "24301", 0, 9007199254740991.0, NULL, 0,
     "master seed; each key's forest is seeded from it and a hash of the key"},
    {"explain", RCFD_CT_BOOL, O(explain), "false", 0, 0, NULL, 0,
     "RANDOM_CUT_FOREST_WITH_EXPLANATION: add per-column attribution, strength and direction"},
    {NULL},
};
#undef O

static void to_params(const rcf_conf_t *c, size_t n_fields, uint64_t seed, rcf_params_t *p)
{
    *p = rcf_params_default((uint32_t)n_fields);
    p->number_of_trees = (uint32_t)c->number_of_trees;
    p->sub_sample_size = (uint32_t)c->sub_sample_size;
    p->time_decay = (uint64_t)c->time_decay;
    p->shingle_size = (uint32_t)c->shingle_size;
    p->output_after = c->output_after;
    p->seed = seed;
    p->explain = c->explain;
}

static int rcf_validate(const void *conf, size_t n_fields, char *errstr, size_t es)
{
    rcf_params_t p;
    to_params(conf, n_fields, 0, &p);
    return rcf_params_validate(&p, errstr, es);
}

/* An instance: the key's forest and the state of its anomaly_novelty (stream/likelihood.h). */
typedef struct rcf_model {
    rcf_forest_t *f;
    rcfd_novelty_t novelty;
} rcf_model_t;

static int wrap(rcf_forest_t *f, void **out, char *errstr, size_t es)
{
    rcf_model_t *m = rcfd_malloc(sizeof *m);
    if (m == NULL) {
        rcf_forest_destroy(f);
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    m->f = f;
    /* The key forgets its earlier rises at the rate its forest forgets points, and judges
     * extreme values once its forest scores. */
    const rcf_params_t *p = rcf_forest_params(f);
    if (rcfd_novelty_init(&m->novelty, p->input_dim, (double)p->time_decay,
                          (uint64_t)p->output_after) != 0) {
        rcf_forest_destroy(f);
        rcfd_free(m);
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    *out = m;
    return 0;
}

static int rcf_create(const void *conf, size_t n_fields, uint64_t key_seed, void **out,
                      char *errstr, size_t es)
{
    rcf_params_t p;
    to_params(conf, n_fields, key_seed, &p);
    rcf_forest_t *f;
    int rc = rcf_forest_new(&p, &f, errstr, es);
    return rc != 0 ? rc : wrap(f, out, errstr, es);
}

static void rcf_destroy(void *model)
{
    rcf_model_t *m = model;
    rcf_forest_destroy(m->f);
    rcfd_novelty_free(&m->novelty);
    rcfd_free(m);
}

/* The forest's snapshot (what rcfd train writes and load() reads; the novelty's state is not in
 * it: a loaded key compares its first scores against nothing and judges extreme values after
 * output_after records of its own). */
static int rcf_save(const void *model, rcfd_buf_t *out)
{
    const rcf_model_t *m = model;
    size_t need = rcf_forest_snapshot_size(m->f), len;
    int rc = rcfd_buf_reserve(out, need);
    rc = rc ? rc : rcf_forest_save(m->f, out->p + out->len, need, &len);
    if (rc == 0) {
        out->len += len;
    }
    return rc;
}

static int rcf_load(const void *conf, size_t n_fields, const void *buf, size_t len, void **out,
                    char *errstr, size_t es)
{
    rcf_forest_t *f;
    int rc = rcf_forest_load(buf, len, &f, errstr, es);
    if (rc != 0) {
        return rc;
    }
    /* The parameters the config gives, completed by the library's defaults (as create does). */
    rcf_params_t want;
    to_params(conf, n_fields, 0, &want);
    if (want.output_after == RCF_OUTPUT_AFTER_DEFAULT) {
        want.output_after = want.sub_sample_size; /* as rcf_forest_new() resolves it */
    }
    const rcf_params_t *a = rcf_forest_params(f), *b = &want;
    const char *bad = a->input_dim != b->input_dim               ? "the number of fields"
                      : a->number_of_trees != b->number_of_trees ? "number_of_trees"
                      : a->sub_sample_size != b->sub_sample_size ? "sub_sample_size"
                      : a->time_decay != b->time_decay           ? "time_decay"
                      : a->shingle_size != b->shingle_size       ? "shingle_size"
                      : a->output_after != b->output_after       ? "output_after"
                      : a->explain != b->explain                 ? "explain"
                      : a->anomaly_rate != b->anomaly_rate       ? "anomaly_rate"
                      : a->z_factor != b->z_factor               ? "z_factor"
                                                                 : NULL;
    if (bad != NULL) {
        rcf_forest_destroy(f);
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "snapshot was trained with a different %s than the config gives", bad);
    }
    return wrap(f, out, errstr, es);
}

/* The result must outlive process(); the forest keeps explanation arrays, we keep the struct. */
typedef rcfd_rcf_result_t rcf_model_result_t;

static _Thread_local rcf_model_result_t last_result;

static int rcf_process(void *model, const double *values, size_t n, const void **result)
{
    rcf_model_t *m = model;
    int rc = rcf_forest_process(m->f, values, n, &last_result.r);
    if (rc == 0) {
        last_result.novelty = rcfd_novelty_update(&m->novelty, last_result.r.score, values);
        *result = &last_result;
    }
    return rc;
}

static double rcf_score(const void *result)
{
    return ((const rcf_model_result_t *)result)->r.score;
}

static double rcf_grade(const void *result)
{
    return ((const rcf_model_result_t *)result)->r.grade;
}

static int rcf_encode(const void *result, const rcfd_strlist_t *cols, rcfd_style_t style,
                      rcfd_buf_t *out)
{
    const rcf_result_t *r = &((const rcf_model_result_t *)result)->r;
    int rc = rcfd_buf_puts(out, style == RCFD_STYLE_KDA ? ",\"ANOMALY_SCORE\":" : ",\"anomaly_score\":");
    rc = rc ? rc : rcfd_buf_json_double(out, r->score);
    if (style != RCFD_STYLE_KDA) { /* KDA's columns stay KDA's */
        rc = rc ? rc : rcfd_buf_puts(out, ",\"anomaly_novelty\":");
        rc = rc ? rc : rcfd_buf_json_double(out, ((const rcf_model_result_t *)result)->novelty);
    }
    if (rc != 0 || r->explanation == NULL) {
        return rc;
    }
    if (style == RCFD_STYLE_KDA) {
        /* ANOMALY_EXPLANATION is a VARCHAR holding JSON whose values are all strings, keyed by
         * column name, with four decimals (as KDA prints them). */
        rcfd_buf_t e = {0};
        rc = rcfd_buf_putc(&e, '{');
        for (size_t c = 0; rc == 0 && c < cols->n; c++) {
            const rcf_column_explanation_t *x = &r->explanation[c];
            rc = c ? rcfd_buf_putc(&e, ',') : 0;
            rc = rc ? rc : rcfd_buf_json_string(&e, cols->v[c], strlen(cols->v[c]));
            rc = rc ? rc
                    : rcfd_buf_printf(&e,
                                      ":{\"DIRECTION\":\"%s\",\"STRENGTH\":\"%.4f\","
                                      "\"ATTRIBUTION_SCORE\":\"%.4f\"}",
                                      x->direction == RCF_DIRECTION_HIGH ? "HIGH" : "LOW",
                                      x->strength, x->attribution);
        }
        rc = rc ? rc : rcfd_buf_putc(&e, '}');
        rc = rc ? rc : rcfd_buf_puts(out, ",\"ANOMALY_EXPLANATION\":");
        rc = rc ? rc : rcfd_buf_json_string(out, e.p, e.len);
        rcfd_buf_free(&e);
        return rc;
    }
    rc = rcfd_buf_puts(out, ",\"explanation\":{");
    for (size_t c = 0; rc == 0 && c < cols->n; c++) {
        const rcf_column_explanation_t *x = &r->explanation[c];
        rc = c ? rcfd_buf_putc(out, ',') : 0;
        rc = rc ? rc : rcfd_buf_json_string(out, cols->v[c], strlen(cols->v[c]));
        rc = rc ? rc : rcfd_buf_puts(out, ":{\"attribution\":");
        rc = rc ? rc : rcfd_buf_json_double(out, x->attribution);
        rc = rc ? rc : rcfd_buf_puts(out, ",\"strength\":");
        rc = rc ? rc : rcfd_buf_json_double(out, x->strength);
        rc = rc ? rc
                : rcfd_buf_printf(out, ",\"direction\":\"%s\"}",
                                  x->direction == RCF_DIRECTION_HIGH ? "HIGH" : "LOW");
    }
    return rc ? rc : rcfd_buf_putc(out, '}');
}

const rcfd_model_type_t rcfd_model_rcf = {
    .name = "rcf",
    .help = "Random Cut Forest (KDA RANDOM_CUT_FOREST / RANDOM_CUT_FOREST_WITH_EXPLANATION)",
    .conf = rcf_desc,
    .conf_size = sizeof(rcf_conf_t),
    .validate = rcf_validate,
    .create = rcf_create,
    .destroy = rcf_destroy,
    .load = rcf_load,
    .save = rcf_save,
    .process = rcf_process,
    .score = rcf_score,
    .encode = rcf_encode,
    .grade = rcf_grade,
};
