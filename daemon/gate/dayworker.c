/* The day's whole-ledger work on its own thread (see dayworker.h). */
#include "dayworker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "evqueue.h"
#include "ledger.h"
#include "ledger_calendar.h"
#include "ledger_health.h"
#include "log.h"

#define DONE_CAPACITY 64
#define WORKER_NICE 10

struct job_node {
    struct day_job job;
    struct job_node *next;
};

struct dayworker {
    const struct config *cfg; /* only its fixed parts: the ledger and the lanes' names */
    struct loop *loop;
    struct ledger *ledger;    /* the worker's own connection */
    struct evq *done_q;
    dayworker_done_cb done;
    void *done_arg;
    pthread_t thread;
    bool started;
    int pending;              /* main thread only */
    pthread_mutex_t mu;       /* guards the fields below */
    pthread_cond_t cv;
    struct job_node *head, *tail;
    bool stopping;
    void (*hook)(const struct day_job *job, void *arg);
    void *hook_arg;
};

/* ---- the jobs (worker thread) --------------------------------------------- */

/* The sweep's messages (a day in the future, ...) go to the log. A day the clock
 * jumped over, on which the gate recorded nothing, gets no absences: nobody was
 * seen, so nobody can be told absent (and sent to the nurse the next morning). */
static int sweep(struct dayworker *w, const struct day_job *j, bool worked)
{
    if (!worked) {
        log_notice("absence sweep for %s: the gate recorded nothing that day; no absences "
                   "made", j->day);
        return 0;
    }
    struct log_sink sink;
    FILE *errs = log_sink_open(&sink);
    int created = 0, late = 0;
    bool slot = j->event == DAY_SLOT_SWEEP;
    int rc = slot ? ledger_absence_sweep_slot(w->ledger, j->day, &j->windows, j->slot_end, NULL,
                                              clock_wall_ms(), &created, &late,
                                              errs ? errs : stderr)
                  : ledger_absence_sweep(w->ledger, j->day, &j->windows, NULL, clock_wall_ms(),
                                         &created, &late, errs ? errs : stderr);
    log_sink_close(&sink);
    if (rc == 0 && slot)
        log_notice("absence sweep for %s, slots ending %02d:%02d: %d new absences (%d of them "
                   "came late)", j->day, j->slot_end / 60, j->slot_end % 60, created, late);
    else if (rc == 0)
        log_notice("absence sweep for %s: %d new absences (%d of them came late)", j->day,
                   created, late);
    return rc;
}

/* The noon or the boarders' evening sweep (ledger_part_sweep), as the morning's. */
static int part_sweep(struct dayworker *w, const struct day_job *j, bool worked)
{
    const char *part = j->event == DAY_NOON_SWEEP ? "noon" : "evening";
    if (!worked) {
        log_notice("%s sweep for %s: the gate recorded nothing that day; no absences made",
                   part, j->day);
        return 0;
    }
    struct log_sink sink;
    FILE *errs = log_sink_open(&sink);
    int created = 0;
    int rc = ledger_part_sweep(w->ledger, j->day, &j->windows, part, NULL, clock_wall_ms(),
                               &created, errs ? errs : stderr);
    log_sink_close(&sink);
    if (rc == 0)
        log_notice("%s sweep for %s: %d new %s absences", part, j->day, created, part);
    return rc;
}

static int store_availability(struct dayworker *w, const struct day_job *j)
{
    int rc = 0;
    for (int i = 0; i < w->cfg->nlanes; i++) {
        if (j->permille[i] < 0)
            continue;
        char name[CFG_NAME_MAX + 40];
        snprintf(name, sizeof name, "lane.%s.availability_permille", w->cfg->lanes[i].name);
        if (ledger_store_figure(w->ledger, j->day, name, j->permille[i]) < 0) {
            log_err("cannot store the availability of lane %s", w->cfg->lanes[i].name);
            rc = -1;
        }
    }
    return rc;
}

static int log_checks(struct dayworker *w, const struct day_job *j)
{
    struct day_figures f;
    if (ledger_day_figures(w->ledger, j->day, &j->windows, &f) < 0)
        return -1;
    bool noon = j->event == DAY_NOON_CLOSED;
    int done = f.v[noon ? FIG_NOON_DONE : FIG_MORNING_DONE];
    int permille = f.v[noon ? FIG_NOON_COVERAGE : FIG_MORNING_COVERAGE];
    log_notice("%s window closed on %s: %d of %d expected checked (%d.%d%%), %d fever screens",
               noon ? "noon" : "morning", j->day, done, f.v[FIG_EXPECTED], permille / 10,
               permille % 10, f.v[FIG_SCREENS]);
    return 0;
}

static int day_end(struct dayworker *w, const struct day_job *j)
{
    struct day_figures f;
    if (ledger_day_figures(w->ledger, j->day, &j->windows, &f) < 0 ||
        ledger_store_day_figures(w->ledger, &f) < 0)
        return -1;
    log_notice("day %s: %d expected, %d checked in the morning, %d fever screens, %d confirmed, "
               "%d absences (%d illness, %d unexplained), %d alerts open",
               j->day, f.v[FIG_EXPECTED], f.v[FIG_MORNING_DONE], f.v[FIG_SCREENS],
               f.v[FIG_CONFIRMED], f.v[FIG_ABSENCES], f.v[FIG_ABS_ILLNESS], f.v[FIG_ABS_UNKNOWN],
               f.v[FIG_ALERTS_OPEN]);
    return 0;
}

/* A new day: readings older than the retention period go; their days' figures stay. */
static int purge(struct dayworker *w, const struct day_job *j)
{
    int deleted = 0, days = 0;
    log_notice("day rollover: %s begins", j->day);
    if (ledger_purge(w->ledger, &j->windows, j->before_ms, "gatescreend", &deleted, &days) < 0) {
        log_err("purge of readings older than %d days failed", j->retention_days);
        return -1;
    }
    if (deleted > 0)
        log_notice("purged %d readings older than %d days, from %d day(s); their "
                   "figures are kept", deleted, j->retention_days, days);
    return 0;
}

static int run_event(struct dayworker *w, const struct day_job *j, bool worked)
{
    switch (j->event) {
    case DAY_ROLLOVER:
        return purge(w, j);
    case DAY_MORNING_CLOSED:
    case DAY_NOON_CLOSED:
        return store_availability(w, j) | log_checks(w, j);
    case DAY_ABSENCE_SWEEP:
    case DAY_SLOT_SWEEP:
        return sweep(w, j, worked);
    case DAY_NOON_SWEEP:
    case DAY_EVENING_SWEEP:
        return part_sweep(w, j, worked);
    case DAY_END:
        return store_availability(w, j) | day_end(w, j);
    }
    return -1;
}

/* An event the ledger has done for the day is not done again. At start the
 * summary of a day already done is asked for again: it may have been lost with the
 * stop, and the same facts make no new revision. */
static void skip_done(struct day_job *j)
{
    if (j->at_start) {
        log_debug("%s of %s: done already", day_event_name(j->event), j->day);
        return;
    }
    log_info("%s of %s was done already: not again", day_event_name(j->event), j->day);
    j->report = false;
}

/* The name the ledger records the event by: a slot's sweep with its end,
 * "slot-sweep 07:25", so that each slot's is done once. */
static const char *event_key(const struct day_job *j, char buf[32])
{
    if (j->event != DAY_SLOT_SWEEP)
        return day_event_name(j->event);
    snprintf(buf, 32, "%s %02d:%02d", day_event_name(j->event), j->slot_end / 60,
             j->slot_end % 60);
    return buf;
}

/* At start, of a missed day the gate recorded nothing on: whether its day end runs
 * all the same, as on a day the daemon ran through: the school was closed (nobody
 * expected: a closure, a holiday) and the box was in service before (a day end
 * recorded earlier; not the days before a fresh install). 1, 0, or -1 on error. */
static int closed_while_off(struct dayworker *w, const struct day_job *j)
{
    bool before = false;
    if (j->event != DAY_END)
        return 0;
    int nobody = ledger_day_expects_nobody(w->ledger, &j->windows, j->day);
    if (nobody <= 0)
        return nobody;
    if (ledger_day_event_before(w->ledger, j->day, day_event_name(DAY_END), &before) < 0)
        return -1;
    if (before)
        log_notice("day %s: the school was closed and the box off: its closed summary now",
                   j->day);
    return before;
}

/* Runs the job's event once for its day (dayworker.h) and records it. */
static int run_job(struct dayworker *w, struct day_job *j)
{
    char key[32];
    const char *event = event_key(j, key);
    bool done = false, worked = true;
    int closed = 0;
    if (!j->again && ledger_day_event_done(w->ledger, j->day, event, &done) < 0)
        return -1;
    if (done) {
        skip_done(j);
        return 0;
    }
    if (j->past && ledger_day_worked(w->ledger, j->day, &worked) < 0)
        return -1;
    if (!worked && j->at_start && (closed = closed_while_off(w, j)) <= 0) {
        j->report = false; /* no summary for a school day nothing happened on */
        return closed;
    }
    int rc = run_event(w, j, worked);
    if (rc == 0 && (worked || closed) && !j->again &&
        ledger_day_event_record(w->ledger, j->day, event, clock_wall_ms()) < 0)
        rc = -1;
    return rc;
}

/* ---- the thread ------------------------------------------------------------ */

/* The next job, or NULL once stopping (queued jobs are dropped: redone at start). */
static struct job_node *take(struct dayworker *w, void (**hook)(const struct day_job *, void *),
                             void **hook_arg)
{
    pthread_mutex_lock(&w->mu);
    while (!w->stopping && !w->head)
        pthread_cond_wait(&w->cv, &w->mu);
    struct job_node *n = w->stopping ? NULL : w->head;
    if (n) {
        w->head = n->next;
        if (!w->head)
            w->tail = NULL;
    }
    *hook = w->hook;
    *hook_arg = w->hook_arg;
    pthread_mutex_unlock(&w->mu);
    return n;
}

static void *worker_main(void *arg)
{
    struct dayworker *w = arg;
    /* Nice 10: on a 2-core box a whole-day job must not take the CPU the main loop
     * wakes up on (the kernel favours the lower nice value). Linux sets nice per
     * thread; failing to lower is harmless. */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WORKER_NICE) < 0)
        log_debug("day worker: cannot lower its priority");
    void (*hook)(const struct day_job *, void *);
    void *hook_arg;
    struct job_node *n;
    while ((n = take(w, &hook, &hook_arg))) {
        if (hook)
            hook(&n->job, hook_arg);
        int64_t t0 = clock_mono_ms();
        int rc = run_job(w, &n->job);
        log_debug("day worker: %s for %s done in %lld ms", day_event_name(n->job.event),
                  n->job.day, (long long)(clock_mono_ms() - t0));
        struct day_done d = {.event = n->job.event, .ok = rc == 0, .report = n->job.report,
                             .off_main = true};
        snprintf(d.day, sizeof d.day, "%s", n->job.day);
        free(n);
        if (evq_post(w->done_q, &d) < 0)
            break; /* closed: stopping */
    }
    return NULL;
}

/* ---- the main thread's side -------------------------------------------------- */

static void on_done(const void *elem, void *arg)
{
    struct dayworker *w = arg;
    w->pending--;
    if (w->done)
        w->done(elem, w->done_arg);
}

static void on_done_readable(struct loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    struct dayworker *w = arg;
    evq_drain(w->done_q, on_done, w);
}

static int open_ledger(struct dayworker *w)
{
    /* Waits up to the default 5 s for the gate's short commits: this thread has
     * time, the lanes do not. The main thread migrated the schema already. */
    struct ledger_opts lo = {.synchronous_full = w->cfg->ledger.synchronous_full,
                             .no_migrate = true};
    return ledger_open(w->cfg->ledger.database, &lo, &w->ledger);
}

struct dayworker *dayworker_start(const struct config *cfg, struct loop *loop,
                                  dayworker_done_cb done, void *arg)
{
    struct dayworker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    *w = (struct dayworker){.cfg = cfg, .loop = loop, .done = done, .done_arg = arg};
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (open_ledger(w) < 0 ||
        !(w->done_q = evq_new(sizeof(struct day_done), DONE_CAPACITY)) ||
        loop_add_fd(loop, evq_fd(w->done_q), EPOLLIN, on_done_readable, w) < 0)
        goto fail;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        log_err("day worker: cannot start its thread");
        goto fail;
    }
    w->started = true;
    return w;
fail:
    dayworker_stop(w);
    return NULL;
}

int dayworker_post(struct dayworker *w, const struct day_job *job)
{
    struct job_node *n = malloc(sizeof *n);
    if (!n) {
        log_err("day worker: out of memory for a job on %s", job->day);
        return -1;
    }
    *n = (struct job_node){.job = *job};
    pthread_mutex_lock(&w->mu);
    bool stopping = w->stopping;
    if (!stopping) {
        if (w->tail)
            w->tail->next = n;
        else
            w->head = n;
        w->tail = n;
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    if (stopping) {
        free(n);
        return -1;
    }
    w->pending++;
    return 0;
}

int dayworker_pending(const struct dayworker *w)
{
    return w->pending;
}

void dayworker_set_hook(struct dayworker *w, void (*hook)(const struct day_job *job, void *arg),
                        void *arg)
{
    pthread_mutex_lock(&w->mu);
    w->hook = hook;
    w->hook_arg = arg;
    pthread_mutex_unlock(&w->mu);
}

void dayworker_stop(struct dayworker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (w->done_q)
        evq_close(w->done_q); /* a worker blocked on a full queue gives up */
    if (w->started) {
        if (w->pending > 0)
            log_info("day worker: waiting for the job under way; %d queued are left to the "
                     "next start's catch-up", w->pending);
        pthread_join(w->thread, NULL);
    }
    while (w->head) {
        struct job_node *n = w->head;
        w->head = n->next;
        free(n);
    }
    if (w->done_q) {
        loop_del_fd(w->loop, evq_fd(w->done_q));
        evq_free(w->done_q);
    }
    ledger_close(w->ledger);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
