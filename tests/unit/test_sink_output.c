/* The output host (src/sinks/output.c) driven by a fake sink: batches bounded by
 * batch_max_records, per-record settling, RETRY backoff with jitter inside [backoff/2, backoff]
 * and capped, a Retry-After floor under the same cap, DROP to the dead-letter output with the
 * reason, a fatal sink, the filters, byte accounting, and the libuv shutdown idiom (every
 * handle closed, uv_loop_close() == 0). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rcfd/alloc.h"
#include "sinks/output.h"

typedef struct fake {
    int sends;
    int last_retry;
    char last[4096];
    size_t last_n; /* records in the last batch */
} fake_t;

static fake_t fakes[2];

static int fake_open(rcfd_output_t *o, char *errstr, size_t es)
{
    (void)errstr;
    (void)es;
    o->impl = &fakes[o->conf->name[0] == 'd'];
    return 0;
}

static int fake_send(rcfd_output_t *o, const char *data, size_t len, int retry)
{
    fake_t *f = o->impl;
    f->sends++;
    f->last_retry = retry;
    snprintf(f->last, sizeof f->last, "%.*s", (int)len, data);
    f->last_n = o->sending.n;
    return 0;
}

static const rcfd_sink_type_t fake_type = {.name = "fake", .open = fake_open, .send = fake_send};

static int done_count;
static void on_done(rcfd_delivery_t *d)
{
    (void)d;
    done_count++;
}

static rcfd_output_conf_t conf(const char *name)
{
    rcfd_output_conf_t c;
    memset(&c, 0, sizeof c);
    c.name = (char *)(uintptr_t)name;
    c.dead_letter_index = -1;
    c.batch_max_records = 3;
    c.batch_max_bytes = 1024;
    c.retry_initial_ms = 8;
    c.retry_max_ms = 64;
    return c;
}

static void close_all(uv_loop_t *loop, rcfd_output_t *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uv_close((uv_handle_t *)&o[i].retry_timer, NULL);
        uv_close((uv_handle_t *)&o[i].linger_timer, NULL);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
    for (size_t i = 0; i < n; i++) {
        rcfd_output_abandon(&o[i]);
        rcfd_output_destroy(&o[i]);
    }
}

/* A fresh loop and one output "t" on the fake sink, the counters reset. */
static void start_one(uv_loop_t *loop, rcfd_output_conf_t *c, rcfd_output_t *o)
{
    memset(fakes, 0, sizeof fakes);
    done_count = 0;
    uv_loop_init(loop);
    *c = conf("t");
    char err[128];
    assert_int_equal(rcfd_output_init_type(o, loop, c, &fake_type, err, sizeof err), 0);
}

static void test_batches_bounded(void **state)
{
    (void)state;
    uv_loop_t loop;
    rcfd_output_conf_t c;
    rcfd_output_t o;
    start_one(&loop, &c, &o);
    rcfd_delivery_t d[7];
    char line[8];
    for (int i = 0; i < 7; i++) {
        d[i] = (rcfd_delivery_t){.refs = 1, .done = on_done};
        snprintf(line, sizeof line, "r%d", i);
        assert_int_equal(rcfd_output_submit_keyed(&o, line, strlen(line), "k", 1, &d[i]), 0);
        rcfd_delivery_unref(&d[i]); /* the source's own reference */
    }
    /* The batch filled at 3 records and was sent at once; 4 wait. */
    assert_int_equal(fakes[0].sends, 1);
    assert_string_equal(fakes[0].last, "r0\nr1\nr2\n");
    assert_int_equal(rcfd_outputs_queued_bytes(&o, 1), 3 * 3 + 4 * 3);
    assert_int_equal(rcfd_output_inflight(&o), 7);
    rcfd_output_sent(&o, RCFD_SINK_OK);
    assert_int_equal(done_count, 3);
    assert_int_equal(rcfd_output_inflight(&o), 4);
    /* Still full (4 >= 3): the next 3 went out right away. */
    assert_int_equal(fakes[0].sends, 2);
    assert_string_equal(fakes[0].last, "r3\nr4\nr5\n");
    /* Settle one record individually, then RETRY: the resend keeps it settled. */
    rcfd_output_record_ok(&o, 1);
    assert_int_equal(done_count, 4);
    assert_int_equal(rcfd_output_inflight(&o), 3);
    rcfd_output_sent(&o, RCFD_SINK_RETRY);
    assert_int_equal(rcfd_output_inflight(&o), 3); /* waiting for the resend still counts */
    uint64_t due = uv_timer_get_due_in(&o.retry_timer);
    assert_true(due >= 4 && due <= 8);
    uv_run(&loop, UV_RUN_ONCE);
    while (fakes[0].sends < 3) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    assert_int_equal(fakes[0].last_retry, 1);
    assert_true(o.sending.r[1].done && !o.sending.r[0].done);
    rcfd_output_sent(&o, RCFD_SINK_OK);
    assert_int_equal(done_count, 6);
    /* One left, not full: sent by the next flush (the runtime's uv_prepare). */
    assert_int_equal(fakes[0].sends, 3);
    rcfd_output_flush(&o);
    assert_int_equal(fakes[0].sends, 4);
    assert_string_equal(fakes[0].last, "r6\n");
    rcfd_output_sent(&o, RCFD_SINK_OK);
    assert_int_equal(done_count, 7);
    assert_true(rcfd_output_idle(&o));
    assert_int_equal(o.stats.records, 7);
    assert_int_equal(o.stats.retries, 1);
    assert_false(isnan(rcfd_output_latency_ms(&o, 0.99)));
    assert_int_equal(rcfd_output_inflight(&o), 0);
    /* The /metrics histogram saw every accepted record once; the retried batch waited at least
     * the 4 ms backoff. */
    uint64_t seen = 0;
    for (size_t i = 0; i <= RCFD_LAT_BOUNDS; i++) {
        seen += o.stats.lat_le[i];
    }
    assert_int_equal(seen, 7);
    assert_true(o.stats.lat_sum >= 2 * 0.004);
    close_all(&loop, &o, 1);
}

static void test_backoff_capped(void **state)
{
    (void)state;
    uv_loop_t loop;
    rcfd_output_conf_t c;
    rcfd_output_t o;
    start_one(&loop, &c, &o);
    rcfd_delivery_t d = {.refs = 1, .done = on_done};
    rcfd_output_submit(&o, "x", 1, &d);
    rcfd_output_flush(&o);
    uint64_t step = 8;
    for (int i = 0; i < 8; i++) {
        rcfd_output_sent(&o, RCFD_SINK_RETRY);
        uint64_t due = uv_timer_get_due_in(&o.retry_timer);
        assert_true(due >= step / 2 && due <= step);
        step = step * 2 > 64 ? 64 : step * 2;
        uv_timer_stop(&o.retry_timer);
    }
    /* A server's Retry-After: a floor under the jittered backoff, capped at retry_max_ms (64). */
    rcfd_output_retry_after(&o, 50);
    uint64_t due = uv_timer_get_due_in(&o.retry_timer);
    assert_true(due >= 50 && due <= 64);
    uv_timer_stop(&o.retry_timer);
    rcfd_output_retry_after(&o, 3600 * 1000);
    assert_int_equal(uv_timer_get_due_in(&o.retry_timer), 64);
    uv_timer_stop(&o.retry_timer);
    rcfd_output_retry_after(&o, 1);
    due = uv_timer_get_due_in(&o.retry_timer);
    assert_true(due >= 32 && due <= 64);
    uv_timer_stop(&o.retry_timer);
    assert_int_equal(o.stats.retries, 11);
    rcfd_output_sent(&o, RCFD_SINK_OK);
    assert_int_equal(o.backoff_ms, 8); /* reset by success */
    rcfd_delivery_unref(&d);
    assert_int_equal(done_count, 1);
    close_all(&loop, &o, 1);
}

static void test_drop_to_dead_letter(void **state)
{
    (void)state;
    memset(fakes, 0, sizeof fakes);
    done_count = 0;
    uv_loop_t loop;
    uv_loop_init(&loop);
    rcfd_output_conf_t c[2] = {conf("t"), conf("dead")};
    c[0].dead_letter_index = 1;
    rcfd_output_t o[2];
    char err[128];
    assert_int_equal(rcfd_output_init_type(&o[0], &loop, &c[0], &fake_type, err, sizeof err), 0);
    assert_int_equal(rcfd_output_init_type(&o[1], &loop, &c[1], &fake_type, err, sizeof err), 0);
    rcfd_outputs_link(o, 2);
    assert_ptr_equal(o[0].dead, &o[1]);
    rcfd_delivery_t d = {.refs = 1, .done = on_done};
    rcfd_output_submit(&o[0], "{\"a\":1}", 7, &d);
    rcfd_delivery_unref(&d);
    rcfd_output_flush(&o[0]);
    rcfd_output_drop(&o[0], "HTTP 400");
    assert_int_equal(done_count, 0); /* the dead-letter output holds it now */
    assert_int_equal(o[0].stats.dead_lettered, 1);
    rcfd_output_flush(&o[1]);
    assert_string_equal(fakes[1].last,
                        "{\"reason\":\"HTTP 400\",\"output\":\"t\",\"record\":\"{\\\"a\\\":1}\"}\n");
    rcfd_output_sent(&o[1], RCFD_SINK_OK);
    assert_int_equal(done_count, 1);
    close_all(&loop, o, 2);
}

static int fatal_calls;
static void on_fatal(void *ud)
{
    (void)ud;
    fatal_calls++;
}

/* A sink that can never deliver again: on_fatal runs once, nothing more is sent, the records stay
 * unaccepted (their deliveries are only released by abandon). */
static void test_fatal(void **state)
{
    (void)state;
    fatal_calls = 0;
    uv_loop_t loop;
    rcfd_output_conf_t c;
    rcfd_output_t o;
    start_one(&loop, &c, &o);
    o.on_fatal = on_fatal;
    rcfd_delivery_t d[5];
    for (int i = 0; i < 5; i++) {
        d[i] = (rcfd_delivery_t){.refs = 1, .done = on_done};
        assert_int_equal(rcfd_output_submit(&o, "x", 1, &d[i]), 0);
        rcfd_delivery_unref(&d[i]);
    }
    assert_int_equal(fakes[0].sends, 1); /* the first 3 are in flight */
    rcfd_output_record_ok(&o, 0);
    rcfd_output_fatal(&o, "fatal producer error");
    rcfd_output_fatal(&o, "again");
    assert_int_equal(fatal_calls, 1);
    rcfd_output_flush(&o);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(fakes[0].sends, 1);
    assert_int_equal(done_count, 1);
    assert_int_equal(rcfd_output_inflight(&o), 4);
    assert_false(rcfd_output_idle(&o));
    close_all(&loop, &o, 1);
    assert_int_equal(done_count, 5);
}


/* rcfd_output_wants for one record's results */
static int wants(const rcfd_output_t *o, double score, double grade, double novelty, int hotspots,
                 int alert)
{
    rcfd_verdict_t v = {score, grade, novelty, hotspots, alert};
    return rcfd_output_wants(o, &v);
}

static void test_filters(void **state)
{
    (void)state;
    rcfd_output_conf_t c = conf("t");
    rcfd_output_t o;
    memset(&o, 0, sizeof o);
    o.conf = &c;
    assert_true(wants(&o, 0.1, 0, NAN, 0, -1));
    c.min_score = 2;
    assert_false(wants(&o, 1.9, NAN, NAN, 0, -1));
    assert_true(wants(&o, 2.0, NAN, NAN, 0, -1));
    assert_true(wants(&o, NAN, NAN, NAN, 0, -1)); /* no score (HOTSPOTS only): n/a */
    c.min_score = 0;
    c.min_grade = 0.5;
    assert_false(wants(&o, 9, 0.4, NAN, 0, -1));
    assert_true(wants(&o, 0, 0.5, NAN, 0, -1));
    c.min_grade = 0;
    c.min_novelty = 3;
    assert_false(wants(&o, 9, 1, 2.9, 0, -1));
    assert_true(wants(&o, 0, 0, 3, 0, -1));
    assert_true(wants(&o, 9, 1, NAN, 0, -1)); /* no novelty (HOTSPOTS only): n/a */
    c.min_novelty = 0;
    c.require_hotspots = 1;
    assert_false(wants(&o, 9, 1, NAN, 0, -1));
    assert_true(wants(&o, 0, 0, NAN, 1, -1));
    c.require_hotspots = 0;
    c.alert = 1;
    assert_false(wants(&o, 9, 1, NAN, 0, 0)); /* high score and grade, no alert starts */
    assert_true(wants(&o, 0, 0, NAN, 0, 1));
    assert_true(wants(&o, 9, 1, NAN, 0, -1)); /* no alert decision in the pipeline: n/a */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_bounded),
        cmocka_unit_test(test_backoff_capped),
        cmocka_unit_test(test_drop_to_dead_letter),
        cmocka_unit_test(test_fatal),
        cmocka_unit_test(test_filters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
