/* Civil time at the school: the local day, the check windows and the day's events
 * (window closes, absence sweep, end of day, rollover at local midnight). Days and
 * windows follow the school's zone ([school] timezone); instants stay UTC ms.
 * Pure apart from the process time zone, which zone_set (runtime/zone.h) sets once
 * at start: local days and minutes come from libc's localtime_r and mktime. */
#ifndef GS_CIVIL_H
#define GS_CIVIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define CIVIL_DAY_LEN 11 /* "YYYY-MM-DD" + NUL */

struct civil {
    char day[CIVIL_DAY_LEN]; /* local date */
    int minute;              /* minutes after local midnight, 0..1439 */
    int second_of_day;       /* 0..86399 (a leap second counts as 59) */
    int weekday;             /* 0 = Sunday .. 6 = Saturday */
};

/* Local civil time of a UTC instant. -1 when its local year is outside 1970..9999
 * (the days civil_day_add and civil_ms_at accept). */
int civil_from_ms(int64_t wall_ms, struct civil *out);
/* The local day of a UTC instant, into day[CIVIL_DAY_LEN]. */
int civil_day_of(int64_t wall_ms, char *day);
/* day + delta days (calendar arithmetic, no zone involved). -1 on a malformed day or
 * a result outside 1970..9999. `out` may be `day`. */
int civil_day_add(const char *day, int delta, char *out);
/* The UTC instant of local `second_of_day` on `day` (DST gaps resolved as mktime
 * does). -1 on a malformed day or a second outside 0..86399. */
int civil_ms_at(const char *day, int second_of_day, int64_t *out);

/* The one formatter of local times for people (CSV, command lines). */
enum civil_form { CIVIL_HHMM, CIVIL_DAY_HHMM, CIVIL_DAY_HHMMSS };
#define CIVIL_TEXT_LEN 20 /* "YYYY-MM-DD HH:MM:SS" + NUL */
/* A UTC instant as local "HH:MM", "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS";
 * `none` when wall_ms is 0 (not happened) or outside civil_from_ms's years. */
const char *civil_local_text(int64_t wall_ms, enum civil_form form, const char *none,
                             char *buf, size_t n);
#define CIVIL_ISO_LEN 25 /* "2026-11-29T07:31:02.250Z" + NUL */
/* A UTC instant as ISO 8601 with milliseconds, "2026-11-29T07:31:02.250Z" (instants
 * before 1970 floored, so they print right too). */
const char *civil_utc_iso(int64_t wall_ms, char out[CIVIL_ISO_LEN]);

enum check_window { WIN_NONE, WIN_MORNING, WIN_NOON };
/* The windows' names, NULL-terminated, in enum order from WIN_MORNING: the one list
 * the ledger and the web check a manual check's window against. Its last,
 * "evening", is a manual check only (the boarders' 晚检 by the dormitory staff):
 * the gate's readings are morning or noon checks. */
extern const char *const check_window_names[];
/* "morning", "noon", "none". */
const char *check_window_name(enum check_window w);
/* The window a local minute falls in: [start, end) of each configured window. */
enum check_window civil_window(const struct cfg_windows *w, int minute);
/* Whether the weekday (0 = Sunday) is a school day ([windows] days); false outside
 * 0..6. */
bool civil_school_day(const struct cfg_windows *w, int weekday);
/* Whether `day` ("YYYY-MM-DD") is a school day (civil_day_kind's
 * CIVIL_SCHOOL_DAY); false when malformed. */
bool civil_school_date(const struct cfg_windows *w, const char *day);

/* What a day is by the term calendar ([calendar], config.h): outside the term; a
 * holiday; a make-up school day (调休, a listed workday); else a school day or a
 * weekend by [windows] days. A holiday wins over the weekday; a workday over the
 * weekend. Closures (the ledger's) are not known here. */
enum civil_day_kind {
    CIVIL_SCHOOL_DAY, CIVIL_WEEKEND, CIVIL_HOLIDAY, CIVIL_OUT_OF_TERM, CIVIL_BAD_DAY,
};
enum civil_day_kind civil_day_kind(const struct cfg_windows *w, const char *day);
/* "school_day", "weekend", "holiday", "out_of_term", "bad_day". */
const char *civil_day_kind_name(enum civil_day_kind k);
/* A holiday on a day of the week the school would have been open: the bureau is
 * told the school is closed (its summary says so) rather than hear nothing. */
bool civil_closed_weekday(const struct cfg_windows *w, const char *day);
/* Whether the day has a day end (and so a summary): a school day, or a holiday on
 * a weekday the school would have been open (civil_closed_weekday). The running
 * clock and the start's catch-up both go by it. */
bool civil_day_has_end(const struct cfg_windows *w, const char *day);

/* Staged return (分批开学): whether the roster's grade is expected on `day` (its
 * [grade] return day reached, or no return day; any grade not configured is). */
bool civil_grade_back(const struct cfg_windows *w, const char *grade, const char *day);
/* The grades not back yet on `day`, as "\x1fA\x1fB\x1f" (each between unit
 * separators, for SQL's instr), "" when none; -1 if it does not fit in n. */
#define CIVIL_GRADES_SEP "\x1f"
int civil_grades_away(const struct cfg_windows *w, const char *day, char *out, size_t n);

/* The day's events, in the order they happen within a day. */
enum day_event {
    DAY_ROLLOVER,        /* a day begins on the clock: `day` is the new day */
    DAY_MORNING_CLOSED,  /* end of the morning window */
    DAY_ABSENCE_SWEEP,   /* morning end + absence grace (capped at 23:59:59) */
    DAY_NOON_CLOSED,     /* end of the noon window (when enabled) */
    DAY_END,             /* [upstream] day_end: the day's final figures */
    DAY_SLOT_SWEEP,      /* an arrival slot's end + absence grace (错峰上学): the sweep of
                          * the groups arriving in slots that end then (slot_end) */
    DAY_NOON_SWEEP,      /* noon end + absence grace, with [windows] noon_sweep (午检缺勤) */
    DAY_EVENING_SWEEP,   /* the boarders' evening end + absence grace (晚检), when enabled */
};
/* "rollover", "morning-closed", ...: also the names the ledger records them by. */
const char *day_event_name(enum day_event e);

struct day_event_at {
    enum day_event event;
    char day[CIVIL_DAY_LEN]; /* the day the event belongs to */
    int slot_end;            /* DAY_SLOT_SWEEP: the slots' end, minutes after midnight */
};

/* The distinct ends of the arrival slots of [grade]s and [class]es, earliest first,
 * at most CIVIL_MAX_SLOT_ENDS (the configuration refuses more); their count. */
#define CIVIL_MAX_SLOT_ENDS 8
int civil_slot_ends(const struct cfg_windows *w, int ends[CIVIL_MAX_SLOT_ENDS]);
/* The slot of a person by their class and grade: the class's own slot, else the
 * grade's, else none (NULL: the morning window as for everyone). */
const struct cfg_group *civil_slot_of(const struct cfg_windows *w, const char *grade,
                                      const char *class_name);
/* Who arrives in the slots that end at slot_end, for SQL's instr() as
 * civil_grades_away writes lists: the classes of those slots, the grades of those
 * slots, and every class with a slot of its own (a class's slot wins over its
 * grade's, so those classes are not in their grade's slot). */
#define CIVIL_GROUP_LIST_LEN (CFG_MAX_GROUPS * CFG_NAME_MAX + 2)
struct civil_slot_lists {
    char classes[CIVIL_GROUP_LIST_LEN], grades[CIVIL_GROUP_LIST_LEN],
        own_classes[CIVIL_GROUP_LIST_LEN];
};
void civil_slot_lists(const struct cfg_windows *w, int slot_end, struct civil_slot_lists *out);

/* Which of the day's events have been reported: the day the clock was on at the
 * last call and a bit (1u << enum day_event) per event reported for it, and
 * (1u << (8 + k)) for the sweep of the k-th slot end (civil_slot_ends).
 * Zero-initialise. */
struct day_clock {
    bool started;
    char day[CIVIL_DAY_LEN];
    unsigned reported;
};

/* A forward jump catches up at most this many school days before the new day (a
 * controller whose clock comes back from 1970 must not sweep fifty years). */
#define DAY_CLOCK_CATCH_UP_DAYS 7
#define DAY_CLOCK_MAX_EVENTS 128

/* Reports, in order, the events due at `now` that this clock has not reported
 * for their day (into out, at most DAY_CLOCK_MAX_EVENTS; returns the count).
 * Events are keyed on days, not on clock readings: an event of the clock's day is
 * due once now->second_of_day has reached its time as `w` and day_end_minute say
 * *now*, and it is reported once. So a clock set back within the day reports
 * nothing again, a reload that moves an event's time into the past reports it at
 * once, and one that moves it to the future after it was reported does not
 * report it again. Window, sweep and end-of-day events happen on school days
 * only (the school day is taken from the date, not from now->weekday); events at
 * the same second come in enum order.
 *
 * When the day changes forward, the old day's unreported events come first; then
 * the school days in between, in order (at most the last
 * DAY_CLOCK_CATCH_UP_DAYS, each with its window, sweep and end events, no
 * rollover); then DAY_ROLLOVER of the new day and its due events. The first call
 * reports DAY_ROLLOVER of today and today's due events. A day earlier than the
 * clock's (the wall clock set back across midnight) is a change of day too: its
 * rollover and due events are reported, because this clock remembers one day. So
 * an event may be reported for a day that already had it (before a restart, or
 * before the clock went back): the caller keeps the record of what was done (the
 * ledger's day_events) and does nothing twice. -1 (clock unchanged) on a
 * malformed `now` or day_end_minute. */
int day_clock_advance(struct day_clock *c, const struct cfg_windows *w, int day_end_minute,
                      const struct civil *now, struct day_event_at *out);

#endif
