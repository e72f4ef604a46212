#include "train/linear.h"

#include <math.h>
#include <string.h>

#include "common/errstr.h"
#include "common/keytab.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"

#define MAX_KEYS (1u << 20)

/* Per key and field: the last observed value and the missing records waiting for the next. */
typedef struct gap {
    uint64_t ord;  /* the key's record count at the missing record */
    size_t line;
} gap_t;

typedef struct field_state {
    int has_last;
    double last;
    uint64_t last_ord;
    gap_t *gaps; /* at most lookahead of them: older ones cannot have a next value in reach */
    size_t n_gaps, first;
} field_state_t;

typedef struct key_state {
    uint64_t ord;
    field_state_t f[];
} key_state_t;

typedef struct plan_ctx {
    rcfd_linear_plan_t *p;
    size_t lookahead;
    rcfd_keytab_t *keys;
    char *err;
    size_t es;
} plan_ctx_t;

static void free_key(void *value, void *ud)
{
    key_state_t *k = value;
    size_t n = *(const size_t *)ud;
    for (size_t i = 0; i < n; i++) {
        rcfd_free(k->f[i].gaps);
    }
    rcfd_free(k);
}

static int grow_lines(rcfd_linear_plan_t *p, size_t lines)
{
    if (lines <= p->n_lines) {
        return 0;
    }
    size_t cap = p->n_lines ? p->n_lines : 1024;
    while (cap < lines) {
        cap *= 2;
    }
    double *v = rcfd_realloc(p->v, cap * p->n_fields * sizeof *v);
    if (v == NULL) {
        return RCFD_ENOMEM;
    }
    for (size_t i = p->n_lines * p->n_fields; i < cap * p->n_fields; i++) {
        v[i] = NAN;
    }
    p->v = v;
    p->n_lines = cap;
    return 0;
}

static int on_row(void *ud, const rcfd_input_row_t *row)
{
    plan_ctx_t *c = ud;
    rcfd_linear_plan_t *p = c->p;
    if (row->bad != NULL) {
        return 0; /* a dead letter: not a record of the key */
    }
    key_state_t *k = rcfd_keytab_get(c->keys, row->key, row->key_len);
    if (k == NULL) {
        k = rcfd_calloc(1, sizeof *k + p->n_fields * sizeof k->f[0]);
        if (k == NULL || rcfd_keytab_put(c->keys, row->key, row->key_len, k) != 0) {
            rcfd_free(k);
            return rcfd_errf(RCFD_ENOMEM, c->err, c->es, "out of memory");
        }
    }
    if (grow_lines(p, row->line) != 0) {
        return rcfd_errf(RCFD_ENOMEM, c->err, c->es, "out of memory");
    }
    uint64_t t = k->ord++;
    for (size_t i = 0; i < p->n_fields; i++) {
        field_state_t *f = &k->f[i];
        if (row->missing[i]) {
            if (!f->has_last) {
                continue; /* nothing before it: no interpolation */
            }
            if (f->gaps == NULL && (f->gaps = rcfd_calloc(c->lookahead, sizeof *f->gaps)) == NULL) {
                return rcfd_errf(RCFD_ENOMEM, c->err, c->es, "out of memory");
            }
            if (f->n_gaps == c->lookahead) { /* the oldest is out of reach of any next value */
                f->first = (f->first + 1) % c->lookahead;
                f->n_gaps--;
            }
            f->gaps[(f->first + f->n_gaps++) % c->lookahead] = (gap_t){t, row->line};
            continue;
        }
        double v1 = row->values[i];
        for (size_t g = 0; g < f->n_gaps; g++) {
            const gap_t *gp = &f->gaps[(f->first + g) % c->lookahead];
            if (t - gp->ord <= c->lookahead) {
                double w = (double)(gp->ord - f->last_ord) / (double)(t - f->last_ord);
                p->v[(gp->line - 1) * p->n_fields + i] = f->last + w * (v1 - f->last);
            }
        }
        f->n_gaps = f->first = 0;
        f->has_last = 1;
        f->last = v1;
        f->last_ord = t;
    }
    return 0;
}

int rcfd_linear_plan_build(const rcfd_input_spec_t *spec, size_t lookahead,
                           rcfd_linear_plan_t *out, char *errstr, size_t es)
{
    memset(out, 0, sizeof *out);
    out->n_fields = spec->fields->n;
    size_t n_fields = out->n_fields;
    plan_ctx_t c = {out, lookahead > 0 ? lookahead : 1, NULL, errstr, es};
    if (rcfd_keytab_new(MAX_KEYS, free_key, &n_fields, &c.keys) != 0) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    rcfd_input_spec_t s = *spec;
    s.allow_missing = 1;
    s.timestamp = s.label = NULL;
    int rc = rcfd_input_read(&s, on_row, &c, errstr, es);
    rcfd_keytab_destroy(c.keys);
    if (rc != 0) {
        rcfd_linear_plan_free(out);
    }
    return rc;
}

int rcfd_linear_plan_fill(const rcfd_linear_plan_t *p, uint64_t line, double *values,
                          const unsigned char *missing, size_t n)
{
    if (line == 0 || line > p->n_lines || n != p->n_fields) {
        return RCFD_EAGAIN;
    }
    const double *v = p->v + (line - 1) * p->n_fields;
    for (size_t i = 0; i < n; i++) {
        if (missing[i] && isnan(v[i])) {
            return RCFD_EAGAIN;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (missing[i]) {
            values[i] = v[i];
        }
    }
    return 0;
}

void rcfd_linear_plan_free(rcfd_linear_plan_t *p)
{
    rcfd_free(p->v);
    memset(p, 0, sizeof *p);
}
