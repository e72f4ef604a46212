/* Fuzzes the config parser. The input is a config file's text. Parsing must fail cleanly with a
 * message, or give a config whose effective form (rcfd_config_print, what --print-config
 * --show-secrets shows) parses again and prints to the same text, and whose redacted form (what
 * --print-config shows) parses too. Leaks are the sanitizer's to find. */
#define _DEFAULT_SOURCE /* clearenv, setenv */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rcfd/alloc.h"
#include "rcfd/status.h"
#include "config/redact.h"
#include "config/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    if (!initialised) {
        /* As main() does: cJSON allocates through rcfd_malloc. */
        cJSON_Hooks hooks = {.malloc_fn = rcfd_malloc, .free_fn = rcfd_free};
        cJSON_InitHooks(&hooks);
        /* ${NAME} references read the environment: make it the same on every run. */
        clearenv();
        setenv("KAFKA_BOOTSTRAP", "localhost:9092", 1);
        setenv("RCFD_SECRET", "s3cret", 1);
        initialised = 1;
    }
    /* The parser gets exactly `size` bytes, with no terminator after them. */
    char *copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }
    memcpy(copy, data, size);
    rcfd_config_t *cfg = NULL;
    char err[512];
    err[0] = '\0';
    int rc = rcfd_config_parse(copy, size, &cfg, err, sizeof err);
    free(copy);
    if (rc != 0) {
        if (cfg != NULL || (rc != RCFD_ENOMEM && err[0] == '\0')) {
            abort(); /* a failure leaves nothing behind and says why */
        }
        return 0;
    }
    if (cfg == NULL) {
        abort();
    }
    char *p1 = rcfd_config_print(cfg);
    if (p1 == NULL) {
        abort();
    }
    rcfd_config_t *again = NULL;
    if (rcfd_config_parse(p1, strlen(p1), &again, err, sizeof err) != 0) {
        abort(); /* the effective config must be a valid config */
    }
    char *p2 = rcfd_config_print(again);
    if (p2 == NULL || strcmp(p1, p2) != 0) {
        abort(); /* and a fixed point of parse + print */
    }
    int restart = -1;
    if (rcfd_config_apply_hot(cfg, again, &restart) != 0 || restart != 0) {
        abort(); /* identical configs: nothing needs a restart */
    }
    /* What --print-config shows by default: secrets replaced, still a valid config. */
    char *red = rcfd_config_print_redacted(cfg);
    rcfd_config_t *redacted = NULL;
    if (red == NULL || rcfd_config_parse(red, strlen(red), &redacted, err, sizeof err) != 0) {
        abort();
    }
    rcfd_config_free(redacted);
    cJSON_free(red);
    cJSON_free(p1);
    cJSON_free(p2);
    rcfd_config_free(again);
    rcfd_config_free(cfg);
    return 0;
}
