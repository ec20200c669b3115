/* The visitors' register (see ledger_visitors.h). */
#include "ledger_visitors.h"

#include <inttypes.h>
#include <string.h>

#include "ledger_health_private.h"
#include "textnum.h"

/* ---- values ------------------------------------------------------------------------- */

/* A line of text: `what` names it in the message. Required: not blank. */
static bool text_ok(const char *what, const char *s, bool required, size_t max, FILE *errs)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || strspn(s, " \t") == n) {
        if (required)
            fprintf(errs, "the visitor's %s is missing\n", what);
        return !required;
    }
    if (n > max) {
        fprintf(errs, "the visitor's %s is too long (%zu bytes; at most %zu)\n", what, n, max);
        return false;
    }
    if (tn_utf8_invalid_at(s, n) >= 0) {
        fprintf(errs, "the visitor's %s is not valid UTF-8\n", what);
        return false;
    }
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c == 0x7F) {
            fprintf(errs, "the visitor's %s contains a control character\n", what);
            return false;
        }
    return true;
}

/* Digits with an optional leading '+' and ' ' or '-' between them: 5 to 20 digits
 * (a mobile 13812345678, a landline 010-12345678). */
static bool phone_ok(const char *s, FILE *errs)
{
    int digits = 0;
    bool ok = s && *s;
    for (const char *c = s ? s + (*s == '+') : ""; ok && *c; c++) {
        if (*c >= '0' && *c <= '9')
            digits++;
        else if (*c != ' ' && *c != '-')
            ok = false;
    }
    if (ok && digits >= 5 && digits <= 20 && strlen(s) <= VISITOR_PHONE_MAX)
        return true;
    fprintf(errs, "the visitor's phone '%s' is not a phone number (5 to 20 digits; '+', "
            "spaces and '-' allowed)\n", s ? s : "");
    return false;
}

static bool values_ok(const struct visitor_in *in, FILE *errs)
{
    bool ok = text_ok("name", in->name, true, VISITOR_NAME_MAX, errs);
    ok = phone_ok(in->phone, errs) && ok;
    ok = text_ok("organisation", in->organisation, false, VISITOR_TEXT_MAX, errs) && ok;
    ok = text_ok("reason", in->reason, true, VISITOR_TEXT_MAX, errs) && ok;
    ok = text_ok("host", in->host, true, VISITOR_NAME_MAX, errs) && ok;
    ok = text_ok("approver", in->approved_by, true, VISITOR_NAME_MAX, errs) && ok;
    if (!in->from_lane && (in->temp_centi < in->screening->valid_min_centi ||
                           in->temp_centi > in->screening->valid_max_centi)) {
        fprintf(errs, "the visitor's temperature is outside the plausible range: measure "
                "again\n");
        ok = false;
    }
    return ok;
}

/* The lane's latest valid reading of nobody's card, fresh enough to be the visitor
 * standing there and not yet another visitor's: 1 found (*id), 0 none (refused,
 * with the message), -1 error. */
static int lane_reading(struct ledger *l, const struct visitor_in *in, int64_t *id, FILE *errs)
{
    int found = lh_query_i64(l, id, "SELECT r.id FROM readings r JOIN lanes ln ON "
                                    "ln.id = r.lane_id WHERE ln.name = ?1 AND r.person_id IS "
                                    "NULL AND r.card_no IS NULL AND r.quality = 'valid' AND "
                                    "r.at_ms >= ?2 AND NOT EXISTS (SELECT 1 FROM visitors v "
                                    "WHERE v.reading_id = r.id) "
                                    "ORDER BY r.at_ms DESC, r.id DESC LIMIT 1",
                             "tI", in->lane, in->at_ms - VISITOR_LANE_MAX_AGE_MS);
    if (found == 0) {
        fprintf(errs, "lane %s has no valid reading without a card in the last %d minutes: "
                "let the visitor stand at the lane, or enter the temperature\n", in->lane,
                VISITOR_LANE_MAX_AGE_MS / 60000);
        ledger_refuse(l, LEDGER_INVALID);
        return 0;
    }
    return found;
}

/* ---- register ------------------------------------------------------------------------ */

static int add_body(struct ledger *l, const struct visitor_in *in, struct visitor_result *out,
                    FILE *errs)
{
    int64_t reading = 0, centi = in->temp_centi;
    if (in->from_lane && (lane_reading(l, in, &reading, errs) <= 0 ||
                          lh_query_i64(l, &centi, "SELECT body_centi FROM readings WHERE id = ?1",
                                       "I", reading) <= 0))
        return -1;
    out->temp_centi = (int)centi;
    out->threshold_centi = in->screening->threshold_centi;
    out->refused = out->temp_centi >= out->threshold_centi;
    if (lh_run(l, NULL, "INSERT INTO visitors (day, at_ms, name, phone, organisation, reason, "
                        "host, temp_centi, temp_source, lane, threshold_centi, outcome, "
                        "approved_by, by_user, reading_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                        "?8, ?9, ?10, ?11, ?12, ?13, ?14, nullif(?15, 0))",
               "tItttttdttdtttI", out->day, in->at_ms, in->name, in->phone,
               in->organisation ? in->organisation : "", in->reason, in->host, out->temp_centi,
               in->from_lane ? "lane" : "entered", in->from_lane ? in->lane : "",
               out->threshold_centi, out->refused ? "refused" : "admitted", in->approved_by,
               in->by, reading) < 0)
        return -1;
    out->id = sqlite3_last_insert_rowid(l->db);
    char t[16], detail[256];
    snprintf(detail, sizeof detail, "visitor %" PRId64 " %s, %s °C: %s", out->id, in->name,
             tn_format_centi(out->temp_centi, t, sizeof t),
             out->refused ? "refused (fever)" : "admitted");
    return ledger_audit(l, in->by, "visitor", in->host, detail);
}

enum ledger_status ledger_visitor_add(struct ledger *l, const struct visitor_in *in,
                                      struct visitor_result *out, FILE *errs)
{
    *out = (struct visitor_result){0};
    if (!values_ok(in, errs))
        return LEDGER_INVALID;
    if (lh_today(in->at_ms, out->day) < 0)
        return LEDGER_IO;
    if (ledger_begin(l) < 0)
        return ledger_failure(l);
    return ledger_end(l, add_body(l, in, out, errs));
}

/* ---- listing and figures --------------------------------------------------------------- */

struct visitor_cb {
    void (*fn)(const struct visitor_view *v, void *arg);
    void *arg;
};

static void visitor_row(sqlite3_stmt *st, void *ctx)
{
    struct visitor_cb *cb = ctx;
    struct visitor_view v = {
        .id = sqlite3_column_int64(st, 0), .at_ms = sqlite3_column_int64(st, 1),
        .day = ledger_col_text(st, 2), .name = ledger_col_text(st, 3),
        .phone = ledger_col_text(st, 4), .organisation = ledger_col_text(st, 5),
        .reason = ledger_col_text(st, 6), .host = ledger_col_text(st, 7),
        .approved_by = ledger_col_text(st, 8), .by = ledger_col_text(st, 9),
        .temp_source = ledger_col_text(st, 10), .lane = ledger_col_text(st, 11),
        .outcome = ledger_col_text(st, 12), .temp_centi = sqlite3_column_int(st, 13),
        .threshold_centi = sqlite3_column_int(st, 14),
    };
    cb->fn(&v, cb->arg);
}

int ledger_list_visitors(struct ledger *l, const char *day, bool refused_only,
                         void (*fn)(const struct visitor_view *v, void *arg), void *arg)
{
    sqlite3_stmt *st = ledger_prepare(l, "SELECT id, at_ms, day, name, phone, organisation, "
                                         "reason, host, approved_by, by_user, temp_source, "
                                         "lane, outcome, temp_centi, threshold_centi FROM "
                                         "visitors WHERE day = ?1 AND (?2 = 0 OR outcome = "
                                         "'refused') ORDER BY at_ms, id");
    if (st && lh_bind(st, "td", day, (int)refused_only) < 0) {
        sqlite3_finalize(st);
        st = NULL;
    }
    struct visitor_cb cb = {fn, arg};
    return ledger_each_row(l, st, "list visitors", visitor_row, &cb);
}

int ledger_visitor_figures(struct ledger *l, const char *day, struct visitor_figures *out)
{
    int64_t all = 0, refused = 0;
    if (lh_query_i64(l, &all, LH_VISITORS_OF_DAY, "t", day) < 0 ||
        lh_query_i64(l, &refused, LH_VISITORS_REFUSED, "t", day) < 0)
        return -1;
    *out = (struct visitor_figures){.registered = (int)all, .admitted = (int)(all - refused),
                                    .refused = (int)refused};
    return 0;
}

int ledger_purge_visitors(struct ledger *l, const char *cut, const char *by, int *deleted)
{
    *deleted = 0;
    if (ledger_begin(l) < 0)
        return -1;
    int rc = lh_run(l, deleted, "DELETE FROM visitors WHERE day < ?1", "t", cut);
    if (rc == 0 && *deleted > 0) {
        char detail[96];
        snprintf(detail, sizeof detail, "%d visitors registered before %s", *deleted, cut);
        rc = ledger_audit(l, by ? by : "gatescreend", "purge", "visitors", detail);
    }
    if (rc < 0)
        *deleted = 0;
    return lh_finish(l, rc);
}
