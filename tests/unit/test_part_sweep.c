/* The part-day sweeps (issue 19) on a real SQLite ledger: the noon sweep (午检缺勤),
 * the boarders' evening check and sweep (晚检), the morning sweep's boarders (present
 * without a gate reading only with a dormitory check), and the day's events. */
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
#include "zone.h"

#define D0 "2024-03-04" /* a Monday */

static int setup(void **state)
{
    struct fx *f = fx_new("partsweep");
    if (!f)
        return -1;
    f->w = (struct cfg_windows){.morning_start = 7 * 60, .morning_end = 8 * 60,
                                .noon_enabled = true, .noon_start = 13 * 60 + 30,
                                .noon_end = 14 * 60, .noon_sweep = true,
                                .evening_enabled = true, .evening_start = 20 * 60,
                                .evening_end = 20 * 60 + 30, .absence_grace_ms = 30 * 60000,
                                .absence_kinds = CFG_KIND_STUDENT, .school_days = 0x3E};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    return fx_free(*state);
}

static void pupil(struct fx *f, const char *id, int boarder)
{
    sql(f, "INSERT INTO people (external_id, kind, name, grade, class, active, boarder, "
           "created_ms, updated_ms) VALUES ('%s', 'student', '学生%s', '初一', '初一1班', 1, %d, "
           "0, 0)", id, id, boarder);
}

/* A manual check, as `gatescreen check` records it. */
static enum ledger_status check(struct fx *f, const char *who, const char *window, int64_t ms)
{
    struct manual_check in = {.person = who, .day = D0, .window = window, .temp_centi = 3650,
                              .instrument = "ear", .threshold_centi = 3730, .by = "宿管",
                              .at_ms = ms};
    struct manual_check_result out;
    return ledger_manual_check(f->l, &in, &out, f->e);
}

static int part_sweep(struct fx *f, const char *part, int64_t now)
{
    int created = -1;
    assert_int_equal(ledger_part_sweep(f->l, D0, &f->w, part, NULL, now, &created, f->e), 0);
    return created;
}

static long long parts(struct fx *f, const char *who, const char *part)
{
    return qint(f, "SELECT count(*) FROM part_absences WHERE person_id = (SELECT id FROM "
                   "people WHERE external_id = '%s') AND part = '%s' AND cause = 'unknown'",
                who, part);
}

static void test_noon_sweep(void **state)
{
    struct fx *f = *state;
    pupil(f, "A", 0); /* morning, no noon: left at noon */
    pupil(f, "B", 0); /* morning and noon */
    pupil(f, "C", 0); /* never came: the morning's absence only */
    pupil(f, "D", 0); /* came late, no noon */
    pupil(f, "E", 0); /* morning, then on leave */
    gate_check(f, "A", D0, "morning", reading(f, "A", D0, at(D0, 7, 30), 3650, "valid", "admit"));
    gate_check(f, "B", D0, "morning", reading(f, "B", D0, at(D0, 7, 31), 3650, "valid", "admit"));
    gate_check(f, "B", D0, "noon", reading(f, "B", D0, at(D0, 13, 40), 3650, "valid", "admit"));
    gate_check(f, "E", D0, "morning", reading(f, "E", D0, at(D0, 7, 32), 3650, "valid", "admit"));
    reading(f, "D", D0, at(D0, 9, 0), 3650, "valid", "admit");
    sql(f, "INSERT INTO leaves (person_id, from_day, to_day, reason, by_user, at_ms) "
           "VALUES (" PID("E") ", '" D0 "', '" D0 "', '看病', 't', 0)");
    int created = 0, late = 0;
    assert_int_equal(ledger_absence_sweep(f->l, D0, &f->w, NULL, at(D0, 9, 30), &created, &late,
                                          f->e), 0);
    assert_int_equal(created, 2); /* C unknown, D late */
    /* Not before the noon window's end + grace. */
    int n = -1;
    assert_int_equal(ledger_part_sweep(f->l, D0, &f->w, "noon", NULL, at(D0, 14, 29), &n, f->e),
                     -1);
    assert_non_null(strstr(errs(f), "after the noon window and its grace: 14:00 + 30 min"));
    assert_int_equal(part_sweep(f, "noon", at(D0, 14, 30)), 2);
    assert_int_equal(parts(f, "A", "noon"), 1);
    assert_int_equal(parts(f, "D", "noon"), 1);
    assert_int_equal(parts(f, "B", "noon") + parts(f, "C", "noon") + parts(f, "E", "noon"), 0);
    /* The day's absences are untouched: A was at school that day. */
    assert_int_equal(qint(f, "SELECT count(*) FROM absences WHERE person_id = " PID("A")), 0);
    /* Once: a second sweep makes nothing. */
    assert_int_equal(part_sweep(f, "noon", at(D0, 15, 0)), 0);
    /* A noon check written down later withdraws it, and is audited. */
    assert_int_equal(check(f, "A", "noon", at(D0, 15, 5)), LEDGER_OK);
    assert_int_equal(parts(f, "A", "noon"), 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM audit_log WHERE action = 'absence withdrawn' "
                            "AND detail LIKE '%%noon absence%%'"), 1);
    assert_int_equal(qint(f, "SELECT count(*) FROM audit_log WHERE action = "
                            "'part-day absence sweep'"), 1);
    /* The school closes the day afterwards (a storm at noon): nobody was absent, at
     * noon either; D's noon absence goes with C's unexplained one (a review found the
     * noon ones kept). */
    int closed = 0, cleared = 0;
    assert_int_equal(ledger_close_days(f->l, D0, D0, "暴雨停课", "校长", at(D0, 16, 0), &closed,
                                       &cleared, f->e), LEDGER_OK);
    assert_int_equal(closed, 1);
    assert_int_equal(cleared, 2); /* C's day absence, D's noon one */
    assert_int_equal(qint(f, "SELECT count(*) FROM part_absences WHERE day = '" D0 "'"), 0);
}

static void test_noon_sweep_off_and_closed(void **state)
{
    struct fx *f = *state;
    pupil(f, "A", 0);
    gate_check(f, "A", D0, "morning", reading(f, "A", D0, at(D0, 7, 30), 3650, "valid", "admit"));
    f->w.noon_sweep = false;
    int n = -1;
    assert_int_equal(ledger_part_sweep(f->l, D0, &f->w, "noon", NULL, at(D0, 15, 0), &n, f->e),
                     -1);
    assert_non_null(strstr(errs(f), "the noon sweep is not enabled"));
    f->w.noon_sweep = true;
    int closed, cleared;
    assert_int_equal(ledger_close_days(f->l, D0, NULL, "暴雨", "a", at(D0, 12, 0), &closed,
                                       &cleared, f->e), LEDGER_OK);
    assert_int_equal(part_sweep(f, "noon", at(D0, 15, 0)), 0);
    assert_non_null(strstr(errs(f), "the school is closed"));
    assert_int_equal(part_sweep(f, "evening", at(D0, 21, 0)), 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM part_absences"), 0);
}

static void test_evening_sweep(void **state)
{
    struct fx *f = *state;
    pupil(f, "B1", 1); /* a boarder without an evening check */
    pupil(f, "B2", 1); /* a boarder with one */
    pupil(f, "B3", 1); /* a boarder absent all day */
    pupil(f, "B4", 1); /* a boarder on leave */
    pupil(f, "S1", 0); /* a day pupil: goes home */
    for (const char *const *w = (const char *const[]){"B1", "B2", "B4", "S1", NULL}; *w; w++)
        assert_int_equal(check(f, *w, "morning", at(D0, 7, 30)), LEDGER_OK);
    sql(f, "INSERT INTO leaves (person_id, from_day, to_day, reason, by_user, at_ms) "
           "VALUES (" PID("B4") ", '" D0 "', '" D0 "', '回家', 't', 0)");
    int created = 0, late = 0;
    assert_int_equal(ledger_absence_sweep(f->l, D0, &f->w, NULL, at(D0, 9, 0), &created, &late,
                                          f->e), 0);
    assert_int_equal(created, 1); /* B3 */
    assert_int_equal(check(f, "B2", "evening", at(D0, 20, 10)), LEDGER_OK);
    assert_int_equal(qint(f, "SELECT count(*) FROM checks WHERE window = 'evening'"), 1);
    int n = -1;
    assert_int_equal(ledger_part_sweep(f->l, D0, &f->w, "evening", NULL, at(D0, 20, 59), &n,
                                       f->e), -1);
    assert_int_equal(part_sweep(f, "evening", at(D0, 21, 0)), 1);
    assert_int_equal(parts(f, "B1", "evening"), 1);
    assert_int_equal(qint(f, "SELECT count(*) FROM part_absences"), 1);
    assert_int_equal(part_sweep(f, "evening", at(D0, 21, 5)), 0);
    /* Off: refused with the key to set. */
    f->w.evening_enabled = false;
    assert_int_equal(ledger_part_sweep(f->l, D0, &f->w, "evening", NULL, at(D0, 21, 0), &n,
                                       f->e), -1);
    assert_non_null(strstr(errs(f), "[windows] evening"));
}

/* A boarder sleeps at school: without a gate reading they are present in the morning
 * with the dormitory check of the evening before (window = evening, the day before)
 * or the dormitory staff's morning check; a day pupil's evening check does not count,
 * nor a boarder's of two days before. */
static void test_morning_boarders(void **state)
{
    struct fx *f = *state;
    pupil(f, "B1", 1); /* no reading, no check */
    pupil(f, "B2", 1); /* no reading, the dormitory's morning check */
    pupil(f, "B3", 1); /* no reading, checked in the dormitory the evening before */
    pupil(f, "B4", 1); /* no reading, checked in the dormitory two evenings before */
    pupil(f, "P1", 0); /* a day pupil with an evening check the day before */
    assert_int_equal(check(f, "B2", "morning", at(D0, 7, 5)), LEDGER_OK);
    const char *dorm = "INSERT INTO checks (person_id, day, window, temp_centi, threshold_centi, "
                       "instrument, by_user, at_ms) SELECT id, date('%s', '%s'), 'evening', 3650, "
                       "3730, 'ear', '宿管', 0 FROM people WHERE external_id = '%s'";
    sql(f, dorm, D0, "-1 day", "B3");
    sql(f, dorm, D0, "-2 day", "B4");
    sql(f, dorm, D0, "-1 day", "P1");
    int created = 0, late = 0;
    assert_int_equal(ledger_absence_sweep(f->l, D0, &f->w, NULL, at(D0, 9, 0), &created, &late,
                                          f->e), 0);
    assert_int_equal(created, 3); /* B1, B4, P1 */
    assert_int_equal(qint(f, "SELECT count(*) FROM absences WHERE cause = 'unknown' AND "
                            "person_id = " PID("B1")), 1);
    assert_int_equal(qint(f, "SELECT count(*) FROM absences WHERE person_id = " PID("B2")), 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM absences WHERE person_id = " PID("B3")), 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM absences WHERE person_id = " PID("B4")), 1);
    assert_int_equal(qint(f, "SELECT count(*) FROM absences WHERE person_id = " PID("P1")), 1);
}

/* The day's events: the noon sweep at noon end + grace with noon_sweep, the evening's
 * at evening end + grace; neither without its key. */
static void test_day_events(void **state)
{
    struct fx *f = *state;
    struct day_clock c = {0};
    struct day_event_at ev[DAY_CLOCK_MAX_EVENTS];
    struct civil now = {.day = D0, .minute = 23 * 60, .second_of_day = 23 * 3600, .weekday = 1};
    int n = day_clock_advance(&c, &f->w, 22 * 60, &now, ev);
    int noon = -1, evening = -1, end = -1;
    for (int i = 0; i < n; i++) {
        if (ev[i].event == DAY_NOON_SWEEP)
            noon = i;
        if (ev[i].event == DAY_EVENING_SWEEP)
            evening = i;
        if (ev[i].event == DAY_END)
            end = i;
    }
    assert_true(noon > 0 && evening > noon && end > evening); /* 14:30, 21:00, 22:00 */
    assert_string_equal(day_event_name(DAY_NOON_SWEEP), "noon-sweep");
    assert_string_equal(day_event_name(DAY_EVENING_SWEEP), "evening-sweep");
    /* Recorded once a day like the others (sql/010 widened the CHECK). */
    assert_int_equal(ledger_day_event_record(f->l, D0, "noon-sweep", 1), 0);
    assert_int_equal(ledger_day_event_record(f->l, D0, "evening-sweep", 1), 0);
    f->w.noon_sweep = f->w.evening_enabled = false;
    struct day_clock c2 = {0};
    n = day_clock_advance(&c2, &f->w, 22 * 60, &now, ev);
    for (int i = 0; i < n; i++)
        assert_true(ev[i].event != DAY_NOON_SWEEP && ev[i].event != DAY_EVENING_SWEEP);
}

int main(void)
{
    log_init("test_part_sweep", LOG_LVL_ERR, LOG_OUT_PLAIN);
    if (zone_set("Asia/Shanghai") < 0)
        return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_noon_sweep),
        T(test_noon_sweep_off_and_closed),
        T(test_evening_sweep),
        T(test_morning_boarders),
        T(test_day_events),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
