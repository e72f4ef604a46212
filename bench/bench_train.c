/* OpenBLAS versus plain loops for rcfd train --suggest: column mean + covariance of an n x d
 * matrix, and k-distances (k = 16) of an m-row sample. Best of 5 runs, milliseconds.
 *
 *   bench_train            (markdown table on stdout) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "train/stats.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

int main(void)
{
    uint64_t s = 1;
    static const size_t dims[] = {1, 3, 8, 32};
    printf("| work | d | plain ms | OpenBLAS ms | speed-up |\n|---|---|---|---|---|\n");
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
        size_t d = dims[di], n = 200000, m = 2000;
        double *x = malloc(n * d * sizeof *x), mean[32], *cov = malloc(d * d * sizeof *cov);
        double *kd = malloc(m * sizeof *kd);
        for (size_t i = 0; i < n * d; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            x[i] = (double)(s >> 11) / 9007199254740992.0;
        }
        double best[4] = {1e30, 1e30, 1e30, 1e30}, sink = 0;
        for (int rep = 0; rep < 5; rep++) {
            double t0 = now_ms();
            rcfd_colstats_plain(x, n, d, mean, cov);
            double t1 = now_ms();
            sink += cov[0];
            rcfd_colstats_blas(x, n, d, mean, cov);
            double t2 = now_ms();
            sink += cov[0];
            rcfd_kdist_plain(x, m, d, 16, kd);
            double t3 = now_ms();
            sink += kd[0];
            rcfd_kdist_blas(x, m, d, 16, kd);
            double t4 = now_ms();
            sink += kd[0];
            double t[4] = {t1 - t0, t2 - t1, t3 - t2, t4 - t3};
            for (int k = 0; k < 4; k++) {
                best[k] = t[k] < best[k] ? t[k] : best[k];
            }
        }
        printf("| mean+covariance, n=%zu | %zu | %.2f | %.2f | %.2fx |\n", n, d, best[0], best[1],
               best[0] / best[1]);
        printf("| 16-distances, m=%zu | %zu | %.2f | %.2f | %.2fx |\n", m, d, best[2], best[3],
               best[2] / best[3]);
        if (sink == 42.0) {
            printf("\n");
        }
        free(x);
        free(cov);
        free(kd);
    }
    return 0;
}
