#include "modbus_tcp.h"

#include <errno.h>
#include <modbus/modbus.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"

#define MBAP_LEN 7                         /* id, protocol, length, unit */
#define ADU_MAX MBTCP_ADU_MAX

/* Waits until fd is readable or the deadline passes: 1, 0 (time is up) or -1. */
static int readable_by(int fd, int64_t deadline_us)
{
    for (;;) {
        int64_t left = deadline_us - clock_mono_us();
        if (left < 0)
            left = 0;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        struct timespec ts = {.tv_sec = left / 1000000, .tv_nsec = (long)(left % 1000000) * 1000};
        int rc = ppoll(&pfd, 1, &ts, NULL);
        if (rc >= 0 || errno != EINTR)
            return rc;
    }
}

/* The frame at the head of rx: its length once whole, 0 while it is not, -1
 * (EMBBADDATA) when its header is not a Modbus header: the stream is out of step. */
static int frame_len(const struct mbtcp_rx *rx)
{
    if (rx->have < MBAP_LEN)
        return 0;
    const uint8_t *h = rx->buf;
    int len = h[4] << 8 | h[5]; /* unit id and PDU */
    if (h[2] != 0 || h[3] != 0 || len < 2 || MBAP_LEN - 1 + len > ADU_MAX) {
        errno = EMBBADDATA;
        return -1;
    }
    return rx->have >= MBAP_LEN - 1 + len ? MBAP_LEN - 1 + len : 0;
}

static void consume(struct mbtcp_rx *rx, int len)
{
    rx->have -= len;
    memmove(rx->buf, rx->buf + len, (size_t)rx->have);
    if (rx->owed > 0)
        rx->owed--;
}

/* Takes in what the socket holds, in one recv: a whole reply usually, so a frame
 * costs one wait and one read. With `wait` it first waits until the socket is
 * readable or `until` passes (ETIMEDOUT, or EMBBADDATA when a frame has begun and
 * is cut short); without, it reads first and waits only when nothing was there. */
static int fill(int fd, struct mbtcp_rx *rx, int64_t until, bool wait)
{
    for (;;) {
        if (wait) {
            int r = readable_by(fd, until);
            if (r <= 0) {
                if (r == 0)
                    errno = rx->have > 0 ? EMBBADDATA : ETIMEDOUT;
                return -1;
            }
        }
        wait = true;
        ssize_t n = recv(fd, rx->buf + rx->have, sizeof rx->buf - (size_t)rx->have,
                         MSG_DONTWAIT);
        if (n > 0) {
            rx->have += (int)n;
            return 0;
        }
        if (n == 0) {
            errno = ECONNRESET;
            return -1;
        }
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
    }
}

/* One whole frame into f: the first byte must come by `deadline_us`; after any
 * byte the next may take byte_timeout_us, even past the deadline (a reply that has
 * begun is let finish, as libmodbus does). Returns its length. */
static int read_frame(int fd, struct mbtcp_rx *rx, uint8_t *f, int64_t deadline_us,
                      int64_t byte_timeout_us)
{
    for (;;) {
        int len = frame_len(rx);
        if (len < 0)
            return -1;
        if (len > 0) {
            memcpy(f, rx->buf, (size_t)len);
            consume(rx, len);
            return len;
        }
        /* Nothing yet: wait first (a read now would find nothing). Part of a frame:
         * its rest is most likely there already. */
        bool begun = rx->have > 0;
        if (fill(fd, rx, begun ? clock_mono_us() + byte_timeout_us : deadline_us, !begun) < 0)
            return -1;
    }
}

void mbtcp_rx_reset(struct mbtcp_rx *rx)
{
    rx->have = 0;
    rx->owed = 0;
}

int mbtcp_drain(int fd, struct mbtcp_rx *rx, int64_t byte_timeout_us)
{
    uint8_t f[ADU_MAX];
    int n = 0;
    /* Every request had its reply: no late one can come (a peer that talks unasked
     * is caught by the next read's transaction id check). Saves a system call a
     * poll. */
    if (rx->owed == 0 && rx->have == 0)
        return 0;
    for (;;) {
        if (read_frame(fd, rx, f, 0, byte_timeout_us) < 0)
            return errno == ETIMEDOUT ? n : -1; /* ETIMEDOUT: nothing (more) there */
        n++;
    }
}

static int send_request(int fd, const struct mbtcp_read *rq)
{
    uint8_t req[12] = {rq->tid >> 8, rq->tid & 0xFF, 0, 0, 0, 6, (uint8_t)rq->unit,
                       (uint8_t)rq->function, (uint8_t)(rq->start >> 8),
                       (uint8_t)(rq->start & 0xFF), (uint8_t)(rq->count >> 8),
                       (uint8_t)(rq->count & 0xFF)};
    size_t off = 0;
    while (off < sizeof req) {
        ssize_t n = send(fd, req + off, sizeof req - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

/* The reply's PDU against the request: registers, an exception, or nonsense. */
static int take_reply(const struct mbtcp_read *rq, const uint8_t *f, int len, uint16_t *dst)
{
    int fn = f[7];
    if (f[6] == rq->unit && fn == (rq->function | 0x80) && len == MBAP_LEN + 2) {
        errno = f[8] > 0 && f[8] < MODBUS_EXCEPTION_MAX ? MODBUS_ENOBASE + f[8] : EMBBADEXC;
        return -1;
    }
    if (len != MBAP_LEN + 2 + 2 * rq->count || f[6] != rq->unit || fn != rq->function ||
        f[8] != 2 * rq->count) {
        errno = EMBBADDATA;
        return -1;
    }
    for (int i = 0; i < rq->count; i++)
        dst[i] = (uint16_t)(f[9 + 2 * i] << 8 | f[10 + 2 * i]);
    return 0;
}

int mbtcp_read_registers(int fd, struct mbtcp_rx *rx, const struct mbtcp_read *rq,
                         uint16_t *dst, int *stale)
{
    uint8_t f[ADU_MAX];
    if (send_request(fd, rq) < 0)
        return -1;
    rx->owed++;
    for (;;) {
        int len = read_frame(fd, rx, f, rq->deadline_us, rq->byte_timeout_us);
        if (len < 0)
            return -1;
        if ((f[0] << 8 | f[1]) == rq->tid)
            return take_reply(rq, f, len, dst);
        (*stale)++; /* a late reply to an earlier request */
    }
}
