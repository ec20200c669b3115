/* The lights of a display over time (drivers/light_pattern.c): which line is
 * active for each lamp, the blink phase and its edges, buzzer and relay, and the
 * lamp test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "light_pattern.h"

static void levels(const struct display *d, int64_t since, int64_t now, bool want_green,
                   bool want_amber, bool want_red, bool want_buzzer, bool want_relay)
{
    bool out[LIGHT_COUNT];
    pattern_levels(d, since, now, 500, out);
    assert_int_equal(out[LIGHT_GREEN], want_green);
    assert_int_equal(out[LIGHT_AMBER], want_amber);
    assert_int_equal(out[LIGHT_RED], want_red);
    assert_int_equal(out[LIGHT_BUZZER], want_buzzer);
    assert_int_equal(out[LIGHT_RELAY], want_relay);
}

static void test_steady_lamps(void **state)
{
    (void)state;
    struct display d = {.lamp = LAMP_GREEN, .relay = true};
    levels(&d, 1000, 1000, true, false, false, false, true);
    levels(&d, 1000, 99999, true, false, false, false, true);
    assert_int_equal(pattern_next_change(&d, 1000, 1000, 500), -1);
    d = (struct display){.lamp = LAMP_RED, .buzzer = true};
    levels(&d, 0, 10, false, false, true, true, false);
    d = (struct display){.lamp = LAMP_AMBER};
    levels(&d, 0, 10, false, true, false, false, false);
    d = (struct display){.lamp = LAMP_OFF};
    levels(&d, 0, 10, false, false, false, false, false);
    d.blink = true; /* nothing to blink */
    assert_int_equal(pattern_next_change(&d, 0, 10, 500), -1);
}

/* Lit for the first half of each period from the moment it is shown. */
static void test_blink_phase(void **state)
{
    (void)state;
    struct display d = {.lamp = LAMP_AMBER, .blink = true};
    levels(&d, 1000, 1000, false, true, false, false, false);
    levels(&d, 1000, 1249, false, true, false, false, false);
    levels(&d, 1000, 1250, false, false, false, false, false);
    levels(&d, 1000, 1499, false, false, false, false, false);
    levels(&d, 1000, 1500, false, true, false, false, false);
    levels(&d, 1000, 100000 + 1000 + 250, false, false, false, false, false);
    levels(&d, 1000, 999, false, true, false, false, false); /* clock before start: lit */
}

static void test_blink_edges(void **state)
{
    (void)state;
    struct display d = {.lamp = LAMP_AMBER, .blink = true};
    assert_int_equal(pattern_next_change(&d, 1000, 1000, 500), 1250);
    assert_int_equal(pattern_next_change(&d, 1000, 1249, 500), 1250);
    assert_int_equal(pattern_next_change(&d, 1000, 1250, 500), 1500);
    assert_int_equal(pattern_next_change(&d, 1000, 1499, 500), 1500);
    assert_int_equal(pattern_next_change(&d, 1000, 1500, 500), 1750);
    assert_int_equal(pattern_next_change(&d, 1000, 900, 500), 1250);
    /* Every edge the engine names is a real change of the lamp, and none is skipped. */
    bool out[LIGHT_COUNT], before;
    pattern_levels(&d, 1000, 1000, 500, out);
    before = out[LIGHT_AMBER];
    int64_t t = 1000;
    for (int i = 0; i < 40; i++) {
        int64_t next = pattern_next_change(&d, 1000, t, 500);
        assert_true(next > t);
        pattern_levels(&d, 1000, next - 1, 500, out);
        assert_int_equal(out[LIGHT_AMBER], before);
        pattern_levels(&d, 1000, next, 500, out);
        assert_int_not_equal(out[LIGHT_AMBER], before);
        before = out[LIGHT_AMBER];
        t = next;
    }
    assert_int_equal(t, 1000 + 40 * 250);
    assert_int_equal(pattern_next_change(&d, 0, 5, 1), -1); /* too fast to blink: steady */
    pattern_levels(&d, 0, 5, 1, out);
    assert_true(out[LIGHT_AMBER]);
}

static void test_lamp_test(void **state)
{
    (void)state;
    bool out[LIGHT_COUNT];
    static const enum light_output lit[] = {LIGHT_GREEN, LIGHT_AMBER, LIGHT_RED};
    for (int step = 0; step < LAMP_TEST_STEPS; step++) {
        assert_true(pattern_lamp_test(step, out));
        for (int o = 0; o < LIGHT_COUNT; o++) {
            bool want = o == (int)lit[step] || (o == LIGHT_BUZZER && step == 2);
            assert_int_equal(out[o], want);
        }
        assert_false(out[LIGHT_RELAY]); /* a lamp test never opens the turnstile */
    }
    assert_false(pattern_lamp_test(LAMP_TEST_STEPS, out));
    assert_false(pattern_lamp_test(-1, out));
    for (int o = 0; o < LIGHT_COUNT; o++)
        assert_false(out[o]);
    assert_string_equal(light_output_name(LIGHT_RELAY), "relay");
    assert_string_equal(light_output_name(LIGHT_COUNT), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steady_lamps), cmocka_unit_test(test_blink_phase),
        cmocka_unit_test(test_blink_edges), cmocka_unit_test(test_lamp_test),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
