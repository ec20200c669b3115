/* The request deadline and the event-stream budget of the web server (web_guard.h).
 *
 * libmicrohttpd's connection timeout is an idle timeout: a client that sends one
 * header line every few seconds is never idle and could hold a connection thread
 * for ever. So every connection waiting for a request is listed here with the
 * time its wait began, and a watchdog thread shuts down the socket of one that has
 * not sent its whole request (handshake, headers, body) within [web]
 * request_timeout; libmicrohttpd then sees the connection end and closes it. The
 * watchdog shuts down its own duplicate of the socket, so a descriptor number
 * reused after libmicrohttpd closed the connection is never touched. */
#include "web_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define SWEEP_MS 200 /* a slow connection lives at most request_timeout + this */

struct guard_conn {
    struct guard_conn *prev, *next;
    struct web_guard *g;
    int fd;            /* our duplicate of the socket; -1 if none */
    int64_t since_ms;  /* monotonic: when this wait for a request began */
    bool waiting;      /* no request in yet: the deadline runs */
    bool shut;
};

struct stream_user {
    int64_t user_id;
    int n;
};

struct web_guard {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool stop, started;
    int64_t timeout_ms;
    struct guard_conn *conns;
    int streams_per_user, streams_max, streams;
    struct stream_user users[CFG_WEB_STREAMS_MAX];
};

/* ---- the deadline ----------------------------------------------------------------------- */

/* Under the lock: the connections past their deadline, shut down; how many. */
static int sweep_locked(struct web_guard *g, int64_t now)
{
    int n = 0;
    for (struct guard_conn *c = g->conns; c; c = c->next) {
        if (!c->waiting || c->shut || now - c->since_ms < g->timeout_ms)
            continue;
        c->shut = true;
        if (c->fd >= 0 && shutdown(c->fd, SHUT_RDWR) == 0)
            n++;
    }
    return n;
}

static void *watchdog(void *arg)
{
    struct web_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stop) {
        struct timespec until = clock_mono_deadline(SWEEP_MS);
        while (!g->stop && pthread_cond_timedwait(&g->wake, &g->lock, &until) != ETIMEDOUT)
            ;
        int n = g->stop ? 0 : sweep_locked(g, clock_mono_ms());
        if (n)
            log_info("web: closed %d connection%s that did not send a whole request within "
                     "%lld s (request_timeout)", n, n == 1 ? "" : "s",
                     (long long)(g->timeout_ms / 1000));
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

struct web_guard *web_guard_new(const struct cfg_web *c)
{
    struct web_guard *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->timeout_ms = c->request_timeout_ms;
    g->streams_per_user = c->streams_per_user;
    g->streams_max = c->streams_max;
    pthread_mutex_init(&g->lock, NULL);
    clock_cond_init(&g->wake);
    int rc = pthread_create(&g->thread, NULL, watchdog, g);
    if (rc != 0) {
        log_err("web: cannot start the request deadline's thread: %s", strerror(rc));
        web_guard_free(g);
        return NULL;
    }
    g->started = true;
    return g;
}

void web_guard_free(struct web_guard *g)
{
    if (!g)
        return;
    if (g->started) {
        pthread_mutex_lock(&g->lock);
        g->stop = true;
        pthread_cond_signal(&g->wake);
        pthread_mutex_unlock(&g->lock);
        pthread_join(g->thread, NULL);
    }
    while (g->conns) { /* none after MHD_stop_daemon; kept safe anyway */
        struct guard_conn *c = g->conns;
        g->conns = c->next;
        if (c->fd >= 0)
            close(c->fd);
        free(c);
    }
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

static void conn_started(struct web_guard *g, struct MHD_Connection *conn, void **ctx)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct guard_conn *c = calloc(1, sizeof *c);
    *ctx = c;
    if (!c)
        return; /* no deadline for this one; MHD's idle timeout still applies */
    c->g = g;
    c->fd = ci ? fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0) : -1;
    c->since_ms = clock_mono_ms();
    c->waiting = true;
    pthread_mutex_lock(&g->lock);
    c->next = g->conns;
    if (g->conns)
        g->conns->prev = c;
    g->conns = c;
    pthread_mutex_unlock(&g->lock);
}

static void conn_closed(struct web_guard *g, struct guard_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&g->lock);
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

void web_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode code)
{
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        conn_started(cls, conn, socket_context);
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn_closed(cls, *socket_context);
        *socket_context = NULL;
    }
}

/* The connection's entry (its socket context). */
static struct guard_conn *entry_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void set_waiting(struct MHD_Connection *conn, bool waiting)
{
    struct guard_conn *c = entry_of(conn);
    if (!c)
        return;
    pthread_mutex_lock(&c->g->lock);
    c->since_ms = clock_mono_ms();
    c->waiting = waiting;
    pthread_mutex_unlock(&c->g->lock);
}

void web_guard_request_in(struct MHD_Connection *conn)
{
    set_waiting(conn, false);
}

void web_guard_request_done(struct MHD_Connection *conn)
{
    set_waiting(conn, true);
}

/* ---- the streams ------------------------------------------------------------------------ */

int web_guard_stream_take(struct web_guard *g, int64_t user_id)
{
    int rc = 2;
    pthread_mutex_lock(&g->lock);
    struct stream_user *mine = NULL, *empty = NULL;
    for (int i = 0; i < CFG_WEB_STREAMS_MAX; i++) {
        if (g->users[i].n && g->users[i].user_id == user_id)
            mine = &g->users[i];
        else if (!g->users[i].n && !empty)
            empty = &g->users[i];
    }
    if (mine && mine->n >= g->streams_per_user)
        rc = 1;
    else if (g->streams < g->streams_max && (mine || empty)) {
        if (!mine) {
            mine = empty;
            mine->user_id = user_id;
        }
        mine->n++;
        g->streams++;
        rc = 0;
    }
    pthread_mutex_unlock(&g->lock);
    return rc;
}

void web_guard_stream_give(struct web_guard *g, int64_t user_id)
{
    pthread_mutex_lock(&g->lock);
    for (int i = 0; i < CFG_WEB_STREAMS_MAX; i++) {
        if (g->users[i].n && g->users[i].user_id == user_id) {
            g->users[i].n--;
            g->streams--;
            break;
        }
    }
    pthread_mutex_unlock(&g->lock);
}
