/* Modbus thermal devices: one thread per bus (TCP endpoint or serial line), owning
 * its modbus_t, polling the bus's devices in turn and posting readings and device
 * state changes to the main loop's queue. Nothing else is shared. */
#ifndef GS_MODBUS_BUS_H
#define GS_MODBUS_BUS_H

#include "config.h"
#include "evqueue.h"
#include "presence.h"

struct mbus;

/* Starts the thread for cfg->buses[bus]; NULL on failure (logged). The config and
 * `presence` (GPIO presence edges per lane, for trigger = presence) must outlive
 * the bus. */
struct mbus *mbus_start(const struct config *cfg, int bus, struct evq *events,
                        const struct presence_edges *presence);
/* Asks the thread to stop and joins it: returns within one response timeout. */
void mbus_stop(struct mbus *b);

#endif
