/* The local-directory checkpoint store: one file per partition, written atomically by
 * rcfd_ckpt_write (write, fsync, keep the previous as .prev, rename, fsync the directory). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errstr.h"
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
    *out = &st->base;
    return 0;
}
