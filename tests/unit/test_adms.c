/* The ZKTeco ADMS line parser (drivers/adms.c) on lines shaped like the public
 * examples: the plain ten-column line, a thermal firmware's mask and temperature,
 * tenths in another column, Fahrenheit, "0" for not measured, and what is refused
 * with a reason; the upload's line cutting and the handshake's answer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adms.h"

static const struct adms_columns thermal = {.temperature = 9, .mask = 8, .scale = 1};

static int parse(const char *line, const struct adms_columns *cols, struct terminal_event *ev,
                 char *why)
{
    why[0] = '\0';
    return adms_parse_line(line, strlen(line), cols, ev, why, 160);
}

static void test_thermal_line(void **state)
{
    (void)state;
    struct terminal_event ev;
    char why[160];
    assert_int_equal(parse("S1\t2026-12-06 08:01:02\t0\t15\t0\t0\t0\t1\t36.5", &thermal, &ev, why), 0);
    assert_true(ev.has_employee);
    assert_string_equal(ev.employee, "S1");
    assert_string_equal(ev.device_time, "2026-12-06 08:01:02");
    assert_true(ev.has_device_ms);
    assert_int_equal(ev.device_ms, 1796544062000LL); /* TZ=UTC */
    assert_int_equal(ev.major, 0);
    assert_int_equal(ev.minor, 15);
    assert_true(ev.has_temp);
    assert_int_equal(ev.temp_centi, 3650);
    assert_string_equal(ev.mask, "yes");
    assert_int_equal(ev.abnormal, -1);
    assert_false(ev.has_card);
    assert_true(ev.has_serial);
}

static void test_columns_and_units(void **state)
{
    (void)state;
    struct terminal_event ev;
    char why[160];
    const struct adms_columns tenths = {.temperature = 6, .scale = 10};
    assert_int_equal(parse("1001\t2026-12-06 08:01:02\t0\t15\t0\t365", &tenths, &ev, why), 0);
    assert_int_equal(ev.temp_centi, 3650);
    assert_string_equal(ev.mask, "");
    const struct adms_columns f = {.temperature = 9, .mask = 8, .scale = 1, .fahrenheit = true};
    assert_int_equal(parse("S3\t2026-12-06 08:01:02\t0\t15\t0\t0\t0\t0\t97.7", &f, &ev, why), 0);
    assert_int_equal(ev.temp_centi, 3650);
    assert_string_equal(ev.mask, "no");
    /* "0" is what firmwares write when they measured nothing; short lines have none. */
    assert_int_equal(parse("11\t2025-08-27 10:57:49\t0\t25\t0\t0\t0\t0\t0\t0", &thermal, &ev, why), 0);
    assert_false(ev.has_temp);
    assert_int_equal(parse("11\t2025-08-27 10:57:49", &thermal, &ev, why), 0);
    assert_false(ev.has_temp);
    assert_int_equal(ev.major, -1);
    assert_int_equal(parse("S1\t2026-12-06 08:01:02\t0\t15\t0\t0\t0\t2\t36.5", &thermal, &ev, why), 0);
    assert_string_equal(ev.mask, "unknown");
}

static void test_identity(void **state)
{
    (void)state;
    struct terminal_event a, b, c;
    char why[160];
    assert_int_equal(parse("S1\t2026-12-06 08:01:02\t0\t15\t0\t0\t0\t1\t36.5", &thermal, &a, why), 0);
    /* The same punch sent again, even with other trailing columns: the same serial. */
    assert_int_equal(parse("S1\t2026-12-06 08:01:02\t0\t15\t1\t0\t0\t0\t36.6", &thermal, &b, why), 0);
    assert_int_equal(a.serial, b.serial);
    assert_int_equal(parse("S1\t2026-12-06 08:01:03\t0\t15\t0\t0\t0\t1\t36.5", &thermal, &c, why), 0);
    assert_true(a.serial != c.serial);
    assert_true(a.serial <= (uint64_t)INT64_MAX);
}

static void test_refused(void **state)
{
    (void)state;
    struct terminal_event ev;
    char why[160];
    assert_int_equal(parse("S1\tyesterday\t0\t15", &thermal, &ev, why), -1);
    assert_non_null(strstr(why, "time \"yesterday\""));
    /* What the terminal sent is quoted printable: no escape sequence reaches the log. */
    assert_int_equal(parse("S1\t\x1b[2J\x07", &thermal, &ev, why), -1);
    assert_non_null(strstr(why, "time \"?[2J?\""));
    assert_int_equal(parse("OPLOG 4", &thermal, &ev, why), -1);
    assert_non_null(strstr(why, "no tab"));
    assert_int_equal(parse("\t2026-12-06 08:01:02", &thermal, &ev, why), -1);
    assert_non_null(strstr(why, "PIN"));
    assert_int_equal(parse("S 1\t2026-12-06 08:01:02", &thermal, &ev, why), -1);
    assert_int_equal(parse("S1\t2026-12-06 08:01:02\tx\t15", &thermal, &ev, why), -1);
    assert_non_null(strstr(why, "status or verify"));
    assert_int_equal(parse("S1\t2026-12-06 08:01:02\t0\t15\t0\t0\t0\t0\thot", &thermal, &ev, why), -1);
    assert_non_null(strstr(why, "temperature column 9"));
    assert_int_equal(parse("S1\t2026-12-06 08:01:02\t0\t15\t0\t0\t0\t0\t365", &thermal, &ev, why), -1);
    assert_non_null(strstr(why, "temperature_scale"));
    assert_int_equal(parse("S1\t2026-02-30 08:01:02", &thermal, &ev, why), -1);
    assert_int_equal(parse("S1\t2026-12-06 24:01:02", &thermal, &ev, why), -1);
    char many[200];
    int len = snprintf(many, sizeof many, "S1\t2026-12-06 08:01:02");
    for (int i = 0; i < 40; i++) /* 41 columns: past the 32 a line may have */
        len += snprintf(many + len, sizeof many - (size_t)len, "\t1");
    assert_int_equal(parse(many, &thermal, &ev, why), -1);
    assert_non_null(strstr(why, "columns"));
}

static void test_lines_and_options(void **state)
{
    (void)state;
    const char body[] = "a\tb\r\n\r\n\nc\td\nlast";
    size_t pos = 0, n;
    const char *line;
    assert_true(adms_next_line(body, sizeof body - 1, &pos, &line, &n));
    assert_int_equal(n, 3);
    assert_memory_equal(line, "a\tb", 3);
    assert_true(adms_next_line(body, sizeof body - 1, &pos, &line, &n));
    assert_memory_equal(line, "c\td", 3);
    assert_true(adms_next_line(body, sizeof body - 1, &pos, &line, &n));
    assert_int_equal(n, 4);
    assert_false(adms_next_line(body, sizeof body - 1, &pos, &line, &n));
    char opts[512];
    assert_int_equal(adms_options("CKJK201960001", opts, sizeof opts), 0);
    assert_int_equal(strncmp(opts, "GET OPTION FROM: CKJK201960001\n", 31), 0);
    assert_non_null(strstr(opts, "\nRealtime=1\n"));
    assert_int_equal(adms_options("CKJK201960001", opts, 20), -1);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thermal_line), cmocka_unit_test(test_columns_and_units),
        cmocka_unit_test(test_identity), cmocka_unit_test(test_refused),
        cmocka_unit_test(test_lines_and_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
