#include "net/curl_uv.h"

#include <stddef.h>

#include "rcfd/alloc.h"
#include "rcfd/status.h"

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

struct rcfd_curl_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    rcfd_curl_uv_t *c;
    rcfd_curl_sock_t *next, *prev;
};

static void unlink_sock(rcfd_curl_sock_t *k)
{
    if (k->prev != NULL) {
        k->prev->next = k->next;
    } else {
        k->c->socks = k->next;
    }
    if (k->next != NULL) {
        k->next->prev = k->prev;
    }
}

static void check_done(rcfd_curl_uv_t *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE) {
            continue;
        }
        CURL *easy = m->easy_handle;
        CURLcode res = m->data.result; /* m is invalid after remove_handle */
        curl_multi_remove_handle(c->multi, easy);
        c->done(easy, res, c->ud);
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    rcfd_curl_sock_t *k = container_of(h, rcfd_curl_sock_t, poll);
    rcfd_curl_uv_t *c = k->c;
    int flags = 0;
    if (status < 0) {
        flags = CURL_CSELECT_ERR;
    } else {
        flags |= (events & UV_READABLE) ? CURL_CSELECT_IN : 0;
        flags |= (events & UV_WRITABLE) ? CURL_CSELECT_OUT : 0;
    }
    int running;
    curl_multi_socket_action(c->multi, k->fd, flags, &running);
    check_done(c);
}

static void on_timeout(uv_timer_t *t)
{
    rcfd_curl_uv_t *c = container_of(t, rcfd_curl_uv_t, timer);
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(c);
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    rcfd_curl_uv_t *c = userp;
    if (c->closing) {
        return 0;
    }
    if (timeout_ms < 0) {
        uv_timer_stop(&c->timer);
    } else {
        /* 0 means "now": the timer fires on the next loop iteration, never from in here. */
        uv_timer_start(&c->timer, on_timeout, (uint64_t)timeout_ms, 0);
    }
    return 0;
}

static void on_sock_closed(uv_handle_t *h)
{
    rcfd_curl_sock_t *k = container_of(h, rcfd_curl_sock_t, poll);
    rcfd_free(k);
}

static int on_socket(CURL *easy, curl_socket_t s, int action, void *userp, void *socketp)
{
    (void)easy;
    rcfd_curl_uv_t *c = userp;
    rcfd_curl_sock_t *k = socketp;
    if (action == CURL_POLL_REMOVE) {
        if (k != NULL) {
            curl_multi_assign(c->multi, s, NULL);
            unlink_sock(k);
            if (c->closing) {
                rcfd_free(k); /* the loop walk already closed its poll */
            } else {
                uv_poll_stop(&k->poll);
                uv_close((uv_handle_t *)&k->poll, on_sock_closed);
            }
        }
        return 0;
    }
    if (c->closing) {
        return -1;
    }
    if (k == NULL) {
        k = rcfd_calloc(1, sizeof *k);
        if (k == NULL) {
            return -1;
        }
        if (uv_poll_init_socket(c->loop, &k->poll, s) != 0) {
            rcfd_free(k);
            return -1;
        }
        k->fd = s;
        k->c = c;
        k->next = c->socks;
        if (c->socks != NULL) {
            c->socks->prev = k;
        }
        c->socks = k;
        curl_multi_assign(c->multi, s, k);
    }
    int events = 0;
    events |= (action == CURL_POLL_IN || action == CURL_POLL_INOUT) ? UV_READABLE : 0;
    events |= (action == CURL_POLL_OUT || action == CURL_POLL_INOUT) ? UV_WRITABLE : 0;
    return uv_poll_start(&k->poll, events, on_poll) == 0 ? 0 : -1;
}

int rcfd_curl_uv_init(rcfd_curl_uv_t *c, uv_loop_t *loop, rcfd_curl_done_cb done, void *ud)
{
    c->loop = loop;
    c->done = done;
    c->ud = ud;
    c->socks = NULL;
    c->closing = 0;
    c->multi = curl_multi_init();
    if (c->multi == NULL) {
        return RCFD_ENOMEM;
    }
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    uv_timer_init(loop, &c->timer);
    return 0;
}

int rcfd_curl_uv_add(rcfd_curl_uv_t *c, CURL *easy)
{
    /* add_handle arms the timer callback with 0: the transfer starts on the next iteration. */
    return curl_multi_add_handle(c->multi, easy) == CURLM_OK ? 0 : RCFD_ENOMEM;
}

void rcfd_curl_uv_cleanup(rcfd_curl_uv_t *c)
{
    if (c->multi == NULL) {
        return;
    }
    c->closing = 1;
    curl_multi_cleanup(c->multi); /* may call on_socket(REMOVE): handled by `closing` */
    c->multi = NULL;
    while (c->socks != NULL) {
        rcfd_curl_sock_t *k = c->socks;
        c->socks = k->next;
        rcfd_free(k);
    }
}
