/* Detector snapshots: save to and load from a memory buffer.
 *
 * Payload, version 1 (little-endian; envelope in common/snapshot.h):
 *   params   u32 dim, u32 window_size, f64 scan_radius, u32 min_points,
 *            u32 flags (bit 0 only_containing_new, bit 1 emit_only_on_change), u32 algorithm,
 *            f64 scale x dim
 *   counters u64 records
 *   window   u32 count, then count x dim f64 raw values, oldest record first
 * Everything else (neighbour counts, grid, hotspots, the last report that `changed` compares with)
 * is a function of the window, so the loader rebuilds it by replaying the window. */
#include <math.h>
#include <string.h>

#include "common/errstr.h"
#include "common/snapshot.h"
#include "hs_int.h"
#include "rcfd/status.h"

#define STATE_VERSION 1u
#define PARAMS_BYTES(dim) (28u + 8u * (dim))

static size_t payload_size(const hs_detector_t *d)
{
    return PARAMS_BYTES(d->dim) + 8 + 4 + (size_t)d->count * d->dim * 8;
}

size_t hs_snapshot_size(const hs_detector_t *d)
{
    return RCFD_SNAP_HEADER_SIZE + payload_size(d);
}

int hs_save(const hs_detector_t *d, void *buf, size_t cap, size_t *len)
{
    if (d == NULL || len == NULL) {
        return RCFD_EINVAL;
    }
    size_t payload = payload_size(d);
    *len = RCFD_SNAP_HEADER_SIZE + payload;
    if (buf == NULL || cap < *len) {
        return RCFD_ENOBUFS;
    }
    const hs_params_t *p = &d->params;
    rcfd_writer_t w = {(unsigned char *)buf + RCFD_SNAP_HEADER_SIZE, 0, payload};
    rcfd_put_u32(&w, p->dim);
    rcfd_put_u32(&w, p->window_size);
    rcfd_put_f64(&w, p->scan_radius);
    rcfd_put_u32(&w, p->min_points);
    rcfd_put_u32(&w, (uint32_t)p->only_containing_new | (uint32_t)p->emit_only_on_change << 1);
    rcfd_put_u32(&w, (uint32_t)p->algorithm);
    for (uint32_t k = 0; k < p->dim; k++) {
        rcfd_put_f64(&w, p->scale[k]);
    }
    rcfd_put_u64(&w, d->records);
    rcfd_put_u32(&w, d->count);
    for (uint32_t i = 0; i < d->count; i++) {
        const double *v = d->raw + (size_t)hs_slot(d, i) * d->dim;
        for (uint32_t k = 0; k < d->dim; k++) {
            rcfd_put_f64(&w, v[k]);
        }
    }
    rcfd_snap_seal(buf, RCFD_SNAP_KIND_HOTSPOTS, STATE_VERSION, w.len);
    return 0;
}

int hs_load(const void *buf, size_t len, hs_detector_t **out, char *errstr, size_t errstr_size)
{
    if (out == NULL) {
        return rcfd_errf(RCFD_EINVAL, errstr, errstr_size, "out is NULL");
    }
    *out = NULL;
    const unsigned char *payload;
    size_t payload_len;
    int rc = rcfd_snap_open_version(buf, len, RCFD_SNAP_KIND_HOTSPOTS, STATE_VERSION,
                                    "hotspots snapshot", &payload, &payload_len, errstr,
                                    errstr_size);
    if (rc != 0) {
        return rc;
    }
    rcfd_snap_loader_t l = {{payload, payload_len, 0, 0}, errstr, errstr_size, 0};
    rcfd_reader_t *r = &l.r;
    hs_params_t p = hs_params_default(1);
    p.dim = rcfd_get_u32(r);
    p.window_size = rcfd_get_u32(r);
    p.scan_radius = rcfd_get_f64(r);
    p.min_points = rcfd_get_u32(r);
    uint32_t flags = rcfd_get_u32(r);
    uint32_t algorithm = rcfd_get_u32(r);
    if (r->err) {
        return rcfd_snap_truncated(&l, "the parameters");
    }
    if (flags > 3) {
        return rcfd_snap_bad_at(&l, rcfd_snap_at(&l) - 8, "unknown option flags 0x%x", flags);
    }
    p.only_containing_new = (int)(flags & 1u);
    p.emit_only_on_change = (int)(flags >> 1);
    p.algorithm = algorithm > 1 ? (hs_algorithm_t)-1 : (hs_algorithm_t)algorithm;
    if (p.dim < HS_MIN_DIM || p.dim > HS_MAX_DIM) {
        return rcfd_snap_bad_at(&l, RCFD_SNAP_HEADER_SIZE, "dimension %u outside %u..%u", p.dim,
                                HS_MIN_DIM, HS_MAX_DIM);
    }
    for (uint32_t k = 0; k < p.dim; k++) {
        p.scale[k] = rcfd_get_f64(r);
    }
    uint64_t records = rcfd_get_u64(r);
    uint32_t count = rcfd_get_u32(r);
    if (r->err) {
        return rcfd_snap_truncated(&l, "the parameters");
    }
    if (records > HS_MAX_RECORDS) {
        /* No stream reaches it, a detector never counts past it (hs_int.h), and counting on from
         * near 2^64 would wrap the record sequence (a loaded window then disagrees with its own
         * order): a damaged snapshot. */
        return rcfd_snap_bad_at(&l, rcfd_snap_at(&l) - 12,
                                "%llu records seen: beyond 2^53, not a real count",
                                (unsigned long long)records);
    }
    char why[200];
    if (hs_params_validate(&p, why, sizeof why) != 0) {
        return rcfd_errf(RCFD_EBADSTATE, errstr, errstr_size,
                         "snapshot parameters are invalid: %s", why);
    }
    uint64_t expect = records < p.window_size ? records : p.window_size;
    if (count != expect) {
        return rcfd_snap_bad_at(&l, rcfd_snap_at(&l) - 4,
                                "window holds %u records, but %llu records seen with windowSize "
                                "%u means %llu",
                                count, (unsigned long long)records, p.window_size,
                                (unsigned long long)expect);
    }
    if (!rcfd_reader_has(r, (uint64_t)count * p.dim, 8)) {
        return rcfd_errf(RCFD_ETRUNCATED, errstr, errstr_size,
                         "snapshot truncated: %u window records of %u values need %llu bytes from "
                         "byte %zu, %zu present",
                         count, p.dim, (unsigned long long)count * p.dim * 8, rcfd_snap_at(&l),
                         r->len - r->pos);
    }
    if (r->len - r->pos != (size_t)count * p.dim * 8) {
        return rcfd_errf(RCFD_EBADSTATE, errstr, errstr_size,
                         "snapshot has %zu unexpected bytes after the window",
                         r->len - r->pos - (size_t)count * p.dim * 8);
    }
    /* Check every value before building anything, so a bad byte costs no allocation. */
    size_t values_at = r->pos;
    for (size_t i = 0; i < (size_t)count * p.dim; i++) {
        double v = rcfd_get_f64(r);
        uint32_t k = (uint32_t)(i % p.dim);
        if (!isfinite(v) || !isfinite(v * p.scale[k])) {
            return rcfd_snap_bad_at(&l, rcfd_snap_at(&l) - 8,
                                    "window record %zu value %u is not finite (or overflows when "
                                    "scaled)",
                                    i / p.dim, k);
        }
    }
    hs_detector_t *d;
    rc = hs_new(&p, &d, errstr, errstr_size);
    if (rc != 0) {
        return rc;
    }
    r->pos = values_at;
    d->records = records - count;
    double row[HS_MAX_DIM];
    for (uint32_t i = 0; i < count; i++) {
        for (uint32_t k = 0; k < p.dim; k++) {
            row[k] = rcfd_get_f64(r);
        }
        hs_append(d, row);
    }
    hs_report_now(d);
    d->queries = 0;
    d->merges = 0;
    d->splits = 0;
    *out = d;
    return 0;
}
