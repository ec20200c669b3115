/* How much of a Modbus bus's time goes to units that do not answer as they should.
 * A poll that times out holds the bus for the whole response timeout, and a slow
 * unit's poll for its slow answer; meanwhile no other unit on the bus is read. So
 * the bus keeps a budget for them (a token bucket, in µs of bus time): the time
 * such polls took is charged to it, a share of the time that passes is credited,
 * and such a poll may start only while the credit is not negative. The share is
 * what the live units can spare (probe_share). Each unit that stopped answering is
 * also probed no more often than its backoff allows (probe_delay_ms), so within the
 * budget the one waiting longest goes first. Pure: time comes in as arguments;
 * drivers/modbus_bus.c uses it. */
#ifndef GS_PROBE_H
#define GS_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "backoff.h"

/* Shares of the bus's time, per mille. */
#define PROBE_SHARE_MIN 50      /* a bus whose live units need all of it still finds its
                                   dead units back, slowly: they cost the live 5% */
#define PROBE_SHARE_MAX 250     /* a quiet bus: a 500 ms timeout every 2 s */
#define PROBE_SHARE_FINDING 500 /* while a unit that was answering is found out (one
                                   failure, its retry due): half, the live get the rest */

/* A unit that answered before answers a quick check in this much: 3 × its usual
 * time + 20 ms, at most the response timeout (probe_quick_timeout_us). */
#define PROBE_QUICK_FACTOR 3
#define PROBE_QUICK_MARGIN_US 20000

/* The credit is kept as the instant it is (or was) exactly 0, so "ready since"
 * is known: a probe waiting for its turn on a busy bus competes with the live
 * units by how long it has been ready, not from "now" (which is always later
 * than a behind live unit's due time, and would starve it). */
struct probe_budget {
    int64_t zero_us;    /* credit 0 at this instant: before it such polls wait */
    int64_t cap_us;     /* the most saved up (one response timeout) */
    int share_permille; /* of the time that passes, credited */
};

/* A full budget at `now`: a healthy bus retries a first timeout at once. */
void probe_init(struct probe_budget *pb, int64_t cap_us, int share_permille, int64_t now_us);
/* Credits the time up to now at the old share, then uses the new one. */
void probe_set_share(struct probe_budget *pb, int share_permille, int64_t now_us);
/* A poll that timed out or answered slowly took cost_us of the bus. */
void probe_charge(struct probe_budget *pb, int64_t cost_us, int64_t now_us);
/* The credit at `now` (negative: owed). */
int64_t probe_credit_us(const struct probe_budget *pb, int64_t now_us);
/* Since when (or from when) such a poll may start: the instant the credit is back
 * to 0, in the past while there is credit. */
int64_t probe_ready_us(const struct probe_budget *pb);

/* The share for a bus whose live units ask for live_permille of its time: a
 * quarter of what they leave, between PROBE_SHARE_MIN and _MAX (a probe also
 * delays every live unit's next poll by up to its timeout, spare time or not);
 * PROBE_SHARE_FINDING while a unit that was answering is being found out. */
int probe_share(int64_t live_permille, bool finding);

/* The wait before a unit's next probe: its backoff (exponential with jitter), but
 * never longer than the backoff's max, so "every retry_max at least" holds. */
int64_t probe_delay_ms(struct backoff *bo, uint32_t *rng);

/* The response timeout of a quick check of a unit that usually answers in
 * answer_us (0: not known, then the full timeout). */
int64_t probe_quick_timeout_us(int64_t answer_us, int64_t full_us);

#endif
