/* A serial (RTU) bus. libmodbus's own RTU server loses step after a request for
 * a unit it does not own (libmodbus issue #83: having ignored the indication it
 * then waits to ignore a "confirmation" that never comes), so this thread frames
 * requests itself: by the function's length, or up to a silence for functions
 * it cannot size; checks the CRC; ignores other units; and only then lets
 * libmodbus build the reply. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "rtu_timing.h"
#include "sim_bus.h"

/* A frame ends after 3.5 characters of silence (1.75 ms above 19200 baud, as the
 * spec says); never less than this, because a pty under load may pause too. */
#define SILENCE_MIN_US 5000
#define HANGUP_RETRY_US 100000 /* the other end of the line went away */

int simbus_rtu_open(struct simbus *b)
{
    const struct cfg_bus *c = b->cfg;
    b->ctx = modbus_new_rtu(c->device, c->baud, c->parity, c->data_bits, c->stop_bits);
    if (b->ctx == NULL || modbus_connect(b->ctx) < 0) {
        log_err("bus %s: cannot open %s: %s", c->name, c->device, modbus_strerror(errno));
        simbus_rtu_close(b);
        return -1;
    }
    b->fd = modbus_get_socket(b->ctx);
    log_info("bus %s: serving on %s at %d %d%c%d", c->name, c->device, c->baud, c->data_bits,
             c->parity, c->stop_bits);
    return 0;
}

void simbus_rtu_close(struct simbus *b)
{
    if (b->ctx != NULL) {
        if (b->fd >= 0)
            modbus_close(b->ctx);
        modbus_free(b->ctx);
    }
    b->ctx = NULL;
    b->fd = -1;
}

static int64_t silence_us(const struct simbus *b)
{
    const struct cfg_bus *c = b->cfg;
    int64_t t35 = rtu_frame_gap_us(c);
    return t35 > SILENCE_MIN_US ? t35 : SILENCE_MIN_US;
}

/* Reads what arrived; -1 when the line is gone (the pty's other end closed).
 * While resynchronising after a bad frame the bytes are only dropped: they may
 * be the rest of it. */
static int receive(struct simbus *b)
{
    uint8_t junk[64];
    uint8_t *dst = b->resync ? junk : b->rx + b->rxn;
    size_t room = b->resync ? sizeof junk : sizeof b->rx - (size_t)b->rxn;
    ssize_t n = read(b->fd, dst, room);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0)
        return -1;
    b->last_rx_us = simbus_now_us();
    if (!b->resync)
        b->rxn += (int)n;
    if (b->rxn == (int)sizeof b->rx) { /* no request is that long */
        b->incomplete++;
        b->rxn = 0;
        b->resync = true;
    }
    return 0;
}

static void handle_frame(struct simbus *b, const uint8_t *frame, int len)
{
    if (!simframe_crc_ok(frame, (size_t)len)) {
        b->bad_crc++;
        b->rxn = 0; /* what follows may be the misframed rest */
        b->resync = true;
        log_debug("bus %s: frame with a bad CRC dropped", b->cfg->name);
        return;
    }
    struct simdev *d = simdevs_unit(b->devs, b->index, frame[0]);
    if (d == NULL) {
        b->other_unit++;
        log_debug("bus %s: request for unit %d, not ours: ignored", b->cfg->name, frame[0]);
        return;
    }
    simbus_dispatch(b, d, b->fd, frame, len, b->last_rx_us);
}

/* Takes the first len bytes as one frame; the rest stays for the next. */
static void take(struct simbus *b, int len)
{
    uint8_t frame[SIMBUS_RX_MAX];
    memcpy(frame, b->rx, (size_t)len);
    b->rxn -= len;
    memmove(b->rx, b->rx + len, (size_t)b->rxn);
    handle_frame(b, frame, len);
}

/* Cuts the received bytes into frames; a silence ends a frame of unknown length
 * and throws away an incomplete one. */
static void cut_frames(struct simbus *b, int64_t now)
{
    bool quiet = now - b->last_rx_us >= silence_us(b);
    if (b->resync) {
        b->resync = !quiet;
        return;
    }
    while (b->rxn > 0) {
        int want = simframe_rtu_request_length(b->rx, (size_t)b->rxn);
        if (want > 0 && b->rxn >= want) {
            take(b, want);
            continue;
        }
        if (!quiet)
            return;
        if (want < 0) {
            take(b, b->rxn);
        } else {
            b->incomplete++;
            b->rxn = 0;
        }
    }
}

/* Until the next reply is due or a silence would end the frame being received. */
static int64_t timeout_us(const struct simbus *b, int64_t now)
{
    int64_t t = simbus_pending_timeout(b, now);
    if (b->rxn > 0 || b->resync) {
        int64_t s = b->last_rx_us + silence_us(b) - now;
        s = s < 0 ? 0 : s;
        t = t < 0 || s < t ? s : t;
    }
    return t;
}

/* No peer on a pty: POLLHUP (or EIO on read) at once and for ever, so the line
 * is only looked at again after a pause, until someone opens the other end. */
static bool line_gone(struct simbus *b, short revents, bool *told)
{
    bool gone = (revents & (POLLHUP | POLLERR)) != 0;
    if ((revents & POLLIN) && receive(b) < 0)
        gone = true;
    if (gone && !*told)
        log_warn("bus %s: %s has no other end; waiting for one", b->cfg->name, b->cfg->device);
    if (gone || (revents & POLLIN))
        *told = gone; /* said once per time the line goes */
    return gone;
}

void *simbus_rtu_thread(void *arg)
{
    struct simbus *b = arg;
    bool hung_up = false, told = false;
    for (;;) {
        struct pollfd fds[2] = {{.fd = b->stop_fd, .events = POLLIN},
                                {.fd = b->fd, .events = POLLIN}};
        int64_t t = timeout_us(b, simbus_now_us());
        if (hung_up && (t < 0 || t > HANGUP_RETRY_US))
            t = HANGUP_RETRY_US;
        if (simbus_poll(fds, hung_up ? 1 : 2, t) < 0 && errno != EINTR) {
            log_errno(LOG_LVL_ERR, errno, "bus %s: poll", b->cfg->name);
            break;
        }
        if (fds[0].revents)
            break;
        hung_up = !hung_up && line_gone(b, fds[1].revents, &told);
        cut_frames(b, simbus_now_us());
        simbus_run_due(b);
    }
    return NULL;
}
