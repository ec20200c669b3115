/* The day worker (daemon/gate/dayworker.c, issue 13): the day's figures are built
 * on its own thread and connection while the main loop keeps running, and they
 * are the same figures ledger_day_figures gives on the main connection; the
 * absence sweep and the purge in batches do what they did in one transaction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "config_load.h"
#include "dayworker.h"
#include "ledger.h"
#include "ledger_calendar.h"
#include "ledger_fixture.h"
#include "ledger_health.h"
#include "log.h"
#include "loop.h"
#include "zone.h"

#define D0 "2026-11-30"
#define OLD "2026-06-01"
#define TICKS_DURING_JOB 5
#define PEOPLE 1203 /* three sweep batches of 500, the last one short */

static int setup(void **state)
{
    if (zone_set("Asia/Shanghai") < 0)
        return -1;
    struct fx *f = fx_new("dayworker");
    if (!f)
        return -1;
    f->w = (struct cfg_windows){.absence_kinds = CFG_KIND_STUDENT, .morning_start = 7 * 60,
                                .morning_end = 8 * 60 + 30, .school_days = 0x7f};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    return fx_free(*state);
}

/* PEOPLE students S0001..; the first `checked` with a morning check on D0. */
static void school(struct fx *f, int checked)
{
    sql(f, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
           "INSERT INTO people (external_id, kind, name, class, active, created_ms, updated_ms) "
           "SELECT printf('S%%04d', i), 'student', 'x', '一年级1班', 1, 0, 0 FROM n", PEOPLE);
    sql(f, "INSERT INTO readings (at_ms, person_id, raw_centi, body_centi, quality, "
           "threshold_centi, outcome, day) SELECT %lld + id, id, 3650, 3650, 'valid', 3730, "
           "'admit', '" D0 "' FROM people WHERE id <= %d", (long long)at(D0, 7, 30), checked);
    sql(f, "INSERT INTO checks (person_id, day, window, temp_centi, threshold_centi, instrument,"
           " reading_id, at_ms) SELECT person_id, day, 'morning', 3650, 3730, 'gate', id, at_ms "
           "FROM readings WHERE day = '" D0 "'");
}

/* ---- the figures, off the main thread ------------------------------------------- */

struct watch {
    struct loop *loop;
    pthread_t main_thread;
    sem_t ticked;           /* posted by the main loop's timer once it ran enough */
    int ticks, ticks_at_done;
    bool hook_on_main, done, ok, off_main, report;
};

/* On the worker, before the job: holds it until the main loop has ticked a few
 * times, so the job is provably under way while the loop runs. */
static void hold_job(const struct day_job *job, void *arg)
{
    (void)job;
    struct watch *w = arg;
    w->hook_on_main = pthread_equal(pthread_self(), w->main_thread);
    sem_wait(&w->ticked);
}

static void on_tick(struct loop *loop, void *arg)
{
    (void)loop;
    struct watch *w = arg;
    if (++w->ticks == TICKS_DURING_JOB)
        sem_post(&w->ticked);
}

static void on_done(const struct day_done *d, void *arg)
{
    struct watch *w = arg;
    w->done = true;
    w->ok = d->ok;
    w->off_main = d->off_main;
    w->report = d->report;
    w->ticks_at_done = w->ticks;
    loop_stop(w->loop);
}

static struct config *worker_config(struct fx *f)
{
    char text[1024];
    int n = snprintf(text, sizeof text,
                     "[school]\ncode = T001\nname = t\ntimezone = Asia/Shanghai\n"
                     "[ledger]\ndatabase = %s\n[windows]\nmorning = 07:00-08:30\n"
                     "days = mon-sun\n[bus gw]\ntcp = 127.0.0.1:1502\n"
                     "[lane a]\ngate = g\n[device ir-a]\nbus = gw\nunit = 1\nlane = a\n",
                     f->path);
    struct config *cfg = config_parse("t.conf", text, (size_t)n, "/tmp", f->e);
    assert_non_null(cfg);
    return cfg;
}

static void day_end_figures_off_main(void **state)
{
    struct fx *f = *state;
    school(f, 1000);
    f->cfg = worker_config(f);
    struct watch w = {.loop = loop_new(), .main_thread = pthread_self()};
    assert_non_null(w.loop);
    sem_init(&w.ticked, 0, 0);
    assert_true(loop_timer_add(w.loop, 2, 2, on_tick, &w) > 0);
    struct dayworker *dw = dayworker_start(f->cfg, w.loop, on_done, &w);
    assert_non_null(dw);
    dayworker_set_hook(dw, hold_job, &w);
    struct day_job j = {.event = DAY_END, .day = D0, .windows = f->cfg->windows,
                        .report = true};
    for (int i = 0; i < CFG_MAX_LANES; i++)
        j.permille[i] = -1;
    j.permille[0] = 750;
    assert_int_equal(dayworker_post(dw, &j), 0);
    assert_int_equal(dayworker_pending(dw), 1);
    loop_run(w.loop);
    assert_int_equal(dayworker_pending(dw), 0);
    dayworker_stop(dw);
    /* The job ran on another thread while the main loop went on ticking, and its
     * end came back through the loop. */
    assert_true(w.done && w.ok && w.off_main && w.report);
    assert_false(w.hook_on_main);
    assert_true(w.ticks_at_done >= TICKS_DURING_JOB);
    /* Stored: the figures the main connection computes, name by name. */
    struct day_figures main_f;
    assert_int_equal(ledger_day_figures(f->l, D0, &f->cfg->windows, &main_f), 0);
    assert_int_equal(main_f.v[FIG_EXPECTED], PEOPLE);
    assert_int_equal(main_f.v[FIG_MORNING_DONE], 1000);
    for (int i = 0; i < FIG_COUNT; i++)
        assert_int_equal(qint(f, "SELECT value FROM day_figures WHERE day = '" D0 "' AND "
                                 "name = '%s'", day_figure_name(i)), main_f.v[i]);
    assert_int_equal(qint(f, "SELECT value FROM day_figures WHERE day = '" D0 "' AND "
                             "name = 'lane.a.availability_permille'"), 750);
    sem_destroy(&w.ticked);
    loop_free(w.loop);
}

/* Stopping with jobs queued: the one under way finishes, the rest are dropped (the
 * next start's catch-up redoes them), and stop returns. */
static void stop_drops_queued_jobs(void **state)
{
    struct fx *f = *state;
    school(f, 10);
    f->cfg = worker_config(f);
    struct loop *loop = loop_new();
    struct dayworker *dw = dayworker_start(f->cfg, loop, NULL, NULL);
    assert_non_null(dw);
    struct day_job j = {.event = DAY_END, .day = D0, .windows = f->cfg->windows};
    for (int i = 0; i < CFG_MAX_LANES; i++)
        j.permille[i] = -1;
    for (int i = 0; i < 20; i++)
        assert_int_equal(dayworker_post(dw, &j), 0);
    dayworker_stop(dw);
    loop_free(loop);
}

/* ---- the sweep and the purge in batches ----------------------------------------- */

static void sweep_in_batches(void **state)
{
    struct fx *f = *state;
    school(f, 100);
    /* S0200 came at 09:00: late, not unknown. */
    sql(f, "INSERT INTO readings (at_ms, person_id, raw_centi, body_centi, quality, "
           "threshold_centi, outcome, day) VALUES (%lld, " PID("S0200") ", 3650, 3650, 'valid', "
           "3730, 'admit', '" D0 "')", (long long)at(D0, 9, 0));
    int created = -1, late = -1;
    assert_int_equal(ledger_absence_sweep(f->l, D0, &f->w, "nurse", at(D0, 10, 0), &created,
                                          &late, f->e), 0);
    assert_int_equal(created, PEOPLE - 100);
    assert_int_equal(late, 1);
    assert_int_equal(qint(f, "SELECT count(*) FROM absences WHERE day = '" D0 "' AND "
                             "cause = 'unknown'"), PEOPLE - 101);
    assert_int_equal(qint(f, "SELECT late_ms FROM absences WHERE person_id = " PID("S0200")),
                     at(D0, 9, 0));
    assert_int_equal(qint(f, "SELECT count(*) FROM audit_log WHERE action = 'absence sweep'"),
                     1);
    assert_string_equal(qtext(f, "SELECT detail FROM audit_log WHERE action = 'absence sweep'"),
                        "1103 absences: 1 late, 1102 without a cause yet");
    /* Again: nothing new, no second audit row. */
    assert_int_equal(ledger_absence_sweep(f->l, D0, &f->w, "nurse", at(D0, 10, 5), &created,
                                          &late, f->e), 0);
    assert_int_equal(created, 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM audit_log WHERE action = 'absence sweep'"),
                     1);
}

static void purge_in_batches(void **state)
{
    struct fx *f = *state;
    school(f, 0);
    sql(f, "INSERT INTO readings (at_ms, person_id, raw_centi, body_centi, quality, "
           "threshold_centi, outcome, day) SELECT %lld + id, id, 3650, 3650, 'valid', 3730, "
           "'admit', '" OLD "' FROM people", (long long)at(OLD, 7, 30));
    sql(f, "INSERT INTO checks (person_id, day, window, temp_centi, threshold_centi, instrument,"
           " reading_id, at_ms) SELECT person_id, day, 'morning', 3650, 3730, 'gate', id, at_ms "
           "FROM readings");
    reading(f, "S0001", D0, at(D0, 7, 40), 3650, "valid", "admit");
    int deleted = -1, days = -1;
    assert_int_equal(ledger_purge(f->l, &f->w, at(D0, 0, 0), "admin", &deleted, &days), 0);
    assert_int_equal(deleted, PEOPLE);
    assert_int_equal(days, 1);
    assert_int_equal(qint(f, "SELECT count(*) FROM readings"), 1);
    assert_int_equal(qint(f, "SELECT count(*) FROM checks WHERE reading_id IS NULL"), PEOPLE);
    assert_int_equal(qint(f, "SELECT value FROM day_figures WHERE day = '" OLD "' AND "
                             "name = 'readings.all'"), PEOPLE);
    assert_string_equal(qtext(f, "SELECT actor || ': ' || detail FROM audit_log WHERE "
                                 "action = 'purge'"),
                        "admin: 1203 readings of 1 days before " D0 "; their figures stored");
    assert_int_equal(ledger_purge(f->l, &f->w, at(D0, 0, 0), "admin", &deleted, &days), 0);
    assert_int_equal(deleted, 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM audit_log WHERE action = 'purge'"), 1);
}

/* ---- a day missed while the box was off ------------------------------------------- */

/* Runs one at-start DAY_END job for `day` on a worker: whether its summary is wanted. */
static bool end_at_start(struct fx *f, const char *day)
{
    struct watch w = {.loop = loop_new(), .main_thread = pthread_self()};
    assert_non_null(w.loop);
    struct dayworker *dw = dayworker_start(f->cfg, w.loop, on_done, &w);
    assert_non_null(dw);
    struct day_job j = {.event = DAY_END, .windows = f->cfg->windows, .report = true,
                        .past = true, .at_start = true};
    snprintf(j.day, sizeof j.day, "%s", day);
    for (int i = 0; i < CFG_MAX_LANES; i++)
        j.permille[i] = -1;
    assert_int_equal(dayworker_post(dw, &j), 0);
    loop_run(w.loop);
    dayworker_stop(dw);
    loop_free(w.loop);
    assert_true(w.done && w.ok);
    return w.report;
}

/* At start, a closed day on which the gate recorded nothing gets its day end and
 * summary (closed), recorded once, but only when the box was in service before it;
 * a school day with nothing recorded still gets nothing. */
static void closed_day_missed_while_off(void **state)
{
    struct fx *f = *state;
    int closed = 0, cleared = 0;
    school(f, 0);
    f->cfg = worker_config(f);
    assert_int_equal(ledger_close_days(f->l, "2026-12-02", NULL, "台风停课", "t", 1, &closed,
                                       &cleared, f->e), LEDGER_OK);
    assert_false(end_at_start(f, "2026-12-02")); /* no day end before it: a fresh box */
    assert_int_equal(ledger_day_event_record(f->l, D0, "day-end", 1), 0);
    assert_false(end_at_start(f, "2026-12-01")); /* a school day, nothing recorded */
    assert_true(end_at_start(f, "2026-12-02"));
    assert_int_equal(qint(f, "SELECT count(*) FROM day_events WHERE day = '2026-12-02' "
                             "AND event = 'day-end'"), 1);
    assert_int_equal(qint(f, "SELECT count(*) FROM day_events WHERE day = '2026-12-01'"), 0);
    assert_int_equal(qint(f, "SELECT value FROM day_figures WHERE day = '2026-12-02' AND "
                             "name = 'expected'"), 0);
    assert_true(end_at_start(f, "2026-12-02")); /* done: asked again, as every done day */
}

int main(void)
{
    log_init("test_dayworker", LOG_LVL_WARN, LOG_OUT_PLAIN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(day_end_figures_off_main, setup, teardown),
        cmocka_unit_test_setup_teardown(stop_drops_queued_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(sweep_in_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(purge_in_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(closed_day_missed_while_off, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
