/* A TCP bus: one listening socket for all the bus's units, several clients at
 * once, requests dispatched on the MBAP unit id. */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "sim_bus.h"

int simbus_tcp_open(struct simbus *b)
{
    char port[16];
    snprintf(port, sizeof port, "%d", b->cfg->port);
    b->ctx = modbus_new_tcp_pi(b->cfg->host, port);
    if (b->ctx == NULL) {
        log_err("bus %s: cannot serve %s:%s: %s", b->cfg->name, b->cfg->host, port,
                modbus_strerror(errno));
        return -1;
    }
    b->fd = modbus_tcp_pi_listen(b->ctx, SIMBUS_MAX_CLIENTS);
    if (b->fd < 0) {
        log_err("bus %s: cannot listen on %s:%s: %s", b->cfg->name, b->cfg->host, port,
                modbus_strerror(errno));
        simbus_tcp_close(b);
        return -1;
    }
    log_info("bus %s: listening on %s:%s", b->cfg->name, b->cfg->host, port);
    return 0;
}

void simbus_tcp_close(struct simbus *b)
{
    for (int i = 0; i < b->nclients; i++)
        close(b->clients[i]);
    b->nclients = 0;
    if (b->fd >= 0)
        close(b->fd);
    b->fd = -1;
    if (b->ctx != NULL) {
        modbus_set_socket(b->ctx, -1); /* its last socket was a client's, closed above */
        modbus_free(b->ctx);
    }
    b->ctx = NULL;
}

static void accept_client(struct simbus *b)
{
    int fd = accept4(b->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        log_errno(LOG_LVL_WARN, errno, "bus %s: accept", b->cfg->name);
        return;
    }
    if (b->nclients == SIMBUS_MAX_CLIENTS) {
        log_warn("bus %s: more than %d clients, refused one", b->cfg->name,
                 SIMBUS_MAX_CLIENTS);
        close(fd);
        return;
    }
    b->clients[b->nclients++] = fd;
    log_debug("bus %s: client connected (%d)", b->cfg->name, b->nclients);
}

static void drop_client(struct simbus *b, int fd)
{
    for (int i = 0; i < b->nclients; i++) {
        if (b->clients[i] == fd) {
            b->clients[i] = b->clients[--b->nclients];
            break;
        }
    }
    simbus_forget_fd(b, fd);
    close(fd);
    log_debug("bus %s: client gone (%d left)", b->cfg->name, b->nclients);
}

/* One request from a ready client. A broken stream (error, timeout inside a
 * frame, closed) ends that connection only. */
static void serve_client(struct simbus *b, int fd)
{
    uint8_t req[MODBUS_TCP_MAX_ADU_LENGTH];
    modbus_set_socket(b->ctx, fd);
    int len = modbus_receive(b->ctx, req);
    if (len < 0) {
        drop_client(b, fd);
        return;
    }
    if (len < 8)
        return; /* nothing a unit could answer */
    struct simdev *d = simdevs_unit(b->devs, b->index, req[6]);
    if (d == NULL) {
        b->other_unit++; /* no reply: a dead unit behind a gateway */
        log_debug("bus %s: request for unit %d, not configured: no reply", b->cfg->name,
                  req[6]);
        return;
    }
    simbus_dispatch(b, d, fd, req, len, simbus_now_us());
}

/* fds: the stop signal, the listening socket, then the clients. */
static int fill_pollfds(const struct simbus *b, struct pollfd *fds)
{
    fds[0] = (struct pollfd){.fd = b->stop_fd, .events = POLLIN};
    fds[1] = (struct pollfd){.fd = b->fd, .events = POLLIN};
    for (int i = 0; i < b->nclients; i++)
        fds[2 + i] = (struct pollfd){.fd = b->clients[i], .events = POLLIN};
    return 2 + b->nclients;
}

void *simbus_tcp_thread(void *arg)
{
    struct simbus *b = arg;
    struct pollfd fds[2 + SIMBUS_MAX_CLIENTS];
    for (;;) {
        int n = fill_pollfds(b, fds);
        if (simbus_poll(fds, n, simbus_pending_timeout(b, simbus_now_us())) < 0 &&
            errno != EINTR) {
            log_errno(LOG_LVL_ERR, errno, "bus %s: poll", b->cfg->name);
            break;
        }
        if (fds[0].revents)
            break;
        /* By fd, not by index: serving may drop a client from the list. */
        for (int i = 2; i < n; i++)
            if (fds[i].revents)
                serve_client(b, fds[i].fd);
        if (fds[1].revents & POLLIN)
            accept_client(b);
        simbus_run_due(b);
    }
    return NULL;
}
