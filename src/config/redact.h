/* Secrets in the effective config: what `rcfd --print-config` hides unless --show-secrets.
 *
 * Secret are: every webhook header value (headers are where tokens go, and a custom header's name
 * says nothing about its value), the password of a URL's userinfo, and the librdkafka properties
 * librdkafka itself treats as sensitive (its _RK_SENSITIVE flag: sasl.username, sasl.password,
 * ssl.key.*, ...) or whose name says password or secret. Reload's restart check and the config
 * fuzzer compare the unredacted rcfd_config_print(), so a changed token is still a change. */
#ifndef RCFD_CONFIG_REDACT_H
#define RCFD_CONFIG_REDACT_H

#include <cjson/cJSON.h>

#include "config/schema.h"

#define RCFD_REDACTED "***"

/* 1 if the value of this librdkafka property is a secret. */
int rcfd_kafka_property_secret(const char *key);

/* Replaces the secrets in the JSON form of a config (rcfd_config_print's) by RCFD_REDACTED, in
 * place. Returns 0 or RCFD_ENOMEM. */
int rcfd_config_redact(cJSON *root);

/* rcfd_config_print() with the secrets redacted; free with cJSON_free(). NULL on ENOMEM. */
char *rcfd_config_print_redacted(const rcfd_config_t *cfg);

#endif
