/* The roll-ups, the notices' list and their acknowledgement (bstore_rollup.h).
 *
 * A roll-up is one statement: the reported school-days of the range added up per
 * day and unit, the active schools counted per unit, the disabled schools' reports
 * counted per day and unit (they are expected on the days they reported), and a
 * grid of every day and unit so that a day or a county nobody reported for is a row
 * too (reported 0); a unit that expected no report on a day (its schools disabled,
 * none reported) is not. The unit is '' for the city, the county, or the school's
 * code. The county and school levels add up summary_figures joined to schools (for
 * the county); the city adds up summary_city_day, the days kept summed by the
 * uploads (sql/bureau/003_rollups.sql): a month of a city is then ~1,000 rows, not
 * 300,000 (tests/bench/bench_rollup.py).
 *
 * The reads run in a transaction of their own (one snapshot for the check of the
 * county and the rows) with JIT off: the planner's cost of a month of rows is
 * enough to make PostgreSQL compile the query, which took 700 ms for a query that
 * runs in 20. */
#include "bstore_rollup.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bstore_private.h"
#include "log.h"
#include "textnum.h"

#define ISO_MS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* ---- the roll-up's statement ------------------------------------------------------ */

/* Per level: the unit's key; where the day's figures come from, and how their
 * reports, noon schools and revision are counted; the county, code and name a row
 * shows. */
static const struct {
    const char *key, *from, *filter, *reported, *noon, *revision;
    const char *county, *code, *name, *join;
} levels[] = {
    [ROLLUP_CITY] = {"''::text", "summary_city_day f", "", "sum(f.reported)",
                     "sum(f.noon_schools)", "0",
                     "NULL::text", "NULL::text", "NULL::text", ""},
    [ROLLUP_COUNTY] = {"s.county", "summary_figures f JOIN schools s ON s.code = f.school_code",
                       "AND ($3::text IS NULL OR s.county = $3) "
                       "AND ($5::text IS NULL OR s.code = $5) ", "count(*)",
                       "count(f.noon_done)", "0",
                       "g.u", "NULL::text", "NULL::text", ""},
    [ROLLUP_SCHOOL] = {"s.code", "summary_figures f JOIN schools s ON s.code = f.school_code",
                       "AND ($3::text IS NULL OR s.county = $3) "
                       "AND ($5::text IS NULL OR s.code = $5) ", "count(*)",
                       "count(f.noon_done)", "max(f.revision)",
                       "n.county", "g.u", "n.name", "LEFT JOIN schools n ON n.code = g.u "},
};

/* A county's or a school's figures are read school by school through summary_figures'
 * primary key (school_code, day): one county's 30 days are then 15,000 rows of 500
 * schools, where the day index would read the 300,000 of every school and keep 5%
 * (213 ms against 31 for one county of 10,000 schools; bench_bureau_page.py). OFFSET 0
 * keeps the planner from turning it back into a join over the days. Every county at
 * once is read by day. */
#define NARROW_FROM "schools s CROSS JOIN LATERAL (SELECT * FROM summary_figures f " \
                    "WHERE f.school_code = s.code AND f.day BETWEEN $1::date AND $2::date " \
                    "OFFSET 0) f"

/* The day's figures per unit: agg (day, u, reported, revision, noon_schools, the
 * figures, availability_sum). */
static void agg_sql(FILE *f, enum rollup_level level, bool narrow)
{
    fprintf(f, "agg AS (SELECT f.day, %s AS u, %s AS reported, %s AS revision, "
               "%s AS noon_schools", levels[level].key, levels[level].reported,
            levels[level].revision, levels[level].noon);
    for (int i = 0; i < RF_COUNT; i++)
        fprintf(f, ", sum(f.%s) AS %s", rollup_fig_column((enum rollup_fig)i),
                rollup_fig_column((enum rollup_fig)i));
    fprintf(f, ", sum(f.availability_sum) AS availability_sum FROM %s "
               "WHERE f.day BETWEEN $1::date AND $2::date %sGROUP BY 1, 2), ",
            narrow && level != ROLLUP_CITY ? NARROW_FROM : levels[level].from,
            levels[level].filter);
}

/* $1 from, $2 to, $3 county or NULL, $4 the row limit, $5 school or NULL. The
 * disabled schools' reports (inact) are found from the disabled schools, a handful,
 * through the primary key.
 * The days: an integer series (its row count is known to the planner, a date
 * series' is not). */
static char *rollup_sql(enum rollup_level level, bool narrow)
{
    char *sql = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&sql, &len);
    if (!f)
        return NULL;
    fputs("WITH ", f);
    agg_sql(f, level, narrow);
    fprintf(f, "inact AS (SELECT f.day, %s AS u, count(*) AS n FROM schools s "
               "JOIN summary_figures f ON f.school_code = s.code "
               "AND f.day BETWEEN $1::date AND $2::date "
               "WHERE NOT s.active AND ($3::text IS NULL OR s.county = $3) "
               "AND ($5::text IS NULL OR s.code = $5) GROUP BY 1, 2), "
               "act AS (SELECT %s AS u, count(*) AS n FROM schools s "
               "WHERE s.active AND ($3::text IS NULL OR s.county = $3) "
               "AND ($5::text IS NULL OR s.code = $5) GROUP BY 1), "
               "units AS (SELECT u FROM act UNION SELECT u FROM agg) "
               "SELECT to_char(g.day, 'YYYY-MM-DD'), %s, %s, %s, "
               "coalesce(act.n, 0) + coalesce(inact.n, 0), coalesce(agg.reported, 0), "
               "coalesce(agg.revision, 0), coalesce(agg.noon_schools, 0)",
            levels[level].key, levels[level].key, levels[level].county, levels[level].code,
            levels[level].name);
    for (int i = 0; i < RF_COUNT; i++)
        fprintf(f, ", agg.%s", rollup_fig_column((enum rollup_fig)i));
    fprintf(f, ", agg.availability_sum "
               "FROM (SELECT $1::date + i AS day, units.u "
               "FROM generate_series(0, $2::date - $1::date) i CROSS JOIN units) g "
               "LEFT JOIN act ON act.u = g.u LEFT JOIN agg ON agg.day = g.day AND agg.u = g.u "
               "LEFT JOIN inact ON inact.day = g.day AND inact.u = g.u "
               "%sWHERE act.n > 0 OR inact.n > 0 "
               "ORDER BY 1, 2, 3 LIMIT $4::int", levels[level].join);
    if (fclose(f) != 0) {
        free(sql);
        return NULL;
    }
    return sql;
}

/* ---- reading rows ------------------------------------------------------------------ */

static const char *text_or_null(const PGresult *r, int i, int col)
{
    return PQgetisnull(r, i, col) ? NULL : PQgetvalue(r, i, col);
}

static long long number(const PGresult *r, int i, int col)
{
    long v = 0;
    if (!PQgetisnull(r, i, col))
        tn_long(PQgetvalue(r, i, col), LONG_MIN, LONG_MAX, &v);
    return v;
}

enum { RC_DAY, RC_COUNTY, RC_CODE, RC_NAME, RC_EXPECTED, RC_REPORTED, RC_REVISION, RC_NOON,
       RC_FIGS };

static void rollup_row_out(const PGresult *r, int i,
                           void (*fn)(const struct rollup_row *row, void *arg), void *arg)
{
    struct rollup_row row = {
        .day = PQgetvalue(r, i, RC_DAY), .county = text_or_null(r, i, RC_COUNTY),
        .school_code = text_or_null(r, i, RC_CODE), .school_name = text_or_null(r, i, RC_NAME),
        .revision = number(r, i, RC_REVISION), .schools_expected = number(r, i, RC_EXPECTED),
        .schools_reported = number(r, i, RC_REPORTED), .noon_schools = number(r, i, RC_NOON)};
    double avail = 0;
    for (int f = 0; f < RF_COUNT; f++)
        row.fig[f] = number(r, i, RC_FIGS + f);
    if (!PQgetisnull(r, i, RC_FIGS + RF_COUNT))
        tn_double(PQgetvalue(r, i, RC_FIGS + RF_COUNT), 0, 1e12, &avail);
    row.availability_sum = avail;
    fn(&row, arg);
}

/* Whether a school (or a county) of that name is there: a query naming one that
 * is not gets "not found", not an empty answer that hides a typing mistake. */
static int exists(struct bstore *s, const char *sql, const char *v, bool *found)
{
    const char *p[] = {v};
    PGresult *r = bs_run(s, sql, 1, p);
    if (!r)
        return -1;
    *found = PQntuples(r) > 0;
    PQclear(r);
    return 0;
}

/* A read: its own transaction (one snapshot), no JIT (see the top). */
static int begin_read(struct bstore *s)
{
    if (bs_begin(s) < 0)
        return -1;
    return bs_exec(s, "SET LOCAL jit = off", 0, NULL);
}

/* Before the roll-up: whether the county is there, and the rows to expect (days
 * times the active schools' units): an answer far over max_rows is refused before
 * it is computed, not after adding up a year of every school. */
static int rollup_size(struct bstore *s, const struct rollup_query *q, long *expect)
{
    char sql[400];
    const char *p[] = {q->county[0] ? q->county : NULL, q->from, q->to,
                       q->school[0] ? q->school : NULL};
    snprintf(sql, sizeof sql, "SELECT count(*), count(DISTINCT %s) FILTER (WHERE s.active) * "
                              "($3::date - $2::date + 1) FROM schools s "
                              "WHERE ($1::text IS NULL OR s.county = $1) "
                              "AND ($4::text IS NULL OR s.code = $4)", levels[q->level].key);
    PGresult *r = bs_run(s, sql, 4, p);
    if (!r)
        return -1;
    bool none = number(r, 0, 0) == 0;
    *expect = (long)number(r, 0, 1);
    PQclear(r);
    if (none && (q->county[0] || q->school[0])) {
        s->failed = BSTORE_NOT_FOUND;
        return -1;
    }
    return 0;
}

static int rollup_read(struct bstore *s, const struct rollup_query *q, int max_rows,
                       void (*fn)(const struct rollup_row *r, void *arg), void *arg,
                       long *rows)
{
    char limit[16];
    long expect = 0;
    snprintf(limit, sizeof limit, "%d", max_rows + 1);
    const char *p[] = {q->from, q->to, q->county[0] ? q->county : NULL, limit,
                       q->school[0] ? q->school : NULL};
    if (rollup_size(s, q, &expect) < 0)
        return -1;
    if (expect > max_rows) {
        *rows = max_rows + 1;
        return 0;
    }
    bool narrow = q->county[0] || q->school[0];
    /* The school-by-school read's rows (NARROW_FROM) are underestimated, and the
     * planner sorts them to add them up; added up in a hash by day instead, a county's
     * month takes 37 ms rather than 45 (bench_bureau_page.py's stand). For this
     * transaction only. */
    if (narrow && bs_exec(s, "SET LOCAL enable_sort = off", 0, NULL) < 0)
        return -1;
    char *sql = rollup_sql(q->level, narrow);
    PGresult *r = sql ? bs_run(s, sql, 5, p) : NULL;
    free(sql);
    if (!r)
        return -1;
    *rows = PQntuples(r); /* more than max_rows: none is given */
    for (int i = 0; *rows <= max_rows && i < PQntuples(r); i++)
        rollup_row_out(r, i, fn, arg);
    PQclear(r);
    return 0;
}

enum bstore_status bstore_rollup(struct bstore *s, const struct rollup_query *q, int max_rows,
                                 void (*fn)(const struct rollup_row *r, void *arg), void *arg,
                                 long *rows)
{
    *rows = 0;
    int rc = begin_read(s);
    if (rc == 0)
        rc = rollup_read(s, q, max_rows, fn, arg, rows);
    return bs_end(s, rc);
}

/* ---- notices ----------------------------------------------------------------------- */

static void notice_out(const PGresult *r, int i,
                       void (*fn)(const struct notice_row *row, void *arg), void *arg)
{
    struct notice_row row = {
        .school_code = PQgetvalue(r, i, 0), .school_name = PQgetvalue(r, i, 1),
        .county = PQgetvalue(r, i, 2), .notice_id = PQgetvalue(r, i, 3),
        .type = PQgetvalue(r, i, 4), .day = PQgetvalue(r, i, 5),
        .opened_at = PQgetvalue(r, i, 6), .received_at = PQgetvalue(r, i, 7),
        .document = PQgetvalue(r, i, 8), .acknowledged_at = text_or_null(r, i, 9),
        .acknowledged_by = text_or_null(r, i, 10), .ack_note = text_or_null(r, i, 11)};
    fn(&row, arg);
}

/* The school or county a query names is there. */
static int notice_filters_known(struct bstore *s, const struct notice_query *q)
{
    bool found = true;
    if (q->school[0] && exists(s, "SELECT 1 FROM schools WHERE code = $1", q->school,
                               &found) < 0)
        return -1;
    if (found && q->county[0] && exists(s, "SELECT 1 FROM schools WHERE county = $1 LIMIT 1",
                                        q->county, &found) < 0)
        return -1;
    if (!found)
        s->failed = BSTORE_NOT_FOUND;
    return found ? 0 : -1;
}

static int notices_read(struct bstore *s, const struct notice_query *q, int max_rows,
                        void (*fn)(const struct notice_row *r, void *arg), void *arg,
                        long *rows)
{
    char limit[16];
    snprintf(limit, sizeof limit, "%d", max_rows + 1);
    const char *p[] = {q->from[0] ? q->from : NULL, q->to[0] ? q->to : NULL,
                       q->unacknowledged ? "1" : "0", q->county[0] ? q->county : NULL,
                       q->school[0] ? q->school : NULL, limit};
    if (notice_filters_known(s, q) < 0)
        return -1;
    PGresult *r = bs_run(
        s, "SELECT n.school_code, s.name, s.county, n.notice_id, n.type, "
           "to_char(n.day, 'YYYY-MM-DD'), " ISO_MS("n.opened_at") ", " ISO_MS("n.received_at")
           ", d.body, " ISO_MS("n.acknowledged_at") ", n.acknowledged_by, n.ack_note "
           "FROM notices n JOIN schools s ON s.code = n.school_code "
           "JOIN documents d ON d.id = n.document_id "
           "WHERE ($1::date IS NULL OR n.day >= $1::date) "
           "AND ($2::date IS NULL OR n.day <= $2::date) "
           "AND ($3::int = 0 OR n.acknowledged_at IS NULL) "
           "AND ($4::text IS NULL OR s.county = $4) AND ($5::text IS NULL OR n.school_code = $5) "
           "ORDER BY n.opened_at, n.school_code, n.notice_id LIMIT $6::int", 6, p);
    if (!r)
        return -1;
    *rows = PQntuples(r);
    for (int i = 0; *rows <= max_rows && i < PQntuples(r); i++)
        notice_out(r, i, fn, arg);
    PQclear(r);
    return 0;
}

enum bstore_status bstore_notices(struct bstore *s, const struct notice_query *q, int max_rows,
                                  void (*fn)(const struct notice_row *r, void *arg), void *arg,
                                  long *rows)
{
    *rows = 0;
    int rc = begin_read(s);
    if (rc == 0)
        rc = notices_read(s, q, max_rows, fn, arg, rows);
    return bs_end(s, rc);
}

/* ---- the notices' state ---------------------------------------------------------- */

enum bstore_status bstore_notices_state(struct bstore *s, char *out, size_t n)
{
    out[0] = '\0';
    int rc = bs_begin(s);
    /* document ids only grow, and an acknowledgement is never taken back: the pair
     * changes with every new notice and every acknowledgement */
    PGresult *r = rc == 0 ? bs_run(s, "SELECT coalesce(max(document_id), 0) || '/' || "
                                      "count(acknowledged_at) FROM notices", 0, NULL)
                          : NULL;
    if (r)
        snprintf(out, n, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return bs_end(s, r ? 0 : -1);
}

/* ---- acknowledgement --------------------------------------------------------------- */

/* No row was updated: acknowledged already (by whom, when), or not there. */
static int ack_refusal(struct bstore *s, const char *school, const char *notice_id,
                       struct bstore_ack *ack, FILE *errs)
{
    const char *p[] = {school, notice_id};
    PGresult *r = bs_run(s, "SELECT " ISO_MS("acknowledged_at") ", acknowledged_by "
                            "FROM notices WHERE school_code = $1 AND notice_id = $2", 2, p);
    if (!r)
        return -1;
    bool known = PQntuples(r) == 1;
    if (known) {
        snprintf(ack->at, sizeof ack->at, "%s", PQgetvalue(r, 0, 0));
        snprintf(ack->by, sizeof ack->by, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    if (known)
        return bs_refuse(s, errs, BSTORE_CONFLICT, "notice %s was acknowledged already by %s at %s",
                      notice_id, ack->by, ack->at);
    return bs_refuse(s, errs, BSTORE_NOT_FOUND, "school %s has no notice %s", school, notice_id);
}

static int ack_write(struct bstore *s, const char *school, const char *notice_id,
                     const char *actor, const char *note, struct bstore_ack *ack, FILE *errs)
{
    const char *p[] = {school, notice_id, actor, note};
    PGresult *r = bs_run(s, "UPDATE notices SET acknowledged_at = now(), acknowledged_by = $3, "
                            "ack_note = $4 WHERE school_code = $1 AND notice_id = $2 "
                            "AND acknowledged_at IS NULL "
                            "RETURNING " ISO_MS("acknowledged_at") ", acknowledged_by", 4, p);
    if (!r)
        return -1;
    int n = PQntuples(r);
    if (n == 1) {
        snprintf(ack->at, sizeof ack->at, "%s", PQgetvalue(r, 0, 0));
        snprintf(ack->by, sizeof ack->by, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    if (n != 1)
        return ack_refusal(s, school, notice_id, ack, errs);
    return bs_audit(s, actor, "notice ack", notice_id, note);
}

enum bstore_status bstore_notice_ack(struct bstore *s, const char *school, const char *notice_id,
                                     const char *actor, const char *note, struct bstore_ack *ack,
                                     FILE *errs)
{
    memset(ack, 0, sizeof *ack);
    int rc = bs_begin(s);
    if (rc == 0)
        rc = ack_write(s, school, notice_id, actor, note, ack, errs);
    enum bstore_status st = bs_end(s, rc);
    if (st == BSTORE_UNAVAILABLE && !s->refused)
        fprintf(errs, "the database is not available now (%s); nothing was changed, try "
                      "again\n", s->msg[0] ? s->msg : "no connection");
    else if (st != BSTORE_OK && !s->refused)
        fprintf(errs, "the database refused it: %s\n", s->msg);
    return st;
}
