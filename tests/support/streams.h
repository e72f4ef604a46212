/* Seeded synthetic streams for tests and benchmarks: the same seed always gives the same stream. */
#ifndef RCFD_TEST_STREAMS_H
#define RCFD_TEST_STREAMS_H

#include <stddef.h>
#include <stdint.h>

typedef struct stream_rng {
    uint64_t state;
    int has_spare;
    double spare;
} stream_rng_t;

void stream_rng_seed(stream_rng_t *r, uint64_t seed);
double stream_uniform(stream_rng_t *r);  /* [0, 1) */
double stream_gaussian(stream_rng_t *r); /* N(0, 1) */

/* values[i] = amplitude * sin(2*pi*i/period) + noise * N(0,1); spikes of height `spike` at every
 * index in spike_at (sorted, n_spikes entries). */
void stream_sine(double *values, size_t n, double period, double amplitude, double noise,
                 const size_t *spike_at, size_t n_spikes, double spike, uint64_t seed);

/* n records of d correlated sensor columns (row-major): a shared slow sine, per-column phase and
 * offset, and Gaussian noise. Returns nothing; perturb records afterwards to inject anomalies. */
void stream_sensors(double *rows, size_t n, size_t d, double noise, uint64_t seed);

#endif
