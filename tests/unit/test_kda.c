/* rcfd kda import (kda/sql.c, kda/import.c) on small applications: every construct outside the
 * supported subset fails with the line and column of the construct and names it; the stream chain,
 * identifiers, comments, defaults, filters and derived fields map as documented. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "common/buf.h"
#include "kda/import.h"
#include "rcfd/status.h"

static const char *const HEAD =
    "CREATE OR REPLACE STREAM \"OUT\" (\"x\" DOUBLE, \"y\" DOUBLE, ANOMALY_SCORE DOUBLE);\n";

static int import(const char *sql, const kda_import_opts_t *o, cJSON **cfg, char *report,
                  size_t rsize, char *err, size_t esize)
{
    kda_import_opts_t def = {.app_name = "t"};
    rcfd_buf_t c = {0}, r = {0};
    err[0] = '\0';
    int rc = kda_import(sql, strlen(sql), o ? o : &def, &c, &r, err, esize);
    if (rc == 0) {
        rcfd_buf_putc(&c, '\0');
        *cfg = cJSON_Parse(c.p);
        assert_non_null(*cfg);
        snprintf(report, rsize, "%.*s", (int)r.len, r.p);
    }
    rcfd_buf_free(&c);
    rcfd_buf_free(&r);
    return rc;
}

static int mismatches;

/* The import of HEAD + body fails with a message containing `expect` (every mismatch of a test is
 * printed before it fails). */
static void fails(const char *body, const char *expect)
{
    char sql[4096], err[1024], rep[4096];
    snprintf(sql, sizeof sql, "%s%s", HEAD, body);
    cJSON *cfg = NULL;
    int rc = import(sql, NULL, &cfg, rep, sizeof rep, err, sizeof err);
    if (rc == 0) {
        cJSON_Delete(cfg);
        print_error("imported, expected \"%s\":\n%s\n", expect, body);
        mismatches++;
    } else if (rc != RCFD_EMALFORMED || strstr(err, expect) == NULL) {
        print_error("error %d \"%s\"\n  does not contain \"%s\"\n", rc, err, expect);
        mismatches++;
    }
}

static int check_mismatches(void **state)
{
    (void)state;
    int n = mismatches;
    mismatches = 0;
    assert_int_equal(n, 0);
    return 0;
}

#define PUMP "CREATE PUMP \"P\" AS INSERT INTO \"OUT\"\n"
#define RCF_OF(args)                                                                               \
    "SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM \"x\", \"y\" FROM S)" args  \
    "));"

static void test_unsupported(void **state)
{
    (void)state;
    /* the head is line 1, PUMP line 2, the query starts on line 3 */
    fails(PUMP "SELECT STREAM \"x\", \"y\", 1 FROM S GROUP BY \"x\";",
          "3:34: GROUP BY is not supported");
    fails(PUMP "SELECT STREAM * FROM S JOIN T ON S.a = T.a;", "3:24: joins are not supported");
    fails(PUMP "SELECT STREAM * FROM TABLE(STDDEV(CURSOR(SELECT STREAM * FROM S)));",
          "3:28: table function STDDEV is not supported");
    fails(PUMP
          "SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM FLOOR(\"x\") FROM "
          "S)));",
          "3:67: function FLOOR() is not supported in an expression");
    fails("CREATE TABLE \"R\" (\"a\" INTEGER);", "2:8: CREATE TABLE is not supported");
    fails("SELECT STREAM * FROM S;", "2:1: a SELECT outside a pump is not supported");
    fails(PUMP "SELECT STREAM * FROM S WHERE \"x\" > 1 OR \"y\" > 2;", "3:38: OR in WHERE");
    fails(PUMP "SELECT STREAM * FROM S WHERE \"name\" = 'a';", "3:39: comparison with the string");
    fails(PUMP "SELECT STREAM DISTINCT * FROM S;", "3:15: SELECT DISTINCT is not supported");
    fails(PUMP "SELECT STREAM \"x\" || 'a' FROM S;", "3:19: string concatenation");
    fails(PUMP "VALUES (1, 2, 3);", "3:1: INSERT ... VALUES is not supported");
}

static void test_lexical(void **state)
{
    (void)state;
    fails("/* never closed", "2:1: unterminated /* comment");
    fails("CREATE STREAM \"A (\"x\" DOUBLE);", "unterminated quoted identifier");
    fails(PUMP "SELECT STREAM * FROM S WHERE \"x\" = 'open;", "3:36: unterminated string");
    fails(PUMP "SELECT STREAM * FROM S \xe2\x80\x93\xe2\x80\x93 comment\n;",
          "3:24: unexpected character U+2013 (a dash pasted from a document? comments start with "
          "--)");
    fails(PUMP "SELECT STREAM * FROM S WHERE \"x\" > 1e;",
          "3:38: expected digits after the exponent");
    fails(PUMP "SELECT STREAM \"x\" # \"y\" FROM S;", "3:19: unexpected character '#'");
    fails("CREATE STREAM \"\" (\"x\" DOUBLE);", "2:15: empty quoted identifier");
    fails("CREATE STREAM \"A\" (\"x\" DOUBLE, \"y\" DOUBLE, ANOMALY_SCORE DOUBLE);\n"
          "CREATE STREAM \"B\" (\"x\" DOUBLE, \"y\" DOUBLE, ANOMALY_SCORE DOUBLE);\n"
          "CREATE PUMP \"P0\" AS INSERT INTO \"A\" " RCF_OF(
              "") "\n"
                  "CREATE PUMP \"P1\" AS INSERT INTO \"B\" SELECT STREAM * FROM \"A\";\n"
                  "CREATE PUMP \"P2\" AS INSERT INTO \"A\" SELECT STREAM * FROM \"B\";\n",
          "5:1: pump \"P1\" is part of a cycle of streams");
}

static void test_grammar(void **state)
{
    (void)state;
    fails(PUMP RCF_OF("") "\nCREATE STREAM \"B\" (\"z\" DOUBLE) CREATE",
          "4:32: expected \";\" at the end of the statement, found \"CREATE\"");
    fails("CREATE PUMP \"P\" INSERT INTO \"OUT\" SELECT STREAM * FROM S;",
          "2:17: expected AS after the pump's name, found \"INSERT\" (in CREATE PUMP \"P\")");
    fails("CREATE STREAM \"A\" (\"x\" DOUBLE, \"x\" INTEGER);",
          "2:32: column \"x\" is declared twice (in CREATE STREAM \"A\")");
    fails(PUMP "SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST(\"S\"));",
          "3:46: expected CURSOR as the function's first argument, found \"\"S\"\"");
    fails(PUMP "SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM * FROM S), "
               "'ten'));",
          "3:78: expected a number or TRUE/FALSE as argument 2 of RANDOM_CUT_FOREST, found "
          "\"'ten'\"");
    fails(PUMP "SELECT STREAM * FROM S WHERE \"x\" > \"y\";", "3:30: WHERE compares two columns");
}

static void test_parameters(void **state)
{
    (void)state;
    fails(PUMP RCF_OF(", 0"), "3:85: numberOfTrees (argument 2 of RANDOM_CUT_FOREST) is 0; it must "
                              "be an integer in [1, 1000]");
    fails(PUMP RCF_OF(", 100, 5"), "3:90: subSampleSize (argument 3 of RANDOM_CUT_FOREST) is 5");
    fails(PUMP RCF_OF(", 100, 256, 256"),
          "3:95: timeDecay (256) must be larger than subSampleSize (256)");
    fails(PUMP RCF_OF(", 100, 256, 1000, 31"),
          "3:101: shingleSize (argument 5 of RANDOM_CUT_FOREST) is 31");
    fails(PUMP RCF_OF(", 10.5"), "numberOfTrees (argument 2 of RANDOM_CUT_FOREST) is 10.5");
    fails(PUMP RCF_OF(", 1, 10, 100, 1, TRUE"),
          "RANDOM_CUT_FOREST takes at most 4 arguments after the cursor");
    fails(PUMP "SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST_WITH_EXPLANATION(CURSOR(SELECT STREAM "
               "\"x\" FROM S), 10, 20, 30, 1, 7));",
          "withDirectionality (argument 6) is 7; it must be TRUE or FALSE");
    fails(
        "CREATE STREAM \"H\" (\"x\" DOUBLE, HOTSPOTS_RESULT VARCHAR(100));\n"
        "CREATE PUMP \"P\" AS INSERT INTO \"H\" SELECT STREAM * FROM TABLE(HOTSPOTS(CURSOR(SELECT "
        "STREAM \"x\" FROM S), 100, 0.5));",
        "HOTSPOTS takes CURSOR(...), windowSize, scanRadius and minimumNumberOfPointsInAHotspot");
    fails(
        "CREATE STREAM \"H\" (\"x\" DOUBLE, HOTSPOTS_RESULT VARCHAR(100));\n"
        "CREATE PUMP \"P\" AS INSERT INTO \"H\" SELECT STREAM * FROM TABLE(HOTSPOTS(CURSOR(SELECT "
        "STREAM \"x\" FROM S), 100, 0.5, 101));",
        "3:116: minimumNumberOfPointsInAHotspot (argument 4 of HOTSPOTS) is 101; it must be an "
        "integer in [2, 100]");
    fails(
        "CREATE STREAM \"H\" (\"x\" DOUBLE, HOTSPOTS_RESULT VARCHAR(100));\n"
        "CREATE PUMP \"P\" AS INSERT INTO \"H\" SELECT STREAM * FROM TABLE(HOTSPOTS(CURSOR(SELECT "
        "STREAM \"x\" FROM S), 100, -0.5, 10));",
        "scanRadius (argument 3 of HOTSPOTS) is -0.5; it must be a number above 0");
}

static void test_semantics(void **state)
{
    (void)state;
    fails(PUMP
          "SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM \"x\", \"y\" FROM "
          "S))) WHERE ANOMALY_SCORE < 3;",
          "3:92: only ANOMALY_SCORE > c or ANOMALY_SCORE >= c maps to an output filter");
    fails(PUMP "SELECT STREAM \"x\", \"y\", 0 FROM S WHERE \"x\" > 3;",
          "3:40: WHERE on \"x\" is not supported (rcfd filters outputs on ANOMALY_SCORE; it scores "
          "every record of its input");
    fails(PUMP "SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM \"x\" FROM S "
               "WHERE \"x\" > 0)));",
          "3:84: WHERE in a CURSOR is not supported");
    fails("CREATE PUMP \"P\" AS INSERT INTO \"NOWHERE\" " RCF_OF(""),
          "2:32: stream \"NOWHERE\" is not created");
    fails(PUMP "SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM \"x\" FROM S)));",
          "2:32: the query has 2 columns but \"OUT\" has 3 (columns are matched by position)");
    fails(PUMP "SELECT STREAM \"x\", \"y\", ANOMALY_SCORE FROM TABLE(RANDOM_CUT_FOREST(CURSOR("
               "SELECT STREAM \"x\" FROM S)));",
          "3:20: column \"y\" is not in \"RANDOM_CUT_FOREST\" (its columns: \"x\", "
          "\"ANOMALY_SCORE\")");
    fails(PUMP RCF_OF(
              "") "\nCREATE STREAM \"B\" (\"x\" DOUBLE, \"y\" DOUBLE, ANOMALY_SCORE DOUBLE);\n"
                  "CREATE PUMP \"Q\" AS INSERT INTO \"B\" SELECT STREAM * FROM "
                  "TABLE(RANDOM_CUT_FOREST("
                  "CURSOR(SELECT STREAM \"x\", \"y\" FROM T)));",
          "the application reads two input streams, \"S\" and \"T\"");
    fails(PUMP "SELECT STREAM \"x\", \"y\", 0 FROM S;",
          "no RANDOM_CUT_FOREST, RANDOM_CUT_FOREST_WITH_EXPLANATION or HOTSPOTS result reaches");
    fails("CREATE STREAM \"OUT\" (\"x\" DOUBLE);", "2:15: stream \"OUT\" is created twice");
    fails(
        "CREATE STREAM \"M\" (\"x\" DOUBLE, \"y\" DOUBLE);\n"
        "CREATE PUMP \"A\" AS INSERT INTO \"M\" SELECT STREAM \"x\", \"y\" FROM S;\n"
        "CREATE PUMP \"B\" AS INSERT INTO \"M\" SELECT STREAM \"y\", \"x\" FROM S;\n" PUMP
        "SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM * FROM \"M\")));",
        "6:74: \"M\" is written by 2 pumps; a function reading it would score their rows together");
    fails(
        PUMP
        "SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM \"x\" * ANOMALY_SCORE, "
        "\"y\" FROM S)));",
        "ANOMALY_SCORE is not a column of the input");
    fails(PUMP "SELECT STREAM \"x\" + 1, \"y\", ANOMALY_SCORE FROM TABLE(RANDOM_CUT_FOREST(CURSOR("
               "SELECT STREAM \"x\", \"y\" FROM S))) AS R WHERE Q.ANOMALY_SCORE > 1;",
          "\"Q\" is not the stream or alias this query reads (\"R\")");
    fails(PUMP
          "SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM 3 AS \"x\", \"y\" "
          "FROM S)));",
          "column \"x\" of the CURSOR of \"P\" cannot be a derived field: the expression reads no "
          "field");
}

static void test_mapping(void **state)
{
    (void)state;
    /* lower-case keywords, unquoted identifiers upper-cased, "" inside quotes, comments everywhere,
     * a name with a dot and one with a quote inside derived fields, a second WHERE that raises the
     * bound, the last statement without a semicolon */
    const char *sql =
        "create or replace stream \"DEST\" ( -- the output\n"
        "  \"a.b\" double, \"q\"\"t\" double, Plain double, /* c */ anomaly_score double)\n"
        ";\n"
        "create or replace stream \"TMP\" (\"a.b\" double, \"q\"\"t\" double, Plain double, "
        "anomaly_score double);\n"
        "create or replace pump \"P1\" as insert into \"TMP\"\n"
        "select stream * from table(random_cut_forest(cursor(\n"
        "  select stream (\"a.b\" - -2) * 3 as \"a.b\", \"q\"\"t\" / (\"w\" + 1) as \"q\"\"t\", "
        "plain from \"SRC\"), 20, 32, 1000, 2))\n"
        "where anomaly_score > 1;\n"
        "create or replace pump \"P2\" as insert into \"DEST\" select stream * from \"TMP\" "
        "where ANOMALY_SCORE >= 2.5";
    cJSON *cfg = NULL;
    char err[1024], rep[8192];
    int rc = import(sql, NULL, &cfg, rep, sizeof rep, err, sizeof err);
    if (rc != 0) {
        fail_msg("%s", err);
    }
    const cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(cfg, "pipelines"), 0);
    assert_string_equal(cJSON_GetObjectItem(p, "name")->valuestring, "P1");
    assert_string_equal(cJSON_GetObjectItem(p, "source")->valuestring, "SRC");
    const cJSON *f = cJSON_GetObjectItem(p, "fields");
    assert_int_equal(cJSON_GetArraySize(f), 3);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(f, 0), "name")->valuestring, "a.b");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(f, 0), "expr")->valuestring,
                        "(\"a\\.b\" - -2) * 3");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(f, 1), "name")->valuestring, "q\"t");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(f, 1), "expr")->valuestring,
                        "\"q\"\"t\" / (w + 1)");
    assert_string_equal(cJSON_GetArrayItem(f, 2)->valuestring, "PLAIN");
    const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "models"), 0);
    assert_int_equal(cJSON_GetObjectItem(m, "number_of_trees")->valueint, 20);
    assert_int_equal(cJSON_GetObjectItem(m, "sub_sample_size")->valueint, 32);
    assert_int_equal(cJSON_GetObjectItem(m, "time_decay")->valueint, 1000);
    assert_int_equal(cJSON_GetObjectItem(m, "shingle_size")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItem(m, "recent_mean")->valueint, 0);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(m, "explain")));
    const cJSON *o = cJSON_GetArrayItem(cJSON_GetObjectItem(cfg, "outputs"), 0);
    assert_string_equal(cJSON_GetObjectItem(o, "name")->valuestring, "DEST");
    assert_string_equal(cJSON_GetObjectItem(o, "style")->valuestring, "kda");
    assert_true(cJSON_GetObjectItem(o, "min_score")->valuedouble == 2.5);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cfg, "outputs")), 1);
    assert_non_null(strstr(rep, "WHERE ANOMALY_SCORE >= 2.5 -> outputs[0].min_score 2.5"));
    assert_non_null(strstr(rep, "column \"w\" of the input has no declared type") == NULL ? rep
                                                                                          : NULL);
    cJSON_Delete(cfg);

    /* RCFX with the defaults of the arguments it omits; the output of one pump read twice */
    const char *rcfx =
        "CREATE STREAM \"O\" (\"v\" INTEGER, ANOMALY_SCORE DOUBLE, ANOMALY_EXPLANATION "
        "VARCHAR(512));\n"
        "CREATE PUMP \"X\" AS INSERT INTO \"O\" SELECT STREAM \"v\", ANOMALY_SCORE, "
        "ANOMALY_EXPLANATION FROM TABLE(RANDOM_CUT_FOREST_WITH_EXPLANATION(CURSOR(SELECT STREAM "
        "\"v\" FROM \"SOURCE_SQL_STREAM_001\"), 30));";
    rc = import(rcfx, NULL, &cfg, rep, sizeof rep, err, sizeof err);
    if (rc != 0) {
        fail_msg("%s", err);
    }
    p = cJSON_GetArrayItem(cJSON_GetObjectItem(cfg, "pipelines"), 0);
    m = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "models"), 0);
    assert_int_equal(cJSON_GetObjectItem(m, "number_of_trees")->valueint, 30);
    assert_int_equal(cJSON_GetObjectItem(m, "sub_sample_size")->valueint, 256);
    assert_int_equal(cJSON_GetObjectItem(m, "time_decay")->valueint, 100000);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(m, "explain")));
    assert_non_null(strstr(rep, "withDirectionality FALSE: rcfd's ANOMALY_EXPLANATION always has "
                                "DIRECTION and STRENGTH"));
    assert_non_null(strstr(rep,
                           "omitted arguments of RANDOM_CUT_FOREST_WITH_EXPLANATION take KDA's "
                           "defaults"));
    cJSON_Delete(cfg);
}

static void test_options(void **state)
{
    (void)state;
    const char *sql = "CREATE STREAM \"O\" (\"v\" INTEGER, ANOMALY_SCORE DOUBLE);\n"
                      "CREATE PUMP \"X\" AS INSERT INTO \"O\" SELECT STREAM \"v\", ANOMALY_SCORE "
                      "FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM * FROM \"IN\")));";
    cJSON *cfg = NULL;
    char err[1024], rep[4096];
    kda_import_opts_t o = {.app_name = "t", .source_spec = "ftp:x"};
    assert_int_equal(import(sql, &o, &cfg, rep, sizeof rep, err, sizeof err), RCFD_EINVAL);
    assert_non_null(
        strstr(err, "--source \"ftp:x\": expected file:PATH, kafka:TOPIC or kinesis:STREAM"));
    o.source_spec = NULL;
    o.columns = "\"v\" INTEGER, \"w\" DOUBLE,";
    assert_int_equal(import(sql, &o, &cfg, rep, sizeof rep, err, sizeof err), RCFD_EINVAL);
    assert_non_null(strstr(err, "--columns, character 25: expected a column name, found \")\""));
    o.columns = NULL;
    o.csv = 1;
    assert_int_equal(import(sql, &o, &cfg, rep, sizeof rep, err, sizeof err), RCFD_EINVAL);
    assert_non_null(strstr(err, "--format csv needs the input's columns"));
    /* with the columns declared, "*" takes the numeric ones in their order */
    o.columns = "\"name\" VARCHAR(4), \"w\" DOUBLE, \"v\" INTEGER";
    assert_int_equal(import(sql, &o, &cfg, rep, sizeof rep, err, sizeof err), 0);
    const cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(cfg, "pipelines"), 0);
    const cJSON *f = cJSON_GetObjectItem(p, "fields");
    assert_int_equal(cJSON_GetArraySize(f), 2);
    assert_string_equal(cJSON_GetArrayItem(f, 0)->valuestring, "w");
    assert_string_equal(cJSON_GetArrayItem(f, 1)->valuestring, "v");
    const cJSON *s = cJSON_GetArrayItem(cJSON_GetObjectItem(cfg, "sources"), 0);
    assert_string_equal(cJSON_GetObjectItem(s, "format")->valuestring, "csv");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "csv_columns")), 3);
    assert_null(strstr(rep, "assumed:"));
    cJSON_Delete(cfg);
    /* without them, "*" takes what the application shows, and says so */
    o.columns = NULL;
    o.csv = 0;
    assert_int_equal(import(sql, &o, &cfg, rep, sizeof rep, err, sizeof err), 0);
    assert_non_null(
        strstr(rep, "took the numeric ones the application passes on: \"v\" (INTEGER in O)"));
    cJSON_Delete(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_unsupported, check_mismatches),
        cmocka_unit_test_teardown(test_lexical, check_mismatches),
        cmocka_unit_test_teardown(test_grammar, check_mismatches),
        cmocka_unit_test_teardown(test_parameters, check_mismatches),
        cmocka_unit_test_teardown(test_semantics, check_mismatches),
        cmocka_unit_test(test_mapping),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
