#include "regdecode.h"

#include <math.h>
#include <string.h>

int regdecode_width(enum cfg_field_type type)
{
    return type == CFG_T_INT16 || type == CFG_T_UINT16 ? 1 : 2;
}

void regmap_init(struct regmap *m, const struct cfg_profile *p)
{
    m->profile = p;
    m->nregs = 0;
    for (int i = 0; i < p->nblocks; i++) {
        m->offset[i] = m->nregs;
        m->nregs += p->blocks[i].count;
    }
}

int regmap_index(const struct regmap *m, int function, int address)
{
    const struct cfg_profile *p = m->profile;
    for (int i = 0; i < p->nblocks; i++) {
        const struct cfg_block *b = &p->blocks[i];
        if (b->function == function && address >= b->start && address < b->start + b->count)
            return m->offset[i] + (address - b->start);
    }
    return -1;
}

/* The four bytes of a 32-bit value in ABCD order (A = most significant). */
static uint32_t combine(enum cfg_word_order order, uint16_t w0, uint16_t w1)
{
    uint8_t b[4] = {(uint8_t)(w0 >> 8), (uint8_t)w0, (uint8_t)(w1 >> 8), (uint8_t)w1};
    static const int pos[4][4] = {
        [CFG_WO_ABCD] = {0, 1, 2, 3}, /* wire bytes: A B C D */
        [CFG_WO_CDAB] = {2, 3, 0, 1}, /* wire bytes: C D A B */
        [CFG_WO_BADC] = {1, 0, 3, 2}, /* wire bytes: B A D C */
        [CFG_WO_DCBA] = {3, 2, 1, 0}, /* wire bytes: D C B A */
    };
    const int *p = pos[order];
    /* pos[k] = wire position of byte k (A..D) */
    return (uint32_t)b[p[0]] << 24 | (uint32_t)b[p[1]] << 16 | (uint32_t)b[p[2]] << 8 |
           b[p[3]];
}

static void split(enum cfg_word_order order, uint32_t v, uint16_t *r)
{
    uint8_t abcd[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    static const int pos[4][4] = {
        [CFG_WO_ABCD] = {0, 1, 2, 3}, [CFG_WO_CDAB] = {2, 3, 0, 1},
        [CFG_WO_BADC] = {1, 0, 3, 2}, [CFG_WO_DCBA] = {3, 2, 1, 0},
    };
    uint8_t wire[4];
    for (int k = 0; k < 4; k++)
        wire[pos[order][k]] = abcd[k];
    r[0] = (uint16_t)(wire[0] << 8 | wire[1]);
    r[1] = (uint16_t)(wire[2] << 8 | wire[3]);
}

double regdecode_raw(enum cfg_field_type type, enum cfg_word_order order, const uint16_t *r)
{
    uint32_t v;
    float f;
    switch (type) {
    case CFG_T_INT16: return (int16_t)r[0];
    case CFG_T_UINT16: return r[0];
    case CFG_T_INT32: return (int32_t)combine(order, r[0], r[1]);
    case CFG_T_UINT32: return combine(order, r[0], r[1]);
    case CFG_T_FLOAT32:
        v = combine(order, r[0], r[1]);
        memcpy(&f, &v, sizeof f);
        return f;
    }
    return NAN;
}

void regencode_raw(enum cfg_field_type type, enum cfg_word_order order, double raw,
                   uint16_t *r)
{
    float f;
    uint32_t v;
    switch (type) {
    case CFG_T_INT16: r[0] = (uint16_t)(int16_t)lround(raw); return;
    case CFG_T_UINT16: r[0] = (uint16_t)lround(raw); return;
    case CFG_T_INT32: split(order, (uint32_t)(int32_t)llround(raw), r); return;
    case CFG_T_UINT32: split(order, (uint32_t)llround(raw), r); return;
    case CFG_T_FLOAT32:
        f = (float)raw;
        memcpy(&v, &f, sizeof v);
        split(order, v, r);
        return;
    }
}

int regdecode_field(const struct regmap *m, const uint16_t *regs, enum cfg_field_role role,
                    double *out)
{
    const struct cfg_field *f = &m->profile->fields[role];
    if (!f->present)
        return -1;
    int fn = -1;
    for (int i = 0; i < m->profile->nblocks && fn < 0; i++) {
        const struct cfg_block *b = &m->profile->blocks[i];
        if (f->address >= b->start && f->address + regdecode_width(f->type) <= b->start + b->count)
            fn = b->function;
    }
    int idx = fn < 0 ? -1 : regmap_index(m, fn, f->address);
    if (idx < 0)
        return -1;
    *out = regdecode_raw(f->type, f->order, regs + idx) * f->scale;
    return 0;
}
