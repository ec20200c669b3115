/* Modbus TCP reads that check the transaction id (MBAP header, "Modbus Messaging
 * on TCP/IP" v1.0b). libmodbus 3.1.6 fails a request whose reply carries another
 * id and leaves the request's own reply in the socket, where it fails the next
 * request in turn (libmodbus issue #255): a unit that answers after its response
 * timeout makes its neighbours on the connection fail. Here a reply with another
 * id is a late answer to an earlier request: it is dropped and the wait for this
 * request's own goes on until its deadline. libmodbus still makes the connection
 * (modbus_connect); this file only speaks on its socket. Used by modbus_bus.c. */
#ifndef GS_MODBUS_TCP_H
#define GS_MODBUS_TCP_H

#include <stdint.h>

struct mbtcp_read {
    uint16_t tid;            /* this request's transaction id */
    int unit, function;      /* function 3 or 4 */
    int start, count;        /* registers */
    int64_t deadline_us;     /* monotonic: the reply has begun by then (response timeout) */
    int64_t byte_timeout_us; /* once a reply has begun: the most between two of its parts */
};

#define MBTCP_ADU_MAX 260 /* MODBUS_TCP_MAX_ADU_LENGTH */

/* What has been read off a connection and not yet taken: a reply comes in with one
 * recv, and bytes past the frame wait here for the next one. Reset with each new
 * connection. */
struct mbtcp_rx {
    uint8_t buf[2 * MBTCP_ADU_MAX];
    int have;                /* bytes in buf */
    int owed;                /* requests sent whose replies have not been read: late
                                replies may still come while it is above 0 */
};

void mbtcp_rx_reset(struct mbtcp_rx *rx);

/* Drops the replies the socket holds (late answers), without waiting for more than
 * the rest of one that has begun; at once when no reply is owed. Returns how many,
 * or -1 with errno when the connection is closed or broken, or a reply is cut short (EMBBADDATA: the stream
 * is out of step, only a new connection mends it). */
int mbtcp_drain(int fd, struct mbtcp_rx *rx, int64_t byte_timeout_us);

/* Sends the read and waits for its reply; dst gets rq->count registers. Returns 0,
 * or -1 with errno: ETIMEDOUT (no reply of its own by the deadline), MODBUS_ENOBASE +
 * code (an exception answer), EMBBADDATA (a reply that does not fit the request, or
 * one cut short), ECONNRESET and the like (the connection). *stale counts the late
 * replies dropped while waiting. */
int mbtcp_read_registers(int fd, struct mbtcp_rx *rx, const struct mbtcp_read *rq,
                         uint16_t *dst, int *stale);

#endif
