/* Requests per minute per sender (docs/bureau.md, "Rate limits"): a token bucket
 * per key (the collector uses "SCHOOL/KIND", so a school's backlog of summaries never
 * uses up the budget of its urgent notices). Each bucket holds up to `burst`
 * requests and refills at `per_minute`. Thread-safe; the clock is the caller's, so
 * tests can drive it.
 *
 * The buckets live in this process: behind a load balancer with N instances a
 * school gets up to N times the rate. Only senders with a certificate from the
 * bureau's CA reach it, so the keys are bounded by the enrolled schools; still, at
 * RATE_LIMIT_KEYS_MAX keys the full buckets (which say nothing) are forgotten, and
 * if none is full a new key is let through rather than refused. */
#ifndef GS_RATE_LIMIT_H
#define GS_RATE_LIMIT_H

#include <stdint.h>

#define RATE_LIMIT_KEYS_MAX 65536
#define RATE_LIMIT_KEY_MAX 64

struct rate_limit;

/* per_minute 0: no limit, else at most 1,000,000; burst at least 1 when per_minute
 * > 0. NULL: no memory. */
struct rate_limit *rate_limit_new(int per_minute, int burst);
/* Live on reload: buckets keep their level, capped at the new burst. */
void rate_limit_set(struct rate_limit *rl, int per_minute, int burst);
/* Takes one request for key at now_ms. wait_ms: 0 when it may go on, else the
 * milliseconds until it would. run: on a refusal, how many in a row this is (1 for
 * the first); on a request let through, how many were refused just before it (so
 * a flood is logged at its start and its end, not per request). A key longer than
 * RATE_LIMIT_KEY_MAX - 1 is cut. */
struct rate_verdict {
    int64_t wait_ms;
    uint64_t run;
};
struct rate_verdict rate_limit_take(struct rate_limit *rl, const char *key, int64_t now_ms);
/* Keys tracked now (for tests and the log). */
int rate_limit_keys(struct rate_limit *rl);
void rate_limit_free(struct rate_limit *rl);

#endif
