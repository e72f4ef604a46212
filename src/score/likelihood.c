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

void rcfd_novelty_init(rcfd_novelty_t *nv, double memory)
{
    memset(nv, 0, sizeof *nv);
    nv->decay = exp(-1.0 / (memory >= 1.0 ? memory : 1.0));
}

/* Appends ring slot `slot` (already written) to the max queue. */
static void mq_push(rcfd_novelty_t *r, size_t slot)
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
static void mq_rebuild(rcfd_novelty_t *r)
{
    r->mq_head = r->mq_len = 0;
    size_t first = r->n == RCFD_NOVELTY_WINDOW ? r->pos : 0; /* rings fill from slot 0 */
    for (size_t k = 0; k < r->n; k++) {
        mq_push(r, (first + k) % RCFD_NOVELTY_WINDOW);
    }
}

double rcfd_novelty_update(rcfd_novelty_t *r, double x)
{
    if (isnan(x)) {
        return NAN;
    }
    /* max(0, the previous WINDOW scores): the queue's front; the oldest score, in the slot x is
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
        r->top[i] *= r->decay;
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
    return out;
}

/* ---- state ---- */

static const uint32_t layout[] = {RCFD_NOVELTY_WINDOW, RCFD_NOVELTY_RANK};
#define N_LAYOUT (sizeof layout / sizeof layout[0])

/* What versions 1 and 2 also held, for their readers: the periodic rule's rises, the level rule's
 * windows (LEVEL_K last values, LEVEL_WINDOW before them) and the layout constants after RANK. */
#define OLD_PERIOD_EVENTS 16
#define OLD_LEVEL_K 5
#define OLD_LEVEL_WINDOW 200
static const uint32_t old_layout[] = {RCFD_NOVELTY_WINDOW, RCFD_NOVELTY_RANK, OLD_PERIOD_EVENTS,
                                      OLD_LEVEL_K, OLD_LEVEL_WINDOW};
#define N_OLD_LAYOUT (sizeof old_layout / sizeof old_layout[0])

size_t rcfd_novelty_payload_size(const rcfd_novelty_t *nv)
{
    return 4 * N_LAYOUT + 4 + 4 + 8 * nv->n + 4 + 8 * nv->n_top;
}

static void put_f64s(rcfd_writer_t *w, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rcfd_put_f64(w, v[i]);
    }
}

void rcfd_novelty_write(const rcfd_novelty_t *nv, rcfd_writer_t *w)
{
    for (size_t i = 0; i < N_LAYOUT; i++) {
        rcfd_put_u32(w, layout[i]);
    }
    rcfd_put_u32(w, (uint32_t)nv->n);
    rcfd_put_u32(w, (uint32_t)nv->pos);
    put_f64s(w, nv->ring, nv->n);
    rcfd_put_u32(w, (uint32_t)nv->n_top);
    put_f64s(w, nv->top, nv->n_top);
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

/* A ring of n doubles of which `used` are filled, each finite (and >= 0 with nonneg); v NULL:
 * checked, not kept (a removed rule's). Version 1 stored all n, the unfilled ones 0 as the ring
 * was initialised; later versions store the used ones and the rest are set to 0 here. */
static int get_f64s(rcfd_snap_loader_t *l, const char *what, double *v, size_t n, size_t used,
                    int nonneg)
{
    if (l->version >= 2) {
        for (size_t i = used; v != NULL && i < n; i++) {
            v[i] = 0.0;
        }
        n = used;
    }
    for (size_t i = 0; i < n; i++) {
        size_t at = rcfd_snap_at(l);
        double x = rcfd_get_f64(&l->r);
        if (l->r.err) {
            return rcfd_snap_truncated(l, what);
        }
        int ok = i < used ? isfinite(x) && (!nonneg || x >= 0.0) : x == 0.0;
        if (!ok) {
            return rcfd_snap_bad_at(l, at, "%s: value %zu is %g", what, i, x);
        }
        if (v != NULL) {
            v[i] = x;
        }
    }
    return 0;
}

/* A window of scores and its largest rises (r NULL: the old level rule's, checked and dropped). */
static int get_rise(rcfd_snap_loader_t *l, const char *what, rcfd_novelty_t *r)
{
    size_t n, pos;
    int rc = get_ring(l, what, RCFD_NOVELTY_WINDOW, &n, &pos);
    rc = rc ? rc : get_f64s(l, what, r != NULL ? r->ring : NULL, RCFD_NOVELTY_WINDOW, n, 1);
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
    rc = get_f64s(l, what, r != NULL ? r->top : NULL, RCFD_NOVELTY_RANK, n_top, 1);
    if (r != NULL) {
        r->n = n;
        r->pos = pos;
        r->n_top = n_top;
        mq_rebuild(r);
    }
    return rc;
}

/* A version 1 or 2 field: its range and the level rule's windows, checked and dropped. */
static int skip_old_field(rcfd_snap_loader_t *l, size_t f)
{
    size_t at = rcfd_snap_at(l);
    double lo = rcfd_get_f64(&l->r), hi = rcfd_get_f64(&l->r);
    if (l->r.err) {
        return rcfd_snap_truncated(l, "a field's range");
    }
    int empty = lo == INFINITY && hi == -INFINITY;
    if (!empty && !(isfinite(lo) && isfinite(hi) && lo <= hi)) {
        return rcfd_snap_bad_at(l, at, "field %zu's range is [%g, %g]", f, lo, hi);
    }
    size_t n_recent, recent_pos, n_hist, hist_pos;
    int rc = get_ring(l, "a field's last values", OLD_LEVEL_K, &n_recent, &recent_pos);
    rc = rc ? rc : get_ring(l, "a field's level window", OLD_LEVEL_WINDOW, &n_hist, &hist_pos);
    rc = rc ? rc : get_f64s(l, "a field's last values", NULL, OLD_LEVEL_K, n_recent, 0);
    rc = rc ? rc : get_f64s(l, "a field's level window", NULL, OLD_LEVEL_WINDOW, n_hist, 0);
    if (rc == 0 && empty && (n_recent > 0 || n_hist > 0)) {
        return rcfd_snap_bad_at(l, at, "field %zu has level values but no range", f);
    }
    return rc;
}

/* Versions 1 and 2: the field count, their layout, records seen, the score's rises (kept), then
 * the level's rises, the periodic rule's and the fields' (checked, dropped). */
static int read_old(rcfd_novelty_t *nv, rcfd_snap_loader_t *l, size_t model_fields)
{
    size_t at = rcfd_snap_at(l);
    uint32_t n_fields = rcfd_get_u32(&l->r);
    uint32_t got[N_OLD_LAYOUT];
    for (size_t i = 0; i < N_OLD_LAYOUT; i++) {
        got[i] = rcfd_get_u32(&l->r);
    }
    uint64_t seen = rcfd_get_u64(&l->r);
    if (l->r.err) {
        return rcfd_snap_truncated(l, "the novelty's layout");
    }
    if (n_fields != model_fields) {
        return rcfd_snap_bad_at(l, at, "the novelty has %u fields, the model %zu", n_fields,
                                model_fields);
    }
    for (size_t i = 0; i < N_OLD_LAYOUT; i++) {
        if (got[i] != old_layout[i]) {
            return rcfd_snap_bad_at(l, at + 4 + 4 * i,
                                    "novelty layout constant %zu is %u, this build's is %u", i,
                                    got[i], old_layout[i]);
        }
    }
    int rc = get_rise(l, "the score's rises", nv);
    rc = rc ? rc : get_rise(l, "the level's rises", NULL);
    size_t n_ev, ev_pos;
    rc = rc ? rc : get_ring(l, "the periodic rises", OLD_PERIOD_EVENTS, &n_ev, &ev_pos);
    if (rc != 0) {
        return rc;
    }
    size_t stored = l->version >= 2 ? n_ev : OLD_PERIOD_EVENTS;
    for (size_t i = 0; i < stored; i++) {
        size_t t_at = rcfd_snap_at(l);
        uint64_t t = rcfd_get_u64(&l->r);
        if (!l->r.err && i < n_ev && t >= seen) {
            return rcfd_snap_bad_at(l, t_at,
                                    "periodic rise %zu at record %llu, after the %llu "
                                    "records seen",
                                    i, (unsigned long long)t, (unsigned long long)seen);
        }
    }
    rc = get_f64s(l, "the periodic rises", NULL, OLD_PERIOD_EVENTS, n_ev, 1);
    for (size_t f = 0; rc == 0 && f < n_fields; f++) {
        rc = skip_old_field(l, f);
    }
    return rc;
}

int rcfd_novelty_read(rcfd_novelty_t *nv, rcfd_snap_loader_t *l, uint32_t version, size_t n_fields)
{
    l->version = version;
    int rc;
    if (version < 3) {
        rc = read_old(nv, l, n_fields);
    } else {
        size_t at = rcfd_snap_at(l);
        uint32_t got[N_LAYOUT];
        for (size_t i = 0; i < N_LAYOUT; i++) {
            got[i] = rcfd_get_u32(&l->r);
        }
        if (l->r.err) {
            return rcfd_snap_truncated(l, "the novelty's layout");
        }
        for (size_t i = 0; i < N_LAYOUT; i++) {
            if (got[i] != layout[i]) {
                return rcfd_snap_bad_at(l, at + 4 * i,
                                        "novelty layout constant %zu is %u, this build's is %u", i,
                                        got[i], layout[i]);
            }
        }
        rc = get_rise(l, "the score's rises", nv);
    }
    if (rc == 0 && l->r.pos != l->r.len) {
        return rcfd_snap_bad(l, "%zu bytes after the novelty's state", l->r.len - l->r.pos);
    }
    return rc;
}
