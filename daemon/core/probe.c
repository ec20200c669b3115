#include "probe.h"

/* The credit at `now`: what was there plus the share of the time since, capped. */
static int64_t credit_at(const struct probe_budget *pb, int64_t now_us)
{
    int64_t gained = now_us > pb->at_us ? (now_us - pb->at_us) * pb->share_permille / 1000 : 0;
    int64_t c = pb->credit_us + gained;
    return c < pb->cap_us ? c : pb->cap_us;
}

static void bring_up_to_date(struct probe_budget *pb, int64_t now_us)
{
    pb->credit_us = credit_at(pb, now_us);
    if (now_us > pb->at_us)
        pb->at_us = now_us;
}

void probe_init(struct probe_budget *pb, int64_t cap_us, int share_permille, int64_t now_us)
{
    *pb = (struct probe_budget){.credit_us = cap_us, .cap_us = cap_us, .at_us = now_us,
                                .share_permille = share_permille > 0 ? share_permille : 1};
}

void probe_set_share(struct probe_budget *pb, int share_permille, int64_t now_us)
{
    bring_up_to_date(pb, now_us);
    pb->share_permille = share_permille > 0 ? share_permille : 1;
}

void probe_charge(struct probe_budget *pb, int64_t cost_us, int64_t now_us)
{
    bring_up_to_date(pb, now_us);
    pb->credit_us -= cost_us > 0 ? cost_us : 0;
}

int64_t probe_ready_us(const struct probe_budget *pb, int64_t now_us)
{
    int64_t c = credit_at(pb, now_us);
    if (c >= 0)
        return now_us;
    /* Rounded up: at that instant the credit is back to 0, not just short of it. */
    return now_us + (-c * 1000 + pb->share_permille - 1) / pb->share_permille;
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
