/* Checkpoint files: round trip with real model snapshots, atomic replacement keeping the previous
 * one, and fallback to it when the latest is corrupted or truncated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "rcfd/alloc.h"
#include "rcfd/rcf.h"
#include "rcfd/status.h"
#include "state/checkpoint.h"

static char dir[] = "/tmp/rcfd-ckpt-XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) == NULL;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

/* A forest after a few records, and its snapshot. */
static unsigned char *forest_snapshot(uint64_t seed, size_t *len)
{
    rcf_params_t p = rcf_params_default(1);
    p.number_of_trees = 5;
    p.sub_sample_size = 16;
    p.seed = seed;
    rcf_forest_t *f;
    assert_int_equal(rcf_forest_new(&p, &f, NULL, 0), 0);
    for (int i = 0; i < 100; i++) {
        double v = (double)(i % 9);
        rcf_result_t r;
        rcf_forest_process(f, &v, 1, &r);
    }
    *len = rcf_forest_snapshot_size(f);
    unsigned char *buf = malloc(*len);
    assert_int_equal(rcf_forest_save(f, buf, *len, len), 0);
    rcf_forest_destroy(f);
    return buf;
}

static void encode_two(uint64_t next_offset, rcfd_buf_t *out)
{
    size_t l1, l2;
    unsigned char *s1 = forest_snapshot(1, &l1), *s2 = forest_snapshot(2, &l2);
    rcfd_ckpt_entry_t e[2] = {{"host-a", 6, "rcf", 3, s1, l1}, {"host-b", 6, "rcf", 3, s2, l2}};
    assert_int_equal(rcfd_ckpt_encode(next_offset, e, 2, out), 0);
    free(s1);
    free(s2);
}

static void test_round_trip(void **state)
{
    (void)state;
    rcfd_buf_t b = {0};
    encode_two(1234, &b);
    void *copy = rcfd_malloc(b.len);
    memcpy(copy, b.p, b.len);
    rcfd_ckpt_t c;
    char err[256];
    assert_int_equal(rcfd_ckpt_decode(copy, b.len, &c, err, sizeof err), 0);
    assert_int_equal(c.next_offset, 1234);
    assert_int_equal(c.n_entries, 2);
    assert_memory_equal(c.entries[1].key, "host-b", 6);
    assert_memory_equal(c.entries[1].type, "rcf", 3);
    rcf_forest_t *f;
    assert_int_equal(rcf_forest_load(c.entries[1].snapshot, c.entries[1].snapshot_len, &f, err,
                                     sizeof err),
                     0);
    rcf_forest_destroy(f);
    rcfd_ckpt_free(&c);
    /* Every truncation is refused without touching the bytes it was given. */
    for (size_t n = 0; n < b.len; n += 7) {
        void *part = rcfd_malloc(n > 0 ? n : 1);
        memcpy(part, b.p, n);
        assert_true(rcfd_ckpt_decode(part, n, &c, err, sizeof err) < 0);
        rcfd_free(part);
    }
    rcfd_buf_free(&b);
}

static void write_checkpoint(uint64_t next_offset)
{
    rcfd_buf_t b = {0};
    encode_two(next_offset, &b);
    char err[256];
    if (rcfd_ckpt_write(dir, "p-sensors-0", b.p, b.len, err, sizeof err) != 0) {
        fail_msg("%s", err);
    }
    rcfd_buf_free(&b);
}

static void damage(const char *suffix, long at, int truncate_it)
{
    char path[512];
    snprintf(path, sizeof path, "%s/p-sensors-0.ckpt%s", dir, suffix);
    if (truncate_it) {
        assert_int_equal(truncate(path, at), 0);
        return;
    }
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, at, SEEK_SET);
    int c = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(c ^ 0x40, f);
    fclose(f);
}

static void test_files_and_fallback(void **state)
{
    (void)state;
    rcfd_ckpt_t c;
    char warn[512], err[512];
    assert_int_equal(rcfd_ckpt_read(dir, "p-sensors-0", &c, warn, sizeof warn, err, sizeof err),
                     RCFD_ENOENT);
    write_checkpoint(100);
    write_checkpoint(200);
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/p-sensors-0.ckpt.tmp", dir);
    assert_int_not_equal(access(tmp, F_OK), 0); /* nothing half-written left behind */
    assert_int_equal(rcfd_ckpt_read(dir, "p-sensors-0", &c, warn, sizeof warn, err, sizeof err),
                     0);
    assert_int_equal(c.next_offset, 200);
    assert_int_equal(c.from_previous, 0);
    rcfd_ckpt_free(&c);

    /* A corrupted latest: refused by its checksum, the previous one (100) is used, and the
     * warning says why. */
    damage("", 200, 0);
    assert_int_equal(rcfd_ckpt_read(dir, "p-sensors-0", &c, warn, sizeof warn, err, sizeof err),
                     0);
    assert_int_equal(c.next_offset, 100);
    assert_int_equal(c.from_previous, 1);
    assert_non_null(strstr(warn, "checksum"));
    rcfd_ckpt_free(&c);

    /* A truncated latest (a crash while copying it elsewhere, a full disk): same. */
    write_checkpoint(300); /* latest 300, previous the corrupted one */
    write_checkpoint(400); /* latest 400, previous 300 */
    damage("", 50, 1);
    assert_int_equal(rcfd_ckpt_read(dir, "p-sensors-0", &c, warn, sizeof warn, err, sizeof err),
                     0);
    assert_int_equal(c.next_offset, 300);
    assert_non_null(strstr(warn, "truncated"));
    rcfd_ckpt_free(&c);

    /* Both damaged: an error naming the problem, never a crash. */
    damage(".prev", 20, 1);
    assert_true(rcfd_ckpt_read(dir, "p-sensors-0", &c, warn, sizeof warn, err, sizeof err) < 0);
    assert_non_null(strstr(err, "no usable previous checkpoint"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_files_and_fallback),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
