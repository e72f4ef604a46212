#include "admin/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"

#define MAX_REQUEST 8192
/* A flood of clients, or slow ones that never finish a request (or never read the answer), must
 * not grow the daemon: at most MAX_CONNS are served at once, up to MAX_REFUSING more get a 503,
 * the rest are closed unanswered; every connection is closed REQUEST_TIMEOUT_MS after its accept;
 * a request head over MAX_REQUEST bytes gets a 431. Memory: at most
 * (MAX_CONNS + MAX_REFUSING) * (sizeof(conn_t) + a response). */
#define MAX_CONNS 64
#define MAX_REFUSING 64
#define REQUEST_TIMEOUT_MS 5000

typedef struct conn {
    uv_tcp_t tcp;
    uv_write_t write;
    struct rcfd_admin *admin;
    struct conn *prev, *next;
    char req[MAX_REQUEST];
    size_t req_len;
    rcfd_buf_t resp;
    int responded;
    uint64_t accepted_ms; /* uv_now at accept */
} conn_t;

struct rcfd_admin {
    uv_tcp_t listener;
    rcfd_metrics_t *metrics;
    rcfd_admin_health_cb health;
    void *health_arg;
    conn_t *conns;
    size_t n_conns;   /* allocated: the memory cap counts these */
    size_t n_closing; /* of them, closing: their peer already sees the close, so they no
                         longer take one of the MAX_CONNS served at once */
    uv_timer_t sweep; /* closes connections older than REQUEST_TIMEOUT_MS */
    int closing;
    int open_handles; /* freed when this reaches 0 after close */
};

static void maybe_free(rcfd_admin_t *a)
{
    if (a->closing && a->open_handles == 0) {
        rcfd_free(a);
    }
}

static void on_conn_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    rcfd_admin_t *a = c->admin;
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        a->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    rcfd_buf_free(&c->resp);
    rcfd_free(c);
    a->n_conns--;
    a->n_closing--;
    a->open_handles--;
    maybe_free(a);
}

static void close_conn(conn_t *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp)) {
        c->admin->n_closing++;
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    }
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    close_conn(w->data);
}

/* HEAD (head 1) sends the headers GET would, Content-Length included, and no body. */
static void respond_head(conn_t *c, int status, const char *type, const char *body,
                         size_t body_len, int head);

static void respond(conn_t *c, int status, const char *type, const char *body, size_t body_len)
{
    respond_head(c, status, type, body, body_len, 0);
}

static void respond_head(conn_t *c, int status, const char *type, const char *body,
                         size_t body_len, int head)
{
    static const struct {
        int code;
        const char *text;
    } reasons[] = {{200, "OK"},
                   {400, "Bad Request"},
                   {404, "Not Found"},
                   {405, "Method Not Allowed"},
                   {431, "Request Header Fields Too Large"},
                   {500, "Internal Server Error"},
                   {503, "Service Unavailable"}};
    const char *reason = "Error";
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        if (reasons[i].code == status) {
            reason = reasons[i].text;
        }
    }
    c->responded = 1;
    uv_read_stop((uv_stream_t *)&c->tcp);
    rcfd_buf_reset(&c->resp);
    if (rcfd_buf_printf(&c->resp,
                        "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                        "Connection: close\r\n\r\n",
                        status, reason, type, body_len) != 0 ||
        (!head && rcfd_buf_append(&c->resp, body, body_len) != 0)) {
        close_conn(c);
        return;
    }
    uv_buf_t b = uv_buf_init(c->resp.p, (unsigned)c->resp.len);
    c->write.data = c;
    if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        close_conn(c);
    }
}

static void handle_request(conn_t *c)
{
    rcfd_admin_t *a = c->admin;
    char method[8], path[256];
    if (sscanf(c->req, "%7s %255s HTTP/1.%*c", method, path) != 2) {
        respond(c, 400, "text/plain", "bad request\n", 12);
        return;
    }
    char *query = strchr(path, '?');
    if (query != NULL) {
        *query = '\0';
    }
    int is_get = strcmp(method, "GET") == 0;
    if (!is_get && strcmp(method, "HEAD") != 0) {
        respond(c, 405, "text/plain", "only GET\n", 9);
        return;
    }
    rcfd_buf_t body = {0};
    if (strcmp(path, "/metrics") == 0) {
        if (rcfd_metrics_render(a->metrics, &body) != 0) {
            respond_head(c, 500, "text/plain", "out of memory\n", 14, !is_get);
        } else {
            respond_head(c, 200, "text/plain; version=0.0.4; charset=utf-8", body.p, body.len,
                         !is_get);
        }
    } else if (strcmp(path, "/health") == 0 || strcmp(path, "/ready") == 0) {
        int ready = path[1] == 'r';
        int status = a->health != NULL ? a->health(a->health_arg, ready, &body) : 200;
        if (body.len == 0) {
            rcfd_buf_puts(&body, status == 200 ? "{\"status\":\"ok\"}" : "{\"status\":\"down\"}");
        }
        respond_head(c, status, "application/json", body.p, body.len, !is_get);
    } else {
        respond_head(c, 404, "text/plain", "not found: try /metrics, /health or /ready\n", 43,
                     !is_get);
    }
    rcfd_buf_free(&body);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn_t *c = h->data;
    (void)suggested;
    *buf = uv_buf_init(c->req + c->req_len, (unsigned)(MAX_REQUEST - 1 - c->req_len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    conn_t *c = s->data;
    (void)buf;
    if (n < 0) {
        close_conn(c);
        return;
    }
    c->req_len += (size_t)n;
    c->req[c->req_len] = '\0';
    if (strstr(c->req, "\r\n\r\n") != NULL || strstr(c->req, "\n\n") != NULL) {
        handle_request(c);
    } else if (c->req_len >= MAX_REQUEST - 1) {
        respond(c, 431, "text/plain", "request head too large\n", 23);
    }
}

static void free_handle(uv_handle_t *h)
{
    rcfd_free(h);
}

static void on_sweep(uv_timer_t *t)
{
    rcfd_admin_t *a = t->data;
    uint64_t now = uv_now(t->loop);
    for (conn_t *c = a->conns; c != NULL; c = c->next) {
        if (now - c->accepted_ms >= REQUEST_TIMEOUT_MS) {
            close_conn(c); /* unlinked in its close callback */
        }
    }
    if (a->n_conns == 0) {
        uv_timer_stop(t);
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    rcfd_admin_t *a = server->data;
    if (status != 0 || a->closing) {
        return;
    }
    conn_t *c = a->n_conns < MAX_CONNS + MAX_REFUSING ? rcfd_calloc(1, sizeof *c) : NULL;
    if (c == NULL) {
        /* Over every cap (or out of memory): accept and close at once, so the kernel's queue
         * does not fill with connections nobody serves. */
        uv_tcp_t *t = rcfd_malloc(sizeof *t);
        if (t != NULL && uv_tcp_init(server->loop, t) == 0) {
            uv_accept(server, (uv_stream_t *)t);
            uv_close((uv_handle_t *)t, free_handle);
        } else {
            rcfd_free(t);
        }
        return;
    }
    c->admin = a;
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    c->accepted_ms = uv_now(server->loop);
    a->open_handles++;
    a->n_conns++;
    c->next = a->conns;
    if (a->conns != NULL) {
        a->conns->prev = c;
    }
    a->conns = c;
    if (!uv_is_active((uv_handle_t *)&a->sweep)) {
        uv_timer_start(&a->sweep, on_sweep, 1000, 1000);
    }
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        close_conn(c);
    } else if (a->n_conns - a->n_closing > MAX_CONNS) {
        respond(c, 503, "text/plain", "too many connections\n", 21);
    } else if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        close_conn(c);
    }
}

static void on_listener_closed(uv_handle_t *h)
{
    rcfd_admin_t *a = h->data;
    a->open_handles--;
    maybe_free(a);
}

static void on_sweep_closed(uv_handle_t *h)
{
    on_listener_closed(h);
}

int rcfd_admin_start(uv_loop_t *loop, const char *listen, rcfd_metrics_t *metrics,
                     rcfd_admin_health_cb health, void *health_arg, rcfd_admin_t **out,
                     char *errstr, size_t errstr_size)
{
    *out = NULL;
    char host[128];
    const char *colon = strrchr(listen, ':');
    char *end;
    long port = colon != NULL ? strtol(colon + 1, &end, 10) : -1;
    if (colon == NULL || colon == listen || (size_t)(colon - listen) >= sizeof host ||
        *end != '\0' || port < 0 || port > 65535) {
        return rcfd_errf(RCFD_EINVAL, errstr, errstr_size,
                         "listen address \"%s\" is not HOST:PORT (port 0..65535)", listen);
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    struct sockaddr_storage addr;
    if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&addr) != 0) {
        return rcfd_errf(RCFD_EINVAL, errstr, errstr_size,
                         "listen address \"%s\": \"%s\" is not an IPv4 or IPv6 address", listen,
                         host);
    }
    rcfd_admin_t *a = rcfd_calloc(1, sizeof *a);
    if (a == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, errstr_size, "out of memory");
    }
    a->metrics = metrics;
    a->health = health;
    a->health_arg = health_arg;
    uv_tcp_init(loop, &a->listener);
    uv_timer_init(loop, &a->sweep);
    a->listener.data = a->sweep.data = a;
    a->open_handles = 2;
    int rc = uv_tcp_bind(&a->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0) {
        /* A backlog a flood does not overflow (SYN retries would stall honest clients). */
        rc = uv_listen((uv_stream_t *)&a->listener, 511, on_connection);
    }
    if (rc != 0) {
        a->closing = 1;
        uv_close((uv_handle_t *)&a->listener, on_listener_closed);
        uv_close((uv_handle_t *)&a->sweep, on_sweep_closed);
        return rcfd_errf(rc, errstr, errstr_size, "cannot listen on %s: %s", listen,
                         uv_strerror(rc));
    }
    *out = a;
    return 0;
}

int rcfd_admin_port(const rcfd_admin_t *a)
{
    struct sockaddr_storage addr;
    int len = sizeof addr;
    if (uv_tcp_getsockname(&a->listener, (struct sockaddr *)&addr, &len) != 0) {
        return -1;
    }
    return addr.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&addr)->sin6_port)
                                      : ntohs(((struct sockaddr_in *)&addr)->sin_port);
}

void rcfd_admin_close(rcfd_admin_t *a)
{
    if (a == NULL || a->closing) {
        return;
    }
    a->closing = 1;
    for (conn_t *c = a->conns; c != NULL; c = c->next) {
        close_conn(c);
    }
    uv_close((uv_handle_t *)&a->listener, on_listener_closed);
    uv_close((uv_handle_t *)&a->sweep, on_sweep_closed);
}
