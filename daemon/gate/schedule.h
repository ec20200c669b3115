/* The school day on the daemon's clock: once a second it asks civil.c which of the
 * day's events have come (window closes, absence sweep, end of day, rollover at
 * local midnight) and does what each needs in the ledger: the absence sweep, the
 * day's figures (logged, and stored at the end of the day), the purge of old
 * readings. It also samples each lane once a second during the school day
 * (morning start to day end, school days) and stores the share of that time the
 * lane's devices were online as "lane.<name>.availability_permille". When a check
 * window closes and at the end of the day it asks the uploader to queue the day's
 * summary for the bureau (a new revision only when the facts changed). Every handler is idempotent, so a restart in the middle of a day
 * catches up without doing anything twice. Main thread. */
#ifndef GS_SCHEDULE_H
#define GS_SCHEDULE_H

#include "config.h"
#include "gate.h"
#include "ledger.h"
#include "loop.h"
#include "uploader.h"

struct schedule;

/* Runs the catch-up for today at once, then checks every second. */
struct schedule *schedule_new(const struct config *cfg, struct ledger *l, struct loop *loop,
                               const struct gate *gate, struct uploader *uploader);
/* From now on the day's events follow `cfg` (a new snapshot after a reload; the
 * caller keeps it alive while the schedule runs on it). */
void schedule_reconfigure(struct schedule *s, const struct config *cfg);
void schedule_free(struct schedule *s);

#endif
