/* Modbus TCP reads that check the transaction id (MBAP header, "Modbus Messaging
 * on TCP/IP" v1.0b). libmodbus 3.1.6 fails a request whose reply carries another
 * id and leaves the request's own reply in the socket, where it fails the next
 * request in turn (libmodbus issue #255): a unit that answers after its response
 * timeout makes its neighbours on the connection fail. Here a reply with another
 * id is a late answer to an earlier request: it is dropped and the wait for this
 * request's own goes on until its deadline. libmodbus makes the connection
 * (modbus_connect) for a bus with its own thread; for the TCP buses that share one
 * (modbus_group.c) mbtcp_dial does, without waiting. Used by drivers/modbus_*.c. */
#ifndef GS_MODBUS_TCP_H
#define GS_MODBUS_TCP_H

#include <stdbool.h>
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
    int64_t last_us;         /* when the last of them came */
    int owed;                /* requests sent whose replies have not been read: late
                                replies may still come while it is above 0 */
};

void mbtcp_rx_reset(struct mbtcp_rx *rx);

/* Drops the replies the socket holds (late answers), without waiting for more than
 * the rest of one that has begun (without `wait`: not even that; what came of it
 * stays in rx, and it is cut short once byte_timeout_us passes after its last
 * byte with no more). Returns how many, or -1 with errno when the connection is closed or broken, or a reply is cut short (EMBBADDATA: the stream
 * is out of step, only a new connection mends it). */
int mbtcp_drain(int fd, struct mbtcp_rx *rx, int64_t byte_timeout_us, bool wait);

/* Sends the read and waits for its reply; dst gets rq->count registers. Returns 0,
 * or -1 with errno: ETIMEDOUT (no reply of its own by the deadline), MODBUS_ENOBASE +
 * code (an exception answer), EMBBADDATA (a reply that does not fit the request, or
 * one cut short), ECONNRESET and the like (the connection). *stale counts the late
 * replies dropped while waiting. */
int mbtcp_read_registers(int fd, struct mbtcp_rx *rx, const struct mbtcp_read *rq,
                         uint16_t *dst, int *stale);

/* The same in two steps, for a thread that waits on many connections at once:
 * mbtcp_send sends the read (0, or -1 with errno); mbtcp_take, once the socket is
 * readable or *until_us has passed, takes in what it holds without waiting: 1 when
 * the reply is in (dst filled), 0 while it is still awaited (*until_us: until
 * when), -1 with errno as mbtcp_read_registers. */
int mbtcp_send(int fd, struct mbtcp_rx *rx, const struct mbtcp_read *rq);
int mbtcp_take(int fd, struct mbtcp_rx *rx, const struct mbtcp_read *rq, uint16_t *dst,
               int *stale, int64_t *until_us);

/* A connection without waiting (libmodbus's modbus_connect waits for it): a
 * non-blocking socket whose connect is under way, or -1 with errno. `host` must be
 * an address (mbtcp_numeric): a name would be looked up, which may wait. Once the
 * socket is writable, mbtcp_dialled says whether it connected: 0, or -1 with errno
 * (ECONNREFUSED and the like). */
int mbtcp_dial(const char *host, int port);
int mbtcp_dialled(int fd);
bool mbtcp_numeric(const char *host);

#endif
