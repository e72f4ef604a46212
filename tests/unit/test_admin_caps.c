/* The admin listener under a flood: 300 clients connect and send nothing. The first 64 are held
 * (and closed by the 5 s request timeout), the others are answered 503 or closed at once; a slow client that sends half a request is closed by the timeout too; once the flood is
 * gone a request is served again. Real sockets on 127.0.0.1, the listener on its own loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "admin/http.h"
#include "admin/metrics.h"

#define FLOOD 300

typedef struct client {
    int port;
    int held, refused, closed, other; /* how the flood's connections were treated */
    double slow_closed_after;         /* seconds until the half-request client was closed */
    char after[2048];                 /* a request once the flood is gone */
    uv_async_t done;
} client_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* What the server did with a connection within `ms`: 0 nothing, 1 a 503, 2 closed, 3 else. */
static int outcome(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms) == 0) {
        return 0;
    }
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) {
        return 2;
    }
    buf[n] = '\0';
    return strstr(buf, "HTTP/1.1 503") != NULL ? 1 : 3;
}

static void *client_main(void *arg)
{
    client_t *c = arg;
    static int fds[FLOOD];
    static struct pollfd p[FLOOD];
    for (int i = 0; i < FLOOD; i++) {
        fds[i] = dial(c->port);
        p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    }
    /* The kernel's accept queue does not keep the connect order: classify them all at once, for
     * two seconds (long enough for every one to be accepted, well before the timeout). */
    static int o[FLOOD];
    double end = now_s() + 2.0;
    for (double t = now_s(); t < end; t = now_s()) {
        if (poll(p, FLOOD, (int)((end - t) * 1000) + 1) <= 0) {
            continue;
        }
        for (int i = 0; i < FLOOD; i++) {
            if (p[i].revents != 0) {
                o[i] = outcome(fds[i], 0);
                p[i].fd = -1; /* decided */
            }
        }
    }
    static int held[FLOOD];
    int n_held = 0;
    for (int i = 0; i < FLOOD; i++) {
        int k = fds[i] < 0 ? 2 : o[i];
        c->held += k == 0;
        c->refused += k == 1;
        c->closed += k == 2;
        c->other += k == 3;
        if (k == 0) {
            held[n_held++] = fds[i];
        } else if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    /* The held ones are closed by the timeout. */
    for (int i = 0; i < n_held; i++) {
        if (outcome(held[i], 8000) != 2) {
            c->other++;
        }
        close(held[i]);
    }
    /* A slowloris: half a request head, then nothing. */
    double t0 = now_s();
    int fd = dial(c->port);
    send(fd, "GET /metrics HTTP/1.1\r\nHost:", 28, MSG_NOSIGNAL);
    if (outcome(fd, 10000) == 2) {
        c->slow_closed_after = now_s() - t0;
    }
    close(fd);
    fd = dial(c->port);
    const char *req = "GET /health HTTP/1.1\r\n\r\n";
    send(fd, req, strlen(req), MSG_NOSIGNAL);
    size_t got = 0;
    ssize_t n;
    while (got + 1 < sizeof c->after &&
           (n = recv(fd, c->after + got, sizeof c->after - 1 - got, 0)) > 0) {
        got += (size_t)n;
    }
    c->after[got] = '\0';
    close(fd);
    uv_async_send(&c->done);
    return NULL;
}

static rcfd_admin_t *admin;

static void on_done(uv_async_t *h)
{
    rcfd_admin_close(admin);
    uv_close((uv_handle_t *)h, NULL);
}

static void test_flood_and_slow_clients(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    rcfd_metrics_t *m;
    rcfd_metrics_new(&m);
    char err[256];
    assert_int_equal(rcfd_admin_start(&loop, "127.0.0.1:0", m, NULL, NULL, &admin, err,
                                      sizeof err),
                     0);
    static client_t c;
    c.port = rcfd_admin_port(admin);
    uv_async_init(&loop, &c.done, on_done);
    pthread_t thread;
    pthread_create(&thread, NULL, client_main, &c);
    uv_run(&loop, UV_RUN_DEFAULT);
    pthread_join(thread, NULL);
    assert_int_equal(uv_loop_close(&loop), 0);
    print_message("held %d, refused %d, closed %d, other %d; slowloris closed after %.1f s\n",
                  c.held, c.refused, c.closed, c.other, c.slow_closed_after);
    /* 64 served at once; the rest answered 503 (refusals free their slots quickly, so more than
     * 64 may get one) or closed unanswered; nothing else, and every held one timed out. */
    assert_int_equal(c.held, 64);
    assert_true(c.refused >= 64);
    assert_int_equal(c.held + c.refused + c.closed, FLOOD);
    assert_int_equal(c.other, 0);
    assert_true(c.slow_closed_after >= 4.0 && c.slow_closed_after < 8.0);
    assert_non_null(strstr(c.after, "HTTP/1.1 200 OK"));
    rcfd_metrics_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flood_and_slow_clients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
