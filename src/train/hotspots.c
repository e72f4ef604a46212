/* The hotspots trainer: the daemon's own HOTSPOTS model type (rcfd_model_hotspots) driven record by
 * record, so a trained snapshot is exactly what the streaming detector holds after the same records
 * and loads with the same parameter checks. */
#include <math.h>

#include "models/model.h"
#include "train/trainer.h"

/* KDA's names come from the config's table (rcfd_config_model_alias). */
static const rcfd_param_alias_t hs_aliases[] = {
    {"feature_dim", NULL},
    {NULL, NULL},
};

static int hs_create(const void *params, size_t n_fields, uint64_t key_seed, void **out,
                     char *errstr, size_t es)
{
    return rcfd_model_hotspots.create(params, n_fields, key_seed, out, errstr, es);
}

static int hs_proc(void *model, const double *values, size_t n, double *score, double *grade,
                   double *threshold)
{
    const void *res;
    *score = *grade = *threshold = NAN; /* HOTSPOTS reports regions, not a per-record score */
    return rcfd_model_hotspots.process(model, values, n, &res);
}

static int hs_save(const void *model, rcfd_buf_t *out)
{
    return rcfd_model_hotspots.save(model, out);
}

static int hs_load(const void *params, size_t n_fields, const void *buf, size_t len, void **out,
                   char *errstr, size_t es)
{
    return rcfd_model_hotspots.load(params, n_fields, buf, len, out, errstr, es);
}

static void hs_destroy(void *model)
{
    rcfd_model_hotspots.destroy(model);
}

const rcfd_trainer_t rcfd_trainer_hotspots = {
    .name = "hotspots",
    .model = &rcfd_model_hotspots,
    .aliases = hs_aliases,
    .create = hs_create,
    .process = hs_proc,
    .save = hs_save,
    .load = hs_load,
    .destroy = hs_destroy,
};
