/* The rcf model's parameter struct from NAME=VALUE pairs, as `rcfd train -p` reads them, for the
 * model's unit tests. Include after cmocka.h. */
#ifndef RCFD_TEST_RCF_TEST_CONF_H
#define RCFD_TEST_RCF_TEST_CONF_H

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "train/trainer.h"

/* calloc'ed; freed with rcf_test_conf_free. */
static inline void *rcf_test_conf(const char *const *kv, size_t n)
{
    cJSON *p = cJSON_CreateObject();
    char err[256];
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rcfd_trainer_set_param(&rcfd_trainer_rcf, p, kv[i], 2, err, sizeof err),
                         0);
    }
    void *conf = calloc(1, rcfd_trainer_conf_size(&rcfd_trainer_rcf));
    assert_int_equal(rcfd_trainer_params(&rcfd_trainer_rcf, p, conf, err, sizeof err), 0);
    cJSON_Delete(p);
    return conf;
}

static inline void rcf_test_conf_free(void *conf)
{
    rcfd_conf_free(rcfd_trainer_conf(&rcfd_trainer_rcf), conf);
    free(conf);
}

#endif
