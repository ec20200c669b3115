/* The school's paper registers and the nurse's trends (docs/web-api.md
 * "Registers", "Trends"): the rows of the daily 晨午检登记表 (morning and noon
 * checks) and 因病缺勤登记表 (illness absences) per class, and the illness
 * absences per class and day. Read only; the web modules (web_register.c) turn
 * them into JSON, CSV and the printed pages.
 *
 * Views as in ledger_web.h: strings valid only during the callback, never NULL.
 * 0, or -1 on a database error (logged). */
#ifndef GS_LEDGER_REGISTER_H
#define GS_LEDGER_REGISTER_H

#include <stdbool.h>

#include "ledger.h"

struct lr_row {
    const char *day, *class_name, *grade, *external_id, *name;
    bool has_morning, has_noon;
    int morning_centi, noon_centi, threshold_centi; /* threshold of the morning check, else the noon one */
    bool on_leave;
    const char *cause;        /* "" no absence; else the absences.cause */
    const char *symptoms, *onset_day, *diagnosis, *returned_day, *note;
    int clinic_visit;         /* -1 unknown, 0 no, 1 yes */
    bool late;                /* came after the sweep (absences.late_ms set) */
    const char *noon_absence; /* "" none; else the cause of the noon sweep's part-day
                                 absence (午检缺勤: left at noon, did not come back) */
};
/* Every active student of class_name (NULL: every class) on each of the `ndays`
 * days, ordered by class, then day, then external id: one printed page per class
 * and day follows the order. Index checks' unique key, absences' and
 * part_absences' unique keys. */
int ledger_register_rows(struct ledger *l, const char *const *days, int ndays,
                         const char *class_name,
                         void (*fn)(const struct lr_row *r, void *arg), void *arg);

/* The classes of the active students, sorted, with the illness absences of each
 * day from..to (inclusive) per class: fn(class, day, count) for every class once
 * with day NULL (so that a class without illness still has a series), then once
 * per (class, day) with a count above 0. Index absences_day. */
int ledger_register_illness(struct ledger *l, const char *from, const char *to,
                            void (*fn)(const char *class_name, const char *day, int count,
                                       void *arg),
                            void *arg);

#endif
