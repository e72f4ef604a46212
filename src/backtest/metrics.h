/* Record-level detection metrics, as SageMaker's RCF eval_metrics report them: precision, recall,
 * F1 and accuracy of the predicted anomaly flags against the labels. A ratio whose denominator is 0
 * is reported as 0 (no detections: precision 0; no anomalies labelled: recall 0). No I/O. */
#ifndef RCFD_BACKTEST_METRICS_H
#define RCFD_BACKTEST_METRICS_H

#include <stdint.h>

typedef struct rcfd_metrics {
    uint64_t tp, fp, fn, tn;
    double precision, recall, f1, accuracy; /* set by rcfd_metrics_finish */
} rcfd_metrics_t;

void rcfd_metrics_add(rcfd_metrics_t *m, int label, int predicted);
/* Adds another set of counts (a corpus is the sum of its files' counts). */
void rcfd_metrics_merge(rcfd_metrics_t *m, const rcfd_metrics_t *other);
void rcfd_metrics_finish(rcfd_metrics_t *m);

#endif
