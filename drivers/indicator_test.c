/* Test indicator: appends one line per change of a lane's lights to
 * [daemon] indicator_log, flushed at once so a test can read it while the daemon
 * runs (and after a SIGKILL):
 *   mono_us=... wall_ms=... lane=east-1 lamp=green blink=0 buzzer=0 relay=0 outcome=admit
 *   person=S2020001 body=36.52 latency_us=812
 * person is the holder's external id. `outcome` is the decision, or when none
 * is shown why: idle, offline, ledger-error, stopped; person and body
 * are `-` when there is none. latency_us: from the reading (or card) being
 * received to the lights being set, -1 when not caused by one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "indicator.h"
#include "log.h"
#include "textnum.h"

static void *test_open(const struct config *cfg, struct loop *loop)
{
    (void)loop;
    FILE *f = fopen(cfg->daemon.indicator_log, "a");
    if (!f)
        log_errno(LOG_LVL_ERR, errno, "indicator log %s", cfg->daemon.indicator_log);
    return f;
}

static int test_set(void *h, const struct config *cfg, const struct indicator_change *c)
{
    char body[16] = "-";
    if (c->has_body)
        tn_format_centi(c->body_centi, body, sizeof body);
    const char *who = *c->external_id ? c->external_id : "-";
    long long latency = c->decided_from_us > 0 ? (long long)(c->mono_us - c->decided_from_us) : -1;
    fprintf(h,
            "mono_us=%lld wall_ms=%lld lane=%s lamp=%s blink=%d buzzer=%d relay=%d outcome=%s "
            "person=%s body=%s latency_us=%lld\n",
            (long long)c->mono_us, (long long)c->wall_ms, cfg->lanes[c->lane].name,
            lamp_name(c->display.lamp), c->display.blink, c->display.buzzer, c->display.relay,
            c->outcome < OUT_COUNT ? outcome_name(c->outcome) : c->reason, who, body, latency);
    return fflush(h) == 0 ? 0 : -1;
}

static void test_close(void *h)
{
    fclose(h);
}

const struct indicator_ops indicator_test = {
    .name = "test", .open = test_open, .set = test_set, .close = test_close,
};
