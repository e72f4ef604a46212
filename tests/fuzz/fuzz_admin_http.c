/* Fuzzes the admin listener's request handling through its real socket: each input is sent as
 * the bytes of one connection to a listener on 127.0.0.1 (then the client half-closes), and the
 * loop runs until the listener has closed the connection. Whatever it received, the listener
 * must answer nothing or one well-formed response: "HTTP/1.1 <status> <reason>\r\n", headers
 * with a Content-Length that matches the body, for a status it is documented to use, and it must
 * hold no connection afterwards. A broken invariant aborts; sanitizers catch the rest. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "admin/http.h"
#include "admin/metrics.h"

static uv_loop_t loop;
static rcfd_admin_t *admin;
static int port;

static int health(void *arg, int ready, rcfd_buf_t *body)
{
    (void)arg;
    rcfd_buf_puts(body, ready ? "{\"status\":\"ready\"}" : "{\"status\":\"ok\"}");
    return 200;
}

static void init(void)
{
    static rcfd_metrics_t *m;
    uv_loop_init(&loop);
    rcfd_metrics_new(&m);
    rcfd_metric_add(rcfd_metrics_counter(m, "rcfd_fuzz_total", "Inputs.", "source", "a\"b",
                                         NULL),
                    1);
    char err[256];
    if (rcfd_admin_start(&loop, "127.0.0.1:0", m, health, NULL, &admin, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_admin_http: %s\n", err);
        abort();
    }
    port = rcfd_admin_port(admin);
}

/* HEAD gets GET's headers, Content-Length included, and no body. */
static void check_response(const char *r, size_t n, int head)
{
    if (n == 0) {
        return; /* closed unanswered (the peer's EOF came first) */
    }
    static const int allowed[] = {200, 400, 404, 405, 431, 500, 503};
    int status = 0;
    if (n < 13 || memcmp(r, "HTTP/1.1 ", 9) != 0 || sscanf(r + 9, "%3d", &status) != 1) {
        abort();
    }
    int ok = 0;
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        ok |= status == allowed[i];
    }
    const char *end = memmem(r, n, "\r\n\r\n", 4);
    const char *cl = memmem(r, n, "Content-Length: ", 16);
    if (!ok || end == NULL || cl == NULL || cl > end) {
        abort();
    }
    size_t body = strtoul(cl + 16, NULL, 10);
    size_t got = (size_t)(r + n - (end + 4));
    if (head ? got != 0 : got != body) {
        abort();
    }
}

/* A non-blocking connection to the listener. libFuzzer's timer signal interrupts system calls
 * (EINTR), so nothing here blocks: the connect completes while the loop runs, and poll and
 * send/recv treat EINTR as "try again". */
static int connect_loopback(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
        perror("fuzz_admin_http: socket");
        abort();
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        return fd;
    }
    if (errno != EINPROGRESS && errno != EINTR) {
        perror("fuzz_admin_http: connect");
        abort();
    }
    for (int rounds = 0; rounds < 100000; rounds++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (poll(&p, 1, 1) > 0) {
            int err = 0;
            socklen_t len = sizeof err;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
                fprintf(stderr, "fuzz_admin_http: connect: %s\n", strerror(err ? err : errno));
                abort();
            }
            return fd;
        }
    }
    fprintf(stderr, "fuzz_admin_http: connect did not complete\n");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (admin == NULL) {
        init();
    }
    if (size > 65536) {
        size = 65536;
    }
    int fd = connect_loopback();
    static char resp[1 << 20];
    size_t sent = 0, got = 0;
    int half_closed = 0;
    for (int rounds = 0; rounds < 100000; rounds++) {
        if (sent < size) {
            ssize_t w = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
            if (w > 0) {
                sent += (size_t)w;
            } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                sent = size; /* the listener answered and closed early */
            }
        } else if (!half_closed) {
            shutdown(fd, SHUT_WR);
            half_closed = 1;
        }
        uv_run(&loop, UV_RUN_NOWAIT);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 1) > 0) {
            ssize_t r = recv(fd, resp + got, sizeof resp - 1 - got, 0);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                break; /* closed by the listener */
            }
            if (r > 0) {
                got += (size_t)r;
            }
        }
    }
    close(fd);
    resp[got] = '\0';
    /* Whether the listener handled it as HEAD: it parses the NUL-terminated head once it holds
     * a blank line (within 8 KB), with sscanf, as here. */
    static char head[8192];
    size_t hl = size < sizeof head - 1 ? size : sizeof head - 1;
    memcpy(head, data, hl);
    head[hl] = '\0';
    char method[8], path[256];
    int is_head = (strstr(head, "\r\n\r\n") != NULL || strstr(head, "\n\n") != NULL) &&
                  sscanf(head, "%7s %255s HTTP/1.%*c", method, path) == 2 &&
                  strcmp(method, "HEAD") == 0;
    check_response(resp, got, is_head);
    for (int i = 0; i < 4; i++) {
        uv_run(&loop, UV_RUN_NOWAIT); /* the connection's close callback */
    }
    return 0;
}
