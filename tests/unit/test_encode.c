/* Output encoding, exact strings: the rcfd schema, KDA's ANOMALY_SCORE / ANOMALY_EXPLANATION
 * columns, name collisions, CSV originals, and dead letters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rcfd/rcf.h"
#include "models/rcf.h"
#include "stream/encode.h"
#include "config/schema.h"

/* A fixed RCF result, laid out as the rcf model type's result (rcfd_rcf_result_t). */
static rcf_column_explanation_t colexpl[2] = {
    {.attribution = 1.74474, .strength = 0.85671, .direction = RCF_DIRECTION_HIGH},
    {.attribution = 2.11106, .strength = 7.09823, .direction = RCF_DIRECTION_LOW},
};

static void test_styles(void **state)
{
    (void)state;
    rcfd_rcf_result_t res = {
        .r = {.record = 300, .ready = 1, .score = 3.855851061, .explanation = colexpl},
        .novelty = 0.25,
        .alert = {.anomaly = 1, .grade = 0.75, .threshold = 2.5}};
    const rcfd_model_type_t *types[] = {&rcfd_model_rcf};
    const void *results[] = {&res};
    char *names[] = {"Systolic", "Diastolic"};
    rcfd_strlist_t cols = {names, 2};
    const char *in = "{\"Systolic\":190,\"Diastolic\":120,\"id\":\"x\"}";
    rcfd_record_t r = {0};
    assert_int_equal(rcfd_record_parse(&r, RCFD_FORMAT_JSON, in, strlen(in), ',', NULL, NULL, 0),
                     0);
    rcfd_origin_t o = {.source = "in", .topic = "bp", .partition = 2, .offset = 41};
    rcfd_buf_t b = {0};
    assert_int_equal(rcfd_encode_scored(&b, RCFD_STYLE_KDA, &r, &o, "p", "k1", 2, &cols, types,
                                        results, 1, NULL),
                     0);
    assert_string_equal(
        b.p, "{\"Systolic\":190,\"Diastolic\":120,\"id\":\"x\",\"ANOMALY_SCORE\":3.855851061,"
             "\"ANOMALY_EXPLANATION\":\"{\\\"Systolic\\\":{\\\"DIRECTION\\\":\\\"HIGH\\\","
             "\\\"STRENGTH\\\":\\\"0.8567\\\",\\\"ATTRIBUTION_SCORE\\\":\\\"1.7447\\\"},"
             "\\\"Diastolic\\\":{\\\"DIRECTION\\\":\\\"LOW\\\",\\\"STRENGTH\\\":\\\"7.0982\\\","
             "\\\"ATTRIBUTION_SCORE\\\":\\\"2.1111\\\"}}\","
             "\"anomaly\":true,\"anomaly_grade\":0.75,\"threshold\":2.5,\"warming_up\":false}");
    rcfd_buf_reset(&b);
    assert_int_equal(rcfd_encode_scored(&b, RCFD_STYLE_RCFD, &r, &o, "p", "k1", 2, &cols, types,
                                        results, 1, NULL),
                     0);
    assert_string_equal(
        b.p, "{\"Systolic\":190,\"Diastolic\":120,\"id\":\"x\",\"anomaly_score\":3.855851061,"
             "\"anomaly_novelty\":0.25,\"explanation\":{\"Systolic\":{\"attribution\":1.74474,\"strength\":0.85671,"
             "\"direction\":\"HIGH\"},\"Diastolic\":{\"attribution\":2.11106,\"strength\":"
             "7.09823,\"direction\":\"LOW\"}},\"anomaly\":true,\"anomaly_grade\":0.75,"
             "\"threshold\":2.5,\"warming_up\":false,\"_rcfd\":{\"pipeline\":\"p\",\"key\":\"k1\","
             "\"source\":\"in\",\"topic\":\"bp\",\"partition\":2,\"offset\":41}}");
    /* Without explain, KDA has only ANOMALY_SCORE; scores print shortest round-trip. */
    rcfd_rcf_result_t plain = {.r = {.score = 0.1 + 0.2},
                               .alert = {.warming_up = 1, .threshold = NAN}};
    results[0] = &plain;
    rcfd_buf_reset(&b);
    rcfd_encode_scored(&b, RCFD_STYLE_KDA, &r, &o, "p", NULL, 0, &cols, types, results, 1, NULL);
    assert_string_equal(b.p, "{\"Systolic\":190,\"Diastolic\":120,\"id\":\"x\","
                             "\"ANOMALY_SCORE\":0.30000000000000004,\"anomaly\":false,"
                             "\"anomaly_grade\":0,\"threshold\":null,\"warming_up\":true}");
    rcfd_buf_free(&b);
    rcfd_record_free(&r);
}

static void test_collisions_and_csv(void **state)
{
    (void)state;
    rcfd_rcf_result_t res = {.r = {.score = 1.5}, .alert = {.threshold = 2}};
    const rcfd_model_type_t *types[] = {&rcfd_model_rcf};
    const void *results[] = {&res};
    char *names[] = {"v"};
    rcfd_strlist_t cols = {names, 1};
    const char *in = "{\"v\":1,\"anomaly_score\":99,\"ANOMALY_SCORE\":98}";
    rcfd_record_t r = {0};
    rcfd_record_parse(&r, RCFD_FORMAT_JSON, in, strlen(in), ',', NULL, NULL, 0);
    rcfd_origin_t o = {.source = "f", .path = "in.csv", .line = 3};
    rcfd_buf_t b = {0};
    rcfd_encode_scored(&b, RCFD_STYLE_KDA, &r, &o, "p", NULL, 0, &cols, types, results, 1, NULL);
    assert_string_equal(b.p, "{\"v\":1,\"anomaly_score\":99,\"ANOMALY_SCORE\":1.5,"
                             "\"anomaly\":false,\"anomaly_grade\":0,\"threshold\":2,\"warming_up\":false}");
    rcfd_buf_reset(&b);
    rcfd_encode_scored(&b, RCFD_STYLE_RCFD, &r, &o, "p", NULL, 0, &cols, types, results, 1, NULL);
    assert_string_equal(b.p, "{\"v\":1,\"ANOMALY_SCORE\":98,\"anomaly_score\":1.5,"
                             "\"anomaly_novelty\":0,\"anomaly\":false,\"anomaly_grade\":0,\"threshold\":2,\"warming_up\":false,\"_rcfd\":{"
                             "\"pipeline\":\"p\",\"source\":\"f\",\"path\":\"in.csv\",\"line\":3}}");
    rcfd_record_free(&r);
    /* An empty original: no leading comma. */
    rcfd_record_parse(&r, RCFD_FORMAT_CSV, "", 0, ',', NULL, NULL, 0);
    rcfd_record_clear(&r);
    rcfd_record_parse(&r, RCFD_FORMAT_JSON, "{}", 2, ',', NULL, NULL, 0);
    rcfd_buf_reset(&b);
    rcfd_encode_scored(&b, RCFD_STYLE_KDA, &r, &o, "p", NULL, 0, &cols, types, results, 1, NULL);
    assert_string_equal(b.p, "{\"ANOMALY_SCORE\":1.5,\"anomaly\":false,\"anomaly_grade\":0,\"threshold\":2,\"warming_up\":false}");
    rcfd_buf_free(&b);
    rcfd_record_free(&r);
}

/* impute's marks: the imputed fields in the pipeline's order and the values the models saw, after
 * the models' members; an input member of the same name is left out. */
static void test_imputed(void **state)
{
    (void)state;
    rcfd_rcf_result_t res = {.r = {.record = 9, .ready = 1, .score = 1.5},
                             .alert = {.threshold = 2}};
    const rcfd_model_type_t *types[] = {&rcfd_model_rcf};
    const void *results[] = {&res};
    char *names[] = {"a", "b", "c"};
    rcfd_strlist_t cols = {names, 3};
    const unsigned char missing[3] = {1, 0, 1};
    const double values[3] = {0.25, 7, -3};
    const rcfd_imputed_t im = {&cols, missing, values};
    const char *in = "{\"a\":null,\"b\":7,\"imputed\":1}";
    rcfd_record_t r = {0};
    assert_int_equal(rcfd_record_parse(&r, RCFD_FORMAT_JSON, in, strlen(in), ',', NULL, NULL, 0),
                     0);
    rcfd_origin_t o = {.source = "f", .path = "in.jsonl", .line = 4};
    rcfd_buf_t b = {0};
    assert_int_equal(
        rcfd_encode_scored(&b, RCFD_STYLE_RCFD, &r, &o, "p", NULL, 0, &cols, types, results, 1, &im),
        0);
    assert_string_equal(b.p, "{\"a\":null,\"b\":7,\"anomaly_score\":1.5,\"anomaly_novelty\":0,"
                             "\"anomaly\":false,\"anomaly_grade\":0,\"threshold\":2,"
                             "\"warming_up\":false,\"imputed\":[\"a\",\"c\"],"
                             "\"imputed_values\":{\"a\":0.25,\"c\":-3},\"_rcfd\":{\"pipeline\":"
                             "\"p\",\"source\":\"f\",\"path\":\"in.jsonl\",\"line\":4}}");
    rcfd_buf_reset(&b);
    assert_int_equal(
        rcfd_encode_scored(&b, RCFD_STYLE_KDA, &r, &o, "p", NULL, 0, &cols, types, results, 1, &im),
        0);
    assert_string_equal(b.p, "{\"a\":null,\"b\":7,\"imputed\":1,\"ANOMALY_SCORE\":1.5,"
                             "\"anomaly\":false,\"anomaly_grade\":0,\"threshold\":2,"
                             "\"warming_up\":false,\"IMPUTED\":[\"a\",\"c\"],"
                             "\"IMPUTED_VALUES\":{\"a\":0.25,\"c\":-3}}");
    rcfd_buf_free(&b);
    rcfd_record_free(&r);
}

static void test_dead_letter(void **state)
{
    (void)state;
    rcfd_origin_t o = {.source = "s", .topic = "t", .partition = 1, .offset = 7};
    rcfd_buf_t b = {0};
    const char raw[] = "{\"a\":\n\"x";
    assert_int_equal(rcfd_encode_dead_letter(&b, &o, "p", "invalid JSON at byte 8", raw,
                                             sizeof raw - 1),
                     0);
    assert_string_equal(b.p, "{\"reason\":\"invalid JSON at byte 8\",\"pipeline\":\"p\","
                             "\"source\":\"s\",\"topic\":\"t\",\"partition\":1,\"offset\":7,"
                             "\"record\":\"{\\\"a\\\":\\n\\\"x\"}");
    rcfd_buf_free(&b);
}

/* rcfd_fmt_double's integer shortcut gives printf's text exactly: the shortest of %.15g..%.17g
 * that strtod reads back to the same double. Random bit patterns, scores, dyadic values (exact
 * decimal ties), neighbours of powers of ten and two. */
static void fmt_reference(char *out, size_t size, double v)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, v);
        if (strtod(out, NULL) == v) {
            break;
        }
    }
}

static uint64_t xs = 88172645463325252ULL;
static uint64_t xorshift(void)
{
    xs ^= xs << 13;
    xs ^= xs >> 7;
    xs ^= xs << 17;
    return xs;
}

static int fmt_mismatches;
static void fmt_check(double v)
{
    char want[64], got[64];
    fmt_reference(want, sizeof want, v);
    rcfd_fmt_double(got, sizeof got, v);
    if (strcmp(want, got) != 0 && fmt_mismatches++ < 10) {
        print_error("%.17g: printf %s, rcfd_fmt_double %s\n", v, want, got);
    }
}

static void test_fmt_double(void **state)
{
    (void)state;
    for (int i = 0; i < 40000; i++) {
        uint64_t r = xorshift();
        double v;
        switch (i % 4) {
        case 0:
            memcpy(&v, &r, sizeof v);
            break;
        case 1:
            v = ldexp((double)(r >> 11), -53) * pow(10, (int)(xorshift() % 24) - 8);
            break;
        case 2:
            v = ldexp((double)(r >> (11 + xorshift() % 40)), -(int)(xorshift() % 60));
            break;
        default:
            v = (double)(r % 100000) / (double)(1 + xorshift() % 1000);
            break;
        }
        if (isfinite(v)) {
            fmt_check(v);
            fmt_check(-v);
        }
    }
    for (int e = -12; e <= 18; e++) {
        double p = pow(10, e);
        for (double v = nextafter(nextafter(p, 0), 0); v <= nextafter(nextafter(p, 1e300), 1e300);
             v = nextafter(v, 1e300)) {
            fmt_check(v);
        }
    }
    for (int e = -80; e < 60; e++) {
        fmt_check(ldexp(1, e));
        fmt_check(nextafter(ldexp(1, e), 0));
    }
    const double edges[] = {0.0, -0.0, 0.1, 0.3, 1e15, 999999999999999.9, 9007199254740993.0,
                            5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 3.855851061};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        fmt_check(edges[i]);
    }
    assert_int_equal(fmt_mismatches, 0);
}

/* Every name a style's models write is left out of the original when a record has it, also
 * beside members that share its length or first letter (the member signature must not hide
 * one), in the fast path's records and in cJSON's (an escape sends a record there). */
static void test_every_reserved_name(void **state)
{
    (void)state;
    static const char *const rcfd_style[] = {
        "anomaly_score", "explanation", "hotspots",   "_rcfd",   "anomaly",
        "anomaly_grade", "threshold",   "warming_up", "imputed", "imputed_values"};
    static const char *const kda_style[] = {
        "ANOMALY_SCORE", "ANOMALY_EXPLANATION", "HOTSPOTS_RESULT", "anomaly",       "anomaly_grade",
        "threshold",     "warming_up",          "IMPUTED",         "IMPUTED_VALUES"};
    const struct {
        rcfd_style_t style;
        const char *const *names;
        size_t n;
    } sets[] = {{RCFD_STYLE_RCFD, rcfd_style, sizeof rcfd_style / sizeof *rcfd_style},
                {RCFD_STYLE_KDA, kda_style, sizeof kda_style / sizeof *kda_style}};
    rcfd_rcf_result_t res = {.r = {.score = 1.5}, .alert = {.threshold = 2}};
    const rcfd_model_type_t *types[] = {&rcfd_model_rcf};
    const void *results[] = {&res};
    rcfd_origin_t o = {.source = "f", .path = "in.jsonl", .line = 1};
    for (size_t s = 0; s < 2; s++) {
        for (size_t i = 0; i < sets[s].n; i++) {
            for (int escaped = 0; escaped < 2; escaped++) {
                const char *name = sets[s].names[i];
                char in[256];
                /* "aX..." and a same-length neighbour come first: the name is found after them */
                snprintf(in, sizeof in, "{\"a\":1,\"%.*sQ\":2,\"%s\":\"ORIG%s\",\"v\":3}",
                         (int)strlen(name) - 1, name, name, escaped ? "\\n" : "");
                rcfd_record_t r = {0};
                assert_int_equal(
                    rcfd_record_parse(&r, RCFD_FORMAT_JSON, in, strlen(in), ',', NULL, NULL, 0), 0);
                rcfd_buf_t b = {0};
                assert_int_equal(rcfd_encode_scored(&b, sets[s].style, &r, &o, "p", NULL, 0, NULL,
                                                    types, results, 1, NULL),
                                 0);
                if (strstr(b.p, "ORIG") != NULL || strstr(b.p, "\"v\":3") == NULL) {
                    fail_msg("%s: %s -> %s", name, in, b.p);
                }
                rcfd_buf_free(&b);
                rcfd_record_free(&r);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_styles),
        cmocka_unit_test(test_collisions_and_csv),
        cmocka_unit_test(test_every_reserved_name),
        cmocka_unit_test(test_dead_letter),
        cmocka_unit_test(test_imputed),
        cmocka_unit_test(test_fmt_double),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
