/* The school calendar in the ledger (issue 19) on a real SQLite ledger: closed days
 * (close a day or a range, reopen, refusals, the sweep's absences cleared, audit),
 * who is expected on a closed day or a holiday and by a grade's staged return, the
 * sweep of one arrival slot and the slots' counts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "ledger_calendar.h"
#include "ledger_fixture.h"
#include "ledger_health.h"
#include "ledger_slots.h"
#include "zone.h"

#define D0 "2024-03-04" /* a Monday */
#define D1 "2024-03-05"
#define NOW at(D0, 10, 0)

static int setup(void **state)
{
    struct fx *f = fx_new("calendar");
    if (!f)
        return -1;
    f->w = (struct cfg_windows){.morning_start = 7 * 60, .morning_end = 8 * 60 + 30,
                                .absence_grace_ms = 30 * 60000,
                                .absence_kinds = CFG_KIND_STUDENT, .school_days = 0x3E};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    return fx_free(*state);
}

/* A pupil of a grade and class. */
static void pupil(struct fx *f, const char *id, const char *grade, const char *cls)
{
    sql(f, "INSERT INTO people (external_id, kind, name, grade, class, active, created_ms, "
           "updated_ms) VALUES ('%s', 'student', '学生%s', '%s', '%s', 1, 0, 0)",
        id, id, grade, cls);
}

static int sweep(struct fx *f, const char *day, int64_t now)
{
    int created = 0, late = 0;
    assert_int_equal(ledger_absence_sweep(f->l, day, &f->w, NULL, now, &created, &late, f->e),
                     0);
    return created;
}

static void test_close_and_reopen(void **state)
{
    struct fx *f = *state;
    int closed = 0, cleared = 0;
    bool sweep_done = true;
    char reason[64];
    pupil(f, "A1", "一年级", "一年级1班");
    pupil(f, "A2", "一年级", "一年级1班");
    assert_int_equal(sweep(f, D0, NOW), 2);
    /* A follow-up makes A2's absence someone's record: it stays. */
    sql(f, "INSERT INTO absence_followups (absence_id, note, by_user, at_ms) SELECT id, "
           "'called home', 'nurse', 1 FROM absences WHERE person_id = " PID("A2"));
    assert_int_equal(ledger_close_days(f->l, D0, D1, "暴雨红色预警", "admin", NOW, &closed,
                                       &cleared, f->e), LEDGER_OK);
    assert_int_equal(closed, 2);
    assert_int_equal(cleared, 1);
    assert_int_equal(qint(f, "SELECT count(*) FROM absences WHERE day = '" D0 "'"), 1);
    assert_int_equal(ledger_day_closed(f->l, D1, reason, sizeof reason), 1);
    assert_string_equal(reason, "暴雨红色预警");
    assert_int_equal(ledger_day_expects_nobody(f->l, &f->w, D0), 1);
    /* Again: nothing new, the first reason stays. */
    assert_int_equal(ledger_close_days(f->l, D0, NULL, "另一个原因", "admin", NOW, &closed,
                                       &cleared, f->e), LEDGER_OK);
    assert_int_equal(closed, 0);
    assert_string_equal(qtext(f, "SELECT reason FROM closed_days WHERE day = '" D0 "'"),
                        "暴雨红色预警");
    /* Nobody expected on it; the sweep makes nobody absent. */
    struct day_figures fig;
    assert_int_equal(ledger_day_figures(f->l, D0, &f->w, &fig), 0);
    assert_int_equal(fig.v[FIG_EXPECTED], 0);
    assert_int_equal(fig.v[FIG_POP_STUDENT], 2);
    sql(f, "DELETE FROM absences");
    assert_int_equal(sweep(f, D0, NOW), 0);
    assert_non_null(strstr(errs(f), "the school is closed (暴雨红色预警)"));
    assert_int_equal(ledger_reopen_day(f->l, D0, "admin", NOW, &sweep_done, f->e), LEDGER_OK);
    assert_false(sweep_done);
    assert_int_equal(ledger_day_closed(f->l, D0, NULL, 0), 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM audit_log WHERE action IN ('day close', "
                             "'day reopen')"), 3);
}

static void test_refusals(void **state)
{
    struct fx *f = *state;
    int closed = 0, cleared = 0;
    bool done = false;
    char long_reason[700];
    memset(long_reason, 'x', 201);
    long_reason[201] = '\0';
    assert_int_equal(ledger_close_days(f->l, "2024-02-30", NULL, "x", "a", NOW, &closed,
                                       &cleared, f->e), LEDGER_INVALID);
    assert_int_equal(ledger_close_days(f->l, D1, D0, "x", "a", NOW, &closed, &cleared, f->e),
                     LEDGER_INVALID);
    assert_int_equal(ledger_close_days(f->l, "2024-01-01", "2025-01-02", "x", "a", NOW,
                                       &closed, &cleared, f->e), LEDGER_INVALID);
    assert_int_equal(ledger_close_days(f->l, D0, NULL, "", "a", NOW, &closed, &cleared, f->e),
                     LEDGER_INVALID);
    assert_int_equal(ledger_close_days(f->l, D0, NULL, long_reason, "a", NOW, &closed,
                                       &cleared, f->e), LEDGER_INVALID);
    assert_int_equal(ledger_close_days(f->l, D0, NULL, "\xff", "a", NOW, &closed, &cleared,
                                       f->e), LEDGER_INVALID);
    assert_int_equal(ledger_reopen_day(f->l, D0, "a", NOW, &done, f->e), LEDGER_NOT_FOUND);
    /* The bureau's closure (not built yet): the school cannot lift it. */
    sql(f, "INSERT INTO closed_days (day, reason, source, by_user, at_ms) VALUES ('" D0 "', "
           "'全市停课', 'bureau', 'bureau', 0)");
    assert_int_equal(ledger_reopen_day(f->l, D0, "a", NOW, &done, f->e), LEDGER_CONFLICT);
    const char *e = errs(f);
    assert_non_null(strstr(e, "is not a range of 1 to 366 days"));
    assert_non_null(strstr(e, "the reason is empty"));
    assert_non_null(strstr(e, "the reason is too long"));
    assert_non_null(strstr(e, "the reason is not UTF-8"));
    assert_non_null(strstr(e, D0 " is not closed"));
    assert_non_null(strstr(e, "closed by the bureau (全市停课)"));
    assert_int_equal(qint(f, "SELECT count(*) FROM closed_days"), 1);
}

/* 分批开学 and a holiday of the calendar. */
static void test_staged_return_and_holiday(void **state)
{
    struct fx *f = *state;
    pupil(f, "A1", "初三", "初三1班");
    pupil(f, "B1", "初一", "初一1班");
    pupil(f, "B2", "初一", "初一1班");
    f->w.ngrades = 1;
    f->w.grades[0] = (struct cfg_group){.name = "初一", .return_day = D1};
    struct day_figures fig;
    assert_int_equal(ledger_day_figures(f->l, D0, &f->w, &fig), 0);
    assert_int_equal(fig.v[FIG_EXPECTED], 1);
    assert_int_equal(fig.v[FIG_STU_EXPECTED], 1);
    assert_int_equal(sweep(f, D0, NOW), 1); /* A1 only */
    assert_int_equal(qint(f, "SELECT count(*) FROM absences WHERE person_id = " PID("B1")), 0);
    assert_int_equal(ledger_day_figures(f->l, D1, &f->w, &fig), 0);
    assert_int_equal(fig.v[FIG_EXPECTED], 3);
    /* D1 a holiday: nobody expected, no sweep. */
    f->w.calendar.nholidays = 1;
    snprintf(f->w.calendar.holidays[0].from, CFG_DAY_LEN, "%s", D1);
    snprintf(f->w.calendar.holidays[0].to, CFG_DAY_LEN, "%s", D1);
    assert_int_equal(ledger_day_figures(f->l, D1, &f->w, &fig), 0);
    assert_int_equal(fig.v[FIG_EXPECTED], 0);
    assert_int_equal(sweep(f, D1, at(D1, 10, 0)), 0);
    assert_non_null(strstr(errs(f), "a holiday by [calendar]"));
}

/* 错峰上学: the slot's sweep takes its groups only; the counts per slot. */
static void test_slot_sweep_and_counts(void **state)
{
    struct fx *f = *state;
    int created = 0, late = 0;
    pupil(f, "A1", "初三", "初三1班");
    pupil(f, "A2", "初三", "初三1班");
    pupil(f, "C1", "初三", "初三2班"); /* its class has a later slot of its own */
    pupil(f, "B1", "初二", "初二1班");
    person(f, "T1", "teacher", "初三2班", 1); /* a class's teacher: the whole window */
    f->w.absence_kinds = CFG_KIND_STUDENT | CFG_KIND_TEACHER;
    f->w.ngrades = 2;
    f->w.grades[0] = (struct cfg_group){.name = "初三", .has_slot = true,
                                        .slot_start = 7 * 60 + 10, .slot_end = 7 * 60 + 25};
    f->w.grades[1] = (struct cfg_group){.name = "初二", .has_slot = true,
                                        .slot_start = 7 * 60 + 25, .slot_end = 7 * 60 + 40};
    f->w.nclasses = 1;
    f->w.classes[0] = (struct cfg_group){.name = "初三2班", .has_slot = true,
                                         .slot_start = 7 * 60 + 40, .slot_end = 7 * 60 + 55};
    /* A1 in time (07:20), A2 late for the slot (07:30) but in the window. */
    gate_check(f, "A1", D0, "morning", reading(f, "A1", D0, at(D0, 7, 20), 3650, "valid", "admit"));
    /* Too early for the slot's sweep: refused. */
    assert_int_equal(ledger_absence_sweep_slot(f->l, D0, &f->w, 7 * 60 + 25, NULL, at(D0, 7, 50),
                                               &created, &late, f->e), -1);
    assert_non_null(strstr(errs(f), "after the arrival slot and its grace: 07:25 + 30 min"));
    assert_int_equal(ledger_absence_sweep_slot(f->l, D0, &f->w, 7 * 60 + 25, NULL, at(D0, 7, 55),
                                               &created, &late, f->e), 0);
    assert_int_equal(created, 1); /* A2; not C1 (its class's slot), not B1 (初二), not T1 */
    assert_int_equal(qint(f, "SELECT count(*) FROM absences WHERE person_id = " PID("A2")), 1);
    gate_check(f, "A2", D0, "morning", reading(f, "A2", D0, at(D0, 8, 0), 3650, "valid", "admit"));
    assert_int_equal(qint(f, "SELECT count(*) FROM absences"), 0); /* withdrawn by the check */
    sql(f, "UPDATE checks SET at_ms = %lld WHERE person_id = " PID("A2"),
        (long long)at(D0, 7, 30));
    struct slot_counts c;
    assert_int_equal(ledger_slot_counts(f->l, D0, &f->w, &f->w.grades[0], false, &c), 0);
    assert_int_equal(c.expected, 2); /* A1, A2: C1 is in its class's slot */
    assert_int_equal(c.arrived, 2);
    assert_int_equal(c.late, 1);
    assert_int_equal(ledger_slot_counts(f->l, D0, &f->w, &f->w.classes[0], true, &c), 0);
    assert_int_equal(c.expected, 1); /* C1, not its teacher T1 */
    assert_int_equal(c.arrived, 0);
    /* The class's sweep: C1, not T1. */
    assert_int_equal(ledger_absence_sweep_slot(f->l, D0, &f->w, 7 * 60 + 55, NULL, at(D0, 8, 25),
                                               &created, &late, f->e), 0);
    assert_int_equal(created, 1);
    assert_int_equal(qint(f, "SELECT count(*) FROM absences WHERE person_id = " PID("C1")), 1);
    /* On a closed day the slots expect nobody. */
    int closed, cleared;
    assert_int_equal(ledger_close_days(f->l, D0, NULL, "停课", "a", NOW, &closed, &cleared,
                                       f->e), LEDGER_OK);
    assert_int_equal(ledger_slot_counts(f->l, D0, &f->w, &f->w.grades[0], false, &c), 0);
    assert_int_equal(c.expected, 0);
}

int main(void)
{
    log_init("test_ledger_calendar", LOG_LVL_ERR, LOG_OUT_PLAIN);
    if (zone_set("Asia/Shanghai") < 0)
        return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_close_and_reopen),
        T(test_refusals),
        T(test_staged_return_and_holiday),
        T(test_slot_sweep_and_counts),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
