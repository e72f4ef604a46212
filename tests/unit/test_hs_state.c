/* Snapshots: a loaded detector continues exactly as the saved one would have, and truncated,
 * corrupted or inconsistent snapshots are rejected with an error, never loaded or crashed on. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/snapshot.h"
#include "rcfd/hotspots.h"
#include "rcfd/status.h"
#include "streams.h"

static void next_row(stream_rng_t *g, double *v, uint32_t dim)
{
    int burst = stream_uniform(g) < 0.6;
    for (uint32_t k = 0; k < dim; k++) {
        v[k] = burst ? 3.0 + 0.3 * stream_gaussian(g) : 10.0 * stream_uniform(g);
    }
}

static void assert_same(const hs_result_t *a, const hs_result_t *b, uint32_t dim)
{
    assert_int_equal(a->record, b->record);
    assert_int_equal(a->window_count, b->window_count);
    assert_int_equal(a->n_hotspots, b->n_hotspots);
    assert_int_equal(a->changed, b->changed);
    assert_int_equal(a->emit, b->emit);
    for (size_t i = 0; i < a->n_hotspots; i++) {
        assert_true(a->hotspots[i].density == b->hotspots[i].density);
        assert_int_equal(a->hotspots[i].count, b->hotspots[i].count);
        assert_int_equal(a->hotspots[i].dense_count, b->hotspots[i].dense_count);
        assert_memory_equal(a->hotspots[i].min_values, b->hotspots[i].min_values,
                            dim * sizeof(double));
        assert_memory_equal(a->hotspots[i].max_values, b->hotspots[i].max_values,
                            dim * sizeof(double));
    }
}

static unsigned char *save(const hs_detector_t *d, size_t *len)
{
    assert_int_equal(hs_save(d, NULL, 0, len), RCFD_ENOBUFS);
    assert_int_equal(*len, hs_snapshot_size(d));
    unsigned char *buf = malloc(*len);
    size_t short_len;
    assert_int_equal(hs_save(d, buf, *len - 1, &short_len), RCFD_ENOBUFS);
    assert_int_equal(short_len, *len);
    assert_int_equal(hs_save(d, buf, *len, len), 0);
    return buf;
}

static void round_trip(uint32_t dim, hs_algorithm_t algorithm, int only_new, int on_change,
                       uint32_t before)
{
    hs_params_t p = hs_params_default(dim);
    p.window_size = 60;
    p.scan_radius = 0.5;
    p.min_points = 4;
    p.algorithm = algorithm;
    p.only_containing_new = only_new;
    p.emit_only_on_change = on_change;
    p.scale[0] = 1.5;
    hs_detector_t *a, *b;
    assert_int_equal(hs_new(&p, &a, NULL, 0), 0);
    stream_rng_t g;
    stream_rng_seed(&g, dim * 1000 + before);
    double v[4];
    hs_result_t ra, rb;
    for (uint32_t i = 0; i < before; i++) {
        next_row(&g, v, dim);
        assert_int_equal(hs_process(a, v, dim, &ra), 0);
    }
    size_t len;
    unsigned char *snap = save(a, &len);
    char err[256];
    assert_int_equal(hs_load(snap, len, &b, err, sizeof err), 0);
    /* Saving the loaded detector gives the same bytes. */
    size_t len2;
    unsigned char *snap2 = save(b, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(snap, snap2, len);
    assert_memory_equal(hs_params(a), hs_params(b), sizeof(hs_params_t));
    for (int i = 0; i < 300; i++) {
        next_row(&g, v, dim);
        assert_int_equal(hs_process(a, v, dim, &ra), 0);
        assert_int_equal(hs_process(b, v, dim, &rb), 0);
        assert_same(&ra, &rb, dim);
    }
    free(snap);
    free(snap2);
    hs_destroy(a);
    hs_destroy(b);
}

static void test_round_trip(void **state)
{
    (void)state;
    round_trip(2, HS_ALGORITHM_INCREMENTAL, 0, 0, 0);
    round_trip(2, HS_ALGORITHM_INCREMENTAL, 0, 1, 30);
    round_trip(1, HS_ALGORITHM_INCREMENTAL, 1, 1, 500);
    round_trip(3, HS_ALGORITHM_BRUTE_FORCE, 0, 1, 200);
    round_trip(4, HS_ALGORITHM_BRUTE_FORCE, 1, 0, 61);
}

static hs_detector_t *small_detector(void)
{
    hs_params_t p = hs_params_default(2);
    p.window_size = 10;
    p.scan_radius = 1.0;
    p.min_points = 3;
    hs_detector_t *d;
    assert_int_equal(hs_new(&p, &d, NULL, 0), 0);
    stream_rng_t g;
    stream_rng_seed(&g, 5);
    for (int i = 0; i < 14; i++) {
        double v[2];
        next_row(&g, v, 2);
        assert_int_equal(hs_process(d, v, 2, NULL), 0);
    }
    return d;
}

static void test_truncated_and_corrupted(void **state)
{
    (void)state;
    hs_detector_t *d = small_detector();
    size_t len;
    unsigned char *snap = save(d, &len);
    char err[256];
    hs_detector_t *out;
    for (size_t n = 0; n < len; n++) {
        int rc = hs_load(snap, n, &out, err, sizeof err);
        assert_true(rc == RCFD_ETRUNCATED);
        assert_null(out);
    }
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            snap[i] ^= (unsigned char)(1u << bit);
            int rc = hs_load(snap, len, &out, err, sizeof err);
            snap[i] ^= (unsigned char)(1u << bit);
            if (rc == 0) {
                fail_msg("flipping bit %d of byte %zu was accepted", bit, i);
            }
            assert_null(out);
            assert_true(err[0] != '\0');
        }
    }
    assert_int_equal(hs_load(NULL, 0, &out, err, sizeof err), RCFD_ETRUNCATED);
    assert_int_equal(hs_load(snap, len, NULL, err, sizeof err), RCFD_EINVAL);
    free(snap);
    hs_destroy(d);
}

/* Edits the payload, reseals it with a valid checksum and expects `code` naming `needle` (byte
 * offsets in messages count from the start of the snapshot, common/snapshot.h). */
static void expect_bad(const unsigned char *snap, size_t len, size_t at, const void *bytes,
                       size_t n, size_t new_len, int code, const char *needle)
{
    unsigned char *copy = calloc(1, new_len > len ? new_len : len);
    memcpy(copy, snap, len);
    memcpy(copy + at, bytes, n);
    rcfd_snap_seal(copy, RCFD_SNAP_KIND_HOTSPOTS, 1, new_len - RCFD_SNAP_HEADER_SIZE);
    char err[256] = "";
    hs_detector_t *out;
    int rc = hs_load(copy, new_len, &out, err, sizeof err);
    if (rc != code || strstr(err, needle) == NULL) {
        fail_msg("got %d \"%s\", expected %d mentioning \"%s\"", rc, err, code, needle);
    }
    assert_null(out);
    free(copy);
}

static void test_inconsistent_but_checksummed(void **state)
{
    (void)state;
    hs_detector_t *d = small_detector();
    size_t len;
    unsigned char *snap = save(d, &len);
    const size_t P = RCFD_SNAP_HEADER_SIZE;
    uint32_t u32;
    double f64;
    u32 = 0;
    expect_bad(snap, len, P + 0, &u32, 4, len, RCFD_EBADSTATE,
               "snapshot byte 32: dimension 0 outside");
    u32 = 5;
    expect_bad(snap, len, P + 4, &u32, 4, len, RCFD_EBADSTATE, "windowSize");
    f64 = -1.0;
    expect_bad(snap, len, P + 8, &f64, 8, len, RCFD_EBADSTATE, "scanRadius");
    u32 = 11;
    expect_bad(snap, len, P + 16, &u32, 4, len, RCFD_EBADSTATE, "minimumNumberOfPointsInAHotspot");
    u32 = 4;
    expect_bad(snap, len, P + 20, &u32, 4, len, RCFD_EBADSTATE,
               "snapshot byte 52: unknown option flags 0x4");
    u32 = 2;
    expect_bad(snap, len, P + 24, &u32, 4, len, RCFD_EBADSTATE, "algorithm");
    f64 = 0.0;
    expect_bad(snap, len, P + 28, &f64, 8, len, RCFD_EBADSTATE, "scale[0]");
    uint64_t records = 9; /* 9 records cannot leave 10 in the window */
    expect_bad(snap, len, P + 44, &records, 8, len, RCFD_EBADSTATE,
               "snapshot byte 84: window holds 10 records");
    records = UINT64_MAX - 1; /* counting on would wrap the window's record sequence (fuzz_hs_state) */
    expect_bad(snap, len, P + 44, &records, 8, len, RCFD_EBADSTATE,
               "snapshot byte 76: 18446744073709551614 records seen: beyond 2^53");
    f64 = NAN;
    expect_bad(snap, len, P + 56 + 8 * 5, &f64, 8, len, RCFD_EBADSTATE,
               "snapshot byte 128: window record 2 value 1 is not finite");
    unsigned char zero = 0;
    expect_bad(snap, len, len, &zero, 1, len + 1, RCFD_EBADSTATE, "unexpected bytes");
    u32 = 2;
    {
        unsigned char *copy = malloc(len);
        memcpy(copy, snap, len);
        rcfd_snap_seal(copy, RCFD_SNAP_KIND_HOTSPOTS, 2, len - P);
        char err[256];
        hs_detector_t *out;
        assert_int_equal(hs_load(copy, len, &out, err, sizeof err), RCFD_EVERSION);
        rcfd_snap_seal(copy, RCFD_SNAP_KIND_RCF, 1, len - P);
        assert_int_equal(hs_load(copy, len, &out, err, sizeof err), RCFD_EVERSION);
        free(copy);
    }
    free(snap);
    hs_destroy(d);
}

/* A detector counts records up to 2^53 and refuses more, so a snapshot it writes at the end of
 * its count loads again (fuzz_hs_state found one loaded at 2^53 - 3 that counted past it). */
static void test_count_at_its_end(void **state)
{
    (void)state;
    hs_detector_t *d = small_detector();
    size_t len;
    unsigned char *snap = save(d, &len);
    hs_destroy(d);
    uint64_t records = (1ULL << 53) - 2;
    memcpy(snap + RCFD_SNAP_HEADER_SIZE + 44, &records, sizeof records);
    rcfd_snap_seal(snap, RCFD_SNAP_KIND_HOTSPOTS, 1, len - RCFD_SNAP_HEADER_SIZE);
    char err[256];
    assert_int_equal(hs_load(snap, len, &d, err, sizeof err), 0);
    double v[2] = {3.0, 3.0};
    hs_result_t r;
    assert_int_equal(hs_process(d, v, 2, &r), 0);
    assert_int_equal(hs_process(d, v, 2, &r), 0);
    assert_true(r.record == 1ULL << 53);
    assert_int_equal(hs_process(d, v, 2, &r), RCFD_ERANGE);
    size_t bad = 99;
    assert_int_equal(hs_process_batch(d, v, 1, &r, &bad), RCFD_ERANGE);
    assert_int_equal(bad, 0);
    size_t len2;
    unsigned char *snap2 = save(d, &len2);
    hs_detector_t *again;
    assert_int_equal(hs_load(snap2, len2, &again, err, sizeof err), 0);
    hs_stats_t st;
    hs_stats(again, &st);
    assert_true(st.records == 1ULL << 53);
    hs_destroy(again);
    hs_destroy(d);
    free(snap);
    free(snap2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncated_and_corrupted),
        cmocka_unit_test(test_inconsistent_but_checksummed),
        cmocka_unit_test(test_count_at_its_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
