/* rcfd — error codes.
 *
 * Every fallible rcfd function returns int: 0 on success, a negative code on failure. System errors
 * pass through as -errno (as libuv does); rcfd's own conditions live below -4000 so they never collide
 * with errno values. Functions that validate user input (params, config, snapshots) also fill a
 * caller-provided `errstr` buffer with a message naming the offending key, value or byte offset.
 */
#ifndef RCFD_STATUS_H
#define RCFD_STATUS_H

#include <errno.h>

#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* XX(name, value, description). One table drives the enum, rcfd_err_name() and rcfd_strerror(). */
#define RCFD_ERRNO_MAP(XX)                                                                    \
    XX(EINVAL, -EINVAL, "invalid argument")                                                   \
    XX(ENOMEM, -ENOMEM, "out of memory")                                                      \
    XX(ERANGE, -ERANGE, "value out of range")                                                 \
    XX(ENOBUFS, -ENOBUFS, "buffer too small")                                                 \
    XX(EIO, -EIO, "i/o error")                                                                \
    XX(ENOENT, -ENOENT, "no such file or entry")                                              \
    XX(EAGAIN, -EAGAIN, "resource temporarily unavailable")                                   \
    XX(EDIM, -4001, "wrong number of values for the model's dimension")                       \
    XX(ENONFINITE, -4002, "value is NaN, infinite or outside the float range")                \
    XX(EBADSTATE, -4003, "snapshot is malformed or inconsistent")                             \
    XX(ETRUNCATED, -4004, "snapshot or input is truncated")                                   \
    XX(ECHECKSUM, -4005, "snapshot checksum mismatch")                                        \
    XX(EVERSION, -4006, "unsupported snapshot version or kind")                               \
    XX(ECONFIG, -4007, "invalid configuration")                                               \
    XX(EMALFORMED, -4008, "malformed record")                                                 \
    XX(ECLOSED, -4009, "object is closing or closed")

typedef enum rcfd_errno {
#define RCFD_ERRNO_ENUM_(name, value, desc) RCFD_##name = (value),
    RCFD_ERRNO_MAP(RCFD_ERRNO_ENUM_)
#undef RCFD_ERRNO_ENUM_
} rcfd_errno_t;

/* Short symbolic name ("EINVAL", "EBADSTATE"); "UNKNOWN" for codes outside the table. Never NULL. */
RCFD_EXTERN const char *rcfd_err_name(int err);

/* Human-readable description; falls back to strerror() for other -errno values. Never NULL. */
RCFD_EXTERN const char *rcfd_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* RCFD_STATUS_H */
