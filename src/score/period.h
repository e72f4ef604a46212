/* Dominant period of a series by autocorrelation, for the rcf model's automatic shingle size.
 * Pure: no I/O, no allocation. */
#ifndef RCFD_SCORE_PERIOD_H
#define RCFD_SCORE_PERIOD_H

#include <stddef.h>

/* An autocorrelation counts as a period when it exceeds both this and 2/sqrt(n) (the 95% band of
 * white noise). */
#define RCFD_PERIOD_MIN_ACF 0.3

/* The period of x[0], x[stride], ..., x[(n-1) stride]: the first lag in [2, max_lag] whose
 * autocorrelation is a local maximum (not below either neighbour) and significant (above), or 0
 * when there is none (noise, trend, constant, or n < 2 max_lag + 2, too short to judge). Non-finite
 * values make the result 0. O(n max_lag). */
size_t rcfd_period_estimate(const double *x, size_t n, size_t stride, size_t max_lag);

#endif
