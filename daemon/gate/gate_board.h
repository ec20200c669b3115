/* The gates' live state for the web page (docs/design.md, "Threads": the main
 * thread owns the lanes; the web's threads only read). The main thread publishes
 * each lane's lights when they change and each device's state; web threads copy the
 * board under its one mutex, and event streams wait on a version counter that every
 * change bumps. Nothing else is shared. */
#ifndef GS_GATE_BOARD_H
#define GS_GATE_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "indicator.h"
#include "thermal.h"

/* One lane as the page shows it. */
struct board_lane {
    char name[CFG_NAME_MAX];
    char gate[CFG_TEXT_MAX];
    const char *lamp;            /* "off", "green", "amber", "red" (static strings) */
    bool blink, buzzer, relay;
    const char *outcome;         /* the decision shown, or why none: "idle", "offline", ... */
    char person[64];             /* external id of the decision's person, "" none */
    bool has_body;
    int32_t body_centi;
    int64_t changed_wall_ms;     /* when these lights were set; 0 never */
    const char *device_state;    /* worst of the lane's devices: "ok", "degraded", ... */
    int per_minute;              /* decisions shown in the last 60 s */
    bool queue_warning;          /* arrivals outpace the lane (see gate_board.c) */
    bool clock_skewed;           /* its terminal's clock is off by more than max_clock_skew */
    int64_t clock_skew_ms;       /* ... by this much (its clock minus ours) */
};

struct gate_board;

struct gate_board *gate_board_new(const struct config *cfg);
void gate_board_free(struct gate_board *b);

/* Main thread: a lane's lights changed (the indicator change the gate sent). */
void gate_board_lights(struct gate_board *b, const struct indicator_change *c);
/* Main thread: a device's state changed. */
void gate_board_device(struct gate_board *b, int device, enum device_state s);
/* Main thread: the state or clock of the terminal serving `lane` changed. */
void gate_board_terminal(struct gate_board *b, int lane, enum device_state s, bool skewed,
                         int64_t skew_ms);

/* Any thread: copies the lanes (at most `max`) into out, sets *n, returns the
 * board's version. The per-minute counts are as of `now_wall_ms`. */
uint64_t gate_board_read(struct gate_board *b, int64_t now_wall_ms, struct board_lane *out,
                         int max, int *n);
/* Any thread: waits until the version is not `seen`, the board is closed or
 * timeout_ms passed; returns the version then (0 once closed). */
uint64_t gate_board_wait(struct gate_board *b, uint64_t seen, int timeout_ms);
/* Shutdown: wakes every waiter; later waits return 0 at once. */
void gate_board_close(struct gate_board *b);

#endif
