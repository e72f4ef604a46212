/* Output encoding, exact strings: the rcfd schema, KDA's ANOMALY_SCORE / ANOMALY_EXPLANATION
 * columns, name collisions, CSV originals, and dead letters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rcfd/rcf.h"
#include "stream/model_rcf.h"
#include "stream/encode.h"
#include "stream/schema.h"

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
        .novelty = 0.25};
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
                                        results, 1),
                     0);
    assert_string_equal(
        b.p, "{\"Systolic\":190,\"Diastolic\":120,\"id\":\"x\",\"ANOMALY_SCORE\":3.855851061,"
             "\"ANOMALY_EXPLANATION\":\"{\\\"Systolic\\\":{\\\"DIRECTION\\\":\\\"HIGH\\\","
             "\\\"STRENGTH\\\":\\\"0.8567\\\",\\\"ATTRIBUTION_SCORE\\\":\\\"1.7447\\\"},"
             "\\\"Diastolic\\\":{\\\"DIRECTION\\\":\\\"LOW\\\",\\\"STRENGTH\\\":\\\"7.0982\\\","
             "\\\"ATTRIBUTION_SCORE\\\":\\\"2.1111\\\"}}\"}");
    rcfd_buf_reset(&b);
    assert_int_equal(rcfd_encode_scored(&b, RCFD_STYLE_RCFD, &r, &o, "p", "k1", 2, &cols, types,
                                        results, 1),
                     0);
    assert_string_equal(
        b.p, "{\"Systolic\":190,\"Diastolic\":120,\"id\":\"x\",\"anomaly_score\":3.855851061,"
             "\"anomaly_novelty\":0.25,\"explanation\":{\"Systolic\":{\"attribution\":1.74474,\"strength\":0.85671,"
             "\"direction\":\"HIGH\"},\"Diastolic\":{\"attribution\":2.11106,\"strength\":"
             "7.09823,\"direction\":\"LOW\"}},\"_rcfd\":{\"pipeline\":\"p\",\"key\":\"k1\","
             "\"source\":\"in\",\"topic\":\"bp\",\"partition\":2,\"offset\":41}}");
    /* Without explain, KDA has only ANOMALY_SCORE; scores print shortest round-trip. */
    rcfd_rcf_result_t plain = {.r = {.score = 0.1 + 0.2}};
    results[0] = &plain;
    rcfd_buf_reset(&b);
    rcfd_encode_scored(&b, RCFD_STYLE_KDA, &r, &o, "p", NULL, 0, &cols, types, results, 1);
    assert_string_equal(b.p, "{\"Systolic\":190,\"Diastolic\":120,\"id\":\"x\","
                             "\"ANOMALY_SCORE\":0.30000000000000004}");
    rcfd_buf_free(&b);
    rcfd_record_free(&r);
}

static void test_collisions_and_csv(void **state)
{
    (void)state;
    rcfd_rcf_result_t res = {.r = {.score = 1.5}};
    const rcfd_model_type_t *types[] = {&rcfd_model_rcf};
    const void *results[] = {&res};
    char *names[] = {"v"};
    rcfd_strlist_t cols = {names, 1};
    const char *in = "{\"v\":1,\"anomaly_score\":99,\"ANOMALY_SCORE\":98}";
    rcfd_record_t r = {0};
    rcfd_record_parse(&r, RCFD_FORMAT_JSON, in, strlen(in), ',', NULL, NULL, 0);
    rcfd_origin_t o = {.source = "f", .path = "in.csv", .line = 3};
    rcfd_buf_t b = {0};
    rcfd_encode_scored(&b, RCFD_STYLE_KDA, &r, &o, "p", NULL, 0, &cols, types, results, 1);
    assert_string_equal(b.p, "{\"v\":1,\"anomaly_score\":99,\"ANOMALY_SCORE\":1.5}");
    rcfd_buf_reset(&b);
    rcfd_encode_scored(&b, RCFD_STYLE_RCFD, &r, &o, "p", NULL, 0, &cols, types, results, 1);
    assert_string_equal(b.p, "{\"v\":1,\"ANOMALY_SCORE\":98,\"anomaly_score\":1.5,"
                             "\"anomaly_novelty\":0,\"_rcfd\":{"
                             "\"pipeline\":\"p\",\"source\":\"f\",\"path\":\"in.csv\",\"line\":3}}");
    rcfd_record_free(&r);
    /* An empty original: no leading comma. */
    rcfd_record_parse(&r, RCFD_FORMAT_CSV, "", 0, ',', NULL, NULL, 0);
    rcfd_record_clear(&r);
    rcfd_record_parse(&r, RCFD_FORMAT_JSON, "{}", 2, ',', NULL, NULL, 0);
    rcfd_buf_reset(&b);
    rcfd_encode_scored(&b, RCFD_STYLE_KDA, &r, &o, "p", NULL, 0, &cols, types, results, 1);
    assert_string_equal(b.p, "{\"ANOMALY_SCORE\":1.5}");
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_styles),
        cmocka_unit_test(test_collisions_and_csv),
        cmocka_unit_test(test_dead_letter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
