/* libcurl's multi interface driven by a libuv loop (curl docs/examples/multi-uv.c, with error
 * checks and container_of): one uv_timer for CURLMOPT_TIMERFUNCTION and one uv_poll per socket,
 * in a context created by the socket callback and freed in its close callback. Nothing blocks.
 *
 * Ownership: the caller embeds rcfd_curl_uv_t and owns the easy handles it adds; a finished one is
 * removed from the multi handle and handed back through `done` (the caller cleans it up). The
 * timer and the socket contexts' polls are closed by the loop walk at shutdown; after
 * uv_loop_close() rcfd_curl_uv_cleanup() releases the multi handle and the contexts. Loop thread
 * only. */
#ifndef RCFD_NET_CURL_UV_H
#define RCFD_NET_CURL_UV_H

#include <curl/curl.h>
#include <uv.h>

typedef void (*rcfd_curl_done_cb)(CURL *easy, CURLcode result, void *ud);

typedef struct rcfd_curl_sock rcfd_curl_sock_t;

typedef struct rcfd_curl_uv {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    rcfd_curl_sock_t *socks; /* live contexts */
    rcfd_curl_done_cb done;
    void *ud;
    int closing;
} rcfd_curl_uv_t;

/* Returns 0 or a negative RCFD_E* code (then nothing is left to clean up). */
int rcfd_curl_uv_init(rcfd_curl_uv_t *c, uv_loop_t *loop, rcfd_curl_done_cb done, void *ud);
/* Starts a transfer; `done` runs later from a loop callback, never from inside this call. */
int rcfd_curl_uv_add(rcfd_curl_uv_t *c, CURL *easy);
/* After uv_loop_close() (the loop walk closed the handles): frees everything. Easy handles still
 * attached must be removed by the caller first. */
void rcfd_curl_uv_cleanup(rcfd_curl_uv_t *c);

#endif
