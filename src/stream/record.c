#include "stream/record.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "config/schema.h"

int rcfd_field_compile(rcfd_field_t *f, const char *spec)
{
    memset(f, 0, sizeof *f);
    f->column = -1;
    f->name = rcfd_strdup(spec);
    size_t len = strlen(spec);
    f->segs = rcfd_calloc(len + 1, sizeof *f->segs);
    char *tmp = rcfd_malloc(len + 1);
    if (f->name == NULL || f->segs == NULL || tmp == NULL) {
        rcfd_free(tmp);
        rcfd_field_free(f);
        return RCFD_ENOMEM;
    }
    size_t t = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && spec[i] == '\\' && i + 1 < len && spec[i + 1] == '.') {
            tmp[t++] = '.';
            i++;
        } else if (i == len || spec[i] == '.') {
            f->segs[f->n_segs] = rcfd_strndup(tmp, t);
            if (f->segs[f->n_segs] == NULL) {
                rcfd_free(tmp);
                rcfd_field_free(f);
                return RCFD_ENOMEM;
            }
            f->n_segs++;
            t = 0;
        } else {
            tmp[t++] = spec[i];
        }
    }
    rcfd_free(tmp);
    return 0;
}

static int all_digits(const char *s)
{
    if (*s == '\0') {
        return 0;
    }
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s)) {
            return 0;
        }
    }
    return 1;
}

int rcfd_field_resolve_csv(rcfd_field_t *f, const rcfd_strlist_t *columns)
{
    f->column = -1;
    for (size_t i = 0; columns != NULL && i < columns->n; i++) {
        if (strcmp(columns->v[i], f->name) == 0) {
            f->column = (long)i;
            return 0;
        }
    }
    if (all_digits(f->name) && strlen(f->name) < 9) {
        f->column = atol(f->name);
        return 0;
    }
    return RCFD_ENOENT;
}

void rcfd_field_free(rcfd_field_t *f)
{
    for (size_t i = 0; f->segs != NULL && i < f->n_segs; i++) {
        rcfd_free(f->segs[i]);
    }
    rcfd_free(f->segs);
    rcfd_free(f->name);
    memset(f, 0, sizeof *f);
}

int rcfd_csv_split(rcfd_record_t *r, const char *data, size_t len, char delim, char *reason,
                   size_t rs)
{
    rcfd_buf_reset(&r->cells);
    r->n_cols = 0;
    /* Tolerate the line terminator of files written on Windows. */
    if (len > 0 && data[len - 1] == '\r') {
        len--;
    }
    size_t i = 0;
    for (;;) {
        if (r->n_cols == r->cap_cols) {
            size_t cap = r->cap_cols ? r->cap_cols * 2 : 16;
            size_t *o = rcfd_realloc(r->offs, cap * sizeof *o);
            if (o == NULL) {
                return RCFD_ENOMEM;
            }
            r->offs = o;
            r->cap_cols = cap;
        }
        r->offs[r->n_cols++] = r->cells.len;
        if (i < len && data[i] == '"') {
            i++;
            for (;;) {
                if (i >= len) {
                    return rcfd_errf(RCFD_EMALFORMED, reason, rs,
                                     "CSV: unterminated quoted cell in column %zu", r->n_cols - 1);
                }
                if (data[i] == '"') {
                    if (i + 1 < len && data[i + 1] == '"') {
                        rcfd_buf_putc(&r->cells, '"');
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                rcfd_buf_putc(&r->cells, data[i++]);
            }
            if (i < len && data[i] != delim) {
                return rcfd_errf(RCFD_EMALFORMED, reason, rs,
                                 "CSV: text after the closing quote in column %zu",
                                 r->n_cols - 1);
            }
        } else {
            size_t start = i;
            while (i < len && data[i] != delim) {
                if (data[i] == '"') {
                    return rcfd_errf(RCFD_EMALFORMED, reason, rs,
                                     "CSV: quote inside an unquoted cell in column %zu",
                                     r->n_cols - 1);
                }
                i++;
            }
            if (rcfd_buf_append(&r->cells, data + start, i - start) != 0) {
                return RCFD_ENOMEM;
            }
        }
        if (rcfd_buf_putc(&r->cells, '\0') != 0) {
            return RCFD_ENOMEM;
        }
        if (i >= len) {
            break;
        }
        i++; /* delimiter */
    }
    return 0;
}

/* ---- JSON fast path ---- */

static const cJSON *json_lookup(const rcfd_record_t *r, const rcfd_field_t *f);

enum { JT_OBJ = 1, JT_ARR, JT_STR, JT_NUM, JT_TRUE, JT_FALSE, JT_NULL, JT_KEY };

#define JT_MAX_DEPTH 64 /* deeper goes to cJSON (its limit is 1000) */

typedef struct jparse {
    rcfd_record_t *r;
    const char *s;
    size_t len, i;
    int depth;
    int ws; /* whitespace was skipped somewhere */
} jparse_t;

static int is_ws(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline void jp_ws(jparse_t *p)
{
    if (p->i < p->len && (unsigned char)p->s[p->i] > ' ') {
        return; /* the common case: no whitespace (every JSON whitespace byte is <= ' ') */
    }
    size_t i0 = p->i;
    while (p->i < p->len && is_ws(p->s[p->i])) {
        p->i++;
    }
    p->ws |= p->i != i0;
}

static inline int jp_push(jparse_t *p, uint32_t type, size_t start, size_t len, size_t *idx)
{
    rcfd_record_t *r = p->r;
    if (__builtin_expect(r->n_toks == r->cap_toks, 0)) {
        size_t cap = r->cap_toks ? r->cap_toks * 2 : 32;
        rcfd_jtok_t *t = rcfd_realloc(r->toks, cap * sizeof *t);
        if (t == NULL) {
            return RCFD_ENOMEM;
        }
        r->toks = t;
        r->cap_toks = cap;
    }
    *idx = r->n_toks++;
    r->toks[*idx] = (rcfd_jtok_t){
        .start = (uint32_t)start, .len = (uint32_t)len, .end = (uint32_t)r->n_toks, .type = type};
    return 0;
}

/* A string with no escapes and no control characters (else 1: cJSON decodes it). */
static int jp_string(jparse_t *p, uint32_t type)
{
    const char *s = p->s; /* locals: the scan stays in registers */
    size_t start = p->i + 1, n = p->len;
    for (size_t i = start; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') {
            size_t idx;
            p->i = i + 1;
            return jp_push(p, type, start, i - start, &idx);
        }
        if (c == '\\' || c < 0x20) {
            return 1;
        }
    }
    return 1;
}

static int jp_value(jparse_t *p);

/* Returns 0, 1 (not the fast path's: use cJSON) or RCFD_ENOMEM. */
static int jp_container(jparse_t *p, int obj)
{
    if (++p->depth > JT_MAX_DEPTH) {
        return 1;
    }
    size_t idx;
    int rc = jp_push(p, obj ? JT_OBJ : JT_ARR, p->i, 0, &idx);
    if (rc != 0) {
        return rc;
    }
    size_t start = p->i++;
    char close = obj ? '}' : ']';
    jp_ws(p);
    if (p->i < p->len && p->s[p->i] == close) {
        p->i++;
    } else {
        for (;;) {
            if (obj) {
                jp_ws(p);
                if (p->i >= p->len || p->s[p->i] != '"') {
                    return 1;
                }
                if ((rc = jp_string(p, JT_KEY)) != 0) {
                    return rc;
                }
                jp_ws(p);
                if (p->i >= p->len || p->s[p->i] != ':') {
                    return 1;
                }
                p->i++;
            }
            if ((rc = jp_value(p)) != 0) {
                return rc;
            }
            jp_ws(p);
            if (p->i < p->len && p->s[p->i] == ',') {
                p->i++;
                continue;
            }
            if (p->i < p->len && p->s[p->i] == close) {
                p->i++;
                break;
            }
            return 1;
        }
    }
    p->r->toks[idx].len = (uint32_t)(p->i - start);
    p->r->toks[idx].end = (uint32_t)p->r->n_toks;
    p->depth--;
    return 0;
}

/* Length of the strict JSON number at s[0..n), 0 if there is none. */
static size_t number_len(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-') {
        i++;
    }
    if (i < n && s[i] == '0') {
        i++;
    } else if (i < n && isdigit((unsigned char)s[i])) {
        while (i < n && isdigit((unsigned char)s[i])) {
            i++;
        }
    } else {
        return 0;
    }
    if (i < n && s[i] == '.') {
        if (++i >= n || !isdigit((unsigned char)s[i])) {
            return 0;
        }
        while (i < n && isdigit((unsigned char)s[i])) {
            i++;
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        if (i >= n || !isdigit((unsigned char)s[i])) {
            return 0;
        }
        while (i < n && isdigit((unsigned char)s[i])) {
            i++;
        }
    }
    return i;
}

static int jp_value(jparse_t *p)
{
    jp_ws(p);
    if (p->i >= p->len) {
        return 1;
    }
    const char *s = p->s + p->i;
    size_t left = p->len - p->i, idx;
    switch (*s) {
    case '{':
        return jp_container(p, 1);
    case '[':
        return jp_container(p, 0);
    case '"':
        return jp_string(p, JT_STR);
    case 't':
    case 'f':
    case 'n': {
        static const char *const lit[] = {"true", "false", "null"};
        int k = *s == 't' ? 0 : *s == 'f' ? 1 : 2;
        size_t n = strlen(lit[k]);
        if (left < n || memcmp(s, lit[k], n) != 0) {
            return 1;
        }
        p->i += n;
        return jp_push(p, k == 0 ? JT_TRUE : k == 1 ? JT_FALSE : JT_NULL, (size_t)(s - p->s), n,
                       &idx);
    }
    default: {
        size_t n = number_len(s, left);
        /* cJSON reads at most 63 characters of a number: longer ones are its to judge. */
        if (n == 0 || n >= 63) {
            return 1;
        }
        p->i += n;
        return jp_push(p, JT_NUM, (size_t)(s - p->s), n, &idx);
    }
    }
}

/* 0: decoded into r->toks; 1: not plain JSON (cJSON decides); RCFD_ENOMEM. */
static int fast_parse(rcfd_record_t *r, const char *data, size_t len)
{
    if (len > UINT32_MAX - 1) {
        return 1;
    }
    jparse_t p = {.r = r, .s = data, .len = len};
    r->n_toks = 0;
    jp_ws(&p);
    if (p.i >= len || data[p.i] != '{') {
        return 1;
    }
    int rc = jp_container(&p, 1);
    if (rc != 0) {
        return rc;
    }
    jp_ws(&p);
    if (p.i != len) {
        return 1;
    }
    /* Strict JSON with no escape, no control character in a string and no whitespace: what
     * json_minify would copy, byte for byte. */
    r->compact = !p.ws;
    return 0;
}

/* strtod's value of a strict JSON number token. Exact in double arithmetic when the digits fit
 * 2^53 and the power of ten is at most 22 (both operands exact, one correctly rounded operation);
 * strtod otherwise. */
static double number_value(const char *s, size_t n)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t i = 0;
    int neg = s[0] == '-';
    i += (size_t)neg;
    uint64_t m = 0;
    int digits = 0, exp10 = 0;
    for (; i < n && isdigit((unsigned char)s[i]); i++) {
        m = m * 10 + (uint64_t)(s[i] - '0');
        digits += m != 0;
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && isdigit((unsigned char)s[i]); i++) {
            m = m * 10 + (uint64_t)(s[i] - '0');
            digits += m != 0;
            exp10--;
        }
    }
    if (i < n || digits > 15) {
        char tmp[64]; /* an exponent, or too many digits: strtod (tokens are < 63 bytes) */
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        return strtod(tmp, NULL);
    }
    double v = (double)m;
    if (exp10 < -22) {
        char tmp[64];
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        return strtod(tmp, NULL);
    }
    v = exp10 < 0 ? v / p10[-exp10] : v;
    return neg ? -v : v;
}

int rcfd_record_parse(rcfd_record_t *r, int format, const char *data, size_t len, char delim,
                      const rcfd_strlist_t *columns, char *reason, size_t rs)
{
    cJSON_Delete(r->json); /* a record parsed again without rcfd_record_clear */
    r->json = NULL;
    r->n_toks = 0;
    r->have_printed = 0;
    r->compact = 0;
    r->format = format;
    r->data = data;
    r->len = len;
    r->columns = columns;
    if (format == RCFD_FORMAT_CSV) {
        return rcfd_csv_split(r, data, len, delim, reason, rs);
    }
    if (!r->cjson_only) {
        int rc = fast_parse(r, data, len);
        if (rc <= 0) {
            return rc;
        }
        r->n_toks = 0;
    }
    const char *end = NULL;
    r->json = cJSON_ParseWithLengthOpts(data, len, &end, 0);
    if (r->json == NULL) {
        size_t at = end != NULL && end >= data ? (size_t)(end - data) : 0;
        return rcfd_errf(RCFD_EMALFORMED, reason, rs, "invalid JSON at byte %zu", at);
    }
    for (size_t i = (size_t)(end - data); i < len; i++) {
        if (!isspace((unsigned char)data[i])) {
            return rcfd_errf(RCFD_EMALFORMED, reason, rs, "trailing data after JSON at byte %zu",
                             i);
        }
    }
    if (!cJSON_IsObject(r->json)) {
        return rcfd_errf(RCFD_EMALFORMED, reason, rs, "record is not a JSON object");
    }
    return 0;
}

void rcfd_record_clear(rcfd_record_t *r)
{
    cJSON_Delete(r->json);
    r->json = NULL;
    r->data = NULL; /* borrowed bytes: never read after the source released them */
    r->len = 0;
    r->n_toks = 0;
    r->have_printed = 0;
    r->compact = 0;
    r->n_cols = 0;
    rcfd_buf_reset(&r->cells);
}

/* A JSON value found by path, from either form. */
typedef struct jref {
    int type;      /* JT_*, 0 when missing */
    const char *s; /* JT_STR: NUL-terminated */
    size_t len;
    double num; /* JT_NUM */
} jref_t;

static long tok_lookup(const rcfd_record_t *r, const rcfd_field_t *f)
{
    const rcfd_jtok_t *t = r->toks;
    size_t v = 0;
    for (size_t k = 0; k < f->n_segs; k++) {
        const char *seg = f->segs[k];
        size_t i = v + 1, found = SIZE_MAX;
        if (t[v].type == JT_ARR && all_digits(seg)) {
            int want = atoi(seg); /* as cJSON_GetArrayItem is given it */
            for (int n = 0; want >= 0 && i < t[v].end; n++, i = t[i].end) {
                if (n == want) {
                    found = i;
                    break;
                }
            }
        } else if (t[v].type == JT_OBJ) {
            size_t sl = strlen(seg);
            for (; i < t[v].end; i = t[i + 1].end) {
                if (t[i].len == sl && memcmp(r->data + t[i].start, seg, sl) == 0) {
                    found = i + 1;
                    break;
                }
            }
        }
        if (found == SIZE_MAX) {
            return -1;
        }
        v = found;
    }
    return (long)v;
}

static jref_t json_get(const rcfd_record_t *r, const rcfd_field_t *f)
{
    jref_t out = {0};
    if (r->json == NULL) {
        long v = r->n_toks > 0 ? tok_lookup(r, f) : -1;
        if (v < 0) {
            return out;
        }
        const rcfd_jtok_t *t = &r->toks[v];
        out.type = (int)t->type;
        if (t->type == JT_NUM) {
            out.num = number_value(r->data + t->start, t->len);
        } else if (t->type == JT_STR) {
            /* Borrow the record's scratch buffer for a C string (no escapes on this path). */
            rcfd_buf_t *b = (rcfd_buf_t *)&r->scratch;
            rcfd_buf_reset(b);
            if (rcfd_buf_append(b, r->data + t->start, t->len) != 0) {
                out.type = 0;
                return out;
            }
            out.s = b->p;
            out.len = t->len;
        }
        return out;
    }
    const cJSON *j = json_lookup(r, f);
    if (j == NULL) {
        return out;
    }
    out.type = cJSON_IsNumber(j)  ? JT_NUM
               : cJSON_IsString(j) ? JT_STR
               : cJSON_IsTrue(j)   ? JT_TRUE
               : cJSON_IsFalse(j)  ? JT_FALSE
               : cJSON_IsNull(j)   ? JT_NULL
               : cJSON_IsArray(j)  ? JT_ARR
                                   : JT_OBJ;
    if (out.type == JT_NUM) {
        out.num = j->valuedouble;
    } else if (out.type == JT_STR) {
        out.s = j->valuestring;
        out.len = strlen(j->valuestring);
    }
    return out;
}

int rcfd_record_has_member(const rcfd_record_t *r, const char *name)
{
    if (r->format != RCFD_FORMAT_JSON) {
        return 0;
    }
    if (r->json != NULL) {
        return cJSON_GetObjectItemCaseSensitive(r->json, name) != NULL;
    }
    if (r->n_toks == 0) {
        return 0;
    }
    size_t nl = strlen(name);
    for (size_t i = 1; i < r->toks[0].end; i = r->toks[i + 1].end) {
        if (r->toks[i].len == nl && memcmp(r->data + r->toks[i].start, name, nl) == 0) {
            return 1;
        }
    }
    return 0;
}

int rcfd_record_has_any_member(const rcfd_record_t *r, const rcfd_names_t *names)
{
    if (r->format != RCFD_FORMAT_JSON || (r->json == NULL && r->n_toks == 0)) {
        return 0;
    }
    if (r->json != NULL) {
        for (size_t k = 0; k < names->n; k++) {
            if (rcfd_record_has_member(r, names->v[k].s)) {
                return 1;
            }
        }
        return 0;
    }
    for (size_t i = 1; i < r->toks[0].end; i = r->toks[i + 1].end) {
        const char *m = r->data + r->toks[i].start;
        size_t len = r->toks[i].len;
        if (len == 0 || !(names->sig & RCFD_NAME_BIT(len, m[0]))) {
            continue;
        }
        for (size_t k = 0; k < names->n; k++) {
            if (len == names->v[k].len && memcmp(m, names->v[k].s, len) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

static const cJSON *json_lookup(const rcfd_record_t *r, const rcfd_field_t *f)
{
    const cJSON *v = r->json;
    for (size_t i = 0; v != NULL && i < f->n_segs; i++) {
        if (cJSON_IsArray(v) && all_digits(f->segs[i])) {
            v = cJSON_GetArrayItem(v, atoi(f->segs[i]));
        } else if (cJSON_IsObject(v)) {
            v = cJSON_GetObjectItemCaseSensitive(v, f->segs[i]);
        } else {
            v = NULL;
        }
    }
    return v;
}

static const char *csv_cell(const rcfd_record_t *r, const rcfd_field_t *f)
{
    if (f->column < 0 || (size_t)f->column >= r->n_cols) {
        return NULL;
    }
    return r->cells.p + r->offs[f->column];
}

static int parse_number_text(const char *s, double *out)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    if (*s == '\0') {
        return -1;
    }
    char *end;
    double v = strtod(s, &end);
    while (isspace((unsigned char)*end)) {
        end++;
    }
    if (*end != '\0') {
        return -1;
    }
    *out = v;
    return 0;
}

int rcfd_record_number(const rcfd_record_t *r, const rcfd_field_t *f, double *out, char *reason,
                       size_t rs)
{
    double v;
    if (r->format == RCFD_FORMAT_JSON) {
        jref_t j = json_get(r, f);
        if (j.type == 0 || j.type == JT_NULL) {
            return rcfd_errf(RCFD_ENOENT, reason, rs, "%s field \"%s\"",
                             j.type == 0 ? "missing" : "null", f->name);
        }
        if (j.type == JT_NUM) {
            v = j.num;
        } else if (j.type != JT_STR || parse_number_text(j.s, &v) != 0) {
            return rcfd_errf(RCFD_EMALFORMED, reason, rs, "non-numeric field \"%s\"", f->name);
        }
    } else {
        const char *c = csv_cell(r, f);
        if (c == NULL || c[0] == '\0') {
            return rcfd_errf(RCFD_ENOENT, reason, rs, "missing field \"%s\"", f->name);
        }
        if (parse_number_text(c, &v) != 0) {
            return rcfd_errf(RCFD_EMALFORMED, reason, rs, "non-numeric field \"%s\"", f->name);
        }
    }
    if (!isfinite(v)) {
        return rcfd_errf(RCFD_EMALFORMED, reason, rs, "field \"%s\" is NaN or infinite",
                         f->name);
    }
    if (fabs(v) > FLT_MAX) {
        return rcfd_errf(RCFD_EMALFORMED, reason, rs, "field \"%s\" is outside the float range",
                         f->name);
    }
    *out = v;
    return 0;
}

int rcfd_record_text(const rcfd_record_t *r, const rcfd_field_t *f, char *out, size_t size,
                     size_t *len, char *reason, size_t rs)
{
    const char *s = NULL;
    char num[64];
    if (r->format == RCFD_FORMAT_JSON) {
        jref_t j = json_get(r, f);
        if (j.type == JT_STR) {
            s = j.s;
        } else if (j.type == JT_NUM) {
            rcfd_fmt_double(num, sizeof num, j.num);
            s = num;
        } else if (j.type == JT_TRUE || j.type == JT_FALSE) {
            s = j.type == JT_TRUE ? "true" : "false";
        } else if (j.type != 0 && j.type != JT_NULL) {
            return rcfd_errf(RCFD_EMALFORMED, reason, rs, "key field \"%s\" is not a scalar",
                             f->name);
        }
    } else {
        s = csv_cell(r, f);
    }
    if (s == NULL) {
        return rcfd_errf(RCFD_ENOENT, reason, rs, "missing key field \"%s\"", f->name);
    }
    size_t n = strlen(s);
    if (n >= size) {
        return rcfd_errf(RCFD_EMALFORMED, reason, rs, "key field \"%s\" is longer than %zu bytes",
                         f->name, size - 1);
    }
    memcpy(out, s, n + 1);
    *len = n;
    return 0;
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) {
            return -1;
        }
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

int rcfd_parse_iso8601_us(const char *s, int64_t *out)
{
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, se = 0;
    const char *p = s;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d)) {
        return RCFD_EMALFORMED;
    }
    int64_t frac_us = 0;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi)) {
            return RCFD_EMALFORMED;
        }
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &se)) {
                return RCFD_EMALFORMED;
            }
            if (*p == '.' || *p == ',') {
                p++;
                int64_t scale = 100000;
                if (!isdigit((unsigned char)*p)) {
                    return RCFD_EMALFORMED;
                }
                while (isdigit((unsigned char)*p)) {
                    frac_us += (*p - '0') * scale;
                    scale /= 10;
                    p++;
                }
            }
        }
    }
    int64_t off_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
        if (digits(&p, 2, &oh)) {
            return RCFD_EMALFORMED;
        }
        if (*p == ':') {
            p++;
        }
        if (isdigit((unsigned char)*p) && digits(&p, 2, &om)) {
            return RCFD_EMALFORMED;
        }
        off_s = sign * (oh * 3600 + om * 60);
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) {
        return RCFD_EMALFORMED;
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm);
    *out = ((int64_t)t - off_s) * 1000000 + frac_us;
    return 0;
}

int rcfd_record_time_us(const rcfd_record_t *r, const rcfd_field_t *f, int unit, int64_t *out,
                        char *reason, size_t rs)
{
    const char *text = NULL;
    double v;
    if (r->format == RCFD_FORMAT_JSON) {
        jref_t j = json_get(r, f);
        if (j.type == JT_NUM) {
            v = j.num;
            goto number;
        }
        text = j.type == JT_STR ? j.s : NULL;
    } else {
        text = csv_cell(r, f);
    }
    if (text == NULL || text[0] == '\0') {
        return rcfd_errf(RCFD_EMALFORMED, reason, rs, "missing timestamp field \"%s\"", f->name);
    }
    if (parse_number_text(text, &v) == 0) {
        goto number;
    }
    if (rcfd_parse_iso8601_us(text, out) != 0) {
        return rcfd_errf(RCFD_EMALFORMED, reason, rs,
                         "timestamp field \"%s\" is neither a number nor ISO-8601", f->name);
    }
    return 0;
number:
    if (!isfinite(v) || fabs(v) > 9e18 / 1e6) {
        return rcfd_errf(RCFD_EMALFORMED, reason, rs, "timestamp field \"%s\" is out of range",
                         f->name);
    }
    *out = (int64_t)(unit == RCFD_TS_S ? v * 1e6 : unit == RCFD_TS_MS ? v * 1e3 : v);
    return 0;
}

/* JSON number grammar over s[0..n): numeric CSV cells are copied verbatim as numbers, and JSON
 * numbers are copied as written only when strict. */
static int json_number_ok(const char *s, size_t n)
{
    const char *e = s + n;
    if (s < e && *s == '-') {
        s++;
    }
    if (s < e && *s == '0') {
        s++;
    } else if (s < e && isdigit((unsigned char)*s)) {
        while (s < e && isdigit((unsigned char)*s)) {
            s++;
        }
    } else {
        return 0;
    }
    if (s < e && *s == '.') {
        s++;
        if (s == e || !isdigit((unsigned char)*s)) {
            return 0;
        }
        while (s < e && isdigit((unsigned char)*s)) {
            s++;
        }
    }
    if (s < e && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < e && (*s == '+' || *s == '-')) {
            s++;
        }
        if (s == e || !isdigit((unsigned char)*s)) {
            return 0;
        }
        while (s < e && isdigit((unsigned char)*s)) {
            s++;
        }
    }
    return s == e;
}

static int is_json_number(const char *s)
{
    return json_number_ok(s, strlen(s));
}

static int is_number_char(char c)
{
    return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
}

/* Appends the JSON object in s[0..len) (already accepted by cJSON) without insignificant
 * whitespace: no tree is printed and numbers keep their text (a 64-bit id is not rounded through a
 * double). A raw control character inside a string, which cJSON accepts, is escaped as cJSON
 * prints it so the line stays valid JSON. Returns 1 when the text has a number or an escape that
 * is not strict JSON, or does not end where expected: the caller prints the tree instead. */
static int json_minify(rcfd_buf_t *b, const char *s, size_t len)
{
    int rc = rcfd_buf_reserve(b, len);
    if (rc != 0) {
        return rc;
    }
    size_t i = 0;
    while (i < len && s[i] != '{') {
        i++; /* whitespace or a UTF-8 byte order mark, which cJSON skips */
    }
    /* Bytes are copied in runs: a compact record is one append. */
    size_t run = i;
    int depth = 0;
#define FLUSH_RUN(upto)                                                                           \
    do {                                                                                          \
        if ((rc = rcfd_buf_append(b, s + run, (upto) - run)) != 0) {                              \
            return rc;                                                                            \
        }                                                                                         \
    } while (0)
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') {
            for (i++;; i++) {
                if (i >= len) {
                    return 1;
                }
                unsigned char d = (unsigned char)s[i];
                if (d == '\\') {
                    /* Only JSON's escapes are copied: cJSON also takes "\\u" with any four bytes
                     * after it, which copied would not read back the same. */
                    if (++i >= len) {
                        return 1;
                    }
                    if (s[i] == 'u') {
                        for (int h = 1; h <= 4; h++) {
                            if (i + (size_t)h >= len || !isxdigit((unsigned char)s[i + (size_t)h])) {
                                return 1;
                            }
                        }
                        i += 4;
                    } else if (strchr("\"\\/bfnrt", s[i]) == NULL || s[i] == '\0') {
                        return 1;
                    }
                    continue;
                }
                if (d == '"') {
                    i++;
                    break;
                }
                if (d < 0x20) {
                    static const char short_esc[] = "btn\0fr"; /* \b \t \n, \f \r */
                    char esc[8];
                    if (d >= '\b' && d <= '\r' && d != '\v') {
                        esc[0] = '\\';
                        esc[1] = short_esc[d - '\b'];
                        esc[2] = '\0';
                    } else {
                        snprintf(esc, sizeof esc, "\\u%04x", d);
                    }
                    FLUSH_RUN(i);
                    if ((rc = rcfd_buf_puts(b, esc)) != 0) {
                        return rc;
                    }
                    run = i + 1;
                }
            }
        } else if (c <= 0x20) {
            FLUSH_RUN(i); /* cJSON's whitespace is every byte up to the space */
            run = ++i;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t start = i;
            while (i < len && is_number_char(s[i])) {
                i++;
            }
            if (!json_number_ok(s + start, i - start)) {
                return 1;
            }
        } else {
            depth += c == '{' || c == '[';
            depth -= c == '}' || c == ']';
            i++;
            if (depth == 0) {
                FLUSH_RUN(i);
                return 0;
            }
        }
    }
#undef FLUSH_RUN
    return 1;
}

int rcfd_record_json(rcfd_record_t *r, const char **out, size_t *len)
{
    if (!r->have_printed) {
        rcfd_buf_t *b = &r->printed;
        rcfd_buf_reset(b);
        int rc;
        if (r->format == RCFD_FORMAT_JSON && r->compact && r->json == NULL) {
            rc = rcfd_buf_append(b, r->data, r->len); /* what json_minify would copy */
        } else if (r->format == RCFD_FORMAT_JSON) {
            rc = json_minify(b, r->data, r->len);
            if (rc > 0 && r->json == NULL) {
                /* Decoded by the fast path, which takes no number cJSON would print differently:
                 * not reached, but cheap to keep correct. */
                r->json = cJSON_ParseWithLength(r->data, r->len);
                if (r->json == NULL) {
                    return RCFD_ENOMEM;
                }
            }
            if (rc > 0) {
                rcfd_buf_reset(b);
                char *p = cJSON_PrintUnformatted(r->json);
                if (p == NULL) {
                    return RCFD_ENOMEM;
                }
                rc = rcfd_buf_puts(b, p);
                cJSON_free(p);
            }
        } else {
            rc = rcfd_buf_putc(b, '{');
            for (size_t i = 0; rc == 0 && i < r->n_cols; i++) {
                const char *cell = r->cells.p + r->offs[i];
                char idx[24];
                const char *name = idx;
                if (r->columns != NULL && i < r->columns->n) {
                    name = r->columns->v[i];
                } else {
                    snprintf(idx, sizeof idx, "%zu", i);
                }
                rc = i ? rcfd_buf_putc(b, ',') : 0;
                rc = rc ? rc : rcfd_buf_json_string(b, name, strlen(name));
                rc = rc ? rc : rcfd_buf_putc(b, ':');
                rc = rc ? rc
                        : is_json_number(cell) ? rcfd_buf_puts(b, cell)
                                               : rcfd_buf_json_string(b, cell, strlen(cell));
            }
            rc = rc ? rc : rcfd_buf_putc(b, '}');
        }
        if (rc != 0) {
            rcfd_buf_reset(b);
            return rc;
        }
        r->have_printed = 1;
    }
    *out = r->printed.p;
    *len = r->printed.len;
    return 0;
}

void rcfd_record_free(rcfd_record_t *r)
{
    rcfd_record_clear(r);
    rcfd_buf_free(&r->printed);
    rcfd_buf_free(&r->scratch);
    rcfd_free(r->toks);
    r->toks = NULL;
    r->cap_toks = 0;
    rcfd_buf_free(&r->cells);
    rcfd_free(r->offs);
    r->offs = NULL;
    r->cap_cols = 0;
}
