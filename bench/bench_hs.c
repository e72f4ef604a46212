/* HOTSPOTS throughput and latency, one thread.
 *
 *   bench_hs [--records N] [--quick]
 *
 * For windowSize 1000 and 10000 and d = 2 and 8: records/s and per-record latency (mean, p50, p99,
 * max) of the incremental detector after a full window of warm-up, the same for the brute-force
 * detector (fewer records: it is O(window^2) per record), and the time to build the window's
 * neighbour matrix with the plain exact loop versus OpenBLAS dgemm + exact recheck (the brute-force
 * reference's only O(window^2 x d) step), plus the whole recompute both ways.
 *
 * Data: KDA's HOTSPOTS example shape. Values in [0,10]^d; 60% of records come from 4 Gaussian
 * bursts (sd 0.15 per column) that drift slowly, 40% are uniform noise. d = 2 uses KDA's example
 * parameters scaled with the window (radius 0.2, minPoints 17 per 1000 records); d = 8 uses radius
 * 0.8 (neighbours in 8-D are farther apart) and the same minPoints. Run with OPENBLAS_NUM_THREADS=1
 * for one-core numbers. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rng.h"
#include "hotspots/hs_int.h"
#include "rcfd/alloc.h"
#include "rcfd/hotspots.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct gen {
    uint64_t rng;
    double centre[4][8];
} gen_t;

static double gaussian(uint64_t *s)
{
    double u = rcfd_rng_uniform_open(s), v = rcfd_rng_uniform(s);
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

static void gen_init(gen_t *g, uint64_t seed)
{
    g->rng = seed;
    for (int c = 0; c < 4; c++) {
        for (int k = 0; k < 8; k++) {
            g->centre[c][k] = 1.5 + 7.0 * rcfd_rng_uniform(&g->rng);
        }
    }
}

static void gen_next(gen_t *g, double *v, uint32_t dim)
{
    double u = rcfd_rng_uniform(&g->rng);
    int c = u < 0.6 ? (int)(u / 0.15) : -1;
    for (uint32_t k = 0; k < dim; k++) {
        if (c < 0) {
            v[k] = 10.0 * rcfd_rng_uniform(&g->rng);
        } else {
            g->centre[c][k] += 0.001 * gaussian(&g->rng);
            v[k] = g->centre[c][k] + 0.15 * gaussian(&g->rng);
        }
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct timing {
    double rate, mean_us, p50_us, p99_us, max_us;
    double hotspots; /* mean reported per record */
} timing_t;

static timing_t run_stream(hs_detector_t *d, gen_t *g, uint32_t dim, size_t records, double *lat)
{
    timing_t t = {0};
    double v[8];
    hs_result_t r;
    double total_spots = 0;
    double start = now_seconds();
    for (size_t i = 0; i < records; i++) {
        gen_next(g, v, dim);
        double t0 = now_seconds();
        hs_process(d, v, dim, &r);
        lat[i] = now_seconds() - t0;
        total_spots += (double)r.n_hotspots;
    }
    double elapsed = now_seconds() - start;
    qsort(lat, records, sizeof *lat, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < records; i++) {
        sum += lat[i];
    }
    t.rate = (double)records / sum; /* excludes the generator and the clock reads */
    (void)elapsed;
    t.mean_us = sum / (double)records * 1e6;
    t.p50_us = lat[records / 2] * 1e6;
    t.p99_us = lat[(size_t)((double)records * 0.99)] * 1e6;
    t.max_us = lat[records - 1] * 1e6;
    t.hotspots = total_spots / (double)records;
    return t;
}

static hs_detector_t *make(uint32_t window, uint32_t dim, hs_algorithm_t algorithm, gen_t *g)
{
    hs_params_t p = hs_params_default(dim);
    p.window_size = window;
    p.scan_radius = dim == 2 ? 0.2 : 0.8;
    p.min_points = 17 * (window / 1000);
    p.algorithm = algorithm;
    hs_detector_t *d;
    char err[256];
    if (hs_new(&p, &d, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    double v[8];
    double *rows = malloc(sizeof(double) * dim * window);
    for (uint32_t i = 0; i < window; i++) {
        gen_next(g, v, dim);
        memcpy(rows + (size_t)i * dim, v, sizeof(double) * dim);
    }
    hs_process_batch(d, rows, window, NULL, NULL); /* warm-up: a full window */
    free(rows);
    return d;
}

static double time_matrix(hs_detector_t *d, int blas, int reps)
{
    size_t stride = ((size_t)d->count + 63) / 64;
    uint64_t *adj = malloc((size_t)d->count * stride * sizeof(uint64_t));
    double best = 1e30;
    for (int i = 0; i < reps; i++) {
        double t0 = now_seconds();
        if (blas) {
            hs_blas_adjacency(d, adj, stride);
        } else {
            hs_brute_adjacency(d, adj, stride);
        }
        double t = now_seconds() - t0;
        best = t < best ? t : best;
    }
    free(adj);
    return best;
}

static double time_recompute(hs_detector_t *d, int blas, int reps)
{
    double best = 1e30;
    hs_result_t r;
    for (int i = 0; i < reps; i++) {
        double t0 = now_seconds();
        int rc = blas ? hs_recompute_blas(d, &r) : hs_recompute(d, &r);
        double t = now_seconds() - t0;
        if (rc != 0 || r.changed) {
            fprintf(stderr, "recompute disagrees with the incremental result\n");
            exit(1);
        }
        best = t < best ? t : best;
    }
    return best;
}

int main(int argc, char **argv)
{
    size_t records = 100000;
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--records") == 0 && i + 1 < argc) {
            records = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
            records = 5000;
        } else {
            fprintf(stderr, "usage: bench_hs [--records N] [--quick]\n");
            return 2;
        }
    }
    static const uint32_t windows[] = {1000, 10000}, dims[] = {2, 8};
    double *lat = malloc(sizeof(double) * (records > 2000 ? records : 2000));
    printf("| window | d | algorithm | records | records/s | mean us | p50 us | p99 us | max us | "
           "hotspots/record |\n|---|---|---|---|---|---|---|---|---|---|\n");
    char matrix_rows[4][256];
    for (int wi = 0; wi < 2; wi++) {
        for (int di = 0; di < 2; di++) {
            uint32_t w = windows[wi], dim = dims[di];
            gen_t g;
            gen_init(&g, 1234 + w + dim);
            hs_detector_t *inc = make(w, dim, HS_ALGORITHM_INCREMENTAL, &g);
            timing_t ti = run_stream(inc, &g, dim, records, lat);
            printf("| %u | %u | incremental | %zu | %.0f | %.2f | %.2f | %.2f | %.1f | %.1f |\n", w,
                   dim, records, ti.rate, ti.mean_us, ti.p50_us, ti.p99_us, ti.max_us,
                   ti.hotspots);
            size_t brute_records = quick ? 5 : w == 1000 ? 300 : 5;
            gen_init(&g, 1234 + w + dim);
            hs_detector_t *brute = make(w, dim, HS_ALGORITHM_BRUTE_FORCE, &g);
            timing_t tb = run_stream(brute, &g, dim, brute_records, lat);
            printf("| %u | %u | brute force | %zu | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", w,
                   dim, brute_records, tb.rate, tb.mean_us, tb.p50_us, tb.p99_us, tb.max_us,
                   tb.hotspots);
            int reps = w == 1000 ? 20 : 3;
            double plain = time_matrix(inc, 0, reps), blas = time_matrix(inc, 1, reps);
            double rplain = time_recompute(inc, 0, reps), rblas = time_recompute(inc, 1, reps);
            snprintf(matrix_rows[wi * 2 + di], sizeof matrix_rows[0],
                     "| %u | %u | %.2f | %.2f | %.2fx | %.2f | %.2f | %.2fx |", w, dim,
                     plain * 1e3, blas * 1e3, plain / blas, rplain * 1e3, rblas * 1e3,
                     rplain / rblas);
            hs_stats_t st;
            hs_stats(inc, &st);
            fprintf(stderr, "w=%u d=%u: %u hotspots, %u dense, %u border, %.1f queries/record, "
                            "%llu merges, %llu splits, %zu bytes\n",
                    w, dim, st.hotspots, st.dense_points, st.border_points,
                    (double)st.neighbour_queries / (double)records,
                    (unsigned long long)st.merges, (unsigned long long)st.splits, st.bytes);
            hs_destroy(inc);
            hs_destroy(brute);
        }
    }
    printf("\nNeighbour matrix of a full window (best of several runs), plain exact loop vs "
           "OpenBLAS dgemm + exact recheck; then the whole brute-force recompute both ways:\n\n"
           "| window | d | plain ms | BLAS ms | plain/BLAS | recompute plain ms | recompute BLAS "
           "ms | plain/BLAS |\n|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < 4; i++) {
        printf("%s\n", matrix_rows[i]);
    }
    free(lat);
    return 0;
}
