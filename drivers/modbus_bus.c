#include "modbus_bus.h"

#include <errno.h>
#include <modbus/modbus.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "busload.h"
#include "clock.h"
#include "events.h"
#include "log.h"
#include "loop.h"
#include "modbus_tcp.h"
#include "rtu_timing.h"
#include "thermal.h"

#define STATS_EVERY_MS 1000
#define LOG_AT_LEAST_EVERY_MS 600000

struct mdev {
    int index;                     /* in cfg->devices */
    const struct cfg_device *cfg;
    const struct cfg_profile *profile;
    struct regmap map;
    uint16_t *regs;
    int64_t due_ms;
    int failures;                  /* consecutive */
    enum device_state state;
    struct backoff backoff;
    struct trigger_state trigger;
    struct device_counters counters;
    struct log_limit errlog;
    char last_error[80];
    int64_t stats_due_ms;
};

struct mbus {
    const struct config *cfg;
    const struct cfg_bus *bus;
    struct evq *events;
    const struct presence_edges *presence;
    modbus_t *ctx;
    int connected;
    int ndevs;
    struct mdev *devs;
    uint32_t rng;
    pthread_t thread;
    int started;
    int64_t gap_us;                /* silence kept after each transaction */
    int64_t quiet_until_us;        /* end of that silence after the last one */
    uint16_t tid;                  /* TCP: the last request's transaction id */
    int stop_fd;                   /* eventfd: readable once a stop is asked */
    atomic_int stop;
};

/* ---- waiting ------------------------------------------------------------- */

/* Sleeps until the monotonic deadline (µs, the clock of loop_now_ms); returns -1
 * as soon as a stop is asked. One ppoll on the stop eventfd per wait: waking is
 * most of what an idle poll costs, so the wait is a single system call (a
 * condition variable took four). */
static int wait_until(struct mbus *b, int64_t deadline_us)
{
    struct pollfd pfd = {.fd = b->stop_fd, .events = POLLIN};
    for (;;) {
        if (atomic_load(&b->stop))
            return -1;
        int64_t left = deadline_us - clock_mono_us();
        if (left <= 0)
            return 0;
        struct timespec ts = {.tv_sec = left / 1000000, .tv_nsec = (long)(left % 1000000) * 1000};
        if (ppoll(&pfd, 1, &ts, NULL) < 0 && errno != EINTR)
            return -1;
    }
}

static int stopping(struct mbus *b)
{
    return atomic_load(&b->stop);
}

/* ---- events ---------------------------------------------------------------- */

static void post_status(struct mbus *b, struct mdev *d, int changed)
{
    struct event ev = {.kind = EV_DEVICE_STATUS, .mono_ms = loop_now_ms()};
    ev.status.device = d->index;
    ev.status.state = d->state;
    ev.status.state_changed = changed;
    ev.status.counters = d->counters;
    snprintf(ev.status.last_error, sizeof ev.status.last_error, "%s", d->last_error);
    evq_post(b->events, &ev);
    d->stats_due_ms = ev.mono_ms + STATS_EVERY_MS;
}

static void set_state(struct mbus *b, struct mdev *d, enum device_state s)
{
    if (d->state == s)
        return;
    enum device_state was = d->state;
    d->state = s;
    if (s == DEV_OFFLINE)
        thermal_forget(&d->trigger); /* what it shows when back may be old */
    if (s == DEV_OK && was != DEV_UNKNOWN) {
        uint64_t n = log_limit_reset(&d->errlog);
        log_notice("device %s: back (%llu failed polls)", d->cfg->name, (unsigned long long)n);
    } else if (s != DEV_OK) {
        log_warn("device %s: %s (%s)", d->cfg->name, device_state_name(s), d->last_error);
    }
    post_status(b, d, 1);
}

/* ---- connection ------------------------------------------------------------ */

static modbus_t *new_context(const struct cfg_bus *bus)
{
    char port[16];
    snprintf(port, sizeof port, "%d", bus->port);
    if (bus->is_tcp)
        return modbus_new_tcp_pi(bus->host, port);
    return modbus_new_rtu(bus->device, bus->baud, bus->parity, bus->data_bits, bus->stop_bits);
}

static void set_timeouts(struct mbus *b)
{
    int64_t rt = b->bus->response_timeout_ms, bt = b->bus->byte_timeout_ms;
    modbus_set_response_timeout(b->ctx, (uint32_t)(rt / 1000), (uint32_t)(rt % 1000) * 1000);
    modbus_set_byte_timeout(b->ctx, (uint32_t)(bt / 1000), (uint32_t)(bt % 1000) * 1000);
    /* We decide about retries and reconnects ourselves (per device, with backoff). */
    modbus_set_error_recovery(b->ctx, MODBUS_ERROR_RECOVERY_NONE);
}

static void disconnect(struct mbus *b)
{
    if (b->connected)
        modbus_close(b->ctx); /* always before connecting again */
    b->connected = 0;
}

static int connect_bus(struct mbus *b, struct mdev *d)
{
    disconnect(b);
    if (modbus_connect(b->ctx) < 0)
        return -1;
    if (!b->bus->is_tcp && modbus_rtu_set_serial_mode(b->ctx, MODBUS_RTU_RS485) < 0 &&
        errno != ENOTTY)
        log_debug("bus %s: RS-485 mode not set: %s", b->bus->name, modbus_strerror(errno));
    /* ENOTTY: ptys and adapters that switch direction by themselves; fine. */
    b->connected = 1;
    if (d->counters.polls > 0)
        d->counters.reconnects++;
    return 0;
}

/* ---- failures -------------------------------------------------------------- */

enum fail_kind { F_TIMEOUT, F_EXCEPTION, F_CRC, F_FRAME, F_IO };

static enum fail_kind classify(int err)
{
    if (err == ETIMEDOUT)
        return F_TIMEOUT;
    if (err > MODBUS_ENOBASE && err < EMBBADCRC)
        return F_EXCEPTION;
    if (err == EMBBADCRC)
        return F_CRC;
    if (err >= EMBBADDATA && err <= EMBBADSLAVE)
        return F_FRAME;
    return F_IO;
}

static void count_failure(struct mdev *d, enum fail_kind k)
{
    uint64_t *c[] = {&d->counters.timeouts, &d->counters.exceptions, &d->counters.crc_errors,
                     &d->counters.bad_frames, &d->counters.io_errors};
    (*c[k])++;
}

/* When to try again. Failures that cost the bus time (timeouts) back off
 * exponentially so one dead unit cannot starve the others; cheap ones (connection
 * refused, an exception answer) retry at the poll interval. The first failure is
 * retried at once: one lost frame should not make a device degraded for long. */
static int64_t retry_delay(struct mbus *b, struct mdev *d, enum fail_kind k)
{
    if (d->failures == 1)
        return 0;
    if (k == F_TIMEOUT)
        return backoff_next(&d->backoff, &b->rng);
    return d->cfg->poll_ms;
}

static void poll_failed(struct mbus *b, struct mdev *d, int err, int64_t now)
{
    enum fail_kind k = classify(err);
    count_failure(d, k);
    d->failures++;
    snprintf(d->last_error, sizeof d->last_error, "%s", modbus_strerror(err));
    log_limited(&d->errlog, now, LOG_AT_LEAST_EVERY_MS, LOG_LVL_WARN, "device %s (unit %d): %s",
                d->cfg->name, d->cfg->unit_id, d->last_error);
    /* A TCP stream out of step (bad frame) or broken is only fixed by a new
     * connection; a serial line is flushed before every request anyway. */
    if (b->bus->is_tcp && (k == F_IO || k == F_FRAME || k == F_CRC))
        disconnect(b);
    int offline = d->failures >= 2 && k != F_EXCEPTION;
    set_state(b, d, offline ? DEV_OFFLINE : DEV_DEGRADED);
    d->due_ms = now + retry_delay(b, d, k);
}

/* ---- polling --------------------------------------------------------------- */

/* TCP: our own exchange on libmodbus's socket, which drops late replies to
 * earlier requests by their transaction id (modbus_tcp.h says why). */
static int read_block_tcp(struct mbus *b, struct mdev *d, const struct cfg_block *blk,
                          uint16_t *dst)
{
    struct mbtcp_read rq = {.tid = ++b->tid, .unit = d->cfg->unit_id,
                            .function = blk->function, .start = blk->start,
                            .count = blk->count,
                            .deadline_us = clock_mono_us() + b->bus->response_timeout_ms * 1000,
                            .byte_timeout_us = b->bus->byte_timeout_ms * 1000};
    int stale = 0, rc = mbtcp_read_registers(modbus_get_socket(b->ctx), &rq, dst, &stale);
    if (stale > 0)
        log_debug("bus %s: dropped %d late replies while reading %s", b->bus->name, stale,
                  d->cfg->name);
    return rc;
}

static int read_block(struct mbus *b, struct mdev *d, const struct cfg_block *blk,
                      uint16_t *dst)
{
    if (b->bus->is_tcp)
        return read_block_tcp(b, d, blk, dst);
    modbus_flush(b->ctx); /* drop anything a slow unit sent too late */
    int n = blk->function == 4 ? modbus_read_input_registers(b->ctx, blk->start, blk->count, dst)
                               : modbus_read_registers(b->ctx, blk->start, blk->count, dst);
    if (n == blk->count)
        return 0;
    if (n >= 0)
        errno = EMBBADDATA;
    return -1;
}

static int read_blocks(struct mbus *b, struct mdev *d)
{
    const struct cfg_profile *p = d->profile;
    for (int i = 0; i < p->nblocks; i++) {
        d->counters.polls++;
        if (read_block(b, d, &p->blocks[i], d->regs + d->map.offset[i]) < 0)
            return -1;
    }
    return 0;
}

/* TCP: late replies that came between two polls are dropped before the request
 * (a stream cut short in one of them is mended with a new connection, which is
 * not this device's failure). */
static void drain_tcp(struct mbus *b)
{
    if (!b->bus->is_tcp || !b->connected)
        return;
    int n = mbtcp_drain(modbus_get_socket(b->ctx), b->bus->byte_timeout_ms * 1000);
    if (n > 0)
        log_debug("bus %s: dropped %d late replies", b->bus->name, n);
    if (n < 0)
        disconnect(b);
}

/* The lane's GPIO presence edges so far, or false when it has no sensor. Read
 * before the request, so registers sampled before a person arrived are never
 * taken as that person's measurement. */
static bool presence_edges(const struct mbus *b, const struct mdev *d, uint32_t *edges)
{
    int lane = d->cfg->lane;
    if (lane < 0 || !b->cfg->lanes[lane].io[CFG_IO_PRESENCE].present)
        return false;
    *edges = atomic_load(&b->presence->rising[lane]);
    return true;
}

static void emit_if_new(struct mbus *b, struct mdev *d, int64_t now, bool has_edges,
                        uint32_t edges)
{
    struct thermal_sample s;
    if (thermal_decode(&d->map, d->regs, &s) < 0) {
        snprintf(d->last_error, sizeof d->last_error, "body temperature not a number");
        return;
    }
    s.has_presence_edges = has_edges;
    s.presence_edges = edges;
    if (!thermal_is_new(&d->trigger, d->profile, &s))
        return;
    struct event ev = {.kind = EV_READING, .mono_ms = now, .posted_us = loop_now_us()};
    thermal_make_reading(d->cfg, d->index, d->profile, &s, now, clock_wall_ms(), &ev.reading);
    d->counters.readings++;
    evq_post(b->events, &ev);
}

static void poll_device(struct mbus *b, struct mdev *d)
{
    int64_t start = loop_now_ms();
    uint32_t edges = 0;
    bool has_edges = presence_edges(b, d, &edges);
    drain_tcp(b);
    if ((!b->connected && connect_bus(b, d) < 0) ||
        modbus_set_slave(b->ctx, d->cfg->unit_id) < 0 || read_blocks(b, d) < 0) {
        poll_failed(b, d, errno, loop_now_ms());
        return;
    }
    int64_t now = loop_now_ms();
    d->counters.good++;
    d->counters.last_good_wall_ms = clock_wall_ms();
    d->failures = 0;
    backoff_reset(&d->backoff);
    emit_if_new(b, d, now, has_edges, edges);
    set_state(b, d, DEV_OK);
    /* The next poll is at the first multiple of the interval after this one
     * began: the rate holds, and every device with the same interval, on any
     * bus, wakes at the same instants, so one timer interrupt serves them all
     * (waking is most of what a poll costs the CPU: tests/bench/README.md). */
    d->due_ms = (start / d->cfg->poll_ms + 1) * d->cfg->poll_ms;
    if (now >= d->stats_due_ms)
        post_status(b, d, 0);
}

/* The device due first; ties go to the one after the last polled (round robin). */
static struct mdev *next_due(struct mbus *b, int last)
{
    struct mdev *best = NULL;
    for (int k = 1; k <= b->ndevs; k++) {
        struct mdev *d = &b->devs[(last + k) % b->ndevs];
        if (!best || d->due_ms < best->due_ms)
            best = d;
    }
    return best;
}

static void *bus_thread(void *arg)
{
    struct mbus *b = arg;
    int last = b->ndevs - 1;
    while (!stopping(b)) {
        struct mdev *d = next_due(b, last);
        /* The silence between transactions is folded into the one wait. */
        int64_t due_us = d->due_ms * 1000;
        if (wait_until(b, due_us > b->quiet_until_us ? due_us : b->quiet_until_us) < 0)
            break;
        poll_device(b, d);
        last = (int)(d - b->devs);
        b->quiet_until_us = clock_mono_us() + b->gap_us;
    }
    disconnect(b);
    return NULL;
}

/* ---- life ------------------------------------------------------------------ */

/* A probe of a dead unit blocks the bus for one response timeout, so probes start
 * no closer than two timeouts apart (at most a third of the bus), then back off. */
static struct backoff backoff_for(const struct cfg_bus *bus, const struct cfg_device *dev)
{
    int64_t min = dev->poll_ms > 2 * bus->response_timeout_ms ? dev->poll_ms
                                                               : 2 * bus->response_timeout_ms;
    return (struct backoff){.min_ms = min, .max_ms = bus->retry_max_ms > min ? bus->retry_max_ms
                                                                               : min};
}

static int add_devices(struct mbus *b, int bus)
{
    const struct config *cfg = b->cfg;
    b->devs = calloc((size_t)cfg->ndevices, sizeof *b->devs);
    if (!b->devs)
        return -1;
    for (int i = 0; i < cfg->ndevices; i++) {
        if (cfg->devices[i].bus != bus)
            continue;
        struct mdev *d = &b->devs[b->ndevs++];
        d->index = i;
        d->cfg = &cfg->devices[i];
        d->profile = &cfg->profiles[d->cfg->profile];
        regmap_init(&d->map, d->profile);
        d->regs = calloc((size_t)d->map.nregs, sizeof *d->regs);
        d->backoff = backoff_for(b->bus, d->cfg);
        if (!d->regs)
            return -1;
    }
    return 0;
}

/* Said at start too (not only by --check-config): the polls asked for that the
 * bus cannot carry explain devices read less often than configured. */
static void warn_load(const struct mbus *b, int bus)
{
    struct busload l;
    char text[512];
    busload_of(b->cfg, bus, &l);
    if (busload_over(&l))
        log_warn("bus %s: %s", b->bus->name, busload_describe(&l, b->bus, text, sizeof text));
}

static void free_bus(struct mbus *b)
{
    if (!b)
        return;
    for (int i = 0; i < b->ndevs; i++)
        free(b->devs[i].regs);
    free(b->devs);
    if (b->ctx)
        modbus_free(b->ctx);
    if (b->stop_fd >= 0)
        close(b->stop_fd);
    free(b);
}

struct mbus *mbus_start(const struct config *cfg, int bus, struct evq *events,
                        const struct presence_edges *presence)
{
    struct mbus *b = calloc(1, sizeof *b);
    if (!b)
        goto fail;
    b->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (b->stop_fd < 0) {
        log_errno(LOG_LVL_ERR, errno, "bus %s: eventfd", cfg->buses[bus].name);
        goto fail;
    }
    b->cfg = cfg;
    b->bus = &cfg->buses[bus];
    b->events = events;
    b->presence = presence;
    /* RTU frames must be apart by t3.5 or a unit takes two requests for one. */
    b->gap_us = b->bus->pause_ms * 1000;
    if (!b->bus->is_tcp && b->gap_us < rtu_frame_gap_us(b->bus))
        b->gap_us = rtu_frame_gap_us(b->bus);
    b->rng = (uint32_t)(loop_now_ms() ^ (bus * 2654435761u)) | 1u;
    if (add_devices(b, bus) < 0 || !(b->ctx = new_context(b->bus))) {
        log_err("bus %s: cannot set up: %s", b->bus->name, strerror(errno));
        goto fail;
    }
    set_timeouts(b);
    warn_load(b, bus);
    if (pthread_create(&b->thread, NULL, bus_thread, b) != 0) {
        log_err("bus %s: cannot start its thread", b->bus->name);
        goto fail;
    }
    b->started = 1;
    return b;
fail:
    free_bus(b);
    return NULL;
}

void mbus_stop(struct mbus *b)
{
    if (!b)
        return;
    atomic_store(&b->stop, 1);
    uint64_t one = 1;
    if (write(b->stop_fd, &one, sizeof one) < 0)
        log_errno(LOG_LVL_WARN, errno, "bus %s: cannot wake its thread", b->bus->name); /* it stops at its next wait */
    if (b->started)
        pthread_join(b->thread, NULL);
    free_bus(b);
}
