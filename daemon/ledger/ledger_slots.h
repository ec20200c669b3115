/* Staggered arrival (错峰上学): how many of a [grade] or [class] arriving in its own
 * slot are expected, have come and came after their slot's end, for the summary's
 * arrival_slots and the gates page. A class's slot wins over its grade's (civil.h's
 * civil_slot_of): a grade's group leaves out its classes that have their own.
 * Slots are the pupils': teachers and staff keep the whole morning window. */
#ifndef GS_LEDGER_SLOTS_H
#define GS_LEDGER_SLOTS_H

#include <stdbool.h>

#include "config.h"
#include "ledger.h"

struct slot_counts {
    int expected; /* as the day's figures count them: nobody on a closed day */
    int arrived;  /* with a morning check */
    int late;     /* of those, the first morning check after the slot's end */
};

/* g: one of w's grades (is_class false) or classes, with a slot. */
int ledger_slot_counts(struct ledger *l, const char *day, const struct cfg_windows *w,
                       const struct cfg_group *g, bool is_class, struct slot_counts *out);

#endif
