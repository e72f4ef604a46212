/* The embedded default job: a seeded three-sensor stream (temperature, pressure, vibration) with a
 * daily cycle, noise and a few injected faults, scored record by record by a forest with KDA's
 * defaults and explanation on. Prints the top anomalies in KDA's ANOMALY_EXPLANATION shape. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/demo.h"
#include "common/rng.h"
#include "rcfd/rcf.h"
#include "rcfd/status.h"

#define COLUMNS 3
#define MAX_TOP 50

static const char *const column_names[COLUMNS] = {"temperature", "pressure", "vibration"};

typedef struct fault {
    uint64_t at;
    int column;
    double delta;
    const char *what;
} fault_t;

typedef struct scored {
    uint64_t record;
    double score;
    double values[COLUMNS];
    rcf_column_explanation_t explanation[COLUMNS];
} scored_t;

static double gaussian(uint64_t *rng)
{
    double u = rcfd_rng_uniform_open(rng);
    double v = rcfd_rng_uniform(rng);
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

static void sensor_record(uint64_t i, uint64_t *rng, double out[COLUMNS])
{
    double day = 2.0 * M_PI * (double)i / 288.0; /* five-minute readings */
    out[0] = 21.0 + 4.0 * sin(day) + 0.3 * gaussian(rng);
    out[1] = 101.3 + 0.8 * sin(day + 1.0) + 0.05 * gaussian(rng);
    out[2] = 0.5 + 0.1 * fabs(sin(3.0 * day)) + 0.02 * gaussian(rng);
}

static void keep_top(scored_t *top, int *n, int k, const scored_t *s)
{
    if (*n < k) {
        top[(*n)++] = *s;
    } else if (s->score > top[k - 1].score) {
        top[k - 1] = *s;
    } else {
        return;
    }
    for (int i = *n - 1; i > 0 && top[i].score > top[i - 1].score; i--) {
        scored_t t = top[i];
        top[i] = top[i - 1];
        top[i - 1] = t;
    }
}

static void print_explanation(const rcf_column_explanation_t *e)
{
    printf("{");
    for (int c = 0; c < COLUMNS; c++) {
        printf(
            "%s\"%s\":{\"DIRECTION\":\"%s\",\"STRENGTH\":\"%.4f\",\"ATTRIBUTION_SCORE\":\"%.4f\"}",
            c ? "," : "", column_names[c], e[c].direction == RCF_DIRECTION_HIGH ? "HIGH" : "LOW",
            e[c].strength, e[c].attribution);
    }
    printf("}");
}

int rcfd_demo_offline_main(int argc, char **argv)
{
    uint64_t records = 20000;
    uint64_t seed = 42;
    int top_k = 8;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--records") == 0 && i + 1 < argc) {
            records = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--top") == 0 && i + 1 < argc) {
            top_k = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: rcfd demo --offline [--records N] [--seed S] [--top K]\n"
                   "  the forest library alone on a generated sensor stream (no Kafka, no loop);\n"
                   "  --records N (default 20000, at least 1000), --top K (default 8, 1..%d)\n",
                   MAX_TOP);
            return 0;
        } else {
            fprintf(stderr,
                    "rcfd demo: unknown option '%s'\n"
                    "usage: rcfd demo --offline [--records N] [--seed S] [--top K]\n",
                    argv[i]);
            return 64;
        }
    }
    if (top_k < 1 || top_k > MAX_TOP || records < 1000) {
        fprintf(stderr, "rcfd demo: --top must be 1..%d and --records at least 1000\n", MAX_TOP);
        return 64;
    }

    const fault_t faults[] = {
        {records * 3 / 10, 0, 9.0, "temperature spike"},
        {records * 5 / 10, 1, -4.0, "pressure drop"},
        {records * 7 / 10, 2, 1.5, "vibration burst"},
        {records * 9 / 10, 0, -8.0, "temperature dip"},
    };
    const size_t n_faults = sizeof faults / sizeof faults[0];

    rcf_params_t params = rcf_params_default(COLUMNS);
    params.explain = 1;
    params.seed = seed;
    rcf_forest_t *forest;
    char err[256];
    if (rcf_forest_new(&params, &forest, err, sizeof err) != 0) {
        fprintf(stderr, "rcfd demo: %s\n", err);
        return 70;
    }

    printf("rcfd %s demo: %llu generated sensor records (%s, %s, %s), %u trees, sample %u, "
           "timeDecay %llu, seed %llu\n",
           rcfd_version(), (unsigned long long)records, column_names[0], column_names[1],
           column_names[2], params.number_of_trees, params.sub_sample_size,
           (unsigned long long)params.time_decay, (unsigned long long)seed);

    scored_t top[MAX_TOP];
    int n_top = 0;
    uint64_t rng = seed;
    for (uint64_t i = 1; i <= records; i++) {
        scored_t s = {.record = i};
        sensor_record(i, &rng, s.values);
        for (size_t f = 0; f < n_faults; f++) {
            if (faults[f].at == i) {
                s.values[faults[f].column] += faults[f].delta;
            }
        }
        rcf_result_t r;
        int rc = rcf_forest_process(forest, s.values, COLUMNS, &r);
        if (rc != 0) {
            fprintf(stderr, "rcfd demo: record %llu: %s\n", (unsigned long long)i,
                    rcfd_strerror(rc));
            rcf_forest_destroy(forest);
            return 70;
        }
        s.score = r.score;
        memcpy(s.explanation, r.explanation, sizeof s.explanation);
        keep_top(top, &n_top, top_k, &s);
    }

    printf("\ninjected faults at records:");
    for (size_t f = 0; f < n_faults; f++) {
        printf(" %llu (%s)", (unsigned long long)faults[f].at, faults[f].what);
    }
    printf("\n\ntop %d anomalies (ANOMALY_SCORE, ANOMALY_EXPLANATION):\n", n_top);
    int found = 0;
    for (int i = 0; i < n_top; i++) {
        const char *label = "";
        for (size_t f = 0; f < n_faults; f++) {
            if (faults[f].at == top[i].record) {
                label = faults[f].what;
                found++;
            }
        }
        printf("  record %6llu  score %.4f  %-18s ", (unsigned long long)top[i].record,
               top[i].score, label);
        print_explanation(top[i].explanation);
        printf("\n");
    }
    rcf_stats_t st;
    rcf_forest_stats(forest, &st);
    printf("\n%d of %zu injected faults are in the top %d; model holds %u points in %.1f MB\n",
           found, n_faults, n_top, st.points_live,
           (double)(st.bytes_fixed + st.bytes_points) / 1e6);
    rcf_forest_destroy(forest);
    return 0;
}
