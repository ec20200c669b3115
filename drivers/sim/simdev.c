#include "simdev.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"
#include "regdecode.h"

struct simdev {
    const struct cfg_device *cfg;
    const struct cfg_profile *profile;
    struct regmap layout;      /* which addresses the profile's blocks cover */
    modbus_mapping_t *map;     /* holding and input registers, spanning the blocks */
    uint16_t status;
    uint32_t sequence;
    int64_t present_until;     /* presence- and rise-triggered profiles end it by themselves */
    int64_t fault_until;       /* 0: no timed fault */
    int64_t silent_until, slow_until, exc_until, bad_until; /* conditions: active while > now */
    int64_t slow_ms;
    int64_t flap_until, flap_start, flap_up, flap_down; /* answering, then silent, in turn */
    int exc_code;
    unsigned bad_next;         /* broken replies take turns */
    struct simdev_counters n;
};

struct simdevs {
    const struct config *cfg;
    pthread_mutex_t lock;
    int ndevs;
    struct simdev *devs;       /* parallel to cfg->devices */
};

/* ---- registers ------------------------------------------------------------- */

/* The registers of `function` a device must hold: from the lowest block start to
 * the highest block end (gaps inside are refused by check_request). */
static void block_span(const struct cfg_profile *p, int function, int *start, int *count)
{
    int lo = INT_MAX, hi = 0;
    for (int i = 0; i < p->nblocks; i++) {
        const struct cfg_block *b = &p->blocks[i];
        if (b->function != function)
            continue;
        lo = b->start < lo ? b->start : lo;
        hi = b->start + b->count > hi ? b->start + b->count : hi;
    }
    *start = lo == INT_MAX ? 0 : lo;
    *count = lo == INT_MAX ? 0 : hi - lo;
}

static uint16_t *field_regs(struct simdev *d, const struct cfg_field *f)
{
    int width = regdecode_width(f->type);
    for (int i = 0; i < d->profile->nblocks; i++) {
        const struct cfg_block *b = &d->profile->blocks[i];
        if (f->address < b->start || f->address + width > b->start + b->count)
            continue;
        if (b->function == 3)
            return d->map->tab_registers + (f->address - d->map->start_registers);
        return d->map->tab_input_registers + (f->address - d->map->start_input_registers);
    }
    return NULL;
}

/* Writes value (in the field's unit, e.g. °C) as raw = value / scale; fields the
 * profile does not have are skipped. */
static void put_field(struct simdev *d, enum cfg_field_role role, double value)
{
    const struct cfg_field *f = &d->profile->fields[role];
    uint16_t *r = f->present && f->scale != 0 ? field_regs(d, f) : NULL;
    if (r != NULL)
        regencode_raw(f->type, f->order, value / f->scale, r);
}

/* The card as the daemon reads it back: lo | hi << 16 when there are two fields. */
static void put_card(struct simdev *d, uint32_t card)
{
    bool split = d->profile->fields[CFG_F_CARD_HI].present;
    put_field(d, CFG_F_CARD_LO, split ? card & 0xFFFF : card);
    if (split)
        put_field(d, CFG_F_CARD_HI, card >> 16);
}

static void set_status(struct simdev *d, uint16_t status)
{
    d->status = status;
    put_field(d, CFG_F_STATUS, status);
}

/* The first fault bit: the Calex "measurement error" (bit 0 of its 0x1F). */
static uint16_t fault_bit(const struct cfg_profile *p)
{
    return (uint16_t)(p->status_fault & (~p->status_fault + 1u));
}

static bool rise_triggered(const struct cfg_profile *p)
{
    return p->trigger == CFG_TRIGGER_RISE;
}

/* The person steps away: presence clears; a pyrometer sees the wall again and
 * its measurement error (from `invalid`) ends with the measurement. */
static void person_gone(struct simdev *d)
{
    d->present_until = 0;
    uint16_t keep = (uint16_t)~d->profile->status_present;
    if (rise_triggered(d->profile)) {
        put_field(d, CFG_F_BODY_TEMP, SIMDEV_BACKGROUND);
        if (d->fault_until == 0)
            keep &= (uint16_t)~fault_bit(d->profile);
    }
    set_status(d, d->status & keep);
}

/* Wraps within the positive range of the register type, as a device counter would. */
static void bump_sequence(struct simdev *d)
{
    const struct cfg_field *f = &d->profile->fields[CFG_F_SEQUENCE];
    uint32_t mask = f->type == CFG_T_INT16 ? 0x7FFF : f->type == CFG_T_UINT16 ? 0xFFFF
                  : f->type == CFG_T_INT32 ? 0x7FFFFFFF : 0xFFFFFFFF;
    d->sequence = (d->sequence + 1) & mask;
    put_field(d, CFG_F_SEQUENCE, d->sequence);
}

/* Timed changes happen when someone looks: before every reply and command. */
static void refresh(struct simdev *d, int64_t now)
{
    if (d->fault_until != 0 && now >= d->fault_until) {
        d->fault_until = 0;
        set_status(d, d->status & (uint16_t)~d->profile->status_fault);
    }
    if (d->present_until != 0 && now >= d->present_until)
        person_gone(d);
}

/* ---- life ------------------------------------------------------------------ */

static int simdev_init(struct simdev *d, const struct config *cfg, int index)
{
    int s3, n3, s4, n4;
    d->cfg = &cfg->devices[index];
    d->profile = &cfg->profiles[d->cfg->profile];
    regmap_init(&d->layout, d->profile);
    block_span(d->profile, 3, &s3, &n3);
    block_span(d->profile, 4, &s4, &n4);
    d->map = modbus_mapping_new_start_address(0, 0, 0, 0, (unsigned)s3, (unsigned)n3,
                                              (unsigned)s4, (unsigned)n4);
    if (d->map == NULL)
        return -1;
    put_field(d, CFG_F_AMBIENT_TEMP, SIMDEV_AMBIENT_START);
    if (rise_triggered(d->profile))
        put_field(d, CFG_F_BODY_TEMP, SIMDEV_BACKGROUND);
    return 0;
}

struct simdevs *simdevs_new(const struct config *cfg)
{
    struct simdevs *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->cfg = cfg;
    pthread_mutex_init(&s->lock, NULL);
    s->devs = calloc((size_t)(cfg->ndevices ? cfg->ndevices : 1), sizeof *s->devs);
    if (s->devs == NULL)
        goto fail;
    for (; s->ndevs < cfg->ndevices; s->ndevs++)
        if (simdev_init(&s->devs[s->ndevs], cfg, s->ndevs) < 0)
            goto fail;
    return s;
fail:
    log_err("out of memory for the device registers");
    simdevs_free(s);
    return NULL;
}

void simdevs_free(struct simdevs *s)
{
    if (s == NULL)
        return;
    for (int i = 0; s->devs && i < s->ndevs; i++)
        modbus_mapping_free(s->devs[i].map);
    free(s->devs);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

struct simdev *simdevs_unit(struct simdevs *s, int bus, int unit)
{
    for (int i = 0; i < s->ndevs; i++)
        if (s->devs[i].cfg->bus == bus && s->devs[i].cfg->unit_id == unit)
            return &s->devs[i];
    return NULL;
}

/* ---- commands -------------------------------------------------------------- */

static int64_t until(int64_t now, int64_t for_ms)
{
    return for_ms > 0 ? now + for_ms : INT64_MAX;
}

/* arrive / invalid: a new measurement. It replaces the status: present, valid
 * only for arrive, any fault gone; `invalid` on a profile with no valid bit (the
 * pyrometer) sets its first fault bit instead, until the person leaves. */
static void measure(struct simdev *d, const struct sim_cmd *c, int64_t now)
{
    const struct cfg_profile *p = d->profile;
    bool ok = c->verb == SIM_ARRIVE;
    put_field(d, CFG_F_BODY_TEMP, (double)c->temp_centi / 100.0);
    if (c->has_ambient)
        put_field(d, CFG_F_AMBIENT_TEMP, (double)c->ambient_centi / 100.0);
    put_card(d, c->card);
    d->fault_until = 0;
    set_status(d, p->status_present | (ok ? p->status_valid : 0) |
                      (!ok && p->status_valid == 0 ? fault_bit(p) : 0));
    bool timed = p->trigger == CFG_TRIGGER_PRESENCE || rise_triggered(p);
    d->present_until = timed ? now + SIMDEV_PRESENCE_MS : 0;
    bump_sequence(d);
}

static void fault(struct simdev *d, const struct sim_cmd *c, int64_t now)
{
    const struct cfg_profile *p = d->profile;
    set_status(d, (uint16_t)((d->status & ~p->status_valid) | fault_bit(p)));
    d->fault_until = c->for_ms > 0 ? now + c->for_ms : 0;
    bump_sequence(d);
}

static void clear(struct simdev *d)
{
    d->silent_until = d->slow_until = d->exc_until = d->bad_until = d->flap_until = 0;
    if (d->status & d->profile->status_fault)
        set_status(d, d->status & (uint16_t)~d->profile->status_fault);
    d->fault_until = 0;
}

static void apply(struct simdev *d, const struct sim_cmd *c, int64_t now)
{
    switch (c->verb) {
    case SIM_ARRIVE:
    case SIM_INVALID: measure(d, c, now); break;
    case SIM_FAULT: fault(d, c, now); break;
    case SIM_SILENT: d->silent_until = until(now, c->for_ms); break;
    case SIM_SLOW:
        d->slow_ms = c->delay_ms;
        d->slow_until = until(now, c->for_ms);
        break;
    case SIM_EXCEPTION:
        d->exc_code = c->code;
        d->exc_until = until(now, c->for_ms);
        break;
    case SIM_MALFORMED: d->bad_until = until(now, c->for_ms); break;
    case SIM_FLAP:
        d->flap_start = now;
        d->flap_up = c->up_ms;
        d->flap_down = c->down_ms;
        d->flap_until = until(now, c->for_ms);
        break;
    case SIM_LEAVE: person_gone(d); break;
    case SIM_CLEAR: clear(d); break;
    case SIM_QUIT: break;
    }
}

void simdevs_apply(struct simdevs *s, const struct sim_cmd *cmd, int64_t now_ms)
{
    if (cmd->device < 0 || cmd->device >= s->ndevs)
        return;
    pthread_mutex_lock(&s->lock);
    struct simdev *d = &s->devs[cmd->device];
    refresh(d, now_ms);
    apply(d, cmd, now_ms);
    pthread_mutex_unlock(&s->lock);
}

/* ---- requests -------------------------------------------------------------- */

/* 0 when the device can answer the request, else the exception code it gets:
 * only reads (3, 4), of 1..125 registers, all inside the profile's blocks. */
static int check_request(const struct simdev *d, const uint8_t *pdu, int len)
{
    if (len < 1 || (pdu[0] != 3 && pdu[0] != 4))
        return MODBUS_EXCEPTION_ILLEGAL_FUNCTION;
    if (len < 5)
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
    int address = pdu[1] << 8 | pdu[2], count = pdu[3] << 8 | pdu[4];
    if (count < 1 || count > MODBUS_MAX_READ_REGISTERS)
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
    for (int a = address; a < address + count; a++)
        if (regmap_index(&d->layout, pdu[0], a) < 0)
            return MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS;
    return 0;
}

static int read_count(const uint8_t *pdu, int len)
{
    return len >= 5 && (pdu[0] == 3 || pdu[0] == 4) ? (pdu[3] << 8 | pdu[4]) : 0;
}

/* A flapping unit is silent in the second part of each period. */
static bool flapped_off(const struct simdev *d, int64_t now)
{
    return d->flap_until > now && (now - d->flap_start) % (d->flap_up + d->flap_down) >= d->flap_up;
}

/* Order of precedence: silent (or flapped off), malformed, exception, then a normal
 * answer. */
static void decide(struct simdev *d, const uint8_t *pdu, int len, int64_t now,
                   struct sim_plan *p)
{
    if (d->silent_until > now || flapped_off(d, now)) {
        p->action = SIM_ACT_DROP;
        d->n.silenced++;
    } else if (d->bad_until > now) {
        p->action = SIM_ACT_MALFORMED;
        p->bad = (enum simframe_bad)(d->bad_next++ % SIMFRAME_BAD_KINDS);
        d->n.malformed++;
    } else if (d->exc_until > now || (p->code = check_request(d, pdu, len)) != 0) {
        p->action = SIM_ACT_EXCEPTION;
        p->code = d->exc_until > now ? d->exc_code : p->code;
        d->n.exceptions++;
    } else {
        p->action = SIM_ACT_REPLY;
        d->n.served++;
    }
}

void simdevs_plan(struct simdevs *s, struct simdev *d, const uint8_t *pdu, int len,
                  int64_t now_ms, struct sim_plan *p)
{
    *p = (struct sim_plan){.count = read_count(pdu, len)};
    pthread_mutex_lock(&s->lock);
    decide(d, pdu, len, now_ms, p);
    p->delay_ms = d->slow_until > now_ms ? d->slow_ms : 0;
    pthread_mutex_unlock(&s->lock);
}

int simdevs_reply(struct simdevs *s, struct simdev *d, modbus_t *ctx, const uint8_t *req,
                  int len, int64_t now_ms)
{
    pthread_mutex_lock(&s->lock);
    refresh(d, now_ms);
    int rc = modbus_reply(ctx, req, len, d->map);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void simdevs_counters(struct simdevs *s, int device, struct simdev_counters *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->devs[device].n;
    pthread_mutex_unlock(&s->lock);
}
