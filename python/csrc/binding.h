/* The rcfd Python extension (rcfd._rcfd): what its three files share.
 *
 * module.c   module init, the rcfd.Error exception, input conversion, the Result types
 * forest.c   rcfd.Forest: the daemon's rcf model type (forest, recent means, anomaly_novelty)
 * hotspots.c rcfd.Hotspots: the HOTSPOTS library
 *
 * Every record loop runs with the GIL released, under the object's own lock, so two threads can
 * use two objects at once and a shared object serialises. Nothing is allocated per record: the
 * output arrays are created (with the GIL) before the loop. */
#ifndef RCFD_PY_BINDING_H
#define RCFD_PY_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stddef.h>
#include <stdint.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL rcfd_py_ARRAY_API
#ifndef RCFD_PY_MODULE
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

/* An object's lock: held by the thread running its model, which waits for it without the GIL. A
 * call that re-enters on the thread holding it (from a finalizer the garbage collector runs, or
 * a callback) gets RuntimeError instead of a deadlock. */
typedef struct rcfd_py_lock {
    PyThread_type_lock lock;
    _Atomic unsigned long owner; /* the holding thread's PyThread_get_thread_ident(), or 0 */
} rcfd_py_lock_t;

int rcfd_py_lock_init(rcfd_py_lock_t *l); /* -1 with MemoryError */
void rcfd_py_lock_free(rcfd_py_lock_t *l);
int rcfd_py_lock(rcfd_py_lock_t *l, const char *what); /* -1 with RuntimeError (re-entry) */
void rcfd_py_unlock(rcfd_py_lock_t *l);

/* Raises rcfd.Error (a ValueError; MemoryError for RCFD_ENOMEM) with `code` (rcfd's negative
 * code), `name` ("EDIM") and `row` (the record's index in the call's input, or None when row < 0)
 * attributes; the message is `msg`, or rcfd_strerror(code) when msg is NULL or empty. Returns
 * NULL. */
PyObject *rcfd_py_raise(int code, const char *msg, Py_ssize_t row);

/* Records for a model of `*dim` values each (0: not known yet, taken from x): a C-contiguous
 * float64 copy or view of x. x may be one record (1-D, or a scalar when *dim is 0 or 1: *single
 * is 1) or a 2-D array of records (rows). Integers and booleans are converted; other dtypes are a
 * TypeError, other shapes a ValueError (rcfd.Error, EDIM). `what` names the model in messages. */
PyArrayObject *rcfd_py_rows(PyObject *x, size_t *dim, npy_intp *n, int *single, const char *what);

/* The first value in rows (n x dim) that `bad` refuses, as an rcfd.Error (RCFD_ENONFINITE) naming
 * its record and column; 0 when every value passes. */
int rcfd_py_check_values(const double *rows, npy_intp n, size_t dim,
                         int (*bad)(double v, size_t column, const void *ud), const void *ud);

/* Output array helpers: a 1-D array of n (or a 0-d one when single), and n x d (or d). */
PyArrayObject *rcfd_py_vec(npy_intp n, int single, int type);
PyArrayObject *rcfd_py_mat(npy_intp n, npy_intp d, int single, int type);
/* A 0-d array becomes its numpy scalar (np.float64, np.bool_); any other object is returned. */
PyObject *rcfd_py_out(PyArrayObject *a);

/* An integer argument (int, numpy integer, anything with __index__; not bool) into *out; 0, or -1
 * with no exception set when v is none of those or out of long long's range. */
int rcfd_py_as_int(PyObject *v, long long *out);

/* The bytes of a buffer-protocol object (bytes, bytearray, memoryview); 0 or -1 with TypeError. */
int rcfd_py_get_buffer(PyObject *o, Py_buffer *view);

extern PyTypeObject rcfd_py_ForestType;
extern PyTypeObject rcfd_py_HotspotsType;
extern PyTypeObject *rcfd_py_ResultType;         /* rcfd.Result (struct sequence) */
extern PyTypeObject *rcfd_py_HotspotsResultType; /* rcfd.HotspotsResult */
extern PyTypeObject *rcfd_py_HotspotType;        /* rcfd.Hotspot */

int rcfd_py_forest_init_types(PyObject *module);
int rcfd_py_hotspots_init_types(PyObject *module);

#endif
