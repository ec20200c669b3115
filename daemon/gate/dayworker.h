/* The day's whole-ledger work, off the gate's thread (issue 13): the absence
 * sweep, the day's figures, the purge of old readings and the catch-up after a
 * restart. These read or write every person or every reading of a day; on the
 * main loop they kept the lanes waiting (5,000 people: the figures alone took
 * ~100 ms a build, tests/bench/README.md). One thread with its own SQLite
 * connection runs the jobs in the order they were posted. Reads run in one read
 * transaction (a snapshot, no write lock); writes run in short transactions of a
 * few hundred rows, so the gate's BEGIN waits milliseconds at most. Each job logs
 * what schedule.c logged before. When a job is done the main loop hears of it
 * through an eventfd queue and calls `done` (schedule.c then asks the uploader
 * for the day's summary, which must follow the stored figures).
 *
 * A job is one of the day's events (civil.h) for one day, and runs once: the
 * worker looks it up in the ledger's record (day_events) first and records it once
 * done, so a wall clock set back, a reload that moves a window or a restart never
 * runs a day's rollover, window close, sweep or day end twice, and the figures a
 * day end stored are not overwritten. One exception keeps a day open: a day
 * before the clock's (`past`) on which the gate recorded no reading (the clock
 * jumped over it, or the daemon was off) gets its figures and summary but no
 * absences, and is not recorded, so that if the day is still to come (a clock that
 * was wrong in the future) it runs normally then. At start (`at_start`) such a day
 * gets nothing at all (a school day the box was off: the bureau sees it missing,
 * which is true), unless the school was closed that day (a closure, a holiday:
 * nobody expected, ledger_day_expects_nobody) and the box was in service before it
 * (a day end recorded on an earlier day): then its day end runs, is recorded, and
 * its summary says "closed", as when the daemon runs through a closed day; schools
 * switch the box off over holidays, and the bureau must tell closed from silent.
 *
 * At stop the job under way finishes, jobs still queued are dropped, and the
 * schedule's catch-up at the next start does them (a purge or sweep cut short by a
 * crash leaves whole batches: redone the same way; a crash between a job and its
 * record redoes the job, each handler being idempotent). */
#ifndef GS_DAYWORKER_H
#define GS_DAYWORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "civil.h"
#include "config.h"
#include "loop.h"

/* What each event does:
 *   DAY_ROLLOVER        readings before `before_ms` go, their days' figures stored first
 *   DAY_MORNING_CLOSED,
 *   DAY_NOON_CLOSED     availability stored, the window's checks logged
 *   DAY_ABSENCE_SWEEP   the absence sweep of `day`
 *   DAY_SLOT_SWEEP      the sweep of the groups whose arrival slots end at slot_end
 *   DAY_END             availability and the day's figures stored */
struct day_job {
    enum day_event event;
    char day[CIVIL_DAY_LEN];
    /* Copied: a reload changes the config's windows on the main thread. */
    struct cfg_windows windows;
    int64_t before_ms;       /* DAY_ROLLOVER */
    int slot_end;            /* DAY_SLOT_SWEEP: minutes after midnight */
    int retention_days;      /* DAY_ROLLOVER: for the log line */
    /* Availability of each lane, -1 when the lane was not sampled (closes, day end). */
    int permille[CFG_MAX_LANES];
    bool report;             /* the day's summary is wanted once the job is done */
    bool past;               /* `day` is before the clock's day (see above) */
    bool at_start;           /* the start's catch-up of a missed day (see above) */
    bool again;              /* benchmarks: run even if done, record nothing */
};

/* What the main loop hears of a finished job. */
struct day_done {
    enum day_event event;
    char day[CIVIL_DAY_LEN];
    bool ok, report;         /* report: it ran (or was asked again at start) */
    bool off_main;           /* it ran on the worker's thread (tests) */
};

typedef void (*dayworker_done_cb)(const struct day_done *d, void *arg);

struct dayworker;

/* Opens the worker's own connection to cfg's ledger (already migrated by the
 * main thread's), starts the thread and watches the completion queue on loop. */
struct dayworker *dayworker_start(const struct config *cfg, struct loop *loop,
                                  dayworker_done_cb done, void *arg);
/* Queues a job (main thread). -1 when out of memory or stopping. */
int dayworker_post(struct dayworker *w, const struct day_job *job);
/* Jobs posted and not yet reported done (main thread). */
int dayworker_pending(const struct dayworker *w);
/* Lets the job under way finish, drops the rest, joins, closes. NULL is fine. */
void dayworker_stop(struct dayworker *w);

/* Tests: called on the worker's thread before each job. */
void dayworker_set_hook(struct dayworker *w, void (*hook)(const struct day_job *job, void *arg),
                        void *arg);

#endif
