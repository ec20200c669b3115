/* The day's events in the daemon (see schedule.h). */
#include "schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "clock.h"
#include "dayworker.h"
#include "log.h"

#define TICK_MS 1000
#define DAY_MS (24LL * 3600 * 1000)

struct schedule {
    const struct config *cfg;
    struct loop *loop;
    struct dayworker *worker; /* the ledger work, on its own thread and connection */
    const struct gate *gate;
    struct uploader *uploader;
    uint64_t timer;
    struct day_clock clock;
    /* seconds of today's school day seen, and of those with the lane online;
     * counted from the daemon's start when it started during the day */
    int observed_s[CFG_MAX_LANES], online_s[CFG_MAX_LANES];
};

/* A job for the day worker with what it needs copied from the config now. */
static struct day_job job_for(const struct schedule *s, enum day_job_kind kind, const char *day)
{
    struct day_job j = {.kind = kind, .windows = s->cfg->windows,
                        .retention_days = s->cfg->ledger.retention_days};
    snprintf(j.day, sizeof j.day, "%s", day);
    for (int i = 0; i < CFG_MAX_LANES; i++)
        j.permille[i] = -1;
    return j;
}

static void post(struct schedule *s, const struct day_job *j)
{
    if (dayworker_post(s->worker, j) < 0)
        log_err("the day's %s for %s not queued; the next start catches up",
                day_job_name(j->kind), j->day);
}

/* Readings older than the retention period go; their days' figures stay. */
static void purge(struct schedule *s)
{
    char today[CIVIL_DAY_LEN];
    int64_t now = clock_wall_ms();
    if (civil_day_of(now, today) < 0)
        return;
    struct day_job j = job_for(s, JOB_PURGE, today);
    j.before_ms = now - (int64_t)s->cfg->ledger.retention_days * DAY_MS;
    post(s, &j);
}

/* The share of the school day so far each lane was online, for the worker to store. */
static void post_with_availability(struct schedule *s, struct day_job *j)
{
    for (int i = 0; i < s->cfg->nlanes; i++)
        if (s->observed_s[i] > 0)
            j->permille[i] = (int)((int64_t)s->online_s[i] * 1000 / s->observed_s[i]);
    j->report = true;
    post(s, j);
}

/* During the school day, one more second for every lane, online or not. */
static void sample_lanes(struct schedule *s, const struct civil *now)
{
    const struct cfg_windows *w = &s->cfg->windows;
    if (!civil_school_day(w, now->weekday) || now->minute < w->morning_start ||
        now->minute >= s->cfg->upstream.day_end)
        return;
    for (int i = 0; i < s->cfg->nlanes; i++) {
        s->observed_s[i]++;
        s->online_s[i] += !gate_lane_offline(s->gate, i);
    }
}

/* The bureau's summary: built and queued by the uploader's thread. */
static void report(struct schedule *s, const char *day)
{
    if (s->uploader && s->cfg->upstream.enabled)
        uploader_queue_summary(s->uploader, day);
}

/* A job is done on the worker: the summary follows what it stored. */
static void on_job_done(const struct day_done *d, void *arg)
{
    struct schedule *s = arg;
    if (d->report)
        report(s, d->day);
}

static void handle(struct schedule *s, const struct day_event_at *e)
{
    struct day_job j;
    switch (e->event) {
    case DAY_ROLLOVER:
        log_notice("day rollover: %s begins", e->day);
        memset(s->observed_s, 0, sizeof s->observed_s);
        memset(s->online_s, 0, sizeof s->online_s);
        purge(s);
        break;
    case DAY_MORNING_CLOSED:
    case DAY_NOON_CLOSED:
        j = job_for(s, JOB_CHECKS, e->day);
        j.window = e->event == DAY_NOON_CLOSED ? "noon" : "morning";
        post_with_availability(s, &j);
        break;
    case DAY_ABSENCE_SWEEP:
        j = job_for(s, JOB_SWEEP, e->day);
        post(s, &j);
        break;
    case DAY_END:
        j = job_for(s, JOB_DAY_END, e->day);
        post_with_availability(s, &j);
        break;
    }
}

static void on_tick(struct loop *loop, void *arg)
{
    (void)loop;
    struct schedule *s = arg;
    struct civil now;
    struct day_event_at ev[DAY_CLOCK_MAX_EVENTS];
    if (civil_from_ms(clock_wall_ms(), &now) < 0)
        return;
    int n = day_clock_advance(&s->clock, &s->cfg->windows, s->cfg->upstream.day_end, &now, ev);
    sample_lanes(s, &now);
    for (int i = 0; i < n; i++) {
        log_info("day event: %s (%s)", day_event_name(ev[i].event), ev[i].day);
        handle(s, &ev[i]);
    }
}

/* The controller may have been off at yesterday's sweep or end of day; the worker
 * finishes that day if the gate worked (see dayworker.c). The end-of-day summary
 * may have been asked for and lost with the stop; the same facts make no new
 * revision, so asking again costs nothing. */
static void finish_yesterday(struct schedule *s)
{
    char today[CIVIL_DAY_LEN], day[CIVIL_DAY_LEN];
    if (civil_day_of(clock_wall_ms(), today) < 0 || civil_day_add(today, -1, day) < 0)
        return;
    struct day_job j = job_for(s, JOB_CATCH_UP, day);
    j.report = true;
    post(s, &j);
}

struct schedule *schedule_new(const struct config *cfg, struct loop *loop,
                              const struct gate *gate, struct uploader *uploader)
{
    struct schedule *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    *s = (struct schedule){.cfg = cfg, .loop = loop, .gate = gate, .uploader = uploader};
    if (!(s->worker = dayworker_start(cfg, loop, on_job_done, s))) {
        free(s);
        return NULL;
    }
    purge(s);
    finish_yesterday(s);
    on_tick(loop, s); /* catch up with today at once */
    if (!(s->timer = loop_timer_add(loop, TICK_MS, TICK_MS, on_tick, s))) {
        schedule_free(s);
        return NULL;
    }
    return s;
}

void schedule_reconfigure(struct schedule *s, const struct config *cfg)
{
    s->cfg = cfg;
}

void schedule_free(struct schedule *s)
{
    if (!s)
        return;
    if (s->timer)
        loop_timer_cancel(s->loop, s->timer);
    dayworker_stop(s->worker);
    free(s);
}
