/* `rcfd demo`: the embedded default job. A mock Kafka cluster (librdkafka's, in this process, real
 * protocol on loopback) receives a generated sample: four machines' sensor readings (temperature,
 * pressure, vibration; a daily cycle, noise and a few injected faults) and a clickstream of web
 * sessions (duration, pages viewed) in which a burst of bot sessions forms a dense cluster. The
 * daemon's own runtime then consumes both topics with two pipelines, RCF with explanation per
 * machine and HOTSPOTS over the sessions, writes every scored record to a JSONL file and this
 * prints the top anomalies with KDA's ANOMALY_EXPLANATION and the hotspots found. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "cli/demo.h"
#include "common/log.h"
#include "common/rng.h"
#include "config/schema.h"
#include "models/rcf.h"
#include "rcfd/version.h"
#include "stream/runtime.h"

#define MACHINES 4
#define MAX_TOP 20

typedef struct fault {
    int machine;
    int at;
    int column;
    double delta;
    const char *what;
} fault_t;

static const fault_t faults[] = {
    {0, 6, 0, 9.0, "temperature spike"},
    {1, 7, 1, -4.0, "pressure drop"},
    {2, 8, 2, 1.5, "vibration burst"},
    {3, 9, 0, -8.0, "temperature dip"},
};
#define N_FAULTS (sizeof faults / sizeof faults[0])

typedef struct top {
    int alert;      /* the rank (ranks_above): the alert decision's "anomaly", */
    double grade;   /* then its anomaly_grade, */
    double score;   /* then the score */
    double novelty;
    char key[32];
    double values[3];
    char explanation[512];
} top_t;

typedef struct demo {
    rcfd_runtime_t *rt;
    uint64_t expected, seen, scored_sensors, scored_clicks, dead;
    top_t top[MAX_TOP];
    int n_top, k;
    char hotspots[4096];
    double best_density;
    uint64_t with_hotspots;
} demo_t;

static double gaussian(uint64_t *rng)
{
    double u = rcfd_rng_uniform_open(rng);
    double v = rcfd_rng_uniform(rng);
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

void rcfd_demo_reading(int machine, int i, int per_machine, uint64_t *rng, double v[3],
                       const char **fault)
{
    double day = 2.0 * M_PI * (double)i / 288.0 + machine; /* five-minute readings */
    v[0] = 21.0 + 4.0 * sin(day) + 0.3 * gaussian(rng);
    v[1] = 101.3 + 0.8 * sin(day + 1.0) + 0.05 * gaussian(rng);
    v[2] = 0.5 + 0.1 * fabs(sin(3.0 * day)) + 0.02 * gaussian(rng);
    *fault = NULL;
    for (size_t f = 0; per_machine > 0 && f < N_FAULTS; f++) {
        if (faults[f].machine == machine % MACHINES && per_machine * faults[f].at / 10 == i) {
            v[faults[f].column] += faults[f].delta;
            *fault = faults[f].what;
        }
    }
}

/* Ranks by the alert decision: records that raised an alert ("anomaly": true, what an output
 * with "alert": true forwards) first, then by anomaly_grade, then by score. */
static int ranks_above(const top_t *a, const top_t *b)
{
    if (a->alert != b->alert) {
        return a->alert > b->alert;
    }
    if (a->grade != b->grade) {
        return a->grade > b->grade;
    }
    return a->score > b->score;
}

static void on_scored(void *ud, const rcfd_pipeline_conf_t *p, const char *key, size_t key_len,
                      const double *values, const rcfd_model_type_t *const *types,
                      const void *const *results, size_t n_models)
{
    (void)key_len;
    demo_t *d = ud;
    d->seen++;
    if (strcmp(p->name, "sensor-rcf") == 0) {
        d->scored_sensors++;
        const rcfd_rcf_result_t *r = results[0];
        top_t t = {.novelty = r->novelty, .score = r->r.score, .grade = r->alert.grade,
                   .alert = r->alert.anomaly};
        if (d->n_top < d->k || ranks_above(&t, &d->top[d->n_top - 1])) {
            snprintf(t.key, sizeof t.key, "%s", key);
            memcpy(t.values, values, sizeof t.values);
            /* The KDA column, exactly as the kda output style writes it. */
            rcfd_buf_t b = {0};
            if (types[0]->encode(results[0], &p->fields, RCFD_STYLE_KDA, &b) == 0) {
                char *obj = NULL;
                if (asprintf(&obj, "{%s}", b.p + 1) > 0) {
                    cJSON *j = cJSON_Parse(obj);
                    const char *e =
                        cJSON_GetStringValue(cJSON_GetObjectItem(j, "ANOMALY_EXPLANATION"));
                    snprintf(t.explanation, sizeof t.explanation, "%s", e ? e : "");
                    cJSON_Delete(j);
                    free(obj);
                }
            }
            rcfd_buf_free(&b);
            int i = d->n_top < d->k ? d->n_top++ : d->k - 1;
            d->top[i] = t;
            for (; i > 0 && ranks_above(&d->top[i], &d->top[i - 1]); i--) {
                top_t x = d->top[i];
                d->top[i] = d->top[i - 1];
                d->top[i - 1] = x;
            }
        }
    } else {
        d->scored_clicks++;
        for (size_t m = 0; m < n_models; m++) {
            rcfd_buf_t b = {0};
            if (types[m]->encode(results[m], &p->fields, RCFD_STYLE_KDA, &b) == 0) {
                char *obj = NULL;
                if (asprintf(&obj, "{%s}", b.p + 1) > 0) {
                    cJSON *j = cJSON_Parse(obj);
                    const char *h = cJSON_GetStringValue(cJSON_GetObjectItem(j, "HOTSPOTS_RESULT"));
                    /* Keep the densest hotspot list seen during the run. */
                    cJSON *hj = h ? cJSON_Parse(h) : NULL;
                    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(hj, "hotspots"), 0);
                    double density = cJSON_GetNumberValue(cJSON_GetObjectItem(first, "density"));
                    if (first != NULL) {
                        d->with_hotspots++;
                        if (density > d->best_density) {
                            d->best_density = density;
                            snprintf(d->hotspots, sizeof d->hotspots, "%s", h);
                        }
                    }
                    cJSON_Delete(hj);
                    cJSON_Delete(j);
                    free(obj);
                }
            }
            rcfd_buf_free(&b);
        }
    }
    if (d->seen == d->expected) {
        rcfd_runtime_stop(d->rt, RCFD_EXIT_OK);
    }
}

static void on_dead(void *ud, const rcfd_pipeline_conf_t *p, const char *reason)
{
    (void)p;
    (void)reason;
    demo_t *d = ud;
    d->dead++;
    if (++d->seen == d->expected) {
        rcfd_runtime_stop(d->rt, RCFD_EXIT_OK);
    }
}

static int produce(rd_kafka_t *rk, const char *topic, const char *key, const char *value)
{
    rd_kafka_resp_err_t err =
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                          RD_KAFKA_V_VALUE((void *)(uintptr_t)value, strlen(value)),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk, 100); /* setup phase, before any loop exists: waiting is fine */
        return produce(rk, topic, key, value);
    }
    return err == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

static void demo_usage(FILE *out)
{
    fprintf(out,
            "usage: rcfd demo [options]             mock Kafka cluster -> the daemon's pipelines "
            "-> a file\n"
            "  --records N    readings per machine (default 3000, at least 1000)\n"
            "  --sessions N   clickstream sessions (default 6000, at least 1000)\n"
            "  --seed S       generator and forest seed (default 42)\n"
            "  --top K        anomalies to print, ranked by the alert decision (default 8, 1..%d)\n"
            "  --out FILE     scored records (default: scored.jsonl in a new directory under "
            "$TMPDIR or /tmp)\n"
            "       rcfd demo --csv FILE [--records N] [--seed S]\n"
            "                 write the generated sensor readings as a labelled CSV (timestamp,\n"
            "                 machine, temperature, pressure, vibration, is_anomaly) and exit:\n"
            "                 sample data for rcfd backtest and rcfd train\n"
            "       rcfd demo --nab DIR [--records N] [--seed S]\n"
            "                 write it as a small corpus in NAB's layout (DIR/data/sensors/*.csv,\n"
            "                 DIR/labels/combined_windows.json) for rcfd backtest --corpus\n"
            "       rcfd demo --offline [--records N] [--seed S] [--top K]\n"
            "                 the forest library alone on a generated stream, no Kafka\n",
            MAX_TOP);
}

/* The sensor sample as CSV, the injected faults labelled 1: what `rcfd backtest --label` and
 * `rcfd train` read in the README's examples. */
static int write_csv(const char *path, int per_machine, uint64_t seed)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "rcfd demo: %s: %s\n", path, strerror(errno));
        return RCFD_EXIT_CANTCREAT;
    }
    fprintf(f, "timestamp,machine,temperature,pressure,vibration,is_anomaly\n");
    uint64_t rng = seed;
    const time_t t0 = 1767225600; /* 2026-01-01T00:00:00Z */
    for (int i = 0; i < per_machine; i++) {
        time_t t = t0 + (time_t)i * 300;
        struct tm tm;
        char ts[32];
        gmtime_r(&t, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        for (int m = 0; m < MACHINES; m++) {
            double v[3];
            const char *fault;
            rcfd_demo_reading(m, i, per_machine, &rng, v, &fault);
            fprintf(f, "%s,machine-%d,%.3f,%.3f,%.4f,%d\n", ts, m + 1, v[0], v[1], v[2],
                    fault != NULL);
        }
    }
    int bad = ferror(f) != 0;
    if (f != stdout) {
        bad |= fclose(f) != 0;
    } else {
        bad |= fflush(f) != 0;
    }
    if (bad) {
        fprintf(stderr, "rcfd demo: %s: write error\n", path);
        return RCFD_EXIT_CANTCREAT;
    }
    if (f != stdout) {
        fprintf(stderr,
                "rcfd demo: %d readings x %d machines (%zu injected faults labelled "
                "is_anomaly=1) written to %s\n",
                per_machine, MACHINES, N_FAULTS, path);
    }
    return RCFD_EXIT_OK;
}

int rcfd_cli_mkdirs(const char *dir, int mode)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *c = p + 1; *c; c++) {
        if (*c == '/') {
            *c = '\0';
            if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
                return -1;
            }
            *c = '/';
        }
    }
    return mkdir(p, (mode_t)mode) != 0 && errno != EEXIST ? -1 : 0;
}

/* The sample as a small corpus in NAB's layout (DIR/data/<name>, DIR/labels/combined_windows.json):
 * per machine one file of the column its fault is in, labelled with a window around the fault
 * (30 readings either side, as NAB's windows surround their anomaly), for rcfd backtest
 * --corpus and --windows. */
static int write_nab(const char *dir, int per_machine, uint64_t seed)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/labels", dir);
    if (rcfd_cli_mkdirs(path, 0777) != 0 ||
        (snprintf(path, sizeof path, "%s/data/sensors", dir), rcfd_cli_mkdirs(path, 0777)) != 0) {
        fprintf(stderr, "rcfd demo: %s: %s\n", path, strerror(errno));
        return RCFD_EXIT_CANTCREAT;
    }
    FILE *out[MACHINES] = {0};
    int column[MACHINES] = {0, 1, 2, 0};
    for (size_t f = 0; f < N_FAULTS; f++) {
        column[faults[f].machine] = faults[f].column;
    }
    int bad = 0;
    for (int m = 0; m < MACHINES; m++) {
        snprintf(path, sizeof path, "%s/data/sensors/machine-%d.csv", dir, m + 1);
        out[m] = fopen(path, "w");
        bad |= out[m] == NULL || fprintf(out[m], "timestamp,value\n") < 0;
    }
    uint64_t rng = seed;
    const time_t t0 = 1767225600; /* 2026-01-01T00:00:00Z */
    for (int i = 0; !bad && i < per_machine; i++) {
        time_t t = t0 + (time_t)i * 300;
        struct tm tm;
        char ts[32];
        gmtime_r(&t, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
        for (int m = 0; m < MACHINES; m++) {
            double v[3];
            const char *fault;
            rcfd_demo_reading(m, i, per_machine, &rng, v, &fault);
            bad |= fprintf(out[m], "%s,%.4f\n", ts, v[column[m]]) < 0;
        }
    }
    for (int m = 0; m < MACHINES; m++) {
        bad |= out[m] == NULL || fclose(out[m]) != 0;
    }
    snprintf(path, sizeof path, "%s/labels/combined_windows.json", dir);
    FILE *w = bad ? NULL : fopen(path, "w");
    bad |= w == NULL;
    for (int m = 0; !bad && m < MACHINES; m++) {
        fprintf(w, "%s\"sensors/machine-%d.csv\": [", m ? ",\n " : "{", m + 1);
        for (size_t f = 0, k = 0; f < N_FAULTS; f++) {
            if (faults[f].machine != m) {
                continue;
            }
            int at = per_machine * faults[f].at / 10;
            char a[32], b[32];
            struct tm tm;
            time_t ta = t0 + (time_t)(at - 30) * 300, tb = t0 + (time_t)(at + 30) * 300;
            gmtime_r(&ta, &tm);
            strftime(a, sizeof a, "%Y-%m-%d %H:%M:%S", &tm);
            gmtime_r(&tb, &tm);
            strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &tm);
            fprintf(w, "%s[\"%s.000000\", \"%s.000000\"]", k++ ? ", " : "", a, b);
        }
        fprintf(w, "]");
    }
    if (w != NULL) {
        fprintf(w, "}\n");
        bad |= fclose(w) != 0;
    }
    if (bad) {
        fprintf(stderr, "rcfd demo: cannot write the corpus under %s: %s\n", dir, strerror(errno));
        return RCFD_EXIT_CANTCREAT;
    }
    fprintf(stderr,
            "rcfd demo: a NAB-style corpus of %d files (%d readings each, one labelled "
            "window per fault) in %s\n",
            MACHINES, per_machine, dir);
    return RCFD_EXIT_OK;
}

int rcfd_demo_main(int argc, char **argv)
{
    int per_machine = 3000, sessions = 6000, top_k = 8;
    uint64_t seed = 42;
    const char *out = NULL, *csv = NULL, *nab = NULL;
    if (argc > 0 && strcmp(argv[0], "--offline") == 0) {
        return rcfd_demo_offline_main(argc - 1, argv + 1);
    }
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--records") == 0 && i + 1 < argc) {
            per_machine = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--sessions") == 0 && i + 1 < argc) {
            sessions = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--top") == 0 && i + 1 < argc) {
            top_k = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc) {
            csv = argv[++i];
        } else if (strcmp(argv[i], "--nab") == 0 && i + 1 < argc) {
            nab = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            demo_usage(stdout);
            return RCFD_EXIT_OK;
        } else {
            fprintf(stderr, "rcfd demo: unknown or incomplete option '%s'\n", argv[i]);
            demo_usage(stderr);
            return RCFD_EXIT_USAGE;
        }
    }
    if (per_machine < 1000 || sessions < 1000 || top_k < 1 || top_k > MAX_TOP) {
        fprintf(stderr, "rcfd demo: --records and --sessions at least 1000, --top 1..%d\n",
                MAX_TOP);
        return RCFD_EXIT_USAGE;
    }
    if (out != NULL && strlen(out) > 4000) {
        fprintf(stderr, "rcfd demo: --out: the path is too long\n");
        return RCFD_EXIT_USAGE;
    }
    if (csv != NULL) {
        return write_csv(csv, per_machine, seed);
    }
    if (nab != NULL) {
        return write_nab(nab, per_machine, seed);
    }
    /* Nothing lands in the working directory (often a source tree) unless asked for. */
    char outbuf[4096];
    if (out == NULL) {
        const char *tmp = getenv("TMPDIR");
        snprintf(outbuf, sizeof outbuf, "%s/rcfd-demo.XXXXXX",
                 tmp != NULL && tmp[0] ? tmp : "/tmp");
        if (mkdtemp(outbuf) == NULL) {
            fprintf(stderr, "rcfd demo: cannot create a directory %s: %s (use --out FILE)\n",
                    outbuf, strerror(errno));
            return RCFD_EXIT_CANTCREAT;
        }
        strncat(outbuf, "/scored.jsonl", sizeof outbuf - strlen(outbuf) - 1);
        out = outbuf;
    }
    rcfd_log_set_level(RCFD_LOG_WARN);

    /* 1. The mock cluster lives inside this producer. */
    char err[1024];
    rd_kafka_conf_t *pconf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(pconf, "test.mock.num.brokers", "3", err, sizeof err) ||
        rd_kafka_conf_set(pconf, "log_level", "3", err, sizeof err)) {
        fprintf(stderr, "rcfd demo: %s\n", err);
        rd_kafka_conf_destroy(pconf);
        return RCFD_EXIT_SOFTWARE;
    }
    rd_kafka_t *prod = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof err);
    if (prod == NULL) {
        fprintf(stderr, "rcfd demo: %s\n", err);
        rd_kafka_conf_destroy(pconf);
        return RCFD_EXIT_SOFTWARE;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(prod);
    rd_kafka_mock_topic_create(mc, "sensors", 4, 1);
    rd_kafka_mock_topic_create(mc, "clicks", 4, 1);
    char bootstrap[512];
    snprintf(bootstrap, sizeof bootstrap, "%s", rd_kafka_mock_cluster_bootstraps(mc));

    /* 2. Generated sample. */
    uint64_t rng = seed;
    char msg[512];
    uint64_t produced = 0;
    int fault_at[N_FAULTS];
    for (size_t f = 0; f < N_FAULTS; f++) {
        fault_at[f] = per_machine * faults[f].at / 10;
    }
    for (int i = 0; i < per_machine; i++) {
        for (int m = 0; m < MACHINES; m++) {
            double v[3];
            const char *fault;
            rcfd_demo_reading(m, i, per_machine, &rng, v, &fault);
            char key[24];
            snprintf(key, sizeof key, "machine-%d", m + 1);
            snprintf(msg, sizeof msg,
                     "{\"machine\":\"%s\",\"reading\":%d,\"temperature\":%.3f,\"pressure\":%.3f,"
                     "\"vibration\":%.4f}",
                     key, i, v[0], v[1], v[2]);
            produced += produce(prod, "sensors", key, msg) == 0;
        }
        if (i == per_machine / 2) { /* two malformed messages show the dead-letter path */
            produced += produce(prod, "sensors", "machine-1", "{\"machine\":\"machine-1\",") == 0;
            produced += produce(prod, "sensors", "machine-2",
                                "{\"machine\":\"machine-2\",\"temperature\":\"n/a\","
                                "\"pressure\":1,\"vibration\":1}") == 0;
        }
    }
    int bot_start = sessions * 6 / 10, bot_end = bot_start + sessions / 20;
    for (int i = 0; i < sessions; i++) {
        double secs, pages;
        if (i >= bot_start && i < bot_end && i % 2 == 0) {
            secs = 3.0 + 0.5 * gaussian(&rng); /* bots: seconds-long sessions, ~40 pages */
            pages = 40.0 + 1.5 * gaussian(&rng);
        } else {
            secs = 60.0 + 500.0 * rcfd_rng_uniform(&rng);
            pages = 1.0 + 12.0 * rcfd_rng_uniform(&rng);
        }
        char key[24];
        snprintf(key, sizeof key, "user-%d", (int)(rcfd_rng_next(&rng) % 500));
        snprintf(msg, sizeof msg,
                 "{\"user\":\"%s\",\"session\":%d,\"session_seconds\":%.2f,\"pages_viewed\":%.1f}",
                 key, i, secs, pages);
        produced += produce(prod, "clicks", key, msg) == 0;
    }
    rd_kafka_flush(prod, 30000); /* setup phase: the loop does not exist yet */

    /* 3. The daemon's runtime with two pipelines. */
    char json[16384]; /* the config below with two paths of up to 4 kB */
    snprintf(json, sizeof json,
             "{\"log\":{\"level\":\"warn\"},\"runtime\":{\"stats_interval_ms\":0},"
             "\"sources\":["
             "{\"name\":\"sensors\",\"type\":\"kafka\",\"topics\":[\"sensors\"],\"rdkafka\":{"
             "\"bootstrap.servers\":\"%s\",\"group.id\":\"rcfd-demo\",\"auto.offset.reset\":"
             "\"earliest\"}},"
             "{\"name\":\"clicks\",\"type\":\"kafka\",\"topics\":[\"clicks\"],\"rdkafka\":{"
             "\"bootstrap.servers\":\"%s\",\"group.id\":\"rcfd-demo-clicks\","
             "\"auto.offset.reset\":\"earliest\"}}],"
             "\"outputs\":[{\"name\":\"scored\",\"type\":\"file\",\"path\":\"%s\"},"
             "{\"name\":\"dead\",\"type\":\"file\",\"path\":\"%s.dead\"}],"
             "\"pipelines\":["
             "{\"name\":\"sensor-rcf\",\"source\":\"sensors\",\"key\":\"machine\","
             "\"fields\":[\"temperature\",\"pressure\",\"vibration\"],\"outputs\":[\"scored\"],"
             "\"dead_letter\":\"dead\",\"models\":[{\"type\":\"rcf\",\"explain\":true,"
             "\"shingle_size\":1,\"seed\":%llu}]}"
#ifdef RCFD_HAVE_HOTSPOTS
             ",{\"name\":\"clicks-hotspots\",\"source\":\"clicks\","
             "\"fields\":[\"session_seconds\",\"pages_viewed\"],\"outputs\":[\"scored\"],"
             "\"dead_letter\":\"dead\",\"models\":[{\"type\":\"hotspots\",\"window_size\":1000,"
             "\"scan_radius\":3.0,\"min_points\":20}]}"
#else
             ",{\"name\":\"clicks-rcf\",\"source\":\"clicks\","
             "\"fields\":[\"session_seconds\",\"pages_viewed\"],\"outputs\":[\"scored\"],"
             "\"dead_letter\":\"dead\",\"models\":[{\"type\":\"rcf\"}]}"
#endif
             "]}",
             bootstrap, bootstrap, out, out, (unsigned long long)seed);
    remove(out);
    char dead_path[4200];
    snprintf(dead_path, sizeof dead_path, "%s.dead", out);
    remove(dead_path);
    rcfd_config_t *cfg;
    if (rcfd_config_parse(json, strlen(json), &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "rcfd demo: internal config: %s\n", err);
        rd_kafka_destroy(prod);
        return RCFD_EXIT_SOFTWARE;
    }
    demo_t d = {.expected = produced, .k = top_k};
    rcfd_runtime_hooks_t hooks = {.ud = &d, .on_scored = on_scored, .on_dead = on_dead};
    int code;
    printf("rcfd %s demo: mock Kafka cluster (3 brokers) at %s\n"
           "  produced %llu messages: %d readings x %d machines to \"sensors\" (+2 malformed), "
           "%d sessions to \"clicks\"\n",
           rcfd_version(), bootstrap, (unsigned long long)produced, per_machine, MACHINES,
           sessions);
    fflush(stdout);
    if (rcfd_runtime_new(cfg, NULL, &hooks, &d.rt, &code, err, sizeof err) != 0) {
        fprintf(stderr, "rcfd demo: %s\n", err);
        rcfd_config_free(cfg);
        rd_kafka_destroy(prod);
        return code;
    }
    code = rcfd_runtime_run(d.rt);
    rcfd_runtime_destroy(d.rt);
    rd_kafka_destroy(prod);

    printf("  consumed and scored: %llu sensor readings, %llu sessions; %llu dead-lettered "
           "(%s)\n  scored records: %s\n\n",
           (unsigned long long)d.scored_sensors, (unsigned long long)d.scored_clicks,
           (unsigned long long)d.dead, dead_path, out);
    printf("top %d sensor anomalies by the alert decision (\"anomaly\", then anomaly_grade, then "
           "score; docs/daemon.md)\n"
           "(RANDOM_CUT_FOREST_WITH_EXPLANATION, 100 trees, sample 256):\n",
           d.n_top);
    int found = 0;
    for (int i = 0; i < d.n_top; i++) {
        printf("  %-10s %s grade %.3f  score %.4f  temperature %.2f pressure %.2f vibration "
               "%.3f\n"
               "             ANOMALY_EXPLANATION %s\n",
               d.top[i].key, d.top[i].alert ? "ALERT" : "     ", d.top[i].grade, d.top[i].score,
               d.top[i].values[0],
               d.top[i].values[1], d.top[i].values[2], d.top[i].explanation);
    }
    /* A fault counts as found when its machine has a top entry whose faulted column is off its
     * baseline by more than half the injected change. */
    for (size_t f = 0; f < N_FAULTS; f++) {
        printf("%s  injected: machine-%d reading %d, %s", f == 0 ? "\n" : "", faults[f].machine + 1,
               fault_at[f], faults[f].what);
        for (int i = 0; i < d.n_top; i++) {
            char key[24];
            snprintf(key, sizeof key, "machine-%d", faults[f].machine + 1);
            if (strcmp(key, d.top[i].key) == 0 &&
                fabs(d.top[i].values[faults[f].column] - (faults[f].column == 0   ? 21.0
                                                          : faults[f].column == 1 ? 101.3
                                                                                  : 0.5)) >
                    fabs(faults[f].delta) / 2) {
                printf(" -> found (rank %d)", i + 1);
                found++;
                break;
            }
        }
        printf("\n");
    }
    printf("  %d of %zu injected faults are in the top %d\n\n", found, N_FAULTS, d.n_top);
#ifdef RCFD_HAVE_HOTSPOTS
    printf("HOTSPOTS over a sliding window of 1000 sessions (session_seconds, pages_viewed):\n"
           "  %llu of %llu sessions saw a hotspot in their window; the densest, as KDA's "
           "HOTSPOTS_RESULT:\n  %s\n",
           (unsigned long long)d.with_hotspots, (unsigned long long)d.scored_clicks,
           d.hotspots[0] ? d.hotspots : "(none)");
#endif
    return code;
}
