/* One thread for the TCP buses named by their address: it sends each bus's next
 * request when it is due and waits on all their sockets at once, so a tick that
 * polls many buses wakes one thread, not one per bus (waking is most of what a
 * poll costs the CPU: tests/bench/README.md). Nothing in it waits on one bus: a
 * connection is made without waiting (mbtcp_dial) and every reply is awaited in
 * the one ppoll, each until its own deadline, so a unit that does not answer holds
 * up only its own bus, as with a thread per bus. What a poll does and means is
 * modbus_poll.c's; which device is next on a bus, modbus_bus.c's. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "modbus_private.h"

struct mgroup {
    struct mbus **buses;
    int n;
    struct pollfd *pfds;       /* [0]: stop_fd; then one per bus connected or dialling */
    struct mbus **polled;      /* the bus of each pfds[1..] */
    int stop_fd;               /* eventfd: readable once a stop is asked */
    atomic_int stop;
    pthread_t thread;
    bool started;
};

/* ---- one bus --------------------------------------------------------------- */

static void end_poll(struct mbus *b, bool ok, int err)
{
    b->phase = MB_IDLE;
    mpoll_end(b, ok, err);
}

static void send_first(struct mbus *b)
{
    b->phase = MB_AWAITING;
    if (mpoll_send(b) < 0)
        end_poll(b, false, errno);
}

/* Connected: libmodbus's context takes the socket (modbus_close closes it). */
static void dialled(struct mbus *b)
{
    int fd = b->dial_fd;
    b->dial_fd = -1;
    if (mbtcp_dialled(fd) < 0 || modbus_set_socket(b->ctx, fd) < 0) {
        int err = errno;
        close(fd);
        end_poll(b, false, err);
        return;
    }
    b->connected = true;
    mbtcp_rx_reset(&b->rx);
    send_first(b);
}

static void start_poll(struct mbus *b, struct mdev *d)
{
    mpoll_begin(b, d);
    if (b->connected) {
        send_first(b);
        return;
    }
    b->dial_fd = mbtcp_dial(b->bus->host, b->bus->port);
    if (b->dial_fd < 0) {
        end_poll(b, false, errno);
        return;
    }
    b->phase = MB_DIALLING;
    b->until_us = clock_mono_us() + b->bus->response_timeout_ms * 1000;
}

/* Its socket is ready, or its time is up. */
static void step(struct mbus *b, short revents, int64_t now)
{
    if (b->phase == MB_IDLE) {
        if (revents)
            mpoll_drain(b);
        return;
    }
    if (b->phase == MB_DIALLING) {
        if (revents) {
            dialled(b);
        } else if (now >= b->until_us) {
            close(b->dial_fd);
            b->dial_fd = -1;
            end_poll(b, false, ETIMEDOUT);
        }
        return;
    }
    if (!revents && now < b->until_us)
        return;
    int rc = mpoll_take(b);
    if (rc != 0)
        end_poll(b, rc > 0, errno);
}

/* ---- the thread ------------------------------------------------------------- */

/* Starts the polls that are due; the sockets to wait on, and until when. */
static int prepare(struct mgroup *g, int64_t now, int64_t *wake_us)
{
    int n = 1;
    *wake_us = INT64_MAX;
    for (int i = 0; i < g->n; i++) {
        struct mbus *b = g->buses[i];
        int64_t at = 0;
        if (b->phase == MB_IDLE) {
            struct mdev *d = mbus_next(b, &at);
            if (at <= now) {
                start_poll(b, d);
                if (b->phase == MB_IDLE) /* it ended at once (refused): the next */
                    mbus_next(b, &at);
            }
        }
        if (b->phase != MB_IDLE)
            at = b->until_us;
        if (b->phase != MB_IDLE || b->connected) { /* idle: late replies, a close */
            g->pfds[n] = (struct pollfd){
                .fd = b->phase == MB_DIALLING ? b->dial_fd : modbus_get_socket(b->ctx),
                .events = b->phase == MB_DIALLING ? POLLOUT : POLLIN};
            g->polled[n++] = b;
        }
        if (at < *wake_us)
            *wake_us = at;
    }
    return n;
}

static void *group_thread(void *arg)
{
    struct mgroup *g = arg;
    g->pfds[0] = (struct pollfd){.fd = g->stop_fd, .events = POLLIN};
    int64_t said_us = INT64_MIN; /* the last ppoll failure logged */
    while (!atomic_load(&g->stop)) {
        int64_t wake_us;
        int n = prepare(g, clock_mono_us(), &wake_us);
        int64_t left = wake_us - clock_mono_us();
        if (left < 0)
            left = 0;
        struct timespec ts = {.tv_sec = left / 1000000, .tv_nsec = (long)(left % 1000000) * 1000};
        if (ppoll(g->pfds, (nfds_t)n, &ts, NULL) < 0 && errno != EINTR) {
            /* Never stop polling for good (every bus would freeze with its devices
             * still "online"): the polls under way time out in step() and their
             * devices go offline, amber, until ppoll works again. */
            int e = errno;
            if (clock_mono_us() - said_us >= 60 * 1000000LL) {
                log_errno(LOG_LVL_ERR, e, "Modbus TCP buses: ppoll (trying again)");
                said_us = clock_mono_us();
            }
            for (int i = 0; i < n; i++)
                g->pfds[i].revents = 0;
            struct timespec pause = {.tv_nsec = 10 * 1000000L};
            nanosleep(&pause, NULL);
        }
        int64_t now = clock_mono_us();
        for (int i = 1; i < n; i++)
            step(g->polled[i], g->pfds[i].revents, now);
    }
    for (int i = 0; i < g->n; i++)
        mbus_disconnect(g->buses[i]); /* a socket being dialled: mbus_free closes it */
    return NULL;
}

struct mgroup *mgroup_start(struct mbus **buses, int n)
{
    struct mgroup *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->buses = buses;
    g->n = n;
    for (int i = 0; i < n; i++)
        buses[i]->watched = true;
    g->pfds = calloc((size_t)n + 1, sizeof *g->pfds);
    g->polled = calloc((size_t)n + 1, sizeof *g->polled);
    g->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!g->pfds || !g->polled || g->stop_fd < 0) {
        log_errno(LOG_LVL_ERR, errno, "Modbus TCP buses: cannot set up");
        goto fail;
    }
    if (pthread_create(&g->thread, NULL, group_thread, g) != 0) {
        log_err("Modbus TCP buses: cannot start their thread");
        goto fail;
    }
    g->started = true;
    return g;
fail:
    mgroup_stop(g);
    return NULL;
}

void mgroup_stop(struct mgroup *g)
{
    if (!g)
        return;
    atomic_store(&g->stop, 1);
    uint64_t one = 1;
    if (g->stop_fd >= 0 && write(g->stop_fd, &one, sizeof one) < 0)
        log_errno(LOG_LVL_WARN, errno, "Modbus TCP buses: cannot wake their thread");
    if (g->started)
        pthread_join(g->thread, NULL);
    if (g->stop_fd >= 0)
        close(g->stop_fd);
    free(g->pfds);
    free(g->polled);
    free(g);
}
