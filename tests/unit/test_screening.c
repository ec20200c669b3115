/* The screening rules: reading quality, the decision table row by row (and its
 * edges), the lights of each outcome, and the names stored in the ledger. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "screening.h"

/* The defaults of config/gatescreen.conf, with distinct hold times so that a
 * mixed-up hold shows. */
static struct cfg_screening defaults(void)
{
    return (struct cfg_screening){
        .threshold_centi = 3730, .valid_min_centi = 3400, .valid_max_centi = 4300,
        .identity_required = true, .pair_window_ms = 5000,
        .hold_admit_ms = 2000, .hold_fever_ms = 10000, .hold_invalid_ms = 3000,
        .hold_deny_ms = 5000, .hold_nurse_ms = 6000, .hold_no_measurement_ms = 3500,
        .buzzer_ms = 3000, .blink_period_ms = 500, .observation_refer = true,
    };
}

/* ---- quality -------------------------------------------------------------------- */

struct quality_row {
    const char *what;
    int32_t body;
    bool device_valid, device_fault;
    enum reading_quality want;
};

static const struct quality_row quality_table[] = {
    {"normal", 3650, true, false, Q_VALID},
    {"valid_min is valid", 3400, true, false, Q_VALID},
    {"one centi below valid_min", 3399, true, false, Q_OUT_OF_RANGE},
    {"valid_max is valid", 4300, true, false, Q_VALID},
    {"one centi above valid_max", 4301, true, false, Q_OUT_OF_RANGE},
    {"negative", -500, true, false, Q_OUT_OF_RANGE},
    {"device says not valid", 3650, false, false, Q_OUT_OF_RANGE},
    {"fault wins over a good value", 3650, true, true, Q_FAULT},
    {"fault wins over not valid", 3650, false, true, Q_FAULT},
    {"fault wins over out of range", 2000, true, true, Q_FAULT},
};

static void test_quality_table(void **state)
{
    (void)state;
    struct cfg_screening s = defaults();
    for (size_t i = 0; i < sizeof quality_table / sizeof quality_table[0]; i++) {
        const struct quality_row *q = &quality_table[i];
        struct reading r = {.body_centi = q->body, .device_valid = q->device_valid,
                            .device_fault = q->device_fault};
        enum reading_quality got = screening_quality(&s, &r);
        if (got != q->want)
            fail_msg("%s: got %s, want %s", q->what, quality_name(got), quality_name(q->want));
    }
}

static void test_quality_follows_configured_range(void **state)
{
    (void)state;
    struct cfg_screening s = defaults();
    s.valid_min_centi = 3500;
    s.valid_max_centi = 4000;
    struct reading r = {.device_valid = true, .body_centi = 3499};
    assert_int_equal(screening_quality(&s, &r), Q_OUT_OF_RANGE);
    r.body_centi = 3500;
    assert_int_equal(screening_quality(&s, &r), Q_VALID);
    r.body_centi = 4000;
    assert_int_equal(screening_quality(&s, &r), Q_VALID);
    r.body_centi = 4001;
    assert_int_equal(screening_quality(&s, &r), Q_OUT_OF_RANGE);
}

/* ---- the decision table --------------------------------------------------------- */

enum who { NOBODY, KNOWN, STRANGER, INACTIVE, OPEN_CASE, NEEDS_CERT, UNTRACED, OBSERVED };
enum { NO_MEAS = -1 }; /* body value meaning "no measurement" */

struct decide_row {
    const char *what;
    int threshold;           /* 0: the default 37.30 */
    bool optional_identity;  /* identity_required = no */
    enum who who;
    int32_t body;            /* NO_MEAS: none */
    enum reading_quality quality;
    enum outcome want;
    bool fever, is_check, opens_flag;
};

#define V Q_VALID
static const struct decide_row decide_table[] = {
    /* threshold edges */
    {"37.29 known → admit", 0, false, KNOWN, 3729, V, OUT_ADMIT, false, true, false},
    {"37.30 known → fever", 0, false, KNOWN, 3730, V, OUT_FEVER, true, true, true},
    {"37.30 at threshold 37.50 → admit", 3750, false, KNOWN, 3730, V, OUT_ADMIT, false, true,
     false},
    {"37.49 at threshold 37.50 → admit", 3750, false, KNOWN, 3749, V, OUT_ADMIT, false, true,
     false},
    {"37.50 at threshold 37.50 → fever", 3750, false, KNOWN, 3750, V, OUT_FEVER, true, true,
     true},
    {"37.00 at threshold 37.00 → fever", 3700, false, KNOWN, 3700, V, OUT_FEVER, true, true,
     true},
    /* fever wins */
    {"fever over unknown card", 0, false, STRANGER, 3800, V, OUT_FEVER, true, false, true},
    {"fever over inactive holder", 0, false, INACTIVE, 3800, V, OUT_FEVER, true, false, true},
    {"fever over open case", 0, false, OPEN_CASE, 3800, V, OUT_FEVER, true, true, true},
    {"fever over missing certificate", 0, false, NEEDS_CERT, 3800, V, OUT_FEVER, true, true,
     true},
    {"fever without identity (required)", 0, false, NOBODY, 3800, V, OUT_FEVER, true, false,
     true},
    {"fever anonymous (optional)", 0, true, NOBODY, 3800, V, OUT_FEVER, true, false, true},
    /* strangers */
    {"unknown card → unknown_card", 0, false, STRANGER, 3650, V, OUT_UNKNOWN_CARD, false, false,
     false},
    {"inactive holder → unknown_card", 0, false, INACTIVE, 3650, V, OUT_UNKNOWN_CARD, false,
     false, false},
    {"unknown card, identity optional", 0, true, STRANGER, 3650, V, OUT_UNKNOWN_CARD, false,
     false, false},
    {"unknown card without measurement", 0, false, STRANGER, NO_MEAS, Q_NO_MEASUREMENT,
     OUT_UNKNOWN_CARD, false, false, false},
    {"unknown card with an invalid reading", 0, false, STRANGER, 4400, Q_OUT_OF_RANGE,
     OUT_UNKNOWN_CARD, false, false, false},
    /* no measurement */
    {"known card, no measurement", 0, false, KNOWN, NO_MEAS, Q_NO_MEASUREMENT,
     OUT_NO_MEASUREMENT, false, false, false},
    {"presence only, no measurement", 0, false, NOBODY, NO_MEAS, Q_NO_MEASUREMENT,
     OUT_NO_MEASUREMENT, false, false, false},
    {"open case, no measurement", 0, false, OPEN_CASE, NO_MEAS, Q_NO_MEASUREMENT,
     OUT_NO_MEASUREMENT, false, false, false},
    /* invalid readings: measure again, never a fever, never a check */
    {"out of range with identity", 0, false, KNOWN, 4400, Q_OUT_OF_RANGE, OUT_INVALID, false,
     false, false},
    {"fault with a feverish value", 0, false, KNOWN, 3800, Q_FAULT, OUT_INVALID, false, false,
     false},
    {"device not valid, normal value", 0, false, KNOWN, 3650, Q_OUT_OF_RANGE, OUT_INVALID,
     false, false, false},
    {"invalid without identity", 0, false, NOBODY, 3300, Q_OUT_OF_RANGE, OUT_INVALID, false,
     false, false},
    {"invalid with open case", 0, false, OPEN_CASE, 3300, Q_OUT_OF_RANGE, OUT_INVALID, false,
     false, false},
    /* identity */
    {"no identity, required → no_identity", 0, false, NOBODY, 3650, V, OUT_NO_IDENTITY, false,
     false, false},
    {"no identity, optional → admit", 0, true, NOBODY, 3650, V, OUT_ADMIT, false, false, false},
    /* the nurse's open business */
    {"open case → see_nurse", 0, false, OPEN_CASE, 3650, V, OUT_SEE_NURSE, false, true, false},
    {"needs certificate → see_nurse", 0, false, NEEDS_CERT, 3650, V, OUT_SEE_NURSE, false, true,
     false},
    {"untraced absence → see_nurse", 0, false, UNTRACED, 3650, V, OUT_SEE_NURSE, false, true,
     false},
    {"fever over untraced absence", 0, false, UNTRACED, 3800, V, OUT_FEVER, true, true, true},
    {"known, optional identity → admit", 0, true, KNOWN, 3650, V, OUT_ADMIT, false, true, false},
    /* health observation, [screening] observation = refer (the default) */
    {"under observation → see_nurse", 0, false, OBSERVED, 3650, V, OUT_SEE_NURSE, false, true,
     false},
    {"fever under observation → fever", 0, false, OBSERVED, 3800, V, OUT_FEVER, true, true,
     true},
    {"under observation, invalid → invalid", 0, false, OBSERVED, 4400, Q_OUT_OF_RANGE,
     OUT_INVALID, false, false, false},
};
#undef V

static struct decision_input input_of(const struct decide_row *t)
{
    struct decision_input in = {.has_measurement = t->body != NO_MEAS, .quality = t->quality,
                                .body_centi = t->body == NO_MEAS ? 0 : t->body,
                                .has_identity = t->who != NOBODY};
    in.person.known = t->who != NOBODY && t->who != STRANGER;
    in.person.active = in.person.known && t->who != INACTIVE;
    in.person.open_case = t->who == OPEN_CASE;
    in.person.needs_certificate = t->who == NEEDS_CERT;
    in.person.untraced_absence = t->who == UNTRACED;
    in.person.observation = t->who == OBSERVED;
    return in;
}

static void test_decision_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof decide_table / sizeof decide_table[0]; i++) {
        const struct decide_row *t = &decide_table[i];
        struct cfg_screening s = defaults();
        if (t->threshold)
            s.threshold_centi = t->threshold;
        s.identity_required = !t->optional_identity;
        struct decision_input in = input_of(t);
        struct decision d;
        memset(&d, 0xa5, sizeof d);
        screening_decide(&s, &in, &d);
        if (d.outcome != t->want || d.fever != t->fever || d.is_check != t->is_check ||
            d.opens_flag != t->opens_flag)
            fail_msg("%s: got %s fever=%d check=%d flag=%d, want %s fever=%d check=%d flag=%d",
                     t->what, outcome_name(d.outcome), d.fever, d.is_check, d.opens_flag,
                     outcome_name(t->want), t->fever, t->is_check, t->opens_flag);
    }
}

/* A feverish value behind a quality other than valid is never a fever, whatever
 * the value. */
static void test_fever_needs_a_valid_reading(void **state)
{
    (void)state;
    struct cfg_screening s = defaults();
    const enum reading_quality bad[] = {Q_OUT_OF_RANGE, Q_FAULT, Q_NO_MEASUREMENT};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct decision_input in = {.has_measurement = true, .quality = bad[i],
                                    .body_centi = 3900, .has_identity = true,
                                    .person = {.known = true, .active = true}};
        struct decision d;
        screening_decide(&s, &in, &d);
        assert_false(d.fever);
        assert_false(d.opens_flag);
        assert_false(d.is_check);
        assert_int_equal(d.outcome, OUT_INVALID);
    }
}

/* An HTTP terminal's own "abnormal" verdict (review of issue 18's first slice): below
 * our threshold the person is measured again by hand (amber), never admitted and not
 * counted as checked; at or over it, our fever decision stands. */
static void test_device_alarm_is_never_green(void **state)
{
    (void)state;
    struct cfg_screening s = defaults();
    const struct {
        int32_t body;
        bool identity, optional;
        enum outcome want;
        bool fever, is_check;
    } rows[] = {
        {3700, true, false, OUT_INVALID, false, false},
        {3500, true, false, OUT_INVALID, false, false},
        {3650, false, true, OUT_INVALID, false, false},
        {3800, true, false, OUT_FEVER, true, true},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        s.identity_required = !rows[i].optional;
        struct decision_input in = {.has_measurement = true, .quality = Q_VALID,
                                    .body_centi = rows[i].body,
                                    .has_identity = rows[i].identity,
                                    .person = {.known = rows[i].identity,
                                               .active = rows[i].identity},
                                    .device_alarm = true};
        struct decision d;
        screening_decide(&s, &in, &d);
        assert_int_equal(d.outcome, rows[i].want);
        assert_int_equal(d.fever, rows[i].fever);
        assert_int_equal(d.opens_flag, rows[i].fever);
        assert_int_equal(d.is_check, rows[i].is_check);
        in.device_alarm = false; /* the same reading without the alarm is not amber */
        screening_decide(&s, &in, &d);
        assert_int_not_equal(d.outcome, rows[i].want == OUT_INVALID ? OUT_INVALID : OUT_COUNT);
    }
}

/* ---- lights ------------------------------------------------------------------------ */

struct display_row {
    enum outcome o;
    enum lamp lamp;
    bool buzzer, relay;
    int64_t hold_ms, buzzer_ms;
};

static const struct display_row display_table[] = {
    {OUT_ADMIT, LAMP_GREEN, false, true, 2000, 0},
    {OUT_FEVER, LAMP_RED, true, false, 10000, 3000},
    {OUT_INVALID, LAMP_AMBER, false, false, 3000, 0},
    {OUT_UNKNOWN_CARD, LAMP_RED, false, false, 5000, 0},
    {OUT_NO_IDENTITY, LAMP_RED, false, false, 5000, 0},
    {OUT_SEE_NURSE, LAMP_AMBER, false, false, 6000, 0},
    {OUT_NO_MEASUREMENT, LAMP_AMBER, false, false, 3500, 0},
};

static void test_display_per_outcome(void **state)
{
    (void)state;
    struct cfg_screening s = defaults();
    for (size_t i = 0; i < sizeof display_table / sizeof display_table[0]; i++) {
        const struct display_row *t = &display_table[i];
        struct display d;
        memset(&d, 0xa5, sizeof d);
        screening_display(&s, t->o, &d);
        if (d.lamp != t->lamp || d.blink || d.buzzer != t->buzzer || d.relay != t->relay ||
            d.hold_ms != t->hold_ms || d.buzzer_ms != t->buzzer_ms)
            fail_msg("%s: got %s blink=%d buzzer=%d relay=%d hold=%lld buzz=%lld",
                     outcome_name(t->o), lamp_name(d.lamp), d.blink, d.buzzer, d.relay,
                     (long long)d.hold_ms, (long long)d.buzzer_ms);
    }
}

static void test_display_follows_config(void **state)
{
    (void)state;
    struct cfg_screening s = defaults();
    s.hold_fever_ms = 300;
    s.buzzer_ms = 100;
    s.hold_admit_ms = 150;
    struct display d;
    screening_display(&s, OUT_FEVER, &d);
    assert_int_equal(d.hold_ms, 300);
    assert_int_equal(d.buzzer_ms, 100);
    assert_true(d.buzzer);
    screening_display(&s, OUT_ADMIT, &d);
    assert_int_equal(d.hold_ms, 150);
}

static void test_silent_buzzer(void **state)
{
    (void)state;
    struct cfg_screening s = defaults();
    s.buzzer_ms = 0;
    struct display d;
    screening_display(&s, OUT_FEVER, &d);
    assert_int_equal(d.lamp, LAMP_RED);
    assert_false(d.buzzer);
}

/* ---- names -------------------------------------------------------------------------- */

static void test_outcome_and_lamp_names(void **state)
{
    (void)state;
    static const char *const want[OUT_COUNT] = {
        "admit", "fever", "invalid", "unknown_card", "no_identity", "see_nurse",
        "no_measurement"};
    for (int o = 0; o < OUT_COUNT; o++)
        assert_string_equal(outcome_name((enum outcome)o), want[o]);
    assert_string_equal(outcome_name(OUT_COUNT), "?");
    assert_string_equal(lamp_name(LAMP_OFF), "off");
    assert_string_equal(lamp_name(LAMP_GREEN), "green");
    assert_string_equal(lamp_name(LAMP_AMBER), "amber");
    assert_string_equal(lamp_name(LAMP_RED), "red");
    assert_string_equal(lamp_name((enum lamp)4), "?");
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* readings.quality has a CHECK constraint: every name must be in its list, and
 * the list must hold nothing else. */
static void test_quality_names_match_schema(void **state)
{
    (void)state;
    char *sql = read_text(GS_SOURCE_DIR "/sql/001_initial.sql");
    char *check = strstr(sql, "CHECK (quality IN (");
    assert_non_null(check);
    char *end = strstr(check, "))");
    assert_non_null(end);
    *end = '\0';
    int quotes = 0;
    for (const char *p = check; *p; p++)
        quotes += *p == '\'';
    const enum reading_quality all[] = {Q_VALID, Q_OUT_OF_RANGE, Q_FAULT, Q_NO_MEASUREMENT};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        char quoted[40];
        snprintf(quoted, sizeof quoted, "'%s'", quality_name(all[i]));
        if (!strstr(check, quoted))
            fail_msg("quality %s is not allowed by the schema", quoted);
    }
    assert_int_equal(quotes, 2 * 4); /* four names, nothing else */
    assert_string_equal(quality_name((enum reading_quality)4), "?");
}

/* [screening] observation = note: admitted as anyone else, the reading noted; refer
 * sends them to the nurse. Only a known, active person is "observed". */
static void test_observation_refer_or_note(void **state)
{
    (void)state;
    struct cfg_screening s = defaults();
    struct decision_input in = {.has_measurement = true, .quality = Q_VALID, .body_centi = 3650,
                                .has_identity = true,
                                .person = {.known = true, .active = true, .observation = true}};
    struct decision d;
    screening_decide(&s, &in, &d);
    assert_int_equal(d.outcome, OUT_SEE_NURSE);
    assert_true(d.observed);
    s.observation_refer = false;
    screening_decide(&s, &in, &d);
    assert_int_equal(d.outcome, OUT_ADMIT);
    assert_true(d.observed && d.is_check);
    in.person.observation = false;
    screening_decide(&s, &in, &d);
    assert_false(d.observed);
    in.person = (struct person_state){.known = true, .active = false, .observation = true};
    screening_decide(&s, &in, &d);
    assert_int_equal(d.outcome, OUT_UNKNOWN_CARD);
    assert_false(d.observed);
}

int main(void)
{
    log_init("test_screening", LOG_LVL_ERR, LOG_OUT_PLAIN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quality_table),
        cmocka_unit_test(test_quality_follows_configured_range),
        cmocka_unit_test(test_decision_table),
        cmocka_unit_test(test_fever_needs_a_valid_reading),
        cmocka_unit_test(test_device_alarm_is_never_green),
        cmocka_unit_test(test_display_per_outcome),
        cmocka_unit_test(test_display_follows_config),
        cmocka_unit_test(test_silent_buzzer),
        cmocka_unit_test(test_outcome_and_lamp_names),
        cmocka_unit_test(test_quality_names_match_schema),
        cmocka_unit_test(test_observation_refer_or_note),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
