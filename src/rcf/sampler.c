#include "sampler.h"

#include <math.h>

size_t sampler_bytes(uint32_t capacity)
{
    return (size_t)capacity * (sizeof(double) + sizeof(uint32_t));
}

void sampler_init(sampler_t *s, void *mem, uint32_t capacity)
{
    s->capacity = capacity;
    s->size = 0;
    s->max_key = 0.0;
    s->key = mem;
    s->point = (uint32_t *)(s->key + capacity);
    s->skip_u = 0.0;
    s->skip_max = 0.0;
    s->skip_until = 0;
}

uint32_t sampler_pop_max(sampler_t *s)
{
    uint32_t top_point = s->point[0];
    uint32_t n = --s->size;
    double key = s->key[n];
    uint32_t point = s->point[n];
    uint32_t i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n) {
            break;
        }
        if (c + 1 < n && s->key[c + 1] > s->key[c]) {
            c++;
        }
        if (key >= s->key[c]) {
            break;
        }
        s->key[i] = s->key[c];
        s->point[i] = s->point[c];
        i = c;
    }
    s->key[i] = key;
    s->point[i] = point;
    s->max_key = s->key[0];
    return top_point;
}

void sampler_push(sampler_t *s, double key, uint32_t point)
{
    uint32_t i = s->size++;
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (s->key[parent] >= key) {
            break;
        }
        s->key[i] = s->key[parent];
        s->point[i] = s->point[parent];
        i = parent;
    }
    s->key[i] = key;
    s->point[i] = point;
    s->max_key = s->key[0];
}

int sampler_is_heap(const sampler_t *s)
{
    for (uint32_t i = 1; i < s->size; i++) {
        if (s->key[(i - 1) / 2] < s->key[i]) {
            return 0;
        }
    }
    return 1;
}

double sampler_reject_below(double max_key, uint64_t seq, double lambda, uint64_t *until)
{
    double k = 0.01 / lambda;
    uint64_t horizon = k >= 1024.0 ? 1024 : k >= 1.0 ? (uint64_t)k : 1;
    *until = seq + horizon;
    const double decay_min = -(double)*until * lambda;
    const double l = max_key - decay_min + 1e-9 * (1.0 + fabs(max_key) + fabs(decay_min));
    const double e = exp(l);
    return e < 1e-6 ? 0.0 : exp(-e);
}

void sampler_set_reject_bound(sampler_t *s, uint64_t seq, double lambda)
{
    s->skip_u = sampler_reject_below(s->max_key, seq, lambda, &s->skip_until);
    s->skip_max = s->max_key;
}
