/* File and stdin source: JSONL or CSV lines, read with uv_fs_read on the threadpool (files, and
 * stdin when it is a file or a character device such as /dev/null, which nohup, cron and systemd
 * give) or as a libuv stream (stdin when it is a pipe, socket or terminal: a threadpool read there
 * could block forever and hold up a graceful stop), handled with a per-callback budget,
 * optionally paced at the event-time speed of a timestamp field times a factor (backtests of
 * logged streams). At the end of input the source finishes once everything it
 * read has been accepted by the outputs; the daemon stops when every source has finished. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "common/log.h"
#include "stream/runtime_int.h"

#define LINES_PER_CALLBACK 2000

typedef struct file_src {
    rcfd_source_t *s;
    int fd;
    int is_stdin;
    int streaming;   /* stdin is a pipe, socket or tty: read through `stream` */
    union {
        uv_stream_t stream;
        uv_pipe_t pipe;
        uv_tty_t tty;
        uv_tcp_t tcp;
    } in;
    uv_fs_t req;
    char *chunk;
    rcfd_buf_t buf;  /* unconsumed input */
    size_t pos;      /* start of the next line in buf */
    uint64_t line;   /* lines consumed */
    int need_header;
    int discarding;  /* skipping the rest of an oversized line */
    int eof, reading, paused, stopping, waiting;
    int held; /* waiting for rcfd_runtime_ready (not for pacing) */
    uv_idle_t idle;
    uv_timer_t pace;
    int have_first;
    int64_t first_ts_us;
    uint64_t start_ns;
    rcfd_delivery_t *spare; /* recycled deliveries, chained through `part` */
    rcfd_buf_t head;        /* the records' origin up to the line number, encoded once */
} file_src_t;

static void process(file_src_t *f);

static void on_delivered(rcfd_delivery_t *d)
{
    file_src_t *f = d->owner;
    d->part = f->spare; /* kept for the next line: no malloc/free per record */
    f->spare = d;
    rcfd_runtime_inflight_done(f->s->rt, f->s);
    if (f->eof && !f->stopping && f->s->inflight == 0 && f->pos >= f->buf.len && !f->s->finished) {
        rcfd_runtime_source_finished(f->s->rt, f->s);
    }
}

static int file_init(rcfd_source_t *s, char *errstr, size_t es)
{
    file_src_t *f = rcfd_calloc(1, sizeof *f);
    if (f == NULL) {
        return RCFD_ENOMEM;
    }
    f->s = s;
    s->impl = f;
    f->chunk = rcfd_malloc((size_t)s->conf->read_chunk_bytes);
    if (f->chunk == NULL) {
        return RCFD_ENOMEM;
    }
    if (strcmp(s->conf->path, "-") == 0) {
        f->fd = STDIN_FILENO;
        f->is_stdin = 1;
        /* Each kind of descriptor wants its own handle: uv_pipe_open on a character device
         * (/dev/null) aborts inside uv_run. Files and devices are read on the threadpool. */
        uv_handle_type kind = uv_guess_handle(STDIN_FILENO);
        int rc = 0;
        if (kind == UV_NAMED_PIPE) {
            if ((rc = uv_pipe_init(&s->rt->loop, &f->in.pipe, 0)) == 0) {
                f->streaming = 1;
                rc = uv_pipe_open(&f->in.pipe, STDIN_FILENO);
            }
        } else if (kind == UV_TTY) {
            rc = uv_tty_init(&s->rt->loop, &f->in.tty, STDIN_FILENO, 1);
            f->streaming = rc == 0;
        } else if (kind == UV_TCP) {
            if ((rc = uv_tcp_init(&s->rt->loop, &f->in.tcp)) == 0) {
                f->streaming = 1;
                rc = uv_tcp_open(&f->in.tcp, STDIN_FILENO);
            }
        } else if (kind == UV_UNKNOWN_HANDLE) {
            rc = UV_EBADF; /* closed: nothing to read, and a later open could reuse fd 0 */
        }
        if (rc != 0) {
            if (f->streaming) {
                uv_close((uv_handle_t *)&f->in.stream, NULL);
                f->streaming = 0;
            }
            return rcfd_errf(rc, errstr, es, "sources \"%s\": cannot read stdin: %s",
                             s->conf->name, uv_strerror(rc));
        }
        f->in.stream.data = f;
    } else {
        f->fd = open(s->conf->path, O_RDONLY | O_CLOEXEC);
        if (f->fd < 0) {
            return rcfd_errf(-errno, errstr, es, "sources \"%s\": cannot open %s: %s",
                             s->conf->name, s->conf->path, strerror(errno));
        }
    }
    f->need_header = s->conf->format == RCFD_FORMAT_CSV && s->conf->csv_header;
    uv_idle_init(&s->rt->loop, &f->idle);
    uv_timer_init(&s->rt->loop, &f->pace);
    f->idle.data = f->pace.data = f->req.data = f;
    return 0;
}

static void on_read(uv_fs_t *req);
static void on_stream_read(uv_stream_t *h, ssize_t n, const uv_buf_t *buf);

static void on_stream_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    file_src_t *f = h->data;
    (void)suggested;
    *buf = uv_buf_init(f->chunk, (unsigned)f->s->conf->read_chunk_bytes);
}

static void start_read(file_src_t *f)
{
    if (f->reading || f->eof || f->stopping) {
        return;
    }
    /* Compact: drop consumed bytes so the buffer holds at most one partial line plus a chunk. */
    if (f->pos > 0) {
        memmove(f->buf.p, f->buf.p + f->pos, f->buf.len - f->pos);
        f->buf.len -= f->pos;
        f->pos = 0;
    }
    int rc;
    if (f->streaming) {
        rc = uv_read_start(&f->in.stream, on_stream_alloc, on_stream_read);
    } else {
        uv_buf_t b = uv_buf_init(f->chunk, (unsigned)f->s->conf->read_chunk_bytes);
        rc = uv_fs_read(&f->s->rt->loop, &f->req, f->fd, &b, 1, -1, on_read);
    }
    if (rc != 0) {
        RCFD_LOG(RCFD_LOG_ERROR, f->s->conf->name, "read %s: %s", f->s->conf->path,
                 uv_strerror(rc));
        f->eof = 1;
        return;
    }
    f->reading = 1;
}

static void handle_read(file_src_t *f, ssize_t n);

static void on_read(uv_fs_t *req)
{
    file_src_t *f = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    handle_read(f, n);
}

/* One chunk at a time, as with uv_fs_read: stop after each read so lines are consumed (and
 * backpressure applies) before more input is taken. */
static void on_stream_read(uv_stream_t *h, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    if (n == 0) {
        return; /* EAGAIN: nothing yet */
    }
    uv_read_stop(h);
    handle_read(h->data, n == UV_EOF ? 0 : n);
}

static void handle_read(file_src_t *f, ssize_t n)
{
    f->reading = 0;
    if (f->stopping) {
        if (f->s->rt->closing) {
            rcfd_runtime_source_closed(f->s->rt, f->s);
        }
        return;
    }
    if (n < 0) {
        RCFD_LOG(RCFD_LOG_ERROR, f->s->conf->name, "read %s: %s; treating as end of input",
                 f->s->conf->path, uv_strerror((int)n));
        f->eof = 1;
    } else if (n == 0) {
        f->eof = 1;
    } else if (rcfd_buf_append(&f->buf, f->chunk, (size_t)n) != 0) {
        RCFD_LOG(RCFD_LOG_ERROR, f->s->conf->name, "out of memory");
        rcfd_runtime_fail(f->s->rt, RCFD_EXIT_SOFTWARE);
        return;
    }
    process(f);
}

static void on_continue(uv_idle_t *h)
{
    uv_idle_stop(h);
    process(h->data);
}

static void on_pace(uv_timer_t *t)
{
    file_src_t *f = t->data;
    f->waiting = 0;
    process(f);
}

/* Returns 1 if the line must wait for its event time (nothing consumed). */
static int handle_line(file_src_t *f, const char *p, size_t n)
{
    rcfd_source_t *s = f->s;
    rcfd_runtime_t *rt = s->rt;
    if (f->need_header) {
        rcfd_record_t hdr = {0};
        char reason[256];
        int rc = rcfd_csv_split(&hdr, p, n, s->conf->csv_delimiter[0], reason, sizeof reason);
        if (rc == 0) {
            s->header.v = rcfd_calloc(hdr.n_cols + 1, sizeof *s->header.v);
            for (size_t i = 0; s->header.v != NULL && i < hdr.n_cols; i++) {
                s->header.v[s->header.n++] = rcfd_strdup(hdr.cells.p + hdr.offs[i]);
            }
        }
        rcfd_record_free(&hdr);
        if (rc != 0 || s->header.v == NULL) {
            RCFD_LOG(RCFD_LOG_ERROR, s->conf->name, "bad CSV header line: %s", reason);
            rcfd_runtime_fail(rt, RCFD_EXIT_DATAERR);
            return 0;
        }
        f->need_header = 0;
        s->columns = &s->header;
        rcfd_runtime_columns_known(rt, s);
        return 0;
    }
    /* Every line is a record, blank ones too: each comes out scored or dead-lettered, so the
     * outputs account for every line number. */
    char reason[256];
    int prc = rcfd_runtime_parse(rt, s, p, n, reason, sizeof reason);
    if (!rcfd_runtime_ready(rt, s, prc, s->shard)) {
        f->waiting = f->held = 1; /* the line is read again after wake() */
        return 1;
    }
    if (prc == 0 && s->has_ts && s->conf->replay_speed > 0) {
        int64_t ts;
        if (rcfd_record_time_us(&rt->rec, &s->ts, s->conf->timestamp_unit, &ts, NULL, 0) == 0) {
            uint64_t now = uv_hrtime();
            if (!f->have_first) {
                f->have_first = 1;
                f->first_ts_us = ts;
                f->start_ns = now;
            }
            double due_ns = (double)(ts - f->first_ts_us) * 1000.0 / s->conf->replay_speed;
            if (due_ns > (double)(now - f->start_ns) + 1e6) {
                uint64_t wait_ms = (uint64_t)((due_ns - (double)(now - f->start_ns)) / 1e6);
                f->waiting = 1;
                uv_timer_start(&f->pace, on_pace, wait_ms, 0);
                return 1;
            }
        }
    }
    rcfd_delivery_t *d = f->spare;
    if (d != NULL) {
        f->spare = d->part;
        memset(d, 0, sizeof *d);
    } else {
        d = rcfd_calloc(1, sizeof *d);
    }
    if (d == NULL) {
        RCFD_LOG(RCFD_LOG_ERROR, s->conf->name, "out of memory");
        rcfd_runtime_fail(rt, RCFD_EXIT_SOFTWARE);
        return 0;
    }
    d->refs = 1;
    d->done = on_delivered;
    d->owner = f;
    rcfd_runtime_inflight_add(rt, s);
    rcfd_origin_t origin = {
        .source = s->conf->name, .path = s->conf->path, .line = f->line, .shard = s->shard};
    if (f->head.len == 0 && rcfd_encode_origin_head(&f->head, &origin) != 0) {
        rcfd_buf_reset(&f->head); /* out of memory: encoded per record instead */
    }
    origin.head = f->head.len > 0 ? f->head.p : NULL;
    origin.head_len = f->head.len;
    rcfd_runtime_route(rt, s, prc, reason, &origin, d);
    rcfd_delivery_unref(d);
    return 0;
}

static void process(file_src_t *f)
{
    size_t max = (size_t)f->s->conf->max_record_bytes;
    for (int budget = LINES_PER_CALLBACK; budget > 0; budget--) {
        if (f->stopping || f->paused || f->waiting) {
            return;
        }
        char *start = f->buf.p + f->pos;
        size_t avail = f->buf.len - f->pos;
        char *nl = avail ? memchr(start, '\n', avail) : NULL;
        if (nl == NULL) {
            if (f->eof && avail > 0 && !f->discarding) {
                nl = start + avail; /* last line without a newline */
            } else {
                if (avail > max + 1 && !f->discarding) {
                    /* Oversized line: dead-letter a prefix and skip to the next newline. */
                    f->line++;
                    handle_line(f, start, max + 1);
                    f->discarding = 1;
                }
                if (f->discarding) {
                    f->pos = f->buf.len;
                }
                if (f->eof) {
                    f->pos = f->buf.len;
                    if (f->s->inflight == 0 && !f->s->finished) {
                        rcfd_runtime_source_finished(f->s->rt, f->s);
                    }
                } else {
                    start_read(f);
                }
                return;
            }
        }
        size_t n = (size_t)(nl - start);
        if (f->discarding) {
            f->discarding = 0;
            f->pos += n + (f->pos + n < f->buf.len);
            continue;
        }
        f->line++;
        if (handle_line(f, start, n)) {
            f->line--;
            return;
        }
        f->pos += n + (f->pos + n < f->buf.len);
    }
    uv_idle_start(&f->idle, on_continue); /* budget used up: continue next iteration */
}

static int file_start(rcfd_source_t *s)
{
    file_src_t *f = s->impl;
    start_read(f);
    return 0;
}

static void file_pause(rcfd_source_t *s)
{
    file_src_t *f = s->impl;
    f->paused = 1;
}

static void file_resume(rcfd_source_t *s)
{
    file_src_t *f = s->impl;
    if (f->paused) {
        f->paused = 0;
        uv_idle_start(&f->idle, on_continue);
    }
}

static void file_wake(rcfd_source_t *s)
{
    file_src_t *f = s->impl;
    if (f != NULL && f->held) {
        f->held = f->waiting = 0;
        uv_idle_start(&f->idle, on_continue);
    }
}

static void file_stop(rcfd_source_t *s)
{
    file_src_t *f = s->impl;
    f->stopping = 1;
    uv_idle_stop(&f->idle);
    uv_timer_stop(&f->pace);
    if (f->streaming && f->reading) {
        uv_read_stop(&f->in.stream); /* a stream read can always be abandoned */
        f->reading = 0;
    }
}

static void file_close(rcfd_source_t *s)
{
    file_src_t *f = s->impl;
    if (!f->reading) {
        rcfd_runtime_source_closed(s->rt, s);
    } /* else on_read reports it; the stream handle closes with the loop's other handles */
}

static void file_destroy(rcfd_source_t *s)
{
    file_src_t *f = s->impl;
    if (f == NULL) {
        return;
    }
    if (!f->is_stdin && f->fd > 0) {
        close(f->fd);
    }
    rcfd_buf_free(&f->buf);
    rcfd_buf_free(&f->head);
    rcfd_free(f->chunk);
    while (f->spare != NULL) {
        rcfd_delivery_t *d = f->spare;
        f->spare = d->part;
        rcfd_free(d);
    }
    rcfd_free(f);
    s->impl = NULL;
}

const rcfd_source_ops_t rcfd_source_file_ops = {
    .name = "file",
    .init = file_init,
    .start = file_start,
    .pause = file_pause,
    .resume = file_resume,
    .stop = file_stop,
    .close = file_close,
    .destroy = file_destroy,
    .wake = file_wake,
};
