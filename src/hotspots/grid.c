/* Hash grid of scan_radius cells for the incremental detector.
 *
 * A point's cell is floor(y_k / r) in each hashed dimension. That map is monotone, so every point
 * within r of y lies in the cells spanned by [y - m, y + m] with m a hair above r: the margin covers
 * the rounding of the distance test and of y +- m, which makes the lookup exact for points exactly
 * at the radius or on cell borders. Ranges wider than MAX_SPAN cells (values ~1e12 radii from 0,
 * where a radius is below the values' resolution) fall back to scanning the window. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "hs_int.h"
#include "rcfd/alloc.h"

#define COORD_LIMIT 4.0e18 /* clamp before converting to int64; clamping keeps the map monotone */
#define MAX_SPAN 5

static int64_t cell_of(double v, double inv)
{
    double c = floor(v * inv);
    if (!(c > -COORD_LIMIT)) {
        return (int64_t)-COORD_LIMIT;
    }
    if (c > COORD_LIMIT) {
        return (int64_t)COORD_LIMIT;
    }
    return (int64_t)c;
}

static uint32_t hash_key(const int64_t *key, uint32_t k)
{
    uint64_t h = 0x9E3779B97F4A7C15ull;
    for (uint32_t i = 0; i < k; i++) {
        h ^= (uint64_t)key[i];
        h *= 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
    }
    return (uint32_t)(h ^ (h >> 32));
}

static uint32_t table_size(uint32_t window)
{
    uint32_t n = 16;
    while (n < 2 * window) {
        n <<= 1;
    }
    return n;
}

size_t hs_grid_bytes(uint32_t dim, uint32_t window)
{
    uint32_t k = dim < HS_GRID_MAX_DIMS ? dim : HS_GRID_MAX_DIMS;
    size_t t = table_size(window);
    return t * (k * sizeof(int64_t) + sizeof(uint32_t)) +
           (size_t)window * (k * sizeof(int64_t) + 2 * sizeof(uint32_t));
}

int hs_grid_init(hs_grid_t *g, uint32_t dim, uint32_t window, double radius)
{
    memset(g, 0, sizeof *g);
    g->k = dim < HS_GRID_MAX_DIMS ? dim : HS_GRID_MAX_DIMS;
    uint32_t t = table_size(window);
    g->mask = t - 1;
    g->inv_radius = 1.0 / radius;
    g->cell_key = rcfd_malloc(sizeof(int64_t) * g->k * t);
    g->cell_head = rcfd_malloc(sizeof(uint32_t) * t);
    g->slot_key = rcfd_malloc(sizeof(int64_t) * g->k * window);
    g->next = rcfd_malloc(sizeof(uint32_t) * window);
    g->prev = rcfd_malloc(sizeof(uint32_t) * window);
    if (!g->cell_key || !g->cell_head || !g->slot_key || !g->next || !g->prev) {
        hs_grid_free(g);
        return -1;
    }
    memset(g->cell_head, 0xff, sizeof(uint32_t) * t);
    return 0;
}

void hs_grid_free(hs_grid_t *g)
{
    rcfd_free(g->cell_key);
    rcfd_free(g->cell_head);
    rcfd_free(g->slot_key);
    rcfd_free(g->next);
    rcfd_free(g->prev);
    memset(g, 0, sizeof *g);
}

/* Table index holding `key`, or of the empty entry where it would go. */
static uint32_t find(const hs_grid_t *g, const int64_t *key)
{
    uint32_t i = hash_key(key, g->k) & g->mask;
    while (g->cell_head[i] != HS_NONE &&
           memcmp(g->cell_key + (size_t)i * g->k, key, g->k * sizeof(int64_t)) != 0) {
        i = (i + 1) & g->mask;
    }
    return i;
}

void hs_grid_insert(hs_grid_t *g, uint32_t slot, const double *y)
{
    int64_t *key = g->slot_key + (size_t)slot * g->k;
    for (uint32_t i = 0; i < g->k; i++) {
        key[i] = cell_of(y[i], g->inv_radius);
    }
    uint32_t e = find(g, key);
    if (g->cell_head[e] == HS_NONE) {
        memcpy(g->cell_key + (size_t)e * g->k, key, g->k * sizeof(int64_t));
    } else {
        g->prev[g->cell_head[e]] = slot;
    }
    g->next[slot] = g->cell_head[e];
    g->prev[slot] = HS_NONE;
    g->cell_head[e] = slot;
}

void hs_grid_remove(hs_grid_t *g, uint32_t slot)
{
    if (g->prev[slot] != HS_NONE) {
        g->next[g->prev[slot]] = g->next[slot];
        if (g->next[slot] != HS_NONE) {
            g->prev[g->next[slot]] = g->prev[slot];
        }
        return;
    }
    uint32_t e = find(g, g->slot_key + (size_t)slot * g->k);
    g->cell_head[e] = g->next[slot];
    if (g->next[slot] != HS_NONE) {
        g->prev[g->next[slot]] = HS_NONE;
        return;
    }
    /* The cell is empty: backward-shift deletion keeps every probe chain unbroken. */
    uint32_t hole = e;
    uint32_t i = (e + 1) & g->mask;
    while (g->cell_head[i] != HS_NONE) {
        uint32_t home = hash_key(g->cell_key + (size_t)i * g->k, g->k) & g->mask;
        /* Move i into the hole unless its home lies cyclically in (hole, i]. */
        int stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (!stays) {
            g->cell_head[hole] = g->cell_head[i];
            memcpy(g->cell_key + (size_t)hole * g->k, g->cell_key + (size_t)i * g->k,
                   g->k * sizeof(int64_t));
            g->cell_head[i] = HS_NONE;
            hole = i;
        }
        i = (i + 1) & g->mask;
    }
}

static uint32_t scan_window(hs_detector_t *d, const double *y, uint32_t skip, uint32_t *out)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < d->count; i++) {
        uint32_t s = hs_slot(d, i);
        if (s != skip && hs_within(y, d->pos + (size_t)s * d->dim, d->dim, d->radius2)) {
            out[n++] = s;
        }
    }
    return n;
}

uint32_t hs_grid_query(hs_detector_t *d, const double *y, uint32_t skip, uint32_t *out)
{
    hs_grid_t *g = &d->grid;
    const double r = d->params.scan_radius;
    int64_t lo[HS_GRID_MAX_DIMS], hi[HS_GRID_MAX_DIMS], cur[HS_GRID_MAX_DIMS];
    d->queries++;
    for (uint32_t i = 0; i < g->k; i++) {
        double m = r * (1.0 + 1e-9) + fabs(y[i]) * 1e-15;
        lo[i] = cell_of(y[i] - m, g->inv_radius);
        hi[i] = cell_of(y[i] + m, g->inv_radius);
        if (hi[i] - lo[i] >= MAX_SPAN) {
            return scan_window(d, y, skip, out);
        }
        cur[i] = lo[i];
    }
    uint32_t n = 0;
    for (;;) {
        uint32_t e = find(g, cur);
        for (uint32_t s = g->cell_head[e]; s != HS_NONE; s = g->next[s]) {
            if (s != skip && hs_within(y, d->pos + (size_t)s * d->dim, d->dim, d->radius2)) {
                out[n++] = s;
            }
        }
        uint32_t i = 0;
        while (i < g->k && cur[i] == hi[i]) {
            cur[i] = lo[i];
            i++;
        }
        if (i == g->k) {
            break;
        }
        cur[i]++;
    }
    return n;
}

/* Shared by the brute-force and incremental reports (brute.c, incremental.c), so both sit above
 * this file and below detector.c. */
double hs_density(const hs_detector_t *d, uint32_t count, const double *min, const double *max)
{
    double size = 1.0;
    for (uint32_t k = 0; k < d->dim; k++) {
        double width = max[k] - min[k];
        size *= width > d->min_width[k] ? width : d->min_width[k];
    }
    double density = (double)count / size;
    return density <= DBL_MAX ? density : DBL_MAX;
}
