/* Period by autocorrelation (period.h). */
#include "score/period.h"

#include <math.h>

/* The autocorrelation at lag k, of the series centred on its mean (biased estimator, as usual:
 * the sum over n - k pairs divided by the full variance). */
static double acf(const double *x, size_t n, size_t stride, double mean, double var, size_t k)
{
    double s = 0;
    for (size_t i = 0; i + k < n; i++) {
        s += (x[i * stride] - mean) * (x[(i + k) * stride] - mean);
    }
    return s / var;
}

size_t rcfd_period_estimate(const double *x, size_t n, size_t stride, size_t max_lag)
{
    if (max_lag < 2 || n < 2 * max_lag + 2) {
        return 0;
    }
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++) {
        mean += x[i * stride];
    }
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double d = x[i * stride] - mean;
        var += d * d;
    }
    if (!isfinite(var) || var <= 1e-300 * (double)n) {
        return 0;
    }
    double level = fmax(RCFD_PERIOD_MIN_ACF, 2.0 / sqrt((double)n));
    /* a peak must stand out of the decay from lag 0: the ACF must have dipped below the level
     * before it, else a trend or a slow drift (high ACF at every short lag) reads as a period */
    int dipped = 0;
    double prev = acf(x, n, stride, mean, var, 1), cur = acf(x, n, stride, mean, var, 2);
    for (size_t k = 2; k <= max_lag; k++) {
        double next = acf(x, n, stride, mean, var, k + 1);
        dipped = dipped || prev < level;
        if (dipped && cur > level && cur >= prev && cur >= next) {
            return k;
        }
        prev = cur;
        cur = next;
    }
    return 0;
}
