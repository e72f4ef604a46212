/* Forest throughput: score-then-update (rcf_forest_process) over generated streams, one thread.
 *
 *   bench_rcf [--case a|b|c|d|e|all] [--records N] [--warmup W] [--trees T] [--sample S]
 *             [--explain] [--keys K] [--input FILE] [--dump FILE] [--bits]
 *
 * Cases (100 trees, sample 256, KDA defaults otherwise): a) 1-D shingle 1, b) 8-D shingle 1,
 * c) 1-D shingle 48, d) 1-D shingle 8, e) 1-D with the rcf model's recent_mean 20 (the forest's
 * point is the value and the weighted mean of the earlier values: 2-D). Each case runs in its own
 * child process so the reported peak RSS is that case's alone. Prints records/s and ns/record of
 * process CPU time, model bytes and peak RSS. --input FILE replaces the generated stream by the
 * records in FILE, one a line, its values separated by commas (as many as the case's dimensions;
 * case e takes none), read into memory before the timing: record i (forest i % K) is line i, so
 * bench_pipeline can run the forest over exactly the records it sent through rcfd, and another
 * implementation can be timed on the same records. --dump FILE writes the case's generated records
 * in that form (all the warm-up and timed records of every key) and times nothing. --bits also
 * prints a hash of the bits of every result (score, threshold, grade and, with --explain, every
 * attribution and explanation figure) over the warm-up and timed records: two builds that print
 * the same hash score the same, bit for bit. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/rng.h"
#include "rcfd/rcf.h"

typedef struct bench_case {
    char name;
    uint32_t dim;
    uint32_t shingle;
    const char *what;
    uint32_t recent_mean; /* 0, or the records of the mean the point gets after the value */
} bench_case_t;

/* clang-format off */
static const bench_case_t cases[] = {
    {'a', 1, 1, "1-D, shingle 1"},
    {'b', 8, 1, "8-D, shingle 1"},
    {'c', 1, 48, "1-D, shingle 48"},
    {'d', 1, 8, "1-D, shingle 8"},
    {'e', 2, 1, "1-D, recent_mean 20", 20},
};
/* clang-format on */

/* CPU time of this process: on a shared machine it excludes the time other processes hold the
 * core, which wall time does not. */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double gaussian(uint64_t *rng)
{
    double u = rcfd_rng_uniform_open(rng);
    double v = rcfd_rng_uniform(rng);
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* Multi-sine with noise and a rare spike, like the reference library's test data. */
static void record(uint64_t i, uint32_t dim, uint64_t *rng, double *out)
{
    for (uint32_t c = 0; c < dim; c++) {
        double phase = 2.0 * M_PI * (double)i / (60.0 + 7.0 * c);
        out[c] = 10.0 * sin(phase + c) + gaussian(rng) + (i % 997 == 0 ? 25.0 : 0.0);
    }
}

/* --bits: FNV-1a over the bytes of every result's figures, in record order. */
static int bits;
static uint64_t bits_hash = 1469598103934665603ULL;

static void hash_bytes(const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        bits_hash = (bits_hash ^ c[i]) * 1099511628211ULL;
    }
}

static void hash_result(const rcf_result_t *r, size_t dim, size_t shingle)
{
    hash_bytes(&r->score, sizeof r->score);
    hash_bytes(&r->threshold, sizeof r->threshold);
    hash_bytes(&r->grade, sizeof r->grade);
    if (!r->ready) {
        return;
    }
    if (r->attribution_high != NULL) {
        hash_bytes(r->attribution_high, dim * shingle * sizeof(double));
        hash_bytes(r->attribution_low, dim * shingle * sizeof(double));
    }
    for (size_t c = 0; r->explanation != NULL && c < dim; c++) {
        hash_bytes(&r->explanation[c].attribution, sizeof(double));
        hash_bytes(&r->explanation[c].strength, sizeof(double));
        int direction = (int)r->explanation[c].direction;
        hash_bytes(&direction, sizeof direction);
    }
}

static double *input;  /* --input: record i's values at [i * input_cols]; NULL: generated */
static size_t input_n; /* records */
static uint32_t input_cols;

static int load_input(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    size_t cap = 0, lineno = 0;
    char line[4096];
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        double v[8];
        uint32_t cols = 0;
        char *p = line, *end;
        while (cols < 8) {
            v[cols] = strtod(p, &end);
            if (end == p) {
                break;
            }
            cols++;
            p = end + strspn(end, " \t");
            if (*p != ',') {
                break;
            }
            p++;
        }
        if (cols == 0 && strspn(line, " \t\r\n") == strlen(line)) {
            continue; /* blank line */
        }
        if (cols == 0 || (input_cols != 0 && cols != input_cols) ||
            strspn(p, " \t\r\n") != strlen(p)) {
            if (input_cols != 0) {
                fprintf(stderr, "bench_rcf: %s line %zu: not %u comma-separated numbers\n", path,
                        lineno, input_cols);
            } else {
                fprintf(stderr, "bench_rcf: %s line %zu: not 1 to 8 comma-separated numbers\n",
                        path, lineno);
            }
            fclose(f);
            return -1;
        }
        input_cols = cols;
        if (input_n == cap) {
            cap = cap ? 2 * cap : 65536;
            double *n = realloc(input, cap * cols * sizeof *n);
            if (n == NULL) {
                fclose(f);
                return -1;
            }
            input = n;
        }
        memcpy(input + input_n * cols, v, cols * sizeof *v);
        input_n++;
    }
    fclose(f);
    return 0;
}

/* --dump: the records the case would generate, one a line. */
static int dump_case(const bench_case_t *bc, uint64_t n, const char *path)
{
    if (bc->recent_mean != 0) {
        fprintf(stderr, "bench_rcf: --dump: case %c derives its point from the stream\n", bc->name);
        return 1;
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    uint64_t rng = 1;
    double v[8];
    for (uint64_t i = 0; i < n; i++) {
        record(i, bc->dim, &rng, v);
        for (uint32_t c = 0; c < bc->dim; c++) {
            fprintf(f, c ? ",%.17g" : "%.17g", v[c]);
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

/* The record for bc: with recent_mean, the value then the mean of the key's earlier values (as
 * src/models/rcf.c builds it), updated here. */
static void point(const bench_case_t *bc, uint64_t i, uint64_t *rng, double *mean, double *out)
{
    if (bc->recent_mean == 0) {
        record(i, bc->dim, rng, out);
        return;
    }
    record(i, 1, rng, out);
    if (isnan(*mean)) {
        *mean = out[0];
    }
    out[1] = *mean;
    *mean += (out[0] - *mean) / (double)bc->recent_mean;
}

/* Records [from, to) of the stream to `keys` forests round-robin, as a daemon with that many
 * per-key models feeds them: record i goes to forest i % keys, so each sees the same stream shape
 * and the caches see them all. Returns the sum of the scores. */
static double feed(const bench_case_t *bc, rcf_forest_t **forests, uint32_t keys, uint64_t from,
                   uint64_t to, uint64_t *rng, double *mean)
{
    double v[8], checksum = 0.0;
    rcf_result_t r;
    for (uint64_t i = from; i < to; i++) {
        if (input != NULL) {
            memcpy(v, input + i * input_cols, input_cols * sizeof *v);
        } else {
            point(bc, i / keys, rng, &mean[i % keys], v);
        }
        rcf_forest_process(forests[i % keys], v, bc->dim, &r);
        checksum += r.score;
        if (bits) {
            hash_result(&r, bc->dim, bc->shingle);
        }
    }
    return checksum;
}

/* The timed records, in a function of their own so a profiler can count them alone:
 * valgrind --tool=callgrind --toggle-collect=timed_feed counts no warm-up record. */
__attribute__((noinline)) static double timed_feed(const bench_case_t *bc, rcf_forest_t **forests,
                                                   uint32_t keys, uint64_t from, uint64_t to,
                                                   uint64_t *rng, double *mean)
{
    return feed(bc, forests, keys, from, to, rng, mean);
}

static int run_case(const bench_case_t *bc, uint64_t warmup, uint64_t records, uint32_t trees,
                    uint32_t sample, int explain, uint32_t keys)
{
    if (input != NULL &&
        (bc->dim != input_cols || bc->recent_mean != 0 || (warmup + records) * keys > input_n)) {
        fprintf(stderr,
                "bench_rcf: --input has %zu records of %u values: case %c needs %llu of %u\n",
                input_n, input_cols, bc->name, (unsigned long long)((warmup + records) * keys),
                bc->dim);
        return 1;
    }
    rcf_params_t p = rcf_params_default(bc->dim);
    p.explain = explain;
    p.shingle_size = bc->shingle;
    p.number_of_trees = trees;
    p.sub_sample_size = sample;
    rcf_forest_t *forests[64];
    char err[256];
    for (uint32_t k = 0; k < keys; k++) {
        p.seed = 7 + k;
        if (rcf_forest_new(&p, &forests[k], err, sizeof err) != 0) {
            fprintf(stderr, "bench_rcf: %s\n", err);
            return 1;
        }
    }
    uint64_t rng = 1;
    double mean[64];
    for (uint32_t k = 0; k < keys; k++) {
        mean[k] = NAN;
    }
    feed(bc, forests, keys, 0, warmup * keys, &rng, mean);
    double t0 = cpu_seconds(), w0 = wall_seconds();
    double checksum =
        timed_feed(bc, forests, keys, warmup * keys, (warmup + records) * keys, &rng, mean);
    double elapsed = cpu_seconds() - t0, wall = wall_seconds() - w0;
    uint64_t timed = records * keys;
    rcf_stats_t st;
    rcf_forest_stats(forests[0], &st);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("(%c) %-16s %9.0f records/s %8.0f ns/record  model %6.2f MB (fixed %.2f + points %.2f)"
           "  peak RSS %6.1f MB  mean score %.4f%s\n",
           bc->name, bc->what, (double)timed / elapsed, elapsed * 1e9 / (double)timed,
           (double)(st.bytes_fixed + st.bytes_points) / 1e6, (double)st.bytes_fixed / 1e6,
           (double)st.bytes_points / 1e6, (double)ru.ru_maxrss / 1024.0, checksum / (double)timed,
           keys > 1 ? "  (per model; models round-robin)" : "");
    printf("(%c) wall %.0f records/s\n", bc->name, (double)timed / wall);
    if (bits) {
        printf("(%c) bits %016llx over %llu records\n", bc->name, (unsigned long long)bits_hash,
               (unsigned long long)((warmup + records) * keys));
    }
    for (uint32_t k = 0; k < keys; k++) {
        rcf_forest_destroy(forests[k]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *which = "all";
    uint64_t records = 50000, warmup = 20000;
    uint32_t trees = 100, sample = 256;
    int explain = 0;
    uint32_t keys = 1;
    const char *dump = NULL;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--case") == 0) {
            which = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--records") == 0) {
            records = strtoull(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(argv[i], "--warmup") == 0) {
            warmup = strtoull(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(argv[i], "--trees") == 0) {
            trees = (uint32_t)strtoul(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(argv[i], "--keys") == 0) {
            keys = (uint32_t)strtoul(argv[++i], NULL, 10);
            if (keys < 1 || keys > 64) {
                fprintf(stderr, "bench_rcf: --keys must be 1..64\n");
                return 2;
            }
        } else if (i + 1 < argc && strcmp(argv[i], "--input") == 0) {
            if (load_input(argv[++i]) != 0) {
                return 2;
            }
        } else if (i + 1 < argc && strcmp(argv[i], "--dump") == 0) {
            dump = argv[++i];
        } else if (strcmp(argv[i], "--explain") == 0) {
            explain = 1;
        } else if (strcmp(argv[i], "--bits") == 0) {
            bits = 1;
        } else if (i + 1 < argc && strcmp(argv[i], "--sample") == 0) {
            sample = (uint32_t)strtoul(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: bench_rcf [--case a|b|c|d|e|all] [--records N] [--warmup W] "
                            "[--trees T] [--sample S] [--explain] [--keys K] [--input FILE] "
                            "[--dump FILE] [--bits]\n");
            return 2;
        }
    }
    if (dump != NULL) {
        if (strlen(which) != 1) {
            fprintf(stderr, "bench_rcf: --dump needs one --case\n");
            return 2;
        }
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            if (which[0] == cases[k].name) {
                return dump_case(&cases[k], (warmup + records) * keys, dump);
            }
        }
        fprintf(stderr, "bench_rcf: no case %s\n", which);
        return 2;
    }
    printf("bench_rcf: %u trees, sample %u, warm-up %llu records, then %llu timed records of "
           "score-then-update%s\n",
           trees, sample, (unsigned long long)warmup, (unsigned long long)records,
           explain ? " with attribution and explanation" : "");
    int failed = 0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        if (strcmp(which, "all") != 0 && which[0] != cases[k].name) {
            continue;
        }
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            int rc = run_case(&cases[k], warmup, records, trees, sample, explain, keys);
            fflush(stdout);
            _exit(rc);
        }
        int status = 1;
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            failed = 1;
        }
    }
    return failed;
}
