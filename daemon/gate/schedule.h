/* The school day on the daemon's clock: once a second it asks civil.c which of the
 * day's events have come (window closes, absence sweep, end of day, rollover at
 * local midnight) and hands what each needs in the ledger to the day worker
 * (dayworker.h: its own thread and connection, so the lanes never wait on it): the
 * absence sweep, the day's figures (logged, and stored at the end of the day), the
 * purge of old readings. It also samples each lane once a second during the school day
 * (morning start to day end, school days) and stores the share of that time the
 * lane's devices were online as "lane.<name>.availability_permille". When a check
 * window closes and at the end of the day it asks the uploader to queue the day's
 * summary for the bureau (a new revision only when the facts changed), once the
 * worker has done the job before it. Every handler is idempotent, so a restart in
 * the middle of a day catches up without doing anything twice. Main thread. */
#ifndef GS_SCHEDULE_H
#define GS_SCHEDULE_H

#include "config.h"
#include "gate.h"
#include "loop.h"
#include "uploader.h"

struct schedule;

/* Starts the day worker (its own connection to cfg's ledger), queues the catch-up
 * (purge, yesterday, today so far) at once, then checks every second. */
struct schedule *schedule_new(const struct config *cfg, struct loop *loop,
                              const struct gate *gate, struct uploader *uploader);
/* From now on the day's events follow `cfg` (a new snapshot after a reload; the
 * caller keeps it alive while the schedule runs on it). Jobs already posted to the
 * worker carry their own copies of what they need. */
void schedule_reconfigure(struct schedule *s, const struct config *cfg);
/* Stops the worker: the job under way finishes, queued ones are left to the next
 * start's catch-up. */
void schedule_free(struct schedule *s);

#endif
