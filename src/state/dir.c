/* The local-directory checkpoint store: one file per partition, written atomically by
 * rcfd_ckpt_write (write, fsync, keep the previous as .prev, rename, fsync the directory).
 *
 * Spilled keys (a pipeline's memory budget): DIR/spill/<partition's name>/<xx>/<24 hex digits>,
 * named by a 96-bit hash of the pipeline and key (FNV-1a and CRC-32C; the file holds the key, so
 * a collision is refused, never mixed up), each a checkpoint image of the key's models written
 * to a temporary name and renamed over the last one. Spills are not fsynced one by one: a
 * checkpoint that names spilled keys first syncs the file system (syncfs), once. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* syncfs */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crc32c.h"
#include "common/errstr.h"
#include "common/keytab.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "state/store.h"

typedef struct dir_store {
    rcfd_store_t base;
    char dir[512];
} dir_store_t;

int rcfd_ckpt_id_name(const rcfd_ckpt_id_t *id, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    char part[16];
    snprintf(part, sizeof part, "%d", (int)id->partition);
    const char *pieces[3] = {id->source, id->topic, part};
    size_t n = 0;
    for (int i = 0; i < 3; i++) {
        for (const unsigned char *p = (const unsigned char *)pieces[i]; *p != '\0'; p++) {
            int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                        (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
                        (*p == '.' && i == 1); /* dots only inside topic names */
            if (n + 4 >= size) {
                return RCFD_ERANGE;
            }
            if (plain) {
                out[n++] = (char)*p;
            } else {
                out[n++] = '%';
                out[n++] = hex[*p >> 4];
                out[n++] = hex[*p & 15];
            }
        }
        if (i < 2) {
            out[n++] = '.';
        }
    }
    out[n] = '\0';
    return 0;
}

static int dir_write(rcfd_store_t *base, const rcfd_ckpt_id_t *id, uint64_t next_offset,
                     const rcfd_ckpt_entry_t *entries, size_t n, char *errstr, size_t es)
{
    dir_store_t *st = (dir_store_t *)base;
    char name[768];
    if (rcfd_ckpt_id_name(id, name, sizeof name) != 0) {
        return rcfd_errf(RCFD_ERANGE, errstr, es, "checkpoint name too long");
    }
    rcfd_buf_t image = {0};
    int rc = rcfd_ckpt_encode(id, next_offset, entries, n, &image);
    if (rc == 0) {
        rc = rcfd_ckpt_write(st->dir, name, image.p, image.len, errstr, es);
    } else {
        rcfd_errf(rc, errstr, es, "out of memory encoding %s", name);
    }
    rcfd_buf_free(&image);
    return rc;
}

static int dir_read(rcfd_store_t *base, const rcfd_ckpt_id_t *id, uint64_t max_bytes,
                    rcfd_ckpt_t *out, char *warning, size_t ws, char *errstr, size_t es)
{
    dir_store_t *st = (dir_store_t *)base;
    char name[768];
    if (rcfd_ckpt_id_name(id, name, sizeof name) != 0) {
        return rcfd_errf(RCFD_ERANGE, errstr, es, "checkpoint name too long");
    }
    return rcfd_ckpt_read(st->dir, name, id, max_bytes, out, warning, ws, errstr, es);
}

/* DIR/spill/<name>/<xx> (created on the way when mkdirs) and the file's name in it. */
static int spill_path(const dir_store_t *st, const rcfd_ckpt_id_t *id, const char *pipeline,
                      const char *key, size_t key_len, int mkdirs, char *out, size_t size)
{
    char name[768];
    if (rcfd_ckpt_id_name(id, name, sizeof name) != 0) {
        return RCFD_ERANGE;
    }
    /* pipeline NUL key, as checkpoint entries name a key */
    size_t pl = strlen(pipeline);
    uint64_t h = rcfd_hash(pipeline, pl + 1);
    uint64_t h1 = 1469598103934665603ull ^ h;
    for (size_t i = 0; i < key_len; i++) {
        h1 ^= (unsigned char)key[i];
        h1 *= 1099511628211ull;
    }
    uint32_t c = rcfd_crc32c(rcfd_crc32c(0, pipeline, pl + 1), key, key_len);
    int n = snprintf(out, size, "%s/spill", st->dir);
    if (mkdirs && n > 0 && (size_t)n < size && mkdir(out, 0750) != 0 && errno != EEXIST) {
        return -errno;
    }
    n = snprintf(out, size, "%s/spill/%s", st->dir, name);
    if (mkdirs && n > 0 && (size_t)n < size && mkdir(out, 0750) != 0 && errno != EEXIST) {
        return -errno;
    }
    n = snprintf(out, size, "%s/spill/%s/%02x", st->dir, name, (unsigned)(h1 >> 56));
    if (mkdirs && n > 0 && (size_t)n < size && mkdir(out, 0750) != 0 && errno != EEXIST) {
        return -errno;
    }
    n = snprintf(out, size, "%s/spill/%s/%02x/%016llx%08x", st->dir, name, (unsigned)(h1 >> 56),
                 (unsigned long long)h1, (unsigned)c);
    return n > 0 && (size_t)n < size ? 0 : RCFD_ERANGE;
}

/* Entries keyed pipeline NUL key, over the caller's snapshots. */
static rcfd_ckpt_entry_t *spill_entries(const char *pipeline, const char *key, size_t key_len,
                                        const rcfd_ckpt_entry_t *entries, size_t n, char **keybuf)
{
    size_t pl = strlen(pipeline);
    *keybuf = rcfd_malloc(pl + 1 + key_len + 1);
    rcfd_ckpt_entry_t *e = rcfd_calloc(n ? n : 1, sizeof *e);
    if (*keybuf == NULL || e == NULL) {
        rcfd_free(*keybuf);
        rcfd_free(e);
        return NULL;
    }
    memcpy(*keybuf, pipeline, pl + 1);
    memcpy(*keybuf + pl + 1, key, key_len);
    for (size_t i = 0; i < n; i++) {
        e[i] = entries[i];
        e[i].key = *keybuf;
        e[i].key_len = pl + 1 + key_len;
    }
    return e;
}

static atomic_uint_fast64_t spill_seq; /* unique temporary names across threads */

static int dir_spill_write(rcfd_store_t *base, const rcfd_ckpt_id_t *id, const char *pipeline,
                           const char *key, size_t key_len, const rcfd_ckpt_entry_t *entries,
                           size_t n, char *errstr, size_t es)
{
    dir_store_t *st = (dir_store_t *)base;
    char path[1400], tmp[1500];
    int rc = spill_path(st, id, pipeline, key, key_len, 1, path, sizeof path);
    if (rc != 0) {
        return rcfd_errf(rc, errstr, es, "spill directory for %s: %s", st->dir,
                         rcfd_strerror(rc));
    }
    snprintf(tmp, sizeof tmp, "%s.tmp%llu", path,
             (unsigned long long)atomic_fetch_add(&spill_seq, 1));
    char *keybuf;
    rcfd_ckpt_entry_t *e = spill_entries(pipeline, key, key_len, entries, n, &keybuf);
    rcfd_buf_t image = {0};
    if (e == NULL || rcfd_ckpt_encode(id, 0, e, n, &image) != 0) {
        rcfd_free(e);
        rcfd_free(keybuf);
        rcfd_buf_free(&image);
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory encoding a spill");
    }
    rcfd_free(e);
    rcfd_free(keybuf);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = rcfd_errf(-errno, errstr, es, "cannot create %s: %s", tmp, strerror(errno));
    } else {
        const char *p = image.p;
        size_t left = image.len;
        while (rc == 0 && left > 0) {
            ssize_t w = write(fd, p, left);
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w <= 0) {
                rc = rcfd_errf(-errno, errstr, es, "cannot write %s: %s", tmp, strerror(errno));
                break;
            }
            p += w;
            left -= (size_t)w;
        }
        close(fd);
        if (rc == 0 && rename(tmp, path) != 0) {
            rc = rcfd_errf(-errno, errstr, es, "cannot rename %s: %s", tmp, strerror(errno));
        }
        if (rc != 0) {
            unlink(tmp);
        }
    }
    rcfd_buf_free(&image);
    return rc;
}

static int dir_spill_read(rcfd_store_t *base, const rcfd_ckpt_id_t *id, const char *pipeline,
                          const char *key, size_t key_len, rcfd_ckpt_t *out, char *errstr,
                          size_t es)
{
    dir_store_t *st = (dir_store_t *)base;
    char path[1400];
    int rc = spill_path(st, id, pipeline, key, key_len, 0, path, sizeof path);
    if (rc != 0) {
        return rcfd_errf(rc, errstr, es, "spill path: %s", rcfd_strerror(rc));
    }
    if ((rc = rcfd_ckpt_read_path(path, id, 0, out, errstr, es)) != 0) {
        return rc;
    }
    size_t pl = strlen(pipeline);
    for (size_t i = 0; i < out->n_entries; i++) {
        const rcfd_ckpt_entry_t *e = &out->entries[i];
        if (e->key_len != pl + 1 + key_len || memcmp(e->key, pipeline, pl + 1) != 0 ||
            memcmp(e->key + pl + 1, key, key_len) != 0) {
            rcfd_ckpt_free(out);
            return rcfd_errf(RCFD_EBADSTATE, errstr, es, "%s holds another key's snapshots", path);
        }
    }
    return 0;
}

static int dir_spill_sync(rcfd_store_t *base, char *errstr, size_t es)
{
    dir_store_t *st = (dir_store_t *)base;
    int fd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return rcfd_errf(-errno, errstr, es, "%s: %s", st->dir, strerror(errno));
    }
    int rc = syncfs(fd) == 0 ? 0 : rcfd_errf(-errno, errstr, es, "syncfs %s: %s", st->dir,
                                              strerror(errno));
    close(fd);
    return rc;
}

static void dir_destroy(rcfd_store_t *base)
{
    rcfd_free(base);
}

int rcfd_store_dir_new(const char *dir, rcfd_store_t **out, char *errstr, size_t es)
{
    *out = NULL;
    struct stat sb;
    if (stat(dir, &sb) != 0 && (errno != ENOENT || mkdir(dir, 0750) != 0 || stat(dir, &sb) != 0)) {
        return rcfd_errf(-errno, errstr, es, "%s: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(sb.st_mode)) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s: not a directory", dir);
    }
    if (access(dir, W_OK | X_OK) != 0) {
        return rcfd_errf(-errno, errstr, es, "%s: %s", dir, strerror(errno));
    }
    dir_store_t *st = rcfd_calloc(1, sizeof *st);
    if (st == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    if (snprintf(st->dir, sizeof st->dir, "%s", dir) >= (int)sizeof st->dir) {
        rcfd_free(st);
        return rcfd_errf(RCFD_ERANGE, errstr, es, "%s: path too long", dir);
    }
    st->base.kind = "dir";
    snprintf(st->base.where, sizeof st->base.where, "%s", dir);
    st->base.write = dir_write;
    st->base.read = dir_read;
    st->base.destroy = dir_destroy;
    st->base.spill_write = dir_spill_write;
    st->base.spill_read = dir_spill_read;
    st->base.spill_sync = dir_spill_sync;
    *out = &st->base;
    return 0;
}
