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
#include "stream/schema.h"

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

int rcfd_record_parse(rcfd_record_t *r, int format, const char *data, size_t len, char delim,
                      const rcfd_strlist_t *columns, char *reason, size_t rs)
{
    r->format = format;
    r->data = data;
    r->len = len;
    r->columns = columns;
    if (format == RCFD_FORMAT_CSV) {
        return rcfd_csv_split(r, data, len, delim, reason, rs);
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
    r->have_printed = 0;
    r->n_cols = 0;
    rcfd_buf_reset(&r->cells);
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
        const cJSON *j = json_lookup(r, f);
        if (j == NULL || cJSON_IsNull(j)) {
            return rcfd_errf(RCFD_EMALFORMED, reason, rs, "missing field \"%s\"", f->name);
        }
        if (cJSON_IsNumber(j)) {
            v = j->valuedouble;
        } else if (!cJSON_IsString(j) || parse_number_text(j->valuestring, &v) != 0) {
            return rcfd_errf(RCFD_EMALFORMED, reason, rs, "non-numeric field \"%s\"", f->name);
        }
    } else {
        const char *c = csv_cell(r, f);
        if (c == NULL || c[0] == '\0') {
            return rcfd_errf(RCFD_EMALFORMED, reason, rs, "missing field \"%s\"", f->name);
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
        const cJSON *j = json_lookup(r, f);
        if (cJSON_IsString(j)) {
            s = j->valuestring;
        } else if (cJSON_IsNumber(j)) {
            rcfd_fmt_double(num, sizeof num, j->valuedouble);
            s = num;
        } else if (cJSON_IsBool(j)) {
            s = cJSON_IsTrue(j) ? "true" : "false";
        } else if (j != NULL && !cJSON_IsNull(j)) {
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
        const cJSON *j = json_lookup(r, f);
        if (cJSON_IsNumber(j)) {
            v = j->valuedouble;
            goto number;
        }
        text = cJSON_IsString(j) ? j->valuestring : NULL;
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
 * prints it so the line stays valid JSON. Returns 1 when the text has a number that is not strict
 * JSON, or does not end where expected: the caller prints the tree instead. */
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
    int depth = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') {
            size_t start = i++;
            for (;;) {
                if (i >= len) {
                    return 1;
                }
                unsigned char d = (unsigned char)s[i];
                if (d == '\\') {
                    i += 2;
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
                    if ((rc = rcfd_buf_append(b, s + start, i - start)) != 0 ||
                        (rc = rcfd_buf_puts(b, esc)) != 0) {
                        return rc;
                    }
                    start = i + 1;
                }
                i++;
            }
            if ((rc = rcfd_buf_append(b, s + start, i - start)) != 0) {
                return rc;
            }
        } else if (c <= 0x20) {
            i++; /* cJSON's whitespace is every byte up to the space */
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t start = i;
            while (i < len && is_number_char(s[i])) {
                i++;
            }
            if (!json_number_ok(s + start, i - start)) {
                return 1;
            }
            if ((rc = rcfd_buf_append(b, s + start, i - start)) != 0) {
                return rc;
            }
        } else {
            depth += c == '{' || c == '[';
            depth -= c == '}' || c == ']';
            if ((rc = rcfd_buf_putc(b, (char)c)) != 0) {
                return rc;
            }
            i++;
            if (depth == 0) {
                return 0;
            }
        }
    }
    return 1;
}

int rcfd_record_json(rcfd_record_t *r, const char **out, size_t *len)
{
    if (!r->have_printed) {
        rcfd_buf_t *b = &r->printed;
        rcfd_buf_reset(b);
        int rc;
        if (r->format == RCFD_FORMAT_JSON) {
            rc = json_minify(b, r->data, r->len);
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
    rcfd_buf_free(&r->cells);
    rcfd_free(r->offs);
    r->offs = NULL;
    r->cap_cols = 0;
}
