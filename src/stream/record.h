/* Record decoding: a JSON object or a CSV line, and the field accessors pipelines use.
 *
 * A record borrows its input bytes; rcfd_record_parse() builds what it needs (a cJSON tree, or
 * column offsets) and rcfd_record_clear() releases it. Decoding never aborts: problems come back as
 * RCFD_EMALFORMED with a reason suitable for the dead-letter output. Not thread-safe. */
#ifndef RCFD_STREAM_RECORD_H
#define RCFD_STREAM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "common/conf.h"

/* A compiled field reference. JSON: dot-separated path segments (a segment indexes an array when
 * the value there is one; "\." escapes a dot). CSV: a column index. */
typedef struct rcfd_field {
    char *name;       /* as configured; owned */
    char **segs;      /* JSON path segments; owned */
    size_t n_segs;
    long column;      /* CSV column, -1 until resolved */
} rcfd_field_t;

int rcfd_field_compile(rcfd_field_t *f, const char *spec);
/* CSV: resolves names against the column names (or digits as an index). -1 if not found. */
int rcfd_field_resolve_csv(rcfd_field_t *f, const rcfd_strlist_t *columns);
void rcfd_field_free(rcfd_field_t *f);

/* One JSON value of the fast path's flat form, in document order; an object's members are a
 * RCFD_JT_KEY token followed by the value's tokens. */
typedef struct rcfd_jtok {
    uint32_t start; /* first byte (strings and keys: after the quote) */
    uint32_t len;   /* bytes (strings and keys: between the quotes) */
    uint32_t end;   /* index of the first token after this value and everything inside it */
    uint32_t type;  /* RCFD_JT_* (record.c) */
} rcfd_jtok_t;

typedef struct rcfd_record {
    int format; /* RCFD_FORMAT_JSON or RCFD_FORMAT_CSV */
    const char *data;
    size_t len;
    /* JSON is decoded into `toks` when it is plain RFC 8259 JSON with no escapes in strings (the
     * usual record: nothing is allocated or converted until a field is read); anything else
     * (escapes, cJSON's leniencies, errors) goes through cJSON into `json`, so what is accepted
     * and the error messages are cJSON's either way. Exactly one of the two is in use. */
    cJSON *json;
    rcfd_jtok_t *toks;
    size_t n_toks, cap_toks;
    rcfd_buf_t scratch; /* a fast-path string value as a C string */
    int cjson_only;     /* tests: decode JSON with cJSON alone, to compare with the fast path */
    /* CSV: unescaped cells, NUL-separated in `cells`, starting at offs[i]. */
    rcfd_buf_t cells;
    size_t *offs;
    size_t n_cols, cap_cols;
    const rcfd_strlist_t *columns; /* CSV column names (borrowed), may be NULL */
    rcfd_buf_t printed; /* cached compact JSON of the original record; kept across records */
    int have_printed;
    int compact; /* decoded into toks with no whitespace: the record is its own compact JSON */
} rcfd_record_t;

/* Parses data[0..len). For CSV, `delim` separates cells and `columns` names them (may be NULL or
 * empty). On error fills reason and returns RCFD_EMALFORMED (the record is still cleared later). */
int rcfd_record_parse(rcfd_record_t *r, int format, const char *data, size_t len, char delim,
                      const rcfd_strlist_t *columns, char *reason, size_t reason_size);
void rcfd_record_clear(rcfd_record_t *r);

/* A finite number that fits a float (what the models accept). JSON numbers and numeric strings
 * count. An absent field, a JSON null or an empty CSV cell is RCFD_ENOENT (a missing reading: a
 * pipeline's impute may fill it); anything else is RCFD_EMALFORMED. Both name the field. */
int rcfd_record_number(const rcfd_record_t *r, const rcfd_field_t *f, double *out, char *reason,
                       size_t reason_size);
/* A string or number value as text (the key). RCFD_ENOENT when missing. */
int rcfd_record_text(const rcfd_record_t *r, const rcfd_field_t *f, char *out, size_t size,
                     size_t *len, char *reason, size_t reason_size);
/* Event time in microseconds since the epoch from a number in `unit` (0 s, 1 ms, 2 us) or an
 * ISO-8601 string ("2024-05-01T10:00:00.250Z", offsets allowed, a space for the T allowed). */
int rcfd_record_time_us(const rcfd_record_t *r, const rcfd_field_t *f, int unit, int64_t *out,
                        char *reason, size_t reason_size);
int rcfd_parse_iso8601_us(const char *s, int64_t *out);

/* The original record as a compact JSON object (CSV: keyed by column name, or by index when the
 * columns have no names; numeric cells become numbers). JSON: the input text without
 * insignificant whitespace, numbers and escapes as written (control characters inside strings
 * escaped); printed from the parsed tree only when a number is not strict JSON ("01", "1.").
 * Cached until the next parse; owned by the record. */
int rcfd_record_json(rcfd_record_t *r, const char **out, size_t *len);

/* CSV line splitter (RFC 4180 quoting). Exposed for tests. */
int rcfd_csv_split(rcfd_record_t *r, const char *data, size_t len, char delim, char *reason,
                   size_t reason_size);

/* Whether a JSON record has a top-level member with this name (CSV: 0). */
int rcfd_record_has_member(const rcfd_record_t *r, const char *name);
/* A member name with its length, for tables of names compared per record. */
typedef struct rcfd_name {
    const char *s;
    size_t len;
} rcfd_name_t;
#define RCFD_NAME(literal) {literal, sizeof(literal) - 1}

/* A name's bit in a set's signature: its length and first byte, hashed to one of 64 bits. */
#define RCFD_NAME_BIT(len, first) (1ULL << (((uint64_t)(len) * 7u + (unsigned char)(first)) & 63))
#define RCFD_NAME_SIG(literal) RCFD_NAME_BIT(sizeof(literal) - 1, (literal)[0])

/* A set of names and the OR of their RCFD_NAME_SIG bits: a member whose bit is not in sig is
 * none of them, without a comparison (most records' members are not). */
typedef struct rcfd_names {
    const rcfd_name_t *v;
    size_t n;
    uint64_t sig;
} rcfd_names_t;

/* Whether the top-level object has a member named any of names; one pass over the members. */
int rcfd_record_has_any_member(const rcfd_record_t *r, const rcfd_names_t *names);

/* Releases the record's reusable buffers too. */
void rcfd_record_free(rcfd_record_t *r);

#endif
