/* The simulator's Modbus side: every bus of the config that has devices is
 * served by one thread. A TCP bus listens on its host:port and answers all its
 * units there (a gateway); a serial bus answers on its serial device (in tests
 * one end of a pty pair). Requests for units not configured on the bus get no
 * answer at all, like a dead unit behind a gateway or on a serial line. */
#ifndef GS_SIM_SERVER_H
#define GS_SIM_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "simdev.h"

struct sim_server_opts {
    /* RTU only: send each reply as late as a real line would allow: the request's
     * and the reply's time on the wire plus the turnaround, after the request. */
    bool wire_timing;
    int64_t turnaround_us;
};

struct sim_server;

/* Opens every bus that has devices (listening sockets, serial ports: all of them
 * before returning) and starts its thread. NULL, with the reason logged, when any
 * bus cannot be opened. */
struct sim_server *sim_server_start(const struct config *cfg, struct simdevs *devs,
                                    const struct sim_server_opts *opts);
/* Stops and joins the threads, logs each device's and bus's counters, frees. */
void sim_server_stop(struct sim_server *s);

#endif
