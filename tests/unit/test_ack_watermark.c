/* The per-partition contiguous acknowledgement watermark behind at-least-once offsets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stream/ackq.h"

static void test_in_order(void **state)
{
    (void)state;
    rcfd_ackq_t q;
    rcfd_ackq_init(&q);
    uint64_t s[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rcfd_ackq_push(&q, 10 + i, &s[i]), 0);
    }
    assert_int_equal(q.watermark, -1);
    assert_int_equal(rcfd_ackq_done(&q, s[0]), 1);
    assert_int_equal(q.watermark, 11);
    assert_int_equal(rcfd_ackq_done(&q, s[1]), 1);
    assert_int_equal(rcfd_ackq_done(&q, s[2]), 1);
    assert_int_equal(q.watermark, 13);
    assert_int_equal(rcfd_ackq_pending(&q), 0);
    rcfd_ackq_free(&q);
}

static void test_out_of_order_holds_watermark(void **state)
{
    (void)state;
    rcfd_ackq_t q;
    rcfd_ackq_init(&q);
    uint64_t s[4];
    int64_t offs[4] = {5, 6, 9, 12}; /* gaps: compaction or transaction markers */
    for (int i = 0; i < 4; i++) {
        rcfd_ackq_push(&q, offs[i], &s[i]);
    }
    assert_int_equal(rcfd_ackq_done(&q, s[2]), 0); /* 9 done, 5 and 6 not: nothing stored */
    assert_int_equal(rcfd_ackq_done(&q, s[3]), 0);
    assert_int_equal(q.watermark, -1);
    assert_int_equal(rcfd_ackq_done(&q, s[1]), 0);
    assert_int_equal(rcfd_ackq_done(&q, s[0]), 1); /* releases all four at once */
    assert_int_equal(q.watermark, 13);
    assert_int_equal(rcfd_ackq_done(&q, s[0]), 0); /* a duplicate ack moves nothing */
    assert_int_equal(q.watermark, 13);
    rcfd_ackq_free(&q);
}

static void test_growth_keeps_slots(void **state)
{
    (void)state;
    rcfd_ackq_t q;
    rcfd_ackq_init(&q);
    enum { N = 5000 };
    static uint64_t s[N];
    /* Complete the first half, then grow far past the initial capacity with a wrapped head. */
    for (int i = 0; i < 100; i++) {
        rcfd_ackq_push(&q, i, &s[i]);
    }
    for (int i = 0; i < 50; i++) {
        rcfd_ackq_done(&q, s[i]);
    }
    assert_int_equal(q.watermark, 50);
    for (int i = 100; i < N; i++) {
        assert_int_equal(rcfd_ackq_push(&q, i, &s[i]), 0);
    }
    for (int i = N - 1; i >= 51; i--) {
        rcfd_ackq_done(&q, s[i]);
    }
    assert_int_equal(q.watermark, 50);
    assert_int_equal(rcfd_ackq_pending(&q), N - 50);
    assert_int_equal(rcfd_ackq_done(&q, s[50]), 1);
    assert_int_equal(q.watermark, N);
    assert_int_equal(rcfd_ackq_pending(&q), 0);
    rcfd_ackq_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_out_of_order_holds_watermark),
        cmocka_unit_test(test_growth_keeps_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
