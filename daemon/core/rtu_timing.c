#include "rtu_timing.h"

#define FIXED_GAP_ABOVE_BAUD 19200
#define FIXED_GAP_US 1750

int64_t rtu_wire_us(int nbytes, const struct cfg_bus *bus)
{
    if (bus->baud <= 0)
        return 0;
    int bits = 1 + bus->data_bits + (bus->parity == 'N' ? 0 : 1) + bus->stop_bits;
    return (int64_t)nbytes * bits * 1000000 / bus->baud;
}

int64_t rtu_frame_gap_us(const struct cfg_bus *bus)
{
    if (bus->baud > FIXED_GAP_ABOVE_BAUD)
        return FIXED_GAP_US;
    return rtu_wire_us(7, bus) / 2;
}
