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
 * Every job is idempotent: at stop the job under way finishes, jobs still queued
 * are dropped, and the schedule's catch-up at the next start does them again (a
 * purge or sweep cut short by a crash leaves whole batches: redone the same way). */
#ifndef GS_DAYWORKER_H
#define GS_DAYWORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "civil.h"
#include "config.h"
#include "loop.h"

enum day_job_kind {
    JOB_PURGE,    /* readings before `before_ms`, their days' figures stored first */
    JOB_CATCH_UP, /* `day` was a working day the daemon may have missed: sweep, figures */
    JOB_SWEEP,    /* the absence sweep of `day` */
    JOB_CHECKS,   /* a check window of `day` closed: availability stored, figures logged */
    JOB_DAY_END,  /* `day` ended: availability and the figures stored */
};

struct day_job {
    enum day_job_kind kind;
    char day[CIVIL_DAY_LEN];
    /* Copied: a reload changes the config's windows on the main thread. */
    struct cfg_windows windows;
    int64_t before_ms;       /* JOB_PURGE */
    int retention_days;      /* JOB_PURGE: for the log line */
    const char *window;      /* JOB_CHECKS: "morning" or "noon" (static text) */
    /* Availability of each lane, -1 when the lane was not sampled (JOB_CHECKS, JOB_DAY_END). */
    int permille[CFG_MAX_LANES];
    bool report;             /* the day's summary is wanted once the job is done */
};

const char *day_job_name(enum day_job_kind k);

/* What the main loop hears of a finished job. */
struct day_done {
    enum day_job_kind kind;
    char day[CIVIL_DAY_LEN];
    bool ok, report;
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
