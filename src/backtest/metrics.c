#include "backtest/metrics.h"

void rcfd_metrics_add(rcfd_metrics_t *m, int label, int predicted)
{
    if (label) {
        if (predicted) {
            m->tp++;
        } else {
            m->fn++;
        }
    } else if (predicted) {
        m->fp++;
    } else {
        m->tn++;
    }
}

void rcfd_metrics_merge(rcfd_metrics_t *m, const rcfd_metrics_t *o)
{
    m->tp += o->tp;
    m->fp += o->fp;
    m->fn += o->fn;
    m->tn += o->tn;
}

static double ratio(uint64_t a, uint64_t b)
{
    return b == 0 ? 0.0 : (double)a / (double)b;
}

void rcfd_metrics_finish(rcfd_metrics_t *m)
{
    m->precision = ratio(m->tp, m->tp + m->fp);
    m->recall = ratio(m->tp, m->tp + m->fn);
    /* 2PR/(P+R) = 2TP/(2TP+FP+FN), written in counts so it is exact and 0 when TP is 0. */
    m->f1 = ratio(2 * m->tp, 2 * m->tp + m->fp + m->fn);
    m->accuracy = ratio(m->tp + m->tn, m->tp + m->tn + m->fp + m->fn);
}
