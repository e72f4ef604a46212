/* The forest allocates nothing per record. Counted two ways: rcfd's own allocator counter, and
 * (outside sanitizer builds) libc's malloc family interposed in this executable, which also catches
 * any stray malloc inside the library or libm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "rcfd/alloc.h"
#include "rcfd/rcf.h"
#include "streams.h"

#ifndef RCFD_NO_MALLOC_INTERPOSE
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void __libc_free(void *p);

static volatile int counting;
static volatile long libc_calls;

void *malloc(size_t size)
{
    libc_calls += counting;
    return __libc_malloc(size);
}
void *calloc(size_t n, size_t size)
{
    libc_calls += counting;
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t size)
{
    libc_calls += counting;
    return __libc_realloc(p, size);
}
void *aligned_alloc(size_t align, size_t size)
{
    libc_calls += counting;
    return __libc_memalign(align, size);
}
int posix_memalign(void **out, size_t align, size_t size)
{
    libc_calls += counting;
    *out = __libc_memalign(align, size);
    return *out == NULL;
}
void free(void *p)
{
    __libc_free(p);
}
#define START_COUNTING() (libc_calls = 0, counting = 1)
#define STOP_COUNTING() (counting = 0, libc_calls)
#else
#define START_COUNTING() ((void)0)
#define STOP_COUNTING() 0L
#endif

static void run(uint32_t dim, uint32_t shingle, int explain)
{
    rcf_params_t p = rcf_params_default(dim);
    p.number_of_trees = 10;
    p.shingle_size = shingle;
    p.explain = explain;
    p.time_decay = 2000; /* fast churn: many evictions and point store compactions */
    rcf_forest_t *f;
    char err[256];
    assert_int_equal(rcf_forest_new(&p, &f, err, sizeof err), 0);
    stream_rng_t g;
    stream_rng_seed(&g, dim * 10 + shingle);
    double v[8];
    rcf_result_t r;
    rcfd_alloc_stats_t before, after;
    rcfd_alloc_stats(&before);
    START_COUNTING();
    for (int i = 0; i < 100000; i++) {
        for (uint32_t c = 0; c < dim; c++) {
            v[c] = stream_gaussian(&g) + (i % 1000 == 999 ? 10.0 : 0.0);
        }
        assert_int_equal(rcf_forest_process(f, v, dim, &r), 0);
        if (i % 100 == 0) {
            double s;
            assert_int_equal(rcf_forest_score(f, v, dim, &s, NULL, NULL), 0);
        }
    }
    long libc = STOP_COUNTING();
    rcfd_alloc_stats(&after);
    assert_int_equal(after.calls - before.calls, 0);
    assert_int_equal(libc, 0);
    rcf_stats_t st;
    rcf_forest_stats(f, &st);
    assert_true(st.records == 100000);
    rcf_forest_destroy(f);
}

static void test_no_allocation_per_record(void **state)
{
    (void)state;
    run(1, 1, 0);
    run(3, 1, 1);
    run(1, 8, 0);
    run(2, 4, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_no_allocation_per_record)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
