/* Incremental DBSCAN over the sliding window.
 *
 * Per record: the oldest point leaves, then the new one enters. Neighbour counts change only for the
 * two points' neighbours (one grid query each). A point whose count crosses min_points changes
 * dense status; only then does clustering work happen:
 * - a new dense point joins (and merges) the hotspots of its dense neighbours and claims the border
 *   points it is now the newest dense neighbour of;
 * - a lost dense point may split its hotspot. The remaining dense points of that hotspot that were
 *   its neighbours ("seeds") each lie in one of the pieces, so a BFS from the first seed that
 *   reaches every seed proves nothing split; otherwise each exhausted BFS is a piece of its own.
 * Border points hang off their owner (the newest dense neighbour) and follow its hotspot through
 * merges and splits for free. When the oldest point leaves as a dense point, the borders it owned
 * have no other dense neighbour (every other point is newer, so it would own them), and become
 * noise without a query.
 *
 * Counts and bounding boxes are maintained on the fly; a removal that touches a hotspot's box (or a
 * split) marks it dirty, and dirty hotspots are recounted from their member lists at the end. */
#include <string.h>

#include "hs_int.h"

static double *cl_min(hs_detector_t *d, uint32_t c)
{
    return d->cl_bounds + (size_t)c * 2 * d->dim;
}

static void mark_dirty(hs_detector_t *d, uint32_t c)
{
    hs_cluster_t *cl = &d->clusters[c];
    if (cl->dirty) {
        return;
    }
    cl->dirty = 1;
    if (d->n_dirty < 2 * d->cluster_cap) {
        d->dirty[d->n_dirty++] = c;
    } else {
        d->all_dirty = 1;
    }
}

static uint32_t cluster_new(hs_detector_t *d)
{
    uint32_t c = d->free_ids[--d->n_free];
    hs_cluster_t *cl = &d->clusters[c];
    memset(cl, 0, sizeof *cl);
    cl->core_head = HS_NONE;
    cl->seed_head = HS_NONE;
    cl->active_pos = d->n_active;
    d->active[d->n_active++] = c;
    return c;
}

static void cluster_free(hs_detector_t *d, uint32_t c)
{
    hs_cluster_t *cl = &d->clusters[c];
    uint32_t last = d->active[--d->n_active];
    d->active[cl->active_pos] = last;
    d->clusters[last].active_pos = cl->active_pos;
    cl->active_pos = HS_NONE;
    d->free_ids[d->n_free++] = c;
}

static void member_add(hs_detector_t *d, uint32_t c, uint32_t slot)
{
    hs_cluster_t *cl = &d->clusters[c];
    if (!cl->dirty) {
        const double *x = d->raw + (size_t)slot * d->dim;
        double *mn = cl_min(d, c), *mx = mn + d->dim;
        if (cl->count == 0) {
            memcpy(mn, x, d->dim * sizeof(double));
            memcpy(mx, x, d->dim * sizeof(double));
        } else {
            for (uint32_t k = 0; k < d->dim; k++) {
                if (x[k] < mn[k]) {
                    mn[k] = x[k];
                }
                if (x[k] > mx[k]) {
                    mx[k] = x[k];
                }
            }
        }
    }
    cl->count++;
}

static void member_remove(hs_detector_t *d, uint32_t c, uint32_t slot)
{
    hs_cluster_t *cl = &d->clusters[c];
    cl->count--;
    if (cl->dirty) {
        return;
    }
    const double *x = d->raw + (size_t)slot * d->dim;
    const double *mn = cl_min(d, c), *mx = mn + d->dim;
    for (uint32_t k = 0; k < d->dim; k++) {
        if (x[k] == mn[k] || x[k] == mx[k]) {
            mark_dirty(d, c);
            return;
        }
    }
}

static void core_list_add(hs_detector_t *d, uint32_t c, uint32_t slot)
{
    hs_cluster_t *cl = &d->clusters[c];
    d->label[slot] = c;
    d->core_prev[slot] = HS_NONE;
    d->core_next[slot] = cl->core_head;
    if (cl->core_head != HS_NONE) {
        d->core_prev[cl->core_head] = slot;
    }
    cl->core_head = slot;
    cl->n_cores++;
}

static void core_list_remove(hs_detector_t *d, uint32_t slot)
{
    hs_cluster_t *cl = &d->clusters[d->label[slot]];
    if (d->core_prev[slot] != HS_NONE) {
        d->core_next[d->core_prev[slot]] = d->core_next[slot];
    } else {
        cl->core_head = d->core_next[slot];
    }
    if (d->core_next[slot] != HS_NONE) {
        d->core_prev[d->core_next[slot]] = d->core_prev[slot];
    }
    cl->n_cores--;
    d->label[slot] = HS_NONE;
}

static void border_attach(hs_detector_t *d, uint32_t x, uint32_t owner)
{
    d->owner[x] = owner;
    d->own_prev[x] = HS_NONE;
    d->own_next[x] = d->own_head[owner];
    if (d->own_head[owner] != HS_NONE) {
        d->own_prev[d->own_head[owner]] = x;
    }
    d->own_head[owner] = x;
    member_add(d, d->label[owner], x);
}

static void border_detach(hs_detector_t *d, uint32_t x)
{
    uint32_t o = d->owner[x];
    if (d->own_prev[x] != HS_NONE) {
        d->own_next[d->own_prev[x]] = d->own_next[x];
    } else {
        d->own_head[o] = d->own_next[x];
    }
    if (d->own_next[x] != HS_NONE) {
        d->own_prev[d->own_next[x]] = d->own_prev[x];
    }
    d->owner[x] = HS_NONE;
    member_remove(d, d->label[o], x);
}

/* Merges the smaller hotspot (by dense points) into the larger; returns the survivor. */
static uint32_t merge(hs_detector_t *d, uint32_t a, uint32_t b)
{
    if (d->clusters[a].n_cores < d->clusters[b].n_cores) {
        uint32_t t = a;
        a = b;
        b = t;
    }
    hs_cluster_t *ca = &d->clusters[a], *cb = &d->clusters[b];
    uint32_t s = cb->core_head;
    while (s != HS_NONE) {
        uint32_t next = d->core_next[s];
        d->label[s] = a;
        d->core_prev[s] = HS_NONE;
        d->core_next[s] = ca->core_head;
        if (ca->core_head != HS_NONE) {
            d->core_prev[ca->core_head] = s;
        }
        ca->core_head = s;
        s = next;
    }
    ca->n_cores += cb->n_cores;
    if (!ca->dirty && !cb->dirty && cb->count > 0) {
        double *mna = cl_min(d, a), *mxa = mna + d->dim;
        const double *mnb = cl_min(d, b), *mxb = mnb + d->dim;
        for (uint32_t k = 0; k < d->dim; k++) {
            if (ca->count == 0 || mnb[k] < mna[k]) {
                mna[k] = mnb[k];
            }
            if (ca->count == 0 || mxb[k] > mxa[k]) {
                mxa[k] = mxb[k];
            }
        }
    } else if (cb->dirty) {
        mark_dirty(d, a);
    }
    ca->count += cb->count;
    cluster_free(d, b);
    d->merges++;
    return a;
}

/* Recounts a hotspot and its box from its dense points and the borders they own. */
static void recompute(hs_detector_t *d, uint32_t c)
{
    hs_cluster_t *cl = &d->clusters[c];
    double *mn = cl_min(d, c), *mx = mn + d->dim;
    uint32_t count = 0;
    for (uint32_t s = cl->core_head; s != HS_NONE; s = d->core_next[s]) {
        uint32_t x = s;
        uint32_t b = d->own_head[s];
        for (;;) {
            const double *v = d->raw + (size_t)x * d->dim;
            if (count == 0) {
                memcpy(mn, v, d->dim * sizeof(double));
                memcpy(mx, v, d->dim * sizeof(double));
            } else {
                for (uint32_t k = 0; k < d->dim; k++) {
                    if (v[k] < mn[k]) {
                        mn[k] = v[k];
                    }
                    if (v[k] > mx[k]) {
                        mx[k] = v[k];
                    }
                }
            }
            count++;
            if (b == HS_NONE) {
                break;
            }
            x = b;
            b = d->own_next[b];
        }
    }
    cl->count = count;
    cl->dirty = 0;
}

void hs_inc_reset(hs_detector_t *d)
{
    memset(d->label, 0xff, sizeof(uint32_t) * d->window);
    memset(d->owner, 0xff, sizeof(uint32_t) * d->window);
    memset(d->own_head, 0xff, sizeof(uint32_t) * d->window);
    memset(d->cnt, 0, sizeof(uint32_t) * d->window);
    memset(d->stamp, 0, sizeof(uint32_t) * d->window);
    memset(d->seed_mark, 0, sizeof(uint32_t) * d->window);
    d->epoch = 0;
    d->seed_epoch = 0;
    d->n_active = 0;
    d->n_free = d->cluster_cap;
    for (uint32_t i = 0; i < d->cluster_cap; i++) {
        d->free_ids[i] = d->cluster_cap - 1 - i;
        d->clusters[i].active_pos = HS_NONE;
    }
    d->n_dirty = 0;
    d->all_dirty = 0;
}

/* Queues hotspot c for split() (which also frees it once it has no dense point left). */
static void touch(hs_detector_t *d, uint32_t c, uint32_t *affected, uint32_t *n_affected)
{
    hs_cluster_t *cl = &d->clusters[c];
    if (!cl->in_seed_list) {
        cl->in_seed_list = 1;
        affected[(*n_affected)++] = c;
    }
}

static void add_seed(hs_detector_t *d, uint32_t c, uint32_t x, uint32_t *affected,
                     uint32_t *n_affected)
{
    if (d->seed_mark[x] == d->seed_epoch) {
        return;
    }
    d->seed_mark[x] = d->seed_epoch;
    hs_cluster_t *cl = &d->clusters[c];
    d->seed_next[x] = cl->seed_head;
    cl->seed_head = x;
    touch(d, c, affected, n_affected);
}

static uint32_t next_epoch(uint32_t *epoch, uint32_t *marks, uint32_t n)
{
    if (++*epoch == 0) {
        memset(marks, 0, sizeof(uint32_t) * n);
        *epoch = 1;
    }
    return *epoch;
}

/* Splits hotspot c into its connected pieces after it lost dense points (see the file comment). */
static void split(hs_detector_t *d, uint32_t c)
{
    hs_cluster_t *cl = &d->clusters[c];
    uint32_t n_seeds = 0;
    for (uint32_t s = cl->seed_head; s != HS_NONE; s = d->seed_next[s]) {
        n_seeds++;
    }
    uint32_t seeds = cl->seed_head;
    cl->seed_head = HS_NONE;
    cl->in_seed_list = 0;
    if (cl->n_cores == 0) {
        cluster_free(d, c); /* every member was detached with its dense points */
        return;
    }
    mark_dirty(d, c);
    if (n_seeds <= 1) {
        return;
    }
    uint32_t epoch = next_epoch(&d->epoch, d->stamp, d->window);
    uint32_t remaining = n_seeds;
    uint32_t qlen = 0;
    /* Seeds lie within 2 radii of each other, so expanding reached seeds first (a stack beside the
     * FIFO) usually connects them all in a few queries instead of flooding the whole hotspot. */
    uint32_t *seed_stack = d->pending;
    for (uint32_t s = seeds; s != HS_NONE; s = d->seed_next[s]) {
        if (d->stamp[s] == epoch) {
            continue;
        }
        uint32_t start = qlen, head = qlen, sp = 0;
        d->queue[qlen++] = s;
        d->stamp[s] = epoch;
        seed_stack[sp++] = s;
        remaining--;
        while (remaining > 0) {
            uint32_t u;
            if (sp > 0) {
                u = seed_stack[--sp];
            } else if (head < qlen) {
                u = d->queue[head++];
                if (d->seed_mark[u] == d->seed_epoch) {
                    continue; /* expanded from the stack already */
                }
            } else {
                break;
            }
            uint32_t n = hs_grid_query(d, d->pos + (size_t)u * d->dim, u, d->nbr2);
            for (uint32_t i = 0; i < n; i++) {
                uint32_t v = d->nbr2[i];
                if (d->label[v] == c && d->stamp[v] != epoch) {
                    d->stamp[v] = epoch;
                    d->queue[qlen++] = v;
                    if (d->seed_mark[v] == d->seed_epoch) {
                        seed_stack[sp++] = v;
                        remaining--;
                    }
                }
            }
        }
        if (remaining == 0) {
            break; /* this piece holds every seed left: it keeps the id */
        }
        /* The BFS ran dry with seeds unreached: queue[start..qlen) is a piece of its own. */
        uint32_t piece = cluster_new(d);
        mark_dirty(d, piece);
        for (uint32_t i = start; i < qlen; i++) {
            core_list_remove(d, d->queue[i]);
            core_list_add(d, piece, d->queue[i]);
        }
        d->splits++;
    }
}

/* Newest dense point among n neighbours, HS_NONE if none. */
static uint32_t newest_dense(const hs_detector_t *d, const uint32_t *nbr, uint32_t n)
{
    uint32_t best = HS_NONE;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t x = nbr[i];
        if (d->cnt[x] >= d->min_points && (best == HS_NONE || d->seq[x] > d->seq[best])) {
            best = x;
        }
    }
    return best;
}

void hs_inc_delete_oldest(hs_detector_t *d)
{
    const uint32_t m = d->min_points;
    uint32_t q = d->head;
    hs_grid_remove(&d->grid, q);
    d->head = d->head + 1 == d->window ? 0 : d->head + 1;
    d->count--;
    uint32_t nq = hs_grid_query(d, d->pos + (size_t)q * d->dim, HS_NONE, d->nbr);

    uint32_t n_lost = 0; /* dense points that fell below min_points */
    for (uint32_t i = 0; i < nq; i++) {
        uint32_t x = d->nbr[i];
        if (d->cnt[x]-- == m) {
            d->list_a[n_lost++] = x;
        }
    }
    next_epoch(&d->seed_epoch, d->seed_mark, d->window);
    uint32_t *affected = d->queue; /* reused: the BFS runs only after seeds are gathered */
    uint32_t n_affected = 0;
    uint32_t *collected = d->list_b;
    uint32_t n_orphans = 0;

    uint32_t qc = d->label[q];
    if (qc != HS_NONE) {
        for (uint32_t x = d->own_head[q]; x != HS_NONE; x = d->own_next[x]) {
            d->owner[x] = HS_NONE;
            member_remove(d, qc, x);
        }
        d->own_head[q] = HS_NONE;
        core_list_remove(d, q);
        member_remove(d, qc, q);
        touch(d, qc, affected, &n_affected);
        for (uint32_t i = 0; i < nq; i++) {
            uint32_t x = d->nbr[i];
            if (d->cnt[x] >= m && d->label[x] == qc) {
                add_seed(d, qc, x, affected, &n_affected);
            }
        }
    } else if (d->owner[q] != HS_NONE) {
        border_detach(d, q);
    }
    d->cnt[q] = 0;

    for (uint32_t i = 0; i < n_lost; i++) {
        uint32_t x = d->list_a[i];
        uint32_t c = d->label[x];
        uint32_t b = d->own_head[x];
        while (b != HS_NONE) {
            uint32_t next = d->own_next[b];
            d->owner[b] = HS_NONE;
            member_remove(d, c, b);
            collected[n_orphans++] = b;
            b = next;
        }
        d->own_head[x] = HS_NONE;
        uint32_t n = hs_grid_query(d, d->pos + (size_t)x * d->dim, x, d->nbr2);
        for (uint32_t j = 0; j < n; j++) {
            uint32_t y = d->nbr2[j];
            if (d->cnt[y] >= m && d->label[y] == c) {
                add_seed(d, c, y, affected, &n_affected);
            }
        }
        core_list_remove(d, x);
        member_remove(d, c, x);
        touch(d, c, affected, &n_affected);
        d->owner[x] = newest_dense(d, d->nbr2, n); /* attached once the labels are final */
    }
    for (uint32_t i = 0; i < n_orphans; i++) {
        uint32_t x = collected[i];
        uint32_t n = hs_grid_query(d, d->pos + (size_t)x * d->dim, x, d->nbr2);
        d->owner[x] = newest_dense(d, d->nbr2, n);
    }
    /* Splits need the queue; move the affected ids out of it first. */
    memcpy(d->nbr, affected, n_affected * sizeof(uint32_t));
    for (uint32_t i = 0; i < n_affected; i++) {
        split(d, d->nbr[i]);
    }
    for (uint32_t i = 0; i < n_lost + n_orphans; i++) {
        uint32_t x = i < n_lost ? d->list_a[i] : collected[i - n_lost];
        uint32_t o = d->owner[x];
        if (o != HS_NONE) {
            d->owner[x] = HS_NONE;
            border_attach(d, x, o);
        }
    }
}

/* x is dense from this record on; nbr holds its n neighbours. `fresh` is the record being inserted,
 * whose border status is settled last. */
static void make_dense(hs_detector_t *d, uint32_t x, const uint32_t *nbr, uint32_t n,
                       uint32_t fresh)
{
    if (d->owner[x] != HS_NONE) {
        border_detach(d, x);
    }
    uint32_t target = HS_NONE;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = d->label[nbr[i]];
        if (c != HS_NONE && c != target) {
            target = target == HS_NONE ? c : merge(d, target, c);
        }
    }
    if (target == HS_NONE) {
        target = cluster_new(d);
    }
    core_list_add(d, target, x);
    member_add(d, target, x);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t y = nbr[i];
        if (y == fresh || d->cnt[y] >= d->min_points) {
            continue;
        }
        uint32_t o = d->owner[y];
        if (o == HS_NONE || d->seq[x] > d->seq[o]) {
            if (o != HS_NONE) {
                border_detach(d, y);
            }
            border_attach(d, y, x);
        }
    }
}

void hs_inc_insert(hs_detector_t *d, uint32_t p)
{
    const uint32_t m = d->min_points;
    uint32_t np = hs_grid_query(d, d->pos + (size_t)p * d->dim, HS_NONE, d->nbr);
    d->cnt[p] = np + 1;
    d->label[p] = HS_NONE;
    d->owner[p] = HS_NONE;
    d->own_head[p] = HS_NONE;
    uint32_t n_gained = 0;
    for (uint32_t i = 0; i < np; i++) {
        uint32_t x = d->nbr[i];
        if (++d->cnt[x] == m) {
            d->list_a[n_gained++] = x;
        }
    }
    hs_grid_insert(&d->grid, p, d->pos + (size_t)p * d->dim);
    d->count++;
    if (d->cnt[p] >= m) {
        make_dense(d, p, d->nbr, np, p);
    }
    for (uint32_t i = 0; i < n_gained; i++) {
        uint32_t x = d->list_a[i];
        uint32_t n = hs_grid_query(d, d->pos + (size_t)x * d->dim, x, d->nbr2);
        make_dense(d, x, d->nbr2, n, p);
    }
    if (d->cnt[p] < m) {
        uint32_t o = newest_dense(d, d->nbr, np);
        if (o != HS_NONE) {
            border_attach(d, p, o);
        }
    }
}

void hs_inc_finish(hs_detector_t *d)
{
    if (d->all_dirty) {
        for (uint32_t i = 0; i < d->n_active; i++) {
            recompute(d, d->active[i]);
        }
        for (uint32_t i = 0; i < d->cluster_cap; i++) {
            d->clusters[i].dirty = 0;
        }
    } else {
        for (uint32_t i = 0; i < d->n_dirty; i++) {
            hs_cluster_t *cl = &d->clusters[d->dirty[i]];
            if (cl->active_pos != HS_NONE && cl->dirty) {
                recompute(d, d->dirty[i]);
            }
            cl->dirty = 0;
        }
    }
    d->n_dirty = 0;
    d->all_dirty = 0;
}

void hs_inc_report(hs_detector_t *d, hs_report_t *rep)
{
    uint32_t fresh = d->count > 0 ? hs_slot(d, d->count - 1) : HS_NONE;
    uint32_t fresh_cluster = HS_NONE;
    if (fresh != HS_NONE) {
        fresh_cluster = d->label[fresh] != HS_NONE ? d->label[fresh]
                        : d->owner[fresh] != HS_NONE ? d->label[d->owner[fresh]]
                                                     : HS_NONE;
    }
    size_t n = 0;
    for (uint32_t i = 0; i < d->n_active && n < d->report_cap; i++) {
        uint32_t c = d->active[i];
        const hs_cluster_t *cl = &d->clusters[c];
        hs_hotspot_t *h = &rep->spots[n];
        double *b = rep->bounds + n * 2 * d->dim;
        memcpy(b, cl_min(d, c), 2 * d->dim * sizeof(double));
        h->count = cl->count;
        h->dense_count = cl->n_cores;
        h->min_values = b;
        h->max_values = b + d->dim;
        h->contains_new = c == fresh_cluster;
        h->density = hs_density(d, h->count, h->min_values, h->max_values);
        n++;
    }
    rep->n = n;
}
