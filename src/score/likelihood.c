#include "score/likelihood.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rcfd/alloc.h"
#include "rcfd/status.h"

int rcfd_likelihood_init(rcfd_likelihood_t *lh, size_t learn)
{
    memset(lh, 0, sizeof *lh);
    lh->hist = rcfd_malloc(RCFD_LH_HISTORY * sizeof *lh->hist);
    lh->learn = learn;
    return lh->hist != NULL ? 0 : RCFD_ENOMEM;
}

void rcfd_likelihood_free(rcfd_likelihood_t *lh)
{
    rcfd_free(lh->hist);
    lh->hist = NULL;
}

static void estimate(rcfd_likelihood_t *lh)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < lh->hist_n; i++) {
        s += lh->hist[i];
    }
    double mean = s / (double)lh->hist_n;
    for (size_t i = 0; i < lh->hist_n; i++) {
        ss += (lh->hist[i] - mean) * (lh->hist[i] - mean);
    }
    double var = lh->hist_n > 1 ? ss / (double)(lh->hist_n - 1) : 0;
    /* A floor on the spread, relative to the level (Numenta floors the variance of [0,1] scores
     * at 1.5e-5): a perfectly flat history would otherwise make any change certain. */
    double floor_std = 1e-3 * (fabs(mean) > 1e-3 ? fabs(mean) : 1e-3);
    lh->mean = mean;
    lh->std = sqrt(var) > floor_std ? sqrt(var) : floor_std;
    lh->estimated = 1;
}

double rcfd_likelihood_update(rcfd_likelihood_t *lh, double score)
{
    if (isnan(score)) {
        return NAN;
    }
    if (lh->n == 0 && score == 0.0) {
        return 0.5; /* the model's warm-up zeros (RCF output_after) say nothing about the stream */
    }
    size_t slot = (size_t)(lh->n % RCFD_LH_SHORT);
    lh->short_sum += score - lh->shortw[slot];
    lh->shortw[slot] = score;
    lh->n++;
    double avg = lh->short_sum / (double)(lh->n < RCFD_LH_SHORT ? lh->n : RCFD_LH_SHORT);
    double out = 0.5;
    if (lh->estimated) {
        double z = (avg - lh->mean) / lh->std;
        /* one-sided: only scores above the usual level are anomalous */
        double tail = z > 0 ? 0.5 * erfc(z / sqrt(2.0)) : 0.5;
        double lik = 1.0 - tail;
        out = log(1.0000000001 - lik) / log(1.0 - 0.9999999999);
        out = out < 0 ? 0 : out > 1 ? 1 : out;
    }
    lh->hist[lh->hist_pos] = avg;
    lh->hist_pos = (lh->hist_pos + 1) % RCFD_LH_HISTORY;
    if (lh->hist_n < RCFD_LH_HISTORY) {
        lh->hist_n++;
    }
    if (lh->n >= lh->learn && (!lh->estimated || lh->n % RCFD_LH_REESTIMATE == 0)) {
        estimate(lh);
    }
    return out;
}

int rcfd_novelty_init(rcfd_novelty_t *nv, size_t n_fields, double memory, uint64_t warm)
{
    memset(nv, 0, sizeof *nv);
    nv->decay = exp(-1.0 / (memory >= 1.0 ? memory : 1.0));
    nv->n_fields = n_fields;
    nv->warm = warm;
    if (n_fields > 0) {
        nv->lo = rcfd_malloc(2 * n_fields * sizeof *nv->lo);
        nv->lv = rcfd_calloc(n_fields, sizeof *nv->lv);
        if (nv->lo == NULL || nv->lv == NULL) {
            rcfd_novelty_free(nv);
            return RCFD_ENOMEM;
        }
        nv->hi = nv->lo + n_fields;
        for (size_t i = 0; i < n_fields; i++) { /* empty: no value is beyond it */
            nv->lo[i] = INFINITY;
            nv->hi[i] = -INFINITY;
        }
    }
    return 0;
}

void rcfd_novelty_free(rcfd_novelty_t *nv)
{
    rcfd_free(nv->lo);
    rcfd_free(nv->lv);
    nv->lo = nv->hi = NULL;
    nv->lv = NULL;
}

/* Appends ring slot `slot` (already written) to the max queue. */
static void mq_push(rcfd_novelty_rise_t *r, size_t slot)
{
    double x = r->ring[slot];
    while (r->mq_len > 0 &&
           r->ring[r->mq[(r->mq_head + r->mq_len - 1) % RCFD_NOVELTY_WINDOW]] <= x) {
        r->mq_len--; /* never the maximum again: x is newer and at least as high */
    }
    r->mq[(r->mq_head + r->mq_len) % RCFD_NOVELTY_WINDOW] = (uint16_t)slot;
    r->mq_len++;
}

/* The max queue of a ring read from a snapshot: its slots, oldest first. */
static void mq_rebuild(rcfd_novelty_rise_t *r)
{
    r->mq_head = r->mq_len = 0;
    size_t first = r->n == RCFD_NOVELTY_WINDOW ? r->pos : 0; /* rings fill from slot 0 */
    for (size_t k = 0; k < r->n; k++) {
        mq_push(r, (first + k) % RCFD_NOVELTY_WINDOW);
    }
}

/* rise = x * max(0, x - FRACTION * max(previous WINDOW inputs)); returns rise / (FLOOR + the
 * RANK-th largest earlier rise, decayed) and sets *rise_out. */
static double rise_update(rcfd_novelty_rise_t *r, double decay, double x, double *rise_out)
{
    /* max(0, the previous WINDOW inputs): the queue's front; the oldest input, in the slot x is
     * about to take, leaves the window (it can only be the front). */
    double mx =
        r->mq_len > 0 && r->ring[r->mq[r->mq_head]] > 0.0 ? r->ring[r->mq[r->mq_head]] : 0.0;
    if (r->n == RCFD_NOVELTY_WINDOW && r->mq_len > 0 && r->mq[r->mq_head] == r->pos) {
        r->mq_head = (r->mq_head + 1) % RCFD_NOVELTY_WINDOW;
        r->mq_len--;
    }
    r->ring[r->pos] = x;
    mq_push(r, r->pos);
    r->pos = (r->pos + 1) % RCFD_NOVELTY_WINDOW;
    if (r->n < RCFD_NOVELTY_WINDOW) {
        r->n++;
    }
    double jump = x - RCFD_NOVELTY_FRACTION * mx;
    double rise = jump > 0.0 && x > 0.0 ? jump * x : 0.0;
    for (size_t i = 0; i < r->n_top; i++) {
        r->top[i] *= decay;
    }
    double scale = r->n_top == RCFD_NOVELTY_RANK ? r->top[RCFD_NOVELTY_RANK - 1] : 0.0;
    double out = rise / (RCFD_NOVELTY_FLOOR + scale);
    if (rise > 0.0 && (r->n_top < RCFD_NOVELTY_RANK || rise > r->top[r->n_top - 1])) {
        /* insertion into the short descending list; the smallest falls off when it is full */
        size_t i = r->n_top < RCFD_NOVELTY_RANK ? r->n_top++ : RCFD_NOVELTY_RANK - 1;
        for (; i > 0 && r->top[i - 1] < rise; i--) {
            r->top[i] = r->top[i - 1];
        }
        r->top[i] = rise;
    }
    *rise_out = rise;
    return out;
}

/* Whether a rise of score x at record t follows two earlier rises of about its height at t - d
 * and t - 2d (PERIOD_SLACK records either way); then remembers it. */
static int periodic(rcfd_novelty_t *nv, uint64_t t, double x)
{
    const size_t cap = RCFD_NOVELTY_PERIOD_EVENTS;
    const double h = RCFD_NOVELTY_PERIOD_HEIGHT * x;
    int out = 0;
    for (size_t j = 0; !out && j < nv->n_ev; j++) {
        size_t a = (nv->ev_pos + cap - 1 - j) % cap; /* newest first */
        int64_t d = (int64_t)(t - nv->ev_t[a]);
        if (d < RCFD_NOVELTY_PERIOD_MIN || nv->ev_score[a] < h) {
            continue;
        }
        int64_t want = (int64_t)nv->ev_t[a] - d;
        for (size_t k = 0; !out && k < nv->n_ev; k++) {
            int64_t off = (int64_t)nv->ev_t[k] - want;
            out = off >= -RCFD_NOVELTY_PERIOD_SLACK && off <= RCFD_NOVELTY_PERIOD_SLACK &&
                  nv->ev_score[k] >= h;
        }
    }
    nv->ev_t[nv->ev_pos] = t;
    nv->ev_score[nv->ev_pos] = x;
    nv->ev_pos = (nv->ev_pos + 1) % cap;
    if (nv->n_ev < cap) {
        nv->n_ev++;
    }
    return out;
}

/* Where x goes in the ascending a[0..n): before the first element not below it, or with
 * after_equal after the last element not above it (binary search). */
static size_t sorted_pos(const double *a, size_t n, double x, int after_equal)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (after_equal ? a[mid] <= x : a[mid] < x) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* One field's level value: log(1 + |mean of the last K values - median of the WINDOW before| /
 * their interquartile range), 0 until the window is full or the key is warm; then takes v in. */
static double level_update(rcfd_novelty_t *nv, size_t f, double v)
{
    rcfd_novelty_level_t *l = &nv->lv[f];
    const size_t k = RCFD_NOVELTY_LEVEL_K, w = RCFD_NOVELTY_LEVEL_WINDOW;
    if (l->n_recent == k) { /* the oldest of the last K moves into the window */
        double y = l->recent[l->recent_pos];
        size_t n = l->n_hist;
        if (n == w) { /* the oldest of the window leaves the sorted copy: its first copy */
            size_t i = sorted_pos(l->sorted, n, l->hist[l->hist_pos], 0);
            memmove(&l->sorted[i], &l->sorted[i + 1], (n - 1 - i) * sizeof *l->sorted);
            n--;
        }
        size_t lo = sorted_pos(l->sorted, n, y, 1); /* after every element equal to it */
        memmove(&l->sorted[lo + 1], &l->sorted[lo], (n - lo) * sizeof *l->sorted);
        l->sorted[lo] = y;
        l->hist[l->hist_pos] = y;
        l->hist_pos = (l->hist_pos + 1) % w;
        l->n_hist = n + 1;
    } else {
        l->n_recent++;
    }
    l->recent[l->recent_pos] = v;
    l->recent_pos = (l->recent_pos + 1) % k;
    if (l->n_hist < w || nv->seen < nv->warm) {
        return 0.0;
    }
    double sum = 0.0;
    for (size_t j = 0; j < k; j++) { /* oldest first, as the reference sums */
        sum += l->recent[(l->recent_pos + j) % k];
    }
    double spread = l->sorted[(3 * w) / 4] - l->sorted[w / 4];
    double range_floor = 1e-3 * (nv->hi[f] - nv->lo[f]);
    spread = spread > range_floor ? spread : range_floor;
    spread = spread > 1e-300 ? spread : 1e-300;
    return log1p(fabs(sum / (double)k - l->sorted[w / 2]) / spread);
}

/* Whether a value lies beyond the key's range by more than the tolerance; then widens the range. */
static int beyond_range(rcfd_novelty_t *nv, const double *values)
{
    int out = 0;
    for (size_t i = 0; i < nv->n_fields; i++) {
        double v = values[i];
        if (isnan(v)) {
            continue;
        }
        if (nv->seen >= nv->warm && nv->hi[i] > nv->lo[i]) {
            double slack = RCFD_NOVELTY_RANGE_TOLERANCE * (nv->hi[i] - nv->lo[i]);
            out |= v > nv->hi[i] + slack || v < nv->lo[i] - slack;
        }
        nv->lo[i] = v < nv->lo[i] ? v : nv->lo[i];
        nv->hi[i] = v > nv->hi[i] ? v : nv->hi[i];
    }
    return out;
}

double rcfd_novelty_update(rcfd_novelty_t *nv, double score, const double *values)
{
    if (isnan(score)) {
        return NAN;
    }
    double rise;
    double out = rise_update(&nv->score, nv->decay, score, &rise);
    if (rise > 0.0 && periodic(nv, nv->seen, score)) {
        out = 0.0;
    }
    double level = 0.0;
    int have = values != NULL && nv->lo != NULL;
    for (size_t f = 0; have && f < nv->n_fields; f++) {
        if (!isnan(values[f])) {
            double l = level_update(nv, f, values[f]);
            level = l > level ? l : level;
        }
    }
    double lrise;
    double lnov = RCFD_NOVELTY_LEVEL_WEIGHT * rise_update(&nv->level, nv->decay, level, &lrise);
    out = lnov > out ? lnov : out;
    if (have && beyond_range(nv, values) && out < RCFD_NOVELTY_EXTREME) {
        out = RCFD_NOVELTY_EXTREME;
    }
    nv->seen++;
    return out;
}

/* ---- state ---- */

static const uint32_t layout[] = {RCFD_NOVELTY_WINDOW, RCFD_NOVELTY_RANK,
                                  RCFD_NOVELTY_PERIOD_EVENTS, RCFD_NOVELTY_LEVEL_K,
                                  RCFD_NOVELTY_LEVEL_WINDOW};
#define N_LAYOUT (sizeof layout / sizeof layout[0])
/* Version 2 writes the filled part of each ring only (rings fill from slot 0); version 1 wrote
 * every slot. */
static size_t rise_bytes(const rcfd_novelty_rise_t *r)
{
    return 4 + 4 + 8 * r->n + 4 + 8 * r->n_top;
}

static size_t field_bytes(const rcfd_novelty_level_t *l)
{
    return 8 + 8 + 4 * 4 + 8 * (l->n_recent + l->n_hist);
}

size_t rcfd_novelty_payload_size(const rcfd_novelty_t *nv)
{
    size_t n = 4 + 4 * N_LAYOUT + 8 + rise_bytes(&nv->score) + rise_bytes(&nv->level) + 4 + 4 +
               16 * nv->n_ev;
    for (size_t f = 0; f < nv->n_fields; f++) {
        n += field_bytes(&nv->lv[f]);
    }
    return n;
}

static void put_f64s(rcfd_writer_t *w, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rcfd_put_f64(w, v[i]);
    }
}

static void put_rise(rcfd_writer_t *w, const rcfd_novelty_rise_t *r)
{
    rcfd_put_u32(w, (uint32_t)r->n);
    rcfd_put_u32(w, (uint32_t)r->pos);
    put_f64s(w, r->ring, r->n);
    rcfd_put_u32(w, (uint32_t)r->n_top);
    put_f64s(w, r->top, r->n_top);
}

void rcfd_novelty_write(const rcfd_novelty_t *nv, rcfd_writer_t *w)
{
    rcfd_put_u32(w, (uint32_t)nv->n_fields);
    for (size_t i = 0; i < N_LAYOUT; i++) {
        rcfd_put_u32(w, layout[i]);
    }
    rcfd_put_u64(w, nv->seen);
    put_rise(w, &nv->score);
    put_rise(w, &nv->level);
    rcfd_put_u32(w, (uint32_t)nv->n_ev);
    rcfd_put_u32(w, (uint32_t)nv->ev_pos);
    for (size_t i = 0; i < nv->n_ev; i++) {
        rcfd_put_u64(w, nv->ev_t[i]);
    }
    put_f64s(w, nv->ev_score, nv->n_ev);
    for (size_t f = 0; f < nv->n_fields; f++) {
        const rcfd_novelty_level_t *l = &nv->lv[f];
        rcfd_put_f64(w, nv->lo[f]);
        rcfd_put_f64(w, nv->hi[f]);
        rcfd_put_u32(w, (uint32_t)l->n_recent);
        rcfd_put_u32(w, (uint32_t)l->recent_pos);
        rcfd_put_u32(w, (uint32_t)l->n_hist);
        rcfd_put_u32(w, (uint32_t)l->hist_pos);
        put_f64s(w, l->recent, l->n_recent);
        put_f64s(w, l->hist, l->n_hist);
    }
}

/* A ring's count and next position: count <= cap, position < cap. */
static int get_ring(rcfd_snap_loader_t *l, const char *what, size_t cap, size_t *n, size_t *pos)
{
    size_t at = rcfd_snap_at(l);
    uint32_t a = rcfd_get_u32(&l->r), b = rcfd_get_u32(&l->r);
    if (l->r.err) {
        return rcfd_snap_truncated(l, what);
    }
    /* rings fill from slot 0, so until full the next position is the count */
    if (a > cap || b >= cap || (a < cap && b != a)) {
        return rcfd_snap_bad_at(l, at, "%s: count %u and position %u, the ring holds %zu", what, a,
                                b, cap);
    }
    *n = a;
    *pos = b;
    return 0;
}

/* A ring of n doubles of which `used` are filled, each finite (and >= 0 with nonneg). Version 1
 * stored all n, the unfilled ones 0 as the ring was initialised; version 2 stores the used ones
 * and the rest are set to 0 here. */
static int get_f64s(rcfd_snap_loader_t *l, const char *what, double *v, size_t n, size_t used,
                    int nonneg)
{
    if (l->version >= 2) {
        for (size_t i = used; i < n; i++) {
            v[i] = 0.0;
        }
        n = used;
    }
    for (size_t i = 0; i < n; i++) {
        size_t at = rcfd_snap_at(l);
        v[i] = rcfd_get_f64(&l->r);
        if (l->r.err) {
            return rcfd_snap_truncated(l, what);
        }
        int ok = i < used ? isfinite(v[i]) && (!nonneg || v[i] >= 0.0) : v[i] == 0.0;
        if (!ok) {
            return rcfd_snap_bad_at(l, at, "%s: value %zu is %g", what, i, v[i]);
        }
    }
    return 0;
}

static int get_rise(rcfd_snap_loader_t *l, const char *what, rcfd_novelty_rise_t *r)
{
    int rc = get_ring(l, what, RCFD_NOVELTY_WINDOW, &r->n, &r->pos);
    rc = rc ? rc : get_f64s(l, what, r->ring, RCFD_NOVELTY_WINDOW, r->n, 1);
    if (rc != 0) {
        return rc;
    }
    size_t at = rcfd_snap_at(l);
    uint32_t n_top = rcfd_get_u32(&l->r);
    if (l->r.err) {
        return rcfd_snap_truncated(l, what);
    }
    if (n_top > RCFD_NOVELTY_RANK) {
        return rcfd_snap_bad_at(l, at, "%s: %u largest rises, at most %d are kept", what, n_top,
                                RCFD_NOVELTY_RANK);
    }
    r->n_top = n_top;
    rc = get_f64s(l, what, r->top, RCFD_NOVELTY_RANK, n_top, 1);
    mq_rebuild(r);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int get_field(rcfd_snap_loader_t *l, rcfd_novelty_t *nv, size_t f)
{
    rcfd_novelty_level_t *lv = &nv->lv[f];
    size_t at = rcfd_snap_at(l);
    nv->lo[f] = rcfd_get_f64(&l->r);
    nv->hi[f] = rcfd_get_f64(&l->r);
    if (l->r.err) {
        return rcfd_snap_truncated(l, "a field's range");
    }
    int empty = nv->lo[f] == INFINITY && nv->hi[f] == -INFINITY;
    if (!empty && !(isfinite(nv->lo[f]) && isfinite(nv->hi[f]) && nv->lo[f] <= nv->hi[f])) {
        return rcfd_snap_bad_at(l, at, "field %zu's range is [%g, %g]", f, nv->lo[f], nv->hi[f]);
    }
    int rc =
        get_ring(l, "a field's last values", RCFD_NOVELTY_LEVEL_K, &lv->n_recent, &lv->recent_pos);
    /* hist_pos may equal 0 at a full window, so the window's ring checks as the others do */
    rc = rc ? rc
            : get_ring(l, "a field's level window", RCFD_NOVELTY_LEVEL_WINDOW, &lv->n_hist,
                       &lv->hist_pos);
    rc = rc ? rc
            : get_f64s(l, "a field's last values", lv->recent, RCFD_NOVELTY_LEVEL_K, lv->n_recent,
                       0);
    rc = rc ? rc
            : get_f64s(l, "a field's level window", lv->hist, RCFD_NOVELTY_LEVEL_WINDOW, lv->n_hist,
                       0);
    if (rc != 0) {
        return rc;
    }
    /* the sorted copy is derived: the window, sorted (its ±0s in either order, which no
     * level value can tell apart) */
    memcpy(lv->sorted, lv->hist, lv->n_hist * sizeof *lv->sorted);
    qsort(lv->sorted, lv->n_hist, sizeof *lv->sorted, cmp_double);
    if (empty && (lv->n_recent > 0 || lv->n_hist > 0)) {
        return rcfd_snap_bad_at(l, at, "field %zu has level values but no range", f);
    }
    return 0;
}

int rcfd_novelty_read(rcfd_novelty_t *nv, rcfd_snap_loader_t *l, uint32_t version)
{
    l->version = version;
    size_t at = rcfd_snap_at(l);
    uint32_t n_fields = rcfd_get_u32(&l->r);
    uint32_t got[N_LAYOUT];
    for (size_t i = 0; i < N_LAYOUT; i++) {
        got[i] = rcfd_get_u32(&l->r);
    }
    uint64_t seen = rcfd_get_u64(&l->r);
    if (l->r.err) {
        return rcfd_snap_truncated(l, "the novelty's layout");
    }
    if (n_fields != nv->n_fields) {
        return rcfd_snap_bad_at(l, at, "the novelty has %u fields, the model %zu", n_fields,
                                nv->n_fields);
    }
    for (size_t i = 0; i < N_LAYOUT; i++) {
        if (got[i] != layout[i]) {
            return rcfd_snap_bad_at(l, at + 4 + 4 * i,
                                    "novelty layout constant %zu is %u, this build's is %u", i,
                                    got[i], layout[i]);
        }
    }
    nv->seen = seen;
    int rc = get_rise(l, "the score's rises", &nv->score);
    rc = rc ? rc : get_rise(l, "the level's rises", &nv->level);
    rc = rc ? rc
            : get_ring(l, "the periodic rises", RCFD_NOVELTY_PERIOD_EVENTS, &nv->n_ev, &nv->ev_pos);
    if (rc != 0) {
        return rc;
    }
    size_t stored = version >= 2 ? nv->n_ev : RCFD_NOVELTY_PERIOD_EVENTS;
    for (size_t i = stored; i < RCFD_NOVELTY_PERIOD_EVENTS; i++) {
        nv->ev_t[i] = 0;
    }
    for (size_t i = 0; i < stored; i++) {
        size_t t_at = rcfd_snap_at(l);
        nv->ev_t[i] = rcfd_get_u64(&l->r);
        if (!l->r.err && i < nv->n_ev && nv->ev_t[i] >= seen) {
            return rcfd_snap_bad_at(l, t_at,
                                    "periodic rise %zu at record %llu, after the %llu "
                                    "records seen",
                                    i, (unsigned long long)nv->ev_t[i], (unsigned long long)seen);
        }
    }
    rc = get_f64s(l, "the periodic rises", nv->ev_score, RCFD_NOVELTY_PERIOD_EVENTS, nv->n_ev, 1);
    for (size_t f = 0; rc == 0 && f < nv->n_fields; f++) {
        rc = get_field(l, nv, f);
    }
    if (rc == 0 && l->r.pos != l->r.len) {
        return rcfd_snap_bad(l, "%zu bytes after the novelty's state", l->r.len - l->r.pos);
    }
    return rc;
}
