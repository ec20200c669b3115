/* Modbus RTU timing on a serial line: how long bytes take on the wire and the
 * silence that separates frames (Modbus over Serial Line v1.02, 2.5.1.1).
 * Shared by the bus driver (it keeps the silence between its requests) and the
 * simulator (it answers as late as a real line would let it). */
#ifndef GS_RTU_TIMING_H
#define GS_RTU_TIMING_H

#include <stdint.h>

#include "config.h"

/* Microseconds that nbytes take at the bus's baud: each character is a start
 * bit, the data bits, a parity bit unless parity is N, and the stop bits. */
int64_t rtu_wire_us(int nbytes, const struct cfg_bus *bus);

/* t3.5: 3.5 character times, or 1750 µs above 19200 baud where the spec fixes it. */
int64_t rtu_frame_gap_us(const struct cfg_bus *bus);

#endif
