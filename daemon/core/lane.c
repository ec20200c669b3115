/* The lane state machine (see lane.h). A lane waits for at most one card, one
 * measurement and one presence at a time; a newer one of the same kind first
 * settles the older (it becomes a request of its own), so nobody's arrival is
 * silently forgotten. */
#include "lane.h"

#include <string.h>

void lane_init(struct lane *ln, enum cfg_identity identity, int64_t pair_window_ms)
{
    memset(ln, 0, sizeof *ln);
    ln->identity = identity;
    ln->pair_window_ms = pair_window_ms;
}

static bool expired(const struct lane *ln, int64_t since, int64_t now)
{
    return now - since > ln->pair_window_ms;
}

static int take_card(struct lane *ln, struct lane_request *req, int64_t now)
{
    *req = (struct lane_request){.has_card = true, .card = ln->card, .mono_ms = now};
    ln->card_pending = false;
    ln->presence_pending = false; /* the card's holder was the presence */
    return 1;
}

static int take_reading(struct lane *ln, struct lane_request *req, int64_t now)
{
    *req = (struct lane_request){.has_reading = true, .reading = ln->reading, .mono_ms = now};
    ln->reading_pending = false;
    return 1;
}

/* Settles waits that expired by `now`: each becomes a request of its own. At most
 * one of card, reading and presence waits at a time (each clears the others or
 * pairs with them), so this writes at most one request. */
int lane_tick(struct lane *ln, int64_t now, struct lane_request *req)
{
    int n = 0;
    if (ln->card_pending && expired(ln, ln->card_at, now))
        n += take_card(ln, &req[n], ln->card_at + ln->pair_window_ms);
    if (ln->reading_pending && expired(ln, ln->reading_at, now))
        n += take_reading(ln, &req[n], ln->reading_at + ln->pair_window_ms);
    if (ln->presence_pending && expired(ln, ln->presence_at, now)) {
        req[n++] = (struct lane_request){.mono_ms = ln->presence_at + ln->pair_window_ms};
        ln->presence_pending = false;
    }
    return n;
}

int lane_on_card(struct lane *ln, uint64_t card, int64_t now, struct lane_request *req)
{
    if (ln->identity != CFG_ID_WIEGAND)
        return 0; /* this lane takes its identity from elsewhere */
    int n = lane_tick(ln, now, req);
    if (ln->reading_pending) {
        n += take_reading(ln, &req[n], now);
        req[n - 1].has_card = true;
        req[n - 1].card = card;
        ln->presence_pending = false;
        return n;
    }
    if (ln->card_pending) /* the previous card's holder never measured */
        n += take_card(ln, &req[n], now);
    ln->card_pending = true;
    ln->presence_pending = false; /* the card's holder was the presence */
    ln->card = card;
    ln->card_at = now;
    return n;
}

int lane_on_reading(struct lane *ln, const struct reading *r, int64_t now,
                    struct lane_request *req)
{
    int n = lane_tick(ln, now, req);
    ln->presence_pending = false;
    struct lane_request *q = &req[n];
    *q = (struct lane_request){.has_reading = true, .reading = *r, .mono_ms = now};
    if (ln->identity == CFG_ID_DEVICE) {
        q->has_card = r->has_card;
        q->card = r->card;
        return n + 1;
    }
    if (ln->identity == CFG_ID_NONE)
        return n + 1;
    if (ln->card_pending) {
        q->has_card = true;
        q->card = ln->card;
        ln->card_pending = false;
        return n + 1;
    }
    if (ln->reading_pending) /* nobody showed a card for the previous one */
        n += take_reading(ln, &req[n], now);
    ln->reading_pending = true;
    ln->reading = *r;
    ln->reading_at = now;
    return n;
}

int lane_on_presence(struct lane *ln, int64_t now, struct lane_request *req)
{
    int n = lane_tick(ln, now, req);
    if (!ln->card_pending && !ln->reading_pending && !ln->presence_pending) {
        ln->presence_pending = true;
        ln->presence_at = now;
    }
    return n;
}

void lane_decided(struct lane *ln, const struct lane_request *req, enum outcome o,
                  const struct display *d, int64_t now)
{
    ln->showing = true;
    ln->shown_outcome = o;
    ln->shown = *d;
    ln->shown_at = now;
    /* Only when nothing else waits: a lane waits for one thing at a time. */
    bool idle = !ln->card_pending && !ln->reading_pending && !ln->presence_pending;
    if (o == OUT_INVALID && req->has_card && ln->identity == CFG_ID_WIEGAND && idle) {
        ln->card_pending = true; /* measure again without showing the card again */
        ln->card = req->card;
        ln->card_at = now;
    }
}

void lane_set_offline(struct lane *ln, bool offline, int64_t now)
{
    if (offline && !ln->offline)
        ln->offline_since = now;
    ln->offline = offline;
}

void lane_hide_decision(struct lane *ln)
{
    ln->showing = false;
}

static bool still_shown(const struct lane *ln, int64_t now)
{
    return ln->showing && (ln->shown.hold_ms == 0 || now < ln->shown_at + ln->shown.hold_ms);
}

void lane_display(const struct lane *ln, int64_t now, struct display *out, enum outcome *outcome)
{
    if (still_shown(ln, now)) {
        *out = ln->shown;
        out->buzzer = ln->shown.buzzer && now < ln->shown_at + ln->shown.buzzer_ms;
        *outcome = ln->shown_outcome;
        return;
    }
    *out = (struct display){.lamp = ln->offline ? LAMP_AMBER : LAMP_OFF, .blink = ln->offline};
    *outcome = OUT_COUNT;
}

static int64_t earliest(int64_t a, int64_t b)
{
    return a < 0 ? b : (b < 0 || a < b) ? a : b;
}

static int64_t later_than(int64_t t, int64_t now)
{
    return t > now ? t : -1;
}

/* A wait that expired without a tick is due now. */
static int64_t wait_end(int64_t since, int64_t window, int64_t now)
{
    int64_t t = since + window + 1;
    return t > now ? t : now;
}

int64_t lane_next_deadline(const struct lane *ln, int64_t now)
{
    int64_t t = -1;
    if (ln->card_pending)
        t = earliest(t, wait_end(ln->card_at, ln->pair_window_ms, now));
    if (ln->reading_pending)
        t = earliest(t, wait_end(ln->reading_at, ln->pair_window_ms, now));
    if (ln->presence_pending)
        t = earliest(t, wait_end(ln->presence_at, ln->pair_window_ms, now));
    if (!ln->showing)
        return t;
    int64_t end = ln->shown_at + ln->shown.hold_ms;
    int64_t buzz = ln->shown_at + ln->shown.buzzer_ms;
    if (ln->shown.buzzer && (ln->shown.hold_ms == 0 || buzz < end))
        t = earliest(t, later_than(buzz, now));
    if (ln->shown.hold_ms > 0)
        t = earliest(t, later_than(end, now));
    return t;
}
