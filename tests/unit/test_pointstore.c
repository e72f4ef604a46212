/* Point store: shingled points keep their values through compactions while references churn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rcf/pointstore.h"
#include "streams.h"

#define BASE 2
#define SHINGLE 5
#define SLOTS 64

static void test_values_survive_compaction(void **state)
{
    (void)state;
    pointstore_t ps;
    void *mem = calloc(1, pointstore_fixed_bytes(SLOTS));
    assert_int_equal(pointstore_init(&ps, mem, SLOTS, BASE, SHINGLE), 0);
    /* Shadow: expected values of every live point, by slot. */
    static float expect[SLOTS][BASE * SHINGLE];
    uint32_t held[SLOTS];
    uint32_t n_held = 0;
    stream_rng_t r;
    stream_rng_seed(&r, 3);
    float history[SHINGLE][BASE]; /* ring of the last SHINGLE records */
    uint64_t compactions_seen = 0, last_len = 0;
    for (uint32_t i = 0; i < 200000; i++) {
        float rec[BASE] = {(float)i, (float)stream_gaussian(&r)};
        pointstore_append(&ps, rec);
        if (ps.log_len < last_len) {
            compactions_seen++;
        }
        last_len = ps.log_len;
        memcpy(history[i % SHINGLE], rec, sizeof rec);
        if (i + 1 < SHINGLE) {
            continue;
        }
        /* The tail always holds the last SHINGLE-1 records plus this one. */
        float tail[BASE * SHINGLE];
        pointstore_copy_tail(&ps, SHINGLE, tail);
        for (uint32_t k = 0; k < SHINGLE; k++) {
            assert_memory_equal(tail + k * BASE, history[(i + 1 + k) % SHINGLE],
                                sizeof(float) * BASE);
        }
        if (n_held < SLOTS - 1 && stream_uniform(&r) < 0.3) {
            uint32_t id = pointstore_add_latest(&ps);
            pointstore_retain(&ps, id);
            memcpy(expect[id], tail, sizeof tail);
            held[n_held++] = id;
        }
        if (n_held > 0 && stream_uniform(&r) < 0.28) {
            uint32_t k = (uint32_t)(stream_uniform(&r) * n_held);
            pointstore_release(&ps, held[k]);
            held[k] = held[--n_held];
        }
        if (i % 97 == 0) {
            for (uint32_t k = 0; k < n_held; k++) {
                assert_memory_equal(pointstore_values(&ps, held[k]), expect[held[k]],
                                    sizeof(float) * BASE * SHINGLE);
            }
        }
    }
    assert_true(compactions_seen > 10);
    assert_int_equal(ps.live, n_held);
    pointstore_fini(&ps);
    free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_values_survive_compaction)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
