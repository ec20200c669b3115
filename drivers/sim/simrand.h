/* A random school morning: arrivals at every device at a given rate, people
 * drawn from the roster, mostly normal temperatures with a few fevers, invalid
 * readings, unknown cards and people without a card. Deterministic for a seed
 * (own PRNG), so a test can replay the same morning. */
#ifndef GS_SIMRAND_H
#define GS_SIMRAND_H

#include <stdint.h>

#include "config.h"
#include "scenario.h"

struct simrand_opts {
    uint64_t seed;
    double rate_per_min; /* arrivals per minute per lane, shared by the lane's devices */
    int64_t duration_ms; /* no arrival after this */
    long arrivals;       /* stop after this many; < 0: no limit */
};

struct simrand;

/* Reads the roster (the cards of active people) and plans the first arrival at
 * every device. NULL, with the reasons logged, on a bad roster. */
struct simrand *simrand_new(const struct config *cfg, const char *roster_path,
                            const struct simrand_opts *o);
/* Time of the next arrival in ms from the start, or -1 when the morning is over. */
int64_t simrand_next_due(const struct simrand *r);
/* The next arrival (an arrive or invalid command, at_ms set); plans that device's
 * following one. Only call when simrand_next_due is not -1. */
void simrand_take(struct simrand *r, struct sim_cmd *cmd);
void simrand_free(struct simrand *r);

#endif
