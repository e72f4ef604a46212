#include "sampler.h"

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
