/* Derived-field expressions (common/expr.c): precedence and associativity against hand-computed
 * values, unary minus, quoted names, distinct references in first-use order, every compile error
 * with its column, the nesting and length limits, non-finite results, and evaluation without a
 * single allocation. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/expr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"

/* Compiles src, checks the references, evaluates with refs, returns the value. */
static double eval(const char *src, const char *const *names, const double *refs)
{
    rcfd_expr_t *e;
    char err[256] = "";
    int rc = rcfd_expr_compile(src, &e, err, sizeof err);
    if (rc != 0) {
        fail_msg("%s: %s", src, err);
    }
    size_t n = 0;
    while (names[n] != NULL) {
        n++;
    }
    assert_int_equal(rcfd_expr_n_refs(e), n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(rcfd_expr_ref(e, i), names[i]);
    }
    assert_null(rcfd_expr_ref(e, n));
    assert_string_equal(rcfd_expr_source(e), src);
    double v;
    assert_int_equal(rcfd_expr_eval(e, refs, &v), 0);
    rcfd_expr_free(e);
    return v;
}

static void test_arithmetic(void **state)
{
    (void)state;
    const char *xy[] = {"x", "y", NULL};
    const double v[] = {7, 2};
    /* exact in binary floating point, so == is the right comparison */
    assert_true(eval("x / 100", (const char *[]){"x", NULL}, (double[]){250}) == 2.5);
    assert_true(eval("x + y * 3", xy, v) == 13);   /* * before + */
    assert_true(eval("(x + y) * 3", xy, v) == 27); /* parentheses */
    assert_true(eval("x - y - 1", xy, v) == 4);    /* left-associative */
    assert_true(eval("x / y / 2", xy, v) == 1.75);
    assert_true(eval("x - (y - 1)", xy, v) == 6);
    assert_true(eval("-x + y", xy, v) == -5); /* unary minus binds tighter */
    assert_true(eval("x - -y", xy, v) == 9);
    assert_true(eval("--x", (const char *[]){"x", NULL}, v) == 7);
    assert_true(eval("-(x * y)", xy, v) == -14);
    assert_true(eval(" x*2.5e1 ", (const char *[]){"x", NULL}, v) == 175);
    assert_true(eval("x * .5 + 1E-1 * 10", (const char *[]){"x", NULL}, v) == 4.5);
    /* constants fold, fields repeat without a second reference */
    assert_true(eval("x * (2 + 3) + x", (const char *[]){"x", NULL}, v) == 42);
    assert_true(eval("y + x + y", (const char *[]){"y", "x", NULL}, (double[]){2, 7}) == 11);
}

static void test_names(void **state)
{
    (void)state;
    const double v[] = {10, 4, 1};
    assert_true(eval("net.rx_bytes + net.tx_bytes",
                     (const char *[]){"net.rx_bytes", "net.tx_bytes", NULL}, v) == 14);
    assert_true(eval("\"heart rate\" / 2 - \"a\"\"b\"",
                     (const char *[]){"heart rate", "a\"b", NULL}, v) == 1);
    assert_true(eval("arr.0 * _x9", (const char *[]){"arr.0", "_x9", NULL}, v) == 40);
}

static void compile_error(const char *src, const char *expect)
{
    rcfd_expr_t *e = (rcfd_expr_t *)1;
    char err[256] = "";
    assert_int_equal(rcfd_expr_compile(src, &e, err, sizeof err), RCFD_ECONFIG);
    assert_null(e);
    if (strstr(err, expect) == NULL) {
        fail_msg("\"%s\": error \"%s\" does not contain \"%s\"", src, err, expect);
    }
}

static void test_errors(void **state)
{
    (void)state;
    compile_error("", "empty expression");
    compile_error("   ", "empty expression");
    compile_error("x +", "column 4: expected a number, a field or \"(\" at the end");
    compile_error("x / (y", "column 7: expected \")\"");
    compile_error("x)", "column 2: unexpected \")\"");
    compile_error("x y", "column 3: expected an operator");
    compile_error("* x", "column 1: expected a number, a field or \"(\" before the operator");
    compile_error("floor(x)", "column 1: functions are not supported");
    compile_error("x > 3", "column 3: unexpected character '>'");
    compile_error("'x' * 2", "column 1: strings are not numbers");
    compile_error("\"x * 2", "column 1: unterminated quoted field name");
    compile_error("\"\" * 2", "column 1: empty quoted field name");
    compile_error("x * 2e", "column 6: expected digits after the exponent");
    compile_error("x * 2abc", "column 6: unexpected character after a number");
    compile_error("x * 1e999", "column 5: number out of range");
    compile_error("x \x01", "column 3: unexpected byte");
    compile_error("3 * 4", "reads no field");
    compile_error("x / 0", "divides by 0");
    compile_error("x / (2 - 2)", "divides by 0");
    compile_error("x * (1e300 * 1e300)", "overflows");
}

static void test_limits(void **state)
{
    (void)state;
    char src[RCFD_EXPR_MAX_LEN + 8];
    /* 32 levels of parentheses compile; 33 do not */
    for (int depth = 31; depth <= 40; depth++) {
        size_t n = 0;
        for (int i = 0; i < depth; i++) {
            src[n++] = '(';
        }
        src[n++] = 'x';
        for (int i = 0; i < depth; i++) {
            src[n++] = ')';
        }
        src[n] = '\0';
        rcfd_expr_t *e = NULL;
        char err[256];
        int rc = rcfd_expr_compile(src, &e, err, sizeof err);
        if (depth <= RCFD_EXPR_MAX_DEPTH) {
            assert_int_equal(rc, 0);
            rcfd_expr_free(e);
        } else {
            assert_int_equal(rc, RCFD_ECONFIG);
            assert_non_null(strstr(err, "too deeply nested"));
        }
    }
    /* a right-nested chain needs a deep stack even without deep parentheses of its own */
    memset(src, 0, sizeof src);
    size_t n = 0;
    for (int i = 0; i < 40; i++) {
        n += (size_t)snprintf(src + n, sizeof src - n, "x + (");
    }
    n += (size_t)snprintf(src + n, sizeof src - n, "x");
    for (int i = 0; i < 40; i++) {
        src[n++] = ')';
    }
    compile_error(src, "too deeply nested");
    /* a long flat sum is fine up to the operand limit */
    n = 0;
    for (int i = 0; i < 100; i++) {
        n += (size_t)snprintf(src + n, sizeof src - n, "%sa%d", i ? "+" : "", i % 60);
    }
    rcfd_expr_t *e;
    char err[256];
    assert_int_equal(rcfd_expr_compile(src, &e, err, sizeof err), 0);
    assert_int_equal(rcfd_expr_n_refs(e), 60);
    rcfd_expr_free(e);
    n = 0;
    for (int i = 0; i < 200; i++) {
        n += (size_t)snprintf(src + n, sizeof src - n, "%sx", i ? "+" : "");
    }
    compile_error(src, "expression too long");
    memset(src, 'x', RCFD_EXPR_MAX_LEN + 1);
    src[RCFD_EXPR_MAX_LEN + 1] = '\0';
    compile_error(src, "longer than 1024 bytes");
    n = 0;
    for (int i = 0; i < 70; i++) {
        n += (size_t)snprintf(src + n, sizeof src - n, "%sf%d", i ? "+" : "", i);
    }
    compile_error(src, "too many distinct fields");
}

static void test_nonfinite(void **state)
{
    (void)state;
    rcfd_expr_t *e;
    char err[256];
    assert_int_equal(rcfd_expr_compile("x / y", &e, err, sizeof err), 0);
    double v;
    assert_int_equal(rcfd_expr_eval(e, (double[]){1, 0}, &v), RCFD_ENONFINITE);
    assert_int_equal(rcfd_expr_eval(e, (double[]){0, 0}, &v), RCFD_ENONFINITE);
    assert_int_equal(rcfd_expr_eval(e, (double[]){3e38, 0.5}, &v), RCFD_ENONFINITE); /* > FLT_MAX */
    assert_int_equal(rcfd_expr_eval(e, (double[]){1, 4}, &v), 0);
    assert_true(v == 0.25);
    rcfd_expr_free(e);
}

static void test_no_allocation(void **state)
{
    (void)state;
    rcfd_expr_t *e;
    char err[256];
    assert_int_equal(rcfd_expr_compile("(a + b) * c / 100 - -d", &e, err, sizeof err), 0);
    rcfd_alloc_stats_t before, after;
    rcfd_alloc_stats(&before);
    double sum = 0;
    for (int i = 0; i < 10000; i++) {
        double v;
        assert_int_equal(rcfd_expr_eval(e, (double[]){i, 1, 2, 3}, &v), 0);
        sum += v;
    }
    rcfd_alloc_stats(&after);
    assert_int_equal(after.calls, before.calls);
    /* sum over i of ((i + 1) * 2 / 100 + 3) */
    assert_true(fabs(sum - (2.0 / 100 * (10000.0 * 10001 / 2) + 30000)) < 1e-6);
    rcfd_expr_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arithmetic), cmocka_unit_test(test_names),
        cmocka_unit_test(test_errors),     cmocka_unit_test(test_limits),
        cmocka_unit_test(test_nonfinite),  cmocka_unit_test(test_no_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
