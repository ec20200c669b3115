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

int main(void)
{
    log_init("test_people", LOG_LVL_ERR, LOG_OUT_PLAIN);
    if (zone_set("Asia/Shanghai") < 0)
        return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_observation_days_and_count),
        T(test_observation_refusals_change_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
