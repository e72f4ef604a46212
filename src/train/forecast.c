/* The forecast trainer: the daemon's own forecast model type driven record by record, so a trained
 * snapshot (forest and interval calibration) is what the streaming model holds after the same
 * records. */
#include <math.h>

#include "models/model.h"
#include "train/trainer.h"

static const rcfd_param_alias_t forecast_aliases[] = {
    {"numberOfTrees", "number_of_trees"},
    {"subSampleSize", "sub_sample_size"},
    {"timeDecay", "time_decay"},
    {"shingleSize", "shingle_size"},
    {NULL, NULL},
};

static int fc_create(const void *params, size_t n_fields, uint64_t key_seed, void **out,
                     char *errstr, size_t es)
{
    return rcfd_model_forecast.create(params, n_fields, key_seed, out, errstr, es);
}

static int fc_proc(void *model, const double *values, size_t n, double *score, double *grade,
                   double *threshold)
{
    const void *res;
    *score = *grade = *threshold = NAN; /* a forecast, not an anomaly score */
    return rcfd_model_forecast.process(model, values, n, &res);
}

static int fc_save(const void *model, rcfd_buf_t *out)
{
    return rcfd_model_forecast.save(model, out);
}

static int fc_load(const void *params, size_t n_fields, const void *buf, size_t len, void **out,
                   char *errstr, size_t es)
{
    return rcfd_model_forecast.load(params, n_fields, buf, len, out, errstr, es);
}

static void fc_destroy(void *model)
{
    rcfd_model_forecast.destroy(model);
}

const rcfd_trainer_t rcfd_trainer_forecast = {
    .name = "forecast",
    .model = &rcfd_model_forecast,
    .aliases = forecast_aliases,
    .create = fc_create,
    .process = fc_proc,
    .save = fc_save,
    .load = fc_load,
    .destroy = fc_destroy,
};
