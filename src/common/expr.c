#include "common/expr.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"

/* Postfix instructions. */
enum { OP_CONST, OP_REF, OP_NEG, OP_ADD, OP_SUB, OP_MUL, OP_DIV };

struct rcfd_expr {
    char *src;
    uint8_t *ops;
    uint16_t *args; /* OP_CONST: index into consts; OP_REF: index into refs */
    size_t n_ops;
    double *consts;
    size_t n_consts;
    char **refs;
    size_t n_refs;
};

/* The parse tree, in a fixed array: the compiler's only scratch memory besides the result. */
typedef struct node {
    uint8_t op;
    int is_const; /* folded to a constant */
    double value; /* OP_CONST, or the folded value */
    int ref;      /* OP_REF */
    int left, right;
} node_t;

typedef struct parser {
    const char *s;
    size_t len, i;
    node_t nodes[RCFD_EXPR_MAX_OPS];
    size_t n_nodes;
    char *refs[RCFD_EXPR_MAX_REFS];
    size_t n_refs;
    int depth;
    char *errstr;
    size_t es;
} parser_t;

static int perr(parser_t *p, size_t at, const char *what)
{
    return rcfd_errf(RCFD_ECONFIG, p->errstr, p->es, "column %zu: %s", at + 1, what);
}

static void skip_ws(parser_t *p)
{
    while (p->i < p->len &&
           (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r')) {
        p->i++;
    }
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int new_node(parser_t *p, uint8_t op, int left, int right, size_t at)
{
    if (p->n_nodes == RCFD_EXPR_MAX_OPS) {
        return perr(p, at, "expression too long (at most 256 operands and operators)");
    }
    node_t *n = &p->nodes[p->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->left = left;
    n->right = right;
    n->ref = -1;
    return (int)p->n_nodes++;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = rcfd_malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int add_ref(parser_t *p, const char *name, size_t len, size_t at)
{
    for (size_t r = 0; r < p->n_refs; r++) {
        if (strlen(p->refs[r]) == len && memcmp(p->refs[r], name, len) == 0) {
            return (int)r;
        }
    }
    if (p->n_refs == RCFD_EXPR_MAX_REFS) {
        return perr(p, at, "too many distinct fields (at most 64)");
    }
    p->refs[p->n_refs] = dup_n(name, len);
    if (p->refs[p->n_refs] == NULL) {
        return rcfd_errf(RCFD_ENOMEM, p->errstr, p->es, "out of memory");
    }
    return (int)p->n_refs++;
}

static int parse_expr(parser_t *p);
static int enter(parser_t *p, size_t at);

static int parse_primary(parser_t *p)
{
    skip_ws(p);
    size_t at = p->i;
    if (p->i >= p->len) {
        return perr(p, at, "expected a number, a field or \"(\" at the end");
    }
    char c = p->s[p->i];
    if (c == '(') {
        int rc = enter(p, at);
        if (rc != 0) {
            return rc;
        }
        p->i++;
        int e = parse_expr(p);
        p->depth--;
        if (e < 0) {
            return e;
        }
        skip_ws(p);
        if (p->i >= p->len || p->s[p->i] != ')') {
            return perr(p, p->i, "expected \")\"");
        }
        p->i++;
        return e;
    }
    if (is_digit(c) || (c == '.' && p->i + 1 < p->len && is_digit(p->s[p->i + 1]))) {
        size_t j = p->i;
        while (j < p->len && is_digit(p->s[j])) {
            j++;
        }
        if (j < p->len && p->s[j] == '.') {
            j++;
            while (j < p->len && is_digit(p->s[j])) {
                j++;
            }
        }
        if (j < p->len && (p->s[j] == 'e' || p->s[j] == 'E')) {
            size_t k = j + 1;
            if (k < p->len && (p->s[k] == '+' || p->s[k] == '-')) {
                k++;
            }
            if (k >= p->len || !is_digit(p->s[k])) {
                return perr(p, j, "expected digits after the exponent");
            }
            while (k < p->len && is_digit(p->s[k])) {
                k++;
            }
            j = k;
        }
        if (j < p->len && (is_alpha(p->s[j]) || p->s[j] == '.')) {
            return perr(p, j, "unexpected character after a number");
        }
        char num[64];
        if (j - p->i >= sizeof num) {
            return perr(p, at, "number too long");
        }
        memcpy(num, p->s + p->i, j - p->i);
        num[j - p->i] = '\0';
        double v = strtod(num, NULL);
        if (!isfinite(v)) {
            return perr(p, at, "number out of range");
        }
        int n = new_node(p, OP_CONST, -1, -1, at);
        if (n < 0) {
            return n;
        }
        p->nodes[n].value = v;
        p->nodes[n].is_const = 1;
        p->i = j;
        return n;
    }
    if (is_alpha(c) || c == '"') {
        char name[RCFD_EXPR_MAX_LEN + 1];
        size_t nl = 0;
        if (c == '"') {
            size_t j = p->i + 1;
            for (;;) {
                if (j >= p->len) {
                    return perr(p, at, "unterminated quoted field name");
                }
                if (p->s[j] == '"') {
                    if (j + 1 < p->len && p->s[j + 1] == '"') {
                        name[nl++] = '"';
                        j += 2;
                        continue;
                    }
                    j++;
                    break;
                }
                if (p->s[j] == '\0') {
                    return perr(p, j, "NUL byte in a quoted field name");
                }
                name[nl++] = p->s[j++];
            }
            if (nl == 0) {
                return perr(p, at, "empty quoted field name");
            }
            p->i = j;
        } else {
            size_t j = p->i;
            while (j < p->len && (is_alpha(p->s[j]) || is_digit(p->s[j]) || p->s[j] == '.')) {
                name[nl++] = p->s[j++];
            }
            size_t k = j;
            while (k < p->len && (p->s[k] == ' ' || p->s[k] == '\t')) {
                k++;
            }
            if (k < p->len && p->s[k] == '(') {
                return perr(p, at,
                            "functions are not supported (only numbers, fields, + - * / "
                            "and parentheses)");
            }
            p->i = j;
        }
        int r = add_ref(p, name, nl, at);
        if (r < 0) {
            return r;
        }
        int n = new_node(p, OP_REF, -1, -1, at);
        if (n < 0) {
            return n;
        }
        p->nodes[n].ref = r;
        return n;
    }
    if (c == '\'') {
        return perr(p, at, "strings are not numbers (quote field names with \")");
    }
    if (c == ')') {
        return perr(p, at, "unexpected \")\"");
    }
    if (c == '+' || c == '*' || c == '/') {
        return perr(p, at, "expected a number, a field or \"(\" before the operator");
    }
    if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) {
        return perr(p, at, "unexpected byte");
    }
    char what[48];
    snprintf(what, sizeof what, "unexpected character '%c'", c);
    return perr(p, at, what);
}

static int enter(parser_t *p, size_t at)
{
    if (++p->depth > RCFD_EXPR_MAX_DEPTH) {
        return perr(p, at, "too deeply nested (at most 32 levels)");
    }
    return 0;
}

static int parse_unary(parser_t *p)
{
    skip_ws(p);
    size_t at = p->i;
    if (p->i >= p->len || p->s[p->i] != '-') {
        return parse_primary(p);
    }
    int rc = enter(p, at);
    if (rc != 0) {
        return rc;
    }
    p->i++;
    int inner = parse_unary(p);
    p->depth--;
    return inner < 0 ? inner : new_node(p, OP_NEG, inner, -1, at);
}

static int parse_binary(parser_t *p, int level)
{
    int left = level == 0 ? parse_binary(p, 1) : parse_unary(p);
    while (left >= 0) {
        skip_ws(p);
        if (p->i >= p->len) {
            break;
        }
        char c = p->s[p->i];
        uint8_t op;
        if (level == 0 && (c == '+' || c == '-')) {
            op = c == '+' ? OP_ADD : OP_SUB;
        } else if (level == 1 && (c == '*' || c == '/')) {
            op = c == '*' ? OP_MUL : OP_DIV;
        } else {
            break;
        }
        size_t at = p->i++;
        int right = level == 0 ? parse_binary(p, 1) : parse_unary(p);
        if (right < 0) {
            return right;
        }
        left = new_node(p, op, left, right, at);
    }
    return left;
}

static int parse_expr(parser_t *p)
{
    return parse_binary(p, 0);
}

/* Folds constant subtrees; returns the stack depth the subtree needs. *bad: a division by a
 * constant 0, or a constant part that overflows. */
static int fold(parser_t *p, int idx, int *bad)
{
    node_t *n = &p->nodes[idx];
    if (n->op == OP_CONST || n->op == OP_REF) {
        return 1;
    }
    int dl = fold(p, n->left, bad);
    if (n->op == OP_NEG) {
        node_t *l = &p->nodes[n->left];
        if (l->is_const) {
            n->is_const = 1;
            n->value = -l->value;
        }
        return dl;
    }
    int dr = fold(p, n->right, bad);
    node_t *l = &p->nodes[n->left], *r = &p->nodes[n->right];
    if (n->op == OP_DIV && r->is_const && r->value == 0) {
        *bad = 1;
    }
    if (l->is_const && r->is_const) {
        n->is_const = 1;
        switch (n->op) {
        case OP_ADD:
            n->value = l->value + r->value;
            break;
        case OP_SUB:
            n->value = l->value - r->value;
            break;
        case OP_MUL:
            n->value = l->value * r->value;
            break;
        default:
            n->value = r->value != 0 ? l->value / r->value : NAN;
            break;
        }
        *bad |= !isfinite(n->value);
    }
    return dl > dr + 1 ? dl : dr + 1;
}

static void emit(const parser_t *p, int idx, rcfd_expr_t *e)
{
    const node_t *n = &p->nodes[idx];
    if (n->is_const || n->op == OP_CONST) {
        e->args[e->n_ops] = (uint16_t)e->n_consts;
        e->consts[e->n_consts++] = n->value;
        e->ops[e->n_ops++] = OP_CONST;
        return;
    }
    if (n->op == OP_REF) {
        e->args[e->n_ops] = (uint16_t)n->ref;
        e->ops[e->n_ops++] = OP_REF;
        return;
    }
    emit(p, n->left, e);
    if (n->op != OP_NEG) {
        emit(p, n->right, e);
    }
    e->args[e->n_ops] = 0;
    e->ops[e->n_ops++] = n->op;
}

int rcfd_expr_compile(const char *src, rcfd_expr_t **out, char *errstr, size_t es)
{
    *out = NULL;
    size_t len = strlen(src);
    if (len > RCFD_EXPR_MAX_LEN) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "expression longer than %d bytes",
                         RCFD_EXPR_MAX_LEN);
    }
    parser_t *p = rcfd_calloc(1, sizeof *p);
    if (p == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    p->s = src;
    p->len = len;
    p->errstr = errstr;
    p->es = es;
    int rc = 0;
    rcfd_expr_t *e = NULL;
    skip_ws(p);
    if (p->i == p->len) {
        rc = rcfd_errf(RCFD_ECONFIG, errstr, es, "empty expression");
        goto done;
    }
    int root = parse_expr(p);
    if (root < 0) {
        rc = root;
        goto done;
    }
    skip_ws(p);
    if (p->i < p->len) {
        char c = p->s[p->i], what[48];
        if (c == ')') {
            snprintf(what, sizeof what, "unexpected \")\"");
        } else if (is_alpha(c) || is_digit(c) || c == '"' || c == '(' || c == '.') {
            snprintf(what, sizeof what, "expected an operator (+ - * /) or the end");
        } else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) {
            snprintf(what, sizeof what, "unexpected byte");
        } else {
            snprintf(what, sizeof what, "unexpected character '%c'", c);
        }
        rc = perr(p, p->i, what);
        goto done;
    }
    int bad = 0;
    int depth = fold(p, root, &bad);
    if (bad) {
        rc = rcfd_errf(RCFD_ECONFIG, errstr, es, "a constant part divides by 0 or overflows");
        goto done;
    }
    if (p->nodes[root].is_const) {
        rc = rcfd_errf(RCFD_ECONFIG, errstr, es,
                       "the expression reads no field (a constant is not a dimension)");
        goto done;
    }
    if (depth > RCFD_EXPR_MAX_DEPTH) {
        rc = rcfd_errf(RCFD_ECONFIG, errstr, es, "too deeply nested (at most %d levels)",
                       RCFD_EXPR_MAX_DEPTH);
        goto done;
    }
    e = rcfd_calloc(1, sizeof *e);
    if (e == NULL) {
        rc = RCFD_ENOMEM;
        goto done;
    }
    e->src = dup_n(src, len);
    e->ops = rcfd_malloc(p->n_nodes);
    e->args = rcfd_calloc(p->n_nodes, sizeof *e->args);
    e->consts = rcfd_calloc(p->n_nodes, sizeof *e->consts);
    e->refs = rcfd_calloc(p->n_refs, sizeof *e->refs);
    if (e->src == NULL || e->ops == NULL || e->args == NULL || e->consts == NULL ||
        e->refs == NULL) {
        rc = RCFD_ENOMEM;
        goto done;
    }
    emit(p, root, e);
    memcpy(e->refs, p->refs, p->n_refs * sizeof *e->refs);
    e->n_refs = p->n_refs;
    p->n_refs = 0; /* moved into e */
done:
    for (size_t r = 0; r < p->n_refs; r++) {
        rcfd_free(p->refs[r]);
    }
    rcfd_free(p);
    if (rc != 0) {
        if (rc == RCFD_ENOMEM) {
            rcfd_errf(rc, errstr, es, "out of memory");
        }
        rcfd_expr_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

const char *rcfd_expr_source(const rcfd_expr_t *e)
{
    return e->src;
}

size_t rcfd_expr_n_refs(const rcfd_expr_t *e)
{
    return e->n_refs;
}

const char *rcfd_expr_ref(const rcfd_expr_t *e, size_t i)
{
    return i < e->n_refs ? e->refs[i] : NULL;
}

int rcfd_expr_eval(const rcfd_expr_t *e, const double *refs, double *out)
{
    double st[RCFD_EXPR_MAX_DEPTH];
    size_t sp = 0;
    for (size_t i = 0; i < e->n_ops; i++) {
        switch (e->ops[i]) {
        case OP_CONST:
            st[sp++] = e->consts[e->args[i]];
            break;
        case OP_REF:
            st[sp++] = refs[e->args[i]];
            break;
        case OP_NEG:
            st[sp - 1] = -st[sp - 1];
            break;
        case OP_ADD:
            sp--;
            st[sp - 1] += st[sp];
            break;
        case OP_SUB:
            sp--;
            st[sp - 1] -= st[sp];
            break;
        case OP_MUL:
            sp--;
            st[sp - 1] *= st[sp];
            break;
        default:
            sp--;
            st[sp - 1] /= st[sp];
            break;
        }
    }
    *out = st[0];
    return isfinite(st[0]) && fabs(st[0]) <= FLT_MAX ? 0 : RCFD_ENONFINITE;
}

void rcfd_expr_free(rcfd_expr_t *e)
{
    if (e == NULL) {
        return;
    }
    for (size_t r = 0; r < e->n_refs; r++) {
        rcfd_free(e->refs[r]);
    }
    rcfd_free(e->refs);
    rcfd_free(e->src);
    rcfd_free(e->ops);
    rcfd_free(e->args);
    rcfd_free(e->consts);
    rcfd_free(e);
}
