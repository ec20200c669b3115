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
 * the ledger and the web check a manual check's window against. */
extern const char *const check_window_names[];
/* "morning", "noon", "none". */
const char *check_window_name(enum check_window w);
/* The window a local minute falls in: [start, end) of each configured window. */
enum check_window civil_window(const struct cfg_windows *w, int minute);
/* Whether the weekday (0 = Sunday) is a school day ([windows] days); false outside
 * 0..6. */
bool civil_school_day(const struct cfg_windows *w, int weekday);

/* The day's events, in the order they happen within a day. */
enum day_event {
    DAY_ROLLOVER,        /* local midnight passed: `day` is the new day */
    DAY_MORNING_CLOSED,  /* end of the morning window */
    DAY_ABSENCE_SWEEP,   /* morning end + absence grace (capped at 23:59:59) */
    DAY_NOON_CLOSED,     /* end of the noon window (when enabled) */
    DAY_END,             /* [upstream] day_end: the day's final figures */
};
const char *day_event_name(enum day_event e);

struct day_event_at {
    enum day_event event;
    char day[CIVIL_DAY_LEN]; /* the day the event belongs to */
};

/* Remembers how far the day's events have been reported. Zero-initialise. */
struct day_clock {
    bool started;
    char day[CIVIL_DAY_LEN];
    int second_of_day;
};

#define DAY_CLOCK_MAX_EVENTS 16

/* Reports every event between the previous call and `now`, in order, into out
 * (at most DAY_CLOCK_MAX_EVENTS; returns the count). The first call reports the
 * events of today that are already past (their handlers are idempotent, so a
 * restart in the middle of a day catches up without doing anything twice). When
 * the day changed, the old day's remaining events come first, then DAY_ROLLOVER,
 * then the new day's past events; if more than one day passed (the controller was
 * off), only the last old day is finished. Window, sweep and end-of-day events
 * happen on school days only; DAY_ROLLOVER every day. A clock that went backwards
 * within the same day reports nothing (and the clock keeps its furthest point, so
 * nothing is reported twice). A day earlier than the remembered one (wall clock set
 * back across midnight) is a change of day without finishing the abandoned day.
 * An event at second S of a day is due once now.second_of_day >= S; events at the
 * same second come in enum order. The school day is taken from the date, not from
 * now->weekday. -1 (clock unchanged) on a malformed `now` or day_end_minute. */
int day_clock_advance(struct day_clock *c, const struct cfg_windows *w, int day_end_minute,
                      const struct civil *now, struct day_event_at *out);

#endif
