#include "train/stats.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rcfd/alloc.h"
#include "rcfd/status.h"

#define KD_BLOCK 256 /* rows of the Gram matrix per dgemm: 256 x m doubles */

int rcfd_colstats_plain(const double *x, size_t n, size_t d, double *mean, double *cov)
{
    if (n == 0 || d == 0) {
        return RCFD_EINVAL;
    }
    for (size_t j = 0; j < d; j++) {
        mean[j] = 0.0;
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++) {
            mean[j] += x[i * d + j];
        }
    }
    for (size_t j = 0; j < d; j++) {
        mean[j] /= (double)n;
    }
    memset(cov, 0, d * d * sizeof *cov);
    for (size_t i = 0; i < n; i++) {
        const double *r = x + i * d;
        for (size_t a = 0; a < d; a++) {
            double ca = r[a] - mean[a];
            for (size_t b = a; b < d; b++) {
                cov[a * d + b] += ca * (r[b] - mean[b]);
            }
        }
    }
    double div = n > 1 ? (double)(n - 1) : 1.0;
    for (size_t a = 0; a < d; a++) {
        for (size_t b = a; b < d; b++) {
            cov[a * d + b] = n > 1 ? cov[a * d + b] / div : 0.0;
            cov[b * d + a] = cov[a * d + b];
        }
    }
    return 0;
}

#define CS_BLOCK 4096 /* rows centred and handed to dsyrk at a time: stays in cache */

int rcfd_colstats_blas(const double *x, size_t n, size_t d, double *mean, double *cov)
{
    if (n == 0 || d == 0) {
        return RCFD_EINVAL;
    }
    size_t rows = n < CS_BLOCK ? n : CS_BLOCK;
    double *ones = rcfd_malloc(n * sizeof *ones);
    double *c = rcfd_malloc(rows * d * sizeof *c);
    if (ones == NULL || c == NULL) {
        rcfd_free(ones);
        rcfd_free(c);
        return RCFD_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        ones[i] = 1.0;
    }
    /* mean = X^T 1 / n */
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)d, 1.0 / (double)n, x, (int)d, ones, 1,
                0.0, mean, 1);
    /* cov = C^T C / (n - 1) over blocks of centred rows, upper triangle, mirrored below. */
    double alpha = n > 1 ? 1.0 / (double)(n - 1) : 0.0;
    for (size_t i0 = 0; i0 < n; i0 += rows) {
        size_t b = n - i0 < rows ? n - i0 : rows;
        for (size_t i = 0; i < b; i++) {
            for (size_t j = 0; j < d; j++) {
                c[i * d + j] = x[(i0 + i) * d + j] - mean[j];
            }
        }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)b, alpha, c, (int)d,
                    i0 == 0 ? 0.0 : 1.0, cov, (int)d);
    }
    for (size_t a = 0; a < d; a++) {
        for (size_t b = 0; b < a; b++) {
            cov[a * d + b] = cov[b * d + a];
        }
    }
    rcfd_free(ones);
    rcfd_free(c);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The k-th smallest of v[0..n) (0-based rank k), reordering v: quickselect with a three-way
 * partition, so runs of equal distances (duplicate records) cost no more than distinct ones. */
static double select_kth(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    for (;;) {
        if (lo >= hi) {
            return v[lo];
        }
        double p = v[lo + (hi - lo) / 2], t;
        size_t lt = lo, i = lo, gt = hi; /* [lo,lt) < p, [lt,i) == p, (gt,hi] > p */
        while (i <= gt) {
            if (v[i] < p) {
                t = v[lt], v[lt] = v[i], v[i] = t;
                lt++, i++;
            } else if (v[i] > p) {
                t = v[gt], v[gt] = v[i], v[i] = t;
                gt--; /* >= lt: the pivot's value is in [lo, gt] */
            } else {
                i++;
            }
        }
        if (k < lt) {
            hi = lt - 1;
        } else if (k > gt) {
            lo = gt + 1;
        } else {
            return p;
        }
    }
}

/* Row i's k-th nearest other row from its squared distances to every row (self at index i). */
static double kth_of_row(double *d2, size_t m, size_t i, size_t k)
{
    d2[i] = d2[m - 1]; /* drop self: move the last entry over it */
    return sqrt(select_kth(d2, m - 1, k - 1));
}

int rcfd_kdist_plain(const double *x, size_t m, size_t d, size_t k, double *kdist)
{
    if (m < 2 || k < 1 || k >= m || d == 0) {
        return RCFD_EINVAL;
    }
    double *d2 = rcfd_malloc(m * sizeof *d2);
    if (d2 == NULL) {
        return RCFD_ENOMEM;
    }
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < m; j++) {
            double s = 0.0;
            for (size_t c = 0; c < d; c++) {
                double t = x[i * d + c] - x[j * d + c];
                s += t * t;
            }
            d2[j] = s;
        }
        kdist[i] = kth_of_row(d2, m, i, k);
    }
    rcfd_free(d2);
    return 0;
}

int rcfd_kdist_blas(const double *x, size_t m, size_t d, size_t k, double *kdist)
{
    if (m < 2 || k < 1 || k >= m || d == 0) {
        return RCFD_EINVAL;
    }
    size_t rows = m < KD_BLOCK ? m : KD_BLOCK;
    double *norm = rcfd_malloc(m * sizeof *norm);
    double *gram = rcfd_malloc(rows * m * sizeof *gram);
    double *c = rcfd_malloc(m * d * sizeof *c), *mean = rcfd_calloc(d, sizeof *mean);
    if (norm == NULL || gram == NULL || c == NULL || mean == NULL) {
        rcfd_free(norm);
        rcfd_free(gram);
        rcfd_free(c);
        rcfd_free(mean);
        return RCFD_ENOMEM;
    }
    /* Distances do not change under translation, but |a|^2 + |b|^2 - 2 a.b cancels in proportion
     * to |a|^2: centring the sample first keeps the error at the data's spread, not its offset. */
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < d; j++) {
            mean[j] += x[i * d + j] / (double)m;
        }
    }
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < d; j++) {
            c[i * d + j] = x[i * d + j] - mean[j];
        }
    }
    x = c;
    for (size_t i = 0; i < m; i++) {
        norm[i] = cblas_ddot((int)d, x + i * d, 1, x + i * d, 1);
    }
    for (size_t i0 = 0; i0 < m; i0 += rows) {
        size_t b = m - i0 < rows ? m - i0 : rows;
        /* gram = -2 X[i0..i0+b) X^T */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)m, (int)d, -2.0,
                    x + i0 * d, (int)d, x, (int)d, 0.0, gram, (int)m);
        for (size_t bi = 0; bi < b; bi++) {
            size_t i = i0 + bi;
            double *g = gram + bi * m;
            for (size_t j = 0; j < m; j++) {
                double s = norm[i] + norm[j] + g[j];
                g[j] = s > 0.0 ? s : 0.0;
            }
            kdist[i] = kth_of_row(g, m, i, k);
        }
    }
    rcfd_free(norm);
    rcfd_free(gram);
    rcfd_free(c);
    rcfd_free(mean);
    return 0;
}

double rcfd_quantile_sorted(double *v, size_t n, double q)
{
    if (n == 0) {
        return NAN;
    }
    qsort(v, n, sizeof *v, cmp_double);
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (v[hi] - v[lo]) * (pos - (double)lo);
}
