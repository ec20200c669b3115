/* Closed days (ledger_calendar.h). */
#include "ledger_calendar.h"

#include <inttypes.h>
#include <string.h>

#include "civil.h"
#include "ledger_health_private.h"
#include "textnum.h"

#define MAX_RANGE_DAYS 366

static enum ledger_status check_reason(const char *reason, FILE *errs)
{
    long chars = reason ? tn_utf8_length(reason, strlen(reason)) : 0;
    if (chars < 1 || chars > LEDGER_REASON_MAX) {
        fprintf(errs, "the reason %s (1 to %d characters of UTF-8: 暴雨红色预警, "
                      "流感停课)\n",
                chars == 0 ? "is empty" : chars < 0 ? "is not UTF-8" : "is too long",
                LEDGER_REASON_MAX);
        return LEDGER_INVALID;
    }
    return LEDGER_OK;
}

/* from..to as days, at most MAX_RANGE_DAYS. */
static enum ledger_status check_range(const char *from, const char *to, int *days, FILE *errs)
{
    enum ledger_status st;
    if ((st = lh_check_day("date", from, errs)) != LEDGER_OK ||
        (st = lh_check_day("date", to, errs)) != LEDGER_OK)
        return st;
    char d[LEDGER_DAY_LEN];
    snprintf(d, sizeof d, "%s", from);
    for (*days = 1; strcmp(d, to) < 0; (*days)++)
        if (*days > MAX_RANGE_DAYS || civil_day_add(d, 1, d) < 0)
            break;
    if (strcmp(from, to) > 0 || *days > MAX_RANGE_DAYS) {
        fprintf(errs, "%s..%s is not a range of 1 to %d days\n", from, to, MAX_RANGE_DAYS);
        return LEDGER_INVALID;
    }
    return LEDGER_OK;
}

static int close_one(struct ledger *l, const char *day, const char *reason, const char *by,
                     int64_t at_ms, int *closed, int *cleared)
{
    int added = 0, gone = 0, parts = 0;
    /* The noon and evening sweeps' absences of a day closed after them go too (a
     * part-day absence has no follow-ups). */
    if (lh_run(l, &added, "INSERT OR IGNORE INTO closed_days (day, reason, by_user, at_ms) "
                          "VALUES (?1, ?2, ?3, ?4)", "tttI", day, reason, by, at_ms) < 0 ||
        lh_run(l, &gone, "DELETE FROM absences WHERE day = ?1 AND cause = 'unknown' AND "
                         "NOT EXISTS (SELECT 1 FROM absence_followups f WHERE "
                         "f.absence_id = absences.id)", "t", day) < 0 ||
        lh_run(l, &parts, "DELETE FROM part_absences WHERE day = ?1 AND cause = 'unknown'", "t",
               day) < 0)
        return -1;
    gone += parts;
    *closed += added;
    *cleared += gone;
    if (!added)
        return 0;
    char detail[LEDGER_REASON_MAX * 4 + 64];
    snprintf(detail, sizeof detail, "%s; %d unexplained sweep absences removed", reason, gone);
    return ledger_audit(l, by, "day close", day, detail);
}

static int close_body(struct ledger *l, const char *from, const char *to, const char *reason,
                      const char *by, int64_t at_ms, int *closed, int *cleared)
{
    char d[LEDGER_DAY_LEN];
    snprintf(d, sizeof d, "%s", from);
    for (;;) {
        if (close_one(l, d, reason, by, at_ms, closed, cleared) < 0)
            return -1;
        if (strcmp(d, to) >= 0)
            return 0;
        if (civil_day_add(d, 1, d) < 0)
            return -1;
    }
}

enum ledger_status ledger_close_days(struct ledger *l, const char *from, const char *to,
                                     const char *reason, const char *by, int64_t at_ms,
                                     int *closed, int *cleared, FILE *errs)
{
    int days = 0;
    enum ledger_status st;
    *closed = *cleared = 0;
    if (!to)
        to = from;
    if ((st = check_range(from, to, &days, errs)) != LEDGER_OK ||
        (st = check_reason(reason, errs)) != LEDGER_OK)
        return st;
    if (ledger_begin(l) < 0)
        return ledger_failure(l);
    st = ledger_end(l, close_body(l, from, to, reason, by, at_ms, closed, cleared));
    if (st != LEDGER_OK)
        *closed = *cleared = 0;
    return st;
}

static int reopen_body(struct ledger *l, const char *day, const char *by, bool *sweep_done,
                       FILE *errs)
{
    sqlite3_stmt *st = ledger_prepare(l, "SELECT source, reason FROM closed_days WHERE day = ?");
    if (!st)
        return -1;
    ledger_bind_text(st, 1, day);
    int rc = sqlite3_step(st);
    bool bureau = rc == SQLITE_ROW && strcmp(ledger_col_text(st, 0), "bureau") == 0;
    char reason[LEDGER_REASON_MAX * 4 + 1] = "";
    if (rc == SQLITE_ROW)
        snprintf(reason, sizeof reason, "%s", ledger_col_text(st, 1));
    else if (rc != SQLITE_DONE)
        ledger_log_error(l, "find closed day");
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) {
        fprintf(errs, "%s is not closed\n", day);
        return ledger_refuse(l, LEDGER_NOT_FOUND);
    }
    if (bureau) {
        fprintf(errs, "%s was closed by the bureau (%s): only the bureau can open it\n", day,
                reason);
        return ledger_refuse(l, LEDGER_CONFLICT);
    }
    bool done = false;
    if (rc != SQLITE_ROW || ledger_day_event_done(l, day, "absence-sweep", &done) < 0 ||
        lh_run(l, NULL, "DELETE FROM closed_days WHERE day = ?1", "t", day) < 0)
        return -1;
    *sweep_done = done;
    return ledger_audit(l, by, "day reopen", day, reason);
}

enum ledger_status ledger_reopen_day(struct ledger *l, const char *day, const char *by,
                                     int64_t at_ms, bool *sweep_done, FILE *errs)
{
    (void)at_ms; /* the audit row has its own time */
    enum ledger_status st;
    *sweep_done = false;
    if ((st = lh_check_day("date", day, errs)) != LEDGER_OK)
        return st;
    if (ledger_begin(l) < 0)
        return ledger_failure(l);
    return ledger_end(l, reopen_body(l, day, by, sweep_done, errs));
}

int ledger_day_closed(struct ledger *l, const char *day, char *reason, size_t n)
{
    sqlite3_stmt *st = ledger_prepare(l, "SELECT reason FROM closed_days WHERE day = ?");
    if (!st)
        return -1;
    ledger_bind_text(st, 1, day);
    int rc = sqlite3_step(st), found = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
    if (found == 1 && reason)
        snprintf(reason, n, "%s", ledger_col_text(st, 0));
    if (found < 0)
        ledger_log_error(l, "closed day");
    sqlite3_finalize(st);
    return found;
}

int ledger_day_expects_nobody(struct ledger *l, const struct cfg_windows *w, const char *day)
{
    int closed = ledger_day_closed(l, day, NULL, 0);
    enum civil_day_kind k = civil_day_kind(w, day);
    if (closed != 0)
        return closed;
    return k == CIVIL_HOLIDAY || k == CIVIL_OUT_OF_TERM;
}

struct closed_cb {
    void (*fn)(const struct closed_day_view *v, void *arg);
    void *arg;
};

static void closed_row(sqlite3_stmt *st, void *ctx)
{
    struct closed_cb *cb = ctx;
    struct closed_day_view v = {
        .day = ledger_col_text(st, 0), .reason = ledger_col_text(st, 1),
        .source = ledger_col_text(st, 2), .by = ledger_col_text(st, 3),
        .at_ms = sqlite3_column_int64(st, 4)};
    cb->fn(&v, cb->arg);
}

int ledger_list_closed_days(struct ledger *l, const char *from,
                            void (*fn)(const struct closed_day_view *v, void *arg), void *arg)
{
    struct closed_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(l, "SELECT day, reason, source, by_user, at_ms FROM "
                                         "closed_days WHERE ?1 IS NULL OR day >= ?1 ORDER BY day");
    if (st)
        lh_bind(st, "t", from);
    return ledger_each_row(l, st, "list closed days", closed_row, &cb);
}
