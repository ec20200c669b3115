/* The Wiegand decoder (see wiegand.h). A frame collects its bits and remembers
 * only its first noise; whether it was a card is settled when its silence ends
 * it. Times are compared through span(), so that no timestamp, however wild,
 * can overflow the arithmetic. */
#include "wiegand.h"

#include <assert.h>

#define H10301_BITS 26
#define WIDE_BITS 34

static const char *const noise_names[WIEGAND_NOISE_COUNT] = {
    [WIEGAND_NOISE_NONE] = "none",
    [WIEGAND_NOISE_BOTH_LOW] = "both lines low",
    [WIEGAND_NOISE_TOO_CLOSE] = "bits too close",
    [WIEGAND_NOISE_PULSE_SHORT] = "pulse too short",
    [WIEGAND_NOISE_PULSE_LONG] = "pulse too long",
    [WIEGAND_NOISE_LENGTH] = "wrong length",
    [WIEGAND_NOISE_PARITY] = "bad parity",
    [WIEGAND_NOISE_LOST] = "events lost",
};

const char *wiegand_noise_name(enum wiegand_noise n)
{
    if ((unsigned)n >= WIEGAND_NOISE_COUNT)
        return "unknown";
    return noise_names[n];
}

/* The interface's own bounds (pulses 20–100 µs, often stretched to 150 by
 * readers; 200 µs–20 ms between pulses). Real readers space bits 1–2 ms apart,
 * so 200 µs leaves a wide margin for timestamp jitter and rejects no conforming
 * reader; and being above the pulse maximum, a fall closer than it is a pulse
 * that was, or should have been, still low. 25 ms is past the slowest interval. */
void wiegand_default_limits(struct wiegand_limits *l)
{
    *l = (struct wiegand_limits){
        .pulse_min_us = 20, .pulse_max_us = 150, .interval_min_us = 200, .frame_gap_us = 25000};
}

static int64_t at_least(int64_t v, int64_t min)
{
    return v < min ? min : v;
}

void wiegand_init(struct wiegand *w, const struct wiegand_limits *lim)
{
    *w = (struct wiegand){0};
    w->lim.pulse_min_us = at_least(lim->pulse_min_us, 0);
    w->lim.pulse_max_us = at_least(lim->pulse_max_us, 0);
    w->lim.interval_min_us = at_least(lim->interval_min_us, 0);
    w->lim.frame_gap_us = at_least(lim->frame_gap_us, 1);
}

/* to - from, saturated to INT64_MAX; -1 when time went backwards. */
static int64_t span(int64_t from, int64_t to)
{
    if (to < from)
        return -1;
    uint64_t d = (uint64_t)to - (uint64_t)from;
    return d > INT64_MAX ? INT64_MAX : (int64_t)d;
}

static void set_noise(struct wiegand *w, enum wiegand_noise n)
{
    if (w->noise == WIEGAND_NOISE_NONE) /* the first cause is the one worth counting */
        w->noise = n;
}

static void start(struct wiegand *w, int64_t t)
{
    w->active = true;
    w->noise = WIEGAND_NOISE_NONE;
    w->nbits = 0;
    w->rises = false;
    w->last_us = t;
    for (int l = 0; l < 2; l++)
        w->fell[l] = w->low[l] = false;
}

/* Whether line o is low at t, when the other line falls. Known once the frame
 * had a rising edge; with falling edges alone, a line that fell less than
 * pulse_min ago is still low, or its pulse was too short to be good anyway.
 * Known per frame, not for good: a feed of falling edges alone after one with
 * both would otherwise leave lines low forever. */
static bool still_low(const struct wiegand *w, int o, int64_t t)
{
    if (!w->low[o])
        return false;
    return w->rises || span(w->fell_at[o], t) < w->lim.pulse_min_us;
}

static void check_fall(struct wiegand *w, int l, int64_t t)
{
    if (still_low(w, !l, t))
        set_noise(w, WIEGAND_NOISE_BOTH_LOW);
    else if (span(w->last_fall_us, t) < w->lim.interval_min_us)
        set_noise(w, WIEGAND_NOISE_TOO_CLOSE);
}

static void fall(struct wiegand *w, int l, int64_t t)
{
    if (w->nbits > 0) /* the first bit of a frame has nothing before it */
        check_fall(w, l, t);
    if (w->nbits < WIEGAND_MAX_BITS)
        w->bits[w->nbits] = (uint8_t)l;
    if (w->nbits <= WIEGAND_MAX_BITS) /* one more says "too long"; counting on could overflow */
        w->nbits++;
    w->fell[l] = w->low[l] = true;
    w->fell_at[l] = t;
    w->last_fall_us = t;
}

/* A rise ends a pulse: its width is checked, and if the other line fell while
 * this one was low, both were low at once (caught here even when it happened
 * before the frame's first rise told that the levels are known). */
static void rise(struct wiegand *w, int l, int64_t t)
{
    if (!w->low[l])
        return; /* no fall of this line in this frame: no pulse to measure */
    w->low[l] = false;
    int64_t width = span(w->fell_at[l], t);
    if (w->fell[!l] && w->fell_at[!l] >= w->fell_at[l])
        set_noise(w, WIEGAND_NOISE_BOTH_LOW);
    else if (width < w->lim.pulse_min_us)
        set_noise(w, WIEGAND_NOISE_PULSE_SHORT);
    else if (width > w->lim.pulse_max_us)
        set_noise(w, WIEGAND_NOISE_PULSE_LONG);
}

static int finish(struct wiegand *w, struct wiegand_frame *out)
{
    if (w->rises && (w->low[0] || w->low[1])) /* low through the whole silence */
        set_noise(w, WIEGAND_NOISE_PULSE_LONG);
    *out = (struct wiegand_frame){
        .noise = w->noise, .bits = w->nbits, .facility = -1, .end_us = w->last_us};
    if (out->noise == WIEGAND_NOISE_NONE)
        out->noise = wiegand_decode(w->nbits, w->bits, &out->number, &out->facility);
    out->card = out->noise == WIEGAND_NOISE_NONE;
    w->active = false;
    return 1;
}

static bool silent_since(const struct wiegand *w, int64_t t)
{
    return span(w->last_us, t) >= w->lim.frame_gap_us;
}

int wiegand_edge(struct wiegand *w, enum wiegand_line line, enum wiegand_edge edge, int64_t t_us,
                 struct wiegand_frame *out)
{
    assert(line == WIEGAND_D0 || line == WIEGAND_D1);
    int l = line == WIEGAND_D1; /* also the bit's value */
    int ended = 0;
    if (w->active && silent_since(w, t_us))
        ended = finish(w, out);
    if (!w->active) {
        if (edge == WIEGAND_RISING)
            return ended; /* a line that was low before the frame: no bit */
        start(w, t_us);
    } else if (t_us < w->last_us) {
        set_noise(w, WIEGAND_NOISE_TOO_CLOSE); /* time went backwards: trust nothing */
    }
    if (edge == WIEGAND_RISING) {
        w->rises = true;
        rise(w, l, t_us);
    } else {
        fall(w, l, t_us);
    }
    if (t_us > w->last_us)
        w->last_us = t_us;
    return ended;
}

int wiegand_lost(struct wiegand *w, int64_t t_us, struct wiegand_frame *out)
{
    int ended = 0;
    if (w->active && silent_since(w, t_us))
        ended = finish(w, out);
    if (!w->active)
        start(w, t_us);
    w->noise = WIEGAND_NOISE_LOST; /* the reason that matters, over any earlier one */
    if (t_us > w->last_us)
        w->last_us = t_us;
    return ended;
}

int wiegand_idle(struct wiegand *w, int64_t now_us, struct wiegand_frame *out)
{
    if (!w->active || !silent_since(w, now_us))
        return 0;
    return finish(w, out);
}

int64_t wiegand_deadline(const struct wiegand *w)
{
    if (!w->active)
        return -1;
    if (w->last_us > INT64_MAX - w->lim.frame_gap_us)
        return INT64_MAX;
    return w->last_us + w->lim.frame_gap_us;
}

static int ones(const uint8_t *bits, int from, int to)
{
    int n = 0;
    for (int i = from; i <= to; i++)
        n += bits[i] != 0;
    return n;
}

/* Both formats: the first bit makes the first half of the data even, the last
 * makes the second half odd, so that all zeros or all ones never pass. */
enum wiegand_noise wiegand_decode(int nbits, const uint8_t *bits, uint64_t *number, int *facility)
{
    if (nbits != H10301_BITS && nbits != WIDE_BITS)
        return WIEGAND_NOISE_LENGTH;
    int half = (nbits - 2) / 2;
    if (ones(bits, 0, half) % 2 != 0 || ones(bits, half + 1, nbits - 1) % 2 != 1)
        return WIEGAND_NOISE_PARITY;
    uint64_t v = 0;
    for (int i = 1; i < nbits - 1; i++)
        v = v << 1 | (bits[i] != 0);
    *number = v;
    *facility = nbits == H10301_BITS ? (int)(v >> 16) : -1;
    return WIEGAND_NOISE_NONE;
}

int wiegand_encode(int bits, uint64_t number, uint8_t *out_bits)
{
    if (bits != H10301_BITS && bits != WIDE_BITS)
        return -1;
    int data = bits - 2;
    if (number >> data != 0)
        return -1;
    for (int i = 0; i < data; i++)
        out_bits[1 + i] = (uint8_t)(number >> (data - 1 - i) & 1);
    int half = data / 2;
    out_bits[0] = (uint8_t)(ones(out_bits, 1, half) % 2);
    out_bits[bits - 1] = (uint8_t)(1 - ones(out_bits, half + 1, bits - 2) % 2);
    return 0;
}
