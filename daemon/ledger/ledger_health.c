/* Manual checks, fever rechecks and isolation referrals, the nurse's lists of them;
 * the small statement helpers the health files share (ledger_health_private.h). */
#include "ledger_health_private.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "civil.h"
#include "log.h"
#include "textnum.h"

/* A contact thermometer outside this is a typo, not a temperature. */
#define TEMP_MIN_CENTI 3000
#define TEMP_MAX_CENTI 4500

const char *const ledger_instruments[] = {"infrared", "ear", "axillary", "oral", NULL};
const char *const ledger_referral_outcomes[] = {"sent_home", "hospital", "returned_to_class",
                                                NULL};
/* The causes an absence may have (ledger_absence.c, and the web checks against it). */
const char *const ledger_absence_causes[] = {"illness", "personal", "other", NULL};
const char *const ledger_absence_parts[] = {"noon", "evening", NULL};
/* civil's list of the windows, which the web checks against too. */
static const char *const *const windows = check_window_names;

/* ---- helpers ------------------------------------------------------------------------ */

/* The varargs cannot be counted, so a type string shorter or longer than the
 * statement's parameters would bind garbage or leave a parameter NULL without a
 * word: refused here, in every build (one call, no cost to speak of). */
static int bind_count_ok(sqlite3_stmt *st, const char *types)
{
    int want = sqlite3_bind_parameter_count(st);
    if ((size_t)want == strlen(types))
        return 0;
    log_err("bind: %zu values ('%s') for %d parameters in: %s", strlen(types), types, want,
            sqlite3_sql(st));
    return -1;
}

static int bind_va(sqlite3_stmt *st, const char *types, va_list ap)
{
    if (bind_count_ok(st, types) < 0)
        return -1;
    for (int i = 0; types[i]; i++) {
        int rc;
        switch (types[i]) {
        case 't':
            rc = ledger_bind_text(st, i + 1, va_arg(ap, const char *));
            break;
        case 'd':
            rc = sqlite3_bind_int(st, i + 1, va_arg(ap, int)) == SQLITE_OK ? 0 : -1;
            break;
        case 'I':
            rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t)) == SQLITE_OK ? 0 : -1;
            break;
        default:
            assert(!"bad bind type");
            rc = -1;
        }
        if (rc < 0) {
            log_err("bind: parameter %d of: %s: %s", i + 1, sqlite3_sql(st),
                    sqlite3_errmsg(sqlite3_db_handle(st)));
            return -1;
        }
    }
    return 0;
}

int lh_bind(sqlite3_stmt *st, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    int rc = bind_va(st, types, ap);
    va_end(ap);
    return rc;
}

/* A statement prepared and bound, or NULL (the failure logged). */
static sqlite3_stmt *prepare_va(struct ledger *l, const char *sql, const char *types,
                                va_list ap)
{
    sqlite3_stmt *st = ledger_prepare(l, sql);
    if (st && bind_va(st, types, ap) < 0) { /* bind_va said why */
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

int lh_run(struct ledger *l, int *changes, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    sqlite3_stmt *st = prepare_va(l, sql, types, ap);
    va_end(ap);
    return ledger_step_done(l, st, changes, "write");
}

int lh_query_i64(struct ledger *l, int64_t *out, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    sqlite3_stmt *st = prepare_va(l, sql, types, ap);
    va_end(ap);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        ledger_log_error(l, "query");
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int lh_find_person(struct ledger *l, const char *external_id, struct lh_person *p, FILE *errs)
{
    if (!external_id || !*external_id) {
        if (errs)
            fprintf(errs, "no person given\n");
        return ledger_refuse(l, LEDGER_INVALID);
    }
    sqlite3_stmt *st = ledger_prepare(l, "SELECT id, class FROM people WHERE external_id = ?");
    if (!st)
        return -1;
    ledger_bind_text(st, 1, external_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        p->id = sqlite3_column_int64(st, 0);
        snprintf(p->class_name, sizeof p->class_name, "%s", ledger_col_text(st, 1));
    } else if (rc == SQLITE_DONE && errs) {
        fprintf(errs, "no one with id '%s' in the roster\n", external_id);
    } else if (rc == SQLITE_DONE) {
        log_warn("no one with id '%s' in the roster", external_id);
    } else {
        ledger_log_error(l, "find person");
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return ledger_refuse(l, LEDGER_NOT_FOUND);
    return rc == SQLITE_ROW ? 0 : -1;
}

enum ledger_status lh_check_day(const char *what, const char *day, FILE *errs)
{
    int y, m, d;
    if (day && tn_date(day, &y, &m, &d) == 0)
        return LEDGER_OK;
    fprintf(errs, "%s '%s' is not a date YYYY-MM-DD\n", what, day ? day : "");
    return LEDGER_INVALID;
}

int lh_today(int64_t at_ms, char day[LEDGER_DAY_LEN])
{
    if (civil_day_of(at_ms, day) < 0) {
        log_err("cannot tell the local day of %" PRId64 " ms", at_ms);
        return -1;
    }
    return 0;
}

int lh_name_index(const char *const *names, const char *s)
{
    for (int i = 0; s && names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

int lh_finish(struct ledger *l, int rc)
{
    if (rc == 0 && ledger_commit(l) == 0)
        return 0;
    ledger_rollback(l);
    return -1;
}

/* A contact reading as the nurse typed it: a known instrument, a plausible value. */
static enum ledger_status check_reading(const char *instrument, int temp_centi, FILE *errs)
{
    char b[16];
    if (lh_name_index(ledger_instruments, instrument) < 0) {
        fprintf(errs, "instrument '%s' is not one of infrared, ear, axillary, oral\n",
                instrument ? instrument : "");
        return LEDGER_INVALID;
    }
    if (temp_centi < TEMP_MIN_CENTI || temp_centi > TEMP_MAX_CENTI) {
        fprintf(errs, "%s °C is not a body temperature (30.00 to 45.00)\n",
                tn_format_centi(temp_centi, b, sizeof b));
        return LEDGER_INVALID;
    }
    return LEDGER_OK;
}

enum ledger_status lh_check_not_future(const char *what, const char *day, int64_t at_ms,
                                       FILE *errs)
{
    char today[LEDGER_DAY_LEN];
    if (lh_today(at_ms, today) < 0)
        return LEDGER_IO; /* logged: the zone cannot tell the day, nothing the caller did */
    if (strcmp(day, today) > 0) {
        fprintf(errs, "%s %s is in the future (today is %s)\n", what, day, today);
        return LEDGER_INVALID;
    }
    return LEDGER_OK;
}

/* ---- manual check --------------------------------------------------------------- */

/* 1 and the check in *out when the person has one for that window already. */
static int existing_check(struct ledger *l, int64_t pid, const struct manual_check *in,
                          struct manual_check_result *out)
{
    sqlite3_stmt *st = ledger_prepare(l, "SELECT temp_centi, instrument, at_ms FROM checks "
                                         "WHERE person_id = ?1 AND day = ?2 AND window = ?3");
    if (!st)
        return -1;
    lh_bind(st, "Itt", pid, in->day, in->window);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->existed = true;
        out->temp_centi = sqlite3_column_int(st, 0);
        snprintf(out->instrument, sizeof out->instrument, "%s", ledger_col_text(st, 1));
        out->at_ms = sqlite3_column_int64(st, 2);
    } else if (rc != SQLITE_DONE) {
        ledger_log_error(l, "find check");
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* One open flag per person and day, as at the gate: a second fever that day before
 * the recheck adds nothing for the nurse to do. */
static int open_manual_flag(struct ledger *l, int64_t pid, const struct manual_check *in,
                            struct manual_check_result *out)
{
    int found = lh_query_i64(l, &out->open_flag_id, "SELECT id FROM flags WHERE person_id = ? "
                             "AND state = 'open' AND day = ? ORDER BY id LIMIT 1", "It", pid,
                             in->day);
    if (found != 0)
        return found < 0 ? -1 : 0;
    if (lh_run(l, NULL, "INSERT INTO flags (person_id, reading_id, opened_ms, day, "
                        "screen_centi, threshold_centi) VALUES (?1, NULL, ?2, ?3, ?4, ?5)",
               "IItdd", pid, in->at_ms, in->day, in->temp_centi, in->threshold_centi) < 0)
        return -1;
    out->flag_id = sqlite3_last_insert_rowid(l->db);
    return ledger_set_health_status(l, pid, "screened", "manual check at or above threshold",
                                    in->by, in->at_ms);
}

/* The window already has its check, but the nurse's thermometer says fever: the
 * check stays (first one wins) and the fever still goes to the recheck queue. */
static int fever_after_check(struct ledger *l, int64_t pid, const struct manual_check *in,
                             struct manual_check_result *out)
{
    if (open_manual_flag(l, pid, in, out) < 0)
        return -1;
    char t[16], detail[160];
    snprintf(detail, sizeof detail, "%s %s: %s °C (%s) after the window's check; fever flag %"
             PRId64 " %s", in->day, in->window, tn_format_centi(in->temp_centi, t, sizeof t),
             in->instrument, out->flag_id ? out->flag_id : out->open_flag_id,
             out->flag_id ? "opened" : "already open");
    return ledger_audit(l, in->by, "manual check", in->person, detail);
}

static int manual_check_body(struct ledger *l, int64_t pid, const struct manual_check *in,
                             struct manual_check_result *out)
{
    int found = existing_check(l, pid, in, out);
    if (found < 0)
        return -1;
    if (found)
        return in->temp_centi >= in->threshold_centi ? fever_after_check(l, pid, in, out) : 0;
    if (lh_run(l, NULL, "INSERT INTO checks (person_id, day, window, temp_centi, "
                        "threshold_centi, instrument, reading_id, by_user, at_ms) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, ?8)",
               "IttddttI", pid, in->day, in->window, in->temp_centi, in->threshold_centi,
               in->instrument, in->by, in->at_ms) < 0 ||
        lh_note_arrival(l, pid, in->day, in->at_ms) < 0)
        return -1;
    out->temp_centi = in->temp_centi;
    snprintf(out->instrument, sizeof out->instrument, "%s", in->instrument);
    out->at_ms = in->at_ms;
    if (in->temp_centi >= in->threshold_centi && open_manual_flag(l, pid, in, out) < 0)
        return -1;
    char t[16], th[16], detail[160] = "";
    tn_append(detail, sizeof detail, "%s %s: %s °C (%s), threshold %s", in->day, in->window,
              tn_format_centi(in->temp_centi, t, sizeof t), in->instrument,
              tn_format_centi(in->threshold_centi, th, sizeof th));
    if (out->flag_id)
        tn_append(detail, sizeof detail, "; fever flag %" PRId64 " opened", out->flag_id);
    else if (out->open_flag_id)
        tn_append(detail, sizeof detail, "; fever flag %" PRId64 " already open",
                  out->open_flag_id);
    return ledger_audit(l, in->by, "manual check", in->person, detail);
}

enum ledger_status ledger_manual_check(struct ledger *l, const struct manual_check *in,
                                       struct manual_check_result *out, FILE *errs)
{
    *out = (struct manual_check_result){0};
    enum ledger_status st = lh_check_day("date", in->day, errs);
    if (st != LEDGER_OK)
        return st;
    if (lh_name_index(windows, in->window) < 0) {
        fprintf(errs, "window '%s' is not morning, noon or evening\n", in->window ? in->window : "");
        return LEDGER_INVALID;
    }
    if ((st = check_reading(in->instrument, in->temp_centi, errs)) != LEDGER_OK ||
        (st = lh_check_not_future("the check's day", in->day, in->at_ms, errs)) != LEDGER_OK)
        return st;
    struct lh_person p;
    if (ledger_begin(l) < 0)
        return ledger_failure(l);
    int rc = lh_find_person(l, in->person, &p, errs);
    if (rc == 0)
        rc = manual_check_body(l, p.id, in, out);
    return ledger_end(l, rc);
}

/* ---- recheck -------------------------------------------------------------------- */

#define RECHECK_MAX_DAYS 8

struct open_flags {
    int count;
    int64_t latest;
    int ndays;
    char days[RECHECK_MAX_DAYS][LEDGER_DAY_LEN]; /* distinct, for the cluster rules */
};

static int find_open_flags(struct ledger *l, int64_t pid, struct open_flags *of)
{
    sqlite3_stmt *st = ledger_prepare(l, "SELECT id, day FROM flags WHERE person_id = ? AND "
                                         "state = 'open' ORDER BY opened_ms DESC, id DESC");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, pid);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (of->count++ == 0)
            of->latest = sqlite3_column_int64(st, 0);
        const char *day = ledger_col_text(st, 1);
        bool seen = false;
        for (int i = 0; i < of->ndays; i++)
            seen = seen || strcmp(of->days[i], day) == 0;
        if (!seen && of->ndays < RECHECK_MAX_DAYS)
            snprintf(of->days[of->ndays++], LEDGER_DAY_LEN, "%s", day);
    }
    if (rc != SQLITE_DONE)
        ledger_log_error(l, "open flags");
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int confirm(struct ledger *l, const struct cfg_screening *s, const struct lh_person *p,
                   const struct recheck *in, const struct open_flags *of,
                   struct recheck_result *out)
{
    if (lh_today(in->at_ms, out->referral_day) < 0 ||
        lh_run(l, NULL, "INSERT INTO referrals (flag_id, person_id, opened_ms, day) "
                        "VALUES (?1, ?2, ?3, ?4)",
               "IIIt", of->latest, p->id, in->at_ms, out->referral_day) < 0)
        return -1;
    out->referral_id = sqlite3_last_insert_rowid(l->db);
    if (ledger_set_health_status(l, p->id, "confirmed", "recheck at or above threshold", in->by,
                                 in->at_ms) < 0 ||
        ledger_set_health_status(l, p->id, "isolated", "referred to the isolation room", in->by,
                                 in->at_ms) < 0)
        return -1;
    for (int i = 0; i < of->ndays; i++)
        if (lh_cluster_evaluate(l, s, p->class_name, of->days[i], in->by, in->at_ms,
                                &out->alerts) < 0)
            return -1;
    return 0;
}

static int recheck_body(struct ledger *l, const struct cfg_screening *s,
                        const struct lh_person *p, const struct recheck *in,
                        struct recheck_result *out, FILE *errs)
{
    struct open_flags of = {0};
    if (find_open_flags(l, p->id, &of) < 0)
        return -1;
    if (of.count == 0) {
        fprintf(errs, "%s has no open fever flag to recheck\n", in->person);
        return ledger_refuse(l, LEDGER_CONFLICT);
    }
    out->flags = of.count;
    out->flag_id = of.latest;
    out->confirmed = in->temp_centi >= in->threshold_centi;
    if (lh_run(l, NULL, "UPDATE flags SET state = ?2, recheck_centi = ?3, "
                        "recheck_instrument = ?4, recheck_by = ?5, recheck_ms = ?6 "
                        "WHERE person_id = ?1 AND state = 'open'",
               "ItdttI", p->id, out->confirmed ? "confirmed" : "cleared", in->temp_centi,
               in->instrument, in->by, in->at_ms) < 0)
        return -1;
    int rc = out->confirmed ? confirm(l, s, p, in, &of, out)
                            : ledger_set_health_status(l, p->id, "normal", "recheck below threshold",
                                                       in->by, in->at_ms);
    if (rc < 0)
        return -1;
    char t[16], th[16], detail[200];
    snprintf(detail, sizeof detail, "flag %" PRId64 ": %s °C (%s), threshold %s: %s%s",
             of.latest, tn_format_centi(in->temp_centi, t, sizeof t), in->instrument,
             tn_format_centi(in->threshold_centi, th, sizeof th),
             out->confirmed ? "confirmed, referred to the isolation room" : "cleared",
             of.count > 1 ? " (with earlier open flags)" : "");
    return ledger_audit(l, in->by, "recheck", in->person, detail);
}

enum ledger_status ledger_recheck(struct ledger *l, const struct cfg_screening *s,
                                  const struct recheck *in, struct recheck_result *out,
                                  FILE *errs)
{
    *out = (struct recheck_result){0};
    enum ledger_status st = check_reading(in->instrument, in->temp_centi, errs);
    if (st != LEDGER_OK)
        return st;
    struct lh_person p;
    if (ledger_begin(l) < 0)
        return ledger_failure(l);
    int rc = lh_find_person(l, in->person, &p, errs);
    if (rc == 0)
        rc = recheck_body(l, s, &p, in, out, errs);
    return ledger_end(l, rc);
}

/* ---- referral outcome ----------------------------------------------------------- */

static int outcome_body(struct ledger *l, int64_t pid, const char *person, const char *outcome,
                        const char *note, const char *by, int64_t at_ms, int64_t *referral_id,
                        FILE *errs)
{
    int found = lh_query_i64(l, referral_id,
                             "SELECT id FROM referrals WHERE person_id = ? AND outcome IS NULL "
                             "ORDER BY opened_ms DESC, id DESC LIMIT 1", "I", pid);
    if (found <= 0) {
        if (found < 0)
            return -1;
        fprintf(errs, "%s has no referral waiting for an outcome\n", person);
        return ledger_refuse(l, LEDGER_CONFLICT);
    }
    /* Every referral still waiting is settled at once: the gate keeps a person with
     * any of them at the nurse's, so leaving one behind would hold them forever. */
    if (lh_run(l, NULL, "UPDATE referrals SET outcome = ?2, outcome_by = ?3, outcome_ms = ?4, "
                        "note = coalesce(?5, note) WHERE person_id = ?1 AND outcome IS NULL",
               "IttIt", pid, outcome, by, at_ms, note) < 0)
        return -1;
    bool back = strcmp(outcome, "returned_to_class") == 0;
    if (ledger_set_health_status(l, pid, back ? "normal" : "absent_ill",
                                 back ? "returned to class from isolation"
                                      : "left school from isolation",
                                 by, at_ms) < 0)
        return -1;
    char detail[320];
    snprintf(detail, sizeof detail, "referral %" PRId64 ": %s%s%s", *referral_id, outcome,
             note && *note ? "; " : "", note ? note : "");
    return ledger_audit(l, by, "referral outcome", person, detail);
}

enum ledger_status ledger_referral_outcome(struct ledger *l, const char *person,
                                           const char *outcome, const char *note,
                                           const char *by, int64_t at_ms,
                                           int64_t *referral_id, FILE *errs)
{
    *referral_id = 0;
    if (lh_name_index(ledger_referral_outcomes, outcome) < 0) {
        fprintf(errs, "outcome '%s' is not sent_home, hospital or returned_to_class\n",
                outcome ? outcome : "");
        return LEDGER_INVALID;
    }
    struct lh_person p;
    if (ledger_begin(l) < 0)
        return ledger_failure(l);
    int rc = lh_find_person(l, person, &p, errs);
    if (rc == 0)
        rc = outcome_body(l, p.id, person, outcome, note, by, at_ms, referral_id, errs);
    return ledger_end(l, rc);
}

/* ---- listings ------------------------------------------------------------------- */

int lh_list_done(struct ledger *l, sqlite3_stmt *st, int rc, const char *what)
{
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
    ledger_log_error(l, what);
    return -1;
}

struct flag_cb {
    void (*fn)(const struct flag_view *v, void *arg);
    void *arg;
};

static void flag_row(sqlite3_stmt *st, void *ctx)
{
    struct flag_cb *cb = ctx;
    struct flag_view v = {
        .id = sqlite3_column_int64(st, 0), .external_id = ledger_col_text(st, 1),
        .name = ledger_col_text(st, 2), .class_name = ledger_col_text(st, 3),
        .day = ledger_col_text(st, 4), .lane = ledger_col_text(st, 5),
        .opened_ms = sqlite3_column_int64(st, 6), .screen_centi = sqlite3_column_int(st, 7),
        .threshold_centi = sqlite3_column_int(st, 8),
        .has_card = sqlite3_column_type(st, 9) != SQLITE_NULL,
        .card = (uint64_t)sqlite3_column_int64(st, 9),
    };
    cb->fn(&v, cb->arg);
}

/* The open cases of the gate's contract (view contract_open_case), one list per
 * kind. */
int ledger_list_open_flags(struct ledger *l, void (*fn)(const struct flag_view *v, void *arg),
                           void *arg)
{
    struct flag_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(l,
        "SELECT f.id, coalesce(p.external_id, ''), coalesce(p.name, ''), coalesce(p.class, ''), "
        "       f.day, coalesce(ln.name, ''), f.opened_ms, f.screen_centi, f.threshold_centi, "
        "       r.card_no "
        "FROM contract_open_case oc JOIN flags f ON f.id = oc.id "
        "LEFT JOIN people p ON p.id = f.person_id "
        "LEFT JOIN readings r ON r.id = f.reading_id LEFT JOIN lanes ln ON ln.id = r.lane_id "
        "WHERE oc.kind = 'flag' ORDER BY f.opened_ms, f.id");
    return ledger_each_row(l, st, "list flags", flag_row, &cb);
}

struct referral_cb {
    void (*fn)(const struct referral_view *v, void *arg);
    void *arg;
};

static void referral_row(sqlite3_stmt *st, void *ctx)
{
    struct referral_cb *cb = ctx;
    struct referral_view v = {
        .id = sqlite3_column_int64(st, 0), .external_id = ledger_col_text(st, 1),
        .name = ledger_col_text(st, 2), .class_name = ledger_col_text(st, 3),
        .day = ledger_col_text(st, 4), .opened_ms = sqlite3_column_int64(st, 5),
        .screen_centi = sqlite3_column_int(st, 6), .recheck_centi = sqlite3_column_int(st, 7),
        .recheck_instrument = ledger_col_text(st, 8),
    };
    cb->fn(&v, cb->arg);
}

int ledger_list_open_referrals(struct ledger *l,
                               void (*fn)(const struct referral_view *v, void *arg), void *arg)
{
    struct referral_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(l,
        "SELECT r.id, coalesce(p.external_id, ''), coalesce(p.name, ''), coalesce(p.class, ''), "
        "       r.day, r.opened_ms, f.screen_centi, coalesce(f.recheck_centi, 0), "
        "       coalesce(f.recheck_instrument, '') "
        "FROM contract_open_case oc JOIN referrals r ON r.id = oc.id "
        "JOIN flags f ON f.id = r.flag_id LEFT JOIN people p ON p.id = r.person_id "
        "WHERE oc.kind = 'referral' ORDER BY r.opened_ms, r.id");
    return ledger_each_row(l, st, "list referrals", referral_row, &cb);
}
