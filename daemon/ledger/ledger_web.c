/* The web page's reads of the ledger (ledger_web.h). */
#include "ledger_web.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "ledger_health_private.h"
#include "textnum.h"

/* ---- helpers ---------------------------------------------------------------------- */

/* A bind that failed (out of memory, ...): logged, the statement dropped. */
static sqlite3_stmt *bind_failed(struct ledger *l, sqlite3_stmt *st, const char *what)
{
    ledger_log_error(l, what);
    sqlite3_finalize(st);
    return NULL;
}


static void copy(char *dst, size_t n, sqlite3_stmt *st, int col)
{
    snprintf(dst, n, "%s", ledger_col_text(st, col));
}

/* ---- people ----------------------------------------------------------------------- */

#define PERSON_COLS                                                                       \
    "p.id, p.external_id, p.kind, p.name, p.grade, p.class, p.health_status, p.active, "  \
    "coalesce((SELECT group_concat(card_no, ',') FROM "                                   \
    "          (SELECT card_no FROM cards WHERE person_id = p.id ORDER BY card_no)), '') "

static void person_of_row(sqlite3_stmt *st, struct lw_person *p)
{
    p->id = sqlite3_column_int64(st, 0);
    copy(p->external_id, sizeof p->external_id, st, 1);
    copy(p->kind, sizeof p->kind, st, 2);
    copy(p->name, sizeof p->name, st, 3);
    copy(p->grade, sizeof p->grade, st, 4);
    copy(p->class_name, sizeof p->class_name, st, 5);
    copy(p->status, sizeof p->status, st, 6);
    p->active = sqlite3_column_int(st, 7) != 0;
    copy(p->cards, sizeof p->cards, st, 8);
}

int ledger_web_find_person(struct ledger *l, const char *external_id, struct lw_person *out)
{
    sqlite3_stmt *st = ledger_prepare(l, "SELECT " PERSON_COLS "FROM people p "
                                         "WHERE p.external_id = ?1");
    if (!st)
        return -1;
    if (lh_bind(st, "t", external_id) < 0) {
        bind_failed(l, st, "find person");
        return -1;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        person_of_row(st, out);
    else if (rc != SQLITE_DONE)
        ledger_log_error(l, "find person");
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

struct person_cb {
    void (*fn)(const struct lw_person *p, void *arg);
    void *arg;
};

static void person_row(sqlite3_stmt *st, void *ctx)
{
    struct person_cb *cb = ctx;
    struct lw_person p;
    person_of_row(st, &p);
    cb->fn(&p, cb->arg);
}

/* ?1 the text, ?2 the card number it is (NULL when not a number), ?3 the limit,
 * ?4 the class (NULL: any). instr() rather than LIKE: no wildcard in the text can
 * widen the search. */
#define SEARCH_SQL                                                                        \
    "SELECT " PERSON_COLS "FROM people p "                                                \
    "WHERE (?4 IS NULL OR p.class = ?4) AND (instr(lower(p.external_id), lower(?1)) > 0 " \
    "  OR instr(lower(p.name), lower(?1)) > 0 OR instr(lower(p.class), lower(?1)) > 0 "   \
    "  OR p.id IN (SELECT person_id FROM cards WHERE card_no = ?2)) "                     \
    "ORDER BY (lower(p.external_id) = lower(?1) "                                         \
    "          OR p.id IN (SELECT person_id FROM cards WHERE card_no = ?2)) DESC, "       \
    "         p.class, p.external_id LIMIT ?3"

int ledger_web_search(struct ledger *l, const char *text, const char *class_name, int limit,
                      void (*fn)(const struct lw_person *p, void *arg), void *arg)
{
    struct person_cb cb = {fn, arg};
    int64_t card;
    sqlite3_stmt *st = ledger_prepare(l, SEARCH_SQL);
    if (st && (ledger_bind_text(st, 1, text) < 0 || sqlite3_bind_int(st, 3, limit) != SQLITE_OK ||
               ledger_bind_text(st, 4, class_name) < 0))
        st = bind_failed(l, st, "search people");
    /* A card number as the reader reports it; a larger one just matches nobody. */
    if (st && tn_int64(text, 0, INT64_MAX, &card) == 0 &&
        sqlite3_bind_int64(st, 2, card) != SQLITE_OK)
        st = bind_failed(l, st, "search people");
    return ledger_each_row(l, st, "search people", person_row, &cb);
}

/* ---- readings, checks ------------------------------------------------------------- */

struct reading_cb {
    void (*fn)(const struct lw_reading *v, void *arg);
    void *arg;
};

static void reading_row(sqlite3_stmt *st, void *ctx)
{
    struct reading_cb *cb = ctx;
    struct lw_reading v = {
        .at_ms = sqlite3_column_int64(st, 0), .lane = ledger_col_text(st, 1),
        .quality = ledger_col_text(st, 2), .outcome = ledger_col_text(st, 3),
        .has_body = sqlite3_column_type(st, 4) != SQLITE_NULL,
        .body_centi = sqlite3_column_int(st, 4),
    };
    cb->fn(&v, cb->arg);
}

int ledger_web_readings(struct ledger *l, int64_t person_id, int64_t since_ms,
                        void (*fn)(const struct lw_reading *v, void *arg), void *arg)
{
    struct reading_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(l,
        "SELECT r.at_ms, coalesce(ln.name, ''), r.quality, r.outcome, r.body_centi "
        "FROM readings r LEFT JOIN lanes ln ON ln.id = r.lane_id "
        "WHERE r.person_id = ?1 AND r.at_ms >= ?2 ORDER BY r.at_ms DESC, r.id DESC");
    if (st && lh_bind(st, "II", person_id, since_ms) < 0)
        st = bind_failed(l, st, "person readings");
    return ledger_each_row(l, st, "person readings", reading_row, &cb);
}

struct check_cb {
    void (*fn)(const struct lw_check *v, void *arg);
    void *arg;
};

static void check_row(sqlite3_stmt *st, void *ctx)
{
    struct check_cb *cb = ctx;
    struct lw_check v = {
        .external_id = ledger_col_text(st, 0), .name = ledger_col_text(st, 1),
        .class_name = ledger_col_text(st, 2), .day = ledger_col_text(st, 3),
        .window = ledger_col_text(st, 4), .instrument = ledger_col_text(st, 5),
        .by = ledger_col_text(st, 6), .temp_centi = sqlite3_column_int(st, 7),
        .threshold_centi = sqlite3_column_int(st, 8), .at_ms = sqlite3_column_int64(st, 9),
    };
    cb->fn(&v, cb->arg);
}

#define CHECK_COLS                                                                    \
    "SELECT p.external_id, p.name, p.class, c.day, c.window, c.instrument, c.by_user, " \
    "       c.temp_centi, c.threshold_centi, c.at_ms "                                 \
    "FROM checks c JOIN people p ON p.id = c.person_id "

int ledger_web_person_checks(struct ledger *l, int64_t person_id, const char *since_day,
                             void (*fn)(const struct lw_check *v, void *arg), void *arg)
{
    struct check_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(l, CHECK_COLS "WHERE c.person_id = ?1 AND c.day >= ?2 "
                                                    "ORDER BY c.day DESC, c.window DESC");
    if (st && lh_bind(st, "It", person_id, since_day) < 0)
        st = bind_failed(l, st, "person checks");
    return ledger_each_row(l, st, "person checks", check_row, &cb);
}

int ledger_web_day_checks(struct ledger *l, const char *day, const char *class_name,
                          void (*fn)(const struct lw_check *v, void *arg), void *arg)
{
    struct check_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(l, CHECK_COLS "WHERE c.day = ?1 AND (?2 IS NULL OR "
                                                    "p.class = ?2) "
                                                    "ORDER BY c.window, p.class, p.external_id");
    if (st && lh_bind(st, "tt", day, class_name) < 0)
        st = bind_failed(l, st, "day checks");
    return ledger_each_row(l, st, "day checks", check_row, &cb);
}

/* ---- flags, referrals ------------------------------------------------------------- */

struct flag_cb {
    void (*fn)(const struct lw_flag *v, void *arg);
    void *arg;
};

static void flag_row(sqlite3_stmt *st, void *ctx)
{
    struct flag_cb *cb = ctx;
    struct lw_flag v = {
        .id = sqlite3_column_int64(st, 0), .opened_ms = sqlite3_column_int64(st, 1),
        .external_id = ledger_col_text(st, 2), .name = ledger_col_text(st, 3),
        .class_name = ledger_col_text(st, 4),
        .has_card = sqlite3_column_type(st, 5) != SQLITE_NULL,
        .card = (uint64_t)sqlite3_column_int64(st, 5), .day = ledger_col_text(st, 6),
        .lane = ledger_col_text(st, 7), .state = ledger_col_text(st, 8),
        .screen_centi = sqlite3_column_int(st, 9), .threshold_centi = sqlite3_column_int(st, 10),
        .has_recheck = sqlite3_column_type(st, 11) != SQLITE_NULL,
        .recheck_centi = sqlite3_column_int(st, 11),
        .recheck_instrument = ledger_col_text(st, 12), .recheck_by = ledger_col_text(st, 13),
        .recheck_ms = sqlite3_column_int64(st, 14), .referral_id = sqlite3_column_int64(st, 15),
        .referral_outcome = ledger_col_text(st, 16),
    };
    cb->fn(&v, cb->arg);
}

#define FLAG_COLS                                                                           \
    "SELECT f.id, f.opened_ms, coalesce(p.external_id, ''), coalesce(p.name, ''), "          \
    "       coalesce(p.class, ''), rd.card_no, f.day, coalesce(ln.name, ''), f.state, "      \
    "       f.screen_centi, f.threshold_centi, f.recheck_centi, "                           \
    "       coalesce(f.recheck_instrument, ''), coalesce(f.recheck_by, ''), "               \
    "       coalesce(f.recheck_ms, 0), coalesce(rf.id, 0), coalesce(rf.outcome, '') "       \
    "FROM flags f LEFT JOIN people p ON p.id = f.person_id "                                \
    "LEFT JOIN readings rd ON rd.id = f.reading_id LEFT JOIN lanes ln ON ln.id = rd.lane_id " \
    "LEFT JOIN referrals rf ON rf.flag_id = f.id "

int ledger_web_person_flags(struct ledger *l, int64_t person_id, const char *since_day,
                            void (*fn)(const struct lw_flag *v, void *arg), void *arg)
{
    struct flag_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(l, FLAG_COLS "WHERE f.person_id = ?1 AND f.day >= ?2 "
                                                   "ORDER BY f.opened_ms DESC, f.id DESC");
    if (st && lh_bind(st, "It", person_id, since_day) < 0)
        st = bind_failed(l, st, "person flags");
    return ledger_each_row(l, st, "person flags", flag_row, &cb);
}

int ledger_web_day_flags(struct ledger *l, const char *day, const char *class_name,
                         void (*fn)(const struct lw_flag *v, void *arg), void *arg)
{
    struct flag_cb cb = {fn, arg};
    /* Every state spelled out: the only index on the day is flags_state (state, day). */
    sqlite3_stmt *st = ledger_prepare(l, FLAG_COLS
        "WHERE f.state IN ('open', 'confirmed', 'cleared') AND f.day = ?1 "
        "AND (?2 IS NULL OR p.class = ?2) ORDER BY f.opened_ms, f.id");
    if (st && lh_bind(st, "tt", day, class_name) < 0)
        st = bind_failed(l, st, "day flags");
    return ledger_each_row(l, st, "day flags", flag_row, &cb);
}

struct referral_cb {
    void (*fn)(const struct lw_referral *v, void *arg);
    void *arg;
};

static void referral_row(sqlite3_stmt *st, void *ctx)
{
    struct referral_cb *cb = ctx;
    struct lw_referral v = {
        .id = sqlite3_column_int64(st, 0), .flag_id = sqlite3_column_int64(st, 1),
        .opened_ms = sqlite3_column_int64(st, 2), .day = ledger_col_text(st, 3),
        .outcome = ledger_col_text(st, 4), .outcome_by = ledger_col_text(st, 5),
        .note = ledger_col_text(st, 6), .outcome_ms = sqlite3_column_int64(st, 7),
    };
    cb->fn(&v, cb->arg);
}

int ledger_web_person_referrals(struct ledger *l, int64_t person_id, const char *since_day,
                                void (*fn)(const struct lw_referral *v, void *arg), void *arg)
{
    struct referral_cb cb = {fn, arg};
    /* Through the flags: referrals has no index on the person. */
    sqlite3_stmt *st = ledger_prepare(l,
        "SELECT r.id, r.flag_id, r.opened_ms, r.day, coalesce(r.outcome, ''), "
        "       coalesce(r.outcome_by, ''), r.note, coalesce(r.outcome_ms, 0) "
        "FROM flags f JOIN referrals r ON r.flag_id = f.id "
        "WHERE f.person_id = ?1 AND r.day >= ?2 ORDER BY r.opened_ms DESC, r.id DESC");
    if (st && lh_bind(st, "It", person_id, since_day) < 0)
        st = bind_failed(l, st, "person referrals");
    return ledger_each_row(l, st, "person referrals", referral_row, &cb);
}

/* ---- absences, certificates, leave ------------------------------------------------ */

int ledger_web_person_absences(struct ledger *l, int64_t person_id, const char *since_day,
                               void (*fn)(const struct absence_view *v, void *arg), void *arg)
{
    struct lh_absence_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(l, LH_ABSENCE_SELECT "WHERE a.person_id = ?1 AND a.day >= ?2 "
                                                      "ORDER BY a.day DESC");
    if (st && lh_bind(st, "It", person_id, since_day) < 0)
        st = bind_failed(l, st, "person absences");
    return ledger_each_row(l, st, "person absences", lh_absence_row, &cb);
}

int ledger_web_person_part_absences(struct ledger *l, int64_t person_id, const char *since_day,
                                    void (*fn)(const struct part_absence_view *v, void *arg),
                                    void *arg)
{
    struct lh_part_absence_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(l, LH_PART_ABSENCE_SELECT
                                      "WHERE a.person_id = ?1 AND a.day >= ?2 "
                                      "ORDER BY a.day DESC, a.part = 'noon'");
    if (st && lh_bind(st, "It", person_id, since_day) < 0)
        st = bind_failed(l, st, "person part absences");
    return ledger_each_row(l, st, "person part absences", lh_part_absence_row, &cb);
}

int ledger_web_unexplained(struct ledger *l, const char *day, const char *class_name, int limit,
                           void (*fn)(const struct absence_view *v, void *arg), void *arg)
{
    struct lh_absence_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(l, LH_ABSENCE_SELECT
        "WHERE a.id IN (SELECT id FROM contract_untraced_absence WHERE day <= ?1) "
        "AND (?2 IS NULL OR p.class = ?2) "
        "ORDER BY a.day DESC, p.class, p.external_id LIMIT ?3");
    if (st && lh_bind(st, "ttd", day, class_name, limit) < 0)
        st = bind_failed(l, st, "unexplained absences");
    return ledger_each_row(l, st, "unexplained absences", lh_absence_row, &cb);
}

int ledger_web_count_unexplained(struct ledger *l, const char *day, const char *class_name,
                                 int *count)
{
    int64_t n = 0;
    int rc = lh_query_i64(l, &n, "SELECT count(*) FROM contract_untraced_absence u "
                                 "WHERE u.day <= ?1 AND (?2 IS NULL "
                                 "OR u.person_id IN (SELECT id FROM people WHERE class = ?2))",
                          "tt", day, class_name);
    *count = (int)n;
    return rc < 0 ? -1 : 0;
}

struct certificate_cb {
    void (*fn)(const struct lw_certificate *v, void *arg);
    void *arg;
};

static void certificate_row(sqlite3_stmt *st, void *ctx)
{
    struct certificate_cb *cb = ctx;
    struct lw_certificate v = {
        .issued_day = ledger_col_text(st, 0), .issuer = ledger_col_text(st, 1),
        .checked_by = ledger_col_text(st, 2), .recorded_ms = sqlite3_column_int64(st, 3),
        .absence_day = ledger_col_text(st, 4),
    };
    cb->fn(&v, cb->arg);
}

int ledger_web_person_certificates(struct ledger *l, int64_t person_id, const char *since_day,
                                   void (*fn)(const struct lw_certificate *v, void *arg),
                                   void *arg)
{
    struct certificate_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(l,
        "SELECT c.issued_day, c.issuer, c.checked_by, c.recorded_ms, coalesce(a.day, '') "
        "FROM certificates c LEFT JOIN absences a ON a.id = c.absence_id "
        "WHERE c.person_id = ?1 AND c.issued_day >= ?2 ORDER BY c.issued_day DESC, c.id DESC");
    if (st && lh_bind(st, "It", person_id, since_day) < 0)
        st = bind_failed(l, st, "person certificates");
    return ledger_each_row(l, st, "person certificates", certificate_row, &cb);
}

struct leave_cb {
    void (*fn)(const struct lw_leave *v, void *arg);
    void *arg;
};

static void leave_row(sqlite3_stmt *st, void *ctx)
{
    struct leave_cb *cb = ctx;
    struct lw_leave v = {
        .from_day = ledger_col_text(st, 0), .to_day = ledger_col_text(st, 1),
        .reason = ledger_col_text(st, 2), .by = ledger_col_text(st, 3),
        .at_ms = sqlite3_column_int64(st, 4),
    };
    cb->fn(&v, cb->arg);
}

int ledger_web_person_leaves(struct ledger *l, int64_t person_id, const char *since_day,
                             void (*fn)(const struct lw_leave *v, void *arg), void *arg)
{
    struct leave_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(l,
        "SELECT from_day, to_day, reason, by_user, at_ms FROM leaves "
        "WHERE person_id = ?1 AND to_day >= ?2 ORDER BY from_day DESC, id DESC");
    if (st && lh_bind(st, "It", person_id, since_day) < 0)
        st = bind_failed(l, st, "person leave");
    return ledger_each_row(l, st, "person leave", leave_row, &cb);
}

/* ---- returns without a certificate ------------------------------------------------ */

/* ?1 the day, ?2..?3 its instants, ?4 the class (NULL: any).
 * Who may be back without a certificate, found without looking at everyone who
 * came: the gate never lets such a person in (see_nurse, or fever), so they are
 * among that day's see_nurse and fever readings; or they came to a manual check;
 * or what makes them need one was recorded after they came in (an absence made an
 * illness, a referral's outcome, recorded since the day began). For each of them:
 * their latest event on or before the day that no certificate covers (the rule is
 * the view contract_uncovered_event, the gate's), not on the day itself (sent
 * home today is not back), and their first arrival that day as the gate counts
 * arrivals (ledger_gate_record) or a manual check (lh_note_arrival). The events
 * are read with `person_id IN cand`, which SQLite pushes into the view's arms
 * (indexed); a correlated person_id would not be. Of two events on the latest
 * day the cause first by name is shown. */
#define RETURNS_SQL                                                                          \
    "WITH cand (pid) AS MATERIALIZED ("                                                       \
    "    SELECT person_id FROM readings WHERE at_ms >= ?2 AND at_ms < ?3 "                    \
    "      AND person_id IS NOT NULL AND outcome IN ('fever', 'see_nurse') "                  \
    "    UNION SELECT person_id FROM checks WHERE day = ?1 AND instrument <> 'gate' "         \
    "    UNION SELECT person_id FROM absences WHERE cause = 'illness' AND recorded_ms >= ?2 " \
    "      AND day < ?1 "                                                                    \
    "    UNION SELECT person_id FROM referrals WHERE outcome IN ('sent_home', 'hospital') "   \
    "      AND outcome_ms >= ?2 AND day < ?1), "                                              \
    "ev (pid, day, cause) AS MATERIALIZED (SELECT person_id, day, cause "                     \
    "    FROM contract_uncovered_event WHERE person_id IN (SELECT pid FROM cand) "            \
    "      AND day <= ?1), "                                                                 \
    "latest (pid, day) AS (SELECT pid, max(day) FROM ev GROUP BY pid), "                      \
    "due (pid, day, cause, first_ms) AS MATERIALIZED (SELECT t.pid, t.day, "                  \
    "    (SELECT min(cause) FROM ev WHERE ev.pid = t.pid AND ev.day = t.day), "               \
    "    (SELECT min(at_ms) FROM (SELECT at_ms FROM readings WHERE person_id = t.pid "        \
    "       AND at_ms >= ?2 AND at_ms < ?3 AND outcome IN ('admit', 'fever', 'see_nurse') "   \
    "     UNION ALL SELECT at_ms FROM checks WHERE person_id = t.pid AND day = ?1)) "         \
    "  FROM latest t WHERE t.day < ?1) "                                                     \
    "SELECT p.external_id, p.name, p.class, d.day, d.cause, d.first_ms "                     \
    "FROM due d JOIN people p ON p.id = d.pid "                                              \
    "WHERE d.first_ms IS NOT NULL AND (?4 IS NULL OR p.class = ?4) "                         \
    "ORDER BY p.class, p.external_id"

struct return_cb {
    void (*fn)(const struct lw_return *v, void *arg);
    void *arg;
};

static void return_row(sqlite3_stmt *st, void *ctx)
{
    struct return_cb *cb = ctx;
    struct lw_return v = {
        .external_id = ledger_col_text(st, 0), .name = ledger_col_text(st, 1),
        .class_name = ledger_col_text(st, 2), .event_day = ledger_col_text(st, 3),
        .cause = ledger_col_text(st, 4), .arrived_ms = sqlite3_column_int64(st, 5),
    };
    cb->fn(&v, cb->arg);
}

/* The instants of a local day: [*from, *to). */
static int day_span(const char *day, int64_t *from, int64_t *to)
{
    char next[CIVIL_DAY_LEN];
    if (civil_ms_at(day, 0, from) < 0 || civil_day_add(day, 1, next) < 0 ||
        civil_ms_at(next, 0, to) < 0) {
        log_err("cannot tell the instants of the day '%s'", day);
        return -1;
    }
    return 0;
}

int ledger_web_returns(struct ledger *l, const char *day, const char *class_name,
                       void (*fn)(const struct lw_return *v, void *arg), void *arg)
{
    struct return_cb cb = {fn, arg};
    int64_t from, to;
    if (day_span(day, &from, &to) < 0)
        return -1;
    sqlite3_stmt *st = ledger_prepare(l, RETURNS_SQL);
    if (st && lh_bind(st, "tIIt", day, from, to, class_name) < 0)
        st = bind_failed(l, st, "returns");
    return ledger_each_row(l, st, "returns", return_row, &cb);
}

int ledger_web_alert_class(struct ledger *l, int64_t id, char *class_name, size_t n)
{
    sqlite3_stmt *st = ledger_prepare(l, "SELECT class FROM alerts WHERE id = ?1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        copy(class_name, n, st, 0);
    else if (rc != SQLITE_DONE)
        ledger_log_error(l, "alert class");
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* ---- uploads ---------------------------------------------------------------------- */

struct upload_cb {
    void (*fn)(const struct outbox_view *v, void *arg);
    void *arg;
};

static void upload_row(sqlite3_stmt *st, void *ctx)
{
    struct upload_cb *cb = ctx;
    struct outbox_view v = {
        .id = sqlite3_column_int64(st, 0), .kind = ledger_col_text(st, 1),
        .key = ledger_col_text(st, 2), .state = ledger_col_text(st, 3),
        .attempts = sqlite3_column_int(st, 4), .created_ms = sqlite3_column_int64(st, 5),
        .sent_ms = sqlite3_column_int64(st, 6), .next_attempt_ms = sqlite3_column_int64(st, 7),
        .last_error = ledger_col_text(st, 8),
    };
    cb->fn(&v, cb->arg);
}

/* The keys of ledger_outbox.c: "CODE/DAY/REV" is the range from "CODE/DAY/" to
 * "CODE/DAY0" ('0' follows '/'), so the unique key's index serves it. */
#define UPLOADS_SQL                                                                         \
    "SELECT id, kind, idempotency_key, state, attempts, created_ms, coalesce(sent_ms, 0), "  \
    "       next_attempt_ms, last_error FROM outbox "                                        \
    "WHERE (idempotency_key > ?1 || '/' || ?2 || '/' "                                       \
    "       AND idempotency_key < ?1 || '/' || ?2 || '0') "                                  \
    "   OR idempotency_key IN (SELECT ?1 || '/referral/' || id FROM referrals WHERE day = ?2 " \
    "       UNION ALL SELECT ?1 || '/alert/' || id FROM alerts WHERE day = ?2) "             \
    "ORDER BY id"

int ledger_web_uploads(struct ledger *l, const char *school_code, const char *day,
                       void (*fn)(const struct outbox_view *v, void *arg), void *arg)
{
    struct upload_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(l, UPLOADS_SQL);
    if (st && lh_bind(st, "tt", school_code, day) < 0)
        st = bind_failed(l, st, "day uploads");
    return ledger_each_row(l, st, "day uploads", upload_row, &cb);
}
