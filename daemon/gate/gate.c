/* The gate (see gate.h): lanes, decisions, ledger rows, lights. */
#include "gate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "clock.h"
#include "gate_board.h"
#include "lane.h"
#include "ledger_gate.h"
#include "log.h"
#include "screening.h"
#include "sdnotify.h"
#include "term_health.h"

#define PERSON_TEXT 264 /* external id, name and class, each at its gate_person size */

struct gate;

/* What a lane shows, and why (kept for the indicator lines). */
struct shown_context {
    char person[PERSON_TEXT];
    char external_id[64];
    bool has_body;
    int32_t body_centi;
    int64_t from_us;
};

struct gate_lane {
    struct gate *g;
    int index;
    struct lane sm;
    uint64_t timer;
    int64_t timer_at;
    const struct indicator_ops *ops;
    void *handle;
    bool sent;                  /* something was sent to the indicator */
    struct display last;
    enum outcome last_outcome;
    const char *last_reason;
    struct shown_context ctx;
};

/* A request waiting for its transaction: decided (card looked up, rules applied,
 * rows written) inside the transaction that commits it, so a ledger that is busy
 * for a moment only delays it. */
struct pending {
    int lane;
    struct lane_request req;
    int64_t at_ms;     /* the decision's wall time (the reading's, else its arrival) */
    int64_t queued_ms; /* loop_now_ms() when it arrived: the wait is bounded from here */
    enum outcome outcome;
    struct shown_context ctx;
    bool from_terminal;     /* a terminal's event: `term` holds what it said */
    bool repeat;            /* ... one already recorded: nothing written, nothing shown */
    bool late;              /* ... from a backlog, long past: decided at its own time,
                             * recorded, not shown (the person has gone) */
    struct terminal_event term;
};

/* Decisions per transaction at most: under a backlog a batch this size still
 * commits in a few ms (tests/bench: 128 keeps p99 near 10 ms at 20,000
 * decisions/s; 1024 made lights wait ~50 ms). */
#define MAX_PENDING 128

/* The main loop never waits on the ledger for long: each BEGIN waits at most
 * LOCK_NAP_MS for another writer (most hold it for one commit, well under that),
 * a busy ledger is tried again from a timer every RETRY_MS, and a decision that
 * has waited WAIT_MS is shown amber. After that the ledger counts as locked (an
 * sqlite3 shell, a backup): decisions are amber at once, and a probe every
 * PROBE_MS notices the lock's end. The files are checked before every write and
 * every FILES_CHECK_MS when idle. */
#define LOCK_NAP_MS 2
#define RETRY_MS 10
#define WAIT_MS 1000
#define PROBE_MS 50
#define FILES_CHECK_MS 1000
#define TERM_CHECK_MS 1000 /* how late an overdue terminal may be marked offline */
#define LOG_EVERY_MS 60000

/* Why every lane blinks amber whatever its devices do. */
enum gate_alarm { ALARM_NONE, ALARM_LOCKED, ALARM_LOST };
static const char *const alarm_reason[] = {"", "ledger-locked", "ledger-lost"};

struct gate {
    const struct config *cfg;
    struct ledger *ledger;
    struct loop *loop;
    struct ledger_gate *sql;
    bool synced;                /* lanes and devices have their rows (lane_ids, device_ids) */
    int64_t lane_ids[CFG_MAX_LANES], device_ids[CFG_MAX_DEVICES];
    int64_t terminal_ids[CFG_MAX_TERMINALS];
    enum device_state dev_state[CFG_MAX_DEVICES];
    struct gate_lane lanes[CFG_MAX_LANES];
    const struct indicator_ops *ops[3];
    void *handles[3];
    bool stopping;              /* lanes show their safe state; decisions are not shown */
    bool waiting;               /* the pending decisions wait for a busy ledger */
    enum gate_alarm alarm;
    int64_t alarm_since_ms;
    bool rescued;               /* ALARM_LOST: what the connection held is saved */
    uint64_t ledger_timer, files_timer, term_timer;
    struct term_health terms;   /* the terminals online/offline and their clocks */
    int npending;
    struct pending pending[MAX_PENDING];
    uint64_t decisions[OUT_COUNT], ledger_errors, alarm_ambers;
    struct log_limit notrecorded_log;
    struct gate_board *board;   /* the web page's copy of the lanes; NULL: none */
};

static void refresh(struct gate_lane *gl);

/* ---- decisions ---------------------------------------------------------- */

static void person_text(const struct lane_request *req, const struct gate_person *p, char *out)
{
    if (p->id > 0)
        snprintf(out, PERSON_TEXT, "%s %s%s%s", p->external_id, p->name,
                 *p->class_name ? " " : "", p->class_name);
    else if (req->has_card)
        snprintf(out, PERSON_TEXT, "card %llu", (unsigned long long)req->card);
    else if (p->external_id[0])
        snprintf(out, PERSON_TEXT, "id %s", p->external_id);
    else
        out[0] = '\0';
}

static void fill_row(struct gate *g, int lane, const struct lane_request *req,
                     const struct gate_person *p, struct gate_row *row)
{
    const struct reading *r = &req->reading;
    row->lane_id = g->lane_ids[lane];
    row->person_id = p->id;
    row->has_card = req->has_card;
    row->card = req->card;
    row->has_reading = req->has_reading;
    row->threshold_centi = g->cfg->screening.threshold_centi;
    if (!req->has_reading) {
        row->quality = Q_NO_MEASUREMENT;
        return;
    }
    row->device_id = r->device >= 0 ? g->device_ids[r->device] : 0; /* a terminal: its own */
    row->raw_centi = r->raw_centi;
    row->offset_centi = r->offset_centi;
    row->body_centi = r->body_centi;
    row->has_ambient = r->has_ambient;
    row->ambient_centi = r->ambient_centi;
    row->status = r->status;
    row->quality = screening_quality(&g->cfg->screening, r);
}

/* Who it is: a terminal names the roster id (its card too, perhaps), a card
 * reader the card. An id the roster does not know stays unknown, with its text. */
static int look_up(struct gate *g, const struct pending *pd, const char *day,
                   struct gate_person *p)
{
    const struct terminal_event *t = &pd->term;
    if (pd->from_terminal && t->has_employee) {
        if (ledger_gate_lookup_id(g->sql, t->employee, day, p) < 0)
            return -1;
        if (p->id > 0 || !t->has_card) {
            if (p->id == 0)
                snprintf(p->external_id, sizeof p->external_id, "%s", t->employee);
            return 0;
        }
    }
    return pd->req.has_card ? ledger_gate_lookup(g->sql, pd->req.card, day, p) : 0;
}

/* A terminal's repeat (same serialNo) is recognised here, in the transaction
 * that would record it, so that also a repeat after a restart writes nothing. */
static int claim_terminal_event(struct gate *g, struct pending *pd, int64_t *claim)
{
    if (!pd->from_terminal)
        return 1;
    int rc = ledger_gate_terminal_claim(g->sql, g->cfg->terminal[pd->term.terminal].name,
                                        &pd->term, claim);
    pd->repeat = rc == 0;
    return rc;
}

/* Looks the person up, applies the rules and writes the rows, inside the open
 * transaction; the lights wait for its commit. */
static int decide_one(struct gate *g, struct pending *pd)
{
    const struct lane_request *req = &pd->req;
    struct gate_row row = {.at_ms = pd->at_ms};
    struct civil now;
    struct gate_person p = {0};
    int64_t claim = 0;
    int fresh = claim_terminal_event(g, pd, &claim);
    if (fresh <= 0)
        return fresh;
    if (civil_from_ms(row.at_ms, &now) < 0 || look_up(g, pd, now.day, &p) < 0)
        return -1;
    row.day = now.day;
    row.window = civil_window(&g->cfg->windows, now.minute);
    fill_row(g, pd->lane, req, &p, &row);
    if (pd->from_terminal && req->has_reading)
        row.device_id = g->terminal_ids[pd->term.terminal];
    bool identified = req->has_card || (pd->from_terminal && pd->term.has_employee);
    struct decision_input in = {.has_measurement = req->has_reading, .quality = row.quality,
                                .body_centi = row.body_centi, .has_identity = identified,
                                .person = p.state,
                                .device_alarm = pd->from_terminal && pd->term.abnormal == 1};
    screening_decide(&g->cfg->screening, &in, &row.decision);
    pd->outcome = row.decision.outcome;
    person_text(req, &p, pd->ctx.person);
    snprintf(pd->ctx.external_id, sizeof pd->ctx.external_id, "%s", p.external_id);
    pd->ctx.has_body = req->has_reading;
    pd->ctx.body_centi = row.body_centi;
    if (ledger_gate_record(g->sql, &row) < 0)
        return -1;
    return pd->from_terminal ? ledger_gate_terminal_link(g->sql, claim) : 0;
}

/* The config's lanes and devices as rows (once; retried while the ledger is
 * locked at start). */
static enum ledger_status sync_rows(struct gate *g)
{
    if (g->synced)
        return LEDGER_OK;
    enum ledger_status st =
        ledger_gate_sync(g->sql, g->cfg, g->lane_ids, g->device_ids, g->terminal_ids);
    g->synced = st == LEDGER_OK;
    return st;
}

/* One transaction for every pending decision. BUSY: nothing was written. */
static enum ledger_status commit_pending(struct gate *g)
{
    enum ledger_status st = sync_rows(g);
    if (st == LEDGER_OK)
        st = ledger_gate_begin(g->sql);
    if (st != LEDGER_OK)
        return st;
    for (int i = 0; i < g->npending; i++)
        if (decide_one(g, &g->pending[i]) < 0)
            goto fail;
    if (ledger_gate_commit(g->sql) == 0)
        return LEDGER_OK;
fail:
    ledger_gate_rollback(g->sql);
    return LEDGER_IO;
}

static void decide(struct gate *g, int lane, const struct lane_request *req, int64_t from_us)
{
    if (g->npending == MAX_PENDING && gate_flush(g) == 0 && g->npending == MAX_PENDING)
        gate_fail_pending(g); /* still waiting: the oldest have waited long enough */
    struct pending *pd = &g->pending[g->npending++];
    *pd = (struct pending){.lane = lane, .req = *req, .queued_ms = loop_now_ms(),
                           .at_ms = req->has_reading ? req->reading.wall_ms : clock_wall_ms(),
                           .outcome = OUT_INVALID, .ctx.from_us = from_us};
}

static void decide_all(struct gate *g, int lane, const struct lane_request *req, int n,
                       int64_t from_us)
{
    for (int i = 0; i < n; i++)
        decide(g, lane, &req[i], from_us);
}

/* ---- showing ------------------------------------------------------------ */

static void show_pending(struct gate *g, const struct pending *pd, bool committed)
{
    struct gate_lane *gl = &g->lanes[pd->lane];
    struct display d;
    enum outcome o = pd->outcome;
    if (committed) {
        screening_display(&g->cfg->screening, o, &d);
        g->decisions[o]++;
    } else {
        /* Not in the ledger: never green. Staff see "measure again". */
        screening_display(&g->cfg->screening, OUT_INVALID, &d);
        o = OUT_COUNT;
    }
    lane_decided(&gl->sm, &pd->req, o, &d, loop_now_ms());
    gl->ctx = pd->ctx;
    refresh(gl);
}

/* Shows every pending decision: as decided when committed, else amber. */
static int show_all(struct gate *g, bool committed)
{
    int n = g->npending;
    g->npending = 0;
    g->waiting = false;
    if (!committed) {
        g->ledger_errors += (uint64_t)n;
        if (g->alarm != ALARM_NONE)
            g->alarm_ambers += (uint64_t)n;
        else
            log_limited(&g->notrecorded_log, loop_now_ms(), LOG_EVERY_MS, LOG_LVL_ERR,
                        "ledger: %d decisions not recorded; their lanes show amber", n);
    }
    for (int i = 0; i < n; i++)
        if (!g->pending[i].late && !(committed && g->pending[i].repeat))
            show_pending(g, &g->pending[i], committed);
    return committed ? n : -1;
}

void gate_fail_pending(struct gate *g)
{
    if (g->npending)
        show_all(g, false);
}

static void on_ledger_timer(struct loop *loop, void *arg);

static void arm_ledger_timer(struct gate *g, int64_t ms)
{
    if (!g->ledger_timer && !(g->ledger_timer = loop_timer_add(g->loop, ms, 0, on_ledger_timer, g)))
        log_err("ledger: out of memory for a timer");
}

/* Every lane blinks amber while the gate has an alarm or a device of the lane is
 * offline. */
static void update_offline(struct gate *g, int lane)
{
    bool offline = g->alarm != ALARM_NONE;
    for (int i = 0; i < g->cfg->ndevices; i++)
        offline |= g->cfg->devices[i].lane == lane && g->dev_state[i] == DEV_OFFLINE;
    for (int i = 0; i < g->cfg->nterminals; i++)
        offline |= g->cfg->terminal[i].lane == lane && g->terms.t[i].state == DEV_OFFLINE;
    lane_set_offline(&g->lanes[lane].sm, offline, loop_now_ms());
    refresh(&g->lanes[lane]);
}

static void set_alarm(struct gate *g, enum gate_alarm a)
{
    g->alarm = a;
    g->alarm_since_ms = loop_now_ms();
    g->alarm_ambers = 0;
    for (int i = 0; i < g->cfg->nlanes; i++)
        update_offline(g, i);
}

static void enter_locked(struct gate *g)
{
    if (g->alarm != ALARM_NONE)
        return;
    log_err("ledger: another program holds its write lock (an sqlite3 shell, a backup, a "
            "long command); every lane shows amber until it is free");
    sdn_status("lanes amber: the ledger is locked by another program");
    set_alarm(g, ALARM_LOCKED);
    arm_ledger_timer(g, PROBE_MS);
}

static void leave_locked(struct gate *g)
{
    if (g->alarm != ALARM_LOCKED)
        return;
    log_notice("ledger: writable again after %.1f s; %llu decisions were shown amber meanwhile",
               (double)(loop_now_ms() - g->alarm_since_ms) / 1000.0,
               (unsigned long long)g->alarm_ambers);
    sdn_status("running");
    set_alarm(g, ALARM_NONE);
}

/* The database or its WAL is gone from under us: amber for good (until a
 * restart), and save what this connection still holds. */
static void check_files(struct gate *g)
{
    enum ledger_files f = ledger_files_check(g->ledger);
    if (f == LEDGER_FILES_OK || (g->alarm == ALARM_LOST && g->rescued))
        return;
    if (g->alarm != ALARM_LOST) {
        log_crit("ledger %s: %s while gatescreend had it open; every lane shows amber and "
                 "nothing more is written; restart gatescreend once the ledger is back",
                 ledger_path(g->ledger), ledger_files_text(f));
        sdn_status("lanes amber: the ledger file was deleted or replaced");
        gate_fail_pending(g);
        set_alarm(g, ALARM_LOST);
    }
    char saved[4200];
    if (ledger_files_rescue(g->ledger, f, saved, sizeof saved) == 0) {
        g->rescued = true;
        log_crit("ledger: everything committed until now is saved in %s", saved);
    }
}

/* Amber at once while the ledger is locked or lost; a busy ledger otherwise gets
 * RETRY_MS tries until the oldest decision has waited WAIT_MS. */
int gate_flush(struct gate *g)
{
    if (g->npending == 0)
        return 0;
    if (g->alarm == ALARM_LOST)
        return show_all(g, false);
    enum ledger_status st = commit_pending(g);
    if (st == LEDGER_OK) {
        leave_locked(g);
        return show_all(g, true);
    }
    if (st == LEDGER_BUSY && g->alarm == ALARM_NONE &&
        loop_now_ms() - g->pending[0].queued_ms < WAIT_MS) {
        if (!g->waiting)
            for (int i = 0; i < g->npending; i++)
                lane_hide_decision(&g->lanes[g->pending[i].lane].sm);
        g->waiting = true;
        for (int i = 0; i < g->npending; i++)
            refresh(&g->lanes[g->pending[i].lane]);
        arm_ledger_timer(g, RETRY_MS);
        return 0;
    }
    int rc = show_all(g, false); /* the decisions first, then the lanes' alarm */
    if (st == LEDGER_BUSY)
        enter_locked(g);
    else
        check_files(g);
    return rc;
}

/* Pending decisions: try again. Locked: probe for the lock's end. */
static void on_ledger_timer(struct loop *loop, void *arg)
{
    (void)loop;
    struct gate *g = arg;
    g->ledger_timer = 0;
    if (g->npending) {
        gate_flush(g);
    } else if (g->alarm == ALARM_LOCKED) {
        enum ledger_status st = sync_rows(g);
        if (st == LEDGER_OK && (st = ledger_gate_begin(g->sql)) == LEDGER_OK)
            ledger_gate_rollback(g->sql);
        if (st == LEDGER_OK)
            leave_locked(g);
        else if (st == LEDGER_IO)
            check_files(g);
    }
    if (g->alarm == ALARM_LOCKED)
        arm_ledger_timer(g, PROBE_MS);
}

static void on_files_timer(struct loop *loop, void *arg)
{
    (void)loop;
    check_files(arg);
}

static bool same_display(const struct display *a, const struct display *b)
{
    return a->lamp == b->lamp && a->blink == b->blink && a->buzzer == b->buzzer &&
           a->relay == b->relay;
}

static const char *idle_reason(const struct gate_lane *gl, enum outcome o)
{
    if (o < OUT_COUNT)
        return "";
    if (gl->sm.showing && gl->sm.shown_outcome == OUT_COUNT &&
        loop_now_ms() < gl->sm.shown_at + gl->sm.shown.hold_ms)
        return "ledger-error";
    if (!gl->sm.offline)
        return "idle";
    return gl->g->alarm != ALARM_NONE ? alarm_reason[gl->g->alarm] : "offline";
}

static void send_change(struct gate_lane *gl, const struct display *d, enum outcome o,
                        const char *reason)
{
    const struct config *cfg = gl->g->cfg;
    bool decision = o < OUT_COUNT || strcmp(reason, "ledger-error") == 0;
    struct indicator_change c = {
        .lane = gl->index, .display = *d, .outcome = o, .reason = reason,
        .person = decision ? gl->ctx.person : "",
        .external_id = decision ? gl->ctx.external_id : "", .has_body = decision && gl->ctx.has_body,
        .body_centi = gl->ctx.body_centi, .mono_us = loop_now_us(), .wall_ms = clock_wall_ms(),
        .decided_from_us = decision ? gl->ctx.from_us : 0};
    c.display.relay = d->relay && cfg->lanes[gl->index].enforce == CFG_ENFORCE_HARD;
    if (gl->ops->set(gl->handle, cfg, &c) < 0)
        log_warn("lane %s: indicator did not take the change", cfg->lanes[gl->index].name);
    gate_board_lights(gl->g->board, &c);
    gl->ctx.from_us = 0; /* a later change of the same decision is not its latency */
    gl->sent = true;
    gl->last = *d;
    gl->last_outcome = o;
    gl->last_reason = reason;
}

static void on_lane_timer(struct loop *loop, void *arg);

static void arm_timer(struct gate_lane *gl)
{
    int64_t now = loop_now_ms();
    int64_t at = lane_next_deadline(&gl->sm, now);
    if (gl->timer && at == gl->timer_at)
        return;
    if (gl->timer)
        loop_timer_cancel(gl->g->loop, gl->timer);
    gl->timer = 0;
    if (at >= 0 && !(gl->timer = loop_timer_add(gl->g->loop, at - now, 0, on_lane_timer, gl)))
        log_err("lane %s: out of memory for a timer", gl->g->cfg->lanes[gl->index].name);
    gl->timer_at = at;
}

/* Sends the lane's lights if they changed (a new decision always counts as a
 * change, even with the same lights: the console shows who), and re-arms. */
static void refresh(struct gate_lane *gl)
{
    if (gl->g->stopping)
        return; /* the safe state stays until the lines are released */
    struct display d;
    enum outcome o;
    lane_display(&gl->sm, loop_now_ms(), &d, &o);
    const char *reason = idle_reason(gl, o);
    if (!gl->sent || gl->ctx.from_us || !same_display(&d, &gl->last) || o != gl->last_outcome ||
        strcmp(reason, gl->last_reason) != 0)
        send_change(gl, &d, o, reason);
    arm_timer(gl);
}

static void on_lane_timer(struct loop *loop, void *arg)
{
    (void)loop;
    struct gate_lane *gl = arg;
    gl->timer = 0;
    struct lane_request req[LANE_MAX_REQUESTS];
    int n = lane_tick(&gl->sm, loop_now_ms(), req);
    decide_all(gl->g, gl->index, req, n, n ? loop_now_us() : 0);
    gate_flush(gl->g);
    refresh(gl);
}

/* ---- inputs -------------------------------------------------------------- */

void gate_on_reading(struct gate *g, const struct reading *r, int64_t received_us)
{
    struct lane_request req[LANE_MAX_REQUESTS];
    int n = lane_on_reading(&g->lanes[r->lane].sm, r, received_us / 1000, req);
    decide_all(g, r->lane, req, n, received_us);
    if (n == 0)
        arm_timer(&g->lanes[r->lane]); /* waiting for a card */
}

void gate_on_card(struct gate *g, int lane, uint64_t card, int64_t received_us)
{
    struct lane_request req[LANE_MAX_REQUESTS];
    int n = lane_on_card(&g->lanes[lane].sm, card, received_us / 1000, req);
    decide_all(g, lane, req, n, received_us);
    arm_timer(&g->lanes[lane]);
}

/* The page and the lane hear of a terminal's change of state or clock. */
static void terminal_changed(struct gate *g, int t)
{
    const struct term_state *s = &g->terms.t[t];
    int lane = g->cfg->terminal[t].lane;
    gate_board_terminal(g->board, lane, s->state, s->skewed, s->skew_ms);
    update_offline(g, lane);
}

void gate_on_terminal_alive(struct gate *g, const struct terminal_event *t)
{
    if (t->terminal >= 0 && t->terminal < g->cfg->nterminals &&
        term_health_heard(&g->terms, g->cfg, t, loop_now_ms()))
        terminal_changed(g, t->terminal);
}

static void on_term_timer(struct loop *loop, void *arg)
{
    (void)loop;
    struct gate *g = arg;
    int changed[CFG_MAX_TERMINALS];
    int n = term_health_tick(&g->terms, g->cfg, loop_now_ms(), changed);
    for (int i = 0; i < n; i++)
        terminal_changed(g, changed[i]);
}

/* A terminal's event carries identity and temperature at once: it is decided as
 * it is, without the lane's pairing of a card with a reading. */
void gate_on_terminal(struct gate *g, const struct terminal_event *t, int64_t received_us)
{
    if (t->lane < 0 || t->lane >= g->cfg->nlanes)
        return;
    gate_on_terminal_alive(g, t);
    struct lane_request req = {.has_reading = t->has_temp, .has_card = t->has_card,
                               .card = t->card, .mono_ms = loop_now_ms()};
    if (t->has_temp)
        req.reading = (struct reading){.device = -1, .lane = t->lane, .mono_ms = req.mono_ms,
                                       .wall_ms = t->wall_ms, .raw_centi = t->temp_centi,
                                       .body_centi = t->temp_centi, .device_valid = true,
                                       .has_card = t->has_card, .card = t->card};
    decide(g, t->lane, &req, received_us);
    struct pending *pd = &g->pending[g->npending - 1];
    /* A line of a backlog upload (README "Late lines") further in the past than any
     * clock's skew we accept happened then, not now: its time is the terminal's. */
    pd->late = t->backlog && t->has_device_ms &&
               t->wall_ms - t->device_ms > g->cfg->terminals.max_clock_skew_ms;
    pd->at_ms = pd->late ? t->device_ms : t->wall_ms;
    pd->from_terminal = true;
    pd->term = *t;
}

void gate_on_presence(struct gate *g, int lane, int64_t received_us)
{
    struct lane_request req[LANE_MAX_REQUESTS];
    int n = lane_on_presence(&g->lanes[lane].sm, received_us / 1000, req);
    decide_all(g, lane, req, n, received_us);
    arm_timer(&g->lanes[lane]);
}

/* A lane blinks amber while any of its devices is offline. */
void gate_on_device_state(struct gate *g, int device, enum device_state state)
{
    g->dev_state[device] = state;
    gate_board_device(g->board, device, state);
    update_offline(g, g->cfg->devices[device].lane);
}

/* ---- life cycle ---------------------------------------------------------- */

static int open_backends(struct gate *g, const struct indicator_ops *override)
{
    for (int i = 0; i < g->cfg->nlanes; i++) {
        enum cfg_indicator kind = override ? CFG_IND_CONSOLE : g->cfg->lanes[i].indicator;
        const struct indicator_ops *ops = override ? override : indicator_backend(kind);
        if (!ops) {
            log_err("lane %s: no indicator backend", g->cfg->lanes[i].name);
            return -1;
        }
        if (!g->ops[kind] && !(g->handles[kind] = ops->open(g->cfg, g->loop)))
            return -1;
        g->ops[kind] = ops;
        g->lanes[i].ops = ops;
        g->lanes[i].handle = g->handles[kind];
    }
    return 0;
}

struct gate *gate_new(const struct config *cfg, struct ledger *l, struct loop *loop,
                      const struct indicator_ops *backend)
{
    struct gate *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    *g = (struct gate){.cfg = cfg, .ledger = l, .loop = loop};
    for (int i = 0; i < cfg->nlanes; i++) {
        g->lanes[i].g = g; /* before anything can fail: gate_free walks the lanes */
        g->lanes[i].index = i;
    }
    /* The gate's handle waits only briefly for another writer: the loop retries. */
    ledger_set_busy_timeout(l, LOCK_NAP_MS);
    if (ledger_gate_open(l, &g->sql) < 0 || open_backends(g, backend) < 0)
        goto fail;
    for (int i = 0; i < cfg->nlanes; i++) {
        struct gate_lane *gl = &g->lanes[i];
        lane_init(&gl->sm, cfg->lanes[i].identity, cfg->screening.pair_window_ms);
        refresh(gl); /* the lights start off: the lane is ready */
    }
    if (!(g->files_timer = loop_timer_add(loop, FILES_CHECK_MS, FILES_CHECK_MS, on_files_timer, g)))
        goto fail;
    term_health_init(&g->terms, loop_now_ms());
    if (term_health_watched(cfg) &&
        !(g->term_timer = loop_timer_add(loop, TERM_CHECK_MS, TERM_CHECK_MS, on_term_timer, g)))
        goto fail;
    enum ledger_status st = sync_rows(g);
    if (st == LEDGER_BUSY)
        enter_locked(g); /* starts anyway: amber lanes until the lock ends */
    else if (st != LEDGER_OK)
        goto fail;
    return g;
fail:
    gate_free(g);
    return NULL;
}

static void safe_state(struct gate_lane *gl)
{
    if (!gl->ops)
        return;
    if (gl->timer)
        loop_timer_cancel(gl->g->loop, gl->timer);
    struct display amber = {.lamp = LAMP_AMBER};
    send_change(gl, &amber, OUT_COUNT, "stopped");
}

void gate_stop(struct gate *g)
{
    if (!g || g->stopping)
        return;
    if (g->sql)
        gate_flush(g);
    gate_fail_pending(g); /* still waiting for a busy ledger: not recorded, amber */
    g->stopping = true;
    for (int i = 0; i < g->cfg->nlanes; i++)
        safe_state(&g->lanes[i]);
}

void gate_free(struct gate *g)
{
    if (!g)
        return;
    if (g->sql)
        gate_flush(g); /* decisions drained after gate_stop: committed, not shown */
    gate_stop(g);
    gate_fail_pending(g);
    if (g->ledger_timer)
        loop_timer_cancel(g->loop, g->ledger_timer);
    if (g->files_timer)
        loop_timer_cancel(g->loop, g->files_timer);
    if (g->term_timer)
        loop_timer_cancel(g->loop, g->term_timer);
    for (int k = 0; k < 3; k++)
        if (g->ops[k])
            g->ops[k]->close(g->handles[k]);
    ledger_gate_close(g->sql);
    free(g);
}

void gate_set_board(struct gate *g, struct gate_board *board)
{
    g->board = board;
}

bool gate_lane_offline(const struct gate *g, int lane)
{
    return g->lanes[lane].sm.offline;
}

void gate_reconfigure(struct gate *g, const struct config *cfg)
{
    g->cfg = cfg;
    for (int i = 0; i < g->cfg->nlanes; i++)
        g->lanes[i].sm.pair_window_ms = g->cfg->screening.pair_window_ms;
}

void gate_log_counters(const struct gate *g)
{
    char text[256];
    size_t n = 0;
    for (int o = 0; o < OUT_COUNT && n < sizeof text; o++)
        n += (size_t)snprintf(text + n, sizeof text - n, " %s %llu", outcome_name(o),
                              (unsigned long long)g->decisions[o]);
    log_info("decisions:%s; not recorded %llu", text, (unsigned long long)g->ledger_errors);
}

const char *gate_alarm_text(const struct gate *g)
{
    static const char *const text[] = {
        NULL, "lanes amber: waiting for the ledger, locked by another program",
        "lanes amber: the ledger file was deleted or replaced; restart needed"};
    return text[g->alarm];
}
