/* A tiny HTTP/1.1 listener on the loop for operators: GET /metrics (Prometheus text), GET /health
 * (can the daemon make progress) and GET /ready (is everything up), both JSON. HEAD answers the
 * same headers (Content-Length included) without the body. One request per connection; anything
 * else is 404, a malformed request is 400, a request head over 8 KB is 431. Bounded whatever the
 * clients do: 64 connections are served at once, 64 more get a 503, further ones are closed at
 * once, and every connection is closed 5 s after it was accepted. Meant for a localhost address.
 *
 * Ownership: rcfd_admin_start() gives the caller a listener that rcfd_admin_close() shuts down; its
 * memory is freed once every handle's close callback has run, so close it while the loop still runs
 * (before the runtime closes the remaining handles). Loop thread only. */
#ifndef RCFD_ADMIN_HTTP_H
#define RCFD_ADMIN_HTTP_H

#include <uv.h>

#include "common/buf.h"
#include "admin/metrics.h"

typedef struct rcfd_admin rcfd_admin_t;

/* Fills `body` with a JSON object and returns the HTTP status (200, or 503): for /health when
 * `ready` is 0, for /ready when it is 1. */
typedef int (*rcfd_admin_health_cb)(void *arg, int ready, rcfd_buf_t *body);

/* `listen` is "HOST:PORT" (port 0 picks a free one, see rcfd_admin_port). If it fails, nothing is
 * left running and errstr names the address; UV_EADDRINUSE when another process listens there. */
int rcfd_admin_start(uv_loop_t *loop, const char *listen, rcfd_metrics_t *metrics,
                     rcfd_admin_health_cb health, void *health_arg, rcfd_admin_t **out,
                     char *errstr, size_t errstr_size);
int rcfd_admin_port(const rcfd_admin_t *admin);
void rcfd_admin_close(rcfd_admin_t *admin);

#endif
