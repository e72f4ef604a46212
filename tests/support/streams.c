#include "streams.h"

#include <math.h>

#include "common/rng.h"

void stream_rng_seed(stream_rng_t *r, uint64_t seed)
{
    r->state = seed;
    r->has_spare = 0;
    r->spare = 0.0;
}

double stream_uniform(stream_rng_t *r)
{
    return rcfd_rng_uniform(&r->state);
}

double stream_gaussian(stream_rng_t *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u = rcfd_rng_uniform_open(&r->state);
    double v = rcfd_rng_uniform(&r->state);
    double radius = sqrt(-2.0 * log(u));
    r->spare = radius * sin(2.0 * M_PI * v);
    r->has_spare = 1;
    return radius * cos(2.0 * M_PI * v);
}

void stream_sine(double *values, size_t n, double period, double amplitude, double noise,
                 const size_t *spike_at, size_t n_spikes, double spike, uint64_t seed)
{
    stream_rng_t r;
    stream_rng_seed(&r, seed);
    size_t next = 0;
    for (size_t i = 0; i < n; i++) {
        values[i] = amplitude * sin(2.0 * M_PI * (double)i / period) + noise * stream_gaussian(&r);
        if (next < n_spikes && spike_at[next] == i) {
            values[i] += spike;
            next++;
        }
    }
}

void stream_sensors(double *rows, size_t n, size_t d, double noise, uint64_t seed)
{
    stream_rng_t r;
    stream_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        double phase = 2.0 * M_PI * (double)i / 200.0;
        for (size_t c = 0; c < d; c++) {
            rows[i * d + c] = 10.0 * (double)(c + 1) + 3.0 * sin(phase + 0.7 * (double)c) +
                              noise * stream_gaussian(&r);
        }
    }
}
