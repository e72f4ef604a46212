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
