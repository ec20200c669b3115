/* The missing-schools list (bstore_missing.h): four statements in one read-only
 * snapshot: the day (today in the bureau's zone when none is given, its calendar
 * entry, whether the county has schools), the deadline's instant, the day's
 * closures, and the schools. Zones and dates are PostgreSQL's work (AT TIME ZONE),
 * so no process time zone is involved and the collector's threads share nothing.
 *
 * The schools are one statement: every active school in scope joined to its
 * summary_latest row of the day (the primary key (school_code, day) finds it), the
 * counts per county first (k = 0) and then the late and missing schools (k = 1),
 * by county and code. A closure is decided once for the day, not per school. */
#include "bstore_missing.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bstore_private.h"
#include "textnum.h"

#define ISO "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"
#define LOCAL "'YYYY-MM-DD HH24:MI'"

struct missing_report {
    PGresult *ctx, *due, *closures, *rows;
    struct missing_day day;
    int counties; /* the first rows of `rows` */
};

/* $1 day or NULL, $2 zone, $3 county or NULL. */
static const char ctx_sql[] =
    "SELECT to_char(p.day, 'YYYY-MM-DD'), to_char(p.day, 'Dy'), p.day - p.local_now::date, "
    "(extract(hour FROM p.local_now) * 60 + extract(minute FROM p.local_now))::int, "
    "c.kind, coalesce(c.name, ''), "
    "coalesce(c.kind = 'workday', extract(isodow FROM p.day) < 6)::int, "
    "($3::text IS NULL OR EXISTS (SELECT 1 FROM schools WHERE active AND county = $3))::int "
    "FROM (SELECT coalesce($1::date, (now() AT TIME ZONE $2)::date) AS day, "
    "now() AT TIME ZONE $2 AS local_now) p LEFT JOIN calendar_days c ON c.day = p.day";

/* $1 day, $2 HH:MM, $3 zone. */
static const char due_sql[] =
    "SELECT to_char(due AT TIME ZONE $3, " LOCAL "), to_char(due AT TIME ZONE 'UTC', " ISO "), "
    "to_char(now() AT TIME ZONE 'UTC', " ISO "), extract(epoch FROM now() - due)::bigint "
    "FROM (SELECT ($1::date + $2::time) AT TIME ZONE $3 AS due) p";

static const char closures_sql[] =
    "SELECT county, reason FROM closures WHERE day = $1::date ORDER BY county NULLS FIRST";

/* $1 day, $2 HH:MM, $3 zone, $4 county or NULL. Columns: k, county, code, name,
 * contact_name, contact_phone, received (UTC, local), late_s; expected, on_time,
 * late, missing, closed.
 *
 * e is every school in scope with its status (0 on time, 1 late, 2 missing, 3
 * closed), narrow: the names and contacts are joined only to the few listed. The
 * day is the parameter itself in the join, not a CTE's column: only then does the
 * planner take summary_latest's rows of that day by an index instead of reading the
 * whole table; the deadline is computed once (p). */
static const char rows_sql[] =
    "WITH p AS (SELECT ($1::date + $2::time) AT TIME ZONE $3 AS due), "
    "cl AS (SELECT coalesce(bool_or(county IS NULL), false) AS everyone, "
    "coalesce(array_agg(county) FILTER (WHERE county IS NOT NULL), '{}') AS counties "
    "FROM closures WHERE day = $1::date), "
    "e AS MATERIALIZED (SELECT s.county, s.code, l.first_received_at AS first, "
    "CASE WHEN cl.everyone OR s.county = ANY (cl.counties) THEN 3 "
    "WHEN l.first_received_at IS NULL THEN 2 WHEN l.first_received_at > p.due THEN 1 "
    "ELSE 0 END AS st "
    "FROM p CROSS JOIN cl CROSS JOIN schools s "
    "LEFT JOIN summary_latest l ON l.school_code = s.code AND l.day = $1::date "
    "WHERE s.active AND ($4::text IS NULL OR s.county = $4)) "
    "SELECT 0, county, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "count(*) FILTER (WHERE st < 3), count(*) FILTER (WHERE st = 0), "
    "count(*) FILTER (WHERE st = 1), count(*) FILTER (WHERE st = 2), "
    "count(*) FILTER (WHERE st = 3) FROM e GROUP BY county "
    "UNION ALL "
    "SELECT 1, e.county, e.code, s.name, s.contact_name, s.contact_phone, "
    "to_char(e.first AT TIME ZONE 'UTC', " ISO "), to_char(e.first AT TIME ZONE $3, " LOCAL "), "
    "extract(epoch FROM e.first - p.due)::bigint, NULL, NULL, NULL, NULL, NULL "
    "FROM e JOIN schools s ON s.code = e.code CROSS JOIN p WHERE e.st IN (1, 2) "
    "ORDER BY 1, 2, 3";

static long num(PGresult *r, int row, int col)
{
    long v = 0;
    if (!PQgetisnull(r, row, col))
        tn_long(PQgetvalue(r, row, col), LONG_MIN, LONG_MAX, &v);
    return v;
}

static const char *text_or_null(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/* The day, its calendar entry, and which deadline. */
static int read_context(struct bstore *s, const struct bstore_missing_query *q,
                        struct missing_report *m, FILE *errs)
{
    const char *p[] = {q->day, q->cfg->timezone, q->county};
    struct missing_day *d = &m->day;
    if (!(m->ctx = bs_run(s, ctx_sql, 3, p)))
        return -1;
    d->day = PQgetvalue(m->ctx, 0, 0);
    d->weekday = PQgetvalue(m->ctx, 0, 1);
    d->calendar_kind = text_or_null(m->ctx, 0, 4);
    d->calendar_name = PQgetvalue(m->ctx, 0, 5);
    d->school_day = num(m->ctx, 0, 6) == 1;
    d->deadline = q->deadline_given ? q->deadline
                                    : deadline_default(q->cfg, (int)num(m->ctx, 0, 2),
                                                       (int)num(m->ctx, 0, 3));
    if (num(m->ctx, 0, 7) != 1)
        return bs_refuse(s, errs, BSTORE_NOT_FOUND, "no active school is in county %s",
                         q->county);
    return 0;
}

static int read_deadline(struct bstore *s, const struct bstore_missing_query *q,
                         struct missing_report *m, const char *hhmm)
{
    const char *p[] = {m->day.day, hhmm, q->cfg->timezone};
    if (!(m->due = bs_run(s, due_sql, 3, p)))
        return -1;
    m->day.deadline_local = PQgetvalue(m->due, 0, 0);
    m->day.deadline_utc = PQgetvalue(m->due, 0, 1);
    m->day.now_utc = PQgetvalue(m->due, 0, 2);
    m->day.past_s = num(m->due, 0, 3);
    const char *c[] = {m->day.day};
    return (m->closures = bs_run(s, closures_sql, 1, c)) ? 0 : -1;
}

static void add_totals(struct missing_report *m)
{
    struct missing_county c;
    for (int i = 0; i < m->counties; i++) {
        missing_report_county(m, i, &c);
        m->day.expected += c.expected;
        m->day.on_time += c.on_time;
        m->day.late += c.late;
        m->day.missing += c.missing;
        m->day.closed += c.closed;
    }
}

static int read_schools(struct bstore *s, const struct bstore_missing_query *q,
                        struct missing_report *m, const char *hhmm)
{
    const char *p[] = {m->day.day, hhmm, q->cfg->timezone, q->county};
    if (!(m->rows = bs_run(s, rows_sql, 4, p)))
        return -1;
    while (m->counties < PQntuples(m->rows) && num(m->rows, m->counties, 0) == 0)
        m->counties++;
    add_totals(m);
    return 0;
}

static int run_query(struct bstore *s, const struct bstore_missing_query *q,
                     struct missing_report *m, FILE *errs)
{
    char hhmm[8];
    if (bs_exec(s, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", 0, NULL) < 0 ||
        read_context(s, q, m, errs) < 0)
        return -1;
    int minute = deadline_minute(q->cfg, m->day.deadline);
    snprintf(hhmm, sizeof hhmm, "%02d:%02d", minute / 60 % 24, minute % 60);
    if (read_deadline(s, q, m, hhmm) < 0)
        return -1;
    return m->day.school_day ? read_schools(s, q, m, hhmm) : 0;
}

enum bstore_status bstore_missing(struct bstore *s, const struct bstore_missing_query *q,
                                  struct missing_report **out, FILE *errs)
{
    struct missing_report *m = calloc(1, sizeof *m);
    *out = NULL;
    if (!m) {
        fprintf(errs, "out of memory\n");
        return BSTORE_IO;
    }
    int rc = bs_begin(s);
    if (rc == 0)
        rc = run_query(s, q, m, errs);
    enum bstore_status st = bs_said(s, bs_end(s, rc), errs);
    if (st != BSTORE_OK) {
        missing_report_free(m);
        return st;
    }
    *out = m;
    return BSTORE_OK;
}

const struct missing_day *missing_report_day(const struct missing_report *r)
{
    return &r->day;
}

int missing_report_closures(const struct missing_report *r)
{
    return r->closures ? PQntuples(r->closures) : 0;
}

void missing_report_closure(const struct missing_report *r, int i, struct missing_closure *out)
{
    out->county = text_or_null(r->closures, i, 0);
    out->reason = PQgetvalue(r->closures, i, 1);
}

int missing_report_counties(const struct missing_report *r)
{
    return r->counties;
}

void missing_report_county(const struct missing_report *r, int i, struct missing_county *out)
{
    *out = (struct missing_county){
        .county = PQgetvalue(r->rows, i, 1), .expected = (int)num(r->rows, i, 9),
        .on_time = (int)num(r->rows, i, 10), .late = (int)num(r->rows, i, 11),
        .missing = (int)num(r->rows, i, 12), .closed = (int)num(r->rows, i, 13)};
}

int missing_report_schools(const struct missing_report *r)
{
    return r->rows ? PQntuples(r->rows) - r->counties : 0;
}

void missing_report_school(const struct missing_report *r, int i, struct missing_school *out)
{
    int row = r->counties + i;
    *out = (struct missing_school){
        .county = PQgetvalue(r->rows, row, 1), .code = PQgetvalue(r->rows, row, 2),
        .name = PQgetvalue(r->rows, row, 3), .contact_name = PQgetvalue(r->rows, row, 4),
        .contact_phone = PQgetvalue(r->rows, row, 5),
        .late = !PQgetisnull(r->rows, row, 6),
        .received_utc = text_or_null(r->rows, row, 6),
        .received_local = text_or_null(r->rows, row, 7), .late_s = num(r->rows, row, 8)};
}

void missing_report_free(struct missing_report *r)
{
    if (!r)
        return;
    PQclear(r->ctx);
    PQclear(r->due);
    PQclear(r->closures);
    PQclear(r->rows);
    free(r);
}
