/* The school calendar and closures (bstore_calendar.h). A range is expanded by
 * generate_series in the statement itself, so a week's holiday is one round trip
 * and one decision by the keys, never a read and then a write. */
#include "bstore_calendar.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bstore_private.h"
#include "textnum.h"

/* FROM this: d, every day of $1..$2 */
#define DAYS "generate_series($1::date, $2::date, interval '1 day') AS g(d)"
#define WEEKDAY(col) "to_char(" col ", 'Dy')"
#define STAMP(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* One change: a statement returning a row per day it wrote, and its audit row. */
struct change {
    const char *sql;
    int n;
    const char *const *params;
    const char *action;
    const char *what;   /* the name or reason, for audit_log (may be NULL) */
    char target[160];   /* "FROM..TO" or the day, and the scope */
    bool must_touch;    /* no row: refused (removing what is not there) */
};

static enum bstore_status run_change(struct bstore *s, struct change *c, const char *actor,
                                     int *rows, FILE *errs)
{
    char detail[400];
    int rc = bs_begin(s);
    PGresult *r = rc == 0 ? bs_run(s, c->sql, c->n, c->params) : NULL;
    *rows = r ? PQntuples(r) : 0;
    PQclear(r);
    if (rc == 0 && !r)
        rc = -1;
    else if (rc == 0 && *rows == 0 && c->must_touch)
        rc = bs_refuse(s, errs, BSTORE_NOT_FOUND, "nothing to remove on %s", c->target);
    snprintf(detail, sizeof detail, "%d days changed%s%s", *rows, c->what ? ": " : "",
             c->what ? c->what : "");
    if (rc == 0)
        rc = bs_audit(s, actor, c->action, c->target, detail);
    enum bstore_status st = bs_said(s, bs_end(s, rc), errs);
    if (st != BSTORE_OK)
        *rows = 0;
    return st;
}

/* "FROM..TO" (or the day), and " county C" or " all schools" with a scope. */
static void target(struct change *c, const char *from, const char *to, bool scoped,
                   const char *county)
{
    if (strcmp(from, to) == 0)
        snprintf(c->target, sizeof c->target, "%s", from);
    else
        snprintf(c->target, sizeof c->target, "%s..%s", from, to);
    if (scoped && county)
        tn_append(c->target, sizeof c->target, " county %s", county);
    else if (scoped)
        tn_append(c->target, sizeof c->target, " all schools");
}

/* ---- calendar ------------------------------------------------------------------- */

enum bstore_status bstore_calendar_set(struct bstore *s, const char *from, const char *to,
                                       const char *kind, const char *name, const char *actor,
                                       int *changed, FILE *errs)
{
    const char *p[] = {from, to, kind, name, actor};
    /* The WHERE leaves a day that is so already untouched, and out of RETURNING. */
    struct change c = {
        .sql = "INSERT INTO calendar_days (day, kind, name, set_by) "
               "SELECT d::date, $3, $4, $5 FROM " DAYS " "
               "ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name, "
               "set_at = now(), set_by = excluded.set_by "
               "WHERE (calendar_days.kind, calendar_days.name) IS DISTINCT FROM "
               "(excluded.kind, excluded.name) RETURNING day",
        .n = 5, .params = p, .what = name,
        .action = strcmp(kind, "holiday") == 0 ? "calendar holiday" : "calendar workday"};
    target(&c, from, to, false, NULL);
    return run_change(s, &c, actor, changed, errs);
}

enum bstore_status bstore_calendar_clear(struct bstore *s, const char *from, const char *to,
                                         const char *actor, int *removed, FILE *errs)
{
    const char *p[] = {from, to};
    struct change c = {.sql = "DELETE FROM calendar_days WHERE day BETWEEN $1::date AND "
                              "$2::date RETURNING day",
                       .n = 2, .params = p, .action = "calendar clear", .must_touch = true};
    target(&c, from, to, false, NULL);
    return run_change(s, &c, actor, removed, errs);
}

int bstore_calendar_list(struct bstore *s, const char *from, const char *to,
                         void (*fn)(const struct bstore_calendar_view *v, void *arg), void *arg)
{
    const char *p[] = {from, to};
    PGresult *r = bs_run(s, "SELECT to_char(day, 'YYYY-MM-DD'), " WEEKDAY("day") ", kind, "
                            "name, set_by, " STAMP("set_at") " FROM calendar_days "
                            "WHERE ($1::date IS NULL OR day >= $1::date) "
                            "AND ($2::date IS NULL OR day <= $2::date) ORDER BY day", 2, p);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        struct bstore_calendar_view v = {
            .day = PQgetvalue(r, i, 0), .weekday = PQgetvalue(r, i, 1),
            .kind = PQgetvalue(r, i, 2), .name = PQgetvalue(r, i, 3),
            .set_by = PQgetvalue(r, i, 4), .set_at = PQgetvalue(r, i, 5)};
        fn(&v, arg);
    }
    PQclear(r);
    return 0;
}

/* ---- closures ------------------------------------------------------------------- */

/* A closure of a county no school is in would close nobody: most likely a typo. */
static int county_known(struct bstore *s, const char *county, FILE *errs)
{
    const char *p[] = {county};
    PGresult *r = bs_run(s, "SELECT string_agg(DISTINCT county, ', ' ORDER BY county), "
                            "coalesce(bool_or(county = $1), false)::int FROM schools", 1, p);
    if (!r)
        return -1;
    int rc = 0;
    if (strcmp(PQgetvalue(r, 0, 1), "1") != 0)
        rc = bs_refuse(s, errs, BSTORE_NOT_FOUND, "no school is in county %s (the counties: "
                       "%s)", county, PQgetisnull(r, 0, 0) ? "none yet" : PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

enum bstore_status bstore_closure_add(struct bstore *s, const char *from, const char *to,
                                      const char *county, const char *reason,
                                      const char *actor, int *changed, FILE *errs)
{
    const char *p[] = {from, to, county, reason, actor};
    struct change c = {
        .sql = "INSERT INTO closures (day, county, reason, created_by) "
               "SELECT d::date, $3, $4, $5 FROM " DAYS " "
               "ON CONFLICT (day, (coalesce(county, ''))) DO UPDATE SET "
               "reason = excluded.reason, created_at = now(), created_by = excluded.created_by "
               "WHERE closures.reason IS DISTINCT FROM excluded.reason RETURNING day",
        .n = 5, .params = p, .action = "closure add", .what = reason};
    target(&c, from, to, true, county);
    *changed = 0;
    s->failed = BSTORE_OK;
    s->refused = false;
    if (county && county_known(s, county, errs) < 0)
        return bs_said(s, s->failed, errs);
    return run_change(s, &c, actor, changed, errs);
}

enum bstore_status bstore_closure_remove(struct bstore *s, const char *from, const char *to,
                                         const char *county, const char *actor, int *removed,
                                         FILE *errs)
{
    const char *p[] = {from, to, county};
    struct change c = {.sql = "DELETE FROM closures WHERE day BETWEEN $1::date AND $2::date "
                              "AND coalesce(county, '') = coalesce($3, '') RETURNING day",
                       .n = 3, .params = p, .action = "closure remove", .must_touch = true};
    target(&c, from, to, true, county);
    return run_change(s, &c, actor, removed, errs);
}

int bstore_closure_list(struct bstore *s, const char *from, const char *to,
                        void (*fn)(const struct bstore_closure_view *v, void *arg), void *arg)
{
    const char *p[] = {from, to};
    PGresult *r = bs_run(s, "SELECT to_char(day, 'YYYY-MM-DD'), " WEEKDAY("day") ", county, "
                            "reason, created_by, " STAMP("created_at") " FROM closures "
                            "WHERE ($1::date IS NULL OR day >= $1::date) "
                            "AND ($2::date IS NULL OR day <= $2::date) "
                            "ORDER BY day, county NULLS FIRST", 2, p);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        struct bstore_closure_view v = {
            .day = PQgetvalue(r, i, 0), .weekday = PQgetvalue(r, i, 1),
            .county = PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2),
            .reason = PQgetvalue(r, i, 3), .created_by = PQgetvalue(r, i, 4),
            .created_at = PQgetvalue(r, i, 5)};
        fn(&v, arg);
    }
    PQclear(r);
    return 0;
}
