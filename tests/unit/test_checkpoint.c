/* Checkpoint files: round trip with real model snapshots, atomic replacement keeping the previous
 * one, and fallback to it when the latest is corrupted, truncated or someone else's (another
 * partition, configuration or cluster); a sparse or oversized file is refused from its envelope,
 * before it is read; version 1 files (no identity) still read. */
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
#include "common/snapshot.h"
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

static const rcfd_ckpt_id_t me = {"sensors", "readings", 0, 0x1234abcd, "cluster-a"};

static void encode_two_as(const rcfd_ckpt_id_t *id, uint64_t next_offset, rcfd_buf_t *out)
{
    size_t l1, l2;
    unsigned char *s1 = forest_snapshot(1, &l1), *s2 = forest_snapshot(2, &l2);
    rcfd_ckpt_entry_t e[2] = {{"host-a", 6, "rcf", 3, s1, l1}, {"host-b", 6, "rcf", 3, s2, l2}};
    assert_int_equal(rcfd_ckpt_encode(id, next_offset, e, 2, out), 0);
    free(s1);
    free(s2);
}

static void encode_two(uint64_t next_offset, rcfd_buf_t *out)
{
    encode_two_as(&me, next_offset, out);
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
    assert_true(c.has_id);
    assert_memory_equal(c.topic, "readings", c.topic_len);
    assert_int_equal(rcfd_ckpt_check_id(&c, &me, err, sizeof err), 0);
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

static void write_checkpoint_as(const rcfd_ckpt_id_t *id, uint64_t next_offset)
{
    rcfd_buf_t b = {0};
    encode_two_as(id, next_offset, &b);
    char err[256];
    if (rcfd_ckpt_write(dir, "p-sensors-0", b.p, b.len, err, sizeof err) != 0) {
        fail_msg("%s", err);
    }
    rcfd_buf_free(&b);
}

static void write_checkpoint(uint64_t next_offset)
{
    write_checkpoint_as(&me, next_offset);
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
    assert_int_equal(rcfd_ckpt_read(dir, "p-sensors-0", &me, 0, &c, warn, sizeof warn, err, sizeof err),
                     RCFD_ENOENT);
    write_checkpoint(100);
    write_checkpoint(200);
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/p-sensors-0.ckpt.tmp", dir);
    assert_int_not_equal(access(tmp, F_OK), 0); /* nothing half-written left behind */
    assert_int_equal(rcfd_ckpt_read(dir, "p-sensors-0", &me, 0, &c, warn, sizeof warn, err, sizeof err),
                     0);
    assert_int_equal(c.next_offset, 200);
    assert_int_equal(c.from_previous, 0);
    rcfd_ckpt_free(&c);

    /* A corrupted latest: refused by its checksum, the previous one (100) is used, and the
     * warning says why. */
    damage("", 200, 0);
    assert_int_equal(rcfd_ckpt_read(dir, "p-sensors-0", &me, 0, &c, warn, sizeof warn, err, sizeof err),
                     0);
    assert_int_equal(c.next_offset, 100);
    assert_int_equal(c.from_previous, 1);
    assert_non_null(strstr(warn, "checksum"));
    rcfd_ckpt_free(&c);

    /* A truncated latest (a crash while copying it elsewhere, a full disk): same. */
    write_checkpoint(300); /* latest 300, previous the corrupted one */
    write_checkpoint(400); /* latest 400, previous 300 */
    damage("", 50, 1);
    assert_int_equal(rcfd_ckpt_read(dir, "p-sensors-0", &me, 0, &c, warn, sizeof warn, err, sizeof err),
                     0);
    assert_int_equal(c.next_offset, 300);
    assert_non_null(strstr(warn, "truncated"));
    rcfd_ckpt_free(&c);

    /* Both damaged: an error naming the problem, never a crash. */
    damage(".prev", 20, 1);
    assert_true(rcfd_ckpt_read(dir, "p-sensors-0", &me, 0, &c, warn, sizeof warn, err, sizeof err) < 0);
    assert_non_null(strstr(err, "no usable previous checkpoint"));
}

#define READ(want, max) rcfd_ckpt_read(dir, "p-sensors-0", want, max, &c, warn, sizeof warn, err, \
                                       sizeof err)

static void test_identity(void **state)
{
    (void)state;
    rcfd_ckpt_t c;
    char warn[512], err[1024];
    /* The latest is another partition's (files swapped): refused, the previous one is used. */
    rcfd_ckpt_id_t other = me;
    other.partition = 3;
    write_checkpoint(500);
    write_checkpoint_as(&other, 900);
    assert_int_equal(READ(&me, 0), 0);
    assert_int_equal(c.next_offset, 500);
    assert_int_equal(c.from_previous, 1);
    assert_non_null(strstr(warn, "readings[3]"));
    rcfd_ckpt_free(&c);
    /* Another configuration and another cluster: both refused, an error saying why. */
    rcfd_ckpt_id_t conf = me, cluster = me;
    conf.config_hash = 99;
    cluster.cluster = "cluster-b";
    write_checkpoint_as(&conf, 600);
    write_checkpoint_as(&cluster, 700);
    assert_true(READ(&me, 0) < 0);
    assert_non_null(strstr(err, "another Kafka cluster"));
    assert_non_null(strstr(err, "refused"));
    /* A reader that does not know its cluster compares the rest only. */
    rcfd_ckpt_id_t unknown = me;
    unknown.cluster = "";
    assert_int_equal(READ(&unknown, 0), 0);
    assert_int_equal(c.next_offset, 700);
    rcfd_ckpt_free(&c);
    assert_true(READ(&conf, 0) == 0 && c.next_offset == 600 && c.from_previous);
    rcfd_ckpt_free(&c);
}

static void test_caps(void **state)
{
    (void)state;
    rcfd_ckpt_t c;
    char warn[512], err[1024], path[512];
    write_checkpoint(100);
    write_checkpoint(200);
    /* Larger than the cap: refused from its size alone, for the latest and the previous. */
    assert_true(READ(&me, 4096) < 0);
    assert_non_null(strstr(err, "max_checkpoint_bytes"));
    /* A sparse 4 GiB latest: its envelope is not a checkpoint's, so it is refused after its first
     * 32 bytes (this test would run out of memory or time otherwise) and the previous is used. */
    snprintf(path, sizeof path, "%s/p-sensors-0.ckpt", dir);
    assert_int_equal(truncate(path, 0), 0);
    assert_int_equal(truncate(path, 4LL << 30), 0);
    assert_int_equal(READ(&me, 0), 0);
    assert_int_equal(c.next_offset, 100);
    assert_non_null(strstr(warn, "not a checkpoint"));
    rcfd_ckpt_free(&c);
    /* A real envelope padded with gigabytes: the declared length does not match the file. */
    write_checkpoint(300); /* latest 300, previous the sparse one */
    assert_int_equal(truncate(path, 4LL << 30), 0);
    assert_true(READ(&me, 0) < 0);
    assert_non_null(strstr(err, "padded"));
    unlink(path);
}

/* Version 1: an envelope around u64 next_offset, u32 n_entries and the entries, no identity. */
static void test_version_1(void **state)
{
    (void)state;
    unsigned char img[RCFD_SNAP_HEADER_SIZE + 12];
    rcfd_writer_t w = {img + RCFD_SNAP_HEADER_SIZE, 0, 12};
    rcfd_put_u64(&w, 4242);
    rcfd_put_u32(&w, 0);
    rcfd_snap_seal(img, RCFD_SNAP_KIND_CHECKPOINT, 1, 12);
    char e[256];
    assert_int_equal(rcfd_ckpt_write(dir, "p-sensors-0", img, sizeof img, e, sizeof e), 0);
    rcfd_ckpt_t c;
    char warn[512], err[1024];
    assert_int_equal(READ(&me, 0), 0);
    assert_int_equal(c.next_offset, 4242);
    assert_false(c.has_id);
    rcfd_ckpt_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_files_and_fallback),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_version_1),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
