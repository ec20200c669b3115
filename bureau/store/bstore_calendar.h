/* The school calendar and the bureau's closures (sql/bureau/002_deadlines.sql), as
 * gatescreen-bureau calendar and closure change and list them. Days are
 * "YYYY-MM-DD" (deadline.h checks them first); a range is FROM..TO, both included.
 * Each change is one statement over the whole range (generate_series ... ON
 * CONFLICT), with its audit_log row, in one transaction: safe with several writers. */
#ifndef GS_BSTORE_CALENDAR_H
#define GS_BSTORE_CALENDAR_H

#include <stdio.h>

#include "bstore.h"

/* Marks every day of from..to as `kind` ("holiday" or "workday") named `name`
 * (may be ""); *changed: days added or changed (the others were so already). */
enum bstore_status bstore_calendar_set(struct bstore *s, const char *from, const char *to,
                                       const char *kind, const char *name, const char *actor,
                                       int *changed, FILE *errs);
/* Removes the entries of from..to (those days follow their weekday again).
 * BSTORE_NOT_FOUND when there was none. */
enum bstore_status bstore_calendar_clear(struct bstore *s, const char *from, const char *to,
                                         const char *actor, int *removed, FILE *errs);

struct bstore_calendar_view {
    const char *day, *weekday; /* weekday: "Mon" .. "Sun" */
    const char *kind, *name, *set_by, *set_at;
};
/* The entries of from..to (either NULL: open), by day; 0, or -1. */
int bstore_calendar_list(struct bstore *s, const char *from, const char *to,
                         void (*fn)(const struct bstore_calendar_view *v, void *arg), void *arg);

/* Closes every school (county NULL) or a county's on every day of from..to for
 * `reason`; *changed: days added or whose reason changed. BSTORE_NOT_FOUND when no
 * school is in that county (a misspelt county would close nobody). */
enum bstore_status bstore_closure_add(struct bstore *s, const char *from, const char *to,
                                      const char *county, const char *reason,
                                      const char *actor, int *changed, FILE *errs);
/* Removes those closures (the same scope: all schools, or the county).
 * BSTORE_NOT_FOUND when there was none. */
enum bstore_status bstore_closure_remove(struct bstore *s, const char *from, const char *to,
                                         const char *county, const char *actor, int *removed,
                                         FILE *errs);

struct bstore_closure_view {
    const char *day, *weekday;
    const char *county; /* NULL: every school */
    const char *reason, *created_by, *created_at;
};
/* The closures of from..to (either NULL: open), by day and county; 0, or -1. */
int bstore_closure_list(struct bstore *s, const char *from, const char *to,
                        void (*fn)(const struct bstore_closure_view *v, void *arg), void *arg);

#endif
