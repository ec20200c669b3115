/* The pure parts of the thermal drivers: new-measurement detection and backoff. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "backoff.h"
#include "config_load.h"
#include "thermal.h"

static const struct cfg_profile *builtin(const char *name)
{
    int n;
    const struct cfg_profile *p = config_builtin_profiles(&n);
    for (int i = 0; i < n; i++)
        if (strcmp(p[i].name, name) == 0)
            return &p[i];
    return NULL;
}

static struct thermal_sample sample(uint32_t seq, uint16_t status)
{
    struct thermal_sample s = {.ok = true, .body_c = 36.5, .has_status = true,
                               .status = status, .has_sequence = true, .sequence = seq};
    return s;
}

static void test_sequence_trigger(void **state)
{
    (void)state;
    const struct cfg_profile *p = builtin("gatescreen-ir");
    struct trigger_state t = {0};
    struct thermal_sample s = sample(7, 5);
    assert_int_equal(thermal_is_new(&t, p, &s), 0); /* baseline: may be an old value */
    assert_int_equal(thermal_is_new(&t, p, &s), 0); /* stale */
    s.sequence = 8;
    assert_int_equal(thermal_is_new(&t, p, &s), 1);
    assert_int_equal(thermal_is_new(&t, p, &s), 0);
    s.sequence = 0; /* wrapped or the unit restarted: still a change */
    assert_int_equal(thermal_is_new(&t, p, &s), 1);
    thermal_forget(&t); /* device was offline */
    s.sequence = 1;
    assert_int_equal(thermal_is_new(&t, p, &s), 0);
}

static void test_presence_trigger(void **state)
{
    (void)state;
    const struct cfg_profile *p = builtin("pyrometer");
    assert_int_equal(p->trigger, CFG_TRIGGER_PRESENCE);
    struct trigger_state t = {0};
    struct thermal_sample s = sample(0, 0x0004);
    s.has_sequence = false;
    assert_int_equal(thermal_is_new(&t, p, &s), 0); /* present at start: unknown age */
    s.status = 0;
    assert_int_equal(thermal_is_new(&t, p, &s), 0);
    s.status = 0x0005;
    assert_int_equal(thermal_is_new(&t, p, &s), 1); /* rising edge */
    assert_int_equal(thermal_is_new(&t, p, &s), 0); /* still there */
}

/* A GPIO presence sensor on the lane: each new rising edge (counted by the input
 * thread) makes the next poll a measurement, with or without a presence bit. */
static void test_gpio_presence_trigger(void **state)
{
    (void)state;
    const struct cfg_profile *p = builtin("pyrometer");
    struct trigger_state t = {0};
    struct thermal_sample s = sample(0, 0);
    s.has_sequence = false;
    s.has_presence_edges = true;
    s.presence_edges = 4;
    assert_int_equal(thermal_is_new(&t, p, &s), 0); /* baseline */
    assert_int_equal(thermal_is_new(&t, p, &s), 0); /* no new edge */
    s.presence_edges = 5;
    assert_int_equal(thermal_is_new(&t, p, &s), 1);
    assert_int_equal(thermal_is_new(&t, p, &s), 0); /* one measurement per edge */
    s.presence_edges = 7;                           /* two edges between polls: one reading */
    assert_int_equal(thermal_is_new(&t, p, &s), 1);
    s.status = 0x0004;                              /* the device's own bit rises: */
    assert_int_equal(thermal_is_new(&t, p, &s), 0); /* the sensor decides, not twice */
    s.presence_edges = 8;
    assert_int_equal(thermal_is_new(&t, p, &s), 1);
    thermal_forget(&t);                             /* device was offline */
    s.presence_edges = 9;
    assert_int_equal(thermal_is_new(&t, p, &s), 0); /* its value may be old */
    const struct cfg_profile *ir = builtin("gatescreen-ir"); /* sequence trigger: edges ignored */
    struct trigger_state t2 = {0};
    struct thermal_sample q = sample(3, 5);
    q.has_presence_edges = true;
    assert_int_equal(thermal_is_new(&t2, ir, &q), 0);
    q.presence_edges = 1;
    assert_int_equal(thermal_is_new(&t2, ir, &q), 0);
}

static void test_reading_fields(void **state)
{
    (void)state;
    const struct cfg_profile *p = builtin("gatescreen-ir");
    struct cfg_device dev = {.lane = 3, .offset_centi = 45};
    struct thermal_sample s = sample(9, 0x0003); /* valid + fault */
    s.body_c = 36.72;
    s.has_card = true;
    s.card = 123456;
    struct reading r;
    thermal_make_reading(&dev, 2, p, &s, 1000, 2000, &r);
    assert_int_equal(r.device, 2);
    assert_int_equal(r.lane, 3);
    assert_int_equal(r.raw_centi, 3672);
    assert_int_equal(r.body_centi, 3717);
    assert_true(r.device_valid);
    assert_true(r.device_fault);
    assert_int_equal(r.card, 123456);
    s.status = 0x0004; /* present, not valid */
    thermal_make_reading(&dev, 2, p, &s, 1000, 2000, &r);
    assert_false(r.device_valid);
    assert_false(r.device_fault);
}

static void test_backoff_schedule(void **state)
{
    (void)state;
    struct backoff b = {.min_ms = 100, .max_ms = 1000};
    uint32_t rng = 12345;
    int64_t base[] = {100, 200, 400, 800, 1000, 1000};
    for (int i = 0; i < 6; i++) {
        int64_t d = backoff_next(&b, &rng);
        assert_int_equal(b.current_ms, base[i]);
        assert_true(d >= base[i] * 8 / 10 && d < base[i] * 12 / 10);
    }
    backoff_reset(&b);
    assert_true(backoff_next(&b, &rng) < 120);
    /* Jitter really varies (units do not retry in step). */
    int64_t seen_min = 1 << 30, seen_max = 0;
    for (int i = 0; i < 100; i++) {
        struct backoff c = {.min_ms = 1000, .max_ms = 1000};
        int64_t d = backoff_next(&c, &rng);
        seen_min = d < seen_min ? d : seen_min;
        seen_max = d > seen_max ? d : seen_max;
    }
    assert_true(seen_max - seen_min > 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sequence_trigger), cmocka_unit_test(test_presence_trigger),
        cmocka_unit_test(test_gpio_presence_trigger),
        cmocka_unit_test(test_reading_fields), cmocka_unit_test(test_backoff_schedule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
