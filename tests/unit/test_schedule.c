/* The day's events on a fake wall clock (issue 14): the real schedule (schedule.c),
 * its day worker and a ledger, ticked at what a controller's clock shows when it
 * is stepped forward within a day, back into the morning window after the sweep,
 * back across midnight after the day end, three days forward (and back again),
 * when a reload moves the morning window, and across restarts. Each event runs
 * once per school day, skipped school days are caught up in order, a day's stored
 * figures are its first day end's, and a morning check withdraws the sweep's
 * absence. What ran is read from the worker's log lines and from the ledger. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "civil.h"
#include "clock.h"
#include "config_load.h"
#include "gate.h"
#include "indicator.h"
#include "ledger_fixture.h"
#include "log.h"
#include "loop.h"
#include "schedule.h"
#include "zone.h"

#define MON "2025-03-03"
#define TUE "2025-03-04"
#define WED "2025-03-05"
#define THU "2025-03-06"
#define FRI "2025-03-07"
#define OLD "2024-08-01" /* past the 120 days of retention */
#define PEOPLE 10

/* ---- the fake clock, the quiet lights ------------------------------------------- */

static _Atomic int64_t fake_now;

static int64_t fake_clock(void)
{
    return atomic_load(&fake_now);
}

static void *quiet_open(const struct config *cfg, struct loop *loop)
{
    (void)cfg;
    (void)loop;
    static int handle;
    return &handle;
}

static int quiet_set(void *h, const struct config *cfg, const struct indicator_change *c)
{
    (void)h;
    (void)cfg;
    (void)c;
    return 0;
}

static void quiet_close(void *h)
{
    (void)h;
}

static const struct indicator_ops quiet = {
    .name = "quiet", .open = quiet_open, .set = quiet_set, .close = quiet_close,
};

/* ---- fixture -------------------------------------------------------------------- */

struct sx {
    struct fx *f;
    struct loop *loop;
    struct gate *gate;
    struct schedule *s;
    struct config *reloads[2];
    char log_path[128];
    int saved_stderr;
    long mark; /* the log's length when mark() was called */
};

/* Morning `morning`, noon 11:30-12:00, sweep 10 min after the morning, day end
 * 17:00, Monday to Friday. */
static struct config *config_for(struct fx *f, const char *morning)
{
    char text[1024];
    int n = snprintf(text, sizeof text,
                     "[school]\ncode = T001\nname = t\ntimezone = Asia/Shanghai\n"
                     "[ledger]\ndatabase = %s\n"
                     "[windows]\nmorning = %s\nnoon = 11:30-12:00\nabsence_grace = 10min\n"
                     "days = mon-fri\n[upstream]\nday_end = 17:00\n"
                     "[bus gw]\ntcp = 127.0.0.1:1502\n"
                     "[lane a]\ngate = g\n[device ir-a]\nbus = gw\nunit = 1\nlane = a\n",
                     f->path, morning);
    struct config *cfg = config_parse("t.conf", text, (size_t)n, "/tmp", f->e);
    assert_non_null(cfg);
    return cfg;
}

/* The log (stderr) goes to a file in the fixture's folder, to be read back. */
static int setup(void **state)
{
    struct sx *x = calloc(1, sizeof *x);
    if (!x || zone_set("Asia/Shanghai") < 0 || !(x->f = fx_new("schedule")))
        return -1;
    *state = x;
    snprintf(x->log_path, sizeof x->log_path, "%s/log", x->f->dir);
    int fd = open(x->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    x->saved_stderr = dup(STDERR_FILENO);
    if (fd < 0 || x->saved_stderr < 0 || dup2(fd, STDERR_FILENO) < 0)
        return -1;
    close(fd);
    clock_fake_wall(fake_clock);
    x->f->cfg = config_for(x->f, "07:00-08:00");
    x->loop = loop_new();
    x->gate = x->loop ? gate_new(x->f->cfg, x->f->l, x->loop, &quiet) : NULL;
    if (!x->gate)
        return -1;
    char id[8];
    for (int i = 1; i <= PEOPLE; i++) {
        snprintf(id, sizeof id, "S%02d", i);
        student(x->f, id, "1班");
    }
    return 0;
}

static int teardown(void **state)
{
    struct sx *x = *state;
    schedule_free(x->s);
    gate_free(x->gate);
    loop_free(x->loop);
    clock_fake_wall(NULL);
    for (int i = 0; i < 2; i++)
        config_free(x->reloads[i]);
    dup2(x->saved_stderr, STDERR_FILENO);
    close(x->saved_stderr);
    int rc = fx_free(x->f);
    free(x);
    return rc;
}

static void set_clock(const char *day, int h, int m, int s)
{
    atomic_store(&fake_now, at(day, h, m) + s * 1000);
}

static void idle_check(struct loop *loop, void *arg)
{
    struct sx *x = arg;
    if (schedule_pending(x->s) == 0)
        loop_stop(loop);
}

/* Runs the main loop until the worker has reported every job done. */
static void settle(struct sx *x)
{
    uint64_t t = loop_timer_add(x->loop, 1, 1, idle_check, x);
    assert_true(t > 0);
    loop_run(x->loop);
    loop_timer_cancel(x->loop, t);
}

/* The daemon starts (or starts again) at `day` h:m:s. */
static void start(struct sx *x, const char *day, int h, int m, int s)
{
    schedule_free(x->s);
    set_clock(day, h, m, s);
    x->s = schedule_new(x->f->cfg, x->loop, x->gate, NULL);
    assert_non_null(x->s);
    settle(x);
}

/* The wall clock shows `day` h:m:s at the next tick. */
static void tick(struct sx *x, const char *day, int h, int m, int s)
{
    set_clock(day, h, m, s);
    schedule_tick(x->s);
    settle(x);
}

/* The log since mark(). */
static const char *log_text(struct sx *x)
{
    static char buf[1 << 16];
    FILE *fp = fopen(x->log_path, "r");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, x->mark, SEEK_SET), 0);
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void mark(struct sx *x)
{
    FILE *fp = fopen(x->log_path, "r");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    x->mark = ftell(fp);
    fclose(fp);
}

static int logged(struct sx *x, const char *needle)
{
    int n = 0;
    for (const char *p = log_text(x); (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* Where needle is first in the log since mark(), -1 when it is not. */
static long pos(struct sx *x, const char *needle)
{
    const char *t = log_text(x), *p = strstr(t, needle);
    return p ? p - t : -1;
}

/* Each needle once, in this order (NULL-terminated). */
static void assert_logged_in_order(struct sx *x, const char *const *needles)
{
    long last = -1;
    for (int i = 0; needles[i]; i++) {
        long p = pos(x, needles[i]);
        if (p <= last || logged(x, needles[i]) != 1)
            fail_msg("\"%s\": %d times, at %ld (after %ld)\n%s", needles[i],
                     logged(x, needles[i]), p, last, log_text(x));
        last = p;
    }
}

/* A morning check at the gate, as ledger_gate.c writes it. */
static void checked(struct sx *x, const char *who, const char *day, int h, int m)
{
    gate_check(x->f, who, day, "morning", reading(x->f, who, day, at(day, h, m), 3650, "valid",
                                                  "admit"));
}

static long long stored(struct sx *x, const char *day, const char *name)
{
    return qint(x->f, "SELECT value FROM day_figures WHERE day = '%s' AND name = '%s'", day,
                name);
}

static long long absences(struct sx *x, const char *day, const char *cause)
{
    return qint(x->f, "SELECT count(*) FROM absences WHERE day = '%s' AND cause = '%s'", day,
                cause);
}

static long long events_done(struct sx *x, const char *day)
{
    return qint(x->f, "SELECT count(*) FROM day_events WHERE day = '%s'", day);
}

/* ---- the jumps ------------------------------------------------------------------ */

/* Monday 07:20 -> 08:25: over the morning close and the sweep, once each. */
static void test_forward_within_the_day(void **state)
{
    struct sx *x = *state;
    start(x, MON, 7, 20, 0);
    assert_int_equal(logged(x, "day rollover: " MON " begins"), 1);
    for (int i = 1; i <= 5; i++) {
        char who[8];
        snprintf(who, sizeof who, "S%02d", i);
        checked(x, who, MON, 7, 20 + i);
    }
    mark(x);
    tick(x, MON, 8, 25, 0);
    static const char *const order[] = {"morning window closed on " MON ": 5 of 10",
                                        "absence sweep for " MON ": 5 new absences", NULL};
    assert_logged_in_order(x, order);
    mark(x);
    tick(x, MON, 8, 25, 1);
    tick(x, MON, 9, 0, 0);
    assert_string_equal(log_text(x), "");
    assert_int_equal(events_done(x, MON), 3); /* rollover, morning close, sweep */
}

/* Monday 08:25 -> 07:40, after the sweep: a check in the window withdraws the
 * sweep's absence; 08:00, 08:10 again do not run the close or the sweep again. */
static void test_back_into_the_window(void **state)
{
    struct sx *x = *state;
    start(x, MON, 8, 25, 0);
    assert_int_equal(absences(x, MON, "unknown"), PEOPLE);
    mark(x);
    tick(x, MON, 7, 40, 0);
    checked(x, "S01", MON, 7, 41);
    checked(x, "S02", MON, 7, 42);
    tick(x, MON, 8, 0, 0);
    tick(x, MON, 8, 10, 0);
    tick(x, MON, 8, 20, 0);
    assert_int_equal(logged(x, "window closed"), 0);
    assert_int_equal(logged(x, "absence sweep"), 0);
    assert_int_equal(absences(x, MON, "unknown"), PEOPLE - 2);
    assert_int_equal(qint(x->f, "SELECT count(*) FROM absences a JOIN checks c ON "
                                "c.person_id = a.person_id AND c.day = a.day"), 0);
    assert_int_equal(qint(x->f, "SELECT count(*) FROM audit_log WHERE action = "
                                "'absence withdrawn'"), 2);
}

/* After Monday's day end, the evening changes the facts; Tuesday 00:00:03 ->
 * Monday 23:59:52 -> Tuesday again: one rollover and one purge, nothing of
 * Monday's again, its stored figures as they were at 17:00. */
static void test_back_across_midnight(void **state)
{
    struct sx *x = *state;
    for (int i = 1; i <= 3; i++) {
        char who[8];
        snprintf(who, sizeof who, "S%02d", i);
        checked(x, who, MON, 7, 30);
    }
    gate_fever(x->f, "S04", MON, 3850);
    start(x, MON, 9, 0, 0);
    tick(x, MON, 17, 0, 0);
    assert_int_equal(stored(x, MON, "fevers.screens"), 1);
    assert_int_equal(stored(x, MON, "absences.unknown"), 6);
    /* The evening: a fever screen, a cause recorded, a reading past the retention. */
    gate_fever(x->f, "S05", MON, 3900);
    sql(x->f, "UPDATE absences SET cause = 'personal' WHERE person_id = " PID("S06"));
    reading(x->f, "S01", OLD, at(OLD, 7, 30), 3650, "valid", "admit");
    mark(x);
    tick(x, TUE, 0, 0, 3);
    assert_int_equal(qint(x->f, "SELECT count(*) FROM readings WHERE day = '" OLD "'"), 0);
    reading(x->f, "S02", OLD, at(OLD, 7, 31), 3650, "valid", "admit");
    tick(x, MON, 23, 59, 52);
    tick(x, TUE, 0, 0, 2);
    assert_int_equal(logged(x, "day rollover:"), 1);
    assert_int_equal(logged(x, "day rollover: " TUE " begins"), 1);
    assert_int_equal(logged(x, "purged "), 1);
    assert_int_equal(qint(x->f, "SELECT count(*) FROM readings WHERE day = '" OLD "'"), 1);
    assert_int_equal(logged(x, "the wall clock went back from " TUE " to " MON), 1);
    assert_int_equal(logged(x, "day-end of " MON " was done already"), 1);
    assert_int_equal(logged(x, "window closed on " MON), 0);
    assert_int_equal(logged(x, "absence sweep for " MON), 0);
    assert_int_equal(logged(x, "day " MON ":"), 0);
    /* The live figures moved; the stored ones are the day end's. */
    assert_int_equal(stored(x, MON, "fevers.screens"), 1);
    assert_int_equal(stored(x, MON, "absences.unknown"), 6);
    assert_int_equal(qint(x->f, "SELECT count(*) FROM flags WHERE day = '" MON "'"), 2);
}

/* Monday 10:00 -> Friday 10:00: Monday finished, Tuesday to Thursday caught up in
 * order (figures stored; no absences: the gate recorded nothing those days), then
 * Friday. The clock was wrong: back to Tuesday 07:30, and Tuesday, still open,
 * runs for real. */
static void test_three_days_forward_and_back(void **state)
{
    struct sx *x = *state;
    checked(x, "S01", MON, 7, 30);
    start(x, MON, 10, 0, 0);
    mark(x);
    tick(x, FRI, 10, 0, 0);
    static const char *const order[] = {
        "the wall clock jumped from " MON " to " FRI,
        "noon window closed on " MON, "day " MON ":",
        "morning window closed on " TUE,
        "absence sweep for " TUE ": the gate recorded nothing that day; no absences made",
        "noon window closed on " TUE, "day " TUE ":",
        "absence sweep for " WED ": the gate recorded nothing", "day " WED ":",
        "absence sweep for " THU ": the gate recorded nothing", "day " THU ":",
        "day rollover: " FRI " begins", "morning window closed on " FRI,
        "absence sweep for " FRI ": 10 new absences", NULL};
    assert_logged_in_order(x, order);
    assert_int_equal(logged(x, "day rollover:"), 1);
    static const char *const skipped[] = {TUE, WED, THU};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(stored(x, skipped[i], "expected"), PEOPLE);
        assert_int_equal(stored(x, skipped[i], "checks.morning.expected_done"), 0);
        assert_int_equal(qint(x->f, "SELECT count(*) FROM absences WHERE day = '%s'",
                              skipped[i]), 0);
        assert_int_equal(events_done(x, skipped[i]), 0); /* left open */
    }
    assert_int_equal(events_done(x, MON), 5);
    assert_int_equal(events_done(x, FRI), 3);
    /* The wall clock was wrong: Tuesday comes for real. */
    mark(x);
    tick(x, TUE, 7, 30, 0);
    checked(x, "S01", TUE, 7, 35);
    tick(x, TUE, 8, 10, 0);
    tick(x, TUE, 17, 0, 0);
    static const char *const real[] = {
        "the wall clock went back from " FRI " to " TUE, "day rollover: " TUE " begins",
        "morning window closed on " TUE ": 1 of 10", "absence sweep for " TUE ": 9 new",
        "noon window closed on " TUE, "day " TUE ": 10 expected, 1 checked", NULL};
    assert_logged_in_order(x, real);
    assert_int_equal(stored(x, TUE, "checks.morning.expected_done"), 1);
    assert_int_equal(events_done(x, TUE), 5);
}

/* Finding 5: at 07:59 a reload cuts the morning window 07:00-08:00 to 07:45 (sweep
 * 07:55): the close and the sweep are past and run at once. A reload to 08:30
 * (sweep 08:40, in the future again) runs neither a second time; a check in the
 * reopened window withdraws the sweep's absence. */
static void test_reload_moves_the_window(void **state)
{
    struct sx *x = *state;
    x->reloads[0] = config_for(x->f, "07:00-07:45");
    x->reloads[1] = config_for(x->f, "07:00-08:30");
    checked(x, "S01", MON, 7, 30);
    start(x, MON, 7, 59, 0);
    mark(x);
    schedule_reconfigure(x->s, x->reloads[0]);
    tick(x, MON, 7, 59, 1);
    static const char *const cut[] = {"morning window closed on " MON,
                                      "absence sweep for " MON ": 9 new absences", NULL};
    assert_logged_in_order(x, cut);
    mark(x);
    schedule_reconfigure(x->s, x->reloads[1]);
    tick(x, MON, 8, 30, 0);
    checked(x, "S02", MON, 8, 35);
    tick(x, MON, 8, 40, 0);
    tick(x, MON, 8, 41, 0);
    assert_int_equal(logged(x, "window closed"), 0);
    assert_int_equal(logged(x, "absence sweep"), 0);
    assert_int_equal(absences(x, MON, "unknown"), PEOPLE - 2);
}

/* Stopped on Tuesday 07:31 before its close, off on Wednesday, started again on
 * Thursday: Tuesday (the gate worked) is caught up, Wednesday (nothing recorded)
 * is not, Monday is not done again; a second start runs nothing again. */
static void test_restarts(void **state)
{
    struct sx *x = *state;
    start(x, MON, 7, 20, 0);
    checked(x, "S01", MON, 7, 30);
    tick(x, MON, 17, 0, 0);
    tick(x, TUE, 7, 30, 0);
    checked(x, "S01", TUE, 7, 31);
    schedule_free(x->s);
    x->s = NULL;
    mark(x);
    start(x, THU, 7, 10, 0);
    static const char *const order[] = {"absence sweep for " TUE ": 9 new absences",
                                        "day " TUE ": 10 expected, 1 checked",
                                        "day rollover: " THU " begins", NULL};
    assert_logged_in_order(x, order);
    assert_int_equal(logged(x, WED), 0);
    assert_int_equal(logged(x, "day " MON ":"), 0);
    assert_int_equal(events_done(x, WED), 0);
    mark(x);
    start(x, THU, 7, 15, 0);
    assert_int_equal(logged(x, "day rollover"), 0);
    assert_int_equal(logged(x, "absence sweep"), 0);
    assert_int_equal(logged(x, "day " TUE ":"), 0);
}

int main(void)
{
    log_init("test_schedule", LOG_LVL_INFO, LOG_OUT_PLAIN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_forward_within_the_day, setup, teardown),
        cmocka_unit_test_setup_teardown(test_back_into_the_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_back_across_midnight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_three_days_forward_and_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_moves_the_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restarts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
