/* Pipeline benchmark: librdkafka mock cluster -> rcfd (RCF) -> file output, end to end.
 *
 *   bench_pipeline [--records N] [--latency-records M] [--rate R] [--trees T] [--sample S]
 *                  [--keys K] [--partitions P] [--fetch-wait-ms MS] [--rdkafka KEY=VALUE]
 *                  [--compression CODEC] [--rcfd PATH] [--before PATH] [--bench-rcf PATH]
 *                  [--runs R] [--source kafka|file] [--workers N[,N...]]
 *
 * Starts librdkafka's mock cluster in this process (3 brokers, topic "bench" with P partitions),
 * writes a config (one kafka source, one file output, one RCF pipeline keyed by "key", explain
 * off, recent_mean 0 so the forest is bench_rcf case a's; --rdkafka adds consumer properties) and runs the real rcfd binary against it. Records are
 * {"key":"k<i%K>","value":<sine+noise>,"sent_us":<CLOCK_MONOTONIC us>} (K = --keys, default 8),
 * produced round-robin over the partitions: the mock broker keeps at most 5 MiB (100,000 batches)
 * per partition and silently drops the oldest beyond that. rcfd keeps one model per partition and
 * key, so K keys over P partitions are lcm(K, P) models; P defaults to max(4, ceil(N / 50,000)),
 * and to 1 for --keys 1 (one key is then one model, as in bench_rcf --keys 1), with lz4 on the
 * producer (--compression) so the log fits. A thread tails the output file and stamps every line
 * when it reads it (woken by inotify when the file changes; polling every 0.2 ms without), so
 * latency is read-back time minus sent_us (an upper bound of write time minus produce time).
 * The observer keeps off rcfd's cores: the main thread sleeps until the tail has the lines it
 * waits for, the tail only counts lines (memchr) and reads sent_us in the latency phase, and the
 * producer formats records by hand (printf's float conversion was most of its CPU).
 * Three phases, one rcfd process:
 *   1. catch-up: N records are produced before rcfd starts; rate from its first to last output
 *      line, wall and per second of rcfd's CPU time (utime+stime of all its threads, /proc);
 *   2. live: N more records produced as fast as the producer can; rate from first produce to
 *      last output line, wall and per rcfd CPU second;
 *   3. latency: M records produced at R records/s (below capacity); p50/p99/max latency.
 * --fetch-wait-ms sets rcfd's fetch.wait.max.ms (librdkafka default 500 otherwise): the mock broker
 * answers a fetch that finds no data only after that wait, so it bounds latency at low rates.
 * The forest: bench_rcf --case a --input over the very values rcfd was sent, same trees/sample:
 * the same work (lcm(K, P) models fed in turn, each over the stretch of its life rcfd gave it:
 * the catch-up's first N / models records, the live phase's next N / models) and one forest
 * (--keys 1 over as many records). Each ratio is like for like: rcfd per CPU second against the
 * forest per CPU second, wall against wall. --runs R rounds (default 3), each one rcfd run per
 * daemon and one forest run, in turn so all see the same spells of load; the best of each
 * counts. --before PATH runs a second rcfd (an older build) in every round too, on the same
 * records, for before/after figures from one invocation. --workers 1,2 runs rcfd once per worker
 * count in every round (runtime.workers; in turn, the order rotating), and prints each count's
 * rate against the first's and, per worker thread, against one forest's (the bare forest per
 * core); without it rcfd runs with its default (one worker per online core). Each run also
 * prints, per phase, the cores each of rcfd's thread roles used (the rcfd-worker-N threads, on
 * average and the least and most busy one, the loop, the rest; /proc/<pid>/task), the bench
 * process's own (its producer, mock brokers and output tail), and records per second of the
 * worker threads' own CPU, which the summary compares with the forest's per CPU second: wall
 * rates also count the cores a worker did not get.
 *
 * --source file writes the same N records to a JSONL file and runs rcfd with a file source
 * instead (no Kafka, no mock brokers: rcfd's own cost, and stable under callgrind via --rcfd).
 *
 * rcfd dies with the bench: it is killed on every exit path, on SIGINT/SIGTERM/SIGHUP/SIGQUIT, and
 * by the kernel (PR_SET_PDEATHSIG) if the bench itself is killed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

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

/* CPU seconds of rcfd's threads by role, from /proc/<pid>/task/<tid>/stat: the worker threads
 * (named rcfd-worker-N; each of the first MAX_WORKER_CPU on its own too), the loop (the main
 * thread) and all threads alive; and the bench's own (its producer, mock brokers and output
 * tail), read at the same moment. */
#define MAX_WORKER_CPU 64
typedef struct thread_cpu {
    double workers, loop, all, bench;
    double worker[MAX_WORKER_CPU];
    int n_workers;
} thread_cpu_t;

static thread_cpu_t proc_thread_cpu(pid_t pid)
{
    thread_cpu_t c = {.workers = -1, .loop = -1, .all = -1, .bench = proc_cpu_s(getpid())};
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (d == NULL) {
        return c;
    }
    c.workers = c.loop = c.all = 0;
    double tick = (double)sysconf(_SC_CLK_TCK);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') {
            continue;
        }
        char sp[320], buf[1024];
        snprintf(sp, sizeof sp, "/proc/%d/task/%s/stat", (int)pid, e->d_name);
        FILE *f = fopen(sp, "r");
        if (f == NULL) {
            continue; /* the thread just ended */
        }
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *open = strchr(buf, '('), *close = strrchr(buf, ')');
        unsigned long ut = 0, st = 0;
        if (open == NULL || close == NULL ||
            sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) !=
                2) {
            continue;
        }
        double cpu = (double)(ut + st) / tick;
        c.all += cpu;
        if (atoi(e->d_name) == (int)pid) {
            c.loop += cpu;
        } else if (close - open - 1 >= 12 && strncmp(open + 1, "rcfd-worker-", 12) == 0) {
            c.workers += cpu;
            c.n_workers++;
            int w = atoi(open + 13);
            if (w >= 0 && w < MAX_WORKER_CPU) {
                c.worker[w] = cpu;
            }
        }
    }
    closedir(d);
    return c;
}

/* ---- output tail ---- */
typedef struct tail {
    const char *path;
    size_t cap;
    double *read_us; /* per line: when it was read */
    double *sent_us; /* per line from parse_from on: its sent_us (NAN before) */
    size_t parse_from; /* the latency phase's first line: only its lines' sent_us are read */
    atomic_size_t lines;
    atomic_int stop;
    /* The waiter's wake-up: the tail signals once lines reaches want, so the bench's main
     * thread sleeps through a phase instead of polling (each wake-up on the 2 cores rcfd runs
     * on is a chance to preempt a worker, and the observer's cycles are rcfd's loss). */
    pthread_mutex_t mu;
    pthread_cond_t reached;
    size_t want;
    pid_t rcfd;
    size_t cpu_mark_a, cpu_mark_b, cpu_mark_c; /* line counts at which to sample rcfd's CPU */
    double cpu_a, cpu_b, cpu_c;
    thread_cpu_t thr_a, thr_b, thr_c; /* per thread role, at the same marks */
} tail_t;

/* Waits until the output file changed (inotify), or 20 ms (to see the stop flag); polls every
 * 0.2 ms without inotify. The tail used to poll every 0.2 ms always: 5,000 wake-ups a second on
 * the 2 cores rcfd's threads run on, each one a chance to preempt a worker. */
static void tail_wait(int ino)
{
    if (ino < 0) {
        usleep(200);
        return;
    }
    struct pollfd pfd = {.fd = ino, .events = POLLIN};
    if (poll(&pfd, 1, 20) > 0) {
        char ev[4096];
        while (read(ino, ev, sizeof ev) > 0) {
        }
    }
}

static void *tail_main(void *arg)
{
    tail_t *t = arg;
    int fd = -1, ino = -1;
    static char buf[1 << 20];
    size_t have = 0;
    while (!atomic_load(&t->stop)) {
        if (fd < 0) {
            fd = open(t->path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                usleep(200);
                continue;
            }
            /* watched once open: a write between the open and the watch is read next round */
            ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
            if (ino >= 0 && inotify_add_watch(ino, t->path, IN_MODIFY) < 0) {
                close(ino);
                ino = -1;
            }
        }
        ssize_t r = read(fd, buf + have, sizeof buf - have);
        if (r <= 0) {
            tail_wait(ino);
            continue;
        }
        double ts = now_us();
        have += (size_t)r;
        size_t start = 0, n = atomic_load(&t->lines);
        for (char *nl; (nl = memchr(buf + start, '\n', have - start)) != NULL;) {
            *nl = '\0';
            if (n < t->cap) {
                t->read_us[n] = ts;
                const char *s =
                    n >= t->parse_from ? strstr(buf + start, "\"sent_us\":") : NULL;
                t->sent_us[n] = s ? strtod(s + 10, NULL) : NAN;
            }
            n++;
            if (n == t->cpu_mark_a) {
                t->cpu_a = proc_cpu_s(t->rcfd);
                t->thr_a = proc_thread_cpu(t->rcfd);
            }
            if (n == t->cpu_mark_b) {
                t->cpu_b = proc_cpu_s(t->rcfd);
                t->thr_b = proc_thread_cpu(t->rcfd);
            }
            if (n == t->cpu_mark_c) {
                t->cpu_c = proc_cpu_s(t->rcfd);
                t->thr_c = proc_thread_cpu(t->rcfd);
            }
            start = (size_t)(nl - buf) + 1;
        }
        atomic_store(&t->lines, n);
        memmove(buf, buf + start, have - start);
        have -= start;
        pthread_mutex_lock(&t->mu);
        if (atomic_load(&t->lines) >= t->want) {
            pthread_cond_signal(&t->reached);
        }
        pthread_mutex_unlock(&t->mu);
    }
    if (fd >= 0) {
        close(fd);
    }
    if (ino >= 0) {
        close(ino);
    }
    return NULL;
}

/* ---- the rcfd child ---- */

/* Read by the signal handler and the atexit hook, so rcfd never outlives the bench. */
static volatile pid_t child = -1;

static void kill_child(void)
{
    pid_t p = child;
    if (p > 0) {
        kill(p, SIGKILL);
        waitpid(p, NULL, 0);
        child = -1;
    }
}

static void on_signal(int sig)
{
    /* kill and waitpid are async-signal-safe; then die of the same signal. */
    pid_t p = child;
    if (p > 0) {
        kill(p, SIGKILL);
        waitpid(p, NULL, 0);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static pid_t spawn_rcfd(const char *bin, const char *cfg_path, const char *log_path)
{
    int logfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int nullfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (logfd < 0 || nullfd < 0) {
        fprintf(stderr, "bench_pipeline: %s: %s\n", log_path, strerror(errno));
        return -1;
    }
    char *const args[] = {(char *)bin, (char *)"-c", (char *)cfg_path, NULL};
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* Only async-signal-safe calls until exec (librdkafka's threads exist in the parent). The
         * kernel kills rcfd if the bench dies in a way no handler sees (SIGKILL). */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent ||
            dup2(nullfd, 1) < 0 || dup2(logfd, 2) < 0) {
            _exit(127);
        }
        execv(bin, args);
        _exit(127);
    }
    int e = errno;
    close(logfd);
    close(nullfd);
    if (pid < 0) {
        fprintf(stderr, "bench_pipeline: fork: %s\n", strerror(e));
        return -1;
    }
    child = pid;
    return pid;
}

/* SIGTERM, then SIGKILL if rcfd has not exited after timeout_s. Returns its wait status or -1. */
static int stop_rcfd(double timeout_s)
{
    pid_t p = child;
    if (p <= 0) {
        return -1;
    }
    kill(p, SIGTERM);
    int st = 0;
    double deadline = now_us() + timeout_s * 1e6;
    for (;;) {
        pid_t r = waitpid(p, &st, WNOHANG);
        if (r == p || (r < 0 && errno != EINTR)) {
            break;
        }
        if (now_us() > deadline) {
            fprintf(stderr, "bench_pipeline: rcfd did not stop %.0f s after SIGTERM: killed\n",
                    timeout_s);
            kill(p, SIGKILL);
            waitpid(p, &st, 0);
            break;
        }
        usleep(10000);
    }
    child = -1;
    return st;
}

/* Waits until the output has n lines. Fails when rcfd exits, when the output stops growing for
 * stall_s seconds, or after timeout_s. */
static int wait_lines(tail_t *t, size_t n, double timeout_s, double stall_s)
{
    double start = now_us(), last_change = start;
    pthread_mutex_lock(&t->mu);
    t->want = n;
    size_t last = atomic_load(&t->lines); /* after want is set: the tail signals from here on */
    while (last < n) {
        /* woken when the output has n lines; once a second to see rcfd's exit or a stall */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&t->reached, &t->mu, &ts);
        double now = now_us();
        size_t cur = atomic_load(&t->lines);
        if (cur != last) {
            last = cur;
            last_change = now;
            continue;
        }
        int st;
        if (child > 0 && waitpid(child, &st, WNOHANG) == child) {
            child = -1;
            fprintf(stderr, "bench_pipeline: rcfd exited (%s %d) with %zu of %zu output lines\n",
                    WIFEXITED(st) ? "code" : "signal", WIFEXITED(st) ? WEXITSTATUS(st)
                                                                   : WTERMSIG(st),
                    cur, n);
            break;
        }
        if (now - last_change > stall_s * 1e6 || now - start > timeout_s * 1e6) {
            fprintf(stderr, "bench_pipeline: output has %zu lines, expected %zu (%s)\n", cur, n,
                    now - start > timeout_s * 1e6 ? "timed out" : "no progress");
            break;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return last < n ? -1 : 0;
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
static char *values;     /* every produced record's value as sent ("%.4f\n" each), for bench_rcf */
static size_t values_len, values_cap;
static unsigned nkeys = 8, partitions;
static unsigned runs = 3; /* forest runs (and file-mode rcfd runs); the best counts */
static atomic_ulong produce_failed; /* delivery reports with an error */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && atomic_fetch_add(&produce_failed, 1) == 0) {
        fprintf(stderr, "bench_pipeline: delivery failed: %s\n", rd_kafka_err2str(m->err));
    }
}

/* Decimal digits of v at out, without a terminator; returns their count. */
static size_t put_u64(char *out, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++) {
        out[i] = tmp[n - 1 - i];
    }
    return n;
}

/* len bytes of s at out + *n; *n moves past them. */
static void put_bytes(char *out, size_t *n, const char *s, size_t len)
{
    memcpy(out + *n, s, len);
    *n += len;
}

#define PUT_LIT(out, n, literal) put_bytes(out, n, literal, sizeof literal - 1)

#define KEY_MAX 16  /* "k" and at most 10 digits */
#define MSG_MAX 128 /* the longest record is under 80 bytes */

/* The next record: key k<i % keys>, a per-key sine plus noise, the produce time; its value's
 * text (4 decimals) is appended to values. Formatted by hand, not with snprintf: the producer
 * shares the 2 cores with rcfd in the live phase, and printf's float conversion was most of its
 * own CPU. Returns the body's length. */
static int next_record(char key[KEY_MAX], char msg[MSG_MAX], uint64_t *index)
{
    uint64_t i = seq++;
    *index = i;
    size_t kl = 1;
    key[0] = 'k';
    kl += put_u64(key + 1, i % nkeys);
    key[kl] = '\0';
    double v = 10.0 * sin((double)(i / nkeys) * 0.05) + (urand() - 0.5);
    int64_t q = llround(v * 1e4); /* |v| < 11: the text is [-]D[D].DDDD */
    char text[32];
    size_t tl = 0;
    if (q < 0) {
        text[tl++] = '-';
        q = -q;
    }
    tl += put_u64(text + tl, (uint64_t)q / 10000);
    text[tl++] = '.';
    for (int d = 3; d >= 0; d--) {
        text[tl + (size_t)d] = (char)('0' + q % 10);
        q /= 10;
    }
    tl += 4;
    text[tl++] = '\n';
    if (values_len + tl > values_cap) {
        values_cap = values_cap ? 2 * values_cap : 1 << 20;
        if ((values = realloc(values, values_cap)) == NULL) {
            fprintf(stderr, "bench_pipeline: out of memory\n");
            exit(1);
        }
    }
    memcpy(values + values_len, text, tl);
    values_len += tl;
    size_t n = 0;
    PUT_LIT(msg, &n, "{\"key\":\"");
    put_bytes(msg, &n, key, kl);
    PUT_LIT(msg, &n, "\",\"value\":");
    put_bytes(msg, &n, text, tl - 1);
    PUT_LIT(msg, &n, ",\"sent_us\":");
    n += put_u64(msg + n, (uint64_t)llround(now_us()));
    msg[n++] = '}';
    msg[n] = '\0';
    return (int)n;
}

static void produce_one(rd_kafka_t *p)
{
    char key[KEY_MAX], msg[MSG_MAX];
    uint64_t i;
    int len = next_record(key, msg, &i);
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            p, RD_KAFKA_V_TOPIC("bench"), RD_KAFKA_V_PARTITION((int32_t)(i % partitions)),
            RD_KAFKA_V_KEY(key, strlen(key)),
            RD_KAFKA_V_VALUE(msg, (size_t)len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(p, 1);
            continue;
        }
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "bench_pipeline: produce: %s\n", rd_kafka_err2str(e));
            exit(1); /* the atexit hook kills rcfd */
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

/* Flushes the producer; fails when a record was not delivered. */
static int flush_all(rd_kafka_t *p)
{
    rd_kafka_resp_err_t e = rd_kafka_flush(p, 60000);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR || atomic_load(&produce_failed) != 0) {
        fprintf(stderr, "bench_pipeline: %d records not flushed, %lu failed\n",
                rd_kafka_outq_len(p), (unsigned long)atomic_load(&produce_failed));
        return -1;
    }
    return 0;
}

/* Every produced record is still in the mock broker's log: it drops a partition's oldest records
 * past 5 MiB, which would leave the bench waiting for lines that never come. */
static int check_log(rd_kafka_t *p, size_t expect)
{
    int64_t total = 0;
    for (unsigned i = 0; i < partitions; i++) {
        int64_t lo = 0, hi = 0;
        rd_kafka_resp_err_t e =
            rd_kafka_query_watermark_offsets(p, "bench", (int32_t)i, &lo, &hi, 10000);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "bench_pipeline: watermarks of partition %u: %s\n", i,
                    rd_kafka_err2str(e));
            return -1;
        }
        if (lo != 0) {
            fprintf(stderr, "bench_pipeline: the mock broker dropped the first %lld records of "
                            "partition %u (it keeps 5 MiB per partition): use more --partitions\n",
                    (long long)lo, i);
            return -1;
        }
        total += hi;
    }
    if (total != (int64_t)expect) {
        fprintf(stderr, "bench_pipeline: the topic holds %lld records, expected %zu\n",
                (long long)total, expect);
        return -1;
    }
    return 0;
}

/* bench_rcf --case a with `keys` models fed in turn, each timed over its records warmup+1 ..
 * warmup+records, over the values rcfd was sent (--input); records/s of CPU time and of wall time
 * (-1 on failure). */
typedef struct rate2 {
    double cpu, wall;
} rate2_t;

static rate2_t forest_rate(const char *bin, const char *input, unsigned trees, unsigned sample,
                           unsigned keys, size_t warmup, size_t records)
{
    rate2_t r = {-1, -1};
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s --case a --trees %u --sample %u --keys %u --warmup %zu --records %zu --input %s",
             bin, trees, sample, keys, warmup, records, input);
    FILE *f = popen(cmd, "r");
    if (f == NULL) {
        return r;
    }
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        const char *s = strstr(line, "shingle 1");
        if (line[0] == '(' && line[1] == 'a' && s != NULL) {
            r.cpu = strtod(s + 9, NULL);
        } else if (strncmp(line, "(a) wall ", 9) == 0) {
            r.wall = strtod(line + 9, NULL);
        }
    }
    if (pclose(f) != 0) {
        r.cpu = r.wall = -1;
    }
    return r;
}

/* The daemons every round runs, in turn: an older build (--before), then rcfd once per --workers
 * count (workers -1: the config leaves runtime.workers out). */
#define MAX_CONTENDERS 9
typedef struct contender {
    const char *bin;
    char label[32];
    int workers;
} contender_t;
static contender_t contenders[MAX_CONTENDERS];
static size_t n_contenders;

/* ", \"workers\": N" for the config's runtime object, or "". */
static const char *workers_json(int workers, char *buf, size_t size)
{
    if (workers < 0) {
        return "";
    }
    snprintf(buf, size, ", \"workers\": %d", workers);
    return buf;
}

/* rcfd keeps a model per (shard, key): with K keys over P partitions round-robin, record i lands
 * in model (i % K, i % P), lcm(K, P) models fed in turn (i % lcm). The file source is one shard. */
static unsigned models;

static unsigned lcm(unsigned a, unsigned b)
{
    unsigned x = a, y = b;
    while (y != 0) {
        unsigned t = x % y;
        x = y;
        y = t;
    }
    return a / x * b;
}

/* The forest doing what rcfd did with records first+1 .. first+n, over the very values rcfd was
 * sent: the same models fed in turn over the same stretch of each model's life (a forest gets
 * cheaper as its sample fills and fewer points are inserted, so a warmed-up forest is not the
 * same work as fresh keys), and one forest over as many records. Best of `runs` each. */
typedef struct forest_cmp {
    rate2_t same, one;
} forest_cmp_t;

static void best(rate2_t *b, rate2_t r)
{
    b->cpu = fmax(b->cpu, r.cpu);
    b->wall = fmax(b->wall, r.wall);
}

/* One round of the forest comparison, kept into c (the best so far). */
static void forest_round(const char *bin, const char *input, unsigned trees, unsigned sample,
                         size_t first, size_t n, forest_cmp_t *c)
{
    best(&c->same, forest_rate(bin, input, trees, sample, models, first / models, n / models));
    if (models != 1) {
        best(&c->one, forest_rate(bin, input, trees, sample, 1, first, n));
    } else {
        c->one = c->same;
    }
}

static void forest_print(const forest_cmp_t *c, size_t first, size_t n)
{
    printf("forest, %zu records from record %zu, the values rcfd was sent, best of %u: same work "
           "(bench_rcf --case a --keys %u --warmup %zu --records %zu) %.0f records per CPU s, "
           "%.0f wall; one forest (--keys 1 --warmup %zu --records %zu) %.0f per CPU s, %.0f "
           "wall\n",
           n, first, runs, models, first / models, n / models, c->same.cpu, c->same.wall, first,
           n, c->one.cpu, c->one.wall);
}

/* The produced values, one per line, for bench_rcf --input. */
static int write_values(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL || fwrite(values, 1, values_len, f) != values_len) {
        perror(path);
        if (f != NULL) {
            fclose(f);
        }
        return -1;
    }
    return fclose(f);
}

/* rcfd's rate per CPU second against the forest's per CPU second, and wall against wall: each
 * like for like (on a shared machine wall time also counts what the others run). */
static void print_ratio(const char *label, const char *what, rate2_t rate, const forest_cmp_t *c)
{
    printf("%s%s: per CPU s %.0f%% of the same work, %.0f%% of one forest; wall %.0f%% of the "
           "same work, %.0f%% of one forest (target 80%%)\n",
           label, what, 100 * rate.cpu / c->same.cpu, 100 * rate.cpu / c->one.cpu,
           100 * rate.wall / c->same.wall, 100 * rate.wall / c->one.wall);
}

/* --workers: each count's wall rate against the first count's, and per worker thread against one
 * forest's wall rate (the bare forest per core; target 85%). */
static void print_workers(const char *what, const rate2_t *r, const forest_cmp_t *c)
{
    size_t first = SIZE_MAX;
    for (size_t w = 0; w < n_contenders; w++) {
        if (contenders[w].workers < 1) {
            continue;
        }
        if (first == SIZE_MAX) {
            first = w;
        }
        printf("%s%s: %.2fx the rate of workers %d (wall); %.0f records/s per worker, %.0f%% of "
               "one forest's wall rate per worker (%.0f%% of the same work's)\n",
               contenders[w].label, what, r[w].wall / r[first].wall, contenders[first].workers,
               r[w].wall / contenders[w].workers,
               100 * r[w].wall / contenders[w].workers / c->one.wall,
               100 * r[w].wall / contenders[w].workers / c->same.wall);
    }
}

/* --source file: the same records from a JSONL file, no Kafka (what the pipeline costs without
 * librdkafka and the mock brokers; stable under callgrind). rcfd exits when the file is done. */
static int run_file_mode(const char *bench_rcf, const char *dir, size_t n, unsigned trees,
                         unsigned sample)
{
    char in_path[256], cfg_path[256], out_path[256], log_path[256];
    snprintf(in_path, sizeof in_path, "%s/in.jsonl", dir);
    snprintf(cfg_path, sizeof cfg_path, "%s/rcfd.json", dir);
    snprintf(out_path, sizeof out_path, "%s/out.jsonl", dir);
    snprintf(log_path, sizeof log_path, "%s/rcfd.log", dir);
    FILE *in = fopen(in_path, "w");
    FILE *cf = in != NULL ? fopen(cfg_path, "w") : NULL;
    if (cf == NULL) {
        perror(dir);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        char key[KEY_MAX], msg[MSG_MAX];
        uint64_t idx;
        next_record(key, msg, &idx);
        fprintf(in, "%s\n", msg);
    }
    fclose(in);
    fclose(cf);
    /* Best of `runs`, the daemons taking turns: on a shared machine the fastest run is the least
     * disturbed. */
    rate2_t bestr[MAX_CONTENDERS];
    memset(bestr, 0, sizeof bestr);
    char val_path[256];
    snprintf(val_path, sizeof val_path, "%s/values.txt", dir);
    if (write_values(val_path) != 0) {
        return 1;
    }
    forest_cmp_t fc = {{-1, -1}, {-1, -1}};
    for (unsigned run = 0; run < runs; run++) {
        forest_round(bench_rcf, val_path, trees, sample, 0, n, &fc); /* in turn with rcfd */
        for (size_t j = 0; j < n_contenders; j++) {
            size_t w = (j + run) % n_contenders; /* who goes first rotates */
            char wj[64];
            cf = fopen(cfg_path, "w");
            if (cf == NULL) {
                perror(cfg_path);
                return 1;
            }
            fprintf(cf,
                    "{\"log\": {\"level\": \"info\"}, \"runtime\": {\"stats_interval_ms\": 0%s},\n"
                    " \"sources\": [{\"name\": \"bench\", \"type\": \"file\", \"path\": \"%s\"}],\n"
                    " \"outputs\": [{\"name\": \"scored\", \"type\": \"file\", \"path\": \"%s\"}],\n"
                    " \"pipelines\": [{\"name\": \"bench-rcf\", \"source\": \"bench\", \"key\": \"key\",\n"
                    "   \"fields\": [\"value\"], \"outputs\": [\"scored\"],\n"
                    "   \"models\": [{\"type\": \"rcf\", \"number_of_trees\": %u, \"sub_sample_size\": %u,\n"
                    "                 \"shingle_size\": 1, \"explain\": false, \"recent_mean\": 0}]}]}\n",
                    workers_json(contenders[w].workers, wj, sizeof wj), in_path, out_path, trees,
                    sample);
            fclose(cf);
            unlink(out_path);
            double t0 = now_us();
            pid_t pid = spawn_rcfd(contenders[w].bin, cfg_path, log_path);
            if (pid < 0) {
                return 1;
            }
            int st = 0;
            struct rusage ru;
            pid_t r;
            while ((r = wait4(pid, &st, 0, &ru)) < 0 && errno == EINTR) {
            }
            child = -1;
            double wall = (now_us() - t0) / 1e6;
            if (r != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                fprintf(stderr, "bench_pipeline: rcfd failed; its log is %s\n", log_path);
                return 1;
            }
            double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
            printf("%sfile to file, run %u: %.0f records/s wall, %.0f records per rcfd CPU second "
                   "(%.2f s wall, %.2f CPU s, start-up included)\n",
                   contenders[w].label, run + 1, (double)n / wall, (double)n / cpu, wall, cpu);
            best(&bestr[w], (rate2_t){(double)n / cpu, (double)n / wall});
        }
    }
    printf("bench_pipeline: file source, %zu records, rcfd %u trees, sample %u, explain off, %u "
           "keys (%u models)\n",
           n, trees, sample, nkeys, models);
    for (size_t w = 0; w < n_contenders; w++) {
        printf("%sfile to file: %.0f records/s wall, %.0f records per rcfd CPU second (best of "
               "%u)\n",
               contenders[w].label, bestr[w].wall, bestr[w].cpu, runs);
    }
    forest_print(&fc, 0, n);
    for (size_t w = 0; w < n_contenders; w++) {
        print_ratio(contenders[w].label, "file to file", bestr[w], &fc);
    }
    print_workers("file to file", bestr, &fc);
    unlink(in_path);
    unlink(val_path);
    unlink(cfg_path);
    unlink(out_path);
    unlink(log_path);
    rmdir(dir);
    return fc.same.cpu > 0 && fc.one.cpu > 0 ? 0 : 1;
}

/* A phase's CPU by thread role (--workers: where a worker's time goes besides the forest):
 * records per second of the worker threads' own CPU, and the cores each role used on average
 * over the phase's wall time. n_workers 0: the models ran on the loop. */
typedef struct roles {
    double per_worker_cpu;         /* records per second of worker-thread CPU time */
    double worker_cores, loop_cores, other_cores; /* per worker; the loop; the other threads */
    double worker_min, worker_max; /* the least and the most busy worker's cores */
    double bench_cores;            /* the bench process's own threads */
    int n_workers;
} roles_t;

static roles_t roles_of(const thread_cpu_t *a, const thread_cpu_t *b, double records,
                        double wall_s)
{
    roles_t r = {.per_worker_cpu = -1, .worker_cores = -1, .loop_cores = -1, .other_cores = -1,
                 .n_workers = b->n_workers};
    if (a->all < 0 || b->all < 0 || wall_s <= 0) {
        return r;
    }
    double w = b->workers - a->workers, l = b->loop - a->loop, all = b->all - a->all;
    r.per_worker_cpu = b->n_workers > 0 && w > 0 ? records / w : -1;
    r.worker_cores = b->n_workers > 0 ? w / b->n_workers / wall_s : 0;
    r.loop_cores = l / wall_s;
    r.other_cores = (all - w - l) / wall_s;
    r.bench_cores = a->bench >= 0 && b->bench >= 0 ? (b->bench - a->bench) / wall_s : -1;
    r.worker_min = r.worker_max = r.worker_cores;
    for (int i = 0; i < b->n_workers && i < MAX_WORKER_CPU; i++) {
        double c = (b->worker[i] - a->worker[i]) / wall_s;
        r.worker_min = i == 0 || c < r.worker_min ? c : r.worker_min;
        r.worker_max = i == 0 || c > r.worker_max ? c : r.worker_max;
    }
    return r;
}

static void print_roles(const char *label, const char *what, const roles_t *r)
{
    if (r->loop_cores < 0) {
        return;
    }
    if (r->n_workers > 0) {
        printf("%s%s threads: %d workers at %.2f of a core each (%.2f-%.2f), loop %.2f, other "
               "rcfd threads %.2f, the bench process %.2f; %.0f records per worker-thread CPU "
               "second\n",
               label, what, r->n_workers, r->worker_cores, r->worker_min, r->worker_max,
               r->loop_cores, r->other_cores, r->bench_cores, r->per_worker_cpu);
    } else {
        printf("%s%s threads: loop (models too) %.2f of a core, other rcfd threads %.2f, the bench "
               "process %.2f\n",
               label, what, r->loop_cores, r->other_cores, r->bench_cores);
    }
}

typedef struct kres {
    rate2_t catchup, live;
    roles_t catchup_roles, live_roles;
} kres_t;

/* One rcfd against a fresh mock cluster: the three phases over the same records (the generator
 * starts again, so every daemon gets the same values). */
static int kafka_run(const contender_t *who, const char *dir, size_t n, size_t m, double rate,
                     unsigned trees, unsigned sample, int fetch_wait, const char *extra,
                     const char *compression, kres_t *res)
{
    const char *rcfd = who->bin, *label = who->label;
    char wj[64];
    seq = 0;
    rng_state = 88172645463325252ULL;
    values_len = 0;
    atomic_store(&produce_failed, 0);
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
    if (mc == NULL || rd_kafka_mock_topic_create(mc, "bench", (int)partitions, 1) !=
                          RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "bench_pipeline: cannot create the mock cluster\n");
        return 1;
    }
    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);

    /* producer */
    rd_kafka_conf_t *pconf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(pconf, "bootstrap.servers", boot, err, sizeof err) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(pconf, "linger.ms", "1", err, sizeof err) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(pconf, "compression.type", compression, err, sizeof err) !=
            RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(pconf, "log_level", "3", err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "bench_pipeline: %s\n", err);
        return 1;
    }
    rd_kafka_conf_set_dr_msg_cb(pconf, on_delivery);
    rd_kafka_t *prod = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof err);
    if (prod == NULL) {
        fprintf(stderr, "bench_pipeline: %s\n", err);
        return 1;
    }

    FILE *cf = fopen(cfg_path, "w");
    if (cf == NULL) {
        perror(cfg_path);
        return 1;
    }
    fprintf(cf,
            "{\"log\": {\"level\": \"info\"}, \"runtime\": {\"stats_interval_ms\": 0%s},\n"
            " \"sources\": [{\"name\": \"bench\", \"type\": \"kafka\", \"topics\": [\"bench\"],\n"
            "   \"rdkafka\": {\"bootstrap.servers\": \"%s\", \"group.id\": \"bench-pipeline\",\n"
            "     \"auto.offset.reset\": \"earliest\", \"session.timeout.ms\": 4000,\n"
            "     \"heartbeat.interval.ms\": 500%s}}],\n"
            " \"outputs\": [{\"name\": \"scored\", \"type\": \"file\", \"path\": \"%s\"}],\n"
            " \"pipelines\": [{\"name\": \"bench-rcf\", \"source\": \"bench\", \"key\": \"key\",\n"
            "   \"fields\": [\"value\"], \"outputs\": [\"scored\"],\n"
            "   \"models\": [{\"type\": \"rcf\", \"number_of_trees\": %u, \"sub_sample_size\": %u,\n"
            "                 \"shingle_size\": 1, \"explain\": false, \"recent_mean\": 0}]}]}\n",
            workers_json(who->workers, wj, sizeof wj), boot, extra, out_path, trees, sample);
    fclose(cf);

    /* phase 1: pre-produce N */
    double p1_t0 = now_us();
    for (size_t i = 0; i < n; i++) {
        produce_one(prod);
    }
    if (flush_all(prod) != 0 || check_log(prod, n) != 0) {
        return 1;
    }
    double p1_t1 = now_us();
    printf("%sbench_pipeline: produced %zu records in %.2f s (%.0f records/s) before starting "
           "rcfd\n",
           label, n, (p1_t1 - p1_t0) / 1e6, (double)n / ((p1_t1 - p1_t0) / 1e6));

    if (spawn_rcfd(rcfd, cfg_path, log_path) < 0) {
        return 1;
    }
    tail_t t = {.path = out_path, .cap = 2 * n + m, .parse_from = 2 * n, .rcfd = child,
                .cpu_mark_a = 1, .cpu_mark_b = n, .cpu_mark_c = 2 * n};
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&t.mu, NULL);
    pthread_cond_init(&t.reached, &ca);
    pthread_condattr_destroy(&ca);
    t.read_us = calloc(t.cap, sizeof(double));
    t.sent_us = calloc(t.cap, sizeof(double));
    if (t.read_us == NULL || t.sent_us == NULL) {
        fprintf(stderr, "bench_pipeline: out of memory\n");
        return 1;
    }
    pthread_t th;
    pthread_create(&th, NULL, tail_main, &t);

    int fail = 0;
    if (wait_lines(&t, n, 600, 30) != 0) {
        fail = 1;
        goto out;
    }
    double c_wall = (t.read_us[n - 1] - t.read_us[0]) / 1e6;
    double c_cpu = t.cpu_b - t.cpu_a;
    res->catchup = (rate2_t){(double)(n - 1) / c_cpu, (double)(n - 1) / c_wall};

    /* phase 2: live, as fast as possible */
    res->catchup_roles = roles_of(&t.thr_a, &t.thr_b, (double)(n - 1), c_wall);
    double p2_t0 = now_us(), p2_cpu = proc_cpu_s(child);
    thread_cpu_t p2_thr = proc_thread_cpu(child);
    for (size_t i = 0; i < n; i++) {
        produce_one(prod);
    }
    if (flush_all(prod) != 0) {
        fail = 1;
        goto out;
    }
    double p2_prod = now_us();
    if (wait_lines(&t, 2 * n, 600, 30) != 0) {
        fail = 1;
        goto out;
    }
    double l_cpu = t.cpu_c - p2_cpu;
    res->live = (rate2_t){(double)n / l_cpu, (double)n / ((t.read_us[2 * n - 1] - p2_t0) / 1e6)};
    double live_prod = (double)n / ((p2_prod - p2_t0) / 1e6);
    res->live_roles =
        roles_of(&p2_thr, &t.thr_c, (double)n, (t.read_us[2 * n - 1] - p2_t0) / 1e6);

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
    if (flush_all(prod) != 0 || wait_lines(&t, 2 * n + m, 600, 30) != 0) {
        fail = 1;
        goto out;
    }
    double *lat = malloc(m * sizeof(double));
    size_t k = 0;
    for (size_t i = 2 * n; lat != NULL && i < 2 * n + m; i++) {
        if (!isnan(t.sent_us[i])) {
            lat[k++] = (t.read_us[i] - t.sent_us[i]) / 1e3;
        }
    }
    if (k == 0) {
        fprintf(stderr, "bench_pipeline: no latency samples\n");
        free(lat);
        fail = 1;
        goto out;
    }
    qsort(lat, k, sizeof(double), cmp_double);

    printf("%sbench_pipeline: rcfd %u trees, sample %u, explain off, %u keys, %u partitions (%u "
           "models), 3 mock brokers, fetch.wait.max.ms %d, producer compression %s\n",
           label, trees, sample, nkeys, partitions, models, fetch_wait >= 0 ? fetch_wait : 500,
           compression);
    printf("%scatch-up consumption: %.0f records/s wall (%zu records), %.0f records per rcfd CPU "
           "second (%.2f CPU s)\n",
           label, res->catchup.wall, n, res->catchup.cpu, c_cpu);
    printf("%slive end-to-end:      %.0f records/s wall (first produce to last output line, %zu "
           "records; producer alone %.0f records/s), %.0f records per rcfd CPU second (%.2f CPU "
           "s)\n",
           label, res->live.wall, n, live_prod, res->live.cpu, l_cpu);
    print_roles(label, "catch-up", &res->catchup_roles);
    print_roles(label, "live", &res->live_roles);
    printf("%slatency at %.0f/s:    p50 %.2f ms  p99 %.2f ms  max %.2f ms (%zu records, produced "
           "at %.0f/s achieved)\n",
           label, rate, lat[k / 2], lat[(size_t)((double)k * 0.99)], lat[k - 1], k,
           (double)m / ((p3_t1 - p3_t0) / 1e6));
    free(lat);

out:
    atomic_store(&t.stop, 1);
    pthread_join(th, NULL);
    pthread_cond_destroy(&t.reached);
    pthread_mutex_destroy(&t.mu);
    stop_rcfd(20); /* before the mock cluster goes: rcfd's consumer close needs the brokers */
    free(t.read_us);
    free(t.sent_us);
    if (fail) {
        fprintf(stderr, "bench_pipeline: failed; rcfd log in %s\n", log_path);
        return 1;
    }
    rd_kafka_destroy(prod);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
    unlink(cfg_path);
    unlink(out_path);
    unlink(log_path);
    return 0;
}


static void usage(void)
{
    fprintf(stderr, "usage: bench_pipeline [--records N] [--latency-records M] [--rate R] "
                    "[--trees T] [--sample S] [--keys K] [--partitions P] [--fetch-wait-ms MS] "
                    "[--rdkafka KEY=VALUE] [--compression CODEC] [--rcfd PATH] [--before PATH] [--bench-rcf PATH] [--runs R] "
                    "[--source kafka|file] [--workers N[,N...]]\n");
}

int main(int argc, char **argv)
{
    size_t n = 200000, m = 100000;
    double rate = 20000;
    unsigned trees = 100, sample = 256;
    int fetch_wait = -1, file_mode = 0;
    const char *compression = NULL; /* the producer's compression.type */
    char extra[1024] = ""; /* more rdkafka properties of rcfd's consumer (--fetch-wait-ms, --rdkafka) */
    const char *rcfd = RCFD_BIN, *bench_rcf = BENCH_RCF_BIN, *before = NULL;
    const char *workers_list = NULL;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc) {
            usage();
            return 2;
        }
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
        } else if (strcmp(argv[i], "--partitions") == 0) {
            partitions = (unsigned)strtoul(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "--fetch-wait-ms") == 0) {
            fetch_wait = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--rdkafka") == 0 && strchr(argv[i + 1], '=') != NULL) {
            const char *eq = strchr(argv[i + 1], '=');
            size_t used = strlen(extra);
            snprintf(extra + used, sizeof extra - used, ", \"%.*s\": \"%s\"",
                     (int)(eq - argv[i + 1]), argv[i + 1], eq + 1);
        } else if (strcmp(argv[i], "--compression") == 0) {
            compression = argv[i + 1];
        } else if (strcmp(argv[i], "--before") == 0) {
            before = argv[i + 1];
        } else if (strcmp(argv[i], "--workers") == 0) {
            workers_list = argv[i + 1];
        } else if (strcmp(argv[i], "--rcfd") == 0) {
            rcfd = argv[i + 1];
        } else if (strcmp(argv[i], "--bench-rcf") == 0) {
            bench_rcf = argv[i + 1];
        } else if (strcmp(argv[i], "--source") == 0 &&
                   (strcmp(argv[i + 1], "kafka") == 0 || strcmp(argv[i + 1], "file") == 0)) {
            file_mode = strcmp(argv[i + 1], "file") == 0;
        } else if (strcmp(argv[i], "--runs") == 0) {
            runs = (unsigned)strtoul(argv[i + 1], NULL, 10);
        } else {
            usage();
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (n == 0 || m == 0 || rate <= 0 || nkeys == 0 || nkeys > 64 || runs == 0) {
        fprintf(stderr, "bench_pipeline: records, latency-records, rate and runs must be > 0, "
                        "keys 1..64 (what bench_rcf compares with)\n");
        return 2;
    }
    if (partitions == 0 && nkeys == 1) {
        /* One key is one model only in one partition (rcfd's models are per partition and key);
         * the producer's lz4 keeps the log under the mock broker's 5 MiB. */
        partitions = 1;
        if (compression == NULL) {
            compression = "lz4";
        }
    } else if (partitions == 0) {
        /* About 3.5 MB of log per 50,000 records: under the mock broker's 5 MiB per partition. */
        partitions = (unsigned)((n + 49999) / 50000 > 4 ? (n + 49999) / 50000 : 4);
    }
    if (compression == NULL) {
        compression = "none";
    }
    models = file_mode ? nkeys : lcm(nkeys, partitions);
    if (models > 64) {
        fprintf(stderr, "bench_pipeline: %u keys over %u partitions make %u models in rcfd; "
                        "bench_rcf compares at most 64\n", nkeys, partitions, models);
        return 2;
    }
    if (before != NULL) {
        contenders[n_contenders++] = (contender_t){before, "before: ", -1};
    }
    if (workers_list == NULL) {
        contenders[n_contenders++] = (contender_t){rcfd, "", -1};
    }
    for (const char *p = workers_list; p != NULL && *p != '\0';) {
        char *end;
        long w = strtol(p, &end, 10);
        if (end == p || w < 1 || w > 256 || n_contenders == MAX_CONTENDERS ||
            (*end != ',' && *end != '\0')) {
            fprintf(stderr, "bench_pipeline: --workers takes up to %d counts 1..256, "
                            "comma-separated\n", MAX_CONTENDERS - 1);
            return 2;
        }
        contender_t *c = &contenders[n_contenders++];
        *c = (contender_t){rcfd, "", (int)w};
        snprintf(c->label, sizeof c->label, "workers %ld: ", w);
        p = *end == ',' ? end + 1 : end;
    }
    atexit(kill_child);
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        signal(sigs[i], on_signal);
    }

    char dir[] = "/tmp/rcfd-bench-pl.XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    if (file_mode) {
        return run_file_mode(bench_rcf, dir, n, trees, sample);
    }
    if (fetch_wait >= 0) {
        size_t used = strlen(extra);
        snprintf(extra + used, sizeof extra - used, ", \"fetch.wait.max.ms\": %d", fetch_wait);
    }
    /* Best of `runs` per daemon, the daemons taking turns (each run on a fresh mock cluster). */
    kres_t res[MAX_CONTENDERS];
    memset(res, 0, sizeof res);
    char val_path[256];
    snprintf(val_path, sizeof val_path, "%s/values.txt", dir);
    forest_cmp_t fc_catch = {{-1, -1}, {-1, -1}}, fc_live = fc_catch;
    for (unsigned run = 0; run < runs; run++) {
        for (size_t j = 0; j < n_contenders; j++) {
            /* Who goes first rotates: the second run of a round was often the slower. */
            size_t w = (j + run) % n_contenders;
            kres_t r;
            if (kafka_run(&contenders[w], dir, n, m, rate, trees, sample, fetch_wait, extra,
                          compression, &r) != 0) {
                return 1;
            }
            best(&res[w].catchup, r.catchup);
            best(&res[w].live, r.live);
            if (r.catchup_roles.per_worker_cpu > res[w].catchup_roles.per_worker_cpu) {
                res[w].catchup_roles = r.catchup_roles;
            }
            if (r.live_roles.per_worker_cpu > res[w].live_roles.per_worker_cpu) {
                res[w].live_roles = r.live_roles;
            }
        }
        /* The forest over the same records, in turn with rcfd: the catch-up's (each model's
         * first N / models) and the live phase's (the next N / models). */
        if ((run == 0 && write_values(val_path) != 0)) {
            return 1;
        }
        forest_round(bench_rcf, val_path, trees, sample, 0, n, &fc_catch);
        forest_round(bench_rcf, val_path, trees, sample, n, n, &fc_live);
    }
    for (size_t w = 0; w < n_contenders; w++) {
        printf("%sbest of %u: catch-up %.0f records per rcfd CPU s, %.0f wall; live %.0f per CPU "
               "s, %.0f wall\n",
               contenders[w].label, runs, res[w].catchup.cpu, res[w].catchup.wall,
               res[w].live.cpu, res[w].live.wall);
    }
    forest_print(&fc_catch, 0, n);
    forest_print(&fc_live, n, n);
    rate2_t catchup[MAX_CONTENDERS], live[MAX_CONTENDERS];
    for (size_t w = 0; w < n_contenders; w++) {
        print_ratio(contenders[w].label, "catch-up", res[w].catchup, &fc_catch);
        print_ratio(contenders[w].label, "live end-to-end", res[w].live, &fc_live);
        catchup[w] = res[w].catchup;
        live[w] = res[w].live;
    }
    print_workers("catch-up", catchup, &fc_catch);
    print_workers("live end-to-end", live, &fc_live);
    /* The worker threads' own CPU against the forest's: what a worker spends per record besides
     * the forest (queue handoff, encoding, waking), whatever the cores it did not get. */
    for (size_t w = 0; w < n_contenders; w++) {
        const roles_t *rc = &res[w].catchup_roles, *rl = &res[w].live_roles;
        if (rc->per_worker_cpu > 0 && rl->per_worker_cpu > 0) {
            printf("%sper worker-thread CPU s (best of %u): catch-up %.0f records, %.0f%% of the "
                   "same work per CPU s; live %.0f, %.0f%%\n",
                   contenders[w].label, runs, rc->per_worker_cpu,
                   100 * rc->per_worker_cpu / fc_catch.same.cpu, rl->per_worker_cpu,
                   100 * rl->per_worker_cpu / fc_live.same.cpu);
        }
    }
    unlink(val_path);
    rmdir(dir);
    return fc_catch.same.cpu > 0 && fc_catch.one.cpu > 0 && fc_live.same.cpu > 0 &&
                   fc_live.one.cpu > 0
               ? 0
               : 1;
}
