/* Calling AWS JSON APIs (Kinesis Data Streams) from the loop: credentials, the endpoint, one
 * request per easy handle signed by libcurl itself (CURLOPT_AWS_SIGV4, curl >= 7.75), and the
 * classification of answers. The transfers run on net/curl_uv.h.
 *
 * Credentials, as the AWS CLI finds them: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with
 * AWS_SESSION_TOKEN) from the environment, else the profile (`profile`, else AWS_PROFILE, else
 * "default") of the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
 * ~/.aws/credentials). The region: `region`, else AWS_REGION, else AWS_DEFAULT_REGION. The
 * endpoint: `endpoint`, else https://kinesis.REGION.amazonaws.com.
 *
 * Ownership: rcfd_aws_t owns its strings (rcfd_aws_free); a request owns its easy handle, headers
 * and buffers (rcfd_aws_req_free). rcfd_aws_init reads a file: call it before the loop runs.
 * Loop thread only. */
#ifndef RCFD_NET_AWS_H
#define RCFD_NET_AWS_H

#include <stddef.h>

#include <curl/curl.h>

#include "common/buf.h"

typedef struct rcfd_aws {
    char *region;
    char *endpoint; /* without a trailing slash */
    char *service;  /* "kinesis" */
    char *userpwd;  /* ACCESS_KEY:SECRET for CURLOPT_USERPWD (what SigV4 signs with) */
    char *token;    /* "X-Amz-Security-Token: ..." or NULL */
    char sigv4[160];
    char creds_from[1400]; /* "the environment" or the file and profile, for logs */
} rcfd_aws_t;

int rcfd_aws_init(rcfd_aws_t *a, const char *service, const char *region, const char *endpoint,
                  const char *profile, char *errstr, size_t errstr_size);
void rcfd_aws_free(rcfd_aws_t *a);

/* One call: POST of `body` with X-Amz-Target: PREFIX.OP to the endpoint. */
typedef struct rcfd_aws_req {
    CURL *easy;
    struct curl_slist *headers;
    rcfd_buf_t body; /* fill before rcfd_aws_req_start(); sent as is */
    rcfd_buf_t resp;
    char curl_err[CURL_ERROR_SIZE];
    void *ud;
} rcfd_aws_req_t;

/* Prepares the easy handle for `target` ("Kinesis_20131202.GetRecords"); timeout in ms. */
int rcfd_aws_req_init(rcfd_aws_req_t *r, const rcfd_aws_t *a, const char *target, long timeout_ms);
/* Points the handle at r->body and clears the response: call after filling the body, before
 * rcfd_curl_uv_add(). */
void rcfd_aws_req_ready(rcfd_aws_req_t *r);
void rcfd_aws_req_free(rcfd_aws_req_t *r);

typedef enum rcfd_aws_class {
    RCFD_AWS_OK = 0,
    RCFD_AWS_THROTTLED, /* ProvisionedThroughputExceeded, LimitExceeded, 429, KMS throttling */
    RCFD_AWS_RETRY,     /* transport errors, timeouts, 5xx, InternalFailure, expired iterators,
                         * credentials refused (fixed by an operator, not by giving up) */
    RCFD_AWS_PERMANENT  /* any other 4xx: the stream or the request is wrong */
} rcfd_aws_class_t;

/* Classifies a finished call; `type` gets the error's __type without its namespace
 * ("ExpiredIteratorException"), `msg` a line for logs and dead letters. */
rcfd_aws_class_t rcfd_aws_classify(const rcfd_aws_req_t *r, CURLcode res, char *type,
                                   size_t type_size, char *msg, size_t msg_size);
/* The class of an error code in a PutRecords result entry. */
rcfd_aws_class_t rcfd_aws_class_of(const char *error_code);

/* Base64 (RFC 4648, with padding): Kinesis record data. Decoding rejects anything else
 * (RCFD_EMALFORMED). */
int rcfd_base64_encode(rcfd_buf_t *out, const void *data, size_t len);
int rcfd_base64_decode(rcfd_buf_t *out, const char *s, size_t len);

#endif
