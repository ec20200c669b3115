/* The simulator's pure frame arithmetic: RTU CRC, request lengths (how the RTU
 * server stays in step when requests for other units pass by), wire time, and
 * the broken replies of "malformed". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "rtu_timing.h"
#include "simframe.h"

static void test_crc_vectors(void **state)
{
    (void)state;
    uint8_t f[8] = {0x01, 0x03, 0x00, 0x00, 0x00, 0x06};
    assert_int_equal(simframe_crc16(f, 6), 0xC8C5);
    simframe_put_crc(f, 6);
    assert_int_equal(f[6], 0xC5); /* low byte first on the wire */
    assert_int_equal(f[7], 0xC8);
    assert_true(simframe_crc_ok(f, 8));
    uint8_t g[8] = {0x01, 0x03, 0x00, 0x00, 0x00, 0x01, 0x84, 0x0A};
    assert_true(simframe_crc_ok(g, 8));
    g[3] ^= 0x01; /* one bit off */
    assert_false(simframe_crc_ok(g, 8));
    assert_false(simframe_crc_ok(g, 3)); /* too short to hold a CRC and a frame */
    assert_int_equal(simframe_crc16(NULL, 0), 0xFFFF);
}

static void test_request_length(void **state)
{
    (void)state;
    uint8_t read[8] = {0x05, 0x03, 0, 0, 0, 6};
    assert_int_equal(simframe_rtu_request_length(read, 0), 0);
    assert_int_equal(simframe_rtu_request_length(read, 1), 0);
    assert_int_equal(simframe_rtu_request_length(read, 2), 8);
    read[1] = 4;
    assert_int_equal(simframe_rtu_request_length(read, 8), 8);
    read[1] = 6;
    assert_int_equal(simframe_rtu_request_length(read, 3), 8);
    uint8_t write16[7] = {0x01, 0x10, 0, 0, 0, 2, 4};
    assert_int_equal(simframe_rtu_request_length(write16, 6), 0); /* byte count not yet in */
    assert_int_equal(simframe_rtu_request_length(write16, 7), 7 + 4 + 2);
    uint8_t odd[2] = {0x01, 0x2B}; /* encapsulated interface: read to the silence */
    assert_int_equal(simframe_rtu_request_length(odd, 2), -1);
}

static void test_wire_time(void **state)
{
    (void)state;
    /* 9600 8E1: 11 bits a character; t3.5 is 3.5 of them */
    struct cfg_bus e = {.baud = 9600, .parity = 'E', .data_bits = 8, .stop_bits = 1};
    assert_int_equal(rtu_wire_us(8, &e), 8 * 11 * 1000000 / 9600);
    assert_int_equal(rtu_frame_gap_us(&e), 7 * 11 * 1000000 / 9600 / 2);
    /* 19200 8N1: 10 bits; 8N2: 11 */
    struct cfg_bus n = {.baud = 19200, .parity = 'N', .data_bits = 8, .stop_bits = 1};
    assert_int_equal(rtu_wire_us(1, &n), 520);
    assert_int_equal(rtu_frame_gap_us(&n), 1822);
    n.baud = 9600;
    n.stop_bits = 2;
    assert_int_equal(rtu_wire_us(2, &n), 2 * 11 * 1000000 / 9600);
    /* above 19200 baud the spec fixes t3.5 at 1.75 ms */
    n.baud = 115200;
    assert_int_equal(rtu_frame_gap_us(&n), 1750);
    assert_int_equal(simframe_rtu_read_reply_length(6), 17);
}

static void test_malformed_rtu(void **state)
{
    (void)state;
    uint8_t req[8] = {0x02, 0x03, 0x00, 0x00, 0x00, 0x06};
    uint8_t out[SIMFRAME_MAX];
    simframe_put_crc(req, 6);

    int n = simframe_malformed(true, req, 8, SIMFRAME_BAD_COUNT, out);
    assert_int_equal(n, 3 + 14 + 2);
    assert_int_equal(out[0], 0x02);
    assert_int_equal(out[1], 0x03);
    assert_int_equal(out[2], 14); /* 7 registers for a read of 6 */
    assert_true(simframe_crc_ok(out, (size_t)n)); /* only the count is wrong */

    n = simframe_malformed(true, req, 8, SIMFRAME_TRUNCATED, out);
    assert_int_equal(out[2], 12);
    assert_true(n < 3 + 12 + 2); /* promises 12 bytes, stops early */

    n = simframe_malformed(true, req, 8, SIMFRAME_BAD_CHECK, out);
    assert_int_equal(n, 3 + 12 + 2);
    assert_int_equal(out[2], 12);
    assert_false(simframe_crc_ok(out, (size_t)n));
}

static void test_malformed_tcp(void **state)
{
    (void)state;
    uint8_t req[12] = {0x12, 0x34, 0, 0, 0, 6, 0x01, 0x04, 0x00, 0x10, 0x00, 0x02};
    uint8_t out[SIMFRAME_MAX];

    int n = simframe_malformed(false, req, 12, SIMFRAME_BAD_COUNT, out);
    assert_memory_equal(out, "\x12\x34\x00\x00", 4);
    assert_int_equal(out[4] << 8 | out[5], n - 6); /* MBAP length matches what is sent */
    assert_int_equal(out[6], 0x01);
    assert_int_equal(out[7], 0x04);
    assert_int_equal(out[8], 6);

    n = simframe_malformed(false, req, 12, SIMFRAME_TRUNCATED, out);
    assert_int_equal(out[8], 4);
    assert_int_equal(out[4] << 8 | out[5], 1 + 2 + 4); /* promises the whole PDU */
    assert_true(n < 6 + 1 + 2 + 4);

    n = simframe_malformed(false, req, 12, SIMFRAME_BAD_CHECK, out);
    assert_int_equal(n, 6 + 1 + 2 + 4);
    assert_false(out[0] == 0x12 && out[1] == 0x34); /* another transaction */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc_vectors),   cmocka_unit_test(test_request_length),
        cmocka_unit_test(test_wire_time),     cmocka_unit_test(test_malformed_rtu),
        cmocka_unit_test(test_malformed_tcp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
