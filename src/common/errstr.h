/* Formatting of user-facing error messages into a caller's errstr buffer (librdkafka style). */
#ifndef RCFD_COMMON_ERRSTR_H
#define RCFD_COMMON_ERRSTR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Writes the message when errstr is non-NULL and returns `err`, so callers can `return rcfd_errf(...)`. */
__attribute__((format(printf, 4, 5))) static inline int rcfd_errf(int err, char *errstr,
                                                                  size_t errstr_size,
                                                                  const char *fmt, ...)
{
    if (errstr != NULL && errstr_size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
    }
    return err;
}

#endif
