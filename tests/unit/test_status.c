#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rcfd/status.h"

static void test_names_and_descriptions(void **state)
{
    (void)state;
    assert_string_equal(rcfd_err_name(RCFD_EINVAL), "EINVAL");
    assert_string_equal(rcfd_err_name(RCFD_EBADSTATE), "EBADSTATE");
    assert_string_equal(rcfd_strerror(RCFD_ECHECKSUM), "snapshot checksum mismatch");
    assert_int_equal(RCFD_ENOMEM, -ENOMEM);
    /* Plain -errno values fall back to strerror. */
    assert_string_equal(rcfd_strerror(-EPIPE), strerror(EPIPE));
    assert_string_equal(rcfd_err_name(-4999), "UNKNOWN");
    assert_string_equal(rcfd_strerror(-4999), "unknown error");
}

static void test_codes_are_distinct_and_negative(void **state)
{
    (void)state;
    const int codes[] = {
#define CODE_(name, value, desc) value,
        RCFD_ERRNO_MAP(CODE_)
#undef CODE_
    };
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        assert_true(codes[i] < 0);
        for (size_t j = i + 1; j < n; j++) {
            assert_int_not_equal(codes[i], codes[j]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_descriptions),
        cmocka_unit_test(test_codes_are_distinct_and_negative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
