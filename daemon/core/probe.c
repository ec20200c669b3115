#include "probe.h"

/* a / b rounded towards minus infinity (b > 0). */
static int64_t div_floor(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Sets the instant the credit is 0 from the credit c at now. */
static void set_credit(struct probe_budget *pb, int64_t c, int64_t now_us)
{
    pb->zero_us = now_us - div_floor(c * 1000, pb->share_permille);
}

static int clamp_share(int share_permille)
{
    return share_permille > 0 ? share_permille : 1;
}

int64_t probe_credit_us(const struct probe_budget *pb, int64_t now_us)
{
    int64_t c = div_floor((now_us - pb->zero_us) * pb->share_permille, 1000);
    return c < pb->cap_us ? c : pb->cap_us;
}

void probe_init(struct probe_budget *pb, int64_t cap_us, int share_permille, int64_t now_us)
{
    pb->cap_us = cap_us;
    pb->share_permille = clamp_share(share_permille);
    set_credit(pb, cap_us, now_us);
}

void probe_set_share(struct probe_budget *pb, int share_permille, int64_t now_us)
{
    share_permille = clamp_share(share_permille);
    if (share_permille == pb->share_permille)
        return; /* keeps "ready since" where it is */
    int64_t c = probe_credit_us(pb, now_us);
    pb->share_permille = share_permille;
    set_credit(pb, c, now_us);
}

void probe_charge(struct probe_budget *pb, int64_t cost_us, int64_t now_us)
{
    set_credit(pb, probe_credit_us(pb, now_us) - (cost_us > 0 ? cost_us : 0), now_us);
}

int64_t probe_ready_us(const struct probe_budget *pb)
{
    return pb->zero_us;
}

int probe_share(int64_t live_permille, bool finding)
{
    if (finding)
        return PROBE_SHARE_FINDING;
    int64_t spare = live_permille < 1000 ? (1000 - live_permille) / 4 : 0;
    if (spare < PROBE_SHARE_MIN)
        return PROBE_SHARE_MIN;
    return spare > PROBE_SHARE_MAX ? PROBE_SHARE_MAX : (int)spare;
}

int64_t probe_delay_ms(struct backoff *bo, uint32_t *rng)
{
    int64_t d = backoff_next(bo, rng);
    return d < bo->max_ms ? d : bo->max_ms;
}

int64_t probe_quick_timeout_us(int64_t answer_us, int64_t full_us)
{
    if (answer_us <= 0)
        return full_us;
    int64_t q = PROBE_QUICK_FACTOR * answer_us + PROBE_QUICK_MARGIN_US;
    return q < full_us ? q : full_us;
}
