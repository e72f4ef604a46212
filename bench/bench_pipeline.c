/* Pipeline benchmark: librdkafka mock cluster -> rcfd (RCF) -> file output, end to end.
 *
 *   bench_pipeline [--records N] [--latency-records M] [--rate R] [--trees T] [--sample S]
 *                  [--keys K] [--fetch-wait-ms MS] [--rcfd PATH] [--bench-rcf PATH]
 *
 * Starts librdkafka's mock cluster in this process (3 brokers, topic "bench" with 4 partitions),
 * writes a config (one kafka source, one file output, one RCF pipeline keyed by "key", explain
 * off) and runs the real rcfd binary against it. Records are
 * {"key":"k<i%K>","value":<sine+noise>,"sent_us":<CLOCK_MONOTONIC us>} (K = --keys, default 8);
 * a thread tails the output file and stamps every line when it reads it (polling every 0.2 ms),
 * so latency is read-back time minus sent_us (an upper bound of write time minus produce time). Three phases, one rcfd process:
 *   1. catch-up: N records are produced before rcfd starts; rate from its first to last output
 *      line, wall and per second of rcfd's CPU time (utime+stime from /proc);
 *   2. live: N more records produced as fast as the producer can; rate from first produce to
 *      last output line;
 *   3. latency: M records produced at R records/s (below capacity); p50/p99/max latency.
 * --fetch-wait-ms sets rcfd's fetch.wait.max.ms (librdkafka default 500 otherwise): the mock broker
 * answers a fetch that finds no data only after that wait, so it bounds latency at low rates.
 * Then runs bench_rcf --case a with the same trees/sample for the forest's own rate. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

extern char **environ;

#ifndef RCFD_BIN
#define RCFD_BIN "rcfd"
#endif
#ifndef BENCH_RCF_BIN
#define BENCH_RCF_BIN "bench_rcf"
#endif

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (p == NULL) {
        return -1;
    }
    unsigned long ut = 0, st = 0;
    /* after ')': state(3) ... utime is field 14, stime 15 */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) {
        return -1;
    }
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- output tail ---- */
typedef struct tail {
    const char *path;
    size_t cap;
    double *read_us; /* per line: when it was read */
    double *sent_us; /* per line: its sent_us */
    atomic_size_t lines;
    atomic_int stop;
    pid_t rcfd;
    size_t cpu_mark_a, cpu_mark_b; /* line counts at which to sample rcfd's CPU time */
    double cpu_a, cpu_b;
} tail_t;

static void *tail_main(void *arg)
{
    tail_t *t = arg;
    int fd = -1;
    static char buf[1 << 20];
    size_t have = 0;
    while (!atomic_load(&t->stop)) {
        if (fd < 0) {
            fd = open(t->path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                usleep(200);
                continue;
            }
        }
        ssize_t r = read(fd, buf + have, sizeof buf - have);
        if (r <= 0) {
            usleep(200);
            continue;
        }
        double ts = now_us();
        have += (size_t)r;
        size_t start = 0;
        for (size_t i = 0; i < have; i++) {
            if (buf[i] != '\n') {
                continue;
            }
            buf[i] = '\0';
            size_t n = atomic_load(&t->lines);
            if (n < t->cap) {
                const char *s = strstr(buf + start, "\"sent_us\":");
                t->read_us[n] = ts;
                t->sent_us[n] = s ? strtod(s + 10, NULL) : NAN;
            }
            n++;
            if (n == t->cpu_mark_a) {
                t->cpu_a = proc_cpu_s(t->rcfd);
            }
            if (n == t->cpu_mark_b) {
                t->cpu_b = proc_cpu_s(t->rcfd);
            }
            atomic_store(&t->lines, n);
            start = i + 1;
        }
        memmove(buf, buf + start, have - start);
        have -= start;
    }
    if (fd >= 0) {
        close(fd);
    }
    return NULL;
}

static int wait_lines(tail_t *t, size_t n, double timeout_s)
{
    double deadline = now_us() + timeout_s * 1e6;
    while (atomic_load(&t->lines) < n) {
        if (now_us() > deadline) {
            fprintf(stderr, "bench_pipeline: output has %zu lines, expected %zu\n",
                    atomic_load(&t->lines), n);
            return -1;
        }
        usleep(500);
    }
    return 0;
}

/* ---- producer ---- */
static uint64_t rng_state = 88172645463325252ULL;
static double urand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static uint64_t seq;
static unsigned nkeys = 8;

static void produce_one(rd_kafka_t *p)
{
    char key[16], msg[128];
    uint64_t i = seq++;
    snprintf(key, sizeof key, "k%u", (unsigned)(i % nkeys));
    double v = 10.0 * sin((double)(i / nkeys) * 0.05) + (urand() - 0.5);
    int len = snprintf(msg, sizeof msg, "{\"key\":\"%s\",\"value\":%.4f,\"sent_us\":%.0f}", key, v,
                       now_us());
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            p, RD_KAFKA_V_TOPIC("bench"), RD_KAFKA_V_KEY(key, strlen(key)),
            RD_KAFKA_V_VALUE(msg, (size_t)len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(p, 1);
            continue;
        }
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "bench_pipeline: produce: %s\n", rd_kafka_err2str(e));
            exit(1);
        }
        break;
    }
    rd_kafka_poll(p, 0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double forest_rate(const char *bin, unsigned trees, unsigned sample)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --case a --trees %u --sample %u", bin, trees, sample);
    FILE *f = popen(cmd, "r");
    if (f == NULL) {
        return -1;
    }
    char line[512];
    double rate = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        fputs(line, stdout);
        const char *s = strstr(line, "shingle 1");
        if (line[0] == '(' && line[1] == 'a' && s != NULL) {
            rate = strtod(s + 9, NULL);
        }
    }
    pclose(f);
    return rate;
}

int main(int argc, char **argv)
{
    size_t n = 200000, m = 100000;
    double rate = 20000;
    unsigned trees = 100, sample = 256;
    int fetch_wait = -1;
    const char *rcfd = RCFD_BIN, *bench_rcf = BENCH_RCF_BIN;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--records") == 0) {
            n = strtoul(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "--latency-records") == 0) {
            m = strtoul(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "--rate") == 0) {
            rate = strtod(argv[i + 1], NULL);
        } else if (strcmp(argv[i], "--trees") == 0) {
            trees = (unsigned)strtoul(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "--sample") == 0) {
            sample = (unsigned)strtoul(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "--keys") == 0) {
            nkeys = (unsigned)strtoul(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "--fetch-wait-ms") == 0) {
            fetch_wait = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--rcfd") == 0) {
            rcfd = argv[i + 1];
        } else if (strcmp(argv[i], "--bench-rcf") == 0) {
            bench_rcf = argv[i + 1];
        } else {
            fprintf(stderr, "usage: bench_pipeline [--records N] [--latency-records M] [--rate R] "
                            "[--trees T] [--sample S] [--keys K] [--fetch-wait-ms MS] [--rcfd PATH] "
                            "[--bench-rcf PATH]\n");
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (n == 0 || m == 0 || rate <= 0 || nkeys == 0 || nkeys > 99999) {
        fprintf(stderr, "bench_pipeline: records, latency-records, rate and keys must be > 0\n");
        return 2;
    }

    char dir[] = "/tmp/rcfd-bench-pl.XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    char cfg_path[256], out_path[256], log_path[256];
    snprintf(cfg_path, sizeof cfg_path, "%s/rcfd.json", dir);
    snprintf(out_path, sizeof out_path, "%s/out.jsonl", dir);
    snprintf(log_path, sizeof log_path, "%s/rcfd.log", dir);

    /* mock cluster */
    char err[512];
    rd_kafka_conf_t *mconf = rd_kafka_conf_new();
    rd_kafka_conf_set(mconf, "log_level", "3", err, sizeof err);
    rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, err, sizeof err);
    if (mrk == NULL) {
        fprintf(stderr, "bench_pipeline: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 3);
    if (mc == NULL || rd_kafka_mock_topic_create(mc, "bench", 4, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "bench_pipeline: cannot create the mock cluster\n");
        return 1;
    }
    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);

    /* producer */
    rd_kafka_conf_t *pconf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(pconf, "bootstrap.servers", boot, err, sizeof err) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(pconf, "linger.ms", "1", err, sizeof err) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(pconf, "log_level", "3", err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "bench_pipeline: %s\n", err);
        return 1;
    }
    rd_kafka_t *prod = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof err);
    if (prod == NULL) {
        fprintf(stderr, "bench_pipeline: %s\n", err);
        return 1;
    }

    char extra[64] = "";
    if (fetch_wait >= 0) {
        snprintf(extra, sizeof extra, ", \"fetch.wait.max.ms\": %d", fetch_wait);
    }
    FILE *cf = fopen(cfg_path, "w");
    if (cf == NULL) {
        perror(cfg_path);
        return 1;
    }
    fprintf(cf,
            "{\"log\": {\"level\": \"info\"}, \"runtime\": {\"stats_interval_ms\": 0},\n"
            " \"sources\": [{\"name\": \"bench\", \"type\": \"kafka\", \"topics\": [\"bench\"],\n"
            "   \"rdkafka\": {\"bootstrap.servers\": \"%s\", \"group.id\": \"bench-pipeline\",\n"
            "     \"auto.offset.reset\": \"earliest\", \"session.timeout.ms\": 4000,\n"
            "     \"heartbeat.interval.ms\": 500%s}}],\n"
            " \"outputs\": [{\"name\": \"scored\", \"type\": \"file\", \"path\": \"%s\"}],\n"
            " \"pipelines\": [{\"name\": \"bench-rcf\", \"source\": \"bench\", \"key\": \"key\",\n"
            "   \"fields\": [\"value\"], \"outputs\": [\"scored\"],\n"
            "   \"models\": [{\"type\": \"rcf\", \"number_of_trees\": %u, \"sub_sample_size\": %u,\n"
            "                 \"shingle_size\": 1, \"explain\": false}]}]}\n",
            boot, extra, out_path, trees, sample);
    fclose(cf);

    /* phase 1: pre-produce N */
    double p1_t0 = now_us();
    for (size_t i = 0; i < n; i++) {
        produce_one(prod);
    }
    rd_kafka_flush(prod, 60000);
    double p1_t1 = now_us();
    printf("bench_pipeline: produced %zu records in %.2f s (%.0f records/s) before starting rcfd\n",
           n, (p1_t1 - p1_t0) / 1e6, (double)n / ((p1_t1 - p1_t0) / 1e6));

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    char *const args[] = {(char *)rcfd, (char *)"-c", cfg_path, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, rcfd, &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "bench_pipeline: cannot run %s: %s\n", rcfd, strerror(rc));
        return 1;
    }

    tail_t t = {.path = out_path, .cap = 2 * n + m, .rcfd = pid, .cpu_mark_a = 1,
                .cpu_mark_b = n};
    t.read_us = calloc(t.cap, sizeof(double));
    t.sent_us = calloc(t.cap, sizeof(double));
    pthread_t th;
    pthread_create(&th, NULL, tail_main, &t);

    int fail = 0;
    if (wait_lines(&t, n, 300) != 0) {
        fail = 1;
        goto out;
    }
    double c_wall = (t.read_us[n - 1] - t.read_us[0]) / 1e6;
    double c_cpu = t.cpu_b - t.cpu_a;
    double catchup = (double)(n - 1) / c_wall;
    double catchup_cpu = (double)(n - 1) / c_cpu;

    /* phase 2: live, as fast as possible */
    double p2_t0 = now_us();
    for (size_t i = 0; i < n; i++) {
        produce_one(prod);
    }
    rd_kafka_flush(prod, 60000);
    double p2_prod = now_us();
    if (wait_lines(&t, 2 * n, 300) != 0) {
        fail = 1;
        goto out;
    }
    double live = (double)n / ((t.read_us[2 * n - 1] - p2_t0) / 1e6);
    double live_prod = (double)n / ((p2_prod - p2_t0) / 1e6);

    /* phase 3: fixed rate */
    double p3_t0 = now_us();
    for (size_t i = 0; i < m; i++) {
        double due = p3_t0 + (double)i * 1e6 / rate;
        double d = due - now_us();
        if (d > 50) {
            struct timespec ts = {0, (long)(d * 1e3)};
            nanosleep(&ts, NULL);
        }
        produce_one(prod);
    }
    double p3_t1 = now_us();
    rd_kafka_flush(prod, 60000);
    if (wait_lines(&t, 2 * n + m, 300) != 0) {
        fail = 1;
        goto out;
    }
    double *lat = malloc(m * sizeof(double));
    size_t k = 0;
    for (size_t i = 2 * n; i < 2 * n + m; i++) {
        if (!isnan(t.sent_us[i])) {
            lat[k++] = (t.read_us[i] - t.sent_us[i]) / 1e3;
        }
    }
    qsort(lat, k, sizeof(double), cmp_double);

    printf("bench_pipeline: rcfd %u trees, sample %u, explain off, %u keys, 4 partitions, 3 mock "
           "brokers, fetch.wait.max.ms %d\n",
           trees, sample, nkeys, fetch_wait >= 0 ? fetch_wait : 500);
    printf("catch-up consumption: %.0f records/s wall (%zu records), %.0f records per rcfd CPU "
           "second (%.2f CPU s)\n",
           catchup, n, catchup_cpu, c_cpu);
    printf("live end-to-end:      %.0f records/s (first produce to last output line, %zu records; "
           "producer alone %.0f records/s)\n",
           live, n, live_prod);
    printf("latency at %.0f/s:    p50 %.2f ms  p99 %.2f ms  max %.2f ms (%zu records, produced "
           "at %.0f/s achieved)\n",
           rate, lat[k / 2], lat[(size_t)((double)k * 0.99)], lat[k - 1], k,
           (double)m / ((p3_t1 - p3_t0) / 1e6));
    free(lat);

out:
    atomic_store(&t.stop, 1);
    pthread_join(th, NULL);
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    if (fail) {
        fprintf(stderr, "bench_pipeline: failed; rcfd log in %s\n", log_path);
        return 1;
    }
    double forest = forest_rate(bench_rcf, trees, sample);
    printf("forest (bench_rcf --case a): %.0f records/s (CPU time)\n", forest);
    printf("ratio: catch-up wall %.0f%%, catch-up per rcfd CPU second %.0f%%, live end-to-end "
           "%.0f%% of the forest's rate (target 80%%)\n",
           100 * catchup / forest, 100 * catchup_cpu / forest, 100 * live / forest);
    free(t.read_us);
    free(t.sent_us);
    rd_kafka_destroy(prod);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
    unlink(cfg_path);
    unlink(out_path);
    unlink(log_path);
    rmdir(dir);
    return 0;
}
