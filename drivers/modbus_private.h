/* Private to the Modbus bus driver: the bus and its devices, shared by
 * modbus_bus.c (the thread: when to poll which device, the connection, start and
 * stop) and modbus_poll.c (one poll: the requests, what its outcome means for the
 * device's state, counters and log). docs/design.md, "Drivers", says how a bus
 * treats units that stop answering. */
#ifndef GS_MODBUS_PRIVATE_H
#define GS_MODBUS_PRIVATE_H

#include <modbus/modbus.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "backoff.h"
#include "config.h"
#include "events.h"
#include "evqueue.h"
#include "log.h"
#include "modbus_tcp.h"
#include "presence.h"
#include "probe.h"
#include "regdecode.h"
#include "thermal.h"

struct mdev {
    int index;                     /* in cfg->devices */
    const struct cfg_device *cfg;
    const struct cfg_profile *profile;
    struct regmap map;
    uint16_t *regs;
    int64_t due_ms;
    int failures;                  /* consecutive failed polls */
    bool probing;                  /* its last poll held the bus long (a timeout or a slow
                                      answer): polled within the bus's probe budget */
    unsigned checked;              /* the bus's outage in which it was last polled */
    int64_t answer_us;             /* a good poll's time (moving average); 0: unknown */
    enum device_state state;
    struct backoff backoff;        /* between probes */
    struct trigger_state trigger;
    struct device_counters counters;
    struct log_limit errlog;       /* its failed polls */
    struct log_limit statelog;     /* its changes away from ok */
    bool lost_logged;              /* the last such change was logged: so is its end */
    int64_t trouble_ms;            /* its last failed or slow poll; quiet long enough after
                                      it, its logs start afresh */
    char last_error[80];
    int64_t stats_due_ms;
};

/* The poll under way on a bus. */
struct mpoll_run {
    struct mdev *dev;
    int64_t start_ms, start_us;
    bool quick;                    /* a quick check (mpoll_begin) */
    bool has_edges;
    uint32_t edges;                /* the lane's presence edges before the request */
    int block;                     /* TCP, shared thread: the block whose reply is awaited */
    struct mbtcp_read rq;          /* and its request */
};

/* Where a bus of the shared TCP thread (modbus_group.c) is. */
enum mbus_phase { MB_IDLE, MB_DIALLING, MB_AWAITING };

struct mbus {
    const struct config *cfg;
    const struct cfg_bus *bus;
    struct evq *events;
    const struct presence_edges *presence;
    modbus_t *ctx;
    bool connected;
    int ndevs;
    struct mdev *devs;
    uint32_t rng;
    pthread_t thread;
    int started;
    int64_t gap_us;                /* silence kept after each transaction */
    int64_t quiet_until_us;        /* end of that silence after the last one */
    uint16_t tid;                  /* TCP: the last request's transaction id */
    struct mbtcp_rx rx;            /* TCP: read and not yet taken, on this connection */
    int64_t timeout_us;            /* TCP: the response timeout of the poll under way */
    struct probe_budget budget;    /* bus time for polls that may hold it long */
    unsigned outage;               /* counts units that were answering and timed out */
    struct mpoll_run run;
    enum mbus_phase phase;         /* shared TCP thread only */
    bool watched;                  /* shared TCP thread: its socket is watched while idle */
    int dial_fd;                   /* MB_DIALLING: the socket being connected */
    int64_t until_us;              /* MB_DIALLING, MB_AWAITING: when to give up */
    int last;                      /* the device polled last (round robin) */
    int stop_fd;                   /* eventfd: readable once a stop is asked */
    atomic_int stop;
};

/* modbus_bus.c: the connection; the bus's set-up, its next device and when it is
 * ready (*at_us, the silence after the last transaction included), its end. */
int mbus_connect(struct mbus *b);
void mbus_disconnect(struct mbus *b);
struct mbus *mbus_new(const struct config *cfg, int bus, struct evq *events,
                      const struct presence_edges *presence);
struct mdev *mbus_next(struct mbus *b, int64_t *at_us);
void mbus_free(struct mbus *b);

/* modbus_poll.c: polls d once (connecting first if need be) and decides when it is
 * due again; posts its reading, its state changes and, once a second, its counters. */
void mpoll_device(struct mbus *b, struct mdev *d);

/* The same in steps, for the shared TCP thread (modbus_group.c), on a bus whose
 * connection is made: mpoll_begin starts the poll of d; mpoll_send sends its next
 * request (0, or -1 with errno); mpoll_take takes in its reply when the socket is
 * readable or b->until_us has passed: 1 when the poll has all its replies, 0 while
 * it waits (b->until_us), -1 with errno; mpoll_end ends the poll, good or failed
 * with err (errno), and sets when the bus is free again. */
void mpoll_begin(struct mbus *b, struct mdev *d);
void mpoll_drain(struct mbus *b); /* what came between polls; also done by mpoll_begin */
int mpoll_send(struct mbus *b);
int mpoll_take(struct mbus *b);
void mpoll_end(struct mbus *b, bool ok, int err);

/* modbus_group.c: one thread for the TCP buses whose address is a number. */
struct mgroup;
struct mgroup *mgroup_start(struct mbus **buses, int n);
void mgroup_stop(struct mgroup *g); /* joins the thread; the buses are the caller's */

#endif
