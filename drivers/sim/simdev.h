/* Simulated screening devices: each device's registers laid out by its profile,
 * and the conditions a scenario puts it in (silent, slow, exception answers,
 * broken frames, faults). Shared by the bus threads, which answer requests, and
 * the main thread, which applies commands: every function takes the one lock. */
#ifndef GS_SIMDEV_H
#define GS_SIMDEV_H

#include <modbus/modbus.h>
#include <stdint.h>

#include "config.h"
#include "scenario.h"
#include "simframe.h"

/* How long "person present" stays set after an arrival on a presence-triggered
 * profile, and how long the person stays in front of a rise-triggered one (the
 * pyrometer): the next arrival must come later to be a new edge or rise. */
#define SIMDEV_PRESENCE_MS 1000
#define SIMDEV_AMBIENT_START 25.0 /* °C, until a command sets ambient= */
/* What a rise-triggered unit sees with nobody in front: the wall behind, below
 * any presence_min. */
#define SIMDEV_BACKGROUND 22.0

struct simdevs;
struct simdev;

enum sim_action { SIM_ACT_DROP, SIM_ACT_REPLY, SIM_ACT_EXCEPTION, SIM_ACT_MALFORMED };

/* How to answer one request, decided when it arrives. */
struct sim_plan {
    enum sim_action action;
    int code;              /* exception code */
    enum simframe_bad bad; /* kind of broken reply */
    int count;             /* registers asked for: the length of the reply */
    int64_t delay_ms;      /* "slow" */
};

struct simdev_counters {
    uint64_t served;     /* normal replies */
    uint64_t exceptions; /* exception replies, asked for or for bad requests */
    uint64_t malformed;  /* broken replies */
    uint64_t silenced;   /* requests left unanswered while silent */
};

/* One simulated device per device of the config, registers at their start values. */
struct simdevs *simdevs_new(const struct config *cfg);
void simdevs_free(struct simdevs *s);
/* The device with this unit id on bus index `bus`, or NULL. */
struct simdev *simdevs_unit(struct simdevs *s, int bus, int unit);
/* Applies a command to its device; quit is the caller's business. */
void simdevs_apply(struct simdevs *s, const struct sim_cmd *cmd, int64_t now_ms);
/* Decides the answer to a request (pdu = function code and data) and counts it. */
void simdevs_plan(struct simdevs *s, struct simdev *d, const uint8_t *pdu, int len,
                  int64_t now_ms, struct sim_plan *p);
/* Answers a read from the device's registers (modbus_reply on ctx, whose socket
 * or slave the caller has set). Returns modbus_reply's result. */
int simdevs_reply(struct simdevs *s, struct simdev *d, modbus_t *ctx, const uint8_t *req,
                  int len, int64_t now_ms);
void simdevs_counters(struct simdevs *s, int device, struct simdev_counters *out);

#endif
