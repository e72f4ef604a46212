/* The rcf model config the model-snapshot fuzz target and its corpus generator share: one field,
 * shingle_size "auto", a small forest (so a fuzzed key builds its forest quickly). */
#ifndef RCFD_FUZZ_RCF_MODEL_CONF_H
#define RCFD_FUZZ_RCF_MODEL_CONF_H

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "common/conf.h"
#include "models/model.h"

#define FUZZ_MODEL_JSON "{\"number_of_trees\": 5, \"sub_sample_size\": 16, \"time_decay\": 200}"

/* calloc'ed; free with fuzz_model_conf_free. NULL on failure. */
static inline void *fuzz_model_conf(void)
{
    cJSON *j = cJSON_Parse(FUZZ_MODEL_JSON);
    void *conf = calloc(1, rcfd_model_rcf.conf_size);
    char err[256];
    rcfd_conf_section_t sec = {rcfd_model_rcf.conf, conf};
    if (j == NULL || conf == NULL || rcfd_conf_parse(&sec, 1, j, "", err, sizeof err) != 0) {
        free(conf);
        conf = NULL;
    }
    cJSON_Delete(j);
    return conf;
}

static inline void fuzz_model_conf_free(void *conf)
{
    rcfd_conf_free(rcfd_model_rcf.conf, conf);
    free(conf);
}

#endif
