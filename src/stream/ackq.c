#include "stream/ackq.h"

#include <string.h>

#include "rcfd/alloc.h"
#include "rcfd/status.h"

void rcfd_ackq_init(rcfd_ackq_t *q)
{
    memset(q, 0, sizeof *q);
    q->watermark = -1;
}

void rcfd_ackq_free(rcfd_ackq_t *q)
{
    rcfd_free(q->offsets);
    rcfd_free(q->done);
    rcfd_ackq_init(q);
}

int rcfd_ackq_push(rcfd_ackq_t *q, int64_t offset, uint64_t *seq)
{
    if (q->tail - q->head == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        int64_t *o = rcfd_malloc(cap * sizeof *o);
        uint8_t *d = rcfd_malloc(cap);
        if (o == NULL || d == NULL) {
            rcfd_free(o);
            rcfd_free(d);
            return RCFD_ENOMEM;
        }
        /* Slots are addressed by seq & (cap - 1): re-place the live ones for the new mask. */
        for (uint64_t s = q->head; s < q->tail; s++) {
            o[s & (cap - 1)] = q->offsets[s & (q->cap - 1)];
            d[s & (cap - 1)] = q->done[s & (q->cap - 1)];
        }
        rcfd_free(q->offsets);
        rcfd_free(q->done);
        q->offsets = o;
        q->done = d;
        q->cap = cap;
    }
    uint64_t s = q->tail++;
    q->offsets[s & (q->cap - 1)] = offset;
    q->done[s & (q->cap - 1)] = 0;
    *seq = s;
    return 0;
}

int rcfd_ackq_done(rcfd_ackq_t *q, uint64_t seq)
{
    if (seq < q->head || seq >= q->tail) {
        return 0; /* already released: a duplicate ack must not move anything */
    }
    q->done[seq & (q->cap - 1)] = 1;
    int advanced = 0;
    while (q->head < q->tail && q->done[q->head & (q->cap - 1)]) {
        q->watermark = q->offsets[q->head & (q->cap - 1)] + 1;
        q->head++;
        advanced = 1;
    }
    return advanced;
}

size_t rcfd_ackq_pending(const rcfd_ackq_t *q)
{
    return (size_t)(q->tail - q->head);
}
