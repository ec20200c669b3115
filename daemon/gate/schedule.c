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
    /* Seconds of sampled_day's school day seen, and of those with the lane online;
     * counted from the daemon's start when it started during the day. */
    char sampled_day[CIVIL_DAY_LEN];
    int observed_s[CFG_MAX_LANES], online_s[CFG_MAX_LANES];
};

/* A job for the day worker with what it needs copied from the config now. */
static struct day_job job_for(const struct schedule *s, enum day_event event, const char *day)
{
    struct day_job j = {.event = event, .windows = s->cfg->windows,
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
                day_event_name(j->event), j->day);
}

/* The share of the school day so far each lane was online, for the worker to store:
 * only for the day the counters are about (not for a day the clock jumped over). */
static void add_availability(const struct schedule *s, struct day_job *j)
{
    if (strcmp(j->day, s->sampled_day) != 0)
        return;
    for (int i = 0; i < s->cfg->nlanes; i++)
        if (s->observed_s[i] > 0)
            j->permille[i] = (int)((int64_t)s->online_s[i] * 1000 / s->observed_s[i]);
}

/* During the school day, one more second for every lane, online or not; the
 * counters start again whenever the clock shows another day. */
static void sample_lanes(struct schedule *s, const struct civil *now)
{
    const struct cfg_windows *w = &s->cfg->windows;
    if (strcmp(now->day, s->sampled_day) != 0) {
        memcpy(s->sampled_day, now->day, sizeof s->sampled_day);
        memset(s->observed_s, 0, sizeof s->observed_s);
        memset(s->online_s, 0, sizeof s->online_s);
    }
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

/* One due event of the clock (now: the clock's reading it came with). */
static void handle(struct schedule *s, const struct day_event_at *e, const struct civil *now,
                   int64_t now_ms)
{
    struct day_job j = job_for(s, e->event, e->day);
    j.past = strcmp(e->day, now->day) < 0;
    j.slot_end = e->slot_end;
    if (e->event == DAY_ROLLOVER) {
        j.before_ms = now_ms - (int64_t)s->cfg->ledger.retention_days * DAY_MS;
    } else if (e->event != DAY_ABSENCE_SWEEP && e->event != DAY_SLOT_SWEEP &&
               e->event != DAY_NOON_SWEEP && e->event != DAY_EVENING_SWEEP) {
        add_availability(s, &j);
        j.report = true;
    }
    post(s, &j);
}

/* A wall clock that jumps over days or goes back a day is worth a line: the
 * administrator sees why days were caught up, or why nothing ran again. */
static void note_jump(const struct day_clock *before, const struct civil *now)
{
    char next[CIVIL_DAY_LEN];
    if (!before->started || strcmp(before->day, now->day) == 0 ||
        (civil_day_add(before->day, 1, next) == 0 && strcmp(next, now->day) == 0))
        return;
    if (strcmp(now->day, before->day) < 0)
        log_notice("the wall clock went back from %s to %s: what %s has done already is not "
                   "done again", before->day, now->day, now->day);
    else
        log_notice("the wall clock jumped from %s to %s: the school days between are caught "
                   "up (the last %d at most)", before->day, now->day, DAY_CLOCK_CATCH_UP_DAYS);
}

void schedule_tick(struct schedule *s)
{
    struct civil now;
    struct day_event_at ev[DAY_CLOCK_MAX_EVENTS];
    int64_t now_ms = clock_wall_ms();
    if (civil_from_ms(now_ms, &now) < 0)
        return;
    struct day_clock before = s->clock;
    int n = day_clock_advance(&s->clock, &s->cfg->windows, s->cfg->upstream.day_end, &now, ev);
    note_jump(&before, &now);
    for (int i = 0; i < n; i++) {
        log_debug("day event due: %s (%s)", day_event_name(ev[i].event), ev[i].day);
        handle(s, &ev[i], &now, now_ms);
    }
    /* After the events: the old day's close and end take the old day's counters. */
    sample_lanes(s, &now);
}

static void on_tick(struct loop *loop, void *arg)
{
    (void)loop;
    schedule_tick(arg);
}

/* A past day's noon or evening sweep, when the configuration has it. */
static void catch_up_part(struct schedule *s, enum day_event event, const char *day)
{
    const struct cfg_windows *w = &s->cfg->windows;
    if (event == DAY_NOON_SWEEP ? !(w->noon_enabled && w->noon_sweep) : !w->evening_enabled)
        return;
    struct day_job j = job_for(s, event, day);
    j.past = j.at_start = true;
    post(s, &j);
}

/* The controller may have been off at a day's sweep or end (switched off at 17:00
 * on Friday, a crash before 09:00, over a holiday). The days of the last week that
 * have a day end, oldest first, as the running clock has them (civil_day_has_end):
 * a school day's sweeps and end, which the worker does only if the ledger does not
 * have them done and the gate worked that day; a holiday's end alone. A day the
 * gate did not work on gets its end only when the school was closed (a holiday, a
 * `gatescreen calendar close`): its summary says closed (dayworker.h). */
static void catch_up(struct schedule *s)
{
    char today[CIVIL_DAY_LEN], day[CIVIL_DAY_LEN];
    if (civil_day_of(clock_wall_ms(), today) < 0)
        return;
    for (int back = DAY_CLOCK_CATCH_UP_DAYS; back >= 1; back--) {
        if (civil_day_add(today, -back, day) < 0 || !civil_day_has_end(&s->cfg->windows, day))
            continue;
        struct day_job end = job_for(s, DAY_END, day);
        end.past = end.at_start = end.report = true;
        if (civil_school_date(&s->cfg->windows, day)) {
            struct day_job sweep = job_for(s, DAY_ABSENCE_SWEEP, day);
            sweep.past = sweep.at_start = true;
            post(s, &sweep);
            catch_up_part(s, DAY_NOON_SWEEP, day);
            catch_up_part(s, DAY_EVENING_SWEEP, day);
        }
        post(s, &end);
    }
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
    catch_up(s);
    schedule_tick(s); /* today's rollover and what is due already, at once */
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

int schedule_pending(const struct schedule *s)
{
    return dayworker_pending(s->worker);
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
