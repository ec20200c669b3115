/* Civil time at the school. Instants are UTC milliseconds everywhere else; this
 * file is where they become the school's local days and minutes (localtime_r and
 * mktime in the process zone that zone_set sets), and where a day's
 * schedule becomes events. Calendar arithmetic on "YYYY-MM-DD" days is done here
 * without any zone (days-from-civil, H. Hinnant's algorithm), so that adding a day
 * never trips over a DST change. */
#include "civil.h"

#include "textnum.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LAST_SECOND 86399
/* Days are four-digit years, and tn_date does not go before the epoch. */
#define YEAR_MIN 1970
#define YEAR_MAX 9999
/* 1970-01-01 was a Thursday. */
#define EPOCH_WEEKDAY 4

/* ---- calendar --------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* "YYYY-MM-DD" into day[CIVIL_DAY_LEN]; -1 for a year it cannot hold. */
static int format_day(int64_t y, int m, int d, char *day)
{
    if (y < YEAR_MIN || y > YEAR_MAX)
        return -1;
    int n = snprintf(day, CIVIL_DAY_LEN, "%04d-%02d-%02d", (int)y, m, d);
    return n == CIVIL_DAY_LEN - 1 ? 0 : -1;
}

/* Days since the epoch of a well-formed day; -1 if malformed. */
static int64_t day_number(const char *day)
{
    int y, m, d;
    if (tn_date(day, &y, &m, &d) < 0)
        return -1;
    return days_from_civil(y, m, d);
}

static int weekday_of(int64_t days) { return (int)((days + EPOCH_WEEKDAY) % 7); }

int civil_day_add(const char *day, int delta, char *out)
{
    int64_t n = day_number(day), y;
    int m, d;
    if (n < 0)
        return -1;
    civil_from_days(n + delta, &y, &m, &d);
    char buf[CIVIL_DAY_LEN]; /* out may be day itself */
    if (format_day(y, m, d, buf) < 0)
        return -1;
    memcpy(out, buf, sizeof buf);
    return 0;
}

/* ---- instants ---------------------------------------------------------------------- */

int civil_from_ms(int64_t wall_ms, struct civil *out)
{
    int64_t s = wall_ms / 1000 - (wall_ms % 1000 < 0); /* floor: -1 ms is 23:59:59.999 */
    time_t t = (time_t)s;
    struct tm tm;
    if ((int64_t)t != s || localtime_r(&t, &tm) == NULL)
        return -1;
    struct civil c;
    if (format_day((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, c.day) < 0)
        return -1;
    c.minute = tm.tm_hour * 60 + tm.tm_min;
    c.second_of_day = c.minute * 60 + (tm.tm_sec > 59 ? 59 : tm.tm_sec);
    c.weekday = tm.tm_wday;
    *out = c;
    return 0;
}

int civil_day_of(int64_t wall_ms, char *day)
{
    struct civil c;
    if (civil_from_ms(wall_ms, &c) < 0)
        return -1;
    memcpy(day, c.day, CIVIL_DAY_LEN);
    return 0;
}

int civil_ms_at(const char *day, int second_of_day, int64_t *out)
{
    int y, m, d;
    if (tn_date(day, &y, &m, &d) < 0 || second_of_day < 0 || second_of_day > LAST_SECOND)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d,
                    .tm_hour = second_of_day / 3600, .tm_min = second_of_day / 60 % 60,
                    .tm_sec = second_of_day % 60, .tm_isdst = -1};
    errno = 0;
    time_t t = mktime(&tm);
    if (t == (time_t)-1 && errno != 0)
        return -1;
    *out = (int64_t)t * 1000;
    return 0;
}

/* ---- windows ------------------------------------------------------------------------ */

const char *const check_window_names[] = {"morning", "noon", "evening", NULL};

const char *check_window_name(enum check_window w)
{
    switch (w) {
    case WIN_MORNING:
    case WIN_NOON: return check_window_names[w - WIN_MORNING];
    case WIN_NONE: break;
    }
    return "none";
}

enum check_window civil_window(const struct cfg_windows *w, int minute)
{
    if (minute >= w->morning_start && minute < w->morning_end)
        return WIN_MORNING;
    if (w->noon_enabled && minute >= w->noon_start && minute < w->noon_end)
        return WIN_NOON;
    return WIN_NONE;
}

bool civil_school_day(const struct cfg_windows *w, int weekday)
{
    return weekday >= 0 && weekday <= 6 && (w->school_days >> weekday & 1u) != 0;
}

bool civil_school_date(const struct cfg_windows *w, const char *day)
{
    return civil_day_kind(w, day) == CIVIL_SCHOOL_DAY;
}

/* ---- the term calendar -------------------------------------------------------------- */

static bool listed_holiday(const struct cfg_calendar *c, const char *day)
{
    for (int i = 0; i < c->nholidays; i++)
        if (strcmp(c->holidays[i].from, day) <= 0 && strcmp(day, c->holidays[i].to) <= 0)
            return true;
    return false;
}

static bool listed_workday(const struct cfg_calendar *c, const char *day)
{
    for (int i = 0; i < c->nworkdays; i++)
        if (strcmp(c->workdays[i], day) == 0)
            return true;
    return false;
}

enum civil_day_kind civil_day_kind(const struct cfg_windows *w, const char *day)
{
    const struct cfg_calendar *c = &w->calendar;
    int64_t num = day_number(day);
    if (num < 0 || strlen(day) != CIVIL_DAY_LEN - 1)
        return CIVIL_BAD_DAY;
    /* ISO days compare as text. */
    if ((c->term_start[0] && strcmp(day, c->term_start) < 0) ||
        (c->term_end[0] && strcmp(day, c->term_end) > 0))
        return CIVIL_OUT_OF_TERM;
    if (listed_holiday(c, day))
        return CIVIL_HOLIDAY;
    if (listed_workday(c, day) || civil_school_day(w, weekday_of(num)))
        return CIVIL_SCHOOL_DAY;
    return CIVIL_WEEKEND;
}

const char *civil_day_kind_name(enum civil_day_kind k)
{
    switch (k) {
    case CIVIL_SCHOOL_DAY: return "school_day";
    case CIVIL_WEEKEND: return "weekend";
    case CIVIL_HOLIDAY: return "holiday";
    case CIVIL_OUT_OF_TERM: return "out_of_term";
    case CIVIL_BAD_DAY: break;
    }
    return "bad_day";
}

bool civil_closed_weekday(const struct cfg_windows *w, const char *day)
{
    return civil_day_kind(w, day) == CIVIL_HOLIDAY &&
           civil_school_day(w, weekday_of(day_number(day)));
}

bool civil_day_has_end(const struct cfg_windows *w, const char *day)
{
    return civil_school_date(w, day) || civil_closed_weekday(w, day);
}

bool civil_grade_back(const struct cfg_windows *w, const char *grade, const char *day)
{
    for (int i = 0; grade && i < w->ngrades; i++)
        if (strcmp(w->grades[i].name, grade) == 0)
            return !w->grades[i].return_day[0] || strcmp(day, w->grades[i].return_day) >= 0;
    return true;
}

int civil_grades_away(const struct cfg_windows *w, const char *day, char *out, size_t n)
{
    size_t len = 0;
    if (n == 0)
        return -1;
    out[0] = '\0';
    for (int i = 0; i < w->ngrades; i++) {
        if (civil_grade_back(w, w->grades[i].name, day))
            continue;
        int k = snprintf(out + len, n - len, "%s%s" CIVIL_GRADES_SEP, len ? "" : CIVIL_GRADES_SEP,
                         w->grades[i].name);
        if (k < 0 || (size_t)k >= n - len)
            return -1;
        len += (size_t)k;
    }
    return 0;
}

/* ---- the day's events -------------------------------------------------------------- */

const char *day_event_name(enum day_event e)
{
    switch (e) {
    case DAY_ROLLOVER: return "rollover";
    case DAY_MORNING_CLOSED: return "morning-closed";
    case DAY_ABSENCE_SWEEP: return "absence-sweep";
    case DAY_NOON_CLOSED: return "noon-closed";
    case DAY_END: return "day-end";
    case DAY_SLOT_SWEEP: return "slot-sweep";
    case DAY_NOON_SWEEP: return "noon-sweep";
    case DAY_EVENING_SWEEP: return "evening-sweep";
    }
    return "unknown";
}

/* ---- arrival slots ------------------------------------------------------------------ */

static int add_end(int *ends, int n, int end)
{
    int i = 0;
    while (i < n && ends[i] < end)
        i++;
    if ((i < n && ends[i] == end) || n == CIVIL_MAX_SLOT_ENDS)
        return n;
    memmove(ends + i + 1, ends + i, (size_t)(n - i) * sizeof *ends);
    ends[i] = end;
    return n + 1;
}

int civil_slot_ends(const struct cfg_windows *w, int ends[CIVIL_MAX_SLOT_ENDS])
{
    int n = 0;
    for (int i = 0; i < w->ngrades; i++)
        if (w->grades[i].has_slot)
            n = add_end(ends, n, w->grades[i].slot_end);
    for (int i = 0; i < w->nclasses; i++)
        if (w->classes[i].has_slot)
            n = add_end(ends, n, w->classes[i].slot_end);
    return n;
}

static const struct cfg_group *find_group(const struct cfg_group *g, int n, const char *name)
{
    for (int i = 0; name && *name && i < n; i++)
        if (g[i].has_slot && strcmp(g[i].name, name) == 0)
            return &g[i];
    return NULL;
}

const struct cfg_group *civil_slot_of(const struct cfg_windows *w, const char *grade,
                                      const char *class_name)
{
    const struct cfg_group *c = find_group(w->classes, w->nclasses, class_name);
    return c ? c : find_group(w->grades, w->ngrades, grade);
}

/* Appends "\x1fname\x1f" (or "name\x1f" after the first) to list; names fit: at
 * most CFG_MAX_GROUPS of CFG_NAME_MAX. */
static void list_add(char *list, const char *name)
{
    size_t len = strlen(list);
    snprintf(list + len, CIVIL_GROUP_LIST_LEN - len, "%s%s" CIVIL_GRADES_SEP,
             len ? "" : CIVIL_GRADES_SEP, name);
}

void civil_slot_lists(const struct cfg_windows *w, int slot_end, struct civil_slot_lists *out)
{
    out->classes[0] = out->grades[0] = out->own_classes[0] = '\0';
    for (int i = 0; i < w->nclasses; i++) {
        if (!w->classes[i].has_slot)
            continue;
        list_add(out->own_classes, w->classes[i].name);
        if (w->classes[i].slot_end == slot_end)
            list_add(out->classes, w->classes[i].name);
    }
    for (int i = 0; i < w->ngrades; i++)
        if (w->grades[i].has_slot && w->grades[i].slot_end == slot_end)
            list_add(out->grades, w->grades[i].name);
}

/* ---- the day's events -------------------------------------------------------------- */

struct timed {
    enum day_event event;
    int second;   /* of the local day */
    int slot_end; /* DAY_SLOT_SWEEP */
    unsigned bit; /* in day_clock.reported */
};

#define SCHEDULE_MAX (6 + CIVIL_MAX_SLOT_ENDS)
/* Per call: the rest of the old day, the days caught up, the rollover, the new day. */
_Static_assert(SCHEDULE_MAX * (DAY_CLOCK_CATCH_UP_DAYS + 2) + 1 <= DAY_CLOCK_MAX_EVENTS,
               "DAY_CLOCK_MAX_EVENTS");
/* The events' bits in day_clock.reported stay below the slots' (8 and up). */
_Static_assert(DAY_EVENING_SWEEP < 8, "day events overlap the slots' bits");

static int sweep_second(const struct cfg_windows *w, int end_minute)
{
    int64_t sweep = (int64_t)end_minute * 60 + w->absence_grace_ms / 1000;
    return sweep > LAST_SECOND ? LAST_SECOND : (int)sweep;
}

/* A school day's events by time; events at the same second stay in the order
 * listed here (the slots' sweeps before the morning's close). */
static int schedule(const struct cfg_windows *w, int day_end_minute, struct timed *ev)
{
    int ends[CIVIL_MAX_SLOT_ENDS], nends = civil_slot_ends(w, ends), n = 0;
    for (int k = 0; k < nends; k++)
        ev[n++] = (struct timed){DAY_SLOT_SWEEP, sweep_second(w, ends[k]), ends[k],
                                 1u << (8 + k)};
    ev[n++] = (struct timed){DAY_MORNING_CLOSED, w->morning_end * 60, 0, 1u << DAY_MORNING_CLOSED};
    ev[n++] = (struct timed){DAY_ABSENCE_SWEEP, sweep_second(w, w->morning_end), 0,
                             1u << DAY_ABSENCE_SWEEP};
    if (w->noon_enabled)
        ev[n++] = (struct timed){DAY_NOON_CLOSED, w->noon_end * 60, 0, 1u << DAY_NOON_CLOSED};
    if (w->noon_enabled && w->noon_sweep)
        ev[n++] = (struct timed){DAY_NOON_SWEEP, sweep_second(w, w->noon_end), 0,
                                 1u << DAY_NOON_SWEEP};
    if (w->evening_enabled)
        ev[n++] = (struct timed){DAY_EVENING_SWEEP, sweep_second(w, w->evening_end), 0,
                                 1u << DAY_EVENING_SWEEP};
    ev[n++] = (struct timed){DAY_END, day_end_minute * 60, 0, 1u << DAY_END};
    for (int i = 1; i < n; i++) /* insertion sort: stable, so ties keep that order */
        for (int j = i; j > 0 && ev[j - 1].second > ev[j].second; j--) {
            struct timed t = ev[j];
            ev[j] = ev[j - 1];
            ev[j - 1] = t;
        }
    return n;
}

static int push(struct day_event_at *out, int n, enum day_event e, const char *day,
                int slot_end)
{
    out[n].event = e;
    memcpy(out[n].day, day, CIVIL_DAY_LEN);
    out[n].slot_end = slot_end;
    return n + 1;
}

/* Appends the events of `day` due by second `upto` whose bit is not in *reported,
 * and sets their bits; nothing on days that are not school days, except the day
 * end of a holiday on a weekday the school would have been open (its summary says
 * the school was closed: the bureau tells closed from silent). */
static int emit_day(const struct cfg_windows *w, int day_end_minute, const char *day, int upto,
                    unsigned *reported, struct day_event_at *out, int n)
{
    struct timed ev[SCHEDULE_MAX];
    bool open = civil_school_date(w, day);
    if (!civil_day_has_end(w, day))
        return n;
    int count = schedule(w, day_end_minute, ev);
    for (int i = 0; i < count; i++)
        if ((open || ev[i].event == DAY_END) && ev[i].second <= upto &&
            !(*reported & ev[i].bit)) {
            n = push(out, n, ev[i].event, day, ev[i].slot_end);
            *reported |= ev[i].bit;
        }
    return n;
}

/* The school days after `from` and before `to` (both well-formed), at most the last
 * DAY_CLOCK_CATCH_UP_DAYS of them: every event of each, in order. */
static int emit_between(const struct cfg_windows *w, int day_end_minute, const char *from,
                        const char *to, struct day_event_at *out, int n)
{
    int64_t first = day_number(from) + 1, end = day_number(to);
    if (end - first > DAY_CLOCK_CATCH_UP_DAYS)
        first = end - DAY_CLOCK_CATCH_UP_DAYS;
    for (int64_t d = first; d < end; d++) {
        char day[CIVIL_DAY_LEN];
        int64_t y;
        int m, dd;
        unsigned none = 0;
        civil_from_days(d, &y, &m, &dd);
        if (format_day(y, m, dd, day) == 0)
            n = emit_day(w, day_end_minute, day, LAST_SECOND, &none, out, n);
    }
    return n;
}

/* An earlier day is a change of day too: a wall clock that was wrong in the future
 * and then corrected must not stall the school until that day comes. The abandoned
 * later day is not finished (an absence sweep for a day still to come would be
 * wrong). */
int day_clock_advance(struct day_clock *c, const struct cfg_windows *w, int day_end_minute,
                      const struct civil *now, struct day_event_at *out)
{
    int sec = now->second_of_day;
    if (day_number(now->day) < 0 || sec < 0 || sec > LAST_SECOND || day_end_minute < 0 ||
        day_end_minute >= 24 * 60)
        return -1;
    int cmp = c->started ? strcmp(now->day, c->day) : 0, n = 0;
    if (c->started && cmp == 0)
        return emit_day(w, day_end_minute, now->day, sec, &c->reported, out, 0);
    if (cmp > 0) { /* the old day's rest, then the days the clock jumped over */
        n = emit_day(w, day_end_minute, c->day, LAST_SECOND, &c->reported, out, n);
        n = emit_between(w, day_end_minute, c->day, now->day, out, n);
    }
    c->started = true;
    memcpy(c->day, now->day, CIVIL_DAY_LEN);
    c->reported = 1u << DAY_ROLLOVER;
    n = push(out, n, DAY_ROLLOVER, now->day, 0);
    return emit_day(w, day_end_minute, now->day, sec, &c->reported, out, n);
}

const char *civil_local_text(int64_t wall_ms, enum civil_form form, const char *none,
                             char *buf, size_t n)
{
    struct civil c;
    if (wall_ms == 0 || civil_from_ms(wall_ms, &c) < 0) {
        snprintf(buf, n, "%s", none);
        return buf;
    }
    int h = c.second_of_day / 3600, m = c.second_of_day / 60 % 60, s = c.second_of_day % 60;
    if (form == CIVIL_HHMM)
        snprintf(buf, n, "%02d:%02d", h, m);
    else if (form == CIVIL_DAY_HHMM)
        snprintf(buf, n, "%s %02d:%02d", c.day, h, m);
    else
        snprintf(buf, n, "%s %02d:%02d:%02d", c.day, h, m, s);
    return buf;
}

const char *civil_utc_iso(int64_t wall_ms, char out[CIVIL_ISO_LEN])
{
    int64_t sec = wall_ms / 1000, milli = wall_ms % 1000;
    if (milli < 0) {
        milli += 1000;
        sec--;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, CIVIL_ISO_LEN, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        snprintf(out, CIVIL_ISO_LEN, "1970-01-01T00:00:00");
    size_t len = strlen(out);
    snprintf(out + len, CIVIL_ISO_LEN - len, ".%03dZ", (int)milli);
    return out;
}
