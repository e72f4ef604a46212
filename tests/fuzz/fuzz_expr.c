/* Fuzzes the derived-field expression compiler (common/expr.c). The input is the expression text.
 * When it compiles, the program must read at least one distinct, non-empty field, keep its source,
 * and evaluate to exactly what a second, independent evaluator computes straight from the text (a
 * plain recursive descent over the same grammar, no constant folding, no postfix) for three sets
 * of field values; a non-finite result must be reported as RCFD_ENONFINITE by both. Errors must be
 * RCFD_ECONFIG with a message. A broken invariant aborts. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/expr.h"
#include "rcfd/status.h"

typedef struct ref_eval {
    const char *s;
    size_t i;
    const rcfd_expr_t *e;
    const double *vals;
    int ok;
} ref_eval_t;

static void ws(ref_eval_t *r)
{
    while (r->s[r->i] == ' ' || r->s[r->i] == '\t' || r->s[r->i] == '\n' || r->s[r->i] == '\r') {
        r->i++;
    }
}

static double lookup(ref_eval_t *r, const char *name)
{
    for (size_t k = 0; k < rcfd_expr_n_refs(r->e); k++) {
        if (strcmp(rcfd_expr_ref(r->e, k), name) == 0) {
            return r->vals[k];
        }
    }
    r->ok = 0; /* a name the compiler did not report */
    return 0;
}

static double ref_sum(ref_eval_t *r);

static double ref_atom(ref_eval_t *r)
{
    ws(r);
    char c = r->s[r->i];
    if (c == '-') {
        r->i++;
        return -ref_atom(r);
    }
    if (c == '(') {
        r->i++;
        double v = ref_sum(r);
        ws(r);
        if (r->s[r->i] != ')') {
            r->ok = 0;
        }
        r->i++;
        return v;
    }
    if (c == '"') {
        char name[2048];
        size_t n = 0;
        r->i++;
        for (;;) {
            if (r->s[r->i] == '\0') {
                r->ok = 0;
                return 0;
            }
            if (r->s[r->i] == '"') {
                if (r->s[r->i + 1] == '"') {
                    name[n++] = '"';
                    r->i += 2;
                    continue;
                }
                r->i++;
                break;
            }
            name[n++] = r->s[r->i++];
        }
        name[n] = '\0';
        return lookup(r, name);
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
        char name[2048];
        size_t n = 0;
        while ((r->s[r->i] >= 'a' && r->s[r->i] <= 'z') ||
               (r->s[r->i] >= 'A' && r->s[r->i] <= 'Z') ||
               (r->s[r->i] >= '0' && r->s[r->i] <= '9') || r->s[r->i] == '_' || r->s[r->i] == '.') {
            name[n++] = r->s[r->i++];
        }
        name[n] = '\0';
        return lookup(r, name);
    }
    char *end;
    double v = strtod(r->s + r->i, &end);
    if (end == r->s + r->i) {
        r->ok = 0;
        return 0;
    }
    r->i = (size_t)(end - r->s);
    return v;
}

static double ref_product(ref_eval_t *r)
{
    double v = ref_atom(r);
    for (;;) {
        ws(r);
        char c = r->s[r->i];
        if (c != '*' && c != '/') {
            return v;
        }
        r->i++;
        double w = ref_atom(r);
        v = c == '*' ? v * w : v / w;
    }
}

static double ref_sum(ref_eval_t *r)
{
    double v = ref_product(r);
    for (;;) {
        ws(r);
        char c = r->s[r->i];
        if (c != '+' && c != '-') {
            return v;
        }
        r->i++;
        double w = ref_product(r);
        v = c == '+' ? v + w : v - w;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2048) {
        return 0;
    }
    char src[2049];
    memcpy(src, data, size);
    src[size] = '\0'; /* text after an embedded NUL is not part of the C string */
    rcfd_expr_t *e;
    char err[256] = "";
    int rc = rcfd_expr_compile(src, &e, err, sizeof err);
    if (rc != 0) {
        if (rc != RCFD_ECONFIG || err[0] == '\0') {
            abort();
        }
        return 0;
    }
    size_t n = rcfd_expr_n_refs(e);
    if (n == 0 || n > RCFD_EXPR_MAX_REFS || strcmp(rcfd_expr_source(e), src) != 0) {
        abort();
    }
    for (size_t a = 0; a < n; a++) {
        if (rcfd_expr_ref(e, a) == NULL || rcfd_expr_ref(e, a)[0] == '\0') {
            abort();
        }
        for (size_t b = 0; b < a; b++) {
            if (strcmp(rcfd_expr_ref(e, a), rcfd_expr_ref(e, b)) == 0) {
                abort();
            }
        }
    }
    double vals[3][RCFD_EXPR_MAX_REFS];
    for (size_t k = 0; k < n; k++) {
        vals[0][k] = 1;
        vals[1][k] = 0;
        vals[2][k] = (double)(k + 1) * (k % 2 ? -0.37 : 1e3);
    }
    for (int set = 0; set < 3; set++) {
        double got;
        int erc = rcfd_expr_eval(e, vals[set], &got);
        ref_eval_t r = {src, 0, e, vals[set], 1};
        double want = ref_sum(&r);
        ws(&r);
        if (!r.ok || r.s[r.i] != '\0') {
            abort(); /* the compiler accepted what the grammar does not */
        }
        int want_ok = isfinite(want) && fabs(want) <= FLT_MAX;
        if (erc == 0) {
            if (!want_ok || memcmp(&got, &want, sizeof got) != 0) {
                /* -0.0 and 0.0 compare equal but differ in bytes; both are the same value */
                if (!(want_ok && got == want)) {
                    abort();
                }
            }
        } else if (erc != RCFD_ENONFINITE || want_ok) {
            abort();
        }
    }
    rcfd_expr_free(e);
    return 0;
}
