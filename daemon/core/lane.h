/* One lane's state machine: pairs an identity (a card from a Wiegand reader, or the
 * card registers of the device) with a measurement, in either order, within the
 * pair window; a presence input may open the window too. It asks for decisions
 * (the screening rules make them) and knows what the lights should show at any
 * time. Pure: time comes in as monotonic milliseconds, nothing is done, only
 * returned. */
#ifndef GS_LANE_H
#define GS_LANE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "screening.h"
#include "thermal.h"

/* What the lane wants decided: a measurement, an identity, either or both. */
struct lane_request {
    bool has_reading;
    struct reading reading;
    bool has_card;
    uint64_t card;
    int64_t mono_ms; /* when the later of the two arrived (or the window expired) */
};

#define LANE_MAX_REQUESTS 2

struct lane {
    enum cfg_identity identity;
    int64_t pair_window_ms;
    /* waiting for a partner */
    bool card_pending, reading_pending, presence_pending;
    uint64_t card;
    int64_t card_at, reading_at, presence_at;
    struct reading reading;
    /* what the lights show */
    bool showing;
    enum outcome shown_outcome;
    struct display shown;
    int64_t shown_at;
    bool offline;
    int64_t offline_since;
};

void lane_init(struct lane *ln, enum cfg_identity identity, int64_t pair_window_ms);

/* Each returns how many requests it wrote to req[LANE_MAX_REQUESTS], in order. */
int lane_on_card(struct lane *ln, uint64_t card, int64_t now, struct lane_request *req);
int lane_on_reading(struct lane *ln, const struct reading *r, int64_t now,
                    struct lane_request *req);
int lane_on_presence(struct lane *ln, int64_t now, struct lane_request *req);
/* Expired waits become requests: a card without measurement, a measurement
 * without identity, a presence without either. */
int lane_tick(struct lane *ln, int64_t now, struct lane_request *req);

/* After a request was decided and committed: show it from `now`. An invalid
 * reading paired with a Wiegand card keeps the card waiting, so the person only
 * has to measure again. */
void lane_decided(struct lane *ln, const struct lane_request *req, enum outcome o,
                  const struct display *d, int64_t now);

/* The next decision is late (the ledger is busy): the one shown before ends now,
 * so that nobody walks through on the previous person's green. */
void lane_hide_decision(struct lane *ln);

/* Lane's device offline (amber blinking when nothing else is shown) or back. */
void lane_set_offline(struct lane *ln, bool offline, int64_t now);

/* What the lights show at `now`; `outcome` is set when a decision is shown, else
 * OUT_COUNT (idle or offline). */
void lane_display(const struct lane *ln, int64_t now, struct display *out, enum outcome *outcome);
/* The next instant at which a wait expires or the display changes, never before
 * `now` (a wait that already expired is due now); -1 if none. */
int64_t lane_next_deadline(const struct lane *ln, int64_t now);

#endif
