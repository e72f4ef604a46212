/* Output config: per-type tables (strict keys per type), defaults, dead_letter resolution and its
 * rules, the Kafka producer's properties checked at parse time, fsync/format enums, and the
 * secrets --print-config redacts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rcfd/status.h"
#include "config/redact.h"
#include "config/schema.h"

static int parse(const char *outputs, rcfd_config_t **cfg, char *err, size_t es)
{
    char doc[4096];
    snprintf(doc, sizeof doc,
             "{\"sources\":[{\"name\":\"s\",\"type\":\"file\",\"path\":\"x\"}],\"outputs\":%s,"
             "\"pipelines\":[{\"name\":\"p\",\"source\":\"s\",\"fields\":[\"v\"],"
             "\"outputs\":[\"a\"],\"models\":[{\"type\":\"rcf\"}]}]}",
             outputs);
    *cfg = NULL;
    return rcfd_config_parse(doc, strlen(doc), cfg, err, es);
}

static void expect_error(const char *outputs, const char *needle)
{
    rcfd_config_t *cfg;
    char err[1024] = "";
    assert_int_equal(parse(outputs, &cfg, err, sizeof err), RCFD_ECONFIG);
    if (strstr(err, needle) == NULL) {
        fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
    }
    rcfd_config_free(cfg);
}

static void test_types_and_defaults(void **state)
{
    (void)state;
    rcfd_config_t *cfg;
    char err[1024] = "";
    int rc = parse("[{\"name\":\"a\",\"type\":\"webhook\",\"url\":\"http://127.0.0.1:1/\","
                   "\"headers\":{\"X-A\":\"1\"},\"dead_letter\":\"d\",\"min_grade\":0.5},"
                   "{\"name\":\"d\",\"type\":\"file\",\"path\":\"d.csv\",\"format\":\"csv\","
                   "\"fsync\":\"interval\",\"rotate_bytes\":4096},"
                   "{\"name\":\"k\",\"type\":\"kafka\",\"topic\":\"t\","
                   "\"rdkafka\":{\"bootstrap.servers\":\"127.0.0.1:9\"}}]",
                   &cfg, err, sizeof err);
    assert_int_equal(rc, 0);
    const rcfd_output_conf_t *a = &cfg->outputs[0], *d = &cfg->outputs[1], *k = &cfg->outputs[2];
    assert_int_equal(a->type, RCFD_OUTPUT_WEBHOOK);
    assert_int_equal(a->dead_letter_index, 1);
    assert_int_equal(a->tls_verify, 1);
    assert_int_equal(a->timeout_ms, 10000);
    assert_int_equal(a->headers.n, 1);
    assert_true(a->min_grade == 0.5);
    assert_int_equal(d->format, RCFD_OUT_CSV);
    assert_int_equal(d->fsync, RCFD_FSYNC_INTERVAL);
    assert_int_equal(d->rotate_bytes, 4096);
    assert_int_equal(d->dead_letter_index, -1);
    assert_int_equal(k->type, RCFD_OUTPUT_KAFKA);
    assert_string_equal(k->topic, "t");
    assert_int_equal(cfg->runtime.max_inflight_bytes, 67108864);
    rcfd_config_free(cfg);
}

static void test_errors(void **state)
{
    (void)state;
    /* A key of another type's table. */
    expect_error("[{\"name\":\"a\",\"type\":\"webhook\",\"url\":\"http://x\",\"path\":\"p\"}]",
                 "outputs[0].path: unknown key");
    expect_error("[{\"name\":\"a\",\"type\":\"file\",\"path\":\"p\",\"url\":\"http://x\"}]",
                 "outputs[0].url: unknown key");
    expect_error("[{\"name\":\"a\",\"type\":\"webhook\"}]", "url");
    expect_error("[{\"name\":\"a\",\"type\":\"file\",\"path\":\"p\",\"fsync\":true}]", "fsync");
    expect_error("[{\"name\":\"a\",\"type\":\"file\",\"path\":\"p\",\"fsync\":\"always\"}]",
                 "fsync");
    expect_error("[{\"name\":\"a\",\"type\":\"file\",\"path\":\"p\",\"dead_letter\":\"nope\"}]",
                 "outputs[0].dead_letter: no output is named \"nope\"");
    expect_error("[{\"name\":\"a\",\"type\":\"file\",\"path\":\"p\",\"dead_letter\":\"a\"}]",
                 "must be another output");
    expect_error("[{\"name\":\"a\",\"type\":\"file\",\"path\":\"p\",\"dead_letter\":\"b\"},"
                 "{\"name\":\"b\",\"type\":\"file\",\"path\":\"q\",\"dead_letter\":\"a\"}]",
                 "without a dead_letter of its own");
    expect_error("[{\"name\":\"a\",\"type\":\"kafka\",\"topic\":\"t\",\"rdkafka\":{}}]",
                 "\"bootstrap.servers\" is required");
    expect_error("[{\"name\":\"a\",\"type\":\"kafka\",\"topic\":\"t\","
                 "\"rdkafka\":{\"bootstrap.servers\":\"x\",\"no.such.property\":\"1\"}}]",
                 "outputs[0].rdkafka.\"no.such.property\"");
    expect_error("[{\"name\":\"a\",\"type\":\"file\",\"path\":\"p\",\"min_grade\":2}]",
                 "min_grade");
}

/* --print-config hides header values, URL passwords and sensitive librdkafka properties; the
 * unredacted print (reload's change check) keeps them. */
static void test_print_redacts_secrets(void **state)
{
    (void)state;
    setenv("RCFD_TEST_TOKEN", "tok-123", 1);
    rcfd_config_t *cfg;
    char err[1024] = "";
    int rc = parse("[{\"name\":\"a\",\"type\":\"webhook\","
                   "\"url\":\"https://bob:pw-456@127.0.0.1:1/x?q=1\",\"headers\":"
                   "{\"Authorization\":\"Bearer ${RCFD_TEST_TOKEN}\",\"X-Empty\":\"\"}},"
                   "{\"name\":\"k\",\"type\":\"kafka\",\"topic\":\"t\",\"rdkafka\":"
                   "{\"bootstrap.servers\":\"127.0.0.1:9\",\"sasl.username\":\"alice\","
                   "\"sasl.password\":\"pw-789\",\"client.id\":\"rcfd-1\"}}]",
                   &cfg, err, sizeof err);
    assert_int_equal(rc, 0);
    char *clear = rcfd_config_print(cfg), *red = rcfd_config_print_redacted(cfg);
    assert_non_null(clear);
    assert_non_null(red);
    static const char *const secrets[] = {"\"Bearer tok-123\"", "pw-456", "pw-789", "alice"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        assert_non_null(strstr(clear, secrets[i]));
        assert_null(strstr(red, secrets[i]));
    }
    static const char *const shown[] = {
        "\"Authorization\":\t\"***\"",
        "\"X-Empty\":\t\"\"",
        "\"url\":\t\"https://bob:***@127.0.0.1:1/x?q=1\"",
        "\"sasl.password\":\t\"***\"",
        "\"client.id\":\t\"rcfd-1\"",
        "\"bootstrap.servers\":\t\"127.0.0.1:9\"",
    };
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        if (strstr(red, shown[i]) == NULL) {
            fail_msg("%s not in the redacted print:\n%s", shown[i], red);
        }
    }
    cJSON_free(clear);
    cJSON_free(red);
    rcfd_config_free(cfg);
    /* No userinfo, or no password in it: the URL is left alone. */
    static const char *const kept[] = {"http://h/p@x", "http://user@h/", "h:1", "http://h:80/"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        cJSON *root = cJSON_CreateObject();
        cJSON *outs = cJSON_AddArrayToObject(root, "outputs");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(outs, o);
        cJSON_AddStringToObject(o, "url", kept[i]);
        assert_int_equal(rcfd_config_redact(root), 0);
        assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "url")), kept[i]);
        cJSON_Delete(root);
    }
    assert_true(rcfd_kafka_property_secret("ssl.key.password"));
    assert_true(rcfd_kafka_property_secret("sasl.oauthbearer.client.secret"));
    assert_false(rcfd_kafka_property_secret("security.protocol"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types_and_defaults),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_print_redacts_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
