/* The screening rules: what a reading is worth and what the lane shows. Pure
 * functions of (reading, identity, person state, config); the decision table is
 * documented in README.md ("What the lights mean") and tested row by row in
 * tests/unit/test_screening.c. */
#ifndef GS_SCREENING_H
#define GS_SCREENING_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "thermal.h"

/* As stored in readings.quality. */
enum reading_quality {
    Q_VALID,          /* a body temperature within valid_min..valid_max, device happy */
    Q_OUT_OF_RANGE,   /* outside the plausible range, or the device flagged it not valid */
    Q_FAULT,          /* the device's fault bit */
    Q_NO_MEASUREMENT, /* a card (or presence) without a measurement in time */
};
const char *quality_name(enum reading_quality q);

/* As stored in readings.outcome; each has its light (screening_display). */
enum outcome {
    OUT_ADMIT,          /* green */
    OUT_FEVER,          /* red + buzzer: fever screen, recheck flag opened */
    OUT_INVALID,        /* amber: measure again */
    OUT_UNKNOWN_CARD,   /* red: card not in the roster (or its holder inactive) */
    OUT_NO_IDENTITY,    /* red: identity required but none came */
    OUT_SEE_NURSE,      /* amber: open flag or referral, no return certificate, an
                         * earlier absence without a cause, or under observation with
                         * [screening] observation = refer */
    OUT_NO_MEASUREMENT, /* amber: card or presence, but no measurement in time */
    OUT_COUNT
};
const char *outcome_name(enum outcome o);

enum reading_quality screening_quality(const struct cfg_screening *s, const struct reading *r);

/* What the ledger knows of the card's holder at decision time. */
struct person_state {
    bool known;             /* the card belongs to someone in the roster */
    bool active;
    bool open_case;         /* an open fever flag, or a referral without outcome */
    bool needs_certificate; /* back after illness, no return certificate recorded */
    bool untraced_absence;  /* back after an absence whose cause is still unknown */
    bool observation;       /* under health observation that day (健康观察) */
};

struct decision_input {
    bool has_measurement;
    enum reading_quality quality;
    int32_t body_centi;
    bool has_identity;      /* a card was presented (known or not) */
    struct person_state person;
    bool device_alarm;      /* the device itself called the temperature abnormal (an HTTP
                             * terminal's verdict): below our threshold it is measured
                             * again by hand, never green */
};

struct decision {
    enum outcome outcome;
    bool fever;            /* valid reading at or above the threshold */
    bool is_check;         /* may count as the person's check for the window */
    bool opens_flag;       /* a recheck flag for the nurse */
    bool observed;         /* a known person under observation: the reading is noted
                            * ([screening] observation = note admits them) */
};

void screening_decide(const struct cfg_screening *s, const struct decision_input *in,
                      struct decision *out);

/* The lights of a decision. */
enum lamp { LAMP_OFF, LAMP_GREEN, LAMP_AMBER, LAMP_RED };
struct display {
    enum lamp lamp;
    bool blink;
    bool buzzer;
    bool relay;        /* admit: the turnstile may open (driven only with enforce = hard) */
    int64_t hold_ms;   /* how long the pattern stays; 0 = until replaced */
    int64_t buzzer_ms; /* how long the buzzer sounds, from the start */
};
void screening_display(const struct cfg_screening *s, enum outcome o, struct display *out);
const char *lamp_name(enum lamp l);

#endif
