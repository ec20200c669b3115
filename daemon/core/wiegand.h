/* Wiegand decoder: turns the edges of a reader's D0/D1 lines into cards or noise.
 * Pure: no I/O, no clock, no allocation; each edge comes with its kernel
 * timestamp (CLOCK_MONOTONIC, µs), and the caller asks when to look again.
 *
 * It works on falling edges alone (what the daemon requests: the v1 kernel
 * interface can report wrong edge types when asked for both). A bit is then
 * known only by its start: the time between falling edges on either line is
 * the bit interval, and two falls closer than interval_min_us are noise. When
 * rising edges are fed as well, each pulse width is checked too, and two
 * overlapping pulses (both lines low) are seen as such. A frame ends after
 * frame_gap_us of silence; a frame with any noise is swallowed to its end and
 * comes out as one noise frame. */
#ifndef GS_WIEGAND_H
#define GS_WIEGAND_H

#include <stdbool.h>
#include <stdint.h>

#define WIEGAND_MAX_BITS 64

enum wiegand_line { WIEGAND_D0, WIEGAND_D1 };
enum wiegand_edge { WIEGAND_FALLING, WIEGAND_RISING };

/* All in µs. Negative values count as 0, a frame gap as at least 1 µs. */
struct wiegand_limits {
    int64_t pulse_min_us, pulse_max_us; /* checked only when rising edges are fed */
    int64_t interval_min_us;            /* falling edge to next falling edge, either line */
    int64_t frame_gap_us;               /* silence that ends a frame */
};

/* 20 µs, 150 µs, 200 µs, 25 ms: the Wiegand interface's pulse width and interval
 * bounds; the interval minimum above the pulse maximum means that good pulses
 * 200 µs apart cannot overlap, so falling edges alone catch both lines low. */
void wiegand_default_limits(struct wiegand_limits *l);

enum wiegand_noise {
    WIEGAND_NOISE_NONE,
    WIEGAND_NOISE_BOTH_LOW,
    WIEGAND_NOISE_TOO_CLOSE,
    WIEGAND_NOISE_PULSE_SHORT,
    WIEGAND_NOISE_PULSE_LONG,
    WIEGAND_NOISE_LENGTH,
    WIEGAND_NOISE_PARITY,
    WIEGAND_NOISE_LOST,       /* the kernel dropped edges of this frame */
    WIEGAND_NOISE_COUNT
};

/* "both lines low", "bits too close", "pulse too short", "pulse too long",
 * "wrong length", "bad parity", "events lost"; "none" for NONE, "unknown" out of
 * range. */
const char *wiegand_noise_name(enum wiegand_noise n);

/* What a finished frame was. */
struct wiegand_frame {
    bool card;                /* true: a good card; false: noise (reason set) */
    enum wiegand_noise noise; /* NONE for a card */
    int bits;                 /* bits (falling edges) received; WIEGAND_MAX_BITS + 1 means more */
    uint64_t number;          /* a card's data bits without parity as one integer, first bit
                                 highest: 26-bit → 24 bits (facility << 16 | card),
                                 34-bit → 32 bits; 0 for noise */
    int facility;             /* 26-bit: bits 1–8; -1 for 34-bit and noise */
    int64_t end_us;           /* time of the last edge of the frame */
};

/* Decoder state, caller-allocated so that it can be embedded. The fields are
 * private to wiegand.c: use the functions. */
struct wiegand {
    struct wiegand_limits lim;
    bool active;              /* a frame is in progress */
    bool rises;               /* the frame had a rising edge: the lines' levels are known */
    enum wiegand_noise noise; /* the frame's first noise; NONE while it looks good */
    int nbits;                /* falling edges in the frame, at most WIEGAND_MAX_BITS + 1 */
    uint8_t bits[WIEGAND_MAX_BITS];
    int64_t last_us;          /* the frame's latest edge: its silence counts from here */
    int64_t last_fall_us;     /* the frame's latest falling edge, either line */
    bool fell[2];             /* the line fell in this frame (fell_at is set) */
    bool low[2];              /* ... and has not risen since */
    int64_t fell_at[2];
};

void wiegand_init(struct wiegand *w, const struct wiegand_limits *lim);

/* Feed one edge with its kernel timestamp. Returns 1 and fills *out when this
 * edge proves that the PREVIOUS frame ended (it came after frame_gap_us of
 * silence): that frame is finished, and this edge, if falling, starts a new one.
 * Returns 0 otherwise. A rising edge never starts a frame. */
int wiegand_edge(struct wiegand *w, enum wiegand_line line, enum wiegand_edge edge, int64_t t_us,
                 struct wiegand_frame *out);

/* Called when time passes without edges: returns 1 and fills *out when a frame
 * in progress has been silent for frame_gap_us at now_us; 0 otherwise. Read the
 * edges the kernel already has first: one stamped before the deadline but read
 * after this call would start a frame of its own. */
int wiegand_idle(struct wiegand *w, int64_t now_us, struct wiegand_frame *out);

/* Edges were lost at `t_us` (the kernel's buffer overflowed): the frame that
 * holds that instant, or one starting there, comes out as noise "events lost" once
 * its silence ends, whatever its remaining bits look like, since a frame with a
 * hole can have a valid parity by chance. Returns 1 and fills *out, like
 * wiegand_edge, when `t_us` proves that the previous frame ended. */
int wiegand_lost(struct wiegand *w, int64_t t_us, struct wiegand_frame *out);

/* When wiegand_idle should next be called: the end of the current frame's
 * silence, or -1 when no frame is in progress. */
int64_t wiegand_deadline(const struct wiegand *w);

/* Pure helpers (also used by tests and by the VM test driver to produce frames). */

/* Fills out_bits[0..bits-1] (0/1 each, first sent first) for a 26- or 34-bit
 * frame with correct parity; -1 for other lengths or a number too large. */
int wiegand_encode(int bits, uint64_t number, uint8_t *out_bits);

/* Checks a frame's length and parity: NONE and *number, *facility set for a
 * card; LENGTH or PARITY otherwise (then *number and *facility are untouched). */
enum wiegand_noise wiegand_decode(int nbits, const uint8_t *bits, uint64_t *number,
                                  int *facility);

#endif
