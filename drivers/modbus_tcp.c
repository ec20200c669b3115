#include "modbus_tcp.h"

#include <errno.h>
#include <modbus/modbus.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"

#define MBAP_LEN 7                         /* id, protocol, length, unit */
#define ADU_MAX MODBUS_TCP_MAX_ADU_LENGTH  /* 260 */

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

/* Reads buf[*got..want). The first byte must come by `deadline_us`; after any byte
 * the next may take byte_timeout_us, even past the deadline (a reply that has
 * begun is let finish, as libmodbus does). */
static int read_upto(int fd, uint8_t *buf, int *got, int want, int64_t deadline_us,
                     int64_t byte_timeout_us)
{
    int64_t until = *got > 0 ? clock_mono_us() + byte_timeout_us : deadline_us;
    while (*got < want) {
        int r = readable_by(fd, until);
        if (r <= 0) {
            if (r == 0)
                errno = *got > 0 ? EMBBADDATA : ETIMEDOUT; /* cut short: out of step */
            return -1;
        }
        ssize_t n = recv(fd, buf + *got, (size_t)(want - *got), 0);
        if (n > 0) {
            *got += (int)n;
            until = clock_mono_us() + byte_timeout_us;
        } else if (n == 0) {
            errno = ECONNRESET;
            return -1;
        } else if (errno != EINTR && errno != EAGAIN) {
            return -1;
        }
    }
    return 0;
}

/* One whole frame: the header, then as many bytes as it says. Returns its length. */
static int read_frame(int fd, uint8_t *buf, int64_t deadline_us, int64_t byte_timeout_us)
{
    int got = 0;
    if (read_upto(fd, buf, &got, MBAP_LEN, deadline_us, byte_timeout_us) < 0)
        return -1;
    int len = buf[4] << 8 | buf[5]; /* unit id and PDU */
    if (buf[2] != 0 || buf[3] != 0 || len < 2 || MBAP_LEN - 1 + len > ADU_MAX) {
        errno = EMBBADDATA; /* not a Modbus header: the stream is out of step */
        return -1;
    }
    if (read_upto(fd, buf, &got, MBAP_LEN - 1 + len, deadline_us, byte_timeout_us) < 0)
        return -1;
    return got;
}

int mbtcp_drain(int fd, int64_t byte_timeout_us)
{
    uint8_t buf[ADU_MAX];
    int n = 0;
    for (;;) {
        int r = readable_by(fd, 0);
        if (r <= 0)
            return r < 0 ? -1 : n;
        if (read_frame(fd, buf, 0, byte_timeout_us) < 0)
            return -1;
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

int mbtcp_read_registers(int fd, const struct mbtcp_read *rq, uint16_t *dst, int *stale)
{
    uint8_t f[ADU_MAX];
    if (send_request(fd, rq) < 0)
        return -1;
    for (;;) {
        int len = read_frame(fd, f, rq->deadline_us, rq->byte_timeout_us);
        if (len < 0)
            return -1;
        if ((f[0] << 8 | f[1]) == rq->tid)
            return take_reply(rq, f, len, dst);
        (*stale)++; /* a late reply to an earlier request */
    }
}
