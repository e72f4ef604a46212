#include "net/aws.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/conf.h"
#include "common/errstr.h"
#include "rcfd/alloc.h"
#include "rcfd/status.h"

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) {
        s[--n] = '\0';
    }
    return s;
}

/* The profile's keys from an INI file: [profile] then key = value lines. */
static int read_credentials(const char *path, const char *profile, char **key, char **secret,
                            char **token, char *errstr, size_t es)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return RCFD_ENOENT;
    }
    char line[2048];
    int in = 0, found = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        char *l = trim(line);
        if (*l == '#' || *l == ';' || *l == '\0') {
            continue;
        }
        if (*l == '[') {
            char *end = strchr(l, ']');
            if (end == NULL) {
                continue;
            }
            *end = '\0';
            in = strcmp(trim(l + 1), profile) == 0;
            found |= in;
            continue;
        }
        char *eq = strchr(l, '=');
        if (!in || eq == NULL) {
            continue;
        }
        *eq = '\0';
        char *k = trim(l), *v = trim(eq + 1);
        char **slot = strcmp(k, "aws_access_key_id") == 0       ? key
                      : strcmp(k, "aws_secret_access_key") == 0 ? secret
                      : strcmp(k, "aws_session_token") == 0     ? token
                                                                : NULL;
        if (slot != NULL) {
            rcfd_free(*slot);
            if ((*slot = rcfd_strdup(v)) == NULL) {
                rc = RCFD_ENOMEM;
            }
        }
    }
    fclose(f);
    if (rc == 0 && !found) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es, "%s has no profile [%s]", path, profile);
    }
    return rc;
}

void rcfd_aws_free(rcfd_aws_t *a)
{
    rcfd_free(a->region);
    rcfd_free(a->endpoint);
    rcfd_free(a->service);
    rcfd_free(a->userpwd);
    rcfd_free(a->token);
    memset(a, 0, sizeof *a);
}

int rcfd_aws_init(rcfd_aws_t *a, const char *service, const char *region, const char *endpoint,
                  const char *profile, char *errstr, size_t es)
{
    memset(a, 0, sizeof *a);
    const char *reg = region != NULL && region[0] ? region : env("AWS_REGION");
    reg = reg != NULL ? reg : env("AWS_DEFAULT_REGION");
    if (reg == NULL) {
        return rcfd_errf(RCFD_ECONFIG, errstr, es,
                         "no AWS region: set \"region\", or AWS_REGION in the environment");
    }
    for (const char *p = reg; *p; p++) {
        if (!(isalnum((unsigned char)*p) || *p == '-')) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es, "region \"%s\" is not a region name", reg);
        }
    }
    rcfd_buf_t ep = {0};
    int rc;
    if (endpoint != NULL && endpoint[0]) {
        if (strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0) {
            return rcfd_errf(RCFD_ECONFIG, errstr, es,
                             "endpoint \"%s\" must start with http:// or https://", endpoint);
        }
        rc = rcfd_buf_puts(&ep, endpoint);
        while (rc == 0 && ep.len > 0 && ep.p[ep.len - 1] == '/') {
            ep.p[--ep.len] = '\0';
        }
    } else {
        rc = rcfd_buf_printf(&ep, "https://%s.%s.amazonaws.com", service, reg);
    }
    a->endpoint = ep.p;
    a->region = rcfd_strdup(reg);
    a->service = rcfd_strdup(service);
    if (rc != 0 || a->endpoint == NULL || a->region == NULL || a->service == NULL) {
        rcfd_aws_free(a);
        return rcfd_errf(RCFD_ENOMEM, errstr, es, "out of memory");
    }
    snprintf(a->sigv4, sizeof a->sigv4, "aws:amz:%s:%s", reg, service);
    char *key = NULL, *secret = NULL, *token = NULL;
    if (env("AWS_ACCESS_KEY_ID") != NULL && env("AWS_SECRET_ACCESS_KEY") != NULL) {
        key = rcfd_strdup(env("AWS_ACCESS_KEY_ID"));
        secret = rcfd_strdup(env("AWS_SECRET_ACCESS_KEY"));
        token = env("AWS_SESSION_TOKEN") ? rcfd_strdup(env("AWS_SESSION_TOKEN")) : NULL;
        snprintf(a->creds_from, sizeof a->creds_from, "the environment");
        rc = key == NULL || secret == NULL ? RCFD_ENOMEM : 0;
    } else {
        const char *prof = profile != NULL && profile[0] ? profile : env("AWS_PROFILE");
        prof = prof != NULL ? prof : "default";
        char path[1024];
        if (env("AWS_SHARED_CREDENTIALS_FILE") != NULL) {
            snprintf(path, sizeof path, "%s", env("AWS_SHARED_CREDENTIALS_FILE"));
        } else if (env("HOME") != NULL) {
            snprintf(path, sizeof path, "%s/.aws/credentials", env("HOME"));
        } else {
            path[0] = '\0';
        }
        rc =
            path[0] ? read_credentials(path, prof, &key, &secret, &token, errstr, es) : RCFD_ENOENT;
        if (rc == 0 && (key == NULL || secret == NULL)) {
            rc = rcfd_errf(RCFD_ECONFIG, errstr, es,
                           "profile [%s] of %s lacks aws_access_key_id or aws_secret_access_key",
                           prof, path);
        } else if (rc == RCFD_ENOENT) {
            rc = rcfd_errf(RCFD_ECONFIG, errstr, es,
                           "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                           "or profile [%s] in %s",
                           prof, path[0] ? path : "~/.aws/credentials");
        }
        snprintf(a->creds_from, sizeof a->creds_from, "%s [%s]", path, prof);
    }
    rcfd_buf_t up = {0}, tk = {0};
    if (rc == 0) {
        rc = rcfd_buf_printf(&up, "%s:%s", key, secret);
        if (rc == 0 && token != NULL) {
            rc = rcfd_buf_printf(&tk, "X-Amz-Security-Token: %s", token);
        }
    }
    rcfd_free(key);
    rcfd_free(secret);
    rcfd_free(token);
    a->userpwd = up.p;
    a->token = tk.p;
    if (rc != 0) {
        rcfd_aws_free(a);
        return rc == RCFD_ENOMEM ? rcfd_errf(rc, errstr, es, "out of memory") : rc;
    }
    return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    rcfd_aws_req_t *r = ud;
    size_t len = size * n;
    /* A Kinesis answer is at most a few MiB (GetRecords: 10 MiB); beyond is not an answer. */
    if (r->resp.len + len > (64u << 20) || rcfd_buf_append(&r->resp, p, len) != 0) {
        return 0;
    }
    return len;
}

int rcfd_aws_req_init(rcfd_aws_req_t *r, const rcfd_aws_t *a, const char *target, long timeout_ms)
{
    memset(r, 0, sizeof *r);
    r->easy = curl_easy_init();
    if (r->easy == NULL) {
        return RCFD_ENOMEM;
    }
    char tgt[128];
    snprintf(tgt, sizeof tgt, "X-Amz-Target: %s", target);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/x-amz-json-1.1");
    h = h ? curl_slist_append(h, tgt) : NULL;
    h = h && a->token ? curl_slist_append(h, a->token) : h;
    /* no "Expect: 100-continue": one round trip per call */
    h = h ? curl_slist_append(h, "Expect:") : NULL;
    if (h == NULL) {
        curl_easy_cleanup(r->easy);
        r->easy = NULL;
        return RCFD_ENOMEM;
    }
    r->headers = h;
    CURL *e = r->easy;
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_URL, a->endpoint) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, h) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_AWS_SIGV4, a->sigv4) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_USERPWD, a->userpwd) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, r) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->curl_err) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L) !=
           CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, r) != CURLE_OK;
    if (bad) {
        rcfd_aws_req_free(r);
        return RCFD_EINVAL; /* this libcurl lacks an option (AWS_SIGV4 needs 7.75) */
    }
    return 0;
}

void rcfd_aws_req_ready(rcfd_aws_req_t *r)
{
    rcfd_buf_reset(&r->resp);
    r->curl_err[0] = '\0';
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body.p != NULL ? r->body.p : "");
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body.len);
}

void rcfd_aws_req_free(rcfd_aws_req_t *r)
{
    if (r->easy != NULL) {
        curl_easy_cleanup(r->easy);
    }
    curl_slist_free_all(r->headers);
    rcfd_buf_free(&r->body);
    rcfd_buf_free(&r->resp);
    memset(r, 0, sizeof *r);
}

rcfd_aws_class_t rcfd_aws_class_of(const char *code)
{
    static const char *const throttled[] = {"ProvisionedThroughputExceededException",
                                            "LimitExceededException", "ThrottlingException",
                                            "KMSThrottlingException", NULL};
    /* Credentials refused are retried, not given up: records stay unacknowledged until they are
     * fixed (a restart re-reads them), rather than going to a dead letter output. */
    static const char *const retry[] = {"InternalFailure",
                                        "InternalFailureException",
                                        "ServiceUnavailable",
                                        "ServiceUnavailableException",
                                        "ExpiredIteratorException",
                                        "ExpiredTokenException",
                                        "RequestExpired",
                                        "UnrecognizedClientException",
                                        "InvalidSignatureException",
                                        "AccessDeniedException",
                                        "IncompleteSignatureException",
                                        "MissingAuthenticationToken",
                                        "MissingAuthenticationTokenException",
                                        NULL};
    for (int i = 0; throttled[i] != NULL; i++) {
        if (strcmp(code, throttled[i]) == 0) {
            return RCFD_AWS_THROTTLED;
        }
    }
    for (int i = 0; retry[i] != NULL; i++) {
        if (strcmp(code, retry[i]) == 0) {
            return RCFD_AWS_RETRY;
        }
    }
    return RCFD_AWS_PERMANENT;
}

rcfd_aws_class_t rcfd_aws_classify(const rcfd_aws_req_t *r, CURLcode res, char *type, size_t ts,
                                   char *msg, size_t ms)
{
    type[0] = msg[0] = '\0';
    if (res != CURLE_OK) {
        snprintf(type, ts, "%s", res == CURLE_OPERATION_TIMEDOUT ? "Timeout" : "Transport");
        snprintf(msg, ms, "%s", r->curl_err[0] ? r->curl_err : curl_easy_strerror(res));
        return RCFD_AWS_RETRY;
    }
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
        return RCFD_AWS_OK;
    }
    cJSON *j = r->resp.len > 0 ? cJSON_ParseWithLength(r->resp.p, r->resp.len) : NULL;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "__type");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
    if (m == NULL) {
        m = cJSON_GetObjectItemCaseSensitive(j, "Message");
    }
    const char *tn = cJSON_IsString(t) ? t->valuestring : "";
    const char *hash = strrchr(tn, '#');
    snprintf(type, ts, "%s", hash != NULL ? hash + 1 : tn);
    snprintf(msg, ms, "HTTP %ld %s: %s", status, type[0] ? type : "error",
             cJSON_IsString(m) ? m->valuestring : "");
    cJSON_Delete(j);
    if (status == 429) {
        return RCFD_AWS_THROTTLED;
    }
    if (status >= 500 || status == 408) {
        return type[0] && rcfd_aws_class_of(type) == RCFD_AWS_THROTTLED ? RCFD_AWS_THROTTLED
                                                                        : RCFD_AWS_RETRY;
    }
    return type[0] ? rcfd_aws_class_of(type) : RCFD_AWS_PERMANENT;
}

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int rcfd_base64_encode(rcfd_buf_t *out, const void *data, size_t len)
{
    const unsigned char *p = data;
    if (rcfd_buf_reserve(out, (len + 2) / 3 * 4 + 1) != 0) {
        return RCFD_ENOMEM;
    }
    char *o = out->p + out->len;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        *o++ = b64[v >> 18];
        *o++ = b64[(v >> 12) & 63];
        *o++ = b64[(v >> 6) & 63];
        *o++ = b64[v & 63];
    }
    if (i < len) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0);
        *o++ = b64[v >> 18];
        *o++ = b64[(v >> 12) & 63];
        *o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    out->len = (size_t)(o - out->p);
    out->p[out->len] = '\0';
    return 0;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int rcfd_base64_decode(rcfd_buf_t *out, const char *s, size_t len)
{
    if (len % 4 != 0) {
        return RCFD_EMALFORMED;
    }
    if (rcfd_buf_reserve(out, len / 4 * 3 + 1) != 0) {
        return RCFD_ENOMEM;
    }
    unsigned char *o = (unsigned char *)out->p + out->len;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = s[i + k];
            if (c == '=' && i + 4 == len && k >= 2 && (k == 3 || s[i + 3] == '=')) {
                v[k] = 0;
                pad++;
            } else if ((v[k] = b64_value(c)) < 0) {
                return RCFD_EMALFORMED;
            }
        }
        unsigned x =
            (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
        *o++ = (unsigned char)(x >> 16);
        if (pad < 2) {
            *o++ = (unsigned char)(x >> 8);
        }
        if (pad < 1) {
            *o++ = (unsigned char)x;
        }
    }
    out->len = (size_t)((char *)o - out->p);
    out->p[out->len] = '\0';
    return 0;
}
