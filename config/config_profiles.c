/* The built-in Modbus register profiles: plain data, copied into every config
 * before its own [profile]s. */
#include "config_parse.h"

#include "config_load.h"

/* ---- built-in profiles ---------------------------------------------------------- */

#define FIELD(addr, t, sc) {.present = true, .address = (addr), .type = (t), \
                            .order = CFG_WO_ABCD, .scale = (sc)}

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
        .trigger = CFG_TRIGGER_SEQUENCE,
    },
    {
        /* Calex PyroUSB style: no sequence counter, so a reading is taken on the
         * rising edge of "person present". */
        .name = "pyrometer", .nblocks = 2, .blocks = {{3, 0x00, 2}, {3, 0x15, 1}},
        .fields = {
            [CFG_F_BODY_TEMP] = FIELD(0, CFG_T_INT16, 0.1),
            [CFG_F_AMBIENT_TEMP] = FIELD(1, CFG_T_INT16, 0.1),
            [CFG_F_STATUS] = FIELD(0x15, CFG_T_UINT16, 1),
        },
        .status_valid = 0x0001, .status_fault = 0x0002, .status_present = 0x0004,
        .trigger = CFG_TRIGGER_PRESENCE,
    },
};

const struct cfg_profile *config_builtin_profiles(int *count)
{
    if (count != NULL)
        *count = NBUILTIN;
    return cp_builtin_profiles;
}
