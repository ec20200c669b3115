/* The probe budget and schedule (core/probe.c): how much of a bus's time units that
 * do not answer may take, and how often each is probed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "probe.h"

#define MS 1000 /* µs */

static void a_full_budget_probes_at_once(void **state)
{
    (void)state;
    struct probe_budget pb;
    probe_init(&pb, 500 * MS, PROBE_SHARE_MAX, 0);
    assert_true(probe_ready_us(&pb) <= 0);
    assert_int_equal(probe_credit_us(&pb, 0), 500 * MS);
    assert_int_equal(probe_credit_us(&pb, 60000 * MS), 500 * MS); /* no more than the cap */
}

/* Ready since: a probe on a busy bus competes by how long it has been allowed, so
 * the instant does not move on while nothing is charged. */
static void ready_since_stays_put(void **state)
{
    (void)state;
    struct probe_budget pb;
    probe_init(&pb, 500 * MS, 250, 0);
    probe_charge(&pb, 600 * MS, 0); /* 100 ms owed: ready at 400 ms */
    assert_int_equal(probe_ready_us(&pb), 400 * MS);
    probe_set_share(&pb, 250, 900 * MS); /* the same share: nothing moves */
    assert_int_equal(probe_ready_us(&pb), 400 * MS);
    assert_int_equal(probe_credit_us(&pb, 900 * MS), 125 * MS);
}

/* A dead unit behind a 500 ms timeout on a quiet bus (a quarter): the first failure
 * is retried at once, then one probe every 2 s, 500 ms of every 2000. */
static void a_quarter_is_a_500ms_probe_every_2s(void **state)
{
    (void)state;
    struct probe_budget pb;
    probe_init(&pb, 500 * MS, 250, 0);
    probe_charge(&pb, 500 * MS, 500 * MS); /* the first timeout */
    assert_int_equal(probe_ready_us(&pb), 500 * MS);
    probe_charge(&pb, 500 * MS, 1000 * MS); /* the retry: 125 ms credited meanwhile */
    assert_int_equal(probe_ready_us(&pb), 2500 * MS);
    probe_charge(&pb, 500 * MS, 3000 * MS);
    assert_int_equal(probe_ready_us(&pb), 4500 * MS);
    probe_charge(&pb, 500 * MS, 5000 * MS);
    assert_int_equal(probe_ready_us(&pb), 6500 * MS);
}

static void the_share_follows_what_the_live_units_leave(void **state)
{
    (void)state;
    assert_int_equal(probe_share(0, false), PROBE_SHARE_MAX);
    assert_int_equal(probe_share(200, false), 200);
    assert_int_equal(probe_share(600, false), 100);
    assert_int_equal(probe_share(850, false), PROBE_SHARE_MIN);
    assert_int_equal(probe_share(3400, false), PROBE_SHARE_MIN); /* 64 units at 50 ms */
    assert_int_equal(probe_share(0, true), PROBE_SHARE_FINDING);
    assert_int_equal(probe_share(3400, true), PROBE_SHARE_FINDING);
}

/* 32 dead units on a busy bus, probed whenever the budget allows, for 10 minutes:
 * the probes take no more than 5% of the bus (and one timeout saved up). */
static void dead_units_cost_no_more_than_the_share(void **state)
{
    (void)state;
    struct probe_budget pb;
    probe_init(&pb, 500 * MS, PROBE_SHARE_MIN, 0);
    int64_t now = 0, spent = 0, end = 600000 * MS;
    int probes = 0;
    while (now < end) {
        int64_t at = probe_ready_us(&pb);
        now = (at > now ? at : now) + 500 * MS; /* a timeout */
        probe_charge(&pb, 500 * MS, now);
        spent += 500 * MS;
        probes++;
        now += 5 * MS; /* live polls in between */
    }
    assert_true(spent <= end / 20 + 500 * MS + 500 * MS);
    assert_true(spent >= end / 20 - 500 * MS);
    /* Each of 32 units every 32 × 10 s. */
    assert_in_range(probes, 58, 62);
}

/* A change of share counts from then on: the time before it at the old one. */
static void a_new_share_applies_from_then(void **state)
{
    (void)state;
    struct probe_budget pb;
    probe_init(&pb, 500 * MS, 250, 0);
    probe_charge(&pb, 600 * MS, 0);          /* 100 ms owed */
    probe_set_share(&pb, 50, 200 * MS);      /* 50 ms credited at a quarter */
    assert_int_equal(probe_credit_us(&pb, 200 * MS), -50 * MS);
    assert_int_equal(probe_ready_us(&pb), 1200 * MS); /* 50 ms at 5% */
    /* Saved-up credit stops at the cap. */
    probe_set_share(&pb, 250, 100000 * MS);
    assert_int_equal(probe_credit_us(&pb, 100000 * MS), 500 * MS);
}

/* From the backoff's min, doubling, never above its max (jitter included): a unit
 * that stopped answering is probed at least every retry_max. */
static void probes_come_at_least_every_max(void **state)
{
    (void)state;
    uint32_t rng = 12345;
    struct backoff bo = {.min_ms = 1000, .max_ms = 2000};
    int64_t first = probe_delay_ms(&bo, &rng);
    assert_in_range(first, 800, 1199);
    for (int i = 0; i < 1000; i++)
        assert_in_range(probe_delay_ms(&bo, &rng), 1600, 2000);
    backoff_reset(&bo);
    assert_in_range(probe_delay_ms(&bo, &rng), 800, 1199);
}

static void a_quick_check_waits_a_few_answers(void **state)
{
    (void)state;
    assert_int_equal(probe_quick_timeout_us(0, 500 * MS), 500 * MS); /* never answered */
    assert_int_equal(probe_quick_timeout_us(300, 500 * MS), 3 * 300 + 20 * MS);
    assert_int_equal(probe_quick_timeout_us(30 * MS, 500 * MS), 110 * MS);
    assert_int_equal(probe_quick_timeout_us(200 * MS, 500 * MS), 500 * MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_full_budget_probes_at_once),
        cmocka_unit_test(ready_since_stays_put),
        cmocka_unit_test(a_quarter_is_a_500ms_probe_every_2s),
        cmocka_unit_test(the_share_follows_what_the_live_units_leave),
        cmocka_unit_test(dead_units_cost_no_more_than_the_share),
        cmocka_unit_test(a_new_share_applies_from_then),
        cmocka_unit_test(probes_come_at_least_every_max),
        cmocka_unit_test(a_quick_check_waits_a_few_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
