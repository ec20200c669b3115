/* Hikvision ISAPI event bodies (isapi.h). Field names and variants, from public
 * ISAPI material and open-source receivers (README "HTTP terminals", sources):
 * the alert's eventType "AccessControllerEvent" and dateTime; in its
 * AccessControllerEvent object employeeNoString (older firmware: employeeNo, a
 * number), cardNo (a decimal string), currTemperature with thermometryUnit
 * ("celsius", "fahrenheit"), isAbnomalTemperature (sic), mask ("yes", "no",
 * "unknown"), serialNo, majorEventType/subEventType (event searches say
 * major/minor), and time where the alert has no dateTime. */
#include "isapi.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *find(const char *hay, size_t n, const char *needle, size_t m);

static enum isapi_result bad(char *why, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum isapi_result bad(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return ISAPI_BAD;
}

static void copy_text(const json_t *v, char *out, size_t n)
{
    if (json_is_string(v))
        snprintf(out, n, "%s", json_string_value(v));
}

/* A number or a decimal string of digits, as firmwares write either. */
static int unsigned_of(const json_t *v, uint64_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 19 || strspn(s, "0123456789") != n)
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = x * 10 + (uint64_t)(s[i] - '0');
    *out = x;
    return 0;
}

static int int_of(const json_t *a, const json_t *b)
{
    const json_t *v = json_is_integer(a) ? a : b;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100000)
        return -1;
    return (int)json_integer_value(v);
}

static void identity(const json_t *ace, struct terminal_event *out)
{
    const json_t *emp = json_object_get(ace, "employeeNoString");
    uint64_t num;
    if (json_is_string(emp) && json_string_length(emp) > 0 &&
        json_string_length(emp) < sizeof out->employee) {
        copy_text(emp, out->employee, sizeof out->employee);
        out->has_employee = true;
    } else if (unsigned_of(json_object_get(ace, "employeeNo"), &num) == 0 && num > 0) {
        snprintf(out->employee, sizeof out->employee, "%llu", (unsigned long long)num);
        out->has_employee = true;
    }
    out->has_card = unsigned_of(json_object_get(ace, "cardNo"), &out->card) == 0;
}

/* -1: a temperature we cannot believe is a body's in any unit. */
static int temperature(const json_t *ace, struct terminal_event *out, char *why, size_t n)
{
    const json_t *t = json_object_get(ace, "currTemperature");
    if (!t)
        return 0;
    if (!json_is_number(t))
        return bad(why, n, "currTemperature is not a number"), -1;
    double c = json_number_value(t);
    const char *unit = json_string_value(json_object_get(ace, "thermometryUnit"));
    if (unit && strcasecmp(unit, "fahrenheit") == 0)
        c = (c - 32.0) * 5.0 / 9.0;
    else if (unit && strcasecmp(unit, "celsius") != 0)
        return bad(why, n, "thermometryUnit \"%.20s\" is neither celsius nor fahrenheit", unit), -1;
    if (!isfinite(c) || c < -100.0 || c > 200.0)
        return bad(why, n, "currTemperature %g is out of any range", c), -1;
    out->has_temp = true;
    out->temp_centi = (int32_t)lround(c * 100.0);
    return 0;
}

/* Digits at s[0..n-1] as a number within [lo, hi]; -1 otherwise. */
static int digits(const char *s, int n, int lo, int hi)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v >= lo && v <= hi ? v : -1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int64_t)era * 146097 + doe - 719468;
}

/* ISO 8601 as terminals write it: YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM|+HHMM).
 * Without an offset the instant is unknown (whose zone?): -1. */
static int iso8601_ms(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
        s[16] != ':')
        return -1;
    int y = digits(s, 4, 1970, 9999), mo = digits(s + 5, 2, 1, 12), d = digits(s + 8, 2, 1, 31);
    int h = digits(s + 11, 2, 0, 23), mi = digits(s + 14, 2, 0, 59), se = digits(s + 17, 2, 0, 60);
    if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0)
        return -1;
    const char *z = s + 19;
    if (*z == '.')
        for (z++; *z >= '0' && *z <= '9'; z++)
            ;
    int off = 0;
    if (*z == 'Z' && z[1] == '\0') {
        off = 0;
    } else if ((*z == '+' || *z == '-') && (strlen(z) == 6 || strlen(z) == 5)) {
        int oh = digits(z + 1, 2, 0, 14), om = digits(z + (z[3] == ':' ? 4 : 3), 2, 0, 59);
        if (oh < 0 || om < 0 || (strlen(z) == 6 && z[3] != ':'))
            return -1;
        off = (*z == '-' ? -1 : 1) * (oh * 60 + om);
    } else {
        return -1;
    }
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off * 60;
    *out = secs * 1000;
    return 0;
}

static void fill(const json_t *alert, const json_t *ace, struct terminal_event *out)
{
    identity(ace, out);
    const json_t *ab = json_object_get(ace, "isAbnomalTemperature");
    out->abnormal = json_is_boolean(ab) ? (int8_t)json_is_true(ab) : -1;
    copy_text(json_object_get(ace, "mask"), out->mask, sizeof out->mask);
    out->has_serial = unsigned_of(json_object_get(ace, "serialNo"), &out->serial) == 0;
    const json_t *when = json_object_get(alert, "dateTime");
    if (!json_is_string(when))
        when = json_object_get(ace, "dateTime");
    if (!json_is_string(when))
        when = json_object_get(ace, "time");
    copy_text(when, out->device_time, sizeof out->device_time);
    out->has_device_ms = iso8601_ms(out->device_time, &out->device_ms) == 0;
    out->major = int_of(json_object_get(ace, "majorEventType"), json_object_get(ace, "major"));
    out->minor = int_of(json_object_get(ace, "subEventType"), json_object_get(ace, "minor"));
}

/* The alert as a JSON tree, from a JSON body or translated from XML. */
static enum isapi_result from_root(const json_t *root, struct terminal_event *out, char *why,
                                   size_t why_len)
{
    *out = (struct terminal_event){.abnormal = -1, .major = -1, .minor = -1};
    /* The XML's root element; some firmwares keep it in their JSON. */
    const json_t *alert = json_object_get(root, "EventNotificationAlert");
    alert = json_is_object(alert) ? alert : root;
    const char *type = json_string_value(json_object_get(alert, "eventType"));
    const json_t *ace = json_object_get(alert, "AccessControllerEvent");
    if (!json_is_object(alert))
        return bad(why, why_len, "the body is not a JSON object");
    if (!type || strcmp(type, "AccessControllerEvent") != 0)
        return ISAPI_IGNORED; /* heartBeat, videoloss and the like: nothing to record */
    if (!json_is_object(ace))
        return bad(why, why_len, "eventType AccessControllerEvent without its object");
    if (temperature(ace, out, why, why_len) < 0)
        return ISAPI_BAD;
    fill(alert, ace, out);
    /* A door opening or closing names nobody and measures nothing. */
    return out->has_employee || out->has_card || out->has_temp ? ISAPI_EVENT : ISAPI_IGNORED;
}

enum isapi_result isapi_parse_json(const char *body, size_t len, struct terminal_event *out,
                                   char *why, size_t why_len)
{
    json_error_t jerr;
    *out = (struct terminal_event){.abnormal = -1, .major = -1, .minor = -1};
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return bad(why, why_len, "JSON at byte %d: %s", jerr.position, jerr.text);
    enum isapi_result r = from_root(root, out, why, why_len);
    json_decref(root);
    return r;
}

/* ---- XML EventNotificationAlert (alertStream parts) ------------------------------ */

/* The elements we read, and how their text becomes JSON: the XML has no types, the
 * JSON the rest of this file reads has (identities and times stay text). */
enum xml_as { AS_TEXT, AS_NUMBER, AS_BOOL };
static const struct { const char *tag; enum xml_as as; } xml_fields[] = {
    {"employeeNoString", AS_TEXT}, {"employeeNo", AS_TEXT}, {"cardNo", AS_TEXT},
    {"currTemperature", AS_NUMBER}, {"thermometryUnit", AS_TEXT},
    {"isAbnomalTemperature", AS_BOOL}, {"mask", AS_TEXT}, {"serialNo", AS_NUMBER},
    {"majorEventType", AS_NUMBER}, {"subEventType", AS_NUMBER}, {"time", AS_TEXT},
};

/* The text of the first <tag>...</tag> in [s, s+n): 0 and its span, or -1. */
static int xml_text(const char *s, size_t n, const char *tag, const char **text, size_t *len)
{
    char open[48], close[48];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = find(s, n, open, strlen(open));
    if (!a)
        return -1;
    a += strlen(open);
    const char *b = find(a, (size_t)(s + n - a), close, strlen(close));
    if (!b || b - a > 64 || memchr(a, '<', (size_t)(b - a)) || memchr(a, '&', (size_t)(b - a)))
        return -1; /* nested, entity-escaped or absurd: not a value we read */
    *text = a;
    *len = (size_t)(b - a);
    return 0;
}

static json_t *xml_value(const char *t, size_t n, enum xml_as as)
{
    char buf[72];
    snprintf(buf, sizeof buf, "%.*s", (int)n, t);
    char *end = NULL;
    if (as == AS_BOOL)
        return strcmp(buf, "true") == 0 ? json_true() : strcmp(buf, "false") == 0 ? json_false()
                                                                                  : NULL;
    if (as == AS_TEXT)
        return json_string(buf);
    double d = strtod(buf, &end);
    if (n == 0 || *end != '\0' || !isfinite(d))
        return json_string(buf); /* left for the JSON checks to refuse */
    return strspn(buf, "0123456789") == n && n < 18 ? json_integer((json_int_t)d) : json_real(d);
}

enum isapi_result isapi_parse_xml(const char *body, size_t len, struct terminal_event *out,
                                  char *why, size_t why_len)
{
    const char *t, *ace;
    size_t n, acen;
    *out = (struct terminal_event){.abnormal = -1, .major = -1, .minor = -1};
    if (!find(body, len, "<EventNotificationAlert", 23))
        return bad(why, why_len, "XML without an EventNotificationAlert");
    if (xml_text(body, len, "eventType", &t, &n) < 0 || n != 21 ||
        memcmp(t, "AccessControllerEvent", 21) != 0)
        return ISAPI_IGNORED;
    /* Its start tag, with attributes or without: "<AccessControllerEvent" then '>' or
     * a space (the eventType's text is no tag). */
    for (ace = body; (ace = find(ace, (size_t)(body + len - ace), "<AccessControllerEvent", 22));
         ace++)
        if (ace + 22 < body + len && (ace[22] == '>' || ace[22] == ' '))
            break;
    if (!ace)
        return bad(why, why_len, "eventType AccessControllerEvent without its element");
    acen = (size_t)(body + len - ace);
    json_t *root = json_object(), *obj = json_object();
    if (!root || !obj || json_object_set_new(root, "AccessControllerEvent", obj) < 0) {
        json_decref(root);
        return bad(why, why_len, "out of memory");
    }
    json_object_set_new(root, "eventType", json_string("AccessControllerEvent"));
    if (xml_text(body, len, "dateTime", &t, &n) == 0)
        json_object_set_new(root, "dateTime", xml_value(t, n, AS_TEXT));
    for (size_t i = 0; i < sizeof xml_fields / sizeof xml_fields[0]; i++)
        if (xml_text(ace, acen, xml_fields[i].tag, &t, &n) == 0)
            json_object_set_new(obj, xml_fields[i].tag, xml_value(t, n, xml_fields[i].as));
    enum isapi_result r = from_root(root, out, why, why_len);
    json_decref(root);
    return r;
}

/* ---- multipart/form-data (RFC 7578), over the whole buffered body ---------------- */

static const char *find(const char *hay, size_t n, const char *needle, size_t m)
{
    if (m == 0 || m > n)
        return NULL;
    for (const char *p = hay; (p = memchr(p, needle[0], (size_t)(hay + n - p))) != NULL; p++) {
        if ((size_t)(hay + n - p) < m)
            return NULL;
        if (memcmp(p, needle, m) == 0)
            return p;
    }
    return NULL;
}

/* The boundary parameter of the Content-Type, quoted or not. */
int isapi_boundary(const char *ctype, char *out, size_t n)
{
    const char *b = ctype;
    while (b && *b && strncasecmp(b, "boundary=", 9) != 0)
        b++;
    if (!b || !*b)
        return -1;
    b += strlen("boundary=");
    bool quoted = *b == '"';
    b += quoted;
    size_t k = quoted ? strcspn(b, "\"") : strcspn(b, "; \t");
    if (k == 0 || k > 70 || k + 3 > n) /* RFC 2046: at most 70 characters */
        return -1;
    memcpy(out, "--", 2);
    memcpy(out + 2, b, k);
    out[k + 2] = '\0';
    return 0;
}

/* Whether the part's headers name it AccessControllerEvent or event_log. */
static bool is_event_part(const char *h, size_t n)
{
    static const char *const names[] = {"name=\"AccessControllerEvent\"", "name=\"event_log\"",
                                        "name=AccessControllerEvent", "name=event_log"};
    const char *cd = h;
    while (cd + 20 <= h + n && strncasecmp(cd, "content-disposition:", 20) != 0)
        cd++;
    if (cd + 20 > h + n)
        return false;
    size_t rest = (size_t)(h + n - cd), line = rest;
    const char *eol = find(cd, rest, "\r\n", 2);
    if (eol)
        line = (size_t)(eol - cd);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (find(cd, line, names[i], strlen(names[i])))
            return true;
    return false;
}

int isapi_multipart_json(const char *ctype, const char *body, size_t len, const char **part,
                         size_t *part_len, char *why, size_t why_len)
{
    char delim[80];
    if (isapi_boundary(ctype, delim, sizeof delim) < 0)
        return bad(why, why_len, "multipart without a usable boundary"), -1;
    size_t dn = strlen(delim);
    const char *end = body + len, *p = find(body, len, delim, dn);
    for (int i = 0; p && i < ISAPI_MAX_PARTS; i++) {
        p += dn;
        if (end - p >= 2 && memcmp(p, "--", 2) == 0)
            break; /* the closing delimiter */
        const char *hdr_end = find(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!hdr_end || hdr_end - p > ISAPI_MAX_PART_HEADERS)
            return bad(why, why_len, "multipart part %d: headers not ended in %d bytes", i + 1,
                       ISAPI_MAX_PART_HEADERS), -1;
        const char *data = hdr_end + 4;
        char close[84] = "\r\n";
        memcpy(close + 2, delim, dn + 1);
        const char *next = find(data, (size_t)(end - data), close, dn + 2);
        if (!next)
            return bad(why, why_len, "multipart part %d is not closed by the boundary", i + 1), -1;
        if (is_event_part(p, (size_t)(hdr_end - p))) {
            *part = data;
            *part_len = (size_t)(next - data);
            return 0;
        }
        p = next + 2;
    }
    return bad(why, why_len, "multipart without a part named AccessControllerEvent or "
                             "event_log (in its first %d parts)", ISAPI_MAX_PARTS), -1;
}

enum isapi_result isapi_parse(const char *ctype, const char *body, size_t len,
                              struct terminal_event *out, char *why, size_t why_len)
{
    if (ctype && strncasecmp(ctype, "multipart/", 10) == 0) {
        const char *part;
        size_t n;
        if (isapi_multipart_json(ctype, body, len, &part, &n, why, why_len) < 0)
            return ISAPI_BAD;
        return isapi_parse_json(part, n, out, why, why_len);
    }
    return isapi_parse_json(body, len, out, why, why_len);
}
