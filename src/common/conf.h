/* Config descriptor tables: one table per component drives strict JSON parsing, defaults, range
 * checks, --print-config, --config-reference and hot reload (style guide 2.5).
 *
 * A table is an array of rcfd_conf_desc_t ending with a row whose key is NULL. Each row stores into
 * a struct at `offset`:
 *   BOOL -> int, INT -> int64_t, DOUBLE -> double, STRING -> char * (owned, rcfd_malloc),
 *   ENUM -> int (index into `enums`), STRLIST -> rcfd_strlist_t, KV -> rcfd_kv_t,
 *   NESTED -> nothing (the caller parses the value; the row exists for strictness and docs).
 * String values may reference environment variables as ${NAME} (secrets stay out of the file), or
 * as ${NAME:-default}: the default when NAME is unset or empty.
 *
 * Errors are RCFD_ECONFIG with a message naming the JSON path ("pipelines[1].models[0].shingle_size")
 * and the valid range or the valid keys. Not thread-safe; no I/O. */
#ifndef RCFD_COMMON_CONF_H
#define RCFD_COMMON_CONF_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/buf.h"

typedef enum rcfd_conf_type {
    RCFD_CT_BOOL,
    RCFD_CT_INT,
    RCFD_CT_DOUBLE,
    RCFD_CT_STRING,
    RCFD_CT_ENUM,
    RCFD_CT_STRLIST,
    RCFD_CT_KV,
    RCFD_CT_NESTED
} rcfd_conf_type_t;

#define RCFD_CONF_REQUIRED 1u /* no default: the key must be present */
#define RCFD_CONF_HOT 2u      /* applied on SIGHUP without a restart */
#define RCFD_CONF_NONEMPTY 4u /* strings, lists: must not be empty */
#define RCFD_CONF_AUTO 8u     /* INT: the string "auto" is accepted too, stored as 0 (min > 0) */

typedef struct rcfd_conf_desc {
    const char *key;
    rcfd_conf_type_t type;
    size_t offset;
    const char *def; /* default as JSON text ("100", "\"json\"", "[]"); NULL for none */
    double min, max; /* INT/DOUBLE range; STRLIST length range when max > 0 */
    const char *const *enums; /* ENUM values, NULL-terminated */
    unsigned flags;
    const char *help;
} rcfd_conf_desc_t;

typedef struct rcfd_strlist {
    char **v;
    size_t n;
} rcfd_strlist_t;

typedef struct rcfd_kv {
    char **keys;
    char **vals;
    size_t n;
} rcfd_kv_t;

/* One table applied to one struct. Several sections may parse the same JSON object (common keys plus
 * type-specific keys); a key in none of them is an error. */
typedef struct rcfd_conf_section {
    const rcfd_conf_desc_t *desc;
    void *base;
} rcfd_conf_section_t;

/* Fills every row with its default (zero/NULL when it has none). */
int rcfd_conf_defaults(const rcfd_conf_desc_t *desc, void *base, char *errstr, size_t errstr_size);

/* Parses `obj` (must be a JSON object) into the sections after applying defaults. `path` names the
 * object in messages ("" for the root). */
int rcfd_conf_parse(const rcfd_conf_section_t *secs, size_t n_secs, const cJSON *obj,
                    const char *path, char *errstr, size_t errstr_size);

/* Frees owned strings and lists; the struct itself belongs to the caller. */
void rcfd_conf_free(const rcfd_conf_desc_t *desc, void *base);

/* Adds every non-NESTED row's effective value to `obj`. */
int rcfd_conf_emit(const rcfd_conf_desc_t *desc, const void *base, cJSON *obj);

/* Copies HOT rows from `from` into `to` (freeing what `to` held). */
int rcfd_conf_apply_hot(const rcfd_conf_desc_t *desc, void *to, const void *from);

/* Markdown table of a descriptor: key, type, default, range, reload, description. */
int rcfd_conf_reference(const rcfd_conf_desc_t *desc, rcfd_buf_t *out);

/* Reads `key` of a JSON object as a string for discriminating ("type"); NULL if absent. */
const char *rcfd_conf_peek_string(const cJSON *obj, const char *key);

char *rcfd_strdup(const char *s);
char *rcfd_strndup(const char *s, size_t n);
void rcfd_strlist_free(rcfd_strlist_t *l);
/* Splits s at every `sep` into owned copies ("a,,b" gives "a", "", "b"); free with
 * rcfd_strlist_free. RCFD_ENOMEM leaves *out empty. */
int rcfd_strlist_split(const char *s, char sep, rcfd_strlist_t *out);

#endif
