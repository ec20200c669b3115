#include "backoff.h"

static uint32_t xorshift32(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9E3779B9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

int64_t backoff_next(struct backoff *b, uint32_t *rng)
{
    if (b->current_ms == 0)
        b->current_ms = b->min_ms;
    else
        b->current_ms = b->current_ms * 2 > b->max_ms ? b->max_ms : b->current_ms * 2;
    /* Jitter in [0.8, 1.2): per mille, integer arithmetic only. */
    int64_t permille = 800 + (int64_t)(xorshift32(rng) % 400);
    int64_t d = b->current_ms * permille / 1000;
    return d > 0 ? d : 1;
}

void backoff_reset(struct backoff *b) { b->current_ms = 0; }
