#include "kda/sql.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"

/* ---- arena: every node and string of an app, freed at once ---- */

typedef struct block {
    struct block *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
} block_t;

struct kda_arena {
    block_t *head;
};

void *kda_alloc(kda_app_t *app, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    block_t *b = app->arena->head;
    if (b == NULL || b->size - b->used < size) {
        size_t cap = size > 16384 ? size : 16384;
        block_t *nb = rcfd_malloc(sizeof *nb + cap);
        if (nb == NULL) {
            return NULL;
        }
        nb->next = b;
        nb->used = 0;
        nb->size = cap;
        app->arena->head = b = nb;
    }
    void *p = b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

char *kda_strdup(kda_app_t *app, const char *s, size_t n)
{
    char *d = kda_alloc(app, n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

void kda_app_free(kda_app_t *app)
{
    if (app == NULL) {
        return;
    }
    if (app->arena != NULL) {
        for (block_t *b = app->arena->head, *n; b != NULL; b = n) {
            n = b->next;
            rcfd_free(b);
        }
        rcfd_free(app->arena);
    }
    rcfd_free(app);
}

/* ---- tokens ---- */

typedef enum { T_EOF, T_IDENT, T_QIDENT, T_NUMBER, T_STRING, T_PUNCT } tok_type_t;

typedef struct tok {
    tok_type_t type;
    kda_pos_t pos;
    const char *text; /* IDENT: upper case; QIDENT, STRING: unquoted; NUMBER, PUNCT: as written */
    const char *raw;  /* the source bytes, for messages */
    size_t raw_len;
    double num;
} tok_t;

typedef struct parser {
    kda_app_t *app;
    const char *s;
    size_t len;
    tok_t *toks;
    size_t n_toks, cap_toks, i;
    const char *construct; /* what is being parsed, for messages: "CREATE PUMP \"P\"" */
    char *errstr;
    size_t es;
    int oom;
} parser_t;

static int fail_at(parser_t *p, kda_pos_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

int kda_failv(char *errstr, size_t es, const char *construct, kda_pos_t pos, const char *fmt,
              va_list ap)
{
    char msg[448];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (construct != NULL) {
        return rcfd_errf(RCFD_EMALFORMED, errstr, es, "%u:%u: %s (in %s)", pos.line, pos.col, msg,
                         construct);
    }
    return rcfd_errf(RCFD_EMALFORMED, errstr, es, "%u:%u: %s", pos.line, pos.col, msg);
}

static int fail_at(parser_t *p, kda_pos_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = kda_failv(p->errstr, p->es, p->construct, pos, fmt, ap);
    va_end(ap);
    return rc;
}

static int push_tok(parser_t *p, const tok_t *t)
{
    if (p->n_toks == p->cap_toks) {
        size_t cap = p->cap_toks ? p->cap_toks * 2 : 256;
        tok_t *n = rcfd_realloc(p->toks, cap * sizeof *n);
        if (n == NULL) {
            return RCFD_ENOMEM;
        }
        p->toks = n;
        p->cap_toks = cap;
    }
    p->toks[p->n_toks++] = *t;
    return 0;
}

/* Decodes the UTF-8 sequence at s (for messages about characters SQL does not have). */
static unsigned long utf8_at(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80 || n < 2) {
        return s[0];
    }
    int len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
    unsigned long c = s[0] & (0x3f >> (len - 1));
    for (int k = 1; k < len && (size_t)k < n; k++) {
        c = (c << 6) | (s[k] & 0x3f);
    }
    return c;
}

static int tokenize(parser_t *p)
{
    const char *s = p->s;
    size_t n = p->len, i = 0;
    kda_pos_t pos = {1, 1};
#define ADVANCE()                                                                                  \
    do {                                                                                           \
        if (s[i] == '\n') {                                                                        \
            pos.line++;                                                                            \
            pos.col = 1;                                                                           \
        } else if (((unsigned char)s[i] & 0xc0) != 0x80) {                                         \
            pos.col++;                                                                             \
        }                                                                                          \
        i++;                                                                                       \
    } while (0)
    while (i < n) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f') {
            ADVANCE();
            continue;
        }
        if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            while (i < n && s[i] != '\n') {
                ADVANCE();
            }
            continue;
        }
        if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            kda_pos_t start = pos;
            ADVANCE();
            ADVANCE();
            while (i < n && !(s[i] == '*' && i + 1 < n && s[i + 1] == '/')) {
                ADVANCE();
            }
            if (i >= n) {
                return fail_at(p, start, "unterminated /* comment");
            }
            ADVANCE();
            ADVANCE();
            continue;
        }
        tok_t t = {0};
        t.pos = pos;
        t.raw = s + i;
        size_t start = i;
        if (isalpha((unsigned char)c) || c == '_') {
            t.type = T_IDENT;
            while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '$')) {
                ADVANCE();
            }
            char *u = kda_strdup(p->app, s + start, i - start);
            if (u == NULL) {
                return RCFD_ENOMEM;
            }
            for (char *q = u; *q; q++) {
                *q = (char)toupper((unsigned char)*q);
            }
            t.text = u;
        } else if (c == '"' || c == '\'') {
            t.type = c == '"' ? T_QIDENT : T_STRING;
            /* find the end first, so the copy takes only the bytes it needs */
            size_t j = i + 1, bl = 0;
            for (;;) {
                if (j >= n) {
                    return fail_at(p, t.pos, "unterminated %s",
                                   c == '"' ? "quoted identifier" : "string");
                }
                if (s[j] == c) {
                    if (j + 1 < n && s[j + 1] == c) {
                        j += 2;
                        bl++;
                        continue;
                    }
                    break;
                }
                if (s[j] == '\0') {
                    return fail_at(p, t.pos, "NUL byte inside a %s",
                                   c == '"' ? "quoted identifier" : "string");
                }
                j++;
                bl++;
            }
            if (c == '"' && bl == 0) {
                return fail_at(p, t.pos, "empty quoted identifier");
            }
            char *buf = kda_alloc(p->app, bl + 1);
            if (buf == NULL) {
                return RCFD_ENOMEM;
            }
            ADVANCE();
            bl = 0;
            while (!(s[i] == c && !(i + 1 < n && s[i + 1] == c))) {
                if (s[i] == c) {
                    ADVANCE();
                }
                buf[bl++] = s[i];
                ADVANCE();
            }
            ADVANCE();
            buf[bl] = '\0';
            t.text = buf;
        } else if (isdigit((unsigned char)c) ||
                   (c == '.' && i + 1 < n && isdigit((unsigned char)s[i + 1]))) {
            t.type = T_NUMBER;
            while (i < n && isdigit((unsigned char)s[i])) {
                ADVANCE();
            }
            if (i < n && s[i] == '.') {
                ADVANCE();
                while (i < n && isdigit((unsigned char)s[i])) {
                    ADVANCE();
                }
            }
            if (i < n && (s[i] == 'e' || s[i] == 'E')) {
                ADVANCE();
                if (i < n && (s[i] == '+' || s[i] == '-')) {
                    ADVANCE();
                }
                if (i >= n || !isdigit((unsigned char)s[i])) {
                    return fail_at(p, pos, "expected digits after the exponent of a number");
                }
                while (i < n && isdigit((unsigned char)s[i])) {
                    ADVANCE();
                }
            }
            if (i < n && (isalpha((unsigned char)s[i]) || s[i] == '_')) {
                return fail_at(p, pos, "unexpected letter after a number");
            }
            char *txt = kda_strdup(p->app, s + start, i - start);
            if (txt == NULL) {
                return RCFD_ENOMEM;
            }
            t.text = txt;
            t.num = strtod(txt, NULL);
            if (!isfinite(t.num)) {
                return fail_at(p, t.pos, "number %s is out of range", txt);
            }
        } else {
            static const char *const two[] = {"<=", ">=", "<>", "!=", "||", NULL};
            size_t w = 0;
            for (int k = 0; two[k] != NULL; k++) {
                if (i + 1 < n && s[i] == two[k][0] && s[i + 1] == two[k][1]) {
                    w = 2;
                }
            }
            if (w == 0 && strchr("(),;.*+-/=<>", c) != NULL && c != '\0') {
                w = 1;
            }
            if (w == 0) {
                unsigned long cp = utf8_at((const unsigned char *)s + i, n - i);
                if (cp >= 0x80) {
                    return fail_at(p, pos, "unexpected character U+%04lX%s", cp,
                                   cp == 0x2013 || cp == 0x2014 || cp == 0x2212
                                       ? " (a dash pasted from a document? comments start with --)"
                                       : "");
                }
                if (isprint((unsigned char)c)) {
                    return fail_at(p, pos, "unexpected character '%c'", c);
                }
                return fail_at(p, pos, "unexpected byte 0x%02x", (unsigned char)c);
            }
            t.type = T_PUNCT;
            for (size_t k = 0; k < w; k++) {
                ADVANCE();
            }
            t.text = kda_strdup(p->app, s + start, w);
            if (t.text == NULL) {
                return RCFD_ENOMEM;
            }
        }
        t.raw_len = i - start;
        if (push_tok(p, &t) != 0) {
            return RCFD_ENOMEM;
        }
    }
#undef ADVANCE
    tok_t eof = {0};
    eof.type = T_EOF;
    eof.pos = pos;
    eof.text = "";
    return push_tok(p, &eof);
}

/* ---- parser helpers ---- */

static const tok_t *peek(const parser_t *p)
{
    return &p->toks[p->i];
}

static const tok_t *peek_at(const parser_t *p, size_t k)
{
    size_t j = p->i + k;
    return &p->toks[j < p->n_toks ? j : p->n_toks - 1];
}

static const tok_t *next(parser_t *p)
{
    const tok_t *t = &p->toks[p->i];
    if (t->type != T_EOF) {
        p->i++;
    }
    return t;
}

static int is_kw(const tok_t *t, const char *kw)
{
    return t->type == T_IDENT && strcmp(t->text, kw) == 0;
}

static int is_punct(const tok_t *t, const char *pu)
{
    return t->type == T_PUNCT && strcmp(t->text, pu) == 0;
}

/* How a token reads in a message. */
static const char *shown(parser_t *p, const tok_t *t)
{
    if (t->type == T_EOF) {
        return "the end of the file";
    }
    size_t n = t->raw_len > 40 ? 40 : t->raw_len;
    char *b = kda_alloc(p->app, n + 8);
    if (b == NULL) {
        return "a token";
    }
    snprintf(b, n + 8, "\"%.*s%s\"", (int)n, t->raw, t->raw_len > 40 ? "..." : "");
    return b;
}

static const char *neg_text(parser_t *p, const char *text)
{
    size_t n = strlen(text);
    char *b = kda_alloc(p->app, n + 2);
    if (b != NULL) {
        b[0] = '-';
        memcpy(b + 1, text, n + 1);
    }
    return b;
}

static int expect_kw(parser_t *p, const char *kw, const char *where)
{
    const tok_t *t = peek(p);
    if (!is_kw(t, kw)) {
        return fail_at(p, t->pos, "expected %s %s, found %s", kw, where, shown(p, t));
    }
    next(p);
    return 0;
}

static int expect_punct(parser_t *p, const char *pu, const char *where)
{
    const tok_t *t = peek(p);
    if (!is_punct(t, pu)) {
        return fail_at(p, t->pos, "expected \"%s\" %s, found %s", pu, where, shown(p, t));
    }
    next(p);
    return 0;
}

/* SQL keywords that cannot be unquoted names here (so "FROM x WHERE" is not an alias WHERE). */
static int reserved(const char *w)
{
    static const char *const kw[] = {
        "SELECT",    "STREAM", "FROM",   "WHERE",  "AND",  "OR",     "NOT",  "AS",    "ORDER",
        "GROUP",     "BY",     "JOIN",   "INNER",  "LEFT", "RIGHT",  "FULL", "CROSS", "ON",
        "UNION",     "WINDOW", "HAVING", "INSERT", "INTO", "CREATE", "PUMP", "TABLE", "CURSOR",
        "PARTITION", "OVER",   "LIMIT",  "VALUES", "CAST", NULL};
    for (int i = 0; kw[i] != NULL; i++) {
        if (strcmp(kw[i], w) == 0) {
            return 1;
        }
    }
    return 0;
}

static int parse_name(parser_t *p, const char **out, kda_pos_t *pos, const char *what)
{
    const tok_t *t = peek(p);
    if (t->type == T_QIDENT || (t->type == T_IDENT && !reserved(t->text))) {
        next(p);
        *out = t->text;
        if (pos != NULL) {
            *pos = t->pos;
        }
        return 0;
    }
    return fail_at(p, t->pos, "expected %s, found %s", what, shown(p, t));
}

/* ---- the statements ---- */

int kda_type_numeric(const char *type)
{
    static const char *const num[] = {"DOUBLE",   "INTEGER", "INT",    "FLOAT", "TINYINT",
                                      "SMALLINT", "REAL",    "BIGINT", NULL};
    for (int i = 0; num[i] != NULL; i++) {
        if (strcmp(num[i], type) == 0) {
            return 1;
        }
    }
    return 0;
}

const char *kda_func_sql_name(kda_func_t f)
{
    switch (f) {
    case KF_RCF:
        return "RANDOM_CUT_FOREST";
    case KF_RCFX:
        return "RANDOM_CUT_FOREST_WITH_EXPLANATION";
    case KF_HOTSPOTS:
        return "HOTSPOTS";
    default:
        return "";
    }
}

/* Reads a CREATE statement's name into st and names the construct after it, for the errors that
 * follow ("CREATE STREAM \"x\"": ...). */
static int parse_construct_name(parser_t *p, kda_stmt_t *st, const char *create, const char *what)
{
    int rc = parse_name(p, &st->name, &st->name_pos, what);
    if (rc != 0) {
        return rc;
    }
    size_t n = strlen(create) + strlen(st->name) + 4;
    char *c = kda_alloc(p->app, n);
    if (c == NULL) {
        return RCFD_ENOMEM;
    }
    snprintf(c, n, "%s \"%s\"", create, st->name);
    p->construct = c;
    return 0;
}

static int parse_stream(parser_t *p, kda_stmt_t *st)
{
    int rc = parse_construct_name(p, st, "CREATE STREAM", "the stream's name");
    if (rc != 0) {
        return rc;
    }
    if ((rc = expect_punct(p, "(", "before the stream's columns")) != 0) {
        return rc;
    }
    size_t cap = 8;
    st->cols = kda_alloc(p->app, cap * sizeof *st->cols);
    for (;;) {
        if (st->cols == NULL) {
            return RCFD_ENOMEM;
        }
        kda_column_t col = {0};
        if ((rc = parse_name(p, &col.name, &col.pos, "a column name")) != 0) {
            return rc;
        }
        const tok_t *t = peek(p);
        if (t->type != T_IDENT) {
            return fail_at(p, t->pos, "expected the type of column \"%s\", found %s", col.name,
                           shown(p, t));
        }
        next(p);
        col.type = t->text;
        if (strcmp(col.type, "DOUBLE") == 0 && is_kw(peek(p), "PRECISION")) {
            next(p);
        }
        if (is_punct(peek(p), "(")) {
            next(p);
            for (int k = 0;; k++) {
                const tok_t *d = peek(p);
                if (d->type != T_NUMBER || k > 1) {
                    return fail_at(p, d->pos,
                                   "expected the length or precision of type %s, found %s",
                                   col.type, shown(p, d));
                }
                next(p);
                if (!is_punct(peek(p), ",")) {
                    break;
                }
                next(p);
            }
            if ((rc = expect_punct(p, ")", "after the type's length")) != 0) {
                return rc;
            }
        }
        if (is_kw(peek(p), "NOT") && is_kw(peek_at(p, 1), "NULL")) {
            next(p);
            next(p);
        }
        col.numeric = kda_type_numeric(col.type);
        for (size_t k = 0; k < st->n_cols; k++) {
            if (strcmp(st->cols[k].name, col.name) == 0) {
                return fail_at(p, col.pos, "column \"%s\" is declared twice", col.name);
            }
        }
        if (st->n_cols == cap) {
            kda_column_t *nc = kda_alloc(p->app, 2 * cap * sizeof *nc);
            if (nc == NULL) {
                return RCFD_ENOMEM;
            }
            memcpy(nc, st->cols, cap * sizeof *nc);
            st->cols = nc;
            cap *= 2;
        }
        st->cols[st->n_cols++] = col;
        if (is_punct(peek(p), ",")) {
            next(p);
            continue;
        }
        break;
    }
    if ((rc = expect_punct(p, ")", "after the stream's columns")) != 0) {
        return rc;
    }
    if (is_kw(peek(p), "DESCRIPTION")) {
        next(p);
        if (peek(p)->type != T_STRING) {
            return fail_at(p, peek(p)->pos, "expected a string after DESCRIPTION");
        }
        next(p);
    }
    return 0;
}

static int parse_query(parser_t *p, kda_query_t **out, int depth);

static int parse_expr(parser_t *p, kda_expr_t **out, int depth);

static int new_expr(parser_t *p, kda_expr_kind_t kind, kda_pos_t pos, kda_expr_t **out)
{
    kda_expr_t *e = kda_alloc(p->app, sizeof *e);
    if (e == NULL) {
        return RCFD_ENOMEM;
    }
    e->kind = kind;
    e->pos = pos;
    *out = e;
    return 0;
}

static int parse_primary(parser_t *p, kda_expr_t **out, int depth)
{
    const tok_t *t = peek(p);
    if (depth > 64) {
        return fail_at(p, t->pos, "expression nested too deeply");
    }
    if (t->type == T_NUMBER) {
        next(p);
        int rc = new_expr(p, KX_NUM, t->pos, out);
        if (rc == 0) {
            (*out)->num = t->num;
            (*out)->text = t->text;
        }
        return rc;
    }
    if (is_punct(t, "(")) {
        next(p);
        int rc = parse_expr(p, out, depth + 1);
        return rc ? rc : expect_punct(p, ")", "to close the parenthesis");
    }
    if (is_punct(t, "-")) {
        next(p);
        kda_expr_t *inner;
        int rc = parse_primary(p, &inner, depth + 1);
        if (rc == 0 && (rc = new_expr(p, KX_NEG, t->pos, out)) == 0) {
            (*out)->a = inner;
        }
        return rc;
    }
    if (is_kw(t, "CAST") && is_punct(peek_at(p, 1), "(")) {
        next(p);
        next(p);
        int rc = parse_expr(p, out, depth + 1);
        if (rc != 0 || (rc = expect_kw(p, "AS", "in CAST(... AS type)")) != 0) {
            return rc;
        }
        const tok_t *ty = peek(p);
        if (ty->type != T_IDENT || !kda_type_numeric(ty->text)) {
            return fail_at(p, ty->pos,
                           "CAST to %s is not supported (only to the numeric types "
                           "RANDOM_CUT_FOREST reads)",
                           shown(p, ty));
        }
        next(p);
        if (is_kw(peek(p), "PRECISION")) {
            next(p);
        }
        return expect_punct(p, ")", "to close CAST(");
    }
    if (t->type == T_STRING) {
        return fail_at(p, t->pos, "string literal %s in an expression: rcfd computes only numbers",
                       shown(p, t));
    }
    if (t->type == T_IDENT && is_punct(peek_at(p, 1), "(")) {
        return fail_at(p, t->pos,
                       "function %s() is not supported in an expression (only + - * "
                       "/ and CAST over numeric columns)",
                       t->text);
    }
    if (t->type == T_IDENT && strcmp(t->text, "CASE") == 0) {
        return fail_at(p, t->pos, "CASE is not supported in an expression");
    }
    if (t->type == T_IDENT || t->type == T_QIDENT) {
        if (t->type == T_IDENT && reserved(t->text)) {
            return fail_at(p, t->pos, "expected a column or a number, found %s", shown(p, t));
        }
        next(p);
        const char *qual = NULL, *name = t->text;
        if (is_punct(peek(p), ".")) {
            next(p);
            const tok_t *c = peek(p);
            if (c->type != T_IDENT && c->type != T_QIDENT) {
                return fail_at(p, c->pos, "expected a column after \"%s.\", found %s", t->text,
                               shown(p, c));
            }
            next(p);
            qual = name;
            name = c->text;
        }
        int rc = new_expr(p, KX_COL, t->pos, out);
        if (rc == 0) {
            (*out)->qual = qual;
            (*out)->name = name;
        }
        return rc;
    }
    return fail_at(p, t->pos, "expected a column or a number, found %s", shown(p, t));
}

static int parse_term(parser_t *p, kda_expr_t **out, int depth)
{
    int rc = parse_primary(p, out, depth);
    while (rc == 0 && (is_punct(peek(p), "*") || is_punct(peek(p), "/"))) {
        const tok_t *op = next(p);
        kda_expr_t *r, *n;
        if ((rc = parse_primary(p, &r, depth)) != 0 ||
            (rc = new_expr(p, op->text[0] == '*' ? KX_MUL : KX_DIV, op->pos, &n)) != 0) {
            return rc;
        }
        n->a = *out;
        n->b = r;
        *out = n;
    }
    return rc;
}

static int parse_expr(parser_t *p, kda_expr_t **out, int depth)
{
    int rc = parse_term(p, out, depth);
    while (rc == 0 && (is_punct(peek(p), "+") || is_punct(peek(p), "-"))) {
        const tok_t *op = next(p);
        kda_expr_t *r, *n;
        if ((rc = parse_term(p, &r, depth)) != 0 ||
            (rc = new_expr(p, op->text[0] == '+' ? KX_ADD : KX_SUB, op->pos, &n)) != 0) {
            return rc;
        }
        n->a = *out;
        n->b = r;
        *out = n;
    }
    if (rc == 0 && is_punct(peek(p), "||")) {
        return fail_at(p, peek(p)->pos, "string concatenation (||) is not supported");
    }
    return rc;
}

static int parse_items(parser_t *p, kda_query_t *q, int depth)
{
    size_t cap = 8;
    q->items = kda_alloc(p->app, cap * sizeof *q->items);
    if (q->items == NULL) {
        return RCFD_ENOMEM;
    }
    for (;;) {
        kda_item_t it = {0};
        const tok_t *t = peek(p);
        it.pos = t->pos;
        if (is_punct(t, "*")) {
            next(p);
            it.star = 1;
        } else if ((t->type == T_IDENT || t->type == T_QIDENT) && is_punct(peek_at(p, 1), ".") &&
                   is_punct(peek_at(p, 2), "*")) {
            it.star = 1;
            it.qual = t->text;
            next(p);
            next(p);
            next(p);
        } else {
            int rc = parse_expr(p, &it.expr, depth);
            if (rc != 0) {
                return rc;
            }
            if (is_kw(peek(p), "AS")) {
                next(p);
                if ((rc = parse_name(p, &it.alias, NULL, "a column name after AS")) != 0) {
                    return rc;
                }
            } else if (peek(p)->type == T_QIDENT ||
                       (peek(p)->type == T_IDENT && !reserved(peek(p)->text))) {
                it.alias = next(p)->text;
            }
        }
        if (q->n_items == cap) {
            kda_item_t *ni = kda_alloc(p->app, 2 * cap * sizeof *ni);
            if (ni == NULL) {
                return RCFD_ENOMEM;
            }
            memcpy(ni, q->items, cap * sizeof *ni);
            q->items = ni;
            cap *= 2;
        }
        q->items[q->n_items++] = it;
        if (!is_punct(peek(p), ",")) {
            return 0;
        }
        next(p);
    }
}

static int parse_operand(parser_t *p, const char **qual, const char **col, double *num,
                         const char **text, int *is_num)
{
    const tok_t *t = peek(p);
    int neg = 0;
    if (is_punct(t, "-") && peek_at(p, 1)->type == T_NUMBER) {
        neg = 1;
        next(p);
        t = peek(p);
    }
    if (t->type == T_NUMBER) {
        next(p);
        *is_num = 1;
        *num = neg ? -t->num : t->num;
        *text = neg ? neg_text(p, t->text) : t->text;
        return *text == NULL ? RCFD_ENOMEM : 0;
    }
    if (t->type == T_IDENT || t->type == T_QIDENT) {
        if (t->type == T_IDENT && reserved(t->text)) {
            return fail_at(p, t->pos, "expected a column or a number, found %s", shown(p, t));
        }
        if (is_punct(peek_at(p, 1), "(")) {
            return fail_at(p, t->pos,
                           "function %s() in WHERE is not supported (rcfd filters on "
                           "ANOMALY_SCORE against a number)",
                           t->text);
        }
        next(p);
        *is_num = 0;
        *qual = NULL;
        *col = t->text;
        if (is_punct(peek(p), ".")) {
            next(p);
            const tok_t *c = peek(p);
            if (c->type != T_IDENT && c->type != T_QIDENT) {
                return fail_at(p, c->pos, "expected a column after \"%s.\"", t->text);
            }
            next(p);
            *qual = t->text;
            *col = c->text;
        }
        if (is_punct(peek(p), "+") || is_punct(peek(p), "-") || is_punct(peek(p), "*") ||
            is_punct(peek(p), "/")) {
            return fail_at(p, peek(p)->pos,
                           "arithmetic in WHERE is not supported (compare a column with a number)");
        }
        return 0;
    }
    if (t->type == T_STRING) {
        return fail_at(p, t->pos,
                       "comparison with the string %s in WHERE is not supported (rcfd "
                       "filters on ANOMALY_SCORE against a number)",
                       shown(p, t));
    }
    return fail_at(p, t->pos, "expected a column or a number in WHERE, found %s", shown(p, t));
}

static int parse_where(parser_t *p, kda_query_t *q)
{
    size_t cap = 4;
    q->where = kda_alloc(p->app, cap * sizeof *q->where);
    if (q->where == NULL) {
        return RCFD_ENOMEM;
    }
    int parens = 0;
    for (;;) {
        while (is_punct(peek(p), "(")) {
            next(p);
            parens++;
        }
        if (is_kw(peek(p), "NOT")) {
            return fail_at(p, peek(p)->pos, "NOT in WHERE is not supported");
        }
        kda_pred_t pr = {0};
        pr.pos = peek(p)->pos;
        const char *lq = NULL, *lc = NULL, *ltext = NULL, *rq = NULL, *rcol = NULL, *rtext = NULL;
        double lv = 0, rv = 0;
        int lnum = 0, rnum = 0;
        int rc = parse_operand(p, &lq, &lc, &lv, &ltext, &lnum);
        if (rc != 0) {
            return rc;
        }
        const tok_t *op = peek(p);
        static const char *const ops[] = {">", ">=", "<", "<=", "=", "<>", "!=", NULL};
        int o = -1;
        for (int k = 0; ops[k] != NULL; k++) {
            if (is_punct(op, ops[k])) {
                o = k == 6 ? KDA_NE : k;
            }
        }
        if (o < 0) {
            if (is_kw(op, "IS") || is_kw(op, "LIKE") || is_kw(op, "IN") || is_kw(op, "BETWEEN")) {
                return fail_at(p, op->pos, "%s in WHERE is not supported", op->text);
            }
            return fail_at(p, op->pos, "expected a comparison (> >= < <= = <>) in WHERE, found %s",
                           shown(p, op));
        }
        next(p);
        if ((rc = parse_operand(p, &rq, &rcol, &rv, &rtext, &rnum)) != 0) {
            return rc;
        }
        if (lnum == rnum) {
            return fail_at(p, pr.pos,
                           lnum ? "WHERE compares two numbers"
                                : "WHERE compares two columns (rcfd filters a column "
                                  "against a number)");
        }
        if (lnum) { /* 3 < ANOMALY_SCORE is ANOMALY_SCORE > 3 */
            static const int flip[] = {KDA_LT, KDA_LE, KDA_GT, KDA_GE, KDA_EQ, KDA_NE};
            pr.qual = rq;
            pr.col = rcol;
            pr.op = flip[o];
            pr.value = lv;
            pr.text = ltext;
        } else {
            pr.qual = lq;
            pr.col = lc;
            pr.op = o;
            pr.value = rv;
            pr.text = rtext;
        }
        while (parens > 0 && is_punct(peek(p), ")")) {
            next(p);
            parens--;
        }
        if (q->n_where == cap) {
            kda_pred_t *nw = kda_alloc(p->app, 2 * cap * sizeof *nw);
            if (nw == NULL) {
                return RCFD_ENOMEM;
            }
            memcpy(nw, q->where, cap * sizeof *nw);
            q->where = nw;
            cap *= 2;
        }
        q->where[q->n_where++] = pr;
        if (is_kw(peek(p), "OR")) {
            return fail_at(p, peek(p)->pos,
                           "OR in WHERE is not supported (an output filter is one "
                           "lower bound on ANOMALY_SCORE)");
        }
        if (!is_kw(peek(p), "AND")) {
            break;
        }
        next(p);
    }
    if (parens != 0) {
        return fail_at(p, peek(p)->pos, "expected \")\" in WHERE, found %s", shown(p, peek(p)));
    }
    return 0;
}

static int parse_args(parser_t *p, kda_query_t *q)
{
    while (is_punct(peek(p), ",")) {
        next(p);
        const tok_t *t = peek(p);
        kda_arg_t a = {0};
        a.pos = t->pos;
        int neg = 0;
        if (is_punct(t, "-") && peek_at(p, 1)->type == T_NUMBER) {
            neg = 1;
            next(p);
            t = peek(p);
        }
        if (t->type == T_NUMBER) {
            a.num = neg ? -t->num : t->num;
            a.text = neg ? neg_text(p, t->text) : t->text;
            if (a.text == NULL) {
                return RCFD_ENOMEM;
            }
        } else if (is_kw(t, "TRUE") || is_kw(t, "FALSE")) {
            a.is_bool = 1;
            a.bval = is_kw(t, "TRUE");
            a.text = t->text;
        } else {
            return fail_at(p, t->pos,
                           "expected a number or TRUE/FALSE as argument %zu of %s, found "
                           "%s",
                           q->n_args + 2, q->func_name, shown(p, t));
        }
        next(p);
        if (q->n_args == KDA_MAX_ARGS) {
            return fail_at(p, a.pos, "too many arguments to %s", q->func_name);
        }
        q->args[q->n_args++] = a;
    }
    return 0;
}

static int parse_from(parser_t *p, kda_query_t *q, int depth)
{
    const tok_t *t = peek(p);
    if (is_kw(t, "TABLE")) {
        next(p);
        int rc = expect_punct(p, "(", "after TABLE");
        if (rc != 0) {
            return rc;
        }
        const tok_t *f = peek(p);
        if (f->type != T_IDENT) {
            return fail_at(p, f->pos, "expected a table function after TABLE(, found %s",
                           shown(p, f));
        }
        q->func_pos = f->pos;
        q->func_name = f->text;
        if (strcmp(f->text, "RANDOM_CUT_FOREST") == 0) {
            q->func = KF_RCF;
        } else if (strcmp(f->text, "RANDOM_CUT_FOREST_WITH_EXPLANATION") == 0) {
            q->func = KF_RCFX;
        } else if (strcmp(f->text, "HOTSPOTS") == 0) {
            q->func = KF_HOTSPOTS;
        } else {
            return fail_at(p, f->pos,
                           "table function %s is not supported (rcfd imports "
                           "RANDOM_CUT_FOREST, RANDOM_CUT_FOREST_WITH_EXPLANATION and "
                           "HOTSPOTS)",
                           f->text);
        }
        next(p);
        if ((rc = expect_punct(p, "(", "after the function's name")) != 0 ||
            (rc = expect_kw(p, "CURSOR", "as the function's first argument")) != 0 ||
            (rc = expect_punct(p, "(", "after CURSOR")) != 0 ||
            (rc = parse_query(p, &q->cursor, depth + 1)) != 0 ||
            (rc = expect_punct(p, ")", "to close CURSOR(")) != 0 || (rc = parse_args(p, q)) != 0 ||
            (rc = expect_punct(p, ")", "after the function's arguments")) != 0 ||
            (rc = expect_punct(p, ")", "to close TABLE(")) != 0) {
            return rc;
        }
    } else {
        int rc = parse_name(p, &q->from, &q->from_pos, "a stream after FROM");
        if (rc != 0) {
            return rc;
        }
    }
    if (is_kw(peek(p), "AS")) {
        next(p);
        return parse_name(p, &q->alias, NULL, "an alias after AS");
    }
    if (peek(p)->type == T_QIDENT || (peek(p)->type == T_IDENT && !reserved(peek(p)->text))) {
        q->alias = next(p)->text;
    }
    return 0;
}

static int parse_query(parser_t *p, kda_query_t **out, int depth)
{
    if (depth > 8) {
        return fail_at(p, peek(p)->pos, "queries nested too deeply");
    }
    kda_query_t *q = kda_alloc(p->app, sizeof *q);
    if (q == NULL) {
        return RCFD_ENOMEM;
    }
    *out = q;
    q->pos = peek(p)->pos;
    int rc = expect_kw(p, "SELECT", "to start the query");
    if (rc != 0) {
        return rc;
    }
    if (is_kw(peek(p), "STREAM")) {
        next(p);
    }
    if (is_kw(peek(p), "DISTINCT") || is_kw(peek(p), "ALL")) {
        return fail_at(p, peek(p)->pos, "SELECT %s is not supported", peek(p)->text);
    }
    if ((rc = parse_items(p, q, depth)) != 0 ||
        (rc = expect_kw(p, "FROM", "after the columns")) != 0 ||
        (rc = parse_from(p, q, depth)) != 0) {
        return rc;
    }
    const tok_t *t = peek(p);
    if (is_kw(t, "JOIN") || is_kw(t, "INNER") || is_kw(t, "LEFT") || is_kw(t, "RIGHT") ||
        is_kw(t, "FULL") || is_kw(t, "CROSS") || is_punct(t, ",")) {
        return fail_at(p, t->pos, "joins are not supported (a pipeline reads one stream)");
    }
    if (is_kw(t, "WHERE")) {
        next(p);
        if ((rc = parse_where(p, q)) != 0) {
            return rc;
        }
        t = peek(p);
    }
    if (is_kw(t, "GROUP")) {
        return fail_at(p, t->pos,
                       "GROUP BY is not supported (windowed aggregation has no rcfd "
                       "equivalent; aggregate before rcfd)");
    }
    if (is_kw(t, "WINDOW") || is_kw(t, "HAVING") || is_kw(t, "UNION") || is_kw(t, "LIMIT")) {
        return fail_at(p, t->pos, "%s is not supported", t->text);
    }
    if (is_kw(t, "ORDER") && is_kw(peek_at(p, 1), "BY")) {
        q->order_by = 1;
        q->order_pos = t->pos;
        next(p);
        next(p);
        /* Skipped: rcfd writes records in arrival order. Up to the end of this query. */
        int parens = 0;
        for (;;) {
            const tok_t *u = peek(p);
            if (u->type == T_EOF || (parens == 0 && (is_punct(u, ";") || is_punct(u, ")")))) {
                break;
            }
            parens += is_punct(u, "(") - is_punct(u, ")");
            next(p);
        }
    }
    return 0;
}

static int parse_pump(parser_t *p, kda_stmt_t *st)
{
    int rc = parse_construct_name(p, st, "CREATE PUMP", "the pump's name");
    if (rc != 0) {
        return rc;
    }
    if ((rc = expect_kw(p, "AS", "after the pump's name")) != 0 ||
        (rc = expect_kw(p, "INSERT", "after AS")) != 0 ||
        (rc = expect_kw(p, "INTO", "after INSERT")) != 0 ||
        (rc = parse_name(p, &st->target, &st->target_pos, "the stream after INSERT INTO")) != 0) {
        return rc;
    }
    if (is_punct(peek(p), "(")) {
        next(p);
        size_t cap = 8;
        st->target_cols = kda_alloc(p->app, cap * sizeof *st->target_cols);
        for (;;) {
            if (st->target_cols == NULL) {
                return RCFD_ENOMEM;
            }
            if (st->n_target_cols == cap) {
                const char **nc = kda_alloc(p->app, 2 * cap * sizeof *nc);
                if (nc == NULL) {
                    return RCFD_ENOMEM;
                }
                memcpy(nc, st->target_cols, cap * sizeof *nc);
                st->target_cols = nc;
                cap *= 2;
            }
            if ((rc = parse_name(p, &st->target_cols[st->n_target_cols], NULL,
                                 "a column of the stream")) != 0) {
                return rc;
            }
            st->n_target_cols++;
            if (!is_punct(peek(p), ",")) {
                break;
            }
            next(p);
        }
        if ((rc = expect_punct(p, ")", "after the columns of INSERT INTO")) != 0) {
            return rc;
        }
    }
    if (is_kw(peek(p), "VALUES")) {
        return fail_at(p, peek(p)->pos, "INSERT ... VALUES is not supported");
    }
    return parse_query(p, &st->query, 0);
}

static int parse_stmt(parser_t *p, kda_stmt_t *st)
{
    const tok_t *t = peek(p);
    st->pos = t->pos;
    p->construct = NULL;
    if (!is_kw(t, "CREATE")) {
        if (t->type == T_IDENT &&
            (strcmp(t->text, "SELECT") == 0 || strcmp(t->text, "INSERT") == 0)) {
            return fail_at(p, t->pos,
                           "a %s outside a pump is not supported (put it in CREATE PUMP "
                           "... AS INSERT INTO ...)",
                           t->text);
        }
        return fail_at(p, t->pos, "expected CREATE STREAM or CREATE PUMP, found %s", shown(p, t));
    }
    next(p);
    if (is_kw(peek(p), "OR")) {
        next(p);
        int rc = expect_kw(p, "REPLACE", "after CREATE OR");
        if (rc != 0) {
            return rc;
        }
    }
    const tok_t *k = peek(p);
    if (is_kw(k, "STREAM")) {
        next(p);
        st->kind = KDA_STREAM;
        return parse_stream(p, st);
    }
    if (is_kw(k, "PUMP")) {
        next(p);
        st->kind = KDA_PUMP;
        return parse_pump(p, st);
    }
    if (k->type == T_IDENT) {
        return fail_at(p, k->pos,
                       "CREATE %s is not supported (rcfd imports streams and pumps; "
                       "reference tables and views have no rcfd equivalent)",
                       k->text);
    }
    return fail_at(p, k->pos, "expected STREAM or PUMP after CREATE, found %s", shown(p, k));
}

int kda_parse(const char *sql, size_t len, kda_app_t **out, char *errstr, size_t es)
{
    *out = NULL;
    kda_app_t *app = rcfd_calloc(1, sizeof *app);
    if (app == NULL || (app->arena = rcfd_calloc(1, sizeof *app->arena)) == NULL) {
        kda_app_free(app);
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    parser_t p = {0};
    p.app = app;
    p.s = sql;
    p.len = len;
    p.errstr = errstr;
    p.es = es;
    int rc = tokenize(&p);
    size_t cap = 0;
    while (rc == 0 && peek(&p)->type != T_EOF) {
        if (is_punct(peek(&p), ";")) { /* empty statements */
            next(&p);
            continue;
        }
        if (app->n_stmts == cap) {
            cap = cap ? cap * 2 : 16;
            kda_stmt_t *ns = kda_alloc(app, cap * sizeof *ns);
            if (ns == NULL) {
                rc = RCFD_ENOMEM;
                break;
            }
            if (app->n_stmts > 0) {
                memcpy(ns, app->stmts, app->n_stmts * sizeof *ns);
            }
            app->stmts = ns;
        }
        kda_stmt_t *st = &app->stmts[app->n_stmts++];
        if ((rc = parse_stmt(&p, st)) != 0) {
            break;
        }
        const tok_t *t = peek(&p);
        if (is_punct(t, ";")) {
            next(&p);
        } else if (t->type != T_EOF) {
            rc = fail_at(&p, t->pos, "expected \";\" at the end of the statement, found %s",
                         shown(&p, t));
        }
    }
    rcfd_free(p.toks);
    if (rc != 0) {
        if (rc == RCFD_ENOMEM) {
            rcfd_errf(rc, errstr, es, "out of memory");
        }
        kda_app_free(app);
        return rc;
    }
    if (app->n_stmts == 0) {
        kda_app_free(app);
        return rcfd_errf(RCFD_EMALFORMED, errstr, es, "1:1: no CREATE STREAM or CREATE PUMP");
    }
    *out = app;
    return 0;
}
