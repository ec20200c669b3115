/* The pure parts of the thermal drivers: new-measurement detection and backoff. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
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
    /* A profile with a presence bit (0x0004) and no sequence. */
    struct cfg_profile pp = *builtin("gatescreen-ir"), *p = &pp;
    pp.trigger = CFG_TRIGGER_PRESENCE;
    pp.fields[CFG_F_SEQUENCE].present = false;
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

/* ---- trigger = rise: the detector on a fake clock, one sample per 50 ms poll --- */

struct rise_run {
    const struct cfg_profile *p;
    struct trigger_state t;
    int64_t now;
    int count;               /* measurements made */
    int32_t value;           /* the last one's, centi-degrees */
    bool unsettled;
    uint16_t status;
};

/* Feeds the object temperatures (centi-degrees, 0 ends) as polls 50 ms apart. */
static void feed(struct rise_run *run, const int *temps, uint16_t status, bool edges)
{
    for (; *temps != 0; temps++, run->now += 50) {
        struct thermal_sample s = {.ok = true, .body_c = *temps / 100.0, .has_status = true,
                                   .status = status, .mono_ms = run->now,
                                   .has_presence_edges = edges};
        if (!thermal_is_new(&run->t, run->p, &s))
            continue;
        run->count++;
        run->value = (int32_t)lround(s.body_c * 100.0);
        run->unsettled = s.unsettled;
        run->status = s.status;
    }
}

static void test_rise_settled(void **state)
{
    (void)state;
    struct rise_run run = {.p = builtin("pyrometer")};
    assert_int_equal(run.p->trigger, CFG_TRIGGER_RISE);
    assert_int_equal(run.p->rise.presence_min_centi, 3000);
    feed(&run, (const int[]){2150, 2150, 3300, 3640, 3650, 3660, 3650, 3650, 0}, 0, false);
    assert_int_equal(run.count, 1);          /* 3640, 3650, 3660: 3 within 0.2 °C */
    assert_int_equal(run.value, 3660);       /* the settled (last) value */
    assert_false(run.unsettled);
    feed(&run, (const int[]){3650, 3700, 3100, 3000, 0}, 0, false);
    assert_int_equal(run.count, 1);          /* still there, even at exactly 30.0: one reading */
    feed(&run, (const int[]){2999, 3640, 3640, 3640, 0}, 0, false);
    assert_int_equal(run.count, 2);          /* a fall below re-arms */
    assert_int_equal(run.value, 3640);
}

static void test_rise_baseline_and_passing_hand(void **state)
{
    (void)state;
    struct rise_run run = {.p = builtin("pyrometer")};
    /* Someone already in front at start: their value may be old; wait for a fall. */
    feed(&run, (const int[]){3650, 3650, 3650, 3650, 3650, 0}, 0, false);
    assert_int_equal(run.count, 0);
    feed(&run, (const int[]){2200, 3300, 3500, 2200, 2200, 0}, 0, false);
    assert_int_equal(run.count, 0);          /* never settled, gone within the dwell */
    thermal_forget(&run.t);                  /* device offline and back, person there */
    feed(&run, (const int[]){3650, 3650, 3650, 3650, 0}, 0, false);
    assert_int_equal(run.count, 0);
    /* A gap of failed polls in the middle of a rise: what follows needs a fall. */
    feed(&run, (const int[]){2200, 3650, 0}, 0, false);
    thermal_gap(&run.t);
    feed(&run, (const int[]){3650, 3650, 3650, 3650, 0}, 0, false);
    assert_int_equal(run.count, 0);
    feed(&run, (const int[]){2200, 3640, 3640, 3640, 0}, 0, false);
    assert_int_equal(run.count, 1);          /* after the fall, as usual */
    /* ... and across a gap while below, too (a rise half seen). */
    feed(&run, (const int[]){2200, 0}, 0, false);
    thermal_gap(&run.t);
    feed(&run, (const int[]){3640, 3640, 3640, 3640, 0}, 0, false);
    assert_int_equal(run.count, 1);
}

static void test_rise_unsettled_dwell(void **state)
{
    (void)state;
    struct rise_run run = {.p = builtin("pyrometer")};
    int wobble[48] = {2200};
    for (int i = 1; i < 47; i++)
        wobble[i] = i % 2 ? 3500 : 3600;     /* 1 °C apart, for 2.3 s */
    feed(&run, wobble, 0, false);
    assert_int_equal(run.count, 1);          /* after the 2 s dwell: a measurement ... */
    assert_true(run.unsettled);              /* ... that asks to measure again */
    struct cfg_device dev = {.lane = 0};
    struct thermal_sample s = {.ok = true, .body_c = 36.0, .unsettled = true};
    struct reading r;
    thermal_make_reading(&dev, 0, run.p, &s, 0, 0, &r);
    assert_false(r.device_valid);
}

static void test_rise_peak_and_settings(void **state)
{
    (void)state;
    struct cfg_profile pp = *builtin("pyrometer");
    pp.rise = (struct cfg_rise){.presence_min_centi = 3200, .settle_samples = 2,
                                .settle_tolerance_centi = 0, .peak = true, .dwell_ms = 300};
    struct rise_run run = {.p = &pp};
    feed(&run, (const int[]){3100, 3150, 0}, 0, false);
    assert_int_equal(run.count, 0);          /* under this profile's 32.0 */
    feed(&run, (const int[]){3300, 3710, 3690, 3600, 3650, 3650, 3650, 3650, 0}, 0x0008, false);
    assert_int_equal(run.count, 1);          /* at 300 ms after the rise */
    assert_int_equal(run.value, 3710);       /* the peak over the dwell */
    assert_int_equal(run.status, 0x0008);    /* and the status bits seen in it */
    feed(&run, (const int[]){3000, 3300, 3800, 3000, 0}, 0, false);
    assert_int_equal(run.count, 2);          /* left within the dwell: their peak */
    assert_int_equal(run.value, 3800);
    feed(&run, (const int[]){3500, 3000, 0}, 0, false);
    assert_int_equal(run.count, 2);          /* one sample is less than settle_samples */
    pp.rise.peak = false;                    /* tolerance 0: exactly equal */
    feed(&run, (const int[]){3600, 3610, 3620, 3620, 0}, 0, false);
    assert_int_equal(run.count, 3);
    assert_int_equal(run.value, 3620);
}

/* The built-in pyrometer on a lane with a presence line measures on its edges. */
static void test_rise_presence_line_wins(void **state)
{
    (void)state;
    struct rise_run run = {.p = builtin("pyrometer")};
    feed(&run, (const int[]){2200, 3650, 3650, 3650, 3650, 0}, 0, true);
    assert_int_equal(run.count, 0);          /* no edge, no measurement */
    struct cfg_profile custom = *run.p;      /* a [profile] with trigger = rise: rise */
    custom.presence_if_line = false;
    struct rise_run run2 = {.p = &custom};
    feed(&run2, (const int[]){2200, 3650, 3650, 3650, 3650, 0}, 0, true);
    assert_int_equal(run2.count, 1);
}

/* Calex PyroUSB/PyroMini "List of Modbus Addresses": holding registers, tenths of
 * a degree; 0x15 status bits active high. */
#define CX_AVG 0x0F
#define CX_OBJECT 0x13  /* unfiltered object temperature */
#define CX_SENSOR 0x14  /* the sensor's own (ambient) temperature */
#define CX_STATUS 0x15
#define CX_IMAGE 0x20

/* What a poller reads from a device whose registers are `image`: each block of
 * the profile in turn, as modbus_poll.c lays them out. */
static int read_image(const struct cfg_profile *p, const uint16_t *image,
                      struct regmap *m, uint16_t *regs)
{
    regmap_init(m, p);
    for (int b = 0; b < p->nblocks; b++)
        for (int k = 0; k < p->blocks[b].count; k++)
            regs[m->offset[b] + k] = image[p->blocks[b].start + k];
    return m->nregs;
}

/* A person in front of a Calex pyrometer on a lane with no presence line: the
 * object temperature rises from the background to the skin's and falls back.
 * Polls every 50 ms; returns the readings the built-in profile made of it. */
static int calex_pass(uint16_t status, struct reading *out, int max)
{
    const struct cfg_profile *p = builtin("pyrometer");
    static const int16_t object[] = {215, 216, 215, 300, 364, 365, 365, 365, 365, 365, 364,
                                     260, 216, 215, 215};
    uint16_t image[CX_IMAGE] = {0}, regs[64];
    struct cfg_device dev = {.lane = 0};
    struct trigger_state t = {0};
    struct regmap m;
    int n = 0;
    for (size_t i = 0; i < sizeof object / sizeof object[0]; i++) {
        for (int a = CX_AVG; a <= CX_OBJECT; a++)
            image[a] = (uint16_t)object[i];
        image[CX_SENSOR] = 240; /* 24.0 °C */
        image[CX_STATUS] = status;
        read_image(p, image, &m, regs);
        struct thermal_sample s;
        if (thermal_decode(&m, regs, &s) < 0)
            continue;
        s.mono_ms = (int64_t)i * 50;
        if (thermal_is_new(&t, p, &s) && n < max)
            thermal_make_reading(&dev, 0, p, &s, s.mono_ms, 0, &out[n++]);
    }
    return n;
}

/* Issue 18: the built-in profile against the device's real map. */
static void test_calex_map(void **state)
{
    (void)state;
    struct reading r[4];
    int n = calex_pass(0, r, 4);
    print_message("calex pass, status 0: %d reading(s)\n", n);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].raw_centi, 3650);
    assert_true(r[0].has_ambient);
    assert_int_equal(r[0].ambient_centi, 2400);
    assert_true(r[0].device_valid);
    assert_false(r[0].device_fault);
    for (int bit = 0; bit < 5; bit++) { /* every status bit is a device fault */
        n = calex_pass((uint16_t)(1u << bit), r, 4);
        print_message("calex pass, status bit %d: %d reading(s), fault %d\n", bit, n,
                      n > 0 ? r[0].device_fault : -1);
        assert_int_equal(n, 1);
        assert_true(r[0].device_fault);
    }
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
        cmocka_unit_test(test_gpio_presence_trigger), cmocka_unit_test(test_calex_map),
        cmocka_unit_test(test_rise_settled), cmocka_unit_test(test_rise_baseline_and_passing_hand),
        cmocka_unit_test(test_rise_unsettled_dwell), cmocka_unit_test(test_rise_peak_and_settings),
        cmocka_unit_test(test_rise_presence_line_wins),
        cmocka_unit_test(test_reading_fields), cmocka_unit_test(test_backoff_schedule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
