/* The rcf model type's result (what process() returns and encode() reads): the forest's result
 * and the record's anomaly_novelty (score/likelihood.h). */
#ifndef RCFD_MODELS_RCF_H
#define RCFD_MODELS_RCF_H

#include "rcfd/rcf.h"

typedef struct rcfd_rcf_result {
    rcf_result_t r; /* first: readers that only want the forest's figures cast to rcf_result_t */
    double novelty;
} rcfd_rcf_result_t;

#endif
