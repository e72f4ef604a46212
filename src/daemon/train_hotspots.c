/* The hotspots trainer. The daemon has no HOTSPOTS model type yet, so this drives the library
 * directly with KDA's parameters; hs_process is the call such a model type would make per record. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "common/errstr.h"
#include "rcfd/hotspots.h"
#include "rcfd/status.h"
#include "trainer.h"

typedef struct hs_conf {
    int64_t window_size;
    double scan_radius;
    int64_t min_points;
} hs_conf_t;

#define O(f) offsetof(hs_conf_t, f)
static const rcfd_conf_desc_t hs_desc[] = {
    {"window_size", RCFD_CT_INT, O(window_size), "1000", 10, 100000, NULL, 0,
     "KDA windowSize: records in the sliding window"},
    {"scan_radius", RCFD_CT_DOUBLE, O(scan_radius), "0.2", HS_MIN_RADIUS, HS_MAX_RADIUS, NULL, 0,
     "KDA scanRadius: neighbourhood radius"},
    {"min_points", RCFD_CT_INT, O(min_points), "17", 2, 100000, NULL, 0,
     "KDA minimumNumberOfPointsInAHotspot"},
    {NULL},
};
#undef O

static const rcfd_param_alias_t hs_aliases[] = {
    {"windowSize", "window_size"},
    {"scanRadius", "scan_radius"},
    {"minimumNumberOfPointsInAHotspot", "min_points"},
    {"feature_dim", NULL},
    {NULL, NULL},
};

static void to_params(const hs_conf_t *c, size_t n_fields, hs_params_t *p)
{
    *p = hs_params_default((uint32_t)n_fields);
    p->window_size = (uint32_t)c->window_size;
    p->scan_radius = c->scan_radius;
    p->min_points = (uint32_t)c->min_points;
}

static int hs_create(const void *params, size_t n_fields, uint64_t key_seed, void **out,
                     char *errstr, size_t es)
{
    (void)key_seed; /* HOTSPOTS is deterministic */
    hs_params_t p;
    to_params(params, n_fields, &p);
    hs_detector_t *d;
    int rc = hs_new(&p, &d, errstr, es);
    if (rc == 0) {
        *out = d;
    }
    return rc;
}

static int hs_proc(void *model, const double *values, size_t n, double *score, double *grade,
                   double *threshold)
{
    hs_result_t r;
    int rc = hs_process(model, values, n, &r);
    *score = *grade = *threshold = NAN; /* HOTSPOTS reports regions, not a per-record score */
    return rc;
}

static int hs_snap(const void *model, rcfd_buf_t *out)
{
    size_t need = hs_snapshot_size(model), len;
    int rc = rcfd_buf_reserve(out, need);
    rc = rc ? rc : hs_save(model, out->p + out->len, need, &len);
    if (rc == 0) {
        out->len += len;
    }
    return rc;
}

static int hs_restore(const void *params, size_t n_fields, const void *buf, size_t len, void **out,
                      char *errstr, size_t es)
{
    hs_detector_t *d;
    int rc = hs_load(buf, len, &d, errstr, es);
    if (rc != 0) {
        return rc;
    }
    hs_params_t want;
    to_params(params, n_fields, &want);
    const hs_params_t *got = hs_params(d);
    const char *bad = got->dim != want.dim                   ? "the number of fields"
                      : got->window_size != want.window_size ? "window_size"
                      : got->scan_radius != want.scan_radius ? "scan_radius"
                      : got->min_points != want.min_points   ? "min_points"
                                                             : NULL;
    if (bad != NULL) {
        hs_destroy(d);
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "snapshot was trained with a different %s than the config gives", bad);
    }
    *out = d;
    return 0;
}

static void hs_free(void *model)
{
    hs_destroy(model);
}

const rcfd_trainer_t rcfd_trainer_hotspots = {
    .name = "hotspots",
    .conf = hs_desc,
    .conf_size = sizeof(hs_conf_t),
    .aliases = hs_aliases,
    .create = hs_create,
    .process = hs_proc,
    .save = hs_snap,
    .load = hs_restore,
    .destroy = hs_free,
};
