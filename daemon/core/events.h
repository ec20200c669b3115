/* What worker threads tell the main loop (through the evqueue). Each kind is added
 * by the module that produces it; the main loop dispatches on `kind`. */
#ifndef GS_EVENTS_H
#define GS_EVENTS_H

#include <stdint.h>

#include "thermal.h"

enum event_kind {
    EV_NONE = 0,
    EV_WAKE,          /* no payload: used by tests and to nudge the loop */
    EV_READING,       /* a new measurement from a thermal device */
    EV_DEVICE_STATUS, /* a device's state changed, or its periodic counters */
    EV_CARD,          /* a card from a lane's Wiegand reader */
    EV_PRESENCE,      /* a lane's presence sensor became active */
};

struct card_event {
    int lane;
    uint64_t number;          /* the data bits without parity */
    int bits;                 /* 26 or 34 */
};

/* README "Screening devices", "Counters". */
struct device_counters {
    uint64_t polls;           /* polls made, one per poll whatever its blocks (a failed connect too) */
    uint64_t good;            /* polls that read every block */
    /* Failed polls, each once, under the error that ended it: polls = good + these. */
    uint64_t timeouts, exceptions, crc_errors, bad_frames, io_errors;
    uint64_t reconnects;      /* TCP connections dropped after this device's broken frame or I/O */
    uint64_t readings;        /* new measurements emitted */
    int64_t last_good_wall_ms;
};

struct device_status {
    int device;
    enum device_state state;
    int state_changed;        /* 0: periodic counters only */
    struct device_counters counters;
    char last_error[80];
};

struct event {
    enum event_kind kind;
    int64_t mono_ms;          /* when it happened, CLOCK_MONOTONIC */
    int64_t posted_us;        /* when it was posted, CLOCK_MONOTONIC µs (0: not kept) */
    union {
        struct reading reading;
        struct device_status status;
        struct card_event card;
        int presence_lane;
    };
};

#endif
