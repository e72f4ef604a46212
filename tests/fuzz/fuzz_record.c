/* Fuzzes the record decoders. The input is one record payload, decoded three ways: as JSON, as a
 * CSV line with named columns (','), and as a CSV line without names (';', fields by index). Each
 * decoder must fail cleanly or give a record whose fields read back sanely: numbers finite and in
 * the float range, keys NUL-terminated within the buffer, and the record's JSON form a JSON object
 * (for CSV: one member per cell). JSON is also decoded with cJSON alone and must read the same
 * as through the fast path. A broken invariant aborts. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "stream/record.h"
#include "config/schema.h"

/* Field selection: plain names, a nested path, an array index, an escaped dot; then key, time. */
static const char *const json_specs[] = {"cpu", "mem", "sensor.temp", "readings.1", "a\\.b"};
static const char *const csv_named_specs[] = {"cpu", "mem", "sensor.temp", "4"};
static const char *const csv_index_specs[] = {"2", "3", "7"};
static char *csv_names[] = {"time", "host", "cpu", "mem", "sensor.temp"};

#define MAX_FIELDS 5

typedef struct selection {
    rcfd_field_t fields[MAX_FIELDS];
    size_t n_fields;
    rcfd_field_t key, ts;
} selection_t;

static void compile(selection_t *s, const char *const *specs, size_t n, const char *key,
                    const char *ts, const rcfd_strlist_t *columns, int csv)
{
    s->n_fields = n;
    for (size_t i = 0; i < n; i++) {
        if (rcfd_field_compile(&s->fields[i], specs[i]) != 0) {
            abort();
        }
    }
    if (rcfd_field_compile(&s->key, key) != 0 || rcfd_field_compile(&s->ts, ts) != 0) {
        abort();
    }
    if (csv) {
        for (size_t i = 0; i < n; i++) {
            if (rcfd_field_resolve_csv(&s->fields[i], columns) != 0) {
                abort();
            }
        }
        if (rcfd_field_resolve_csv(&s->key, columns) != 0 ||
            rcfd_field_resolve_csv(&s->ts, columns) != 0) {
            abort();
        }
    }
}

/* Same members in the same order (duplicate names included, which cJSON_Compare cannot tell
 * apart); numbers as cJSON_Compare compares them, and a non-finite number may come back as null
 * (cJSON prints it so when it prints the tree). */
static int same_tree(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsNumber(b) && !isfinite(b->valuedouble) && cJSON_IsNull(a)) {
        return 1;
    }
    if ((a->type & 0xFF) != (b->type & 0xFF) || (a->string == NULL) != (b->string == NULL) ||
        (a->string != NULL && strcmp(a->string, b->string) != 0)) {
        return 0;
    }
    if (cJSON_IsString(a) && strcmp(a->valuestring, b->valuestring) != 0) {
        return 0;
    }
    if (cJSON_IsNumber(a) && a->valuedouble != b->valuedouble &&
        !(fabs(a->valuedouble - b->valuedouble) <=
          fmax(fabs(a->valuedouble), fabs(b->valuedouble)) * DBL_EPSILON)) {
        return 0;
    }
    const cJSON *x = a->child, *y = b->child;
    for (; x != NULL && y != NULL; x = x->next, y = y->next) {
        if (!same_tree(x, y)) {
            return 0;
        }
    }
    return x == NULL && y == NULL;
}

static void check_record(rcfd_record_t *r, const selection_t *s)
{
    char reason[256];
    size_t ok = 0;
    for (size_t i = 0; i < s->n_fields; i++) {
        double v = NAN;
        if (rcfd_record_number(r, &s->fields[i], &v, reason, sizeof reason) == 0) {
            if (!isfinite(v) || fabs(v) > FLT_MAX) {
                abort();
            }
            ok++;
        } else if (reason[0] == '\0') {
            abort(); /* a rejection always says why (it goes to the dead-letter output) */
        }
    }
    if (ok > s->n_fields) {
        abort();
    }
    char key[64];
    memset(key, 'x', sizeof key);
    size_t key_len = SIZE_MAX;
    if (rcfd_record_text(r, &s->key, key, sizeof key, &key_len, reason, sizeof reason) == 0) {
        if (key_len >= sizeof key || key[key_len] != '\0' || strlen(key) != key_len) {
            abort();
        }
    }
    int64_t t;
    for (int unit = RCFD_TS_S; unit <= RCFD_TS_US; unit++) {
        (void)rcfd_record_time_us(r, &s->ts, unit, &t, reason, sizeof reason);
    }
    const char *js = NULL;
    size_t js_len = 0;
    if (rcfd_record_json(r, &js, &js_len) != 0) {
        return; /* out of memory only */
    }
    if (js == NULL || strlen(js) != js_len) {
        abort();
    }
    cJSON *back = cJSON_ParseWithLength(js, js_len);
    if (!cJSON_IsObject(back)) {
        abort(); /* the record's JSON form must be a JSON object */
    }
    if (r->format == RCFD_FORMAT_CSV && (size_t)cJSON_GetArraySize(back) != r->n_cols) {
        abort();
    }
    /* JSON: the copied text means what the input meant. */
    if (r->format == RCFD_FORMAT_JSON) {
        cJSON *orig = cJSON_ParseWithLength(r->data, r->len);
        if (orig == NULL || !same_tree(back, orig)) {
            abort();
        }
        cJSON_Delete(orig);
    }
    cJSON_Delete(back);
    /* Cached: a second call gives the same text. */
    const char *js2 = NULL;
    size_t js2_len = 0;
    if (rcfd_record_json(r, &js2, &js2_len) != 0 || js2 != js || js2_len != js_len) {
        abort();
    }
}

static void decode(rcfd_record_t *r, int format, const char *data, size_t len, char delim,
                   const rcfd_strlist_t *columns, const selection_t *s)
{
    char reason[256];
    reason[0] = '\0';
    int rc = rcfd_record_parse(r, format, data, len, delim, columns, reason, sizeof reason);
    if (rc == 0) {
        if (format == RCFD_FORMAT_CSV && r->n_cols == 0) {
            abort(); /* even an empty line is one (empty) cell */
        }
        check_record(r, s);
    } else if (rc != RCFD_ENOMEM && reason[0] == '\0') {
        abort();
    }
    rcfd_record_clear(r);
}

/* JSON twice: the fast path (when it takes the record) and cJSON alone must agree on everything a
 * pipeline reads: the parse result and reason, each field, the key, the time and the JSON text. */
typedef struct reading {
    int rc;
    char reason[256];
    double v[MAX_FIELDS];
    int vrc[MAX_FIELDS];
    char vreason[MAX_FIELDS][128];
    char key[64];
    int krc;
    size_t klen;
    int64_t t[3];
    int trc[3];
    char *js;
    size_t js_len;
} reading_t;

static void read_json(rcfd_record_t *r, int cjson_only, const char *data, size_t len,
                      const selection_t *s, reading_t *out)
{
    memset(out, 0, sizeof *out);
    r->cjson_only = cjson_only;
    out->rc = rcfd_record_parse(r, RCFD_FORMAT_JSON, data, len, ',', NULL, out->reason,
                                sizeof out->reason);
    r->cjson_only = 0;
    if (out->rc == 0) {
        for (size_t i = 0; i < s->n_fields; i++) {
            out->vrc[i] = rcfd_record_number(r, &s->fields[i], &out->v[i], out->vreason[i],
                                             sizeof out->vreason[i]);
        }
        out->krc = rcfd_record_text(r, &s->key, out->key, sizeof out->key, &out->klen,
                                    out->reason, sizeof out->reason);
        for (int u = 0; u < 3; u++) {
            out->trc[u] = rcfd_record_time_us(r, &s->ts, u, &out->t[u], out->reason,
                                              sizeof out->reason);
        }
        const char *js;
        if (rcfd_record_json(r, &js, &out->js_len) == 0) {
            out->js = malloc(out->js_len + 1);
            if (out->js != NULL) {
                memcpy(out->js, js, out->js_len + 1);
            }
        }
    }
    rcfd_record_clear(r);
}

static void compare_json_paths(rcfd_record_t *r, const char *data, size_t len,
                               const selection_t *s)
{
    static reading_t a, b;
    read_json(r, 0, data, len, s, &a);
    read_json(r, 1, data, len, s, &b);
    if (a.rc != b.rc || strcmp(a.reason, b.reason) != 0 || a.krc != b.krc ||
        strcmp(a.key, b.key) != 0 || a.klen != b.klen || (a.js == NULL) != (b.js == NULL) ||
        (a.js != NULL && (a.js_len != b.js_len || memcmp(a.js, b.js, a.js_len) != 0))) {
        abort();
    }
    for (size_t i = 0; i < s->n_fields; i++) {
        if (a.vrc[i] != b.vrc[i] || strcmp(a.vreason[i], b.vreason[i]) != 0 ||
            (a.vrc[i] == 0 && memcmp(&a.v[i], &b.v[i], sizeof a.v[i]) != 0)) {
            abort();
        }
    }
    for (int u = 0; u < 3; u++) {
        if (a.trc[u] != b.trc[u] || (a.trc[u] == 0 && a.t[u] != b.t[u])) {
            abort();
        }
    }
    free(a.js);
    free(b.js);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    static selection_t json_sel, csv_named_sel, csv_index_sel;
    static const rcfd_strlist_t columns = {csv_names, sizeof csv_names / sizeof csv_names[0]};
    static rcfd_record_t rec; /* reused across inputs, as the runtime does */
    if (!initialised) {
        /* As main() does: cJSON allocates through rcfd_malloc. */
        cJSON_Hooks hooks = {.malloc_fn = rcfd_malloc, .free_fn = rcfd_free};
        cJSON_InitHooks(&hooks);
        compile(&json_sel, json_specs, sizeof json_specs / sizeof json_specs[0], "host", "time",
                NULL, 0);
        compile(&csv_named_sel, csv_named_specs,
                sizeof csv_named_specs / sizeof csv_named_specs[0], "host", "time", &columns, 1);
        compile(&csv_index_sel, csv_index_specs,
                sizeof csv_index_specs / sizeof csv_index_specs[0], "1", "0", NULL, 1);
        initialised = 1;
    }
    /* The decoders get exactly `size` bytes, with no terminator after them. */
    char *copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data, size);
    decode(&rec, RCFD_FORMAT_JSON, copy, size, ',', NULL, &json_sel);
    compare_json_paths(&rec, copy, size, &json_sel);
    decode(&rec, RCFD_FORMAT_CSV, copy, size, ',', &columns, &csv_named_sel);
    decode(&rec, RCFD_FORMAT_CSV, copy, size, ';', NULL, &csv_index_sel);
    free(copy);
    return 0;
}
