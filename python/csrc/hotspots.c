/* rcfd.Hotspots: the HOTSPOTS library (include/rcfd/hotspots.h). Its snapshot is hs_save()'s,
 * which is what the daemon's hotspots model type and `rcfd train --model hotspots` write. */
#include "binding.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rcfd/alloc.h"
#include "rcfd/hotspots.h"
#include "rcfd/status.h"

typedef struct hotspots_object {
    PyObject_HEAD hs_detector_t *det; /* NULL until the dimension is known */
    hs_params_t params;               /* what the detector is created with (dim 0 until known) */
    hs_result_t last; /* the latest report; valid while have_last and the lock is held */
    int have_last;    /* 0 after load (hotspots/json recompute the window's then) */
    rcfd_py_lock_t lock;
    int scale_given; /* scale= had as many values as dim must have */
} hotspots_object_t;

PyTypeObject *rcfd_py_HotspotsResultType;
PyTypeObject *rcfd_py_HotspotType;

static PyStructSequence_Field hotspot_fields[] = {
    {"density", "count / size (size: the product over columns of max(max - min, radius / scale))"},
    {"count", "records in the hotspot"},
    {"dense_count", "of which dense (core) points"},
    {"min_values", "per column, the lowest value of its records"},
    {"max_values", "per column, the highest value of its records"},
    {"contains_new", "whether the record just processed is in it"},
    {NULL, NULL},
};

static PyStructSequence_Desc hotspot_desc = {
    "rcfd.Hotspot", "One hotspot of the window: KDA's HOTSPOTS_RESULT entry.", hotspot_fields, 6};

static PyStructSequence_Field hresult_fields[] = {
    {"in_hotspot", "per record: the record is in a hotspot of the window it entered"},
    {"density", "per record: the density of its hotspot, 0 outside one"},
    {"count", "per record: the records in its hotspot, 0 outside one"},
    {"n_hotspots", "per record: hotspots reported (after only_containing_new)"},
    {"changed", "per record: the report differs from the previous record's"},
    {"hotspots", "the hotspots reported for the last record, densest first (list of Hotspot)"},
    {NULL, NULL},
};

static PyStructSequence_Desc hresult_desc = {
    "rcfd.HotspotsResult",
    "What Hotspots.process returns: per-record arrays (numpy scalars for one record) and the "
    "last record's hotspots.",
    hresult_fields, 6};

static PyObject *hs_new_py(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    (void)args, (void)kwds;
    hotspots_object_t *h = (hotspots_object_t *)type->tp_alloc(type, 0);
    if (h == NULL) {
        return NULL;
    }
    if (rcfd_py_lock_init(&h->lock) != 0) {
        Py_DECREF(h);
        return NULL;
    }
    return (PyObject *)h;
}

static void hs_dealloc(hotspots_object_t *h)
{
    hs_destroy(h->det);
    rcfd_py_lock_free(&h->lock);
    Py_TYPE(h)->tp_free((PyObject *)h);
}

static int create_detector(hotspots_object_t *h, size_t dim)
{
    if (!h->scale_given) {
        for (size_t k = 0; k < HS_MAX_DIM; k++) {
            h->params.scale[k] = 1.0;
        }
    }
    h->params.dim = dim > HS_MAX_DIM ? HS_MAX_DIM + 1 : (uint32_t)dim;
    char err[512];
    int rc = hs_new(&h->params, &h->det, err, sizeof err);
    if (rc != 0) {
        h->params.dim = 0;
        rcfd_py_raise(rc, err, -1);
        return -1;
    }
    return 0;
}

static int hs_init(hotspots_object_t *h, PyObject *args, PyObject *kwds)
{
    static char *kw[] = {"window",    "radius", "min_points", "dim", "scale", "only_containing_new",
                         "algorithm", NULL};
    Py_ssize_t window = 1000, min_points = 17;
    double radius = 0.2;
    PyObject *dim = Py_None, *scale = Py_None;
    int only_new = 0;
    const char *algorithm = "incremental";
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|ndn$OOps:Hotspots", kw, &window, &radius,
                                     &min_points, &dim, &scale, &only_new, &algorithm)) {
        return -1;
    }
    hs_params_t p = hs_params_default(1);
    /* out-of-range sizes wrap to values hs_params_validate refuses, naming the parameter */
    p.window_size = window < 0 || window > UINT32_MAX ? 0 : (uint32_t)window;
    p.min_points = min_points < 0 || min_points > UINT32_MAX ? 0 : (uint32_t)min_points;
    p.scan_radius = radius;
    p.only_containing_new = only_new;
    if (strcmp(algorithm, "incremental") == 0) {
        p.algorithm = HS_ALGORITHM_INCREMENTAL;
    } else if (strcmp(algorithm, "brute_force") == 0) {
        p.algorithm = HS_ALGORITHM_BRUTE_FORCE;
    } else {
        PyErr_Format(PyExc_ValueError,
                     "algorithm: expected 'incremental' or 'brute_force', got '%s'", algorithm);
        return -1;
    }
    long long dim_v = 0;
    if (dim != Py_None) {
        if (rcfd_py_as_int(dim, &dim_v) != 0) {
            PyErr_SetString(PyExc_TypeError, "dim: expected None or an integer");
            return -1;
        }
        if (dim_v < 1 || dim_v > HS_MAX_DIM) {
            PyErr_Format(PyExc_ValueError, "dim: %lld is out of range [1, %u]", dim_v, HS_MAX_DIM);
            return -1;
        }
    }
    int scale_given = 0;
    if (scale != Py_None) {
        PyArrayObject *s = (PyArrayObject *)PyArray_FROM_OTF(scale, NPY_DOUBLE, NPY_ARRAY_IN_ARRAY);
        if (s == NULL) {
            return -1;
        }
        npy_intp n = PyArray_SIZE(s);
        if (PyArray_NDIM(s) != 1 || n < 1 || n > HS_MAX_DIM || (dim_v > 0 && n != dim_v)) {
            Py_DECREF(s);
            PyErr_Format(PyExc_ValueError,
                         "scale: expected one factor per column (a 1-D sequence of dim values, at "
                         "most %u)",
                         HS_MAX_DIM);
            return -1;
        }
        memcpy(p.scale, PyArray_DATA(s), (size_t)n * sizeof(double));
        Py_DECREF(s);
        dim_v = n;
        scale_given = 1;
    }
    /* Parameters no dimension can make valid fail now rather than at the first record. */
    p.dim = dim_v > 0 ? (dim_v > HS_MAX_DIM ? HS_MAX_DIM + 1 : (uint32_t)dim_v) : 1;
    char err[512];
    int rc = hs_params_validate(&p, err, sizeof err);
    if (rc != 0) {
        rcfd_py_raise(rc, err, -1);
        return -1;
    }
    /* __init__ may run again on a detector another thread is using */
    if (rcfd_py_lock(&h->lock, "Hotspots") != 0) {
        return -1;
    }
    hs_destroy(h->det);
    h->det = NULL;
    h->have_last = 0;
    h->params = p;
    h->params.dim = 0;
    h->scale_given = scale_given;
    rc = dim_v > 0 ? create_detector(h, (size_t)dim_v) : 0;
    rcfd_py_unlock(&h->lock);
    return rc;
}

/* HOTSPOTS' own test of a value (hs_process refuses the same), checked for the whole input first
 * so that a bad record leaves the window as it was. */
static int hs_bad_value(double v, size_t column, const void *ud)
{
    const double *scale = ud;
    return !isfinite(v) || !isfinite(v * scale[column]);
}

static PyObject *hotspot_py(const hs_hotspot_t *s, size_t dim)
{
    PyObject *o = PyStructSequence_New(rcfd_py_HotspotType);
    PyArrayObject *lo = rcfd_py_mat(1, (npy_intp)dim, 1, NPY_DOUBLE);
    PyArrayObject *hi = rcfd_py_mat(1, (npy_intp)dim, 1, NPY_DOUBLE);
    if (o == NULL || lo == NULL || hi == NULL) {
        Py_XDECREF(o);
        Py_XDECREF(lo);
        Py_XDECREF(hi);
        return NULL;
    }
    memcpy(PyArray_DATA(lo), s->min_values, dim * sizeof(double));
    memcpy(PyArray_DATA(hi), s->max_values, dim * sizeof(double));
    PyStructSequence_SetItem(o, 0, PyFloat_FromDouble(s->density));
    PyStructSequence_SetItem(o, 1, PyLong_FromUnsignedLong(s->count));
    PyStructSequence_SetItem(o, 2, PyLong_FromUnsignedLong(s->dense_count));
    PyStructSequence_SetItem(o, 3, (PyObject *)lo);
    PyStructSequence_SetItem(o, 4, (PyObject *)hi);
    PyStructSequence_SetItem(o, 5, PyBool_FromLong(s->contains_new));
    for (int i = 0; i < 3; i++) {
        if (PyStructSequence_GetItem(o, i) == NULL) {
            Py_DECREF(o);
            return NULL;
        }
    }
    return o;
}

static PyObject *hotspot_list(const hs_result_t *r, size_t dim)
{
    PyObject *l = PyList_New((Py_ssize_t)r->n_hotspots);
    for (size_t i = 0; l != NULL && i < r->n_hotspots; i++) {
        PyObject *o = hotspot_py(&r->hotspots[i], dim);
        if (o == NULL) {
            Py_CLEAR(l);
            break;
        }
        PyList_SET_ITEM(l, (Py_ssize_t)i, o);
    }
    return l;
}

/* The current report (the lock held): the latest process() one, or after load() the window's,
 * recomputed. NULL with an exception on failure. */
static const hs_result_t *current(hotspots_object_t *h)
{
    if (h->det != NULL && !h->have_last) {
        int rc = hs_recompute(h->det, &h->last);
        if (rc != 0) {
            rcfd_py_raise(rc, NULL, -1);
            return NULL;
        }
        h->have_last = 1;
    }
    return &h->last;
}

static PyObject *hs_process_py(hotspots_object_t *h, PyObject *x)
{
    npy_intp n;
    int single;
    size_t dim = h->params.dim;
    PyArrayObject *rows = rcfd_py_rows(x, &dim, &n, &single, "Hotspots");
    if (rows == NULL) {
        return NULL;
    }
    if (rcfd_py_lock(&h->lock, "Hotspots") != 0) {
        Py_DECREF(rows);
        return NULL;
    }
    if (h->det == NULL && create_detector(h, dim) != 0) {
        goto fail_locked;
    }
    if (dim != h->params.dim) {
        char msg[200];
        snprintf(msg, sizeof msg, "Hotspots: %s: records of %zu values, the model takes %u",
                 rcfd_strerror(RCFD_EDIM), dim, h->params.dim);
        rcfd_py_raise(RCFD_EDIM, msg, -1);
        goto fail_locked;
    }
    const double *in = PyArray_DATA(rows);
    if (rcfd_py_check_values(in, n, dim, hs_bad_value, hs_params(h->det)->scale) != 0) {
        goto fail_locked;
    }
    PyArrayObject *out[5] = {
        rcfd_py_vec(n, single, NPY_BOOL),   rcfd_py_vec(n, single, NPY_DOUBLE),
        rcfd_py_vec(n, single, NPY_UINT32), rcfd_py_vec(n, single, NPY_UINT32),
        rcfd_py_vec(n, single, NPY_BOOL),
    };
    PyObject *res = PyStructSequence_New(rcfd_py_HotspotsResultType);
    int ok = res != NULL;
    for (int i = 0; i < 5; i++) {
        ok = ok && out[i] != NULL;
    }
    int rc = 0;
    npy_intp done = 0;
    if (ok) {
        npy_bool *in_hot = PyArray_DATA(out[0]), *changed = PyArray_DATA(out[4]);
        double *density = PyArray_DATA(out[1]);
        npy_uint32 *count = PyArray_DATA(out[2]), *n_hot = PyArray_DATA(out[3]);
        hs_detector_t *det = h->det;
        hs_result_t r = h->last;
        Py_BEGIN_ALLOW_THREADS
        for (; done < n; done++) {
            rc = hs_process(det, in + (size_t)done * dim, dim, &r);
            if (rc != 0) {
                break;
            }
            n_hot[done] = (npy_uint32)r.n_hotspots;
            changed[done] = (npy_bool)r.changed;
            for (size_t k = 0; k < r.n_hotspots; k++) {
                if (r.hotspots[k].contains_new) {
                    in_hot[done] = 1;
                    density[done] = r.hotspots[k].density;
                    count[done] = r.hotspots[k].count;
                }
            }
        }
        Py_END_ALLOW_THREADS
        if (done > 0) {
            h->last = r;
            h->have_last = 1;
        }
    }
    PyObject *list = ok && rc == 0 ? hotspot_list(current(h), dim) : NULL;
    rcfd_py_unlock(&h->lock);
    Py_DECREF(rows);
    if (list != NULL) {
        for (int i = 0; i < 5; i++) {
            PyStructSequence_SetItem(res, i, rcfd_py_out(out[i]));
        }
        PyStructSequence_SetItem(res, 5, list);
        return res;
    }
    for (int i = 0; i < 5; i++) {
        Py_XDECREF(out[i]);
    }
    Py_XDECREF(res);
    if (ok && rc != 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "record %zd: %s; the %zd records before it were added",
                 (Py_ssize_t)done, rcfd_strerror(rc), (Py_ssize_t)done);
        return rcfd_py_raise(rc, msg, (Py_ssize_t)done);
    }
    return PyErr_Occurred() ? NULL : PyErr_NoMemory();

fail_locked:
    rcfd_py_unlock(&h->lock);
    Py_DECREF(rows);
    return NULL;
}

static PyObject *hs_get_hotspots(hotspots_object_t *h, void *closure)
{
    (void)closure;
    if (rcfd_py_lock(&h->lock, "Hotspots") != 0) {
        return NULL;
    }
    const hs_result_t *r = current(h);
    PyObject *l = r != NULL ? hotspot_list(r, h->params.dim) : NULL;
    rcfd_py_unlock(&h->lock);
    return l;
}

static PyObject *hs_json(hotspots_object_t *h, PyObject *args, PyObject *kwds)
{
    static char *kw[] = {"kda", NULL};
    int kda = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$p:json", kw, &kda)) {
        return NULL;
    }
    if (rcfd_py_lock(&h->lock, "Hotspots") != 0) {
        return NULL;
    }
    const hs_result_t *r = current(h);
    PyObject *s = NULL;
    if (r != NULL && h->det == NULL) {
        s = PyUnicode_FromString("{\"hotspots\":[]}");
    } else if (r != NULL) {
        unsigned flags = kda ? HS_JSON_KDA : 0u;
        size_t len = 0;
        hs_result_json(h->det, r, NULL, 0, &len, flags);
        char *buf = PyMem_Malloc(len + 1);
        int rc = buf == NULL ? RCFD_ENOMEM : hs_result_json(h->det, r, buf, len + 1, &len, flags);
        s = rc == 0 ? PyUnicode_FromStringAndSize(buf, (Py_ssize_t)len)
                    : rcfd_py_raise(rc, NULL, -1);
        PyMem_Free(buf);
    }
    rcfd_py_unlock(&h->lock);
    return s;
}

static PyObject *hs_save_py(hotspots_object_t *h, PyObject *unused)
{
    (void)unused;
    if (rcfd_py_lock(&h->lock, "Hotspots") != 0) {
        return NULL;
    }
    if (h->det == NULL) {
        rcfd_py_unlock(&h->lock);
        return rcfd_py_raise(RCFD_EINVAL,
                             "Hotspots.save: the detector has no dimension yet (give dim= or "
                             "process a record first)",
                             -1);
    }
    size_t need = hs_snapshot_size(h->det), len = 0;
    PyObject *bytes = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)need);
    int rc = 0;
    if (bytes != NULL) {
        char *p = PyBytes_AS_STRING(bytes);
        Py_BEGIN_ALLOW_THREADS
        rc = hs_save(h->det, p, need, &len);
        Py_END_ALLOW_THREADS
    }
    rcfd_py_unlock(&h->lock);
    if (bytes != NULL && rc != 0) {
        Py_DECREF(bytes);
        return rcfd_py_raise(rc, NULL, -1);
    }
    if (bytes != NULL && len != need) {
        _PyBytes_Resize(&bytes, (Py_ssize_t)len);
    }
    return bytes;
}

static PyObject *hs_load_py(PyTypeObject *cls, PyObject *data)
{
    Py_buffer view;
    if (rcfd_py_get_buffer(data, &view) != 0) {
        return NULL;
    }
    hotspots_object_t *h = (hotspots_object_t *)hs_new_py(cls, NULL, NULL);
    if (h == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    char err[512] = "";
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = hs_load(view.buf, (size_t)view.len, &h->det, err, sizeof err);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (rc != 0) {
        Py_DECREF(h);
        return rcfd_py_raise(rc, err, -1);
    }
    h->params = *hs_params(h->det);
    h->scale_given = 1;
    return (PyObject *)h;
}

static PyObject *hs_reduce(hotspots_object_t *h, PyObject *unused)
{
    (void)unused;
    PyObject *snap = hs_save_py(h, NULL);
    PyObject *load = snap != NULL ? PyObject_GetAttrString((PyObject *)Py_TYPE(h), "load") : NULL;
    PyObject *r = load != NULL ? Py_BuildValue("(O(O))", load, snap) : NULL;
    Py_XDECREF(load);
    Py_XDECREF(snap);
    return r;
}

static PyObject *hs_get_params(hotspots_object_t *h, void *closure)
{
    (void)closure;
    const hs_params_t *p = &h->params;
    PyObject *scale = PyList_New(p->dim);
    for (uint32_t k = 0; scale != NULL && k < p->dim; k++) {
        PyObject *v = PyFloat_FromDouble(p->scale[k]);
        if (v == NULL) {
            Py_CLEAR(scale);
            break;
        }
        PyList_SET_ITEM(scale, k, v);
    }
    if (scale == NULL) {
        return NULL;
    }
    return Py_BuildValue("{s:s,s:I,s:d,s:I,s:O,s:N,s:s}", "type", "hotspots", "window_size",
                         p->window_size, "scan_radius", p->scan_radius, "min_points", p->min_points,
                         "only_containing_new", p->only_containing_new ? Py_True : Py_False,
                         "scale", scale, "algorithm",
                         p->algorithm == HS_ALGORITHM_BRUTE_FORCE ? "brute_force" : "incremental");
}

static PyObject *hs_get_dim(hotspots_object_t *h, void *closure)
{
    (void)closure;
    return h->params.dim > 0 ? PyLong_FromUnsignedLong(h->params.dim) : Py_NewRef(Py_None);
}

static PyObject *hs_get_records(hotspots_object_t *h, void *closure)
{
    (void)closure;
    if (h->det == NULL) {
        return PyLong_FromLong(0);
    }
    hs_stats_t st;
    if (rcfd_py_lock(&h->lock, "Hotspots") != 0) {
        return NULL;
    }
    hs_stats(h->det, &st);
    rcfd_py_unlock(&h->lock);
    return PyLong_FromUnsignedLongLong(st.records);
}

static PyObject *hs_repr(hotspots_object_t *h)
{
    PyObject *p = hs_get_params(h, NULL), *d = hs_get_dim(h, NULL), *n = hs_get_records(h, NULL);
    PyObject *r = p != NULL && d != NULL && n != NULL
                      ? PyUnicode_FromFormat("%s(dim=%R, records=%S, params=%R)",
                                             Py_TYPE(h)->tp_name, d, n, p)
                      : NULL;
    Py_XDECREF(p);
    Py_XDECREF(d);
    Py_XDECREF(n);
    return r;
}

static PyMethodDef hs_methods[] = {
    {"process", (PyCFunction)hs_process_py, METH_O,
     "process(x) -> HotspotsResult\n\n"
     "Adds each record to the sliding window (dropping the oldest once it is full), in input\n"
     "order, and reports, per record, whether it landed in a hotspot, and the hotspots of the\n"
     "window after the last one. x is one record (1-D) or one record per row (2-D). A NaN, an\n"
     "infinity or a value whose scaled form overflows raises rcfd.Error naming the record and\n"
     "column, and nothing is added. The loop runs in C without the GIL."},
    {"json", (PyCFunction)(void (*)(void))hs_json, METH_VARARGS | METH_KEYWORDS,
     "json(*, kda=False) -> str\n\n"
     "The current hotspots as KDA's HOTSPOTS_RESULT JSON (kda=True: density, minValues and\n"
     "maxValues only, KDA's exact shape)."},
    {"save", (PyCFunction)hs_save_py, METH_NOARGS,
     "save() -> bytes\n\nThe detector's snapshot (hs_save), as `rcfd train --model hotspots`\n"
     "writes DIR/<key>.hotspots.snap and a pipeline's initial_state reads it."},
    {"load", (PyCFunction)hs_load_py, METH_O | METH_CLASS,
     "load(snapshot: bytes) -> Hotspots\n\nA detector from a snapshot (save(), rcfd train)."},
    {"__reduce__", (PyCFunction)hs_reduce, METH_NOARGS, "Pickles through save() and load()."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef hs_getset[] = {
    {"dim", (getter)hs_get_dim, NULL, "values per record (None until the first record)", NULL},
    {"params", (getter)hs_get_params, NULL, "the detector's parameters (the daemon's names)", NULL},
    {"records", (getter)hs_get_records, NULL, "records processed so far", NULL},
    {"hotspots", (getter)hs_get_hotspots, NULL, "the current hotspots, densest first", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject rcfd_py_HotspotsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "rcfd.Hotspots",
    .tp_basicsize = sizeof(hotspots_object_t),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc =
        "Hotspots(window=1000, radius=0.2, min_points=17, *, dim=None, scale=None,\n"
        "         only_containing_new=False, algorithm='incremental')\n\n"
        "KDA's HOTSPOTS: dense regions (DBSCAN clusters) in a sliding window of the last\n"
        "`window` records. radius: scanRadius (Euclidean, in scaled units); min_points:\n"
        "minimumNumberOfPointsInAHotspot (neighbours, itself included, that make a point\n"
        "dense); scale: a factor per column applied before distances; dim: values per record\n"
        "(None: from the first record, or len(scale)); only_containing_new: report only the\n"
        "hotspot holding the new record; algorithm: 'incremental' or the 'brute_force'\n"
        "reference (same results). Bad parameters raise rcfd.Error with rcfd's message.\n\n"
        "Safe to share between threads: each call takes the detector's lock.",
    .tp_new = hs_new_py,
    .tp_init = (initproc)hs_init,
    .tp_dealloc = (destructor)hs_dealloc,
    .tp_repr = (reprfunc)hs_repr,
    .tp_methods = hs_methods,
    .tp_getset = hs_getset,
};

int rcfd_py_hotspots_init_types(PyObject *module)
{
    rcfd_py_HotspotType = PyStructSequence_NewType(&hotspot_desc);
    rcfd_py_HotspotsResultType = PyStructSequence_NewType(&hresult_desc);
    if (rcfd_py_HotspotType == NULL || rcfd_py_HotspotsResultType == NULL ||
        PyType_Ready(&rcfd_py_HotspotsType) != 0) {
        return -1;
    }
    if (PyModule_AddObjectRef(module, "Hotspot", (PyObject *)rcfd_py_HotspotType) != 0 ||
        PyModule_AddObjectRef(module, "HotspotsResult", (PyObject *)rcfd_py_HotspotsResultType) !=
            0 ||
        PyModule_AddObjectRef(module, "Hotspots", (PyObject *)&rcfd_py_HotspotsType) != 0) {
        return -1;
    }
    return 0;
}
