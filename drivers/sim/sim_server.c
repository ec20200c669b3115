#include "sim_server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "rtu_timing.h"
#include "sim_bus.h"

struct sim_server {
    const struct config *cfg;
    struct simdevs *devs;
    struct sim_server_opts opts;
    int stop_fd;
    bool running;              /* every bus opened and its thread started */
    int nbuses;
    struct simbus *buses;
};

/* ---- time ------------------------------------------------------------------ */

int64_t simbus_now_us(void)
{
    return clock_mono_us();
}

/* ppoll rather than poll: wire timing needs better than millisecond steps. */
int simbus_poll(struct pollfd *fds, int n, int64_t timeout_us)
{
    struct timespec ts = {.tv_sec = timeout_us / 1000000,
                          .tv_nsec = (long)(timeout_us % 1000000) * 1000};
    return ppoll(fds, (nfds_t)n, timeout_us < 0 ? NULL : &ts, NULL);
}

/* ---- replies --------------------------------------------------------------- */

static int write_all(int fd, const uint8_t *buf, int n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, (size_t)n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        buf += w;
        n -= (int)w;
    }
    return 0;
}

static void execute(struct simbus *b, const struct simbus_pending *p)
{
    int rc = 0;
    if (b->cfg->is_tcp)
        modbus_set_socket(b->ctx, p->fd);
    else
        modbus_set_slave(b->ctx, p->req[0]);
    if (p->plan.action == SIM_ACT_REPLY)
        rc = simdevs_reply(b->devs, p->dev, b->ctx, p->req, p->len, simbus_now_us() / 1000);
    else if (p->plan.action == SIM_ACT_EXCEPTION)
        rc = modbus_reply_exception(b->ctx, p->req, (unsigned)p->plan.code);
    else if (p->plan.action == SIM_ACT_MALFORMED)
        rc = write_all(p->fd, p->raw, p->rawlen);
    if (rc < 0)
        log_debug("bus %s: reply not sent: %s", b->cfg->name, modbus_strerror(errno));
}

/* The RTU reply's own bytes, for wire timing. */
static int rtu_reply_length(const struct simbus_pending *p)
{
    switch (p->plan.action) {
    case SIM_ACT_REPLY: return simframe_rtu_read_reply_length(p->plan.count);
    case SIM_ACT_MALFORMED: return p->rawlen;
    default: return SIMFRAME_RTU_EXCEPTION_LENGTH;
    }
}

/* The pty delivers the request at once, so the request's own time on the wire is
 * added here too, and the silence after it by which a real unit knows the frame
 * has ended: reply at end + request + t3.5 + turnaround + reply. */
static int64_t wire_delay_us(const struct simbus *b, const struct simbus_pending *p)
{
    const struct cfg_bus *c = b->cfg;
    if (c->is_tcp || !b->opts->wire_timing)
        return 0;
    int bytes = p->len + rtu_reply_length(p);
    return rtu_wire_us(bytes, c) + rtu_frame_gap_us(c) + b->opts->turnaround_us;
}

static bool enqueue(struct simbus *b, const struct simbus_pending *p)
{
    for (int i = 0; i < SIMBUS_PENDING; i++) {
        if (!b->pend[i].used) {
            b->pend[i] = *p;
            b->pend[i].used = true;
            return true;
        }
    }
    return false;
}

void simbus_dispatch(struct simbus *b, struct simdev *d, int fd, const uint8_t *req, int len,
                     int64_t end_us)
{
    bool rtu = !b->cfg->is_tcp;
    int h = rtu ? 1 : 7, tail = rtu ? 2 : 0;
    struct simbus_pending p = {.fd = fd, .dev = d, .len = len};
    if (len < h + tail + 1 || len > (int)sizeof p.req)
        return;
    simdevs_plan(b->devs, d, req + h, len - h - tail, end_us / 1000, &p.plan);
    if (p.plan.action == SIM_ACT_DROP)
        return;
    memcpy(p.req, req, (size_t)len);
    if (p.plan.action == SIM_ACT_MALFORMED)
        p.rawlen = simframe_malformed(rtu, req, len, p.plan.bad, p.raw);
    p.due_us = end_us + p.plan.delay_ms * 1000 + wire_delay_us(b, &p);
    /* A full queue answers at once: a test tool must not lose requests silently. */
    if (p.due_us <= simbus_now_us() || !enqueue(b, &p))
        execute(b, &p);
}

int64_t simbus_pending_timeout(const struct simbus *b, int64_t now_us)
{
    int64_t next = -1;
    for (int i = 0; i < SIMBUS_PENDING; i++)
        if (b->pend[i].used && (next < 0 || b->pend[i].due_us < next))
            next = b->pend[i].due_us;
    return next < 0 ? -1 : next <= now_us ? 0 : next - now_us;
}

static struct simbus_pending *earliest_due(struct simbus *b, int64_t now_us)
{
    struct simbus_pending *best = NULL;
    for (int i = 0; i < SIMBUS_PENDING; i++) {
        struct simbus_pending *p = &b->pend[i];
        if (p->used && p->due_us <= now_us && (best == NULL || p->due_us < best->due_us))
            best = p;
    }
    return best;
}

void simbus_run_due(struct simbus *b)
{
    struct simbus_pending *p;
    while ((p = earliest_due(b, simbus_now_us())) != NULL) {
        execute(b, p);
        p->used = false;
    }
}

void simbus_forget_fd(struct simbus *b, int fd)
{
    for (int i = 0; i < SIMBUS_PENDING; i++)
        if (b->pend[i].fd == fd)
            b->pend[i].used = false;
}

/* ---- buses ----------------------------------------------------------------- */

static bool bus_has_devices(const struct config *cfg, int bus)
{
    for (int i = 0; i < cfg->ndevices; i++)
        if (cfg->devices[i].bus == bus)
            return true;
    return false;
}

static void close_bus(struct simbus *b)
{
    if (b->cfg->is_tcp)
        simbus_tcp_close(b);
    else
        simbus_rtu_close(b);
}

static int open_buses(struct sim_server *s)
{
    for (int i = 0; i < s->cfg->nbuses; i++) {
        if (!bus_has_devices(s->cfg, i))
            continue;
        struct simbus *b = &s->buses[s->nbuses];
        *b = (struct simbus){.cfg = &s->cfg->buses[i], .index = i, .devs = s->devs,
                             .opts = &s->opts, .fd = -1, .stop_fd = s->stop_fd};
        if ((b->cfg->is_tcp ? simbus_tcp_open(b) : simbus_rtu_open(b)) < 0)
            return -1;
        s->nbuses++;
    }
    return 0;
}

static int start_threads(struct sim_server *s)
{
    for (int i = 0; i < s->nbuses; i++) {
        struct simbus *b = &s->buses[i];
        int rc = pthread_create(&b->thread, NULL,
                                b->cfg->is_tcp ? simbus_tcp_thread : simbus_rtu_thread, b);
        if (rc != 0) {
            log_errno(LOG_LVL_ERR, rc, "bus %s: cannot start its thread", b->cfg->name);
            return -1;
        }
        b->started = true;
    }
    return 0;
}

struct sim_server *sim_server_start(const struct config *cfg, struct simdevs *devs,
                                    const struct sim_server_opts *opts)
{
    struct sim_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    *s = (struct sim_server){.cfg = cfg, .devs = devs, .opts = *opts};
    s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->buses = calloc((size_t)cfg->nbuses + 1, sizeof *s->buses);
    if (s->stop_fd < 0 || s->buses == NULL) {
        log_errno(LOG_LVL_ERR, errno, "cannot set up the buses");
        goto fail;
    }
    if (open_buses(s) < 0 || start_threads(s) < 0)
        goto fail;
    s->running = true;
    if (s->nbuses == 0)
        log_warn("no bus has devices: nothing to serve");
    return s;
fail:
    sim_server_stop(s);
    return NULL;
}

static void report(const struct sim_server *s)
{
    for (int i = 0; i < s->cfg->ndevices; i++) {
        const struct cfg_device *d = &s->cfg->devices[i];
        struct simdev_counters n;
        simdevs_counters(s->devs, i, &n);
        log_notice("device %s (bus %s unit %d): served %llu exceptions %llu malformed %llu "
                   "silenced %llu", d->name, s->cfg->buses[d->bus].name, d->unit_id,
                   (unsigned long long)n.served, (unsigned long long)n.exceptions,
                   (unsigned long long)n.malformed, (unsigned long long)n.silenced);
    }
    for (int i = 0; i < s->nbuses; i++) {
        const struct simbus *b = &s->buses[i];
        log_notice("bus %s: dropped: other-unit %llu bad-crc %llu incomplete %llu",
                   b->cfg->name, (unsigned long long)b->other_unit,
                   (unsigned long long)b->bad_crc, (unsigned long long)b->incomplete);
    }
}

void sim_server_stop(struct sim_server *s)
{
    if (s == NULL)
        return;
    uint64_t one = 1;
    if (s->stop_fd >= 0 && write(s->stop_fd, &one, sizeof one) < 0)
        log_errno(LOG_LVL_WARN, errno, "cannot wake the bus threads");
    for (int i = 0; s->buses && i < s->nbuses; i++)
        if (s->buses[i].started)
            pthread_join(s->buses[i].thread, NULL);
    if (s->running)
        report(s);
    for (int i = 0; s->buses && i < s->nbuses; i++)
        close_bus(&s->buses[i]);
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    free(s->buses);
    free(s);
}
