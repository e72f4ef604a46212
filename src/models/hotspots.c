/* The HOTSPOTS model type: KDA's HOTSPOTS(cursor, windowSize, scanRadius, minimumNumberOfPoints)
 * over a sliding window, one detector per key. It has no anomaly score (min_score filters do not
 * apply); its output is the hotspot list. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/hotspots.h"
#include "rcfd/status.h"
#include "models/model.h"

typedef struct hs_conf {
    int64_t window_size;
    double scan_radius;
    int64_t min_points;
    int only_containing_new;
} hs_conf_t;

#define O(f) offsetof(hs_conf_t, f)
static const rcfd_conf_desc_t hs_desc[] = {
    {"window_size", RCFD_CT_INT, O(window_size), "1000", HS_MIN_WINDOW, HS_MAX_WINDOW, NULL, 0,
     "KDA windowSize: records per key in the sliding window"},
    {"scan_radius", RCFD_CT_DOUBLE, O(scan_radius), "0.2", HS_MIN_RADIUS, HS_MAX_RADIUS, NULL, 0,
     "KDA scanRadius: neighbourhood radius (DBSCAN's epsilon), in the fields' units"},
    {"min_points", RCFD_CT_INT, O(min_points), "17", HS_MIN_POINTS, HS_MAX_WINDOW, NULL, 0,
     "KDA minimumNumberOfPointsInAHotspot: neighbours (self included) that make a point dense; at "
     "most window_size"},
    {"only_containing_new", RCFD_CT_BOOL, O(only_containing_new), "false", 0, 0, NULL, 0,
     "report only the hotspot containing the record (KDA reports every hotspot in the window)"},
    {NULL},
};
#undef O

static void to_params(const hs_conf_t *c, size_t n_fields, hs_params_t *p)
{
    *p = hs_params_default((uint32_t)n_fields);
    p->window_size = (uint32_t)c->window_size;
    p->scan_radius = c->scan_radius;
    p->min_points = (uint32_t)c->min_points;
    p->only_containing_new = c->only_containing_new;
}

static int hs_validate_conf(const void *conf, size_t n_fields, char *errstr, size_t es)
{
    hs_params_t p;
    if (n_fields > HS_MAX_DIM) {
        snprintf(errstr, es, "HOTSPOTS takes at most %u fields", HS_MAX_DIM);
        return RCFD_ERANGE;
    }
    to_params(conf, n_fields, &p);
    return hs_params_validate(&p, errstr, es);
}

static int hs_create(const void *conf, size_t n_fields, uint64_t key_seed, void **out,
                     char *errstr, size_t es)
{
    (void)key_seed; /* HOTSPOTS is deterministic */
    hs_params_t p;
    to_params(conf, n_fields, &p);
    hs_detector_t *d;
    int rc = hs_new(&p, &d, errstr, es);
    if (rc == 0) {
        *out = d;
    }
    return rc;
}

static void hs_destroy_model(void *m)
{
    hs_destroy(m);
}

static int hs_load_model(const void *conf, size_t n_fields, const void *buf, size_t len,
                         void **out, char *errstr, size_t es)
{
    hs_detector_t *d;
    int rc = hs_load(buf, len, &d, errstr, es);
    if (rc != 0) {
        return rc;
    }
    hs_params_t want;
    to_params(conf, n_fields, &want);
    const hs_params_t *got = hs_params(d);
    const char *bad = got->dim != want.dim                   ? "the number of fields"
                      : got->window_size != want.window_size ? "window_size"
                      : got->scan_radius != want.scan_radius ? "scan_radius"
                      : got->min_points != want.min_points   ? "min_points"
                      : got->only_containing_new != want.only_containing_new
                          ? "only_containing_new"
                          : NULL;
    if (bad != NULL) {
        hs_destroy(d);
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "snapshot was trained with a different %s than the config gives", bad);
    }
    *out = d;
    return 0;
}

static int hs_save_model(const void *model, rcfd_buf_t *out)
{
    size_t need = hs_snapshot_size(model), len;
    int rc = rcfd_buf_reserve(out, need);
    rc = rc ? rc : hs_save(model, out->p + out->len, need, &len);
    if (rc == 0) {
        out->len += len;
    }
    return rc;
}

typedef struct hs_model_result {
    const hs_detector_t *d;
    hs_result_t r;
} hs_model_result_t;

static _Thread_local hs_model_result_t last;

static int hs_process_model(void *m, const double *values, size_t n, const void **result)
{
    int rc = hs_process(m, values, n, &last.r);
    if (rc == 0) {
        last.d = m;
        *result = &last;
    }
    return rc;
}

static double hs_score(const void *result)
{
    (void)result;
    return NAN;
}

static int hs_has_hotspots(const void *result)
{
    return ((const hs_model_result_t *)result)->r.n_hotspots > 0;
}

/* The HOTSPOTS_RESULT JSON of a result ({"hotspots":[...]}); flags as hs_result_json. */
static int result_json(const hs_model_result_t *res, unsigned flags, rcfd_buf_t *tmp)
{
    size_t len = 0;
    rcfd_buf_reset(tmp);
    if (rcfd_buf_reserve(tmp, 4096) != 0) {
        return RCFD_ENOMEM;
    }
    int rc = hs_result_json(res->d, &res->r, tmp->p, tmp->cap, &len, flags);
    if (rc == RCFD_ENOBUFS) {
        if (rcfd_buf_reserve(tmp, len + 1) != 0) {
            return RCFD_ENOMEM;
        }
        rc = hs_result_json(res->d, &res->r, tmp->p, tmp->cap, &len, flags);
    }
    tmp->len = rc == 0 ? len : 0;
    return rc;
}

static int hs_encode(const void *result, const rcfd_strlist_t *cols, rcfd_style_t style,
                     rcfd_buf_t *out)
{
    (void)cols;
    rcfd_buf_t tmp = {0};
    int rc = result_json(result, style == RCFD_STYLE_KDA ? HS_JSON_KDA : 0, &tmp);
    if (rc == 0 && style == RCFD_STYLE_KDA) {
        /* HOTSPOTS_RESULT is a VARCHAR holding the JSON. */
        rc = rcfd_buf_puts(out, ",\"HOTSPOTS_RESULT\":");
        rc = rc ? rc : rcfd_buf_json_string(out, tmp.p, tmp.len);
    } else if (rc == 0) {
        /* rcfd style: the list itself, "hotspots":[...] (with count and denseCount). */
        const char *prefix = "{\"hotspots\":";
        size_t pl = strlen(prefix);
        if (tmp.len < pl + 1 || strncmp(tmp.p, prefix, pl) != 0) {
            rc = RCFD_EINVAL;
        } else {
            rc = rcfd_buf_puts(out, ",\"hotspots\":");
            rc = rc ? rc : rcfd_buf_append(out, tmp.p + pl, tmp.len - pl - 1);
        }
    }
    rcfd_buf_free(&tmp);
    return rc;
}

const rcfd_model_type_t rcfd_model_hotspots = {
    .name = "hotspots",
    .help = "HOTSPOTS (KDA HOTSPOTS): dense regions of the last window_size records of a key",
    .conf = hs_desc,
    .conf_size = sizeof(hs_conf_t),
    .validate = hs_validate_conf,
    .create = hs_create,
    .destroy = hs_destroy_model,
    .load = hs_load_model,
    .save = hs_save_model,
    .process = hs_process_model,
    .score = hs_score,
    .has_hotspots = hs_has_hotspots,
    .encode = hs_encode,
};
