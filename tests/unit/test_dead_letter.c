/* Dead letters are valid JSON whatever the record was: UTF-8 validation (RFC 3629's table),
 * base64 for bytes that are not UTF-8, the size cap cut at a character boundary, and the
 * runtime's refusals of empty, oversized and non-UTF-8 records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "stream/encode.h"

static void test_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t valid; /* expected valid prefix */
    } cases[] = {
        {"plain ascii, longer than eight bytes", 36},
        {"caf\xc3\xa9", 5},
        {"\xe2\x82\xac euro", 8},
        {"\xf0\x9f\x98\x80", 4},         /* U+1F600 */
        {"ab\xc0\xafz", 2},              /* overlong '/' */
        {"ab\xe0\x80\xafz", 2},          /* overlong, three bytes */
        {"ab\xed\xa0\x80z", 2},          /* a surrogate */
        {"ab\xf4\x90\x80\x80", 2},       /* above U+10FFFF */
        {"ab\xf5\x80\x80\x80", 2},       /* no such lead byte */
        {"12345678\xff", 8},             /* after a word of ASCII */
        {"x\xc3", 1},                    /* cut short */
        {"x\x80", 1},                    /* a lone continuation byte */
        {"\xef\xbf\xbf", 3},             /* U+FFFF is a character */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].s);
        size_t got = rcfd_utf8_valid_prefix(cases[i].s, n);
        if (got != cases[i].valid) {
            fail_msg("case %zu: valid prefix %zu, expected %zu", i, got, cases[i].valid);
        }
    }
}

static void test_base64(void **state)
{
    (void)state;
    /* RFC 4648 section 10. */
    static const char *const want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                       "Zm9vYmFy"};
    for (size_t n = 0; n <= 6; n++) {
        rcfd_buf_t b = {0};
        assert_int_equal(rcfd_buf_base64(&b, "foobar", n), 0);
        assert_string_equal(b.p != NULL ? b.p : "", want[n]);
        rcfd_buf_free(&b);
    }
}

static void test_record_member(void **state)
{
    (void)state;
    rcfd_buf_t b = {0};
    assert_int_equal(rcfd_buf_json_record(&b, "a\"b", 3, 100), 0);
    assert_string_equal(b.p, ",\"record\":\"a\\\"b\"");
    rcfd_buf_reset(&b);
    assert_int_equal(rcfd_buf_json_record(&b, "a\xff", 2, 100), 0);
    assert_string_equal(b.p, ",\"record_base64\":\"Yf8=\"");
    rcfd_buf_reset(&b);
    /* Cut at 4 bytes, inside the euro sign (bytes 3..5): the cut moves back to its start. */
    assert_int_equal(rcfd_buf_json_record(&b, "abc\xe2\x82\xac", 6, 4), 0);
    assert_string_equal(b.p, ",\"record\":\"abc\",\"record_bytes\":6,\"truncated\":true");
    rcfd_buf_reset(&b);
    /* A cut record that is not UTF-8 before the cut is base64 of as many bytes as fit. */
    assert_int_equal(rcfd_buf_json_record(&b, "\xff\xfe\xfd\xfc", 4, 4), 0);
    assert_string_equal(b.p, ",\"record_base64\":\"//79\",\"record_bytes\":4,\"truncated\":true");
    rcfd_buf_reset(&b);
    /* Escapes count: ten quotes are twenty bytes written, control characters six each. */
    assert_int_equal(rcfd_buf_json_record(&b, "\"\"\"\"\"\x01\x01", 7, 10), 0);
    assert_string_equal(b.p, ",\"record\":\"\\\"\\\"\\\"\\\"\\\"\",\"record_bytes\":7,\"truncated\":true");
    /* What is kept, without writing: a record shorter than max is still cut when its escapes
     * outgrow it (an output's refusal then keeps the origin beside the record). */
    assert_int_equal(rcfd_buf_json_record_kept("\"\"\"\"\"\x01\x01", 7, 10), 5);
    assert_int_equal(rcfd_buf_json_record_kept("abcdef", 6, 10), 6);
    assert_int_equal(rcfd_buf_json_record_kept("\xff\xfe\xfd\xfc", 4, 4), 3);
    rcfd_buf_free(&b);
}

static void test_dead_letter_capped(void **state)
{
    (void)state;
    size_t n = 3 * 1024 * 1024;
    char *raw = malloc(n);
    assert_non_null(raw);
    memset(raw, 'x', n);
    rcfd_origin_t o = {.source = "s", .path = "in.jsonl", .line = 9};
    rcfd_buf_t b = {0};
    assert_int_equal(rcfd_encode_dead_letter(&b, &o, "p", "record is larger than 1048576 bytes",
                                             raw, n),
                     0);
    assert_true(b.len < RCFD_DEAD_RECORD_MAX + 512);
    /* The same size of quotes and control bytes: escaped, still capped. */
    for (size_t i = 0; i < n; i++) {
        raw[i] = i % 3 == 0 ? '"' : i % 3 == 1 ? '\x02' : 'y';
    }
    rcfd_buf_reset(&b);
    assert_int_equal(rcfd_encode_dead_letter(&b, &o, "p", "x", raw, n), 0);
    assert_true(b.len < RCFD_DEAD_RECORD_MAX + 512);
    assert_non_null(strstr(b.p, "\"line\":9,"));
    assert_non_null(strstr(b.p, ",\"record_bytes\":3145728,\"truncated\":true}"));
    rcfd_buf_free(&b);
    free(raw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_record_member),
        cmocka_unit_test(test_dead_letter_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
