/* rcfd.Forest: an instance of the daemon's rcf model type (src/models/rcf.c), so a Python forest
 * is what a pipeline keeps per key: the Random Cut Forest, the key's recent means (recent_mean)
 * and its anomaly_novelty, with the same parameter table, the same checks and messages, and the
 * same snapshot (what `rcfd train` writes and `initial_state` reads). */
#include "binding.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/keytab.h"
#include "common/snapshot.h"
#include "models/model.h"
#include "models/rcf.h"
#include "rcfd/rcf.h"
#include "rcfd/status.h"

typedef struct forest_object {
    PyObject_HEAD void *model; /* rcfd_model_rcf instance; NULL until the dimension is known */
    void *conf;    /* the model's parameter struct (rcfd_model_rcf.conf_size bytes, owned) */
    size_t dim;    /* values per record; 0 until known */
    uint64_t seed; /* the forest's seed (the key's, with key=) */
    int explain;
    PyObject *key;       /* str or None */
    rcfd_py_lock_t lock; /* held by whichever thread runs the model (GIL released) */
} forest_object_t;

PyTypeObject *rcfd_py_ResultType;

static PyStructSequence_Field result_fields[] = {
    {"score", "ANOMALY_SCORE per record (0 while the forest warms up: output_after records)"},
    {"grade", "anomaly grade in [0, 1]: 0 below the adaptive threshold, 0.5 at it"},
    {"anomaly", "the score reached the adaptive threshold (grade >= 0.5, rcfd backtest's cut-off)"},
    {"threshold", "the adaptive threshold the score was compared with"},
    {"novelty", "anomaly_novelty: the rise of the score over the key's recent ones, against its "
                "own earlier rises (>= 1: as novel as its third-largest rise)"},
    {"attribution", "with explain: each column's share of the score (columns sum to the score); "
                    "else None"},
    {"strength", "with explain: STRENGTH per column; else None"},
    {"direction", "with explain: DIRECTION per column, 1 HIGH, -1 LOW; else None"},
    {NULL, NULL},
};

static PyStructSequence_Desc result_desc = {
    "rcfd.Result",
    "What Forest.process returns. For one record (a 1-D input) the fields are numpy scalars and "
    "attribution, strength and direction have one value per column; for a 2-D input each field "
    "has one entry (row) per record.",
    result_fields,
    8,
};

/* ---- parameters ---- */

/* Forest's own names for the rcf model's parameters, in positional order. */
static const char *const arg_names[] = {"trees",      "sample", "shingle",
                                        "time_decay", "seed",   "explain"};
static const char *const conf_keys[] = {
    "number_of_trees", "sub_sample_size", "shingle_size", "time_decay", "seed", "explain"};
#define N_ARGS 6

/* A Python value as a JSON value of the parameter table (it checks types and ranges itself). */
static cJSON *json_of(PyObject *v, const char *name)
{
    if (PyBool_Check(v) || PyArray_IsScalar(v, Bool)) {
        return cJSON_CreateBool(PyObject_IsTrue(v) == 1);
    }
    if (PyFloat_Check(v) || PyIndex_Check(v)) { /* numpy's numbers too */
        PyObject *num = PyFloat_Check(v) ? Py_NewRef(v) : PyNumber_Index(v);
        double d = num != NULL ? PyFloat_AsDouble(num) : -1.0;
        Py_XDECREF(num);
        if (d == -1.0 && PyErr_Occurred()) {
            return NULL;
        }
        if (!isfinite(d)) {
            PyErr_Format(PyExc_ValueError, "%s: %R is not a finite number", name, v);
            return NULL;
        }
        return cJSON_CreateNumber(d);
    }
    if (PyUnicode_Check(v)) {
        const char *s = PyUnicode_AsUTF8(v);
        return s != NULL ? cJSON_CreateString(s) : NULL;
    }
    PyErr_Format(PyExc_TypeError, "%s: expected a number, got %s", name, Py_TYPE(v)->tp_name);
    return NULL;
}

/* A new parameter struct from a JSON object of the rcf model's parameters (the daemon's names),
 * checked by the model's own table; NULL with errstr set on failure. Needs no GIL. */
static void *parse_conf(const cJSON *obj, int *rc, char *err, size_t es)
{
    void *conf = PyMem_RawCalloc(1, rcfd_model_rcf.conf_size);
    if (conf == NULL) {
        *rc = RCFD_ENOMEM;
        return NULL;
    }
    rcfd_conf_section_t sec = {rcfd_model_rcf.conf, conf};
    *rc = rcfd_conf_parse(&sec, 1, obj, "", err, es);
    if (*rc != 0) {
        rcfd_conf_free(rcfd_model_rcf.conf, conf);
        PyMem_RawFree(conf);
        return NULL;
    }
    return conf;
}

static void free_conf(void *conf)
{
    if (conf != NULL) {
        rcfd_conf_free(rcfd_model_rcf.conf, conf);
        PyMem_RawFree(conf);
    }
}

/* The model's parameters back as JSON values (the daemon's names), from its own table. */
static cJSON *conf_json(const forest_object_t *f)
{
    cJSON *o = cJSON_CreateObject();
    if (o != NULL && rcfd_conf_emit(rcfd_model_rcf.conf, f->conf, o) != 0) {
        cJSON_Delete(o);
        o = NULL;
    }
    return o;
}

static int model_explains(const void *model)
{
    return rcfd_rcf_model_explains(model);
}

/* Creates the model for records of `dim` values (the lock held, or the forest not shared yet). */
static int create_model(forest_object_t *f, size_t dim)
{
    char err[512];
    int rc = rcfd_model_rcf.validate(f->conf, dim, err, sizeof err);
    rc = rc ? rc : rcfd_model_rcf.create(f->conf, dim, f->seed, &f->model, err, sizeof err);
    if (rc != 0) {
        rcfd_py_raise(rc, err, -1);
        return -1;
    }
    f->dim = dim;
    f->explain = model_explains(f->model);
    return 0;
}

/* ---- the type ---- */

static PyObject *forest_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    (void)args, (void)kwds;
    forest_object_t *f = (forest_object_t *)type->tp_alloc(type, 0);
    if (f == NULL) {
        return NULL;
    }
    f->key = Py_NewRef(Py_None);
    if (rcfd_py_lock_init(&f->lock) != 0) {
        Py_DECREF(f);
        return NULL;
    }
    return (PyObject *)f;
}

static void forest_dealloc(forest_object_t *f)
{
    if (f->model != NULL) {
        rcfd_model_rcf.destroy(f->model);
    }
    free_conf(f->conf);
    rcfd_py_lock_free(&f->lock);
    Py_XDECREF(f->key);
    Py_TYPE(f)->tp_free((PyObject *)f);
}

/* Forest's arguments as the rcf model's parameters (a JSON object in the daemon's names). */
static cJSON *init_args(PyObject *args, PyObject *kwds, PyObject **given, PyObject **dim,
                        PyObject **key)
{
    Py_ssize_t nargs = PyTuple_GET_SIZE(args);
    if (nargs > N_ARGS) {
        PyErr_Format(PyExc_TypeError, "Forest() takes at most %d positional arguments (%zd given)",
                     N_ARGS, nargs);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) {
        given[i] = PyTuple_GET_ITEM(args, i);
    }
    cJSON *obj = cJSON_CreateObject();
    int ok = obj != NULL;
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (ok && kwds != NULL && PyDict_Next(kwds, &pos, &k, &v)) {
        const char *name = PyUnicode_AsUTF8(k);
        int slot = -1;
        for (int i = 0; name != NULL && i < N_ARGS; i++) {
            slot = strcmp(name, arg_names[i]) == 0 ? i : slot;
        }
        if (name == NULL) {
            ok = 0;
        } else if (slot >= 0 && given[slot] != NULL) {
            PyErr_Format(PyExc_TypeError, "Forest() got multiple values for argument '%s'", name);
            ok = 0;
        } else if (slot >= 0) {
            given[slot] = v;
        } else if (strcmp(name, "dim") == 0) {
            *dim = v;
        } else if (strcmp(name, "key") == 0) {
            *key = v;
        } else { /* **opts: the rcf model's other parameters, by the daemon's names */
            cJSON *j = json_of(v, name);
            ok = j != NULL && cJSON_AddItemToObject(obj, name, j);
        }
    }
    /* Forest's defaults (the table's are the daemon's, whose master seed is another) */
    static const long defaults[N_ARGS] = {100, 256, 1, 100000, 42, 0};
    for (int i = 0; ok && i < N_ARGS; i++) {
        cJSON *j = given[i] != NULL ? json_of(given[i], arg_names[i])
                   : i == 5         ? cJSON_CreateBool(0)
                                    : cJSON_CreateNumber((double)defaults[i]);
        ok = j != NULL && cJSON_AddItemToObject(obj, conf_keys[i], j);
    }
    if (!ok) {
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

static int forest_init(forest_object_t *f, PyObject *args, PyObject *kwds)
{
    PyObject *given[N_ARGS] = {NULL}, *dim = Py_None, *key = Py_None;
    cJSON *obj = init_args(args, kwds, given, &dim, &key);
    if (obj == NULL) {
        return -1;
    }
    char err[512];
    int rc;
    void *conf = parse_conf(obj, &rc, err, sizeof err);
    cJSON_Delete(obj);
    if (conf == NULL) {
        rcfd_py_raise(rc, err, -1);
        return -1;
    }
    long long dim_v = 0;
    unsigned long long seed = 42;
    const char *bad = NULL;
    if (dim != Py_None) {
        bad = rcfd_py_as_int(dim, &dim_v) != 0 ? "dim: expected None or an integer" : NULL;
        if (bad == NULL && (dim_v < 1 || dim_v > RCF_MAX_DIM)) {
            free_conf(conf);
            PyErr_Format(PyExc_ValueError, "dim: %lld is out of range [1, %u]", dim_v, RCF_MAX_DIM);
            return -1;
        }
    }
    if (bad == NULL && given[4] != NULL) { /* the table checked its range: 0 .. 2**53 - 1 */
        long long s;
        bad = rcfd_py_as_int(given[4], &s) != 0 ? "seed: expected an integer" : NULL;
        seed = (unsigned long long)s;
    }
    Py_ssize_t key_len = 0;
    const char *key_s = NULL;
    if (bad == NULL && key != Py_None) {
        key_s = PyUnicode_Check(key) ? PyUnicode_AsUTF8AndSize(key, &key_len) : NULL;
        bad = key_s == NULL ? "key: expected None or a str" : NULL;
    }
    if (bad != NULL) {
        PyErr_Clear();
        PyErr_SetString(PyExc_TypeError, bad);
        free_conf(conf);
        return -1;
    }
    /* The seed as given, or with a key the seed the daemon gives that key's forest in a pipeline
     * with this master seed (rcfd_key_seed). */
    uint64_t forest_seed = key_s != NULL ? rcfd_key_seed(seed, key_s, (size_t)key_len) : seed;
    /* Parameters no dimension can make valid fail now rather than at the first record. */
    void *model = NULL;
    rc = rcfd_model_rcf.validate(conf, dim_v > 0 ? (size_t)dim_v : 1, err, sizeof err);
    if (rc == 0 && dim_v > 0) {
        rc = rcfd_model_rcf.create(conf, (size_t)dim_v, forest_seed, &model, err, sizeof err);
    }
    if (rc != 0) {
        free_conf(conf);
        rcfd_py_raise(rc, err, -1);
        return -1;
    }
    /* Swapped in under the lock: __init__ may run again on a forest another thread is using. */
    if (rcfd_py_lock(&f->lock, "Forest") != 0) {
        if (model != NULL) {
            rcfd_model_rcf.destroy(model);
        }
        free_conf(conf);
        return -1;
    }
    void *old_model = f->model, *old_conf = f->conf;
    f->model = model;
    f->conf = conf;
    f->dim = (size_t)dim_v;
    f->seed = forest_seed;
    f->explain = model != NULL ? model_explains(model) : 0;
    rcfd_py_unlock(&f->lock);
    if (old_model != NULL) {
        rcfd_model_rcf.destroy(old_model);
    }
    free_conf(old_conf);
    Py_SETREF(f->key, Py_NewRef(key));
    return 0;
}

/* ---- records ---- */

/* The forest's own test of a value (rcf_forest_process refuses the same), checked for a whole
 * input first so that a bad record leaves the forest exactly as it was. */
static int forest_bad_value(double v, size_t column, const void *ud)
{
    (void)column, (void)ud;
    return !isfinite(v) || v > FLT_MAX || v < -FLT_MAX;
}

/* x as records for this forest: converted and checked before the forest's lock is taken (the
 * conversion may run Python code); forest_take() then takes the lock and creates the model at the
 * first record when dim was None. */
static PyArrayObject *forest_rows(forest_object_t *f, PyObject *x, size_t *dim, npy_intp *n,
                                  int *single)
{
    *dim = f->dim;
    PyArrayObject *rows = rcfd_py_rows(x, dim, n, single, "Forest");
    if (rows != NULL &&
        rcfd_py_check_values(PyArray_DATA(rows), *n, *dim, forest_bad_value, NULL) != 0) {
        Py_CLEAR(rows);
    }
    return rows;
}

/* Takes the lock for records of `dim` values; on failure the lock is not held. */
static int forest_take(forest_object_t *f, size_t dim)
{
    if (rcfd_py_lock(&f->lock, "Forest") != 0) {
        return -1;
    }
    if (f->conf == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Forest.__init__ was not called");
    } else if (f->model == NULL) {
        if (create_model(f, dim) == 0) {
            return 0;
        }
    } else if (dim == f->dim) {
        return 0;
    } else { /* another thread's first records gave the dimension meanwhile */
        char msg[200];
        snprintf(msg, sizeof msg, "Forest: %s: records of %zu values, the model takes %zu",
                 rcfd_strerror(RCFD_EDIM), dim, f->dim);
        rcfd_py_raise(RCFD_EDIM, msg, -1);
    }
    rcfd_py_unlock(&f->lock);
    return -1;
}

/* An error the model returned for record `row` of a call, after `row` records were learnt. */
static PyObject *record_error(int rc, npy_intp row, const char *learnt)
{
    char msg[300];
    snprintf(msg, sizeof msg, "record %zd: %s; the %zd records before it were %s", (Py_ssize_t)row,
             rcfd_strerror(rc), (Py_ssize_t)row, learnt);
    return rcfd_py_raise(rc, msg, (Py_ssize_t)row);
}

static PyObject *forest_process(forest_object_t *f, PyObject *x)
{
    npy_intp n;
    int single;
    size_t d;
    PyArrayObject *rows = forest_rows(f, x, &d, &n, &single);
    if (rows == NULL) {
        return NULL;
    }
    if (forest_take(f, d) != 0) {
        Py_DECREF(rows);
        return NULL;
    }
    PyArrayObject *out[8] = {
        rcfd_py_vec(n, single, NPY_DOUBLE), rcfd_py_vec(n, single, NPY_DOUBLE),
        rcfd_py_vec(n, single, NPY_BOOL),   rcfd_py_vec(n, single, NPY_DOUBLE),
        rcfd_py_vec(n, single, NPY_DOUBLE),
    };
    if (f->explain) {
        out[5] = rcfd_py_mat(n, (npy_intp)d, single, NPY_DOUBLE);
        out[6] = rcfd_py_mat(n, (npy_intp)d, single, NPY_DOUBLE);
        out[7] = rcfd_py_mat(n, (npy_intp)d, single, NPY_INT8);
    }
    PyObject *res = PyStructSequence_New(rcfd_py_ResultType);
    int ok = res != NULL;
    for (int i = 0; i < 8; i++) {
        ok = ok && (out[i] != NULL || (i >= 5 && !f->explain));
    }
    int rc = 0;
    npy_intp done = 0;
    if (ok) {
        const double *in = PyArray_DATA(rows);
        double *score = PyArray_DATA(out[0]), *grade = PyArray_DATA(out[1]);
        npy_bool *anomaly = PyArray_DATA(out[2]);
        double *threshold = PyArray_DATA(out[3]), *novelty = PyArray_DATA(out[4]);
        double *attr = f->explain ? PyArray_DATA(out[5]) : NULL;
        double *strength = f->explain ? PyArray_DATA(out[6]) : NULL;
        npy_int8 *direction = f->explain ? PyArray_DATA(out[7]) : NULL;
        void *model = f->model;
        Py_BEGIN_ALLOW_THREADS
        for (; done < n; done++) {
            const void *rv;
            rc = rcfd_model_rcf.process(model, in + (size_t)done * d, d, &rv);
            if (rc != 0) {
                break;
            }
            const rcfd_rcf_result_t *r = rv;
            score[done] = r->r.score;
            grade[done] = r->alert.grade; /* the alert decision's, as the daemon outputs */
            anomaly[done] = (npy_bool)r->alert.anomaly;
            threshold[done] = r->alert.threshold;
            novelty[done] = r->novelty;
            for (size_t c = 0; attr != NULL && r->r.explanation != NULL && c < d; c++) {
                const rcf_column_explanation_t *e = &r->r.explanation[c];
                size_t at = (size_t)done * d + c;
                attr[at] = e->attribution;
                strength[at] = e->strength;
                direction[at] = e->direction == RCF_DIRECTION_HIGH ? 1 : -1;
            }
        }
        Py_END_ALLOW_THREADS
    }
    rcfd_py_unlock(&f->lock);
    Py_DECREF(rows);
    if (ok && rc == 0) {
        for (int i = 0; i < 8; i++) {
            PyStructSequence_SetItem(res, i,
                                     out[i] != NULL ? rcfd_py_out(out[i]) : Py_NewRef(Py_None));
        }
        return res;
    }
    for (int i = 0; i < 8; i++) {
        Py_XDECREF(out[i]);
    }
    Py_XDECREF(res);
    return ok ? record_error(rc, done, "learnt") : (PyErr_Occurred() ? NULL : PyErr_NoMemory());
}

static PyObject *forest_score(forest_object_t *f, PyObject *x)
{
    npy_intp n;
    int single;
    size_t d;
    PyArrayObject *rows = forest_rows(f, x, &d, &n, &single);
    if (rows == NULL) {
        return NULL;
    }
    PyArrayObject *out = rcfd_py_vec(n, single, NPY_DOUBLE);
    if (out == NULL || forest_take(f, d) != 0) {
        Py_DECREF(rows);
        Py_XDECREF(out);
        return NULL;
    }
    int rc = 0;
    npy_intp i = 0;
    const double *in = PyArray_DATA(rows);
    double *score = PyArray_DATA(out);
    void *model = f->model;
    Py_BEGIN_ALLOW_THREADS
    for (; i < n; i++) {
        rc = rcfd_rcf_model_score(model, in + (size_t)i * d, d, &score[i]);
        if (rc != 0) {
            break;
        }
    }
    Py_END_ALLOW_THREADS
    rcfd_py_unlock(&f->lock);
    Py_DECREF(rows);
    if (rc != 0) {
        Py_DECREF(out);
        return record_error(rc, i, "scored (nothing is learnt)");
    }
    return rcfd_py_out(out);
}

/* ---- snapshots ---- */

static PyObject *forest_save(forest_object_t *f, PyObject *unused)
{
    (void)unused;
    if (rcfd_py_lock(&f->lock, "Forest") != 0) {
        return NULL;
    }
    if (f->model == NULL) {
        rcfd_py_unlock(&f->lock);
        return rcfd_py_raise(RCFD_EINVAL,
                             "Forest.save: the forest has no dimension yet (give dim= or process "
                             "a record first)",
                             -1);
    }
    rcfd_buf_t b = {0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = rcfd_model_rcf.save(f->model, &b);
    Py_END_ALLOW_THREADS
    rcfd_py_unlock(&f->lock);
    PyObject *bytes =
        rc == 0 ? PyBytes_FromStringAndSize(b.p, (Py_ssize_t)b.len) : rcfd_py_raise(rc, NULL, -1);
    rcfd_buf_free(&b);
    return bytes;
}

/* The length of the snapshot section at the start of b, from its envelope (len if unreadable,
 * so the model's loader reports the problem), as the rcf model's loader walks its sections. */
static size_t section_len(const unsigned char *b, size_t len)
{
    if (len < RCFD_SNAP_HEADER_SIZE) {
        return len;
    }
    rcfd_reader_t r = {b, RCFD_SNAP_HEADER_SIZE, 16, 0};
    uint64_t payload = rcfd_get_u64(&r);
    return payload <= len - RCFD_SNAP_HEADER_SIZE ? RCFD_SNAP_HEADER_SIZE + (size_t)payload : len;
}

/* The parameters an rcf model's snapshot was made with, as the model's parameter table spells
 * them: the forest's (from its own section) and recent_mean (the first field of the recent-means
 * section; 0 without one). The model's load() then checks the whole snapshot against them. */
static int snapshot_conf(const unsigned char *b, size_t len, cJSON **out, size_t *n_fields,
                         uint64_t *seed, char *err, size_t es)
{
    uint64_t recent = 0;
    for (size_t at = section_len(b, len); at < len; at += section_len(b + at, len - at)) {
        const unsigned char *payload;
        size_t plen;
        uint32_t version;
        char why[300];
        if (len - at >= 12 && b[at + 8] == RCFD_SNAP_KIND_RECENT_MEANS && b[at + 9] == 0 &&
            b[at + 10] == 0 && b[at + 11] == 0) {
            int rc =
                rcfd_snap_open(b + at, section_len(b + at, len - at), RCFD_SNAP_KIND_RECENT_MEANS,
                               &payload, &plen, &version, why, sizeof why);
            if (rc != 0) {
                snprintf(err, es, "the recent-means section at snapshot byte %zu: %s", at, why);
                return rc;
            }
            rcfd_reader_t r = {payload, plen, 0, 0};
            recent = rcfd_get_u64(&r);
            break;
        }
    }
    rcf_forest_t *probe;
    int rc = rcf_forest_load(b, section_len(b, len), &probe, err, es);
    if (rc != 0) {
        return rc;
    }
    const rcf_params_t *p = rcf_forest_params(probe);
    cJSON *o = cJSON_CreateObject();
    int ok = o != NULL && cJSON_AddNumberToObject(o, "number_of_trees", p->number_of_trees) &&
             cJSON_AddNumberToObject(o, "sub_sample_size", p->sub_sample_size) &&
             cJSON_AddNumberToObject(o, "time_decay", (double)p->time_decay) &&
             cJSON_AddNumberToObject(o, "shingle_size", p->shingle_size) &&
             cJSON_AddNumberToObject(o, "output_after", (double)p->output_after) &&
             cJSON_AddBoolToObject(o, "explain", p->explain) &&
             cJSON_AddNumberToObject(o, "recent_mean", (double)recent);
    *n_fields = recent > 0 ? p->input_dim / 2 : p->input_dim;
    *seed = p->seed;
    rcf_forest_destroy(probe);
    if (!ok) {
        cJSON_Delete(o);
        return RCFD_ENOMEM;
    }
    *out = o;
    return 0;
}

static PyObject *forest_load(PyTypeObject *cls, PyObject *data)
{
    Py_buffer view;
    if (rcfd_py_get_buffer(data, &view) != 0) {
        return NULL;
    }
    forest_object_t *f = (forest_object_t *)forest_new(cls, NULL, NULL);
    if (f == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    char err[512] = "";
    cJSON *conf = NULL;
    size_t n_fields = 0;
    uint64_t seed = 0;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = snapshot_conf(view.buf, (size_t)view.len, &conf, &n_fields, &seed, err, sizeof err);
    if (rc == 0) {
        f->conf = parse_conf(conf, &rc, err, sizeof err);
    }
    if (rc == 0) {
        rc = rcfd_model_rcf.load(f->conf, n_fields, view.buf, (size_t)view.len, &f->model, err,
                                 sizeof err);
    }
    Py_END_ALLOW_THREADS
    cJSON_Delete(conf);
    PyBuffer_Release(&view);
    if (rc != 0) {
        Py_DECREF(f);
        return rcfd_py_raise(rc, err, -1);
    }
    f->dim = n_fields;
    f->seed = seed;
    f->explain = model_explains(f->model);
    return (PyObject *)f;
}

static PyObject *forest_reduce(forest_object_t *f, PyObject *unused)
{
    (void)unused;
    PyObject *snap = forest_save(f, NULL);
    PyObject *load = snap != NULL ? PyObject_GetAttrString((PyObject *)Py_TYPE(f), "load") : NULL;
    PyObject *r = load != NULL ? Py_BuildValue("(O(O))", load, snap) : NULL;
    Py_XDECREF(load);
    Py_XDECREF(snap);
    return r;
}

/* ---- properties ---- */

static PyObject *json_to_py(const cJSON *j)
{
    if (cJSON_IsBool(j)) {
        return PyBool_FromLong(cJSON_IsTrue(j));
    }
    if (cJSON_IsNumber(j)) {
        double v = j->valuedouble;
        return v == floor(v) && fabs(v) < 9007199254740992.0 ? PyLong_FromDouble(v)
                                                             : PyFloat_FromDouble(v);
    }
    if (cJSON_IsString(j)) {
        return PyUnicode_FromString(j->valuestring);
    }
    return Py_NewRef(Py_None);
}

static PyObject *forest_get_params(forest_object_t *f, void *closure)
{
    (void)closure;
    if (f->conf == NULL) {
        return PyDict_New();
    }
    cJSON *o = conf_json(f);
    if (o == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *d = PyDict_New();
    int ok = d != NULL;
    if (ok) {
        PyObject *type = PyUnicode_FromString(rcfd_model_rcf.name);
        ok = type != NULL && PyDict_SetItemString(d, "type", type) == 0;
        Py_XDECREF(type);
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, o)
    {
        if (!ok || strcmp(it->string, "seed") == 0) {
            continue; /* the master seed: the snapshot carries the forest's own (Forest.seed) */
        }
        PyObject *v = json_to_py(it);
        ok = v != NULL && PyDict_SetItemString(d, it->string, v) == 0;
        Py_XDECREF(v);
    }
    /* output_after as the forest resolved it (-1 means sub_sample_size) */
    if (ok && f->model != NULL && rcfd_rcf_model_forest(f->model) != NULL) {
        const rcf_params_t *p = rcf_forest_params(rcfd_rcf_model_forest(f->model));
        PyObject *v = PyLong_FromLongLong(p->output_after);
        ok = v != NULL && PyDict_SetItemString(d, "output_after", v) == 0;
        Py_XDECREF(v);
    }
    cJSON_Delete(o);
    if (!ok) {
        Py_XDECREF(d);
        return PyErr_Occurred() ? NULL : PyErr_NoMemory();
    }
    return d;
}

static PyObject *forest_get_dim(forest_object_t *f, void *closure)
{
    (void)closure;
    return f->dim > 0 ? PyLong_FromSize_t(f->dim) : Py_NewRef(Py_None);
}

static PyObject *forest_get_records(forest_object_t *f, void *closure)
{
    (void)closure;
    if (f->model == NULL) {
        return PyLong_FromLong(0);
    }
    if (rcfd_py_lock(&f->lock, "Forest") != 0) {
        return NULL;
    }
    uint64_t records = rcfd_rcf_model_records(f->model);
    rcfd_py_unlock(&f->lock);
    return PyLong_FromUnsignedLongLong(records);
}

static PyObject *forest_get_seed(forest_object_t *f, void *closure)
{
    (void)closure;
    return PyLong_FromUnsignedLongLong(f->seed);
}

static PyObject *forest_get_explain(forest_object_t *f, void *closure)
{
    (void)closure;
    return PyBool_FromLong(f->explain);
}

static PyObject *forest_get_key(forest_object_t *f, void *closure)
{
    (void)closure;
    return Py_NewRef(f->key);
}

static PyObject *forest_repr(forest_object_t *f)
{
    PyObject *p = forest_get_params(f, NULL), *d = forest_get_dim(f, NULL);
    PyObject *n = forest_get_records(f, NULL);
    PyObject *r = p != NULL && d != NULL && n != NULL
                      ? PyUnicode_FromFormat("%s(dim=%R, records=%S, params=%R)",
                                             Py_TYPE(f)->tp_name, d, n, p)
                      : NULL;
    Py_XDECREF(p);
    Py_XDECREF(d);
    Py_XDECREF(n);
    return r;
}

/* ---- the type object ---- */

static PyMethodDef forest_methods[] = {
    {"process", (PyCFunction)forest_process, METH_O,
     "process(x) -> Result\n\n"
     "Scores each record against the forest, then learns it (KDA's order), in input order.\n"
     "x is one record (a 1-D array of dim values) or a 2-D array with one record per row;\n"
     "integers and booleans are converted to float64. Returns a Result of numpy arrays (of\n"
     "numpy scalars for one record). A NaN, an infinity or a value outside the float range\n"
     "raises rcfd.Error naming the record and column, and nothing is learnt. The loop runs in\n"
     "C without the GIL."},
    {"score", (PyCFunction)forest_score, METH_O,
     "score(x) -> numpy.ndarray | numpy.float64\n\n"
     "The score process(x) would give each record, without learning any: every record is\n"
     "scored against the forest as it is now (0 while it warms up)."},
    {"save", (PyCFunction)forest_save, METH_NOARGS,
     "save() -> bytes\n\n"
     "The model's snapshot in the daemon's format: the forest, the recent means and the\n"
     "anomaly_novelty, as `rcfd train` writes DIR/<key>.rcf.snap and a pipeline's\n"
     "initial_state reads it."},
    {"load", (PyCFunction)forest_load, METH_O | METH_CLASS,
     "load(snapshot: bytes) -> Forest\n\n"
     "A forest from a snapshot written by save(), by `rcfd train` or by the daemon's\n"
     "checkpoints (one model's), or a plain rcf_forest_save() image (its novelty starts cold).\n"
     "The parameters are the snapshot's. A damaged or truncated snapshot raises rcfd.Error\n"
     "naming the byte."},
    {"__reduce__", (PyCFunction)forest_reduce, METH_NOARGS, "Pickles through save() and load()."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef forest_getset[] = {
    {"dim", (getter)forest_get_dim, NULL, "values per record (None until the first record)", NULL},
    {"params", (getter)forest_get_params, NULL,
     "the rcf model's parameters in the daemon's names (a pipeline's \"models\" entry that warm-"
     "starts from this forest's snapshot must give the same), output_after resolved",
     NULL},
    {"records", (getter)forest_get_records, NULL, "records learnt so far", NULL},
    {"seed", (getter)forest_get_seed, NULL, "the forest's own seed (with key=, the key's)", NULL},
    {"explain", (getter)forest_get_explain, NULL, "whether results carry attribution", NULL},
    {"key", (getter)forest_get_key, NULL, "the key given, or None", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject rcfd_py_ForestType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "rcfd.Forest",
    .tp_basicsize = sizeof(forest_object_t),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc =
        "Forest(trees=100, sample=256, shingle=1, time_decay=100000, seed=42, explain=False, *,\n"
        "       dim=None, key=None, **opts)\n\n"
        "rcfd's streaming Random Cut Forest, as the daemon's rcf model keeps it per key: the\n"
        "forest, the key's recent means and its anomaly_novelty.\n\n"
        "trees, sample, shingle, time_decay: KDA's numberOfTrees, subSampleSize, shingleSize,\n"
        "timeDecay (the daemon's number_of_trees, sub_sample_size, shingle_size, time_decay).\n"
        "seed: the forest's seed (0 .. 2**53-1); equal seeds and inputs give identical scores.\n"
        "explain: attribution, strength and direction per column (RANDOM_CUT_FOREST_WITH_\n"
        "EXPLANATION).\n"
        "dim: values per record; None takes it from the first record.\n"
        "key: the forest the daemon gives this key in a pipeline whose seed is `seed`\n"
        "(rcfd_key_seed); \"\" for a pipeline without a key field.\n"
        "opts: the rcf model's other parameters by the daemon's names: recent_mean (default 25;\n"
        "0 for KDA's forest and scores exactly), output_after (default -1: sample).\n"
        "Bad parameters raise rcfd.Error with the daemon's message.\n\n"
        "Not thread-safe by itself, but safe to share: each call takes the forest's lock.",
    .tp_new = forest_new,
    .tp_init = (initproc)forest_init,
    .tp_dealloc = (destructor)forest_dealloc,
    .tp_repr = (reprfunc)forest_repr,
    .tp_methods = forest_methods,
    .tp_getset = forest_getset,
};

int rcfd_py_forest_init_types(PyObject *module)
{
    rcfd_py_ResultType = PyStructSequence_NewType(&result_desc);
    if (rcfd_py_ResultType == NULL || PyType_Ready(&rcfd_py_ForestType) != 0) {
        return -1;
    }
    if (PyModule_AddObjectRef(module, "Result", (PyObject *)rcfd_py_ResultType) != 0 ||
        PyModule_AddObjectRef(module, "Forest", (PyObject *)&rcfd_py_ForestType) != 0) {
        return -1;
    }
    return 0;
}
