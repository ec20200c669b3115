/* Health observation (see ledger_observe.h). The rule "under observation on D" is
 * stated in SQL once here (UNDER_ON) and once in the gate's lookup (ledger_gate.c,
 * SQL_STATE), which must agree: from_day <= D <= to_day and not ended by D. */
#include "ledger_observe.h"

#include <inttypes.h>
#include <string.h>

#include "civil.h"
#include "ledger_health_private.h"
#include "textnum.h"

const char *const observe_reasons[] = {"risk_area", "close_contact", "after_illness", "other",
                                       NULL};

/* o is an observation row, ?1 the day. */
#define UNDER_ON LH_UNDER_OBSERVATION

/* ---- start and end ------------------------------------------------------------------ */

static enum ledger_status check_observe_in(const struct observe_in *in, FILE *errs)
{
    enum ledger_status st = lh_check_day("from date", in->from_day, errs);
    if (st != LEDGER_OK)
        return st;
    if (lh_name_index(observe_reasons, in->reason) < 0) {
        fprintf(errs, "reason '%s' is not one of risk_area, close_contact, after_illness, "
                "other\n", in->reason ? in->reason : "");
        return LEDGER_INVALID;
    }
    if (in->days < 1 || in->days > OBSERVE_DAYS_MAX) {
        fprintf(errs, "days %d is not 1 to %d\n", in->days, OBSERVE_DAYS_MAX);
        return LEDGER_INVALID;
    }
    if (in->note && strlen(in->note) > OBSERVE_NOTE_MAX) {
        fprintf(errs, "the note is longer than %d bytes\n", OBSERVE_NOTE_MAX);
        return LEDGER_INVALID;
    }
    return LEDGER_OK;
}

/* An observation of the person still running on one of from..to. */
static int overlapping(struct ledger *l, int64_t pid, const char *from, const char *to,
                       const char *person, FILE *errs)
{
    sqlite3_stmt *st = ledger_prepare(l, "SELECT id, from_day, to_day FROM observations "
                                         "WHERE person_id = ?1 AND from_day <= ?3 AND "
                                         "to_day >= ?2 AND (ended_day IS NULL OR "
                                         "ended_day > ?2) ORDER BY id LIMIT 1");
    if (!st || lh_bind(st, "Itt", pid, from, to) < 0) {
        sqlite3_finalize(st);
        return -1;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        fprintf(errs, "%s is already under observation from %s to %s (observation %" PRId64
                "); end it first\n", person, ledger_col_text(st, 1), ledger_col_text(st, 2),
                (int64_t)sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return ledger_refuse(l, LEDGER_CONFLICT);
    if (rc == SQLITE_DONE)
        return 0;
    ledger_log_error(l, "observation overlap");
    return -1;
}

static int observe_body(struct ledger *l, const struct observe_in *in, const char *to_day,
                        int64_t *id, FILE *errs)
{
    struct lh_person p;
    if (lh_find_person(l, in->person, &p, errs) < 0 ||
        overlapping(l, p.id, in->from_day, to_day, in->person, errs) < 0 ||
        lh_run(l, NULL, "INSERT INTO observations (person_id, reason, note, from_day, to_day, "
                        "by_user, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
               "ItttttI", p.id, in->reason, in->note ? in->note : "", in->from_day, to_day,
               in->by, in->at_ms) < 0)
        return -1;
    *id = sqlite3_last_insert_rowid(l->db);
    char detail[512] = "";
    tn_append(detail, sizeof detail, "observation %" PRId64 " %s..%s: %s", *id, in->from_day,
              to_day, in->reason);
    if (in->note && *in->note)
        tn_append(detail, sizeof detail, "; %s", in->note);
    return ledger_audit(l, in->by, "observe", in->person, detail);
}

enum ledger_status ledger_observe(struct ledger *l, const struct observe_in *in, int64_t *id,
                                  char to_day[LEDGER_DAY_LEN], FILE *errs)
{
    enum ledger_status st = check_observe_in(in, errs);
    if (st != LEDGER_OK)
        return st;
    if (civil_day_add(in->from_day, in->days - 1, to_day) < 0)
        return LEDGER_IO; /* not reached: the day was checked */
    if (ledger_begin(l) < 0)
        return ledger_failure(l);
    return ledger_end(l, observe_body(l, in, to_day, id, errs));
}

static int end_body(struct ledger *l, const char *person, const char *today, const char *by,
                    int64_t at_ms, FILE *errs)
{
    struct lh_person p;
    int64_t id = 0;
    if (lh_find_person(l, person, &p, errs) < 0)
        return -1;
    int found = lh_query_i64(l, &id, "SELECT id FROM observations WHERE person_id = ?2 AND "
                                     "to_day >= ?1 AND (ended_day IS NULL OR ended_day > ?1) "
                                     "ORDER BY from_day LIMIT 1", "tI", today, p.id);
    if (found == 0) {
        fprintf(errs, "%s is not under observation (nor will be)\n", person);
        return ledger_refuse(l, LEDGER_CONFLICT);
    }
    if (found < 0 ||
        lh_run(l, NULL, "UPDATE observations SET ended_day = ?1, ended_ms = ?2, ended_by = ?3 "
                        "WHERE id = ?4", "tItI", today, at_ms, by, id) < 0)
        return -1;
    char detail[64];
    snprintf(detail, sizeof detail, "observation %" PRId64 " ended on %s", id, today);
    return ledger_audit(l, by, "observe end", person, detail);
}

enum ledger_status ledger_observe_end(struct ledger *l, const char *person, const char *by,
                                      int64_t at_ms, FILE *errs)
{
    char today[LEDGER_DAY_LEN];
    if (lh_today(at_ms, today) < 0)
        return LEDGER_IO;
    if (ledger_begin(l) < 0)
        return ledger_failure(l);
    return ledger_end(l, end_body(l, person, today, by, at_ms, errs));
}

/* ---- listings ----------------------------------------------------------------------- */

/* The observations of the WHERE that follows (o the observation, p the person),
 * with their readings' figures; ?1 is a day (or unused). */
#define OBS_SELECT                                                                          \
    "WITH agg AS (SELECT observation_id, count(*) AS n, "                                   \
    "             sum(outcome = 'see_nurse') AS referred, "                                 \
    "             sum(temp_centi >= threshold_centi) AS fevers, "                           \
    "             max(at_ms) AS last_ms, temp_centi AS last_centi "                         \
    "             FROM observation_checks WHERE observation_id IN (SELECT o.id FROM "        \
    "             observations o WHERE %s) GROUP BY observation_id) "                       \
    "SELECT o.id, p.external_id, p.name, p.class, o.reason, o.note, o.from_day, o.to_day, "  \
    "       coalesce(o.ended_day, ''), o.by_user, coalesce(a.n, 0), "                       \
    "       coalesce(a.referred, 0), coalesce(a.fevers, 0), coalesce(a.last_centi, 0), "    \
    "       coalesce(a.last_ms, 0) "                                                        \
    "FROM observations o JOIN people p ON p.id = o.person_id "                              \
    "LEFT JOIN agg a ON a.observation_id = o.id WHERE %s "

struct obs_cb {
    void (*fn)(const struct observation_view *v, void *arg);
    void *arg;
};

static void obs_row(sqlite3_stmt *st, void *ctx)
{
    struct obs_cb *cb = ctx;
    struct observation_view v = {
        .id = sqlite3_column_int64(st, 0), .external_id = ledger_col_text(st, 1),
        .name = ledger_col_text(st, 2), .class_name = ledger_col_text(st, 3),
        .reason = ledger_col_text(st, 4), .note = ledger_col_text(st, 5),
        .from_day = ledger_col_text(st, 6), .to_day = ledger_col_text(st, 7),
        .ended_day = ledger_col_text(st, 8), .by = ledger_col_text(st, 9),
        .readings = sqlite3_column_int(st, 10), .referred = sqlite3_column_int(st, 11),
        .fevers = sqlite3_column_int(st, 12), .last_centi = sqlite3_column_int(st, 13),
        .last_ms = sqlite3_column_int64(st, 14),
    };
    cb->fn(&v, cb->arg);
}

int ledger_list_observations(struct ledger *l, const char *day, const char *class_name,
                             void (*fn)(const struct observation_view *v, void *arg),
                             void *arg)
{
    char sql[2048];
    snprintf(sql, sizeof sql, OBS_SELECT "AND (?2 IS NULL OR p.class = ?2) "
             "ORDER BY p.class, p.external_id", UNDER_ON, UNDER_ON);
    sqlite3_stmt *st = ledger_prepare(l, sql);
    if (st && lh_bind(st, "tt", day, class_name) < 0) {
        sqlite3_finalize(st);
        st = NULL;
    }
    struct obs_cb cb = {fn, arg};
    return ledger_each_row(l, st, "list observations", obs_row, &cb);
}

/* The person's row id for a listing: LEDGER_OK, or the refusal (NOT_FOUND, with
 * its message on errs). */
static enum ledger_status person_id(struct ledger *l, const char *person, int64_t *pid,
                                    FILE *errs)
{
    struct lh_person p;
    l->refused = LEDGER_OK;
    if (lh_find_person(l, person, &p, errs) < 0)
        return ledger_failure(l);
    *pid = p.id;
    return LEDGER_OK;
}

enum ledger_status ledger_person_observations(struct ledger *l, const char *person,
                                              void (*fn)(const struct observation_view *v,
                                                         void *arg),
                                              void *arg, FILE *errs)
{
    int64_t pid = 0;
    enum ledger_status found = person_id(l, person, &pid, errs);
    if (found != LEDGER_OK)
        return found;
    char sql[2048];
    snprintf(sql, sizeof sql, OBS_SELECT "ORDER BY o.from_day DESC, o.id DESC",
             "o.person_id = ?2 AND ?1 IS NULL", "o.person_id = ?2 AND ?1 IS NULL");
    sqlite3_stmt *st = ledger_prepare(l, sql);
    if (st && lh_bind(st, "tI", NULL, pid) < 0) {
        sqlite3_finalize(st);
        st = NULL;
    }
    struct obs_cb cb = {fn, arg};
    return ledger_each_row(l, st, "person's observations", obs_row, &cb) < 0 ? LEDGER_IO
                                                                            : LEDGER_OK;
}

struct check_cb {
    void (*fn)(const struct observed_check_view *v, void *arg);
    void *arg;
};

static void check_row(sqlite3_stmt *st, void *ctx)
{
    struct check_cb *cb = ctx;
    struct observed_check_view v = {
        .observation_id = sqlite3_column_int64(st, 0), .at_ms = sqlite3_column_int64(st, 1),
        .day = ledger_col_text(st, 2), .source = ledger_col_text(st, 3),
        .has_temp = sqlite3_column_type(st, 4) != SQLITE_NULL,
        .temp_centi = sqlite3_column_int(st, 4), .threshold_centi = sqlite3_column_int(st, 5),
        .outcome = ledger_col_text(st, 6), .lane = ledger_col_text(st, 7),
    };
    cb->fn(&v, cb->arg);
}

enum ledger_status ledger_observed_checks(struct ledger *l, const char *person,
                                          void (*fn)(const struct observed_check_view *v,
                                                     void *arg),
                                          void *arg, FILE *errs)
{
    int64_t pid = 0;
    enum ledger_status found = person_id(l, person, &pid, errs);
    if (found != LEDGER_OK)
        return found;
    sqlite3_stmt *st = ledger_prepare(l, "SELECT observation_id, at_ms, day, source, "
                                         "temp_centi, threshold_centi, outcome, lane FROM "
                                         "observation_checks WHERE person_id = ?1 "
                                         "ORDER BY at_ms, observation_id");
    if (st)
        sqlite3_bind_int64(st, 1, pid);
    struct check_cb cb = {fn, arg};
    return ledger_each_row(l, st, "observed checks", check_row, &cb) < 0 ? LEDGER_IO
                                                                       : LEDGER_OK;
}

int ledger_count_observed(struct ledger *l, const char *day, int *count)
{
    int64_t n = 0;
    if (lh_query_i64(l, &n, "SELECT count(DISTINCT o.person_id) FROM observations o "
                            "WHERE " UNDER_ON, "t", day) < 0)
        return -1;
    *count = (int)n;
    return 0;
}
