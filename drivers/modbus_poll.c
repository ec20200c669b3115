/* One poll of one device: its requests, and what the outcome means for the
 * device's state, its counters, its log lines and when it is polled next. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "loop.h"
#include "modbus_private.h"

#define STATS_EVERY_MS 1000      /* counters posted at least this often while polled */
#define LOG_AT_LEAST_EVERY_MS 600000
#define QUIET_MS 60000           /* no trouble this long: its logs start afresh */
#define ANSWER_WEIGHT 8          /* moving average of answer times: each new one counts 1/8 */

/* ---- events and log lines ---------------------------------------------------- */

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

/* A unit that keeps coming and going would fill the log: its changes away from ok
 * are logged at a falling rate (log_limited), and a return only when the change
 * it ends was. */
static void log_state(struct mdev *d, enum device_state was, int64_t now)
{
    if (d->state != DEV_OK) {
        d->lost_logged = log_limited(&d->statelog, now, LOG_AT_LEAST_EVERY_MS, LOG_LVL_WARN,
                                     "device %s: state %s (%s)", d->cfg->name,
                                     device_state_name(d->state), d->last_error);
        return;
    }
    if (was == DEV_UNKNOWN)
        log_notice("device %s: state ok", d->cfg->name);
    else if (d->lost_logged && d->failures > 0)
        log_notice("device %s: state ok again after %d failed polls", d->cfg->name, d->failures);
    else if (d->lost_logged)
        log_notice("device %s: state ok again (answers in time)", d->cfg->name);
}

/* The main loop hears of every change at once (the lane shows it); the log at a
 * falling rate. */
static void set_state(struct mbus *b, struct mdev *d, enum device_state s, int64_t now)
{
    if (d->state == s)
        return;
    enum device_state was = d->state;
    d->state = s;
    if (s == DEV_OFFLINE)
        thermal_forget(&d->trigger); /* what it shows when back may be old */
    log_state(d, was, now);
    post_status(b, d, 1);
}

/* No failed or slow poll for QUIET_MS: the next trouble is news again, logged from
 * its first line. */
static void quiet_logs(struct mdev *d, int64_t now)
{
    if (d->state == DEV_OK && now - d->trouble_ms >= QUIET_MS &&
        (d->errlog.count > 0 || d->statelog.count > 0)) {
        log_limit_reset(&d->errlog);
        log_limit_reset(&d->statelog);
    }
}

/* ---- failures ------------------------------------------------------------------ */

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

/* Each failed poll is counted once, under the error that ended it. */
static void count_failure(struct mdev *d, enum fail_kind k)
{
    uint64_t *c[] = {&d->counters.timeouts, &d->counters.exceptions, &d->counters.crc_errors,
                     &d->counters.bad_frames, &d->counters.io_errors};
    (*c[k])++;
}

/* When to try again. The first failure at once (one lost frame should not cost a
 * lane its unit); then a unit that holds the bus (probing) after its backoff and
 * within the bus's probe budget (the scheduler sees to that), so one dead unit
 * cannot starve the others; cheap failures (a refused connection, an exception
 * answer, a broken frame) at the poll interval. */
static int64_t retry_delay(struct mbus *b, struct mdev *d)
{
    if (d->failures == 1)
        return 0;
    if (d->probing)
        return probe_delay_ms(&d->backoff, &b->rng);
    return d->cfg->poll_ms;
}

/* A poll that holds the bus for more than half its response timeout is costly:
 * the unit is polled as a probe from then on, and the time is charged. */
static bool costly(const struct mbus *b, int64_t cost_us)
{
    return cost_us * 2 > b->bus->response_timeout_ms * 1000;
}

static void poll_failed(struct mbus *b, struct mdev *d, int err, int64_t cost_us, bool quick)
{
    int64_t now = loop_now_ms();
    enum fail_kind k = classify(err);
    count_failure(d, k);
    d->failures++;
    if (d->failures == RISE_GAP_FAILED_POLLS + 1)
        thermal_gap(&d->trigger); /* trigger = rise: a fall first (thermal.h) */
    d->trouble_ms = now;
    snprintf(d->last_error, sizeof d->last_error, "%s%s", modbus_strerror(err),
             quick ? " (quick check)" : "");
    log_limited(&d->errlog, now, LOG_AT_LEAST_EVERY_MS, LOG_LVL_WARN, "device %s (unit %d): %s",
                d->cfg->name, d->cfg->unit_id, d->last_error);
    /* A TCP stream out of step (bad frame) or broken is only fixed by a new
     * connection (made at the next poll, counted here, on the unit that broke it);
     * a serial line is flushed before every request anyway. */
    if (b->bus->is_tcp && b->connected && (k == F_IO || k == F_FRAME || k == F_CRC)) {
        mbus_disconnect(b);
        d->counters.reconnects++;
    }
    /* A unit that was answering timed out: others on the bus may have gone with
     * it; each is checked quickly at its next poll (mpoll_device). */
    if (k == F_TIMEOUT && d->failures == 1 && !d->probing && !quick)
        b->outage++;
    /* Until it answers well again: a unit whose failures take turns between cheap
     * and costly ones must not slip its costly ones past the budget. */
    d->probing = d->probing || k == F_TIMEOUT || costly(b, cost_us);
    if (d->probing)
        probe_charge(&b->budget, cost_us, clock_mono_us());
    if (d->failures >= 2)
        set_state(b, d, k == F_EXCEPTION ? DEV_DEGRADED : DEV_OFFLINE, now);
    d->due_ms = now + retry_delay(b, d);
}

/* ---- reading ------------------------------------------------------------------- */

/* TCP: the request for one block. */
static struct mbtcp_read tcp_request(struct mbus *b, const struct mdev *d,
                                     const struct cfg_block *blk)
{
    return (struct mbtcp_read){.tid = ++b->tid, .unit = d->cfg->unit_id,
                               .function = blk->function, .start = blk->start,
                               .count = blk->count,
                               .deadline_us = clock_mono_us() + b->timeout_us,
                               .byte_timeout_us = b->bus->byte_timeout_ms * 1000};
}

static void log_stale(const struct mbus *b, const struct mdev *d, int stale)
{
    if (stale > 0)
        log_debug("bus %s: dropped %d late replies while reading %s", b->bus->name, stale,
                  d->cfg->name);
}

/* TCP: our own exchange on libmodbus's socket, which drops late replies to
 * earlier requests by their transaction id (modbus_tcp.h says why). */
static int read_block_tcp(struct mbus *b, struct mdev *d, const struct cfg_block *blk,
                          uint16_t *dst)
{
    struct mbtcp_read rq = tcp_request(b, d, blk);
    int stale = 0;
    int rc = mbtcp_read_registers(modbus_get_socket(b->ctx), &b->rx, &rq, dst, &stale);
    log_stale(b, d, stale);
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
    if (!b->bus->is_tcp && modbus_set_slave(b->ctx, d->cfg->unit_id) < 0)
        return -1;
    for (int i = 0; i < p->nblocks; i++)
        if (read_block(b, d, &p->blocks[i], d->regs + d->map.offset[i]) < 0)
            return -1;
    return 0;
}

/* TCP: late replies that came between two polls are dropped before the request
 * (a stream cut short in one of them is mended with a new connection, which is
 * not this device's failure); a connection the peer closed is found here too. The
 * shared TCP thread watches an idle bus's socket and drains it as soon as anything
 * comes, so before a poll only while a reply is owed (a system call a poll saved). */
void mpoll_drain(struct mbus *b)
{
    if (!b->bus->is_tcp || !b->connected)
        return;
    /* The shared thread waits for nothing: the rest of a reply begun is taken in
     * when its socket is readable. */
    int n = mbtcp_drain(modbus_get_socket(b->ctx), &b->rx, b->bus->byte_timeout_ms * 1000,
                        !b->watched);
    if (n > 0)
        log_debug("bus %s: dropped %d late replies", b->bus->name, n);
    if (n < 0)
        mbus_disconnect(b);
}

/* After a unit that was answering timed out, every other unit's next poll is a
 * quick check: a unit that answers does so in a few times its usual time, so it
 * need not be waited for the whole response timeout. When half a bus dies at
 * once, the dead are told from the living in milliseconds each, instead of a
 * timeout each while the living wait. A miss is a failure like a timeout (the
 * retry has the full timeout). TCP only: on a serial line the next request must
 * not start while a slow unit may still be answering. */
static bool quick_check(struct mbus *b, struct mdev *d)
{
    int64_t full = b->bus->response_timeout_ms * 1000;
    bool quick = b->bus->is_tcp && !d->probing && d->answer_us > 0 && d->checked != b->outage;
    b->timeout_us = quick ? probe_quick_timeout_us(d->answer_us, full) : full;
    d->checked = b->outage;
    return quick && b->timeout_us < full;
}

/* ---- outcome ------------------------------------------------------------------- */

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
    s.mono_ms = now;
    if (!thermal_is_new(&d->trigger, d->profile, &s))
        return;
    struct event ev = {.kind = EV_READING, .mono_ms = now, .posted_us = loop_now_us()};
    thermal_make_reading(d->cfg, d->index, d->profile, &s, now, clock_wall_ms(), &ev.reading);
    d->counters.readings++;
    evq_post(b->events, &ev);
}

/* A slow answer holds the bus like a timeout: the unit is degraded and polled as a
 * probe until it answers in time again. */
static void answered(struct mbus *b, struct mdev *d, int64_t cost_us, int64_t now)
{
    d->answer_us = d->answer_us > 0 ? d->answer_us + (cost_us - d->answer_us) / ANSWER_WEIGHT
                                    : cost_us;
    d->probing = costly(b, cost_us);
    if (d->probing) {
        probe_charge(&b->budget, cost_us, clock_mono_us());
        d->trouble_ms = now;
        snprintf(d->last_error, sizeof d->last_error,
                 "answers in %lld ms, more than half the response timeout",
                 (long long)(cost_us / 1000));
    }
    set_state(b, d, d->probing ? DEV_DEGRADED : DEV_OK, now);
}

static void poll_good(struct mbus *b, struct mdev *d, int64_t start, int64_t cost_us,
                      bool has_edges, uint32_t edges)
{
    int64_t now = loop_now_ms();
    d->counters.good++;
    d->counters.last_good_wall_ms = clock_wall_ms();
    emit_if_new(b, d, now, has_edges, edges);
    answered(b, d, cost_us, now);
    d->failures = 0;
    if (d->probing) {
        d->due_ms = now + probe_delay_ms(&d->backoff, &b->rng);
        return;
    }
    backoff_reset(&d->backoff);
    quiet_logs(d, now);
    /* The next poll is at the first multiple of the interval after this one
     * began: the rate holds, and every device with the same interval, on any
     * bus, wakes at the same instants, so one timer interrupt serves them all
     * (waking is most of what a poll costs the CPU: tests/bench/README.md). */
    d->due_ms = (start / d->cfg->poll_ms + 1) * d->cfg->poll_ms;
}

void mpoll_begin(struct mbus *b, struct mdev *d)
{
    struct mpoll_run *r = &b->run;
    *r = (struct mpoll_run){.dev = d, .start_ms = loop_now_ms(), .start_us = clock_mono_us()};
    r->has_edges = presence_edges(b, d, &r->edges);
    r->quick = quick_check(b, d);
    d->counters.polls++;
    if (!b->watched || b->rx.owed > 0 || b->rx.have > 0)
        mpoll_drain(b);
}

void mpoll_end(struct mbus *b, bool ok, int err)
{
    struct mpoll_run *r = &b->run;
    struct mdev *d = r->dev;
    int64_t cost_us = clock_mono_us() - r->start_us;
    if (ok)
        poll_good(b, d, r->start_ms, cost_us, r->has_edges, r->edges);
    else
        poll_failed(b, d, err, cost_us, r->quick);
    /* Live counters: also while it fails (SIGUSR1 shows them). */
    if (loop_now_ms() >= d->stats_due_ms)
        post_status(b, d, 0);
    b->last = (int)(d - b->devs);
    b->quiet_until_us = clock_mono_us() + b->gap_us;
}

void mpoll_device(struct mbus *b, struct mdev *d)
{
    mpoll_begin(b, d);
    bool ok = (b->connected || mbus_connect(b) == 0) && read_blocks(b, d) == 0;
    mpoll_end(b, ok, errno);
}

int mpoll_send(struct mbus *b)
{
    struct mpoll_run *r = &b->run;
    r->rq = tcp_request(b, r->dev, &r->dev->profile->blocks[r->block]);
    b->until_us = r->rq.deadline_us;
    return mbtcp_send(modbus_get_socket(b->ctx), &b->rx, &r->rq);
}

int mpoll_take(struct mbus *b)
{
    struct mpoll_run *r = &b->run;
    struct mdev *d = r->dev;
    int stale = 0;
    int rc = mbtcp_take(modbus_get_socket(b->ctx), &b->rx, &r->rq,
                        d->regs + d->map.offset[r->block], &stale, &b->until_us);
    log_stale(b, d, stale);
    if (rc <= 0)
        return rc;
    if (++r->block == d->profile->nblocks)
        return 1;
    return mpoll_send(b) < 0 ? -1 : 0;
}
