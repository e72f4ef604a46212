#include "snapshot.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crc32c.h"
#include "errstr.h"
#include "rcfd/status.h"

static const char magic[8] = {'R', 'C', 'F', 'D', 'S', 'N', 'A', 'P'};

static void put_bytes(rcfd_writer_t *w, const void *src, size_t n)
{
    /* Sized in advance; the check only guards against a sizing bug. */
    if (w->len + n <= w->cap) {
        memcpy(w->p + w->len, src, n);
    }
    w->len += n;
}

static void put_le(rcfd_writer_t *w, uint64_t v, size_t n)
{
    unsigned char b[8];
    for (size_t i = 0; i < n; i++) {
        b[i] = (unsigned char)(v >> (8 * i));
    }
    put_bytes(w, b, n);
}

void rcfd_put_u8(rcfd_writer_t *w, uint8_t v)
{
    put_le(w, v, 1);
}
void rcfd_put_u32(rcfd_writer_t *w, uint32_t v)
{
    put_le(w, v, 4);
}
void rcfd_put_u64(rcfd_writer_t *w, uint64_t v)
{
    put_le(w, v, 8);
}
void rcfd_put_f32(rcfd_writer_t *w, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    put_le(w, u, 4);
}
void rcfd_put_f64(rcfd_writer_t *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_le(w, u, 8);
}
void rcfd_put_f32s(rcfd_writer_t *w, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rcfd_put_f32(w, v[i]);
    }
}

static uint64_t get_le(rcfd_reader_t *r, size_t n)
{
    if (r->err || r->len - r->pos < n) {
        r->err = RCFD_ETRUNCATED;
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v |= (uint64_t)r->p[r->pos + i] << (8 * i);
    }
    r->pos += n;
    return v;
}

uint8_t rcfd_get_u8(rcfd_reader_t *r)
{
    return (uint8_t)get_le(r, 1);
}
uint32_t rcfd_get_u32(rcfd_reader_t *r)
{
    return (uint32_t)get_le(r, 4);
}
uint64_t rcfd_get_u64(rcfd_reader_t *r)
{
    return get_le(r, 8);
}
float rcfd_get_f32(rcfd_reader_t *r)
{
    uint32_t u = (uint32_t)get_le(r, 4);
    float v;
    memcpy(&v, &u, 4);
    return v;
}
double rcfd_get_f64(rcfd_reader_t *r)
{
    uint64_t u = get_le(r, 8);
    double v;
    memcpy(&v, &u, 8);
    return v;
}
void rcfd_get_f32s(rcfd_reader_t *r, float *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = rcfd_get_f32(r);
    }
}

int rcfd_reader_has(const rcfd_reader_t *r, uint64_t n, size_t item_size)
{
    if (r->err) {
        return 0;
    }
    uint64_t left = r->len - r->pos;
    return item_size == 0 || n <= left / item_size;
}

void rcfd_snap_seal(unsigned char *buf, uint32_t kind, uint32_t version, size_t payload_len)
{
    rcfd_writer_t w = {buf, 0, RCFD_SNAP_HEADER_SIZE};
    put_bytes(&w, magic, sizeof magic);
    rcfd_put_u32(&w, kind);
    rcfd_put_u32(&w, version);
    rcfd_put_u64(&w, payload_len);
    rcfd_put_u32(&w, rcfd_crc32c(0, buf + RCFD_SNAP_HEADER_SIZE, payload_len));
    rcfd_put_u32(&w, 0);
}

int rcfd_snap_open(const void *buf, size_t len, uint32_t kind, const unsigned char **payload,
                   size_t *payload_len, uint32_t *version, char *errstr, size_t errstr_size)
{
    if (buf == NULL || len < RCFD_SNAP_HEADER_SIZE) {
        return rcfd_errf(RCFD_ETRUNCATED, errstr, errstr_size,
                         "snapshot is %zu bytes, shorter than its %u-byte header", len,
                         RCFD_SNAP_HEADER_SIZE);
    }
    const unsigned char *b = buf;
    if (memcmp(b, magic, sizeof magic) != 0) {
        return rcfd_errf(RCFD_EBADSTATE, errstr, errstr_size,
                         "not an rcfd snapshot: bad magic in bytes 0..7");
    }
    rcfd_reader_t r = {b, RCFD_SNAP_HEADER_SIZE, 8, 0};
    uint32_t got_kind = rcfd_get_u32(&r);
    uint32_t got_version = rcfd_get_u32(&r);
    uint64_t got_len = rcfd_get_u64(&r);
    uint32_t got_crc = rcfd_get_u32(&r);
    uint32_t reserved = rcfd_get_u32(&r);
    if (got_kind != kind) {
        return rcfd_errf(RCFD_EVERSION, errstr, errstr_size,
                         "snapshot kind %u at byte 8, expected %u", got_kind, kind);
    }
    if (reserved != 0) {
        return rcfd_errf(RCFD_EBADSTATE, errstr, errstr_size,
                         "snapshot reserved field at byte 28 is %u, expected 0", reserved);
    }
    if (got_len != len - RCFD_SNAP_HEADER_SIZE) {
        int short_read = got_len > len - RCFD_SNAP_HEADER_SIZE;
        return rcfd_errf(short_read ? RCFD_ETRUNCATED : RCFD_EBADSTATE, errstr, errstr_size,
                         "snapshot %s: header (byte 16) declares a %llu-byte payload but %zu "
                         "bytes follow",
                         short_read ? "is truncated" : "has trailing bytes",
                         (unsigned long long)got_len, len - RCFD_SNAP_HEADER_SIZE);
    }
    uint32_t crc = rcfd_crc32c(0, b + RCFD_SNAP_HEADER_SIZE, len - RCFD_SNAP_HEADER_SIZE);
    if (crc != got_crc) {
        return rcfd_errf(RCFD_ECHECKSUM, errstr, errstr_size,
                         "snapshot checksum mismatch: header says %08x, payload hashes to %08x",
                         got_crc, crc);
    }
    *payload = b + RCFD_SNAP_HEADER_SIZE;
    *payload_len = len - RCFD_SNAP_HEADER_SIZE;
    *version = got_version;
    return 0;
}

int rcfd_snap_open_version(const void *buf, size_t len, uint32_t kind, uint32_t version,
                           const char *what, const unsigned char **payload, size_t *payload_len,
                           char *errstr, size_t errstr_size)
{
    uint32_t got;
    int rc = rcfd_snap_open(buf, len, kind, payload, payload_len, &got, errstr, errstr_size);
    if (rc == 0 && got != version) {
        rc = rcfd_errf(RCFD_EVERSION, errstr, errstr_size,
                       "%s version %u is not supported (this build reads %u)", what, got, version);
    }
    return rc;
}

size_t rcfd_snap_at(const rcfd_snap_loader_t *l)
{
    return l->base + RCFD_SNAP_HEADER_SIZE + l->r.pos;
}

int rcfd_snap_truncated(const rcfd_snap_loader_t *l, const char *what)
{
    return rcfd_errf(RCFD_ETRUNCATED, l->errstr, l->errstr_size,
                     "snapshot truncated in %s at byte %zu", what, rcfd_snap_at(l));
}

__attribute__((format(printf, 3, 0))) static int vbad(const rcfd_snap_loader_t *l, size_t at,
                                                      const char *fmt, va_list ap)
{
    if (l->errstr != NULL && l->errstr_size > 0) {
        int n = snprintf(l->errstr, l->errstr_size, "snapshot byte %zu: ", at);
        if (n >= 0 && (size_t)n < l->errstr_size) {
            vsnprintf(l->errstr + n, l->errstr_size - (size_t)n, fmt, ap);
        }
    }
    return RCFD_EBADSTATE;
}

int rcfd_snap_bad(const rcfd_snap_loader_t *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vbad(l, rcfd_snap_at(l), fmt, ap);
    va_end(ap);
    return rc;
}

int rcfd_snap_bad_at(const rcfd_snap_loader_t *l, size_t at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vbad(l, at, fmt, ap);
    va_end(ap);
    return rc;
}
