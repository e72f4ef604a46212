#include "common/conf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"

char *rcfd_strndup(const char *s, size_t n)
{
    char *p = rcfd_malloc(n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *rcfd_strdup(const char *s)
{
    return s == NULL ? NULL : rcfd_strndup(s, strlen(s));
}

void rcfd_strlist_free(rcfd_strlist_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        rcfd_free(l->v[i]);
    }
    rcfd_free(l->v);
    l->v = NULL;
    l->n = 0;
}

int rcfd_strlist_split(const char *s, char sep, rcfd_strlist_t *out)
{
    size_t parts = 1;
    for (const char *p = s; *p != '\0'; p++) {
        parts += *p == sep;
    }
    out->n = 0;
    out->v = rcfd_calloc(parts + 1, sizeof *out->v);
    if (out->v == NULL) {
        return RCFD_ENOMEM;
    }
    for (const char *p = s;;) {
        const char *c = strchr(p, sep);
        size_t n = c != NULL ? (size_t)(c - p) : strlen(p);
        if ((out->v[out->n] = rcfd_strndup(p, n)) == NULL) {
            rcfd_strlist_free(out);
            return RCFD_ENOMEM;
        }
        out->n++;
        if (c == NULL) {
            return 0;
        }
        p = c + 1;
    }
}

static void kv_free(rcfd_kv_t *kv)
{
    for (size_t i = 0; i < kv->n; i++) {
        rcfd_free(kv->keys[i]);
        rcfd_free(kv->vals[i]);
    }
    rcfd_free(kv->keys);
    rcfd_free(kv->vals);
    kv->keys = kv->vals = NULL;
    kv->n = 0;
}

#define FIELD(base, d, T) ((T *)(void *)((char *)(base) + (d)->offset))

static const char *type_name(rcfd_conf_type_t t)
{
    switch (t) {
    case RCFD_CT_BOOL: return "boolean";
    case RCFD_CT_INT: return "integer";
    case RCFD_CT_DOUBLE: return "number";
    case RCFD_CT_STRING: return "string";
    case RCFD_CT_ENUM: return "string";
    case RCFD_CT_STRLIST: return "array of strings";
    case RCFD_CT_KV: return "object of strings";
    case RCFD_CT_NESTED: return "object or array";
    }
    return "?";
}

static void enum_list(const char *const *e, char *out, size_t size)
{
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; e[i] != NULL && off < size; i++) {
        off += (size_t)snprintf(out + off, size - off, "%s\"%s\"", i ? ", " : "", e[i]);
    }
}

static void fmt_num(char *out, size_t size, double v, rcfd_conf_type_t t)
{
    if (t == RCFD_CT_INT) {
        snprintf(out, size, "%.0f", v);
    } else {
        snprintf(out, size, "%g", v);
    }
}

/* Expands ${NAME} from the environment, and ${NAME:-default} (shell's rule: the default when NAME
 * is unset or empty), so an example config runs as typed and a deployment overrides it. */
static int expand_env(const char *in, char **out, const char *path, char *errstr, size_t es)
{
    rcfd_buf_t b = {0};
    const char *p = in;
    while (*p) {
        const char *d = strstr(p, "${");
        if (d == NULL) {
            if (rcfd_buf_puts(&b, p) != 0) {
                goto oom;
            }
            break;
        }
        const char *end = strchr(d + 2, '}');
        if (end == NULL) {
            rcfd_buf_free(&b);
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: unterminated \"${\" in string", path);
        }
        if (rcfd_buf_append(&b, p, (size_t)(d - p)) != 0) {
            goto oom;
        }
        const char *dflt = NULL;
        const char *name_end = end;
        for (const char *q = d + 2; q + 1 < end; q++) {
            if (q[0] == ':' && q[1] == '-') {
                dflt = q + 2;
                name_end = q;
                break;
            }
        }
        char name[256];
        size_t nl = (size_t)(name_end - d - 2);
        if (nl == 0 || nl >= sizeof name) {
            rcfd_buf_free(&b);
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: bad environment reference", path);
        }
        memcpy(name, d + 2, nl);
        name[nl] = '\0';
        const char *v = getenv(name);
        if (dflt != NULL && (v == NULL || v[0] == '\0')) {
            if (rcfd_buf_append(&b, dflt, (size_t)(end - dflt)) != 0) {
                goto oom;
            }
        } else if (v == NULL) {
            rcfd_buf_free(&b);
            return rcfd_errf(RCFD_ECONFIG, errstr, es,
                             "%s: environment variable %s is not set (set it, or write "
                             "${%s:-DEFAULT} for a default)",
                             path, name, name);
        } else if (rcfd_buf_puts(&b, v) != 0) {
            goto oom;
        }
        p = end + 1;
    }
    if (b.p == NULL) {
        if (rcfd_buf_reserve(&b, 1) != 0) {
            goto oom;
        }
        b.p[0] = '\0';
    }
    *out = b.p;
    return 0;
oom:
    rcfd_buf_free(&b);
    return rcfd_errf(RCFD_ENOMEM, errstr, es, "%s: out of memory", path);
}

static int set_value(const rcfd_conf_desc_t *d, void *base, const cJSON *v, const char *path,
                     char *errstr, size_t es)
{
    char lo[32], hi[32];
    fmt_num(lo, sizeof lo, d->min, d->type);
    fmt_num(hi, sizeof hi, d->max, d->type);
    switch (d->type) {
    case RCFD_CT_BOOL:
        if (!cJSON_IsBool(v)) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: expected a boolean (true or false)",
                             path);
        }
        *FIELD(base, d, int) = cJSON_IsTrue(v);
        return 0;
    case RCFD_CT_INT: {
        const char *or_auto = (d->flags & RCFD_CONF_AUTO) ? " or \"auto\"" : "";
        if ((d->flags & RCFD_CONF_AUTO) && cJSON_IsString(v) && strcmp(v->valuestring, "auto") == 0) {
            *FIELD(base, d, int64_t) = 0;
            return 0;
        }
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble)) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: expected an integer in [%s, %s]%s",
                             path, lo, hi, or_auto);
        }
        double x = v->valuedouble;
        if (x < d->min || x > d->max) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: %.0f is out of range [%s, %s]%s",
                             path, x, lo, hi, or_auto);
        }
        *FIELD(base, d, int64_t) = (int64_t)x;
        return 0;
    }
    case RCFD_CT_DOUBLE: {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: expected a number in [%s, %s]", path,
                             lo, hi);
        }
        double x = v->valuedouble;
        if (x < d->min || x > d->max) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: %g is out of range [%s, %s]", path, x,
                             lo, hi);
        }
        *FIELD(base, d, double) = x;
        return 0;
    }
    case RCFD_CT_STRING: {
        if (!cJSON_IsString(v)) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: expected a string", path);
        }
        char *s;
        int rc = expand_env(v->valuestring, &s, path, errstr, es);
        if (rc != 0) {
            return rc;
        }
        if ((d->flags & RCFD_CONF_NONEMPTY) && s[0] == '\0') {
            rcfd_free(s);
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: must not be empty", path);
        }
        char **slot = FIELD(base, d, char *);
        rcfd_free(*slot);
        *slot = s;
        return 0;
    }
    case RCFD_CT_ENUM: {
        char list[256];
        enum_list(d->enums, list, sizeof list);
        if (!cJSON_IsString(v)) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: expected one of %s", path, list);
        }
        for (int i = 0; d->enums[i] != NULL; i++) {
            if (strcmp(d->enums[i], v->valuestring) == 0) {
                *FIELD(base, d, int) = i;
                return 0;
            }
        }
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: \"%s\" is not one of %s", path,
                         v->valuestring, list);
    }
    case RCFD_CT_STRLIST: {
        if (!cJSON_IsArray(v)) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: expected an array of strings", path);
        }
        int n = cJSON_GetArraySize(v);
        if (d->max > 0 && (n < d->min || n > d->max)) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es,
                             "%s: has %d entries, expected between %s and %s", path, n, lo, hi);
        }
        rcfd_strlist_t l = {0};
        l.v = rcfd_calloc((size_t)n + 1, sizeof *l.v);
        if (l.v == NULL) {
            return rcfd_errf(RCFD_ENOMEM, errstr, es, "%s: out of memory", path);
        }
        const cJSON *it;
        int i = 0;
        cJSON_ArrayForEach(it, v)
        {
            char ipath[512];
            snprintf(ipath, sizeof ipath, "%s[%d]", path, i);
            if (!cJSON_IsString(it)) {
                rcfd_strlist_free(&l);
                return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: expected a string", ipath);
            }
            int rc = expand_env(it->valuestring, &l.v[l.n], ipath, errstr, es);
            if (rc != 0) {
                rcfd_strlist_free(&l);
                return rc;
            }
            l.n++;
            if (l.v[l.n - 1][0] == '\0' && (d->flags & RCFD_CONF_NONEMPTY)) {
                rcfd_strlist_free(&l);
                return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: must not be empty", ipath);
            }
            i++;
        }
        rcfd_strlist_t *slot = FIELD(base, d, rcfd_strlist_t);
        rcfd_strlist_free(slot);
        *slot = l;
        return 0;
    }
    case RCFD_CT_KV: {
        if (!cJSON_IsObject(v)) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: expected an object of strings", path);
        }
        int n = cJSON_GetArraySize(v);
        rcfd_kv_t kv = {0};
        kv.keys = rcfd_calloc((size_t)n + 1, sizeof *kv.keys);
        kv.vals = rcfd_calloc((size_t)n + 1, sizeof *kv.vals);
        if (kv.keys == NULL || kv.vals == NULL) {
            kv_free(&kv);
            return rcfd_errf(RCFD_ENOMEM, errstr, es, "%s: out of memory", path);
        }
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
        {
            char ipath[512];
            snprintf(ipath, sizeof ipath, "%s.\"%s\"", path, it->string);
            char num[64];
            const char *sv;
            /* librdkafka takes every property as a string; accept JSON scalars for convenience. */
            if (cJSON_IsString(it)) {
                sv = it->valuestring;
            } else if (cJSON_IsBool(it)) {
                sv = cJSON_IsTrue(it) ? "true" : "false";
            } else if (cJSON_IsNumber(it) && it->valuedouble == floor(it->valuedouble) &&
                       fabs(it->valuedouble) < 9.007199254740992e15) {
                snprintf(num, sizeof num, "%.0f", it->valuedouble);
                sv = num;
            } else {
                kv_free(&kv);
                return rcfd_errf(RCFD_ECONFIG, errstr, es,
                                 "%s: expected a string, integer or boolean", ipath);
            }
            kv.keys[kv.n] = rcfd_strdup(it->string);
            int rc = expand_env(sv, &kv.vals[kv.n], ipath, errstr, es);
            kv.n++;
            if (rc != 0 || kv.keys[kv.n - 1] == NULL) {
                kv_free(&kv);
                return rc != 0 ? rc : RCFD_ENOMEM;
            }
        }
        rcfd_kv_t *slot = FIELD(base, d, rcfd_kv_t);
        kv_free(slot);
        *slot = kv;
        return 0;
    }
    case RCFD_CT_NESTED:
        return 0;
    }
    return RCFD_EINVAL;
}

int rcfd_conf_defaults(const rcfd_conf_desc_t *desc, void *base, char *errstr, size_t es)
{
    for (const rcfd_conf_desc_t *d = desc; d->key != NULL; d++) {
        if (d->def == NULL || d->type == RCFD_CT_NESTED) {
            continue;
        }
        cJSON *v = cJSON_Parse(d->def);
        if (v == NULL) {
            return rcfd_errf(RCFD_EINVAL, errstr, es, "%s: bad default %s", d->key, d->def);
        }
        int rc = set_value(d, base, v, d->key, errstr, es);
        cJSON_Delete(v);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static void valid_keys(const rcfd_conf_section_t *secs, size_t n, char *out, size_t size)
{
    size_t off = 0;
    out[0] = '\0';
    for (size_t s = 0; s < n; s++) {
        for (const rcfd_conf_desc_t *d = secs[s].desc; d->key != NULL && off < size; d++) {
            off += (size_t)snprintf(out + off, size - off, "%s%s", off ? ", " : "", d->key);
        }
    }
}

int rcfd_conf_parse(const rcfd_conf_section_t *secs, size_t n_secs, const cJSON *obj,
                    const char *path, char *errstr, size_t es)
{
    const char *shown = path[0] ? path : "(root)";
    if (!cJSON_IsObject(obj)) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: expected an object", shown);
    }
    for (size_t s = 0; s < n_secs; s++) {
        int rc = rcfd_conf_defaults(secs[s].desc, secs[s].base, errstr, es);
        if (rc != 0) {
            return rc;
        }
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        char kpath[512];
        snprintf(kpath, sizeof kpath, "%s%s%s", path, path[0] ? "." : "", it->string);
        const rcfd_conf_desc_t *found = NULL;
        void *base = NULL;
        for (size_t s = 0; s < n_secs && found == NULL; s++) {
            for (const rcfd_conf_desc_t *d = secs[s].desc; d->key != NULL; d++) {
                if (strcmp(d->key, it->string) == 0) {
                    found = d;
                    base = secs[s].base;
                    break;
                }
            }
        }
        if (found == NULL) {
            char keys[1024];
            valid_keys(secs, n_secs, keys, sizeof keys);
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: unknown key; valid keys: %s", kpath,
                             keys);
        }
        /* Duplicate keys: cJSON keeps both; the last would silently win, so refuse. */
        for (const cJSON *o = obj->child; o != it; o = o->next) {
            if (strcmp(o->string, it->string) == 0) {
                return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: duplicate key", kpath);
            }
        }
        int rc = set_value(found, base, it, kpath, errstr, es);
        if (rc != 0) {
            return rc;
        }
    }
    for (size_t s = 0; s < n_secs; s++) {
        for (const rcfd_conf_desc_t *d = secs[s].desc; d->key != NULL; d++) {
            if ((d->flags & RCFD_CONF_REQUIRED) &&
                cJSON_GetObjectItemCaseSensitive(obj, d->key) == NULL) {
                return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s%s%s: required key is missing (%s)",
                                 path, path[0] ? "." : "", d->key, d->help);
            }
        }
    }
    return 0;
}

void rcfd_conf_free(const rcfd_conf_desc_t *desc, void *base)
{
    for (const rcfd_conf_desc_t *d = desc; d->key != NULL; d++) {
        switch (d->type) {
        case RCFD_CT_STRING:
            rcfd_free(*FIELD(base, d, char *));
            *FIELD(base, d, char *) = NULL;
            break;
        case RCFD_CT_STRLIST:
            rcfd_strlist_free(FIELD(base, d, rcfd_strlist_t));
            break;
        case RCFD_CT_KV:
            kv_free(FIELD(base, d, rcfd_kv_t));
            break;
        default:
            break;
        }
    }
}

static cJSON *value_json(const rcfd_conf_desc_t *d, const void *cbase)
{
    void *base = (void *)(uintptr_t)cbase;
    switch (d->type) {
    case RCFD_CT_BOOL:
        return cJSON_CreateBool(*FIELD(base, d, int));
    case RCFD_CT_INT:
        if ((d->flags & RCFD_CONF_AUTO) && *FIELD(base, d, int64_t) == 0) {
            return cJSON_CreateString("auto");
        }
        return cJSON_CreateNumber((double)*FIELD(base, d, int64_t));
    case RCFD_CT_DOUBLE:
        return cJSON_CreateNumber(*FIELD(base, d, double));
    case RCFD_CT_STRING: {
        const char *s = *FIELD(base, d, char *);
        return s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull();
    }
    case RCFD_CT_ENUM:
        return cJSON_CreateString(d->enums[*FIELD(base, d, int)]);
    case RCFD_CT_STRLIST: {
        const rcfd_strlist_t *l = FIELD(base, d, rcfd_strlist_t);
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; a != NULL && i < l->n; i++) {
            cJSON_AddItemToArray(a, cJSON_CreateString(l->v[i]));
        }
        return a;
    }
    case RCFD_CT_KV: {
        const rcfd_kv_t *kv = FIELD(base, d, rcfd_kv_t);
        cJSON *o = cJSON_CreateObject();
        for (size_t i = 0; o != NULL && i < kv->n; i++) {
            cJSON_AddStringToObject(o, kv->keys[i], kv->vals[i]);
        }
        return o;
    }
    case RCFD_CT_NESTED:
        return NULL;
    }
    return NULL;
}

int rcfd_conf_emit(const rcfd_conf_desc_t *desc, const void *base, cJSON *obj)
{
    for (const rcfd_conf_desc_t *d = desc; d->key != NULL; d++) {
        if (d->type == RCFD_CT_NESTED) {
            continue;
        }
        cJSON *v = value_json(d, base);
        if (v == NULL || !cJSON_AddItemToObject(obj, d->key, v)) {
            cJSON_Delete(v);
            return RCFD_ENOMEM;
        }
    }
    return 0;
}

int rcfd_conf_apply_hot(const rcfd_conf_desc_t *desc, void *to, const void *from)
{
    for (const rcfd_conf_desc_t *d = desc; d->key != NULL; d++) {
        if (!(d->flags & RCFD_CONF_HOT) || d->type == RCFD_CT_NESTED) {
            continue;
        }
        cJSON *v = value_json(d, from);
        if (v == NULL) {
            return RCFD_ENOMEM;
        }
        int rc = set_value(d, to, v, d->key, NULL, 0);
        cJSON_Delete(v);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int rcfd_conf_reference(const rcfd_conf_desc_t *desc, rcfd_buf_t *out)
{
    int rc = rcfd_buf_puts(out, "| key | type | default | valid values | reload | description |\n"
                                "|---|---|---|---|---|---|\n");
    for (const rcfd_conf_desc_t *d = desc; rc == 0 && d->key != NULL; d++) {
        char range[512] = "";
        char lo[32], hi[32];
        fmt_num(lo, sizeof lo, d->min, d->type);
        fmt_num(hi, sizeof hi, d->max, d->type);
        if (d->type == RCFD_CT_INT || d->type == RCFD_CT_DOUBLE) {
            snprintf(range, sizeof range, "%s .. %s%s", lo, hi,
                     (d->flags & RCFD_CONF_AUTO) ? ", `\"auto\"`" : "");
        } else if (d->type == RCFD_CT_ENUM) {
            size_t off = 0;
            for (int i = 0; d->enums[i] != NULL; i++) {
                off += (size_t)snprintf(range + off, sizeof range - off, "%s`%s`", i ? ", " : "",
                                        d->enums[i]);
            }
        } else if (d->type == RCFD_CT_STRLIST && d->max > 0) {
            snprintf(range, sizeof range, "%s .. %s entries", lo, hi);
        }
        const char *def = (d->flags & RCFD_CONF_REQUIRED) ? "required"
                          : d->def != NULL                ? d->def
                                                          : "";
        rc = rcfd_buf_printf(out, "| `%s` | %s | %s%s%s | %s | %s | %s |\n", d->key,
                             type_name(d->type), def[0] && strcmp(def, "required") ? "`" : "", def,
                             def[0] && strcmp(def, "required") ? "`" : "", range,
                             (d->flags & RCFD_CONF_HOT) ? "SIGHUP" : "restart", d->help);
    }
    return rc;
}

const char *rcfd_conf_peek_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}
