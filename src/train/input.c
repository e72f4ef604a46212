#include "train/input.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "stream/record.h"
#include "config/schema.h"

#define MAX_KEY 1024

int rcfd_input_guess_format(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && strcmp(path + n - 4, ".csv") == 0 ? RCFD_FORMAT_CSV : RCFD_FORMAT_JSON;
}

static int is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') {
            return 0;
        }
    }
    return 1;
}

typedef struct fieldset {
    rcfd_field_t *f;
    size_t n;
    rcfd_field_t key, ts, label;
    int has_key, has_ts, has_label;
} fieldset_t;

static void fieldset_free(fieldset_t *fs)
{
    for (size_t i = 0; fs->f != NULL && i < fs->n; i++) {
        rcfd_field_free(&fs->f[i]);
    }
    rcfd_free(fs->f);
    if (fs->has_key) {
        rcfd_field_free(&fs->key);
    }
    if (fs->has_ts) {
        rcfd_field_free(&fs->ts);
    }
    if (fs->has_label) {
        rcfd_field_free(&fs->label);
    }
}

static int compile_opt(rcfd_field_t *f, int *has, const char *spec)
{
    *has = spec != NULL && spec[0] != '\0';
    return *has ? rcfd_field_compile(f, spec) : 0;
}

/* "a, b, c" (at most about `size` bytes) for error messages. */
static void list_columns(const rcfd_strlist_t *cols, char *out, size_t size)
{
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < cols->n && off + 8 < size; i++) {
        int n = snprintf(out + off, size - off, "%s%s", i ? ", " : "", cols->v[i]);
        off += n > 0 ? (size_t)n : 0;
    }
    if (off >= size) {
        snprintf(out + size - 5, 5, "...");
    }
}

static int resolve(fieldset_t *fs, const rcfd_strlist_t *cols, const rcfd_input_spec_t *s,
                   char *errstr, size_t es)
{
    char have[512];
    for (size_t i = 0; i < fs->n; i++) {
        if (rcfd_field_resolve_csv(&fs->f[i], cols) != 0) {
            list_columns(cols, have, sizeof have);
            return rcfd_errf(RCFD_ECONFIG, errstr, es,
                             "%s: field \"%s\" is not a CSV column (the header has: %s)", s->path,
                             s->fields->v[i], have);
        }
    }
    const struct {
        int has;
        rcfd_field_t *f;
        const char *name, *what, *option;
    } opt[] = {{fs->has_key, &fs->key, s->key, "key", "--key"},
               {fs->has_ts, &fs->ts, s->timestamp, "timestamp", "--timestamp"},
               {fs->has_label, &fs->label, s->label, "label", "--label"}};
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++) {
        if (opt[i].has && rcfd_field_resolve_csv(opt[i].f, cols) != 0) {
            if (opt[i].f == &fs->ts && s->timestamp_optional) {
                rcfd_field_free(&fs->ts);
                fs->has_ts = 0;
                continue;
            }
            list_columns(cols, have, sizeof have);
            return rcfd_errf(RCFD_ECONFIG, errstr, es,
                             "%s: the %s column \"%s\" (%s) is not in the CSV header, which has: "
                             "%s",
                             s->path, opt[i].what, opt[i].name, opt[i].option, have);
        }
    }
    return 0;
}

int rcfd_input_read(const rcfd_input_spec_t *s, rcfd_input_cb cb, void *ud, char *errstr,
                    size_t es)
{
    rcfd_buf_t data = {0};
    int rc = rcfd_buf_read_file(&data, s->path, 0, errstr, es);
    fieldset_t fs = {0};
    fs.n = s->fields != NULL ? s->fields->n : 0;
    double *values = rcfd_calloc(fs.n ? fs.n : 1, sizeof *values);
    unsigned char *missing = rcfd_calloc(fs.n ? fs.n : 1, 1);
    fs.f = rcfd_calloc(fs.n ? fs.n : 1, sizeof *fs.f);
    if (rc == 0 && (values == NULL || fs.f == NULL || missing == NULL)) {
        rc = rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    for (size_t i = 0; rc == 0 && i < fs.n; i++) {
        if (rcfd_field_compile(&fs.f[i], s->fields->v[i]) != 0) {
            fs.n = i;
            rc = rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
        }
    }
    if (rc == 0 && (compile_opt(&fs.key, &fs.has_key, s->key) != 0 ||
                    compile_opt(&fs.ts, &fs.has_ts, s->timestamp) != 0 ||
                    compile_opt(&fs.label, &fs.has_label, s->label) != 0)) {
        rc = rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    rcfd_strlist_t header = {0};
    rcfd_record_t rec = {0};
    int need_header = s->format == RCFD_FORMAT_CSV;
    size_t index = 0, pos = 0, line = 0;
    while (rc == 0 && pos < data.len) {
        line++;
        const char *p = data.p + pos;
        const char *nl = memchr(p, '\n', data.len - pos);
        size_t n = nl != NULL ? (size_t)(nl - p) : data.len - pos;
        pos += n + (nl != NULL);
        if (need_header) {
            rcfd_record_t hdr = {0};
            char reason[256];
            rc = rcfd_csv_split(&hdr, p, n, s->delim, reason, sizeof reason);
            header.v = rc == 0 ? rcfd_calloc(hdr.n_cols + 1, sizeof *header.v) : NULL;
            for (size_t i = 0; header.v != NULL && i < hdr.n_cols; i++) {
                header.v[header.n++] = rcfd_strdup(hdr.cells.p + hdr.offs[i]);
            }
            rcfd_record_free(&hdr);
            if (rc != 0 || header.v == NULL) {
                rc = rcfd_errf(RCFD_EMALFORMED, errstr, es, "%s: bad CSV header", s->path);
                break;
            }
            need_header = 0;
            rc = resolve(&fs, &header, s, errstr, es);
            continue;
        }
        if (is_blank(p, n)) {
            continue;
        }
        char reason[256] = "";
        char key[MAX_KEY] = "";
        rcfd_input_row_t row = {
            .index = index++, .line = line, .values = values, .key = key, .missing = missing};
        rcfd_record_clear(&rec);
        int bad = rcfd_record_parse(&rec, s->format, p, n, s->delim,
                                    header.n ? &header : NULL, reason, sizeof reason);
        for (size_t i = 0; !bad && i < fs.n; i++) {
            bad = rcfd_record_number(&rec, &fs.f[i], &values[i], reason, sizeof reason);
            missing[i] = bad == RCFD_ENOENT && s->allow_missing;
            if (missing[i]) {
                values[i] = NAN;
                row.n_missing++;
                bad = 0;
            }
        }
        if (!bad && fs.has_key) {
            bad = rcfd_record_text(&rec, &fs.key, key, sizeof key, &row.key_len, reason,
                                   sizeof reason);
        }
        /* Timestamps and labels are the backtest's, not the pipeline's: a missing one is an
         * error in the labelled file, not a dead letter. */
        if (fs.has_ts) {
            row.has_ts = rcfd_record_time_us(&rec, &fs.ts, RCFD_TS_MS, &row.ts_us, NULL, 0) == 0;
        }
        if (fs.has_label) {
            double l;
            char lr[128];
            if (rcfd_record_number(&rec, &fs.label, &l, lr, sizeof lr) != 0) {
                rc = rcfd_errf(RCFD_EMALFORMED, errstr, es,
                               "%s: record %zu: the label field \"%s\" (--label): %s", s->path,
                               row.index + 1, s->label, lr);
                break;
            }
            row.label = l != 0.0;
        }
        row.bad = bad ? reason : NULL;
        rc = cb(ud, &row);
    }
    rcfd_record_free(&rec);
    rcfd_strlist_free(&header);
    fieldset_free(&fs);
    rcfd_free(values);
    rcfd_free(missing);
    rcfd_buf_free(&data);
    return rc;
}
