/* rcfd_buf_read_file(): every reader of a whole file (config, snapshots, trainers' inputs, KDA SQL,
 * backtest windows) goes through it, so its errors must name the path and tell the cases apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "rcfd/status.h"

static void write_file(const char *path, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++) {
        fputc('a' + (int)(i % 26), f);
    }
    assert_int_equal(fclose(f), 0);
}

static void test_whole_and_appended(void **state)
{
    (void)state;
    char path[] = "/tmp/rcfd-read-file-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, 200000); /* more than one read */
    rcfd_buf_t b = {0};
    assert_int_equal(rcfd_buf_puts(&b, "head:"), 0);
    char err[256] = "";
    assert_int_equal(rcfd_buf_read_file(&b, path, 0, err, sizeof err), 0);
    assert_int_equal(b.len, 5 + 200000);
    assert_memory_equal(b.p, "head:abc", 8);
    assert_int_equal(b.p[5 + 199999], 'a' + 199999 % 26);
    /* the limit counts this file's bytes, not what the buffer held before */
    rcfd_buf_reset(&b);
    assert_int_equal(rcfd_buf_puts(&b, "head:"), 0);
    assert_int_equal(rcfd_buf_read_file(&b, path, 200000, err, sizeof err), 0);
    assert_int_equal(rcfd_buf_read_file(&b, path, 199999, err, sizeof err), RCFD_ERANGE);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "larger than 199999 bytes"));
    assert_int_equal(rcfd_buf_read_file(&b, path, 1u << 16, err, sizeof err), RCFD_ERANGE);
    assert_non_null(strstr(err, "larger than 65536 bytes"));
    write_file(path, (1u << 20) + 1);
    assert_int_equal(rcfd_buf_read_file(&b, path, 1u << 20, err, sizeof err), RCFD_ERANGE);
    assert_non_null(strstr(err, "larger than 1 MiB"));
    unlink(path);
    rcfd_buf_free(&b);
}

static void test_errors_name_the_path(void **state)
{
    (void)state;
    rcfd_buf_t b = {0};
    char err[256] = "";
    assert_int_equal(rcfd_buf_read_file(&b, "/nonexistent/rcfd/x.json", 0, err, sizeof err),
                     RCFD_ENOENT);
    assert_string_equal(err, "/nonexistent/rcfd/x.json: No such file or directory");
    /* a directory opens, then fails to read */
    assert_int_equal(rcfd_buf_read_file(&b, "/", 0, err, sizeof err), RCFD_EIO);
    assert_string_equal(err, "/: Is a directory");
    assert_int_equal(b.len, 0);
    rcfd_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_and_appended),
        cmocka_unit_test(test_errors_name_the_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
