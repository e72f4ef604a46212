/* File / stdout sink: appends JSONL or CSV with uv_fs_* (threadpool), one batch at a time.
 *
 * Per batch, a small state machine of asynchronous steps, each started from the previous one's
 * callback: reopen (after SIGHUP), rotate (rename, then open a new file) when the batch would
 * pass rotate_bytes or the file is older than rotate_interval_ms, the CSV header at the start of
 * each file, the data (resuming after short writes), an fstat of the file (a link count of 0: the
 * path was deleted while the batch was written, so it is written again into a file reopened at
 * the path, as a log shipper would), then fdatasync when the fsync policy says so. Only then is
 * the batch answered OK, so records are acknowledged only once written into the file at the path
 * (and synced under "batch"/"interval"). Nothing blocks the loop: open/rename/write/fdatasync/close run
 * on the threadpool. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "common/log.h"
#include "sinks/output.h"

#define OPEN_FLAGS (O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC)

typedef struct file_sink {
    rcfd_output_t *o;
    uv_fs_t req;
    int fd;
    int is_stdout;
    int reopen_pending;
    uint64_t file_bytes; /* size of the current file */
    uint64_t opened_at;  /* uv_now() when the current file was opened */
    uint64_t last_sync;
    /* the batch in progress */
    const char *data;
    size_t len, done;
    int hdr_pending; /* CSV header still to write into the current file */
    size_t hdr_done;
    int rotate_checked;
    int link_checked; /* the fstat after the batch's data */
    int lost_file;    /* the file was deleted: reopen before anything else, RETRY if that fails */
    int synced;
    char rotated[4096];
    rcfd_buf_t csv;  /* the batch as CSV rows */
    rcfd_buf_t hdr;  /* the CSV header line */
    rcfd_strlist_t cols;
    uint64_t writes, syncs, rotations, deleted;
} file_sink_t;

static rcfd_sink_result_t classify(ssize_t err)
{
    switch (err) {
    case UV_EPIPE:
    case UV_EBADF:
    case UV_EINVAL:
    case UV_EFBIG:
        return RCFD_SINK_DROP; /* retrying cannot help */
    default:
        return RCFD_SINK_RETRY; /* ENOSPC, EIO, EDQUOT, EAGAIN...: may clear up */
    }
}

static void current_size(file_sink_t *s)
{
    struct stat st;
    s->file_bytes = fstat(s->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    s->opened_at = uv_now(s->o->loop);
    s->hdr_pending = s->o->conf->format == RCFD_OUT_CSV && s->file_bytes == 0;
    s->hdr_done = 0;
}

static int file_open(rcfd_output_t *o, char *errstr, size_t es)
{
    file_sink_t *s = rcfd_calloc(1, sizeof *s);
    if (s == NULL) {
        return RCFD_ENOMEM;
    }
    s->o = o;
    if (strcmp(o->conf->path, "-") == 0) {
        s->fd = STDOUT_FILENO;
        s->is_stdout = 1;
    } else {
        s->fd = open(o->conf->path, OPEN_FLAGS, 0644);
        if (s->fd < 0) {
            int err = errno;
            rcfd_free(s);
            return rcfd_errf(-err, errstr, es, "outputs \"%s\": cannot open %s: %s",
                             o->conf->name, o->conf->path, strerror(err));
        }
    }
    s->req.data = s;
    o->impl = s;
    current_size(s);
    if (s->is_stdout) {
        s->hdr_pending = o->conf->format == RCFD_OUT_CSV;
    }
    s->last_sync = uv_now(o->loop);
    return 0;
}

/* ---- CSV ---- */

static int csv_cell(rcfd_buf_t *b, const char *v, size_t n)
{
    if (strcspn(v, ",\"\r\n") >= n) {
        return rcfd_buf_append(b, v, n);
    }
    int rc = rcfd_buf_putc(b, '"');
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = v[i] == '"' ? rcfd_buf_puts(b, "\"\"") : rcfd_buf_putc(b, v[i]);
    }
    return rc ? rc : rcfd_buf_putc(b, '"');
}

static int csv_value(rcfd_buf_t *b, const cJSON *it)
{
    if (it == NULL || cJSON_IsNull(it)) {
        return 0;
    }
    if (cJSON_IsNumber(it)) {
        return rcfd_buf_json_double(b, it->valuedouble);
    }
    if (cJSON_IsBool(it)) {
        return rcfd_buf_puts(b, cJSON_IsTrue(it) ? "true" : "false");
    }
    if (cJSON_IsString(it)) {
        return csv_cell(b, it->valuestring, strlen(it->valuestring));
    }
    char *j = cJSON_PrintUnformatted(it);
    if (j == NULL) {
        return RCFD_ENOMEM;
    }
    int rc = csv_cell(b, j, strlen(j));
    cJSON_free(j);
    return rc;
}

/* The columns are the first record's top-level members; later records' other members are left
 * out, missing ones are empty cells. */
static int to_csv(file_sink_t *s, const char *data, size_t len)
{
    rcfd_buf_reset(&s->csv);
    const char *p = data, *end = data + len;
    int rc = 0;
    while (rc == 0 && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        cJSON *obj = cJSON_ParseWithLength(p, n);
        if (obj == NULL) {
            rc = RCFD_ENOMEM;
            break;
        }
        if (s->cols.n == 0) {
            size_t k = (size_t)cJSON_GetArraySize(obj);
            s->cols.v = rcfd_calloc(k ? k : 1, sizeof *s->cols.v);
            const cJSON *it;
            rc = s->cols.v == NULL ? RCFD_ENOMEM : 0;
            cJSON_ArrayForEach(it, obj)
            {
                if (rc == 0 && (s->cols.v[s->cols.n] = rcfd_strdup(it->string)) == NULL) {
                    rc = RCFD_ENOMEM;
                }
                s->cols.n += rc == 0;
            }
            rcfd_buf_reset(&s->hdr);
            for (size_t c = 0; rc == 0 && c < s->cols.n; c++) {
                rc = c ? rcfd_buf_putc(&s->hdr, ',') : 0;
                rc = rc ? rc : csv_cell(&s->hdr, s->cols.v[c], strlen(s->cols.v[c]));
            }
            rc = rc ? rc : rcfd_buf_putc(&s->hdr, '\n');
        }
        for (size_t c = 0; rc == 0 && c < s->cols.n; c++) {
            rc = c ? rcfd_buf_putc(&s->csv, ',') : 0;
            rc = rc ? rc : csv_value(&s->csv, cJSON_GetObjectItemCaseSensitive(obj, s->cols.v[c]));
        }
        rc = rc ? rc : rcfd_buf_putc(&s->csv, '\n');
        cJSON_Delete(obj);
        p += n + 1;
    }
    return rc;
}

/* ---- the per-batch state machine ---- */

static void on_step(uv_fs_t *req);

static int need_rotate(file_sink_t *s)
{
    const rcfd_output_conf_t *c = s->o->conf;
    if (s->is_stdout || s->file_bytes == 0) {
        return 0;
    }
    if (c->rotate_bytes > 0 && s->file_bytes + (s->len - s->done) > (uint64_t)c->rotate_bytes) {
        return 1;
    }
    return c->rotate_interval_ms > 0 &&
           uv_now(s->o->loop) - s->opened_at >= (uint64_t)c->rotate_interval_ms;
}

static void rotated_name(file_sink_t *s)
{
    time_t now = time(NULL);
    struct tm tm;
    char ts[32];
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(s->rotated, sizeof s->rotated, "%s.%s.%llu", s->o->conf->path, ts,
             (unsigned long long)++s->rotations);
}

enum { STEP_STARTED = 0, STEP_FINISHED = 1 };

/* Starts the next asynchronous step of the batch. Returns STEP_STARTED, STEP_FINISHED, or a
 * negative uv error when a step could not start. */
static int step(file_sink_t *s)
{
    rcfd_output_t *o = s->o;
    if (s->reopen_pending && !s->is_stdout) {
        s->reopen_pending = 0;
        s->req.data = s;
        return uv_fs_open(o->loop, &s->req, o->conf->path, OPEN_FLAGS, 0644, on_step);
    }
    if (!s->rotate_checked) {
        s->rotate_checked = 1;
        if (need_rotate(s)) {
            rotated_name(s);
            s->reopen_pending = 1; /* after the rename */
            return uv_fs_rename(o->loop, &s->req, o->conf->path, s->rotated, on_step);
        }
    }
    if (s->hdr_pending && s->hdr.len > 0) {
        uv_buf_t b = uv_buf_init(s->hdr.p + s->hdr_done, (unsigned)(s->hdr.len - s->hdr_done));
        return uv_fs_write(o->loop, &s->req, s->fd, &b, 1, -1, on_step);
    }
    if (s->done < s->len) {
        uv_buf_t b = uv_buf_init((char *)(uintptr_t)(s->data + s->done),
                                 (unsigned)(s->len - s->done));
        return uv_fs_write(o->loop, &s->req, s->fd, &b, 1, -1, on_step);
    }
    if (!s->link_checked && !s->is_stdout) {
        s->link_checked = 1;
        return uv_fs_fstat(o->loop, &s->req, s->fd, on_step);
    }
    if (!s->synced && !s->is_stdout) {
        s->synced = 1;
        int pol = o->conf->fsync;
        if (pol == RCFD_FSYNC_BATCH ||
            (pol == RCFD_FSYNC_INTERVAL &&
             uv_now(o->loop) - s->last_sync >= (uint64_t)o->conf->fsync_interval_ms)) {
            return uv_fs_fdatasync(o->loop, &s->req, s->fd, on_step);
        }
    }
    return STEP_FINISHED;
}

static void advance(file_sink_t *s)
{
    int rc = step(s);
    if (rc == STEP_FINISHED) {
        rcfd_output_sent(s->o, RCFD_SINK_OK);
    } else if (rc < 0) {
        RCFD_LOG(RCFD_LOG_WARN, s->o->conf->name, "%s: %s", s->o->conf->path, uv_strerror(rc));
        rcfd_output_sent(s->o, classify(rc));
    }
}

static void on_close_old(uv_fs_t *req)
{
    uv_fs_req_cleanup(req);
    rcfd_free(req);
}

static void on_step(uv_fs_t *req)
{
    file_sink_t *s = req->data;
    rcfd_output_t *o = s->o;
    ssize_t r = req->result;
    uv_fs_type type = req->fs_type;
    uv_fs_req_cleanup(req);
    switch (type) {
    case UV_FS_OPEN:
        if (r < 0 && s->lost_file) {
            /* The old file is gone: writing there would lose the batch. Try again later. */
            RCFD_LOG(RCFD_LOG_ERROR, o->conf->name, "reopen %s: %s; retrying", o->conf->path,
                     uv_strerror((int)r));
            s->reopen_pending = 1;
            rcfd_output_sent(o, RCFD_SINK_RETRY);
            return;
        } else if (r < 0) {
            RCFD_LOG(RCFD_LOG_ERROR, o->conf->name, "reopen %s: %s; keeping the old file",
                     o->conf->path, uv_strerror((int)r));
        } else {
            s->lost_file = 0;
            uv_fs_t *creq = rcfd_malloc(sizeof *creq);
            if (creq == NULL || uv_fs_close(o->loop, creq, s->fd, on_close_old) != 0) {
                close(s->fd);
                rcfd_free(creq);
            }
            s->fd = (int)r;
            current_size(s);
            RCFD_LOG(RCFD_LOG_INFO, o->conf->name, "reopened %s", o->conf->path);
        }
        break;
    case UV_FS_RENAME:
        if (r < 0) {
            s->reopen_pending = 0;
            s->rotations--;
            RCFD_LOG(RCFD_LOG_ERROR, o->conf->name, "rotate %s: %s; not rotating",
                     o->conf->path, uv_strerror((int)r));
        } else {
            RCFD_LOG(RCFD_LOG_INFO, o->conf->name, "rotated %s to %s", o->conf->path,
                     s->rotated);
        }
        break;
    case UV_FS_WRITE:
        if (r < 0) {
            RCFD_LOG(RCFD_LOG_WARN, o->conf->name, "write %s: %s", o->conf->path,
                     uv_strerror((int)r));
            rcfd_output_sent(o, classify(r));
            return;
        }
        s->writes++;
        s->file_bytes += (uint64_t)r;
        if (s->hdr_pending && s->hdr.len > 0) {
            s->hdr_done += (size_t)r;
            if (s->hdr_done >= s->hdr.len) {
                s->hdr_pending = 0;
            }
        } else {
            s->done += (size_t)r;
        }
        break;
    case UV_FS_FSTAT:
        if (r == 0 && req->statbuf.st_nlink == 0) {
            /* Deleted while we wrote (or before): the batch went into an unlinked file that
             * nobody will read. Reopen the path and write the whole batch again there. */
            s->deleted++;
            RCFD_LOG(RCFD_LOG_WARN, o->conf->name,
                     "%s was deleted: reopening it and writing the batch again (%llu times so "
                     "far)",
                     o->conf->path, (unsigned long long)s->deleted);
            s->lost_file = 1;
            s->reopen_pending = 1;
            s->done = 0;
            s->link_checked = 0;
            s->synced = 0;
        }
        break;
    case UV_FS_FDATASYNC:
        if (r < 0) {
            RCFD_LOG(RCFD_LOG_WARN, o->conf->name, "fdatasync %s: %s", o->conf->path,
                     uv_strerror((int)r));
            s->synced = 0;
            rcfd_output_sent(o, classify(r));
            return;
        }
        s->syncs++;
        s->last_sync = uv_now(o->loop);
        break;
    default:
        break;
    }
    advance(s);
}

static int file_send(rcfd_output_t *o, const char *data, size_t len, int retry)
{
    file_sink_t *s = o->impl;
    if (!retry) {
        s->done = 0;
        s->synced = 0;
        s->rotate_checked = 0;
        s->link_checked = 0;
        if (o->conf->format == RCFD_OUT_CSV) {
            int rc = to_csv(s, data, len);
            if (rc != 0) {
                return rc;
            }
            data = s->csv.p;
            len = s->csv.len;
        }
        s->data = data;
        s->len = len;
        if (o->conf->format == RCFD_OUT_CSV && s->file_bytes == 0 && !s->is_stdout) {
            s->hdr_pending = 1;
        }
    }
    s->req.data = s;
    int rc = step(s);
    return rc == STEP_FINISHED ? RCFD_EINVAL : rc;
}

static void file_reopen(rcfd_output_t *o)
{
    file_sink_t *s = o->impl;
    s->reopen_pending = 1;
}

static void file_close(rcfd_output_t *o)
{
    file_sink_t *s = o->impl;
    if (s == NULL) {
        return;
    }
    RCFD_LOG(RCFD_LOG_INFO, o->conf->name,
             "file %s: %llu writes, %llu fsyncs, %llu rotations, %llu reopened after deletion",
             o->conf->path, (unsigned long long)s->writes, (unsigned long long)s->syncs,
             (unsigned long long)s->rotations, (unsigned long long)s->deleted);
    if (!s->is_stdout && s->fd >= 0) {
        close(s->fd);
    }
    rcfd_buf_free(&s->csv);
    rcfd_buf_free(&s->hdr);
    rcfd_strlist_free(&s->cols);
    rcfd_free(s);
    o->impl = NULL;
}

const rcfd_sink_type_t rcfd_sink_file = {
    .name = "file",
    .open = file_open,
    .send = file_send,
    .reopen = file_reopen,
    .close = file_close,
};
