/* The rcf trainer: the daemon's own rcf model type (rcfd_model_rcf) driven record by record, plus
 * the forest's snapshot functions. */
#include <math.h>
#include <string.h>

#include "common/errstr.h"
#include "rcfd/rcf.h"
#include "rcfd/status.h"
#include "models/model.h"
#include "models/rcf.h"
#include "train/trainer.h"

/* SageMaker's hyperparameter names; KDA's come from the config's table (rcfd_config_model_alias). */
static const rcfd_param_alias_t rcf_aliases[] = {
    {"num_trees", "number_of_trees"},
    {"num_samples_per_tree", "sub_sample_size"},
    {"feature_dim", NULL},
    {NULL, NULL},
};

static int rcf_create(const void *params, size_t n_fields, uint64_t key_seed, void **out,
                      char *errstr, size_t es)
{
    return rcfd_model_rcf.create(params, n_fields, key_seed, out, errstr, es);
}

static void rcf_figures(const void *result, double *score, double *grade, double *threshold,
                        double *novelty)
{
    const rcfd_rcf_result_t *r = result;
    *score = r->r.score;
    *grade = r->alert.grade; /* the alert decision's, as the output's anomaly_grade */
    *threshold = r->alert.threshold;
    *novelty = r->novelty;
}

static int rcf_process(void *model, const double *values, size_t n, double *score, double *grade,
                       double *threshold)
{
    const void *res;
    double novelty;
    int rc = rcfd_model_rcf.process(model, values, n, &res);
    if (rc == 0) {
        rcf_figures(res, score, grade, threshold, &novelty);
    }
    return rc;
}

static int rcf_save(const void *model, rcfd_buf_t *out)
{
    return rcfd_model_rcf.save(model, out);
}

static void rcf_destroy(void *model)
{
    rcfd_model_rcf.destroy(model);
}

static int rcf_load(const void *params, size_t n_fields, const void *buf, size_t len, void **out,
                    char *errstr, size_t es)
{
    return rcfd_model_rcf.load(params, n_fields, buf, len, out, errstr, es);
}

const rcfd_trainer_t rcfd_trainer_rcf = {
    .name = "rcf",
    .model = &rcfd_model_rcf,
    .aliases = rcf_aliases,
    .create = rcf_create,
    .process = rcf_process,
    .save = rcf_save,
    .load = rcf_load,
    .destroy = rcf_destroy,
    .figures = rcf_figures,
};
