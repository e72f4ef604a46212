#include "train/trainer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "common/keytab.h"
#include "config/schema.h"

const rcfd_trainer_t *const rcfd_trainers[] = {&rcfd_trainer_rcf, &rcfd_trainer_hotspots,
                                                &rcfd_trainer_forecast, NULL};

const rcfd_trainer_t *rcfd_trainer_find(const char *name)
{
    for (size_t i = 0; name != NULL && rcfd_trainers[i] != NULL; i++) {
        if (strcmp(rcfd_trainers[i]->name, name) == 0) {
            return rcfd_trainers[i];
        }
    }
    return NULL;
}

const rcfd_conf_desc_t *rcfd_trainer_conf(const rcfd_trainer_t *t)
{
    return t->model != NULL ? t->model->conf : t->conf;
}

size_t rcfd_trainer_conf_size(const rcfd_trainer_t *t)
{
    return t->model != NULL ? t->model->conf_size : t->conf_size;
}

uint64_t rcfd_trainer_key_seed(const rcfd_trainer_t *t, const void *params, const char *key,
                               size_t key_len)
{
    /* The same rule as the runtime's instance_for(): the table's "seed" row, else 0. */
    uint64_t master = 0;
    for (const rcfd_conf_desc_t *d = rcfd_trainer_conf(t); d->key != NULL; d++) {
        if (strcmp(d->key, "seed") == 0 && d->type == RCFD_CT_INT) {
            int64_t v;
            memcpy(&v, (const char *)params + d->offset, sizeof v);
            master = (uint64_t)v;
        }
    }
    return rcfd_key_seed(master, key, key_len);
}

int rcfd_trainer_set_param(const rcfd_trainer_t *t, void *obj, const char *as, size_t n_fields,
                           char *errstr, size_t es)
{
    const char *eq = strchr(as, '=');
    if (eq == NULL || eq == as) {
        return rcfd_errf(RCFD_EINVAL, errstr, es, "parameter \"%s\": expected name=value", as);
    }
    char name[128];
    size_t nl = (size_t)(eq - as);
    if (nl >= sizeof name) {
        return rcfd_errf(RCFD_EINVAL, errstr, es, "parameter name too long in \"%s\"", as);
    }
    memcpy(name, as, nl);
    name[nl] = '\0';
    const char *val = eq + 1;
    const char *key = rcfd_config_model_alias(t->name, name); /* KDA's, as in the config */
    key = key != NULL ? key : name;
    for (const rcfd_param_alias_t *a = t->aliases; a != NULL && a->alias != NULL; a++) {
        if (strcmp(a->alias, name) == 0) {
            key = a->key;
            break;
        }
    }
    if (key == NULL) { /* feature_dim: SageMaker's count of columns, implied by the fields here */
        char *end;
        errno = 0;
        unsigned long long d = strtoull(val, &end, 10);
        if (errno != 0 || *end != '\0' || d != n_fields) {
            return rcfd_errf(RCFD_EINVAL, errstr, es,
                             "%s=%s does not match the %zu field(s) selected", name, val,
                             n_fields);
        }
        return 0;
    }
    cJSON *v = cJSON_Parse(val);
    if (v == NULL || !(cJSON_IsNumber(v) || cJSON_IsBool(v) || cJSON_IsString(v))) {
        cJSON_Delete(v);
        v = cJSON_CreateString(val);
    }
    if (v == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    if (!cJSON_AddItemToObject(obj, key, v)) {
        cJSON_Delete(v);
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    return 0;
}

int rcfd_trainer_params_from_args(const rcfd_trainer_t *t, const char *const *assignments,
                                  size_t n, size_t n_fields, void **cjson_out, char *errstr,
                                  size_t es)
{
    *cjson_out = NULL;
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        int rc = rcfd_trainer_set_param(t, obj, assignments[i], n_fields, errstr, es);
        if (rc != 0) {
            cJSON_Delete(obj);
            return rc;
        }
    }
    *cjson_out = obj;
    return 0;
}

int rcfd_trainer_params(const rcfd_trainer_t *t, const void *obj, void *params, char *errstr,
                        size_t es)
{
    rcfd_conf_section_t sec = {rcfd_trainer_conf(t), params};
    char path[64];
    snprintf(path, sizeof path, "model(%s)", t->name);
    return rcfd_conf_parse(&sec, 1, obj, path, errstr, es);
}

int rcfd_trainer_snapshot_path(const char *dir, const rcfd_trainer_t *t, const char *key,
                               size_t key_len, char *out, size_t size)
{
    rcfd_buf_t b = {0};
    int rc = rcfd_buf_printf(&b, "%s/", dir);
    if (key_len == 0) {
        rc = rc ? rc : rcfd_buf_putc(&b, '_');
    }
    for (size_t i = 0; rc == 0 && i < key_len; i++) {
        unsigned char c = (unsigned char)key[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || (c == '.' && i > 0)) {
            rc = rcfd_buf_putc(&b, (char)c);
        } else {
            rc = rcfd_buf_printf(&b, "%%%02X", c);
        }
    }
    rc = rc ? rc : rcfd_buf_printf(&b, ".%s.snap", t->name);
    if (rc == 0 && b.len + 1 > size) {
        rc = RCFD_ENOBUFS;
    }
    if (rc == 0) {
        memcpy(out, b.p, b.len);
        out[b.len] = '\0';
    }
    rcfd_buf_free(&b);
    return rc;
}

int rcfd_trainer_load_file(const rcfd_trainer_t *t, const void *params, size_t n_fields,
                           const char *path, void **out, char *errstr, size_t es)
{
    rcfd_buf_t b = {0};
    int rc = rcfd_buf_read_file(&b, path, 0, errstr, es);
    if (rc == 0) {
        char lerr[256];
        rc = t->load(params, n_fields, b.p, b.len, out, lerr, sizeof lerr);
        if (rc != 0) {
            rcfd_errf(rc, errstr, es, "%s: %s", path, lerr);
        }
    }
    rcfd_buf_free(&b);
    return rc;
}
