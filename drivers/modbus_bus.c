/* The bus thread: which device to poll next and when, the connection, start and
 * stop. One poll is modbus_poll.c's. */
#include "modbus_bus.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "busload.h"
#include "clock.h"
#include "loop.h"
#include "modbus_private.h"
#include "rtu_timing.h"

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

void mbus_disconnect(struct mbus *b)
{
    if (b->connected)
        modbus_close(b->ctx); /* always before connecting again */
    b->connected = false;
}

int mbus_connect(struct mbus *b)
{
    mbus_disconnect(b);
    if (modbus_connect(b->ctx) < 0)
        return -1;
    mbtcp_rx_reset(&b->rx); /* nothing of the last connection's is owed on this one */
    if (!b->bus->is_tcp && modbus_rtu_set_serial_mode(b->ctx, MODBUS_RTU_RS485) < 0 &&
        errno != ENOTTY)
        log_debug("bus %s: RS-485 mode not set: %s", b->bus->name, modbus_strerror(errno));
    /* ENOTTY: ptys and adapters that switch direction by themselves; fine. */
    b->connected = true;
    return 0;
}

/* ---- scheduling -------------------------------------------------------------- */

/* The probe budget's share follows the bus: half of what the live units leave of
 * it (their measured polls at their intervals), more while a unit is being found
 * out (it failed once, its retry is due). */
static void update_share(struct mbus *b, int64_t now_us)
{
    bool finding = false;
    int64_t live = 0; /* per mille of the bus */
    for (int i = 0; i < b->ndevs; i++) {
        const struct mdev *d = &b->devs[i];
        if (d->probing)
            finding |= d->failures == 1;
        else if (d->answer_us > 0)
            live += (d->answer_us + d->profile->nblocks * b->gap_us) / d->cfg->poll_ms;
    }
    probe_set_share(&b->budget, probe_share(live, finding), now_us);
}

/* When d may be polled: when it is due, and a probe also not before the budget
 * allows (or since it has allowed: a probe that has waited competes by its age). */
static int64_t ready_ms(const struct mdev *d, int64_t probes_ms)
{
    return d->probing && probes_ms > d->due_ms ? probes_ms : d->due_ms;
}

/* The device ready first, and when (*at_ms). Among those ready at once (probes
 * waiting for the budget all are) the one due first, which has waited longest;
 * then the one after the last polled (round robin). */
static struct mdev *next_due(struct mbus *b, int last, int64_t *at_ms)
{
    update_share(b, clock_mono_us());
    int64_t probes_ms = (probe_ready_us(&b->budget) + 999) / 1000;
    struct mdev *best = NULL;
    for (int k = 1; k <= b->ndevs; k++) {
        struct mdev *d = &b->devs[(last + k) % b->ndevs];
        int64_t at = ready_ms(d, probes_ms);
        if (!best || at < *at_ms || (at == *at_ms && d->due_ms < best->due_ms)) {
            best = d;
            *at_ms = at;
        }
    }
    return best;
}

struct mdev *mbus_next(struct mbus *b, int64_t *at_us)
{
    int64_t at_ms = 0;
    struct mdev *d = next_due(b, b->last, &at_ms);
    /* The silence between transactions is folded into the one wait. */
    *at_us = at_ms * 1000 > b->quiet_until_us ? at_ms * 1000 : b->quiet_until_us;
    return d;
}

static void *bus_thread(void *arg)
{
    struct mbus *b = arg;
    while (!stopping(b)) {
        int64_t at_us;
        struct mdev *d = mbus_next(b, &at_us);
        if (wait_until(b, at_us) < 0)
            break;
        mpoll_device(b, d);
    }
    mbus_disconnect(b);
    return NULL;
}

/* ---- life ------------------------------------------------------------------ */

/* Between probes of a unit that stopped answering: from two response timeouts
 * (or its poll interval, when longer), doubling up to retry_max, within the
 * bus's probe budget (core/probe.h). */
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

void mbus_free(struct mbus *b)
{
    if (!b)
        return;
    for (int i = 0; i < b->ndevs; i++)
        free(b->devs[i].regs);
    free(b->devs);
    if (b->ctx) {
        mbus_disconnect(b);
        modbus_free(b->ctx);
    }
    if (b->dial_fd >= 0)
        close(b->dial_fd);
    if (b->stop_fd >= 0)
        close(b->stop_fd);
    free(b);
}

struct mbus *mbus_new(const struct config *cfg, int bus, struct evq *events,
                      const struct presence_edges *presence)
{
    struct mbus *b = calloc(1, sizeof *b);
    if (!b)
        goto fail;
    b->dial_fd = -1;
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
    probe_init(&b->budget, b->bus->response_timeout_ms * 1000, PROBE_SHARE_MAX, clock_mono_us());
    if (add_devices(b, bus) < 0 || !(b->ctx = new_context(b->bus))) {
        log_err("bus %s: cannot set up: %s", b->bus->name, strerror(errno));
        goto fail;
    }
    b->last = b->ndevs - 1;
    set_timeouts(b);
    warn_load(b, bus);
    return b;
fail:
    mbus_free(b);
    return NULL;
}

/* A bus with a thread of its own. */
static struct mbus *start_own(const struct config *cfg, int bus, struct evq *events,
                              const struct presence_edges *presence)
{
    struct mbus *b = mbus_new(cfg, bus, events, presence);
    if (b && pthread_create(&b->thread, NULL, bus_thread, b) != 0) {
        log_err("bus %s: cannot start its thread", b->bus->name);
        mbus_free(b);
        return NULL;
    }
    if (b)
        b->started = 1;
    return b;
}

static void stop_own(struct mbus *b)
{
    atomic_store(&b->stop, 1);
    uint64_t one = 1;
    if (write(b->stop_fd, &one, sizeof one) < 0)
        log_errno(LOG_LVL_WARN, errno, "bus %s: cannot wake its thread", b->bus->name); /* it stops at its next wait */
    if (b->started)
        pthread_join(b->thread, NULL);
    mbus_free(b);
}

struct mbus_set {
    struct mbus *own[CFG_MAX_BUSES];    /* buses with a thread each */
    int nown;
    struct mbus *shared[CFG_MAX_BUSES]; /* TCP buses at an address: one thread for all */
    int nshared;
    struct mgroup *group;
};

/* A TCP bus named by its address shares the one TCP thread: nothing it does waits
 * (connecting neither). A serial line waits in libmodbus, and a host name would be
 * looked up, which may wait: those keep a thread each. */
static bool shares_thread(const struct cfg_bus *bus)
{
    return bus->is_tcp && mbtcp_numeric(bus->host);
}

static bool bus_used(const struct config *cfg, int bus)
{
    for (int i = 0; i < cfg->ndevices; i++)
        if (cfg->devices[i].bus == bus)
            return true;
    return false;
}

struct mbus_set *mbus_start_all(const struct config *cfg, struct evq *events,
                                const struct presence_edges *presence)
{
    struct mbus_set *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    for (int i = 0; i < cfg->nbuses; i++) {
        if (!bus_used(cfg, i))
            continue;
        bool shared = shares_thread(&cfg->buses[i]);
        struct mbus *b = shared ? mbus_new(cfg, i, events, presence)
                                : start_own(cfg, i, events, presence);
        if (!b)
            goto fail;
        if (shared)
            s->shared[s->nshared++] = b;
        else
            s->own[s->nown++] = b;
    }
    if (s->nshared > 0 && !(s->group = mgroup_start(s->shared, s->nshared)))
        goto fail;
    return s;
fail:
    mbus_stop_all(s, NULL, NULL);
    return NULL;
}

void mbus_stop_all(struct mbus_set *s, void (*joining)(const char *bus, void *arg), void *arg)
{
    if (!s)
        return;
    if (s->group && joining)
        joining(NULL, arg);
    mgroup_stop(s->group);
    for (int i = 0; i < s->nshared; i++)
        mbus_free(s->shared[i]);
    for (int i = 0; i < s->nown; i++) {
        if (joining)
            joining(s->own[i]->bus->name, arg);
        stop_own(s->own[i]);
    }
    free(s);
}
