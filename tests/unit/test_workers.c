/* The worker pool behind runtime.workers: items run on the worker they were given to, in order;
 * completions come back on the loop in submission order; a full queue refuses (try) or waits;
 * quiesce publishes what workers wrote; stop hands back what never completed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "rcfd/status.h"
#include "stream/workers.h"

#define N_ITEMS 600

typedef struct item {
    rcfd_work_item_t it;
    size_t id;
    size_t want_worker;
    size_t ran_on;    /* written by the worker */
    uint64_t spin;    /* work of uneven length, so workers finish out of submission order */
    uint64_t sink;
    int gated;        /* waits for the test's gate */
} item_t;

typedef struct fixture {
    uv_loop_t loop;
    rcfd_workers_t *w;
    uv_mutex_t mu;
    uv_cond_t cv;
    int gate_open;
    int gated_started;
    size_t order[N_ITEMS]; /* ids in the order done() saw them */
    size_t n_done;
    size_t n_each;
    size_t each_ids[N_ITEMS];
    uint64_t counter[4]; /* per worker, plain: only its worker writes it */
} fixture_t;

static item_t *as_item(rcfd_work_item_t *it)
{
    return (item_t *)((char *)it - offsetof(item_t, it));
}

static void work(void *ud, size_t worker, rcfd_work_item_t *wi)
{
    fixture_t *f = ud;
    item_t *x = as_item(wi);
    x->ran_on = worker;
    if (x->gated) {
        uv_mutex_lock(&f->mu);
        f->gated_started = 1;
        uv_cond_broadcast(&f->cv);
        while (!f->gate_open) {
            uv_cond_wait(&f->cv, &f->mu);
        }
        uv_mutex_unlock(&f->mu);
    }
    uint64_t h = x->id;
    for (uint64_t i = 0; i < x->spin; i++) {
        h = h * 6364136223846793005ULL + 1442695040888963407ULL;
    }
    x->sink = h;
    f->counter[worker]++;
}

static void done(void *ud, rcfd_work_item_t *wi)
{
    fixture_t *f = ud;
    f->order[f->n_done++] = as_item(wi)->id;
}

static void each(void *ud, rcfd_work_item_t *wi)
{
    fixture_t *f = ud;
    f->each_ids[f->n_each++] = as_item(wi)->id;
}

static void open_gate(fixture_t *f)
{
    uv_mutex_lock(&f->mu);
    f->gate_open = 1;
    uv_cond_broadcast(&f->cv);
    uv_mutex_unlock(&f->mu);
}

static void wait_gated_started(fixture_t *f)
{
    uv_mutex_lock(&f->mu);
    while (!f->gated_started) {
        uv_cond_wait(&f->cv, &f->mu);
    }
    uv_mutex_unlock(&f->mu);
}

static fixture_t *setup(size_t n, size_t depth)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(uv_mutex_init(&f->mu), 0);
    assert_int_equal(uv_cond_init(&f->cv), 0);
    assert_int_equal(rcfd_workers_new(&f->loop, n, depth, work, done, f, &f->w), 0);
    assert_int_equal(rcfd_workers_count(f->w), n);
    return f;
}

static void teardown(fixture_t *f)
{
    rcfd_workers_stop(f->w, each);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    rcfd_workers_destroy(f->w);
    uv_cond_destroy(&f->cv);
    uv_mutex_destroy(&f->mu);
    free(f);
}

static void run_until_done(fixture_t *f, size_t n)
{
    while (f->n_done < n) {
        uv_run(&f->loop, UV_RUN_ONCE); /* the uv_async_t keeps the loop waiting for wakeups */
    }
}

static void test_bad_arguments(void **state)
{
    (void)state;
    uv_loop_t loop;
    rcfd_workers_t *w = (rcfd_workers_t *)&loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(rcfd_workers_new(&loop, 0, 4, work, done, NULL, &w), RCFD_EINVAL);
    assert_null(w);
    assert_int_equal(rcfd_workers_new(&loop, 2, 0, work, done, NULL, &w), RCFD_EINVAL);
    assert_int_equal(rcfd_workers_new(&loop, 2, 4, NULL, done, NULL, &w), RCFD_EINVAL);
    assert_int_equal(uv_loop_close(&loop), 0); /* nothing was left open */
}

/* Items of uneven length on three workers: done() sees submission order, and every item ran on
 * the worker it was submitted to. */
static void test_order_and_owner(void **state)
{
    (void)state;
    fixture_t *f = setup(3, 8);
    static item_t items[N_ITEMS];
    memset(items, 0, sizeof items);
    for (size_t i = 0; i < N_ITEMS; i++) {
        items[i].id = i;
        items[i].want_worker = (i * 7 + i / 5) % 3;
        items[i].spin = (i % 3 == 0) ? 20000 : (i % 11) * 50; /* worker 0's share is slow */
        rcfd_workers_submit(f->w, items[i].want_worker, &items[i].it);
        rcfd_workers_collect(f->w); /* completions may come back while submitting */
    }
    run_until_done(f, N_ITEMS);
    for (size_t i = 0; i < N_ITEMS; i++) {
        assert_int_equal(f->order[i], i);
        assert_int_equal(items[i].ran_on, items[i].want_worker);
    }
    rcfd_workers_stats_t st;
    rcfd_workers_stats(f->w, &st);
    assert_int_equal(st.submitted, N_ITEMS);
    assert_int_equal(st.completed, N_ITEMS);
    teardown(f);
}

/* depth 2: one item running (held at the gate) and one queued fill the queue; try_submit then
 * refuses without queueing, busy_one() says so for that worker only, and another worker's queue
 * is unaffected. */
static void test_full_queue(void **state)
{
    (void)state;
    fixture_t *f = setup(2, 2);
    item_t a = {.id = 0, .gated = 1}, b = {.id = 1}, c = {.id = 2}, d = {.id = 3};
    assert_int_equal(rcfd_workers_try_submit(f->w, 0, &a.it), 0);
    wait_gated_started(f);
    assert_int_equal(rcfd_workers_try_submit(f->w, 0, &b.it), 0);
    assert_int_equal(rcfd_workers_pending(f->w, 0), 2);
    assert_int_equal(rcfd_workers_busy_one(f->w, 0), 1);
    assert_int_equal(rcfd_workers_busy_one(f->w, 1), 0);
    assert_int_equal(rcfd_workers_full(f->w), 1);
    assert_int_equal(rcfd_workers_calm(f->w), 0);
    assert_int_equal(rcfd_workers_try_submit(f->w, 0, &c.it), RCFD_EAGAIN);
    assert_int_equal(rcfd_workers_pending(f->w, 0), 2); /* the refused item was not queued */
    assert_int_equal(rcfd_workers_try_submit(f->w, 1, &d.it), 0);
    open_gate(f);
    run_until_done(f, 3);
    assert_int_equal(f->order[0], 0);
    assert_int_equal(f->order[1], 1);
    assert_int_equal(f->order[2], 3);
    assert_int_equal(rcfd_workers_pending(f->w, 0), 0);
    assert_int_equal(rcfd_workers_calm(f->w), 1);
    assert_int_equal(rcfd_workers_busy_one(f->w, 0), 0);
    assert_int_equal(rcfd_workers_full(f->w), 0);
    teardown(f);
}

/* The thresholds: depth 8 is busy from 6 items (3/4), full at 8, calm again at 4 or fewer. */
static void test_thresholds(void **state)
{
    (void)state;
    fixture_t *f = setup(1, 8);
    item_t items[8];
    memset(items, 0, sizeof items);
    items[0].gated = 1;
    for (size_t i = 0; i < 8; i++) {
        items[i].id = i;
        assert_int_equal(rcfd_workers_try_submit(f->w, 0, &items[i].it), 0);
        if (i == 0) {
            wait_gated_started(f);
        }
        assert_int_equal(rcfd_workers_busy_one(f->w, 0), i + 1 >= 6);
        assert_int_equal(rcfd_workers_full(f->w), i + 1 == 8);
        assert_int_equal(rcfd_workers_calm(f->w), i + 1 <= 4);
    }
    open_gate(f);
    run_until_done(f, 8);
    assert_int_equal(rcfd_workers_calm(f->w), 1);
    teardown(f);
}

typedef struct opener {
    fixture_t *f;
} opener_t;

static void opener_main(void *arg)
{
    opener_t *o = arg;
    wait_gated_started(o->f);
    open_gate(o->f);
}

/* A blocking submit into a full queue returns once the worker made room (another thread opens
 * the gate), and the item still runs in order. */
static void test_submit_waits_for_room(void **state)
{
    (void)state;
    fixture_t *f = setup(1, 1);
    item_t a = {.id = 0, .gated = 1}, b = {.id = 1};
    rcfd_workers_submit(f->w, 0, &a.it);
    assert_int_equal(rcfd_workers_try_submit(f->w, 0, &b.it), RCFD_EAGAIN);
    opener_t o = {f};
    uv_thread_t t;
    assert_int_equal(uv_thread_create(&t, opener_main, &o), 0);
    rcfd_workers_submit(f->w, 0, &b.it);
    assert_int_equal(uv_thread_join(&t), 0);
    run_until_done(f, 2);
    assert_int_equal(f->order[0], 0);
    assert_int_equal(f->order[1], 1);
    rcfd_workers_stats_t st;
    rcfd_workers_stats(f->w, &st);
    assert_true(st.stalls <= 1);
    teardown(f);
}

/* After quiesce the loop thread reads what the workers wrote without a lock of its own (run
 * under ThreadSanitizer, a missing happens-before would be reported), before any done(). */
static void test_quiesce(void **state)
{
    (void)state;
    fixture_t *f = setup(4, 64);
    static item_t items[256];
    memset(items, 0, sizeof items);
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < 128; i++) {
            item_t *x = &items[round * 128 + i];
            x->id = round * 128 + i;
            x->spin = 500;
            rcfd_workers_submit(f->w, i % 4, &x->it);
        }
        rcfd_workers_quiesce(f->w);
        uint64_t sum = 0;
        for (int w = 0; w < 4; w++) {
            sum += f->counter[w];
            assert_int_equal(rcfd_workers_pending(f->w, (size_t)w), 0);
        }
        assert_int_equal(sum, (uint64_t)(round + 1) * 128);
        assert_int_equal(f->n_done, (size_t)round * 128); /* done() only on the loop's turn */
        assert_int_equal(rcfd_workers_collect(f->w), 128);
    }
    teardown(f);
}

/* stop() with work queued: what came back through done() before does not come again, and
 * everything else comes back through each(), every item exactly once, in submission order. */
static void test_stop_hands_back(void **state)
{
    (void)state;
    fixture_t *f = setup(2, 8);
    item_t items[8];
    memset(items, 0, sizeof items);
    for (size_t i = 0; i < 4; i++) {
        items[i].id = i;
        rcfd_workers_submit(f->w, i % 2, &items[i].it);
    }
    rcfd_workers_quiesce(f->w);
    assert_int_equal(rcfd_workers_collect(f->w), 4);
    for (size_t i = 4; i < 8; i++) {
        items[i].id = i;
        items[i].gated = i == 4;
        rcfd_workers_submit(f->w, i % 2, &items[i].it);
    }
    wait_gated_started(f);
    open_gate(f); /* else the join would wait for item 4 forever */
    rcfd_workers_stop(f->w, each);
    assert_int_equal(rcfd_workers_collect(f->w), 0);
    assert_int_equal(f->n_done, 4);
    assert_int_equal(f->n_each, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(f->order[i], i);
        assert_int_equal(f->each_ids[i], 4 + i);
    }
    rcfd_workers_stop(f->w, each); /* idempotent */
    assert_int_equal(f->n_each, 4);
    teardown(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_order_and_owner),
        cmocka_unit_test(test_full_queue),
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_submit_waits_for_room),
        cmocka_unit_test(test_quiesce),
        cmocka_unit_test(test_stop_hands_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
