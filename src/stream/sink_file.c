/* File / stdout sink: appends JSONL with uv_fs_write (threadpool), one batch at a time, reopens on
 * SIGHUP for logrotate, optional fdatasync before a batch counts as accepted. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "stream/log.h"
#include "stream/output.h"

typedef struct file_sink {
    rcfd_output_t *o;
    uv_fs_t req;
    int fd;
    int is_stdout;
    int reopen_pending;
    const char *data;
    size_t len, done; /* bytes of the current batch already written */
} file_sink_t;

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
        s->fd = open(o->conf->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (s->fd < 0) {
            int err = errno;
            rcfd_free(s);
            return rcfd_errf(-err, errstr, es, "outputs \"%s\": cannot open %s: %s",
                             o->conf->name, o->conf->path, strerror(err));
        }
    }
    s->req.data = s;
    o->impl = s;
    return 0;
}

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

static void write_more(file_sink_t *s);

static void on_sync(uv_fs_t *req)
{
    file_sink_t *s = req->data;
    ssize_t r = req->result;
    uv_fs_req_cleanup(req);
    if (r < 0) {
        RCFD_LOG(RCFD_LOG_WARN, s->o->conf->name, "fdatasync %s: %s", s->o->conf->path,
                 uv_strerror((int)r));
        rcfd_output_sent(s->o, classify(r));
        return;
    }
    s->done = 0;
    rcfd_output_sent(s->o, RCFD_SINK_OK);
}

static void on_write(uv_fs_t *req)
{
    file_sink_t *s = req->data;
    ssize_t r = req->result;
    uv_fs_req_cleanup(req);
    if (r < 0) {
        RCFD_LOG(RCFD_LOG_WARN, s->o->conf->name, "write %s: %s", s->o->conf->path,
                 uv_strerror((int)r));
        rcfd_sink_result_t res = classify(r);
        if (res == RCFD_SINK_DROP) {
            s->done = 0;
        }
        rcfd_output_sent(s->o, res);
        return;
    }
    s->done += (size_t)r;
    if (s->done < s->len) {
        write_more(s);
        return;
    }
    if (s->o->conf->fsync && !s->is_stdout) {
        int rc = uv_fs_fdatasync(s->o->loop, &s->req, s->fd, on_sync);
        if (rc == 0) {
            return;
        }
        rcfd_output_sent(s->o, RCFD_SINK_RETRY);
        return;
    }
    s->done = 0;
    rcfd_output_sent(s->o, RCFD_SINK_OK);
}

static void write_more(file_sink_t *s)
{
    uv_buf_t b = uv_buf_init((char *)(uintptr_t)(s->data + s->done), (unsigned)(s->len - s->done));
    int rc = uv_fs_write(s->o->loop, &s->req, s->fd, &b, 1, -1, on_write);
    if (rc != 0) {
        s->req.result = rc;
        /* uv_fs_write failed synchronously: its callback will not run, so answer from here
         * (still asynchronous to send(): write_more only runs from callbacks or below). */
        rcfd_output_sent(s->o, classify(rc));
    }
}

static void on_close_old(uv_fs_t *req)
{
    uv_fs_req_cleanup(req);
    rcfd_free(req);
}

static void on_reopen(uv_fs_t *req)
{
    file_sink_t *s = req->data;
    ssize_t fd = req->result;
    uv_fs_req_cleanup(req);
    if (fd < 0) {
        RCFD_LOG(RCFD_LOG_ERROR, s->o->conf->name, "reopen %s: %s; keeping the old file",
                 s->o->conf->path, uv_strerror((int)fd));
    } else {
        uv_fs_t *creq = rcfd_malloc(sizeof *creq);
        if (creq == NULL || uv_fs_close(s->o->loop, creq, s->fd, on_close_old) != 0) {
            close(s->fd);
            rcfd_free(creq);
        }
        s->fd = (int)fd;
        RCFD_LOG(RCFD_LOG_INFO, s->o->conf->name, "reopened %s", s->o->conf->path);
    }
    write_more(s);
}

static int file_send(rcfd_output_t *o, const char *data, size_t len, int retry)
{
    file_sink_t *s = o->impl;
    if (!retry) {
        s->done = 0;
    }
    s->data = data;
    s->len = len;
    if (s->reopen_pending && !s->is_stdout) {
        s->reopen_pending = 0;
        int rc = uv_fs_open(o->loop, &s->req, o->conf->path,
                            O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644, on_reopen);
        if (rc == 0) {
            return 0;
        }
    }
    uv_buf_t b = uv_buf_init((char *)(uintptr_t)(data + s->done), (unsigned)(len - s->done));
    return uv_fs_write(o->loop, &s->req, s->fd, &b, 1, -1, on_write);
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
    if (!s->is_stdout && s->fd >= 0) {
        close(s->fd);
    }
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
