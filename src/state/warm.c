#include "state/warm.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "common/keytab.h"

typedef struct warm_entry {
    const rcfd_pipeline_conf_t *conf;
    void *models[]; /* conf->n_models; NULL where no snapshot or taken */
} warm_entry_t;

struct rcfd_warm {
    rcfd_keytab_t *keys;
    size_t n_keys;
};

static void entry_free(void *value, void *ud)
{
    (void)ud;
    warm_entry_t *e = value;
    for (size_t m = 0; m < e->conf->n_models; m++) {
        if (e->models[m] != NULL) {
            e->conf->models[m].type->destroy(e->models[m]);
        }
    }
    rcfd_free(e);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The model index whose "<type>.snap" ends `name` after a '.', with the encoded key's length;
 * -1 when the file is not a snapshot of this pipeline. */
static long match(const rcfd_pipeline_conf_t *conf, const char *name, size_t *prefix_len)
{
    size_t n = strlen(name);
    for (size_t m = 0; m < conf->n_models; m++) {
        char suffix[64];
        int sl = snprintf(suffix, sizeof suffix, ".%s.snap", conf->models[m].type->name);
        if (sl > 0 && (size_t)sl < sizeof suffix && n > (size_t)sl &&
            strcmp(name + n - (size_t)sl, suffix) == 0) {
            *prefix_len = n - (size_t)sl;
            return (long)m;
        }
    }
    return -1;
}

/* Percent-decodes the file name's key (rcfd_trainer_snapshot_path's encoding). */
static int decode_key(const char *s, size_t n, int has_key, char *out, size_t cap, size_t *len)
{
    if (!has_key) {
        *len = 0;
        return n == 1 && s[0] == '_' ? 0 : -1;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                return -1;
            }
            c = hi * 16 + lo;
            i += 2;
        }
        if (o + 1 >= cap) {
            return -1;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    *len = o;
    return 0;
}

static int load_one(rcfd_warm_t *w, const rcfd_pipeline_conf_t *conf, const char *dir,
                    const char *name, char *errstr, size_t es)
{
    size_t plen;
    long m = match(conf, name, &plen);
    if (m < 0) {
        return 0;
    }
    char key[1024];
    size_t key_len;
    if (decode_key(name, plen, conf->key[0] != '\0', key, sizeof key, &key_len) != 0) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "%s/%s: not a snapshot name this pipeline can use (%s)", dir, name,
                         conf->key[0] != '\0' ? "undecodable key"
                                              : "the pipeline has no key field: only "
                                                "_.<type>.snap applies");
    }
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s/%s: path too long", dir, name);
    }
    rcfd_buf_t b = {0};
    char inner[512];
    int rc = rcfd_buf_read_file(&b, path, 0, inner, sizeof inner);
    if (rc != 0) {
        rc = rcfd_errf(rc == RCFD_ENOMEM ? rc : RCFD_ECONFIG, errstr, es, "%s", inner);
    }
    void *model = NULL;
    if (rc == 0) {
        char lerr[256];
        const rcfd_model_conf_t *mc = &conf->models[m];
        rc = mc->type->load(mc->params, conf->fields.n, b.p, b.len, &model, lerr, sizeof lerr);
        if (rc != 0) {
            rc = rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: %s", path, lerr);
        }
    }
    rcfd_buf_free(&b);
    if (rc != 0) {
        return rc;
    }
    warm_entry_t *e = rcfd_keytab_get(w->keys, key, key_len);
    if (e == NULL) {
        e = rcfd_calloc(1, sizeof *e + conf->n_models * sizeof e->models[0]);
        if (e == NULL || rcfd_keytab_put(w->keys, key, key_len, e) != 0) {
            rcfd_free(e);
            conf->models[m].type->destroy(model);
            return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
        }
        e->conf = conf;
        w->n_keys++;
    }
    e->models[m] = model; /* one file per key and type: the names differ only by them */
    return 0;
}

int rcfd_warm_load(const rcfd_pipeline_conf_t *conf, rcfd_warm_t **out, char *errstr, size_t es)
{
    *out = NULL;
    const char *dir = conf->initial_state;
    if (dir == NULL || dir[0] == '\0') {
        return 0;
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "initial_state %s: %s", dir, strerror(errno));
    }
    /* The names first: the table must hold every key without evicting one. */
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        size_t pl;
        if (match(conf, de->d_name, &pl) < 0) {
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nn = rcfd_realloc(names, nc * sizeof *nn);
            if (nn == NULL) {
                rc = RCFD_ENOMEM;
                break;
            }
            names = nn;
            cap = nc;
        }
        if ((names[n] = rcfd_strdup(de->d_name)) == NULL) {
            rc = RCFD_ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    rcfd_warm_t *w = rc == 0 ? rcfd_calloc(1, sizeof *w) : NULL;
    if (w == NULL || rcfd_keytab_new(n + 1, entry_free, NULL, &w->keys) != 0) {
        rc = rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = load_one(w, conf, dir, names[i], errstr, es);
    }
    for (size_t i = 0; i < n; i++) {
        rcfd_free(names[i]);
    }
    rcfd_free(names);
    if (rc != 0) {
        rcfd_warm_destroy(w);
        return rc;
    }
    *out = w;
    return 0;
}

size_t rcfd_warm_take(rcfd_warm_t *w, const char *key, size_t key_len, void **models)
{
    warm_entry_t *e = w != NULL ? rcfd_keytab_get(w->keys, key, key_len) : NULL;
    size_t moved = 0;
    for (size_t m = 0; e != NULL && m < e->conf->n_models; m++) {
        if (e->models[m] != NULL) {
            models[m] = e->models[m];
            e->models[m] = NULL;
            moved++;
        }
    }
    return moved;
}

size_t rcfd_warm_keys(const rcfd_warm_t *w)
{
    return w != NULL ? w->n_keys : 0;
}

void rcfd_warm_destroy(rcfd_warm_t *w)
{
    if (w == NULL) {
        return;
    }
    if (w->keys != NULL) {
        rcfd_keytab_destroy(w->keys);
    }
    rcfd_free(w);
}
