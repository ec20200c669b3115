/* The school day on the daemon's clock: once a second it asks civil.c which of the
 * day's events are due (window closes, absence sweep, end of day, the rollover of a
 * new day) and hands what each needs in the ledger to the day worker
 * (dayworker.h: its own thread and connection, so the lanes never wait on it): the
 * absence sweep, the day's figures (logged, and stored at the end of the day), the
 * purge of old readings. Events are keyed on school days, not on clock readings:
 * the worker runs each once per day (the ledger's day_events), so a wall clock set
 * back, a reload that moves a window and a restart do nothing twice, a reload that
 * moves an event into the past runs it at once, and a clock that jumps forward
 * over school days catches them up in order. It also samples each lane once a
 * second during the school day (morning start to day end, school days) and stores
 * the share of that time the lane's devices were online as
 * "lane.<name>.availability_permille". When a check window closes and at the end
 * of the day it asks the uploader to queue the day's summary for the bureau (a new
 * revision only when the facts changed), once the worker has done the job before
 * it. Main thread. */
#ifndef GS_SCHEDULE_H
#define GS_SCHEDULE_H

#include "config.h"
#include "gate.h"
#include "loop.h"
#include "uploader.h"

struct schedule;

/* Starts the day worker (its own connection to cfg's ledger), queues the catch-up
 * of the last week's school days the daemon may have missed (their sweep and day
 * end, when the gate worked on them), then today's rollover and the events already
 * due, and checks every second. */
struct schedule *schedule_new(const struct config *cfg, struct loop *loop,
                              const struct gate *gate, struct uploader *uploader);
/* From now on the day's events follow `cfg` (a new snapshot after a reload; the
 * caller keeps it alive while the schedule runs on it). Jobs already posted to the
 * worker carry their own copies of what they need. */
void schedule_reconfigure(struct schedule *s, const struct config *cfg);
/* Stops the worker: the job under way finishes, queued ones are left to the next
 * start's catch-up. */
void schedule_free(struct schedule *s);

/* Tests: one tick now (the timer does it every second), and the jobs posted to the
 * worker and not yet reported done. */
void schedule_tick(struct schedule *s);
int schedule_pending(const struct schedule *s);

#endif
