/* What a bus can carry (core/busload.c) and the warning --check-config gives for it
 * (config_warnings): request times on TCP and on a serial line, the load of a bus's
 * polls, the sentence, and the FILE:LINE at the bus's header. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "busload.h"
#include "config_load.h"

/* A school with one bus (line 8) and n lanes with a device each, polled every poll_ms;
 * `bus` is the bus's own lines after its header. */
static struct config *school(const char *bus, int n, int poll_ms)
{
    static char text[32768];
    size_t o = (size_t)snprintf(text, sizeof text,
                                "[school]\ncode = T001\nname = S\n[ledger]\ndatabase = l.db\n"
                                "[windows]\nmorning = 07:00-08:30\n[bus gw]\n%s\n",
                                bus);
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(text + o, sizeof text - o,
                              "[lane l%d]\ngate = G\n[device d%d]\nbus = gw\nunit = %d\n"
                              "poll = %dms\nlane = l%d\n",
                              i, i, i + 1, poll_ms, i);
    char *errs = NULL;
    size_t len;
    FILE *f = open_memstream(&errs, &len);
    struct config *cfg = config_parse("mem.conf", text, o, "/srv", f);
    fclose(f);
    if (cfg == NULL)
        fprintf(stderr, "%s", errs);
    free(errs);
    assert_non_null(cfg);
    return cfg;
}

static void tcp_request_is_answer_and_pause(void **state)
{
    (void)state;
    struct config *cfg = school("tcp = 127.0.0.1:1502\npause = 5ms", 1, 50);
    assert_int_equal(busload_request_us(&cfg->buses[0], 6), BUSLOAD_ANSWER_US + 5000);
    assert_int_equal(busload_request_us(&cfg->buses[0], 125), BUSLOAD_ANSWER_US + 5000);
    config_free(cfg);
}

/* 9600 8E1: 11 bits a character. Six registers: 8 + 17 bytes = 28645 µs on the wire,
 * t3.5 = 4010 µs after the request, 1 ms to answer, then the 10 ms pause (longer than
 * t3.5). */
static void serial_request_counts_the_wire(void **state)
{
    (void)state;
    struct config *cfg = school("serial = /dev/ttyUSB0\nbaud = 9600\nparity = E\npause = 10ms", 1,
                                50);
    assert_int_equal(busload_request_us(&cfg->buses[0], 6), 28645 + 4010 + 1000 + 10000);
    /* A pause shorter than t3.5 is t3.5: the driver keeps that much silence anyway. */
    cfg->buses[0].pause_ms = 0;
    assert_int_equal(busload_request_us(&cfg->buses[0], 6), 28645 + 4010 + 1000 + 4010);
    config_free(cfg);
}

/* The bus: 64 units at 50 ms ask for 1280 requests/s of 6 ms each. */
static void sixty_four_units_at_50ms_are_too_many(void **state)
{
    (void)state;
    struct config *cfg = school("tcp = 127.0.0.1:1502", 64, 50);
    struct busload l;
    char text[512];
    busload_of(cfg, 0, &l);
    assert_int_equal(l.devices, 64);
    assert_int_equal(l.requests, 64);
    assert_int_equal(l.cycle_us, 64 * 6000);
    assert_int_equal(l.asked_milli, 1280000);
    assert_int_equal(l.load_permille, 64 * 6000 / 50);
    assert_true(busload_over(&l));
    busload_describe(&l, &cfg->buses[0], text, sizeof text);
    assert_non_null(strstr(text, "64 devices ask for 1280.0 requests/s"));
    assert_non_null(strstr(text, "about 6.0 ms"));
    assert_non_null(strstr(text, "about 166.6 requests/s: about 2.6 polls/s each"));
    config_free(cfg);
}

static void a_bus_within_its_means_is_not_over(void **state)
{
    (void)state;
    struct config *cfg = school("tcp = 127.0.0.1:1502", 8, 50);
    struct busload l;
    busload_of(cfg, 0, &l);
    assert_int_equal(l.load_permille, 8 * 6000 / 50); /* 960: just fits */
    assert_false(busload_over(&l));
    config_free(cfg);
}

/* Two blocks per poll are two requests. */
static void every_block_is_a_request(void **state)
{
    (void)state;
    struct config *cfg = school("tcp = 127.0.0.1:1502", 2, 100);
    cfg->devices[1].profile = 1; /* the pyrometer, given a second block */
    cfg->profiles[1].blocks[cfg->profiles[1].nblocks++] = (struct cfg_block){3, 0x100, 1};
    struct busload l;
    busload_of(cfg, 0, &l);
    assert_int_equal(l.requests, 3);
    assert_int_equal(l.asked_milli, 30000);
    config_free(cfg);
}

static void warning_is_file_line_at_the_bus(void **state)
{
    (void)state;
    struct config *cfg = school("tcp = 127.0.0.1:1502", 64, 50);
    char *out = NULL;
    size_t len;
    FILE *f = open_memstream(&out, &len);
    assert_int_equal(config_warnings(cfg, f), 1);
    fclose(f);
    assert_true(strncmp(out, "mem.conf:8: warning: [bus gw] the polls asked for cannot be served: ",
                        68) == 0);
    free(out);
    config_free(cfg);

    cfg = school("tcp = 127.0.0.1:1502", 4, 50);
    f = open_memstream(&out, &len);
    assert_int_equal(config_warnings(cfg, f), 0);
    fclose(f);
    assert_int_equal(len, 0);
    free(out);
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tcp_request_is_answer_and_pause),
        cmocka_unit_test(serial_request_counts_the_wire),
        cmocka_unit_test(sixty_four_units_at_50ms_are_too_many),
        cmocka_unit_test(a_bus_within_its_means_is_not_over),
        cmocka_unit_test(every_block_is_a_request),
        cmocka_unit_test(warning_is_file_line_at_the_bus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
