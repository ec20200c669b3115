#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <cmocka.h>
#include <string.h>

#include "textnum.h"

static void test_long(void **state)
{
    (void)state;
    long v = 7;
    assert_int_equal(tn_long("42", 0, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(tn_long("-3", -5, 5, &v), 0);
    assert_int_equal(v, -3);
    const char *bad[] = {"", " 1", "1 ", "1x", "101", "-1", "0x10", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(tn_long(bad[i], 0, 100, &v), -1);
    assert_int_equal(v, -3); /* untouched on failure */
    assert_int_equal(tn_long_hex("0x15", 0, 0xffff, &v), 0);
    assert_int_equal(v, 0x15);
    assert_int_equal(tn_long_hex("0x", 0, 0xffff, &v), -1);
    assert_int_equal(tn_long_hex("0x-1", -5, 0xffff, &v), -1);
    /* A value beyond a 32-bit long is refused, never cut to 32 bits (armhf). */
    assert_int_equal(tn_long("4294967297", LONG_MIN, LONG_MAX, &v), LONG_MAX > 4294967297 ? 0 : -1);
}

/* Card numbers run to 2^32 - 1: they must parse on armhf too, where long has 32
 * bits (the simulator's card=3000000000 was refused there before tn_int64). */
static void test_int64(void **state)
{
    (void)state;
    int64_t v = 7;
    assert_int_equal(tn_int64("3000000000", 0, UINT32_MAX, &v), 0);
    assert_int_equal(v, INT64_C(3000000000));
    assert_int_equal(tn_int64("4294967295", 0, UINT32_MAX, &v), 0);
    assert_int_equal(v, INT64_C(4294967295));
    assert_int_equal(tn_int64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
    assert_true(v == INT64_MIN);
    const char *bad[] = {"", " 1", "4294967296", "-1", "1e3", "9223372036854775808"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(tn_int64(bad[i], 0, UINT32_MAX, &v), -1);
    assert_true(v == INT64_MIN); /* untouched on failure */
}

static void test_centi_exact(void **state)
{
    (void)state;
    long v;
    struct { const char *s; long want; } good[] = {
        {"37.3", 3730}, {"37.30", 3730}, {"37.29", 3729}, {"37", 3700}, {"-0.5", -50},
        {"+1.25", 125}, {"0.01", 1},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(tn_centi(good[i].s, -10000, 10000, &v), 0);
        assert_int_equal(v, good[i].want);
    }
    const char *bad[] = {"37.295", "37.", ".5", "", "3 7", "37,3", "abc", "-", "1e2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(tn_centi(bad[i], -10000, 10000, &v), -1);
    assert_int_equal(tn_centi("40.01", 3500, 4000, &v), -1);
    assert_int_equal(tn_centi("40.00", 3500, 4000, &v), 0);
}

static void test_duration(void **state)
{
    (void)state;
    int64_t v;
    struct { const char *s; int64_t want; } good[] = {
        {"250ms", 250}, {"2s", 2000}, {"1.5s", 1500}, {"5min", 300000}, {"2h", 7200000},
        {"0s", 0},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(tn_duration_ms(good[i].s, 0, 86400000, &v), 0);
        assert_int_equal(v, good[i].want);
    }
    const char *bad[] = {"5", "5 s", "s", "-1s", "1.0005s", "5sec", "", "infs"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(tn_duration_ms(bad[i], 0, 86400000, &v), -1);
    assert_int_equal(tn_duration_ms("11s", 0, 10000, &v), -1);
    assert_int_equal(tn_duration_ms("500us", 0, 10000, &v), -1); /* not a whole ms */
    assert_int_equal(tn_duration_ms("2000us", 0, 10000, &v), 0);
    assert_int_equal(v, 2);
}

/* The formatter writes what the parser reads back, in the largest unit. */
static void test_format_ms(void **state)
{
    (void)state;
    char b[TN_DURATION_LEN];
    assert_string_equal(tn_format_ms(7200000, b), "2h");
    assert_string_equal(tn_format_ms(600000, b), "10min");
    assert_string_equal(tn_format_ms(2000, b), "2s");
    assert_string_equal(tn_format_ms(1500, b), "1500ms");
    assert_string_equal(tn_format_ms(0, b), "0ms");
    int64_t back = 0;
    assert_int_equal(tn_duration_ms(tn_format_ms(90000, b), 0, 86400000, &back), 0);
    assert_int_equal(back, 90000);
}

static void test_duration_us(void **state)
{
    (void)state;
    int64_t v;
    struct { const char *s; int64_t want; } good[] = {
        {"20us", 20}, {"150us", 150}, {"1.5ms", 1500}, {"25ms", 25000}, {"0.1s", 100000},
        {"0us", 0},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(tn_duration_us(good[i].s, 0, 60000000, &v), 0);
        assert_int_equal(v, good[i].want);
    }
    const char *bad[] = {"20", "20 us", "0.5us", "-1us", "20µs", "us", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(tn_duration_us(bad[i], 0, 60000000, &v), -1);
    assert_int_equal(tn_duration_us("2s", 0, 1000000, &v), -1);
}

static void test_times_and_dates(void **state)
{
    (void)state;
    int a, b, y, m, d;
    assert_int_equal(tn_hhmm("06:30", &a), 0);
    assert_int_equal(a, 390);
    assert_int_equal(tn_hhmm("24:00", &a), -1);
    assert_int_equal(tn_hhmm("6:30", &a), -1);
    assert_int_equal(tn_span("06:30-09:00", &a, &b), 0);
    assert_int_equal(a, 390);
    assert_int_equal(b, 540);
    assert_int_equal(tn_span("09:00-06:30", &a, &b), -1);
    assert_int_equal(tn_span("09:00-09:00", &a, &b), -1);
    assert_int_equal(tn_date("2024-02-29", &y, &m, &d), 0);
    assert_int_equal(y * 10000 + m * 100 + d, 20240229);
    assert_int_equal(tn_date("2023-02-29", &y, &m, &d), -1);
    assert_int_equal(tn_date("2023-13-01", &y, &m, &d), -1);
    assert_int_equal(tn_date("2023-1-01", &y, &m, &d), -1);
}

static void test_bool(void **state)
{
    (void)state;
    bool v = false;
    assert_int_equal(tn_bool("Yes", &v), 0);
    assert_true(v);
    assert_int_equal(tn_bool("off", &v), 0);
    assert_false(v);
    assert_int_equal(tn_bool("maybe", &v), -1);
}

static void test_utf8(void **state)
{
    (void)state;
    const char *ok = "张伟 𠮷 买买提·艾力";
    assert_int_equal(tn_utf8_invalid_at(ok, strlen(ok)), -1);
    assert_int_equal(tn_utf8_invalid_at("ab\xff", 3), 2);
    assert_int_equal(tn_utf8_invalid_at("\xc0\xaf", 2), 0);         /* overlong '/' */
    assert_int_equal(tn_utf8_invalid_at("x\xe5\xbc", 3), 1);        /* truncated */
    assert_int_equal(tn_utf8_invalid_at("\xed\xa0\x80", 3), 0);     /* surrogate */
    assert_int_equal(tn_utf8_invalid_at("\xf4\x90\x80\x80", 4), 0); /* > U+10FFFF */
    assert_int_equal(tn_utf8_length(ok, strlen(ok)), 11);
    assert_int_equal(tn_utf8_length("a\xed\xa0\x80", 4), -1);
    assert_int_equal(tn_utf8_char("\xe5\xbc\xa0", 3), 3);
    assert_int_equal(tn_utf8_char("\xe5\xbc", 2), 0);
    /* the web's scrub: surrogates and truncated sequences too (JSON refuses them) */
    char msg[] = "x\xed\xa0\x80 \xe5\xbc\xa0\xe5";
    tn_utf8_scrub(msg, '?');
    assert_string_equal(msg, "x??? \xe5\xbc\xa0?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long),     cmocka_unit_test(test_int64),
        cmocka_unit_test(test_centi_exact),
        cmocka_unit_test(test_duration), cmocka_unit_test(test_duration_us),
        cmocka_unit_test(test_format_ms),
        cmocka_unit_test(test_times_and_dates),
        cmocka_unit_test(test_bool),     cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
