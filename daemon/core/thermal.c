#include "thermal.h"

#include <limits.h>
#include <math.h>
#include <string.h>

const char *device_state_name(enum device_state s)
{
    static const char *const names[] = {"unknown", "ok", "degraded", "offline"};
    return (unsigned)s < 4 ? names[s] : "?";
}

int thermal_decode(const struct regmap *m, const uint16_t *regs, struct thermal_sample *s)
{
    double v;
    memset(s, 0, sizeof *s);
    if (regdecode_field(m, regs, CFG_F_BODY_TEMP, &s->body_c) < 0 || !isfinite(s->body_c))
        return -1;
    s->ok = true;
    s->has_ambient = regdecode_field(m, regs, CFG_F_AMBIENT_TEMP, &s->ambient_c) == 0 &&
                     isfinite(s->ambient_c);
    if ((s->has_status = regdecode_field(m, regs, CFG_F_STATUS, &v) == 0))
        s->status = (uint16_t)v;
    if ((s->has_sequence = regdecode_field(m, regs, CFG_F_SEQUENCE, &v) == 0))
        s->sequence = (uint32_t)v;
    if (regdecode_field(m, regs, CFG_F_CARD_LO, &v) == 0) {
        s->card = (uint64_t)v;
        if (regdecode_field(m, regs, CFG_F_CARD_HI, &v) == 0)
            s->card |= (uint64_t)v << 16;
        s->has_card = s->card != 0; /* 0: no card presented with this measurement */
    }
    return 0;
}

static bool present(const struct cfg_profile *p, const struct thermal_sample *s)
{
    return s->has_status && p->status_present && (s->status & p->status_present);
}

static int32_t centi(double c) { return (int32_t)lround(c * 100.0); }

/* ---- trigger = rise ------------------------------------------------------------ */

static void rise_start(struct rise_state *r, int64_t now)
{
    r->phase = RISE_RISING;
    r->since_ms = now;
    r->n = 0;
    r->peak = INT32_MIN;
    r->status_any = 0;
}

static void rise_add(struct rise_state *r, const struct thermal_sample *s, int32_t c)
{
    r->last[r->n % RISE_MAX_SAMPLES] = c;
    r->n++;
    r->peak = c > r->peak ? c : r->peak;
    r->status_any |= s->has_status ? s->status : 0;
}

/* The latest `want` samples lie within `tolerance` of each other. */
static bool rise_settled(const struct rise_state *r, int want, int tolerance)
{
    if (r->n < want)
        return false;
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    for (int k = r->n - want; k < r->n; k++) {
        int32_t v = r->last[k % RISE_MAX_SAMPLES];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    return hi - lo <= tolerance;
}

/* The measurement is made: s becomes it, and the next one waits for a fall. */
static int rise_emit(struct rise_state *r, struct thermal_sample *s, int32_t value,
                     bool unsettled)
{
    s->body_c = value / 100.0;
    s->status = r->status_any;
    s->unsettled = unsettled;
    r->phase = RISE_DONE;
    return 1;
}

/* Above presence_min: settled (or, for the peak, the dwell is over) makes the
 * measurement; a dwell that never settles is one too, flagged, so the gate shows
 * "measure again" instead of nothing. */
static int rise_above(struct rise_state *r, const struct cfg_rise *cf,
                      struct thermal_sample *s, int32_t c)
{
    rise_add(r, s, c);
    bool dwelt = s->mono_ms - r->since_ms >= cf->dwell_ms;
    if (cf->peak)
        return dwelt ? rise_emit(r, s, r->peak, r->n < cf->settle_samples) : 0;
    if (rise_settled(r, cf->settle_samples, cf->settle_tolerance_centi))
        return rise_emit(r, s, c, false);
    return dwelt ? rise_emit(r, s, c, true) : 0;
}

/* A fall below presence_min re-arms. It ends a peak's dwell early (the person
 * left: their peak is the reading, if enough samples saw them); a value that was
 * still settling was a hand passing by. */
static int rise_fall(struct rise_state *r, const struct cfg_rise *cf, struct thermal_sample *s)
{
    bool was_rising = r->phase == RISE_RISING;
    r->phase = RISE_IDLE;
    if (!was_rising || !cf->peak || r->n < cf->settle_samples)
        return 0;
    rise_emit(r, s, r->peak, false);
    r->phase = RISE_IDLE;
    return 1;
}

static int rise_step(struct trigger_state *t, const struct cfg_rise *cf,
                     struct thermal_sample *s)
{
    struct rise_state *r = &t->rise;
    int32_t c = centi(s->body_c);
    if (!t->have_baseline) {
        r->phase = c >= cf->presence_min_centi ? RISE_DONE : RISE_IDLE;
        return 0;
    }
    if (c < cf->presence_min_centi)
        return rise_fall(r, cf, s);
    if (r->phase == RISE_IDLE)
        rise_start(r, s->mono_ms);
    return r->phase == RISE_RISING ? rise_above(r, cf, s, c) : 0;
}

/* ---- new or stale -------------------------------------------------------------- */

/* The built-in pyrometer measures on the lane's presence line when it has one. */
static enum cfg_trigger trigger_of(const struct cfg_profile *p, const struct thermal_sample *s)
{
    if (p->trigger == CFG_TRIGGER_RISE && p->presence_if_line && s->has_presence_edges)
        return CFG_TRIGGER_PRESENCE;
    return p->trigger;
}

int thermal_is_new(struct trigger_state *t, const struct cfg_profile *p,
                   struct thermal_sample *s)
{
    bool now_present = present(p, s);
    enum cfg_trigger trigger = trigger_of(p, s);
    int fresh = 0;
    if (trigger == CFG_TRIGGER_RISE)
        fresh = rise_step(t, &p->rise, s);
    else if (trigger == CFG_TRIGGER_SEQUENCE && s->has_sequence)
        fresh = t->have_baseline && s->sequence != t->last_sequence;
    else if (trigger == CFG_TRIGGER_PRESENCE && s->has_presence_edges)
        /* The lane's sensor alone: with the device's bit too, one person would rise
         * twice (bit, then debounced edge), and the second reading would wait for
         * the next child's card. */
        fresh = t->have_baseline && s->presence_edges != t->last_presence_edges;
    else if (trigger == CFG_TRIGGER_PRESENCE)
        fresh = t->have_baseline && now_present && !t->last_present;
    t->have_baseline = true;
    t->last_presence_edges = s->presence_edges;
    t->last_sequence = s->sequence;
    t->last_present = now_present;
    return fresh;
}

void thermal_forget(struct trigger_state *t) { memset(t, 0, sizeof *t); }

/* Only the rise's phase: a sequence or presence edge seen across the gap is still
 * one measurement (those registers say so themselves). */
void thermal_gap(struct trigger_state *t)
{
    if (t->have_baseline)
        t->rise.phase = RISE_DONE;
}

void thermal_make_reading(const struct cfg_device *dev, int device_index,
                          const struct cfg_profile *p, const struct thermal_sample *s,
                          int64_t mono_ms, int64_t wall_ms, struct reading *r)
{
    memset(r, 0, sizeof *r);
    r->device = device_index;
    r->lane = dev->lane;
    r->mono_ms = mono_ms;
    r->wall_ms = wall_ms;
    r->raw_centi = centi(s->body_c);
    r->offset_centi = dev->offset_centi;
    r->body_centi = r->raw_centi + dev->offset_centi;
    r->has_ambient = s->has_ambient;
    r->ambient_centi = s->has_ambient ? centi(s->ambient_c) : 0;
    r->has_status = s->has_status;
    r->status = s->status;
    r->device_valid = (!(s->has_status && p->status_valid) || (s->status & p->status_valid)) &&
                      !s->unsettled;
    r->device_fault = s->has_status && p->status_fault && (s->status & p->status_fault);
    r->has_card = s->has_card;
    r->card = s->card;
    r->has_sequence = s->has_sequence;
    r->sequence = s->sequence;
}
