/* Closed days (sql/006_closed_days.sql): a day the school is closed though its
 * calendar says open — bad weather, an outbreak — set and lifted at run time
 * (`gatescreen calendar close|reopen`). The term, holidays and make-up days are
 * the configuration's ([calendar], civil.h's civil_day_kind); this is the record
 * of a decision, with who and when. On a closed day the absence sweep makes nobody
 * absent (ledger_absence_sweep) and the summary says closed with the reason. */
#ifndef GS_LEDGER_CALENDAR_H
#define GS_LEDGER_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "ledger.h"

#define LEDGER_REASON_MAX 200 /* characters */

/* Closes every day from..to (both included, at most 366 days; to NULL = from).
 * Days closed already keep their first reason. The absences a sweep made on
 * those days and nobody worked on since (cause unknown, no follow-up: only a
 * sweep makes those) go: on a closed day nobody is absent. *closed = days
 * newly closed, *cleared = absences removed. INVALID: a bad day or range, an
 * empty or too long reason. Audited. */
enum ledger_status ledger_close_days(struct ledger *l, const char *from, const char *to,
                                     const char *reason, const char *by, int64_t at_ms,
                                     int *closed, int *cleared, FILE *errs);
/* Opens a closed day again. NOT_FOUND: it was not closed; CONFLICT: the bureau
 * closed it (source bureau, not built yet). *sweep_done: the day's absence sweep
 * already ran (skipped while closed): `gatescreen sweep --date DAY` makes it now. */
enum ledger_status ledger_reopen_day(struct ledger *l, const char *day, const char *by,
                                     int64_t at_ms, bool *sweep_done, FILE *errs);
/* Whether `day` is closed: 1 with its reason (into reason[n]), 0 not, -1 error. */
int ledger_day_closed(struct ledger *l, const char *day, char *reason, size_t n);
/* Whether nobody is expected on `day`: closed, a holiday or outside the term of
 * w's calendar (the day's figures, the slots' counts). 1, 0, or -1 on error. */
int ledger_day_expects_nobody(struct ledger *l, const struct cfg_windows *w, const char *day);

struct closed_day_view {
    const char *day, *reason, *source, *by;
    int64_t at_ms;
};
/* The closed days from `from` on (NULL: all), by day. */
int ledger_list_closed_days(struct ledger *l, const char *from,
                            void (*fn)(const struct closed_day_view *v, void *arg), void *arg);

#endif
