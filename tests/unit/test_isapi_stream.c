/* The alertStream parser (drivers/isapi_stream.c) and the XML alert parser
 * (isapi_parse_xml) on streams shaped like the public examples: XML heartbeats
 * (videoloss), JSON and XML AccessControllerEvents, JPEG parts with and without
 * Content-Length, fed whole and a byte at a time; bounds and resynchronisation. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "isapi.h"
#include "isapi_stream.h"

#define HB "<EventNotificationAlert version=\"2.0\" xmlns=\"http://www.hikvision.com/ver20/XMLSchema\">" \
           "<ipAddress>10.0.0.5</ipAddress><eventType>videoloss</eventType>"                   \
           "<eventState>inactive</eventState></EventNotificationAlert>"
#define JS "{\"dateTime\":\"2026-12-06T08:00:00+08:00\",\"eventType\":\"AccessControllerEvent\"," \
           "\"AccessControllerEvent\":{\"employeeNoString\":\"S1\",\"serialNo\":7,"              \
           "\"currTemperature\":36.5,\"thermometryUnit\":\"celsius\"}}"
#define XA "<EventNotificationAlert version=\"2.0\"><dateTime>2026-12-06T08:00:01+08:00</dateTime>" \
           "<eventType>AccessControllerEvent</eventType><AccessControllerEvent>"                    \
           "<employeeNoString>S2</employeeNoString><serialNo>8</serialNo>"                         \
           "<currTemperature>38.4</currTemperature><thermometryUnit>celsius</thermometryUnit>"      \
           "<isAbnomalTemperature>true</isAbnomalTemperature><mask>yes</mask>"                    \
           "</AccessControllerEvent></EventNotificationAlert>"
#define JPEG "\xff\xd8\xff\xe0 --boundar \r\n-- \xff\xd9"

struct got {
    int json, xml, events;
    char last[64];
};

static void on_part(void *arg, enum isapi_part kind, const char *d, size_t n)
{
    struct got *g = arg;
    struct terminal_event ev;
    char why[160];
    enum isapi_result r = kind == ISAPI_PART_JSON ? isapi_parse_json(d, n, &ev, why, sizeof why)
                                                  : isapi_parse_xml(d, n, &ev, why, sizeof why);
    g->json += kind == ISAPI_PART_JSON;
    g->xml += kind == ISAPI_PART_XML;
    if (r == ISAPI_EVENT) {
        g->events++;
        snprintf(g->last, sizeof g->last, "%s %d %llu", ev.employee, (int)ev.temp_centi,
                 (unsigned long long)ev.serial);
    }
}

static struct got feed(const char *stream, size_t len, size_t cut, size_t max_part, int *problems)
{
    struct got g = {0};
    char why[160];
    struct isapi_stream *s =
        isapi_stream_new("multipart/mixed; boundary=boundary", max_part, why, sizeof why);
    assert_non_null(s);
    *problems = 0;
    for (size_t i = 0; i < len; i += cut)
        *problems += isapi_stream_feed(s, stream + i, len - i < cut ? len - i : cut, on_part, &g,
                                       why, sizeof why);
    isapi_stream_free(s);
    return g;
}

/* As an access-control terminal sends it: lengths given or not, a picture each way. */
static size_t hikvision(char *out, size_t n)
{
    return (size_t)snprintf(
        out, n,
        "--boundary\r\nContent-Type: application/xml; charset=\"UTF-8\"\r\n"
        "Content-Length: %zu\r\n\r\n" HB "\r\n"
        "--boundary\r\nContent-Type: application/json; charset=\"UTF-8\"\r\n"
        "Content-Length: %zu\r\n\r\n" JS "\r\n"
        "--boundary\r\nContent-Disposition: form-data; name=\"Picture\"\r\n"
        "Content-Type: image/jpeg\r\nContent-Length: %zu\r\n\r\n" JPEG "\r\n"
        "--boundary\r\nContent-Type: application/xml\r\n\r\n" XA "\r\n"
        "--boundary\r\nContent-Type: image/jpeg\r\n\r\n" JPEG "\r\n"
        "--boundary\r\n\r\n" HB "\r\n--boundary\r\n",
        strlen(HB), strlen(JS), strlen(JPEG));
}

static void test_parts_whole_and_cut(void **state)
{
    (void)state;
    char stream[4096];
    size_t len = hikvision(stream, sizeof stream);
    assert_true(len < sizeof stream);
    for (size_t cut = 1; cut <= len; cut = cut < 8 ? cut + 1 : cut * 3) {
        int problems;
        struct got g = feed(stream, len, cut, 4096, &problems);
        assert_int_equal(problems, 0);
        assert_int_equal(g.json, 1);
        assert_int_equal(g.xml, 3);
        assert_int_equal(g.events, 2);
        assert_string_equal(g.last, "S2 3840 8");
    }
}

static void test_bounds_and_resync(void **state)
{
    (void)state;
    char big[3000];
    int n = snprintf(big, sizeof big,
                     "--boundary\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n"
                     "%2000d\r\n--boundary\r\nContent-Type: application/json\r\n\r\n{\"x\":\"%0600d\"}"
                     "\r\n--boundary\r\ngarbage without an end of headers",
                     0, 0);
    int problems;
    /* A JSON part over max_part (512) with and without Content-Length: skipped, counted. */
    struct got g = feed(big, (size_t)n, 7, 512, &problems);
    assert_int_equal(problems, 2);
    assert_int_equal(g.json, 0);
    char hdr[5000];
    n = snprintf(hdr, sizeof hdr, "--boundary\r\nX: %03000d\r\n\r\n{}\r\n--boundary\r\n\r\n" JS
                 "\r\n--boundary--\r\n", 0);
    g = feed(hdr, (size_t)n, 100, 512, &problems);
    assert_int_equal(problems, 1); /* headers over ISAPI_MAX_PART_HEADERS */
    assert_int_equal(g.events, 1);   /* ... and the next part is read */
    char why[160];
    assert_null(isapi_stream_new("application/json", 512, why, sizeof why));
    assert_non_null(strstr(why, "not multipart"));
}

static void test_xml_alert(void **state)
{
    (void)state;
    struct terminal_event ev;
    char why[160];
    assert_int_equal(isapi_parse_xml(XA, strlen(XA), &ev, why, sizeof why), ISAPI_EVENT);
    assert_string_equal(ev.employee, "S2");
    assert_int_equal(ev.temp_centi, 3840);
    assert_int_equal(ev.abnormal, 1);
    assert_string_equal(ev.mask, "yes");
    assert_true(ev.has_device_ms);
    assert_int_equal(isapi_parse_xml(HB, strlen(HB), &ev, why, sizeof why), ISAPI_IGNORED);
    const char *f = "<EventNotificationAlert><eventType>AccessControllerEvent</eventType>"
                    "<AccessControllerEvent><currTemperature>hot</currTemperature>"
                    "</AccessControllerEvent></EventNotificationAlert>";
    assert_int_equal(isapi_parse_xml(f, strlen(f), &ev, why, sizeof why), ISAPI_BAD);
    assert_non_null(strstr(why, "currTemperature"));
    assert_int_equal(isapi_parse_xml("<x/>", 4, &ev, why, sizeof why), ISAPI_BAD);
    const char *attr = "<EventNotificationAlert><eventType>AccessControllerEvent</eventType>"
                       "<AccessControllerEvent version=\"2.0\"><employeeNoString>S9"
                       "</employeeNoString></AccessControllerEvent></EventNotificationAlert>";
    assert_int_equal(isapi_parse_xml(attr, strlen(attr), &ev, why, sizeof why), ISAPI_EVENT);
    assert_string_equal(ev.employee, "S9");
    const char *none = "<EventNotificationAlert><eventType>AccessControllerEvent</eventType>"
                       "<AccessControllerEventX/></EventNotificationAlert>";
    assert_int_equal(isapi_parse_xml(none, strlen(none), &ev, why, sizeof why), ISAPI_BAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parts_whole_and_cut),
        cmocka_unit_test(test_bounds_and_resync),
        cmocka_unit_test(test_xml_alert),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
