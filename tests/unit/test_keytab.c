/* Per-key model table: lookup, LRU order, cap with counted eviction, destruction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "stream/keytab.h"

static int freed;

static void count_free(void *v, void *ud)
{
    (void)v;
    (void)ud;
    freed++;
}

static void test_lru_eviction(void **state)
{
    (void)state;
    freed = 0;
    rcfd_keytab_t *t;
    assert_int_equal(rcfd_keytab_new(3, count_free, NULL, &t), 0);
    static int v[5];
    assert_int_equal(rcfd_keytab_put(t, "a", 1, &v[0]), 0);
    assert_int_equal(rcfd_keytab_put(t, "b", 1, &v[1]), 0);
    assert_int_equal(rcfd_keytab_put(t, "c", 1, &v[2]), 0);
    assert_string_equal(rcfd_keytab_lru_key(t), "a");
    assert_ptr_equal(rcfd_keytab_get(t, "a", 1), &v[0]); /* a becomes most recent */
    assert_string_equal(rcfd_keytab_lru_key(t), "b");
    assert_int_equal(rcfd_keytab_put(t, "d", 1, &v[3]), 0); /* evicts b */
    assert_null(rcfd_keytab_get(t, "b", 1));
    assert_int_equal(freed, 1);
    assert_int_equal(rcfd_keytab_evictions(t), 1);
    assert_int_equal(rcfd_keytab_size(t), 3);
    assert_ptr_equal(rcfd_keytab_get(t, "c", 1), &v[2]);
    assert_ptr_equal(rcfd_keytab_get(t, "d", 1), &v[3]);
    rcfd_keytab_destroy(t);
    assert_int_equal(freed, 4);
}

static void test_many_keys_and_binary(void **state)
{
    (void)state;
    freed = 0;
    rcfd_keytab_t *t;
    assert_int_equal(rcfd_keytab_new(10000, count_free, NULL, &t), 0);
    static int v[20000];
    char k[32];
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(k, sizeof k, "key-%d", i);
        assert_int_equal(rcfd_keytab_put(t, k, (size_t)n, &v[i]), 0);
    }
    assert_int_equal(rcfd_keytab_size(t), 10000);
    assert_int_equal(rcfd_keytab_evictions(t), 10000);
    assert_null(rcfd_keytab_get(t, "key-9999", 8));
    assert_ptr_equal(rcfd_keytab_get(t, "key-10000", 9), &v[10000]);
    /* Keys are length-delimited: embedded NULs and prefixes are distinct keys. */
    assert_null(rcfd_keytab_get(t, "key-1000", 8));
    rcfd_keytab_destroy(t);
    assert_int_equal(freed, 20000);
}

static void test_key_seed(void **state)
{
    (void)state;
    assert_true(rcfd_key_seed(1, "a", 1) == rcfd_key_seed(1, "a", 1));
    assert_true(rcfd_key_seed(1, "a", 1) != rcfd_key_seed(1, "b", 1));
    assert_true(rcfd_key_seed(1, "a", 1) != rcfd_key_seed(2, "a", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lru_eviction),
        cmocka_unit_test(test_many_keys_and_binary),
        cmocka_unit_test(test_key_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
