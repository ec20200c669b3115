/* What a Modbus bus can carry. Each request holds the bus for its exchange and the
 * pause after it, and a bus serves one request at a time, so the polls of its
 * devices can ask for more than it has: then every device is polled less often
 * than its `poll` says. Pure: from the configuration only. `gatescreend
 * --check-config` and the bus thread at start use it to warn. */
#ifndef GS_BUSLOAD_H
#define GS_BUSLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* How long a unit takes to answer once it has the request, assumed since nothing
 * is measured before the daemon runs: a screening unit answers in about a
 * millisecond (on TCP that includes the network's round trip). A TCP gateway in
 * front of a serial line is slower; then the estimate is on the kind side. */
#define BUSLOAD_ANSWER_US 1000

/* µs one read of `count` registers holds the bus: the answer and the pause after
 * it, and on a serial line the request (8 bytes) and the reply (5 + 2 × count)
 * on the wire with the t3.5 silence after each (the pause when longer). */
int64_t busload_request_us(const struct cfg_bus *bus, int count);

struct busload {
    int devices;           /* on the bus */
    int requests;          /* one per block of each device: one poll of them all */
    int64_t cycle_us;      /* how long those take */
    int64_t asked_milli;   /* requests per second the devices' polls ask for, × 1000 */
    int64_t load_permille; /* share of the bus's time they ask for (above 1000: too much) */
};

/* The load of cfg->buses[bus] (a validated config: every device has its profile). */
void busload_of(const struct config *cfg, int bus, struct busload *out);

/* true when the polls asked for cannot all be served. */
bool busload_over(const struct busload *l);

/* "the polls asked for cannot be served: 64 devices ask for 1280 requests/s, ..."
 * with what the bus carries and the polls per second each device gets. */
const char *busload_describe(const struct busload *l, const struct cfg_bus *bus, char *buf,
                             size_t n);

#endif
