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
    EV_TERMINAL,      /* an event a face/thermal terminal pushed over HTTP */
    EV_TERMINAL_ALIVE, /* a terminal was heard from (a heartbeat): `terminal` and wall_ms */
};

/* What a terminal reported about one person passing (an ISAPI AccessControllerEvent),
 * in our units: both identity and temperature, so it needs no pairing. */
struct terminal_event {
    int terminal, lane;       /* indexes into the config */
    int64_t wall_ms;          /* when we received it (our clock) */
    bool has_serial;
    uint64_t serial;          /* the terminal's event number: (terminal, serial) is unique */
    bool has_employee;
    char employee[33];        /* employeeNoString: the person's roster id */
    bool has_card;
    uint64_t card;            /* cardNo, decimal */
    bool has_temp;
    int32_t temp_centi;       /* currTemperature in centi-degrees Celsius */
    int8_t abnormal;          /* isAbnomalTemperature: 1, 0, -1 not said */
    char mask[12];            /* "yes", "no", "unknown", "" */
    char device_time[40];     /* dateTime as the terminal wrote it (its clock) */
    bool has_device_ms;
    int64_t device_ms;        /* ... as UTC ms, when it gave its offset (or Z) */
    int major, minor;         /* majorEventType / subEventType, -1 not said */
    bool backlog;             /* one of several lines sent at once (an ADMS upload after
                               * an outage): its time may be old, not a clock's skew */
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
        struct terminal_event terminal;
    };
};

#endif
