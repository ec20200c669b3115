/* Register maps (docs/design.md, "Drivers"): from the 16-bit registers a device
 * returned to the values of a profile's fields. Pure: no I/O. */
#ifndef GS_REGDECODE_H
#define GS_REGDECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/* Registers of one profile as read: regs[i] holds the register at blocks' address
 * order; see regmap_index. */
struct regmap {
    const struct cfg_profile *profile;
    int offset[CFG_MAX_BLOCKS]; /* index in regs[] of each block's first register */
    int nregs;                  /* total registers over all blocks */
};

/* Lays out the blocks of a profile one after the other. */
void regmap_init(struct regmap *m, const struct cfg_profile *p);
/* Index in regs[] of register `address` (read with `function`), or -1. */
int regmap_index(const struct regmap *m, int function, int address);

/* The raw integer or float of one field, before scale. 32-bit types combine two
 * registers in the field's word order: ABCD = big-endian (Modbus default), CDAB =
 * word-swapped, BADC = byte-swapped, DCBA = both. */
double regdecode_raw(enum cfg_field_type type, enum cfg_word_order order, const uint16_t *r);
/* raw * scale for field `role` of m's profile; -1 if the profile has no such field
 * or it does not lie inside a block. */
int regdecode_field(const struct regmap *m, const uint16_t *regs, enum cfg_field_role role,
                    double *out);
/* Number of registers a type spans (1 or 2). */
int regdecode_width(enum cfg_field_type type);
/* The inverse, for the simulator: writes value/scale into r[0..width-1]. */
void regencode_raw(enum cfg_field_type type, enum cfg_word_order order, double raw,
                   uint16_t *r);

#endif
