/* Issue 19's people in the ledger: health observation (the days it covers, ending
 * it early, the count for a day's figures, refusals that write nothing) and the
 * visitors' register. A real SQLite ledger (ledger_fixture.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_fixture.h"
#include "ledger_observe.h"
#include "ledger_visitors.h"
#include "log.h"
#include "zone.h"

#define D0 "2026-03-02"

static int setup(void **state)
{
    struct fx *f = fx_new("people");
    if (!f)
        return -1;
    student(f, "S1", "1班");
    student(f, "S2", "1班");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    return fx_free(*state);
}

static int observed_on(struct fx *f, const char *day)
{
    int n = -1;
    assert_int_equal(ledger_count_observed(f->l, day, &n), 0);
    return n;
}

static enum ledger_status observe(struct fx *f, const char *who, const char *reason,
                                  const char *from, int days, char to[LEDGER_DAY_LEN])
{
    struct observe_in in = {.person = who, .reason = reason, .from_day = from, .days = days,
                            .by = "nurse", .at_ms = at(D0, 9, 0)};
    int64_t id = 0;
    return ledger_observe(f->l, &in, &id, to, f->e);
}

static void test_observation_days_and_count(void **state)
{
    struct fx *f = *state;
    char to[LEDGER_DAY_LEN];
    assert_int_equal(observe(f, "S1", "close_contact", D0, 7, to), LEDGER_OK);
    assert_string_equal(to, "2026-03-08"); /* seven days, the first included */
    assert_int_equal(observe(f, "S2", "after_illness", "2026-03-05", 1, to), LEDGER_OK);
    assert_string_equal(to, "2026-03-05");
    assert_int_equal(observed_on(f, "2026-03-01"), 0);
    assert_int_equal(observed_on(f, D0), 1);
    assert_int_equal(observed_on(f, "2026-03-05"), 2);
    assert_int_equal(observed_on(f, "2026-03-06"), 1);
    assert_int_equal(observed_on(f, "2026-03-08"), 1);
    assert_int_equal(observed_on(f, "2026-03-09"), 0);
    /* Ended on the 4th (the clock says so): from that day on no longer observed,
     * the days before still were. */
    assert_int_equal(ledger_observe_end(f->l, "S1", "nurse", at("2026-03-04", 10, 0), f->e),
                     LEDGER_OK);
    assert_int_equal(observed_on(f, "2026-03-03"), 1);
    assert_int_equal(observed_on(f, "2026-03-04"), 0);
    assert_int_equal(observed_on(f, "2026-03-05"), 1);
    assert_int_equal(qint(f, "SELECT count(*) FROM audit_log WHERE action LIKE 'observe%%'"), 3);
    /* A new one may start after the end. */
    assert_int_equal(observe(f, "S1", "risk_area", "2026-03-04", 3, to), LEDGER_OK);
    assert_int_equal(observed_on(f, "2026-03-04"), 1);
}

static void test_observation_refusals_change_nothing(void **state)
{
    struct fx *f = *state;
    char to[LEDGER_DAY_LEN];
    assert_int_equal(observe(f, "S1", "risk_area", D0, 5, to), LEDGER_OK);
    long long rows = qint(f, "SELECT count(*) FROM observations");
    assert_int_equal(observe(f, "S1", "risk_area", "2026-03-06", 2, to), LEDGER_CONFLICT);
    assert_non_null(strstr(errs(f), "already under observation from 2026-03-02 to 2026-03-06"));
    assert_int_equal(observe(f, "S1", "holiday", "2026-03-10", 2, to), LEDGER_INVALID);
    assert_non_null(strstr(errs(f), "reason 'holiday' is not one of"));
    assert_int_equal(observe(f, "S2", "risk_area", D0, 0, to), LEDGER_INVALID);
    assert_int_equal(observe(f, "S2", "risk_area", D0, OBSERVE_DAYS_MAX + 1, to),
                     LEDGER_INVALID);
    assert_non_null(strstr(errs(f), "days 61 is not 1 to 60"));
    assert_int_equal(observe(f, "S2", "risk_area", "2026-02-30", 3, to), LEDGER_INVALID);
    assert_int_equal(observe(f, "NOPE", "risk_area", D0, 3, to), LEDGER_NOT_FOUND);
    assert_int_equal(ledger_observe_end(f->l, "S2", "nurse", at(D0, 10, 0), f->e),
                     LEDGER_CONFLICT);
    assert_non_null(strstr(errs(f), "S2 is not under observation"));
    assert_int_equal(qint(f, "SELECT count(*) FROM observations"), rows);
}

static const struct cfg_screening screening = {.threshold_centi = 3730, .valid_min_centi = 3400,
                                               .valid_max_centi = 4300};

static enum ledger_status visit(struct fx *f, const char *name, int centi, const char *lane,
                                int64_t ms, struct visitor_result *out)
{
    struct visitor_in in = {.name = name, .phone = "13812345678", .reason = "维修",
                            .host = "王老师", .approved_by = "李校长", .temp_centi = centi,
                            .from_lane = lane != NULL, .lane = lane, .screening = &screening,
                            .by = "gate1", .at_ms = ms};
    return ledger_visitor_add(f->l, &in, out, f->e);
}

/* The threshold is the gate's: 37.29 in, 37.30 refused; a lane's reading counts
 * only when valid, of nobody's card and fresh. */
static void test_visitors_rule_and_figures(void **state)
{
    struct fx *f = *state;
    struct visitor_result r;
    int64_t now = at(D0, 9, 0);
    assert_int_equal(visit(f, "甲", 3729, NULL, now, &r), LEDGER_OK);
    assert_false(r.refused);
    assert_string_equal(r.day, D0);
    assert_int_equal(visit(f, "乙", 3730, NULL, now, &r), LEDGER_OK);
    assert_true(r.refused);
    assert_int_equal(visit(f, "丙", 3300, NULL, now, &r), LEDGER_INVALID);
    assert_non_null(strstr(errs(f), "outside the plausible range"));
    /* Lane east-1: a student's reading (card 4242), then nobody's, then an old one. */
    reading(f, "S1", D0, now - 10000, 3650, "valid", "admit");
    assert_int_equal(visit(f, "丁", 0, "east-1", now, &r), LEDGER_INVALID);
    assert_non_null(strstr(errs(f), "lane east-1 has no valid reading without a card"));
    sql(f, "INSERT INTO readings (at_ms, lane_id, body_centi, quality, threshold_centi, "
           "outcome, day) VALUES (%lld, 1, 3810, 'valid', 3730, 'no_identity', '%s')",
        (long long)(now - 3 * 60 * 1000), D0);
    assert_int_equal(visit(f, "丁", 0, "east-1", now, &r), LEDGER_INVALID); /* 3 min old */
    sql(f, "INSERT INTO readings (at_ms, lane_id, body_centi, quality, threshold_centi, "
           "outcome, day) VALUES (%lld, 1, 3750, 'valid', 3730, 'no_identity', '%s')",
        (long long)(now - 30 * 1000), D0);
    assert_int_equal(visit(f, "丁", 0, "east-1", now, &r), LEDGER_OK);
    assert_int_equal(r.temp_centi, 3750);
    assert_true(r.refused);
    /* That reading is 丁's: the next visitor must be measured again. */
    assert_int_equal(visit(f, "戊", 0, "east-1", now, &r), LEDGER_INVALID);
    struct visitor_figures fig;
    assert_int_equal(ledger_visitor_figures(f->l, D0, &fig), 0);
    assert_int_equal(fig.registered, 3);
    assert_int_equal(fig.admitted, 1);
    assert_int_equal(fig.refused, 2);
    /* Bad values: each named, nothing written. */
    struct visitor_in in = {.name = "", .phone = "12ab", .reason = "x", .host = "",
                            .approved_by = "y", .temp_centi = 3650, .screening = &screening,
                            .by = "gate1", .at_ms = now};
    assert_int_equal(ledger_visitor_add(f->l, &in, &r, f->e), LEDGER_INVALID);
    const char *e = errs(f);
    assert_non_null(strstr(e, "the visitor's name is missing"));
    assert_non_null(strstr(e, "the visitor's phone '12ab' is not a phone number"));
    assert_non_null(strstr(e, "the visitor's host is missing"));
    assert_int_equal(qint(f, "SELECT count(*) FROM visitors"), 3);
}

/* Visitors go with the readings after the retention: ledger_purge. */
static void test_visitors_purged_with_readings(void **state)
{
    struct fx *f = *state;
    struct visitor_result r;
    assert_int_equal(visit(f, "甲", 3650, NULL, at(D0, 9, 0), &r), LEDGER_OK);
    assert_int_equal(visit(f, "乙", 3650, NULL, at("2026-04-02", 9, 0), &r), LEDGER_OK);
    struct cfg_windows w = {.absence_kinds = CFG_KIND_STUDENT, .morning_start = 7 * 60,
                            .morning_end = 8 * 60 + 30};
    int deleted = 0, days = 0;
    assert_int_equal(ledger_purge(f->l, &w, at("2026-04-01", 0, 0), NULL, &deleted, &days), 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM visitors"), 1);
    assert_string_equal(qtext(f, "SELECT name FROM visitors"), "乙");
    assert_int_equal(qint(f, "SELECT count(*) FROM audit_log WHERE action = 'purge' AND "
                            "target = 'visitors'"), 1);
}

int main(void)
{
    log_init("test_people", LOG_LVL_ERR, LOG_OUT_PLAIN);
    if (zone_set("Asia/Shanghai") < 0)
        return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_observation_days_and_count),
        T(test_observation_refusals_change_nothing),
        T(test_visitors_rule_and_figures),
        T(test_visitors_purged_with_readings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
