#include "stream/buf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rcfd/alloc.h"
#include "rcfd/status.h"

int rcfd_buf_reserve(rcfd_buf_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) {
        return 0;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        cap *= 2;
    }
    char *p = rcfd_realloc(b->p, cap);
    if (p == NULL) {
        return RCFD_ENOMEM;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

int rcfd_buf_append(rcfd_buf_t *b, const void *data, size_t len)
{
    int rc = rcfd_buf_reserve(b, len);
    if (rc != 0) {
        return rc;
    }
    if (len > 0) {
        memcpy(b->p + b->len, data, len);
    }
    b->len += len;
    b->p[b->len] = '\0';
    return 0;
}

int rcfd_buf_puts(rcfd_buf_t *b, const char *s)
{
    return rcfd_buf_append(b, s, strlen(s));
}

int rcfd_buf_putc(rcfd_buf_t *b, char c)
{
    return rcfd_buf_append(b, &c, 1);
}

int rcfd_buf_printf(rcfd_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return RCFD_EINVAL;
    }
    if ((size_t)n < sizeof small) {
        return rcfd_buf_append(b, small, (size_t)n);
    }
    int rc = rcfd_buf_reserve(b, (size_t)n);
    if (rc != 0) {
        return rc;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int rcfd_buf_json_string(rcfd_buf_t *b, const char *s, size_t len)
{
    int rc = rcfd_buf_reserve(b, len + 2);
    if (rc != 0) {
        return rc;
    }
    rcfd_buf_putc(b, '"');
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c < 0x20) {
                snprintf(u, sizeof u, "\\u%04x", c);
                esc = u;
            }
        }
        if (esc != NULL) {
            if ((rc = rcfd_buf_append(b, s + start, i - start)) != 0 ||
                (rc = rcfd_buf_puts(b, esc)) != 0) {
                return rc;
            }
            start = i + 1;
        }
    }
    if ((rc = rcfd_buf_append(b, s + start, len - start)) != 0) {
        return rc;
    }
    return rcfd_buf_putc(b, '"');
}

void rcfd_fmt_double(char *out, size_t size, double v)
{
    /* Shortest of %.15g..%.17g that round-trips, so offline tools compare scores exactly. */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, v);
        if (strtod(out, NULL) == v) {
            break;
        }
    }
}

int rcfd_buf_json_double(rcfd_buf_t *b, double v)
{
    if (!isfinite(v)) {
        return rcfd_buf_puts(b, "null");
    }
    char tmp[40];
    rcfd_fmt_double(tmp, sizeof tmp, v);
    return rcfd_buf_puts(b, tmp);
}

void rcfd_buf_reset(rcfd_buf_t *b)
{
    b->len = 0;
    if (b->p != NULL) {
        b->p[0] = '\0';
    }
}

void rcfd_buf_free(rcfd_buf_t *b)
{
    rcfd_free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void rcfd_buf_move(rcfd_buf_t *to, rcfd_buf_t *from)
{
    *to = *from;
    from->p = NULL;
    from->len = from->cap = 0;
}
