/* Civil time: local days, minutes and weekdays of UTC instants in the school's zone,
 * calendar arithmetic, check windows, school days and the day clock's events. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "civil.h"
#include "log.h"
#include "textnum.h"
#include "zone.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define HOUR_MS INT64_C(3600000)

static void zone(const char *name) { assert_int_equal(zone_set(name), 0); }

/* What zone_set logs for `name`, into buf; returns its result. */
static int set_zone_logged(const char *name, char *buf, size_t n)
{
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    int rc = zone_set(name);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    rewind(tmp);
    size_t got = fread(buf, 1, n - 1, tmp);
    buf[got] = '\0';
    fclose(tmp);
    return rc;
}

/* ---- zone ---------------------------------------------------------------------- */

static void test_set_zone(void **state)
{
    (void)state;
    static const char *const bad[] = {"Asia/Nowhere", "../../etc/passwd", "Asia/../Asia/Tokyo",
                                      "/usr/share/zoneinfo/UTC", "", "Asia", "Asia/Shanghai ",
                                      "Asia/Shang\nhai"};
    char log[512];
    zone("Asia/Shanghai");
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        assert_int_equal(set_zone_logged(bad[i], log, sizeof log), -1);
        if (bad[i][0] != '\0' && strchr(bad[i], '\n') == NULL && strstr(log, bad[i]) == NULL)
            fail_msg("message for \"%s\" does not name it: %s", bad[i], log);
        assert_string_equal(getenv("TZ"), "Asia/Shanghai"); /* left as it was */
    }
    assert_int_equal(set_zone_logged(NULL, log, sizeof log), -1);
    assert_int_equal(set_zone_logged("Europe/Berlin", log, sizeof log), 0);
    assert_string_equal(log, "");
    assert_string_equal(getenv("TZ"), "Europe/Berlin");
    zone("UTC");
    zone("Asia/Shanghai");
}

/* ---- local time of instants ------------------------------------------------------ */

static void test_from_ms_shanghai(void **state)
{
    (void)state;
    static const struct {
        int64_t ms;
        const char *day;
        int minute, second, weekday;
    } t[] = {
        {1709222399999, "2024-02-29", 1439, 86399, 4}, /* 15:59:59.999Z: last ms of the day */
        {1709222400000, "2024-03-01", 0, 0, 5},        /* 16:00:00.000Z: local midnight */
        {1709222400999, "2024-03-01", 0, 0, 5},
        {1704038399999, "2023-12-31", 1439, 86399, 0}, /* New Year's Eve, a Sunday */
        {1704038400000, "2024-01-01", 0, 0, 1},
        {1581981000000, "2020-02-18", 7 * 60 + 10, (7 * 60 + 10) * 60, 2},
        {0, "1970-01-01", 8 * 60, 8 * 3600, 4},
        {-1, "1970-01-01", 7 * 60 + 59, 8 * 3600 - 1, 4}, /* floor, not towards zero */
        {-999, "1970-01-01", 7 * 60 + 59, 8 * 3600 - 1, 4},
        {253402271999999, "9999-12-31", 1439, 86399, 5},
    };
    zone("Asia/Shanghai");
    for (size_t i = 0; i < ARRAY_LEN(t); i++) {
        struct civil c;
        char day[CIVIL_DAY_LEN];
        /* armhf on Debian 12 has a 32-bit time_t (CMakeLists.txt): beyond 2038 the
         * instant is refused, not wrapped into another day. */
        if (sizeof(time_t) < 8 && t[i].ms / 1000 > INT32_MAX) {
            assert_int_equal(civil_from_ms(t[i].ms, &c), -1);
            assert_int_equal(civil_day_of(t[i].ms, day), -1);
            continue;
        }
        assert_int_equal(civil_from_ms(t[i].ms, &c), 0);
        assert_string_equal(c.day, t[i].day);
        assert_int_equal(c.minute, t[i].minute);
        assert_int_equal(c.second_of_day, t[i].second);
        assert_int_equal(c.weekday, t[i].weekday);
        assert_int_equal(civil_day_of(t[i].ms, day), 0);
        assert_string_equal(day, t[i].day);
    }
}

/* The formatters of local and UTC times (in Asia/Shanghai, set by test_set_zone). */
static void test_text(void **state)
{
    (void)state;
    char b[CIVIL_TEXT_LEN], iso[CIVIL_ISO_LEN];
    int64_t ms = 1709222399999; /* 2024-02-29 23:59:59.999 local */
    assert_string_equal(civil_local_text(ms, CIVIL_HHMM, "?", b, sizeof b), "23:59");
    assert_string_equal(civil_local_text(ms, CIVIL_DAY_HHMM, "?", b, sizeof b),
                        "2024-02-29 23:59");
    assert_string_equal(civil_local_text(ms, CIVIL_DAY_HHMMSS, "?", b, sizeof b),
                        "2024-02-29 23:59:59");
    assert_string_equal(civil_local_text(0, CIVIL_DAY_HHMM, "-", b, sizeof b), "-");
    assert_string_equal(civil_utc_iso(ms, iso), "2024-02-29T15:59:59.999Z");
    assert_string_equal(civil_utc_iso(-1, iso), "1969-12-31T23:59:59.999Z");
}

static void test_from_ms_out_of_range(void **state)
{
    (void)state;
    struct civil c = {.day = "untouched", .minute = 7};
    char day[CIVIL_DAY_LEN] = "untouched";
    zone("Asia/Shanghai");
    assert_int_equal(civil_from_ms(253402272000000, &c), -1); /* year 10000 locally */
    assert_int_equal(civil_from_ms(INT64_MAX, &c), -1);
    assert_int_equal(civil_from_ms(INT64_MIN, &c), -1);
    assert_int_equal(civil_day_of(253402272000000, day), -1);
    assert_string_equal(c.day, "untouched");
    assert_int_equal(c.minute, 7);
    assert_string_equal(day, "untouched");
    zone("America/New_York"); /* the epoch is still 1969 there */
    assert_int_equal(civil_from_ms(0, &c), -1);
    assert_int_equal(civil_from_ms(5 * HOUR_MS, &c), 0);
    assert_string_equal(c.day, "1970-01-01");
    zone("Asia/Shanghai");
}

/* ---- calendar arithmetic ------------------------------------------------------------ */

static void test_day_add(void **state)
{
    (void)state;
    static const struct {
        const char *day;
        int delta;
        const char *out;
    } t[] = {
        {"2024-02-28", 1, "2024-02-29"},  {"2024-02-29", 1, "2024-03-01"},
        {"2023-02-28", 1, "2023-03-01"},  {"2100-02-28", 1, "2100-03-01"},
        {"2000-02-28", 1, "2000-02-29"},  {"2024-12-31", 1, "2025-01-01"},
        {"2025-01-01", -1, "2024-12-31"}, {"2024-03-01", -1, "2024-02-29"},
        {"2024-01-31", 30, "2024-03-01"}, {"2024-01-01", 366, "2025-01-01"},
        {"2023-01-01", 365, "2024-01-01"}, {"2024-04-30", 1, "2024-05-01"},
        {"2024-05-05", 0, "2024-05-05"},  {"2024-01-01", -19723, "1970-01-01"},
        {"1970-01-01", 2932896, "9999-12-31"},
    };
    for (size_t i = 0; i < ARRAY_LEN(t); i++) {
        char out[CIVIL_DAY_LEN];
        assert_int_equal(civil_day_add(t[i].day, t[i].delta, out), 0);
        if (strcmp(out, t[i].out) != 0)
            fail_msg("%s %+d: got %s, expected %s", t[i].day, t[i].delta, out, t[i].out);
    }
    char same[CIVIL_DAY_LEN] = "2024-12-31"; /* in place */
    assert_int_equal(civil_day_add(same, 1, same), 0);
    assert_string_equal(same, "2025-01-01");
}

static void test_day_add_bad(void **state)
{
    (void)state;
    static const struct {
        const char *day;
        int delta;
    } t[] = {
        {"2024-02-30", 0}, {"2023-02-29", 1}, {"2024-2-01", 1},  {"2024-01-01x", 1},
        {"", 1},           {"1969-12-31", 1}, {"2024-13-01", 1}, {"2024-00-10", 1},
        {"2024/01/01", 1}, {NULL, 1},
        {"1970-01-01", -1}, {"9999-12-31", 1}, /* results outside 1970..9999 */
        {"2024-01-01", INT_MAX}, {"2024-01-01", INT_MIN},
    };
    for (size_t i = 0; i < ARRAY_LEN(t); i++) {
        char out[CIVIL_DAY_LEN] = "untouched";
        assert_int_equal(civil_day_add(t[i].day, t[i].delta, out), -1);
        assert_string_equal(out, "untouched");
    }
}

static void test_ms_at_shanghai(void **state)
{
    (void)state;
    int64_t ms = 0;
    zone("Asia/Shanghai");
    assert_int_equal(civil_ms_at("2024-03-01", 0, &ms), 0);
    assert_int_equal(ms, 1709222400000);
    assert_int_equal(civil_ms_at("2024-02-29", 86399, &ms), 0);
    assert_int_equal(ms, 1709222399000);
    assert_int_equal(civil_ms_at("1970-01-01", 8 * 3600, &ms), 0);
    assert_int_equal(ms, 0);
    /* Round trip through civil_from_ms. */
    static const int seconds[] = {0, 1, 7 * 3600, 12 * 3600 + 34 * 60 + 56, 86399};
    for (size_t i = 0; i < ARRAY_LEN(seconds); i++) {
        struct civil c;
        assert_int_equal(civil_ms_at("2024-06-15", seconds[i], &ms), 0);
        assert_int_equal(civil_from_ms(ms, &c), 0);
        assert_string_equal(c.day, "2024-06-15");
        assert_int_equal(c.second_of_day, seconds[i]);
        assert_int_equal(c.weekday, 6);
    }
    ms = 42;
    assert_int_equal(civil_ms_at("2024-02-30", 0, &ms), -1);
    assert_int_equal(civil_ms_at("2024-03-01", -1, &ms), -1);
    assert_int_equal(civil_ms_at("2024-03-01", 86400, &ms), -1);
    assert_int_equal(civil_ms_at(NULL, 0, &ms), -1);
    assert_int_equal(ms, 42);
}

/* Across the DST changes of 2024 in Berlin: 31 March (23 h), 27 October (25 h). */
static void test_ms_at_dst(void **state)
{
    (void)state;
    static const struct {
        const char *day;
        int second;
        int64_t ms;
    } t[] = {
        {"2024-03-31", 0, 1711839600000},             /* 2024-03-30T23:00Z, CET */
        {"2024-03-31", 3600 + 1800, 1711845000000},   /* 01:30 CET = 00:30Z */
        {"2024-03-31", 3 * 3600, 1711846800000},      /* 03:00 CEST = 01:00Z */
        {"2024-03-31", 2 * 3600 + 1800, 1711848600000}, /* gap: glibc takes it as CET */
        {"2024-03-31", 86399, 1711922399000},         /* 23:59:59 CEST = 21:59:59Z */
        {"2024-10-27", 2 * 3600 + 1800, 1729989000000}, /* twice: glibc takes CEST */
        {"2024-10-27", 3 * 3600, 1729994400000},      /* 03:00 CET = 02:00Z */
    };
    zone("Europe/Berlin");
    for (size_t i = 0; i < ARRAY_LEN(t); i++) {
        int64_t ms;
        assert_int_equal(civil_ms_at(t[i].day, t[i].second, &ms), 0);
        if (ms != t[i].ms)
            fail_msg("%s +%ds: got %lld, expected %lld", t[i].day, t[i].second, (long long)ms,
                     (long long)t[i].ms);
    }
    int64_t a, b, c;
    assert_int_equal(civil_ms_at("2024-03-31", 0, &a), 0);
    assert_int_equal(civil_ms_at("2024-04-01", 0, &b), 0);
    assert_int_equal(b - a, 23 * HOUR_MS);
    assert_int_equal(civil_ms_at("2024-10-27", 0, &a), 0);
    assert_int_equal(civil_ms_at("2024-10-28", 0, &c), 0);
    assert_int_equal(c - a, 25 * HOUR_MS);
    /* Local midnight after the change is still the day's start. */
    struct civil cv;
    assert_int_equal(civil_from_ms(b, &cv), 0);
    assert_string_equal(cv.day, "2024-04-01");
    assert_int_equal(cv.second_of_day, 0);
    assert_int_equal(civil_from_ms(b - 1, &cv), 0);
    assert_string_equal(cv.day, "2024-03-31");
    assert_int_equal(cv.second_of_day, 86399);
    zone("Asia/Shanghai");
}

/* ---- windows and school days -------------------------------------------------------- */

static const struct cfg_windows windows = {
    .morning_start = 7 * 60, .morning_end = 8 * 60 + 30,
    .noon_enabled = true, .noon_start = 11 * 60 + 30, .noon_end = 13 * 60,
    .absence_grace_ms = 30 * 60000, .absence_kinds = CFG_KIND_STUDENT, .school_days = 0x3E,
};

static void test_window(void **state)
{
    (void)state;
    static const struct {
        int minute;
        enum check_window expect;
    } t[] = {
        {0, WIN_NONE},       {419, WIN_NONE},  {420, WIN_MORNING}, {509, WIN_MORNING},
        {510, WIN_NONE},     {600, WIN_NONE},  {689, WIN_NONE},    {690, WIN_NOON},
        {779, WIN_NOON},     {780, WIN_NONE},  {1439, WIN_NONE},
    };
    for (size_t i = 0; i < ARRAY_LEN(t); i++)
        if (civil_window(&windows, t[i].minute) != t[i].expect)
            fail_msg("minute %d: got %s", t[i].minute,
                     check_window_name(civil_window(&windows, t[i].minute)));
    struct cfg_windows w = windows;
    w.noon_enabled = false;
    assert_int_equal(civil_window(&w, 690), WIN_NONE);
    assert_int_equal(civil_window(&w, 779), WIN_NONE);
    assert_int_equal(civil_window(&w, 420), WIN_MORNING);
    /* Back to back: the noon window starts the minute the morning one ends. */
    w.noon_enabled = true;
    w.noon_start = 510;
    w.noon_end = 540;
    assert_int_equal(civil_window(&w, 509), WIN_MORNING);
    assert_int_equal(civil_window(&w, 510), WIN_NOON);
    assert_int_equal(civil_window(&w, 540), WIN_NONE);
    assert_string_equal(check_window_name(WIN_MORNING), "morning");
    assert_string_equal(check_window_name(WIN_NOON), "noon");
    assert_string_equal(check_window_name(WIN_NONE), "none");
}

static void test_school_day(void **state)
{
    (void)state;
    static const bool weekdays[7] = {false, true, true, true, true, true, false};
    for (int d = 0; d < 7; d++)
        assert_int_equal(civil_school_day(&windows, d), weekdays[d]);
    assert_false(civil_school_day(&windows, -1));
    assert_false(civil_school_day(&windows, 7));
    struct cfg_windows w = windows;
    w.school_days = 0x1F; /* sun-thu */
    assert_true(civil_school_day(&w, 0));
    assert_true(civil_school_day(&w, 4));
    assert_false(civil_school_day(&w, 5));
    w.school_days = 0;
    for (int d = 0; d < 7; d++)
        assert_false(civil_school_day(&w, d));
}

/* ---- the day clock ------------------------------------------------------------------ */

/* 0 = Sunday; Sakamoto's method. */
static int weekday_of(const char *day)
{
    static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
    int y, m, d;
    assert_int_equal(tn_date(day, &y, &m, &d), 0);
    y -= m < 3;
    return (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;
}

static struct civil at(const char *day, const char *hhmmss)
{
    struct civil c;
    int h, m, s;
    assert_int_equal(sscanf(hhmmss, "%2d:%2d:%2d", &h, &m, &s), 3);
    snprintf(c.day, sizeof c.day, "%s", day);
    c.minute = h * 60 + m;
    c.second_of_day = c.minute * 60 + s;
    c.weekday = weekday_of(day);
    return c;
}

/* "morning-closed 03-04, absence-sweep 03-04" (days without the year). */
static void describe(const struct day_event_at *ev, int n, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%s %s", i ? ", " : "",
                              day_event_name(ev[i].event), ev[i].day + 5);
}

struct step {
    const char *day, *time;
    const char *expect;
};

#define END_OF_STEPS {NULL, NULL, NULL}

/* Runs the steps on one fresh clock; out has a guard entry that must stay as it was. */
static void run_steps(const char *name, const struct cfg_windows *w, int day_end,
                      const struct step *steps)
{
    struct day_clock clock = {0};
    for (int i = 0; steps[i].day != NULL; i++) {
        struct day_event_at out[DAY_CLOCK_MAX_EVENTS + 1];
        memset(out, 0x5A, sizeof out);
        struct civil now = at(steps[i].day, steps[i].time);
        int n = day_clock_advance(&clock, w, day_end, &now, out);
        char got[1024];
        assert_true(n >= 0 && n <= DAY_CLOCK_MAX_EVENTS);
        assert_int_equal(((unsigned char *)&out[DAY_CLOCK_MAX_EVENTS])[0], 0x5A);
        describe(out, n, got, sizeof got);
        if (strcmp(got, steps[i].expect) != 0)
            fail_msg("%s, step %d (%s %s): got \"%s\", expected \"%s\"", name, i, steps[i].day,
                     steps[i].time, got, steps[i].expect);
    }
}

/* 2024-03-04 is a Monday. Events: 08:30 morning, 09:00 sweep, 13:00 noon, 18:00 end. */
#define MON "2024-03-04"
#define TUE "2024-03-05"
#define THU "2024-03-07"
#define FRI "2024-03-08"
#define SAT "2024-03-09"
#define SUN "2024-03-10"
#define NEXT_MON "2024-03-11"
#define ALL(d) "morning-closed " d ", absence-sweep " d ", noon-closed " d ", day-end " d
#define ALL_MON ALL("03-04")
#define END_MINUTE (18 * 60)

static void test_clock_through_a_day(void **state)
{
    (void)state;
    static const struct step steps[] = {
        {MON, "06:00:00", "rollover 03-04"},
        {MON, "08:29:59", ""},
        {MON, "08:30:00", "morning-closed 03-04"},
        {MON, "08:30:00", ""},
        {MON, "08:30:01", ""},
        {MON, "08:59:59", ""},
        {MON, "09:00:00", "absence-sweep 03-04"},
        {MON, "12:59:59", ""},
        {MON, "13:00:00", "noon-closed 03-04"},
        {MON, "17:59:59", ""},
        {MON, "18:00:00", "day-end 03-04"},
        {MON, "23:59:59", ""},
        {TUE, "00:00:00", "rollover 03-05"},
        {TUE, "08:30:00", "morning-closed 03-05"},
        END_OF_STEPS,
    };
    run_steps("through a day", &windows, END_MINUTE, steps);
}

static void test_clock_first_call(void **state)
{
    (void)state;
    static const struct {
        const char *time, *expect;
    } t[] = {
        {"00:00:00", "rollover 03-04"},
        {"06:00:00", "rollover 03-04"},
        {"08:29:59", "rollover 03-04"},
        {"08:30:00", "rollover 03-04, morning-closed 03-04"},
        {"08:59:59", "rollover 03-04, morning-closed 03-04"},
        {"09:00:00", "rollover 03-04, morning-closed 03-04, absence-sweep 03-04"},
        {"13:00:00",
         "rollover 03-04, morning-closed 03-04, absence-sweep 03-04, noon-closed 03-04"},
        {"23:59:59", "rollover 03-04, " ALL_MON},
    };
    for (size_t i = 0; i < ARRAY_LEN(t); i++) {
        struct step steps[] = {{MON, t[i].time, t[i].expect}, END_OF_STEPS};
        run_steps("first call", &windows, END_MINUTE, steps);
    }
}

static void test_clock_rollover(void **state)
{
    (void)state;
    static const struct step next_day[] = {
        {MON, "08:45:00", "rollover 03-04, morning-closed 03-04"},
        {TUE, "08:45:00", "absence-sweep 03-04, noon-closed 03-04, day-end 03-04, "
                          "rollover 03-05, morning-closed 03-05"},
        {TUE, "08:45:01", ""},
        END_OF_STEPS,
    };
    run_steps("next day", &windows, END_MINUTE, next_day);
    /* The clock jumps from Monday to Thursday: Monday is finished, Tuesday and
     * Wednesday are caught up in order (no rollover of their own), then Thursday. */
    static const struct step jump[] = {
        {MON, "10:00:00", "rollover 03-04, morning-closed 03-04, absence-sweep 03-04"},
        {THU, "14:00:00", "noon-closed 03-04, day-end 03-04, " ALL("03-05") ", " ALL("03-06")
                          ", rollover 03-07, morning-closed 03-07, absence-sweep 03-07, "
                          "noon-closed 03-07"},
        {THU, "14:00:01", ""},
        END_OF_STEPS,
    };
    run_steps("multi-day jump", &windows, END_MINUTE, jump);
    /* Sixteen days: only the last DAY_CLOCK_CATCH_UP_DAYS (7) before the new day are
     * caught up, weekend days have nothing. */
    static const struct step far[] = {
        {MON, "10:00:00", "rollover 03-04, morning-closed 03-04, absence-sweep 03-04"},
        {"2024-03-20", "09:00:00", "noon-closed 03-04, day-end 03-04, " ALL("03-13") ", "
                                   ALL("03-14") ", " ALL("03-15") ", " ALL("03-18") ", "
                                   ALL("03-19") ", rollover 03-20, morning-closed 03-20, "
                                   "absence-sweep 03-20"},
        END_OF_STEPS,
    };
    run_steps("far jump", &windows, END_MINUTE, far);
    /* The most in one call: the old day's rest, seven whole school days (a week with no
     * weekend), the rollover and the whole new day. */
    struct cfg_windows every_day = windows;
    every_day.school_days = 0x7f;
    static const struct step widest[] = {
        {MON, "00:00:00", "rollover 03-04"},
        {"2024-03-12", "23:59:59", ALL_MON ", " ALL("03-05") ", " ALL("03-06") ", "
                                   ALL("03-07") ", " ALL("03-08") ", " ALL("03-09") ", "
                                   ALL("03-10") ", " ALL("03-11") ", rollover 03-12, "
                                   ALL("03-12")},
        END_OF_STEPS,
    };
    run_steps("widest", &every_day, END_MINUTE, widest);
    /* The most in one call: all of one day, the rollover, all of the next. */
    static const struct step most[] = {
        {MON, "00:00:00", "rollover 03-04"},
        {TUE, "23:59:59", ALL_MON ", rollover 03-05, morning-closed 03-05, "
                          "absence-sweep 03-05, noon-closed 03-05, day-end 03-05"},
        END_OF_STEPS,
    };
    run_steps("most events", &windows, END_MINUTE, most);
}

static void test_clock_weekend(void **state)
{
    (void)state;
    static const struct step steps[] = {
        {FRI, "19:00:00", "rollover 03-08, morning-closed 03-08, absence-sweep 03-08, "
                          "noon-closed 03-08, day-end 03-08"},
        {SAT, "00:00:01", "rollover 03-09"},
        {SAT, "20:00:00", ""},
        {SUN, "10:00:00", "rollover 03-10"},
        {SUN, "23:00:00", ""},
        {NEXT_MON, "09:30:00", "rollover 03-11, morning-closed 03-11, absence-sweep 03-11"},
        END_OF_STEPS,
    };
    run_steps("weekend", &windows, END_MINUTE, steps);
    static const struct step first_on_saturday[] = {
        {SAT, "20:00:00", "rollover 03-09"},
        {FRI, "20:00:00", "rollover 03-08, morning-closed 03-08, absence-sweep 03-08, "
                          "noon-closed 03-08, day-end 03-08"},
        END_OF_STEPS,
    };
    run_steps("first on saturday", &windows, END_MINUTE, first_on_saturday);
}

static void test_clock_backwards(void **state)
{
    (void)state;
    static const struct step within_day[] = {
        {MON, "10:00:00", "rollover 03-04, morning-closed 03-04, absence-sweep 03-04"},
        {MON, "08:00:00", ""},
        {MON, "08:30:00", ""}, /* already reported */
        {MON, "09:30:00", ""},
        {MON, "10:00:00", ""},
        {MON, "12:59:59", ""},
        {MON, "13:00:00", "noon-closed 03-04"},
        END_OF_STEPS,
    };
    run_steps("backwards within a day", &windows, END_MINUTE, within_day);
    /* Set back across midnight: the earlier day is current again and its events are
     * reported again (the clock remembers one day: the caller's record of what was
     * done, the ledger's day_events, keeps them from running twice); the abandoned
     * later day is not finished. */
    static const struct step across_midnight[] = {
        {TUE, "00:00:05", "rollover 03-05"},
        {MON, "23:59:58", "rollover 03-04, " ALL_MON},
        {TUE, "00:00:06", "rollover 03-05"},
        END_OF_STEPS,
    };
    run_steps("backwards across midnight", &windows, END_MINUTE, across_midnight);
}

static void test_clock_same_second(void **state)
{
    (void)state;
    struct cfg_windows w = windows;
    w.absence_grace_ms = 0;
    static const struct step ties[] = {
        {MON, "08:29:59", "rollover 03-04"},
        {MON, "08:30:00", "morning-closed 03-04, absence-sweep 03-04, day-end 03-04"},
        {MON, "13:00:00", "noon-closed 03-04"},
        END_OF_STEPS,
    };
    run_steps("ties", &w, 8 * 60 + 30, ties);
    /* A day end before the morning window closes comes first: events go by time. */
    static const struct step early_end[] = {
        {MON, "07:59:59", "rollover 03-04"},
        {MON, "08:00:00", "day-end 03-04"},
        {MON, "23:00:00", "morning-closed 03-04, absence-sweep 03-04, noon-closed 03-04"},
        END_OF_STEPS,
    };
    run_steps("early day end", &windows, 8 * 60, early_end);
    /* The sweep a long grace puts past midnight is capped at 23:59:59. */
    w = windows;
    w.morning_end = 20 * 60;
    w.noon_enabled = false;
    w.absence_grace_ms = 6 * HOUR_MS;
    static const struct step capped[] = {
        {MON, "23:59:58", "rollover 03-04, day-end 03-04, morning-closed 03-04"},
        {TUE, "00:00:00", "absence-sweep 03-04, rollover 03-05"},
        {TUE, "23:59:58", "day-end 03-05, morning-closed 03-05"},
        {TUE, "23:59:59", "absence-sweep 03-05"},
        END_OF_STEPS,
    };
    run_steps("capped sweep", &w, END_MINUTE, capped);
}

/* Events are keyed on the day, not on the clock: a reload (SIGHUP) that moves an
 * event's time before now makes it due at once; one that moves it after now once it
 * was reported does not report it again (issue 14, finding 5). */
static void test_clock_reload(void **state)
{
    (void)state;
    struct day_clock clock = {0};
    struct day_event_at out[DAY_CLOCK_MAX_EVENTS];
    char got[512];
    struct cfg_windows w = windows; /* morning ends 08:30, 30 min grace: sweep 09:00 */
    w.absence_grace_ms = 60000;     /* sweep 08:31 */
    struct civil now = at(MON, "07:59:00");
    int n = day_clock_advance(&clock, &w, END_MINUTE, &now, out);
    describe(out, n, got, sizeof got);
    assert_string_equal(got, "rollover 03-04");
    /* 07:59, morning = 07:00-07:50: the close (07:50) and the sweep (07:51) are past. */
    w.morning_end = 7 * 60 + 50;
    now = at(MON, "07:59:01");
    n = day_clock_advance(&clock, &w, END_MINUTE, &now, out);
    describe(out, n, got, sizeof got);
    assert_string_equal(got, "morning-closed 03-04, absence-sweep 03-04");
    /* Back to 08:30 (sweep 08:31): in the future again, but reported already. */
    w.morning_end = 8 * 60 + 30;
    static const char *const later[] = {"08:30:00", "08:31:00", "12:00:00"};
    for (size_t i = 0; i < ARRAY_LEN(later); i++) {
        now = at(MON, later[i]);
        assert_int_equal(day_clock_advance(&clock, &w, END_MINUTE, &now, out), 0);
    }
    /* The noon window moved before now: due at once; the day end too. */
    w.noon_end = 11 * 60;
    now = at(MON, "12:00:01");
    n = day_clock_advance(&clock, &w, END_MINUTE, &now, out);
    describe(out, n, got, sizeof got);
    assert_string_equal(got, "noon-closed 03-04");
    now = at(MON, "12:00:02");
    n = day_clock_advance(&clock, &w, 12 * 60, &now, out);
    describe(out, n, got, sizeof got);
    assert_string_equal(got, "day-end 03-04");
    /* Tuesday goes by the configuration as it is then. */
    now = at(TUE, "08:30:00");
    n = day_clock_advance(&clock, &w, 12 * 60, &now, out);
    describe(out, n, got, sizeof got);
    assert_string_equal(got, "rollover 03-05, morning-closed 03-05");
}

static void test_clock_bad_input(void **state)
{
    (void)state;
    struct day_clock clock = {0};
    struct day_event_at out[DAY_CLOCK_MAX_EVENTS];
    struct civil now = at(MON, "10:00:00");
    assert_int_equal(day_clock_advance(&clock, &windows, END_MINUTE, &now, out), 3);
    struct civil bad[] = {at(MON, "10:00:00"), at(MON, "10:00:00"), at(MON, "10:00:00")};
    snprintf(bad[0].day, sizeof bad[0].day, "2024-02-30");
    bad[1].second_of_day = 86400;
    bad[2].second_of_day = -1;
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        assert_int_equal(day_clock_advance(&clock, &windows, END_MINUTE, &bad[i], out), -1);
    now = at(MON, "18:00:00");
    assert_int_equal(day_clock_advance(&clock, &windows, 24 * 60, &now, out), -1);
    assert_int_equal(day_clock_advance(&clock, &windows, -1, &now, out), -1);
    /* The clock did not move. */
    assert_string_equal(clock.day, MON);
    assert_int_equal(clock.reported,
                     1u << DAY_ROLLOVER | 1u << DAY_MORNING_CLOSED | 1u << DAY_ABSENCE_SWEEP);
    assert_int_equal(day_clock_advance(&clock, &windows, END_MINUTE, &now, out), 2);
    assert_string_equal(day_event_name(DAY_ROLLOVER), "rollover");
    assert_string_equal(day_event_name(DAY_MORNING_CLOSED), "morning-closed");
    assert_string_equal(day_event_name(DAY_ABSENCE_SWEEP), "absence-sweep");
    assert_string_equal(day_event_name(DAY_NOON_CLOSED), "noon-closed");
    assert_string_equal(day_event_name(DAY_END), "day-end");
}

/* Two weeks of irregular steps, sometimes back within the day: every school day
 * gets each event exactly once, other days none, and one rollover per new day. */
static void test_clock_each_event_once(void **state)
{
    (void)state;
    enum { DAYS = 14 };
    int seen[DAYS][DAY_END + 1] = {{0}};
    struct day_clock clock = {0};
    uint32_t rnd = 12345;
    int64_t t = 5 * 3600; /* seconds since MON 00:00 */
    while (t < (int64_t)DAYS * 86400) {
        struct civil now;
        int day = (int)(t / 86400);
        assert_int_equal(civil_day_add(MON, day, now.day), 0);
        now.second_of_day = (int)(t % 86400);
        now.minute = now.second_of_day / 60;
        now.weekday = (1 + day) % 7;
        struct day_event_at out[DAY_CLOCK_MAX_EVENTS];
        int n = day_clock_advance(&clock, &windows, END_MINUTE, &now, out);
        assert_true(n >= 0 && n <= DAY_CLOCK_MAX_EVENTS);
        for (int i = 0; i < n; i++) {
            int d = 0;
            char probe[CIVIL_DAY_LEN];
            while (d < DAYS && civil_day_add(MON, d, probe) == 0 && strcmp(probe, out[i].day))
                d++;
            assert_true(d < DAYS);
            seen[d][out[i].event]++;
        }
        rnd = rnd * 1103515245u + 12345u;
        int64_t step = (int64_t)(rnd >> 8) % 5400 + 1;
        t += (rnd & 7) == 0 ? -(step % (t % 86400 + 1)) : step;
    }
    for (int d = 0; d < DAYS; d++) {
        int school = (1 + d) % 7 >= 1 && (1 + d) % 7 <= 5;
        assert_int_equal(seen[d][DAY_ROLLOVER], 1);
        for (int e = DAY_MORNING_CLOSED; e <= DAY_END; e++)
            if (seen[d][e] != school)
                fail_msg("day %d, %s: %d times", d, day_event_name((enum day_event)e),
                         seen[d][e]);
    }
}


/* ---- the term calendar (issue 19) --------------------------------------------------- */

/* Autumn term 2026: 国庆 1-7 October with Saturday 10 October worked (调休). */
static struct cfg_windows term_windows(void)
{
    struct cfg_windows w = windows;
    struct cfg_calendar *c = &w.calendar;
    snprintf(c->term_start, sizeof c->term_start, "2026-09-01");
    snprintf(c->term_end, sizeof c->term_end, "2027-01-20");
    c->nholidays = 2;
    snprintf(c->holidays[0].from, CFG_DAY_LEN, "2026-10-01");
    snprintf(c->holidays[0].to, CFG_DAY_LEN, "2026-10-07");
    snprintf(c->holidays[1].from, CFG_DAY_LEN, "2027-01-01");
    snprintf(c->holidays[1].to, CFG_DAY_LEN, "2027-01-01");
    c->nworkdays = 2;
    snprintf(c->workdays[0], CFG_DAY_LEN, "2026-10-10");
    snprintf(c->workdays[1], CFG_DAY_LEN, "2026-03-29"); /* outside the term: no effect */
    return w;
}

static void test_calendar_kinds(void **state)
{
    (void)state;
    struct cfg_windows w = term_windows();
    static const struct {
        const char *day;
        enum civil_day_kind kind;
        bool closed_weekday;
    } t[] = {
        {"2026-08-31", CIVIL_OUT_OF_TERM, false}, /* a Monday before the term */
        {"2026-09-01", CIVIL_SCHOOL_DAY, false},  /* the first day */
        {"2026-09-05", CIVIL_WEEKEND, false},
        {"2026-09-30", CIVIL_SCHOOL_DAY, false},
        {"2026-10-01", CIVIL_HOLIDAY, true},      /* Thursday: the bureau hears "closed" */
        {"2026-10-03", CIVIL_HOLIDAY, false},     /* Saturday: it would not have been open */
        {"2026-10-07", CIVIL_HOLIDAY, true},
        {"2026-10-08", CIVIL_SCHOOL_DAY, false},
        {"2026-10-10", CIVIL_SCHOOL_DAY, false},  /* the make-up Saturday */
        {"2026-10-11", CIVIL_WEEKEND, false},
        {"2027-01-01", CIVIL_HOLIDAY, true},
        {"2027-01-20", CIVIL_SCHOOL_DAY, false},  /* the last day */
        {"2027-01-21", CIVIL_OUT_OF_TERM, false},
        {"2026-03-29", CIVIL_OUT_OF_TERM, false},
        {"2026-02-30", CIVIL_BAD_DAY, false},
        {"2026-9-01", CIVIL_BAD_DAY, false},
    };
    for (size_t i = 0; i < ARRAY_LEN(t); i++) {
        enum civil_day_kind k = civil_day_kind(&w, t[i].day);
        if (k != t[i].kind || civil_closed_weekday(&w, t[i].day) != t[i].closed_weekday)
            fail_msg("%s: %s (closed weekday %d), expected %s (%d)", t[i].day,
                     civil_day_kind_name(k), civil_closed_weekday(&w, t[i].day),
                     civil_day_kind_name(t[i].kind), t[i].closed_weekday);
        assert_int_equal(civil_school_date(&w, t[i].day), t[i].kind == CIVIL_SCHOOL_DAY);
    }
    /* Without a calendar: the weekdays alone, as before. */
    assert_int_equal(civil_day_kind(&windows, "2026-10-01"), CIVIL_SCHOOL_DAY);
    assert_int_equal(civil_day_kind(&windows, "2026-10-10"), CIVIL_WEEKEND);
    assert_int_equal(civil_day_kind(&windows, "1999-01-04"), CIVIL_SCHOOL_DAY);
}

/* 分批开学: 初三 back from the start, 初二 on 7 September, 初一 on 14 September. */
static void test_staged_return(void **state)
{
    (void)state;
    struct cfg_windows w = term_windows();
    w.ngrades = 3;
    snprintf(w.grades[0].name, CFG_NAME_MAX, "初三");
    snprintf(w.grades[1].name, CFG_NAME_MAX, "初二");
    snprintf(w.grades[1].return_day, CFG_DAY_LEN, "2026-09-07");
    snprintf(w.grades[2].name, CFG_NAME_MAX, "初一");
    snprintf(w.grades[2].return_day, CFG_DAY_LEN, "2026-09-14");
    assert_true(civil_grade_back(&w, "初三", "2026-09-01"));
    assert_false(civil_grade_back(&w, "初二", "2026-09-06"));
    assert_true(civil_grade_back(&w, "初二", "2026-09-07"));
    assert_false(civil_grade_back(&w, "初一", "2026-09-13"));
    assert_true(civil_grade_back(&w, "高一", "2026-09-01")); /* not configured: expected */
    assert_true(civil_grade_back(&w, NULL, "2026-09-01"));   /* staff have no grade */
    char away[64];
    assert_int_equal(civil_grades_away(&w, "2026-09-01", away, sizeof away), 0);
    assert_string_equal(away, "\x1f初二\x1f初一\x1f");
    assert_int_equal(civil_grades_away(&w, "2026-09-07", away, sizeof away), 0);
    assert_string_equal(away, "\x1f初一\x1f");
    assert_int_equal(civil_grades_away(&w, "2026-09-14", away, sizeof away), 0);
    assert_string_equal(away, "");
    assert_int_equal(civil_grades_away(&w, "2026-09-01", away, 8), -1);
}


/* A holiday on a weekday gets its day end only (the closed summary); the make-up
 * Saturday every event; a jump over the holiday week catches up the day ends. */
static void test_clock_calendar(void **state)
{
    (void)state;
    struct cfg_windows w = term_windows();
    static const struct step week[] = {
        {"2026-09-30", "18:00:00", "rollover 09-30, " ALL("09-30")},
        {"2026-10-01", "09:00:00", "rollover 10-01"},
        {"2026-10-01", "18:00:00", "day-end 10-01"},
        {"2026-10-02", "18:00:00", "rollover 10-02, day-end 10-02"},
        {"2026-10-03", "18:00:00", "rollover 10-03"}, /* Saturday: nothing */
        {"2026-10-10", "09:00:00",
         "day-end 10-05, day-end 10-06, day-end 10-07, " ALL("10-08") ", " ALL("10-09")
         ", rollover 10-10, morning-closed 10-10, absence-sweep 10-10"},
        {"2026-10-11", "23:00:00", "noon-closed 10-10, day-end 10-10, rollover 10-11"},
        END_OF_STEPS,
    };
    run_steps("holiday week", &w, END_MINUTE, week);
    static const struct step jump[] = {
        {"2026-09-30", "08:00:00", "rollover 09-30"},
        {"2026-10-09", "09:00:00",
         ALL("09-30") ", day-end 10-02, day-end 10-05, day-end 10-06, day-end 10-07, "
         ALL("10-08") ", rollover 10-09, morning-closed 10-09, absence-sweep 10-09"},
        END_OF_STEPS,
    };
    run_steps("jump over the holiday", &w, END_MINUTE, jump);
    /* A restart in the middle of a holiday's evening and of the make-up Saturday. */
    static const struct step restart_holiday[] = {
        {"2026-10-02", "19:00:00", "rollover 10-02, day-end 10-02"}, END_OF_STEPS};
    run_steps("restart on a holiday", &w, END_MINUTE, restart_holiday);
    static const struct step restart_saturday[] = {
        {"2026-10-10", "10:00:00", "rollover 10-10, morning-closed 10-10, absence-sweep 10-10"},
        {"2026-10-10", "13:00:00", "noon-closed 10-10"},
        END_OF_STEPS};
    run_steps("restart on the make-up Saturday", &w, END_MINUTE, restart_saturday);
}

/* The calendar is of days, the clock of local time: on a make-up Sunday that is
 * also the day Berlin goes to summer time (29 March 2026, 23 hours), the morning
 * closes at 08:30 local = 06:30Z; in Shanghai (no DST) at 00:30Z, every day. */
static void test_calendar_zones(void **state)
{
    (void)state;
    struct cfg_windows w = windows;
    w.calendar.nworkdays = 1;
    snprintf(w.calendar.workdays[0], CFG_DAY_LEN, "2026-03-29");
    static const struct {
        const char *zone;
        int64_t closes_ms; /* 2026-03-29 08:30 local */
    } t[] = {
        {"Europe/Berlin", INT64_C(1774765800000)},  /* 06:30Z (CEST, +02:00) */
        {"Asia/Shanghai", INT64_C(1774744200000)},  /* 00:30Z (+08:00) */
    };
    for (size_t i = 0; i < ARRAY_LEN(t); i++) {
        zone(t[i].zone);
        int64_t ms;
        assert_int_equal(civil_ms_at("2026-03-29", (8 * 60 + 30) * 60, &ms), 0);
        if (ms != t[i].closes_ms)
            fail_msg("%s: 08:30 is %lld, expected %lld", t[i].zone, (long long)ms,
                     (long long)t[i].closes_ms);
        struct day_clock clock = {0};
        struct day_event_at out[DAY_CLOCK_MAX_EVENTS];
        struct civil now;
        assert_int_equal(civil_from_ms(ms - 1000, &now), 0);
        assert_int_equal(day_clock_advance(&clock, &w, END_MINUTE, &now, out), 1); /* rollover */
        assert_int_equal(civil_from_ms(ms, &now), 0);
        assert_string_equal(now.day, "2026-03-29");
        assert_int_equal(now.weekday, 0); /* a Sunday, worked */
        assert_int_equal(day_clock_advance(&clock, &w, END_MINUTE, &now, out), 1);
        assert_int_equal(out[0].event, DAY_MORNING_CLOSED);
        /* The next Sunday is not worked. */
        assert_int_equal(civil_ms_at("2026-04-05", 10 * 3600, &ms), 0);
        assert_int_equal(civil_from_ms(ms, &now), 0);
        int n = day_clock_advance(&clock, &w, END_MINUTE, &now, out);
        assert_int_equal(out[n - 1].event, DAY_ROLLOVER);
        assert_string_equal(out[n - 1].day, "2026-04-05");
    }
    zone("Asia/Shanghai");
}

/* 错峰上学: each distinct slot end + grace is a sweep of its own, before the morning
 * close; two groups with the same end share one; a class's slot wins. */
static void test_clock_slots(void **state)
{
    (void)state;
    struct cfg_windows w = windows; /* morning 07:00-08:30, grace 30 min */
    w.ngrades = 3;
    w.grades[0] = (struct cfg_group){.name = "初三", .has_slot = true, .slot_start = 7 * 60 + 10,
                                     .slot_end = 7 * 60 + 25};
    w.grades[1] = (struct cfg_group){.name = "初二", .has_slot = true, .slot_start = 7 * 60 + 25,
                                     .slot_end = 7 * 60 + 40};
    w.grades[2] = (struct cfg_group){.name = "初一"}; /* no slot: the window */
    w.nclasses = 1;
    w.classes[0] = (struct cfg_group){.name = "初二(3)班", .has_slot = true,
                                      .slot_start = 7 * 60 + 10, .slot_end = 7 * 60 + 25};
    int ends[CIVIL_MAX_SLOT_ENDS];
    assert_int_equal(civil_slot_ends(&w, ends), 2);
    assert_int_equal(ends[0], 7 * 60 + 25);
    assert_int_equal(ends[1], 7 * 60 + 40);
    assert_ptr_equal(civil_slot_of(&w, "初二", "初二(3)班"), &w.classes[0]);
    assert_ptr_equal(civil_slot_of(&w, "初二", "初二(1)班"), &w.grades[1]);
    assert_null(civil_slot_of(&w, "初一", "初一(1)班"));
    assert_null(civil_slot_of(&w, "", ""));
    struct civil_slot_lists l;
    civil_slot_lists(&w, 7 * 60 + 25, &l);
    assert_string_equal(l.classes, "\x1f初二(3)班\x1f");
    assert_string_equal(l.grades, "\x1f初三\x1f");
    assert_string_equal(l.own_classes, "\x1f初二(3)班\x1f");
    static const struct step steps[] = {
        {MON, "07:00:00", "rollover 03-04"},
        {MON, "07:54:59", ""},
        {MON, "07:55:00", "slot-sweep 03-04"},
        {MON, "08:09:59", ""},
        {MON, "08:10:00", "slot-sweep 03-04"},
        {MON, "08:30:00", "morning-closed 03-04"},
        {MON, "09:00:00", "absence-sweep 03-04"},
        {MON, "23:00:00", "noon-closed 03-04, day-end 03-04"},
        END_OF_STEPS,
    };
    run_steps("slots", &w, END_MINUTE, steps);
    /* A restart after both slots: each once, with its end, before the close. */
    struct day_clock clock = {0};
    struct day_event_at out[DAY_CLOCK_MAX_EVENTS];
    struct civil now = at(MON, "08:45:00");
    int n = day_clock_advance(&clock, &w, END_MINUTE, &now, out);
    assert_int_equal(n, 4);
    assert_int_equal(out[1].event, DAY_SLOT_SWEEP);
    assert_int_equal(out[1].slot_end, 7 * 60 + 25);
    assert_int_equal(out[2].event, DAY_SLOT_SWEEP);
    assert_int_equal(out[2].slot_end, 7 * 60 + 40);
    assert_int_equal(out[3].event, DAY_MORNING_CLOSED);
    assert_int_equal(day_clock_advance(&clock, &w, END_MINUTE, &now, out), 0);
    /* Not on a weekend. */
    now = at(SAT, "08:45:00");
    n = day_clock_advance(&clock, &w, END_MINUTE, &now, out);
    assert_int_equal(out[n - 1].event, DAY_ROLLOVER);
    for (int i = 0; i < n; i++)
        assert_true(out[i].event != DAY_SLOT_SWEEP || strcmp(out[i].day, SAT) != 0);
}

int main(void)
{
    log_init("test_civil", LOG_LVL_INFO, LOG_OUT_PLAIN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_zone),
        cmocka_unit_test(test_from_ms_shanghai),
        cmocka_unit_test(test_from_ms_out_of_range),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_day_add),
        cmocka_unit_test(test_day_add_bad),
        cmocka_unit_test(test_ms_at_shanghai),
        cmocka_unit_test(test_ms_at_dst),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_school_day),
        cmocka_unit_test(test_clock_through_a_day),
        cmocka_unit_test(test_clock_first_call),
        cmocka_unit_test(test_clock_rollover),
        cmocka_unit_test(test_clock_weekend),
        cmocka_unit_test(test_clock_backwards),
        cmocka_unit_test(test_clock_same_second),
        cmocka_unit_test(test_clock_reload),
        cmocka_unit_test(test_clock_bad_input),
        cmocka_unit_test(test_clock_each_event_once),
        cmocka_unit_test(test_calendar_kinds),
        cmocka_unit_test(test_staged_return),
        cmocka_unit_test(test_clock_calendar),
        cmocka_unit_test(test_calendar_zones),
        cmocka_unit_test(test_clock_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
