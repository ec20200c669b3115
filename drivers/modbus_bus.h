/* Modbus thermal devices: each bus (TCP endpoint or serial line) is owned by one
 * thread, which polls its devices in turn and posts readings and device state
 * changes to the main loop's queue. Nothing else is shared. */
#ifndef GS_MODBUS_BUS_H
#define GS_MODBUS_BUS_H

#include "config.h"
#include "evqueue.h"
#include "presence.h"

struct mbus_set;

/* Starts every bus that serves a device: one thread for all the TCP buses named by
 * their address (drivers/modbus_group.c), one each for serial lines and TCP buses
 * named by a host name. NULL on failure (logged). The config and `presence` (GPIO
 * presence edges per lane, for trigger = presence) must outlive the buses. */
struct mbus_set *mbus_start_all(const struct config *cfg, struct evq *events,
                                const struct presence_edges *presence);
/* Asks the threads to stop and joins them, each within one response timeout;
 * `joining` (may be NULL) is told the name of each bus whose thread is joined next
 * (NULL for the TCP buses' shared thread), for the stop's watchdog. */
void mbus_stop_all(struct mbus_set *s, void (*joining)(const char *bus, void *arg), void *arg);

#endif
