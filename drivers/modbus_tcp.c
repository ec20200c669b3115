#include "modbus_tcp.h"

#include <errno.h>
#include <modbus/modbus.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

/* The next whole frame into f, without waiting: its length; 0 while it is not all
 * in (*until_us: when to stop waiting for it: the deadline for its first byte, or
 * byte_timeout_us after its last one, even past the deadline: a reply that has
 * begun is let finish, as libmodbus does); -1 with errno: ETIMEDOUT (nothing by
 * the deadline), EMBBADDATA (cut short, or not a Modbus header: the stream is out
 * of step), ECONNRESET and the like. What the socket holds comes in with one recv:
 * a whole reply usually, so a frame costs one wait and one read. */
static int next_frame(int fd, struct mbtcp_rx *rx, uint8_t *f, int64_t deadline_us,
                      int64_t byte_timeout_us, int64_t *until_us)
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
        ssize_t n = recv(fd, rx->buf + rx->have, sizeof rx->buf - (size_t)rx->have,
                         MSG_DONTWAIT);
        int64_t now = clock_mono_us();
        if (n > 0) {
            rx->have += (int)n;
            rx->last_us = now;
            continue;
        }
        if (n == 0) {
            errno = ECONNRESET;
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        *until_us = rx->have > 0 ? rx->last_us + byte_timeout_us : deadline_us;
        if (now < *until_us)
            return 0;
        errno = rx->have > 0 ? EMBBADDATA : ETIMEDOUT;
        return -1;
    }
}

void mbtcp_rx_reset(struct mbtcp_rx *rx)
{
    rx->have = 0;
    rx->owed = 0;
}

int mbtcp_drain(int fd, struct mbtcp_rx *rx, int64_t byte_timeout_us, bool wait)
{
    uint8_t f[ADU_MAX];
    int n = 0;
    for (;;) {
        int64_t until;
        int len = next_frame(fd, rx, f, 0, byte_timeout_us, &until);
        if (len < 0)
            return errno == ETIMEDOUT ? n : -1; /* ETIMEDOUT: nothing (more) there */
        if (len > 0)
            n++;
        else if (!wait) /* its rest is taken in when it comes */
            return n;
        else if (readable_by(fd, until) < 0) /* the rest of one that has begun */
            return -1;
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

int mbtcp_send(int fd, struct mbtcp_rx *rx, const struct mbtcp_read *rq)
{
    if (send_request(fd, rq) < 0)
        return -1;
    rx->owed++;
    return 0;
}

int mbtcp_take(int fd, struct mbtcp_rx *rx, const struct mbtcp_read *rq, uint16_t *dst,
               int *stale, int64_t *until_us)
{
    uint8_t f[ADU_MAX];
    for (;;) {
        int len = next_frame(fd, rx, f, rq->deadline_us, rq->byte_timeout_us, until_us);
        if (len <= 0)
            return len;
        if ((f[0] << 8 | f[1]) == rq->tid)
            return take_reply(rq, f, len, dst) < 0 ? -1 : 1;
        (*stale)++; /* a late reply to an earlier request */
    }
}

int mbtcp_read_registers(int fd, struct mbtcp_rx *rx, const struct mbtcp_read *rq,
                         uint16_t *dst, int *stale)
{
    if (mbtcp_send(fd, rx, rq) < 0)
        return -1;
    /* Wait first: the reply cannot be there yet. */
    for (int64_t until = rq->deadline_us;;) {
        if (readable_by(fd, until) < 0)
            return -1;
        int r = mbtcp_take(fd, rx, rq, dst, stale, &until);
        if (r != 0)
            return r > 0 ? 0 : -1;
    }
}

int mbtcp_dial(const char *host, int port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(host, service, &hints, &ai) != 0) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        int one = 1; /* requests are single small writes: send each at once */
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
            (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)) {
            int err = errno;
            close(fd);
            errno = err;
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    return fd;
}

int mbtcp_dialled(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return -1;
    if (err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}

bool mbtcp_numeric(const char *host)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
    struct addrinfo *ai = NULL;
    if (getaddrinfo(host, NULL, &hints, &ai) != 0)
        return false;
    freeaddrinfo(ai);
    return true;
}
