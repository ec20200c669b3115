/* What a lane's output lines show over time for one display: which lamp, the
 * blink phase, buzzer and relay, and the lamp test at start-up. Pure: the GPIO
 * indicator asks it for levels at `now` and for when they next change. Holds and
 * the buzzer's length are the lane's business (it sends a new display). */
#ifndef GS_LIGHT_PATTERN_H
#define GS_LIGHT_PATTERN_H

#include <stdbool.h>
#include <stdint.h>

#include "screening.h"

enum light_output { LIGHT_GREEN, LIGHT_AMBER, LIGHT_RED, LIGHT_BUZZER, LIGHT_RELAY, LIGHT_COUNT };
const char *light_output_name(enum light_output o); /* the config key: "green", ... */

/* Levels (true = active) at `now` of a display shown since `since`. A blinking
 * lamp is lit for the first half of every period, starting lit at `since`, so a
 * new blink shows at once. */
void pattern_levels(const struct display *d, int64_t since_ms, int64_t now_ms,
                    int64_t blink_period_ms, bool out[LIGHT_COUNT]);
/* When the levels next change by themselves (a blink edge), always after `now`;
 * -1 when they are steady. */
int64_t pattern_next_change(const struct display *d, int64_t since_ms, int64_t now_ms,
                            int64_t blink_period_ms);

/* The lamp test: step 0 green, 1 amber, 2 red with the buzzer; the relay never
 * moves. Returns false when `step` is past the end (then all off). */
#define LAMP_TEST_STEPS 3
bool pattern_lamp_test(int step, bool out[LIGHT_COUNT]);

#endif
