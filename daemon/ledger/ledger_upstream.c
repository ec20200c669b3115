/* The documents' reads of the ledger (ledger_upstream.h): read-only queries, one
 * statement each, whose rows are handed to the caller's callback as views. */
#include "ledger_upstream.h"

#include <stdio.h>

#include "ledger_health_private.h"

/* Runs st (bound, one row at most) and hands its row to `row`: 1 row, 0 none,
 * -1 on a database error (logged as `what`). Finalizes st. */
static int one_row(struct ledger *l, sqlite3_stmt *st, const char *what,
                   void (*row)(sqlite3_stmt *st, void *ctx), void *ctx)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        row(st, ctx);
    else if (rc != SQLITE_DONE)
        ledger_log_error(l, what);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* A statement for sql with the id bound; NULL (logged) on failure. */
static sqlite3_stmt *prepare_id(struct ledger *l, const char *sql, int64_t id)
{
    sqlite3_stmt *st = ledger_prepare(l, sql);
    if (st && lh_bind(st, "I", id) < 0) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Columns from `col` on: external_id, name, class, kind. */
static struct notice_person person_at(sqlite3_stmt *st, int col)
{
    return (struct notice_person){
        .external_id = sqlite3_column_type(st, col) == SQLITE_NULL
                           ? NULL : ledger_col_text(st, col),
        .name = ledger_col_text(st, col + 1), .class_name = ledger_col_text(st, col + 2),
        .kind = ledger_col_text(st, col + 3)};
}

/* A nullable integer column: false (and *v 0) when NULL. */
static bool int_at(sqlite3_stmt *st, int col, int *v)
{
    bool known = sqlite3_column_type(st, col) != SQLITE_NULL;
    *v = known ? sqlite3_column_int(st, col) : 0;
    return known;
}

/* ---- a referral ------------------------------------------------------------------- */

struct referral_cb {
    void (*fn)(const struct referral_notice_view *v, void *arg);
    void *arg;
};

static void referral_row(sqlite3_stmt *st, void *ctx)
{
    const struct referral_cb *cb = ctx;
    struct referral_notice_view v = {
        .id = sqlite3_column_int64(st, 0), .opened_ms = sqlite3_column_int64(st, 1),
        .day = ledger_col_text(st, 2), .person = person_at(st, 3),
        .recheck_instrument = sqlite3_column_type(st, 10) == SQLITE_NULL
                                  ? NULL : ledger_col_text(st, 10)};
    v.has_screen = int_at(st, 7, &v.screen_centi);
    v.has_threshold = int_at(st, 8, &v.threshold_centi);
    v.has_recheck = int_at(st, 9, &v.recheck_centi);
    cb->fn(&v, cb->arg);
}

int ledger_referral_notice(struct ledger *l, int64_t id,
                           void (*fn)(const struct referral_notice_view *v, void *arg),
                           void *arg)
{
    struct referral_cb cb = {fn, arg};
    sqlite3_stmt *st = prepare_id(l,
        "SELECT r.id, r.opened_ms, r.day, p.external_id, p.name, p.class, p.kind, "
        "       f.screen_centi, f.threshold_centi, f.recheck_centi, f.recheck_instrument "
        "FROM referrals r JOIN flags f ON f.id = r.flag_id "
        "LEFT JOIN people p ON p.id = r.person_id WHERE r.id = ?", id);
    return st ? one_row(l, st, "referral notice", referral_row, &cb) : -1;
}

/* ---- an alert and its cases ------------------------------------------------------- */

struct alert_cb {
    void (*fn)(const struct alert_notice_view *v, void *arg);
    void *arg;
};

static void alert_row(sqlite3_stmt *st, void *ctx)
{
    const struct alert_cb *cb = ctx;
    struct alert_notice_view v = {
        .id = sqlite3_column_int64(st, 0), .class_name = ledger_col_text(st, 1),
        .rule = ledger_col_text(st, 2), .day = ledger_col_text(st, 3),
        .opened_ms = sqlite3_column_int64(st, 4), .cases = sqlite3_column_int(st, 5)};
    cb->fn(&v, cb->arg);
}

int ledger_alert_notice(struct ledger *l, int64_t id,
                        void (*fn)(const struct alert_notice_view *v, void *arg), void *arg)
{
    struct alert_cb cb = {fn, arg};
    sqlite3_stmt *st = prepare_id(l, "SELECT id, class, rule, day, opened_ms, cases "
                                     "FROM alerts WHERE id = ?", id);
    return st ? one_row(l, st, "alert notice", alert_row, &cb) : -1;
}

struct case_cb {
    void (*fn)(const struct alert_case_view *v, void *arg);
    void *arg;
};

static void case_row(sqlite3_stmt *st, void *ctx)
{
    struct case_cb *cb = ctx;
    struct alert_case_view v = {
        .person = {ledger_col_text(st, 0), ledger_col_text(st, 1), ledger_col_text(st, 2),
                   ledger_col_text(st, 3)},
        .case_kind = ledger_col_text(st, 4), .day = ledger_col_text(st, 5)};
    cb->fn(&v, cb->arg);
}

int ledger_list_alert_cases(struct ledger *l, int64_t alert_id,
                            void (*fn)(const struct alert_case_view *v, void *arg), void *arg)
{
    struct case_cb cb = {fn, arg};
    sqlite3_stmt *st = prepare_id(l,
        "SELECT p.external_id, p.name, p.class, p.kind, c.case_kind, c.day "
        "FROM alert_cases c JOIN people p ON p.id = c.person_id WHERE c.alert_id = ? "
        "ORDER BY c.day, c.case_kind, p.external_id", alert_id);
    return ledger_each_row(l, st, "alert notice cases", case_row, &cb);
}

/* ---- figures and revisions -------------------------------------------------------- */

int ledger_lane_availability(struct ledger *l, const char *day, const char *lane,
                             int *permille)
{
    char name[CFG_NAME_MAX + 40];
    int64_t v = 0;
    snprintf(name, sizeof name, "lane.%s.availability_permille", lane);
    int found = lh_query_i64(l, &v, "SELECT value FROM day_figures WHERE day = ? AND name = ?",
                             "tt", day, name);
    *permille = (int)v;
    return found;
}

int summary_latest_revision(struct ledger *l, const char *day, int *revision)
{
    int64_t v = 0;
    int found = lh_query_i64(l, &v, "SELECT coalesce(max(revision), 0) FROM summaries "
                                    "WHERE day = ?", "t", day);
    *revision = (int)v;
    return found < 0 ? -1 : 0;
}
