#include "models/impute.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "common/errstr.h"
#include "common/snapshot.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"

/* The config's enum: index = RCFD_IMPUTE_* */
const char *const rcfd_impute_methods[] = {"dead_letter", "zero", "fixed", "previous",
                                           "linear",      "rcf",  NULL};

rcfd_impute_state_t *rcfd_impute_state_new(size_t n_fields)
{
    rcfd_impute_state_t *s = rcfd_calloc(1, sizeof *s);
    if (s == NULL) {
        return NULL;
    }
    s->last = rcfd_calloc(n_fields ? n_fields : 1, sizeof *s->last);
    if (s->last == NULL) {
        rcfd_free(s);
        return NULL;
    }
    s->n_fields = (uint32_t)n_fields;
    return s;
}

void rcfd_impute_state_free(rcfd_impute_state_t *s)
{
    if (s != NULL) {
        rcfd_free(s->last);
        rcfd_free(s);
    }
}

static size_t payload_size(size_t n_fields)
{
    return 12 + 8 * n_fields;
}

size_t rcfd_impute_section_size(const rcfd_impute_state_t *s)
{
    return RCFD_SNAP_HEADER_SIZE + payload_size(s->n_fields);
}

void rcfd_impute_section_write(const rcfd_impute_state_t *s, rcfd_buf_t *out)
{
    unsigned char *head = (unsigned char *)out->p + out->len;
    rcfd_writer_t w = {head + RCFD_SNAP_HEADER_SIZE, 0, payload_size(s->n_fields)};
    rcfd_put_u32(&w, s->n_fields);
    rcfd_put_u32(&w, s->consecutive);
    rcfd_put_u32(&w, s->have_last);
    for (size_t i = 0; i < s->n_fields; i++) {
        rcfd_put_f64(&w, s->last[i]);
    }
    rcfd_snap_seal(head, RCFD_SNAP_KIND_IMPUTE, RCFD_IMPUTE_STATE_VERSION, w.len);
    out->len += RCFD_SNAP_HEADER_SIZE + w.len;
}

int rcfd_impute_section_load(const unsigned char *b, size_t len, size_t at, size_t n_fields,
                             rcfd_impute_state_t **out, char *errstr, size_t es)
{
    const unsigned char *payload;
    size_t plen;
    char why[200];
    *out = NULL;
    int rc = rcfd_snap_open_version(b, len, RCFD_SNAP_KIND_IMPUTE, RCFD_IMPUTE_STATE_VERSION,
                                    "impute section", &payload, &plen, why, sizeof why);
    if (rc != 0) {
        return rcfd_errf(rc, errstr, es, "the impute section at byte %zu: %s", at, why);
    }
    rcfd_reader_t r = {payload, plen, 0, 0};
    uint32_t n = rcfd_get_u32(&r);
    uint32_t consecutive = rcfd_get_u32(&r);
    uint32_t have_last = rcfd_get_u32(&r);
    if (r.err != 0) {
        return rcfd_errf(RCFD_ETRUNCATED, errstr, es, "snapshot truncated in the impute section "
                         "at byte %zu", at + RCFD_SNAP_HEADER_SIZE);
    }
    if (n != n_fields) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "snapshot's impute state is for %u fields; the config gives %zu", n,
                         n_fields);
    }
    if (plen != payload_size(n_fields)) {
        return rcfd_errf(RCFD_EBADSTATE, errstr, es,
                         "snapshot byte %zu: the impute section holds %zu bytes, expected %zu",
                         at, plen, payload_size(n_fields));
    }
    if (have_last > 1) {
        return rcfd_errf(RCFD_EBADSTATE, errstr, es,
                         "snapshot byte %zu: the impute section's have_last is %u, not 0 or 1",
                         at + RCFD_SNAP_HEADER_SIZE + 8, have_last);
    }
    rcfd_impute_state_t *s = rcfd_impute_state_new(n_fields);
    if (s == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    for (size_t i = 0; i < n_fields; i++) {
        double v = rcfd_get_f64(&r);
        if (!isfinite(v) || fabs(v) > FLT_MAX) {
            rcfd_impute_state_free(s);
            return rcfd_errf(RCFD_EBADSTATE, errstr, es,
                             "snapshot byte %zu: the impute section's last value %zu is not a "
                             "finite float",
                             at + RCFD_SNAP_HEADER_SIZE + 12 + 8 * i, i);
        }
        s->last[i] = v;
    }
    s->consecutive = consecutive;
    s->have_last = have_last;
    *out = s;
    return 0;
}

static size_t first_with(const rcfd_model_type_t *const *types, size_t n, int estimator)
{
    for (size_t m = 0; m < n; m++) {
        if (estimator ? types[m]->impute != NULL : types[m]->impute_state != NULL) {
            return m;
        }
    }
    return n;
}

int rcfd_impute_record(const rcfd_impute_conf_t *c, const rcfd_model_type_t *const *types,
                       void *const *models, size_t n_models, const rcfd_strlist_t *fields,
                       double *values, const unsigned char *missing, rcfd_impute_outcome_t *out,
                       char *reason, size_t rs)
{
    *out = (rcfd_impute_outcome_t){0};
    size_t h = first_with(types, n_models, 0);
    if (h == n_models) { /* the config checks that a model holds the state */
        return rcfd_errf(RCFD_EINVAL, reason, rs, "no model of the pipeline keeps impute state");
    }
    rcfd_impute_state_t **slot = types[h]->impute_state(models[h]);
    size_t n = fields->n;
    if (*slot == NULL && (*slot = rcfd_impute_state_new(n)) == NULL) {
        return rcfd_errf(RCFD_ENOMEM, reason, rs, "out of memory");
    }
    rcfd_impute_state_t *s = *slot;
    size_t first = n, k = 0;
    for (size_t i = 0; i < n; i++) {
        if (missing[i]) {
            first = first < n ? first : i;
            k++;
        }
    }
    if (k > 0) {
        if (s->consecutive >= c->max_consecutive) {
            return rcfd_errf(RCFD_ERANGE, reason, rs,
                             "missing field \"%s\": the key's last %u records were imputed "
                             "already (impute_max_consecutive)",
                             fields->v[first], s->consecutive);
        }
        int method = c->method;
        if (method == RCFD_IMPUTE_RCF || method == RCFD_IMPUTE_LINEAR) {
            size_t e = first_with(types, n_models, 1);
            int rc = method == RCFD_IMPUTE_LINEAR
                         ? (c->ahead != NULL ? c->ahead(c->ahead_ud, values, missing, n)
                                             : RCFD_EAGAIN)
                     : e < n_models ? types[e]->impute(models[e], values, missing, n)
                                    : RCFD_EAGAIN;
            if (rc == RCFD_EAGAIN) {
                method = RCFD_IMPUTE_PREVIOUS; /* no forest yet, or no next value in reach */
                out->fallback = 1;
            } else if (rc != 0) {
                return rcfd_errf(rc, reason, rs, "cannot impute field \"%s\": %s",
                                 fields->v[first], rcfd_strerror(rc));
            }
        }
        if (method == RCFD_IMPUTE_PREVIOUS && !s->have_last) {
            return rcfd_errf(RCFD_ENOENT, reason, rs,
                             "missing field \"%s\" and no earlier record of the key to impute "
                             "it from",
                             fields->v[first]);
        }
        for (size_t i = 0; i < n; i++) {
            if (!missing[i]) {
                continue;
            }
            switch (method) {
            case RCFD_IMPUTE_ZERO: values[i] = 0.0; break;
            case RCFD_IMPUTE_FIXED: values[i] = c->fixed[i]; break;
            case RCFD_IMPUTE_PREVIOUS: values[i] = s->last[i]; break;
            case RCFD_IMPUTE_RCF:
            case RCFD_IMPUTE_LINEAR: break; /* filled by the model, or by the look-ahead */
            default:
                return rcfd_errf(RCFD_EINVAL, reason, rs,
                                 "missing field \"%s\": impute method %d is not available here",
                                 fields->v[first], method);
            }
        }
        s->consecutive++;
    } else {
        s->consecutive = 0;
    }
    memcpy(s->last, values, n * sizeof *values);
    s->have_last = 1;
    out->imputed = k;
    return 0;
}
