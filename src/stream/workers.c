#include "stream/workers.h"

#include <pthread.h>
#include <stdio.h>

#include "rcfd/alloc.h"
#include "rcfd/status.h"

typedef struct worker {
    struct rcfd_workers *pool;
    size_t index;
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t work;   /* signalled: an item was queued, or stop */
    uv_cond_t room;   /* broadcast: an item finished (room in the queue; maybe idle) */
    rcfd_work_item_t *head, *tail; /* queued, not yet taken */
    size_t pending;   /* queued or running */
    atomic_size_t npending; /* its copy for lock-free reads (backpressure checks per record) */
    int stop;
    int started;
} worker_t;

struct rcfd_workers {
    uv_loop_t *loop;
    uv_async_t async;
    worker_t *w;
    size_t n, depth;
    rcfd_work_fn work;
    rcfd_work_done_fn done;
    void *ud;
    rcfd_work_item_t *order_head, *order_tail; /* submitted, not yet handed to done() */
    rcfd_workers_stats_t stats;
    int stopped;
    int async_open;
};

static void worker_main(void *arg)
{
    worker_t *wk = arg;
    struct rcfd_workers *pool = wk->pool;
    char name[16]; /* what top -H and /proc/<pid>/task/<tid>/comm show (15 bytes at most) */
    snprintf(name, sizeof name, "rcfd-worker-%zu", wk->index % 1000);
    pthread_setname_np(pthread_self(), name);
    uv_mutex_lock(&wk->mu);
    for (;;) {
        while (wk->head == NULL && !wk->stop) {
            uv_cond_wait(&wk->work, &wk->mu);
        }
        if (wk->stop) {
            break;
        }
        rcfd_work_item_t *it = wk->head;
        wk->head = it->q_next;
        if (wk->head == NULL) {
            wk->tail = NULL;
        }
        uv_mutex_unlock(&wk->mu);
        pool->work(pool->ud, wk->index, it);
        atomic_store_explicit(&it->finished, 1, memory_order_release);
        uv_mutex_lock(&wk->mu);
        wk->pending--;
        atomic_store_explicit(&wk->npending, wk->pending, memory_order_relaxed);
        uv_cond_broadcast(&wk->room);
        /* The loop is woken once this queue is down to half (time to refill it: the loop holds
         * a worker's records from 3/4 on) or empty, not after every item: each wakeup of the loop
         * preempts a worker when the workers fill the cores. Items finished meanwhile are
         * collected then, or at the loop's next iteration if it is awake anyway
         * (rcfd_workers_collect from its prepare). The last item of any run of work leaves the
         * queue at or below half, so every finished item is handed back. Coalesced by libuv as
         * well: one wakeup however many sends come before the loop runs. */
        if (wk->pending <= pool->depth / 2) {
            uv_async_send(&pool->async);
        }
    }
    uv_mutex_unlock(&wk->mu);
}

static void on_async(uv_async_t *h)
{
    rcfd_workers_collect(h->data);
}

int rcfd_workers_new(uv_loop_t *loop, size_t n, size_t depth, rcfd_work_fn work,
                     rcfd_work_done_fn done, void *ud, rcfd_workers_t **out)
{
    *out = NULL;
    if (n == 0 || depth == 0 || work == NULL || done == NULL) {
        return RCFD_EINVAL;
    }
    struct rcfd_workers *p = rcfd_calloc(1, sizeof *p);
    if (p == NULL) {
        return RCFD_ENOMEM;
    }
    p->w = rcfd_calloc(n, sizeof *p->w);
    if (p->w == NULL) {
        rcfd_free(p);
        return RCFD_ENOMEM;
    }
    p->loop = loop;
    p->n = n;
    p->depth = depth;
    p->work = work;
    p->done = done;
    p->ud = ud;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        worker_t *wk = &p->w[i];
        wk->pool = p;
        wk->index = i;
        if ((rc = uv_mutex_init(&wk->mu)) != 0) {
            break;
        }
        if ((rc = uv_cond_init(&wk->work)) != 0) {
            uv_mutex_destroy(&wk->mu);
            break;
        }
        if ((rc = uv_cond_init(&wk->room)) != 0) {
            uv_cond_destroy(&wk->work);
            uv_mutex_destroy(&wk->mu);
            break;
        }
        if ((rc = uv_thread_create(&wk->thread, worker_main, wk)) != 0) {
            uv_cond_destroy(&wk->room);
            uv_cond_destroy(&wk->work);
            uv_mutex_destroy(&wk->mu);
            break;
        }
        wk->started = 1;
    }
    /* The handle last: a pool that failed to start has nothing for the loop to close. */
    if (rc == 0 && (rc = uv_async_init(loop, &p->async, on_async)) == 0) {
        p->async.data = p;
        p->async_open = 1;
    }
    if (rc != 0) {
        rcfd_workers_stop(p, NULL);
        rcfd_workers_destroy(p);
        return rc;
    }
    *out = p;
    return 0;
}

size_t rcfd_workers_count(const rcfd_workers_t *w)
{
    return w->n;
}

static void enqueue(struct rcfd_workers *p, worker_t *wk, rcfd_work_item_t *it)
{
    it->q_next = NULL;
    it->order_next = NULL;
    it->worker = (uint32_t)wk->index;
    atomic_store_explicit(&it->finished, 0, memory_order_relaxed);
    if (wk->tail != NULL) {
        wk->tail->q_next = it;
    } else {
        wk->head = it;
    }
    wk->tail = it;
    wk->pending++;
    atomic_store_explicit(&wk->npending, wk->pending, memory_order_relaxed);
    uv_cond_signal(&wk->work);
    if (p->order_tail != NULL) {
        p->order_tail->order_next = it;
    } else {
        p->order_head = it;
    }
    p->order_tail = it;
    p->stats.submitted++;
}

int rcfd_workers_try_submit(rcfd_workers_t *p, size_t worker, rcfd_work_item_t *it)
{
    worker_t *wk = &p->w[worker];
    uv_mutex_lock(&wk->mu);
    if (wk->pending >= p->depth) {
        uv_mutex_unlock(&wk->mu);
        return RCFD_EAGAIN;
    }
    enqueue(p, wk, it);
    uv_mutex_unlock(&wk->mu);
    return 0;
}

void rcfd_workers_submit(rcfd_workers_t *p, size_t worker, rcfd_work_item_t *it)
{
    worker_t *wk = &p->w[worker];
    uv_mutex_lock(&wk->mu);
    if (wk->pending >= p->depth) {
        p->stats.stalls++;
        do {
            uv_cond_wait(&wk->room, &wk->mu);
        } while (wk->pending >= p->depth);
    }
    enqueue(p, wk, it);
    uv_mutex_unlock(&wk->mu);
}

size_t rcfd_workers_pending(rcfd_workers_t *p, size_t worker)
{
    worker_t *wk = &p->w[worker];
    uv_mutex_lock(&wk->mu);
    size_t n = wk->pending;
    uv_mutex_unlock(&wk->mu);
    return n;
}

/* The queue lengths as last published: a moment old at most, which is all a backpressure check
 * needs, and no lock on the per-record path. */
static size_t pending_hint(const struct rcfd_workers *p, size_t i)
{
    return atomic_load_explicit(&p->w[i].npending, memory_order_relaxed);
}

int rcfd_workers_busy_one(rcfd_workers_t *p, size_t worker)
{
    return pending_hint(p, worker) >= p->depth - p->depth / 4;
}

int rcfd_workers_calm_one(rcfd_workers_t *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (pending_hint(p, i) <= p->depth / 2) {
            return 1;
        }
    }
    return 0;
}

int rcfd_workers_full(rcfd_workers_t *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (pending_hint(p, i) >= p->depth) {
            return 1;
        }
    }
    return 0;
}

int rcfd_workers_calm(rcfd_workers_t *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (pending_hint(p, i) > p->depth / 2) {
            return 0;
        }
    }
    return 1;
}

void rcfd_workers_quiesce(rcfd_workers_t *p)
{
    for (size_t i = 0; i < p->n; i++) {
        worker_t *wk = &p->w[i];
        uv_mutex_lock(&wk->mu);
        while (wk->pending > 0 && wk->started && !wk->stop) {
            uv_cond_wait(&wk->room, &wk->mu);
        }
        uv_mutex_unlock(&wk->mu);
    }
}

size_t rcfd_workers_collect(rcfd_workers_t *p)
{
    size_t n = 0;
    while (p->order_head != NULL && !p->stopped &&
           atomic_load_explicit(&p->order_head->finished, memory_order_acquire)) {
        rcfd_work_item_t *it = p->order_head;
        p->order_head = it->order_next;
        if (p->order_head == NULL) {
            p->order_tail = NULL;
        }
        p->stats.completed++;
        n++;
        p->done(p->ud, it); /* may submit more: the order list is consistent here */
    }
    return n;
}

void rcfd_workers_stats(const rcfd_workers_t *p, rcfd_workers_stats_t *out)
{
    *out = p->stats;
}

void rcfd_workers_stop(rcfd_workers_t *p, void (*each)(void *ud, rcfd_work_item_t *it))
{
    if (p == NULL || p->stopped) {
        return;
    }
    p->stopped = 1;
    for (size_t i = 0; i < p->n; i++) {
        worker_t *wk = &p->w[i];
        if (!wk->started) {
            continue;
        }
        uv_mutex_lock(&wk->mu);
        wk->stop = 1;
        uv_cond_signal(&wk->work);
        uv_mutex_unlock(&wk->mu);
    }
    for (size_t i = 0; i < p->n; i++) {
        worker_t *wk = &p->w[i];
        if (!wk->started) {
            continue;
        }
        uv_thread_join(&wk->thread);
        uv_cond_destroy(&wk->room);
        uv_cond_destroy(&wk->work);
        uv_mutex_destroy(&wk->mu);
        wk->started = 0;
    }
    if (p->async_open && !uv_is_closing((uv_handle_t *)&p->async)) {
        uv_close((uv_handle_t *)&p->async, NULL);
    }
    rcfd_work_item_t *it = p->order_head;
    p->order_head = p->order_tail = NULL;
    while (it != NULL) {
        rcfd_work_item_t *next = it->order_next;
        if (each != NULL) {
            each(p->ud, it);
        }
        it = next;
    }
}

void rcfd_workers_destroy(rcfd_workers_t *p)
{
    if (p == NULL) {
        return;
    }
    rcfd_workers_stop(p, NULL);
    rcfd_free(p->w);
    rcfd_free(p);
}
