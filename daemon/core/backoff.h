/* Retry delays for devices that stopped answering: exponential with jitter, so a
 * dead unit costs its bus little and many units do not retry in step. Pure. */
#ifndef GS_BACKOFF_H
#define GS_BACKOFF_H

#include <stdint.h>

struct backoff {
    int64_t min_ms, max_ms; /* first delay; cap */
    int64_t current_ms;     /* 0 = not backing off */
};

/* Next delay: min, 2·min, 4·min, ... up to max, each scaled by a factor in
 * [0.8, 1.2) drawn from *rng (xorshift state, never 0). */
int64_t backoff_next(struct backoff *b, uint32_t *rng);
void backoff_reset(struct backoff *b);

#endif
