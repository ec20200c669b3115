/* The lights of one display over time (see light_pattern.h). */
#include "light_pattern.h"

#include <string.h>

const char *light_output_name(enum light_output o)
{
    static const char *const names[LIGHT_COUNT] = {"green", "amber", "red", "buzzer", "relay"};
    return o < LIGHT_COUNT ? names[o] : "?";
}

static enum light_output lamp_output(enum lamp l)
{
    return l == LAMP_GREEN ? LIGHT_GREEN : l == LAMP_AMBER ? LIGHT_AMBER : LIGHT_RED;
}

static bool blink_lit(int64_t since_ms, int64_t now_ms, int64_t period_ms)
{
    if (period_ms < 2 || now_ms < since_ms) /* too fast to blink: steady */
        return true;
    return (now_ms - since_ms) % period_ms < period_ms / 2;
}

void pattern_levels(const struct display *d, int64_t since_ms, int64_t now_ms,
                    int64_t blink_period_ms, bool out[LIGHT_COUNT])
{
    memset(out, 0, LIGHT_COUNT * sizeof out[0]);
    if (d->lamp != LAMP_OFF)
        out[lamp_output(d->lamp)] = !d->blink || blink_lit(since_ms, now_ms, blink_period_ms);
    out[LIGHT_BUZZER] = d->buzzer;
    out[LIGHT_RELAY] = d->relay;
}

int64_t pattern_next_change(const struct display *d, int64_t since_ms, int64_t now_ms,
                            int64_t blink_period_ms)
{
    if (!d->blink || d->lamp == LAMP_OFF || blink_period_ms < 2)
        return -1;
    if (now_ms < since_ms)
        return since_ms + blink_period_ms / 2;
    int64_t half = blink_period_ms / 2;
    int64_t in_period = (now_ms - since_ms) % blink_period_ms;
    int64_t start = now_ms - in_period;
    return in_period < half ? start + half : start + blink_period_ms;
}

bool pattern_lamp_test(int step, bool out[LIGHT_COUNT])
{
    memset(out, 0, LIGHT_COUNT * sizeof out[0]);
    if (step < 0 || step >= LAMP_TEST_STEPS)
        return false;
    static const enum light_output lamps[LAMP_TEST_STEPS] = {LIGHT_GREEN, LIGHT_AMBER, LIGHT_RED};
    out[lamps[step]] = true;
    out[LIGHT_BUZZER] = step == LAMP_TEST_STEPS - 1;
    return true;
}
