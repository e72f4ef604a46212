#include "kda/import.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/errstr.h"
#include "common/expr.h"
#include "config/schema.h"
#include "kda/sql.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"

/* KDA's documented defaults and ranges (SQL reference; /work/shared/docs/anchors.md 2.1, 2.2). */
#define KDA_TREES 100
#define KDA_SAMPLE 256
#define KDA_DECAY 100000
#define KDA_SHINGLE 1

enum { CT_UNKNOWN, CT_NUMERIC, CT_OTHER };
typedef enum { CK_EXPR, CK_SCORE, CK_EXPLANATION, CK_HOTSPOTS, CK_ROWTIME } col_kind_t;

/* A column of the input stream, declared or found in the application's use of it. */
typedef struct in_col {
    const char *name;
    int type;
    const char *type_name; /* the SQL type, or NULL */
    const char *typed_by;  /* the stream whose declaration gave the type, or NULL (declared) */
} in_col_t;

/* A column of rows flowing between streams: an expression over input columns, or one of the
 * columns a function adds. */
typedef struct fcol {
    const char *name;
    col_kind_t kind;
    const kda_expr_t *def; /* CK_EXPR: KX_COL leaves name input columns */
    int type;
    int explicit_item; /* selected by name in a CURSOR, not by "*" */
} fcol_t;

/* Rows on one path through the chain. */
typedef struct flow {
    fcol_t *cols;
    size_t n_cols;
    int open;     /* "*" over an input whose columns are not all known */
    int pipeline; /* -1: rows of the input; else the function call that scored them */
    int has_filter;
    double min_score;
    const char *min_text;
    kda_pos_t filter_pos;
    int strict;      /* the filter was ">" */
    const char *via; /* the pumps so far, for the report */
} flow_t;

typedef struct stream {
    const char *name;
    const kda_stmt_t *decl; /* CREATE STREAM; NULL for an undeclared input */
    kda_pos_t first_use;
    flow_t **flows;
    size_t n_flows, cap_flows;
    size_t writers, writers_done, readers;
    long output; /* index in outputs, -1 */
} stream_t;

typedef struct pipe {
    const kda_stmt_t *pump;
    const kda_query_t *q;
    fcol_t *fields;
    size_t n_fields;
    int star_open; /* CURSOR(SELECT STREAM * ...) over an undeclared input: fields at the end */
    const kda_pos_t *star_pos;
    long trees, sample, decay, shingle;
    int direction;
    long window, min_points;
    double radius;
    const char *radius_text;
    long outputs[64];
    size_t n_outputs;
} pipe_t;

typedef struct note {
    kda_pos_t pos;
    int kind; /* NOTE_* */
    char *text;
} note_t;

enum { NOTE_MAPPED, NOTE_ASSUMED, NOTE_UNMAPPED };

typedef struct ctx {
    kda_app_t *app;
    const kda_import_opts_t *o;
    stream_t *streams;
    size_t n_streams;
    stream_t *input;
    in_col_t *in_cols;
    size_t n_in_cols, cap_in_cols;
    int input_declared; /* columns known: CREATE STREAM of the input, or --columns */
    pipe_t *pipes;
    size_t n_pipes;
    note_t *notes;
    size_t n_notes, cap_notes;
    char *errstr;
    size_t es;
    const char *construct;
} ctx_t;

static int cfail(ctx_t *c, kda_pos_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int cfail(ctx_t *c, kda_pos_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = kda_failv(c->errstr, c->es, c->construct, pos, fmt, ap);
    va_end(ap);
    return rc;
}

static int note(ctx_t *c, kda_pos_t pos, int kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int note(ctx_t *c, kda_pos_t pos, int kind, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->n_notes == c->cap_notes) {
        size_t cap = c->cap_notes ? c->cap_notes * 2 : 32;
        note_t *n = kda_alloc(c->app, cap * sizeof *n);
        if (n == NULL) {
            return RCFD_ENOMEM;
        }
        if (c->n_notes > 0) {
            memcpy(n, c->notes, c->n_notes * sizeof *n);
        }
        c->notes = n;
        c->cap_notes = cap;
    }
    note_t *n = &c->notes[c->n_notes];
    n->pos = pos;
    n->kind = kind;
    n->text = kda_strdup(c->app, msg, strlen(msg));
    if (n->text == NULL) {
        return RCFD_ENOMEM;
    }
    c->n_notes++;
    return 0;
}

static char *sprintf_arena(ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *sprintf_arena(ctx_t *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return kda_strdup(c->app, msg, strlen(msg));
}

/* ---- streams and input columns ---- */

static stream_t *find_stream(ctx_t *c, const char *name)
{
    for (size_t i = 0; i < c->n_streams; i++) {
        if (strcmp(c->streams[i].name, name) == 0) {
            return &c->streams[i];
        }
    }
    return NULL;
}

static in_col_t *find_in_col(ctx_t *c, const char *name)
{
    for (size_t i = 0; i < c->n_in_cols; i++) {
        if (strcmp(c->in_cols[i].name, name) == 0) {
            return &c->in_cols[i];
        }
    }
    return NULL;
}

static int add_in_col(ctx_t *c, const char *name, int type, const char *type_name, in_col_t **out)
{
    if (c->n_in_cols == c->cap_in_cols) {
        size_t cap = c->cap_in_cols ? c->cap_in_cols * 2 : 16;
        in_col_t *n = kda_alloc(c->app, cap * sizeof *n);
        if (n == NULL) {
            return RCFD_ENOMEM;
        }
        if (c->n_in_cols > 0) {
            memcpy(n, c->in_cols, c->n_in_cols * sizeof *n);
        }
        c->in_cols = n;
        c->cap_in_cols = cap;
    }
    in_col_t *ic = &c->in_cols[c->n_in_cols++];
    ic->name = name;
    ic->type = type;
    ic->type_name = type_name;
    *out = ic;
    return 0;
}

static int push_flow(ctx_t *c, stream_t *s, flow_t *f)
{
    if (s->n_flows == s->cap_flows) {
        size_t cap = s->cap_flows ? s->cap_flows * 2 : 4;
        flow_t **n = kda_alloc(c->app, cap * sizeof *n);
        if (n == NULL) {
            return RCFD_ENOMEM;
        }
        if (s->n_flows > 0) {
            memcpy(n, s->flows, s->n_flows * sizeof *n);
        }
        s->flows = n;
        s->cap_flows = cap;
    }
    s->flows[s->n_flows++] = f;
    return 0;
}

static flow_t *new_flow(ctx_t *c, size_t cap_cols)
{
    flow_t *f = kda_alloc(c->app, sizeof *f);
    if (f != NULL) {
        f->cols = kda_alloc(c->app, (cap_cols ? cap_cols : 1) * sizeof *f->cols);
        f->pipeline = -1;
        if (f->cols == NULL) {
            return NULL;
        }
    }
    return f;
}

static int special_name(const char *n)
{
    if (strcmp(n, "ANOMALY_SCORE") == 0) {
        return CK_SCORE;
    }
    if (strcmp(n, "ANOMALY_EXPLANATION") == 0) {
        return CK_EXPLANATION;
    }
    if (strcmp(n, "HOTSPOTS_RESULT") == 0) {
        return CK_HOTSPOTS;
    }
    return -1;
}

/* ---- expressions over flows ---- */

static const fcol_t *flow_col(const flow_t *f, const char *name)
{
    for (size_t i = 0; i < f->n_cols; i++) {
        if (strcmp(f->cols[i].name, name) == 0) {
            return &f->cols[i];
        }
    }
    return NULL;
}

/* The flow column `name` reads, or for an open flow a new input column (an fcol in the arena). */
static int resolve_col(ctx_t *c, const flow_t *f, const char *from, const char *alias,
                       const kda_expr_t *ref, const fcol_t **out)
{
    if (ref->qual != NULL && strcmp(ref->qual, from) != 0 &&
        (alias == NULL || strcmp(ref->qual, alias) != 0)) {
        return cfail(c, ref->pos, "\"%s\" is not the stream or alias this query reads (\"%s\")",
                     ref->qual, alias != NULL ? alias : from);
    }
    if (strcmp(ref->name, "ROWTIME") == 0) {
        static const fcol_t rowtime = {"ROWTIME", CK_ROWTIME, NULL, CT_OTHER, 0};
        *out = &rowtime;
        return 0;
    }
    const fcol_t *fc = flow_col(f, ref->name);
    if (fc != NULL) {
        *out = fc;
        return 0;
    }
    if (!f->open) {
        char list[512] = "";
        size_t off = 0;
        for (size_t i = 0; i < f->n_cols && off < sizeof list - 64; i++) {
            off += (size_t)snprintf(list + off, sizeof list - off, "%s\"%s\"", i ? ", " : "",
                                    f->cols[i].name);
        }
        return cfail(c, ref->pos, "column \"%s\" is not in \"%s\" (its columns: %s)", ref->name,
                     from, list[0] ? list : "none");
    }
    if (special_name(ref->name) >= 0) {
        return cfail(c, ref->pos, "%s is not a column of the input (a function adds it)",
                     ref->name);
    }
    in_col_t *ic = find_in_col(c, ref->name);
    if (ic == NULL && add_in_col(c, ref->name, CT_UNKNOWN, NULL, &ic) != 0) {
        return RCFD_ENOMEM;
    }
    fcol_t *nc = kda_alloc(c->app, sizeof *nc);
    kda_expr_t *def = kda_alloc(c->app, sizeof *def);
    if (nc == NULL || def == NULL) {
        return RCFD_ENOMEM;
    }
    def->kind = KX_COL;
    def->pos = ref->pos;
    def->name = ic->name;
    nc->name = ic->name;
    nc->kind = CK_EXPR;
    nc->def = def;
    nc->type = ic->type;
    *out = nc;
    return 0;
}

/* Rewrites e, over the columns of f, into an expression over input columns. */
static int substitute(ctx_t *c, const flow_t *f, const char *from, const char *alias,
                      const kda_expr_t *e, const kda_expr_t **out)
{
    if (e->kind == KX_NUM) {
        *out = e;
        return 0;
    }
    if (e->kind == KX_COL) {
        const fcol_t *fc;
        int rc = resolve_col(c, f, from, alias, e, &fc);
        if (rc != 0) {
            return rc;
        }
        if (fc->kind != CK_EXPR) {
            return cfail(c, e->pos,
                         "arithmetic on %s is not supported (it is not a column of the "
                         "input)",
                         fc->name);
        }
        if (fc->type == CT_OTHER) {
            return cfail(c, e->pos, "arithmetic on the non-numeric column \"%s\"", fc->name);
        }
        /* a column used in arithmetic is a number */
        if (fc->def->kind == KX_COL) {
            in_col_t *ic = find_in_col(c, fc->def->name);
            if (ic != NULL && ic->type == CT_UNKNOWN) {
                ic->type = CT_NUMERIC;
            }
        }
        *out = fc->def;
        return 0;
    }
    kda_expr_t *n = kda_alloc(c->app, sizeof *n);
    if (n == NULL) {
        return RCFD_ENOMEM;
    }
    *n = *e;
    const kda_expr_t *a, *b = NULL;
    int rc = substitute(c, f, from, alias, e->a, &a);
    if (rc == 0 && e->b != NULL) {
        rc = substitute(c, f, from, alias, e->b, &b);
    }
    n->a = (kda_expr_t *)a;
    n->b = (kda_expr_t *)b;
    *out = n;
    return rc;
}

/* The rcfd field path of an input column given by the options (the input schema's mapping), or
 * NULL when the column is the record's member of its name. */
static const char *mapped_path(const ctx_t *c, const char *name)
{
    for (size_t i = 0; i < c->o->n_paths; i++) {
        if (strcmp(c->o->path_names[i], name) == 0) {
            return c->o->paths[i];
        }
    }
    return NULL;
}

/* An identifier: a letter or '_', then letters, digits and '_' (and '.' when dots_too). */
static int is_ident(const char *s, int dots_too)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) {
        return 0;
    }
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || (dots_too && *s == '.'))) {
            return 0;
        }
    }
    return 1;
}

/* An input column's name as an rcfd field path (a dot in a KDA name is not a path step). */
static int field_path(rcfd_buf_t *b, const char *name)
{
    for (const char *p = name; *p; p++) {
        if ((*p == '.' && rcfd_buf_putc(b, '\\') != 0) || rcfd_buf_putc(b, *p) != 0) {
            return RCFD_ENOMEM;
        }
    }
    return 0;
}

static int prec(kda_expr_kind_t k)
{
    return k == KX_ADD || k == KX_SUB ? 1 : k == KX_MUL || k == KX_DIV ? 2 : 3;
}

/* e in the syntax of common/expr.h, parenthesized only where precedence needs it. */
static int render(const ctx_t *c, rcfd_buf_t *b, const kda_expr_t *e, int parent_prec, int right)
{
    int rc = 0;
    switch (e->kind) {
    case KX_NUM:
        return rcfd_buf_puts(b, e->text);
    case KX_COL: {
        const char *path = mapped_path(c, e->name);
        if (path != NULL) {
            if (is_ident(path, 1)) {
                return rcfd_buf_puts(b, path);
            }
            rc = rcfd_buf_putc(b, '"');
            for (const char *p = path; rc == 0 && *p; p++) {
                rc = *p == '"' ? rcfd_buf_puts(b, "\"\"") : rcfd_buf_putc(b, *p);
            }
            return rc ? rc : rcfd_buf_putc(b, '"');
        }
        if (is_ident(e->name, 0)) {
            return rcfd_buf_puts(b, e->name);
        }
        rc = rcfd_buf_putc(b, '"');
        for (const char *p = e->name; rc == 0 && *p; p++) {
            if (*p == '"') {
                rc = rcfd_buf_puts(b, "\"\"");
            } else if (*p == '.') {
                rc = rcfd_buf_puts(b, "\\.");
            } else {
                rc = rcfd_buf_putc(b, *p);
            }
        }
        return rc ? rc : rcfd_buf_putc(b, '"');
    }
    case KX_NEG:
        rc = rcfd_buf_putc(b, '-');
        return rc ? rc : render(c, b, e->a, 3, 0);
    default: {
        int p = prec(e->kind);
        /* a - (b - c), a / (b * c): the right operand of - and / keeps its parentheses */
        int paren = p < parent_prec || (right && p == parent_prec);
        static const char ops[] = {[KX_ADD] = '+', [KX_SUB] = '-', [KX_MUL] = '*', [KX_DIV] = '/'};
        rc = paren ? rcfd_buf_putc(b, '(') : 0;
        rc = rc ? rc : render(c, b, e->a, p, 0);
        rc = rc ? rc : rcfd_buf_printf(b, " %c ", ops[e->kind]);
        rc = rc ? rc : render(c, b, e->b, p, 1);
        return rc ? rc : paren ? rcfd_buf_putc(b, ')') : 0;
    }
    }
}

/* ---- queries ---- */

/* SELECT items FROM (rows of f) into a new flow (columns named as SQL names them). */
static int select_items(ctx_t *c, const kda_query_t *q, const flow_t *f, const char *from,
                        int is_cursor, flow_t **out)
{
    size_t cap = f->n_cols + q->n_items + 4;
    flow_t *r = new_flow(c, cap);
    if (r == NULL) {
        return RCFD_ENOMEM;
    }
    r->pipeline = f->pipeline;
    r->has_filter = f->has_filter;
    r->min_score = f->min_score;
    r->min_text = f->min_text;
    r->filter_pos = f->filter_pos;
    r->strict = f->strict;
    for (size_t i = 0; i < q->n_items; i++) {
        const kda_item_t *it = &q->items[i];
        if (it->star) {
            if (it->qual != NULL && strcmp(it->qual, from) != 0 &&
                (q->alias == NULL || strcmp(it->qual, q->alias) != 0)) {
                return cfail(c, it->pos, "\"%s.*\": \"%s\" is not the stream this query reads",
                             it->qual, it->qual);
            }
            if (f->n_cols + r->n_cols > cap) {
                return cfail(c, it->pos, "\"*\" more than once in a select list");
            }
            for (size_t k = 0; k < f->n_cols; k++) {
                r->cols[r->n_cols] = f->cols[k];
                r->cols[r->n_cols].explicit_item = 0;
                r->n_cols++;
            }
            r->open |= f->open;
            continue;
        }
        fcol_t col = {0};
        col.explicit_item = 1;
        if (it->expr->kind == KX_COL) {
            const fcol_t *fc;
            int rc = resolve_col(c, f, from, q->alias, it->expr, &fc);
            if (rc != 0) {
                return rc;
            }
            col = *fc;
            col.explicit_item = 1;
            col.name = it->alias != NULL ? it->alias : it->expr->name;
            if (fc->kind == CK_ROWTIME && is_cursor) {
                return cfail(c, it->pos,
                             "ROWTIME in a CURSOR is not supported (rcfd scores the "
                             "record's numeric fields; use a timestamp field)");
            }
        } else {
            const kda_expr_t *def;
            int rc = substitute(c, f, from, q->alias, it->expr, &def);
            if (rc != 0) {
                return rc;
            }
            col.kind = CK_EXPR;
            col.def = def;
            col.type = CT_NUMERIC;
            col.name = it->alias != NULL ? it->alias : sprintf_arena(c, "EXPR$%zu", i);
            if (col.name == NULL) {
                return RCFD_ENOMEM;
            }
        }
        if (flow_col(r, col.name) != NULL) {
            return cfail(c, it->pos, "column \"%s\" appears twice in the select list", col.name);
        }
        r->cols[r->n_cols++] = col;
    }
    *out = r;
    return 0;
}

/* WHERE on the rows of f (before the select list): a lower bound on ANOMALY_SCORE. */
static int apply_where(ctx_t *c, const kda_query_t *q, const flow_t *f, const char *from, flow_t *r)
{
    for (size_t i = 0; i < q->n_where; i++) {
        const kda_pred_t *pr = &q->where[i];
        kda_expr_t ref = {0};
        ref.kind = KX_COL;
        ref.pos = pr->pos;
        ref.qual = pr->qual;
        ref.name = pr->col;
        const fcol_t *fc;
        int rc = resolve_col(c, f, from, q->alias, &ref, &fc);
        if (rc != 0) {
            return rc;
        }
        if (fc->kind != CK_SCORE) {
            return cfail(c, pr->pos,
                         "WHERE on \"%s\" is not supported (rcfd filters outputs on "
                         "ANOMALY_SCORE; %s)",
                         pr->col,
                         f->pipeline < 0 ? "it scores every record of its input, so filter the "
                                           "input before rcfd"
                                         : "other columns pass through unfiltered");
        }
        if (pr->op != KDA_GT && pr->op != KDA_GE) {
            return cfail(c, pr->pos,
                         "only ANOMALY_SCORE > c or ANOMALY_SCORE >= c maps to an "
                         "output filter (min_score)");
        }
        if (pr->value < 0) {
            return cfail(c, pr->pos, "ANOMALY_SCORE is never negative: drop the filter");
        }
        if (!r->has_filter || pr->value > r->min_score ||
            (pr->value == r->min_score && pr->op == KDA_GT)) {
            r->has_filter = 1;
            r->min_score = pr->value;
            r->min_text = pr->text;
            r->filter_pos = pr->pos;
            r->strict = pr->op == KDA_GT;
        }
    }
    return 0;
}

/* INSERT INTO target: the rows take the target's column names and declared types. */
static int insert_into(ctx_t *c, const kda_stmt_t *pump, const flow_t *r, stream_t *t, flow_t **out)
{
    const kda_stmt_t *d = t->decl;
    flow_t *w = new_flow(c, d->n_cols);
    if (w == NULL) {
        return RCFD_ENOMEM;
    }
    w->pipeline = r->pipeline;
    w->has_filter = r->has_filter;
    w->min_score = r->min_score;
    w->min_text = r->min_text;
    w->filter_pos = r->filter_pos;
    w->strict = r->strict;
    w->via = r->via;
    for (size_t k = 0; k < d->n_cols; k++) {
        const kda_column_t *tc = &d->cols[k];
        const fcol_t *src = NULL;
        if (pump->n_target_cols > 0) {
            for (size_t j = 0; j < pump->n_target_cols; j++) {
                if (strcmp(pump->target_cols[j], tc->name) == 0 && j < r->n_cols) {
                    src = &r->cols[j];
                }
            }
            if (src == NULL) {
                continue; /* a column the insert does not fill is NULL: not carried */
            }
        } else if (r->open) {
            /* "*" over an input of unknown columns: match by name, the rest are input columns */
            src = flow_col(r, tc->name);
            if (src == NULL) {
                kda_expr_t ref = {0};
                ref.kind = KX_COL;
                ref.pos = pump->target_pos;
                ref.name = tc->name;
                int rc = resolve_col(c, r, "", NULL, &ref, &src);
                if (rc != 0) {
                    return rc;
                }
            }
        } else {
            if (r->n_cols != d->n_cols) {
                return cfail(c, pump->target_pos,
                             "the query has %zu columns but \"%s\" has %zu (columns are matched "
                             "by position)",
                             r->n_cols, t->name, d->n_cols);
            }
            src = &r->cols[k];
        }
        fcol_t col = *src;
        col.name = tc->name;
        if (col.kind == CK_EXPR) {
            int type = tc->numeric ? CT_NUMERIC : CT_OTHER;
            if (col.def->kind == KX_COL) {
                in_col_t *ic = find_in_col(c, col.def->name);
                if (ic != NULL && ic->type == CT_UNKNOWN) {
                    ic->type = type;
                    ic->type_name = tc->type;
                    ic->typed_by = t->name;
                }
            } else if (type == CT_OTHER) {
                return cfail(c, tc->pos,
                             "column \"%s\" of \"%s\" is %s, but the pump writes an "
                             "arithmetic expression into it",
                             tc->name, t->name, tc->type);
            }
            col.type = type;
        } else if ((col.kind == CK_SCORE && !tc->numeric) ||
                   ((col.kind == CK_EXPLANATION || col.kind == CK_HOTSPOTS) && tc->numeric)) {
            return cfail(c, tc->pos, "column \"%s\" of \"%s\" is %s, which cannot hold %s",
                         tc->name, t->name, tc->type,
                         col.kind == CK_SCORE ? "ANOMALY_SCORE" : "a JSON text");
        }
        if (col.kind != CK_EXPR && col.kind != CK_ROWTIME && strcmp(tc->name, src->name) != 0) {
            int rc = note(c, tc->pos, NOTE_UNMAPPED,
                          "%s written into column \"%s\" of \"%s\": rcfd writes it as %s",
                          src->name, tc->name, t->name, src->name);
            if (rc != 0) {
                return rc;
            }
        }
        w->cols[w->n_cols++] = col;
    }
    if (pump->n_target_cols > 0) {
        for (size_t j = 0; j < pump->n_target_cols; j++) {
            int found = 0;
            for (size_t k = 0; k < d->n_cols; k++) {
                found |= strcmp(pump->target_cols[j], d->cols[k].name) == 0;
            }
            if (!found) {
                return cfail(c, pump->target_pos, "\"%s\" is not a column of \"%s\"",
                             pump->target_cols[j], t->name);
            }
        }
        if (pump->n_target_cols != r->n_cols) {
            return cfail(c, pump->target_pos, "INSERT INTO lists %zu columns but the query has %zu",
                         pump->n_target_cols, r->n_cols);
        }
    }
    *out = w;
    return 0;
}

static int int_arg(ctx_t *c, const kda_query_t *q, size_t i, const char *name, long lo, long hi,
                   long def, long *out)
{
    if (i >= q->n_args) {
        *out = def;
        return 0;
    }
    const kda_arg_t *a = &q->args[i];
    if (a->is_bool || a->num != floor(a->num) || a->num < (double)lo || a->num > (double)hi) {
        return cfail(c, a->pos,
                     "%s (argument %zu of %s) is %s; it must be an integer in [%ld, %ld]", name,
                     i + 2, q->func_name, a->text, lo, hi);
    }
    *out = (long)a->num;
    return 0;
}

static int function_args(ctx_t *c, const kda_query_t *q, pipe_t *pp)
{
    if (q->func == KF_HOTSPOTS) {
        if (q->n_args != 3) {
            return cfail(c, q->func_pos,
                         "HOTSPOTS takes CURSOR(...), windowSize, scanRadius and "
                         "minimumNumberOfPointsInAHotspot (%zu arguments after the "
                         "cursor, expected 3)",
                         q->n_args);
        }
        int rc = int_arg(c, q, 0, "windowSize", 100, 1000, 0, &pp->window);
        if (rc != 0) {
            return rc;
        }
        const kda_arg_t *r = &q->args[1];
        if (r->is_bool || !(r->num > 0)) {
            return cfail(c, r->pos,
                         "scanRadius (argument 3 of HOTSPOTS) is %s; it must be a "
                         "number above 0",
                         r->text);
        }
        pp->radius = r->num;
        pp->radius_text = r->text;
        return int_arg(c, q, 2, "minimumNumberOfPointsInAHotspot", 2, pp->window, 0,
                       &pp->min_points);
    }
    size_t max = q->func == KF_RCFX ? 5 : 4;
    if (q->n_args > max) {
        return cfail(c, q->args[max].pos, "%s takes at most %zu arguments after the cursor",
                     q->func_name, max);
    }
    int rc = int_arg(c, q, 0, "numberOfTrees", 1, 1000, KDA_TREES, &pp->trees);
    rc = rc ? rc : int_arg(c, q, 1, "subSampleSize", 10, 1000, KDA_SAMPLE, &pp->sample);
    rc = rc ? rc : int_arg(c, q, 2, "timeDecay", 1, 2147483647L, KDA_DECAY, &pp->decay);
    rc = rc ? rc : int_arg(c, q, 3, "shingleSize", 1, 30, KDA_SHINGLE, &pp->shingle);
    if (rc != 0) {
        return rc;
    }
    if (pp->decay <= pp->sample) {
        return cfail(c, q->n_args > 2 ? q->args[2].pos : q->func_pos,
                     "timeDecay (%ld) must be larger than subSampleSize (%ld)", pp->decay,
                     pp->sample);
    }
    if (q->func == KF_RCFX && q->n_args > 4) {
        const kda_arg_t *a = &q->args[4];
        if (!a->is_bool) {
            return cfail(c, a->pos,
                         "withDirectionality (argument 6) is %s; it must be TRUE or "
                         "FALSE",
                         a->text);
        }
        pp->direction = a->bval;
    }
    return 0;
}

static int process_pump(ctx_t *c, const kda_stmt_t *pump)
{
    const kda_query_t *q = pump->query;
    stream_t *t = find_stream(c, pump->target);
    c->construct = sprintf_arena(c, "CREATE PUMP \"%s\"", pump->name);
    if (c->construct == NULL) {
        return RCFD_ENOMEM;
    }
    int rc;
    if (q->func == KF_NONE) {
        stream_t *s = find_stream(c, q->from);
        for (size_t i = 0; i < s->n_flows; i++) {
            flow_t *r, *w;
            if ((rc = select_items(c, q, s->flows[i], s->name, 0, &r)) != 0 ||
                (rc = apply_where(c, q, s->flows[i], s->name, r)) != 0) {
                return rc;
            }
            r->via = sprintf_arena(c, "%s%s%s -> %s", s->flows[i]->via ? s->flows[i]->via : "",
                                   s->flows[i]->via ? " -> " : "", pump->name, t->name);
            if (r->via == NULL || (rc = insert_into(c, pump, r, t, &w)) != 0 ||
                (rc = push_flow(c, t, w)) != 0) {
                return rc ? rc : RCFD_ENOMEM;
            }
        }
        if (q->order_by) {
            rc = note(c, q->order_pos, NOTE_UNMAPPED,
                      "ORDER BY in \"%s\": rcfd writes records in arrival order", pump->name);
            if (rc != 0) {
                return rc;
            }
        }
        return note(c, pump->pos, NOTE_MAPPED,
                    "pump \"%s\": \"%s\" -> \"%s\" (the chain between "
                    "streams)",
                    pump->name, q->from, pump->target);
    }
    /* FROM TABLE(function(CURSOR(SELECT ... FROM s), args)) */
    const kda_query_t *cur = q->cursor;
    if (cur->func != KF_NONE) {
        return cfail(c, cur->func_pos, "a function inside the CURSOR of %s is not supported",
                     q->func_name);
    }
    stream_t *s = find_stream(c, cur->from);
    if (s->n_flows != 1) {
        return cfail(c, cur->from_pos,
                     "\"%s\" is written by %zu pumps; a function reading it "
                     "would score their rows together, which rcfd cannot",
                     s->name, s->n_flows);
    }
    const flow_t *in = s->flows[0];
    if (in->pipeline >= 0) {
        return cfail(c, cur->from_pos, "%s over rows that \"%s\" already scored is not supported",
                     q->func_name, c->pipes[in->pipeline].pump->name);
    }
    if (cur->n_where > 0) {
        return cfail(c, cur->where[0].pos,
                     "WHERE in a CURSOR is not supported (rcfd scores every "
                     "record of its input; filter the input before rcfd)");
    }
    if (cur->order_by) {
        rc = note(c, cur->order_pos, NOTE_UNMAPPED,
                  "ORDER BY in the CURSOR of \"%s\": rcfd "
                  "scores records in arrival order",
                  pump->name);
        if (rc != 0) {
            return rc;
        }
    }
    flow_t *cf;
    if ((rc = select_items(c, cur, in, s->name, 1, &cf)) != 0) {
        return rc;
    }
    if (c->n_pipes == 64) {
        return cfail(c, q->func_pos, "more than 64 function calls");
    }
    pipe_t *pp = &c->pipes[c->n_pipes];
    memset(pp, 0, sizeof *pp);
    pp->pump = pump;
    pp->q = q;
    if ((rc = function_args(c, q, pp)) != 0) {
        return rc;
    }
    int star = 0;
    for (size_t i = 0; i < cur->n_items; i++) {
        star |= cur->items[i].star;
    }
    pp->star_open = star && cf->open;
    pp->star_pos = &cur->pos;
    /* the function's rows: the cursor's columns, then what it adds */
    flow_t *fn = new_flow(c, cf->n_cols + 2);
    if (fn == NULL) {
        return RCFD_ENOMEM;
    }
    memcpy(fn->cols, cf->cols, cf->n_cols * sizeof *fn->cols);
    fn->n_cols = cf->n_cols;
    fn->open = cf->open;
    fn->pipeline = (int)c->n_pipes;
    static const fcol_t score = {"ANOMALY_SCORE", CK_SCORE, NULL, CT_NUMERIC, 0};
    static const fcol_t expl = {"ANOMALY_EXPLANATION", CK_EXPLANATION, NULL, CT_OTHER, 0};
    static const fcol_t hs = {"HOTSPOTS_RESULT", CK_HOTSPOTS, NULL, CT_OTHER, 0};
    for (size_t i = 0; i < cf->n_cols; i++) {
        if (special_name(cf->cols[i].name) >= 0) {
            return cfail(c, cur->pos, "the cursor has a column named %s, which %s adds itself",
                         cf->cols[i].name, q->func_name);
        }
    }
    if (q->func == KF_HOTSPOTS) {
        fn->cols[fn->n_cols++] = hs;
    } else {
        fn->cols[fn->n_cols++] = score;
        if (q->func == KF_RCFX) {
            fn->cols[fn->n_cols++] = expl;
        }
    }
    /* fields: the cursor's numeric columns (KDA ignores the others) */
    pp->fields = kda_alloc(c->app, (cf->n_cols + 1) * sizeof *pp->fields);
    if (pp->fields == NULL) {
        return RCFD_ENOMEM;
    }
    for (size_t i = 0; i < cf->n_cols; i++) {
        const fcol_t *fc = &cf->cols[i];
        if (fc->kind != CK_EXPR) {
            continue;
        }
        pp->fields[pp->n_fields++] = *fc;
    }
    c->n_pipes++;
    const char *alias_from = q->alias != NULL ? q->alias : q->func_name;
    flow_t *r, *w;
    if ((rc = select_items(c, q, fn, alias_from, 0, &r)) != 0 ||
        (rc = apply_where(c, q, fn, alias_from, r)) != 0) {
        return rc;
    }
    r->via = pump->name;
    if ((rc = insert_into(c, pump, r, t, &w)) != 0) {
        return rc;
    }
    w->via = sprintf_arena(c, "%s -> %s", pump->name, t->name);
    if (w->via == NULL) {
        return RCFD_ENOMEM;
    }
    if (q->order_by) {
        rc = note(c, q->order_pos, NOTE_UNMAPPED,
                  "ORDER BY in \"%s\": rcfd writes records in arrival order", pump->name);
        if (rc != 0) {
            return rc;
        }
    }
    return push_flow(c, t, w);
}

/* ---- the whole application ---- */

static int collect_streams(ctx_t *c)
{
    kda_app_t *app = c->app;
    c->streams = kda_alloc(app, (2 * app->n_stmts + 1) * sizeof *c->streams);
    c->pipes = kda_alloc(app, 64 * sizeof *c->pipes);
    if (c->streams == NULL || c->pipes == NULL) {
        return RCFD_ENOMEM;
    }
    for (size_t i = 0; i < app->n_stmts; i++) {
        const kda_stmt_t *st = &app->stmts[i];
        for (size_t j = 0; j < i; j++) {
            const kda_stmt_t *o = &app->stmts[j];
            if (o->kind == st->kind && strcmp(o->name, st->name) == 0) {
                return cfail(c, st->name_pos, "%s \"%s\" is created twice (first at line %u)",
                             st->kind == KDA_STREAM ? "stream" : "pump", st->name, o->pos.line);
            }
        }
        if (st->kind == KDA_STREAM) {
            stream_t *s = &c->streams[c->n_streams++];
            memset(s, 0, sizeof *s);
            s->name = st->name;
            s->decl = st;
            s->first_use = st->pos;
            s->output = -1;
        }
    }
    /* writers and readers; a stream read but never created is the input */
    for (size_t i = 0; i < app->n_stmts; i++) {
        const kda_stmt_t *st = &app->stmts[i];
        if (st->kind != KDA_PUMP) {
            continue;
        }
        c->construct = sprintf_arena(c, "CREATE PUMP \"%s\"", st->name);
        stream_t *t = find_stream(c, st->target);
        if (t == NULL) {
            return cfail(c, st->target_pos,
                         "stream \"%s\" is not created (CREATE OR REPLACE STREAM "
                         "\"%s\" (...) before the pump)",
                         st->target, st->target);
        }
        t->writers++;
        const kda_query_t *q = st->query->func != KF_NONE ? st->query->cursor : st->query;
        const char *from = q->from;
        if (from == NULL) {
            return cfail(c, q->func_pos, "a function inside a CURSOR is not supported");
        }
        stream_t *s = find_stream(c, from);
        if (s == NULL) {
            s = &c->streams[c->n_streams++];
            memset(s, 0, sizeof *s);
            s->name = from;
            s->first_use = q->from_pos;
            s->output = -1;
        }
        s->readers++;
    }
    c->construct = NULL;
    for (size_t i = 0; i < c->n_streams; i++) {
        stream_t *s = &c->streams[i];
        if (s->readers > 0 && s->writers == 0) {
            if (c->input != NULL) {
                return cfail(c, s->first_use,
                             "the application reads two input streams, \"%s\" "
                             "and \"%s\"; rcfd imports one (KDA's streaming "
                             "source; reference tables are not supported)",
                             c->input->name, s->name);
            }
            c->input = s;
        }
    }
    if (c->input == NULL) {
        return cfail(c, app->stmts[0].pos,
                     "no pump reads an input stream (one that no pump writes, "
                     "such as SOURCE_SQL_STREAM_001)");
    }
    if (c->o->input_name != NULL && strcmp(c->o->input_name, c->input->name) != 0) {
        return cfail(c, c->input->first_use,
                     "the application reads \"%s\", but its input is \"%s\"", c->input->name,
                     c->o->input_name);
    }
    return 0;
}

static int declare_input(ctx_t *c)
{
    const kda_stmt_t *d = c->input->decl;
    kda_app_t *cols_app = NULL;
    if (c->o->columns != NULL) {
        size_t n = strlen(c->o->columns);
        char *sql = rcfd_malloc(n + 40);
        if (sql == NULL) {
            return RCFD_ENOMEM;
        }
        /* the columns as a stream's, on one line so messages point into the option */
        memcpy(sql, "CREATE STREAM \"i\" (", 19);
        memcpy(sql + 19, c->o->columns, n);
        memcpy(sql + 19 + n, ")", 2);
        char err[512];
        int rc = kda_parse(sql, n + 20, &cols_app, err, sizeof err);
        rcfd_free(sql);
        if (rc == 0 && (cols_app->n_stmts != 1 || cols_app->stmts[0].kind != KDA_STREAM)) {
            snprintf(err, sizeof err, "1:1: not a column list");
            rc = RCFD_EMALFORMED;
        }
        if (rc != 0) {
            kda_app_free(cols_app);
            if (rc == RCFD_ENOMEM) {
                return rc;
            }
            /* "1:COL:" of the wrapped text is column COL-19 of the option */
            unsigned line, col;
            const char *msg = err;
            char *in = strstr(err, " (in CREATE STREAM \"i\")");
            if (in != NULL) {
                *in = '\0';
            }
            if (sscanf(err, "%u:%u:", &line, &col) == 2 &&
                (msg = strchr(strchr(err, ':') + 1, ':'))) {
                return rcfd_errf(RCFD_EINVAL, c->errstr, c->es, "--columns, character %u:%s",
                                 col > 19 ? col - 19 : 1, msg + 1);
            }
            return rcfd_errf(RCFD_EINVAL, c->errstr, c->es, "--columns: %s", err);
        }
        if (d != NULL) {
            kda_app_free(cols_app);
            return cfail(c, d->pos, "the input \"%s\" is declared both here and by --columns",
                         c->input->name);
        }
        d = &cols_app->stmts[0];
    }
    int rc = 0;
    if (d != NULL) {
        c->input_declared = 1;
        for (size_t i = 0; i < d->n_cols && rc == 0; i++) {
            in_col_t *ic;
            const char *name = kda_strdup(c->app, d->cols[i].name, strlen(d->cols[i].name));
            const char *type = kda_strdup(c->app, d->cols[i].type, strlen(d->cols[i].type));
            if (name == NULL || type == NULL) {
                rc = RCFD_ENOMEM;
                break;
            }
            rc = add_in_col(c, name, d->cols[i].numeric ? CT_NUMERIC : CT_OTHER, type, &ic);
        }
    } else if (c->o->csv) {
        rc = rcfd_errf(RCFD_EINVAL, c->errstr, c->es,
                       "--format csv needs the input's columns in order: --columns or CREATE "
                       "STREAM \"%s\" (...)",
                       c->input->name);
    }
    kda_app_free(cols_app);
    if (rc != 0) {
        return rc;
    }
    /* the input's one flow: its columns */
    flow_t *f = new_flow(c, c->n_in_cols);
    if (f == NULL) {
        return RCFD_ENOMEM;
    }
    f->open = !c->input_declared;
    for (size_t i = 0; i < c->n_in_cols; i++) {
        kda_expr_t *def = kda_alloc(c->app, sizeof *def);
        if (def == NULL) {
            return RCFD_ENOMEM;
        }
        def->kind = KX_COL;
        def->name = c->in_cols[i].name;
        fcol_t *fc = &f->cols[f->n_cols++];
        fc->name = c->in_cols[i].name;
        fc->kind = CK_EXPR;
        fc->def = def;
        fc->type = c->in_cols[i].type;
    }
    return push_flow(c, c->input, f);
}

static int run_chain(ctx_t *c)
{
    kda_app_t *app = c->app;
    size_t n_pumps = 0, done = 0;
    for (size_t i = 0; i < app->n_stmts; i++) {
        n_pumps += app->stmts[i].kind == KDA_PUMP;
    }
    unsigned char *did = kda_alloc(app, app->n_stmts + 1);
    if (did == NULL) {
        return RCFD_ENOMEM;
    }
    while (done < n_pumps) {
        int progress = 0;
        for (size_t i = 0; i < app->n_stmts; i++) {
            const kda_stmt_t *st = &app->stmts[i];
            if (st->kind != KDA_PUMP || did[i]) {
                continue;
            }
            const kda_query_t *q = st->query->func != KF_NONE ? st->query->cursor : st->query;
            stream_t *s = find_stream(c, q->from);
            if (s != c->input && s->writers_done < s->writers) {
                continue;
            }
            if (find_stream(c, st->target) == c->input) {
                return cfail(c, st->target_pos, "a pump writes into the input stream \"%s\"",
                             st->target);
            }
            int rc = process_pump(c, st);
            if (rc != 0) {
                return rc;
            }
            find_stream(c, st->target)->writers_done++;
            did[i] = 1;
            done++;
            progress = 1;
        }
        if (!progress) {
            for (size_t i = 0; i < app->n_stmts; i++) {
                if (app->stmts[i].kind == KDA_PUMP && !did[i]) {
                    c->construct = NULL;
                    return cfail(c, app->stmts[i].pos, "pump \"%s\" is part of a cycle of streams",
                                 app->stmts[i].name);
                }
            }
        }
    }
    c->construct = NULL;
    return 0;
}

/* ---- the config ---- */

typedef struct spec {
    int type; /* 0 file, 1 kafka, 2 kinesis */
    const char *arg;
} spec_t;

static int parse_spec(ctx_t *c, const char *opt, const char *s, spec_t *out)
{
    static const char *const kinds[] = {"file:", "kafka:", "kinesis:", NULL};
    for (int k = 0; kinds[k] != NULL; k++) {
        size_t n = strlen(kinds[k]);
        if (strncmp(s, kinds[k], n) == 0 && s[n] != '\0') {
            out->type = k;
            out->arg = s + n;
            return 0;
        }
    }
    return rcfd_errf(RCFD_EINVAL, c->errstr, c->es,
                     "%s \"%s\": expected file:PATH, kafka:TOPIC or kinesis:STREAM", opt, s);
}

/* spec's argument with {stream} replaced by the stream's name */
static char *expand_spec(ctx_t *c, const char *arg, const char *stream)
{
    rcfd_buf_t b = {0};
    for (const char *p = arg; *p;) {
        if (strncmp(p, "{stream}", 8) == 0) {
            rcfd_buf_puts(&b, stream);
            p += 8;
        } else {
            rcfd_buf_putc(&b, *p++);
        }
    }
    char *r = b.p != NULL ? kda_strdup(c->app, b.p, b.len) : kda_strdup(c->app, "", 0);
    rcfd_buf_free(&b);
    return r;
}

static cJSON *endpoint(ctx_t *c, const char *name, const spec_t *sp, const char *arg, int output)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    static const char *const types[] = {"file", "kafka", "kinesis"};
    cJSON_AddStringToObject(o, "type", types[sp->type]);
    const char *boot = c->o->kafka_bootstrap ? c->o->kafka_bootstrap : "${KAFKA_BOOTSTRAP}";
    if (sp->type == 0) {
        cJSON_AddStringToObject(o, "path", arg);
    } else if (sp->type == 1) {
        cJSON *rk;
        if (output) {
            cJSON_AddStringToObject(o, "topic", arg);
            rk = cJSON_AddObjectToObject(o, "rdkafka");
            cJSON_AddStringToObject(rk, "bootstrap.servers", boot);
        } else {
            cJSON *topics = cJSON_AddArrayToObject(o, "topics");
            cJSON_AddItemToArray(topics, cJSON_CreateString(arg));
            rk = cJSON_AddObjectToObject(o, "rdkafka");
            cJSON_AddStringToObject(rk, "bootstrap.servers", boot);
            char group[256];
            snprintf(group, sizeof group, "rcfd-%s", c->o->app_name);
            cJSON_AddStringToObject(rk, "group.id", group);
        }
    } else {
        cJSON_AddStringToObject(o, "stream", arg);
        if (c->o->region != NULL) {
            cJSON_AddStringToObject(o, "region", c->o->region);
        }
        if (!output) {
            /* KDA's default starting position is NOW */
            cJSON_AddStringToObject(o, "starting_position",
                                    c->o->starting_position ? c->o->starting_position : "LATEST");
        }
    }
    return o;
}

static int add_fields(ctx_t *c, const pipe_t *pp, cJSON *arr)
{
    for (size_t i = 0; i < pp->n_fields; i++) {
        const fcol_t *f = &pp->fields[i];
        rcfd_buf_t b = {0};
        int rc;
        if (f->def->kind == KX_COL && strcmp(f->def->name, f->name) == 0 &&
            mapped_path(c, f->name) == NULL) {
            rc = field_path(&b, f->name);
            rc = rc ? rc : rcfd_buf_putc(&b, '\0');
            if (rc == 0) {
                cJSON_AddItemToArray(arr, cJSON_CreateString(b.p));
            }
        } else {
            rc = render(c, &b, f->def, 0, 0);
            rc = rc ? rc : rcfd_buf_putc(&b, '\0');
            if (rc == 0) {
                char err[256];
                rcfd_expr_t *e;
                rc = rcfd_expr_compile(b.p, &e, err, sizeof err);
                rcfd_expr_free(e);
                if (rc == RCFD_ECONFIG) {
                    rcfd_buf_free(&b);
                    return cfail(c, f->def->pos,
                                 "column \"%s\" of the CURSOR of \"%s\" cannot be "
                                 "a derived field: %s",
                                 f->name, pp->pump->name, err);
                }
                if (rc == 0) {
                    cJSON *fo = cJSON_CreateObject();
                    cJSON_AddStringToObject(fo, "name", f->name);
                    cJSON_AddStringToObject(fo, "expr", b.p);
                    cJSON_AddItemToArray(arr, fo);
                }
            }
        }
        rcfd_buf_free(&b);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* The CURSOR's columns whose type the rest of the application showed not to be a number are
 * ignored, as KDA ignores them. */
static int drop_non_numeric(ctx_t *c, pipe_t *pp)
{
    size_t n = 0;
    for (size_t i = 0; i < pp->n_fields; i++) {
        const fcol_t *f = &pp->fields[i];
        const in_col_t *ic = f->def->kind == KX_COL ? find_in_col(c, f->def->name) : NULL;
        if (ic != NULL && ic->type == CT_OTHER) {
            int rc = note(c, pp->q->cursor->pos, NOTE_MAPPED,
                          "column \"%s\" (%s) of the CURSOR of \"%s\" is not numeric: ignored, "
                          "as %s ignores it",
                          f->name, ic->type_name ? ic->type_name : "not a number", pp->pump->name,
                          pp->q->func_name);
            if (rc != 0) {
                return rc;
            }
            continue;
        }
        pp->fields[n++] = *f;
    }
    pp->n_fields = n;
    return 0;
}

static int resolve_star_fields(ctx_t *c, pipe_t *pp)
{
    int rc = drop_non_numeric(c, pp);
    if (rc != 0 || !pp->star_open) {
        return rc;
    }
    /* "*" over an undeclared input: every numeric column found anywhere in the application */
    size_t cap = pp->n_fields + c->n_in_cols + 1;
    fcol_t *nf = kda_alloc(c->app, cap * sizeof *nf);
    if (nf == NULL) {
        return RCFD_ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < pp->n_fields; i++) {
        if (pp->fields[i].explicit_item) {
            nf[n++] = pp->fields[i];
        }
    }
    char names[768] = "";
    size_t off = 0;
    for (size_t i = 0; i < c->n_in_cols; i++) {
        const in_col_t *ic = &c->in_cols[i];
        if (ic->type == CT_OTHER) {
            continue;
        }
        int dup = 0;
        for (size_t k = 0; k < n; k++) {
            dup |= strcmp(nf[k].name, ic->name) == 0;
        }
        if (dup) {
            continue;
        }
        kda_expr_t *def = kda_alloc(c->app, sizeof *def);
        if (def == NULL) {
            return RCFD_ENOMEM;
        }
        def->kind = KX_COL;
        def->name = ic->name;
        def->pos = *pp->star_pos;
        nf[n].name = ic->name;
        nf[n].kind = CK_EXPR;
        nf[n].def = def;
        nf[n].type = ic->type;
        n++;
        if (off < sizeof names - 100) {
            off += (size_t)snprintf(
                names + off, sizeof names - off, "%s\"%s\" (%s%s%s)", off ? ", " : "", ic->name,
                ic->type_name ? ic->type_name : "type unknown, taken as a number",
                ic->typed_by ? " in " : "", ic->typed_by ? ic->typed_by : "");
        }
    }
    pp->fields = nf;
    pp->n_fields = n;
    if (n == 0) {
        return cfail(c, *pp->star_pos,
                     "CURSOR(SELECT STREAM * FROM \"%s\") reads every numeric "
                     "column of the input, whose columns the SQL does not say: "
                     "name them with --columns",
                     c->input->name);
    }
    return note(c, *pp->star_pos, NOTE_ASSUMED,
                "CURSOR(SELECT STREAM * FROM \"%s\") of \"%s\": the input's columns are not in the "
                "SQL (they are in its input schema); took the numeric ones the application passes "
                "on: %s. If the input has others, declare it with --columns",
                c->input->name, pp->pump->name, names);
}

static int build(ctx_t *c, cJSON *root)
{
    const kda_import_opts_t *o = c->o;
    spec_t src, out, dead;
    int rc = parse_spec(c, "--source", o->source_spec ? o->source_spec : "file:-", &src);
    if (rc != 0) {
        return rc;
    }
    /* outputs: the streams nothing reads */
    size_t n_out = 0;
    for (size_t i = 0; i < c->n_streams; i++) {
        stream_t *s = &c->streams[i];
        if (s == c->input) {
            continue;
        }
        if (s->writers == 0 && s->readers == 0) {
            if ((rc = note(c, s->decl->pos, NOTE_UNMAPPED,
                           "stream \"%s\" is created but no pump writes or reads it", s->name)) !=
                0) {
                return rc;
            }
            continue;
        }
        if (s->readers > 0) {
            continue;
        }
        int scored = 0;
        for (size_t f = 0; f < s->n_flows; f++) {
            scored |= s->flows[f]->pipeline >= 0;
        }
        if (scored) {
            s->output = (long)n_out++;
        }
    }
    if (n_out == 0) {
        return cfail(c, c->app->stmts[0].pos,
                     "no RANDOM_CUT_FOREST, "
                     "RANDOM_CUT_FOREST_WITH_EXPLANATION or HOTSPOTS "
                     "result reaches a stream that nothing reads");
    }
    const char *out_default = n_out == 1 ? "file:-" : "file:{stream}.jsonl";
    if ((rc = parse_spec(c, "--output", o->output_spec ? o->output_spec : out_default, &out)) !=
        0) {
        return rc;
    }
    if (o->dead_letter_spec != NULL &&
        (rc = parse_spec(c, "--dead-letter", o->dead_letter_spec, &dead)) != 0) {
        return rc;
    }
    /* sources */
    cJSON *sources = cJSON_AddArrayToObject(root, "sources");
    cJSON *so = endpoint(c, c->input->name, &src, src.arg, 0);
    cJSON_AddItemToArray(sources, so);
    if (o->csv) {
        cJSON_AddStringToObject(so, "format", "csv");
        if (o->csv_delimiter != NULL && strcmp(o->csv_delimiter, ",") != 0) {
            cJSON_AddStringToObject(so, "csv_delimiter", o->csv_delimiter);
        }
        if (src.type == 0) {
            cJSON_AddBoolToObject(so, "csv_header", 0);
        }
        cJSON *cols = cJSON_AddArrayToObject(so, "csv_columns");
        for (size_t i = 0; i < c->n_in_cols; i++) {
            cJSON_AddItemToArray(cols, cJSON_CreateString(c->in_cols[i].name));
        }
    }
    rc = note(c, c->input->first_use, NOTE_MAPPED,
              "input \"%s\" -> sources[0] (%s \"%s\", %s); "
              "its columns are the record's fields of the "
              "same name unless the input schema maps them",
              c->input->name,
              src.type == 0   ? "file"
              : src.type == 1 ? "kafka topic"
                              : "kinesis stream",
              src.arg, o->csv ? "CSV" : "JSON");
    if (rc != 0) {
        return rc;
    }
    /* outputs */
    cJSON *outputs = cJSON_AddArrayToObject(root, "outputs");
    for (size_t i = 0; i < c->n_streams; i++) {
        stream_t *s = &c->streams[i];
        if (s->output < 0) {
            continue;
        }
        spec_t os = out;
        for (size_t k = 0; k < o->n_out; k++) {
            if (strcmp(o->out_names[k], s->name) == 0 &&
                (rc = parse_spec(c, "--output", o->out_specs[k], &os)) != 0) {
                return rc;
            }
        }
        char *arg = expand_spec(c, os.arg, s->name);
        if (arg == NULL) {
            return RCFD_ENOMEM;
        }
        cJSON *oo = endpoint(c, s->name, &os, arg, 1);
        cJSON_AddStringToObject(oo, "style", "kda");
        const flow_t *filt = NULL;
        for (size_t f = 0; f < s->n_flows; f++) {
            const flow_t *fl = s->flows[f];
            if (fl->pipeline < 0) {
                if ((rc = note(c, s->decl->pos, NOTE_UNMAPPED,
                               "rows that %s writes into \"%s\" unscored are not written: rcfd's "
                               "outputs take scored records",
                               fl->via ? fl->via : "a pump", s->name)) != 0) {
                    cJSON_Delete(oo);
                    return rc;
                }
                continue;
            }
            if (filt != NULL && (fl->has_filter != filt->has_filter ||
                                 (fl->has_filter && fl->min_score != filt->min_score))) {
                cJSON_Delete(oo);
                return cfail(c, fl->has_filter ? fl->filter_pos : filt->filter_pos,
                             "the rows reaching \"%s\" are filtered differently on different "
                             "paths; an rcfd output has one min_score",
                             s->name);
            }
            filt = fl;
            pipe_t *pp = &c->pipes[fl->pipeline];
            int dup = 0;
            for (size_t k = 0; k < pp->n_outputs; k++) {
                dup |= pp->outputs[k] == s->output;
            }
            if (!dup) {
                pp->outputs[pp->n_outputs++] = s->output;
            }
        }
        if (filt->has_filter) {
            cJSON_AddNumberToObject(oo, "min_score", filt->min_score);
            rc = note(c, filt->filter_pos, NOTE_MAPPED,
                      "WHERE ANOMALY_SCORE %s %s -> outputs[%ld].min_score %s%s",
                      filt->strict ? ">" : ">=", filt->min_text, s->output, filt->min_text,
                      filt->strict ? " (rcfd keeps scores >= it: a score exactly equal is kept)"
                                   : "");
            if (rc != 0) {
                cJSON_Delete(oo);
                return rc;
            }
        }
        if (o->dead_letter_spec != NULL) {
            cJSON_AddStringToObject(oo, "dead_letter", "dead_letter");
        }
        cJSON_AddItemToArray(outputs, oo);
        int hotspots = 0, expl = 0, scored = 0;
        for (size_t k = 0; k < c->n_pipes; k++) {
            for (size_t m = 0; m < c->pipes[k].n_outputs; m++) {
                if (c->pipes[k].outputs[m] == s->output) {
                    hotspots |= c->pipes[k].q->func == KF_HOTSPOTS;
                    expl |= c->pipes[k].q->func == KF_RCFX;
                    scored |= c->pipes[k].q->func != KF_HOTSPOTS;
                }
            }
        }
        char adds[96];
        snprintf(adds, sizeof adds, "%s%s%s%s%s", scored ? "ANOMALY_SCORE" : "",
                 expl ? ", ANOMALY_EXPLANATION" : "", scored && hotspots ? ", " : "",
                 hotspots ? "HOTSPOTS_RESULT" : "", "");
        rc = note(c, s->decl->pos, NOTE_MAPPED,
                  "stream \"%s\" -> outputs[%ld] (%s \"%s\", style "
                  "kda)",
                  s->name, s->output,
                  os.type == 0   ? "file"
                  : os.type == 1 ? "kafka topic"
                                 : "kinesis stream",
                  arg);
        rc = rc ? rc
                : note(c, s->decl->pos, NOTE_UNMAPPED,
                       "the columns of \"%s\": rcfd writes each input record whole, plus %s (KDA "
                       "writes the columns the stream declares)",
                       s->name, adds);
        if (rc != 0) {
            return rc;
        }
    }
    if (o->dead_letter_spec != NULL) {
        cJSON *d = endpoint(c, "dead_letter", &dead, dead.arg, 1);
        cJSON_AddItemToArray(outputs, d);
    }
    /* pipelines */
    cJSON *pipes = cJSON_AddArrayToObject(root, "pipelines");
    for (size_t i = 0; i < c->n_pipes; i++) {
        pipe_t *pp = &c->pipes[i];
        c->construct = sprintf_arena(c, "CREATE PUMP \"%s\"", pp->pump->name);
        if ((rc = resolve_star_fields(c, pp)) != 0) {
            return rc;
        }
        if (pp->n_fields == 0) {
            return cfail(c, pp->q->cursor->pos, "the CURSOR of \"%s\" has no numeric column",
                         pp->pump->name);
        }
        if (pp->n_fields > 30) {
            return cfail(c, pp->q->cursor->pos, "%zu numeric columns; %s reads at most 30",
                         pp->n_fields, pp->q->func_name);
        }
        if (pp->n_outputs == 0) {
            return cfail(c, pp->pump->pos,
                         "the rows \"%s\" scores reach no stream that nothing "
                         "reads",
                         pp->pump->name);
        }
        cJSON *po = cJSON_CreateObject();
        cJSON_AddItemToArray(pipes, po);
        cJSON_AddStringToObject(po, "name", pp->pump->name);
        cJSON_AddStringToObject(po, "source", c->input->name);
        cJSON *fa = cJSON_AddArrayToObject(po, "fields");
        if ((rc = add_fields(c, pp, fa)) != 0) {
            return rc;
        }
        cJSON *oa = cJSON_AddArrayToObject(po, "outputs");
        for (size_t k = 0; k < pp->n_outputs; k++) {
            for (size_t s = 0; s < c->n_streams; s++) {
                if (c->streams[s].output == pp->outputs[k]) {
                    cJSON_AddItemToArray(oa, cJSON_CreateString(c->streams[s].name));
                }
            }
        }
        if (o->dead_letter_spec != NULL) {
            cJSON_AddStringToObject(po, "dead_letter", "dead_letter");
        }
        cJSON *models = cJSON_AddArrayToObject(po, "models");
        cJSON *m = cJSON_CreateObject();
        cJSON_AddItemToArray(models, m);
        char fields[512] = "";
        size_t off = 0;
        for (size_t k = 0; k < pp->n_fields && off < sizeof fields - 80; k++) {
            const fcol_t *f = &pp->fields[k];
            const char *mp = f->def->kind == KX_COL ? mapped_path(c, f->def->name) : NULL;
            if (mp != NULL) {
                off += (size_t)snprintf(fields + off, sizeof fields - off, "%s%s (from %s)",
                                        k ? ", " : "", f->name, mp);
            } else if (f->def->kind == KX_COL && strcmp(f->def->name, f->name) == 0) {
                off += (size_t)snprintf(fields + off, sizeof fields - off, "%s%s", k ? ", " : "",
                                        f->name);
            } else {
                off += (size_t)snprintf(fields + off, sizeof fields - off, "%s%s (derived)",
                                        k ? ", " : "", f->name);
            }
        }
        if (pp->q->func == KF_HOTSPOTS) {
            cJSON_AddStringToObject(m, "type", "hotspots");
            cJSON_AddNumberToObject(m, "window_size", (double)pp->window);
            cJSON_AddNumberToObject(m, "scan_radius", pp->radius);
            cJSON_AddNumberToObject(m, "min_points", (double)pp->min_points);
            rc =
                note(c, pp->q->func_pos, NOTE_MAPPED,
                     "HOTSPOTS(windowSize %ld, scanRadius %s, minimumNumberOfPointsInAHotspot %ld) "
                     "of \"%s\" -> pipelines[%zu], model hotspots (window_size, scan_radius, "
                     "min_points); fields %s",
                     pp->window, pp->radius_text, pp->min_points, pp->pump->name, i, fields);
        } else {
            cJSON_AddStringToObject(m, "type", "rcf");
            cJSON_AddNumberToObject(m, "number_of_trees", (double)pp->trees);
            cJSON_AddNumberToObject(m, "sub_sample_size", (double)pp->sample);
            cJSON_AddNumberToObject(m, "time_decay", (double)pp->decay);
            cJSON_AddNumberToObject(m, "shingle_size", (double)pp->shingle);
            cJSON_AddBoolToObject(m, "explain", pp->q->func == KF_RCFX);
            cJSON_AddNumberToObject(m, "recent_mean", 0);
            rc = note(c, pp->q->func_pos, NOTE_MAPPED,
                      "%s(numberOfTrees %ld, subSampleSize %ld, timeDecay %ld, shingleSize %ld%s) "
                      "of \"%s\" -> pipelines[%zu], model rcf with KDA's forest (recent_mean 0%s); "
                      "fields %s",
                      pp->q->func_name, pp->trees, pp->sample, pp->decay, pp->shingle,
                      pp->q->func == KF_RCFX ? (pp->direction ? ", withDirectionality TRUE"
                                                              : ", withDirectionality FALSE")
                                             : "",
                      pp->pump->name, i, pp->q->func == KF_RCFX ? ", explain true" : "", fields);
            if (rc == 0 && pp->q->n_args < 4) {
                rc = note(c, pp->q->func_pos, NOTE_MAPPED,
                          "omitted arguments of %s take KDA's defaults (numberOfTrees 100, "
                          "subSampleSize 256, timeDecay 100000, shingleSize 1)",
                          pp->q->func_name);
            }
            if (rc == 0 && pp->q->func == KF_RCFX && !pp->direction) {
                rc = note(c, pp->q->func_pos, NOTE_UNMAPPED,
                          "withDirectionality FALSE: rcfd's ANOMALY_EXPLANATION always has "
                          "DIRECTION and STRENGTH beside ATTRIBUTION_SCORE");
            }
        }
        for (size_t k = 0; rc == 0 && k < pp->n_fields; k++) {
            const fcol_t *f = &pp->fields[k];
            if (f->explicit_item && f->def->kind == KX_COL) {
                const in_col_t *ic = find_in_col(c, f->def->name);
                if (ic != NULL && ic->type == CT_UNKNOWN) {
                    rc = note(c, f->def->pos, NOTE_ASSUMED,
                              "column \"%s\" of the input has no declared type: taken as a "
                              "number",
                              f->def->name);
                }
            }
        }
        if (rc != 0) {
            return rc;
        }
    }
    c->construct = NULL;
    /* ROWTIME anywhere: rcfd adds none */
    return 0;
}

/* ---- JSON out: two-space indents, small objects and arrays on one line ---- */

static int json_inline(rcfd_buf_t *b, const cJSON *v);

static int json_scalar(rcfd_buf_t *b, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        return rcfd_buf_json_string(b, v->valuestring, strlen(v->valuestring));
    }
    if (cJSON_IsNumber(v)) {
        return rcfd_buf_json_double(b, v->valuedouble);
    }
    if (cJSON_IsBool(v)) {
        return rcfd_buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
    }
    return rcfd_buf_puts(b, "null");
}

static int json_inline(rcfd_buf_t *b, const cJSON *v)
{
    if (!cJSON_IsArray(v) && !cJSON_IsObject(v)) {
        return json_scalar(b, v);
    }
    int obj = cJSON_IsObject(v);
    int rc = rcfd_buf_putc(b, obj ? '{' : '[');
    for (const cJSON *it = v->child; rc == 0 && it != NULL; it = it->next) {
        if (obj) {
            rc = rcfd_buf_json_string(b, it->string, strlen(it->string));
            rc = rc ? rc : rcfd_buf_puts(b, ": ");
        }
        rc = rc ? rc : json_inline(b, it);
        rc = rc ? rc : it->next ? rcfd_buf_puts(b, ", ") : 0;
    }
    return rc ? rc : rcfd_buf_putc(b, obj ? '}' : ']');
}

static int json_pretty(rcfd_buf_t *b, const cJSON *v, int indent, size_t width)
{
    if (!cJSON_IsArray(v) && !cJSON_IsObject(v)) {
        return json_scalar(b, v);
    }
    rcfd_buf_t one = {0};
    int rc = json_inline(&one, v);
    if (rc == 0 && (size_t)indent + one.len <= width && indent > 0) {
        rc = rcfd_buf_append(b, one.p, one.len);
        rcfd_buf_free(&one);
        return rc;
    }
    rcfd_buf_free(&one);
    int obj = cJSON_IsObject(v);
    rc = rc ? rc : rcfd_buf_putc(b, obj ? '{' : '[');
    for (const cJSON *it = v->child; rc == 0 && it != NULL; it = it->next) {
        rc = rcfd_buf_printf(b, "\n%*s", indent + 2, "");
        size_t key = 0;
        if (rc == 0 && obj) {
            size_t before = b->len;
            rc = rcfd_buf_json_string(b, it->string, strlen(it->string));
            rc = rc ? rc : rcfd_buf_puts(b, ": ");
            key = b->len - before;
        }
        rc = rc ? rc : json_pretty(b, it, indent + 2, width > key ? width - key : 0);
        rc = rc ? rc : it->next ? rcfd_buf_putc(b, ',') : 0;
    }
    return rc ? rc : rcfd_buf_printf(b, "\n%*s%c", indent, "", obj ? '}' : ']');
}

/* Checks the config with the daemon's parser, with file endpoints for the Kafka and Kinesis
 * ones (their ${ENV} settings need not be set where the import runs). */
static int validate(ctx_t *c, const cJSON *root)
{
    cJSON *copy = cJSON_Duplicate(root, 1);
    if (copy == NULL) {
        return RCFD_ENOMEM;
    }
    const char *lists[] = {"sources", "outputs"};
    for (int l = 0; l < 2; l++) {
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(copy, lists[l]), *it;
        cJSON_ArrayForEach(it, arr)
        {
            const char *keep[] = {"name",        "style",         "min_score",
                                  "dead_letter", "format",        "csv_header",
                                  "csv_columns", "csv_delimiter", NULL};
            cJSON *x = cJSON_CreateObject();
            for (int k = 0; keep[k] != NULL; k++) {
                cJSON *v = cJSON_GetObjectItemCaseSensitive(it, keep[k]);
                if (v != NULL) {
                    cJSON_AddItemToObject(x, keep[k], cJSON_Duplicate(v, 1));
                }
            }
            cJSON_AddStringToObject(x, "type", "file");
            cJSON_AddStringToObject(x, "path", "-");
            if (l == 0 && cJSON_GetObjectItemCaseSensitive(x, "csv_header") == NULL &&
                cJSON_GetObjectItemCaseSensitive(x, "format") != NULL) {
                cJSON_AddBoolToObject(x, "csv_header", 0);
            }
            cJSON_ReplaceItemViaPointer(arr, it, x);
            it = x;
        }
    }
    char *text = cJSON_PrintUnformatted(copy);
    cJSON_Delete(copy);
    if (text == NULL) {
        return RCFD_ENOMEM;
    }
    rcfd_config_t *cfg;
    char err[768];
    int rc = rcfd_config_parse(text, strlen(text), &cfg, err, sizeof err);
    cJSON_free(text);
    if (rc == RCFD_ENOMEM) {
        return rc;
    }
    if (rc != 0) {
        return rcfd_errf(RCFD_EMALFORMED, c->errstr, c->es,
                         "the generated config does not load (a bug in rcfd kda import): %s", err);
    }
    rcfd_config_free(cfg);
    return 0;
}

static int write_report(ctx_t *c, rcfd_buf_t *r, size_t n_sources, size_t n_outputs)
{
    int rc = rcfd_buf_printf(r, "%zu statements -> %zu source, %zu pipeline%s, %zu output%s\n",
                             c->app->n_stmts, n_sources, c->n_pipes, c->n_pipes == 1 ? "" : "s",
                             n_outputs, n_outputs == 1 ? "" : "s");
    static const char *const heads[] = {
        "mapped:", "assumed:", "not mapped (scores are unchanged):"};
    for (int kind = 0; rc == 0 && kind < 3; kind++) {
        int any = 0;
        for (size_t i = 0; rc == 0 && i < c->n_notes; i++) {
            const note_t *n = &c->notes[i];
            if (n->kind != kind) {
                continue;
            }
            if (!any) {
                rc = rcfd_buf_printf(r, "%s\n", heads[kind]);
                any = 1;
            }
            char at[32];
            snprintf(at, sizeof at, "%u:%u", n->pos.line, n->pos.col);
            rc = rc ? rc : rcfd_buf_printf(r, "  %-7s %s\n", at, n->text);
        }
    }
    return rc;
}

/* Notes sorted by position, stable (insertion sort: a few dozen). */
static void sort_notes(ctx_t *c)
{
    for (size_t i = 1; i < c->n_notes; i++) {
        note_t n = c->notes[i];
        size_t j = i;
        while (j > 0 &&
               (c->notes[j - 1].pos.line > n.pos.line ||
                (c->notes[j - 1].pos.line == n.pos.line && c->notes[j - 1].pos.col > n.pos.col))) {
            c->notes[j] = c->notes[j - 1];
            j--;
        }
        c->notes[j] = n;
    }
}

static int rowtime_used(const kda_query_t *q)
{
    for (size_t i = 0; q != NULL && i < q->n_items; i++) {
        const kda_expr_t *e = q->items[i].expr;
        if (e != NULL && e->kind == KX_COL && strcmp(e->name, "ROWTIME") == 0) {
            return 1;
        }
    }
    return 0;
}

int kda_import(const char *sql, size_t len, const kda_import_opts_t *opts, rcfd_buf_t *config,
               rcfd_buf_t *report, char *errstr, size_t es)
{
    kda_app_t *app;
    int rc = kda_parse(sql, len, &app, errstr, es);
    if (rc != 0) {
        return rc;
    }
    ctx_t c = {0};
    c.app = app;
    c.o = opts;
    c.errstr = errstr;
    c.es = es;
    cJSON *root = NULL;
    if ((rc = collect_streams(&c)) != 0 || (rc = declare_input(&c)) != 0 ||
        (rc = run_chain(&c)) != 0) {
        goto done;
    }
    for (size_t i = 0; i < app->n_stmts && rc == 0; i++) {
        const kda_stmt_t *st = &app->stmts[i];
        if (st->kind == KDA_PUMP && rowtime_used(st->query)) {
            rc = note(&c, st->query->pos, NOTE_UNMAPPED,
                      "ROWTIME in \"%s\": rcfd writes no ROWTIME column (add a timestamp field to "
                      "the records)",
                      st->name);
        }
    }
    root = cJSON_CreateObject();
    if (rc != 0 || root == NULL || (rc = build(&c, root)) != 0 || (rc = validate(&c, root)) != 0) {
        rc = rc ? rc : RCFD_ENOMEM;
        goto done;
    }
    sort_notes(&c);
    rc = json_pretty(config, root, 0, 100);
    rc = rc ? rc : rcfd_buf_putc(config, '\n');
    cJSON *outs = cJSON_GetObjectItemCaseSensitive(root, "outputs");
    rc = rc ? rc : write_report(&c, report, 1, (size_t)cJSON_GetArraySize(outs));
done:
    if (rc == RCFD_ENOMEM) {
        rcfd_errf(rc, errstr, es, "out of memory");
    }
    cJSON_Delete(root);
    kda_app_free(app);
    return rc;
}
