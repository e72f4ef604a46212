#include <math.h>
#include "models/model.h"

#include <string.h>

const rcfd_model_type_t *const rcfd_model_types[] = {
    &rcfd_model_rcf,
#ifdef RCFD_HAVE_HOTSPOTS
    &rcfd_model_hotspots,
#endif
    &rcfd_model_forecast,
    NULL,
};

const rcfd_model_type_t *rcfd_model_type_find(const char *name)
{
    for (size_t i = 0; name != NULL && rcfd_model_types[i] != NULL; i++) {
        if (strcmp(rcfd_model_types[i]->name, name) == 0) {
            return rcfd_model_types[i];
        }
    }
    return NULL;
}

void rcfd_models_verdict(const rcfd_model_type_t *const *types, const void *const *results,
                         size_t n_models, rcfd_verdict_t *v)
{
    *v = (rcfd_verdict_t){NAN, NAN, NAN, 0, -1};
    for (size_t m = 0; m < n_models; m++) {
        const rcfd_model_type_t *t = types[m];
        if (isnan(v->score)) {
            v->score = t->score(results[m]);
        }
        if (t->grade != NULL) {
            v->grade = t->grade(results[m]);
        }
        if (t->novelty != NULL) {
            v->novelty = t->novelty(results[m]);
        }
        if (t->has_hotspots != NULL) {
            v->hotspots |= t->has_hotspots(results[m]);
        }
        if (t->alert != NULL) {
            v->alert = (v->alert > 0) | t->alert(results[m]);
        }
    }
}
