/* Forest snapshots: save to and load from a memory buffer.
 *
 * Payload, version 1 (little-endian; envelope in common/snapshot.h):
 *   params     u32 input_dim, u32 trees, u32 sample, u64 time_decay, u32 shingle,
 *              u64 output_after (resolved), u64 seed, u32 explain, f64 anomaly_rate, f64 z_factor
 *   counters   u64 records, u64 updates, u64 accepted, u64 explained
 *   baseline   f64 x input_dim
 *   threshold  2 x (f64 sum, f64 sum_sq, f64 weight, u64 count) for scores and below-mean gaps,
 *              f64 quantile, u64 count
 *   points     u64 log_len, u64 compact_at, u64 log_high_water, f32 x log_len x input_dim,
 *              u32 live, then live x (u32 id, u32 start)
 *   per tree   u64 rng, u32 sampler size, size x (f64 key, u32 point),
 *              then the tree in preorder: u8 tag (0 leaf: u32 point, u32 mass;
 *              1 internal: u32 cut_dim, f32 cut_val, then left and right subtrees; 2 empty tree)
 * Masses and boxes are not stored: the loader recomputes them from the leaves. Everything that
 * decides future behaviour (random generator states, sampler heaps, tree shapes and cuts) is stored
 * exactly, so a loaded forest continues bit for bit. Node and slot ids are not behaviour and are
 * reassigned on load. */
#include <math.h>
#include <string.h>

#include "common/errstr.h"
#include "common/snapshot.h"
#include "forest_int.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"

#define STATE_VERSION 1u

enum { TAG_LEAF = 0, TAG_INTERNAL = 1, TAG_EMPTY = 2 };

#define TREE_ENTRY_BYTES 9u /* tag + two 4-byte fields */

static size_t payload_size(const rcf_forest_t *f)
{
    const rcf_params_t *p = &f->params;
    size_t n = 60 + 32 + 8 * (size_t)p->input_dim + 80;
    n += 24 + (size_t)f->ps.log_len * p->input_dim * 4 + 4 + (size_t)f->ps.live * 8;
    for (uint32_t i = 0; i < p->number_of_trees; i++) {
        const rcf_tree_t *t = &f->trees[i];
        n += 8 + 4 + (size_t)f->samplers[i].size * 12;
        if (t->root == RCF_TREE_NULL) {
            n += 1;
        } else {
            size_t internal = (t->capacity - 1) - t->node_free_top;
            size_t leaves = t->capacity - t->leaf_free_top;
            n += (internal + leaves) * TREE_ENTRY_BYTES;
        }
    }
    return n;
}

size_t rcf_forest_snapshot_size(const rcf_forest_t *f)
{
    return RCFD_SNAP_HEADER_SIZE + payload_size(f);
}

static void write_tree(rcfd_writer_t *w, const rcf_tree_t *t, uint32_t *stack)
{
    if (t->root == RCF_TREE_NULL) {
        rcfd_put_u8(w, TAG_EMPTY);
        return;
    }
    uint32_t sp = 0;
    stack[sp++] = t->root;
    while (sp > 0) {
        uint32_t n = stack[--sp];
        if (tree_is_leaf(t, n)) {
            uint32_t slot = tree_leaf_slot(t, n);
            rcfd_put_u8(w, TAG_LEAF);
            rcfd_put_u32(w, t->leaf_point[slot]);
            rcfd_put_u32(w, t->leaf_mass[slot]);
        } else {
            rcfd_put_u8(w, TAG_INTERNAL);
            rcfd_put_u32(w, t->node[n].cut_dim);
            rcfd_put_f32(w, t->node[n].cut_val);
            stack[sp++] = t->node[n].child[1];
            stack[sp++] = t->node[n].child[0];
        }
    }
}

int rcf_forest_save(const rcf_forest_t *f, void *buf, size_t cap, size_t *len)
{
    if (f == NULL || len == NULL) {
        return RCFD_EINVAL;
    }
    const rcf_params_t *p = &f->params;
    size_t payload = payload_size(f);
    *len = RCFD_SNAP_HEADER_SIZE + payload;
    if (buf == NULL || cap < *len) {
        return RCFD_ENOBUFS;
    }
    uint32_t *stack = rcfd_malloc(sizeof(uint32_t) * p->sub_sample_size);
    if (stack == NULL) {
        return RCFD_ENOMEM;
    }
    rcfd_writer_t w = {(unsigned char *)buf + RCFD_SNAP_HEADER_SIZE, 0, payload};
    rcfd_put_u32(&w, p->input_dim);
    rcfd_put_u32(&w, p->number_of_trees);
    rcfd_put_u32(&w, p->sub_sample_size);
    rcfd_put_u64(&w, p->time_decay);
    rcfd_put_u32(&w, p->shingle_size);
    rcfd_put_u64(&w, (uint64_t)p->output_after);
    rcfd_put_u64(&w, p->seed);
    rcfd_put_u32(&w, (uint32_t)p->explain);
    rcfd_put_f64(&w, p->anomaly_rate);
    rcfd_put_f64(&w, p->z_factor);
    rcfd_put_u64(&w, f->records);
    rcfd_put_u64(&w, f->updates);
    rcfd_put_u64(&w, f->accepted);
    rcfd_put_u64(&w, f->explained);
    for (uint32_t c = 0; c < p->input_dim; c++) {
        rcfd_put_f64(&w, f->baseline[c]);
    }
    const thresholder_t *th = &f->thresholder;
    const ema_stats_t *stats[2] = {&th->scores, &th->below};
    for (int k = 0; k < 2; k++) {
        rcfd_put_f64(&w, stats[k]->sum);
        rcfd_put_f64(&w, stats[k]->sum_sq);
        rcfd_put_f64(&w, stats[k]->weight);
        rcfd_put_u64(&w, stats[k]->count);
    }
    rcfd_put_f64(&w, th->quantile);
    rcfd_put_u64(&w, th->count);

    const pointstore_t *ps = &f->ps;
    rcfd_put_u64(&w, ps->log_len);
    rcfd_put_u64(&w, ps->compact_at);
    rcfd_put_u64(&w, ps->log_high_water);
    rcfd_put_f32s(&w, ps->log, (size_t)ps->log_len * ps->base_dim);
    rcfd_put_u32(&w, ps->live);
    for (uint32_t id = 0; id < ps->capacity; id++) {
        if (ps->refs[id] != 0) {
            rcfd_put_u32(&w, id);
            rcfd_put_u32(&w, ps->start[id]);
        }
    }

    for (uint32_t i = 0; i < p->number_of_trees; i++) {
        const sampler_t *s = &f->samplers[i];
        rcfd_put_u64(&w, f->trees[i].rng);
        rcfd_put_u32(&w, s->size);
        for (uint32_t k = 0; k < s->size; k++) {
            rcfd_put_f64(&w, s->key[k]);
            rcfd_put_u32(&w, s->point[k]);
        }
        write_tree(&w, &f->trees[i], stack);
    }
    rcfd_free(stack);
    rcfd_snap_seal(buf, RCFD_SNAP_KIND_RCF, STATE_VERSION, w.len);
    return 0;
}

/* ---- loading ------------------------------------------------------------------------------- */

typedef struct loader {
    rcfd_snap_loader_t in; /* the payload reader and the caller's errstr */
    rcf_forest_t *f;
    uint8_t *declared;   /* [point capacity] 1 if the point section listed the id */
    uint32_t *count;     /* [point capacity] sampler entries per point, for one tree */
} loader_t;

static int read_params(loader_t *l, rcf_params_t *p)
{
    rcfd_reader_t *r = &l->in.r;
    p->input_dim = rcfd_get_u32(r);
    p->number_of_trees = rcfd_get_u32(r);
    p->sub_sample_size = rcfd_get_u32(r);
    p->time_decay = rcfd_get_u64(r);
    p->shingle_size = rcfd_get_u32(r);
    uint64_t output_after = rcfd_get_u64(r);
    p->seed = rcfd_get_u64(r);
    uint32_t explain = rcfd_get_u32(r);
    p->anomaly_rate = rcfd_get_f64(r);
    p->z_factor = rcfd_get_f64(r);
    if (r->err) {
        return rcfd_snap_truncated(&l->in, "parameters");
    }
    if (output_after > INT64_MAX) {
        return rcfd_snap_bad(&l->in, "outputAfter %llu out of range",
                             (unsigned long long)(output_after));
    }
    p->output_after = (int64_t)output_after;
    p->explain = explain > 1 ? -1 : (int)explain;
    char why[200];
    int rc = rcf_params_validate(p, why, sizeof why);
    if (rc != 0) {
        return rcfd_errf(RCFD_EBADSTATE, l->in.errstr, l->in.errstr_size,
                         "snapshot parameters are invalid: %s", why);
    }
    return 0;
}

static int read_points(loader_t *l)
{
    rcf_forest_t *f = l->f;
    pointstore_t *ps = &f->ps;
    rcfd_reader_t *r = &l->in.r;
    const uint32_t s = f->params.shingle_size;
    uint64_t log_len = rcfd_get_u64(r);
    uint64_t compact_at = rcfd_get_u64(r);
    uint64_t high_water = rcfd_get_u64(r);
    if (r->err) {
        return rcfd_snap_truncated(&l->in, "the point store header");
    }
    uint64_t tail = f->records < s - 1 ? f->records : s - 1;
    if (log_len > ps->log_cap || log_len > f->records || log_len < tail) {
        return rcfd_snap_bad(&l->in,
                             "point store holds %llu records, inconsistent with %llu records seen",
                             (unsigned long long)(log_len), (unsigned long long)(f->records));
    }
    if (compact_at < log_len || compact_at > ps->log_cap ||
        compact_at < pointstore_min_compact_mark(ps)) {
        return rcfd_snap_bad(&l->in, "compaction mark %llu outside %llu..capacity",
                             (unsigned long long)(compact_at), (unsigned long long)(log_len));
    }
    if (high_water < log_len || high_water > ps->log_cap) {
        return rcfd_snap_bad(&l->in, "high-water mark %llu below %llu records held",
                             (unsigned long long)(high_water), (unsigned long long)(log_len));
    }
    size_t n_values = (size_t)log_len * ps->base_dim;
    if (!rcfd_reader_has(r, n_values, 4)) {
        return rcfd_snap_truncated(&l->in, "the point store values");
    }
    rcfd_get_f32s(r, ps->log, n_values);
    for (size_t i = 0; i < n_values; i++) {
        if (!isfinite(ps->log[i])) {
            return rcfd_snap_bad(&l->in, "point store value %llu is not finite",
                                 (unsigned long long)(i));
        }
    }
    ps->log_len = log_len;
    ps->compact_at = compact_at;
    ps->log_high_water = high_water;

    uint32_t live = rcfd_get_u32(r);
    if (r->err) {
        return rcfd_snap_truncated(&l->in, "the point count");
    }
    if (live > ps->capacity - 1 || !rcfd_reader_has(r, live, 8)) {
        return live > ps->capacity - 1
                   ? rcfd_snap_bad(&l->in, "%llu live points exceed the capacity %llu",
                                   (unsigned long long)(live),
                                   (unsigned long long)(ps->capacity - 1))
                   : rcfd_snap_truncated(&l->in, "the point list");
    }
    for (uint32_t k = 0; k < live; k++) {
        uint32_t id = rcfd_get_u32(r);
        uint32_t start = rcfd_get_u32(r);
        if (id >= ps->capacity || l->declared[id]) {
            return rcfd_snap_bad(&l->in,
                                 "point id %llu is out of range or listed twice (capacity %llu)",
                                 (unsigned long long)(id), (unsigned long long)(ps->capacity));
        }
        if ((uint64_t)start + s > log_len) {
            return rcfd_snap_bad(&l->in, "point starts at record %llu, past the %llu records held",
                                 (unsigned long long)(start), (unsigned long long)(log_len));
        }
        l->declared[id] = 1;
        ps->start[id] = start;
    }
    return 0;
}

static int read_sampler(loader_t *l, uint32_t tree)
{
    rcf_forest_t *f = l->f;
    sampler_t *s = &f->samplers[tree];
    rcfd_reader_t *r = &l->in.r;
    f->trees[tree].rng = rcfd_get_u64(r);
    uint32_t size = rcfd_get_u32(r);
    if (r->err) {
        return rcfd_snap_truncated(&l->in, "a sampler header");
    }
    if (size > s->capacity) {
        return rcfd_snap_bad(&l->in, "sampler holds %llu points, more than subSampleSize %llu",
                             (unsigned long long)(size), (unsigned long long)(s->capacity));
    }
    if (!rcfd_reader_has(r, size, 12)) {
        return rcfd_snap_truncated(&l->in, "sampler entries");
    }
    s->size = size;
    for (uint32_t k = 0; k < size; k++) {
        s->key[k] = rcfd_get_f64(r);
        s->point[k] = rcfd_get_u32(r);
        if (!isfinite(s->key[k])) {
            return rcfd_snap_bad(&l->in, "tree %llu sampler key %llu is not finite",
                                 (unsigned long long)(tree), (unsigned long long)(k));
        }
        if (s->point[k] >= f->ps.capacity || !l->declared[s->point[k]]) {
            return rcfd_snap_bad(&l->in, "tree %llu sampler references undeclared point %llu",
                                 (unsigned long long)(tree), (unsigned long long)(s->point[k]));
        }
        l->count[s->point[k]]++;
        f->ps.refs[s->point[k]]++;
    }
    s->max_key = size > 0 ? s->key[0] : 0.0;
    s->skip_u = 0.0; /* the accept shortcut recomputes its bound (forest.c) */
    if (!sampler_is_heap(s)) {
        return rcfd_snap_bad(&l->in, "tree %llu sampler keys are not a max-heap",
                             (unsigned long long)(tree));
    }
    return 0;
}

/* Decodes a preorder tree. Pending child slots are kept on f->path as (node << 1 | side), with
 * UINT32_MAX standing for the root. */
static int read_tree(loader_t *l, uint32_t index)
{
    rcf_forest_t *f = l->f;
    rcf_tree_t *t = &f->trees[index];
    rcfd_reader_t *r = &l->in.r;
    uint32_t *pending = f->path;
    uint32_t sp = 0;
    uint64_t leaf_mass_sum = 0;
    pending[sp++] = UINT32_MAX;
    int first = 1;
    while (sp > 0) {
        uint32_t slot = pending[--sp];
        uint8_t tag = rcfd_get_u8(r);
        if (r->err) {
            return rcfd_snap_truncated(&l->in, "a tree");
        }
        uint32_t ref;
        if (tag == TAG_EMPTY && first) {
            break;
        } else if (tag == TAG_LEAF) {
            uint32_t point = rcfd_get_u32(r);
            uint32_t mass = rcfd_get_u32(r);
            if (r->err) {
                return rcfd_snap_truncated(&l->in, "a leaf");
            }
            if (point >= f->ps.capacity || !l->declared[point] || mass == 0 ||
                l->count[point] != mass) {
                return rcfd_snap_bad(&l->in,
                                     "tree %llu: leaf for point %llu disagrees with the sampler",
                                     (unsigned long long)(index), (unsigned long long)(point));
            }
            l->count[point] = 0; /* a second leaf for the same point now fails the check above */
            ref = tree_new_leaf(t, point, mass);
            if (ref == RCF_TREE_NULL) {
                return rcfd_snap_bad(&l->in, "tree %llu has more than %llu leaves",
                                     (unsigned long long)(index),
                                     (unsigned long long)(t->capacity));
            }
            leaf_mass_sum += mass;
        } else if (tag == TAG_INTERNAL) {
            uint32_t dim = rcfd_get_u32(r);
            float cut = rcfd_get_f32(r);
            if (r->err) {
                return rcfd_snap_truncated(&l->in, "an internal node");
            }
            if (dim >= f->dim || !isfinite(cut)) {
                return rcfd_snap_bad(&l->in,
                                     "tree %llu: cut dimension %llu out of range or cut not finite",
                                     (unsigned long long)(index), (unsigned long long)(dim));
            }
            ref = tree_new_node(t);
            if (ref == RCF_TREE_NULL || sp + 2 > t->capacity) {
                return rcfd_snap_bad(&l->in, "tree %llu has more than %llu internal nodes",
                                     (unsigned long long)(index),
                                     (unsigned long long)(t->capacity - 1));
            }
            t->node[ref].cut_dim = dim;
            t->node[ref].cut_val = cut;
            pending[sp++] = ref << 1 | 1u;
            pending[sp++] = ref << 1;
        } else {
            return rcfd_snap_bad(&l->in, "tree %llu: unknown node tag %llu",
                                 (unsigned long long)(index), (unsigned long long)(tag));
        }
        if (slot == UINT32_MAX) {
            t->root = ref;
        } else {
            t->node[slot >> 1].child[slot & 1u] = ref;
        }
        first = 0;
    }
    if (leaf_mass_sum != f->samplers[index].size) {
        return rcfd_snap_bad(&l->in, "tree %llu leaf masses sum to %llu, not the sampler size",
                             (unsigned long long)(index), (unsigned long long)(leaf_mass_sum));
    }
    tree_rebuild_boxes(t, &f->ps, f->path, f->path2);

    /* Every leaf must sit where its own cuts lead, or deletes and duplicate checks go wrong. */
    for (uint32_t slot = 0; slot < t->capacity; slot++) {
        if (t->leaf_mass[slot] == 0) {
            continue;
        }
        const float *y = pointstore_values(&f->ps, t->leaf_point[slot]);
        uint32_t n = t->root;
        while (!tree_is_leaf(t, n)) {
            n = t->node[n].child[y[t->node[n].cut_dim] > t->node[n].cut_val];
        }
        if (tree_leaf_slot(t, n) != slot) {
            return rcfd_snap_bad(
                &l->in, "tree %llu: point %llu is not in the leaf its cuts lead to",
                (unsigned long long)(index), (unsigned long long)(t->leaf_point[slot]));
        }
    }
    return 0;
}

int rcf_forest_load(const void *buf, size_t len, rcf_forest_t **out, char *errstr,
                    size_t errstr_size)
{
    if (out == NULL) {
        return rcfd_errf(RCFD_EINVAL, errstr, errstr_size, "out is NULL");
    }
    *out = NULL;
    const unsigned char *payload;
    size_t payload_len;
    int rc = rcfd_snap_open_version(buf, len, RCFD_SNAP_KIND_RCF, STATE_VERSION, "forest snapshot",
                                    &payload, &payload_len, errstr, errstr_size);
    if (rc != 0) {
        return rc;
    }
    loader_t l = {.in = {{payload, payload_len, 0, 0}, errstr, errstr_size}};
    rcf_params_t params;
    rc = read_params(&l, &params);
    if (rc != 0) {
        return rc;
    }
    rcfd_reader_t *r = &l.in.r;
    uint64_t records = rcfd_get_u64(r);
    uint64_t updates = rcfd_get_u64(r);
    uint64_t accepted = rcfd_get_u64(r);
    uint64_t explained = rcfd_get_u64(r);
    if (r->err) {
        return rcfd_snap_truncated(&l.in, "the counters");
    }
    uint64_t expect_updates = records + 1 > params.shingle_size ? records + 1 - params.shingle_size
                                                                : 0;
    if (updates != expect_updates || explained > records) {
        return rcfd_snap_bad(&l.in, "counters disagree: %llu updates after %llu records",
                             (unsigned long long)(updates), (unsigned long long)(records));
    }
    /* Refuse before allocating anything big: every tree needs at least one byte. */
    if (!rcfd_reader_has(r, (uint64_t)params.number_of_trees * 13 + 8ull * params.input_dim, 1)) {
        return rcfd_snap_truncated(&l.in, "the trees");
    }
    rc = forest_alloc(&params, &l.f, errstr, errstr_size);
    if (rc != 0) {
        return rc;
    }
    rcf_forest_t *f = l.f;
    f->records = records;
    f->updates = updates;
    f->accepted = accepted;
    f->explained = explained;
    l.declared = rcfd_calloc(f->ps.capacity, 1);
    l.count = rcfd_calloc(f->ps.capacity, sizeof(uint32_t));
    if (l.declared == NULL || l.count == NULL) {
        rc = rcfd_errf(RCFD_ENOMEM, errstr, errstr_size, "out of memory loading a snapshot");
        goto fail;
    }
    for (uint32_t c = 0; c < params.input_dim; c++) {
        f->baseline[c] = rcfd_get_f64(r);
        if (!isfinite(f->baseline[c]) || f->baseline[c] < 0.0) {
            rc = rcfd_snap_bad(&l.in, "explanation baseline %llu is negative or not finite",
                               (unsigned long long)(c));
            goto fail;
        }
    }
    if (r->err) {
        rc = rcfd_snap_truncated(&l.in, "the explanation baselines");
        goto fail;
    }
    thresholder_t *th = &f->thresholder;
    ema_stats_t *stats[2] = {&th->scores, &th->below};
    for (int k = 0; k < 2; k++) {
        stats[k]->sum = rcfd_get_f64(r);
        stats[k]->sum_sq = rcfd_get_f64(r);
        stats[k]->weight = rcfd_get_f64(r);
        stats[k]->count = rcfd_get_u64(r);
    }
    th->quantile = rcfd_get_f64(r);
    th->count = rcfd_get_u64(r);
    if (r->err) {
        rc = rcfd_snap_truncated(&l.in, "the thresholder");
        goto fail;
    }
    /* Scores never exceed log2(subSampleSize + 1). */
    if (!thresholder_is_valid(th, log2((double)params.sub_sample_size + 1.0)) ||
        th->count > records) {
        rc = rcfd_snap_bad(&l.in,
                           "thresholder state is inconsistent (%llu scores after %llu records)",
                           (unsigned long long)(th->count), (unsigned long long)(records));
        goto fail;
    }
    if ((rc = read_points(&l)) != 0) {
        goto fail;
    }
    for (uint32_t i = 0; i < params.number_of_trees; i++) {
        if ((rc = read_sampler(&l, i)) != 0 || (rc = read_tree(&l, i)) != 0) {
            goto fail;
        }
    }
    if (r->pos != r->len) {
        rc = rcfd_snap_bad(&l.in, "%llu unexpected bytes after the last tree",
                           (unsigned long long)(r->len - r->pos));
        goto fail;
    }
    for (uint32_t id = 0; id < f->ps.capacity; id++) {
        if (l.declared[id] && f->ps.refs[id] == 0) {
            rc = rcfd_snap_bad(&l.in, "point %llu is listed but no tree samples it",
                               (unsigned long long)(id));
            goto fail;
        }
    }
    pointstore_rebuild_free(&f->ps);
    rcfd_free(l.declared);
    rcfd_free(l.count);
    *out = f;
    return 0;

fail:
    rcfd_free(l.declared);
    rcfd_free(l.count);
    rcf_forest_destroy(f);
    return rc;
}
