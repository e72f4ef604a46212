/* Per-key model table: lookup, LRU order, cap with counted eviction, the eviction hook, removal,
 * visiting with removal, growth past the initial buckets, destruction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/keytab.h"

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

static char evicted_key[16];

static void on_evict(const char *key, size_t len, void *value, void *ud)
{
    (void)value;
    (void)ud;
    snprintf(evicted_key, sizeof evicted_key, "%.*s", (int)len, key);
}

static int drop_odd(const char *key, size_t len, void *value, void *ud)
{
    (void)key;
    (void)len;
    (*(int *)ud)++;
    return *(int *)value % 2 == 1;
}

static void test_evict_hook_remove_and_visit(void **state)
{
    (void)state;
    freed = 0;
    rcfd_keytab_t *t;
    assert_int_equal(rcfd_keytab_new(5000, count_free, NULL, &t), 0);
    rcfd_keytab_on_evict(t, on_evict);
    static int v[5000];
    char k[16];
    for (int i = 0; i < 5000; i++) { /* far past the initial buckets: the table grows */
        v[i] = i;
        snprintf(k, sizeof k, "k%d", i);
        assert_int_equal(rcfd_keytab_put(t, k, strlen(k), &v[i]), 0);
    }
    for (int i = 0; i < 5000; i += 499) {
        snprintf(k, sizeof k, "k%d", i);
        assert_ptr_equal(rcfd_keytab_get(t, k, strlen(k)), &v[i]);
    }
    assert_int_equal(rcfd_keytab_remove(t, "k1", 2), 1);
    assert_int_equal(rcfd_keytab_remove(t, "k1", 2), 0);
    assert_int_equal(freed, 1);
    int visited = 0;
    rcfd_keytab_foreach(t, drop_odd, &visited);
    assert_int_equal(visited, 4999);
    assert_int_equal(rcfd_keytab_size(t), 2500);
    assert_int_equal(freed, 1 + 2499);
    assert_null(rcfd_keytab_get(t, "k3", 2));
    assert_non_null(rcfd_keytab_get(t, "k4", 2));
    /* Fill to the cap: the least recently used key goes through the hook first. */
    static int extra[2501];
    for (int i = 0; i < 2501; i++) {
        snprintf(k, sizeof k, "x%d", i);
        assert_int_equal(rcfd_keytab_put(t, k, strlen(k), &extra[i]), 0);
    }
    assert_int_equal(rcfd_keytab_size(t), 5000);
    assert_int_equal(rcfd_keytab_evictions(t), 1);
    assert_string_equal(evicted_key, "k2"); /* k0 was read since: k2 is least recent */
    rcfd_keytab_destroy(t);
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
        cmocka_unit_test(test_evict_hook_remove_and_visit),
        cmocka_unit_test(test_key_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
