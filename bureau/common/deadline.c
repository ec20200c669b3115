/* Days and deadlines as people and API readers write them (deadline.h). */
#include "deadline.h"

#include <stdio.h>
#include <string.h>

#include "textnum.h"

#define COUNTY_MAX_CHARS 100

static const char *const names[DEADLINE_COUNT] = {"morning", "day"};

const char *deadline_name(enum deadline d)
{
    return (unsigned)d < DEADLINE_COUNT ? names[d] : "?";
}

int deadline_parse(const char *s, enum deadline *out, char *why, size_t n)
{
    for (int i = 0; i < DEADLINE_COUNT; i++)
        if (s && strcmp(s, names[i]) == 0) {
            *out = (enum deadline)i;
            return 0;
        }
    snprintf(why, n, "\"%s\" is not a deadline (morning or day)", s ? s : "");
    return -1;
}

int deadline_minute(const struct bcfg_deadlines *c, enum deadline d)
{
    return d == DEADLINE_MORNING ? c->morning : c->day;
}

enum deadline deadline_default(const struct bcfg_deadlines *c, int day_vs_today,
                               int now_minute)
{
    if (day_vs_today < 0)
        return DEADLINE_DAY;
    if (day_vs_today > 0)
        return DEADLINE_MORNING;
    return now_minute >= c->day ? DEADLINE_DAY : DEADLINE_MORNING;
}

int county_check(const char *s, char *why, size_t n)
{
    size_t len = strlen(s);
    long chars = tn_utf8_length(s, len);
    const char *problem = len == 0 ? "is empty" : chars < 0 ? "is not UTF-8" : NULL;
    for (size_t i = 0; !problem && i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            problem = "has a control character";
    if (!problem && chars > COUNTY_MAX_CHARS)
        problem = "is too long";
    if (problem)
        snprintf(why, n, "%s (a county's name: at most %d characters)", problem,
                 COUNTY_MAX_CHARS);
    return problem ? -1 : 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil):
 * only differences are used, to count a range's days. */
static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = y / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int day_number(const char *s, long *num)
{
    int y, m, d;
    if (tn_date(s, &y, &m, &d) < 0)
        return -1;
    *num = days_from_civil(y, m, d);
    return 0;
}

int day_parse(const char *s, char out[DAY_LEN], char *why, size_t n)
{
    long num;
    if (!s || day_number(s, &num) < 0) {
        snprintf(why, n, "\"%s\" is not a date YYYY-MM-DD", s ? s : "");
        return -1;
    }
    memcpy(out, s, DAY_LEN);
    return 0;
}

int day_weekday(const char *day)
{
    long num = 0;
    day_number(day, &num);
    return (int)(((num + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
}

int day_range_parse(const char *s, char from[DAY_LEN], char to[DAY_LEN], int *days, char *why,
                    size_t n)
{
    const char *dots = s ? strstr(s, "..") : NULL;
    char first[DAY_LEN + 8];
    long a, b;
    if (!dots) {
        if (day_parse(s, from, why, n) < 0)
            return -1;
        memcpy(to, from, DAY_LEN);
        *days = 1;
        return 0;
    }
    snprintf(first, sizeof first, "%.*s", (int)(dots - s < 16 ? dots - s : 16), s);
    if (day_parse(first, from, why, n) < 0 || day_parse(dots + 2, to, why, n) < 0)
        return -1;
    day_number(from, &a);
    day_number(to, &b);
    if (b < a) {
        snprintf(why, n, "%s: the range ends before it starts", s);
        return -1;
    }
    if (b - a + 1 > DAY_RANGE_MAX) {
        snprintf(why, n, "%s: %ld days; at most %d at once", s, b - a + 1, DAY_RANGE_MAX);
        return -1;
    }
    *days = (int)(b - a + 1);
    return 0;
}
