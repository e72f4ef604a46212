/* The rcf model type's result (what process() returns and encode() reads): the forest's result,
 * the record's anomaly_novelty (score/likelihood.h) and the key's alert decision (score/alert.h). */
#ifndef RCFD_MODELS_RCF_H
#define RCFD_MODELS_RCF_H

#include "rcfd/rcf.h"
#include "score/alert.h"

typedef struct rcfd_rcf_result {
    rcf_result_t r; /* first: readers that only want the forest's figures cast to rcf_result_t */
    double novelty;
    rcfd_alert_result_t alert; /* the alert decision: anomaly, anomaly_grade, threshold */
    uint32_t shingle_size;     /* the forest's; 0 while shingle_size "auto" is choosing it */
    uint32_t shingle_stride;   /* records between a shingle's elements: 1, or more when "auto"
                                  chose a dilated shingle for a period longer than the cap */
    int auto_shingle;          /* 1: the config says shingle_size "auto" (the output shows it) */
    const double *expected;    /* with expected: n_fields estimates on a record above the alert
                                  threshold (owned by the instance, valid until its next record);
                                  else NULL */
} rcfd_rcf_result_t;

/* The functions below take an instance of the rcf model type (rcfd_model_rcf.create/load). */

/* The instance's forest, for its parameters and stats; owned by the instance. NULL while
 * shingle_size "auto" holds the key's first records (until the 512th). */
const rcf_forest_t *rcfd_rcf_model_forest(const void *model);

/* Records the instance has learnt from (held ones included, while shingle_size "auto" chooses). */
uint64_t rcfd_rcf_model_records(const void *model);

/* Whether the instance explains its scores (the config's explain), with or without a forest yet. */
int rcfd_rcf_model_explains(const void *model);

/* Scores a record as process() would, learning nothing: the forest, the recent means and the
 * novelty stay exactly as they were (only scratch buffers are written, so it takes the instance
 * like process()). *score is 0 during warm-up; a wrong count or a non-finite value returns
 * RCFD_EDIM/RCFD_ENONFINITE as process() does. Allocates nothing. */
int rcfd_rcf_model_score(void *model, const double *values, size_t n_values, double *score);

#endif
