/* What the bureau is told: cluster alerts (WS/T 772-2020 practice), the day's
 * figures (the daily summary and `gatescreen day`), kept in day_figures so that they
 * outlive the purge of readings, and the purge itself. */
#include "ledger_health_private.h"
#include "ledger_visitors.h"

#include <inttypes.h>
#include <string.h>

#include "civil.h"
#include "ledger_calendar.h"
#include "log.h"
#include "textnum.h"

/* ---- cluster alerts ------------------------------------------------------------- */

/* Illness cases of class ?1 from day ?2 to day ?3: (pid, kind, day). */
#define CASES_SQL                                                                          \
    "SELECT f.person_id AS pid, 'confirmed_fever' AS kind, f.day AS day FROM flags f "     \
    "JOIN people p ON p.id = f.person_id WHERE f.state = 'confirmed' AND p.class = ?1 "    \
    "AND f.day BETWEEN ?2 AND ?3 "                                                         \
    "UNION SELECT a.person_id, 'illness_absence', a.day FROM absences a "                  \
    "JOIN people p ON p.id = a.person_id WHERE a.cause = 'illness' AND p.class = ?1 "      \
    "AND a.day BETWEEN ?2 AND ?3"

struct cluster_rule {
    const char *name;
    int span;      /* days, ending with the evaluated day */
    int threshold; /* distinct people */
};

static void note_opened(struct opened_alerts *o, int64_t id)
{
    if (o->count < LEDGER_MAX_OPENED)
        o->id[o->count++] = id;
    else
        log_warn("alert %" PRId64 " opened but not reported: too many in one call", id);
}

static int open_alert(struct ledger *l, const char *class_name, const struct cluster_rule *r,
                      const char *day, int64_t at_ms, int64_t *alert)
{
    if (lh_run(l, NULL, "INSERT INTO alerts (class, rule, day, opened_ms, cases) "
                        "VALUES (?1, ?2, ?3, ?4, 0)",
               "tttI", class_name, r->name, day, at_ms) < 0)
        return -1;
    *alert = sqlite3_last_insert_rowid(l->db);
    return 0;
}

static int audit_alert(struct ledger *l, const char *class_name, const struct cluster_rule *r,
                       const char *from, const char *day, const char *by, int64_t alert)
{
    int64_t cases = 0;
    if (lh_query_i64(l, &cases, "SELECT cases FROM alerts WHERE id = ?", "I", alert) < 0)
        return -1;
    char target[32], detail[256];
    snprintf(target, sizeof target, "alert %" PRId64, alert);
    if (r->span == 1)
        snprintf(detail, sizeof detail, "%s: %" PRId64 " illness cases on %s (rule day)",
                 class_name, cases, day);
    else
        snprintf(detail, sizeof detail, "%s: %" PRId64 " illness cases over %s..%s "
                 "(rule three_days)", class_name, cases, from, day);
    return ledger_audit(l, by, "alert open", target, detail);
}

static int apply_rule(struct ledger *l, const char *class_name, const char *day,
                      const struct cluster_rule *r, const char *by, int64_t at_ms,
                      struct opened_alerts *opened)
{
    char from[LEDGER_DAY_LEN];
    int64_t alert = 0, cases = 0;
    if (civil_day_add(day, 1 - r->span, from) < 0)
        return -1;
    int found = lh_query_i64(l, &alert, "SELECT id FROM alerts WHERE class = ?1 AND rule = ?2 "
                                        "AND day BETWEEN ?3 AND ?4 ORDER BY day DESC, id DESC "
                                        "LIMIT 1", "tttt", class_name, r->name, from, day);
    if (found < 0)
        return -1;
    if (!found) {
        if (lh_query_i64(l, &cases, "SELECT count(DISTINCT pid) FROM (" CASES_SQL ")", "ttt",
                         class_name, from, day) < 0)
            return -1;
        if (cases < r->threshold)
            return 0;
        if (open_alert(l, class_name, r, day, at_ms, &alert) < 0)
            return -1;
    }
    /* An alert stands for the outbreak: later cases join it rather than open more. */
    if (lh_run(l, NULL, "INSERT OR IGNORE INTO alert_cases (alert_id, person_id, case_kind, "
                        "day) SELECT ?4, pid, kind, day FROM (" CASES_SQL ")",
               "tttI", class_name, from, day, alert) < 0 ||
        lh_run(l, NULL, "UPDATE alerts SET cases = (SELECT count(DISTINCT person_id) FROM "
                        "alert_cases WHERE alert_id = ?1) WHERE id = ?1", "I", alert) < 0)
        return -1;
    if (found)
        return 0;
    note_opened(opened, alert);
    return audit_alert(l, class_name, r, from, day, by, alert);
}

int lh_cluster_evaluate(struct ledger *l, const struct cfg_screening *s,
                        const char *class_name, const char *day, const char *by,
                        int64_t at_ms, struct opened_alerts *opened)
{
    /* Staff and teachers without a class are not a class: no cluster to speak of. */
    if (!class_name || !*class_name)
        return 0;
    const struct cluster_rule rules[] = {
        {"day", 1, s->cluster_day_cases},
        {"three_days", 3, s->cluster_3day_cases},
    };
    /* A case recorded late (a cause traced days after the absence) also belongs to
     * the windows that end after its day: evaluate every window holding the day,
     * up to today. */
    char today[LEDGER_DAY_LEN], end[LEDGER_DAY_LEN];
    if (civil_day_of(at_ms, today) < 0)
        return -1;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        for (int k = 0; k < rules[i].span; k++) {
            if (civil_day_add(day, k, end) < 0)
                return -1;
            if (k > 0 && strcmp(end, today) > 0)
                break;
            if (apply_rule(l, class_name, end, &rules[i], by, at_ms, opened) < 0)
                return -1;
        }
    return 0;
}

int ledger_cluster_evaluate(struct ledger *l, const struct cfg_screening *s,
                            const char *class_name, const char *day, const char *by,
                            int64_t at_ms, struct opened_alerts *opened)
{
    int y, m, d;
    *opened = (struct opened_alerts){0};
    if (!day || tn_date(day, &y, &m, &d) < 0) {
        log_err("cluster evaluation: '%s' is not a day", day ? day : "");
        return -1;
    }
    if (ledger_begin(l) < 0)
        return -1;
    return lh_finish(l, lh_cluster_evaluate(l, s, class_name, day, by, at_ms, opened));
}

static int close_body(struct ledger *l, int64_t id, const char *by, int64_t at_ms, FILE *errs)
{
    sqlite3_stmt *st = ledger_prepare(l, "SELECT closed_ms IS NOT NULL, coalesce(closed_by, '') "
                                         "FROM alerts WHERE id = ?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), closed = rc == SQLITE_ROW && sqlite3_column_int(st, 0);
    if (rc == SQLITE_DONE)
        fprintf(errs, "no cluster alert %" PRId64 "\n", id);
    else if (closed)
        fprintf(errs, "alert %" PRId64 " is already closed (by %s)\n", id, ledger_col_text(st, 1));
    else if (rc != SQLITE_ROW)
        ledger_log_error(l, "find alert");
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return ledger_refuse(l, LEDGER_NOT_FOUND);
    if (closed)
        return ledger_refuse(l, LEDGER_CONFLICT);
    if (rc != SQLITE_ROW)
        return -1;
    char target[32];
    snprintf(target, sizeof target, "alert %" PRId64, id);
    if (lh_run(l, NULL, "UPDATE alerts SET closed_ms = ?2, closed_by = ?3 WHERE id = ?1",
               "IIt", id, at_ms, by) < 0)
        return -1;
    return ledger_audit(l, by, "alert close", target, "");
}

enum ledger_status ledger_alert_close(struct ledger *l, int64_t alert_id, const char *by,
                                      int64_t at_ms, FILE *errs)
{
    if (ledger_begin(l) < 0)
        return ledger_failure(l);
    return ledger_end(l, close_body(l, alert_id, by, at_ms, errs));
}

struct alert_cb {
    void (*fn)(const struct alert_view *v, void *arg);
    void *arg;
};

static void alert_row(sqlite3_stmt *st, void *ctx)
{
    struct alert_cb *cb = ctx;
    struct alert_view v = {
        .id = sqlite3_column_int64(st, 0), .class_name = ledger_col_text(st, 1),
        .rule = ledger_col_text(st, 2), .day = ledger_col_text(st, 3),
        .opened_ms = sqlite3_column_int64(st, 4), .closed_ms = sqlite3_column_int64(st, 5),
        .closed_by = ledger_col_text(st, 6), .cases = sqlite3_column_int(st, 7),
        .people = ledger_col_text(st, 8),
    };
    cb->fn(&v, cb->arg);
}

int ledger_list_alerts(struct ledger *l, void (*fn)(const struct alert_view *v, void *arg),
                       void *arg)
{
    struct alert_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(l,
        "SELECT a.id, a.class, a.rule, a.day, a.opened_ms, coalesce(a.closed_ms, 0), "
        "       coalesce(a.closed_by, ''), a.cases, "
        "       coalesce((SELECT group_concat(ext, ',') FROM "
        "                 (SELECT DISTINCT p.external_id AS ext FROM alert_cases c "
        "                  JOIN people p ON p.id = c.person_id WHERE c.alert_id = a.id "
        "                  ORDER BY ext)), '') "
        "FROM alerts a ORDER BY a.closed_ms IS NOT NULL, a.day DESC, a.id");
    return ledger_each_row(l, st, "list alerts", alert_row, &cb);
}

/* ---- day figures ------------------------------------------------------------------ */

#define LEDGER_FIG_NAME(e, name) name,
static const char *const figure_names[] = {LEDGER_DAY_FIGURES(LEDGER_FIG_NAME)};
#undef LEDGER_FIG_NAME

_Static_assert(sizeof figure_names / sizeof figure_names[0] == FIG_COUNT, "one name per figure");

const char *day_figure_name(enum day_figure f)
{
    return f >= 0 && f < FIG_COUNT ? figure_names[f] : "?";
}

/* Parameters of every figure query: ?1 day, ?2 expected kinds (enum cfg_kind_mask),
 * ?3 and ?4 the day's first and next day's first millisecond, ?5 the entry's arg,
 * ?6 the grades not back yet (staged return, civil_grades_away): not expected. */
#define KINDS "((p.kind = 'student' AND (?2 & 1)) OR (p.kind = 'teacher' AND (?2 & 2)) " \
              "OR (p.kind = 'staff' AND (?2 & 4)))"
#define ON_LEAVE "EXISTS (SELECT 1 FROM leaves v WHERE v.person_id = p.id " \
                 "AND ?1 BETWEEN v.from_day AND v.to_day)"
#define BACK "instr(?6, char(31) || p.grade || char(31)) = 0"
#define EXPECTED "SELECT p.id FROM people p WHERE p.active = 1 AND " KINDS " AND " BACK \
                 " AND NOT " ON_LEAVE
#define COUNT_DAY(table) "SELECT count(*) FROM " table " WHERE day = ?1"
/* The groups reported apart (LEDGER_GROUP_FIGURES). */
#define STUDENTS "p.kind = 'student'"
#define STAFF "p.kind IN ('teacher', 'staff')"
#define GROUP_SQL(G, who)                                                                      \
    {FIG_##G##_EXPECTED, "SELECT count(*) FROM (" EXPECTED " AND " who ")", NULL},             \
    {FIG_##G##_MORNING_DONE, "SELECT count(DISTINCT person_id) FROM checks WHERE day = ?1 AND " \
                             "window = ?5 AND person_id IN (" EXPECTED " AND " who ")",        \
     "morning"},                                                                               \
    {FIG_##G##_MORNING_ALL, "SELECT count(*) FROM checks c JOIN people p ON p.id = "           \
                            "c.person_id WHERE c.day = ?1 AND c.window = ?5 AND " who,         \
     "morning"},                                                                               \
    {FIG_##G##_NOON_DONE, "SELECT count(DISTINCT person_id) FROM checks WHERE day = ?1 AND "   \
                          "window = ?5 AND person_id IN (" EXPECTED " AND " who ")",           \
     "noon"},                                                                                  \
    {FIG_##G##_NOON_ALL, "SELECT count(*) FROM checks c JOIN people p ON p.id = c.person_id "  \
                         "WHERE c.day = ?1 AND c.window = ?5 AND " who, "noon"},               \
    {FIG_##G##_ABSENCES, "SELECT count(*) FROM absences a JOIN people p ON p.id = "            \
                         "a.person_id WHERE a.day = ?1 AND " who, NULL},                       \
    {FIG_##G##_ABS_ILLNESS, "SELECT count(*) FROM absences a JOIN people p ON p.id = "         \
                            "a.person_id WHERE a.day = ?1 AND a.cause = ?5 AND " who,          \
     "illness"}

/* The part-day absences of part `part` (a literal), all and by cause
 * (LEDGER_PART_FIGURES); index part_absences_day. */
#define PART_SQL(P, part)                                                                      \
    {FIG_PART_##P, COUNT_DAY("part_absences") " AND part = ?5", part},                         \
    {FIG_PART_##P##_UNKNOWN, COUNT_DAY("part_absences") " AND part = '" part "' AND cause = ?5", \
     "unknown"},                                                                               \
    {FIG_PART_##P##_ILLNESS, COUNT_DAY("part_absences") " AND part = '" part "' AND cause = ?5", \
     "illness"},                                                                               \
    {FIG_PART_##P##_PERSONAL, COUNT_DAY("part_absences") " AND part = '" part "' AND cause = ?5", \
     "personal"},                                                                              \
    {FIG_PART_##P##_OTHER, COUNT_DAY("part_absences") " AND part = '" part "' AND cause = ?5",   \
     "other"}

struct figure_sql {
    enum day_figure fig;
    const char *sql; /* one count */
    const char *arg; /* ?5 */
};

static const struct figure_sql figure_sql[] = {
    {FIG_POP_STUDENT, "SELECT count(*) FROM people WHERE active = 1 AND kind = ?5", "student"},
    {FIG_POP_TEACHER, "SELECT count(*) FROM people WHERE active = 1 AND kind = ?5", "teacher"},
    {FIG_POP_STAFF, "SELECT count(*) FROM people WHERE active = 1 AND kind = ?5", "staff"},
    {FIG_POP_TOTAL, "SELECT count(*) FROM people WHERE active = 1", NULL},
    {FIG_EXPECTED, "SELECT count(*) FROM (" EXPECTED ")", NULL},
    {FIG_ON_LEAVE, "SELECT count(*) FROM people p WHERE p.active = 1 AND " KINDS " AND " BACK
                   " AND " ON_LEAVE,
     NULL},
    {FIG_MORNING_DONE, "SELECT count(DISTINCT person_id) FROM checks WHERE day = ?1 AND "
                       "window = ?5 AND person_id IN (" EXPECTED ")", "morning"},
    {FIG_MORNING_ALL, COUNT_DAY("checks") " AND window = ?5", "morning"},
    {FIG_NOON_DONE, "SELECT count(DISTINCT person_id) FROM checks WHERE day = ?1 AND "
                    "window = ?5 AND person_id IN (" EXPECTED ")", "noon"},
    {FIG_NOON_ALL, COUNT_DAY("checks") " AND window = ?5", "noon"},
    {FIG_READINGS, COUNT_DAY("readings"), NULL},
    {FIG_READINGS_VALID, COUNT_DAY("readings") " AND quality = ?5", "valid"},
    {FIG_READINGS_INVALID, COUNT_DAY("readings") " AND quality IN ('out_of_range', 'fault')",
     NULL},
    {FIG_READINGS_NO_MEASUREMENT, COUNT_DAY("readings") " AND quality = ?5", "no_measurement"},
    {FIG_OUT_ADMIT, COUNT_DAY("readings") " AND outcome = ?5", "admit"},
    {FIG_OUT_FEVER, COUNT_DAY("readings") " AND outcome = ?5", "fever"},
    {FIG_OUT_INVALID, COUNT_DAY("readings") " AND outcome = ?5", "invalid"},
    {FIG_OUT_UNKNOWN_CARD, COUNT_DAY("readings") " AND outcome = ?5", "unknown_card"},
    {FIG_OUT_NO_IDENTITY, COUNT_DAY("readings") " AND outcome = ?5", "no_identity"},
    {FIG_OUT_SEE_NURSE, COUNT_DAY("readings") " AND outcome = ?5", "see_nurse"},
    {FIG_OUT_NO_MEASUREMENT, COUNT_DAY("readings") " AND outcome = ?5", "no_measurement"},
    {FIG_SCREENS, COUNT_DAY("flags"), NULL},
    {FIG_CONFIRMED, COUNT_DAY("flags") " AND state = ?5", "confirmed"},
    {FIG_CLEARED, COUNT_DAY("flags") " AND state = ?5", "cleared"},
    {FIG_SCREENS_OPEN, COUNT_DAY("flags") " AND state = ?5", "open"},
    {FIG_REFERRALS, COUNT_DAY("referrals"), NULL},
    {FIG_REF_SENT_HOME, COUNT_DAY("referrals") " AND outcome = ?5", "sent_home"},
    {FIG_REF_HOSPITAL, COUNT_DAY("referrals") " AND outcome = ?5", "hospital"},
    {FIG_REF_RETURNED, COUNT_DAY("referrals") " AND outcome = ?5", "returned_to_class"},
    {FIG_REF_PENDING, COUNT_DAY("referrals") " AND outcome IS NULL", NULL},
    {FIG_ABSENCES, COUNT_DAY("absences"), NULL},
    {FIG_ABS_UNKNOWN, COUNT_DAY("absences") " AND cause = ?5", "unknown"},
    {FIG_ABS_ILLNESS, COUNT_DAY("absences") " AND cause = ?5", "illness"},
    {FIG_ABS_PERSONAL, COUNT_DAY("absences") " AND cause = ?5", "personal"},
    {FIG_ABS_OTHER, COUNT_DAY("absences") " AND cause = ?5", "other"},
    {FIG_ABS_LATE, COUNT_DAY("absences") " AND cause = ?5", "late"},
#define SYMPTOM_SQL COUNT_DAY("absences") " AND instr(',' || symptoms || ',', ',' || ?5 || ',') > 0"
    {FIG_SYM_FEVER, SYMPTOM_SQL, "fever"},
    {FIG_SYM_COUGH, SYMPTOM_SQL, "cough"},
    {FIG_SYM_SORE_THROAT, SYMPTOM_SQL, "sore_throat"},
    {FIG_SYM_DIARRHOEA, SYMPTOM_SQL, "diarrhoea"},
    {FIG_SYM_VOMITING, SYMPTOM_SQL, "vomiting"},
    {FIG_SYM_RASH, SYMPTOM_SQL, "rash"},
    {FIG_SYM_CONJUNCTIVITIS, SYMPTOM_SQL, "conjunctivitis"},
    {FIG_SYM_OTHER, SYMPTOM_SQL, "other"},
#undef SYMPTOM_SQL
    /* People, not absences: one return ends every absence before it. */
    {FIG_RETURNS_AFTER_ILLNESS, "SELECT count(DISTINCT person_id) FROM absences WHERE "
                                "returned_day = ?1 AND cause = 'illness'", NULL},
    {FIG_CERTIFICATES, "SELECT count(*) FROM certificates WHERE recorded_ms >= ?3 AND "
                       "recorded_ms < ?4", NULL},
    {FIG_ALERTS_OPENED, COUNT_DAY("alerts"), NULL},
    {FIG_ALERTS_OPEN, "SELECT count(*) FROM alerts WHERE closed_ms IS NULL", NULL},
    {FIG_OBSERVED, "SELECT count(DISTINCT o.person_id) FROM observations o WHERE "
                   LH_UNDER_OBSERVATION, NULL},
    {FIG_VISITORS, LH_VISITORS_OF_DAY, NULL},
    {FIG_VISITORS_REFUSED, LH_VISITORS_REFUSED, NULL},
    PART_SQL(NOON, "noon"),
    PART_SQL(EVENING, "evening"),
    GROUP_SQL(STU, STUDENTS),
    GROUP_SQL(STF, STAFF),
};

struct figure_params {
    const char *day;
    int kinds;
    int64_t from_ms, to_ms;
    char away[CFG_MAX_GROUPS * CFG_NAME_MAX + 2];
};

static int count_figure(struct ledger *l, const struct figure_sql *q,
                        const struct figure_params *fp, int *out)
{
    sqlite3_stmt *st = ledger_prepare(l, q->sql);
    if (!st)
        return -1;
    /* Bind only what the statement numbers: each uses a few of the five. */
    int n = sqlite3_bind_parameter_count(st);
    int rc = 0;
    if (n >= 1)
        rc |= ledger_bind_text(st, 1, fp->day);
    if (n >= 2)
        rc |= sqlite3_bind_int(st, 2, fp->kinds);
    if (n >= 4)
        rc |= sqlite3_bind_int64(st, 3, fp->from_ms) | sqlite3_bind_int64(st, 4, fp->to_ms);
    if (n >= 5)
        rc |= ledger_bind_text(st, 5, q->arg);
    if (n >= 6)
        rc |= ledger_bind_text(st, 6, fp->away);
    if (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    else
        rc = -1;
    if (rc < 0)
        ledger_log_error(l, day_figure_name(q->fig));
    sqlite3_finalize(st);
    return rc < 0 ? -1 : 0;
}

static int permille(int part, int whole)
{
    return whole > 0 ? (int)((int64_t)part * 1000 / whole) : 0;
}

struct fig_set ledger_fig_all(void)
{
    struct fig_set all;
    for (int i = 0; i < FIG_COUNT; i++)
        all.on[i] = true;
    return all;
}

static int count_all(struct ledger *l, const struct figure_params *fp,
                     const struct fig_set *which, struct day_figures *f)
{
    for (size_t i = 0; i < sizeof figure_sql / sizeof figure_sql[0]; i++)
        if (which->on[figure_sql[i].fig] &&
            count_figure(l, &figure_sql[i], fp, &f->v[figure_sql[i].fig]) < 0)
            return -1;
    return 0;
}

int ledger_day_figures(struct ledger *l, const char *day, const struct cfg_windows *w,
                       struct day_figures *f)
{
    struct fig_set all = ledger_fig_all();
    return ledger_day_figures_of(l, day, w, &all, f);
}

int ledger_day_figures_of(struct ledger *l, const char *day, const struct cfg_windows *w,
                          const struct fig_set *which, struct day_figures *f)
{
    char next[LEDGER_DAY_LEN];
    struct figure_params fp = {.day = day, .kinds = (int)w->absence_kinds};
    *f = (struct day_figures){0};
    if (civil_day_add(day, 1, next) < 0 || civil_ms_at(day, 0, &fp.from_ms) < 0 ||
        civil_ms_at(next, 0, &fp.to_ms) < 0 ||
        civil_grades_away(w, day, fp.away, sizeof fp.away) < 0) {
        log_err("day figures: '%s' is not a day", day);
        return -1;
    }
    snprintf(f->day, sizeof f->day, "%s", day);
    /* Nobody is expected on a day the school is closed, by the calendar or by a
     * closure: its rates are not a school that failed to check anyone. */
    int nobody = ledger_day_expects_nobody(l, w, day);
    if (nobody < 0)
        return -1;
    if (nobody)
        fp.kinds = 0;
    /* One read transaction: the counts see one snapshot (not a decision between
     * two of them), and a reader never holds the write lock the gate needs. Inside a
     * caller's transaction, that one is the snapshot. */
    bool own = sqlite3_get_autocommit(l->db);
    if (own && ledger_exec(l, "BEGIN DEFERRED") < 0)
        return -1;
    int rc = count_all(l, &fp, which, f);
    if (own && ledger_exec(l, rc == 0 ? "COMMIT" : "ROLLBACK") < 0)
        rc = -1;
    if (rc < 0)
        return -1;
    f->v[FIG_MORNING_COVERAGE] = permille(f->v[FIG_MORNING_DONE], f->v[FIG_EXPECTED]);
    f->v[FIG_NOON_COVERAGE] = permille(f->v[FIG_NOON_DONE], f->v[FIG_EXPECTED]);
    f->v[FIG_STU_MORNING_COVERAGE] = permille(f->v[FIG_STU_MORNING_DONE], f->v[FIG_STU_EXPECTED]);
    f->v[FIG_STU_NOON_COVERAGE] = permille(f->v[FIG_STU_NOON_DONE], f->v[FIG_STU_EXPECTED]);
    f->v[FIG_STF_MORNING_COVERAGE] = permille(f->v[FIG_STF_MORNING_DONE], f->v[FIG_STF_EXPECTED]);
    f->v[FIG_STF_NOON_COVERAGE] = permille(f->v[FIG_STF_NOON_DONE], f->v[FIG_STF_EXPECTED]);
    return 0;
}

int lh_store_figures(struct ledger *l, const struct day_figures *f)
{
    sqlite3_stmt *st = ledger_prepare(l, "INSERT OR REPLACE INTO day_figures (day, name, value) "
                                         "VALUES (?1, ?2, ?3)");
    if (!st)
        return -1;
    int rc = 0;
    for (int i = 0; i < FIG_COUNT && rc == 0; i++) {
        lh_bind(st, "ttd", f->day, figure_names[i], f->v[i]);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        if (rc < 0)
            ledger_log_error(l, "store day figures");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

int ledger_store_day_figures(struct ledger *l, const struct day_figures *f)
{
    if (ledger_begin(l) < 0)
        return -1;
    return lh_finish(l, lh_store_figures(l, f));
}

int ledger_store_figure(struct ledger *l, const char *day, const char *name, int value)
{
    return lh_run(l, NULL, "INSERT OR REPLACE INTO day_figures (day, name, value) VALUES (?, ?, ?)",
                  "ttd", day, name, value);
}

static int figure_index(const char *name)
{
    for (int i = 0; i < FIG_COUNT; i++)
        if (strcmp(figure_names[i], name) == 0)
            return i;
    return -1;
}

int ledger_load_day_figures(struct ledger *l, const char *day, struct day_figures *f,
                            int *found)
{
    *f = (struct day_figures){0};
    *found = 0;
    snprintf(f->day, sizeof f->day, "%s", day);
    sqlite3_stmt *st = ledger_prepare(l, "SELECT name, value FROM day_figures WHERE day = ?");
    if (!st)
        return -1;
    ledger_bind_text(st, 1, day);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* Names a newer release stored and this one does not know are skipped. */
        int i = figure_index(ledger_col_text(st, 0));
        if (i >= 0)
            f->v[i] = sqlite3_column_int(st, 1);
        (*found)++;
    }
    if (rc != SQLITE_DONE)
        ledger_log_error(l, "load day figures");
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- purge ------------------------------------------------------------------------ */

/* The first day with readings after `after` and before `cut`; 0 when none is left. */
static int next_reading_day(struct ledger *l, const char *after, const char *cut, char *day)
{
    sqlite3_stmt *st = ledger_prepare(l, "SELECT min(day) FROM readings "
                                         "WHERE day > ?1 AND day < ?2");
    if (!st)
        return -1;
    lh_bind(st, "tt", after, cut);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        snprintf(day, LEDGER_DAY_LEN, "%s", ledger_col_text(st, 0));
        found = 1;
    } else if (rc != SQLITE_ROW) {
        ledger_log_error(l, "purge");
        found = -1;
    }
    sqlite3_finalize(st);
    return found;
}

/* Readings deleted per transaction: each batch holds the write lock for a few ms
 * (the gate's BEGIN waits that long at most), and a purge cut short keeps whole
 * batches: the next start deletes the rest the same way. */
#define PURGE_BATCH 500

/* Stores the figures of every day about to lose its readings, each day's in its own
 * short transaction (computed in a read transaction first). Figures stored at the
 * end of that day stay as they were: recomputed now, the population and "open now"
 * would be today's, not that day's. */
static int store_purged_days(struct ledger *l, const struct cfg_windows *w, const char *cut,
                             int *days)
{
    char day[LEDGER_DAY_LEN] = "";
    struct day_figures f;
    int found;
    while ((found = next_reading_day(l, day, cut, day)) > 0) {
        int stored = 0;
        if (ledger_load_day_figures(l, day, &f, &stored) < 0)
            return -1;
        if (!stored &&
            (ledger_day_figures(l, day, w, &f) < 0 || ledger_store_day_figures(l, &f) < 0))
            return -1;
        (*days)++;
    }
    return found;
}

/* One batch: the oldest PURGE_BATCH readings before cut go. Checks and flags are
 * the health record and stay; they only lose the link to the raw reading (their
 * temperatures are stored with them). */
static int purge_batch(struct ledger *l, const char *cut, int *deleted)
{
    int64_t hi = 0;
    if (lh_query_i64(l, &hi, "SELECT max(id) FROM (SELECT id FROM readings WHERE day < ?1 "
                             "ORDER BY id LIMIT ?2)", "td", cut, PURGE_BATCH) < 0)
        return -1;
    *deleted = 0;
    if (hi == 0)
        return 0;
    if (ledger_begin(l) < 0)
        return -1;
    int rc = lh_run(l, NULL, "UPDATE checks SET reading_id = NULL WHERE reading_id <= ?2 AND "
                             "reading_id IN (SELECT id FROM readings WHERE day < ?1 AND "
                             "id <= ?2)", "tI", cut, hi) < 0 ||
                     lh_run(l, NULL, "UPDATE flags SET reading_id = NULL WHERE reading_id <= ?2 "
                                     "AND reading_id IN (SELECT id FROM readings WHERE "
                                     "day < ?1 AND id <= ?2)", "tI", cut, hi) < 0 ||
                     lh_run(l, NULL, "DELETE FROM terminal_events WHERE reading_id <= ?2 AND "
                                     "reading_id IN (SELECT id FROM readings WHERE day < ?1 "
                                     "AND id <= ?2)", "tI", cut, hi) < 0 ||
                     lh_run(l, deleted, "DELETE FROM readings WHERE id <= ?2 AND day < ?1",
                            "tI", cut, hi) < 0
                 ? -1
                 : 0;
    if (rc < 0)
        *deleted = 0;
    return lh_finish(l, rc);
}

static int audit_purge(struct ledger *l, const char *cut, const char *by, int deleted, int days)
{
    char detail[160];
    snprintf(detail, sizeof detail, "%d readings of %d days before %s; their figures stored",
             deleted, days, cut);
    if (ledger_begin(l) < 0)
        return -1;
    return lh_finish(l, ledger_audit(l, by ? by : "gatescreend", "purge", "readings", detail));
}

int ledger_purge(struct ledger *l, const struct cfg_windows *w, int64_t before_ms,
                 const char *by, int *deleted, int *days)
{
    char cut[LEDGER_DAY_LEN];
    int n = 0, rc = 0;
    *deleted = *days = 0;
    if (lh_today(before_ms, cut) < 0 || store_purged_days(l, w, cut, days) < 0)
        return -1;
    do {
        rc = purge_batch(l, cut, &n);
        *deleted += n;
    } while (rc == 0 && n > 0);
    /* The visitors' register is personal data kept as long as the readings. */
    int visitors = 0;
    if (rc == 0 && ledger_purge_visitors(l, cut, by, &visitors) < 0)
        rc = -1;
    /* The audit row tells what was deleted, also when a later batch failed. */
    if (*deleted > 0 && audit_purge(l, cut, by, *deleted, *days) < 0)
        rc = -1;
    if (rc < 0)
        *deleted = *days = 0;
    return rc;
}
