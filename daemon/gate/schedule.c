/* The day's events in the daemon (see schedule.h). */
#include "schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "clock.h"
#include "ledger_health.h"
#include "log.h"

#define TICK_MS 1000
#define DAY_MS (24LL * 3600 * 1000)

struct schedule {
    const struct config *cfg;
    struct ledger *ledger;
    struct loop *loop;
    const struct gate *gate;
    struct uploader *uploader;
    uint64_t timer;
    struct day_clock clock;
    /* seconds of today's school day seen, and of those with the lane online;
     * counted from the daemon's start when it started during the day */
    int observed_s[CFG_MAX_LANES], online_s[CFG_MAX_LANES];
};

/* Runs fn with its messages going to the log (see log_sink). */
static int with_logged_errors(int (*fn)(struct schedule *s, const char *day, FILE *errs),
                              struct schedule *s, const char *day)
{
    struct log_sink sink;
    FILE *errs = log_sink_open(&sink);
    int rc = fn(s, day, errs ? errs : stderr);
    log_sink_close(&sink);
    return rc;
}

static int sweep(struct schedule *s, const char *day, FILE *errs)
{
    int created = 0, late = 0;
    if (ledger_absence_sweep(s->ledger, day, &s->cfg->windows, NULL,
                             clock_wall_ms(), &created, &late, errs) < 0)
        return -1;
    log_notice("absence sweep for %s: %d new absences (%d of them came late)", day, created,
               late);
    return 0;
}

static void log_checks(struct schedule *s, const char *day, const char *window)
{
    struct day_figures f;
    if (ledger_day_figures(s->ledger, day, &s->cfg->windows, &f) < 0)
        return;
    bool noon = strcmp(window, "noon") == 0;
    int done = f.v[noon ? FIG_NOON_DONE : FIG_MORNING_DONE];
    int permille = f.v[noon ? FIG_NOON_COVERAGE : FIG_MORNING_COVERAGE];
    log_notice("%s window closed on %s: %d of %d expected checked (%d.%d%%), %d fever screens",
               window, day, done, f.v[FIG_EXPECTED], permille / 10, permille % 10,
               f.v[FIG_SCREENS]);
}

static void day_end(struct schedule *s, const char *day)
{
    struct day_figures f;
    if (ledger_day_figures(s->ledger, day, &s->cfg->windows, &f) < 0 ||
        ledger_store_day_figures(s->ledger, &f) < 0)
        return;
    log_notice("day %s: %d expected, %d checked in the morning, %d fever screens, %d confirmed, "
               "%d absences (%d illness, %d unexplained), %d alerts open",
               day, f.v[FIG_EXPECTED], f.v[FIG_MORNING_DONE], f.v[FIG_SCREENS],
               f.v[FIG_CONFIRMED], f.v[FIG_ABSENCES], f.v[FIG_ABS_ILLNESS], f.v[FIG_ABS_UNKNOWN],
               f.v[FIG_ALERTS_OPEN]);
}

/* Readings older than the retention period go; their days' figures stay. */
static void purge(struct schedule *s)
{
    int deleted = 0, days = 0;
    int64_t before = clock_wall_ms() - (int64_t)s->cfg->ledger.retention_days * DAY_MS;
    if (ledger_purge(s->ledger, &s->cfg->windows, before, "gatescreend", &deleted, &days) < 0)
        log_err("purge of readings older than %d days failed", s->cfg->ledger.retention_days);
    else if (deleted > 0)
        log_notice("purged %d readings older than %d days, from %d day(s); their "
                   "figures are kept", deleted, s->cfg->ledger.retention_days, days);
}

static void store_availability(struct schedule *s, const char *day)
{
    for (int i = 0; i < s->cfg->nlanes; i++) {
        if (s->observed_s[i] == 0)
            continue;
        char name[CFG_NAME_MAX + 40];
        snprintf(name, sizeof name, "lane.%s.availability_permille", s->cfg->lanes[i].name);
        int permille = (int)((int64_t)s->online_s[i] * 1000 / s->observed_s[i]);
        if (ledger_store_figure(s->ledger, day, name, permille) < 0)
            log_err("cannot store the availability of lane %s", s->cfg->lanes[i].name);
    }
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

static void handle(struct schedule *s, const struct day_event_at *e)
{
    switch (e->event) {
    case DAY_ROLLOVER:
        log_notice("day rollover: %s begins", e->day);
        memset(s->observed_s, 0, sizeof s->observed_s);
        memset(s->online_s, 0, sizeof s->online_s);
        purge(s);
        break;
    case DAY_MORNING_CLOSED:
        store_availability(s, e->day);
        log_checks(s, e->day, "morning");
        report(s, e->day);
        break;
    case DAY_ABSENCE_SWEEP:
        with_logged_errors(sweep, s, e->day);
        break;
    case DAY_NOON_CLOSED:
        store_availability(s, e->day);
        log_checks(s, e->day, "noon");
        report(s, e->day);
        break;
    case DAY_END:
        store_availability(s, e->day);
        day_end(s, e->day);
        report(s, e->day);
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

/* The controller may have been off at yesterday's sweep or end of day (switched
 * off at 17:00, a crash before 09:00). If the gate worked yesterday (it has
 * readings: not a fresh install, not a holiday), finish that day: the sweep is
 * idempotent, and figures already stored are kept. */
static void finish_yesterday(struct schedule *s)
{
    char today[CIVIL_DAY_LEN], day[CIVIL_DAY_LEN];
    struct day_figures f;
    struct civil noon;
    int64_t noon_ms;
    int stored = 0;
    if (civil_day_of(clock_wall_ms(), today) < 0 || civil_day_add(today, -1, day) < 0 ||
        civil_ms_at(day, 12 * 3600, &noon_ms) < 0 || civil_from_ms(noon_ms, &noon) < 0 ||
        !civil_school_day(&s->cfg->windows, noon.weekday) ||
        ledger_day_figures(s->ledger, day, &s->cfg->windows, &f) < 0 ||
        f.v[FIG_READINGS] == 0)
        return;
    log_info("catching up with %s", day);
    with_logged_errors(sweep, s, day);
    if (ledger_load_day_figures(s->ledger, day, &f, &stored) == 0 && !stored)
        day_end(s, day);
    /* The end-of-day summary may have been asked for and lost with the stop; the
     * same facts make no new revision, so asking again costs nothing. */
    report(s, day);
}

struct schedule *schedule_new(const struct config *cfg, struct ledger *l, struct loop *loop,
                               const struct gate *gate, struct uploader *uploader)
{
    struct schedule *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    *s = (struct schedule){.cfg = cfg, .ledger = l, .loop = loop, .gate = gate,
                           .uploader = uploader};
    purge(s);
    finish_yesterday(s);
    on_tick(loop, s); /* catch up with today at once */
    if (!(s->timer = loop_timer_add(loop, TICK_MS, TICK_MS, on_tick, s))) {
        free(s);
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
    loop_timer_cancel(s->loop, s->timer);
    free(s);
}
