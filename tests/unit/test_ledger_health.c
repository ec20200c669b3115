/* The ledger's health rules on real SQLite files: manual checks, rechecks,
 * referrals, absences, leave, certificates (the gate's contract), the absence sweep,
 * cluster alerts, day figures and the purge. Gate rows are written straight in SQL,
 * the way ledger_gate.c writes them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "civil.h"
#include "ledger.h"
#include "ledger_health.h"
#include "ledger_health_private.h"
#include "log.h"

#include "ledger_fixture.h"
#include "zone.h"

#define D0 "2024-03-04" /* a Monday: "today" in most tests */
#define DM1 "2024-03-03"
#define DM2 "2024-03-02"
#define DM3 "2024-03-01"
#define DP1 "2024-03-05"

/* ---- fixture and helpers ---------------------------------------------------------- */

#define NOW at(D0, 10, 0)

static int setup(void **state)
{
    struct fx *f = fx_new("health");
    if (!f)
        return -1;
    f->s = (struct cfg_screening){.threshold_centi = 3730, .valid_min_centi = 3400,
                                  .valid_max_centi = 4300, .cluster_day_cases = 3,
                                  .cluster_3day_cases = 5};
    f->w = (struct cfg_windows){.absence_kinds = CFG_KIND_STUDENT, .morning_start = 7 * 60,
                                .morning_end = 8 * 60 + 30};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    return fx_free(*state);
}

/* Every row of every table the health rules touch, to compare before and after. */
static char *dump(struct fx *f)
{
    static const char *const tables[] = {
        "people", "readings", "checks", "flags", "referrals", "absences", "absence_followups",
        "leaves", "certificates", "health_status_history", "alerts", "alert_cases",
        "day_figures", "audit_log", NULL};
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    for (int t = 0; tables[t]; t++) {
        char q[128];
        sqlite3_stmt *st;
        snprintf(q, sizeof q, "SELECT * FROM %s ORDER BY rowid", tables[t]);
        assert_int_equal(sqlite3_prepare_v2(f->db, q, -1, &st, NULL), SQLITE_OK);
        fprintf(m, "[%s]\n", tables[t]);
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                const unsigned char *v = sqlite3_column_text(st, c);
                fprintf(m, "%s|", v ? (const char *)v : "NULL");
            }
            fputc('\n', m);
        }
        sqlite3_finalize(st);
    }
    fclose(m);
    return buf;
}

static void assert_unchanged(struct fx *f, char *before)
{
    char *after = dump(f);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static long long audits(struct fx *f, const char *action, const char *actor)
{
    return qint(f, "SELECT count(*) FROM audit_log WHERE action = '%s' AND actor = '%s'", action,
                actor);
}

static const char *status(struct fx *f, const char *who)
{
    return qtext(f, "SELECT health_status FROM people WHERE external_id = '%s'", who);
}

static int recheck(struct fx *f, const char *who, int centi, struct recheck_result *out)
{
    struct recheck in = {.person = who, .temp_centi = centi, .instrument = "ear",
                         .threshold_centi = 3730, .by = "nurse", .at_ms = NOW};
    return ledger_recheck(f->l, &f->s, &in, out, f->e);
}

static int absence(struct fx *f, const char *who, const char *day, const char *cause,
                   const char *symptoms, struct absence_result *out)
{
    struct absence_cause in = {.person = who, .day = day, .cause = cause, .symptoms = symptoms,
                               .by = "nurse", .at_ms = NOW};
    return ledger_absence_set_cause(f->l, &f->s, &in, out, f->e);
}

/* ---- symptoms --------------------------------------------------------------------- */

static void test_symptoms_normalise(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *in, *out, *err;
    } rows[] = {
        {"", "", NULL},
        {"  ", "", NULL},
        {"fever", "fever", NULL},
        {"cough, fever,cough", "fever,cough", NULL},
        {"Fever ,RASH", "fever,rash", NULL},
        {"other,conjunctivitis,rash,vomiting,diarrhoea,sore_throat,cough,fever",
         "fever,cough,sore_throat,diarrhoea,vomiting,rash,conjunctivitis,other", NULL},
        {"fever,,cough", NULL, "empty item"},
        {"fever,", NULL, "empty item"},
        {"flu", NULL, "symptom 'flu' is not one of"},
        {"fever,sore throat", NULL, "symptom 'sore throat'"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[LEDGER_SYMPTOMS_LEN] = "x";
        int rc = ledger_symptoms_normalise(rows[i].in, out, sizeof out, f->e);
        const char *e = errs(f);
        if (rows[i].out) {
            assert_int_equal(rc, 0);
            assert_string_equal(out, rows[i].out);
            assert_string_equal(e, "");
        } else {
            assert_int_equal(rc, LEDGER_INVALID);
            assert_non_null(strstr(e, rows[i].err));
        }
    }
}

/* ---- manual checks ---------------------------------------------------------------- */

static struct manual_check mcheck(const char *who, const char *day, const char *window,
                                  int centi)
{
    return (struct manual_check){.person = who, .day = day, .window = window,
                                 .temp_centi = centi, .instrument = "axillary",
                                 .threshold_centi = 3730, .by = "teacher", .at_ms = NOW};
}

static void test_manual_check(void **state)
{
    struct fx *f = *state;
    struct manual_check_result out;
    student(f, "S1", "1班");
    struct manual_check in = mcheck("S1", D0, "morning", 3650);
    assert_int_equal(ledger_manual_check(f->l, &in, &out, f->e), 0);
    assert_false(out.existed);
    assert_int_equal(out.flag_id, 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM checks WHERE day = '" D0 "' AND window = "
                             "'morning' AND temp_centi = 3650 AND instrument = 'axillary' AND "
                             "threshold_centi = 3730 AND by_user = 'teacher' AND reading_id "
                             "IS NULL"), 1);
    assert_int_equal(audits(f, "manual check", "teacher"), 1);
    assert_int_equal(qint(f, "SELECT count(*) FROM flags"), 0);

    /* A second check for the same window below the threshold: reported, nothing changes. */
    char *before = dump(f);
    in.temp_centi = 3690;
    assert_int_equal(ledger_manual_check(f->l, &in, &out, f->e), 0);
    assert_true(out.existed);
    assert_int_equal(out.temp_centi, 3650);
    assert_string_equal(out.instrument, "axillary");
    assert_int_equal(out.flag_id, 0);
    assert_unchanged(f, before);

    /* At the threshold exactly: a fever flag like a gate screen's. */
    in = mcheck("S1", D0, "noon", 3730);
    assert_int_equal(ledger_manual_check(f->l, &in, &out, f->e), 0);
    assert_true(out.flag_id > 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM flags WHERE state = 'open' AND reading_id IS "
                             "NULL AND screen_centi = 3730 AND day = '" D0 "'"), 1);
    assert_string_equal(status(f, "S1"), "screened");
    /* A fever after the window's check: the check stays, the flag open that day
     * serves (one per person and day). */
    in = mcheck("S1", D0, "morning", 3900);
    assert_int_equal(ledger_manual_check(f->l, &in, &out, f->e), 0);
    assert_true(out.existed);
    assert_int_equal(out.temp_centi, 3650);
    assert_int_equal(out.flag_id, 0);
    assert_true(out.open_flag_id > 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM flags"), 1);
    /* A fever on another day is a new case: its own flag. */
    in = mcheck("S1", DM1, "morning", 3800);
    assert_int_equal(ledger_manual_check(f->l, &in, &out, f->e), 0);
    assert_true(out.flag_id > 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM flags"), 2);
    /* With no flag open that day, a fever after the check opens one. */
    sql(f, "UPDATE flags SET state = 'cleared'");
    in = mcheck("S1", D0, "morning", 3850);
    assert_int_equal(ledger_manual_check(f->l, &in, &out, f->e), 0);
    assert_true(out.existed);
    assert_true(out.flag_id > 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM flags WHERE state = 'open' AND screen_centi = "
                             "3850"), 1);
    assert_string_equal(errs(f), "");
}

static void test_manual_check_marks_arrival(void **state)
{
    struct fx *f = *state;
    struct manual_check_result out;
    student(f, "S1", "1班");
    student(f, "S2", "1班");
    sql(f, "INSERT INTO absences (person_id, day, cause, recorded_ms) VALUES "
           "(" PID("S1") ", '" D0 "', 'unknown', 0), (" PID("S1") ", '" DM1 "', 'illness', 0), "
           "(" PID("S2") ", '" D0 "', 'personal', 0)");
    /* A noon check is an arrival after the morning window: late. */
    struct manual_check in = mcheck("S1", D0, "noon", 3650);
    assert_int_equal(ledger_manual_check(f->l, &in, &out, f->e), 0);
    in.person = "S2";
    assert_int_equal(ledger_manual_check(f->l, &in, &out, f->e), 0);
    assert_string_equal(qtext(f, "SELECT cause || ' ' || late_ms FROM absences WHERE day = '" D0
                                 "' AND person_id = " PID("S1")), "late 1709517600000");
    assert_string_equal(qtext(f, "SELECT returned_day FROM absences WHERE day = '" DM1 "'"), D0);
    /* Other causes keep their cause and get the arrival time. */
    assert_string_equal(qtext(f, "SELECT cause FROM absences WHERE person_id = " PID("S2")),
                        "personal");
    assert_int_equal(qint(f, "SELECT late_ms FROM absences WHERE person_id = " PID("S2")), NOW);
}

/* Issue 14: a morning check recorded after the sweep (taken in the window, entered
 * later; or the clock was set back) withdraws the sweep's absence, 'unknown' or
 * 'late', with an audit row. An absence someone worked on (a cause, a follow-up)
 * stays as it is, and a morning check is no late arrival. */
static void test_manual_morning_check_withdraws_sweep_absence(void **state)
{
    struct fx *f = *state;
    struct manual_check_result out;
    static const char *const who[] = {"S1", "S2", "S3", "S4"};
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++)
        student(f, who[i], "1班");
    sql(f, "INSERT INTO absences (person_id, day, cause, recorded_ms, late_ms) VALUES "
           "(" PID("S1") ", '" D0 "', 'unknown', 0, NULL), "
           "(" PID("S2") ", '" D0 "', 'late', 0, 5), "
           "(" PID("S3") ", '" D0 "', 'personal', 0, NULL), "
           "(" PID("S4") ", '" D0 "', 'unknown', 0, NULL)");
    sql(f, "INSERT INTO absence_followups (absence_id, at_ms, by_user, note) SELECT id, 1, "
           "'nurse', 'called home' FROM absences WHERE person_id = " PID("S4"));
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) {
        struct manual_check in = mcheck(who[i], D0, "morning", 3650);
        assert_int_equal(ledger_manual_check(f->l, &in, &out, f->e), 0);
    }
    assert_string_equal(qtext(f, "SELECT group_concat(x, ', ') FROM (SELECT p.external_id || "
                                 "' ' || a.cause || ' ' || coalesce(a.late_ms, '-') AS x FROM "
                                 "absences a JOIN people p ON p.id = a.person_id ORDER BY x)"),
                        "S3 personal -, S4 unknown -");
    assert_string_equal(qtext(f, "SELECT group_concat(x, ', ') FROM (SELECT actor || ' ' || "
                                 "target AS x FROM audit_log WHERE action = 'absence withdrawn' "
                                 "ORDER BY id)"),
                        "teacher S1, teacher S2");
    assert_int_equal(qint(f, "SELECT count(*) FROM absence_followups"), 1);
}

static void test_manual_check_bad_input_changes_nothing(void **state)
{
    struct fx *f = *state;
    struct manual_check_result out;
    student(f, "S1", "1班");
    static const struct {
        const char *who, *day, *window, *instrument;
        int centi;
        const char *err;
    } rows[] = {
        {"S9", D0, "morning", "ear", 3650, "no one with id 'S9'"},
        {"S1", "2024-02-30", "morning", "ear", 3650, "is not a date"},
        {"S1", D0, "night", "ear", 3650, "window 'night' is not morning, noon or evening"},
        {"S1", D0, "morning", "gate", 3650, "instrument 'gate'"},
        {"S1", D0, "morning", "ear", 2000, "20.00 °C is not a body temperature"},
        {"S1", DP1, "morning", "ear", 3650, "is in the future"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *before = dump(f);
        struct manual_check in = mcheck(rows[i].who, rows[i].day, rows[i].window, rows[i].centi);
        in.instrument = rows[i].instrument;
        /* An unknown person is not found; every other row is a bad value. */
        assert_int_equal(ledger_manual_check(f->l, &in, &out, f->e),
                         i == 0 ? LEDGER_NOT_FOUND : LEDGER_INVALID);
        const char *e = errs(f);
        if (!strstr(e, rows[i].err))
            fail_msg("row %zu: '%s' lacks '%s'", i, e, rows[i].err);
        assert_unchanged(f, before);
    }
}

/* ---- rechecks and referrals ------------------------------------------------------- */

static void test_recheck_threshold_edges(void **state)
{
    struct fx *f = *state;
    static const struct {
        int centi;
        bool confirmed;
        const char *state, *status;
    } rows[] = {
        {3729, false, "cleared", "normal"},
        {3730, true, "confirmed", "isolated"},
        {3731, true, "confirmed", "isolated"},
        {3600, false, "cleared", "normal"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char who[8];
        snprintf(who, sizeof who, "S%zu", i);
        student(f, who, "");
        long long flag = gate_fever(f, who, D0, 3780);
        sql(f, "UPDATE people SET health_status = 'screened' WHERE external_id = '%s'", who);
        struct recheck_result out;
        assert_int_equal(recheck(f, who, rows[i].centi, &out), 0);
        assert_int_equal(out.confirmed, rows[i].confirmed);
        assert_int_equal(out.flag_id, flag);
        assert_int_equal(out.flags, 1);
        char want[64];
        snprintf(want, sizeof want, "%s %d ear nurse 1", rows[i].state, rows[i].centi);
        assert_string_equal(qtext(f, "SELECT state || ' ' || recheck_centi || ' ' || "
                                     "recheck_instrument || ' ' || recheck_by || ' ' || "
                                     "(recheck_ms = %lld) FROM flags WHERE id = %lld",
                                  (long long)NOW, flag), want);
        assert_string_equal(status(f, who), rows[i].status);
        long long refs = qint(f, "SELECT count(*) FROM referrals WHERE flag_id = %lld AND day = "
                                 "'" D0 "' AND outcome IS NULL AND opened_ms = %lld",
                              flag, (long long)NOW);
        assert_int_equal(refs, rows[i].confirmed);
        if (rows[i].confirmed) {
            assert_true(out.referral_id > 0);
            assert_string_equal(out.referral_day, D0);
            /* Both steps are in the history, in order. */
            assert_string_equal(qtext(f, "SELECT group_concat(status, ',') FROM (SELECT status "
                                         "FROM health_status_history WHERE person_id = (SELECT "
                                         "id FROM people WHERE external_id = '%s') ORDER BY id)",
                                      who), "confirmed,isolated");
        }
    }
    assert_int_equal(audits(f, "recheck", "nurse"), 4);
}

static void test_recheck_wrong_state_changes_nothing(void **state)
{
    struct fx *f = *state;
    struct recheck_result out;
    student(f, "S1", "1班");
    char *before = dump(f);
    assert_int_equal(recheck(f, "S1", 3800, &out), LEDGER_CONFLICT);
    assert_non_null(strstr(errs(f), "S1 has no open fever flag to recheck"));
    assert_unchanged(f, before);

    before = dump(f);
    assert_int_equal(recheck(f, "NOPE", 3800, &out), LEDGER_NOT_FOUND);
    assert_non_null(strstr(errs(f), "no one with id 'NOPE'"));
    assert_unchanged(f, before);

    gate_fever(f, "S1", D0, 3800);
    before = dump(f);
    struct recheck in = {.person = "S1", .temp_centi = 3800, .instrument = "gate",
                         .threshold_centi = 3730, .by = "nurse", .at_ms = NOW};
    assert_int_equal(ledger_recheck(f->l, &f->s, &in, &out, f->e), LEDGER_INVALID);
    assert_non_null(strstr(errs(f), "instrument 'gate'"));
    assert_unchanged(f, before);

    /* Cleared once: a second recheck has nothing to settle. */
    assert_int_equal(recheck(f, "S1", 3650, &out), 0);
    before = dump(f);
    assert_int_equal(recheck(f, "S1", 3800, &out), LEDGER_CONFLICT);
    assert_unchanged(f, before);
}

static void test_recheck_settles_every_open_flag(void **state)
{
    struct fx *f = *state;
    struct recheck_result out;
    student(f, "S1", "1班");
    long long old = gate_fever(f, "S1", DM1, 3760);
    long long latest = gate_fever(f, "S1", D0, 3790);
    assert_int_equal(recheck(f, "S1", 3800, &out), 0);
    assert_int_equal(out.flags, 2);
    assert_int_equal(out.flag_id, latest);
    assert_int_equal(qint(f, "SELECT count(*) FROM flags WHERE state = 'confirmed'"), 2);
    assert_int_equal(qint(f, "SELECT flag_id FROM referrals"), latest);
    assert_int_equal(qint(f, "SELECT count(*) FROM referrals WHERE flag_id = %lld", old), 0);
}

static void test_referral_outcomes(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *outcome, *status;
    } rows[] = {
        {"sent_home", "absent_ill"},
        {"hospital", "absent_ill"},
        {"returned_to_class", "normal"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char who[8];
        struct recheck_result out;
        int64_t id = 0;
        snprintf(who, sizeof who, "S%zu", i);
        student(f, who, "");
        gate_fever(f, who, D0, 3800);
        assert_int_equal(recheck(f, who, 3810, &out), 0);
        assert_int_equal(ledger_referral_outcome(f->l, who, rows[i].outcome, "called the family",
                                                 "nurse", NOW + 1000, &id, f->e), 0);
        assert_int_equal(id, out.referral_id);
        char want[64];
        snprintf(want, sizeof want, "%s/nurse/called the family", rows[i].outcome);
        assert_string_equal(qtext(f, "SELECT outcome || '/' || outcome_by || '/' || note FROM "
                                     "referrals WHERE id = %lld", (long long)id), want);
        assert_string_equal(status(f, who), rows[i].status);
        /* No referral waits any more: a second outcome is a wrong state. */
        char *before = dump(f);
        assert_int_equal(ledger_referral_outcome(f->l, who, rows[i].outcome, NULL, "nurse", NOW,
                                                 &id, f->e), LEDGER_CONFLICT);
        assert_non_null(strstr(errs(f), "has no referral waiting for an outcome"));
        assert_unchanged(f, before);
    }
    assert_int_equal(audits(f, "referral outcome", "nurse"), 3);
    char *before = dump(f);
    int64_t id;
    assert_int_equal(ledger_referral_outcome(f->l, "S0", "sent-home", NULL, "nurse", NOW, &id,
                                             f->e), LEDGER_INVALID);
    assert_non_null(strstr(errs(f), "outcome 'sent-home' is not"));
    assert_unchanged(f, before);
}

/* ---- absences, follow-ups, leave -------------------------------------------------- */

static void test_absence_cause(void **state)
{
    struct fx *f = *state;
    struct absence_result out;
    student(f, "S1", "1班");
    /* Registered ahead of the sweep (a parent phoned). */
    assert_int_equal(absence(f, "S1", D0, "illness", "cough, fever", &out), 0);
    assert_true(out.created);
    assert_string_equal(out.symptoms, "fever,cough");
    assert_string_equal(qtext(f, "SELECT cause || '/' || symptoms || '/' || recorded_by FROM "
                                 "absences"), "illness/fever,cough/nurse");
    assert_string_equal(status(f, "S1"), "absent_ill");
    int created, late;
    assert_int_equal(ledger_absence_sweep(f->l, D0, &f->w, NULL, NOW, &created, &late,
                                          f->e), 0);
    assert_int_equal(created, 0);

    /* Updating keeps what is not given, replaces what is. */
    struct absence_cause in = {.person = "S1", .day = D0, .cause = "illness", .onset_day = DM1,
                               .clinic = "yes", .diagnosis = "influenza", .note = "rest",
                               .by = "nurse2", .at_ms = NOW};
    assert_int_equal(ledger_absence_set_cause(f->l, &f->s, &in, &out, f->e), 0);
    assert_false(out.created);
    assert_string_equal(out.previous_cause, "illness");
    assert_string_equal(qtext(f, "SELECT symptoms || '/' || onset_day || '/' || clinic_visit || "
                                 "'/' || diagnosis || '/' || note || '/' || recorded_by FROM "
                                 "absences"), "fever,cough/" DM1 "/1/influenza/rest/nurse2");
    in = (struct absence_cause){.person = "S1", .day = D0, .cause = "illness", .clinic = "unknown",
                                .by = "nurse", .at_ms = NOW};
    assert_int_equal(ledger_absence_set_cause(f->l, &f->s, &in, &out, f->e), 0);
    assert_int_equal(qint(f, "SELECT clinic_visit IS NULL FROM absences"), 1);

    /* Corrected away from illness: normal again (nothing else holds the person). */
    assert_int_equal(absence(f, "S1", D0, "personal", NULL, &out), 0);
    assert_string_equal(out.previous_cause, "illness");
    assert_string_equal(status(f, "S1"), "normal");
    assert_int_equal(audits(f, "absence cause", "nurse"), 3);
}

static void test_absence_late_cannot_be_illness(void **state)
{
    struct fx *f = *state;
    struct absence_result out;
    student(f, "S1", "1班");
    sql(f, "INSERT INTO absences (person_id, day, cause, recorded_ms, late_ms) VALUES "
           "(" PID("S1") ", '" D0 "', 'late', 0, %lld)", (long long)at(D0, 9, 5));
    char *before = dump(f);
    assert_int_equal(absence(f, "S1", D0, "illness", "fever", &out), LEDGER_CONFLICT);
    assert_non_null(strstr(errs(f), "S1 came to school late on " D0
                                    ": a day at school cannot be an illness absence"));
    assert_unchanged(f, before);
    /* Late for a personal reason is fine. */
    assert_int_equal(absence(f, "S1", D0, "personal", NULL, &out), 0);
    assert_string_equal(qtext(f, "SELECT cause FROM absences"), "personal");
}

static void test_absence_bad_input_changes_nothing(void **state)
{
    struct fx *f = *state;
    struct absence_result out;
    student(f, "S1", "1班");
    static const struct {
        const char *who, *day, *cause, *symptoms, *onset, *clinic, *err;
    } rows[] = {
        {"S9", D0, "illness", NULL, NULL, NULL, "no one with id 'S9'"},
        {"S1", "04/03/2024", "illness", NULL, NULL, NULL, "date '04/03/2024' is not a date"},
        {"S1", D0, "late", NULL, NULL, NULL, "cause 'late' is not illness, personal or other"},
        {"S1", D0, "unknown", NULL, NULL, NULL, "cause 'unknown'"},
        {"S1", D0, "illness", "fever,flu", NULL, NULL, "symptom 'flu'"},
        {"S1", D0, "illness", NULL, DP1, NULL, "onset " DP1 " is after the absence day"},
        {"S1", D0, "illness", NULL, "yesterday", NULL, "onset date 'yesterday'"},
        {"S1", D0, "illness", NULL, NULL, "maybe", "clinic visit 'maybe'"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *before = dump(f);
        struct absence_cause in = {.person = rows[i].who, .day = rows[i].day,
                                   .cause = rows[i].cause, .symptoms = rows[i].symptoms,
                                   .onset_day = rows[i].onset, .clinic = rows[i].clinic,
                                   .by = "nurse", .at_ms = NOW};
        assert_int_equal(ledger_absence_set_cause(f->l, &f->s, &in, &out, f->e),
                         i == 0 ? LEDGER_NOT_FOUND : LEDGER_INVALID);
        const char *e = errs(f);
        if (!strstr(e, rows[i].err))
            fail_msg("row %zu: '%s' lacks '%s'", i, e, rows[i].err);
        assert_unchanged(f, before);
    }
}

static void test_followup_and_leave(void **state)
{
    struct fx *f = *state;
    struct absence_result out;
    student(f, "S1", "1班");
    char *before = dump(f);
    assert_int_equal(ledger_absence_followup(f->l, "S1", D0, "called", "nurse", NOW, f->e),
                     LEDGER_NOT_FOUND);
    assert_non_null(strstr(errs(f), "S1 has no absence on " D0 " to follow up"));
    assert_int_equal(ledger_absence_followup(f->l, "S1", D0, "", "nurse", NOW, f->e),
                     LEDGER_INVALID);
    assert_non_null(strstr(errs(f), "note is empty"));
    assert_unchanged(f, before);

    assert_int_equal(absence(f, "S1", D0, "other", NULL, &out), 0);
    assert_int_equal(ledger_absence_followup(f->l, "S1", D0, "called", "nurse", NOW, f->e), 0);
    assert_int_equal(ledger_absence_followup(f->l, "S1", D0, "again", "nurse", NOW, f->e), 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM absence_followups"), 2);
    assert_int_equal(audits(f, "absence follow-up", "nurse"), 2);

    before = dump(f);
    assert_int_equal(ledger_leave_add(f->l, "S1", D0, DM1, "trip", "teacher", NOW, f->e),
                     LEDGER_INVALID);
    assert_non_null(strstr(errs(f), "ends before it begins"));
    assert_int_equal(ledger_leave_add(f->l, "S1", "2024-13-01", D0, NULL, "teacher", NOW, f->e),
                     LEDGER_INVALID);
    assert_non_null(strstr(errs(f), "from date '2024-13-01'"));
    assert_int_equal(ledger_leave_add(f->l, "S7", D0, D0, NULL, "teacher", NOW, f->e),
                     LEDGER_NOT_FOUND);
    assert_non_null(strstr(errs(f), "no one with id 'S7'"));
    assert_unchanged(f, before);
    assert_int_equal(ledger_leave_add(f->l, "S1", D0, DP1, "trip", "teacher", NOW, f->e), 0);
    assert_int_equal(ledger_leave_add(f->l, "S1", DP1, DP1, NULL, "teacher", NOW, f->e), 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM leaves"), 2);
    assert_int_equal(audits(f, "leave", "teacher"), 2);
}

/* ---- the certificate contract ----------------------------------------------------- */

static void test_certificate_contract(void **state)
{
    struct fx *f = *state;
    /* Each row: what is in the ledger for one person, and whether they need a
     * certificate on D0. */
    static const struct {
        const char *absence_day, *absence_cause, *referral_outcome, *cert_day;
        bool needs;
    } rows[] = {
        {DM1, "illness", NULL, NULL, true},      /* ill yesterday, no certificate */
        {DM1, "illness", NULL, DM1, false},      /* certificate issued the same day */
        {DM1, "illness", NULL, D0, false},       /* ... or later */
        {DM1, "illness", NULL, DM2, true},       /* an older certificate does not cover it */
        {D0, "illness", NULL, NULL, true},       /* ill today */
        {DP1, "illness", NULL, NULL, false},     /* not yet (registered ahead) */
        {DM1, "personal", NULL, NULL, false},
        {DM1, "unknown", NULL, NULL, false},
        {NULL, NULL, "sent_home", NULL, true},
        {NULL, NULL, "hospital", NULL, true},
        {NULL, NULL, "hospital", D0, false},
        {NULL, NULL, "returned_to_class", NULL, false},
        {NULL, NULL, NULL, NULL, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char who[8];
        snprintf(who, sizeof who, "C%zu", i);
        student(f, who, "");
        if (rows[i].absence_day)
            sql(f, "INSERT INTO absences (person_id, day, cause, recorded_ms) SELECT id, '%s', "
                   "'%s', 0 FROM people WHERE external_id = '%s'",
                rows[i].absence_day, rows[i].absence_cause, who);
        if (rows[i].referral_outcome) {
            long long flag = gate_fever(f, who, DM1, 3800);
            sql(f, "UPDATE flags SET state = 'confirmed' WHERE id = %lld", flag);
            sql(f, "INSERT INTO referrals (flag_id, person_id, opened_ms, day, outcome) SELECT "
                   "id, person_id, 0, '" DM1 "', '%s' FROM flags WHERE id = %lld",
                rows[i].referral_outcome, flag);
        }
        if (rows[i].cert_day)
            sql(f, "INSERT INTO certificates (person_id, issuer, issued_day, checked_by, "
                   "recorded_ms) SELECT id, 'clinic', '%s', 'nurse', 0 FROM people WHERE "
                   "external_id = '%s'", rows[i].cert_day, who);
        bool needs = !rows[i].needs;
        assert_int_equal(ledger_needs_certificate(f->l, who, D0, &needs), 0);
        if (needs != rows[i].needs)
            fail_msg("row %zu: needs %d, expected %d", i, needs, rows[i].needs);
    }
}

static void test_certificate_add(void **state)
{
    struct fx *f = *state;
    struct absence_result ab;
    struct certificate_result out;
    student(f, "S1", "");
    assert_int_equal(absence(f, "S1", DM2, "illness", "fever", &ab), 0);
    assert_int_equal(absence(f, "S1", DM1, "illness", "fever", &ab), 0);
    assert_string_equal(status(f, "S1"), "absent_ill");

    /* Issued before the last illness day: recorded, but the person still needs one. */
    assert_int_equal(ledger_certificate_add(f->l, "S1", "clinic", DM2, "nurse", NOW, &out, f->e),
                     0);
    assert_true(out.was_needed);
    assert_true(out.still_needed);
    assert_string_equal(out.absence_day, DM2);
    assert_string_equal(status(f, "S1"), "absent_ill");

    assert_int_equal(ledger_certificate_add(f->l, "S1", "县医院", D0, "nurse", NOW, &out, f->e), 0);
    assert_true(out.was_needed);
    assert_false(out.still_needed);
    assert_string_equal(out.absence_day, DM1);
    assert_int_equal(qint(f, "SELECT absence_id FROM certificates WHERE issuer = '县医院'"),
                     qint(f, "SELECT id FROM absences WHERE day = '" DM1 "'"));
    assert_string_equal(status(f, "S1"), "returned");
    bool needs = true;
    assert_int_equal(ledger_needs_certificate(f->l, "S1", D0, &needs), 0);
    assert_false(needs);

    /* Brought early: nothing needed, kept anyway, not linked. */
    student(f, "S2", "");
    assert_int_equal(ledger_certificate_add(f->l, "S2", "clinic", D0, "nurse", NOW, &out, f->e),
                     0);
    assert_false(out.was_needed);
    assert_int_equal(out.absence_id, 0);
    assert_int_equal(qint(f, "SELECT absence_id IS NULL FROM certificates WHERE person_id = "
                             PID("S2")), 1);
    assert_int_equal(audits(f, "certificate", "nurse"), 3);

    char *before = dump(f);
    assert_int_equal(ledger_certificate_add(f->l, "S2", "clinic", DP1, "nurse", NOW, &out, f->e),
                     LEDGER_INVALID);
    assert_non_null(strstr(errs(f), "is in the future"));
    assert_int_equal(ledger_certificate_add(f->l, "S2", "", D0, "nurse", NOW, &out, f->e),
                     LEDGER_INVALID);
    assert_non_null(strstr(errs(f), "issuer is empty"));
    assert_int_equal(ledger_certificate_add(f->l, "S9", "x", D0, "nurse", NOW, &out, f->e),
                     LEDGER_NOT_FOUND);
    assert_non_null(strstr(errs(f), "no one with id 'S9'"));
    assert_unchanged(f, before);
}

static void test_open_case(void **state)
{
    struct fx *f = *state;
    struct recheck_result out;
    int64_t id;
    bool open = true;
    student(f, "S1", "");
    assert_int_equal(ledger_open_case(f->l, "S1", &open), 0);
    assert_false(open);
    gate_fever(f, "S1", D0, 3800);
    assert_int_equal(ledger_open_case(f->l, "S1", &open), 0);
    assert_true(open); /* open flag */
    assert_int_equal(recheck(f, "S1", 3800, &out), 0);
    assert_int_equal(ledger_open_case(f->l, "S1", &open), 0);
    assert_true(open); /* referral without outcome */
    assert_int_equal(ledger_referral_outcome(f->l, "S1", "sent_home", NULL, "nurse", NOW, &id,
                                             f->e), 0);
    assert_int_equal(ledger_open_case(f->l, "S1", &open), 0);
    assert_false(open);
    assert_int_equal(ledger_needs_certificate(f->l, "S1", D0, &open), 0);
    assert_true(open);
}

/* ---- statement helpers ------------------------------------------------------------ */

/* One type letter per parameter, or nothing is bound or run: the varargs cannot
 * be counted, so a wrong string would otherwise bind garbage or leave a NULL. */
static void test_bind_count_checked(void **state)
{
    struct fx *f = *state;
    student(f, "S1", "");
    static const char upd[] = "UPDATE people SET name = ?1 WHERE external_id = ?2";
    assert_int_equal(lh_run(f->l, NULL, upd, "t", "Short"), -1);
    assert_int_equal(lh_run(f->l, NULL, upd, "ttt", "Long", "S1", "x"), -1);
    assert_int_equal(lh_run(f->l, NULL, "UPDATE people SET name = 'x'", "t", "S1"), -1);
    assert_string_equal(qtext(f, "SELECT name FROM people WHERE external_id = 'S1'"), "学生S1");
    int changes = 0;
    assert_int_equal(lh_run(f->l, &changes, upd, "tt", "Right", "S1"), 0);
    assert_int_equal(changes, 1);
    /* A parameter used twice counts once. */
    int64_t v = 0;
    assert_int_equal(lh_query_i64(f->l, &v, "SELECT ?1 + ?1", "d", 21), 1);
    assert_int_equal(v, 42);
    assert_int_equal(lh_query_i64(f->l, &v, "SELECT ?1 + ?2", "d", 21), -1);
}

/* ---- absence sweep ---------------------------------------------------------------- */

static void test_absence_sweep(void **state)
{
    struct fx *f = *state;
    student(f, "CHECKED", "1班");
    student(f, "LEAVE", "1班");
    student(f, "READ", "1班");
    student(f, "NOTHING", "1班");
    student(f, "NOON", "1班");
    student(f, "HAS_ABS", "1班");
    student(f, "OLDLEAVE", "1班");
    student(f, "EARLY", "1班");
    student(f, "INWIN", "1班");
    person(f, "GONE", "student", "1班", 0);
    person(f, "T1", "teacher", "", 1);
    person(f, "W1", "staff", "", 1);
    gate_check(f, "CHECKED", D0, "morning", reading(f, "CHECKED", D0, at(D0, 7, 10), 3650,
                                                    "valid", "admit"));
    sql(f, "INSERT INTO leaves (person_id, from_day, to_day, at_ms) VALUES "
           "(" PID("LEAVE") ", '" DM1 "', '" DP1 "', 0), (" PID("OLDLEAVE") ", '" DM2 "', '" DM1
           "', 0)");
    /* Came, but the readings were not checks (invalid, then late after the window). */
    reading(f, "READ", D0, at(D0, 9, 40), 3650, "valid", "admit");
    reading(f, "READ", D0, at(D0, 8, 45), 0, "fault", "invalid");
    reading(f, NULL, D0, at(D0, 7, 0), 3650, "valid", "unknown_card");
    /* Came before the window closed without a check: present, not absent. */
    reading(f, "EARLY", D0, at(D0, 6, 40), 3650, "valid", "admit");
    reading(f, "INWIN", D0, at(D0, 8, 29), 3100, "out_of_range", "invalid");
    reading(f, "NOTHING", DM1, at(DM1, 7, 0), 3650, "valid", "admit"); /* another day */
    gate_check(f, "NOON", D0, "noon", reading(f, "NOON", D0, at(D0, 12, 0), 3650, "valid",
                                              "admit"));
    sql(f, "INSERT INTO absences (person_id, day, cause, recorded_ms) VALUES "
           "(" PID("HAS_ABS") ", '" D0 "', 'illness', 0)");

    int created, late;
    assert_int_equal(ledger_absence_sweep(f->l, D0, &f->w, NULL, NOW, &created, &late,
                                          f->e), 0);
    assert_int_equal(created, 4);
    assert_int_equal(late, 2);
    char want[160];
    snprintf(want, sizeof want, "NOON:late:%lld NOTHING:unknown:- OLDLEAVE:unknown:- "
             "READ:late:%lld", (long long)at(D0, 12, 0), (long long)at(D0, 8, 45));
    assert_string_equal(qtext(f, "SELECT group_concat(x, ' ') FROM (SELECT p.external_id || ':' "
                                 "|| a.cause || ':' || coalesce(a.late_ms, '-') AS x FROM "
                                 "absences a JOIN people p ON p.id = a.person_id WHERE "
                                 "a.recorded_by = 'gatescreend' ORDER BY p.external_id)"), want);
    assert_string_equal(qtext(f, "SELECT cause FROM absences WHERE person_id = " PID("HAS_ABS")),
                        "illness");
    assert_int_equal(audits(f, "absence sweep", "gatescreend"), 1);
    assert_string_equal(qtext(f, "SELECT target || ': ' || detail FROM audit_log"),
                        D0 ": 4 absences: 2 late, 2 without a cause yet");

    /* Idempotent: nothing new, not even an audit row. */
    char *before = dump(f);
    assert_int_equal(ledger_absence_sweep(f->l, D0, &f->w, NULL, NOW, &created, &late,
                                          f->e), 0);
    assert_int_equal(created, 0);
    assert_unchanged(f, before);

    /* Teachers too when the kinds say so; inactive people never. */
    f->w.absence_kinds = CFG_KIND_STUDENT | CFG_KIND_TEACHER;
    assert_int_equal(ledger_absence_sweep(f->l, D0, &f->w, "admin", NOW, &created, &late, f->e),
                     0);
    f->w.absence_kinds = CFG_KIND_STUDENT;
    assert_int_equal(created, 1);
    assert_int_equal(qint(f, "SELECT count(*) FROM absences WHERE person_id = " PID("T1")), 1);
    assert_int_equal(qint(f, "SELECT count(*) FROM absences WHERE person_id IN (" PID("W1") ", "
                             PID("GONE") ")"), 0);
    assert_int_equal(audits(f, "absence sweep", "admin"), 1);

    /* Not before the window and its grace are over: people are still arriving. */
    before = dump(f);
    f->w.absence_grace_ms = 2 * 3600 * 1000; /* 08:30 + 2 h is after NOW (10:00) */
    assert_int_equal(ledger_absence_sweep(f->l, DM1, &f->w, NULL, at(DM1, 10, 29), &created,
                                          &late, f->e), -1);
    assert_non_null(strstr(errs(f), "runs after the morning window and its grace"));
    assert_unchanged(f, before);
    f->w.absence_grace_ms = 0;

    before = dump(f);
    assert_int_equal(ledger_absence_sweep(f->l, DP1, &f->w, NULL, NOW, &created, &late,
                                          f->e), -1);
    assert_non_null(strstr(errs(f), "is in the future"));
    assert_unchanged(f, before);
}

/* ---- cluster alerts --------------------------------------------------------------- */

static void class_of(struct fx *f, const char *prefix, int n, const char *cls)
{
    for (int i = 0; i < n; i++) {
        char who[16];
        snprintf(who, sizeof who, "%s%d", prefix, i);
        student(f, who, cls);
    }
}

static void ill(struct fx *f, const char *prefix, int i, const char *day,
                struct absence_result *out)
{
    char who[16];
    snprintf(who, sizeof who, "%s%d", prefix, i);
    assert_int_equal(absence(f, who, day, "illness", "fever", out), 0);
}

/* Causes are traced days later: a case recorded for an earlier day also counts in
 * the three-day windows that end after it (review finding). */
static void test_cluster_case_recorded_late(void **state)
{
    struct fx *f = *state;
    struct absence_result out;
    class_of(f, "L", 5, "5班");
    ill(f, "L", 0, DM1, &out);
    ill(f, "L", 1, DM1, &out);
    ill(f, "L", 2, D0, &out);
    ill(f, "L", 3, D0, &out);
    assert_int_equal(out.alerts.count, 0);
    ill(f, "L", 4, DM2, &out); /* DM2..D0 now holds 5 people */
    assert_int_equal(out.alerts.count, 1);
    assert_string_equal(qtext(f, "SELECT rule || ' ' || day || ' ' || cases FROM alerts"),
                        "three_days " D0 " 5");
}

static void test_cluster_day_rule(void **state)
{
    struct fx *f = *state;
    struct absence_result out;
    struct recheck_result rr;
    class_of(f, "A", 6, "1班");
    class_of(f, "B", 2, "2班");
    student(f, "NOCLASS0", "");
    student(f, "NOCLASS1", "");
    student(f, "NOCLASS2", "");
    ill(f, "A", 0, D0, &out);
    /* One person counts once, whatever their cases. */
    sql(f, "INSERT INTO absences (person_id, day, cause, recorded_ms) VALUES "
           "(" PID("A1") ", '" D0 "', 'illness', 0)");
    gate_fever(f, "A0", D0, 3800);
    assert_int_equal(recheck(f, "A0", 3800, &rr), 0);
    assert_int_equal(rr.alerts.count, 0);
    ill(f, "B", 0, D0, &out); /* another class */
    ill(f, "B", 1, D0, &out);
    for (int i = 0; i < 3; i++)
        ill(f, "NOCLASS", i, D0, &out);
    assert_int_equal(qint(f, "SELECT count(*) FROM alerts"), 0);

    /* Two illness people in 1班 (A0 fever + absence, A1 absence, counted when A1's row
     * is evaluated): the third one opens the alert, exactly at the threshold. */
    gate_fever(f, "A2", D0, 3800);
    assert_int_equal(recheck(f, "A2", 3750, &rr), 0);
    assert_int_equal(rr.alerts.count, 1);
    int64_t id = rr.alerts.id[0];
    assert_string_equal(qtext(f, "SELECT class || '/' || rule || '/' || day || '/' || cases FROM "
                                 "alerts WHERE id = %lld", (long long)id), "1班/day/" D0 "/3");
    assert_int_equal(qint(f, "SELECT count(*) FROM alert_cases WHERE alert_id = %lld",
                          (long long)id), 4); /* A0 twice (fever and absence), A1, A2 */
    assert_int_equal(audits(f, "alert open", "nurse"), 1);

    /* Once only: a later case joins it. */
    ill(f, "A", 3, D0, &out);
    assert_int_equal(out.alerts.count, 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM alerts"), 1);
    assert_int_equal(qint(f, "SELECT cases FROM alerts"), 4);
    assert_int_equal(qint(f, "SELECT count(*) FROM alert_cases WHERE person_id = " PID("A3")), 1);
}

/* Cases spread over days (under the day rule's threshold each day) for the 3-day rule. */
static void test_cluster_three_day_rule(void **state)
{
    struct fx *f = *state;
    struct absence_result out;
    class_of(f, "A", 12, "1班");
    ill(f, "A", 0, DM3, &out); /* outside D0-2..D0 */
    ill(f, "A", 1, DM2, &out);
    ill(f, "A", 2, DM2, &out);
    ill(f, "A", 3, DM1, &out);
    ill(f, "A", 4, D0, &out); /* 4 people over DM2..D0: one below */
    assert_int_equal(qint(f, "SELECT count(*) FROM alerts"), 0);
    ill(f, "A", 5, D0, &out); /* 5: exactly at the threshold */
    assert_int_equal(out.alerts.count, 1);
    assert_string_equal(qtext(f, "SELECT rule || '/' || day || '/' || cases FROM alerts"),
                        "three_days/" D0 "/5");
    assert_int_equal(qint(f, "SELECT count(*) FROM alert_cases WHERE person_id = " PID("A0")), 0);

    /* The next day still falls in a span that has its alert: none opens, the case joins. */
    ill(f, "A", 6, DP1, &out);
    ill(f, "A", 7, DP1, &out);
    assert_int_equal(out.alerts.count, 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM alerts"), 1);
    assert_int_equal(qint(f, "SELECT cases FROM alerts"), 7);
    /* The third case on DP1 opens the day rule's alert, not another 3-day one. */
    ill(f, "A", 8, DP1, &out);
    assert_int_equal(out.alerts.count, 1);
    assert_string_equal(qtext(f, "SELECT rule || '/' || day || '/' || cases FROM alerts WHERE "
                                 "id = %lld", (long long)out.alerts.id[0]), "day/" DP1 "/3");

    /* Three days on, the old alert is out of the span: a new one may open. */
    ill(f, "A", 9, "2024-03-07", &out); /* 03-05..07: A6, A7, A8, A9 */
    assert_int_equal(qint(f, "SELECT count(*) FROM alerts WHERE rule = 'three_days'"), 1);
    ill(f, "A", 10, "2024-03-07", &out); /* ... and A10: 5 */
    assert_int_equal(out.alerts.count, 1);
    assert_string_equal(qtext(f, "SELECT rule || '/' || day || '/' || cases FROM alerts WHERE "
                                 "id = %lld", (long long)out.alerts.id[0]),
                        "three_days/2024-03-07/5");
}

static void test_cluster_day_rule_one_below(void **state)
{
    struct fx *f = *state;
    struct absence_result out;
    f->s.cluster_day_cases = 4;
    f->s.cluster_3day_cases = 6;
    class_of(f, "A", 5, "1班");
    for (int i = 0; i < 3; i++)
        ill(f, "A", i, D0, &out);
    assert_int_equal(qint(f, "SELECT count(*) FROM alerts"), 0); /* 3 of 4 */
    ill(f, "A", 3, D0, &out);
    assert_int_equal(out.alerts.count, 1);
    assert_string_equal(qtext(f, "SELECT rule FROM alerts"), "day");
    /* The public entry point finds nothing new to open. */
    struct opened_alerts o;
    assert_int_equal(ledger_cluster_evaluate(f->l, &f->s, "1班", D0, "gatescreend", NOW, &o), 0);
    assert_int_equal(o.count, 0);
}

/* A writer that holds the lock past the busy timeout makes a nurse's action BUSY
 * (nothing written, the caller may try again), not a database failure. */
static void test_locked_ledger_is_busy(void **state)
{
    struct fx *f = *state;
    struct manual_check_result out;
    student(f, "S1", "1班");
    struct ledger_opts o = {.busy_timeout_ms = 50};
    struct ledger *l2;
    assert_int_equal(ledger_open(f->path, &o, &l2), 0);
    sql(f, "BEGIN IMMEDIATE");
    struct manual_check in = mcheck("S1", D0, "morning", 3650);
    assert_int_equal(ledger_manual_check(l2, &in, &out, f->e), LEDGER_BUSY);
    assert_string_equal(errs(f), "");
    sql(f, "ROLLBACK");
    assert_int_equal(ledger_manual_check(l2, &in, &out, f->e), LEDGER_OK);
    ledger_close(l2);
    assert_int_equal(ledger_status_of_sqlite(SQLITE_BUSY_SNAPSHOT), LEDGER_BUSY);
    assert_int_equal(ledger_status_of_sqlite(SQLITE_LOCKED), LEDGER_BUSY);
    assert_int_equal(ledger_status_of_sqlite(SQLITE_CONSTRAINT_UNIQUE), LEDGER_CONFLICT);
    assert_int_equal(ledger_status_of_sqlite(SQLITE_IOERR_WRITE), LEDGER_IO);
}

static void test_alert_close(void **state)
{
    struct fx *f = *state;
    struct absence_result out;
    class_of(f, "A", 3, "1班");
    for (int i = 0; i < 3; i++)
        ill(f, "A", i, D0, &out);
    int64_t id = out.alerts.id[0];
    assert_int_equal(ledger_alert_close(f->l, id, "nurse", NOW, f->e), 0);
    assert_string_equal(qtext(f, "SELECT closed_by FROM alerts"), "nurse");
    assert_int_equal(audits(f, "alert close", "nurse"), 1);
    char *before = dump(f);
    assert_int_equal(ledger_alert_close(f->l, id, "nurse", NOW, f->e), LEDGER_CONFLICT);
    assert_non_null(strstr(errs(f), "is already closed (by nurse)"));
    assert_int_equal(ledger_alert_close(f->l, 99, "nurse", NOW, f->e), LEDGER_NOT_FOUND);
    assert_non_null(strstr(errs(f), "no cluster alert 99"));
    assert_unchanged(f, before);
}

/* ---- day figures and purge -------------------------------------------------------- */

/* A small school day with something in every figure. */
static void school_day(struct fx *f)
{
    struct recheck_result rr;
    struct absence_result ab;
    struct certificate_result cr;
    int64_t id;
    int created, late;
    class_of(f, "A", 6, "1班");
    person(f, "T1", "teacher", "1班", 1);
    person(f, "W1", "staff", "", 1);
    person(f, "GONE", "student", "1班", 0);
    student(f, "LV", "1班");
    sql(f, "INSERT INTO leaves (person_id, from_day, to_day, at_ms) VALUES (" PID("LV") ", '" D0
           "', '" D0 "', 0)");
    for (int i = 0; i < 3; i++) { /* A0..A2 admitted at the gate */
        char who[8];
        snprintf(who, sizeof who, "A%d", i);
        gate_check(f, who, D0, "morning", reading(f, who, D0, at(D0, 7, 10 + i), 3650, "valid",
                                                  "admit"));
    }
    gate_check(f, "T1", D0, "morning", reading(f, "T1", D0, at(D0, 7, 5), 3640, "valid", "admit"));
    reading(f, "A3", D0, at(D0, 7, 20), 0, "fault", "invalid");
    reading(f, NULL, D0, at(D0, 7, 21), 3600, "out_of_range", "invalid");
    reading(f, NULL, D0, at(D0, 7, 22), 3650, "valid", "unknown_card");
    reading(f, "A4", D0, at(D0, 9, 23), 0, "no_measurement", "no_measurement"); /* late */
    gate_fever(f, "A3", D0, 3790);   /* -> confirmed, sent home */
    gate_fever(f, "A0", D0, 3760);   /* the flag is on A0's first reading's day */
    assert_int_equal(recheck(f, "A3", 3800, &rr), 0);
    assert_int_equal(ledger_referral_outcome(f->l, "A3", "sent_home", NULL, "nurse", NOW, &id,
                                             f->e), 0);
    assert_int_equal(recheck(f, "A0", 3650, &rr), 0); /* cleared */
    gate_fever(f, "A1", D0, 3740); /* still open */
    assert_int_equal(ledger_absence_sweep(f->l, D0, &f->w, NULL, NOW, &created, &late,
                                          f->e), 0);
    assert_int_equal(absence(f, "A5", D0, "illness", "cough,rash", &ab), 0);
    /* A returns after an illness absence yesterday, with a certificate. */
    student(f, "R1", "2班");
    sql(f, "INSERT INTO absences (person_id, day, cause, recorded_ms, returned_day) VALUES "
           "(" PID("R1") ", '" DM1 "', 'illness', 0, '" D0 "')");
    gate_check(f, "R1", D0, "noon", reading(f, "R1", D0, at(D0, 12, 0), 3650, "valid", "admit"));
    assert_int_equal(ledger_certificate_add(f->l, "R1", "clinic", DM1, "nurse", NOW, &cr, f->e), 0);
}

static void test_day_figures(void **state)
{
    struct fx *f = *state;
    school_day(f);
    struct day_figures d;
    assert_int_equal(ledger_day_figures(f->l, D0, &f->w, &d), 0);
    static const struct {
        enum day_figure fig;
        int value;
    } want[] = {
        {FIG_POP_STUDENT, 8}, {FIG_POP_TEACHER, 1}, {FIG_POP_STAFF, 1}, {FIG_POP_TOTAL, 10},
        {FIG_EXPECTED, 7},    /* 8 active students, LV on leave */
        {FIG_ON_LEAVE, 1},
        {FIG_MORNING_DONE, 4}, /* A0, A1, A2 admitted; A3's fever screen */
        {FIG_MORNING_ALL, 5},  /* ... and T1 (not expected); one check per window */
        {FIG_MORNING_COVERAGE, 571},
        {FIG_NOON_DONE, 1}, {FIG_NOON_ALL, 1}, {FIG_NOON_COVERAGE, 142},
        {FIG_READINGS, 12}, {FIG_READINGS_VALID, 9}, {FIG_READINGS_INVALID, 2},
        {FIG_READINGS_NO_MEASUREMENT, 1},
        {FIG_OUT_ADMIT, 5}, {FIG_OUT_FEVER, 3}, {FIG_OUT_INVALID, 2}, {FIG_OUT_UNKNOWN_CARD, 1},
        {FIG_OUT_NO_IDENTITY, 0}, {FIG_OUT_SEE_NURSE, 0}, {FIG_OUT_NO_MEASUREMENT, 1},
        {FIG_SCREENS, 3}, {FIG_CONFIRMED, 1}, {FIG_CLEARED, 1}, {FIG_SCREENS_OPEN, 1},
        {FIG_REFERRALS, 1}, {FIG_REF_SENT_HOME, 1}, {FIG_REF_HOSPITAL, 0}, {FIG_REF_RETURNED, 0},
        {FIG_REF_PENDING, 0},
        {FIG_ABSENCES, 2}, {FIG_ABS_UNKNOWN, 0}, {FIG_ABS_ILLNESS, 1}, {FIG_ABS_PERSONAL, 0},
        {FIG_ABS_OTHER, 0}, {FIG_ABS_LATE, 1},
        {FIG_SYM_FEVER, 0}, {FIG_SYM_COUGH, 1}, {FIG_SYM_RASH, 1}, {FIG_SYM_OTHER, 0},
        {FIG_RETURNS_AFTER_ILLNESS, 1}, {FIG_CERTIFICATES, 1},
        {FIG_ALERTS_OPENED, 0}, {FIG_ALERTS_OPEN, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (d.v[want[i].fig] != want[i].value)
            fail_msg("%s = %d, expected %d", day_figure_name(want[i].fig), d.v[want[i].fig],
                     want[i].value);

    struct day_figures back;
    int found = 0;
    assert_int_equal(ledger_load_day_figures(f->l, D0, &back, &found), 0);
    assert_int_equal(found, 0);
    assert_int_equal(ledger_store_day_figures(f->l, &d), 0);
    assert_int_equal(ledger_store_day_figures(f->l, &d), 0); /* replaces, no duplicates */
    assert_int_equal(qint(f, "SELECT count(*) FROM day_figures"), FIG_COUNT);
    assert_int_equal(ledger_load_day_figures(f->l, D0, &back, &found), 0);
    assert_int_equal(found, FIG_COUNT);
    assert_memory_equal(back.v, d.v, sizeof d.v);
    assert_string_equal(day_figure_name(FIG_SYM_SORE_THROAT), "symptoms.sore_throat");
}

static void test_purge_keeps_figures(void **state)
{
    struct fx *f = *state;
    school_day(f);
    /* A later day with one reading of its own, which the purge must keep. */
    long long keep = reading(f, "A0", DP1, at(DP1, 7, 30), 3650, "valid", "admit");
    struct day_figures before;
    assert_int_equal(ledger_day_figures(f->l, D0, &f->w, &before), 0);
    long long checks = qint(f, "SELECT count(*) FROM checks");
    long long flags = qint(f, "SELECT count(*) FROM flags");

    int deleted, days;
    /* The cut is in the middle of DP1: only whole days before it go. */
    assert_int_equal(ledger_purge(f->l, &f->w, at(DP1, 10, 0), NULL, &deleted, &days), 0);
    assert_int_equal(deleted, 12);
    assert_int_equal(days, 1);
    assert_int_equal(qint(f, "SELECT count(*) FROM readings"), 1);
    assert_int_equal(qint(f, "SELECT id FROM readings"), keep);
    assert_int_equal(qint(f, "SELECT count(*) FROM checks"), checks);
    assert_int_equal(qint(f, "SELECT count(*) FROM flags"), flags);
    assert_int_equal(qint(f, "SELECT count(*) FROM checks WHERE reading_id IS NOT NULL"), 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM flags WHERE reading_id IS NOT NULL"), 0);
    assert_int_equal(audits(f, "purge", "gatescreend"), 1);

    struct day_figures kept;
    int found;
    assert_int_equal(ledger_load_day_figures(f->l, D0, &kept, &found), 0);
    assert_int_equal(found, FIG_COUNT);
    assert_memory_equal(kept.v, before.v, sizeof before.v);
    assert_int_equal(kept.v[FIG_READINGS], 12);

    /* Figures stored at the end of a day are not recomputed by the purge (the
     * roster and "open now" have changed since). */
    sql(f, "INSERT INTO readings (at_ms, person_id, quality, threshold_centi, outcome, day) "
           "VALUES (" "0, NULL, 'no_measurement', 3730, 'no_measurement', '" DM3 "')");
    sql(f, "INSERT INTO day_figures (day, name, value) VALUES ('" DM3 "', 'expected', 99)");
    assert_int_equal(ledger_purge(f->l, &f->w, at(DP1, 10, 0), NULL, &deleted, &days), 0);
    assert_int_equal(deleted, 1);
    assert_int_equal(qint(f, "SELECT value FROM day_figures WHERE day = '" DM3 "' AND name = "
                             "'expected'"), 99);

    /* Again: nothing left to purge; the stored figures stay as they were. */
    char *snap = dump(f);
    assert_int_equal(ledger_purge(f->l, &f->w, at(DP1, 10, 0), NULL, &deleted, &days), 0);
    assert_int_equal(deleted, 0);
    assert_int_equal(days, 0);
    assert_unchanged(f, snap);
}

int main(void)
{
    log_init("test_ledger_health", LOG_LVL_ERR, LOG_OUT_PLAIN);
    if (zone_set("Asia/Shanghai") < 0)
        return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_symptoms_normalise),
        T(test_manual_check),
        T(test_manual_check_marks_arrival),
        T(test_manual_morning_check_withdraws_sweep_absence),
        T(test_manual_check_bad_input_changes_nothing),
        T(test_recheck_threshold_edges),
        T(test_recheck_wrong_state_changes_nothing),
        T(test_recheck_settles_every_open_flag),
        T(test_referral_outcomes),
        T(test_cluster_case_recorded_late),
        T(test_absence_cause),
        T(test_absence_late_cannot_be_illness),
        T(test_absence_bad_input_changes_nothing),
        T(test_followup_and_leave),
        T(test_locked_ledger_is_busy),
        T(test_certificate_contract),
        T(test_certificate_add),
        T(test_open_case),
        T(test_bind_count_checked),
        T(test_absence_sweep),
        T(test_cluster_day_rule),
        T(test_cluster_three_day_rule),
        T(test_cluster_day_rule_one_below),
        T(test_alert_close),
        T(test_day_figures),
        T(test_purge_keeps_figures),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
