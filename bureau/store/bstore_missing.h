/* The schools that have not reported a day by its deadline (零报告; docs/bureau.md,
 * "Deadlines and missing schools"): the one query behind `gatescreen-bureau
 * missing` and the collector's GET /v1/missing, so that both say the same.
 *
 * Expected on a day: every active school, when the day is a school day (a weekday,
 * or a make-up working day, and not a holiday: calendar_days) and no closure covers
 * the school (all schools, or its county: closures). Of those, a school is
 *   on time  when its first report of the day (summary_latest.first_received_at)
 *            arrived at or before the deadline,
 *   late     when it arrived after it,
 *   missing  when none has arrived.
 * The deadline is the day at [deadlines] morning or day, in [deadlines] timezone.
 * Read only, in one snapshot: it can run on a replica. */
#ifndef GS_BSTORE_MISSING_H
#define GS_BSTORE_MISSING_H

#include <stdbool.h>
#include <stdio.h>

#include "bconfig.h"
#include "bstore.h"
#include "deadline.h"

struct bstore_missing_query {
    const char *day;                    /* "YYYY-MM-DD" (checked), or NULL: today */
    bool deadline_given;                /* else deadline_default's */
    enum deadline deadline;
    const char *county;                 /* NULL: every county */
    const struct bcfg_deadlines *cfg;
};

struct missing_day {
    const char *day, *weekday;          /* "2026-10-12", "Mon" */
    enum deadline deadline;
    const char *deadline_local;         /* "2026-10-12 10:00" in the bureau's zone */
    const char *deadline_utc;           /* "2026-10-12T02:00:00Z" */
    const char *now_utc;
    long long past_s;                   /* now - the deadline (< 0: still to come) */
    bool school_day;
    const char *calendar_kind;          /* "holiday", "workday", or NULL (its weekday) */
    const char *calendar_name;          /* "" when none */
    int expected, on_time, late, missing, closed; /* closed: active schools closed */
    int reported_closed;                /* of on_time + late: they said they were closed */
};

struct missing_closure {
    const char *county;                 /* NULL: every school */
    const char *reason;
};

/* One county of the schools in scope (also those with nobody missing or late). */
struct missing_county {
    const char *county;
    int expected, on_time, late, missing, closed;
    int reported_closed;                /* as missing_day's */
};

/* A school expected that day that is missing or late, by county and code. */
struct missing_school {
    const char *county, *code, *name, *contact_name, *contact_phone;
    bool late;                          /* false: no report yet */
    const char *received_utc;           /* late: the first report's arrival, else NULL */
    const char *received_local;         /* "2026-10-12 10:35" */
    long long late_s;                   /* late: how long after the deadline */
};

struct missing_report;

/* The list, or BSTORE_NOT_FOUND when `county` has no active school (a sentence on
 * errs), BSTORE_UNAVAILABLE, BSTORE_IO. */
enum bstore_status bstore_missing(struct bstore *s, const struct bstore_missing_query *q,
                                  struct missing_report **out, FILE *errs);
const struct missing_day *missing_report_day(const struct missing_report *r);
int missing_report_closures(const struct missing_report *r);
void missing_report_closure(const struct missing_report *r, int i, struct missing_closure *out);
int missing_report_counties(const struct missing_report *r);
void missing_report_county(const struct missing_report *r, int i, struct missing_county *out);
int missing_report_schools(const struct missing_report *r);
void missing_report_school(const struct missing_report *r, int i, struct missing_school *out);
void missing_report_free(struct missing_report *r);

/* The report as CSV (UTF-8 with a BOM, csv_out.h's guarded cells), for a
 * spreadsheet: the missing and late schools (day, deadline, county, code, name,
 * contact_name, contact_phone, status, received_at, late_minutes), or the counties
 * (day, deadline, county, expected, reported, on_time, late, missing, closed). */
void missing_report_csv_schools(FILE *f, const struct missing_report *r);
void missing_report_csv_counties(FILE *f, const struct missing_report *r);

#endif
