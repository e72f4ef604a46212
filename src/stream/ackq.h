/* The per-partition acknowledgement queue behind at-least-once delivery.
 *
 * Records are pushed in the order the consumer returns them (offsets increase, gaps allowed). Each
 * may complete out of order; the queue reports the contiguous watermark: the offset after the
 * last record such that it and every earlier record completed. Only that offset may be stored.
 * Not thread-safe; owns its arrays. */
#ifndef RCFD_STREAM_ACKQ_H
#define RCFD_STREAM_ACKQ_H

#include <stddef.h>
#include <stdint.h>

typedef struct rcfd_ackq {
    int64_t *offsets;
    uint8_t *done;
    size_t cap;       /* power of two */
    uint64_t head;    /* sequence of the oldest incomplete record */
    uint64_t tail;    /* sequence the next push gets */
    int64_t watermark; /* offset to store (last completed contiguous + 1), -1 before any */
} rcfd_ackq_t;

void rcfd_ackq_init(rcfd_ackq_t *q);
void rcfd_ackq_free(rcfd_ackq_t *q);
/* Appends a record; *seq identifies it for rcfd_ackq_done(). */
int rcfd_ackq_push(rcfd_ackq_t *q, int64_t offset, uint64_t *seq);
/* Marks a record complete. Returns 1 if the watermark advanced (read q->watermark), else 0. */
int rcfd_ackq_done(rcfd_ackq_t *q, uint64_t seq);
/* Records pushed and not yet released by the watermark. */
size_t rcfd_ackq_pending(const rcfd_ackq_t *q);

#endif
