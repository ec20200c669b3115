/* Modbus frame arithmetic for the device simulator: the RTU CRC, how long an RTU
 * request is, how long bytes take on a serial line, and deliberately broken
 * replies. Pure: no I/O, so tests/unit/test_sim_crc.c covers it. */
#ifndef GS_SIMFRAME_H
#define GS_SIMFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIMFRAME_MAX 300 /* room for any reply we build, broken ones included */

/* CRC-16/MODBUS (polynomial 0xA001 reflected, initial 0xFFFF). On the wire the low
 * byte goes first: 01 03 00 00 00 06 -> C5 C8. */
uint16_t simframe_crc16(const uint8_t *buf, size_t n);
/* Writes the CRC of frame[0..n) to frame[n], frame[n+1]. */
void simframe_put_crc(uint8_t *frame, size_t n);
/* true when the last two of the n bytes are the CRC of the others. */
bool simframe_crc_ok(const uint8_t *frame, size_t n);

/* Total length of the RTU request whose first n bytes are in buf (CRC included):
 * > 0 when known, 0 when more bytes are needed to tell, -1 for a function whose
 * length we cannot know (the frame ends at the next silence). */
int simframe_rtu_request_length(const uint8_t *buf, size_t n);


/* Bytes of a normal RTU reply to a read of `count` registers, and of an exception. */
int simframe_rtu_read_reply_length(int count);
#define SIMFRAME_RTU_EXCEPTION_LENGTH 5

/* The broken replies the simulator sends in "malformed" mode, in turn. */
enum simframe_bad {
    SIMFRAME_BAD_COUNT,   /* byte count disagrees with the registers asked for */
    SIMFRAME_TRUNCATED,   /* header promises more data than is sent */
    SIMFRAME_BAD_CHECK,   /* RTU: wrong CRC; TCP: wrong transaction id */
    SIMFRAME_BAD_KINDS
};

/* Builds a broken reply of `kind` to the request `req` (a whole ADU of `len`
 * bytes: RTU with CRC, or TCP with its MBAP header) into out[SIMFRAME_MAX].
 * Returns its length. */
int simframe_malformed(bool rtu, const uint8_t *req, int len, enum simframe_bad kind,
                       uint8_t *out);

#endif
