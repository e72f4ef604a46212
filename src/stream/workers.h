/* A pool of worker threads with one bounded input queue each, and completions handed back to the
 * loop in submission order.
 *
 *   loop thread                        worker thread i
 *   rcfd_workers_submit(w, i, it) --> [queue i, at most `depth` items] --> work(ud, i, it)
 *   done(ud, it), in submission order <-- uv_async_send wakes the loop <-- it marked finished
 *
 * A worker wakes the loop only when its queue is down to half or empty (not per item), so the
 * loop must also call rcfd_workers_collect() once per iteration (its uv_prepare) to hand back
 * what finished while it was awake anyway.
 *
 * The caller embeds an rcfd_work_item_t in its own batch struct (container_of) and owns it; the
 * pool only links it. An item belongs to its worker from submit until work() returns, and to the
 * loop again once done() is called. Items of one worker run one at a time, in the order they were
 * submitted to it, so state only ever touched from work() on worker i (a key's models) needs no
 * lock. rcfd_workers_quiesce() waits until every worker has finished everything submitted: until
 * the next submit, the loop may then touch worker-owned state itself (the queue's mutex orders the
 * accesses, in both directions).
 *
 * Ownership: the loop thread owns the pool and is the only thread that calls these functions
 * (work() runs on the workers). rcfd_workers_stop() joins the threads and starts closing the
 * uv_async_t; rcfd_workers_destroy() frees the pool after the loop has run the close. */
#ifndef RCFD_STREAM_WORKERS_H
#define RCFD_STREAM_WORKERS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

typedef struct rcfd_work_item {
    struct rcfd_work_item *q_next;     /* in its worker's queue (under the worker's mutex) */
    struct rcfd_work_item *order_next; /* in submission order (loop thread only) */
    atomic_int finished;               /* set by the worker after work() returned */
    uint32_t worker;
} rcfd_work_item_t;

/* work() runs on worker `worker`'s thread; done() on the loop thread, in submission order. */
typedef void (*rcfd_work_fn)(void *ud, size_t worker, rcfd_work_item_t *it);
typedef void (*rcfd_work_done_fn)(void *ud, rcfd_work_item_t *it);

typedef struct rcfd_workers rcfd_workers_t;

typedef struct rcfd_workers_stats {
    uint64_t submitted; /* items submitted */
    uint64_t completed; /* items handed back through done() */
    uint64_t stalls;    /* submits that had to wait for room in a full queue */
} rcfd_workers_stats_t;

/* Starts n threads (n >= 1), each with a queue of at most `depth` (>= 1) items waiting or running.
 * Returns 0, or a negative code with nothing started. */
int rcfd_workers_new(uv_loop_t *loop, size_t n, size_t depth, rcfd_work_fn work,
                     rcfd_work_done_fn done, void *ud, rcfd_workers_t **out);
size_t rcfd_workers_count(const rcfd_workers_t *w);

/* Queues `it` for `worker`. try_submit returns RCFD_EAGAIN (nothing queued) when that queue is
 * full; submit waits for room instead (the worker is making progress, so the wait is bounded by
 * one item's work). Callers keep queues from filling by holding their inputs at
 * rcfd_workers_busy_one(). */
int rcfd_workers_try_submit(rcfd_workers_t *w, size_t worker, rcfd_work_item_t *it);
void rcfd_workers_submit(rcfd_workers_t *w, size_t worker, rcfd_work_item_t *it);

/* Items submitted to `worker` whose work() has not returned yet. */
size_t rcfd_workers_pending(rcfd_workers_t *w, size_t worker);
/* Without a lock (the lengths as the workers last published them): full when some queue holds
 * `depth` items; calm when every queue holds at most `depth` / 2. */
int rcfd_workers_full(rcfd_workers_t *w);
int rcfd_workers_calm(rcfd_workers_t *w);
/* busy_one: `worker`'s queue holds at least `depth` - `depth` / 4 items (time to stop giving it
 * records); calm_one: some queue holds at most `depth` / 2. */
int rcfd_workers_busy_one(rcfd_workers_t *w, size_t worker);
int rcfd_workers_calm_one(rcfd_workers_t *w);

/* Waits until every submitted item's work() has returned (their done() calls are still to come,
 * from the loop). Worker-owned state may then be touched on the loop until the next submit. */
void rcfd_workers_quiesce(rcfd_workers_t *w);
/* Calls done() for the finished items at the head of the submission order now (the uv_async_t
 * does the same when it fires). Returns how many. */
size_t rcfd_workers_collect(rcfd_workers_t *w);

void rcfd_workers_stats(const rcfd_workers_t *w, rcfd_workers_stats_t *out);

/* Stops the threads once their current item is done (items still queued are not run) and joins
 * them, then closes the uv_async_t. Afterwards `each` (may be NULL) is called, on this thread, for
 * every item not yet handed to done(), finished or not, in submission order. Idempotent. */
void rcfd_workers_stop(rcfd_workers_t *w, void (*each)(void *ud, rcfd_work_item_t *it));
/* After the loop ran the uv_async_t's close (uv_run, or uv_loop_close succeeded). */
void rcfd_workers_destroy(rcfd_workers_t *w);

#endif
