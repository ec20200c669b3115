/* The screening rules (docs/design.md, "At the gate"): reading quality, the
 * decision table and the light of each decision. No I/O, no clock: everything comes
 * in as arguments. */
#include "screening.h"

#include <stddef.h>

static const char *const quality_names[] = {
    [Q_VALID] = "valid",
    [Q_OUT_OF_RANGE] = "out_of_range",
    [Q_FAULT] = "fault",
    [Q_NO_MEASUREMENT] = "no_measurement",
};

static const char *const outcome_names[] = {
    [OUT_ADMIT] = "admit",
    [OUT_FEVER] = "fever",
    [OUT_INVALID] = "invalid",
    [OUT_UNKNOWN_CARD] = "unknown_card",
    [OUT_NO_IDENTITY] = "no_identity",
    [OUT_SEE_NURSE] = "see_nurse",
    [OUT_NO_MEASUREMENT] = "no_measurement",
};

const char *quality_name(enum reading_quality q)
{
    return (unsigned)q < sizeof quality_names / sizeof quality_names[0] ? quality_names[q] : "?";
}

const char *outcome_name(enum outcome o)
{
    return (unsigned)o < OUT_COUNT ? outcome_names[o] : "?";
}

const char *lamp_name(enum lamp l)
{
    static const char *const names[] = {"off", "green", "amber", "red"};
    return (unsigned)l < 4 ? names[l] : "?";
}

/* A fault wins over everything: the value of a faulty sensor means nothing. A
 * device that says "not valid" judged the measurement out of its own range. */
enum reading_quality screening_quality(const struct cfg_screening *s, const struct reading *r)
{
    if (r->device_fault)
        return Q_FAULT;
    if (!r->device_valid || r->body_centi < s->valid_min_centi ||
        r->body_centi > s->valid_max_centi)
        return Q_OUT_OF_RANGE;
    return Q_VALID;
}

/* The decision table, first matching row wins (README "What the lights mean"):
 * a fever is always a fever, whoever it is (the nurse must see them); a card that
 * is not ours is never let in; then measure-again, missing identity, the nurse's
 * open business, and only then green. */
static enum outcome decide_outcome(const struct cfg_screening *s, const struct decision_input *in,
                                   bool fever)
{
    bool stranger = in->has_identity && !(in->person.known && in->person.active);
    if (fever)
        return OUT_FEVER;
    if (stranger)
        return OUT_UNKNOWN_CARD;
    if (!in->has_measurement)
        return OUT_NO_MEASUREMENT;
    if (in->quality != Q_VALID || in->device_alarm)
        return OUT_INVALID;
    if (!in->has_identity && s->identity_required)
        return OUT_NO_IDENTITY;
    if (in->person.open_case || in->person.needs_certificate || in->person.untraced_absence)
        return OUT_SEE_NURSE;
    if (in->person.observation && s->observation_refer)
        return OUT_SEE_NURSE;
    return OUT_ADMIT;
}

void screening_decide(const struct cfg_screening *s, const struct decision_input *in,
                      struct decision *out)
{
    bool valid = in->has_measurement && in->quality == Q_VALID;
    out->fever = valid && in->body_centi >= s->threshold_centi;
    out->outcome = decide_outcome(s, in, out->fever);
    out->opens_flag = out->fever;
    out->observed = in->person.observation && in->person.known && in->person.active;
    /* Only someone we know, measured properly (and not refused by the device itself),
     * has had their check. */
    out->is_check = valid && !(in->device_alarm && !out->fever) && in->has_identity &&
                    in->person.known && in->person.active;
}

void screening_display(const struct cfg_screening *s, enum outcome o, struct display *out)
{
    *out = (struct display){.lamp = LAMP_AMBER};
    switch (o) {
    case OUT_ADMIT:
        out->lamp = LAMP_GREEN;
        out->relay = true;
        out->hold_ms = s->hold_admit_ms;
        break;
    case OUT_FEVER:
        out->lamp = LAMP_RED;
        out->buzzer = s->buzzer_ms > 0;
        out->buzzer_ms = s->buzzer_ms;
        out->hold_ms = s->hold_fever_ms;
        break;
    case OUT_UNKNOWN_CARD:
    case OUT_NO_IDENTITY:
        out->lamp = LAMP_RED;
        out->hold_ms = s->hold_deny_ms;
        break;
    case OUT_INVALID:
        out->hold_ms = s->hold_invalid_ms;
        break;
    case OUT_SEE_NURSE:
        out->hold_ms = s->hold_nurse_ms;
        break;
    case OUT_NO_MEASUREMENT:
    case OUT_COUNT:
        out->hold_ms = s->hold_no_measurement_ms;
        break;
    }
}
