/* Strict config parsing: every kind of error names the JSON path and the valid range or keys;
 * defaults fill in; env references expand; hot keys apply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rcfd/status.h"
#include "common/conf.h"
#include "config/schema.h"
#include "models/impute.h"

#define OK_SOURCES "\"sources\":[{\"name\":\"in\",\"type\":\"file\",\"path\":\"x.jsonl\"}]"
#define OK_OUTPUTS "\"outputs\":[{\"name\":\"out\",\"type\":\"file\",\"path\":\"o.jsonl\"}]"
#define PIPE(extra, model)                                                                   \
    "\"pipelines\":[{\"name\":\"p\",\"source\":\"in\",\"fields\":[\"a\",\"b\"],"             \
    "\"outputs\":[\"out\"]" extra ",\"models\":[{\"type\":\"rcf\"" model "}]}]"

static char err[1024];

static int parse(const char *json, rcfd_config_t **cfg)
{
    err[0] = '\0';
    return rcfd_config_parse(json, strlen(json), cfg, err, sizeof err);
}

static void expect_error(const char *json, const char *fragment)
{
    rcfd_config_t *cfg = (rcfd_config_t *)1;
    assert_int_equal(parse(json, &cfg), RCFD_ECONFIG);
    assert_null(cfg);
    if (strstr(err, fragment) == NULL) {
        fail_msg("error \"%s\" lacks \"%s\"", err, fragment);
    }
}

static void test_valid_with_defaults(void **state)
{
    (void)state;
    rcfd_config_t *cfg;
    assert_int_equal(parse("{" OK_SOURCES "," OK_OUTPUTS "," PIPE("", "") "}", &cfg), 0);
    assert_int_equal(cfg->n_pipelines, 1);
    assert_int_equal(cfg->pipelines[0].max_keys, 10000);
    assert_int_equal(cfg->runtime.shutdown_timeout_ms, 10000);
    assert_int_equal(cfg->sources[0].format, RCFD_FORMAT_JSON);
    assert_int_equal(cfg->pipelines[0].dead_letter_index, -1);
    char *printed = rcfd_config_print(cfg);
    assert_non_null(strstr(printed, "\"number_of_trees\":\t100"));
    assert_non_null(strstr(printed, "\"sub_sample_size\":\t256"));
    assert_non_null(strstr(printed, "\"time_decay\":\t100000"));
    assert_non_null(strstr(printed, "\"style\":\t\"rcfd\""));
    /* The printed effective config parses back to the same config. */
    rcfd_config_t *again;
    assert_int_equal(parse(printed, &again), 0);
    char *printed2 = rcfd_config_print(again);
    assert_string_equal(printed, printed2);
    cJSON_free(printed);
    cJSON_free(printed2);
    rcfd_config_free(again);
    rcfd_config_free(cfg);
}

static void test_errors_name_path(void **state)
{
    (void)state;
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE("", ",\"shingle_size\":0") "}",
                 "pipelines[0].models[0].shingle_size: 0 is out of range [1, 1024]");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE("", ",\"number_of_trees\":\"100\"") "}",
                 "pipelines[0].models[0].number_of_trees: expected an integer in [1, 1000]");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE("", ",\"treez\":5") "}",
                 "pipelines[0].models[0].treez: unknown key; valid keys: type, number_of_trees");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE(",\"max_keys\":0", "") "}",
                 "pipelines[0].max_keys: 0 is out of range [1, 10000000]");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE(",\"key\":7", "") "}",
                 "pipelines[0].key: expected a string");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE("", ",\"time_decay\":100") "}",
                 "pipelines[0].models[0]: ");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS ",\"pipelines\":[{\"name\":\"p\",\"source\":"
                 "\"nope\",\"fields\":[\"a\"],\"outputs\":[\"out\"],\"models\":[{\"type\":"
                 "\"rcf\"}]}]}",
                 "pipelines[0].source: no source is named \"nope\"");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE(",\"dead_letter\":\"dlq\"", "") "}",
                 "pipelines[0].dead_letter: no output is named \"dlq\"");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS ",\"pipelines\":[{\"name\":\"p\",\"source\":"
                 "\"in\",\"fields\":[\"a\"],\"outputs\":[\"out\"],\"models\":[{\"type\":"
                 "\"svm\"}]}]}",
                 "pipelines[0].models[0].type: \"svm\" is not one of \"rcf\"");
    expect_error("{\"sources\":[{\"name\":\"in\",\"type\":\"file\",\"path\":\"x\",\"format\":"
                 "\"xml\"}]," OK_OUTPUTS "," PIPE("", "") "}",
                 "sources[0].format: \"xml\" is not one of \"json\", \"csv\"");
    expect_error("{\"sources\":[{\"name\":\"in\",\"type\":\"kafka\",\"topics\":[\"t\"],"
                 "\"rdkafka\":{\"bootstrap.servers\":\"h:1\",\"group.id\":\"g\","
                 "\"fetch.wait.max.ms\":\"soon\"}}]," OK_OUTPUTS "," PIPE("", "") "}",
                 "sources[0].rdkafka.\"fetch.wait.max.ms\": ");
    expect_error("{\"sources\":[{\"name\":\"in\",\"type\":\"kafka\",\"topics\":[\"t\"],"
                 "\"rdkafka\":{\"bootstrap.servers\":\"h:1\"}}]," OK_OUTPUTS "," PIPE("", "") "}",
                 "sources[0].rdkafka: \"group.id\" is required");
    expect_error("{\"sources\":[{\"name\":\"in\",\"type\":\"kafka\",\"rdkafka\":{}}]," OK_OUTPUTS
                 "," PIPE("", "") "}",
                 "sources[0].topics: required key is missing");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE("", "") ",\"extra\":1}",
                 "extra: unknown key; valid keys: log, runtime, state, sources, outputs, pipelines");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE("", "") ",\"log\":{\"level\":\"loud\"}}",
                 "log.level: \"loud\" is not one of \"error\"");
    expect_error("{" OK_SOURCES ",\"outputs\":[{\"name\":\"out\",\"type\":\"file\",\"path\":"
                 "\"o\",\"min_score\":-1}]," PIPE("", "") "}",
                 "outputs[0].min_score: -1 is out of range [0, 1e+09]");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE("", ",\"type\":\"rcf\"") "}",
                 "duplicate key");
    expect_error("{\"sources\": [}", "invalid JSON at line 1, column 14");
    expect_error("{\"sources\":[{\"name\":\"in\",\"type\":\"kafka\",\"topics\":[\"t\"],"
                 "\"format\":\"csv\",\"rdkafka\":{\"bootstrap.servers\":\"h:1\",\"group.id\":\"g\""
                 "}}]," OK_OUTPUTS "," PIPE("", "") "}",
                 "pipelines[0].fields[0]: \"a\" is a column name, but source \"in\" has no "
                 "csv_columns");
}

static void test_env_and_hot_reload(void **state)
{
    (void)state;
    setenv("RCFD_TEST_OUT", "from-env.jsonl", 1);
    rcfd_config_t *a, *b;
    assert_int_equal(parse("{" OK_SOURCES ",\"outputs\":[{\"name\":\"out\",\"type\":\"file\","
                           "\"path\":\"${RCFD_TEST_OUT}\"}]," PIPE("", "") "}",
                           &a),
                     0);
    assert_string_equal(a->outputs[0].path, "from-env.jsonl");
    expect_error("{" OK_SOURCES ",\"outputs\":[{\"name\":\"out\",\"type\":\"file\","
                 "\"path\":\"${RCFD_TEST_UNSET_VAR}\"}]," PIPE("", "") "}",
                 "outputs[0].path: environment variable RCFD_TEST_UNSET_VAR is not set");
    /* ${NAME:-default}: the default when unset or empty, the value otherwise. */
    rcfd_config_t *c;
    unsetenv("RCFD_TEST_UNSET_VAR");
    setenv("RCFD_TEST_EMPTY", "", 1);
    assert_int_equal(parse("{" OK_SOURCES ",\"outputs\":[{\"name\":\"out\",\"type\":\"file\","
                           "\"path\":\"${RCFD_TEST_UNSET_VAR:-./d}/${RCFD_TEST_EMPTY:-e}-"
                           "${RCFD_TEST_OUT:-x}${RCFD_TEST_UNSET_VAR:-}\"}]," PIPE("", "") "}",
                           &c),
                     0);
    assert_string_equal(c->outputs[0].path, "./d/e-from-env.jsonl");
    rcfd_config_free(c);
    expect_error("{" OK_SOURCES ",\"outputs\":[{\"name\":\"out\",\"type\":\"file\","
                 "\"path\":\"${:-x}\"}]," PIPE("", "") "}",
                 "outputs[0].path: bad environment reference");
    int restart = -1;
    assert_int_equal(parse("{\"log\":{\"level\":\"debug\"}," OK_SOURCES ",\"outputs\":[{\"name\":"
                           "\"out\",\"type\":\"file\",\"path\":\"${RCFD_TEST_OUT}\","
                           "\"min_score\":2.5}]," PIPE("", "") "}",
                           &b),
                     0);
    assert_int_equal(rcfd_config_apply_hot(a, b, &restart), 0);
    assert_int_equal(restart, 0);
    assert_int_equal(a->log.level, 3);
    assert_true(a->outputs[0].min_score == 2.5);
    rcfd_config_free(b);
    assert_int_equal(parse("{" OK_SOURCES "," OK_OUTPUTS "," PIPE("", ",\"number_of_trees\":5")
                           "}",
                           &b),
                     0);
    assert_int_equal(rcfd_config_apply_hot(a, b, &restart), 0);
    assert_int_equal(restart, 1); /* trees and path changed: restart-only keys */
    assert_int_equal(a->outputs[0].min_score, 0);
    rcfd_config_free(b);
    rcfd_config_free(a);
}

/* KDA's parameter names in the file are read as rcfd's, as -p reads them. */
static void test_kda_names(void **state)
{
    (void)state;
    rcfd_config_t *c;
    assert_int_equal(parse("{" OK_SOURCES "," OK_OUTPUTS "," PIPE("", ",\"numberOfTrees\":7,"
                                                             "\"subSampleSize\":64,"
                                                             "\"timeDecay\":500,"
                                                             "\"shingleSize\":2")
                           "}",
                           &c),
                     0);
    char *printed = rcfd_config_print(c);
    assert_non_null(strstr(printed, "\"number_of_trees\":\t7"));
    assert_non_null(strstr(printed, "\"sub_sample_size\":\t64"));
    assert_non_null(strstr(printed, "\"time_decay\":\t500"));
    assert_non_null(strstr(printed, "\"shingle_size\":\t2"));
    assert_null(strstr(printed, "numberOfTrees"));
    cJSON_free(printed);
    rcfd_config_free(c);
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE("", ",\"shingleSize\":0") "}",
                 "pipelines[0].models[0].shingle_size: 0 is out of range [1, 1024] or \"auto\" "
                 "(written shingleSize, KDA's name for shingle_size)");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE("", ",\"shingle_size\":\"automatic\"") "}",
                 "pipelines[0].models[0].shingle_size: expected an integer in [1, 1024] or "
                 "\"auto\"");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE("", ",\"timeDecay\":5,\"time_decay\":6")
                 "}",
                 "pipelines[0].models[0]: \"timeDecay\" and \"time_decay\" are the same "
                 "parameter");
    /* only the model's own: windowSize is a HOTSPOTS name, not an rcf one */
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE("", ",\"windowSize\":5") "}",
                 "pipelines[0].models[0].windowSize: unknown key");
    assert_string_equal(rcfd_config_model_alias("hotspots", "scanRadius"), "scan_radius");
    assert_null(rcfd_config_model_alias("rcf", "scanRadius"));
}

static void test_reference_lists_every_key(void **state)
{
    (void)state;
    rcfd_buf_t b = {0};
    assert_int_equal(rcfd_config_reference(&b), 0);
    const rcfd_conf_desc_t *tables[] = {rcfd_source_desc, rcfd_source_kafka_desc,
                                        rcfd_source_file_desc, rcfd_output_desc,
                                        rcfd_pipeline_desc, rcfd_model_rcf.conf};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        for (const rcfd_conf_desc_t *d = tables[t]; d->key != NULL; d++) {
            char k[96];
            snprintf(k, sizeof k, "| `%s` |", d->key);
            if (strstr(b.p, k) == NULL) {
                fail_msg("reference lacks %s", d->key);
            }
        }
    }
    assert_non_null(strstr(b.p, "| `min_score` | number | `0` | 0 .. 1e+09 | SIGHUP |"));
    rcfd_buf_free(&b);
}

/* RCFD_CONF_AUTO: "auto" is 0 and prints back as "auto"; a bad value's message says so. */
static void test_int_or_auto(void **state)
{
    (void)state;
    struct { int64_t s; } c;
    const rcfd_conf_desc_t d[] = {
        {"shingle_size", RCFD_CT_INT, 0, "1", 1, 64, NULL, RCFD_CONF_AUTO, "x"}, {NULL}};
    rcfd_conf_section_t sec = {d, &c};
    char msg[256];
    cJSON *o = cJSON_Parse("{\"shingle_size\":\"auto\"}");
    assert_int_equal(rcfd_conf_parse(&sec, 1, o, "m", msg, sizeof msg), 0);
    assert_int_equal(c.s, 0);
    cJSON *e = cJSON_CreateObject();
    assert_int_equal(rcfd_conf_emit(d, &c, e), 0);
    assert_string_equal(cJSON_GetObjectItem(e, "shingle_size")->valuestring, "auto");
    cJSON_Delete(e);
    cJSON_Delete(o);
    o = cJSON_Parse("{\"shingle_size\":\"big\"}");
    assert_int_equal(rcfd_conf_parse(&sec, 1, o, "m", msg, sizeof msg), RCFD_ECONFIG);
    assert_non_null(strstr(msg, "shingle_size"));
    assert_non_null(strstr(msg, "an integer in [1, 64] or \"auto\""));
    cJSON_Delete(o);
}

/* impute: the method's own keys, the models it needs, fixed values printed and read back. */
static void test_impute(void **state)
{
    (void)state;
    rcfd_config_t *cfg;
    assert_int_equal(parse("{" OK_SOURCES "," OK_OUTPUTS "," PIPE("", "") "}", &cfg), 0);
    assert_int_equal(cfg->pipelines[0].impute, RCFD_IMPUTE_DEAD_LETTER);
    assert_int_equal(cfg->pipelines[0].impute_max_consecutive, 10);
    rcfd_config_free(cfg);
    const char *fixed = "{" OK_SOURCES "," OK_OUTPUTS "," PIPE(
        ",\"impute\":\"fixed\",\"impute_values\":{\"b\":-2.5,\"a\":1e3}", "") "}";
    assert_int_equal(parse(fixed, &cfg), 0);
    assert_true(cfg->pipelines[0].impute_fixed[0] == 1000 &&
                cfg->pipelines[0].impute_fixed[1] == -2.5);
    char *printed = rcfd_config_print(cfg);
    rcfd_config_t *again;
    assert_int_equal(parse(printed, &again), 0);
    assert_true(again->pipelines[0].impute_fixed[1] == -2.5);
    cJSON_free(printed);
    rcfd_config_free(again);
    rcfd_config_free(cfg);
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE(",\"impute\":\"fixed\"", "") "}",
                 "pipelines[0].impute_values: impute \"fixed\" needs an object");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE(
                     ",\"impute\":\"fixed\",\"impute_values\":{\"a\":1}", "") "}",
                 "no value for field \"b\"");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE(
                     ",\"impute\":\"fixed\",\"impute_values\":{\"a\":1,\"b\":1,\"c\":1}",
                     "") "}",
                 "impute_values.\"c\": not one of the pipeline's fields");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE(
                     ",\"impute\":\"fixed\",\"impute_values\":{\"a\":1,\"b\":\"x\"}", "") "}",
                 "impute_values.\"b\": expected a finite number");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE(
                     ",\"impute\":\"zero\",\"impute_values\":{\"a\":1,\"b\":1}", "") "}",
                 "impute_values: only with impute \"fixed\"");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS "," PIPE(",\"impute\":\"mean\"", "") "}",
                 "pipelines[0].impute: \"mean\" is not one of");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS ",\"pipelines\":[{\"name\":\"p\",\"source\":"
                 "\"in\",\"fields\":[\"a\"],\"outputs\":[\"out\"],\"impute\":\"rcf\","
                 "\"models\":[{\"type\":\"forecast\"}]}]}",
                 "pipelines[0].impute: \"rcf\" needs a model of type \"rcf\"");
    expect_error("{" OK_SOURCES "," OK_OUTPUTS ",\"pipelines\":[{\"name\":\"p\",\"source\":"
                 "\"in\",\"fields\":[\"a\"],\"outputs\":[\"out\"],\"impute\":\"zero\","
                 "\"models\":[{\"type\":\"hotspots\"}]}]}",
                 "keeps per-key state in the snapshot of a model of type \"rcf\" or \"forecast\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_with_defaults),
        cmocka_unit_test(test_errors_name_path),
        cmocka_unit_test(test_env_and_hot_reload),
        cmocka_unit_test(test_kda_names),
        cmocka_unit_test(test_reference_lists_every_key),
        cmocka_unit_test(test_int_or_auto),
        cmocka_unit_test(test_impute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
