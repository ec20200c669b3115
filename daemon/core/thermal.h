/* Thermal sources: what a screening device reports, turned into readings. The
 * pure part of every thermal driver: decoding a poll and telling a new measurement
 * from a stale value. No I/O. */
#ifndef GS_THERMAL_H
#define GS_THERMAL_H

#include <stdbool.h>
#include <stdint.h>

#include "regdecode.h"

enum device_state { DEV_UNKNOWN, DEV_OK, DEV_DEGRADED, DEV_OFFLINE };
const char *device_state_name(enum device_state s);

/* One measurement as the device reported it (the screening rules judge it). */
struct reading {
    int device, lane;           /* indexes into the config */
    int64_t mono_ms, wall_ms;   /* when it was read */
    int32_t raw_centi;          /* device value, centi-degrees */
    int32_t offset_centi;       /* the device's calibration offset */
    int32_t body_centi;         /* raw + offset */
    bool has_ambient;
    int32_t ambient_centi;
    bool has_status;
    uint16_t status;
    bool device_valid;          /* status says valid (true when the profile has no mask) */
    bool device_fault;          /* status says fault */
    bool has_card;
    uint64_t card;
    bool has_sequence;
    uint32_t sequence;
};

/* What a poll of one device returned, decoded. */
struct thermal_sample {
    bool ok;                    /* body temperature decoded */
    double body_c, ambient_c;
    bool has_ambient, has_status, has_sequence, has_card;
    uint16_t status;
    uint32_t sequence;
    uint64_t card;
    bool has_presence_edges;    /* the lane has a GPIO presence sensor */
    uint32_t presence_edges;    /* its rising edges so far (presence.h) */
    int64_t mono_ms;            /* when it was read (trigger = rise counts time) */
    bool unsettled;             /* rise: the dwell passed before the value settled */
};

int thermal_decode(const struct regmap *m, const uint16_t *regs, struct thermal_sample *s);

#define RISE_MAX_SAMPLES 16 /* settle_samples' upper bound (config_keys.c) */

enum rise_phase { RISE_IDLE, RISE_RISING, RISE_DONE };

/* trigger = rise: where the object temperature is in one measurement. */
struct rise_state {
    enum rise_phase phase;       /* below presence_min / above, not yet measured / measured */
    int64_t since_ms;            /* the rise */
    int n;                       /* samples since the rise */
    int32_t last[RISE_MAX_SAMPLES]; /* the latest samples, centi-degrees, a ring */
    int32_t peak;
    uint16_t status_any;         /* every status bit seen since the rise */
};

/* Remembers what the device said last, to emit one reading per measurement:
 * a changed sequence register, a rising "person present" edge (from the status
 * register or a GPIO presence input), or a rise of the object temperature.
 * The first sample after start or after the device was lost only sets the
 * baseline: its value may be old (a rise needs a fall below presence_min first). */
struct trigger_state {
    bool have_baseline;
    uint32_t last_sequence;
    bool last_present;
    uint32_t last_presence_edges;
    struct rise_state rise;
};

/* 1 when s is a new measurement, 0 when stale. For trigger = rise, s is rewritten
 * to the measurement (the settled value or the peak, every status bit of the
 * dwell, unsettled) and s->mono_ms must be the poll's time. */
int thermal_is_new(struct trigger_state *t, const struct cfg_profile *p,
                   struct thermal_sample *s);
void thermal_forget(struct trigger_state *t);
/* More failed polls in a row than this make a gap in a rise-triggered unit's
 * samples: what is above presence_min after it may be the person measured before
 * it, or a rise half seen, so it needs a fall first (one or two lost frames do not
 * cost a measurement). */
#define RISE_GAP_FAILED_POLLS 2
/* Called at the (RISE_GAP_FAILED_POLLS + 1)th failed poll in a row. */
void thermal_gap(struct trigger_state *t);

/* Fills r from a new sample (device/lane/offset from the config). */
void thermal_make_reading(const struct cfg_device *dev, int device_index,
                          const struct cfg_profile *p, const struct thermal_sample *s,
                          int64_t mono_ms, int64_t wall_ms, struct reading *r);

#endif
