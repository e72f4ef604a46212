/* Metrics registry: exact Prometheus text, label escaping, histograms; and the admin HTTP listener
 * answering real TCP requests on 127.0.0.1 from another thread. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "admin/http.h"
#include "admin/metrics.h"

static void test_render_exact(void **state)
{
    (void)state;
    rcfd_metrics_t *m;
    assert_int_equal(rcfd_metrics_new(&m), 0);
    rcfd_metric_t *in = rcfd_metrics_counter(m, "rcfd_records_in_total", "Records read.", NULL);
    rcfd_metric_t *bad = rcfd_metrics_counter(m, "rcfd_records_dead_total", "Dead letters.",
                                              "reason", "bad_json", NULL);
    rcfd_metric_t *odd = rcfd_metrics_counter(m, "rcfd_records_dead_total", "Dead letters.",
                                              "reason", "a\"b\\c\nd", NULL);
    rcfd_metric_t *lag = rcfd_metrics_gauge(m, "rcfd_consumer_lag", "Lag.", "topic", "t",
                                            "partition", "3", NULL);
    static const double bounds[] = {0.001, 0.01, 0.1};
    rcfd_metric_t *lat = rcfd_metrics_histogram(m, "rcfd_sink_latency_seconds", "Latency.",
                                                bounds, 3, "sink", "out", NULL);
    assert_non_null(in);
    assert_non_null(lat);
    /* Same name and labels: the same series; another kind under the name: refused. */
    assert_ptr_equal(rcfd_metrics_counter(m, "rcfd_records_dead_total", "Dead letters.", "reason",
                                          "bad_json", NULL),
                     bad);
    assert_null(rcfd_metrics_gauge(m, "rcfd_records_in_total", "x", NULL));
    rcfd_metric_add(in, 3);
    rcfd_metric_add(bad, 1);
    rcfd_metric_add(odd, 2);
    rcfd_metric_set(lag, 42);
    rcfd_metric_observe(lat, 0.0005);
    rcfd_metric_observe(lat, 0.05);
    rcfd_metric_observe(lat, 5.0);
    rcfd_buf_t out = {0};
    assert_int_equal(rcfd_metrics_render(m, &out), 0);
    const char *want =
        "# HELP rcfd_records_in_total Records read.\n"
        "# TYPE rcfd_records_in_total counter\n"
        "rcfd_records_in_total 3\n"
        "# HELP rcfd_records_dead_total Dead letters.\n"
        "# TYPE rcfd_records_dead_total counter\n"
        "rcfd_records_dead_total{reason=\"bad_json\"} 1\n"
        "rcfd_records_dead_total{reason=\"a\\\"b\\\\c\\nd\"} 2\n"
        "# HELP rcfd_consumer_lag Lag.\n"
        "# TYPE rcfd_consumer_lag gauge\n"
        "rcfd_consumer_lag{topic=\"t\",partition=\"3\"} 42\n"
        "# HELP rcfd_sink_latency_seconds Latency.\n"
        "# TYPE rcfd_sink_latency_seconds histogram\n"
        "rcfd_sink_latency_seconds_bucket{sink=\"out\",le=\"0.001\"} 1\n"
        "rcfd_sink_latency_seconds_bucket{sink=\"out\",le=\"0.01\"} 1\n"
        "rcfd_sink_latency_seconds_bucket{sink=\"out\",le=\"0.1\"} 2\n"
        "rcfd_sink_latency_seconds_bucket{sink=\"out\",le=\"+Inf\"} 3\n"
        "rcfd_sink_latency_seconds_sum{sink=\"out\"} 5.0505\n"
        "rcfd_sink_latency_seconds_count{sink=\"out\"} 3\n";
    assert_string_equal(out.p, want);
    rcfd_buf_free(&out);
    rcfd_metrics_destroy(m);
}

/* Checks one histogram series in rendered text against the exposition format's rules: `le` bounds
 * ascending and ending in +Inf, cumulative counts non-decreasing, the +Inf bucket equal to
 * _count. Returns the +Inf count. */
static uint64_t check_histogram(const char *text, const char *name, const char *labels)
{
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s_bucket{%s,le=\"", name, labels);
    double last_le = -1;
    uint64_t last = 0, inf = 0;
    int buckets = 0, saw_inf = 0;
    for (const char *p = strstr(text, prefix); p != NULL; p = strstr(p + 1, prefix)) {
        const char *le = p + strlen(prefix);
        const char *close = strstr(le, "\"} ");
        assert_non_null(close);
        uint64_t v = strtoull(close + 3, NULL, 10);
        assert_false(saw_inf); /* +Inf is the last bucket */
        if (strncmp(le, "+Inf", 4) == 0) {
            saw_inf = 1;
            inf = v;
        } else {
            double b = strtod(le, NULL);
            assert_true(b > last_le);
            last_le = b;
        }
        assert_true(v >= last);
        last = v;
        buckets++;
    }
    assert_true(saw_inf);
    assert_true(buckets >= 2);
    snprintf(prefix, sizeof prefix, "%s_count{%s} ", name, labels);
    const char *count = strstr(text, prefix);
    assert_non_null(count);
    assert_int_equal(strtoull(count + strlen(prefix), NULL, 10), inf);
    snprintf(prefix, sizeof prefix, "%s_sum{%s} ", name, labels);
    assert_non_null(strstr(text, prefix));
    return inf;
}

/* Observations on a bound count in that bucket (le is inclusive); counts kept elsewhere and loaded
 * at scrape time render the same way; a load with the wrong bucket count is ignored. */
static void test_histogram_exposition(void **state)
{
    (void)state;
    rcfd_metrics_t *m;
    assert_int_equal(rcfd_metrics_new(&m), 0);
    static const double bounds[] = {0.0005, 0.001, 0.0025, 30};
    rcfd_metric_t *obs =
        rcfd_metrics_histogram(m, "rcfd_h_seconds", "H.", bounds, 4, "output", "a", NULL);
    rcfd_metric_t *load =
        rcfd_metrics_histogram(m, "rcfd_h_seconds", "H.", bounds, 4, "output", "b", NULL);
    rcfd_metric_t *empty =
        rcfd_metrics_histogram(m, "rcfd_h_seconds", "H.", bounds, 4, "output", "c", NULL);
    assert_non_null(obs);
    assert_non_null(load);
    assert_non_null(empty);
    rcfd_metric_observe(obs, 0.001); /* on the bound: le="0.001" */
    rcfd_metric_observe(obs, 0.0011);
    rcfd_metric_observe(obs, 31);
    const uint64_t per_bucket[5] = {4, 0, 2, 1, 3};
    rcfd_metric_histogram_load(load, per_bucket, 4, 12.5);
    rcfd_metric_histogram_load(load, per_bucket, 3, 99); /* not its shape: ignored */
    rcfd_buf_t out = {0};
    assert_int_equal(rcfd_metrics_render(m, &out), 0);
    assert_int_equal(check_histogram(out.p, "rcfd_h_seconds", "output=\"a\""), 3);
    assert_int_equal(check_histogram(out.p, "rcfd_h_seconds", "output=\"b\""), 10);
    assert_int_equal(check_histogram(out.p, "rcfd_h_seconds", "output=\"c\""), 0);
    assert_non_null(strstr(out.p, "rcfd_h_seconds_bucket{output=\"a\",le=\"0.0005\"} 0\n"
                                  "rcfd_h_seconds_bucket{output=\"a\",le=\"0.001\"} 1\n"
                                  "rcfd_h_seconds_bucket{output=\"a\",le=\"0.0025\"} 2\n"
                                  "rcfd_h_seconds_bucket{output=\"a\",le=\"30\"} 2\n"
                                  "rcfd_h_seconds_bucket{output=\"a\",le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(out.p, "rcfd_h_seconds_bucket{output=\"b\",le=\"0.0005\"} 4\n"
                                  "rcfd_h_seconds_bucket{output=\"b\",le=\"0.001\"} 4\n"
                                  "rcfd_h_seconds_bucket{output=\"b\",le=\"0.0025\"} 6\n"
                                  "rcfd_h_seconds_bucket{output=\"b\",le=\"30\"} 7\n"
                                  "rcfd_h_seconds_bucket{output=\"b\",le=\"+Inf\"} 10\n"
                                  "rcfd_h_seconds_sum{output=\"b\"} 12.5\n"
                                  "rcfd_h_seconds_count{output=\"b\"} 10\n"));
    /* One HELP/TYPE pair for the family, before its first series. */
    const char *type = strstr(out.p, "# TYPE rcfd_h_seconds histogram\n");
    assert_non_null(type);
    assert_null(strstr(type + 1, "# TYPE rcfd_h_seconds"));
    assert_true(type < strstr(out.p, "rcfd_h_seconds_bucket"));
    rcfd_buf_free(&out);
    rcfd_metrics_destroy(m);
}

/* ---- the listener ------------------------------------------------------------------------------ */

typedef struct client {
    int port;
    char metrics[4096], head[1024], health[1024], ready[1024], missing[1024], oversized[1024];
    uv_async_t done;
} client_t;

static void request(int port, const char *req, size_t req_len, char *out, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    size_t got = 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        for (size_t sent = 0; sent < req_len;) {
            ssize_t n = send(fd, req + sent, req_len - sent, MSG_NOSIGNAL);
            if (n <= 0) {
                break;
            }
            sent += (size_t)n;
        }
        ssize_t n;
        while (got + 1 < cap && (n = recv(fd, out + got, cap - 1 - got, 0)) > 0) {
            got += (size_t)n;
        }
    }
    out[got] = '\0';
    close(fd);
}

static void *client_main(void *arg)
{
    client_t *c = arg;
    const char *get_metrics = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    request(c->port, get_metrics, strlen(get_metrics), c->metrics, sizeof c->metrics);
    const char *get_health = "GET /health HTTP/1.0\r\n\r\n";
    request(c->port, get_health, strlen(get_health), c->health, sizeof c->health);
    const char *get_ready = "GET /ready HTTP/1.0\r\n\r\n";
    request(c->port, get_ready, strlen(get_ready), c->ready, sizeof c->ready);
    const char *head_metrics = "HEAD /metrics HTTP/1.1\r\n\r\n";
    request(c->port, head_metrics, strlen(head_metrics), c->head, sizeof c->head);
    const char *get_missing = "GET /nope HTTP/1.1\r\n\r\n";
    request(c->port, get_missing, strlen(get_missing), c->missing, sizeof c->missing);
    static char big[10000];
    memset(big, 'a', sizeof big);
    request(c->port, big, sizeof big, c->oversized, sizeof c->oversized);
    uv_async_send(&c->done);
    return NULL;
}

static int health(void *arg, int ready, rcfd_buf_t *body)
{
    (void)arg;
    rcfd_buf_puts(body, ready ? "{\"ready\":false}" : "{\"status\":\"ok\",\"ready\":true}");
    return ready ? 503 : 200;
}

static rcfd_admin_t *admin;

static void on_done(uv_async_t *h)
{
    rcfd_admin_close(admin);
    uv_close((uv_handle_t *)h, NULL);
}

static void test_listener_serves_requests(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    rcfd_metrics_t *m;
    rcfd_metrics_new(&m);
    rcfd_metric_add(rcfd_metrics_counter(m, "rcfd_records_in_total", "Records read.", NULL), 7);
    char err[256];
    assert_int_equal(rcfd_admin_start(&loop, "127.0.0.1:0", m, health, NULL, &admin, err,
                                      sizeof err),
                     0);
    assert_int_equal(rcfd_admin_start(&loop, "localhost", m, health, NULL, &(rcfd_admin_t *){0},
                                      err, sizeof err),
                     -EINVAL);
    assert_non_null(strstr(err, "not HOST:PORT"));
    static client_t c;
    c.port = rcfd_admin_port(admin);
    assert_true(c.port > 0);
    uv_async_init(&loop, &c.done, on_done);
    pthread_t thread;
    pthread_create(&thread, NULL, client_main, &c);
    uv_run(&loop, UV_RUN_DEFAULT);
    pthread_join(thread, NULL);
    assert_int_equal(uv_loop_close(&loop), 0); /* every handle closed, nothing leaked */
    assert_non_null(strstr(c.metrics, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(c.metrics, "text/plain; version=0.0.4"));
    assert_non_null(strstr(c.metrics, "\r\n\r\n# HELP rcfd_records_in_total"));
    assert_non_null(strstr(c.metrics, "rcfd_records_in_total 7\n"));
    assert_non_null(strstr(c.health, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(c.health, "{\"status\":\"ok\",\"ready\":true}"));
    assert_non_null(strstr(c.ready, "HTTP/1.1 503 Service Unavailable\r\n"));
    assert_non_null(strstr(c.ready, "\r\n\r\n{\"ready\":false}"));
    /* HEAD: GET's headers, the same Content-Length, no body */
    const char *body = strstr(c.metrics, "\r\n\r\n") + 4;
    char len[64];
    snprintf(len, sizeof len, "Content-Length: %zu\r\n", strlen(body));
    assert_non_null(strstr(c.metrics, len));
    assert_non_null(strstr(c.head, len));
    assert_string_equal(strstr(c.head, "\r\n\r\n"), "\r\n\r\n");
    assert_non_null(strstr(c.missing, "HTTP/1.1 404"));
    assert_non_null(strstr(c.oversized, "HTTP/1.1 431"));
    rcfd_metrics_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_exact),
        cmocka_unit_test(test_histogram_exposition),
        cmocka_unit_test(test_listener_serves_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
