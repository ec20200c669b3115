/* The terminals' health as the gate shows it (README "HTTP terminals",
 * "Heartbeats and clocks"): a terminal is online while it is heard from (an event,
 * a heartbeat, any request it makes) within its offline_after, and offline after
 * that, like a Modbus device that stops answering (its lane blinks amber); its
 * clock, where an event says it, is compared with ours, and a skew over
 * [terminals] max_clock_skew is logged once (and again when it is back within),
 * and kept for the gates page. Main thread only; a plain value, no allocation. */
#ifndef GS_TERM_HEALTH_H
#define GS_TERM_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "events.h"
#include "thermal.h"

struct term_state {
    enum device_state state;   /* DEV_UNKNOWN until heard from or overdue */
    int64_t heard_ms;          /* monotonic; 0: not yet */
    bool skewed;               /* its clock is off by more than max_clock_skew */
    int64_t skew_ms;           /* its clock minus ours, at the last event that said */
};

struct term_health {
    int64_t since_ms;          /* start: a terminal never heard from is overdue from here */
    struct term_state t[CFG_MAX_TERMINALS];
};

void term_health_init(struct term_health *h, int64_t now_ms);
/* Terminal ev->terminal was heard from (ev: its event, or a heartbeat with only
 * terminal and wall_ms set). true when its state or its skew changed. */
bool term_health_heard(struct term_health *h, const struct config *cfg,
                       const struct terminal_event *ev, int64_t now_ms);
/* Marks overdue terminals offline; returns how many went offline, their indexes
 * in out[]. */
int term_health_tick(struct term_health *h, const struct config *cfg, int64_t now_ms,
                     int out[CFG_MAX_TERMINALS]);
/* Whether any terminal needs ticks (an offline_after). */
bool term_health_watched(const struct config *cfg);

#endif
