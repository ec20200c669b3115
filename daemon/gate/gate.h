/* The gate: every lane's state machine, the screening rules, the ledger rows and
 * the lights, on the main thread. Readings, cards and presence come in; each
 * decision is written to the ledger, and the lights change only after the batch
 * that holds it is committed (group commit across lanes: the caller flushes once
 * per batch of events). A failed commit shows amber, never green. */
#ifndef GS_GATE_H
#define GS_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "events.h"
#include "indicator.h"
#include "ledger.h"
#include "loop.h"
#include "thermal.h"

struct gate;

/* `cfg` must outlive the gate (its [screening] may change on reload: call
 * gate_reconfigure). `backend` overrides every lane's indicator (benchmarks);
 * NULL: each lane's own. */
struct gate *gate_new(const struct config *cfg, struct ledger *l, struct loop *loop,
                      const struct indicator_ops *backend);
/* The start of a stop: commits what is pending and puts every lane in its safe
 * state (amber steady, relay released) at once, before the workers are joined.
 * Decisions made after it (the last readings drained) are committed but not
 * shown: the safe state stays. NULL is fine; a second call does nothing. */
void gate_stop(struct gate *g);
/* gate_stop if not done yet, commits what is pending, closes the indicators. */
void gate_free(struct gate *g);

/* Inputs; `received_us` (loop_now_us() clock) is when the driver posted the
 * event, so the latency figures include the time in the queue. */
void gate_on_reading(struct gate *g, const struct reading *r, int64_t received_us);
void gate_on_card(struct gate *g, int lane, uint64_t card, int64_t received_us);
void gate_on_presence(struct gate *g, int lane, int64_t received_us);
/* A face/thermal terminal's event (EV_TERMINAL): the person and the temperature. */
void gate_on_terminal(struct gate *g, const struct terminal_event *t, int64_t received_us);
/* A terminal was heard from without an event (a heartbeat): online, its clock. */
void gate_on_terminal_alive(struct gate *g, const struct terminal_event *t);
void gate_on_device_state(struct gate *g, int device, enum device_state state);

/* Commits the decisions made since the last flush and shows them. Returns the
 * number shown, -1 when the commit failed (those lanes show amber), 0 when the
 * ledger is busy for a moment: they wait, retried from a timer, at most 1 s, then
 * show amber. While another program holds the ledger's write lock past that, or
 * after its file was deleted, every lane blinks amber and decisions are amber at
 * once (the lock's end is noticed within 50 ms; a deleted file needs a restart). */
int gate_flush(struct gate *g);
/* Shows the decisions still waiting amber, unrecorded (a stop, a full batch). */
void gate_fail_pending(struct gate *g);
/* Why every lane is amber (for the start-up status), NULL when nothing is wrong. */
const char *gate_alarm_text(const struct gate *g);

/* Publishes every later light change and device state to `board` (the web page's
 * live gates); NULL stops it. The board must outlive the gate. */
struct gate_board;
void gate_set_board(struct gate *g, struct gate_board *board);

/* Whether the lane is blinking for an offline device (availability figures). */
bool gate_lane_offline(const struct gate *g, int lane);

/* [screening] changed (SIGHUP). */
void gate_reconfigure(struct gate *g, const struct config *cfg);
/* Decisions per outcome since start, to the log. */
void gate_log_counters(const struct gate *g);

#endif
