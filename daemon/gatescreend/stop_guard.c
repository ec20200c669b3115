#include "stop_guard.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "textnum.h"

struct stop_guard {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* on CLOCK_MONOTONIC: a wall-clock step must not fire it */
    pthread_t thread;
    bool done;
    int64_t timeout_ms;
    struct timespec deadline;
    char step[96];
};

/* Nothing is joined or freed on the way out: the stuck thread may hold anything.
 * The lights are the stop's first step, so any later step finds them safe; the
 * ledger's WAL keeps every committed row. */
static void *watch(void *arg)
{
    struct stop_guard *g = arg;
    int rc = 0;
    pthread_mutex_lock(&g->lock);
    while (!g->done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&g->cond, &g->lock, &g->deadline);
    if (g->done) {
        pthread_mutex_unlock(&g->lock);
        return NULL;
    }
    char t[TN_DURATION_LEN];
    log_err("stop did not finish within %s ([daemon] stop_timeout): still waiting for %s; "
            "exiting with status %d", tn_format_ms(g->timeout_ms, t), g->step, STOP_GUARD_STATUS);
    _exit(STOP_GUARD_STATUS);
}

static void free_guard(struct stop_guard *g)
{
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

struct stop_guard *stop_guard_start(int64_t timeout_ms)
{
    struct stop_guard *g = calloc(1, sizeof *g);
    pthread_condattr_t ca;
    if (!g)
        goto fail;
    pthread_mutex_init(&g->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cond, &ca);
    pthread_condattr_destroy(&ca);
    g->timeout_ms = timeout_ms;
    g->deadline = clock_mono_deadline(timeout_ms);
    snprintf(g->step, sizeof g->step, "the start of the stop");
    if (pthread_create(&g->thread, NULL, watch, g) != 0) {
        free_guard(g);
        goto fail;
    }
    return g;
fail:
    log_warn("stop: cannot start the stop_timeout watchdog; the stop is not bounded");
    return NULL;
}

void stop_guard_step(struct stop_guard *g, const char *fmt, ...)
{
    if (!g)
        return;
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&g->lock);
    vsnprintf(g->step, sizeof g->step, fmt, ap);
    pthread_mutex_unlock(&g->lock);
    va_end(ap);
}

void stop_guard_done(struct stop_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->done = true;
    pthread_cond_signal(&g->cond);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->thread, NULL);
    free_guard(g);
}
