/* Training-data statistics for `rcfd train --suggest` (part of rcfd_train: OpenBLAS, no I/O).
 * Each computation has an OpenBLAS version and a plain-loop twin that must agree to rounding
 * (tests/unit/test_train_stats.c); bench/bench_train.c times both.
 *
 * Matrices are row-major, n rows (records) by d columns (fields). Not thread-safe only in that
 * OpenBLAS may use its own threads; the functions keep no state. */
#ifndef RCFD_TRAIN_STATS_H
#define RCFD_TRAIN_STATS_H

#include <stddef.h>

/* Column means (d) and the covariance matrix (d x d, row-major, divisor n - 1; 0 when n < 2).
 * BLAS: dgemv for the means, dsyrk on the centred matrix for the covariance. */
int rcfd_colstats_blas(const double *x, size_t n, size_t d, double *mean, double *cov);
int rcfd_colstats_plain(const double *x, size_t n, size_t d, double *mean, double *cov);

/* For each of the m rows of x, the Euclidean distance to its k-th nearest other row (1 <= k < m):
 * HOTSPOTS' "dense" test is "at least min_points rows (self included) within scan_radius", so
 * with k = min_points - 1, kdist[i] is the smallest radius that makes row i dense.
 * BLAS: the squared distances come from a dgemm Gram matrix (|a|^2 + |b|^2 - 2 a.b, clamped at 0). */
int rcfd_kdist_blas(const double *x, size_t m, size_t d, size_t k, double *kdist);
int rcfd_kdist_plain(const double *x, size_t m, size_t d, size_t k, double *kdist);

/* The q-quantile (0..1, linear interpolation) of v[0..n); sorts v in place. */
double rcfd_quantile_sorted(double *v, size_t n, double q);

#endif
