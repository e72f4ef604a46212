/* The RCF model type: RANDOM_CUT_FOREST and RANDOM_CUT_FOREST_WITH_EXPLANATION with KDA's
 * parameters, one forest per key. */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/errstr.h"
#include "common/snapshot.h"
#include "rcfd/alloc.h"
#include "rcfd/rcf.h"
#include "rcfd/status.h"
#include "score/likelihood.h"
#include "score/period.h"
#include "models/impute.h"
#include "models/model.h"
#include "models/rcf.h"

typedef struct rcf_conf {
    int64_t number_of_trees;
    int64_t sub_sample_size;
    int64_t time_decay;
    int64_t shingle_size;
    int64_t output_after;
    int64_t seed;
    int explain;
    int64_t recent_mean;
    double alert_rate;
    int expected;
    int normalize; /* NORMALIZE_* */
} rcf_conf_t;

enum { NORMALIZE_AUTO, NORMALIZE_NONE };
static const char *const normalize_enum[] = {"auto", "none", NULL};
/* Version of the section that holds a key's per-field scales (normalize "auto"). */
#define SCALES_VERSION 1u

/* Version of the snapshot section that holds the key's recent means (recent_mean > 0). */
#define RECENT_VERSION 1u

/* shingle_size "auto" (docs/rcf.md, "The shingle size"): a key's first AUTO_RECORDS records are
 * held, and answered as warming up, while nothing is known of its period; then the dominant
 * period of its fields (score/period.h, lags up to AUTO_MAX_LAG; the longest when fields differ)
 * sets the shingle (longer than AUTO_MAX_SHINGLE, a dilated one of at most that many elements:
 * DILATION_VERSION below), and the held records train the new forest in order. No period found:
 * shingle 1. The config stores "auto" as 0. */
#define SHINGLE_AUTO 0
#define AUTO_RECORDS 512u
#define AUTO_MAX_LAG ((AUTO_RECORDS - 2) / 2)
#define AUTO_MAX_SHINGLE 32u
/* Version of the section that holds the records of a key still choosing its shingle size. */
#define PENDING_VERSION 1u
/* A period longer than AUTO_MAX_SHINGLE: a dilated shingle of at most AUTO_MAX_SHINGLE elements,
 * spaced stride = ceil(period / AUTO_MAX_SHINGLE) records apart, so that one shingle still spans
 * the period at the cap's cost. The model composes the point from the key's recent records (the
 * forest's shingle is then 1 and its input the whole point); the section of kind
 * RCFD_SNAP_KIND_DILATION records the choice and those records. */
#define DILATION_VERSION 1u

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
    {"shingle_size", RCFD_CT_INT, O(shingle_size), "\"auto\"", RCF_MIN_SHINGLE, RCF_MAX_SHINGLE, NULL,
     RCFD_CONF_AUTO,
     "KDA shingleSize: consecutive records of a key that form one point; \"auto\": per key, the "
     "dominant period of its first 512 records (1 when there is none; past 32, a dilated shingle "
     "of at most 32 elements spanning the period), docs/rcf.md"},
    {"output_after", RCFD_CT_INT, O(output_after), "-1", -1, 1e12, NULL, 0,
     "records per key that score 0 while the forest warms up; -1 means sub_sample_size (KDA)"},
    {"seed", RCFD_CT_INT, O(seed), "24301", 0, 9007199254740991.0, NULL, 0,
     "master seed; each key's forest is seeded from it and a hash of the key"},
    {"explain", RCFD_CT_BOOL, O(explain), "false", 0, 0, NULL, 0,
     "RANDOM_CUT_FOREST_WITH_EXPLANATION: add per-column attribution, strength and direction"},
    {"recent_mean", RCFD_CT_INT, O(recent_mean), "25", 0, 1e9, NULL, 0,
     "records R: the forest sees each record as its values and, per field, the mean of the key's "
     "earlier values weighted by (1 - 1/R)^age, so a value is judged against the key's recent "
     "level as well as its range (better on NAB: bench/RESULTS.md); 0: the values alone, KDA's "
     "forest and ANOMALY_SCORE exactly"},
    {"alert_rate", RCFD_CT_DOUBLE, O(alert_rate), "0.0003", 1e-6, 0.1, NULL, 0,
     "the alert decision's one knob: the fraction of a key's ordinary records whose score would "
     "cross its threshold (a tail probability fitted per key; alerts start episodes, so alerts "
     "are rarer still); docs/rcf.md, \"The alert decision\""},
    {"expected", RCFD_CT_BOOL, O(expected), "false", 0, 0, NULL, 0,
     "records above the alert threshold carry expected_values: per field, what the forest "
     "expected given the key's recent records (docs/rcf.md, \"Expected values\"); costs one more "
     "scoring pass per record"},
    {"normalize", RCFD_CT_ENUM, O(normalize), "\"auto\"", 0, 0, normalize_enum, 0,
     "\"auto\": with shingle_size \"auto\", each field is centred and scaled by the mean and "
     "standard deviation of the records the key held, frozen from then on, so no field's units "
     "decide where the forest cuts; \"none\": the values as they are (docs/rcf.md)"},
    {NULL},
};
#undef O

static void to_params(const rcf_conf_t *c, size_t n_fields, uint64_t seed, rcf_params_t *p)
{
    /* with recent means the forest's point is the record's values, then one mean per field */
    *p = rcf_params_default((uint32_t)(c->recent_mean > 0 ? 2 * n_fields : n_fields));
    p->number_of_trees = (uint32_t)c->number_of_trees;
    p->sub_sample_size = (uint32_t)c->sub_sample_size;
    p->time_decay = (uint64_t)c->time_decay;
    p->shingle_size = c->shingle_size == SHINGLE_AUTO ? 1u : (uint32_t)c->shingle_size;
    p->output_after = c->output_after;
    p->seed = seed;
    p->explain = c->explain;
}

static int rcf_validate(const void *conf, size_t n_fields, char *errstr, size_t es)
{
    rcf_params_t p;
    to_params(conf, n_fields, 0, &p);
    if (((const rcf_conf_t *)conf)->shingle_size == SHINGLE_AUTO) {
        p.shingle_size = AUTO_MAX_SHINGLE; /* the largest point "auto" may choose */
    }
    return rcf_params_validate(&p, errstr, es);
}

/* The parameters a key's forest gets (shingle: the chosen size with "auto"), output_after
 * resolved as rcf_forest_new() does. */
static void forest_params(const rcf_conf_t *c, size_t n_fields, uint64_t seed, uint32_t shingle,
                          rcf_params_t *p)
{
    to_params(c, n_fields, seed, p);
    if (c->shingle_size == SHINGLE_AUTO) {
        p->shingle_size = shingle;
    }
    if (p->output_after == RCF_OUTPUT_AFTER_DEFAULT) {
        p->output_after = p->sub_sample_size;
    }
}

/* An instance: the key's forest, its recent means and the state of its anomaly_novelty
 * (score/likelihood.h). */
typedef struct rcf_model {
    rcf_forest_t *f; /* NULL while shingle_size "auto" holds the first records (pending) */
    rcf_conf_t conf; /* the config's parameters, for a forest built after the shingle choice */
    uint64_t key_seed;
    size_t point_dim;    /* what the forest sees per record: n_fields, or 2 x with recent means */
    double *pending;     /* owned, while the shingle size is being chosen: room for pending_cap
                            records of point_dim values, n_pending of them held; grows by doubling
                            up to AUTO_RECORDS (a key with few records stays small) */
    uint32_t n_pending, pending_cap;
    rcfd_novelty_t novelty;
    rcfd_alert_t alert;
    size_t n_fields;
    int64_t recent_mean; /* 0: the forest sees the values alone */
    uint64_t seen;       /* records that updated the means (the first one sets them) */
    double *mean;        /* owned, 2 x n_fields with recent_mean: the forest's point, whose second
                            half is the means of the key's earlier values; else NULL */
    rcf_column_explanation_t *expl; /* owned, n_fields with explain and recent_mean or a pending
                                       shingle choice: the record's columns (each with its mean's
                                       share; zeros while pending); else NULL */
    double *probe; /* owned, 2 x n_fields with recent_mean: rcfd_rcf_model_score()'s point, so
                      scoring never writes the means; else NULL */
    double *x_point;     /* owned, with expected, allocated at first use: the shingled point whose
                            newest record's fields are unknown (point_dim x shingle) */
    double *x_record;    /* point_dim: the record with its fields unknown */
    uint32_t *x_missing; /* n_fields: their positions in x_point */
    double *x_values;    /* n_fields: the forest's estimates, what the result points at */
    double *scales;      /* owned, with normalize "auto" once the shingle was chosen: per field
                            its mean, then its standard deviation (2 x n_fields); else NULL */
    double *scaled;      /* point_dim: the point the forest sees, scaled; with scales only */
    rcfd_impute_state_t *imp; /* owned: the key's imputation state when this model holds it
                                 (models/impute.h), created at its first record; else NULL */
    uint32_t stride; /* > 1: a dilated shingle of `elems` elements, stride records apart; else 0
                        or 1 (the forest shingles, if at all) */
    uint32_t elems;
    double *hist; /* owned, dilated: a ring of the key's last hist_len <= hist_cap =
                     (elems - 1) x stride points as the forest sees them (scaled); hist_pos is
                     the slot the next one takes */
    uint32_t hist_cap, hist_len, hist_pos;
    size_t elem_dim; /* dilated: values of each element but the newest (n_fields: the recent
                        means are the newest element's alone) */
    double *dpoint; /* owned, dilated: elems x point_dim, the point composed for the forest */
    rcf_column_explanation_t *dexpl; /* owned, dilated with explain: point_dim, the elements'
                                        explanations folded per column */
} rcf_model_t;

static void rcf_destroy(void *model);

/* An instance around forest f, or (f NULL: shingle_size "auto") one that holds its first records
 * until it can choose the shingle size. */
static int wrap(rcf_forest_t *f, size_t n_fields, const rcf_conf_t *c, uint64_t key_seed,
                void **out, char *errstr, size_t es)
{
    rcf_model_t *m = rcfd_calloc(1, sizeof *m);
    if (m == NULL) {
        rcf_forest_destroy(f);
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    m->f = f;
    m->conf = *c;
    m->key_seed = key_seed;
    m->n_fields = n_fields;
    int64_t recent_mean = c->recent_mean;
    m->recent_mean = recent_mean;
    m->point_dim = recent_mean > 0 ? 2 * n_fields : n_fields;
    /* The key forgets its earlier rises at the rate its forest forgets points. */
    rcf_params_t held;
    forest_params(c, n_fields, key_seed, 1, &held);
    const rcf_params_t *p = f != NULL ? rcf_forest_params(f) : &held;
    rcfd_alert_init(&m->alert, c->alert_rate, p->shingle_size);
    rcfd_novelty_init(&m->novelty, (double)p->time_decay);
    int rc = 0;
    if (recent_mean > 0) {
        m->mean = rcfd_calloc(2 * n_fields, sizeof *m->mean);
        rc = m->mean != NULL ? 0 : RCFD_ENOMEM;
    }
    if (rc == 0 && recent_mean > 0) {
        m->probe = rcfd_calloc(2 * n_fields, sizeof *m->probe);
        rc = m->probe != NULL ? 0 : RCFD_ENOMEM;
    }
    if (rc == 0 && (recent_mean > 0 || f == NULL) && p->explain) {
        m->expl = rcfd_calloc(n_fields, sizeof *m->expl);
        rc = m->expl != NULL ? 0 : RCFD_ENOMEM;
    }
    if (rc != 0) {
        rcf_destroy(m);
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    *out = m;
    return 0;
}

static int rcf_create(const void *conf, size_t n_fields, uint64_t key_seed, void **out,
                      char *errstr, size_t es)
{
    const rcf_conf_t *c = conf;
    rcf_forest_t *f = NULL;
    if (c->shingle_size != SHINGLE_AUTO) {
        rcf_params_t p;
        to_params(c, n_fields, key_seed, &p);
        int rc = rcf_forest_new(&p, &f, errstr, es);
        if (rc != 0) {
            return rc;
        }
    }
    return wrap(f, n_fields, c, key_seed, out, errstr, es);
}

/* Frees a dilated shingle's buffers; the model is undilated after. */
static void dilation_free(rcf_model_t *m)
{
    rcfd_free(m->hist);
    rcfd_free(m->dpoint);
    rcfd_free(m->dexpl);
    m->hist = m->dpoint = NULL;
    m->dexpl = NULL;
    m->stride = m->elems = m->hist_cap = m->hist_len = m->hist_pos = 0;
}

static void rcf_destroy(void *model)
{
    rcf_model_t *m = model;
    rcf_forest_destroy(m->f);
    rcfd_free(m->mean);
    rcfd_free(m->expl);
    rcfd_free(m->probe);
    rcfd_free(m->pending);
    rcfd_free(m->x_point);
    rcfd_free(m->x_record);
    rcfd_free(m->x_missing);
    rcfd_free(m->x_values);
    rcfd_free(m->scales);
    rcfd_free(m->scaled);
    rcfd_impute_state_free(m->imp);
    dilation_free(m);
    rcfd_free(m);
}

/* The forest's input with a dilated shingle of `elems` elements: the older elements carry the
 * fields' values only (n_fields), the newest the whole point (with recent means, the means
 * too: they change slowly, so one copy is enough and copies in every element would take half of
 * the cuts). */
static size_t dilated_dim(size_t elems, size_t point_dim, size_t n_fields)
{
    return (elems - 1) * n_fields + point_dim;
}

/* Sets m up for a dilated shingle of `elems` elements `stride` records apart, its history empty;
 * RCFD_ENOMEM leaves it undilated. */
static int dilation_init(rcf_model_t *m, uint32_t stride, uint32_t elems)
{
    m->hist_cap = (elems - 1) * stride;
    m->hist_len = m->hist_pos = 0;
    m->hist = rcfd_calloc((size_t)m->hist_cap * m->point_dim, sizeof *m->hist);
    m->elem_dim = m->n_fields;
    m->dpoint = rcfd_calloc(dilated_dim(elems, m->point_dim, m->n_fields), sizeof *m->dpoint);
    int ok = m->hist != NULL && m->dpoint != NULL;
    if (ok && m->conf.explain) {
        m->dexpl = rcfd_calloc(m->point_dim, sizeof *m->dexpl);
        if (m->expl == NULL) {
            m->expl = rcfd_calloc(m->n_fields, sizeof *m->expl);
        }
        ok = m->dexpl != NULL && m->expl != NULL;
    }
    if (!ok) {
        dilation_free(m);
        return RCFD_ENOMEM;
    }
    m->stride = stride;
    m->elems = elems;
    return 0;
}

/* The point `age` records before the newest one (1: the last one pushed), age <= hist_len. */
static const double *hist_at(const rcf_model_t *m, uint32_t age)
{
    return m->hist + (size_t)((m->hist_pos + m->hist_cap - age) % m->hist_cap) * m->point_dim;
}

static void hist_push(rcf_model_t *m, const double *point)
{
    memcpy(m->hist + (size_t)m->hist_pos * m->point_dim, point, m->point_dim * sizeof *point);
    m->hist_pos = (m->hist_pos + 1) % m->hist_cap;
    m->hist_len += m->hist_len < m->hist_cap;
}

/* The dilated point whose newest element is `newest` (point_dim values): element j of
 * 0..elems-2 holds, per field, the mean of the `stride` records whose ages (1: the last one
 * pushed) are (elems - 2 - j) x stride + 1 .. (elems - 1 - j) x stride, so the elements tile the
 * span before the newest record without a gap; the newest element is the record itself, last as
 * in the forest's own shingles. Needs a full history. */
static void compose(const rcf_model_t *m, const double *newest, double *out)
{
    size_t pd = m->point_dim, ed = m->elem_dim;
    for (uint32_t j = 0; j + 1 < m->elems; j++) {
        double *o = out + j * ed;
        for (size_t c = 0; c < ed; c++) {
            o[c] = 0;
        }
        uint32_t last = (m->elems - 1 - j) * m->stride;
        for (uint32_t age = last - m->stride + 1; age <= last; age++) {
            const double *h = hist_at(m, age);
            for (size_t c = 0; c < ed; c++) {
                o[c] += h[c];
            }
        }
        for (size_t c = 0; c < ed; c++) {
            o[c] /= m->stride;
        }
    }
    memcpy(out + (size_t)(m->elems - 1) * ed, newest, pd * sizeof *out);
}

/* For a dilated model: composes the point for `fp` (scaled, point_dim values) into m->dpoint
 * and returns 1, or returns 0 while the history is still filling (nothing composed); RCFD_EDIM
 * for a wrong count. */
static int compose_ready(rcf_model_t *m, const double *fp, size_t dim)
{
    if (fp == NULL || dim != m->point_dim) {
        return RCFD_EDIM;
    }
    if (m->hist_len < m->hist_cap) {
        return 0;
    }
    compose(m, fp, m->dpoint);
    return 1;
}

/* One point (as the forest sees it: scaled) into the key's forest: as it is, or with a dilated
 * shingle composed into the point (a point that only fills the history yet is not scored). */
static int forest_step(rcf_model_t *m, const double *fp, size_t dim, rcf_result_t *r)
{
    if (m->stride <= 1) {
        return rcf_forest_process(m->f, fp, dim, r);
    }
    int ready = compose_ready(m, fp, dim);
    if (ready < 0) {
        return ready;
    }
    if (!ready) {
        for (size_t i = 0; i < dim; i++) {
            if (!isfinite(fp[i]) || fp[i] > FLT_MAX || fp[i] < -FLT_MAX) {
                return RCFD_ENONFINITE;
            }
        }
        hist_push(m, fp);
        *r = (rcf_result_t){.record = m->hist_len};
        return 0;
    }
    int rc = rcf_forest_process(m->f, m->dpoint, dilated_dim(m->elems, dim, m->n_fields), r);
    if (rc == 0) {
        hist_push(m, fp);
        r->record += m->hist_cap;
    }
    return rc;
}

/* Scores a point (scaled) as forest_step() would, learning nothing. */
static int forest_score_point(rcf_model_t *m, const double *fp, size_t dim, double *score)
{
    if (m->stride <= 1) {
        return rcf_forest_score(m->f, fp, dim, score, NULL, NULL);
    }
    int ready = compose_ready(m, fp, dim);
    if (ready == 0) {
        *score = 0;
    }
    if (ready <= 0) {
        return ready;
    }
    return rcf_forest_score(m->f, m->dpoint, dilated_dim(m->elems, dim, m->n_fields), score, NULL,
                            NULL);
}

/* The point in the forest's units: each field's value and its recent mean centred and divided by
 * the field's scale; `point` itself without scales (or with a count the forest will refuse). */
static const double *scale_point(const rcf_model_t *m, const double *point, size_t dim, double *out)
{
    if (m->scales == NULL || point == NULL || dim != m->point_dim) {
        return point;
    }
    for (size_t i = 0; i < dim; i++) {
        size_t f = i % m->n_fields;
        out[i] = (point[i] - m->scales[f]) / m->scales[m->n_fields + f];
    }
    return out;
}

/* Sets the scales from the held records (value columns only): mean and standard deviation per
 * field, 1 where a field did not vary. */
static int learn_scales(rcf_model_t *m)
{
    size_t n = m->n_fields, dim = m->point_dim;
    m->scales = rcfd_calloc(2 * n, sizeof *m->scales);
    m->scaled = rcfd_calloc(dim, sizeof *m->scaled);
    if (m->scales == NULL || m->scaled == NULL) {
        rcfd_free(m->scales);
        rcfd_free(m->scaled);
        m->scales = m->scaled = NULL;
        return RCFD_ENOMEM;
    }
    for (size_t f = 0; f < n; f++) {
        double mean = 0, ss = 0;
        for (uint32_t r = 0; r < m->n_pending; r++) {
            mean += m->pending[(size_t)r * dim + f];
        }
        mean /= m->n_pending;
        for (uint32_t r = 0; r < m->n_pending; r++) {
            double d = m->pending[(size_t)r * dim + f] - mean;
            ss += d * d;
        }
        double sd = sqrt(ss / m->n_pending);
        m->scales[f] = mean;
        m->scales[n + f] = sd > 1e-12 * (1.0 + fabs(mean)) && isfinite(sd) ? sd : 1.0;
    }
    return 0;
}

/* Payload of the pending section: u64 key seed, u32 point_dim, u32 records held, then that many
 * points of point_dim f64. */
static size_t pending_payload(const rcf_model_t *m)
{
    return 8 + 4 + 4 + 8 * (size_t)m->n_pending * m->point_dim;
}

/* Payload of the dilation section: u32 stride, u32 elements, u32 point_dim, u32 points held,
 * then that many points of point_dim f64 (as the forest sees them: scaled), oldest first. */
static size_t dilation_payload(const rcf_model_t *m)
{
    return 16 + 8 * (size_t)m->hist_len * m->point_dim;
}

/* Payload of the recent-means section: u64 recent_mean, u32 n_fields, u64 records seen, then
 * n_fields f64 means. */
static size_t recent_payload(const rcf_model_t *m)
{
    return 8 + 4 + 8 + 8 * m->n_fields;
}

/* A writer for the payload of a section appended to out (reserved already), after room for its
 * envelope; section_end seals it. */
static rcfd_writer_t section_begin(rcfd_buf_t *out, size_t payload)
{
    return (rcfd_writer_t){(unsigned char *)out->p + out->len + RCFD_SNAP_HEADER_SIZE, 0, payload};
}

static void section_end(rcfd_buf_t *out, const rcfd_writer_t *w, uint32_t kind, uint32_t version)
{
    rcfd_snap_seal((unsigned char *)out->p + out->len, kind, version, w->len);
    out->len += RCFD_SNAP_HEADER_SIZE + w->len;
}

/* A model's snapshot, what rcfd train writes, checkpoints hold and load() reads: the forest's
 * snapshot (or, while shingle_size "auto" still holds the key's first records, those in a
 * section of kind RCFD_SNAP_KIND_SHINGLE_PENDING), then sections in the common envelope: with recent_mean the key's recent means (kind
 * RCFD_SNAP_KIND_RECENT_MEANS), then the state of its anomaly_novelty (RCFD_SNAP_KIND_NOVELTY),
 * so a restored or warm-started key's novelty goes on exactly as it would have. */
/* Room for at least `records` held records (at most AUTO_RECORDS). */
static int pending_room(rcf_model_t *m, uint32_t records)
{
    if (records <= m->pending_cap) {
        return 0;
    }
    uint32_t cap = m->pending_cap > 0 ? m->pending_cap : 16;
    while (cap < records) {
        cap *= 2;
    }
    cap = cap < AUTO_RECORDS ? cap : AUTO_RECORDS;
    double *p = rcfd_realloc(m->pending, (size_t)cap * m->point_dim * sizeof *p);
    if (p == NULL) {
        return RCFD_ENOMEM;
    }
    m->pending = p;
    m->pending_cap = cap;
    return 0;
}

static int rcf_save(const void *model, rcfd_buf_t *out)
{
    const rcf_model_t *m = model;
    size_t need = m->f != NULL ? rcf_forest_snapshot_size(m->f)
                               : RCFD_SNAP_HEADER_SIZE + pending_payload(m);
    size_t extra = m->mean != NULL ? RCFD_SNAP_HEADER_SIZE + recent_payload(m) : 0;
    size_t nov = rcfd_novelty_payload_size(&m->novelty), len;
    size_t scales = m->scales != NULL ? RCFD_SNAP_HEADER_SIZE + 4 + 16 * m->n_fields : 0;
    size_t imp = m->imp != NULL ? rcfd_impute_section_size(m->imp) : 0;
    size_t dil = m->stride > 1 ? RCFD_SNAP_HEADER_SIZE + dilation_payload(m) : 0;
    int rc = rcfd_buf_reserve(out, need + extra + 2 * RCFD_SNAP_HEADER_SIZE + nov +
                                       rcfd_alert_payload_size(&m->alert) + scales + imp + dil);
    if (rc == 0 && m->f != NULL) {
        rc = rcf_forest_save(m->f, out->p + out->len, need, &len);
        out->len += rc == 0 ? len : 0;
    } else if (rc == 0) {
        rcfd_writer_t w = section_begin(out, pending_payload(m));
        rcfd_put_u64(&w, m->key_seed);
        rcfd_put_u32(&w, (uint32_t)m->point_dim);
        rcfd_put_u32(&w, m->n_pending);
        for (size_t i = 0; i < (size_t)m->n_pending * m->point_dim; i++) {
            rcfd_put_f64(&w, m->pending[i]);
        }
        section_end(out, &w, RCFD_SNAP_KIND_SHINGLE_PENDING, PENDING_VERSION);
    }
    if (rc != 0) {
        return rc;
    }
    if (m->stride > 1) { /* right after the forest's */
        rcfd_writer_t w = section_begin(out, dilation_payload(m));
        rcfd_put_u32(&w, m->stride);
        rcfd_put_u32(&w, m->elems);
        rcfd_put_u32(&w, (uint32_t)m->point_dim);
        rcfd_put_u32(&w, m->hist_len);
        for (uint32_t age = m->hist_len; age >= 1; age--) { /* oldest first */
            const double *pt = hist_at(m, age);
            for (size_t i = 0; i < m->point_dim; i++) {
                rcfd_put_f64(&w, pt[i]);
            }
        }
        section_end(out, &w, RCFD_SNAP_KIND_DILATION, DILATION_VERSION);
    }
    if (m->mean != NULL) {
        rcfd_writer_t w = section_begin(out, recent_payload(m));
        rcfd_put_u64(&w, (uint64_t)m->recent_mean);
        rcfd_put_u32(&w, (uint32_t)m->n_fields);
        rcfd_put_u64(&w, m->seen);
        for (size_t i = 0; i < m->n_fields; i++) {
            rcfd_put_f64(&w, m->mean[m->n_fields + i]);
        }
        section_end(out, &w, RCFD_SNAP_KIND_RECENT_MEANS, RECENT_VERSION);
    }
    rcfd_writer_t w = section_begin(out, nov);
    rcfd_novelty_write(&m->novelty, &w);
    section_end(out, &w, RCFD_SNAP_KIND_NOVELTY, RCFD_NOVELTY_STATE_VERSION);
    w = section_begin(out, rcfd_alert_payload_size(&m->alert));
    rcfd_alert_write(&m->alert, &w);
    section_end(out, &w, RCFD_SNAP_KIND_ALERT, RCFD_ALERT_STATE_VERSION);
    if (m->scales != NULL) { /* u32 fields, then per field its mean, then per field its scale */
        w = section_begin(out, 4 + 16 * m->n_fields);
        rcfd_put_u32(&w, (uint32_t)m->n_fields);
        for (size_t i = 0; i < 2 * m->n_fields; i++) {
            rcfd_put_f64(&w, m->scales[i]);
        }
        section_end(out, &w, RCFD_SNAP_KIND_SCALES, SCALES_VERSION);
    }
    if (m->imp != NULL) {
        rcfd_impute_section_write(m->imp, out);
    }
    return 0;
}

/* The length of the snapshot section at the start of buf (its envelope declares it); len when it
 * cannot be read, so the section's loader reports the problem. */
static size_t section_len(const unsigned char *b, size_t len)
{
    if (len < RCFD_SNAP_HEADER_SIZE) {
        return len;
    }
    rcfd_reader_t r = {b, RCFD_SNAP_HEADER_SIZE, 16, 0};
    uint64_t payload = rcfd_get_u64(&r);
    return payload <= len - RCFD_SNAP_HEADER_SIZE ? RCFD_SNAP_HEADER_SIZE + (size_t)payload : len;
}

/* Reads the recent-means section into m (recent_mean and the field count already checked against
 * the config by the caller through want). */
static int load_recent(rcf_model_t *m, const unsigned char *b, size_t len, size_t at, char *errstr,
                       size_t es)
{
    const unsigned char *payload;
    size_t plen;
    int rc = rcfd_snap_open_version(b, len, RCFD_SNAP_KIND_RECENT_MEANS, RECENT_VERSION,
                                    "recent-means snapshot", &payload, &plen, errstr, es);
    if (rc != 0) {
        return rc;
    }
    rcfd_reader_t r = {payload, plen, 0, 0};
    uint64_t recent = rcfd_get_u64(&r);
    uint32_t n = rcfd_get_u32(&r);
    uint64_t seen = rcfd_get_u64(&r);
    if (r.err == 0 && (recent != (uint64_t)m->recent_mean || n != m->n_fields)) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "snapshot was trained with a different %s than the config gives",
                         recent != (uint64_t)m->recent_mean ? "recent_mean" : "number of fields");
    }
    if (plen != recent_payload(m)) {
        return rcfd_errf(
            RCFD_EBADSTATE, errstr, es,
            "snapshot byte %zu: the recent-means section holds %zu bytes, expected %zu", at, plen,
            recent_payload(m));
    }
    for (size_t i = 0; i < m->n_fields; i++) {
        double v = rcfd_get_f64(&r);
        if (!isfinite(v)) {
            return rcfd_errf(RCFD_EBADSTATE, errstr, es,
                             "snapshot byte %zu: recent mean %zu is not finite",
                             at + RCFD_SNAP_HEADER_SIZE + 20 + 8 * i, i);
        }
        m->mean[m->n_fields + i] = v;
    }
    m->seen = seen;
    return 0;
}

/* Opens the section of `kind` at byte `at` of a snapshot (b, len: from there on) for reading, of
 * any version from 1 to `newest` (l->version says which): errors name the section and the byte,
 * and l's offsets count from the snapshot's start. */
static int open_section(const unsigned char *b, size_t len, size_t at, uint32_t kind,
                        uint32_t newest, const char *what, rcfd_snap_loader_t *l, char *errstr,
                        size_t es)
{
    const unsigned char *payload;
    size_t plen;
    uint32_t version;
    char why[200];
    int rc = rcfd_snap_open(b, len, kind, &payload, &plen, &version, why, sizeof why);
    if (rc == 0 && (version < 1 || version > newest)) {
        rc = rcfd_errf(RCFD_EVERSION, why, sizeof why,
                       "version %u is not supported (this build reads 1 to %u)", version, newest);
    }
    if (rc != 0) {
        return rcfd_errf(rc, errstr, es, "the %s at byte %zu: %s", what, at, why);
    }
    *l = (rcfd_snap_loader_t){{payload, plen, 0, 0}, errstr, es, at, version};
    return 0;
}

/* Reads the scales section into m (a forest's key under normalize "auto"). */
static int load_scales(rcf_model_t *m, const unsigned char *b, size_t len, size_t at,
                       char *errstr, size_t es)
{
    rcfd_snap_loader_t l;
    int rc = open_section(b, len, at, RCFD_SNAP_KIND_SCALES, SCALES_VERSION, "scales section", &l,
                          errstr, es);
    if (rc != 0) {
        return rc;
    }
    uint32_t n = rcfd_get_u32(&l.r);
    if (l.r.err != 0 || n != m->n_fields || l.r.len != 4 + 16 * (size_t)n) {
        return rcfd_errf(RCFD_EBADSTATE, errstr, es,
                         "snapshot byte %zu: the scales section holds %zu bytes for %u fields; "
                         "the config gives %zu fields",
                         at, l.r.len, n, m->n_fields);
    }
    m->scales = rcfd_calloc(2 * n, sizeof *m->scales);
    m->scaled = rcfd_calloc(m->point_dim, sizeof *m->scaled);
    if (m->scales == NULL || m->scaled == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    for (size_t i = 0; i < 2 * (size_t)n; i++) {
        size_t pos = rcfd_snap_at(&l);
        double v = rcfd_get_f64(&l.r);
        if (!isfinite(v) || (i >= n && !(v > 0))) {
            return rcfd_errf(RCFD_EBADSTATE, errstr, es,
                             "snapshot byte %zu: a field's %s is %g, not a finite%s number", pos,
                             i < n ? "mean" : "scale", v, i < n ? "" : " positive");
        }
        m->scales[i] = v;
    }
    return 0;
}

/* Reads the novelty section into m's novelty, which wrap() initialised for the key. */
static int load_novelty(rcf_model_t *m, const unsigned char *b, size_t len, size_t at, char *errstr,
                        size_t es)
{
    rcfd_snap_loader_t l;
    int rc = open_section(b, len, at, RCFD_SNAP_KIND_NOVELTY, RCFD_NOVELTY_STATE_VERSION,
                          "novelty section", &l, errstr, es);
    return rc != 0 ? rc : rcfd_novelty_read(&m->novelty, &l, l.version, m->n_fields);
}

/* Reads the alert decision's section into m's, which wrap() initialised from the config. */
static int load_alert(rcf_model_t *m, const unsigned char *b, size_t len, size_t at, char *errstr,
                      size_t es)
{
    rcfd_snap_loader_t l;
    int rc = open_section(b, len, at, RCFD_SNAP_KIND_ALERT, RCFD_ALERT_STATE_VERSION,
                          "alert section", &l, errstr, es);
    return rc != 0 ? rc : rcfd_alert_read(&m->alert, &l, l.version);
}

/* Reads the records a key held while choosing its shingle size, and the key's seed (which the
 * forest built later needs), into m, wrap()ped without a forest. */
static int load_pending(rcf_model_t *m, const unsigned char *b, size_t len, char *errstr,
                        size_t es)
{
    rcfd_snap_loader_t l;
    int rc = open_section(b, len, 0, RCFD_SNAP_KIND_SHINGLE_PENDING, PENDING_VERSION,
                          "held-records section", &l, errstr, es);
    if (rc != 0) {
        return rc;
    }
    m->key_seed = rcfd_get_u64(&l.r);
    uint32_t dim = rcfd_get_u32(&l.r);
    uint32_t n = rcfd_get_u32(&l.r);
    if (l.r.err == 0 && dim != m->point_dim) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "snapshot holds records of %u values, the config gives %zu (fields and "
                         "recent_mean)",
                         dim, m->point_dim);
    }
    if (l.r.err != 0 || n >= AUTO_RECORDS || l.r.len != 16 + 8 * (size_t)n * dim) {
        return rcfd_errf(RCFD_EBADSTATE, errstr, es,
                         "snapshot byte %zu: the held-records section holds %zu bytes, not 16 "
                         "plus fewer than %u records of %u values",
                         (size_t)RCFD_SNAP_HEADER_SIZE, l.r.len, AUTO_RECORDS, dim);
    }
    if (pending_room(m, n) != 0) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    for (size_t i = 0; i < (size_t)n * dim; i++) {
        double v = rcfd_get_f64(&l.r);
        if (!isfinite(v) || v > FLT_MAX || v < -FLT_MAX) {
            return rcfd_errf(RCFD_EBADSTATE, errstr, es,
                             "snapshot byte %zu: held value %zu is not a finite float",
                             rcfd_snap_at(&l) - 8, i);
        }
        m->pending[i] = v;
    }
    m->n_pending = n;
    return 0;
}

/* Reads the dilation section (b, len: from byte `at` of the snapshot) into m, wrap()ped around a
 * forest whose input is `elems` x point_dim values and whose shingle is 1 (checked by the caller
 * from dilation_header()). */
static int load_dilation(rcf_model_t *m, const unsigned char *b, size_t len, size_t at,
                         char *errstr, size_t es)
{
    rcfd_snap_loader_t l;
    int rc = open_section(b, len, at, RCFD_SNAP_KIND_DILATION, DILATION_VERSION,
                          "dilation section", &l, errstr, es);
    if (rc != 0) {
        return rc;
    }
    uint32_t stride = rcfd_get_u32(&l.r), elems = rcfd_get_u32(&l.r);
    uint32_t dim = rcfd_get_u32(&l.r), n = rcfd_get_u32(&l.r);
    if (l.r.err != 0 || stride < 2 || elems < 2 || elems > AUTO_MAX_SHINGLE ||
        dim != m->point_dim || n > (elems - 1) * stride ||
        l.r.len != 16 + 8 * (size_t)n * dim) {
        return rcfd_errf(RCFD_EBADSTATE, errstr, es,
                         "snapshot byte %zu: the dilation section (stride %u, %u elements, %u "
                         "records of %u values in %zu bytes) does not fit a key of %zu values",
                         at, stride, elems, n, dim, l.r.len, m->point_dim);
    }
    if (dilation_init(m, stride, elems) != 0) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    for (uint32_t k = 0; k < n; k++) {
        double *pt = m->hist + (size_t)k * dim;
        for (size_t i = 0; i < dim; i++) {
            double v = rcfd_get_f64(&l.r);
            if (!isfinite(v) || v > FLT_MAX || v < -FLT_MAX) {
                return rcfd_errf(RCFD_EBADSTATE, errstr, es,
                                 "snapshot byte %zu: a recent record's value is not a finite "
                                 "float",
                                 rcfd_snap_at(&l) - 8);
            }
            pt[i] = v;
        }
    }
    m->hist_len = n;
    m->hist_pos = n % m->hist_cap;
    rcfd_alert_set_shingle(&m->alert, elems);
    return 0;
}

/* Stride and elements the dilation section at b declares (0, 0 when unreadable: load_dilation()
 * then reports why). */
static void dilation_header(const unsigned char *b, size_t len, uint32_t *stride, uint32_t *elems)
{
    *stride = *elems = 0;
    if (len >= RCFD_SNAP_HEADER_SIZE + 8) {
        rcfd_reader_t r = {b, len, RCFD_SNAP_HEADER_SIZE, 0};
        *stride = rcfd_get_u32(&r);
        *elems = rcfd_get_u32(&r);
    }
}

/* The sections after the forest's (or the held records'), at the offsets rcf_load() found (0:
 * absent), into *out; on an error *out is destroyed and NULL. */
static int load_sections(void **out, const unsigned char *snap, size_t len, size_t recent_at,
                         size_t novelty_at, size_t alert_at, size_t scales_at, size_t impute_at,
                         char *errstr, size_t es)
{
    rcf_model_t *m = *out;
    int rc = 0;
    size_t scales_end = impute_at > 0 ? impute_at : len;
    size_t alert_end = scales_at > 0 ? scales_at : scales_end;
    size_t novelty_end = alert_at > 0 ? alert_at : alert_end;
    if (recent_at > 0) {
        size_t end = novelty_at > 0 ? novelty_at : novelty_end;
        rc = load_recent(m, snap + recent_at, end - recent_at, recent_at, errstr, es);
    }
    if (rc == 0 && novelty_at > 0) { /* snapshots of earlier versions have none: a cold novelty */
        rc = load_novelty(m, snap + novelty_at, novelty_end - novelty_at, novelty_at, errstr, es);
    }
    if (rc == 0 && alert_at > 0) { /* earlier snapshots have none: the decision calibrates anew */
        rc = load_alert(m, snap + alert_at, alert_end - alert_at, alert_at, errstr, es);
    }
    if (rc == 0 && scales_at > 0) {
        rc = load_scales(m, snap + scales_at, scales_end - scales_at, scales_at, errstr, es);
    }
    if (rc == 0 && impute_at > 0) { /* earlier snapshots, or no impute: the state starts anew */
        rc = rcfd_impute_section_load(snap + impute_at, len - impute_at, impute_at, m->n_fields,
                                      &m->imp, errstr, es);
    }
    if (rc != 0) {
        rcf_destroy(m);
        *out = NULL;
    }
    return rc;
}

static int rcf_load(const void *conf, size_t n_fields, const void *buf, size_t len, void **out,
                    char *errstr, size_t es)
{
    const rcf_conf_t *c = conf;
    const unsigned char *snap = buf;
    size_t flen = section_len(snap, len);
    /* Sections after the forest's: at most one of each kind, in the order save() writes them. */
    size_t recent_at = 0, novelty_at = 0, alert_at = 0, scales_at = 0, impute_at = 0;
    size_t dilation_at = 0;
    for (size_t at = flen; at < len; at += section_len(snap + at, len - at)) {
        uint32_t kind = 0;
        if (len - at >= 12) {
            rcfd_reader_t r = {snap + at, len - at, 8, 0};
            kind = rcfd_get_u32(&r);
        }
        if (kind == RCFD_SNAP_KIND_DILATION && at == flen) { /* right after the forest's only */
            dilation_at = at;
            continue;
        }
        if (impute_at > 0) {
            kind = 0; /* the impute state is the last section */
        } else if (kind == RCFD_SNAP_KIND_IMPUTE) {
            impute_at = at;
            continue;
        }
        if (kind == RCFD_SNAP_KIND_RECENT_MEANS && recent_at == 0 && novelty_at == 0 &&
            alert_at == 0) {
            recent_at = at;
        } else if (kind == RCFD_SNAP_KIND_NOVELTY && novelty_at == 0 && alert_at == 0) {
            novelty_at = at;
        } else if (kind == RCFD_SNAP_KIND_ALERT && alert_at == 0 && scales_at == 0) {
            alert_at = at;
        } else if (kind == RCFD_SNAP_KIND_SCALES && scales_at == 0) {
            scales_at = at;
        } else {
            return rcfd_errf(RCFD_EBADSTATE, errstr, es,
                             "snapshot byte %zu: a section of kind %u where a model's recent "
                             "means (%u), novelty (%u), alert decision (%u), scales (%u) or "
                             "impute state (%u, last) may follow",
                             at, kind, RCFD_SNAP_KIND_RECENT_MEANS, RCFD_SNAP_KIND_NOVELTY,
                             RCFD_SNAP_KIND_ALERT, RCFD_SNAP_KIND_SCALES, RCFD_SNAP_KIND_IMPUTE);
        }
    }
    if (scales_at > 0 && c->normalize != NORMALIZE_AUTO) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "snapshot was trained with normalize \"auto\" (it holds its fields' "
                         "scales); the config gives normalize \"none\"");
    }
    if ((c->recent_mean > 0) != (recent_at > 0)) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "snapshot was trained with a different recent_mean than the config gives "
                         "(%s)",
                         recent_at > 0 ? "the snapshot has recent means" : "the snapshot has none");
    }
    uint32_t first_kind = 0;
    if (len >= 12) {
        rcfd_reader_t r = {snap, len, 8, 0};
        first_kind = rcfd_get_u32(&r);
    }
    if (dilation_at > 0 && (first_kind != RCFD_SNAP_KIND_RCF || c->shingle_size != SHINGLE_AUTO)) {
        return rcfd_errf(first_kind != RCFD_SNAP_KIND_RCF ? RCFD_EBADSTATE : RCFD_ECONFIG, errstr,
                         es,
                         first_kind != RCFD_SNAP_KIND_RCF
                             ? "snapshot byte %zu: a dilation section after something other "
                               "than a forest"
                             : "snapshot chose a dilated automatic shingle (byte %zu); the config "
                               "gives a fixed shingle_size",
                         dilation_at);
    }
    if (first_kind == RCFD_SNAP_KIND_SHINGLE_PENDING) {
        if (c->shingle_size != SHINGLE_AUTO) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es,
                             "snapshot was still choosing an automatic shingle size; the config "
                             "gives shingle_size %lld",
                             (long long)c->shingle_size);
        }
        int rc = wrap(NULL, n_fields, c, 0, out, errstr, es);
        if (rc == 0 && (rc = load_pending(*out, snap, flen, errstr, es)) != 0) {
            rcf_destroy(*out);
            *out = NULL;
        }
        return rc ? rc : load_sections(out, snap, len, recent_at, novelty_at, alert_at, scales_at, impute_at, errstr,
                                       es);
    }
    rcf_forest_t *f;
    int rc = rcf_forest_load(buf, flen, &f, errstr, es);
    if (rc != 0) {
        return rc;
    }
    /* The parameters the config gives, completed by the library's defaults (as create does); an
     * automatic shingle size is whichever "auto" may have chosen. */
    rcf_params_t want;
    uint32_t shingle = rcf_forest_params(f)->shingle_size, stride = 0, elems = 0;
    if (dilation_at > 0) { /* the model composes the points: the forest's shingle is 1 */
        dilation_header(snap + dilation_at, len - dilation_at, &stride, &elems);
        shingle = 1;
    }
    forest_params(c, n_fields, 0, shingle <= AUTO_MAX_SHINGLE ? shingle : 1, &want);
    if (dilation_at > 0) {
        want.input_dim = elems >= 1 ? (uint32_t)dilated_dim(elems, want.input_dim, n_fields) : 0;
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
    rc = wrap(f, n_fields, c, 0, out, errstr, es);
    if (rc == 0 && dilation_at > 0) {
        size_t dlen = section_len(snap + dilation_at, len - dilation_at);
        rc = load_dilation(*out, snap + dilation_at, dlen, dilation_at, errstr, es);
        if (rc != 0) {
            rcf_destroy(*out);
            *out = NULL;
        }
    }
    return rc ? rc : load_sections(out, snap, len, recent_at, novelty_at, alert_at, scales_at, impute_at, errstr,
                                       es);
}

/* The result must outlive process(); the forest keeps explanation arrays, we keep the struct. */
typedef rcfd_rcf_result_t rcf_model_result_t;

static _Thread_local rcf_model_result_t last_result;

/* Chooses the shingle size from the held records (AUTO_RECORDS of them), builds the key's forest
 * and trains it on them in order. On an error (out of memory) nothing changes: the next record
 * tries again. */
static int build_forest(rcf_model_t *m)
{
    size_t period = 0;
    for (size_t i = 0; i < m->n_fields; i++) {
        size_t p = rcfd_period_estimate(m->pending + i, m->n_pending, m->point_dim, AUTO_MAX_LAG);
        period = p > period ? p : period;
    }
    uint32_t shingle = period < 1 ? 1u : (uint32_t)period, stride = 1;
    if (period > AUTO_MAX_SHINGLE) { /* dilated: at most the cap's elements, spanning the period */
        stride = (uint32_t)((period + AUTO_MAX_SHINGLE - 1) / AUTO_MAX_SHINGLE);
        shingle = (uint32_t)((period + stride - 1) / stride);
    }
    rcf_params_t p;
    forest_params(&m->conf, m->n_fields, m->key_seed, stride > 1 ? 1u : shingle, &p);
    if (stride > 1) {
        /* the model composes the point */
        p.input_dim = (uint32_t)dilated_dim(shingle, p.input_dim, m->n_fields);
    }
    rcf_forest_t *f;
    char err[256];
    int rc = rcf_forest_new(&p, &f, err, sizeof err);
    if (rc != 0) {
        return rc;
    }
    if (stride > 1 && (rc = dilation_init(m, stride, shingle)) != 0) {
        rcf_forest_destroy(f);
        return rc;
    }
    if (m->conf.normalize == NORMALIZE_AUTO && (rc = learn_scales(m)) != 0) {
        rcf_forest_destroy(f);
        dilation_free(m);
        return rc;
    }
    m->f = f;
    rcf_result_t ignored;
    for (uint32_t i = 0; i < m->n_pending && rc == 0; i++) {
        const double *pt = m->pending + (size_t)i * m->point_dim;
        rc = forest_step(m, scale_point(m, pt, m->point_dim, m->scaled), m->point_dim, &ignored);
    }
    if (rc != 0) { /* the records were checked when held, scaled values too: not reached */
        m->f = NULL;
        rcf_forest_destroy(f);
        dilation_free(m);
        rcfd_free(m->scales);
        rcfd_free(m->scaled);
        m->scales = m->scaled = NULL;
        return rc;
    }
    rcfd_free(m->pending);
    m->pending = NULL;
    m->n_pending = m->pending_cap = 0;
    /* the episode's quiet spell: the shingle's elements (a dilated shingle's newest record is one
     * element; older records weigh 1/stride each in theirs) */
    rcfd_alert_set_shingle(&m->alert, shingle);
    return 0;
}

/* The buffers of a conditional estimate (expected values, imputation): once per key, the
 * runtime counts them (rcfd_keymodels_grew). */
static int estimate_room(rcf_model_t *m)
{
    if (m->x_point == NULL) {
        size_t shingle = rcf_forest_params(m->f)->shingle_size;
        size_t in = m->stride > 1 ? dilated_dim(m->elems, m->point_dim, m->n_fields) : m->point_dim;
        m->x_point = rcfd_calloc(in * shingle, sizeof *m->x_point);
        m->x_record = rcfd_calloc(in, sizeof *m->x_record);
        m->x_missing = rcfd_calloc(m->n_fields, sizeof *m->x_missing);
        m->x_values = rcfd_calloc(m->n_fields, sizeof *m->x_values);
    }
    return m->x_point == NULL || m->x_record == NULL || m->x_missing == NULL ||
                   m->x_values == NULL
               ? RCFD_ENOMEM
               : 0;
}

/* impute: the forest's estimate of the missing fields given the present ones, the key's last
 * shingle_size - 1 records and (with recent means) the means, exactly as expected_values() asks
 * for all fields; RCFD_EAGAIN while the forest is not built or not past output_after, or the
 * shingle is not full yet, and when nothing is known (shingle 1, every field missing). */
static int rcf_impute(void *model, double *values, const unsigned char *missing, size_t n)
{
    rcf_model_t *m = model;
    if (n != m->n_fields) {
        return RCFD_EDIM;
    }
    rcf_stats_t st;
    if (m->f == NULL || (m->mean != NULL && m->seen == 0)) {
        return RCFD_EAGAIN;
    }
    rcf_forest_stats(m->f, &st);
    const rcf_params_t *p = rcf_forest_params(m->f);
    if ((p->output_after > 0 && st.records < (uint64_t)p->output_after) ||
        (m->stride > 1 && m->hist_len < m->hist_cap)) {
        return RCFD_EAGAIN;
    }
    int rc = estimate_room(m);
    if (rc != 0) {
        return rc;
    }
    /* the forest's input: the record, or the dilated point whose newest element it is */
    size_t in = p->input_dim, newest = in - m->point_dim;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        m->x_record[i] = missing[i] ? NAN : values[i];
        if (m->mean != NULL) {
            m->x_record[n + i] = m->mean[n + i];
        }
        if (missing[i]) {
            m->x_missing[k++] = (uint32_t)((p->shingle_size - 1) * in + newest + i);
        }
    }
    if (k == n && p->shingle_size == 1 && m->stride <= 1) {
        /* nothing observed to condition on: the trees would answer a typical value near the
         * key's recent means, a lagging level; the previous value is the better guess */
        return RCFD_EAGAIN;
    }
    const double *rec = scale_point(m, m->x_record, m->point_dim, m->scaled);
    if (m->stride > 1) {
        compose(m, rec, m->dpoint);
        rec = m->dpoint;
    }
    rc = rcf_forest_point(m->f, rec, m->x_point);
    rc = rc ? rc
            : rcf_forest_impute(m->f, m->x_point, m->x_missing, k, 0.25, m->x_values, NULL, NULL);
    if (rc != 0) {
        return rc;
    }
    k = 0;
    for (size_t i = 0; i < n; i++) {
        if (missing[i]) {
            double v = m->x_values[k++];
            values[i] = m->scales != NULL ? v * m->scales[n + i] + m->scales[i] : v;
        }
    }
    return 0;
}

static rcfd_impute_state_t **rcf_impute_state(void *model)
{
    return &((rcf_model_t *)model)->imp;
}

/* expected: the forest's estimate of the record's fields given the key's last shingle_size - 1
 * records (and, with recent means, the record's means), computed before the record joins the
 * forest (once it has, its own leaf would answer); NULL when the score will not cross the alert
 * threshold or there is nothing to estimate from yet. */
static const double *expected_values(rcf_model_t *m, const double *point, size_t dim)
{
    double score;
    if (!m->conf.expected || m->f == NULL || isnan(m->alert.threshold) ||
        rcf_forest_score(m->f, point, dim, &score, NULL, NULL) != 0 ||
        !(score > m->alert.threshold)) {
        return NULL;
    }
    size_t shingle = rcf_forest_params(m->f)->shingle_size;
    if (estimate_room(m) != 0) {
        return NULL; /* the record is still scored; destroy() frees what was allocated */
    }
    /* point: the record, or the dilated point whose newest element it is */
    size_t newest = dim - m->point_dim;
    memcpy(m->x_record, point, dim * sizeof *point);
    for (size_t i = 0; i < m->n_fields; i++) {
        m->x_record[newest + i] = NAN; /* the fields; the recent means stay known */
        m->x_missing[i] = (uint32_t)((shingle - 1) * dim + newest + i);
    }
    if (rcf_forest_point(m->f, m->x_record, m->x_point) != 0 ||
        rcf_forest_impute(m->f, m->x_point, m->x_missing, m->n_fields, 0.25, m->x_values, NULL,
                          NULL) != 0) {
        return NULL;
    }
    for (size_t i = 0; m->scales != NULL && i < m->n_fields; i++) { /* back to the field's units */
        m->x_values[i] = m->x_values[i] * m->scales[m->n_fields + i] + m->scales[i];
    }
    return m->x_values;
}

/* While the shingle size is being chosen: checks the record's point as the forest would, holds
 * it, and answers "warming up"; the AUTO_RECORDS-th builds the forest. */
static int hold(rcf_model_t *m, const double *point, size_t dim, rcf_result_t *r)
{
    if (point == NULL || dim != m->point_dim) {
        return RCFD_EDIM;
    }
    for (size_t i = 0; i < dim; i++) {
        if (!isfinite(point[i]) || point[i] > FLT_MAX || point[i] < -FLT_MAX) {
            return RCFD_ENONFINITE;
        }
    }
    if (pending_room(m, m->n_pending + 1) != 0) {
        return RCFD_ENOMEM;
    }
    memcpy(m->pending + (size_t)m->n_pending * dim, point, dim * sizeof *point);
    m->n_pending++;
    *r = (rcf_result_t){.record = m->n_pending};
    if (m->expl != NULL) {
        for (size_t c = 0; c < m->n_fields; c++) {
            m->expl[c] = (rcf_column_explanation_t){0.0, 0.0, RCF_DIRECTION_LOW};
        }
        r->explanation = m->expl;
    }
    if (m->n_pending == AUTO_RECORDS) {
        (void)build_forest(m); /* on failure the held records stay, and the next record retries */
    }
    return 0;
}

static int rcf_process(void *model, const double *values, size_t n, const void **result)
{
    rcf_model_t *m = model;
    const double *point = values;
    size_t dim = n;
    if (m->mean != NULL && n == m->n_fields) {
        /* the forest's point: the values, then the means of the key's earlier values (the first
         * record's own values stand in for them) */
        memcpy(m->mean, values, n * sizeof *values);
        if (m->seen == 0) {
            memcpy(m->mean + n, values, n * sizeof *values);
        }
        point = m->mean;
        dim = 2 * n;
    }
    int rc = 0;
    if (m->f == NULL && m->n_pending == AUTO_RECORDS) {
        rc = build_forest(m); /* an earlier try ran out of memory */
    }
    int held = m->f == NULL;
    const double *fp = held ? point : scale_point(m, point, dim, m->scaled);
    const double *expected = NULL;
    if (rc == 0 && !held && m->stride > 1 && dim == m->point_dim && m->hist_len == m->hist_cap) {
        compose(m, fp, m->dpoint); /* what the forest will see */
        expected = expected_values(m, m->dpoint, dilated_dim(m->elems, dim, m->n_fields));
    } else if (rc == 0 && !held && m->stride <= 1) {
        expected = expected_values(m, fp, dim);
    }
    if (rc == 0) {
        rc = held ? hold(m, point, dim, &last_result.r) : forest_step(m, fp, dim, &last_result.r);
    }
    if (rc != 0) {
        return rc;
    }
    last_result.shingle_size = m->conf.shingle_size != SHINGLE_AUTO ? (uint32_t)m->conf.shingle_size
                               : m->stride > 1                     ? m->elems
                               : m->f != NULL ? rcf_forest_params(m->f)->shingle_size
                                              : 0;
    last_result.shingle_stride = m->stride > 1 ? m->stride : 1;
    last_result.auto_shingle = m->conf.shingle_size == SHINGLE_AUTO;
    last_result.expected = expected;
    if (!held && m->stride > 1 && m->dexpl != NULL && last_result.r.explanation != NULL) {
        /* A dilated shingle: per column, the attribution of all its elements (as the forest folds
         * its own shingle's), the direction of their sum, the strength of the newest element. */
        const rcf_column_explanation_t *x = last_result.r.explanation;
        const double *hi = last_result.r.attribution_high, *lo = last_result.r.attribution_low;
        size_t pd = m->point_dim, ed = m->elem_dim, newest = (m->elems - 1) * ed;
        for (size_t c = 0; c < pd; c++) {
            double a = x[newest + c].attribution;
            double h = hi != NULL ? hi[newest + c] : 0, l = lo != NULL ? lo[newest + c] : 0;
            for (uint32_t j = 0; c < ed && j + 1 < m->elems; j++) {
                a += x[j * ed + c].attribution;
                h += hi != NULL ? hi[j * ed + c] : 0;
                l += lo != NULL ? lo[j * ed + c] : 0;
            }
            m->dexpl[c] = (rcf_column_explanation_t){
                a, x[newest + c].strength, h > l ? RCF_DIRECTION_HIGH : RCF_DIRECTION_LOW};
        }
        last_result.r.explanation = m->dexpl;
    }
    if (!held && m->expl != NULL && last_result.r.explanation != NULL) {
        /* A column's attribution is its value's and its recent mean's together, so the columns
         * still sum to the score as KDA's do; STRENGTH and DIRECTION are the value's own. */
        const rcf_column_explanation_t *x = last_result.r.explanation;
        for (size_t i = 0; i < n; i++) {
            m->expl[i] = x[i];
            m->expl[i].attribution += m->mean != NULL ? x[n + i].attribution : 0;
        }
        last_result.r.explanation = m->expl;
    }
    if (m->mean != NULL) {
        double w = 1.0 / (double)m->recent_mean;
        for (size_t i = 0; i < n; i++) {
            m->mean[n + i] += w * (values[i] - m->mean[n + i]);
        }
        m->seen++;
    }
    last_result.novelty = rcfd_novelty_update(&m->novelty, last_result.r.score);
    rcfd_alert_update(&m->alert, last_result.r.ready, last_result.r.score, &last_result.alert);
    if (!(last_result.alert.grade > 0)) {
        last_result.expected = NULL; /* flagged records only */
    }
    *result = &last_result;
    return 0;
}

const rcf_forest_t *rcfd_rcf_model_forest(const void *model)
{
    return ((const rcf_model_t *)model)->f;
}

uint64_t rcfd_rcf_model_records(const void *model)
{
    const rcf_model_t *m = model;
    if (m->f == NULL) {
        return m->n_pending;
    }
    rcf_stats_t st;
    rcf_forest_stats(m->f, &st);
    /* with a dilated shingle, the history's first points too (they were not scored) */
    return st.records + (m->stride > 1 ? m->hist_len : 0);
}

int rcfd_rcf_model_explains(const void *model)
{
    return ((const rcf_model_t *)model)->conf.explain;
}

int rcfd_rcf_model_score(void *model, const double *values, size_t n, double *score)
{
    rcf_model_t *m = model;
    if (m->f == NULL) { /* still choosing its shingle size: warming up, as process() answers */
        if (values == NULL || n != m->n_fields) {
            return RCFD_EDIM;
        }
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(values[i]) || values[i] > FLT_MAX || values[i] < -FLT_MAX) {
                return RCFD_ENONFINITE;
            }
        }
        *score = 0;
        return 0;
    }
    if (m->probe == NULL || n != m->n_fields) {
        /* without means (or with a wrong count, the forest reports it) the point is the values,
         * scaled in process()'s scratch buffer */
        return forest_score_point(m, scale_point(m, values, n, m->scaled), n, score);
    }
    /* the point process() would build, in a buffer of its own: the means stay as they are */
    memcpy(m->probe, values, n * sizeof *values);
    memcpy(m->probe + n, m->seen == 0 ? values : m->mean + n, n * sizeof *values);
    return forest_score_point(m, scale_point(m, m->probe, 2 * n, m->probe), 2 * n, score);
}

static double rcf_score(const void *result)
{
    return ((const rcf_model_result_t *)result)->r.score;
}

static double rcf_grade(const void *result)
{
    return ((const rcf_model_result_t *)result)->alert.grade;
}

static int rcf_alert(const void *result)
{
    return ((const rcf_model_result_t *)result)->alert.anomaly;
}

static double rcf_novelty(const void *result)
{
    return ((const rcf_model_result_t *)result)->novelty;
}

static int encode_forest(const void *result, const rcfd_strlist_t *cols, rcfd_style_t style,
                         rcfd_buf_t *out)
{
    const rcf_result_t *r = &((const rcf_model_result_t *)result)->r;
    int rc =
        rcfd_buf_puts(out, style == RCFD_STYLE_KDA ? ",\"ANOMALY_SCORE\":" : ",\"anomaly_score\":");
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

/* The forest's members, then the alert decision's, in both styles (KDA had none: these members are
 * rcfd's own, after KDA's columns). */
static int rcf_encode(const void *result, const rcfd_strlist_t *cols, rcfd_style_t style,
                      rcfd_buf_t *out)
{
    int rc = encode_forest(result, cols, style, out);
    const rcfd_alert_result_t *a = &((const rcf_model_result_t *)result)->alert;
    rc = rc ? rc : rcfd_buf_puts(out, a->anomaly ? ",\"anomaly\":true" : ",\"anomaly\":false");
    rc = rc ? rc : rcfd_buf_puts(out, ",\"anomaly_grade\":");
    rc = rc ? rc : rcfd_buf_json_double(out, a->grade);
    rc = rc ? rc : rcfd_buf_puts(out, ",\"threshold\":");
    rc = rc ? rc : rcfd_buf_json_double(out, a->threshold);
    rc = rc ? rc
            : rcfd_buf_puts(out, a->warming_up ? ",\"warming_up\":true" : ",\"warming_up\":false");
    const rcf_model_result_t *res = result;
    if (rc == 0 && res->expected != NULL) { /* an extra member: KDA's parsers ignore it */
        rc = rcfd_buf_puts(out, style == RCFD_STYLE_KDA ? ",\"EXPECTED_VALUES\":{"
                                                        : ",\"expected_values\":{");
        for (size_t c = 0; rc == 0 && c < cols->n; c++) {
            rc = c ? rcfd_buf_putc(out, ',') : 0;
            rc = rc ? rc : rcfd_buf_json_string(out, cols->v[c], strlen(cols->v[c]));
            rc = rc ? rc : rcfd_buf_putc(out, ':');
            rc = rc ? rc : rcfd_buf_json_double(out, res->expected[c]);
        }
        rc = rc ? rc : rcfd_buf_putc(out, '}');
    }
    if (rc == 0 && res->auto_shingle) { /* the choice "auto" made; null while it is being made */
        rc = res->shingle_size > 0 ? rcfd_buf_printf(out, ",\"shingle_size\":%u", res->shingle_size)
                                   : rcfd_buf_puts(out, ",\"shingle_size\":null");
        if (rc == 0 && res->shingle_stride > 1) { /* a dilated shingle */
            rc = rcfd_buf_printf(out, ",\"shingle_stride\":%u", res->shingle_stride);
        }
    }
    return rc;
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
    .alert = rcf_alert,
    .novelty = rcf_novelty,
    .impute_state = rcf_impute_state,
    .impute = rcf_impute,
};
