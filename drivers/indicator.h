/* Indicators: what a lane's lights, buzzer and relay show (docs/design.md,
 * "At the gate"). The lane decides *what* to show (lane.c); a backend shows it.
 * Backends: console (one line per change, for the demo), test (one key=value line
 * per change in a file, for the tests), and GPIO (lights on the gate controller's
 * GPIO lines). A backend is one `const struct indicator_ops`; its handle serves
 * every lane that uses it. */
#ifndef GS_INDICATOR_H
#define GS_INDICATOR_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "loop.h"
#include "screening.h"

/* One change of a lane's lights, with what caused it (for the console and logs). */
struct indicator_change {
    int lane;                 /* index into the config */
    struct display display;   /* relay already masked by the lane's enforce mode */
    enum outcome outcome;     /* OUT_COUNT: no decision shown (idle, offline, fault) */
    const char *reason;       /* when outcome is OUT_COUNT: "idle", "offline", "ledger-error" */
    const char *person;       /* "S2020001 王小明 一年级1班", "card 12345", or "" */
    const char *external_id;  /* "S2020001", or "" when nobody known */
    bool has_body;
    int32_t body_centi;
    int64_t mono_us;          /* when the lights were set, CLOCK_MONOTONIC */
    int64_t wall_ms;
    int64_t decided_from_us;  /* when the reading/card that led here was received; 0 if none */
};

struct indicator_ops {
    const char *name;
    /* NULL (with the reason logged) on failure. `loop` is the main loop, for
     * backends that change lines over time (blinking). */
    void *(*open)(const struct config *cfg, struct loop *loop);
    /* Shows the change; -1 if the hardware refused (logged by the backend). */
    int (*set)(void *h, const struct config *cfg, const struct indicator_change *c);
    void (*close)(void *h);
};

extern const struct indicator_ops indicator_console;
extern const struct indicator_ops indicator_test;
extern const struct indicator_ops indicator_gpio;

/* The backend for a lane's `indicator =`, or NULL when this build has none. */
const struct indicator_ops *indicator_backend(enum cfg_indicator kind);

#endif
