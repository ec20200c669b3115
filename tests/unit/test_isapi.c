/* The Hikvision ISAPI body parser (drivers/isapi.c) on bodies shaped like the
 * public examples: JSON and multipart, the variants firmwares write, and what is
 * refused with a reason. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "isapi.h"

#define ACE(fields)                                                                          \
    "{\"ipAddress\":\"192.168.1.64\",\"dateTime\":\"2026-12-06T08:01:02+08:00\","            \
    "\"eventType\":\"AccessControllerEvent\",\"AccessControllerEvent\":{" fields "}}"

static enum isapi_result parse(const char *ctype, const char *body, struct terminal_event *ev,
                               char *why)
{
    return isapi_parse(ctype, body, strlen(body), ev, why, 160);
}

static void test_json_event(void **state)
{
    (void)state;
    struct terminal_event ev;
    char why[160];
    const char *body = ACE("\"majorEventType\":5,\"subEventType\":75,\"employeeNoString\":\"S1\","
                           "\"cardNo\":\"1001\",\"serialNo\":85793,\"mask\":\"unknown\","
                           "\"thermometryUnit\":\"celsius\",\"currTemperature\":36.600000,"
                           "\"isAbnomalTemperature\":false");
    assert_int_equal(parse("application/json", body, &ev, why), ISAPI_EVENT);
    assert_true(ev.has_employee);
    assert_string_equal(ev.employee, "S1");
    assert_true(ev.has_card);
    assert_int_equal(ev.card, 1001);
    assert_true(ev.has_serial);
    assert_int_equal(ev.serial, 85793);
    assert_true(ev.has_temp);
    assert_int_equal(ev.temp_centi, 3660);
    assert_int_equal(ev.abnormal, 0);
    assert_string_equal(ev.mask, "unknown");
    assert_string_equal(ev.device_time, "2026-12-06T08:01:02+08:00");
    assert_true(ev.has_device_ms);
    assert_int_equal(ev.device_ms, 1796515262000); /* 2026-12-06 00:01:02 UTC */
    assert_int_equal(ev.major, 5);
    assert_int_equal(ev.minor, 75);
}

static void test_variants(void **state)
{
    (void)state;
    struct terminal_event ev;
    char why[160];
    /* Fahrenheit; employeeNo as a number; time inside the event; major/minor. */
    const char *f = "{\"eventType\":\"AccessControllerEvent\",\"AccessControllerEvent\":{"
                    "\"employeeNo\":1001,\"time\":\"2026-12-06T08:00:00+08:00\",\"major\":5,"
                    "\"minor\":38,\"thermometryUnit\":\"fahrenheit\",\"currTemperature\":100.4,"
                    "\"isAbnomalTemperature\":true}}";
    assert_int_equal(parse(NULL, f, &ev, why), ISAPI_EVENT);
    assert_string_equal(ev.employee, "1001");
    assert_int_equal(ev.temp_centi, 3800);
    assert_int_equal(ev.abnormal, 1);
    assert_false(ev.has_serial);
    assert_string_equal(ev.device_time, "2026-12-06T08:00:00+08:00");
    assert_int_equal(ev.minor, 38);
    /* The XML's root kept as a wrapper. */
    const char *w = "{\"EventNotificationAlert\":" ACE("\"cardNo\":\"77\"") "}";
    assert_int_equal(parse("application/json", w, &ev, why), ISAPI_EVENT);
    assert_true(ev.has_card && !ev.has_employee && !ev.has_temp);
}

/* The terminal's clock as an instant: only with its offset (or Z). */
static void test_device_time(void **state)
{
    (void)state;
    static const struct {
        const char *when;
        bool known;
        int64_t ms;
    } cases[] = {
        {"2026-12-06T00:01:02Z", true, 1796515262000},
        {"2026-12-06T08:01:02.123+0800", true, 1796515262000},
        {"2024-03-01T07:59:59+08:00", true, 1709251199000}, /* across a leap day */
        {"2024-02-29T20:59:59-03:00", true, 1709251199000},
        {"2026-12-06T08:01:02", false, 0},     /* whose zone? */
        {"2026-12-06T08:01:02+8", false, 0},
        {"2026-13-06T08:01:02Z", false, 0},
        {"2026-12-06T24:01:02Z", false, 0},
        {"2026-12-06T08:01:02+08:00x", false, 0},
        {"20261206T080102Z", false, 0},
        {"", false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[256], why[160];
        struct terminal_event ev;
        snprintf(body, sizeof body, "{\"eventType\":\"AccessControllerEvent\","
                 "\"dateTime\":\"%s\",\"AccessControllerEvent\":{\"cardNo\":\"1\"}}",
                 cases[i].when);
        assert_int_equal(parse(NULL, body, &ev, why), ISAPI_EVENT);
        if (ev.has_device_ms != cases[i].known || (cases[i].known && ev.device_ms != cases[i].ms))
            fail_msg("%s: known %d ms %lld", cases[i].when, ev.has_device_ms,
                     (long long)ev.device_ms);
    }
}

static void test_ignored_and_bad(void **state)
{
    (void)state;
    struct terminal_event ev;
    char why[160];
    assert_int_equal(parse(NULL, "{\"eventType\":\"heartBeat\"}", &ev, why), ISAPI_IGNORED);
    assert_int_equal(parse(NULL, ACE("\"majorEventType\":3,\"subEventType\":112"), &ev, why),
                     ISAPI_IGNORED); /* a door event: nobody, no temperature */
    assert_int_equal(parse(NULL, "{\"eventType\":", &ev, why), ISAPI_BAD);
    assert_non_null(strstr(why, "JSON"));
    assert_int_equal(parse(NULL, "[1]", &ev, why), ISAPI_BAD);
    assert_int_equal(parse(NULL, "{\"eventType\":\"AccessControllerEvent\"}", &ev, why), ISAPI_BAD);
    assert_int_equal(parse(NULL, ACE("\"currTemperature\":\"hot\""), &ev, why), ISAPI_BAD);
    assert_int_equal(parse(NULL, ACE("\"currTemperature\":36.5,\"thermometryUnit\":\"kelvin\""),
                           &ev, why), ISAPI_BAD);
    assert_non_null(strstr(why, "kelvin"));
    assert_int_equal(parse(NULL, ACE("\"currTemperature\":1e300"), &ev, why), ISAPI_BAD);
    /* A card that is not a decimal number is no card (the id still counts). */
    assert_int_equal(parse(NULL, ACE("\"cardNo\":\"12ab\",\"employeeNoString\":\"S1\""), &ev,
                           why), ISAPI_EVENT);
    assert_false(ev.has_card);
}

#define PART(name, body)                                                                     \
    "--MIME_boundary\r\nContent-Disposition: form-data; name=\"" name "\"\r\n"               \
    "Content-Type: application/json\r\n\r\n" body "\r\n"
#define JPEG                                                                                 \
    "--MIME_boundary\r\nContent-Disposition: form-data; name=\"Picture\"; "                  \
    "filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8--MIME_boundar\xff\xd9\r\n"
#define CT "multipart/form-data; boundary=MIME_boundary"

static void test_multipart(void **state)
{
    (void)state;
    struct terminal_event ev;
    char why[160];
    const char *a = PART("AccessControllerEvent", ACE("\"employeeNoString\":\"S2\","
                         "\"currTemperature\":38.4,\"serialNo\":7")) JPEG "--MIME_boundary--\r\n";
    assert_int_equal(parse(CT, a, &ev, why), ISAPI_EVENT);
    assert_string_equal(ev.employee, "S2");
    assert_int_equal(ev.temp_centi, 3840);
    /* event_log, after a picture, quoted boundary, other header case. */
    const char *b = "--b\r\nContent-Disposition: form-data; name=\"Picture\"\r\n\r\nxx\r\n"
                    "--b\r\ncontent-disposition: form-data; name=\"event_log\"\r\n\r\n"
                    ACE("\"employeeNoString\":\"S3\"") "\r\n--b--\r\n";
    assert_int_equal(parse("multipart/form-data; boundary=\"b\"", b, &ev, why), ISAPI_EVENT);
    assert_string_equal(ev.employee, "S3");
    /* Refusals, each with a reason. */
    assert_int_equal(parse("multipart/form-data", a, &ev, why), ISAPI_BAD);
    assert_non_null(strstr(why, "boundary"));
    assert_int_equal(parse(CT, JPEG "--MIME_boundary--\r\n", &ev, why), ISAPI_BAD);
    assert_non_null(strstr(why, "AccessControllerEvent"));
    assert_int_equal(parse(CT, "--MIME_boundary\r\nContent-Disposition: form-data; "
                               "name=\"event_log\"\r\n\r\n{}", &ev, why), ISAPI_BAD);
    assert_non_null(strstr(why, "not closed"));
    assert_int_equal(parse(CT, "--MIME_boundary\r\nX: y", &ev, why), ISAPI_BAD);
    assert_non_null(strstr(why, "headers"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_event),
        cmocka_unit_test(test_variants),
        cmocka_unit_test(test_device_time),
        cmocka_unit_test(test_ignored_and_bad),
        cmocka_unit_test(test_multipart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
