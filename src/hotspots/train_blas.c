/* Brute-force neighbour matrix from OpenBLAS (part of rcfd_train).
 *
 * Squared distances come from the Gram matrix: |a - b|^2 = |a|^2 + |b|^2 - 2 a.b, one dgemm per
 * block of rows. That formula rounds differently from the definition's sum of squared differences
 * (and cancels badly for points far from the origin), so every pair whose estimate lies within a
 * generous tolerance of the radius is re-decided with the exact test: the matrix, and so the
 * hotspots, are exactly those of the plain loop. */
#include <cblas.h>
#include <string.h>

#include "hs_int.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"

#define BLOCK_ROWS 256
#define TOLERANCE 1e-9 /* relative to |a|^2 + |b|^2 + r^2; dgemm's error is ~d x 1e-16 of that */

int hs_blas_adjacency(const hs_detector_t *d, uint64_t *adj, size_t stride)
{
    const size_t n = d->count, dim = d->dim;
    memset(adj, 0, n * stride * sizeof(uint64_t));
    if (n == 0) {
        return 0;
    }
    double *y = rcfd_malloc(n * dim * sizeof(double));
    double *norm = rcfd_malloc(n * sizeof(double));
    size_t rows = n < BLOCK_ROWS ? n : BLOCK_ROWS;
    double *gram = rcfd_malloc(rows * n * sizeof(double));
    if (y == NULL || norm == NULL || gram == NULL) {
        rcfd_free(y);
        rcfd_free(norm);
        rcfd_free(gram);
        return RCFD_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const double *p = d->pos + (size_t)hs_slot(d, (uint32_t)i) * dim;
        memcpy(y + i * dim, p, dim * sizeof(double));
        double s = 0.0;
        for (size_t k = 0; k < dim; k++) {
            s += p[k] * p[k];
        }
        norm[i] = s;
    }
    const double r2 = d->radius2;
    for (size_t i0 = 0; i0 < n; i0 += rows) {
        size_t b = n - i0 < rows ? n - i0 : rows;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)n, (int)dim, 1.0,
                    y + i0 * dim, (int)dim, y, (int)dim, 0.0, gram, (int)n);
        for (size_t bi = 0; bi < b; bi++) {
            size_t i = i0 + bi;
            const double *g = gram + bi * n;
            uint64_t *row = adj + i * stride;
            for (size_t j = 0; j < n; j++) {
                double est = norm[i] + norm[j] - 2.0 * g[j];
                double tol = TOLERANCE * (norm[i] + norm[j] + r2);
                int near;
                if (est < r2 - tol) {
                    near = 1;
                } else if (est > r2 + tol) {
                    near = 0;
                } else {
                    near = hs_within(y + i * dim, y + j * dim, d->dim, r2);
                }
                if (near && i != j) {
                    row[j / 64] |= 1ull << (j % 64);
                }
            }
        }
    }
    rcfd_free(y);
    rcfd_free(norm);
    rcfd_free(gram);
    return 0;
}

int hs_recompute_blas(hs_detector_t *d, hs_result_t *out)
{
    if (d == NULL || out == NULL) {
        return RCFD_EINVAL;
    }
    size_t stride = ((size_t)d->count + 63) / 64;
    uint64_t *adj = rcfd_malloc((size_t)d->count * stride * sizeof(uint64_t) + 8);
    if (adj == NULL) {
        return RCFD_ENOMEM;
    }
    int rc = hs_blas_adjacency(d, adj, stride);
    if (rc == 0) {
        hs_brute_report(d, adj, stride, &d->report[2]);
        hs_report_finish(d, &d->report[2]);
        hs_fill_result(d, &d->report[2],
                       !hs_report_equal(d, &d->report[2], &d->report[d->cur], 1), out);
    }
    rcfd_free(adj);
    return rc;
}
