/* KDA's HOTSPOTS_RESULT JSON, written with snprintf into the caller's buffer (no JSON library in the
 * core). The writer keeps counting past the end of the buffer so a short buffer learns the size it
 * needs in one call. Numbers are locale-independent only in the "C" locale (the daemon never calls
 * setlocale). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hs_int.h"
#include "rcfd/status.h"

typedef struct out {
    char *buf;
    size_t cap;
    size_t len;
} out_t;

__attribute__((format(printf, 2, 3))) static void put(out_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    int n = vsnprintf(room > 0 ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) {
        o->len += (size_t)n;
    }
}

/* Shortest %.Ng (N = 15..17) that reads back as the same double. */
static void put_double(out_t *o, double v)
{
    char tmp[32];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (prec == 17 || strtod(tmp, NULL) == v) {
            break;
        }
    }
    put(o, "%s", tmp);
}

static void put_values(out_t *o, const char *name, const double *v, uint32_t dim)
{
    put(o, ",\"%s\":[", name);
    for (uint32_t k = 0; k < dim; k++) {
        if (k > 0) {
            put(o, ",");
        }
        put_double(o, v[k]);
    }
    put(o, "]");
}

int hs_result_json(const hs_detector_t *d, const hs_result_t *r, char *buf, size_t cap,
                   size_t *len, unsigned flags)
{
    if (d == NULL || r == NULL || len == NULL) {
        return RCFD_EINVAL;
    }
    out_t o = {buf, buf == NULL ? 0 : cap, 0};
    put(&o, "{\"hotspots\":[");
    for (size_t i = 0; i < r->n_hotspots; i++) {
        const hs_hotspot_t *h = &r->hotspots[i];
        put(&o, "%s{\"density\":", i > 0 ? "," : "");
        put_double(&o, h->density);
        put_values(&o, "minValues", h->min_values, d->dim);
        put_values(&o, "maxValues", h->max_values, d->dim);
        if (!(flags & HS_JSON_KDA)) {
            put(&o, ",\"count\":%u,\"denseCount\":%u", h->count, h->dense_count);
        }
        put(&o, "}");
    }
    put(&o, "]}");
    *len = o.len;
    if (o.len >= o.cap) {
        if (o.cap > 0) {
            buf[0] = '\0';
        }
        return RCFD_ENOBUFS;
    }
    return 0;
}
