/* The missing-schools list (bstore_missing.h): four statements in one read-only
 * snapshot: the day (today in the bureau's zone when none is given, its calendar
 * entry, whether the county has schools, the deadlines' instants), the day's
 * closures, the counts per county, and the listed schools (none when nobody is
 * late or missing). Round trips count on a busy machine: each is a wake-up of
 * the server and of the caller. Zones and dates are PostgreSQL's work (AT TIME
 * ZONE), so no process time zone is involved and the collector's threads share
 * nothing.
 *
 * The counts are one pass over every active school in scope joined to its
 * summary_latest row of the day (an index-only scan of the day's entries), grouped
 * by county, with the codes of the late and missing schools of each county as an
 * array. Only those (a few hundred of ten thousand) are then read with their names
 * and contacts, by primary key. Joining all schools once and narrow, rather than
 * carrying every school's name through a materialised list, takes a third off
 * (tests/bench/bench_missing.py). */
#include "bstore_missing.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bstore_private.h"
#include "csv_out.h"
#include "log.h"
#include "textnum.h"

#define CODE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-,"

#define ISO "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"
#define LOCAL "'YYYY-MM-DD HH24:MI'"

struct missing_report {
    PGresult *ctx, *closures, *counts, *schools;
    struct missing_day day;
};

/* $1 day or NULL, $2 zone, $3 county or NULL, $4 and $5 the morning's and the day's
 * HH:MM. The day, its weekday, days after today, the local minute now, its calendar
 * entry, whether it is a school day, whether the county has active schools, now;
 * then for each deadline its local time, its instant, the seconds since. Both
 * deadlines at once: which one is meant may depend on the time now. */
static const char ctx_sql[] =
    "SELECT to_char(p.day, 'YYYY-MM-DD'), to_char(p.day, 'Dy'), p.day - p.local_now::date, "
    "(extract(hour FROM p.local_now) * 60 + extract(minute FROM p.local_now))::int, "
    "c.kind, coalesce(c.name, ''), "
    "coalesce(c.kind = 'workday', extract(isodow FROM p.day) < 6)::int, "
    "($3::text IS NULL OR EXISTS (SELECT 1 FROM schools WHERE active AND county = $3))::int, "
    "to_char(now() AT TIME ZONE 'UTC', " ISO "), "
    "to_char(d.m AT TIME ZONE $2, " LOCAL "), to_char(d.m AT TIME ZONE 'UTC', " ISO "), "
    "extract(epoch FROM now() - d.m)::bigint, "
    "to_char(d.d AT TIME ZONE $2, " LOCAL "), to_char(d.d AT TIME ZONE 'UTC', " ISO "), "
    "extract(epoch FROM now() - d.d)::bigint "
    "FROM (SELECT coalesce($1::date, (now() AT TIME ZONE $2)::date) AS day, "
    "now() AT TIME ZONE $2 AS local_now) p "
    "CROSS JOIN LATERAL (SELECT (p.day + $4::time) AT TIME ZONE $2 AS m, "
    "(p.day + $5::time) AT TIME ZONE $2 AS d) d "
    "LEFT JOIN calendar_days c ON c.day = p.day";

static const char closures_sql[] =
    "SELECT county, reason FROM closures WHERE day = $1::date ORDER BY county NULLS FIRST";

/* $1 day, $2 HH:MM, $3 zone, $4 county or NULL. Per county: the active schools,
 * those whose first report came by the deadline, after it; the codes of the late
 * and missing; whether a closure covers the county; the reporting schools whose
 * latest summary says they were closed (version 2's "closed",
 * summary_latest.closed: they reported, and are counted on time or late as any
 * other, never missing). The deadline is a constant once the parameters are
 * known: PostgreSQL folds it before the scan. */
#define DUE "(($1::date + $2::time) AT TIME ZONE $3)"
static const char counts_sql[] =
    "WITH cl AS (SELECT coalesce(bool_or(county IS NULL), false) AS everyone, "
    "coalesce(array_agg(county) FILTER (WHERE county IS NOT NULL), '{}') AS counties "
    "FROM closures WHERE day = $1::date) "
    "SELECT g.county, g.schools, g.on_time, g.late, g.listed, "
    "(cl.everyone OR g.county = ANY (cl.counties))::int, g.reported_closed "
    "FROM (SELECT s.county, count(*) AS schools, "
    "count(*) FILTER (WHERE l.first_received_at <= " DUE ") AS on_time, "
    "count(*) FILTER (WHERE l.first_received_at > " DUE ") AS late, "
    "array_agg(s.code) FILTER (WHERE l.first_received_at IS NULL "
    "OR l.first_received_at > " DUE ") AS listed, "
    "count(*) FILTER (WHERE l.closed) AS reported_closed "
    "FROM schools s LEFT JOIN summary_latest l ON l.school_code = s.code AND l.day = $1::date "
    "WHERE s.active AND ($4::text IS NULL OR s.county = $4) GROUP BY s.county) g "
    "CROSS JOIN cl ORDER BY g.county";

/* $1 day, $2 HH:MM, $3 zone, $4 the codes ({A1,B2}). The listed schools by county
 * and code (the counts' order); received and late_s NULL for the missing. "= ANY"
 * and not a join to unnest(): the array's length is known when this is planned,
 * a function's rows are not (a join hashed all schools: 9 ms instead of 6). */
static const char schools_sql[] =
    "SELECT s.county, s.code, s.name, s.contact_name, s.contact_phone, "
    "to_char(l.first_received_at AT TIME ZONE 'UTC', " ISO "), "
    "to_char(l.first_received_at AT TIME ZONE $3, " LOCAL "), "
    "extract(epoch FROM l.first_received_at - " DUE ")::bigint "
    "FROM schools s LEFT JOIN summary_latest l ON l.school_code = s.code AND l.day = $1::date "
    "WHERE s.code = ANY ($4::text[]) ORDER BY s.county, s.code";

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
static void hhmm(int minute, char out[8])
{
    snprintf(out, 8, "%02d:%02d", minute / 60 % 24, minute % 60);
}

/* The day, its calendar entry, which deadline and when it is. */
static int read_context(struct bstore *s, const struct bstore_missing_query *q,
                        struct missing_report *m, FILE *errs)
{
    char morning[8], day[8];
    hhmm(q->cfg->morning, morning);
    hhmm(q->cfg->day, day);
    const char *p[] = {q->day, q->cfg->timezone, q->county, morning, day};
    struct missing_day *d = &m->day;
    if (!(m->ctx = bs_run(s, ctx_sql, 5, p)))
        return -1;
    d->day = PQgetvalue(m->ctx, 0, 0);
    d->weekday = PQgetvalue(m->ctx, 0, 1);
    d->calendar_kind = text_or_null(m->ctx, 0, 4);
    d->calendar_name = PQgetvalue(m->ctx, 0, 5);
    d->school_day = num(m->ctx, 0, 6) == 1;
    d->now_utc = PQgetvalue(m->ctx, 0, 8);
    d->deadline = q->deadline_given ? q->deadline
                                    : deadline_default(q->cfg, (int)num(m->ctx, 0, 2),
                                                       (int)num(m->ctx, 0, 3));
    int col = d->deadline == DEADLINE_MORNING ? 9 : 12;
    d->deadline_local = PQgetvalue(m->ctx, 0, col);
    d->deadline_utc = PQgetvalue(m->ctx, 0, col + 1);
    d->past_s = num(m->ctx, 0, col + 2);
    if (num(m->ctx, 0, 7) != 1)
        return bs_refuse(s, errs, BSTORE_NOT_FOUND, "no active school is in county %s",
                         q->county);
    const char *c[] = {d->day};
    return (m->closures = bs_run(s, closures_sql, 1, c)) ? 0 : -1;
}

static void add_totals(struct missing_report *m)
{
    struct missing_county c;
    for (int i = 0; i < missing_report_counties(m); i++) {
        missing_report_county(m, i, &c);
        m->day.expected += c.expected;
        m->day.on_time += c.on_time;
        m->day.late += c.late;
        m->day.missing += c.missing;
        m->day.closed += c.closed;
        m->day.reported_closed += c.reported_closed;
    }
}

/* The listed codes of the open counties as one array, "{A1,B2}". A code is
 * [A-Za-z0-9_-] (schools' CHECK), so PostgreSQL's array text needs no quoting and
 * the arrays join as they are; anything else would be a broken database. */
static int listed_codes(const struct missing_report *m, char **out)
{
    size_t len = 0;
    FILE *f = open_memstream(out, &len);
    if (!f)
        return -1;
    fputc('{', f);
    bool first = true, ok = true;
    for (int i = 0; i < PQntuples(m->counts); i++) {
        const char *a = PQgetvalue(m->counts, i, 4);
        size_t n = strlen(a);
        if (num(m->counts, i, 5) == 1 || PQgetisnull(m->counts, i, 4) || n < 3)
            continue; /* closed, or nobody listed */
        ok = ok && a[0] == '{' && a[n - 1] == '}' && strspn(a + 1, CODE_CHARS) == n - 2;
        fprintf(f, "%s%.*s", first ? "" : ",", (int)(n - 2), a + 1);
        first = false;
    }
    fputc('}', f);
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int read_schools(struct bstore *s, const struct bstore_missing_query *q,
                        struct missing_report *m, const char *hhmm)
{
    char *codes = NULL;
    const char *p[] = {m->day.day, hhmm, q->cfg->timezone, q->county};
    if (!(m->counts = bs_run(s, counts_sql, 4, p)))
        return -1;
    add_totals(m);
    if (listed_codes(m, &codes) < 0) {
        free(codes);
        s->failed = BSTORE_IO;
        log_err("database: a listed school's code is not a code");
        return -1;
    }
    const char *p2[] = {m->day.day, hhmm, q->cfg->timezone, codes};
    if (strcmp(codes, "{}") != 0) /* everybody reported on time */
        m->schools = bs_run(s, schools_sql, 4, p2);
    int rc = strcmp(codes, "{}") == 0 || m->schools ? 0 : -1;
    free(codes);
    return rc;
}

static int run_query(struct bstore *s, const struct bstore_missing_query *q,
                     struct missing_report *m, FILE *errs)
{
    char deadline[8];
    if (read_context(s, q, m, errs) < 0)
        return -1;
    hhmm(deadline_minute(q->cfg, m->day.deadline), deadline);
    return m->day.school_day ? read_schools(s, q, m, deadline) : 0;
}

/* bs_begin's, in one snapshot: every statement of the list sees the same database. */
static int begin_snapshot(struct bstore *s)
{
    s->failed = BSTORE_OK;
    s->refused = false;
    s->msg[0] = '\0';
    return bs_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", 0, NULL);
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
    int rc = begin_snapshot(s);
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
    return r->counts ? PQntuples(r->counts) : 0;
}

void missing_report_county(const struct missing_report *r, int i, struct missing_county *out)
{
    int n = (int)num(r->counts, i, 1), on_time = (int)num(r->counts, i, 2),
        late = (int)num(r->counts, i, 3);
    *out = (struct missing_county){.county = PQgetvalue(r->counts, i, 0),
                                   .reported_closed = (int)num(r->counts, i, 6)};
    if (num(r->counts, i, 5) == 1) { /* a closure covers the county: nobody expected */
        out->closed = n;
        return;
    }
    out->expected = n;
    out->on_time = on_time;
    out->late = late;
    out->missing = n - on_time - late;
}

int missing_report_schools(const struct missing_report *r)
{
    return r->schools ? PQntuples(r->schools) : 0;
}

void missing_report_school(const struct missing_report *r, int i, struct missing_school *out)
{
    PGresult *res = r->schools;
    *out = (struct missing_school){
        .county = PQgetvalue(res, i, 0), .code = PQgetvalue(res, i, 1),
        .name = PQgetvalue(res, i, 2), .contact_name = PQgetvalue(res, i, 3),
        .contact_phone = PQgetvalue(res, i, 4), .late = !PQgetisnull(res, i, 5),
        .received_utc = text_or_null(res, i, 5), .received_local = text_or_null(res, i, 6),
        .late_s = num(res, i, 7)};
}

void missing_report_free(struct missing_report *r)
{
    if (!r)
        return;
    PQclear(r->ctx);
    PQclear(r->closures);
    PQclear(r->counts);
    PQclear(r->schools);
    free(r);
}

/* ---- CSV (the command line's --csv, the page's exports) ------------------------------ */

static void csv_school(FILE *f, const struct missing_day *d, const struct missing_school *s)
{
    char late[24] = "";
    if (s->late)
        snprintf(late, sizeof late, "%lld", s->late_s / 60);
    const char *v[] = {d->day, deadline_name(d->deadline), s->county, s->code, s->name,
                       s->contact_name, s->contact_phone, s->late ? "late" : "missing",
                       s->received_local, late};
    csv_out_record(f, v, (int)(sizeof v / sizeof v[0]));
}

void missing_report_csv_schools(FILE *f, const struct missing_report *r)
{
    static const char *const head[] = {"day", "deadline", "county", "code", "name",
                                       "contact_name", "contact_phone", "status",
                                       "received_at", "late_minutes"};
    struct missing_school s;
    fputs(CSV_OUT_BOM, f);
    csv_out_record(f, head, (int)(sizeof head / sizeof head[0]));
    for (int i = 0; i < missing_report_schools(r); i++) {
        missing_report_school(r, i, &s);
        csv_school(f, missing_report_day(r), &s);
    }
}

void missing_report_csv_counties(FILE *f, const struct missing_report *r)
{
    static const char *const head[] = {"day", "deadline", "county", "expected", "reported",
                                       "on_time", "late", "missing", "closed",
                                       "reported_closed"};
    const struct missing_day *d = missing_report_day(r);
    struct missing_county c;
    fputs(CSV_OUT_BOM, f);
    csv_out_record(f, head, (int)(sizeof head / sizeof head[0]));
    for (int i = 0; i < missing_report_counties(r); i++) {
        missing_report_county(r, i, &c);
        int nums[] = {c.expected, c.on_time + c.late, c.on_time, c.late, c.missing, c.closed,
                      c.reported_closed};
        enum { NUMS = sizeof nums / sizeof nums[0] };
        char all[NUMS][16];
        for (int k = 0; k < NUMS; k++)
            snprintf(all[k], sizeof all[k], "%d", nums[k]);
        const char *v[] = {d->day, deadline_name(d->deadline), c.county, all[0], all[1],
                           all[2], all[3], all[4], all[5], all[6]};
        csv_out_record(f, v, (int)(sizeof v / sizeof v[0]));
    }
}
