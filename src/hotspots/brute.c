/* The brute-force reference: DBSCAN over the whole window from scratch, O(window^2) distances.
 *
 * It shares nothing with the incremental path except the distance test (hs_within) and the density
 * formula, so the tests comparing the two check the incremental bookkeeping against the definition.
 * Works on age indices (0 = oldest) in its own scratch arrays, leaving the incremental state alone. */
#include <string.h>

#include "hs_int.h"

static int adjacent(const hs_detector_t *d, const uint64_t *adj, size_t stride, uint32_t i,
                    uint32_t j)
{
    if (adj != NULL) {
        return (int)((adj[(size_t)i * stride + j / 64] >> (j % 64)) & 1u);
    }
    return hs_within(d->pos + (size_t)hs_slot(d, i) * d->dim,
                     d->pos + (size_t)hs_slot(d, j) * d->dim, d->dim, d->radius2);
}

void hs_brute_adjacency(const hs_detector_t *d, uint64_t *adj, size_t stride)
{
    uint32_t n = d->count;
    memset(adj, 0, (size_t)n * stride * sizeof(uint64_t));
    for (uint32_t i = 0; i < n; i++) {
        const double *a = d->pos + (size_t)hs_slot(d, i) * d->dim;
        for (uint32_t j = i + 1; j < n; j++) {
            if (hs_within(a, d->pos + (size_t)hs_slot(d, j) * d->dim, d->dim, d->radius2)) {
                adj[(size_t)i * stride + j / 64] |= 1ull << (j % 64);
                adj[(size_t)j * stride + i / 64] |= 1ull << (i % 64);
            }
        }
    }
}

void hs_brute_report(hs_detector_t *d, const uint64_t *adj, size_t stride, hs_report_t *rep)
{
    const uint32_t n = d->count;
    const uint32_t m = d->min_points;
    uint32_t *cnt = d->b_cnt, *cluster = d->b_label, *queue = d->b_queue;
    for (uint32_t i = 0; i < n; i++) {
        cnt[i] = 1;
        cluster[i] = HS_NONE;
    }
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t j = i + 1; j < n; j++) {
            if (adjacent(d, adj, stride, i, j)) {
                cnt[i]++;
                cnt[j]++;
            }
        }
    }
    /* Hotspots: connected components of the dense points. */
    uint32_t n_clusters = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (cnt[i] < m || cluster[i] != HS_NONE) {
            continue;
        }
        uint32_t c = n_clusters++;
        uint32_t qlen = 0, head = 0;
        cluster[i] = c;
        queue[qlen++] = i;
        while (head < qlen) {
            uint32_t u = queue[head++];
            for (uint32_t v = 0; v < n; v++) {
                if (cnt[v] >= m && cluster[v] == HS_NONE && v != u && adjacent(d, adj, stride, u, v)) {
                    cluster[v] = c;
                    queue[qlen++] = v;
                }
            }
        }
    }
    /* Borders: the hotspot of the newest (highest age index) dense neighbour. */
    for (uint32_t i = 0; i < n; i++) {
        if (cnt[i] >= m) {
            continue;
        }
        for (uint32_t j = n; j-- > 0;) {
            if (j != i && cnt[j] >= m && adjacent(d, adj, stride, i, j)) {
                cluster[i] = cluster[j];
                break;
            }
        }
    }
    if (n_clusters > d->report_cap) {
        n_clusters = (uint32_t)d->report_cap; /* cannot happen: at most window/2 hotspots */
    }
    for (uint32_t c = 0; c < n_clusters; c++) {
        rep->spots[c].count = 0;
        rep->spots[c].dense_count = 0;
        rep->spots[c].contains_new = 0;
        rep->spots[c].min_values = rep->bounds + (size_t)c * 2 * d->dim;
        rep->spots[c].max_values = rep->bounds + (size_t)c * 2 * d->dim + d->dim;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = cluster[i];
        if (c == HS_NONE || c >= n_clusters) {
            continue;
        }
        hs_hotspot_t *h = &rep->spots[c];
        const double *v = d->raw + (size_t)hs_slot(d, i) * d->dim;
        double *mn = rep->bounds + (size_t)c * 2 * d->dim, *mx = mn + d->dim;
        for (uint32_t k = 0; k < d->dim; k++) {
            if (h->count == 0 || v[k] < mn[k]) {
                mn[k] = v[k];
            }
            if (h->count == 0 || v[k] > mx[k]) {
                mx[k] = v[k];
            }
        }
        h->count++;
        h->dense_count += cnt[i] >= m;
        h->contains_new |= i + 1 == n;
    }
    for (uint32_t c = 0; c < n_clusters; c++) {
        hs_hotspot_t *h = &rep->spots[c];
        h->density = hs_density(d, h->count, h->min_values, h->max_values);
    }
    rep->n = n_clusters;
}
