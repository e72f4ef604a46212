/* rcfd._rcfd: module init, the rcfd.Error exception and the array conversions the models share. */
#define RCFD_PY_MODULE
#include "binding.h"

#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>

#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "rcfd/version.h"

static PyObject *error_type; /* rcfd.Error */

PyObject *rcfd_py_raise(int code, const char *msg, Py_ssize_t row)
{
    const char *text = msg != NULL && msg[0] != '\0' ? msg : rcfd_strerror(code);
    if (code == RCFD_ENOMEM) {
        return PyErr_Format(PyExc_MemoryError, "%s", text);
    }
    PyObject *e = PyObject_CallFunction(error_type, "s", text);
    if (e == NULL) {
        return NULL;
    }
    PyObject *c = PyLong_FromLong(code);
    PyObject *n = PyUnicode_FromString(rcfd_err_name(code));
    PyObject *r = row >= 0 ? PyLong_FromSsize_t(row) : Py_NewRef(Py_None);
    if (c != NULL && n != NULL && r != NULL && PyObject_SetAttrString(e, "code", c) == 0 &&
        PyObject_SetAttrString(e, "name", n) == 0 && PyObject_SetAttrString(e, "row", r) == 0) {
        PyErr_SetObject(error_type, e);
    }
    Py_XDECREF(c);
    Py_XDECREF(n);
    Py_XDECREF(r);
    Py_DECREF(e);
    return NULL;
}

int rcfd_py_lock_init(rcfd_py_lock_t *l)
{
    l->lock = PyThread_allocate_lock();
    atomic_store(&l->owner, 0ul);
    if (l->lock == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

void rcfd_py_lock_free(rcfd_py_lock_t *l)
{
    if (l->lock != NULL) {
        PyThread_free_lock(l->lock);
        l->lock = NULL;
    }
}

int rcfd_py_lock(rcfd_py_lock_t *l, const char *what)
{
    unsigned long me = PyThread_get_thread_ident();
    if (atomic_load(&l->owner) == me) {
        PyErr_Format(PyExc_RuntimeError, "%s: called again while this thread is in a call on it",
                     what);
        return -1;
    }
    if (!PyThread_acquire_lock(l->lock, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(l->lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
    atomic_store(&l->owner, me);
    return 0;
}

void rcfd_py_unlock(rcfd_py_lock_t *l)
{
    atomic_store(&l->owner, 0ul);
    PyThread_release_lock(l->lock);
}

PyArrayObject *rcfd_py_rows(PyObject *x, size_t *dim, npy_intp *n, int *single, const char *what)
{
    PyArrayObject *a = (PyArrayObject *)PyArray_FROM_O(x);
    if (a == NULL) {
        return NULL;
    }
    /* Real numbers only: a string that happens to parse, a complex or an object is a mistake. */
    char kind = PyArray_DESCR(a)->kind;
    if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b') {
        PyErr_Format(PyExc_TypeError, "%s: records must be real numbers, got an array of %s", what,
                     PyArray_DESCR(a)->typeobj->tp_name);
        Py_DECREF(a);
        return NULL;
    }
    int nd = PyArray_NDIM(a);
    npy_intp rows, cols;
    if (nd == 0 && *dim <= 1) {
        rows = 1, cols = 1, *single = 1;
    } else if (nd == 1) {
        rows = 1, cols = PyArray_DIM(a, 0), *single = 1;
    } else if (nd == 2) {
        rows = PyArray_DIM(a, 0), cols = PyArray_DIM(a, 1), *single = 0;
    } else {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "%s: give one record (a 1-D array of its values) or a 2-D array of records "
                 "(one per row), not a %d-D array",
                 what, nd);
        Py_DECREF(a);
        return (PyArrayObject *)rcfd_py_raise(RCFD_EDIM, msg, -1);
    }
    if (cols < 1 || (*dim != 0 && (size_t)cols != *dim)) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s: %s: records of %zd values, the model takes %zu%s", what,
                 rcfd_strerror(RCFD_EDIM), (Py_ssize_t)cols, *dim,
                 *dim == 1 && nd == 1 ? " (a series of single values is x.reshape(-1, 1))" : "");
        Py_DECREF(a);
        return (PyArrayObject *)rcfd_py_raise(RCFD_EDIM, msg, -1);
    }
    PyArrayObject *c = (PyArrayObject *)PyArray_FROM_OTF((PyObject *)a, NPY_DOUBLE,
                                                         NPY_ARRAY_IN_ARRAY | NPY_ARRAY_FORCECAST);
    Py_DECREF(a);
    if (c != NULL) {
        *dim = (size_t)cols;
        *n = rows;
    }
    return c;
}

int rcfd_py_check_values(const double *rows, npy_intp n, size_t dim,
                         int (*bad)(double v, size_t column, const void *ud), const void *ud)
{
    for (npy_intp i = 0; i < n; i++) {
        for (size_t k = 0; k < dim; k++) {
            double v = rows[(size_t)i * dim + k];
            if (bad(v, k, ud)) {
                char msg[200];
                snprintf(msg, sizeof msg, "record %zd, column %zu: %s (%g); nothing was learnt",
                         (Py_ssize_t)i, k, rcfd_strerror(RCFD_ENONFINITE), v);
                rcfd_py_raise(RCFD_ENONFINITE, msg, (Py_ssize_t)i);
                return -1;
            }
        }
    }
    return 0;
}

PyArrayObject *rcfd_py_vec(npy_intp n, int single, int type)
{
    return (PyArrayObject *)PyArray_ZEROS(single ? 0 : 1, &n, type, 0);
}

PyArrayObject *rcfd_py_mat(npy_intp n, npy_intp d, int single, int type)
{
    npy_intp dims[2] = {n, d};
    return single ? (PyArrayObject *)PyArray_ZEROS(1, &dims[1], type, 0)
                  : (PyArrayObject *)PyArray_ZEROS(2, dims, type, 0);
}

PyObject *rcfd_py_out(PyArrayObject *a)
{
    return PyArray_Return(a);
}

int rcfd_py_as_int(PyObject *v, long long *out)
{
    if (PyBool_Check(v) || PyArray_IsScalar(v, Bool) || !PyIndex_Check(v)) {
        return -1;
    }
    PyObject *i = PyNumber_Index(v);
    long long x = i != NULL ? PyLong_AsLongLong(i) : -1;
    Py_XDECREF(i);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    *out = x;
    return 0;
}

int rcfd_py_get_buffer(PyObject *o, Py_buffer *view)
{
    if (PyObject_GetBuffer(o, view, PyBUF_C_CONTIGUOUS) != 0) {
        PyErr_Format(PyExc_TypeError, "expected a bytes-like snapshot, got %s",
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    return 0;
}

static PyObject *strerror_py(PyObject *self, PyObject *arg)
{
    (void)self;
    long code = PyLong_AsLong(arg);
    if (code == -1 && PyErr_Occurred()) {
        return NULL;
    }
    return PyUnicode_FromString(rcfd_strerror((int)code));
}

static PyObject *alloc_stats_py(PyObject *self, PyObject *unused)
{
    (void)self, (void)unused;
    rcfd_alloc_stats_t st;
    rcfd_alloc_stats(&st);
    return Py_BuildValue("{s:K,s:K,s:K}", "calls", (unsigned long long)st.calls, "bytes_in_use",
                         (unsigned long long)st.bytes_in_use, "bytes_reserved",
                         (unsigned long long)st.bytes_reserved);
}

static PyMethodDef module_methods[] = {
    {"alloc_stats", alloc_stats_py, METH_NOARGS,
     "alloc_stats() -> dict\n\nrcfd's allocation counters (rcfd/alloc.h): calls (allocations "
     "since start), bytes_in_use, bytes_reserved (address space for point stores)."},
    {"strerror", strerror_py, METH_O,
     "strerror(code: int) -> str\n\nrcfd's description of an error code (rcfd.Error.code)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "rcfd._rcfd",
    .m_doc = "The C extension behind the rcfd package: rcfd's forest and HOTSPOTS libraries.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__rcfd(void);

PyMODINIT_FUNC PyInit__rcfd(void)
{
    import_array();
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL) {
        return NULL;
    }
    error_type = PyErr_NewExceptionWithDoc(
        "rcfd.Error",
        "An error reported by rcfd, with its message (the parameter's name and valid range, the "
        "snapshot byte that is wrong, the record and column of a bad value).\n\n"
        "Attributes: code (rcfd's negative error code), name (its symbol, e.g. 'EDIM', "
        "'ENONFINITE', 'ECONFIG', 'EBADSTATE'), row (the index of the offending record in the "
        "call's input, or None).",
        PyExc_ValueError, NULL);
    if (error_type == NULL || PyModule_AddObjectRef(m, "Error", error_type) != 0 ||
        PyModule_AddStringConstant(m, "__version__", rcfd_version()) != 0 ||
        rcfd_py_forest_init_types(m) != 0 || rcfd_py_hotspots_init_types(m) != 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
