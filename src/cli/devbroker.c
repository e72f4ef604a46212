/* `rcfd dev-broker`: a Kafka broker to try the daemon against, in the foreground. librdkafka's mock
 * cluster (real Kafka protocol on loopback, data in memory) lives in this process until SIGINT or
 * SIGTERM. Its brokers listen on ports the kernel picks, so a small TCP relay on a fixed address
 * (127.0.0.1:9092 by default, what the example configs default to) forwards bootstrap connections
 * to the first broker: clients read the brokers' real addresses from its metadata and connect to
 * them directly. With --sample it also produces the demo's generated sensor readings, with a fault
 * now and then, into the "sensors" topic. Everything runs on one libuv loop. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <uv.h>

#include "cli/demo.h"
#include "common/rng.h"
#include "rcfd/alloc.h"
#include "rcfd/version.h"
#include "stream/runtime.h"

#define MAX_TOPICS 32
#define MACHINES 4
#define HIGH_WATER (1u << 20) /* bytes queued towards one side before the other is not read */

typedef struct relay relay_t;

/* One relayed connection: the client's socket and ours to the broker. */
typedef struct conn {
    relay_t *r;
    struct conn *next, *prev; /* the relay's open connections */
    uv_tcp_t down, up;
    uv_connect_t connect;
    int up_open, closing, handles;
    int stopped_down, stopped_up; /* reading paused: the other side's queue is full */
    char *early;                  /* bytes the client sent before the broker connection was up */
    size_t early_len;
} conn_t;

typedef struct wreq {
    uv_write_t w;
    conn_t *c;
    uv_stream_t *from; /* resumed once the queue towards the other side drains */
    char data[];
} wreq_t;

struct relay {
    uv_loop_t *loop;
    uv_tcp_t listener;
    conn_t *conns;
    struct sockaddr_storage broker;
    uint64_t connections;
};

typedef struct devbroker {
    uv_loop_t loop;
    relay_t relay;
    int relay_on;
    uv_signal_t sig_int, sig_term;
    uv_timer_t tick;
    rd_kafka_t *prod;
    double rate, carry;
    uint64_t seed, rng, readings, produced, failed, next_fault;
    uint64_t fault_every;
} devbroker_t;

/* ---- the relay ---- */

static void on_conn_handle_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    if (--c->handles == 0) {
        rcfd_free(c->early);
        rcfd_free(c);
    }
}

static void conn_close(conn_t *c)
{
    if (c->closing) {
        return;
    }
    c->closing = 1;
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        c->r->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    uv_close((uv_handle_t *)&c->down, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->up, on_conn_handle_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    /* The write request that forwards these bytes owns them: header + data in one block. */
    wreq_t *w = rcfd_malloc(sizeof *w + suggested);
    *buf = w != NULL ? uv_buf_init(w->data, (unsigned)suggested) : uv_buf_init(NULL, 0);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static int *stopped_flag(conn_t *c, uv_stream_t *s)
{
    return s == (uv_stream_t *)&c->down ? &c->stopped_down : &c->stopped_up;
}

static void on_written(uv_write_t *req, int status)
{
    wreq_t *w = (wreq_t *)req;
    conn_t *c = w->c;
    uv_stream_t *from = w->from;
    rcfd_free(w);
    if (status != 0) {
        conn_close(c);
        return;
    }
    uv_stream_t *to =
        from == (uv_stream_t *)&c->down ? (uv_stream_t *)&c->up : (uv_stream_t *)&c->down;
    int *stopped = stopped_flag(c, from);
    if (!c->closing && *stopped && uv_stream_get_write_queue_size(to) < HIGH_WATER / 2) {
        *stopped = 0;
        uv_read_start(from, on_alloc, on_read);
    }
}

static void forward(conn_t *c, uv_stream_t *from, uv_stream_t *to, wreq_t *w, size_t n)
{
    w->c = c;
    w->from = from;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
    if (uv_write(&w->w, to, &b, 1, on_written) != 0) {
        rcfd_free(w);
        conn_close(c);
        return;
    }
    if (uv_stream_get_write_queue_size(to) >= HIGH_WATER) {
        uv_read_stop(from); /* backpressure: on_written resumes it */
        *stopped_flag(c, from) = 1;
    }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    conn_t *c = s->data;
    wreq_t *w = buf->base != NULL ? (wreq_t *)(buf->base - offsetof(wreq_t, data)) : NULL;
    if (n <= 0) {
        rcfd_free(w);
        if (n < 0) {
            conn_close(c); /* EOF or error on either side ends both */
        }
        return;
    }
    if (s == (uv_stream_t *)&c->down && !c->up_open) {
        char *p = rcfd_realloc(c->early, c->early_len + (size_t)n);
        if (p == NULL) {
            rcfd_free(w);
            conn_close(c);
            return;
        }
        memcpy(p + c->early_len, w->data, (size_t)n);
        c->early = p;
        c->early_len += (size_t)n;
        rcfd_free(w);
        return;
    }
    uv_stream_t *to =
        s == (uv_stream_t *)&c->down ? (uv_stream_t *)&c->up : (uv_stream_t *)&c->down;
    forward(c, s, to, w, (size_t)n);
}

static void on_up_connected(uv_connect_t *req, int status)
{
    conn_t *c = req->data;
    if (status != 0 || c->closing) {
        if (!c->closing) {
            fprintf(stderr, "rcfd dev-broker: relay: cannot reach the broker: %s\n",
                    uv_strerror(status));
        }
        conn_close(c);
        return;
    }
    c->up_open = 1;
    if (c->early_len > 0) {
        wreq_t *w = rcfd_malloc(sizeof *w + c->early_len);
        if (w == NULL) {
            conn_close(c);
            return;
        }
        memcpy(w->data, c->early, c->early_len);
        forward(c, (uv_stream_t *)&c->down, (uv_stream_t *)&c->up, w, c->early_len);
        rcfd_free(c->early);
        c->early = NULL;
        c->early_len = 0;
    }
    if (!c->closing) {
        uv_read_start((uv_stream_t *)&c->up, on_alloc, on_read);
    }
}

static void on_client(uv_stream_t *server, int status)
{
    relay_t *r = server->data;
    if (status != 0) {
        return;
    }
    conn_t *c = rcfd_calloc(1, sizeof *c);
    if (c == NULL) {
        return;
    }
    c->r = r;
    uv_tcp_init(r->loop, &c->down);
    uv_tcp_init(r->loop, &c->up);
    c->handles = 2;
    c->down.data = c->up.data = c->connect.data = c;
    c->next = r->conns;
    if (r->conns != NULL) {
        r->conns->prev = c;
    }
    r->conns = c;
    if (uv_accept(server, (uv_stream_t *)&c->down) != 0 ||
        uv_tcp_connect(&c->connect, &c->up, (const struct sockaddr *)&r->broker, on_up_connected) !=
            0) {
        conn_close(c);
        return;
    }
    r->connections++;
    uv_tcp_nodelay(&c->down, 1);
    uv_tcp_nodelay(&c->up, 1);
    uv_read_start((uv_stream_t *)&c->down, on_alloc, on_read);
}

static int parse_hostport(const char *s, struct sockaddr_storage *out)
{
    const char *colon = strrchr(s, ':');
    char host[256];
    if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof host) {
        return UV_EINVAL;
    }
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 0 || port > 65535) {
        return UV_EINVAL;
    }
    if (strcmp(host, "localhost") == 0) {
        snprintf(host, sizeof host, "127.0.0.1");
    }
    if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)out) == 0) {
        return 0;
    }
    return uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)out);
}

/* ---- the sample producer ---- */

static void produce_reading(devbroker_t *d)
{
    int m = (int)(d->readings % MACHINES);
    int i = (int)(d->readings / MACHINES);
    double v[3];
    const char *fault;
    rcfd_demo_reading(m, i, 0, &d->rng, v, &fault); /* per_machine 0: the faults come from here */
    const char *what = NULL;
    if (d->fault_every > 0 && d->readings == d->next_fault) {
        static const struct {
            int column;
            double delta;
            const char *what;
        } kinds[] = {{0, 9.0, "temperature spike"},
                     {1, -4.0, "pressure drop"},
                     {2, 1.5, "vibration burst"},
                     {0, -8.0, "temperature dip"}};
        uint64_t k = rcfd_rng_next(&d->rng) % 4;
        v[kinds[k].column] += kinds[k].delta;
        what = kinds[k].what;
        /* the next one somewhere in the next fault_every readings (of all machines) */
        d->next_fault = d->readings + d->fault_every / 2 +
                        rcfd_rng_next(&d->rng) % (d->fault_every > 1 ? d->fault_every : 2);
    }
    char key[24], msg[256];
    snprintf(key, sizeof key, "machine-%d", m + 1);
    snprintf(msg, sizeof msg,
             "{\"machine\":\"%s\",\"reading\":%d,\"temperature\":%.3f,\"pressure\":%.3f,"
             "\"vibration\":%.4f}",
             key, i, v[0], v[1], v[2]);
    rd_kafka_resp_err_t err =
        rd_kafka_producev(d->prod, RD_KAFKA_V_TOPIC("sensors"), RD_KAFKA_V_KEY(key, strlen(key)),
                          RD_KAFKA_V_VALUE(msg, strlen(msg)),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    d->readings++;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        d->failed++;
        return;
    }
    d->produced++;
    if (what != NULL) {
        printf("rcfd dev-broker: produced %s: %s\n", what, msg);
        fflush(stdout);
    }
}

static void on_tick(uv_timer_t *t)
{
    devbroker_t *d = t->data;
    rd_kafka_poll(d->prod, 0); /* delivery reports; never blocks */
    d->carry += d->rate / 10.0;
    while (d->carry >= 1.0) {
        d->carry -= 1.0;
        produce_reading(d);
    }
}

static void on_stop(uv_signal_t *s, int signum)
{
    devbroker_t *d = s->data;
    fprintf(stderr, "rcfd dev-broker: %s: stopping\n", signum == SIGINT ? "SIGINT" : "SIGTERM");
    uv_stop(&d->loop);
}

static void on_walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) {
        uv_close(h, NULL); /* the relayed connections were closed (and free) before */
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rcfd dev-broker [options]   a Kafka broker to try rcfd against (librdkafka's\n"
            "                                   mock cluster in this process; data in memory)\n"
            "  --listen HOST:PORT  the bootstrap address (default $KAFKA_BOOTSTRAP, else\n"
            "                      127.0.0.1:9092: where the example configs look); \"\" for none\n"
            "  --brokers N         brokers in the cluster (default 1)\n"
            "  --topic NAME[:P]    create a topic with P partitions (default 4); repeatable;\n"
            "                      default: sensors:4 and clicks:4\n"
            "  --sample RATE       produce the demo's sensor readings (machine-1..4) into\n"
            "                      \"sensors\" at RATE records/s (default 0: none)\n"
            "  --fault-every N     with --sample, inject a fault about every N readings\n"
            "                      (default 2000; 0: none)\n"
            "  --seed S            the sample's seed (default 42)\n"
            "  --bootstrap-file F  also write the bootstrap address to F (for scripts)\n"
            "Runs in the foreground until SIGINT (Ctrl-C) or SIGTERM.\n");
}

int rcfd_devbroker_main(int argc, char **argv)
{
    /* Where the daemon will look: the example configs read ${KAFKA_BOOTSTRAP:-127.0.0.1:9092}. */
    char from_env[256] = "127.0.0.1:9092";
    const char *kb = getenv("KAFKA_BOOTSTRAP");
    if (kb != NULL && kb[0] != '\0') {
        snprintf(from_env, sizeof from_env, "%.*s", (int)strcspn(kb, ","), kb);
    }
    const char *listen_at = from_env, *bootstrap_file = NULL;
    int brokers = 1;
    const char *topics[MAX_TOPICS];
    size_t n_topics = 0;
    devbroker_t d = {.seed = 42, .fault_every = 2000};
    /* every option but --help takes a value */
    for (int i = 0; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--listen") == 0 && v) {
            listen_at = v;
        } else if (strcmp(a, "--brokers") == 0 && v && atoi(v) >= 1 && atoi(v) <= 16) {
            brokers = atoi(v);
        } else if (strcmp(a, "--topic") == 0 && v && n_topics < MAX_TOPICS) {
            topics[n_topics++] = v;
        } else if (strcmp(a, "--sample") == 0 && v && atof(v) >= 0.0 && atof(v) <= 1e6) {
            d.rate = atof(v);
        } else if (strcmp(a, "--fault-every") == 0 && v) {
            d.fault_every = strtoull(v, NULL, 10);
        } else if (strcmp(a, "--seed") == 0 && v) {
            d.seed = strtoull(v, NULL, 10);
        } else if (strcmp(a, "--bootstrap-file") == 0 && v) {
            bootstrap_file = v;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return RCFD_EXIT_OK;
        } else {
            fprintf(stderr, "rcfd dev-broker: bad or incomplete argument '%s'\n", a);
            usage(stderr);
            return RCFD_EXIT_USAGE;
        }
    }
    if (n_topics == 0) {
        topics[n_topics++] = "sensors:4";
        topics[n_topics++] = "clicks:4";
    }
    d.rng = d.seed;
    d.next_fault = d.fault_every;
    signal(SIGPIPE, SIG_IGN);

    char err[512], nb[8];
    snprintf(nb, sizeof nb, "%d", brokers);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "test.mock.num.brokers", nb, err, sizeof err) ||
        rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err) ||
        rd_kafka_conf_set(conf, "linger.ms", "20", err, sizeof err)) {
        fprintf(stderr, "rcfd dev-broker: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return RCFD_EXIT_SOFTWARE;
    }
    d.prod = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (d.prod == NULL) {
        fprintf(stderr, "rcfd dev-broker: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return RCFD_EXIT_SOFTWARE;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(d.prod);
    char created[1024] = "";
    size_t off = 0;
    for (size_t i = 0; i < n_topics; i++) {
        char name[256];
        int parts = 4;
        const char *colon = strchr(topics[i], ':');
        size_t nl = colon != NULL ? (size_t)(colon - topics[i]) : strlen(topics[i]);
        if (nl == 0 || nl >= sizeof name || (colon != NULL && atoi(colon + 1) < 1)) {
            fprintf(stderr, "rcfd dev-broker: --topic %s: expected NAME or NAME:PARTITIONS\n",
                    topics[i]);
            rd_kafka_destroy(d.prod);
            return RCFD_EXIT_USAGE;
        }
        memcpy(name, topics[i], nl);
        name[nl] = '\0';
        parts = colon != NULL ? atoi(colon + 1) : parts;
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, parts, 1);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "rcfd dev-broker: topic %s: %s\n", name, rd_kafka_err2str(e));
            rd_kafka_destroy(d.prod);
            return RCFD_EXIT_SOFTWARE;
        }
        off += (size_t)snprintf(created + off, off < sizeof created ? sizeof created - off : 0,
                                "%s%s (%d partitions)", i ? ", " : "", name, parts);
    }
    const char *brokers_at = rd_kafka_mock_cluster_bootstraps(mc);
    uv_loop_init(&d.loop);
    d.relay.loop = &d.loop;
    const char *bootstrap = brokers_at;
    int code = RCFD_EXIT_OK;
    if (listen_at[0] != '\0') {
        struct sockaddr_storage la;
        char first[256];
        snprintf(first, sizeof first, "%.*s", (int)strcspn(brokers_at, ","), brokers_at);
        int rc = parse_hostport(listen_at, &la);
        rc = rc ? rc : parse_hostport(first, &d.relay.broker);
        if (rc != 0) {
            fprintf(stderr, "rcfd dev-broker: --listen \"%s\" is not HOST:PORT\n", listen_at);
            code = RCFD_EXIT_USAGE;
            goto out;
        }
        uv_tcp_init(&d.loop, &d.relay.listener);
        d.relay.listener.data = &d.relay;
        d.relay_on = 1;
        rc = uv_tcp_bind(&d.relay.listener, (const struct sockaddr *)&la, 0);
        rc = rc ? rc : uv_listen((uv_stream_t *)&d.relay.listener, 64, on_client);
        if (rc != 0) {
            fprintf(stderr, "rcfd dev-broker: cannot listen on %s: %s%s\n", listen_at,
                    uv_strerror(rc),
                    rc == UV_EADDRINUSE ? " (a Kafka broker or another dev-broker runs there: "
                                          "pick another with --listen 127.0.0.1:PORT and "
                                          "set KAFKA_BOOTSTRAP to it)"
                                        : "");
            code = rc == UV_EADDRINUSE ? RCFD_EXIT_OSERR : RCFD_EXIT_CANTCREAT;
            goto out;
        }
        bootstrap = listen_at;
    }
    if (bootstrap_file != NULL) {
        FILE *f = fopen(bootstrap_file, "w");
        if (f == NULL || fprintf(f, "%s\n", bootstrap) < 0 || fclose(f) != 0) {
            fprintf(stderr, "rcfd dev-broker: %s: %s\n", bootstrap_file, strerror(errno));
            code = RCFD_EXIT_CANTCREAT;
            goto out;
        }
    }
    printf("rcfd %s dev-broker: librdkafka's mock Kafka cluster, %d broker%s in this process "
           "(data in memory, gone when it stops)\n"
           "  bootstrap:  %s%s%s%s\n"
           "  topics:     %s (others are created on first use)\n"
           "  run rcfd:   KAFKA_BOOTSTRAP=%s build/bin/rcfd -c conf/sensors-kda.json --state-dir "
           "/tmp/rcfd\n"
           "  produce:    echo '{\"machine\":\"machine-1\",\"temperature\":21.5,"
           "\"pressure\":101.2,\"vibration\":0.52}' | kcat -P -b %s -t sensors -k machine-1\n"
           "  consume:    kcat -C -b %s -t sensors -o beginning -e\n",
           rcfd_version(), brokers, brokers == 1 ? "" : "s", bootstrap,
           bootstrap != brokers_at ? " (relayed to the brokers at " : "",
           bootstrap != brokers_at ? brokers_at : "", bootstrap != brokers_at ? ")" : "", created,
           bootstrap, bootstrap, bootstrap);
    if (d.rate > 0) {
        printf("  sample:     %g sensor readings/s into \"sensors\" (key machine-1..4)", d.rate);
        if (d.fault_every > 0) {
            printf(", a fault about every %llu", (unsigned long long)d.fault_every);
        }
        printf("\n");
    }
    printf("  Ctrl-C or SIGTERM stops it.\n");
    fflush(stdout);

    uv_signal_init(&d.loop, &d.sig_int);
    uv_signal_init(&d.loop, &d.sig_term);
    d.sig_int.data = d.sig_term.data = &d;
    uv_signal_start(&d.sig_int, on_stop, SIGINT);
    uv_signal_start(&d.sig_term, on_stop, SIGTERM);
    uv_timer_init(&d.loop, &d.tick);
    d.tick.data = &d;
    uv_timer_start(&d.tick, on_tick, 100, 100);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    if (d.rate > 0) {
        printf("rcfd dev-broker: %llu readings produced, %llu refused\n",
               (unsigned long long)d.produced, (unsigned long long)d.failed);
    }
out:
    while (d.relay.conns != NULL) {
        conn_close(d.relay.conns);
    }
    uv_walk(&d.loop, on_walk_close, NULL);
    uv_run(&d.loop, UV_RUN_DEFAULT); /* close callbacks; relayed connections free themselves */
    uv_loop_close(&d.loop);
    rd_kafka_flush(d.prod, 2000); /* after the loop: nothing else waits on this thread */
    rd_kafka_destroy(d.prod);
    return code;
}
