/* The forest: parameters, shingling, score-then-update, attribution and the KDA explanation. */
#include <assert.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "common/errstr.h"
#include "common/rng.h"
#include "forest_int.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"

#define DEFAULT_SEED 0x5eedull

rcf_params_t rcf_params_default(uint32_t input_dim)
{
    return (rcf_params_t){
        .input_dim = input_dim,
        .number_of_trees = 100,
        .sub_sample_size = 256,
        .time_decay = 100000,
        .shingle_size = 1,
        .output_after = RCF_OUTPUT_AFTER_DEFAULT,
        .seed = DEFAULT_SEED,
        .explain = 0,
        .anomaly_rate = 0.005,
        .z_factor = 3.0,
    };
}

int rcf_params_validate(const rcf_params_t *p, char *errstr, size_t errstr_size)
{
    if (p == NULL) {
        return rcfd_errf(RCFD_EINVAL, errstr, errstr_size, "params is NULL");
    }
    if (p->number_of_trees < RCF_MIN_TREES || p->number_of_trees > RCF_MAX_TREES) {
        return rcfd_errf(RCFD_ERANGE, errstr, errstr_size,
                         "numberOfTrees must be in %u..%u, got %u", RCF_MIN_TREES, RCF_MAX_TREES,
                         p->number_of_trees);
    }
    if (p->sub_sample_size < RCF_MIN_SAMPLE_SIZE || p->sub_sample_size > RCF_MAX_SAMPLE_SIZE) {
        return rcfd_errf(RCFD_ERANGE, errstr, errstr_size,
                         "subSampleSize must be in %u..%u, got %u", RCF_MIN_SAMPLE_SIZE,
                         RCF_MAX_SAMPLE_SIZE, p->sub_sample_size);
    }
    if (p->time_decay < RCF_MIN_TIME_DECAY || p->time_decay > RCF_MAX_TIME_DECAY) {
        return rcfd_errf(RCFD_ERANGE, errstr, errstr_size,
                         "timeDecay must be in %llu..%llu records, got %llu",
                         (unsigned long long)RCF_MIN_TIME_DECAY,
                         (unsigned long long)RCF_MAX_TIME_DECAY,
                         (unsigned long long)p->time_decay);
    }
    if (p->time_decay <= p->sub_sample_size) {
        return rcfd_errf(RCFD_ERANGE, errstr, errstr_size,
                         "timeDecay (%llu) must be greater than subSampleSize (%u)",
                         (unsigned long long)p->time_decay, p->sub_sample_size);
    }
    if (p->shingle_size < RCF_MIN_SHINGLE || p->shingle_size > RCF_MAX_SHINGLE) {
        return rcfd_errf(RCFD_ERANGE, errstr, errstr_size,
                         "shingleSize must be in %u..%u, got %u", RCF_MIN_SHINGLE,
                         RCF_MAX_SHINGLE, p->shingle_size);
    }
    if (p->input_dim < 1 || p->input_dim > RCF_MAX_DIM) {
        return rcfd_errf(RCFD_ERANGE, errstr, errstr_size,
                         "input dimension (numeric columns) must be in 1..%u, got %u", RCF_MAX_DIM,
                         p->input_dim);
    }
    if ((uint64_t)p->input_dim * p->shingle_size > RCF_MAX_DIM) {
        return rcfd_errf(RCFD_ERANGE, errstr, errstr_size,
                         "columns x shingleSize = %u x %u = %llu exceeds the maximum dimension %u",
                         p->input_dim, p->shingle_size,
                         (unsigned long long)p->input_dim * p->shingle_size, RCF_MAX_DIM);
    }
    /* Point store log positions are 32-bit. */
    uint64_t log_records =
        pointstore_log_capacity(p->number_of_trees * p->sub_sample_size + 1, p->shingle_size);
    if (log_records > UINT32_MAX) {
        return rcfd_errf(RCFD_ERANGE, errstr, errstr_size,
                         "numberOfTrees x subSampleSize x shingleSize = %u x %u x %u is too large "
                         "(at most about 4.29e9)",
                         p->number_of_trees, p->sub_sample_size, p->shingle_size);
    }
    if (p->output_after < RCF_OUTPUT_AFTER_DEFAULT) {
        return rcfd_errf(RCFD_ERANGE, errstr, errstr_size,
                         "outputAfter must be >= 0 (or %d for subSampleSize), got %lld",
                         RCF_OUTPUT_AFTER_DEFAULT, (long long)p->output_after);
    }
    if (!(p->anomaly_rate > 0.0 && p->anomaly_rate <= RCF_MAX_ANOMALY_RATE)) {
        return rcfd_errf(RCFD_ERANGE, errstr, errstr_size,
                         "anomalyRate must be in (0, %g], got %g", RCF_MAX_ANOMALY_RATE,
                         p->anomaly_rate);
    }
    if (!(p->z_factor >= RCF_MIN_Z_FACTOR && p->z_factor <= RCF_MAX_Z_FACTOR)) {
        return rcfd_errf(RCFD_ERANGE, errstr, errstr_size, "zFactor must be in %g..%g, got %g",
                         RCF_MIN_Z_FACTOR, RCF_MAX_Z_FACTOR, p->z_factor);
    }
    if (p->explain != 0 && p->explain != 1) {
        return rcfd_errf(RCFD_EINVAL, errstr, errstr_size, "explain must be 0 or 1, got %d",
                         p->explain);
    }
    return 0;
}

rcf_params_t forest_resolve_params(const rcf_params_t *params)
{
    rcf_params_t p = *params;
    if (p.output_after == RCF_OUTPUT_AFTER_DEFAULT) {
        p.output_after = p.sub_sample_size;
    }
    return p;
}

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Byte offsets of every array in the forest's single slab. */
typedef struct slab_layout {
    size_t trees, samplers, tree_mem, sampler_mem, ps_mem, x, record, path, path2, paths, high, low,
        tree_high, tree_low, baseline, explanation, imp_values, imp_sorted, imp_point, imp_mask,
        imp_stack, imp_missing, total;
    size_t tree_stride, sampler_stride;
} slab_layout_t;

static slab_layout_t layout(const rcf_params_t *p)
{
    slab_layout_t l;
    uint32_t dim = p->input_dim * p->shingle_size;
    uint32_t cap = p->number_of_trees * p->sub_sample_size + 1;
    size_t off = 0;
#define TAKE(field, bytes) \
    l.field = off; \
    off += align8(bytes)
    l.tree_stride = align8(tree_bytes(p->sub_sample_size, dim));
    l.sampler_stride = align8(sampler_bytes(p->sub_sample_size));
    TAKE(trees, sizeof(rcf_tree_t) * p->number_of_trees);
    TAKE(samplers, sizeof(sampler_t) * p->number_of_trees);
    TAKE(tree_mem, l.tree_stride * p->number_of_trees);
    TAKE(sampler_mem, l.sampler_stride * p->number_of_trees);
    TAKE(ps_mem, pointstore_fixed_bytes(cap));
    TAKE(x, sizeof(float) * dim);
    TAKE(record, sizeof(float) * p->input_dim);
    TAKE(path, sizeof(uint32_t) * p->sub_sample_size);
    TAKE(path2, sizeof(uint32_t) * p->sub_sample_size);
    TAKE(paths, sizeof(uint32_t) * p->sub_sample_size * RCF_LOCKSTEP);
    TAKE(high, sizeof(double) * dim);
    TAKE(low, sizeof(double) * dim);
    TAKE(tree_high, sizeof(double) * dim);
    TAKE(tree_low, sizeof(double) * dim);
    TAKE(baseline, sizeof(double) * p->input_dim);
    TAKE(explanation, sizeof(rcf_column_explanation_t) * p->input_dim);
    TAKE(imp_values, sizeof(double) * p->number_of_trees * dim);
    TAKE(imp_sorted, sizeof(double) * p->number_of_trees);
    TAKE(imp_point, sizeof(float) * dim);
    TAKE(imp_mask, dim);
    TAKE(imp_stack, sizeof(uint32_t) * 2 * p->sub_sample_size);
    TAKE(imp_missing, sizeof(uint32_t) * dim);
#undef TAKE
    l.total = off;
    return l;
}

size_t rcf_params_model_bytes(const rcf_params_t *params)
{
    if (rcf_params_validate(params, NULL, 0) != 0) {
        return 0;
    }
    slab_layout_t l = layout(params);
    /* Point store: distinct points rarely exceed the decay horizon; the log holds up to twice what
     * is live between compactions. */
    uint64_t points = (uint64_t)params->number_of_trees * params->sub_sample_size;
    if (points > params->time_decay) {
        points = params->time_decay;
    }
    uint64_t records = points * params->shingle_size;
    if (records > params->time_decay + params->shingle_size) {
        records = params->time_decay + params->shingle_size;
    }
    return sizeof(rcf_forest_t) + l.total +
           (size_t)(2 * records * params->input_dim * sizeof(float));
}

int forest_alloc(const rcf_params_t *params, rcf_forest_t **out, char *errstr, size_t errstr_size)
{
    *out = NULL;
    rcf_forest_t *f = rcfd_calloc(1, sizeof *f);
    if (f == NULL) {
        return rcfd_errf(RCFD_ENOMEM, errstr, errstr_size, "out of memory allocating a forest");
    }
    f->params = *params;
    f->dim = params->input_dim * params->shingle_size;
    f->lambda = 1.0 / (double)params->time_decay;
    thresholder_init(&f->thresholder, params->anomaly_rate, params->z_factor);
    const uint32_t trees = params->number_of_trees;
    const uint32_t sample = params->sub_sample_size;

    slab_layout_t l = layout(params);
    f->slab_bytes = l.total;
    f->slab = rcfd_calloc(1, l.total);
    if (f->slab == NULL) {
        rcfd_free(f);
        return rcfd_errf(RCFD_ENOMEM, errstr, errstr_size,
                         "out of memory: the forest needs %zu bytes for its trees", l.total);
    }
    unsigned char *base = f->slab;
    f->trees = (rcf_tree_t *)(base + l.trees);
    f->samplers = (sampler_t *)(base + l.samplers);
    f->x = (float *)(base + l.x);
    f->record = (float *)(base + l.record);
    f->path = (uint32_t *)(base + l.path);
    f->path2 = (uint32_t *)(base + l.path2);
    f->paths = (uint32_t *)(base + l.paths);
    f->high = (double *)(base + l.high);
    f->low = (double *)(base + l.low);
    f->tree_high = (double *)(base + l.tree_high);
    f->tree_low = (double *)(base + l.tree_low);
    f->baseline = (double *)(base + l.baseline);
    f->explanation = (rcf_column_explanation_t *)(base + l.explanation);
    f->imp_values = (double *)(base + l.imp_values);
    f->imp_sorted = (double *)(base + l.imp_sorted);
    f->imp_point = (float *)(base + l.imp_point);
    f->imp_mask = base + l.imp_mask;
    f->imp_stack = (uint32_t *)(base + l.imp_stack);
    f->imp_missing = (uint32_t *)(base + l.imp_missing);
    for (uint32_t i = 0; i < trees; i++) {
        tree_init(&f->trees[i], base + l.tree_mem + i * l.tree_stride, sample, f->dim,
                  rcfd_rng_derive(params->seed, i));
        sampler_init(&f->samplers[i], base + l.sampler_mem + i * l.sampler_stride, sample);
    }
    if (pointstore_init(&f->ps, base + l.ps_mem, trees * sample + 1, params->input_dim,
                        params->shingle_size) != 0) {
        size_t bytes = f->ps.log_bytes;
        rcfd_free(f->slab);
        rcfd_free(f);
        return rcfd_errf(RCFD_ENOMEM, errstr, errstr_size,
                         "cannot reserve %zu bytes of address space for the point store", bytes);
    }
    *out = f;
    return 0;
}

int rcf_forest_new(const rcf_params_t *params, rcf_forest_t **out, char *errstr,
                   size_t errstr_size)
{
    if (out == NULL) {
        return rcfd_errf(RCFD_EINVAL, errstr, errstr_size, "out is NULL");
    }
    *out = NULL;
    int rc = rcf_params_validate(params, errstr, errstr_size);
    if (rc != 0) {
        return rc;
    }
    rcf_params_t p = forest_resolve_params(params);
    return forest_alloc(&p, out, errstr, errstr_size);
}

void rcf_forest_destroy(rcf_forest_t *f)
{
    if (f == NULL) {
        return;
    }
    pointstore_fini(&f->ps);
    rcfd_free(f->slab);
    rcfd_free(f);
}

const rcf_params_t *rcf_forest_params(const rcf_forest_t *f)
{
    return &f->params;
}

/* Converts and checks one record; the forest is untouched on error. */
static int load_record(rcf_forest_t *f, const double *values, size_t n)
{
    if (values == NULL || n != f->params.input_dim) {
        return RCFD_EDIM;
    }
    for (size_t i = 0; i < n; i++) {
        double v = values[i];
        if (!isfinite(v) || v > FLT_MAX || v < -FLT_MAX) {
            return RCFD_ENONFINITE;
        }
        f->record[i] = (float)v;
    }
    return 0;
}

/* Fills f->x with the shingle ending in f->record; 0 if fewer than shingle_size records exist. */
static int build_shingle(rcf_forest_t *f)
{
    const uint32_t s = f->params.shingle_size;
    if (f->records + 1 < s) {
        return 0;
    }
    pointstore_copy_tail(&f->ps, s - 1, f->x);
    memcpy(f->x + (size_t)(s - 1) * f->params.input_dim, f->record,
           sizeof(float) * f->params.input_dim);
    return 1;
}

static int is_ready(const rcf_forest_t *f, uint64_t record_index)
{
    return record_index > (uint64_t)f->params.output_after && f->updates > 0;
}

static double forest_score(rcf_forest_t *f)
{
    return trees_score_sum(f->trees, f->params.number_of_trees, &f->ps, f->x, f->paths) /
           f->params.number_of_trees;
}

/* Attribution into high/low; returns the score computed by the same traversals. */
static double forest_attribution(rcf_forest_t *f, double *high, double *low)
{
    const uint32_t trees = f->params.number_of_trees;
    memset(high, 0, sizeof(double) * f->dim);
    memset(low, 0, sizeof(double) * f->dim);
    double sum = trees_attribution_sum(f->trees, trees, &f->ps, f->x, f->paths, 1.0 / trees,
                                       f->tree_high, f->tree_low, high, low);
    return sum / trees;
}

/* KDA explanation per input column, then folds this record into the per-column baselines. */
static void explain(rcf_forest_t *f)
{
    const uint32_t cols = f->params.input_dim;
    const uint32_t s = f->params.shingle_size;
    f->explained++;
    uint64_t window = f->explained < f->params.sub_sample_size ? f->explained
                                                               : f->params.sub_sample_size;
    double alpha = 1.0 / (double)window;
    for (uint32_t c = 0; c < cols; c++) {
        double h = 0.0, l = 0.0;
        for (uint32_t k = 0; k < s; k++) {
            h += f->high[(size_t)k * cols + c];
            l += f->low[(size_t)k * cols + c];
        }
        rcf_column_explanation_t *e = &f->explanation[c];
        e->attribution = h + l;
        e->direction = h > l ? RCF_DIRECTION_HIGH : RCF_DIRECTION_LOW;
        e->strength = f->baseline[c] > 0.0 ? fabs(h - l) / f->baseline[c] : 0.0;
        f->baseline[c] += alpha * (e->attribution - f->baseline[c]);
    }
}

/* Offers the newest shingle (already appended to the log) to every tree's sampler. */
static void update(rcf_forest_t *f)
{
    const uint64_t seq = f->updates;
    const double decay = -(double)seq * f->lambda;
    f->updates++;
    uint32_t id = pointstore_add_latest(&f->ps);
    for (uint32_t i = 0; i < f->params.number_of_trees; i++) {
        rcf_tree_t *t = &f->trees[i];
        sampler_t *s = &f->samplers[i];
        double u = rcfd_rng_uniform_open(&t->rng);
        const int full = sampler_is_full(s);
        if (full) {
            const int bound_valid = s->skip_max == sampler_max_key(s) && seq <= s->skip_until;
            if (u <= s->skip_u && bound_valid) {
                assert(decay + log(-log(u)) >= sampler_max_key(s) && "reject_bound too loose");
                continue;
            }
            if (!bound_valid) {
                sampler_set_reject_bound(s, seq, f->lambda);
            }
        }
        double key = decay + log(-log(u));
        if (full) {
            if (key >= sampler_max_key(s)) {
                continue;
            }
            uint32_t evicted = sampler_pop_max(s);
            int rc = tree_delete(t, &f->ps, evicted, f->path);
            assert(rc == 0 && "sampler and tree disagree");
            (void)rc;
            pointstore_release(&f->ps, evicted);
        }
        uint32_t used = tree_insert(t, &f->ps, id, f->x);
        pointstore_retain(&f->ps, used);
        sampler_push(s, key, used);
        f->accepted++;
    }
    pointstore_release_if_unused(&f->ps, id);
}

int rcf_forest_process(rcf_forest_t *f, const double *values, size_t n_values, rcf_result_t *out)
{
    if (f == NULL || out == NULL) {
        return RCFD_EINVAL;
    }
    int rc = load_record(f, values, n_values);
    if (rc != 0) {
        return rc;
    }
    const uint64_t index = f->records + 1;
    const int full = build_shingle(f);
    const int ready = full && is_ready(f, index);
    const int with_explanation = f->params.explain;

    rcf_result_t r = {.record = index, .ready = ready};
    if (with_explanation) {
        r.attribution_high = f->high;
        r.attribution_low = f->low;
        r.explanation = f->explanation;
        if (ready) {
            r.score = forest_attribution(f, f->high, f->low);
            explain(f);
        } else {
            memset(f->high, 0, sizeof(double) * f->dim);
            memset(f->low, 0, sizeof(double) * f->dim);
            for (uint32_t c = 0; c < f->params.input_dim; c++) {
                f->explanation[c] = (rcf_column_explanation_t){0.0, 0.0, RCF_DIRECTION_LOW};
            }
        }
    } else if (ready) {
        r.score = forest_score(f);
    }

    if (ready) {
        thresholder_process(&f->thresholder, r.score, &r.threshold, &r.grade);
    }
    pointstore_append(&f->ps, f->record);
    f->records = index;
    if (full) {
        update(f);
    }
    *out = r;
    return 0;
}

int rcf_forest_score(rcf_forest_t *f, const double *values, size_t n_values, double *score,
                     double *high, double *low)
{
    if (f == NULL || score == NULL) {
        return RCFD_EINVAL;
    }
    int rc = load_record(f, values, n_values);
    if (rc != 0) {
        return rc;
    }
    *score = 0.0;
    if (high != NULL) {
        memset(high, 0, sizeof(double) * f->dim);
    }
    if (low != NULL) {
        memset(low, 0, sizeof(double) * f->dim);
    }
    if (!build_shingle(f) || !is_ready(f, f->records + 1)) {
        return 0;
    }
    if (high != NULL || low != NULL) {
        *score = forest_attribution(f, high != NULL ? high : f->high, low != NULL ? low : f->low);
    } else {
        *score = forest_score(f);
    }
    return 0;
}

void rcf_forest_stats(const rcf_forest_t *f, rcf_stats_t *out)
{
    memset(out, 0, sizeof *out);
    out->records = f->records;
    out->updates = f->updates;
    out->accepted = f->accepted;
    out->points_live = f->ps.live;
    for (uint32_t i = 0; i < f->params.number_of_trees; i++) {
        out->nodes_used += (f->params.sub_sample_size - 1) - f->trees[i].node_free_top;
    }
    out->store_records = f->ps.log_len;
    out->bytes_fixed = sizeof *f + f->slab_bytes;
    out->bytes_points = (size_t)f->ps.log_high_water * f->ps.base_dim * sizeof(float);
    out->bytes_reserved = f->ps.log_bytes;
}
