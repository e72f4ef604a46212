/* Small, fast, seedable PRNG (SplitMix64). One 64-bit word of state, so every tree can own one and a
 * snapshot restores it exactly; statistical quality is ample for sampling keys and random cuts. */
#ifndef RCFD_COMMON_RNG_H
#define RCFD_COMMON_RNG_H

#include <stdint.h>

static inline uint64_t rcfd_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform double in [0, 1). */
static inline double rcfd_rng_uniform(uint64_t *state)
{
    return (double)(rcfd_rng_next(state) >> 11) * 0x1.0p-53;
}

/* Uniform double in (0, 1): never 0, so log(u) is finite. */
static inline double rcfd_rng_uniform_open(uint64_t *state)
{
    return ((double)(rcfd_rng_next(state) >> 11) + 0.5) * 0x1.0p-53;
}

/* Derives an independent stream seed from a master seed and a stream number. */
static inline uint64_t rcfd_rng_derive(uint64_t seed, uint64_t stream)
{
    uint64_t s = seed ^ (stream * 0xD1B54A32D192ED03ull);
    rcfd_rng_next(&s);
    return rcfd_rng_next(&s);
}

#endif
