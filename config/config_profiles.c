/* The built-in Modbus register profiles: plain data, copied into every config
 * before its own [profile]s. */
#include "config_parse.h"

#include "config_load.h"

/* ---- built-in profiles ---------------------------------------------------------- */

#define FIELD(addr, t, sc) {.present = true, .address = (addr), .type = (t), \
                            .order = CFG_WO_ABCD, .scale = (sc)}

/* 30 °C: skin at a gate reads 32-37 °C, walls and air in a Henan summer up to the
 * low 30s only in the sun; 3 polls within 0.2 °C (two counts of the pyrometer's
 * tenths); 2 s: a person holds still that long at a gate. */
#define RISE_DEFAULTS {.presence_min_centi = 3000, .settle_samples = 3, \
                       .settle_tolerance_centi = 20, .peak = false, .dwell_ms = 2 * SEC}

const struct cfg_rise cp_rise_defaults = RISE_DEFAULTS;

/* The README's "Screening devices" lists these maps (tests/unit/test_config.c
 * checks that it does so exactly). */
const struct cfg_profile cp_builtin_profiles[NBUILTIN] = {
    {
        .name = "gatescreen-ir", .nblocks = 1, .blocks = {{3, 0, 6}},
        .fields = {
            [CFG_F_BODY_TEMP] = FIELD(0, CFG_T_INT16, 0.01),
            [CFG_F_AMBIENT_TEMP] = FIELD(1, CFG_T_INT16, 0.01),
            [CFG_F_STATUS] = FIELD(2, CFG_T_UINT16, 1),
            [CFG_F_SEQUENCE] = FIELD(3, CFG_T_UINT16, 1),
            [CFG_F_CARD_LO] = FIELD(4, CFG_T_UINT16, 1),
            [CFG_F_CARD_HI] = FIELD(5, CFG_T_UINT16, 1),
        },
        .status_valid = 0x0001, .status_fault = 0x0002, .status_present = 0x0004,
        .trigger = CFG_TRIGGER_SEQUENCE, .rise = RISE_DEFAULTS,
    },
    {
        /* Calex PyroUSB / PyroMini ("List of Modbus Addresses"): 0x0F average, 0x10
         * minimum, 0x11 maximum, 0x12 filtered, 0x13 unfiltered object temperature,
         * 0x14 sensor (ambient) temperature, all int16 tenths of °C; 0x15 status,
         * active high: bit 0 measurement error, 1/2 sensor temperature low/high,
         * 3/4 object temperature low/high. One request reads 0x0F..0x15. The body
         * value is the unfiltered object temperature: the daemon does its own
         * settling, and the device's filter (peak hold, averaging) would keep an
         * old person's value past their leaving. There is no sequence register and
         * no presence bit: a measurement is the object temperature's rise
         * (trigger = rise), or the lane's presence line when it has one. Every
         * status bit is a fault: the reading is invalid (amber), never a pass. */
        .name = "pyrometer", .nblocks = 1, .blocks = {{3, 0x0F, 7}},
        .fields = {
            [CFG_F_BODY_TEMP] = FIELD(0x13, CFG_T_INT16, 0.1),
            [CFG_F_AMBIENT_TEMP] = FIELD(0x14, CFG_T_INT16, 0.1),
            [CFG_F_STATUS] = FIELD(0x15, CFG_T_UINT16, 1),
        },
        .status_valid = 0, .status_fault = 0x001F, .status_present = 0,
        .trigger = CFG_TRIGGER_RISE, .presence_if_line = true,
        .rise = RISE_DEFAULTS,
    },
};

const struct cfg_profile *config_builtin_profiles(int *count)
{
    if (count != NULL)
        *count = NBUILTIN;
    return cp_builtin_profiles;
}
