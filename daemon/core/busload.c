#include "busload.h"

#include <stdio.h>

#include "rtu_timing.h"
#include "textnum.h"

#define RTU_REQUEST_BYTES 8 /* unit, function, address, count, CRC */
#define RTU_REPLY_BYTES 5   /* unit, function, byte count, CRC; then 2 per register */

int64_t busload_request_us(const struct cfg_bus *bus, int count)
{
    int64_t pause = bus->pause_ms * 1000;
    if (bus->is_tcp)
        return BUSLOAD_ANSWER_US + pause;
    /* The unit knows the request has ended after t3.5 of silence; the driver
     * keeps at least t3.5 before the next one too. */
    int64_t gap = rtu_frame_gap_us(bus);
    int64_t wire = rtu_wire_us(RTU_REQUEST_BYTES + RTU_REPLY_BYTES + 2 * count, bus);
    return wire + gap + BUSLOAD_ANSWER_US + (pause > gap ? pause : gap);
}

void busload_of(const struct config *cfg, int bus, struct busload *out)
{
    *out = (struct busload){0};
    for (int i = 0; i < cfg->ndevices; i++) {
        const struct cfg_device *d = &cfg->devices[i];
        if (d->bus != bus || d->profile < 0 || d->poll_ms <= 0)
            continue;
        const struct cfg_profile *p = &cfg->profiles[d->profile];
        out->devices++;
        for (int b = 0; b < p->nblocks; b++) {
            int64_t us = busload_request_us(&cfg->buses[bus], p->blocks[b].count);
            out->requests++;
            out->cycle_us += us;
            out->asked_milli += 1000000 / d->poll_ms;
            out->load_permille += us / d->poll_ms;
        }
    }
}

bool busload_over(const struct busload *l)
{
    return l->load_permille > 1000;
}

/* Tenths as "12.3". */
static const char *tenths(int64_t t, char buf[32])
{
    snprintf(buf, 32, "%lld.%lld", (long long)(t / 10), (long long)(t % 10));
    return buf;
}

const char *busload_describe(const struct busload *l, const struct cfg_bus *bus, char *buf,
                             size_t n)
{
    char asked[32], req[32], carried[32], each[32], pause[TN_DURATION_LEN], wire[64] = "";
    int64_t cycle = l->cycle_us > 0 ? l->cycle_us : 1;
    if (!bus->is_tcp)
        snprintf(wire, sizeof wire, ", the frames on the wire at %d baud with their silences",
                 bus->baud);
    snprintf(buf, n,
             "the polls asked for cannot be served: %d devices ask for %s requests/s, but each "
             "request holds the bus about %s ms (1 ms for the unit to answer%s, then the %s "
             "pause), so it carries "
             "about %s requests/s: about %s polls/s each (poll less often, or put fewer devices "
             "on this bus)",
             l->devices, tenths(l->asked_milli / 100, asked),
             tenths(cycle / (l->requests > 0 ? l->requests : 1) / 100, req), wire,
             tn_format_ms(bus->pause_ms, pause),
             tenths((int64_t)l->requests * 10000000 / cycle, carried),
             tenths(10000000 / cycle, each));
    return buf;
}
