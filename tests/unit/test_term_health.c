/* The terminals' health (daemon/gate/term_health.c): unknown until heard from,
 * offline once overdue (from the start too), online again when heard from; a
 * clock's skew reported as a change once when it goes over max_clock_skew and
 * once when it is back, a backlog's times not taken for skew. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_load.h"
#include "log.h"
#include "term_health.h"

#define CONF                                                                               \
    "[school]\ncode = T001\nname = 测试学校\ntimezone = Asia/Shanghai\n"                   \
    "[ledger]\ndatabase = ledger.db\n[windows]\nmorning = 07:00-08:10\n"                   \
    "[terminals]\nlisten = 127.0.0.1:8099\nmax_clock_skew = 30s\n"                         \
    "[lane a]\ngate = 东门\n[lane b]\ngate = 北门\n"                                       \
    "[terminal zk]\nkind = zkteco-adms\naddress = 10.0.0.5\nserial = SN1\nlane = a\n"      \
    "offline_after = 10s\n"                                                                \
    "[terminal hik]\nkind = hikvision-isapi\naddress = 10.0.0.6\nlane = b\n"

static struct config *load(void)
{
    char *errs = NULL;
    size_t n;
    FILE *f = open_memstream(&errs, &n);
    struct config *cfg = config_parse("th.conf", CONF, strlen(CONF), "/tmp", f);
    fclose(f);
    if (!cfg)
        fail_msg("config: %s", errs);
    free(errs);
    return cfg;
}

static struct terminal_event beat(int t, int64_t wall_ms)
{
    return (struct terminal_event){.terminal = t, .wall_ms = wall_ms};
}

static void test_offline_and_back(void **state)
{
    (void)state;
    struct config *cfg = load();
    struct term_health h;
    int changed[CFG_MAX_TERMINALS];
    term_health_init(&h, 1000);
    assert_true(term_health_watched(cfg));
    assert_int_equal(h.t[0].state, DEV_UNKNOWN);
    assert_int_equal(term_health_tick(&h, cfg, 10999, changed), 0);
    /* Never heard from: overdue from the start. The Hikvision one is never (0s). */
    assert_int_equal(term_health_tick(&h, cfg, 11000, changed), 1);
    assert_int_equal(changed[0], 0);
    assert_int_equal(h.t[0].state, DEV_OFFLINE);
    assert_int_equal(h.t[1].state, DEV_UNKNOWN);
    assert_int_equal(term_health_tick(&h, cfg, 60000, changed), 0); /* once */
    struct terminal_event ev = beat(0, 0);
    assert_true(term_health_heard(&h, cfg, &ev, 61000));
    assert_int_equal(h.t[0].state, DEV_OK);
    assert_false(term_health_heard(&h, cfg, &ev, 62000)); /* nothing changed */
    assert_int_equal(term_health_tick(&h, cfg, 71999, changed), 0);
    assert_int_equal(term_health_tick(&h, cfg, 72000, changed), 1);
    config_free(cfg);
}

static void test_skew(void **state)
{
    (void)state;
    struct config *cfg = load();
    struct term_health h;
    term_health_init(&h, 0);
    struct terminal_event ev = {.terminal = 1, .wall_ms = 1000000, .has_device_ms = true,
                                .device_ms = 1000000 - 3600000};
    assert_true(term_health_heard(&h, cfg, &ev, 1));
    assert_true(h.t[1].skewed);
    assert_int_equal(h.t[1].skew_ms, -3600000);
    assert_false(term_health_heard(&h, cfg, &ev, 2)); /* the same skew: no change */
    ev.device_ms = ev.wall_ms + 29000;                /* within 30 s */
    ev.backlog = true;                                /* ... but a backlog's time: not taken */
    assert_false(term_health_heard(&h, cfg, &ev, 3));
    assert_true(h.t[1].skewed);
    ev.backlog = false;
    assert_true(term_health_heard(&h, cfg, &ev, 4));
    assert_false(h.t[1].skewed);
    ev.has_device_ms = false; /* a heartbeat says nothing of the clock */
    assert_false(term_health_heard(&h, cfg, &ev, 5));
    config_free(cfg);
}

int main(void)
{
    log_init("test_term_health", LOG_LVL_CRIT, LOG_OUT_PLAIN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offline_and_back),
        cmocka_unit_test(test_skew),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
