/* The forecast model type: per key, the next `horizon` values of every field with an interval, by
 * extrapolating a shingled forest (rcf_forest_forecast), the intervals calibrated on the key's
 * own forecast errors.
 *
 * Calibration. The trees' spread says how much the trees disagree, not how far off the forecast
 * will be, so it only stands in while a key is young. Every forecast is kept until its targets
 * arrive (a ring of the last `horizon` forecasts); when a record arrives, the forecast made h
 * records earlier for it gives an absolute error at step h. Per step and field, a streaming
 * quantile tracker follows the `coverage` quantile of those errors (a stochastic-approximation
 * update, scaled by the running mean absolute error so its step suits the field's units, and
 * decayed at the forest's rate so the interval follows a drifting stream); the interval is the
 * forecast +- that quantile. Before `calibrate_after` errors at a step, the step's interval is the
 * trees' spread and the result says `calibrated: false`.
 *
 * The model is per key and not thread-safe, like every model type. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/errstr.h"
#include "common/snapshot.h"
#include "models/impute.h"
#include "models/model.h"
#include "rcfd/alloc.h"
#include "rcfd/rcf.h"
#include "rcfd/status.h"

#define FORECAST_MAX_HORIZON 64
#define CALIB_VERSION 1u

typedef struct forecast_conf {
    int64_t horizon;
    int64_t shingle_size;
    int64_t number_of_trees;
    int64_t sub_sample_size;
    int64_t time_decay;
    int64_t seed;
    double coverage;
    int64_t calibrate_after;
} forecast_conf_t;

#define O(f) offsetof(forecast_conf_t, f)
static const rcfd_conf_desc_t forecast_desc[] = {
    {"horizon", RCFD_CT_INT, O(horizon), "10", 1, FORECAST_MAX_HORIZON, NULL, 0,
     "records ahead to forecast per key; each step costs about one scoring pass of the forest"},
    {"shingle_size", RCFD_CT_INT, O(shingle_size), "8", 2, RCF_MAX_SHINGLE, NULL, 0,
     "consecutive records the forest sees as one point: the past a forecast extrapolates (cover "
     "at least one period of a seasonal stream)"},
    {"number_of_trees", RCFD_CT_INT, O(number_of_trees), "50", RCF_MIN_TREES, RCF_MAX_TREES, NULL,
     0, "trees; a forecast is the median of their completions"},
    {"sub_sample_size", RCFD_CT_INT, O(sub_sample_size), "256", RCF_MIN_SAMPLE_SIZE,
     RCF_MAX_SAMPLE_SIZE, NULL, 0, "points kept per tree; no forecast before this many records"},
    {"time_decay", RCFD_CT_INT, O(time_decay), "100000", (double)RCF_MIN_TIME_DECAY,
     (double)RCF_MAX_TIME_DECAY, NULL, 0,
     "records: how far back the forest (and the interval calibration) remembers"},
    {"seed", RCFD_CT_INT, O(seed), "24301", 0, 9007199254740991.0, NULL, 0,
     "master seed; each key's forest is seeded from it and a hash of the key"},
    {"coverage", RCFD_CT_DOUBLE, O(coverage), "0.9", 0.5, 0.99, NULL, 0,
     "share of future values the interval [lower, upper] should hold, per step"},
    {"calibrate_after", RCFD_CT_INT, O(calibrate_after), "50", 1, 1e9, NULL, 0,
     "errors seen at a step before its interval comes from them (before: the trees' spread)"},
    {NULL},
};
#undef O

static void to_params(const forecast_conf_t *c, size_t n_fields, uint64_t seed, rcf_params_t *p)
{
    *p = rcf_params_default((uint32_t)n_fields);
    p->number_of_trees = (uint32_t)c->number_of_trees;
    p->sub_sample_size = (uint32_t)c->sub_sample_size;
    p->time_decay = (uint64_t)c->time_decay;
    p->shingle_size = (uint32_t)c->shingle_size;
    p->seed = seed;
}

static int fc_validate(const void *conf, size_t n_fields, char *errstr, size_t es)
{
    rcf_params_t p;
    to_params(conf, n_fields, 0, &p);
    return rcf_params_validate(&p, errstr, es);
}

/* Per step and field: the tracked error quantile and the decayed mean absolute error. */
typedef struct calib {
    double q, mae;
    uint64_t n;
} calib_t;

typedef struct forecast_model {
    rcf_forest_t *f;
    size_t n_fields, horizon;
    double coverage, decay;
    uint64_t calibrate_after;
    uint64_t records; /* records processed */
    uint64_t made;    /* forecasts made (the ring's write count) */
    double *ring;   /* [horizon][horizon * n_fields]: forecast made k records ago, slot made % H */
    calib_t *calib; /* [horizon * n_fields] */
    /* the result of the last record */
    double *value, *lower, *upper; /* [horizon * n_fields] */
    int ready, calibrated;
    rcfd_impute_state_t *imp; /* owned: the key's imputation state when this model holds it
                                 (models/impute.h); else NULL */
} forecast_model_t;

static void fc_destroy(void *model)
{
    forecast_model_t *m = model;
    if (m == NULL) {
        return;
    }
    rcf_forest_destroy(m->f);
    rcfd_free(m->ring);
    rcfd_free(m->calib);
    rcfd_free(m->value);
    rcfd_free(m->lower);
    rcfd_free(m->upper);
    rcfd_impute_state_free(m->imp);
    rcfd_free(m);
}

static int wrap(rcf_forest_t *f, const forecast_conf_t *c, size_t n_fields, void **out,
                char *errstr, size_t es)
{
    forecast_model_t *m = rcfd_calloc(1, sizeof *m);
    if (m == NULL) {
        rcf_forest_destroy(f);
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    m->f = f;
    m->n_fields = n_fields;
    m->horizon = (size_t)c->horizon;
    m->coverage = c->coverage;
    m->decay = 1.0 / (double)c->time_decay;
    m->calibrate_after = (uint64_t)c->calibrate_after;
    size_t cells = m->horizon * n_fields;
    m->ring = rcfd_calloc(m->horizon * cells, sizeof(double));
    m->calib = rcfd_calloc(cells, sizeof(calib_t));
    m->value = rcfd_calloc(cells, sizeof(double));
    m->lower = rcfd_calloc(cells, sizeof(double));
    m->upper = rcfd_calloc(cells, sizeof(double));
    if (m->ring == NULL || m->calib == NULL || m->value == NULL || m->lower == NULL ||
        m->upper == NULL) {
        fc_destroy(m);
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    *out = m;
    return 0;
}

static int fc_create(const void *conf, size_t n_fields, uint64_t key_seed, void **out, char *errstr,
                     size_t es)
{
    rcf_params_t p;
    to_params(conf, n_fields, key_seed, &p);
    rcf_forest_t *f;
    int rc = rcf_forest_new(&p, &f, errstr, es);
    return rc != 0 ? rc : wrap(f, conf, n_fields, out, errstr, es);
}

/* One error observation for step h, field c: move the tracked quantile towards the coverage
 * quantile (up by (1 - coverage) of a step when the error exceeds it, down by coverage when not,
 * so it settles where a `coverage` share of errors lie below), the step scaled by the mean error.
 */
static void calib_update(forecast_model_t *m, calib_t *k, double err)
{
    double w = k->n < 1000 ? 1.0 / (double)(k->n + 1) : m->decay > 1e-3 ? m->decay : 1e-3;
    k->mae += w * (err - k->mae);
    if (k->n == 0) {
        k->q = err;
    } else {
        double step = 2.0 * k->mae * (k->n < 100 ? 0.1 : 0.02);
        k->q += err > k->q ? step * m->coverage : -step * (1.0 - m->coverage);
        if (k->q < 0.0) {
            k->q = 0.0;
        }
    }
    k->n++;
}

static int fc_process(void *model, const double *values, size_t n, const void **result)
{
    forecast_model_t *m = model;
    rcf_result_t r;
    int rc = rcf_forest_process(m->f, values, n, &r);
    if (rc != 0) {
        return rc;
    }
    const size_t H = m->horizon, cells = H * m->n_fields;
    /* The forecasts made 1..H records ago that targeted this record. */
    for (size_t h = 1; h <= H && h <= m->made; h++) {
        const double *made = m->ring + ((m->made - h) % H) * cells;
        for (size_t c = 0; c < m->n_fields; c++) {
            calib_update(m, &m->calib[(h - 1) * m->n_fields + c],
                         fabs(values[c] - made[(h - 1) * m->n_fields + c]));
        }
    }
    m->records++;
    *result = m; /* the result is the instance's last forecast, valid until its next record */
    m->ready = 0;
    double q = (1.0 - m->coverage) / 2.0;
    rc = rcf_forest_forecast(m->f, (uint32_t)H, q, m->value, m->lower, m->upper);
    if (rc == RCFD_EAGAIN || !r.ready) {
        return 0; /* warming up: the record is learnt, no forecast yet */
    }
    if (rc != 0) {
        return rc;
    }
    m->ready = 1;
    m->calibrated = 1;
    for (size_t h = 0; h < H; h++) {
        for (size_t c = 0; c < m->n_fields; c++) {
            size_t i = h * m->n_fields + c;
            const calib_t *k = &m->calib[i];
            if (k->n >= m->calibrate_after) {
                m->lower[i] = m->value[i] - k->q;
                m->upper[i] = m->value[i] + k->q;
            } else {
                m->calibrated = 0;
            }
        }
    }
    memcpy(m->ring + (m->made % H) * cells, m->value, cells * sizeof(double));
    m->made++;
    return 0;
}

static double fc_score(const void *result)
{
    (void)result;
    return NAN;
}

/* ,"forecast":{"horizon":H,"calibrated":b,"fields":{"col":{"value":[..],"lower":[..],
 * "upper":[..]}}} (FORECAST in the kda style); nothing while the key warms up. */
static int fc_encode(const void *result, const rcfd_strlist_t *cols, rcfd_style_t style,
                     rcfd_buf_t *out)
{
    const forecast_model_t *m = result;
    if (!m->ready) {
        return 0;
    }
    int rc = rcfd_buf_printf(out, ",\"%s\":{\"horizon\":%zu,\"calibrated\":%s,\"fields\":{",
                             style == RCFD_STYLE_KDA ? "FORECAST" : "forecast", m->horizon,
                             m->calibrated ? "true" : "false");
    for (size_t c = 0; rc == 0 && c < m->n_fields; c++) {
        char name[32];
        const char *col = name;
        if (cols != NULL && c < cols->n) {
            col = cols->v[c];
        } else {
            snprintf(name, sizeof name, "%zu", c);
        }
        rc = rcfd_buf_puts(out, c > 0 ? "," : "");
        rc = rc ? rc : rcfd_buf_json_string(out, col, strlen(col));
        const double *arrays[3] = {m->value, m->lower, m->upper};
        static const char *const names[3] = {"value", "lower", "upper"};
        rc = rc ? rc : rcfd_buf_puts(out, ":{");
        for (int a = 0; rc == 0 && a < 3; a++) {
            rc = rcfd_buf_printf(out, "%s\"%s\":[", a > 0 ? "," : "", names[a]);
            for (size_t h = 0; rc == 0 && h < m->horizon; h++) {
                rc = rcfd_buf_puts(out, h > 0 ? "," : "");
                rc = rc ? rc : rcfd_buf_json_double(out, arrays[a][h * m->n_fields + c]);
            }
            rc = rc ? rc : rcfd_buf_puts(out, "]");
        }
        rc = rc ? rc : rcfd_buf_puts(out, "}");
    }
    return rc ? rc : rcfd_buf_puts(out, "}}");
}

/* Calibration section (RCFD_SNAP_KIND_FORECAST) after the forest's snapshot: u32 horizon, u32
 * n_fields, u64 records, u64 made, the ring (H x H x n f64), then per step and field q, mae (f64)
 * and n (u64). */
static size_t calib_payload(const forecast_model_t *m)
{
    size_t cells = m->horizon * m->n_fields;
    return 4 + 4 + 8 + 8 + 8 * m->horizon * cells + 24 * cells;
}

static int fc_save(const void *model, rcfd_buf_t *out)
{
    const forecast_model_t *m = model;
    size_t need = rcf_forest_snapshot_size(m->f), len, payload = calib_payload(m);
    size_t imp = m->imp != NULL ? rcfd_impute_section_size(m->imp) : 0;
    int rc = rcfd_buf_reserve(out, need + RCFD_SNAP_HEADER_SIZE + payload + imp);
    rc = rc ? rc : rcf_forest_save(m->f, out->p + out->len, need, &len);
    if (rc != 0) {
        return rc;
    }
    out->len += len;
    unsigned char *head = (unsigned char *)out->p + out->len;
    rcfd_writer_t w = {head + RCFD_SNAP_HEADER_SIZE, 0, payload};
    size_t cells = m->horizon * m->n_fields;
    rcfd_put_u32(&w, (uint32_t)m->horizon);
    rcfd_put_u32(&w, (uint32_t)m->n_fields);
    rcfd_put_u64(&w, m->records);
    rcfd_put_u64(&w, m->made);
    for (size_t i = 0; i < m->horizon * cells; i++) {
        rcfd_put_f64(&w, m->ring[i]);
    }
    for (size_t i = 0; i < cells; i++) {
        rcfd_put_f64(&w, m->calib[i].q);
        rcfd_put_f64(&w, m->calib[i].mae);
        rcfd_put_u64(&w, m->calib[i].n);
    }
    rcfd_snap_seal(head, RCFD_SNAP_KIND_FORECAST, CALIB_VERSION, w.len);
    out->len += RCFD_SNAP_HEADER_SIZE + w.len;
    if (m->imp != NULL) { /* last: snapshots without it (older ones) still load */
        rcfd_impute_section_write(m->imp, out);
    }
    return 0;
}

static int fc_load(const void *conf, size_t n_fields, const void *buf, size_t len, void **out,
                   char *errstr, size_t es)
{
    const forecast_conf_t *c = conf;
    const unsigned char *b = buf;
    *out = NULL;
    if (len < RCFD_SNAP_HEADER_SIZE) {
        return rcfd_errf(RCFD_EBADSTATE, errstr, es, "forecast snapshot: %zu bytes", len);
    }
    rcfd_reader_t hr = {b, RCFD_SNAP_HEADER_SIZE, 16, 0};
    uint64_t flen64 = rcfd_get_u64(&hr) + RCFD_SNAP_HEADER_SIZE;
    if (flen64 >= len) {
        return rcfd_errf(RCFD_EBADSTATE, errstr, es,
                         "forecast snapshot: no calibration section after the forest (%zu bytes)",
                         len);
    }
    size_t flen = (size_t)flen64;
    rcf_forest_t *f;
    int rc = rcf_forest_load(b, flen, &f, errstr, es);
    if (rc != 0) {
        return rc;
    }
    rcf_params_t want;
    to_params(c, n_fields, 0, &want);
    const rcf_params_t *a = rcf_forest_params(f);
    const char *bad = a->input_dim != want.input_dim               ? "the number of fields"
                      : a->number_of_trees != want.number_of_trees ? "number_of_trees"
                      : a->sub_sample_size != want.sub_sample_size ? "sub_sample_size"
                      : a->time_decay != want.time_decay           ? "time_decay"
                      : a->shingle_size != want.shingle_size       ? "shingle_size"
                                                                   : NULL;
    if (bad != NULL) {
        rcf_forest_destroy(f);
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "snapshot was trained with a different %s than the config gives", bad);
    }
    rc = wrap(f, c, n_fields, out, errstr, es);
    if (rc != 0) {
        return rc;
    }
    forecast_model_t *m = *out;
    const unsigned char *payload;
    size_t plen;
    /* the calibration, then maybe the impute state */
    size_t clen = len - flen;
    if (clen >= RCFD_SNAP_HEADER_SIZE) {
        rcfd_reader_t cr = {b + flen, RCFD_SNAP_HEADER_SIZE, 16, 0};
        uint64_t p64 = rcfd_get_u64(&cr);
        if (p64 < clen - RCFD_SNAP_HEADER_SIZE) {
            clen = RCFD_SNAP_HEADER_SIZE + (size_t)p64;
        }
    }
    rc = rcfd_snap_open_version(b + flen, clen, RCFD_SNAP_KIND_FORECAST, CALIB_VERSION,
                                "forecast calibration", &payload, &plen, errstr, es);
    if (rc == 0 && flen + clen < len) {
        rc = rcfd_impute_section_load(b + flen + clen, len - flen - clen, flen + clen, n_fields,
                                      &m->imp, errstr, es);
    }
    if (rc == 0 && plen != calib_payload(m)) {
        rc = rcfd_errf(RCFD_ECONFIG, errstr, es,
                       "snapshot byte %zu: the calibration holds %zu bytes, %zu for this horizon "
                       "and field count (a different horizon?)",
                       flen, plen, calib_payload(m));
    }
    rcfd_reader_t r = {payload, plen, 0, 0};
    if (rc == 0) {
        uint32_t h = rcfd_get_u32(&r), nf = rcfd_get_u32(&r);
        if (h != m->horizon || nf != n_fields) {
            rc = rcfd_errf(RCFD_ECONFIG, errstr, es,
                           "snapshot was trained with a different %s than the config gives",
                           h != m->horizon ? "horizon" : "number of fields");
        }
    }
    if (rc == 0) {
        size_t cells = m->horizon * m->n_fields;
        m->records = rcfd_get_u64(&r);
        m->made = rcfd_get_u64(&r);
        for (size_t i = 0; i < m->horizon * cells; i++) {
            m->ring[i] = rcfd_get_f64(&r);
        }
        for (size_t i = 0; i < cells; i++) {
            m->calib[i].q = rcfd_get_f64(&r);
            m->calib[i].mae = rcfd_get_f64(&r);
            m->calib[i].n = rcfd_get_u64(&r);
            if (!isfinite(m->calib[i].q) || !isfinite(m->calib[i].mae) || m->calib[i].q < 0.0) {
                rc = rcfd_errf(RCFD_EBADSTATE, errstr, es,
                               "snapshot byte %zu: calibration %zu is not a finite error", flen, i);
                break;
            }
        }
        if (rc == 0 && r.err != 0) {
            rc = rcfd_errf(RCFD_EBADSTATE, errstr, es, "forecast calibration: truncated");
        }
    }
    if (rc != 0) {
        fc_destroy(m);
        *out = NULL;
    }
    return rc;
}

static rcfd_impute_state_t **fc_impute_state(void *model)
{
    return &((forecast_model_t *)model)->imp;
}

const rcfd_model_type_t rcfd_model_forecast = {
    .name = "forecast",
    .help = "per key, the next `horizon` values of every field with an interval holding "
            "`coverage` of them, by extrapolating a shingled forest (docs/rcf.md)",
    .conf = forecast_desc,
    .conf_size = sizeof(forecast_conf_t),
    .validate = fc_validate,
    .create = fc_create,
    .destroy = fc_destroy,
    .load = fc_load,
    .save = fc_save,
    .process = fc_process,
    .score = fc_score,
    .encode = fc_encode,
    .impute_state = fc_impute_state,
};
