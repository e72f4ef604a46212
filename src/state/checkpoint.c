#include "state/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errstr.h"
#include "common/snapshot.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"

#define CKPT_VERSION 2u

static size_t str_len(const char *s)
{
    return s != NULL ? strlen(s) : 0;
}

static void put_str(rcfd_writer_t *w, const char *s)
{
    size_t n = str_len(s);
    rcfd_put_u32(w, (uint32_t)n);
    if (n > 0) {
        memcpy(w->p + w->len, s, n);
    }
    w->len += n;
}

int rcfd_ckpt_encode(const rcfd_ckpt_id_t *id, uint64_t next_offset,
                     const rcfd_ckpt_entry_t *entries, size_t n, rcfd_buf_t *out)
{
    static const rcfd_ckpt_id_t none = {0};
    if (id == NULL) {
        id = &none;
    }
    size_t payload = 8 + 4 + str_len(id->source) + 4 + str_len(id->topic) + 4 + 8 + 4 +
                     str_len(id->cluster) + 4;
    for (size_t i = 0; i < n; i++) {
        payload += 4 + entries[i].key_len + 4 + entries[i].type_len + 8 + entries[i].snapshot_len;
    }
    rcfd_buf_reset(out);
    int rc = rcfd_buf_reserve(out, RCFD_SNAP_HEADER_SIZE + payload);
    if (rc != 0) {
        return rc;
    }
    unsigned char *base = (unsigned char *)out->p;
    rcfd_writer_t w = {base + RCFD_SNAP_HEADER_SIZE, 0, payload};
    rcfd_put_u64(&w, next_offset);
    put_str(&w, id->source);
    put_str(&w, id->topic);
    rcfd_put_u32(&w, (uint32_t)id->partition);
    rcfd_put_u64(&w, id->config_hash);
    put_str(&w, id->cluster);
    rcfd_put_u32(&w, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        const rcfd_ckpt_entry_t *e = &entries[i];
        rcfd_put_u32(&w, (uint32_t)e->key_len);
        memcpy(w.p + w.len, e->key, e->key_len);
        w.len += e->key_len;
        rcfd_put_u32(&w, (uint32_t)e->type_len);
        memcpy(w.p + w.len, e->type, e->type_len);
        w.len += e->type_len;
        rcfd_put_u64(&w, e->snapshot_len);
        if (e->snapshot_len > 0) { /* a commit's key list has no snapshots (NULL) */
            memcpy(w.p + w.len, e->snapshot, e->snapshot_len);
        }
        w.len += e->snapshot_len;
    }
    rcfd_snap_seal(base, RCFD_SNAP_KIND_CHECKPOINT, CKPT_VERSION, payload);
    out->len = RCFD_SNAP_HEADER_SIZE + payload;
    return 0;
}

/* Reads a length-prefixed byte string without copying; 0 when it does not fit. */
static const unsigned char *get_bytes(rcfd_reader_t *r, uint64_t len)
{
    if (r->err || r->len - r->pos < len) {
        r->err = RCFD_ETRUNCATED;
        return NULL;
    }
    const unsigned char *p = r->p + r->pos;
    r->pos += (size_t)len;
    return p;
}

int rcfd_ckpt_decode(void *data, size_t len, rcfd_ckpt_t *out, char *errstr, size_t errstr_size)
{
    memset(out, 0, sizeof *out);
    const unsigned char *payload;
    size_t payload_len;
    /* Version 1 had no identity: read it as one that is unknown. */
    uint32_t version = len >= RCFD_SNAP_HEADER_SIZE && ((const unsigned char *)data)[12] == 1 &&
                               ((const unsigned char *)data)[13] == 0 &&
                               ((const unsigned char *)data)[14] == 0 &&
                               ((const unsigned char *)data)[15] == 0
                           ? 1u
                           : CKPT_VERSION;
    int rc = rcfd_snap_open_version(data, len, RCFD_SNAP_KIND_CHECKPOINT, version, "checkpoint",
                                    &payload, &payload_len, errstr, errstr_size);
    if (rc != 0) {
        return rc;
    }
    rcfd_reader_t r = {payload, payload_len, 0, 0};
    uint64_t next_offset = rcfd_get_u64(&r);
    rcfd_ckpt_t id = {0};
    if (version >= 2) {
        id.has_id = 1;
        id.source_len = rcfd_get_u32(&r);
        id.source = (const char *)get_bytes(&r, id.source_len);
        id.topic_len = rcfd_get_u32(&r);
        id.topic = (const char *)get_bytes(&r, id.topic_len);
        id.partition = (int32_t)rcfd_get_u32(&r);
        id.config_hash = rcfd_get_u64(&r);
        id.cluster_len = rcfd_get_u32(&r);
        id.cluster = (const char *)get_bytes(&r, id.cluster_len);
        if (r.err) {
            return rcfd_errf(RCFD_ETRUNCATED, errstr, errstr_size,
                             "checkpoint identity is truncated at payload byte %zu", r.pos);
        }
    }
    uint32_t n = rcfd_get_u32(&r);
    /* Every entry takes at least 16 bytes: refuse impossible counts before allocating. */
    if (r.err || !rcfd_reader_has(&r, n, 16)) {
        return rcfd_errf(RCFD_ETRUNCATED, errstr, errstr_size,
                         "checkpoint declares %u entries but holds %zu bytes", n, payload_len);
    }
    rcfd_ckpt_entry_t *entries = rcfd_calloc(n > 0 ? n : 1, sizeof *entries);
    if (entries == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, errstr_size, "out of memory");
    }
    for (uint32_t i = 0; i < n; i++) {
        rcfd_ckpt_entry_t *e = &entries[i];
        e->key_len = rcfd_get_u32(&r);
        e->key = (const char *)get_bytes(&r, e->key_len);
        e->type_len = rcfd_get_u32(&r);
        e->type = (const char *)get_bytes(&r, e->type_len);
        e->snapshot_len = (size_t)rcfd_get_u64(&r);
        e->snapshot = get_bytes(&r, e->snapshot_len);
        if (r.err) {
            rcfd_free(entries);
            return rcfd_errf(RCFD_ETRUNCATED, errstr, errstr_size,
                             "checkpoint entry %u is truncated at payload byte %zu", i, r.pos);
        }
    }
    if (r.pos != r.len) {
        rcfd_free(entries);
        return rcfd_errf(RCFD_EBADSTATE, errstr, errstr_size,
                         "checkpoint has %zu bytes after its last entry", r.len - r.pos);
    }
    *out = id;
    out->next_offset = next_offset;
    out->n_entries = n;
    out->entries = entries;
    out->data = data;
    out->data_len = len;
    return 0;
}

static int same(const char *a, size_t alen, const char *b)
{
    size_t blen = str_len(b);
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

int rcfd_ckpt_check_id(const rcfd_ckpt_t *c, const rcfd_ckpt_id_t *want, char *errstr, size_t es)
{
    if (want == NULL || !c->has_id || c->source_len == 0) {
        return 0;
    }
    if (!same(c->source, c->source_len, want->source) ||
        !same(c->topic, c->topic_len, want->topic) || c->partition != want->partition) {
        return rcfd_errf(RCFD_EBADSTATE, errstr, es,
                         "it is the checkpoint of source %.*s, %.*s[%d], not of %s, %s[%d]",
                         (int)c->source_len, c->source, (int)c->topic_len, c->topic,
                         (int)c->partition, want->source, want->topic ? want->topic : "",
                         (int)want->partition);
    }
    if (c->config_hash != want->config_hash) {
        return rcfd_errf(RCFD_EBADSTATE, errstr, es,
                         "it was written for another configuration of the source's pipelines "
                         "(their names, fields, keys or model parameters changed: config hash "
                         "%016llx, now %016llx)",
                         (unsigned long long)c->config_hash,
                         (unsigned long long)want->config_hash);
    }
    if (c->cluster_len > 0 && str_len(want->cluster) > 0 &&
        !same(c->cluster, c->cluster_len, want->cluster)) {
        return rcfd_errf(RCFD_EBADSTATE, errstr, es,
                         "it comes from another Kafka cluster (id %.*s, this one %s)",
                         (int)c->cluster_len, c->cluster, want->cluster);
    }
    return 0;
}

void rcfd_ckpt_free(rcfd_ckpt_t *c)
{
    rcfd_free(c->entries);
    rcfd_free(c->data);
    memset(c, 0, sizeof *c);
}

int rcfd_ckpt_builder_begin(rcfd_ckpt_builder_t *b, const char *pipeline, const char *key,
                            size_t key_len, const char *type)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        rcfd_ckpt_slot_t *v = rcfd_realloc(b->v, cap * sizeof *v);
        if (v == NULL) {
            return RCFD_ENOMEM;
        }
        b->v = v;
        b->cap = cap;
    }
    rcfd_ckpt_slot_t *e = &b->v[b->n];
    e->key_off = b->bytes.len;
    int rc = rcfd_buf_append(&b->bytes, pipeline, strlen(pipeline) + 1); /* with its NUL */
    rc = rc ? rc : rcfd_buf_append(&b->bytes, key, key_len);
    if (rc != 0) {
        b->bytes.len = e->key_off;
        return rc;
    }
    e->key_len = b->bytes.len - e->key_off;
    e->type = type;
    e->snap_off = b->bytes.len;
    e->snap_len = 0;
    b->n++;
    return 0;
}

void rcfd_ckpt_builder_end(rcfd_ckpt_builder_t *b)
{
    rcfd_ckpt_slot_t *e = &b->v[b->n - 1];
    e->snap_len = b->bytes.len - e->snap_off;
}

void rcfd_ckpt_builder_cancel(rcfd_ckpt_builder_t *b)
{
    b->n--;
    b->bytes.len = b->v[b->n].key_off;
}

int rcfd_ckpt_builder_entries(const rcfd_ckpt_builder_t *b, rcfd_ckpt_entry_t **out)
{
    rcfd_ckpt_entry_t *v = rcfd_calloc(b->n > 0 ? b->n : 1, sizeof *v);
    if (v == NULL) {
        return RCFD_ENOMEM;
    }
    for (size_t i = 0; i < b->n; i++) {
        const rcfd_ckpt_slot_t *e = &b->v[i];
        v[i] = (rcfd_ckpt_entry_t){.key = b->bytes.p + e->key_off,
                                   .key_len = e->key_len,
                                   .type = e->type,
                                   .type_len = strlen(e->type),
                                   .snapshot = b->bytes.p + e->snap_off,
                                   .snapshot_len = e->snap_len};
    }
    *out = v;
    return 0;
}

void rcfd_ckpt_builder_free(rcfd_ckpt_builder_t *b)
{
    rcfd_buf_free(&b->bytes);
    rcfd_free(b->v);
    memset(b, 0, sizeof *b);
}

size_t rcfd_ckpt_key_run_end(const rcfd_ckpt_entry_t *e, size_t i, size_t n)
{
    size_t j = i + 1;
    while (j < n && e[j].key_len == e[i].key_len && memcmp(e[j].key, e[i].key, e[i].key_len) == 0) {
        j++;
    }
    return j;
}

int rcfd_ckpt_entry_split(const rcfd_ckpt_entry_t *e, const char **pipeline, size_t *pipeline_len,
                          const char **key, size_t *key_len)
{
    const char *nul = memchr(e->key, '\0', e->key_len);
    if (nul == NULL) {
        return -1;
    }
    *pipeline = e->key;
    *pipeline_len = (size_t)(nul - e->key);
    *key = nul + 1;
    *key_len = e->key_len - *pipeline_len - 1;
    return 0;
}

static int path_of(char *out, size_t size, const char *dir, const char *name, const char *suffix)
{
    int n = snprintf(out, size, "%s/%s.ckpt%s", dir, name, suffix);
    return n > 0 && (size_t)n < size ? 0 : RCFD_ERANGE;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

int rcfd_ckpt_write(const char *dir, const char *name, const void *data, size_t len, char *errstr,
                    size_t errstr_size)
{
    char tmp[4096], cur[4096], prev[4096];
    if (path_of(tmp, sizeof tmp, dir, name, ".tmp") != 0 ||
        path_of(cur, sizeof cur, dir, name, "") != 0 ||
        path_of(prev, sizeof prev, dir, name, ".prev") != 0) {
        return rcfd_errf(RCFD_ERANGE, errstr, errstr_size, "checkpoint path too long: %s/%s", dir,
                         name);
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return rcfd_errf(-errno, errstr, errstr_size, "cannot create %s: %s", tmp, strerror(errno));
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int err = errno;
            close(fd);
            unlink(tmp);
            return rcfd_errf(-err, errstr, errstr_size, "cannot write %s: %s", tmp, strerror(err));
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0) {
        int err = errno;
        close(fd);
        unlink(tmp);
        return rcfd_errf(-err, errstr, errstr_size, "cannot sync %s: %s", tmp, strerror(err));
    }
    close(fd);
    /* Keep the latest as the fallback, then move the new one into place. */
    if (rename(cur, prev) != 0 && errno != ENOENT) {
        return rcfd_errf(-errno, errstr, errstr_size, "cannot rename %s: %s", cur, strerror(errno));
    }
    if (rename(tmp, cur) != 0) {
        return rcfd_errf(-errno, errstr, errstr_size, "cannot rename %s to %s: %s", tmp, cur,
                         strerror(errno));
    }
    int rc = fsync_dir(dir);
    if (rc != 0) {
        return rcfd_errf(rc, errstr, errstr_size, "cannot sync directory %s: %s", dir,
                         strerror(-rc));
    }
    return 0;
}

static int read_full(int fd, void *buf, size_t size)
{
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, (char *)buf + got, size - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    return got == size;
}

/* Reads a whole checkpoint file, but only once its envelope says it is one whose payload fills
 * the file exactly and fits max_bytes: a sparse or foreign file of gigabytes costs 32 bytes. */
static int read_file(const char *path, uint64_t max_bytes, void **data, size_t *len,
                     char *why, size_t ws)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return rcfd_errf(-errno, why, ws, "cannot read %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return rcfd_errf(-err, why, ws, "cannot read %s: %s", path, strerror(err));
    }
    uint64_t size = (uint64_t)st.st_size;
    unsigned char head[RCFD_SNAP_HEADER_SIZE];
    int rc = 0;
    if (size < RCFD_SNAP_HEADER_SIZE || !read_full(fd, head, sizeof head)) {
        rc = rcfd_errf(RCFD_ETRUNCATED, why, ws, "%s: truncated: %llu bytes", path,
                       (unsigned long long)size);
    } else if (memcmp(head, "RCFDSNAP", 8) != 0 || head[8] != RCFD_SNAP_KIND_CHECKPOINT ||
               head[9] != 0 || head[10] != 0 || head[11] != 0) {
        rc = rcfd_errf(RCFD_EBADSTATE, why, ws, "%s: not a checkpoint (bad magic or kind)", path);
    } else {
        uint64_t payload = 0;
        for (int i = 7; i >= 0; i--) {
            payload = payload << 8 | head[16 + i];
        }
        if (payload != size - RCFD_SNAP_HEADER_SIZE) {
            rc = rcfd_errf(payload > size - RCFD_SNAP_HEADER_SIZE ? RCFD_ETRUNCATED
                                                                   : RCFD_EBADSTATE,
                           why, ws, "%s: truncated or padded: the envelope declares %llu payload "
                           "bytes, the file holds %llu",
                           path, (unsigned long long)payload,
                           (unsigned long long)(size - RCFD_SNAP_HEADER_SIZE));
        } else if (max_bytes > 0 && size > max_bytes) {
            rc = rcfd_errf(RCFD_ERANGE, why, ws,
                           "%s: %llu bytes, more than state.max_checkpoint_bytes (%llu)", path,
                           (unsigned long long)size, (unsigned long long)max_bytes);
        } else if (size > SIZE_MAX) {
            rc = rcfd_errf(RCFD_ERANGE, why, ws, "%s: too large", path);
        }
    }
    if (rc != 0) {
        close(fd);
        return rc;
    }
    char *buf = rcfd_malloc((size_t)size);
    if (buf == NULL) {
        close(fd);
        return rcfd_errf(RCFD_ENOMEM, why, ws, "%s: out of memory for %llu bytes", path,
                         (unsigned long long)size);
    }
    memcpy(buf, head, sizeof head);
    size_t got = sizeof head;
    while (got < size) {
        ssize_t n = read(fd, buf + got, (size_t)size - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break; /* a short file decodes as truncated */
        }
        got += (size_t)n;
    }
    close(fd);
    *data = buf;
    *len = got;
    return 0;
}

int rcfd_ckpt_read_path(const char *path, const rcfd_ckpt_id_t *want, uint64_t max_bytes,
                        rcfd_ckpt_t *out, char *errstr, size_t errstr_size)
{
    void *data = NULL;
    size_t len = 0;
    int rc = read_file(path, max_bytes, &data, &len, errstr, errstr_size);
    if (rc != 0) {
        return rc;
    }
    char why[512];
    rc = rcfd_ckpt_decode(data, len, out, why, sizeof why);
    if (rc != 0) {
        rcfd_free(data);
        return rcfd_errf(rc, errstr, errstr_size, "%s: %s", path, why);
    }
    if ((rc = rcfd_ckpt_check_id(out, want, why, sizeof why)) != 0) {
        rcfd_ckpt_free(out);
        return rcfd_errf(rc, errstr, errstr_size, "%s: refused: %s", path, why);
    }
    return 0;
}

int rcfd_ckpt_read(const char *dir, const char *name, const rcfd_ckpt_id_t *want,
                   uint64_t max_bytes, rcfd_ckpt_t *out, char *warning, size_t warning_size,
                   char *errstr, size_t errstr_size)
{
    char cur[4096], prev[4096];
    memset(out, 0, sizeof *out);
    if (warning != NULL && warning_size > 0) {
        warning[0] = '\0';
    }
    if (path_of(cur, sizeof cur, dir, name, "") != 0 ||
        path_of(prev, sizeof prev, dir, name, ".prev") != 0) {
        return rcfd_errf(RCFD_ERANGE, errstr, errstr_size, "checkpoint path too long: %s/%s", dir,
                         name);
    }
    char why[1024];
    int rc = rcfd_ckpt_read_path(cur, want, max_bytes, out, why, sizeof why);
    if (rc == 0) {
        return 0;
    }
    int latest_missing = rc == RCFD_ENOENT;
    rc = rcfd_ckpt_read_path(prev, want, max_bytes, out, errstr, errstr_size);
    if (rc == 0) {
        out->from_previous = 1;
        rcfd_errf(0, warning, warning_size, "%s; using the previous checkpoint %s", why, prev);
        return 0;
    }
    if (latest_missing && rc == RCFD_ENOENT) {
        return rcfd_errf(RCFD_ENOENT, errstr, errstr_size, "no checkpoint %s", cur);
    }
    return rcfd_errf(rc == RCFD_ENOENT ? RCFD_EBADSTATE : rc, errstr, errstr_size,
                     "%s; and no usable previous checkpoint", why);
}
