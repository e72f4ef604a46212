#include "stream/encode.h"

#include <string.h>

#include "rcfd/status.h"
#include "config/schema.h"

/* Members the models write: an input member of the same name is left out of the output. Every
 * record's members are checked against them, so each list keeps its names' lengths and
 * signature (rcfd_names_t). */
#define RCFD_RESERVED(X)                                                                       \
    X("anomaly_score") X("explanation") X("hotspots") X("_rcfd") X("anomaly")                 \
        X("anomaly_grade") X("threshold") X("warming_up") X("imputed") X("imputed_values")
#define KDA_RESERVED(X)                                                                        \
    X("ANOMALY_SCORE") X("ANOMALY_EXPLANATION") X("HOTSPOTS_RESULT") X("anomaly")             \
        X("anomaly_grade") X("threshold") X("warming_up") X("IMPUTED") X("IMPUTED_VALUES")
#define AS_NAME(literal) RCFD_NAME(literal),
#define AS_SIG(literal) | RCFD_NAME_SIG(literal)
static const rcfd_name_t rcfd_names[] = {RCFD_RESERVED(AS_NAME)};
static const rcfd_name_t kda_names[] = {KDA_RESERVED(AS_NAME)};
static const rcfd_names_t reserved_rcfd = {
    rcfd_names, sizeof rcfd_names / sizeof rcfd_names[0], 0 RCFD_RESERVED(AS_SIG)};
static const rcfd_names_t reserved_kda = {kda_names, sizeof kda_names / sizeof kda_names[0],
                                          0 KDA_RESERVED(AS_SIG)};

static int is_reserved(const char *name, const rcfd_names_t *res)
{
    for (size_t i = 0; i < res->n; i++) {
        if (strcmp(res->v[i].s, name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Appends the original record's members (without braces); returns whether any were written. */
static int append_original(rcfd_buf_t *out, rcfd_record_t *rec, const rcfd_names_t *res,
                           int *wrote)
{
    *wrote = 0;
    int collide = 0;
    if (rec->format == RCFD_FORMAT_JSON) {
        collide = rcfd_record_has_any_member(rec, res);
    } else {
        for (size_t i = 0; rec->columns != NULL && i < rec->columns->n; i++) {
            collide |= is_reserved(rec->columns->v[i], res);
        }
    }
    if (!collide) {
        const char *js;
        size_t len;
        int rc = rcfd_record_json(rec, &js, &len);
        if (rc != 0) {
            return rc;
        }
        if (len > 2) {
            *wrote = 1;
            return rcfd_buf_append(out, js + 1, len - 2);
        }
        return 0;
    }
    /* Rare: rebuild without the colliding members. */
    const char *js;
    size_t len;
    int rc = rcfd_record_json(rec, &js, &len);
    if (rc != 0) {
        return rc;
    }
    cJSON *copy = cJSON_ParseWithLength(js, len);
    if (copy == NULL) {
        return RCFD_ENOMEM;
    }
    for (size_t i = 0; i < res->n; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(copy, res->v[i].s);
    }
    char *p = cJSON_PrintUnformatted(copy);
    cJSON_Delete(copy);
    if (p == NULL) {
        return RCFD_ENOMEM;
    }
    size_t pl = strlen(p);
    if (pl > 2) {
        *wrote = 1;
        rc = rcfd_buf_append(out, p + 1, pl - 2);
    }
    cJSON_free(p);
    return rc;
}

int rcfd_encode_origin_head(rcfd_buf_t *out, const rcfd_origin_t *o)
{
    int rc = rcfd_buf_puts(out, ",\"source\":");
    rc = rc ? rc : rcfd_buf_json_string(out, o->source, strlen(o->source));
    if (o->topic != NULL) {
        rc = rc ? rc : rcfd_buf_puts(out, ",\"topic\":");
        rc = rc ? rc : rcfd_buf_json_string(out, o->topic, strlen(o->topic));
        rc = rc ? rc : rcfd_buf_puts(out, ",\"partition\":");
        rc = rc ? rc : rcfd_buf_put_i64(out, o->partition);
        rc = rc ? rc : rcfd_buf_puts(out, ",\"offset\":");
    } else {
        rc = rc ? rc : rcfd_buf_puts(out, ",\"path\":");
        rc = rc ? rc : rcfd_buf_json_string(out, o->path, strlen(o->path));
        rc = rc ? rc : rcfd_buf_puts(out, ",\"line\":");
    }
    return rc;
}

static int append_origin(rcfd_buf_t *out, const rcfd_origin_t *o)
{
    int rc = o->head != NULL ? rcfd_buf_append(out, o->head, o->head_len)
                             : rcfd_encode_origin_head(out, o);
    if (o->topic != NULL) {
        rc = rc ? rc : rcfd_buf_put_i64(out, o->offset);
    } else {
        rc = rc ? rc : rcfd_buf_put_u64(out, o->line);
    }
    return rc;
}

static int append_imputed(rcfd_buf_t *out, rcfd_style_t style, const rcfd_imputed_t *im)
{
    int kda = style == RCFD_STYLE_KDA;
    int rc = rcfd_buf_puts(out, kda ? ",\"IMPUTED\":[" : ",\"imputed\":[");
    int first = 1;
    for (size_t i = 0; rc == 0 && i < im->fields->n; i++) {
        if (im->missing[i]) {
            rc = first ? 0 : rcfd_buf_putc(out, ',');
            rc = rc ? rc : rcfd_buf_json_string(out, im->fields->v[i], strlen(im->fields->v[i]));
            first = 0;
        }
    }
    rc = rc ? rc : rcfd_buf_puts(out, kda ? "],\"IMPUTED_VALUES\":{" : "],\"imputed_values\":{");
    first = 1;
    for (size_t i = 0; rc == 0 && i < im->fields->n; i++) {
        if (im->missing[i]) {
            rc = first ? 0 : rcfd_buf_putc(out, ',');
            rc = rc ? rc : rcfd_buf_json_string(out, im->fields->v[i], strlen(im->fields->v[i]));
            rc = rc ? rc : rcfd_buf_putc(out, ':');
            rc = rc ? rc : rcfd_buf_json_double(out, im->values[i]);
            first = 0;
        }
    }
    return rc ? rc : rcfd_buf_putc(out, '}');
}

int rcfd_encode_origin(rcfd_buf_t *out, const rcfd_origin_t *o)
{
    return append_origin(out, o);
}

/* After the models' members: "_rcfd" (style rcfd) and the closing brace. The origin comes as a
 * struct, or already encoded (ob). Model encoders start every member with a comma; the first is
 * dropped when nothing precedes it (mark: where the models' members began). */
static int scored_tail(rcfd_buf_t *out, rcfd_style_t style, const char *pipeline, const char *key,
                       size_t key_len, const rcfd_origin_t *o, const char *ob, size_t ob_len,
                       int wrote, size_t mark)
{
    int rc = 0;
    if (style == RCFD_STYLE_RCFD) {
        rc = rcfd_buf_puts(out, ",\"_rcfd\":{\"pipeline\":");
        rc = rc ? rc : rcfd_buf_json_string(out, pipeline, strlen(pipeline));
        if (key != NULL) {
            rc = rc ? rc : rcfd_buf_puts(out, ",\"key\":");
            rc = rc ? rc : rcfd_buf_json_string(out, key, key_len);
        }
        rc = rc ? rc : o != NULL ? append_origin(out, o) : rcfd_buf_append(out, ob, ob_len);
        rc = rc ? rc : rcfd_buf_putc(out, '}');
    }
    if (rc != 0) {
        return rc;
    }
    if (!wrote && out->len > mark && out->p[mark] == ',') {
        memmove(out->p + mark, out->p + mark + 1, out->len - mark - 1);
        out->len--;
    }
    return rcfd_buf_putc(out, '}');
}

int rcfd_encode_scored_head(rcfd_buf_t *out, rcfd_style_t style, rcfd_record_t *rec)
{
    int wrote;
    int rc = rcfd_buf_putc(out, '{');
    return rc ? rc
              : append_original(out, rec, style == RCFD_STYLE_KDA ? &reserved_kda : &reserved_rcfd,
                                &wrote);
}

int rcfd_encode_scored_models(rcfd_buf_t *out, rcfd_style_t style, const rcfd_strlist_t *columns,
                              const rcfd_model_type_t *const *types, const void *const *results,
                              size_t n_models, const rcfd_imputed_t *imputed)
{
    int rc = 0;
    for (size_t m = 0; rc == 0 && m < n_models; m++) {
        rc = types[m]->encode(results[m], columns, style, out);
    }
    return rc == 0 && imputed != NULL ? append_imputed(out, style, imputed) : rc;
}

int rcfd_encode_scored_join(rcfd_buf_t *out, rcfd_style_t style, const char *head, size_t head_len,
                            const char *models, size_t models_len, const char *pipeline,
                            const char *key, size_t key_len, const char *origin, size_t origin_len)
{
    int rc = rcfd_buf_append(out, head, head_len);
    size_t mark = out->len;
    rc = rc ? rc : rcfd_buf_append(out, models, models_len);
    /* append_original wrote members exactly when the head holds more than its '{' */
    return rc ? rc
              : scored_tail(out, style, pipeline, key, key_len, NULL, origin, origin_len,
                            head_len > 1, mark);
}

int rcfd_encode_scored(rcfd_buf_t *out, rcfd_style_t style, rcfd_record_t *rec,
                       const rcfd_origin_t *origin, const char *pipeline, const char *key,
                       size_t key_len, const rcfd_strlist_t *columns,
                       const rcfd_model_type_t *const *types, const void *const *results,
                       size_t n_models, const rcfd_imputed_t *imputed)
{
    int wrote;
    int rc = rcfd_buf_putc(out, '{');
    rc = rc ? rc
            : append_original(out, rec, style == RCFD_STYLE_KDA ? &reserved_kda : &reserved_rcfd,
                              &wrote);
    if (rc != 0) {
        return rc;
    }
    size_t mark = out->len;
    rc = rcfd_encode_scored_models(out, style, columns, types, results, n_models, imputed);
    return rc ? rc
              : scored_tail(out, style, pipeline, key, key_len, origin, NULL, 0, wrote, mark);
}

static int dead_letter(rcfd_buf_t *out, const rcfd_origin_t *origin, const char *ob, size_t ob_len,
                       const char *pipeline, const char *reason, const char *data, size_t len)
{
    int rc = rcfd_buf_puts(out, "{\"reason\":");
    rc = rc ? rc : rcfd_buf_json_string(out, reason, strlen(reason));
    rc = rc ? rc : rcfd_buf_puts(out, ",\"pipeline\":");
    rc = rc ? rc : rcfd_buf_json_string(out, pipeline, strlen(pipeline));
    rc = rc ? rc : origin != NULL ? append_origin(out, origin) : rcfd_buf_append(out, ob, ob_len);
    rc = rc ? rc : rcfd_buf_json_record(out, data != NULL ? data : "", data != NULL ? len : 0,
                                        RCFD_DEAD_RECORD_MAX);
    return rc ? rc : rcfd_buf_putc(out, '}');
}

int rcfd_encode_dead_letter_at(rcfd_buf_t *out, const char *origin, size_t origin_len,
                               const char *pipeline, const char *reason, const char *data,
                               size_t len)
{
    return dead_letter(out, NULL, origin, origin_len, pipeline, reason, data, len);
}

int rcfd_encode_dead_letter(rcfd_buf_t *out, const rcfd_origin_t *origin, const char *pipeline,
                            const char *reason, const char *data, size_t len)
{
    return dead_letter(out, origin, NULL, 0, pipeline, reason, data, len);
}
