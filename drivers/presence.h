/* Presence edges seen on GPIO, per lane. Written by the GPIO input thread, read
 * by the Modbus bus threads: a device whose profile has trigger = presence takes
 * the next poll after a new rising edge as a new measurement (profiles without a
 * sequence register or a presence bit). Atomic counters, nothing else shared. */
#ifndef GS_PRESENCE_H
#define GS_PRESENCE_H

#include <stdatomic.h>

#include "config.h"

struct presence_edges {
    atomic_uint rising[CFG_MAX_LANES];
};

#endif
