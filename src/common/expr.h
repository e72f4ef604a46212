/* Derived-field expressions: arithmetic over a record's numeric fields.
 *
 *   expr    := term { ("+" | "-") term }
 *   term    := unary { ("*" | "/") unary }
 *   unary   := "-" unary | primary
 *   primary := NUMBER | FIELD | "(" expr ")"
 *   FIELD   := [A-Za-z_][A-Za-z0-9_.]*  (a field path, as in "fields")  |  "\"" chars "\""
 *              (a quoted name for anything else; "" inside is one ")
 *
 * Typed: every value is a number (a double); the compiler rejects anything that is not (strings,
 * functions, comparisons), an expression without a field (a constant is not a dimension) and a
 * division by the constant 0. It compiles once, at config load, into a postfix program with a
 * fixed stack depth, so rcfd_expr_eval() allocates nothing and cannot fail except on a result that
 * is not a finite float (a division by a field that is 0, an overflow).
 *
 * Ownership: rcfd_expr_compile() gives the caller a program that only rcfd_expr_free() frees.
 * A compiled program is immutable: any number of threads may evaluate it at once. No I/O. */
#ifndef RCFD_COMMON_EXPR_H
#define RCFD_COMMON_EXPR_H

#include <stddef.h>

#define RCFD_EXPR_MAX_LEN 1024 /* bytes of source text */
#define RCFD_EXPR_MAX_OPS 256  /* postfix instructions */
#define RCFD_EXPR_MAX_DEPTH 32 /* evaluation stack, and nesting of parentheses and minus signs */
#define RCFD_EXPR_MAX_REFS 64  /* distinct fields */

typedef struct rcfd_expr rcfd_expr_t;

/* Compiles `src`. Errors are RCFD_ECONFIG with "column N: ..." naming the byte (1-based) and
 * what was expected; RCFD_ENOMEM. */
int rcfd_expr_compile(const char *src, rcfd_expr_t **out, char *errstr, size_t errstr_size);

/* The text it was compiled from (owned by the program). */
const char *rcfd_expr_source(const rcfd_expr_t *e);

/* The distinct fields the expression reads, in order of first use: eval takes their values in
 * this order. Names are owned by the program. */
size_t rcfd_expr_n_refs(const rcfd_expr_t *e);
const char *rcfd_expr_ref(const rcfd_expr_t *e, size_t i);

/* Evaluates with refs[i] the value of rcfd_expr_ref(e, i). Returns 0, or RCFD_ENONFINITE when the
 * result is NaN, infinite or outside the float range (*out is then unspecified). */
int rcfd_expr_eval(const rcfd_expr_t *e, const double *refs, double *out);

void rcfd_expr_free(rcfd_expr_t *e);

#endif
