/* The lane state machine: pairing a card and a measurement in either order within
 * the pair window, presence, expiry, re-arming after an invalid reading, and what
 * the lights show when. Pure: every time is an argument (ms). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lane.h"
#include "log.h"

#define WINDOW 1000

/* Room for more requests than a lane may ever write, so that a lane writing too
 * many fails an assertion instead of corrupting the stack. */
#define ROOM (LANE_MAX_REQUESTS + 4)

struct rq {
    struct lane_request r[ROOM];
    int n;
};

static struct reading reading_of(int32_t body)
{
    return (struct reading){.body_centi = body, .raw_centi = body, .device_valid = true};
}

static struct reading reading_with_card(int32_t body, uint64_t card)
{
    struct reading r = reading_of(body);
    r.has_card = true;
    r.card = card;
    return r;
}

static int checked(int n)
{
    assert_in_range(n, 0, LANE_MAX_REQUESTS);
    return n;
}

static struct rq on_card(struct lane *ln, uint64_t card, int64_t now)
{
    struct rq q = {0};
    q.n = checked(lane_on_card(ln, card, now, q.r));
    return q;
}

static struct rq on_reading(struct lane *ln, int32_t body, int64_t now)
{
    struct rq q = {0};
    struct reading r = reading_of(body);
    q.n = checked(lane_on_reading(ln, &r, now, q.r));
    return q;
}

static struct rq on_presence(struct lane *ln, int64_t now)
{
    struct rq q = {0};
    q.n = checked(lane_on_presence(ln, now, q.r));
    return q;
}

static struct rq tick(struct lane *ln, int64_t now)
{
    struct rq q = {0};
    q.n = checked(lane_tick(ln, now, q.r));
    return q;
}

static void assert_paired(const struct lane_request *r, uint64_t card, int32_t body, int64_t at)
{
    assert_true(r->has_card);
    assert_int_equal(r->card, card);
    assert_true(r->has_reading);
    assert_int_equal(r->reading.body_centi, body);
    assert_int_equal(r->mono_ms, at);
}

static void assert_card_only(const struct lane_request *r, uint64_t card, int64_t at)
{
    assert_true(r->has_card);
    assert_int_equal(r->card, card);
    assert_false(r->has_reading);
    assert_int_equal(r->mono_ms, at);
}

static void assert_reading_only(const struct lane_request *r, int32_t body, int64_t at)
{
    assert_false(r->has_card);
    assert_true(r->has_reading);
    assert_int_equal(r->reading.body_centi, body);
    assert_int_equal(r->mono_ms, at);
}

static struct lane wiegand(void)
{
    struct lane ln;
    lane_init(&ln, CFG_ID_WIEGAND, WINDOW);
    return ln;
}

/* ---- identity = device / none -------------------------------------------------- */

static void test_device_card_inside_reading(void **state)
{
    (void)state;
    struct lane ln;
    lane_init(&ln, CFG_ID_DEVICE, WINDOW);
    struct reading r = reading_with_card(3650, 77);
    struct lane_request req[ROOM];
    assert_int_equal(lane_on_reading(&ln, &r, 100, req), 1);
    assert_paired(&req[0], 77, 3650, 100);
    assert_int_equal(lane_next_deadline(&ln, 100), -1);
}

static void test_device_reading_without_card(void **state)
{
    (void)state;
    struct lane ln;
    lane_init(&ln, CFG_ID_DEVICE, WINDOW);
    struct rq q = on_reading(&ln, 3650, 100);
    assert_int_equal(q.n, 1);
    assert_reading_only(&q.r[0], 3650, 100);
    assert_int_equal(lane_next_deadline(&ln, 100), -1);
}

static void test_device_lane_ignores_wiegand_cards(void **state)
{
    (void)state;
    struct lane ln;
    lane_init(&ln, CFG_ID_DEVICE, WINDOW);
    assert_int_equal(on_card(&ln, 5, 0).n, 0);
    struct rq q = on_reading(&ln, 3650, 10);
    assert_int_equal(q.n, 1);
    assert_false(q.r[0].has_card);
}

static void test_identity_none_decides_each_reading(void **state)
{
    (void)state;
    struct lane ln;
    lane_init(&ln, CFG_ID_NONE, WINDOW);
    struct reading r = reading_with_card(3650, 99); /* a card register is not identity here */
    struct lane_request req[ROOM];
    assert_int_equal(lane_on_reading(&ln, &r, 5, req), 1);
    assert_false(req[0].has_card);
    assert_true(req[0].has_reading);
    assert_int_equal(on_card(&ln, 5, 6).n, 0);
    assert_int_equal(on_reading(&ln, 3660, 7).n, 1);
    assert_int_equal(lane_next_deadline(&ln, 7), -1);
}

/* ---- identity = wiegand: pairing ------------------------------------------------- */

static void test_card_then_reading_pairs(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    assert_int_equal(on_card(&ln, 42, 1000).n, 0);
    struct rq q = on_reading(&ln, 3650, 1500);
    assert_int_equal(q.n, 1);
    assert_paired(&q.r[0], 42, 3650, 1500);
    assert_int_equal(tick(&ln, 10000).n, 0);
    assert_int_equal(lane_next_deadline(&ln, 1500), -1);
}

static void test_reading_then_card_pairs(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    assert_int_equal(on_reading(&ln, 3650, 1000).n, 0);
    struct rq q = on_card(&ln, 42, 1800);
    assert_int_equal(q.n, 1);
    assert_paired(&q.r[0], 42, 3650, 1800);
    assert_int_equal(tick(&ln, 10000).n, 0);
}

static void test_card_then_late_reading(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    on_card(&ln, 42, 1000);
    struct rq q = tick(&ln, 1000 + WINDOW + 1);
    assert_int_equal(q.n, 1);
    assert_card_only(&q.r[0], 42, 1000 + WINDOW);
    /* The reading that comes afterwards waits for a card of its own. */
    assert_int_equal(on_reading(&ln, 3650, 2500).n, 0);
    q = on_card(&ln, 43, 2600);
    assert_int_equal(q.n, 1);
    assert_paired(&q.r[0], 43, 3650, 2600);
}

/* Without a tick in between, the late reading itself settles the expired card. */
static void test_late_reading_settles_expired_card(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    on_card(&ln, 42, 1000);
    struct rq q = on_reading(&ln, 3650, 3000);
    assert_int_equal(q.n, 1);
    assert_card_only(&q.r[0], 42, 1000 + WINDOW);
    assert_int_equal(lane_next_deadline(&ln, 3000), 3000 + WINDOW + 1);
}

static void test_window_edge_exactly_not_expired(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    on_card(&ln, 42, 1000);
    assert_int_equal(tick(&ln, 1000 + WINDOW).n, 0);
    struct rq q = on_reading(&ln, 3650, 1000 + WINDOW);
    assert_int_equal(q.n, 1);
    assert_paired(&q.r[0], 42, 3650, 1000 + WINDOW);
}

static void test_window_edge_one_ms_late_expired(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    on_card(&ln, 42, 1000);
    struct rq q = on_reading(&ln, 3650, 1000 + WINDOW + 1);
    assert_int_equal(q.n, 1);
    assert_card_only(&q.r[0], 42, 1000 + WINDOW);
}

static void test_reading_window_edges(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    on_reading(&ln, 3650, 0);
    assert_int_equal(tick(&ln, WINDOW).n, 0);
    struct rq q = tick(&ln, WINDOW + 1);
    assert_int_equal(q.n, 1);
    assert_reading_only(&q.r[0], 3650, WINDOW);
    assert_int_equal(tick(&ln, WINDOW + 2).n, 0);
}

static void test_two_cards_first_settles_card_only(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    on_card(&ln, 1, 0);
    struct rq q = on_card(&ln, 2, 300);
    assert_int_equal(q.n, 1);
    assert_card_only(&q.r[0], 1, 300);
    q = on_reading(&ln, 3650, 500);
    assert_int_equal(q.n, 1);
    assert_paired(&q.r[0], 2, 3650, 500);
}

static void test_two_readings_without_card(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    assert_int_equal(on_reading(&ln, 3600, 0).n, 0);
    struct rq q = on_reading(&ln, 3610, 200);
    assert_int_equal(q.n, 1);
    assert_reading_only(&q.r[0], 3600, 200);
    q = on_card(&ln, 9, 400); /* the card goes with the latest reading */
    assert_int_equal(q.n, 1);
    assert_paired(&q.r[0], 9, 3610, 400);
}

/* ---- presence --------------------------------------------------------------------- */

static void test_presence_expires_to_empty_request(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    assert_int_equal(on_presence(&ln, 100).n, 0);
    assert_int_equal(lane_next_deadline(&ln, 100), 100 + WINDOW + 1);
    assert_int_equal(tick(&ln, 100 + WINDOW).n, 0);
    struct rq q = tick(&ln, 100 + WINDOW + 1);
    assert_int_equal(q.n, 1);
    assert_false(q.r[0].has_card);
    assert_false(q.r[0].has_reading);
    assert_int_equal(q.r[0].mono_ms, 100 + WINDOW);
    assert_int_equal(lane_next_deadline(&ln, 100 + WINDOW + 1), -1);
}

static void test_presence_cleared_by_card(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    on_presence(&ln, 0);
    on_card(&ln, 5, 100);
    struct rq q = tick(&ln, 100 + WINDOW + 1); /* only the card: the presence was its holder */
    assert_int_equal(q.n, 1);
    assert_card_only(&q.r[0], 5, 100 + WINDOW);
    assert_int_equal(tick(&ln, 10 * WINDOW).n, 0);
}

static void test_presence_cleared_by_reading(void **state)
{
    (void)state;
    struct lane ln;
    lane_init(&ln, CFG_ID_DEVICE, WINDOW);
    on_presence(&ln, 0);
    assert_int_equal(on_reading(&ln, 3650, 200).n, 1);
    assert_int_equal(tick(&ln, 10 * WINDOW).n, 0);
    assert_int_equal(lane_next_deadline(&ln, 200), -1);
}

static void test_presence_while_card_waits_adds_nothing(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    on_card(&ln, 5, 0);
    on_presence(&ln, 100);
    struct rq q = tick(&ln, 100 + WINDOW + 1);
    assert_int_equal(q.n, 1);
    assert_card_only(&q.r[0], 5, WINDOW);
}

/* ---- re-arming after an invalid reading ---------------------------------------- */

static void decided(struct lane *ln, const struct lane_request *req, enum outcome o, int64_t now)
{
    struct cfg_screening s = {.hold_invalid_ms = 300, .hold_admit_ms = 200};
    struct display d;
    screening_display(&s, o, &d);
    lane_decided(ln, req, o, &d, now);
}

static void test_invalid_rearms_card(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    on_card(&ln, 42, 0);
    struct rq q = on_reading(&ln, 2000, 100);
    decided(&ln, &q.r[0], OUT_INVALID, 110);
    q = on_reading(&ln, 3650, 900); /* measure again, no new card */
    assert_int_equal(q.n, 1);
    assert_paired(&q.r[0], 42, 3650, 900);
}

static void test_rearmed_card_has_a_fresh_window(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    on_card(&ln, 42, 0);
    struct rq q = on_reading(&ln, 2000, 900);
    decided(&ln, &q.r[0], OUT_INVALID, 950);
    q = on_reading(&ln, 3650, 950 + WINDOW); /* 1950 ms after the card itself */
    assert_int_equal(q.n, 1);
    assert_paired(&q.r[0], 42, 3650, 950 + WINDOW);
}

static void test_other_outcomes_do_not_rearm(void **state)
{
    (void)state;
    const enum outcome os[] = {OUT_ADMIT, OUT_FEVER, OUT_UNKNOWN_CARD, OUT_SEE_NURSE,
                               OUT_NO_MEASUREMENT, OUT_COUNT};
    for (size_t i = 0; i < sizeof os / sizeof os[0]; i++) {
        struct lane ln = wiegand();
        on_card(&ln, 42, 0);
        struct rq q = on_reading(&ln, 3650, 100);
        decided(&ln, &q.r[0], os[i], 110);
        assert_int_equal(on_reading(&ln, 3650, 200).n, 0); /* waits for a card */
    }
}

static void test_invalid_on_device_lane_does_not_rearm(void **state)
{
    (void)state;
    struct lane ln;
    lane_init(&ln, CFG_ID_DEVICE, WINDOW);
    struct reading r = reading_with_card(2000, 42);
    struct lane_request req[ROOM];
    lane_on_reading(&ln, &r, 100, req);
    decided(&ln, &req[0], OUT_INVALID, 110);
    struct rq q = on_reading(&ln, 3650, 200);
    assert_int_equal(q.n, 1);
    assert_false(q.r[0].has_card);
    assert_false(ln.card_pending);
}

/* A second reading arrives while the invalid one is being committed (the gate
 * shows decisions at the flush); then the decision re-arms the card. The lane
 * must keep at most one wait, so that nothing is ever written past
 * req[LANE_MAX_REQUESTS] (gate.c passes arrays of exactly that size). */
static void test_rearm_with_reading_waiting_stays_in_bounds(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    on_card(&ln, 42, 0);
    struct rq first = on_reading(&ln, 2000, 100);
    assert_int_equal(first.n, 1);
    assert_int_equal(on_reading(&ln, 3650, 200).n, 0);
    decided(&ln, &first.r[0], OUT_INVALID, 300);
    bool two_waits = ln.card_pending && ln.reading_pending;
    struct lane_request req[ROOM];
    memset(req, 0, sizeof req);
    struct reading r = reading_of(3660);
    int n = lane_on_reading(&ln, &r, 300 + WINDOW + 500, req);
    assert_in_range(n, 0, LANE_MAX_REQUESTS);
    assert_false(req[LANE_MAX_REQUESTS].has_reading || req[LANE_MAX_REQUESTS].has_card);
    assert_false(two_waits);
}

/* ---- lights ------------------------------------------------------------------------- */

static struct cfg_screening lights_cfg(void)
{
    return (struct cfg_screening){.hold_admit_ms = 200, .hold_fever_ms = 1000,
                                  .hold_invalid_ms = 300, .hold_deny_ms = 400,
                                  .hold_nurse_ms = 500, .hold_no_measurement_ms = 300,
                                  .buzzer_ms = 250};
}

static void show(struct lane *ln, enum outcome o, int64_t now)
{
    struct cfg_screening s = lights_cfg();
    struct display d;
    screening_display(&s, o, &d);
    struct lane_request req = {.has_reading = true};
    lane_decided(ln, &req, o, &d, now);
}

static struct display at(const struct lane *ln, int64_t now, enum outcome *o)
{
    struct display d;
    enum outcome dummy;
    lane_display(ln, now, &d, o ? o : &dummy);
    return d;
}

static void test_idle_is_off(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    enum outcome o;
    struct display d = at(&ln, 0, &o);
    assert_int_equal(d.lamp, LAMP_OFF);
    assert_false(d.blink || d.buzzer || d.relay);
    assert_int_equal(o, OUT_COUNT);
    assert_int_equal(lane_next_deadline(&ln, 0), -1);
}

static void test_admit_holds_then_off(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    show(&ln, OUT_ADMIT, 1000);
    enum outcome o;
    struct display d = at(&ln, 1000, &o);
    assert_int_equal(d.lamp, LAMP_GREEN);
    assert_true(d.relay);
    assert_int_equal(o, OUT_ADMIT);
    assert_int_equal(lane_next_deadline(&ln, 1000), 1200);
    assert_int_equal(at(&ln, 1199, NULL).lamp, LAMP_GREEN);
    d = at(&ln, 1200, &o);
    assert_int_equal(d.lamp, LAMP_OFF);
    assert_false(d.relay);
    assert_int_equal(o, OUT_COUNT);
    assert_int_equal(lane_next_deadline(&ln, 1200), -1);
}

static void test_hold_per_outcome(void **state)
{
    (void)state;
    const struct { enum outcome o; enum lamp lamp; int64_t hold; } t[] = {
        {OUT_FEVER, LAMP_RED, 1000}, {OUT_INVALID, LAMP_AMBER, 300},
        {OUT_UNKNOWN_CARD, LAMP_RED, 400}, {OUT_NO_IDENTITY, LAMP_RED, 400},
        {OUT_SEE_NURSE, LAMP_AMBER, 500}, {OUT_NO_MEASUREMENT, LAMP_AMBER, 300},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct lane ln = wiegand();
        show(&ln, t[i].o, 0);
        enum outcome o;
        assert_int_equal(at(&ln, t[i].hold - 1, &o).lamp, t[i].lamp);
        assert_int_equal(o, t[i].o);
        assert_int_equal(at(&ln, t[i].hold, &o).lamp, LAMP_OFF);
    }
}

static void test_buzzer_stops_before_hold_ends(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    show(&ln, OUT_FEVER, 0);
    assert_true(at(&ln, 0, NULL).buzzer);
    assert_int_equal(lane_next_deadline(&ln, 0), 250);
    assert_true(at(&ln, 249, NULL).buzzer);
    struct display d = at(&ln, 250, NULL);
    assert_false(d.buzzer);
    assert_int_equal(d.lamp, LAMP_RED);
    assert_int_equal(lane_next_deadline(&ln, 250), 1000);
    assert_int_equal(at(&ln, 1000, NULL).lamp, LAMP_OFF);
    assert_int_equal(lane_next_deadline(&ln, 1000), -1);
}

static void test_buzzer_longer_than_hold_has_one_deadline(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    struct display d = {.lamp = LAMP_RED, .buzzer = true, .hold_ms = 300, .buzzer_ms = 800};
    struct lane_request req = {.has_reading = true};
    lane_decided(&ln, &req, OUT_FEVER, &d, 0);
    assert_int_equal(lane_next_deadline(&ln, 0), 300);
    assert_false(at(&ln, 300, NULL).buzzer);
}

static void test_offline_blinks_amber_when_idle(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    lane_set_offline(&ln, true, 0);
    enum outcome o;
    struct display d = at(&ln, 10, &o);
    assert_int_equal(d.lamp, LAMP_AMBER);
    assert_true(d.blink);
    assert_int_equal(o, OUT_COUNT);
    assert_int_equal(lane_next_deadline(&ln, 10), -1);
    lane_set_offline(&ln, false, 20);
    d = at(&ln, 30, NULL);
    assert_int_equal(d.lamp, LAMP_OFF);
    assert_false(d.blink);
}

static void test_decision_overrides_blink_until_hold_ends(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    lane_set_offline(&ln, true, 0);
    show(&ln, OUT_ADMIT, 100);
    struct display d = at(&ln, 150, NULL);
    assert_int_equal(d.lamp, LAMP_GREEN);
    assert_false(d.blink);
    d = at(&ln, 300, NULL);
    assert_int_equal(d.lamp, LAMP_AMBER);
    assert_true(d.blink);
}

static void test_offline_since_kept_while_offline(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    lane_set_offline(&ln, true, 100);
    lane_set_offline(&ln, true, 500);
    assert_int_equal(ln.offline_since, 100);
    lane_set_offline(&ln, false, 600);
    lane_set_offline(&ln, true, 700);
    assert_int_equal(ln.offline_since, 700);
}

/* ---- deadlines ---------------------------------------------------------------------- */

static void test_deadline_is_earliest_of_wait_and_hold(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    show(&ln, OUT_FEVER, 0);            /* buzzer ends at 250, hold at 1000 */
    on_card(&ln, 7, 100);               /* expires at 100 + WINDOW + 1 */
    assert_int_equal(lane_next_deadline(&ln, 100), 250);
    assert_int_equal(lane_next_deadline(&ln, 250), 1000);
    assert_int_equal(lane_next_deadline(&ln, 1000), 100 + WINDOW + 1);
}

static void test_deadline_never_in_the_past(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    on_card(&ln, 7, 0);
    show(&ln, OUT_ADMIT, 0);
    for (int64_t now = 0; now <= 3 * WINDOW; now += 50) {
        int64_t t = lane_next_deadline(&ln, now);
        if (t != -1 && t < now)
            fail_msg("now %lld: deadline %lld is in the past", (long long)now, (long long)t);
    }
}

/* "0 = until replaced" (screening.h): the pattern stays, the buzzer still stops. */
static void test_hold_until_replaced_still_stops_buzzer(void **state)
{
    (void)state;
    struct lane ln = wiegand();
    struct display d = {.lamp = LAMP_RED, .buzzer = true, .hold_ms = 0, .buzzer_ms = 200};
    struct lane_request req = {.has_reading = true};
    lane_decided(&ln, &req, OUT_FEVER, &d, 0);
    assert_true(at(&ln, 100, NULL).buzzer);
    assert_false(at(&ln, 200, NULL).buzzer);
    assert_int_equal(at(&ln, 100000, NULL).lamp, LAMP_RED);
    assert_int_equal(lane_next_deadline(&ln, 0), 200);
}

int main(void)
{
    log_init("test_lane", LOG_LVL_ERR, LOG_OUT_PLAIN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_card_inside_reading),
        cmocka_unit_test(test_device_reading_without_card),
        cmocka_unit_test(test_device_lane_ignores_wiegand_cards),
        cmocka_unit_test(test_identity_none_decides_each_reading),
        cmocka_unit_test(test_card_then_reading_pairs),
        cmocka_unit_test(test_reading_then_card_pairs),
        cmocka_unit_test(test_card_then_late_reading),
        cmocka_unit_test(test_late_reading_settles_expired_card),
        cmocka_unit_test(test_window_edge_exactly_not_expired),
        cmocka_unit_test(test_window_edge_one_ms_late_expired),
        cmocka_unit_test(test_reading_window_edges),
        cmocka_unit_test(test_two_cards_first_settles_card_only),
        cmocka_unit_test(test_two_readings_without_card),
        cmocka_unit_test(test_presence_expires_to_empty_request),
        cmocka_unit_test(test_presence_cleared_by_card),
        cmocka_unit_test(test_presence_cleared_by_reading),
        cmocka_unit_test(test_presence_while_card_waits_adds_nothing),
        cmocka_unit_test(test_invalid_rearms_card),
        cmocka_unit_test(test_rearmed_card_has_a_fresh_window),
        cmocka_unit_test(test_other_outcomes_do_not_rearm),
        cmocka_unit_test(test_invalid_on_device_lane_does_not_rearm),
        cmocka_unit_test(test_rearm_with_reading_waiting_stays_in_bounds),
        cmocka_unit_test(test_idle_is_off),
        cmocka_unit_test(test_admit_holds_then_off),
        cmocka_unit_test(test_hold_per_outcome),
        cmocka_unit_test(test_buzzer_stops_before_hold_ends),
        cmocka_unit_test(test_buzzer_longer_than_hold_has_one_deadline),
        cmocka_unit_test(test_offline_blinks_amber_when_idle),
        cmocka_unit_test(test_decision_overrides_blink_until_hold_ends),
        cmocka_unit_test(test_offline_since_kept_while_offline),
        cmocka_unit_test(test_deadline_is_earliest_of_wait_and_hold),
        cmocka_unit_test(test_deadline_never_in_the_past),
        cmocka_unit_test(test_hold_until_replaced_still_stops_buzzer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
