#include "simframe.h"

#include <string.h>

#define MAX_READ_COUNT 125 /* registers in one read (Modbus spec) */

uint16_t simframe_crc16(const uint8_t *buf, size_t n)
{
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        crc ^= buf[i];
        for (int bit = 0; bit < 8; bit++)
            crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
    }
    return crc;
}

void simframe_put_crc(uint8_t *frame, size_t n)
{
    uint16_t crc = simframe_crc16(frame, n);
    frame[n] = (uint8_t)(crc & 0xFF);
    frame[n + 1] = (uint8_t)(crc >> 8);
}

bool simframe_crc_ok(const uint8_t *frame, size_t n)
{
    if (n < 4)
        return false; /* not even unit, function and CRC */
    uint16_t crc = simframe_crc16(frame, n - 2);
    return frame[n - 2] == (crc & 0xFF) && frame[n - 1] == (crc >> 8);
}

int simframe_rtu_request_length(const uint8_t *buf, size_t n)
{
    if (n < 2)
        return 0;
    switch (buf[1]) {
    case 1: case 2: case 3: case 4: case 5: case 6:
        return 8; /* unit, function, address, count/value, CRC */
    case 15: case 16:
        /* unit, function, address, count, byte count, data, CRC */
        return n < 7 ? 0 : 9 + buf[6];
    case 23:
        /* read/write multiple: byte count of the write part at offset 10 */
        return n < 11 ? 0 : 13 + buf[10];
    default:
        return -1;
    }
}

int simframe_rtu_read_reply_length(int count)
{
    return 5 + 2 * count; /* unit, function, byte count, data, CRC */
}

/* Registers the request asks for, kept within one legal read so the broken
 * reply has a plausible size whatever the request was. */
static int requested_count(const uint8_t *req, int len, int h)
{
    if (len < h + 5 || (req[h] != 3 && req[h] != 4))
        return 1;
    int count = req[h + 3] << 8 | req[h + 4];
    return count < 1 ? 1 : count > MAX_READ_COUNT ? MAX_READ_COUNT : count;
}

/* The MBAP header of a TCP reply: transaction id, protocol 0, length, unit. */
static void tcp_header(const uint8_t *req, int mbap_len, uint8_t *out)
{
    out[0] = req[0];
    out[1] = req[1];
    out[2] = out[3] = 0;
    out[4] = (uint8_t)(mbap_len >> 8);
    out[5] = (uint8_t)mbap_len;
    out[6] = req[6];
}

int simframe_malformed(bool rtu, const uint8_t *req, int len, enum simframe_bad kind,
                       uint8_t *out)
{
    int h = rtu ? 1 : 7;
    int count = requested_count(req, len, h);
    int claimed = kind == SIMFRAME_BAD_COUNT ? 2 * count + 2 : 2 * count;
    int sent = kind == SIMFRAME_TRUNCATED ? count : claimed;
    memset(out, 0, SIMFRAME_MAX);
    out[h] = len > h ? req[h] : 3;
    out[h + 1] = (uint8_t)claimed;
    int n = h + 2 + sent;
    if (!rtu) {
        /* The MBAP length always promises the whole claimed PDU. */
        tcp_header(req, 1 + 2 + claimed, out);
        if (kind == SIMFRAME_BAD_CHECK)
            out[1] = (uint8_t)(out[1] + 1); /* answers another transaction */
        return n;
    }
    out[0] = req[0];
    if (kind == SIMFRAME_TRUNCATED)
        return n; /* stops before the end, CRC never comes */
    simframe_put_crc(out, (size_t)n);
    if (kind == SIMFRAME_BAD_CHECK)
        out[n] ^= 0xFF;
    return n + 2;
}
