/* Private to the simulator's bus threads (sim_server.c, sim_tcp.c, sim_rtu.c):
 * one bus, its requests waiting for their reply time, its counters. */
#ifndef GS_SIM_BUS_H
#define GS_SIM_BUS_H

#include <modbus/modbus.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "sim_server.h"
#include "simdev.h"
#include "simframe.h"

#define SIMBUS_PENDING 32     /* replies waiting for their time (slow, wire timing) */
#define SIMBUS_MAX_CLIENTS 16 /* TCP connections at once */
#define SIMBUS_RX_MAX 512     /* RTU receive buffer: two whole frames */

/* A reply waiting for its time. */
struct simbus_pending {
    bool used;
    int64_t due_us;
    int fd;                   /* TCP client or serial port */
    struct simdev *dev;
    struct sim_plan plan;
    int len;
    uint8_t req[MODBUS_TCP_MAX_ADU_LENGTH];
    int rawlen;               /* broken replies are built when planned */
    uint8_t raw[SIMFRAME_MAX];
};

struct simbus {
    const struct cfg_bus *cfg;
    int index;                /* in cfg->buses */
    struct simdevs *devs;
    const struct sim_server_opts *opts;
    modbus_t *ctx;
    int fd;                   /* listening socket (TCP) or serial port (RTU); -1 */
    int stop_fd;              /* readable once the threads must stop */
    pthread_t thread;
    bool started;
    struct simbus_pending pend[SIMBUS_PENDING];
    int clients[SIMBUS_MAX_CLIENTS]; /* TCP */
    int nclients;
    uint8_t rx[SIMBUS_RX_MAX];       /* RTU bytes not yet taken as a frame */
    int rxn;
    int64_t last_rx_us;
    bool resync;              /* after a bad frame: drop bytes until a silence */
    /* Owned by the thread; read after it was joined. */
    uint64_t other_unit, bad_crc, incomplete;
};

int64_t simbus_now_us(void);
/* poll() with a timeout in microseconds (-1: none); returns as poll. */
int simbus_poll(struct pollfd *fds, int n, int64_t timeout_us);
/* Handles one request for device d received on fd and complete at end_us:
 * decides the answer, sends it now or keeps it for its time. */
void simbus_dispatch(struct simbus *b, struct simdev *d, int fd, const uint8_t *req, int len,
                     int64_t end_us);
/* Microseconds until the next waiting reply is due; -1 when none waits. */
int64_t simbus_pending_timeout(const struct simbus *b, int64_t now_us);
/* Sends the replies that are due, earliest first. */
void simbus_run_due(struct simbus *b);
/* Forgets the replies for a TCP connection that closed. */
void simbus_forget_fd(struct simbus *b, int fd);

int simbus_tcp_open(struct simbus *b);
void *simbus_tcp_thread(void *arg);
void simbus_tcp_close(struct simbus *b);

int simbus_rtu_open(struct simbus *b);
void *simbus_rtu_thread(void *arg);
void simbus_rtu_close(struct simbus *b);

#endif
