#include "config/redact.h"

#include <string.h>

#include "rcfd/alloc.h"
#include "rcfd/status.h"

int rcfd_kafka_property_secret(const char *key)
{
    /* librdkafka's _RK_SENSITIVE properties (rdkafka_conf.c); the name test below also covers
     * the ones it does not flag, like sasl.oauthbearer.client.secret. */
    static const char *const sensitive[] = {
        "sasl.username",    "sasl.password",         "sasl.oauthbearer.config",
        "ssl.key.location", "ssl.key.password",      "ssl.key.pem",
        "ssl.ca.pem",       "ssl.keystore.password",
    };
    for (size_t i = 0; i < sizeof sensitive / sizeof sensitive[0]; i++) {
        if (strcmp(key, sensitive[i]) == 0) {
            return 1;
        }
    }
    return strstr(key, "password") != NULL || strstr(key, "secret") != NULL;
}

/* Replaces item (a member of parent) by a string; cJSON allocates it with its own hooks. */
static int set_string(cJSON *parent, cJSON *item, const char *s)
{
    cJSON *r = cJSON_CreateString(s);
    if (r == NULL) {
        return RCFD_ENOMEM;
    }
    r->string = item->string; /* the member's name moves over; item is freed by the replace */
    item->string = NULL;
    cJSON_ReplaceItemViaPointer(parent, item, r);
    return 0;
}

/* "scheme://user:password@host/..." -> "scheme://user:***@host/...". */
static int redact_url(cJSON *parent, cJSON *url)
{
    const char *s = cJSON_GetStringValue(url);
    const char *auth = s != NULL ? strstr(s, "://") : NULL;
    if (auth == NULL) {
        return 0;
    }
    auth += 3;
    size_t auth_len = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < auth + auth_len; p++) {
        at = *p == '@' ? p : at;
    }
    const char *colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon == NULL) {
        return 0;
    }
    size_t head = (size_t)(colon + 1 - s), tail_len = strlen(at);
    char *r = rcfd_malloc(head + sizeof RCFD_REDACTED - 1 + tail_len + 1);
    if (r == NULL) {
        return RCFD_ENOMEM;
    }
    memcpy(r, s, head);
    memcpy(r + head, RCFD_REDACTED, sizeof RCFD_REDACTED - 1);
    memcpy(r + head + sizeof RCFD_REDACTED - 1, at, tail_len + 1);
    int rc = set_string(parent, url, r);
    rcfd_free(r);
    return rc;
}

static int redact_object(cJSON *obj, int (*secret)(const char *key))
{
    for (cJSON *v = obj != NULL ? obj->child : NULL, *next; v != NULL; v = next) {
        next = v->next; /* v may be replaced */
        const char *s = cJSON_GetStringValue(v);
        if (s != NULL && s[0] != '\0' && (secret == NULL || secret(v->string)) &&
            set_string(obj, v, RCFD_REDACTED) != 0) {
            return RCFD_ENOMEM;
        }
    }
    return 0;
}

int rcfd_config_redact(cJSON *root)
{
    static const char *const sections[] = {"sources", "outputs"};
    for (size_t k = 0; k < 2; k++) {
        cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, sections[k]))
        {
            int rc = redact_object(cJSON_GetObjectItemCaseSensitive(e, "rdkafka"),
                                   rcfd_kafka_property_secret);
            rc = rc ? rc : redact_object(cJSON_GetObjectItemCaseSensitive(e, "headers"), NULL);
            rc = rc ? rc : redact_url(e, cJSON_GetObjectItemCaseSensitive(e, "url"));
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

char *rcfd_config_print_redacted(const rcfd_config_t *cfg)
{
    char *s = rcfd_config_print(cfg);
    cJSON *root = s != NULL ? cJSON_Parse(s) : NULL;
    cJSON_free(s);
    s = root != NULL && rcfd_config_redact(root) == 0 ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    return s;
}
