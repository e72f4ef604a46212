#include "common/buf.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rcfd/alloc.h"
#include "common/errstr.h"
#include "rcfd/status.h"

int rcfd_buf_reserve(rcfd_buf_t *b, size_t extra)
{
    if (extra < b->cap - b->len) { /* room for extra bytes and the NUL (cap is 0 or > len) */
        return 0;
    }
    if (extra > SIZE_MAX / 4 - b->len) {
        return RCFD_ENOMEM; /* no doubling below would reach it */
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

int rcfd_buf_append_grow(rcfd_buf_t *b, const void *data, size_t len)
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

int rcfd_buf_put_u64(rcfd_buf_t *b, unsigned long long v)
{
    char tmp[24];
    char *e = tmp + sizeof tmp, *p = e;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return rcfd_buf_append(b, p, (size_t)(e - p));
}

int rcfd_buf_put_i64(rcfd_buf_t *b, long long v)
{
    if (v >= 0) {
        return rcfd_buf_put_u64(b, (unsigned long long)v);
    }
    int rc = rcfd_buf_putc(b, '-');
    return rc ? rc : rcfd_buf_put_u64(b, 0ULL - (unsigned long long)v);
}

int rcfd_buf_json_string(rcfd_buf_t *b, const char *s, size_t len)
{
    int rc = rcfd_buf_reserve(b, len + 2);
    if (rc != 0) {
        return rc;
    }
    size_t n = 0;
    while (n < len && (unsigned char)s[n] >= 0x20 && s[n] != '"' && s[n] != '\\') {
        n++;
    }
    if (n == len) { /* nothing to escape, the usual case: one copy */
        char *o = b->p + b->len;
        o[0] = '"';
        memcpy(o + 1, s, len);
        o[len + 1] = '"';
        o[len + 2] = '\0';
        b->len += len + 2;
        return 0;
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

size_t rcfd_utf8_valid_prefix(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        /* ASCII eight bytes at a time: the usual record is all of it. */
        if (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if ((w & 0x8080808080808080ull) == 0) {
                i += 8;
                continue;
            }
        }
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            lo = c == 0xE0 ? 0xA0 : 0x80; /* overlong */
            hi = c == 0xED ? 0x9F : 0xBF; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF; /* above U+10FFFF */
        } else {
            return i;
        }
        if (i + n > len || s[i + 1] < lo || s[i + 1] > hi) {
            return i;
        }
        for (size_t k = 2; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return i;
            }
        }
        i += n;
    }
    return len;
}

int rcfd_buf_base64(rcfd_buf_t *b, const void *data, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = data;
    int rc = rcfd_buf_reserve(b, (len + 2) / 3 * 4);
    if (rc != 0) {
        return rc;
    }
    char *o = b->p + b->len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = tab[(v >> 6) & 63];
        *o++ = tab[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < len ? (uint32_t)s[i + 1] << 8 : 0);
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    b->len = (size_t)(o - b->p);
    b->p[b->len] = '\0';
    return 0;
}

/* Bytes a JSON string spends on c (rcfd_buf_json_string's escapes). */
static size_t escaped_len(unsigned char c)
{
    if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
        return 2;
    }
    return c < 0x20 ? 6 : 1;
}

/* How much of data a record member keeps under max written bytes, and in which form. */
static size_t record_keep(const char *data, size_t len, size_t max, int *base64)
{
    /* The cap is on what is written: escapes and base64 grow the bytes. */
    size_t keep = 0, out = 0;
    while (keep < len && out + escaped_len((unsigned char)data[keep]) <= max) {
        out += escaped_len((unsigned char)data[keep++]);
    }
    while (keep < len && keep > 0 && ((unsigned char)data[keep] & 0xC0) == 0x80) {
        keep--; /* the cut fell inside a character: leave all of it out */
    }
    *base64 = rcfd_utf8_valid_prefix(data, keep) != keep;
    return *base64 ? (len < max / 4 * 3 ? len : max / 4 * 3) : keep;
}

size_t rcfd_buf_json_record_kept(const char *data, size_t len, size_t max)
{
    int base64;
    return record_keep(data, len, max, &base64);
}

int rcfd_buf_json_record(rcfd_buf_t *b, const char *data, size_t len, size_t max)
{
    int base64;
    size_t keep = record_keep(data, len, max, &base64);
    int rc;
    if (!base64) {
        rc = rcfd_buf_puts(b, ",\"record\":");
        rc = rc ? rc : rcfd_buf_json_string(b, data != NULL ? data : "", keep);
    } else {
        rc = rcfd_buf_puts(b, ",\"record_base64\":\"");
        rc = rc ? rc : rcfd_buf_base64(b, data, keep);
        rc = rc ? rc : rcfd_buf_putc(b, '"');
    }
    if (rc == 0 && keep < len) {
        rc = rcfd_buf_puts(b, ",\"record_bytes\":");
        rc = rc ? rc : rcfd_buf_put_u64(b, (unsigned long long)len);
        rc = rc ? rc : rcfd_buf_puts(b, ",\"truncated\":true");
    }
    return rc;
}

/* The reference: the shortest of %.15g..%.17g that reads back to v, so offline tools compare
 * scores exactly. printf's exact decimal conversion makes this ~3 us a number. */
static void fmt_double_printf(char *out, size_t size, double v)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, v);
        if (strtod(out, NULL) == v) {
            break;
        }
    }
}

typedef unsigned __int128 u128;

#define P10_19 ((u128)10000000000000000000ULL)
static const u128 pow10_tab[23] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
    1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
    1000000000000000000ULL, P10_19, P10_19 * 10, P10_19 * 100, P10_19 * 1000};

static u128 pow10_u128(int k) /* 0 <= k <= 22 */
{
    return pow10_tab[k];
}

/* The same text as fmt_double_printf, exactly, for normal doubles with |v| < 2^53 whose digits
 * fit the shortcut (about 1e-6 <= |v| < 1e15): with v = m / 2^s, m * 10^k fits 128 bits for
 * k <= 22, so the P significant digits are round-half-even(m * 10^k / 2^s) as printf rounds, and
 * whether they read back to v (as strtod, correctly rounded, would) follows from the remainder.
 * Returns 0 when it does not apply. */
static int fmt_double_fast(char *out, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    int be = (int)((bits >> 52) & 0x7ff);
    uint64_t m = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
    int s = 1075 - be; /* v = m / 2^s */
    if ((bits << 1) == 0) {
        strcpy(out, (bits >> 63) != 0 ? "-0" : "0"); /* %.15g of a signed zero */
        return 1;
    }
    if (be == 0 || s < 1 || s > 124) {
        return 0; /* subnormal, >= 2^53, non-finite, or too small */
    }
    /* Half the gap to each neighbour, in units where v = m * 10^k: 10^k / 2, and 10^k / 4 below
     * a power of two (the neighbour below is nearer). Ties go to the even mantissa. */
    int lower_narrow = m == (1ULL << 52) && be > 1;
    int x0 = (int)floor(log10(fabs(v)));
    for (int prec = 15; prec <= 17; prec++) {
        int x = x0;
        uint64_t d = 0;
        int k = 0;
        u128 diff = 0; /* |d * 2^s - m * 10^k| */
        int above = 0;
        int tries = 0;
        for (;; tries++) {
            k = prec - 1 - x;
            if (k < 0 || k > 22 || tries > 2) {
                return 0;
            }
            u128 n = (u128)m * pow10_u128(k);
            u128 q = n >> s;
            u128 lo = pow10_u128(prec - 1), hi = lo * 10;
            /* The truncated digits place x exactly: 10^x <= |v| < 10^(x+1). */
            if (q >= hi) {
                x++;
                continue;
            }
            if (q < lo) {
                x--;
                continue;
            }
            u128 r = n - (q << s);
            u128 half = (u128)1 << (s - 1);
            above = r > half || (r == half && (q & 1) != 0);
            if (above) {
                q++;
                diff = ((u128)1 << s) - r;
            } else {
                diff = r;
            }
            if (q == hi) {
                q = lo; /* rounded up to 10^prec: printf's exponent is x + 1 */
                x++;
            }
            d = (uint64_t)q;
            break;
        }
        u128 p10 = pow10_u128(k);
        int exact_tie_ok = (m & 1) == 0;
        u128 twice = above || !lower_narrow ? diff * 2 : diff * 4;
        int reads_back = twice < p10 || (twice == p10 && exact_tie_ok);
        if (!reads_back && prec < 17) {
            continue;
        }
        /* %.{prec}g of d * 10^(x - prec + 1): fixed for -4 <= x < prec, else exponential; trailing
         * zeros of the fraction and a bare point dropped. */
        char dig[20];
        for (int i = prec - 1; i >= 0; i--) {
            dig[i] = (char)('0' + d % 10);
            d /= 10;
        }
        int nd = prec;
        char *o = out;
        if (v < 0) {
            *o++ = '-';
        }
        if (x >= -4 && x < prec) {
            int intd = x >= 0 ? x + 1 : 0; /* digits before the point */
            while (nd > intd && dig[nd - 1] == '0') {
                nd--;
            }
            if (x < 0) {
                *o++ = '0';
                *o++ = '.';
                for (int i = 0; i < -x - 1; i++) {
                    *o++ = '0';
                }
                memcpy(o, dig, (size_t)nd);
                o += nd;
            } else {
                memcpy(o, dig, (size_t)intd);
                o += intd;
                if (nd > intd) {
                    *o++ = '.';
                    memcpy(o, dig + intd, (size_t)(nd - intd));
                    o += nd - intd;
                }
            }
        } else {
            while (nd > 1 && dig[nd - 1] == '0') {
                nd--;
            }
            *o++ = dig[0];
            if (nd > 1) {
                *o++ = '.';
                memcpy(o, dig + 1, (size_t)(nd - 1));
                o += nd - 1;
            }
            int ex = x < 0 ? -x : x; /* |x| < 100 in the range handled here */
            *o++ = 'e';
            *o++ = x < 0 ? '-' : '+';
            *o++ = (char)('0' + ex / 10);
            *o++ = (char)('0' + ex % 10);
        }
        *o = '\0';
        return 1;
    }
    return 0;
}

void rcfd_fmt_double(char *out, size_t size, double v)
{
    if (size < 32 || !fmt_double_fast(out, v)) {
        fmt_double_printf(out, size, v);
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

int rcfd_buf_read_file(rcfd_buf_t *b, const char *path, size_t max, char *errstr, size_t es)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        return rcfd_errf(e == ENOENT ? RCFD_ENOENT : RCFD_EIO, errstr, es, "%s: %s", path,
                         strerror(e));
    }
    char chunk[65536];
    size_t n, start = b->len;
    int rc = 0;
    errno = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (max != 0 && b->len - start + n > max) {
            int mib = max % (1u << 20) == 0;
            rc = rcfd_errf(RCFD_ERANGE, errstr, es, "%s: larger than %zu %s", path,
                           mib ? max >> 20 : max, mib ? "MiB" : "bytes");
        } else if (rcfd_buf_append(b, chunk, n) != 0) {
            rc = rcfd_errf(RCFD_ENOMEM, errstr, es, "%s: out of memory", path);
        }
    }
    if (rc == 0 && ferror(f)) { /* a directory opens, and fails here with EISDIR */
        rc = rcfd_errf(RCFD_EIO, errstr, es, "%s: %s", path,
                       errno != 0 ? strerror(errno) : "read error");
    }
    if (!is_stdin) {
        fclose(f);
    }
    return rc;
}
