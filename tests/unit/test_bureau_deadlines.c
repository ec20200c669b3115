/* The bureau's deadlines (issue 15, "Deadlines and missing reports"): the [deadlines]
 * section of its configuration (defaults, every mistake as FILE:LINE), and the day,
 * range and deadline parsers the command line and GET /v1/missing share. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bconfig.h"
#include "deadline.h"

#define BASE                                                                          \
    "[collector]\nlisten = 0.0.0.0:8443\ntls_cert = c.pem\ntls_key = c.key\n"        \
    "client_ca = ca.pem\n[database]\ndsn = dbname=bureau\n"

static struct bconfig *parse(const char *text, char **errs)
{
    size_t n;
    FILE *f = open_memstream(errs, &n);
    assert_non_null(f);
    struct bconfig *c = bconfig_parse("b.conf", text, strlen(text), "/etc/b", f);
    fclose(f);
    return c;
}

static void expect(const char *errs, const char *needle)
{
    if (!strstr(errs, needle))
        fail_msg("expected \"%s\" among:\n%s", needle, errs);
}

/* A file without the section (every configuration before it) loads with defaults. */
static void test_defaults(void **state)
{
    (void)state;
    char *errs = NULL;
    struct bconfig *c = parse(BASE, &errs);
    assert_non_null(c);
    assert_int_equal(c->deadlines.morning, 600);
    assert_int_equal(c->deadlines.day, 1020);
    assert_string_equal(c->deadlines.timezone, "Asia/Shanghai");
    bconfig_free(c);
    free(errs);
}

static void test_values(void **state)
{
    (void)state;
    char *errs = NULL;
    struct bconfig *c = parse(BASE "[deadlines]\nmorning = 09:30\nday = 16:45 ; the day's\n"
                                   "timezone = Asia/Urumqi\n", &errs);
    if (!c)
        fail_msg("%s", errs);
    assert_int_equal(c->deadlines.morning, 9 * 60 + 30);
    assert_int_equal(c->deadlines.day, 16 * 60 + 45);
    assert_string_equal(c->deadlines.timezone, "Asia/Urumqi");
    bconfig_free(c);
    free(errs);
}

static void test_errors(void **state)
{
    (void)state;
    char *errs = NULL;
    struct bconfig *c = parse(BASE "[deadlines]\n"       /* 8 */
                                   "morning = 10\n"      /* 9 */
                                   "day = 24:00\n"       /* 10 */
                                   "timezone = Mars/Olympus\n" /* 11 */
                                   "noon = 12:00\n"      /* 12 */
                                   "morning = 9:00\n"    /* 13 */
                                   "[deadlines]\n",      /* 14 */
                              &errs);
    assert_null(c);
    expect(errs, "b.conf:9: [deadlines] morning: \"10\" is not a time of day HH:MM");
    expect(errs, "b.conf:10: [deadlines] day: \"24:00\" is not a time of day HH:MM");
    expect(errs, "b.conf:11: [deadlines] timezone: \"Mars/Olympus\" is not a time zone known "
                 "to this system");
    expect(errs, "b.conf:12: [deadlines]: unknown key \"noon\"");
    expect(errs, "b.conf:13: [deadlines] morning: duplicate key (first on line 9)");
    expect(errs, "b.conf:14: duplicate section [deadlines] (first on line 8)");
    free(errs);
    c = parse(BASE "[deadlines]\ntimezone = ../etc/passwd\n", &errs);
    assert_null(c);
    expect(errs, "b.conf:9: [deadlines] timezone: \"../etc/passwd\" is not a time zone name");
    free(errs);
    c = parse(BASE "[deadlines]\nday = 09:00\n", &errs);
    assert_null(c);
    expect(errs, "b.conf:9: [deadlines]: morning (10:00) must be before day (09:00)");
    free(errs);
    c = parse(BASE "[deadline]\n", &errs);
    assert_null(c);
    expect(errs, "b.conf:8: unknown section [deadline] (expected collector, database");
    free(errs);
}

static void test_deadline_names(void **state)
{
    (void)state;
    struct bcfg_deadlines d = {.morning = 600, .day = 1020};
    enum deadline k;
    char why[200];
    assert_int_equal(deadline_parse("morning", &k, why, sizeof why), 0);
    assert_int_equal(k, DEADLINE_MORNING);
    assert_int_equal(deadline_parse("day", &k, why, sizeof why), 0);
    assert_int_equal(k, DEADLINE_DAY);
    assert_string_equal(deadline_name(k), "day");
    assert_int_equal(deadline_minute(&d, k), 1020);
    assert_int_equal(deadline_parse("noon", &k, why, sizeof why), -1);
    assert_string_equal(why, "\"noon\" is not a deadline (morning or day)");
    assert_int_equal(deadline_parse("", &k, why, sizeof why), -1);
    /* past days: the day's; days to come: the morning's; today: the latest passed */
    assert_int_equal(deadline_default(&d, -1, 0), DEADLINE_DAY);
    assert_int_equal(deadline_default(&d, 1, 1439), DEADLINE_MORNING);
    assert_int_equal(deadline_default(&d, 0, 300), DEADLINE_MORNING);
    assert_int_equal(deadline_default(&d, 0, 700), DEADLINE_MORNING);
    assert_int_equal(deadline_default(&d, 0, 1019), DEADLINE_MORNING);
    assert_int_equal(deadline_default(&d, 0, 1020), DEADLINE_DAY);
}

static void test_days(void **state)
{
    (void)state;
    char from[DAY_LEN], to[DAY_LEN], why[200];
    int n;
    assert_int_equal(day_parse("2028-02-29", from, why, sizeof why), 0);
    assert_string_equal(from, "2028-02-29");
    assert_int_equal(day_parse("2026-02-29", from, why, sizeof why), -1);
    assert_string_equal(why, "\"2026-02-29\" is not a date YYYY-MM-DD");
    assert_int_equal(day_weekday("1970-01-01"), 4);
    assert_int_equal(day_weekday("2026-10-01"), 4); /* 国庆, a Thursday */
    assert_int_equal(day_weekday("2026-10-10"), 6);
    assert_int_equal(day_weekday("2026-10-11"), 0);
    assert_int_equal(day_weekday("2028-02-29"), 2);
    assert_int_equal(day_parse("2026-10-1", from, why, sizeof why), -1);
    assert_int_equal(day_parse("20261001", from, why, sizeof why), -1);
    assert_int_equal(day_range_parse("2026-10-01..2026-10-07", from, to, &n, why, sizeof why),
                     0);
    assert_string_equal(from, "2026-10-01");
    assert_string_equal(to, "2026-10-07");
    assert_int_equal(n, 7);
    assert_int_equal(day_range_parse("2026-12-31..2027-01-01", from, to, &n, why, sizeof why),
                     0);
    assert_int_equal(n, 2);
    assert_int_equal(day_range_parse("2026-10-11", from, to, &n, why, sizeof why), 0);
    assert_string_equal(to, "2026-10-11");
    assert_int_equal(n, 1);
    assert_int_equal(day_range_parse("2026-10-07..2026-10-01", from, to, &n, why, sizeof why),
                     -1);
    assert_string_equal(why, "2026-10-07..2026-10-01: the range ends before it starts");
    assert_int_equal(day_range_parse("2026-01-01..2027-01-02", from, to, &n, why, sizeof why),
                     -1);
    assert_string_equal(why, "2026-01-01..2027-01-02: 367 days; at most 366 at once");
    assert_int_equal(day_range_parse("2028-01-01..2028-12-31", from, to, &n, why, sizeof why),
                     0);
    assert_int_equal(n, 366);
    assert_int_equal(day_range_parse("2026-10-01..", from, to, &n, why, sizeof why), -1);
    assert_string_equal(why, "\"\" is not a date YYYY-MM-DD");
    assert_int_equal(day_range_parse("..2026-10-01", from, to, &n, why, sizeof why), -1);
    assert_int_equal(day_range_parse("2026-10-01...2026-10-02", from, to, &n, why, sizeof why),
                     -1);
    assert_int_equal(day_range_parse("2026-13-01..2026-12-01", from, to, &n, why, sizeof why),
                     -1);
    assert_string_equal(why, "\"2026-13-01\" is not a date YYYY-MM-DD");
}

static void test_county(void **state)
{
    (void)state;
    char why[200], long_name[400] = "";
    assert_int_equal(county_check("魏都区", why, sizeof why), 0);
    assert_int_equal(county_check("", why, sizeof why), -1);
    assert_string_equal(why, "is empty (a county's name: at most 100 characters)");
    assert_int_equal(county_check("\xff\xfe", why, sizeof why), -1);
    assert_string_equal(why, "is not UTF-8 (a county's name: at most 100 characters)");
    assert_int_equal(county_check("a\tb", why, sizeof why), -1);
    assert_string_equal(why, "has a control character (a county's name: at most 100 "
                             "characters)");
    for (int i = 0; i < 101; i++)
        strcat(long_name, "区");
    assert_int_equal(county_check(long_name, why, sizeof why), -1);
    long_name[300] = '\0'; /* 100 characters */
    assert_int_equal(county_check(long_name, why, sizeof why), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),       cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),         cmocka_unit_test(test_deadline_names),
        cmocka_unit_test(test_days),           cmocka_unit_test(test_county),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
