/* The SQL of a Kinesis Data Analytics application, as far as anomaly-detection apps use it: a
 * hand-written tokenizer and recursive-descent parser into a small syntax tree.
 *
 *   app     := { stmt ";" }
 *   stmt    := CREATE [OR REPLACE] STREAM name "(" column { "," column } ")"
 *            | CREATE [OR REPLACE] PUMP name AS INSERT INTO name [ "(" name { "," name } ")" ]
 * query column  := name type [ "(" NUMBER [ "," NUMBER ] ")" ] [ NOT NULL ] query   := SELECT
 * [STREAM] items FROM source [ WHERE cond ] [ ORDER BY ... ] items   := "*" | item { "," item };
 * item := [name "."] "*" | expr [ [AS] name ] source  := name [ [AS] alias ] | TABLE "(" FUNC "("
 * CURSOR "(" query ")" { "," literal } ")" ")" [ [AS] alias ] FUNC    := RANDOM_CUT_FOREST |
 * RANDOM_CUT_FOREST_WITH_EXPLANATION | HOTSPOTS expr    := arithmetic (+ - * /, unary minus,
 * parentheses) over numbers and [name "."] name, and CAST "(" expr AS type ")" cond    := pred {
 * AND pred };   pred := operand ( > | >= | < | <= | = | <> ) operand
 *
 * Identifiers are SQL's: unquoted ones are case-insensitive (kept upper case), "quoted" ones keep
 * their case ("" is a quote). Comments are -- to the end of the line and slash-star blocks.
 * Anything else (GROUP BY, JOIN, windows, other functions, other statements) is an error that
 * names the line and column and the construct: "12:5: GROUP BY is not supported ...". ORDER BY
 * is parsed over and recorded (rcfd writes records in arrival order).
 *
 * Ownership: kda_parse() gives the caller an app that only kda_app_free() frees; every node lives
 * in the app's arena. No I/O. */
#ifndef RCFD_KDA_SQL_H
#define RCFD_KDA_SQL_H

#include <stdarg.h>
#include <stddef.h>

typedef struct kda_pos {
    unsigned line, col; /* 1-based; columns count characters */
} kda_pos_t;

typedef enum kda_expr_kind {
    KX_NUM,
    KX_COL,
    KX_NEG,
    KX_ADD,
    KX_SUB,
    KX_MUL,
    KX_DIV
} kda_expr_kind_t;

typedef struct kda_expr {
    kda_expr_kind_t kind;
    kda_pos_t pos;
    double num;       /* KX_NUM */
    const char *qual; /* KX_COL: the stream or alias before the dot, or NULL */
    const char *name; /* KX_COL */
    const char *text; /* KX_NUM: the literal as written */
    struct kda_expr *a, *b;
} kda_expr_t;

typedef struct kda_item {
    kda_pos_t pos;
    int star;          /* "*" or qual.* */
    const char *qual;  /* qual.* */
    kda_expr_t *expr;  /* when not a star */
    const char *alias; /* AS name, or NULL */
} kda_item_t;

typedef enum kda_func { KF_NONE, KF_RCF, KF_RCFX, KF_HOTSPOTS } kda_func_t;

typedef struct kda_arg {
    kda_pos_t pos;
    int is_bool;
    int bval;
    double num;
    const char *text;
} kda_arg_t;

enum { KDA_GT, KDA_GE, KDA_LT, KDA_LE, KDA_EQ, KDA_NE };

/* One comparison: a column against a number (written either way round; normalized to col OP num).
 */
typedef struct kda_pred {
    kda_pos_t pos;
    const char *qual, *col;
    int op;
    double value;
    const char *text; /* the number as written */
} kda_pred_t;

#define KDA_MAX_ARGS 8

typedef struct kda_query {
    kda_pos_t pos;
    kda_item_t *items;
    size_t n_items;
    /* FROM a stream ... */
    const char *from;
    kda_pos_t from_pos;
    /* ... or FROM TABLE(func(CURSOR(cursor), args)) */
    kda_func_t func;
    const char *func_name;
    kda_pos_t func_pos;
    struct kda_query *cursor;
    kda_arg_t args[KDA_MAX_ARGS];
    size_t n_args;
    const char *alias;
    kda_pred_t *where;
    size_t n_where;
    int order_by;
    kda_pos_t order_pos;
} kda_query_t;

typedef struct kda_column {
    kda_pos_t pos;
    const char *name;
    const char *type; /* upper case, without its (length) */
    int numeric;      /* one of the types RANDOM_CUT_FOREST reads */
} kda_column_t;

typedef enum kda_stmt_kind { KDA_STREAM, KDA_PUMP } kda_stmt_kind_t;

typedef struct kda_stmt {
    kda_stmt_kind_t kind;
    kda_pos_t pos;
    const char *name;
    kda_pos_t name_pos;
    kda_column_t *cols; /* STREAM */
    size_t n_cols;
    const char *target; /* PUMP: INSERT INTO target [(target_cols)] query */
    kda_pos_t target_pos;
    const char **target_cols;
    size_t n_target_cols;
    kda_query_t *query;
} kda_stmt_t;

typedef struct kda_app {
    kda_stmt_t *stmts;
    size_t n_stmts;
    struct kda_arena *arena;
} kda_app_t;

/* Parses sql[0..len). Errors are RCFD_EMALFORMED with "LINE:COL: message" in errstr. */
int kda_parse(const char *sql, size_t len, kda_app_t **out, char *errstr, size_t errstr_size);
void kda_app_free(kda_app_t *app);

/* Whether a SQL type name (upper case) is one RANDOM_CUT_FOREST and HOTSPOTS read: DOUBLE,
 * INTEGER, FLOAT, TINYINT, SMALLINT, REAL, BIGINT (not DECIMAL). */
int kda_type_numeric(const char *type);
const char *kda_func_sql_name(kda_func_t f);

/* Arena strings for the importer: a copy of s[0..n) in the app's arena (NULL when out of memory).
 */
char *kda_strdup(kda_app_t *app, const char *s, size_t n);
void *kda_alloc(kda_app_t *app, size_t size);

/* Writes "LINE:COL: <fmt...>" (and " (in CONSTRUCT)" when construct is not NULL) to errstr and
 * returns RCFD_EMALFORMED: the one shape of every parse and import error. */
int kda_failv(char *errstr, size_t es, const char *construct, kda_pos_t pos, const char *fmt,
              va_list ap) __attribute__((format(printf, 5, 0)));

#endif
