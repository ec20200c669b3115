#include "thermal.h"

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

int thermal_is_new(struct trigger_state *t, const struct cfg_profile *p,
                   const struct thermal_sample *s)
{
    bool now_present = present(p, s);
    int fresh = 0;
    if (p->trigger == CFG_TRIGGER_SEQUENCE && s->has_sequence)
        fresh = t->have_baseline && s->sequence != t->last_sequence;
    else if (p->trigger == CFG_TRIGGER_PRESENCE && s->has_presence_edges)
        /* The lane's sensor alone: with the device's bit too, one person would rise
         * twice (bit, then debounced edge), and the second reading would wait for
         * the next child's card. */
        fresh = t->have_baseline && s->presence_edges != t->last_presence_edges;
    else if (p->trigger == CFG_TRIGGER_PRESENCE)
        fresh = t->have_baseline && now_present && !t->last_present;
    t->have_baseline = true;
    t->last_presence_edges = s->presence_edges;
    t->last_sequence = s->sequence;
    t->last_present = now_present;
    return fresh;
}

void thermal_forget(struct trigger_state *t) { memset(t, 0, sizeof *t); }

static int32_t centi(double c) { return (int32_t)lround(c * 100.0); }

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
    r->device_valid = !(s->has_status && p->status_valid) || (s->status & p->status_valid);
    r->device_fault = s->has_status && p->status_fault && (s->status & p->status_fault);
    r->has_card = s->has_card;
    r->card = s->card;
    r->has_sequence = s->has_sequence;
    r->sequence = s->sequence;
}
