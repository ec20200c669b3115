#include "textnum.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* long long: 64 bits on every target, where long is 32 on armhf (a card number
 * above 2^31 must still parse there). */
static int tn_integer(const char *s, int base, long long min, long long max, long long *out)
{
    if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, base);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int tn_integer_long(const char *s, int base, long min, long max, long *out)
{
    long long v;
    if (tn_integer(s, base, min, max, &v) < 0)
        return -1;
    *out = (long)v;
    return 0;
}

int tn_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    long long v;
    if (tn_integer(s, 10, min, max, &v) < 0)
        return -1;
    *out = v;
    return 0;
}

int tn_long(const char *s, long min, long max, long *out)
{
    return tn_integer_long(s, 10, min, max, out);
}

int tn_long_hex(const char *s, long min, long max, long *out)
{
    if (s && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return s[2] == '\0' || s[2] == '-' || s[2] == '+' ? -1
                                                          : tn_integer_long(s + 2, 16, min, max, out);
    return tn_integer_long(s, 10, min, max, out);
}

int tn_centi(const char *s, long min, long max, long *out)
{
    if (s == NULL)
        return -1;
    const char *p = s;
    int neg = 0;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    long whole = 0, frac = 0;
    int nwhole = 0, nfrac = 0;
    for (; isdigit((unsigned char)*p); p++, nwhole++) {
        if (whole > 100000000L)
            return -1;
        whole = whole * 10 + (*p - '0');
    }
    if (*p == '.') {
        for (p++; isdigit((unsigned char)*p); p++, nfrac++) {
            if (nfrac >= 2)
                return -1; /* hundredths is the resolution we store */
            frac = frac * 10 + (*p - '0');
        }
        if (nfrac == 0)
            return -1;
    }
    if (*p != '\0' || nwhole == 0)
        return -1;
    if (nfrac == 1)
        frac *= 10;
    long v = whole * 100 + frac;
    v = neg ? -v : v;
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

char *tn_format_centi(long centi, char *buf, size_t n)
{
    unsigned long a = centi < 0 ? 0UL - (unsigned long)centi : (unsigned long)centi;
    snprintf(buf, n, "%s%lu.%02lu", centi < 0 ? "-" : "", a / 100, a % 100);
    return buf;
}

int tn_double(const char *s, double min, double max, double *out)
{
    if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* A number with a unit, in units of `per_second` per second (1000: ms, 1000000: µs).
 * The result must be a whole number of those units within min..max. */
static int duration(const char *s, double per_second, int64_t min, int64_t max, int64_t *out)
{
    static const struct { const char *unit; double seconds; } units[] = {
        {"us", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"min", 60}, {"h", 3600},
    };
    if (s == NULL || !(isdigit((unsigned char)*s) || *s == '.'))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || !isfinite(v))
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) != 0)
            continue;
        double n = nearbyint(v * units[i].seconds * per_second * 1e6) / 1e6;
        if (n < (double)min || n > (double)max || n != floor(n))
            return -1;
        *out = (int64_t)n;
        return 0;
    }
    return -1;
}

int tn_duration_ms(const char *s, int64_t min_ms, int64_t max_ms, int64_t *out)
{
    return duration(s, 1e3, min_ms, max_ms, out);
}

int tn_duration_us(const char *s, int64_t min_us, int64_t max_us, int64_t *out)
{
    return duration(s, 1e6, min_us, max_us, out);
}

static int two_digits(const char *s)
{
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static int hhmm_prefix(const char *s, int *out)
{
    int h = two_digits(s), m;
    if (h < 0 || h > 23 || s[2] != ':')
        return -1;
    m = two_digits(s + 3);
    if (m < 0 || m > 59)
        return -1;
    *out = h * 60 + m;
    return 0;
}

int tn_hhmm(const char *s, int *out)
{
    int v;
    if (s == NULL || strlen(s) != 5 || hhmm_prefix(s, &v) < 0)
        return -1;
    *out = v;
    return 0;
}

int tn_span(const char *s, int *start, int *end)
{
    int a, b;
    if (s == NULL || strlen(s) != 11 || s[5] != '-' || hhmm_prefix(s, &a) < 0 ||
        hhmm_prefix(s + 6, &b) < 0 || a >= b)
        return -1;
    *start = a;
    *end = b;
    return 0;
}

int tn_date(const char *s, int *year, int *month, int *day)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    int c = two_digits(s), y2 = two_digits(s + 2), m = two_digits(s + 5), d = two_digits(s + 8);
    if (c < 0 || y2 < 0 || m < 1 || m > 12 || d < 1)
        return -1;
    int y = c * 100 + y2;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || d > mdays[m - 1] + (m == 2 && leap))
        return -1;
    *year = y;
    *month = m;
    *day = d;
    return 0;
}

int tn_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
            *out = strcasecmp(s, yes[i]) == 0;
            return 0;
        }
    }
    return -1;
}

size_t tn_utf8_char(const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    if (n == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    size_t len;
    unsigned long cp, min;
    if ((s[0] & 0xE0) == 0xC0) { len = 2; cp = s[0] & 0x1Fu; min = 0x80; }
    else if ((s[0] & 0xF0) == 0xE0) { len = 3; cp = s[0] & 0x0Fu; min = 0x800; }
    else if ((s[0] & 0xF8) == 0xF0) { len = 4; cp = s[0] & 0x07u; min = 0x10000; }
    else return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

long tn_utf8_invalid_at(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t len = tn_utf8_char(s + i, n - i);
        if (len == 0)
            return (long)i;
        i += len;
    }
    return -1;
}

long tn_utf8_length(const char *s, size_t n)
{
    long chars = 0;
    for (size_t i = 0, len; i < n; i += len, chars++)
        if ((len = tn_utf8_char(s + i, n - i)) == 0)
            return -1;
    return chars;
}

void tn_utf8_scrub(char *s, char repl)
{
    size_t n = strlen(s);
    for (size_t i = 0, len; i < n; i += len)
        if ((len = tn_utf8_char(s + i, n - i)) == 0) {
            s[i] = repl;
            len = 1;
        }
}

void tn_append(char *buf, size_t n, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, n - used, fmt, ap);
    va_end(ap);
}

const char *tn_format_ms(int64_t ms, char buf[TN_DURATION_LEN])
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{3600000, "h"}, {60000, "min"}, {1000, "s"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms != 0 && ms % units[i].ms == 0) {
            snprintf(buf, TN_DURATION_LEN, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return buf;
        }
    snprintf(buf, TN_DURATION_LEN, "%lldms", (long long)ms);
    return buf;
}
