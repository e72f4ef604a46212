/* What the rcf model type's snapshot must be, built from independent parts: the forest's own
 * snapshot, then its anomaly_novelty's section, then its alert decision's (models/rcf.c). For the tests that check a
 * model or `rcfd train` against a forest and a novelty fed the same records by hand. */
#ifndef RCFD_TEST_MODEL_SNAPSHOT_H
#define RCFD_TEST_MODEL_SNAPSHOT_H

#include <stdlib.h>

#include "common/snapshot.h"
#include "rcfd/rcf.h"
#include "score/alert.h"
#include "score/likelihood.h"

/* malloc'ed; *len its length; NULL if the forest cannot be saved or memory runs out. */
static inline unsigned char *model_snapshot(const rcf_forest_t *f, const rcfd_novelty_t *nv,
                                            const rcfd_alert_t *al, size_t *len)
{
    size_t fl = rcf_forest_snapshot_size(f), nl = rcfd_novelty_payload_size(nv), got;
    size_t al_len = rcfd_alert_payload_size(al);
    unsigned char *b = malloc(fl + 2 * RCFD_SNAP_HEADER_SIZE + nl + al_len);
    if (b == NULL || rcf_forest_save(f, b, fl, &got) != 0) {
        free(b);
        return NULL;
    }
    rcfd_writer_t w = {b + got + RCFD_SNAP_HEADER_SIZE, 0, nl};
    rcfd_novelty_write(nv, &w);
    rcfd_snap_seal(b + got, RCFD_SNAP_KIND_NOVELTY, RCFD_NOVELTY_STATE_VERSION, w.len);
    *len = got + RCFD_SNAP_HEADER_SIZE + w.len;
    rcfd_writer_t wa = {b + *len + RCFD_SNAP_HEADER_SIZE, 0, al_len};
    rcfd_alert_write(al, &wa);
    rcfd_snap_seal(b + *len, RCFD_SNAP_KIND_ALERT, RCFD_ALERT_STATE_VERSION, wa.len);
    *len += RCFD_SNAP_HEADER_SIZE + wa.len;
    return b;
}

/* The novelty the rcf model keeps for a forest with these parameters (as src/models/rcf.c's wrap). */
static inline void model_novelty_init(rcfd_novelty_t *nv, const rcf_forest_t *f)
{
    rcfd_novelty_init(nv, (double)rcf_forest_params(f)->time_decay);
}

/* The alert decision the rcf model keeps at the default alert_rate, 0.0003 (as wrap()). */
static inline void model_alert_init(rcfd_alert_t *al, const rcf_forest_t *f)
{
    rcfd_alert_init(al, 3e-4, rcf_forest_params(f)->shingle_size);
}

#endif
