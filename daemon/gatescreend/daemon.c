#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "civil.h"
#include "config_load.h"
#include "confstore.h"
#include "events.h"
#include "evqueue.h"
#include "gate.h"
#include "terminal_listener.h"
#include "gpio_input.h"
#include "ledger.h"
#include "log.h"
#include "loop.h"
#include "modbus_bus.h"
#include "schedule.h"
#include "sdnotify.h"
#include "stop_guard.h"
#include "textnum.h"
#include "uploader.h"
#include "terminal_stream.h"
#include "web.h"
#include "zone.h"

#define EVENT_QUEUE_CAPACITY 4096
/* Opening waits this long for another writer (a migration needs the lock); the
 * gate then sets its own short wait (gate.c). */
#define OPEN_BUSY_TIMEOUT_MS 5000

struct daemon {
    const struct daemon_opts *opts;
    /* The configuration snapshots (confstore.h). `cfg` is the snapshot in force,
     * which the main thread reads; `boot` is the one the workers were started from
     * (their buses, lanes, lines and listener), held until they are stopped. */
    struct config_store *store;
    const struct config *cfg, *boot;
    struct loop *loop;
    struct evq *events;
    struct ledger *ledger;
    struct gate *gate;
    struct gate_board *board;   /* the lanes as the web page shows them */
    struct web *web;            /* NULL when [web] is not enabled */
    struct schedule *schedule;
    struct uploader *uploader;
    struct mbus_set *buses;
    struct gpio_input *inputs;                     /* Wiegand readers and presence sensors */
    struct term_listener *terminals;               /* NULL without [terminals] listen */
    struct term_streams *streams;                  /* NULL without a mode = stream terminal */
    struct presence_edges presence;                /* counted for the bus threads */
    struct device_status devices[CFG_MAX_DEVICES]; /* latest from the bus threads */
    int64_t devices_at[CFG_MAX_DEVICES];           /* monotonic ms of that snapshot */
    int ready_fd; /* detached start: tells the waiting parent we are up; else -1 */
    int claim_fd; /* the ledger's claim (ledger_claim), held for the daemon's life */
};

static void apply_log_level(const struct daemon *d)
{
    log_set_level(d->opts->verbose ? LOG_LVL_DEBUG : (enum log_level)d->cfg->daemon.log_level);
}

/* ---- start-up and shutdown ------------------------------------------------ */

static void on_stop_signal(struct loop *loop, int signo, void *arg)
{
    (void)arg;
    log_notice("%s received, stopping", strsignal(signo));
    loop_stop(loop);
}

static void on_hup(struct loop *loop, int signo, void *arg);
static void on_usr1(struct loop *loop, int signo, void *arg);

/* Every reading as the device reported it (the decision it led to is in the
 * ledger and on the lane's indicator). */
static void log_reading(const struct daemon *d, const struct reading *r)
{
    char card[32] = "none", body[16], raw[16], amb[16] = "none";
    if (r->has_card)
        snprintf(card, sizeof card, "%llu", (unsigned long long)r->card);
    if (r->has_ambient)
        tn_format_centi(r->ambient_centi, amb, sizeof amb);
    log_info("reading: device %s lane %s body %s raw %s ambient %s status 0x%04x seq %u card %s",
             d->cfg->devices[r->device].name, d->cfg->lanes[r->lane].name,
             tn_format_centi(r->body_centi, body, sizeof body),
             tn_format_centi(r->raw_centi, raw, sizeof raw), amb, r->status, r->sequence, card);
}

static void on_event(const void *elem, void *arg)
{
    const struct event *ev = elem;
    struct daemon *d = arg;
    switch (ev->kind) {
    case EV_READING:
        log_reading(d, &ev->reading);
        if (d->gate)
            gate_on_reading(d->gate, &ev->reading, ev->posted_us ? ev->posted_us : loop_now_us());
        break;
    case EV_DEVICE_STATUS:
        d->devices[ev->status.device] = ev->status;
        d->devices_at[ev->status.device] = ev->mono_ms;
        if (!ev->status.state_changed)
            break;
        /* The bus thread logs the change, at a falling rate for a flapping unit. */
        log_debug("device %s: state %s", d->cfg->devices[ev->status.device].name,
                  device_state_name(ev->status.state));
        if (d->gate)
            gate_on_device_state(d->gate, ev->status.device, ev->status.state);
        break;
    case EV_CARD:
        log_info("lane %s: card %llu (%d-bit Wiegand)", d->cfg->lanes[ev->card.lane].name,
                 (unsigned long long)ev->card.number, ev->card.bits);
        if (d->gate)
            gate_on_card(d->gate, ev->card.lane, ev->card.number, ev->posted_us);
        break;
    case EV_TERMINAL:
        log_debug("terminal %s: lane %s serial %llu id %s temperature %.2f (terminal's clock %s)",
                 d->cfg->terminal[ev->terminal.terminal].name,
                 d->cfg->lanes[ev->terminal.lane].name, (unsigned long long)ev->terminal.serial,
                 ev->terminal.has_employee ? ev->terminal.employee : "-",
                 ev->terminal.has_temp ? ev->terminal.temp_centi / 100.0 : 0.0,
                 ev->terminal.device_time[0] ? ev->terminal.device_time : "-");
        if (d->gate)
            gate_on_terminal(d->gate, &ev->terminal, ev->posted_us);
        break;
    case EV_TERMINAL_ALIVE:
        if (d->gate)
            gate_on_terminal_alive(d->gate, &ev->terminal);
        break;
    case EV_PRESENCE:
        log_debug("lane %s: presence", d->cfg->lanes[ev->presence_lane].name);
        if (d->gate)
            gate_on_presence(d->gate, ev->presence_lane, ev->posted_us);
        break;
    default:
        log_debug("event %d", (int)ev->kind);
    }
}

static void on_events_readable(struct loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    struct daemon *d = arg;
    evq_drain(d->events, on_event, d);
    if (d->gate)
        gate_flush(d->gate); /* one commit for the whole batch, then the lights */
}

static void on_watchdog(struct loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
    sdn_watchdog();
}

static int start_loop(struct daemon *d)
{
    if (!(d->loop = loop_new()))
        return -1;
    /* Signals first: blocked here, so every thread started later inherits the mask
     * and only the signalfd sees them. */
    if (loop_on_signal(d->loop, SIGTERM, on_stop_signal, d) < 0 ||
        loop_on_signal(d->loop, SIGINT, on_stop_signal, d) < 0 ||
        loop_on_signal(d->loop, SIGHUP, on_hup, d) < 0 ||
        loop_on_signal(d->loop, SIGUSR1, on_usr1, d) < 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    if (!(d->events = evq_new(sizeof(struct event), EVENT_QUEUE_CAPACITY)))
        return -1;
    if (loop_add_fd(d->loop, evq_fd(d->events), EPOLLIN, on_events_readable, d) < 0)
        return -1;
    int64_t wd = sdn_watchdog_interval_ms();
    if (wd > 0 && !loop_timer_add(d->loop, wd, wd, on_watchdog, d))
        return -1;
    return 0;
}

/* A ledger that held people does not silently become an empty one: its marker
 * (ledger_expect_note) says one is expected at the path. */
static int check_ledger_present(const struct daemon *d)
{
    const char *path = d->cfg->ledger.database;
    if (!ledger_expected_but_missing(path))
        return 0;
    if (!d->opts->new_ledger) {
        log_err("%s: the ledger is missing, but it held a roster (%s.expected says so); "
                "refusing to start with an empty one. Restore it from a backup (or a "
                "%s.rescued-* copy), or start once with --new-ledger", path, path, path);
        return -1;
    }
    log_warn("%s: missing; starting a new, empty ledger (--new-ledger)", path);
    return ledger_expect_forget(path);
}

/* One program at a time runs the ledger: a second daemon on it would drive the
 * same lanes' records twice, and `gatescreen db restore` must not copy under it. */
static int claim_ledger(struct daemon *d)
{
    const char *path = d->cfg->ledger.database;
    int rc = ledger_claim(path, &d->claim_fd);
    if (rc == 1)
        log_err("%s: in use by another gatescreend or a `gatescreen db restore` (%s.lock "
                "is locked); refusing to start a second one", path, path);
    return rc == 0 ? 0 : -1;
}

static int open_ledger(struct daemon *d)
{
    struct ledger_opts lo = {.synchronous_full = d->cfg->ledger.synchronous_full,
                             .busy_timeout_ms = OPEN_BUSY_TIMEOUT_MS,
                             .truncate_on_close = true};
    if (zone_set(d->cfg->school.timezone) < 0 || claim_ledger(d) < 0 ||
        check_ledger_present(d) < 0 ||
        ledger_open(d->cfg->ledger.database, &lo, &d->ledger) < 0)
        return -1;
    if (ledger_expect_note(d->ledger) < 0)
        log_errno(LOG_LVL_WARN, errno, "%s.expected: cannot write the marker",
                  d->cfg->ledger.database);
    return 0;
}

/* The lanes, then the day's clock (which asks the uploader for summaries). */
static int open_day(struct daemon *d)
{
    if (!(d->gate = gate_new(d->cfg, d->ledger, d->loop, NULL)) ||
        !(d->board = gate_board_new(d->cfg)))
        return -1;
    gate_set_board(d->gate, d->board);
    d->schedule = schedule_new(d->cfg, d->loop, d->gate, d->uploader);
    return d->schedule ? 0 : -1;
}

/* The uploader has its own thread and connection: the gate never waits on the
 * network. Bad upstream files (a token others can read, ...) stop the start. */
static int start_uploader(struct daemon *d)
{
    struct log_sink sink;
    FILE *errs = log_sink_open(&sink);
    d->uploader = uploader_start(d->cfg, errs ? errs : stderr);
    log_sink_close(&sink);
    return d->uploader ? 0 : -1;
}

/* The buses that serve at least one device. */
static int start_buses(struct daemon *d)
{
    d->buses = mbus_start_all(d->cfg, d->events, &d->presence);
    return d->buses ? 0 : -1;
}

/* The web page, once the gate it shows is up; a server that cannot start (port
 * taken, bad certificate) stops the daemon: a nurse would find no page. */
static int start_web(struct daemon *d)
{
    if (!d->cfg->web.enabled)
        return 0;
    if (!(d->web = web_start(d->store, d->board)))
        log_err("web: the web server did not start; gatescreend stops");
    return d->web ? 0 : -1;
}

/* The terminals' listener: a port that cannot be had stops the daemon, like [web]. */
static int start_terminals(struct daemon *d)
{
    int failed;
    d->terminals = term_listener_start(d->boot, d->events, &failed);
    if (failed)
        log_err("terminals: the terminals' listener did not start; gatescreend stops");
    if (!failed && (d->streams = term_streams_start(d->boot, d->events, &failed)) == NULL &&
        failed)
        log_err("terminals: the alertStream reader did not start; gatescreend stops");
    return failed ? -1 : 0;
}

static int start_inputs(struct daemon *d)
{
    if (!gpio_input_needed(d->cfg))
        return 0;
    d->inputs = gpio_input_start(d->cfg, d->events, &d->presence);
    return d->inputs ? 0 : -1;
}

static void log_counters(const struct daemon *d)
{
    for (int i = 0; i < d->cfg->ndevices; i++) {
        const struct device_counters *c = &d->devices[i].counters;
        char last_good[CIVIL_ISO_LEN] = "never"; /* before the first good read */
        if (c->last_good_wall_ms > 0)
            civil_utc_iso(c->last_good_wall_ms, last_good);
        log_info("device %s: %s; polls %llu good %llu timeouts %llu exceptions %llu crc %llu "
                 "bad-frames %llu io %llu reconnects %llu readings %llu at %lld last-good %s",
                 d->cfg->devices[i].name, device_state_name(d->devices[i].state),
                 (unsigned long long)c->polls, (unsigned long long)c->good,
                 (unsigned long long)c->timeouts, (unsigned long long)c->exceptions,
                 (unsigned long long)c->crc_errors, (unsigned long long)c->bad_frames,
                 (unsigned long long)c->io_errors, (unsigned long long)c->reconnects,
                 (unsigned long long)c->readings, (long long)d->devices_at[i], last_good);
    }
}

/* SIGUSR1: the administrator (or a test) asks for the device counters. */
static void on_usr1(struct loop *loop, int signo, void *arg)
{
    (void)loop;
    (void)signo;
    struct daemon *d = arg;
    log_counters(d);
    if (d->gate)
        gate_log_counters(d->gate);
}

static void announce_ready(struct daemon *d)
{
    int people = 0;
    ledger_count_people(d->ledger, &people);
    char status[160];
    const char *alarm = gate_alarm_text(d->gate);
    snprintf(status, sizeof status, "%d lanes, %d devices, %d active people%s%s",
             d->cfg->nlanes, d->cfg->ndevices, people, alarm ? "; " : "", alarm ? alarm : "");
    log_notice("ready: school %s (%s), %s; ledger %s (schema v%d)", d->cfg->school.code,
               d->cfg->school.name, status, d->cfg->ledger.database,
               ledger_schema_version(d->ledger));
    sdn_ready(status);
    if (d->ready_fd >= 0) {
        ssize_t unused = write(d->ready_fd, "R", 1);
        (void)unused;
        close(d->ready_fd);
        d->ready_fd = -1;
    }
}

/* A bus's own thread may sit in a read for up to its response_timeout. */
static void joining_bus(const char *bus, void *g)
{
    if (bus)
        stop_guard_step(g, "bus %s (its thread)", bus);
    else
        stop_guard_step(g, "the Modbus TCP buses (their shared thread)");
}

static void stop_buses(struct daemon *d, struct stop_guard *g)
{
    mbus_stop_all(d->buses, joining_bus, g);
    d->buses = NULL;
}

/* Bounded by [daemon] stop_timeout once the lights are safe: each step names
 * what it waits for, and the guard ends the process if one takes too long. */
static void shutdown_all(struct daemon *d)
{
    int64_t t0 = loop_now_ms();
    sdn_stopping();
    struct stop_guard *g = d->cfg ? stop_guard_start(d->cfg->daemon.stop_timeout_ms) : NULL;
    stop_guard_step(g, "the lanes' lights");
    gate_stop(d->gate); /* lights safe first: joining the workers can take a while */
    stop_guard_step(g, "the web page's event streams");
    gate_board_close(d->board); /* event streams end, so web_stop can join them */
    stop_guard_step(g, "the web server");
    web_stop(d->web);
    if (d->events)
        evq_close(d->events); /* workers blocked on a full queue give up */
    /* After evq_close: a push blocked on a full queue gives up (503, the terminal
     * sends it again later and the repeat is recognised), so its thread can be joined. */
    stop_guard_step(g, "the terminals' listener");
    term_listener_stop(d->terminals);
    d->terminals = NULL;
    stop_guard_step(g, "the terminals' alertStreams");
    term_streams_stop(d->streams);
    d->streams = NULL;
    stop_buses(d, g);
    stop_guard_step(g, "the GPIO input thread");
    gpio_input_stop(d->inputs);
    stop_guard_step(g, "the last events");
    if (d->cfg && d->events) {
        evq_drain(d->events, on_event, d); /* the last readings and counters posted */
        log_counters(d);
    }
    if (d->gate)
        gate_log_counters(d->gate);
    schedule_free(d->schedule);
    stop_guard_step(g, "the uploader (a transfer under way)");
    uploader_stop(d->uploader); /* a transfer under way stays pending, sent again later */
    stop_guard_step(g, "the gate's last commit");
    gate_free(d->gate); /* commits the last decisions; releases the lines */
    gate_board_free(d->board); /* after the gate: it publishes to the board */
    stop_guard_step(g, "the ledger to close");
    ledger_close(d->ledger);
    ledger_unclaim(d->claim_fd); /* after the close: the WAL is folded in by then */
    evq_free(d->events);
    loop_free(d->loop);
    stop_guard_done(g);
    if (d->cfg)
        log_notice("stopped cleanly in %lld ms", (long long)(loop_now_ms() - t0));
    if (d->store) {
        cfgstore_release(d->store, d->boot);
        cfgstore_release(d->store, d->cfg);
        cfgstore_free(d->store);
    }
}

/* ---- reload --------------------------------------------------------------- */

/* Logs each line the config loader wrote (reload happens with stderr possibly
 * detached, so the log is where the administrator will look). */
static struct config *load_config_logged(const char *path)
{
    struct log_sink sink;
    FILE *errs = log_sink_open(&sink);
    struct config *cfg = config_load(path, errs ? errs : stderr);
    log_sink_close(&sink);
    return cfg;
}

#define SAME(a, b, field) (memcmp(&(a)->field, &(b)->field, sizeof (a)->field) == 0)
#define KEEP(to, from, field) memcpy(&(to)->field, &(from)->field, sizeof (to)->field)

/* Logs the restart-only parts that differ, compared without the section line
 * numbers (a comment added at the top moves them all). */
static void log_fixed_changes(const struct config *cur, const struct config *next)
{
    static const char *const fixed_names[] = {"[ledger]", "[bus]/[profile]/[device]",
                                              "[lane]", "[web]", "[gpio]",
                                              "[school] timezone",
                                              "[terminals]/[terminal]"};
    struct config *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    if (!a || !b) {
        free(a);
        free(b);
        log_warn("reload: out of memory comparing the configurations");
        return;
    }
    *a = *cur;
    *b = *next;
    config_forget_lines(a);
    config_forget_lines(b);
    int same[] = {
        SAME(a, b, ledger),
        SAME(a, b, nbuses) && SAME(a, b, buses) && SAME(a, b, nprofiles) &&
            SAME(a, b, profiles) && SAME(a, b, ndevices) && SAME(a, b, devices),
        SAME(a, b, nlanes) && SAME(a, b, lanes),
        SAME(a, b, web),
        SAME(a, b, gpio), /* the GPIO input thread reads it */
        /* The zone is the process's TZ, read by every thread: changing it under
         * them is not safe. */
        strcmp(a->school.timezone, b->school.timezone) == 0,
        SAME(a, b, terminals) && SAME(a, b, nterminals) && SAME(a, b, terminal),
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        if (!same[i])
            log_warn("reload: %s changed; restart gatescreend to apply it", fixed_names[i]);
    free(a);
    free(b);
}

/* Parts that threads, sockets or the open database were built from need a restart:
 * say which, and keep the running ones in the new snapshot, so that a snapshot
 * always describes what runs. */
static void keep_fixed_parts(const struct config *cur, struct config *next)
{
    log_fixed_changes(cur, next);
    KEEP(next, cur, ledger);
    KEEP(next, cur, nbuses);
    KEEP(next, cur, buses);
    KEEP(next, cur, nprofiles);
    KEEP(next, cur, profiles);
    KEEP(next, cur, ndevices);
    KEEP(next, cur, devices);
    KEEP(next, cur, nlanes);
    KEEP(next, cur, lanes);
    KEEP(next, cur, web);
    KEEP(next, cur, gpio);
    KEEP(next, cur, school.timezone);
    KEEP(next, cur, terminals);
    KEEP(next, cur, nterminals);
    KEEP(next, cur, terminal);
}

/* Publishes `next` (taken over) as the configuration in force and moves the main
 * thread's modules onto it; the web's requests take it from the store, the
 * uploader its own copy. */
static void apply_reload(struct daemon *d, struct config *next)
{
    keep_fixed_parts(d->cfg, next);
    if (cfgstore_publish(d->store, next) < 0) {
        log_err("reload: out of memory; keeping the running configuration");
        return;
    }
    const struct config *old = d->cfg;
    d->cfg = cfgstore_acquire(d->store);
    if (d->gate)
        gate_reconfigure(d->gate, d->cfg);
    if (d->schedule)
        schedule_reconfigure(d->schedule, d->cfg);
    if (d->uploader)
        uploader_reconfigure(d->uploader, d->cfg);
    apply_log_level(d);
    cfgstore_release(d->store, old);
    log_notice("reload: configuration %s applied", d->cfg->path);
}

static void on_hup(struct loop *loop, int signo, void *arg)
{
    (void)loop;
    (void)signo;
    struct daemon *d = arg;
    sdn_reloading();
    struct config *next = load_config_logged(d->cfg->path);
    if (!next)
        log_err("reload: %s has errors; keeping the running configuration",
                d->cfg->path);
    else
        apply_reload(d, next);
    sdn_ready("reloaded");
}

/* ---- detaching ------------------------------------------------------------ */

/* Without -f: fork, and let the parent exit only once the child is ready (status 0)
 * or has failed (status 1), so that scripts see start-up errors. */
static int detach(struct daemon *d)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0) {
        close(p[1]);
        char c;
        _exit(read(p[0], &c, 1) == 1 ? 0 : 1);
    }
    close(p[0]);
    d->ready_fd = p[1];
    if (setsid() < 0 || chdir("/") < 0)
        return -1;
    int null = open("/dev/null", O_RDWR);
    if (null < 0)
        return -1;
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    if (null > STDERR_FILENO)
        close(null);
    log_init("gatescreend", log_get_level(), LOG_OUT_SYSLOG);
    return 0;
}

int daemon_run(const struct daemon_opts *opts)
{
    struct daemon d = {.opts = opts, .ready_fd = -1, .claim_fd = -1};
    struct config *cfg = config_load(opts->config_path, stderr);
    if (!cfg)
        return 2;
    if (!(d.store = cfgstore_new(cfg, config_free))) {
        log_err("out of memory");
        return 1;
    }
    d.cfg = cfgstore_acquire(d.store);
    d.boot = cfgstore_acquire(d.store);
    apply_log_level(&d);
    int status = 1;
    if (!opts->foreground && detach(&d) < 0) {
        log_errno(LOG_LVL_ERR, errno, "cannot detach");
        goto out;
    }
    if (start_loop(&d) < 0 || open_ledger(&d) < 0 || start_uploader(&d) < 0 ||
        open_day(&d) < 0 || start_buses(&d) < 0 || start_inputs(&d) < 0 || start_web(&d) < 0 ||
        start_terminals(&d) < 0)
        goto out;
    announce_ready(&d);
    status = loop_run(d.loop) == 0 ? 0 : 1;
out:
    if (d.ready_fd >= 0)
        close(d.ready_fd);
    shutdown_all(&d);
    return status;
}
