/* gatescreen-bureaud (bureaud.h): the main thread owns the configuration and the
 * signals (the runtime's loop: signalfd and timers); the collector's threads serve.
 *
 * Start: configuration -> the database (migrations under their lock) -> the pool ->
 * the page ([page], bureau/page/, with its own pool) -> the collector -> READY=1. Stop (SIGTERM, SIGINT): STOPPING=1 -> the collector stops
 * accepting and finishes the requests under way -> the connections close. SIGHUP
 * reloads: the log level, [collector] max_body, rate_per_minute, rate_burst and the
 * [pull] tokens change at once; everything that threads, sockets or connections were
 * made from needs a restart, and the log says which. SIGUSR1 logs the counts of uploads. */
#include "bureaud.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bconfig.h"
#include "bpage.h"
#include "bstore.h"
#include "bstore_pool.h"
#include "collector.h"
#include "log.h"
#include "loop.h"
#include "sdnotify.h"

struct bureaud {
    const struct bureaud_opts *opts;
    struct bconfig *cfg; /* in force; replaced whole on reload */
    struct loop *loop;
    struct bstore_pool *pool;
    struct collector *collector;
    struct bpage *page;          /* NULL without a [page] section */
};

static void apply_log_level(const struct bureaud *d)
{
    log_set_level(d->opts->verbose ? LOG_LVL_DEBUG : (enum log_level)d->cfg->collector.log_level);
}

/* Lines a loader wrote to errs, into the log (stderr may be the journal or nothing). */
static struct bconfig *load_logged(const char *path)
{
    struct log_sink sink;
    FILE *errs = log_sink_open(&sink);
    struct bconfig *c = bconfig_load(path, errs ? errs : stderr);
    log_sink_close(&sink);
    return c;
}

/* ---- reload -------------------------------------------------------------------- */

#define SAME(a, b, f) (memcmp(&(a)->f, &(b)->f, sizeof (a)->f) == 0)

static void log_restart_only(const struct bconfig *cur, const struct bconfig *next)
{
    const struct bcfg_collector *a = &cur->collector, *b = &next->collector;
    static const char *const what[] = {
        "[collector] listen", "[collector] tls_cert, tls_key or client_ca (or their files)",
        "[collector] instance", "[collector] threads", "[collector] connection_timeout",
        "[database]", "[page]"};
    bool same[] = {SAME(a, b, address) && a->port == b->port,
                   SAME(a, b, tls_cert) && SAME(a, b, tls_key) && SAME(a, b, client_ca),
                   SAME(a, b, instance), a->threads == b->threads,
                   a->connection_timeout_ms == b->connection_timeout_ms,
                   SAME(cur, next, database), SAME(cur, next, page)};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        if (!same[i])
            log_warn("reload: %s changed; restart gatescreen-bureaud to apply it", what[i]);
    /* The files are read at start: a renewed certificate needs a restart too. */
}

/* The new configuration, with the running values of what needs a restart, so that
 * d->cfg always says what runs. */
static void apply_reload(struct bureaud *d, struct bconfig *next)
{
    log_restart_only(d->cfg, next);
    struct bcfg_collector live = next->collector;
    next->collector = d->cfg->collector;
    next->collector.log_level = live.log_level;
    next->collector.max_body = live.max_body;
    next->collector.rate_per_minute = live.rate_per_minute;
    next->collector.rate_burst = live.rate_burst;
    next->database = d->cfg->database;
    next->page = d->cfg->page;
    bconfig_free(d->cfg);
    d->cfg = next;
    collector_reconfigure(d->collector, d->cfg);
    bpage_reconfigure(d->page, d->cfg);
    apply_log_level(d);
    log_notice("reload: %s applied (log level, max_body %ld bytes, rate %d a minute, burst "
               "%d, [pull] tokens)", d->cfg->path, d->cfg->collector.max_body,
               d->cfg->collector.rate_per_minute, d->cfg->collector.rate_burst);
}

static void on_hup(struct loop *loop, int signo, void *arg)
{
    (void)loop;
    (void)signo;
    struct bureaud *d = arg;
    sdn_reloading();
    struct bconfig *next = load_logged(d->cfg->path);
    if (next)
        apply_reload(d, next);
    else
        log_err("reload: %s has errors; keeping the running configuration", d->cfg->path);
    sdn_ready("reloaded");
}

/* ---- start and stop ------------------------------------------------------------ */

static void on_stop(struct loop *loop, int signo, void *arg)
{
    (void)arg;
    log_notice("%s received, stopping", strsignal(signo));
    loop_stop(loop);
}

static void on_usr1(struct loop *loop, int signo, void *arg)
{
    (void)loop;
    (void)signo;
    struct bureaud *d = arg;
    collector_log_counters(d->collector);
}

static void on_watchdog(struct loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    sdn_watchdog();
}

static int start_loop(struct bureaud *d)
{
    if (!(d->loop = loop_new()))
        return -1;
    /* Before any thread: they inherit the blocked signals, only the signalfd sees them. */
    if (loop_on_signal(d->loop, SIGTERM, on_stop, d) < 0 ||
        loop_on_signal(d->loop, SIGINT, on_stop, d) < 0 ||
        loop_on_signal(d->loop, SIGHUP, on_hup, d) < 0 ||
        loop_on_signal(d->loop, SIGUSR1, on_usr1, d) < 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    int64_t wd = sdn_watchdog_interval_ms();
    return wd > 0 && !loop_timer_add(d->loop, wd, wd, on_watchdog, d) ? -1 : 0;
}

/* The database first: migrated under its lock, then one connection per request
 * thread. A database that cannot be reached stops the start (systemd restarts). */
static int open_database(struct bureaud *d, FILE *errs)
{
    char *dsn = NULL, app[128];
    struct bstore *first = NULL;
    snprintf(app, sizeof app, "gatescreen-bureaud/%s", d->cfg->collector.instance);
    if (bconfig_dsn(d->cfg, &dsn, errs) < 0)
        return -1;
    struct bstore_opts o = {.conninfo = dsn, .application_name = app,
                            .connect_timeout_ms = d->cfg->database.connect_timeout_ms,
                            .statement_timeout_ms = d->cfg->database.statement_timeout_ms,
                            .migrate = true};
    if (bstore_open(&o, &first, errs) == 0)
        d->pool = bstore_pool_new(&o, d->cfg->collector.threads, first);
    if (first && !d->pool)
        fprintf(errs, "out of memory\n");
    /* The page has its own connections: a busy page never takes the uploads'. */
    bool page_ok = !d->pool || !d->cfg->page.enabled ||
                   (d->page = bpage_start(d->cfg, &o, errs)) != NULL;
    explicit_bzero(dsn, strlen(dsn));
    free(dsn);
    return d->pool && page_ok ? 0 : -1;
}

static int start(struct bureaud *d)
{
    struct log_sink sink;
    FILE *errs = log_sink_open(&sink);
    int rc = -1;
    if (!errs)
        errs = stderr;
    if (start_loop(d) == 0 && open_database(d, errs) == 0 &&
        (d->collector = collector_start(d->cfg, d->pool, errs)))
        rc = 0;
    log_sink_close_prefixed(&sink, "start: ");
    if (rc == 0) {
        log_notice("ready: instance %s, database schema v%d", d->cfg->collector.instance,
                   bstore_latest_version());
        sdn_ready("collecting");
    }
    return rc;
}

static void stop(struct bureaud *d)
{
    sdn_stopping();
    bpage_stop(d->page);
    collector_stop(d->collector); /* the requests under way finish first */
    bstore_pool_free(d->pool);
    loop_free(d->loop);
    bconfig_free(d->cfg);
}

int bureaud_run(const struct bureaud_opts *o)
{
    struct bureaud d = {.opts = o};
    if (!(d.cfg = bconfig_load(o->config_path, stderr)))
        return 2;
    apply_log_level(&d);
    int status = 1;
    if (start(&d) < 0)
        log_err("gatescreen-bureaud did not start (the reason is above)");
    else if (loop_run(d.loop) == 0)
        status = 0;
    stop(&d);
    if (status == 0)
        log_notice("stopped cleanly");
    return status;
}
