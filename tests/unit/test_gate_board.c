/* The gate board (the web page's copy of the lanes): light and device updates,
 * the per-minute count and queue warning, the version counter, and waiting for a
 * change across threads (woken by a change, by close, or by the timeout).
 * Timing assertions are one-sided where the scheduler could make them flaky. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config_load.h"
#include "gate_board.h"
#include "indicator.h"
#include "loop.h"

/* hold_admit = 2s: a lane takes at least 3 s a person (gate_board.c), so 20
 * decisions a minute outpace it and 19 do not. */
#define BOARD_CONF                                                                         \
    "[school]\ncode = T001\nname = 测试学校\ntimezone = Asia/Shanghai\n"                   \
    "[ledger]\ndatabase = ledger.db\n"                                                     \
    "[windows]\nmorning = 07:00-08:10\n"                                                   \
    "[screening]\nhold_admit = 2s\n"                                                       \
    "[bus gw]\ntcp = 127.0.0.1:1502\n"                                                     \
    "[lane a]\ngate = 东门\nidentity = device\n"                                           \
    "[lane b]\ngate = 北门\nidentity = device\n"                                           \
    "[lane c]\ngate = 北门\nidentity = device\n"                                           \
    "[device ir-a1]\nbus = gw\nunit = 1\nlane = a\n"                                       \
    "[device ir-a2]\nbus = gw\nunit = 2\nlane = c\n"                                       \
    "[device ir-b]\nbus = gw\nunit = 3\nlane = b\n"

enum { LANE_A, LANE_B, NLANES = 3 };
enum { DEV_A1, DEV_A2, DEV_B };

#define T0 INT64_C(1795995000000) /* 2026-11-30 07:30 in Asia/Shanghai */

struct fixture {
    struct config *cfg;
    struct gate_board *b;
};

static int setup(void **state)
{
    static struct fixture fx;
    char *errs = NULL;
    size_t n;
    FILE *f = open_memstream(&errs, &n);
    fx.cfg = config_parse("board.conf", BOARD_CONF, strlen(BOARD_CONF), "/tmp", f);
    fclose(f);
    if (!fx.cfg)
        fail_msg("config: %s", errs);
    free(errs);
    fx.b = gate_board_new(fx.cfg);
    assert_non_null(fx.b);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    gate_board_free(fx->b);
    config_free(fx->cfg);
    return 0;
}

/* A decision as the gate sends it (decided_from_us > 0: a new decision). */
static struct indicator_change decision(int lane, enum outcome o, enum lamp lamp, int64_t wall_ms)
{
    return (struct indicator_change){
        .lane = lane, .display = {.lamp = lamp, .buzzer = o == OUT_FEVER},
        .outcome = o, .reason = "", .external_id = "S2", .has_body = true,
        .body_centi = 3820, .wall_ms = wall_ms, .decided_from_us = 1000,
    };
}

static struct board_lane read_lane(struct gate_board *b, int lane, int64_t now, uint64_t *version)
{
    struct board_lane v[CFG_MAX_LANES];
    int n = -1;
    uint64_t ver = gate_board_read(b, now, v, CFG_MAX_LANES, &n);
    assert_int_equal(n, NLANES);
    if (version)
        *version = ver;
    return v[lane];
}

static void test_initial(void **state)
{
    struct fixture *fx = *state;
    uint64_t v;
    struct board_lane a = read_lane(fx->b, LANE_A, T0, &v);
    struct board_lane b = read_lane(fx->b, LANE_B, T0, NULL);
    assert_string_equal(a.name, "a");
    assert_string_equal(a.gate, "东门");
    assert_string_equal(b.gate, "北门");
    assert_string_equal(a.lamp, "off");
    assert_string_equal(a.outcome, "idle");
    assert_string_equal(a.device_state, "unknown");
    assert_string_equal(a.person, "");
    assert_false(a.blink || a.buzzer || a.relay || a.has_body || a.queue_warning);
    assert_int_equal(a.per_minute, 0);
    assert_int_equal(a.changed_wall_ms, 0);
    assert_true(v > 0); /* 0 means "closed" to a waiter */
}

static void test_lights(void **state)
{
    struct fixture *fx = *state;
    uint64_t v0, v1, v2;
    read_lane(fx->b, LANE_A, T0, &v0);
    struct indicator_change c = decision(LANE_B, OUT_FEVER, LAMP_RED, T0);
    gate_board_lights(fx->b, &c);
    struct board_lane b = read_lane(fx->b, LANE_B, T0, &v1);
    assert_true(v1 > v0);
    assert_string_equal(b.lamp, "red");
    assert_true(b.buzzer);
    assert_string_equal(b.outcome, "fever");
    assert_string_equal(b.person, "S2");
    assert_true(b.has_body);
    assert_int_equal(b.body_centi, 3820);
    assert_int_equal(b.changed_wall_ms, T0);
    assert_string_equal(read_lane(fx->b, LANE_A, T0, NULL).lamp, "off"); /* only lane b */

    /* The hold ends: no decision, the reason is shown instead. */
    struct indicator_change idle = {.lane = LANE_B, .outcome = OUT_COUNT, .reason = "idle",
                                    .external_id = "", .wall_ms = T0 + 1500};
    gate_board_lights(fx->b, &idle);
    b = read_lane(fx->b, LANE_B, T0 + 1500, &v2);
    assert_true(v2 > v1);
    assert_string_equal(b.lamp, "off");
    assert_string_equal(b.outcome, "idle");
    assert_string_equal(b.person, "");
    assert_false(b.has_body || b.buzzer);
    assert_int_equal(b.per_minute, 1); /* the hold ending is not another decision */

    /* Offline: amber blinking, with its reason; a NULL external id is nobody. */
    struct indicator_change off = {.lane = LANE_A, .display = {.lamp = LAMP_AMBER, .blink = true},
                                   .outcome = OUT_COUNT, .reason = "offline",
                                   .external_id = NULL, .wall_ms = T0 + 2000};
    gate_board_lights(fx->b, &off);
    struct board_lane a = read_lane(fx->b, LANE_A, T0 + 2000, NULL);
    assert_string_equal(a.lamp, "amber");
    assert_true(a.blink);
    assert_string_equal(a.outcome, "offline");
    assert_string_equal(a.person, "");
}

static void test_bad_input_ignored(void **state)
{
    struct fixture *fx = *state;
    uint64_t v0, v1;
    read_lane(fx->b, LANE_A, T0, &v0);
    struct indicator_change c = decision(NLANES, OUT_ADMIT, LAMP_GREEN, T0);
    gate_board_lights(fx->b, &c);
    c.lane = -1;
    gate_board_lights(fx->b, &c);
    gate_board_device(fx->b, 3, DEV_OK);
    gate_board_device(fx->b, -1, DEV_OK);
    read_lane(fx->b, LANE_A, T0, &v1);
    assert_int_equal(v1, v0); /* nothing changed, nobody woken */
    /* No board (the daemon without [web]): the gate's calls are no-ops. */
    c.lane = LANE_A;
    gate_board_lights(NULL, &c);
    gate_board_device(NULL, DEV_A1, DEV_OK);
    gate_board_close(NULL);
    gate_board_free(NULL);
}

static void test_device_worst(void **state)
{
    struct fixture *fx = *state;
    uint64_t v0, v1;
    /* The config has one device per lane today; the board shows the worst of a
     * lane's devices all the same (a card reader beside the thermometer). */
    fx->cfg->devices[DEV_A2].lane = LANE_A;
    read_lane(fx->b, LANE_A, T0, &v0);
    gate_board_device(fx->b, DEV_A1, DEV_OK);
    gate_board_device(fx->b, DEV_A2, DEV_OFFLINE);
    struct board_lane a = read_lane(fx->b, LANE_A, T0, &v1);
    assert_true(v1 >= v0 + 2);
    assert_string_equal(a.device_state, "offline"); /* the worst of the lane's two */
    assert_string_equal(read_lane(fx->b, LANE_B, T0, NULL).device_state, "unknown");
    gate_board_device(fx->b, DEV_A2, DEV_DEGRADED);
    assert_string_equal(read_lane(fx->b, LANE_A, T0, NULL).device_state, "degraded");
    gate_board_device(fx->b, DEV_A2, DEV_OK);
    assert_string_equal(read_lane(fx->b, LANE_A, T0, NULL).device_state, "ok");
    gate_board_device(fx->b, DEV_B, DEV_OK);
    assert_string_equal(read_lane(fx->b, LANE_B, T0, NULL).device_state, "ok");
}

/* n decisions on lane a, one every `step` ms from `from`. */
static void decide_many(struct gate_board *b, int n, int64_t from, int64_t step)
{
    for (int i = 0; i < n; i++) {
        struct indicator_change c = decision(LANE_A, OUT_ADMIT, LAMP_GREEN, from + i * step);
        gate_board_lights(b, &c);
    }
}

static void test_per_minute(void **state)
{
    struct fixture *fx = *state;
    decide_many(fx->b, 5, T0, 1000); /* T0 .. T0+4s */
    struct board_lane a = read_lane(fx->b, LANE_A, T0 + 10000, NULL);
    assert_int_equal(a.per_minute, 5);
    assert_false(a.queue_warning);
    /* As of a minute after the third one, only the last two are in the minute. */
    assert_int_equal(read_lane(fx->b, LANE_A, T0 + 62000, NULL).per_minute, 2);
    assert_int_equal(read_lane(fx->b, LANE_A, T0 + 70000, NULL).per_minute, 0);
    assert_int_equal(read_lane(fx->b, LANE_B, T0 + 10000, NULL).per_minute, 0);
}

static void test_queue_warning(void **state)
{
    struct fixture *fx = *state;
    int64_t t = T0 + 3600000;
    decide_many(fx->b, 19, t, 2000);
    struct board_lane a = read_lane(fx->b, LANE_A, t + 40000, NULL);
    assert_int_equal(a.per_minute, 19);
    assert_false(a.queue_warning); /* 19 x 3 s < 60 s */
    decide_many(fx->b, 1, t + 38000, 0);
    a = read_lane(fx->b, LANE_A, t + 40000, NULL);
    assert_int_equal(a.per_minute, 20);
    assert_true(a.queue_warning); /* 20 x 3 s = 60 s: people wait */
    /* Later the rush is over. */
    a = read_lane(fx->b, LANE_A, t + 120000, NULL);
    assert_int_equal(a.per_minute, 0);
    assert_false(a.queue_warning);
}

/* More decisions than the ring remembers still count (at most the ring's size). */
static void test_per_minute_ring(void **state)
{
    struct fixture *fx = *state;
    decide_many(fx->b, 300, T0, 100);
    int pm = read_lane(fx->b, LANE_A, T0 + 30000, NULL).per_minute;
    assert_true(pm >= 100 && pm <= 300);
    assert_true(read_lane(fx->b, LANE_A, T0 + 30000, NULL).queue_warning);
}

static void test_read_max(void **state)
{
    struct fixture *fx = *state;
    struct board_lane v[1];
    int n = -1;
    gate_board_read(fx->b, T0, v, 1, &n);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "a");
}

/* ---- waiting ----------------------------------------------------------------------- */

struct waiter {
    struct gate_board *b;
    uint64_t seen, got;
    int timeout_ms;
    int64_t took_ms;
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    int64_t t0 = loop_now_ms();
    w->got = gate_board_wait(w->b, w->seen, w->timeout_ms);
    w->took_ms = loop_now_ms() - t0;
    return NULL;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_wait_timeout(void **state)
{
    struct fixture *fx = *state;
    uint64_t v;
    read_lane(fx->b, LANE_A, T0, &v);
    int64_t t0 = loop_now_ms();
    assert_int_equal(gate_board_wait(fx->b, v, 150), v);
    assert_true(loop_now_ms() - t0 >= 150);
    /* A change the caller has not seen yet: no wait at all. */
    gate_board_device(fx->b, DEV_A1, DEV_OK);
    t0 = loop_now_ms();
    assert_int_equal(gate_board_wait(fx->b, v, 5000), v + 1);
    assert_true(loop_now_ms() - t0 < 1000);
}

static void test_wait_wakes_on_change(void **state)
{
    struct fixture *fx = *state;
    uint64_t v;
    read_lane(fx->b, LANE_A, T0, &v);
    struct waiter w = {.b = fx->b, .seen = v, .timeout_ms = 10000};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
    sleep_ms(50);
    struct indicator_change c = decision(LANE_A, OUT_ADMIT, LAMP_GREEN, T0);
    gate_board_lights(fx->b, &c);
    pthread_join(t, NULL);
    assert_int_equal(w.got, v + 1);
    assert_true(w.took_ms < 5000); /* woken, not timed out */
    /* A device change wakes too. */
    w = (struct waiter){.b = fx->b, .seen = v + 1, .timeout_ms = 10000};
    assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
    sleep_ms(50);
    gate_board_device(fx->b, DEV_B, DEV_OFFLINE);
    pthread_join(t, NULL);
    assert_int_equal(w.got, v + 2);
    assert_true(w.took_ms < 5000);
}

static void test_wait_wakes_on_close(void **state)
{
    struct fixture *fx = *state;
    uint64_t v;
    read_lane(fx->b, LANE_A, T0, &v);
    struct waiter w[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        w[i] = (struct waiter){.b = fx->b, .seen = v, .timeout_ms = 10000, .got = 99};
        assert_int_equal(pthread_create(&t[i], NULL, wait_thread, &w[i]), 0);
    }
    sleep_ms(50);
    gate_board_close(fx->b);
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].got, 0);
        assert_true(w[i].took_ms < 5000);
    }
    /* Later waits return at once, whatever version they saw. */
    int64_t t0 = loop_now_ms();
    assert_int_equal(gate_board_wait(fx->b, v, 10000), 0);
    assert_int_equal(gate_board_wait(fx->b, 0, 10000), 0);
    assert_true(loop_now_ms() - t0 < 1000);
    /* Reading still works for a request already under way. */
    struct board_lane a = read_lane(fx->b, LANE_A, T0, NULL);
    assert_string_equal(a.name, "a");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_initial),         T(test_lights),          T(test_bad_input_ignored),
        T(test_device_worst),    T(test_per_minute),      T(test_queue_warning),
        T(test_per_minute_ring), T(test_read_max),        T(test_wait_timeout),
        T(test_wait_wakes_on_change), T(test_wait_wakes_on_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
