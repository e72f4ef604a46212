/* Fuzzes rcfd kda import (kda/sql.c, kda/import.c). The input is an application's SQL. The import
 * must either fail with RCFD_EMALFORMED and a message that starts with LINE:COLUMN inside the
 * input, or succeed with a config that the daemon's parser loads as it is (the default endpoints
 * are stdin and stdout) and a report. A broken invariant aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "config/schema.h"
#include "kda/import.h"
#include "rcfd/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) {
        return 0;
    }
    kda_import_opts_t o = {.app_name = "fuzz"};
    rcfd_buf_t cfg = {0}, rep = {0};
    char err[1024] = "";
    int rc = kda_import((const char *)data, size, &o, &cfg, &rep, err, sizeof err);
    if (rc != 0) {
        unsigned line = 0, col = 0;
        if (rc != RCFD_EMALFORMED || sscanf(err, "%u:%u:", &line, &col) != 2 || line == 0 ||
            col == 0) {
            abort();
        }
        size_t lines = 1;
        for (size_t i = 0; i < size; i++) {
            lines += data[i] == '\n';
        }
        if (line > lines) {
            abort();
        }
    } else {
        rcfd_config_t *c;
        char perr[1024];
        if (rep.len == 0 || rcfd_config_parse(cfg.p, cfg.len, &c, perr, sizeof perr) != 0) {
            abort();
        }
        rcfd_config_free(c);
    }
    rcfd_buf_free(&cfg);
    rcfd_buf_free(&rep);
    return 0;
}
