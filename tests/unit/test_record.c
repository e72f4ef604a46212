/* Record decoding: JSON paths, CSV cells by name or index, numbers, keys, timestamps, and the
 * reasons malformed records are dead-lettered with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rcfd/status.h"
#include "stream/record.h"
#include "config/schema.h"

static char reason[256];

static int parse(rcfd_record_t *r, int fmt, const char *s, const rcfd_strlist_t *cols)
{
    rcfd_record_clear(r);
    reason[0] = '\0';
    return rcfd_record_parse(r, fmt, s, strlen(s), ',', cols, reason, sizeof reason);
}

static double num(rcfd_record_t *r, const char *spec, int *rc)
{
    rcfd_field_t f;
    rcfd_field_compile(&f, spec);
    if (r->format == RCFD_FORMAT_CSV) {
        rcfd_field_resolve_csv(&f, r->columns);
    }
    double v = -12345;
    reason[0] = '\0';
    *rc = rcfd_record_number(r, &f, &v, reason, sizeof reason);
    rcfd_field_free(&f);
    return v;
}

static void test_json_paths(void **state)
{
    (void)state;
    rcfd_record_t r = {0};
    int rc;
    assert_int_equal(parse(&r, RCFD_FORMAT_JSON,
                           "{\"a\":1.5,\"b\":{\"c\":{\"d\":-2}},\"arr\":[10,20],\"s\":\" 3e2 \","
                           "\"x.y\":7,\"t\":true,\"n\":null,\"nan\":\"NaN\",\"big\":1e39}",
                           NULL),
                     0);
    assert_true(num(&r, "a", &rc) == 1.5 && rc == 0);
    assert_true(num(&r, "b.c.d", &rc) == -2 && rc == 0);
    assert_true(num(&r, "arr.1", &rc) == 20 && rc == 0);
    assert_true(num(&r, "s", &rc) == 300 && rc == 0);
    assert_true(num(&r, "x\\.y", &rc) == 7 && rc == 0);
    num(&r, "b.c.e", &rc);
    assert_int_equal(rc, RCFD_ENOENT); /* a missing reading, which impute may fill */
    assert_string_equal(reason, "missing field \"b.c.e\"");
    num(&r, "n", &rc);
    assert_int_equal(rc, RCFD_ENOENT);
    assert_string_equal(reason, "null field \"n\"");
    num(&r, "t", &rc);
    assert_string_equal(reason, "non-numeric field \"t\"");
    num(&r, "b", &rc);
    assert_string_equal(reason, "non-numeric field \"b\"");
    num(&r, "nan", &rc);
    assert_string_equal(reason, "field \"nan\" is NaN or infinite");
    num(&r, "big", &rc);
    assert_string_equal(reason, "field \"big\" is outside the float range");
    const char *js;
    size_t len;
    assert_int_equal(rcfd_record_json(&r, &js, &len), 0);
    assert_int_equal(strncmp(js, "{\"a\":1.5,\"b\":{\"c\":{\"d\":-2}}", 26), 0);
    rcfd_record_free(&r);
}

static void test_json_malformed(void **state)
{
    (void)state;
    rcfd_record_t r = {0};
    assert_int_equal(parse(&r, RCFD_FORMAT_JSON, "{\"a\":", NULL), RCFD_EMALFORMED);
    assert_string_equal(reason, "invalid JSON at byte 4");
    assert_int_equal(parse(&r, RCFD_FORMAT_JSON, "[1,2]", NULL), RCFD_EMALFORMED);
    assert_string_equal(reason, "record is not a JSON object");
    assert_int_equal(parse(&r, RCFD_FORMAT_JSON, "{\"a\":1} x", NULL), RCFD_EMALFORMED);
    assert_string_equal(reason, "trailing data after JSON at byte 8");
    assert_int_equal(parse(&r, RCFD_FORMAT_JSON, "  {\"a\":1}\r\n", NULL), 0);
    rcfd_record_free(&r);
}

static void test_csv(void **state)
{
    (void)state;
    char *names[] = {"host", "cpu", "mem", "note"};
    rcfd_strlist_t cols = {names, 4};
    rcfd_record_t r = {0};
    int rc;
    assert_int_equal(parse(&r, RCFD_FORMAT_CSV, "web-1,0.5,\"1,024\",\"say \"\"hi\"\"\"\r", &cols),
                     0);
    assert_int_equal(r.n_cols, 4);
    assert_true(num(&r, "cpu", &rc) == 0.5 && rc == 0);
    assert_true(num(&r, "1", &rc) == 0.5 && rc == 0); /* by index */
    num(&r, "mem", &rc);
    assert_string_equal(reason, "non-numeric field \"mem\"");
    num(&r, "7", &rc);
    assert_string_equal(reason, "missing field \"7\"");
    const char *js;
    size_t len;
    assert_int_equal(rcfd_record_json(&r, &js, &len), 0);
    assert_string_equal(js, "{\"host\":\"web-1\",\"cpu\":0.5,\"mem\":\"1,024\",\"note\":\"say "
                            "\\\"hi\\\"\"}");
    rcfd_field_t k;
    rcfd_field_compile(&k, "host");
    rcfd_field_resolve_csv(&k, &cols);
    char key[32];
    size_t kl;
    assert_int_equal(rcfd_record_text(&r, &k, key, sizeof key, &kl, reason, sizeof reason), 0);
    assert_string_equal(key, "web-1");
    rcfd_field_free(&k);
    assert_int_equal(parse(&r, RCFD_FORMAT_CSV, "a,\"open", &cols), RCFD_EMALFORMED);
    assert_string_equal(reason, "CSV: unterminated quoted cell in column 1");
    assert_int_equal(parse(&r, RCFD_FORMAT_CSV, "a,b\"c", &cols), RCFD_EMALFORMED);
    /* Without names, cells are keyed by index in the output. */
    assert_int_equal(parse(&r, RCFD_FORMAT_CSV, "1,,x", NULL), 0);
    assert_int_equal(rcfd_record_json(&r, &js, &len), 0);
    assert_string_equal(js, "{\"0\":1,\"1\":\"\",\"2\":\"x\"}");
    num(&r, "1", &rc);
    assert_string_equal(reason, "missing field \"1\"");
    rcfd_record_free(&r);
}

static void test_timestamps(void **state)
{
    (void)state;
    int64_t us;
    assert_int_equal(rcfd_parse_iso8601_us("2024-05-01T10:00:00.250Z", &us), 0);
    assert_true(us == 1714557600250000LL);
    assert_int_equal(rcfd_parse_iso8601_us("2024-05-01 12:00:00+02:00", &us), 0);
    assert_true(us == 1714557600000000LL);
    assert_int_equal(rcfd_parse_iso8601_us("2024-05-01", &us), 0);
    assert_int_equal(rcfd_parse_iso8601_us("2024-13-01T00:00:00Z", &us), RCFD_EMALFORMED);
    assert_int_equal(rcfd_parse_iso8601_us("yesterday", &us), RCFD_EMALFORMED);
    rcfd_record_t r = {0};
    rcfd_field_t f;
    rcfd_field_compile(&f, "ts");
    parse(&r, RCFD_FORMAT_JSON, "{\"ts\":1714557600250}", NULL);
    assert_int_equal(rcfd_record_time_us(&r, &f, RCFD_TS_MS, &us, reason, sizeof reason), 0);
    assert_true(us == 1714557600250000LL);
    parse(&r, RCFD_FORMAT_JSON, "{\"ts\":\"2024-05-01T10:00:00.250Z\"}", NULL);
    assert_int_equal(rcfd_record_time_us(&r, &f, RCFD_TS_S, &us, reason, sizeof reason), 0);
    assert_true(us == 1714557600250000LL);
    parse(&r, RCFD_FORMAT_JSON, "{\"ts\":\"soon\"}", NULL);
    assert_int_equal(rcfd_record_time_us(&r, &f, RCFD_TS_S, &us, reason, sizeof reason),
                     RCFD_EMALFORMED);
    rcfd_field_free(&f);
    rcfd_record_free(&r);
}

/* The original JSON record is copied as written, without insignificant whitespace: numbers keep
 * their text, escapes stay, raw control characters in strings are escaped, and a number cJSON
 * takes but JSON does not ("01") makes it print the parsed tree instead. */
static void json_is(rcfd_record_t *r, const char *in, const char *want)
{
    const char *js;
    size_t len;
    assert_int_equal(parse(r, RCFD_FORMAT_JSON, in, NULL), 0);
    assert_int_equal(rcfd_record_json(r, &js, &len), 0);
    assert_string_equal(js, want);
    assert_int_equal(strlen(js), len);
}

static void test_json_original(void **state)
{
    (void)state;
    rcfd_record_t r = {0};
    json_is(&r, " {\"id\": 12345678901234567890, \"v\" : 1.50, \"e\":1E+3,\n \"a\":[ 1, -0.0 ],"
                "\"o\":{ }, \"t\":true,\"n\":null} \r\n",
            "{\"id\":12345678901234567890,\"v\":1.50,\"e\":1E+3,\"a\":[1,-0.0],\"o\":{},"
            "\"t\":true,\"n\":null}");
    json_is(&r, "{\"s\":\" a b \\\" \\\\ \\u00e9 \\/ \"}", "{\"s\":\" a b \\\" \\\\ \\u00e9 \\/ \"}");
    json_is(&r, "{\"s\":\"tab\there\x01\"}", "{\"s\":\"tab\\there\\u0001\"}");
    json_is(&r, "\xEF\xBB\xBF{\"a\":1}", "{\"a\":1}");
    json_is(&r, "{\"a\":01,\"b\":2.50}", "{\"a\":1,\"b\":2.5}"); /* cJSON's printing */
    json_is(&r, "{\"s\":\"\\uZZZZx\"}", "{\"s\":\"\"}"); /* cJSON reads it as U+0000 */
    rcfd_record_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_paths),
        cmocka_unit_test(test_json_malformed),
        cmocka_unit_test(test_json_original),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_timestamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
