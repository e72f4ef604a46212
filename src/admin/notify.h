/* systemd readiness and watchdog notifications (sd_notify protocol, no libsystemd dependency).
 * Everything here is a no-op when the daemon is not started by systemd (NOTIFY_SOCKET unset). */
#ifndef RCFD_ADMIN_NOTIFY_H
#define RCFD_ADMIN_NOTIFY_H

#include <stdint.h>

/* Sends one notification ("READY=1", "STOPPING=1", "WATCHDOG=1", "STATUS=..."; several may be
 * joined with newlines). Never blocks. Returns 0, or a negative errno when the send failed. */
int rcfd_notify(const char *state);

/* The watchdog interval systemd expects pings within, in microseconds; 0 when there is none (or it
 * is meant for another process). */
uint64_t rcfd_notify_watchdog_usec(void);

#endif
