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

/* A decision written in the open transaction, waiting for its commit. */
struct pending {
    int lane;
    struct lane_request req;
    enum outcome outcome;
    struct shown_context ctx;
};

/* Decisions per transaction at most: under a backlog a batch this size still
 * commits in a few ms (tests/bench: 128 keeps p99 near 10 ms at 20,000
 * decisions/s; 1024 made lights wait ~50 ms). */
#define MAX_PENDING 128

struct gate {
    const struct config *cfg;
    struct ledger *ledger;
    struct loop *loop;
    struct ledger_gate *sql;
    int64_t lane_ids[CFG_MAX_LANES], device_ids[CFG_MAX_DEVICES];
    enum device_state dev_state[CFG_MAX_DEVICES];
    struct gate_lane lanes[CFG_MAX_LANES];
    const struct indicator_ops *ops[3];
    void *handles[3];
    bool in_tx, batch_failed;
    bool stopping;              /* lanes show their safe state; decisions are not shown */
    int npending;
    struct pending pending[MAX_PENDING];
    uint64_t decisions[OUT_COUNT], ledger_errors;
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
    row->device_id = g->device_ids[r->device];
    row->raw_centi = r->raw_centi;
    row->offset_centi = r->offset_centi;
    row->body_centi = r->body_centi;
    row->has_ambient = r->has_ambient;
    row->ambient_centi = r->ambient_centi;
    row->status = r->status;
    row->quality = screening_quality(&g->cfg->screening, r);
}

static int begin_batch(struct gate *g)
{
    if (g->in_tx)
        return 0;
    if (ledger_gate_begin(g->sql) < 0)
        return -1;
    g->in_tx = true;
    return 0;
}

/* Looks the card up, applies the rules and writes the rows; the lights wait for
 * gate_flush. Any failure fails the whole batch (it is rolled back). */
static void decide(struct gate *g, int lane, const struct lane_request *req, int64_t from_us)
{
    if (g->npending == MAX_PENDING)
        gate_flush(g);
    struct pending *pd = &g->pending[g->npending++];
    *pd = (struct pending){.lane = lane, .req = *req, .ctx.from_us = from_us};
    struct gate_row row = {.at_ms = req->has_reading ? req->reading.wall_ms : clock_wall_ms()};
    struct civil now;
    struct gate_person p = {0};
    if (civil_from_ms(row.at_ms, &now) < 0 || begin_batch(g) < 0 ||
        (req->has_card && ledger_gate_lookup(g->sql, req->card, now.day, &p) < 0)) {
        g->batch_failed = true;
        return;
    }
    row.day = now.day;
    row.window = civil_window(&g->cfg->windows, now.minute);
    fill_row(g, lane, req, &p, &row);
    struct decision_input in = {.has_measurement = req->has_reading, .quality = row.quality,
                                .body_centi = row.body_centi, .has_identity = req->has_card,
                                .person = p.state};
    screening_decide(&g->cfg->screening, &in, &row.decision);
    pd->outcome = row.decision.outcome;
    person_text(req, &p, pd->ctx.person);
    snprintf(pd->ctx.external_id, sizeof pd->ctx.external_id, "%s", p.external_id);
    pd->ctx.has_body = req->has_reading;
    pd->ctx.body_centi = row.body_centi;
    if (ledger_gate_record(g->sql, &row) < 0)
        g->batch_failed = true;
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

int gate_flush(struct gate *g)
{
    if (!g->in_tx && g->npending == 0)
        return 0;
    bool ok = !g->batch_failed && g->in_tx && ledger_gate_commit(g->sql) == 0;
    if (!ok) {
        ledger_gate_rollback(g->sql);
        g->ledger_errors += (uint64_t)g->npending;
        log_err("ledger: %d decisions not recorded; their lanes show amber", g->npending);
    }
    int n = g->npending;
    g->in_tx = g->batch_failed = false;
    g->npending = 0;
    for (int i = 0; i < n; i++)
        show_pending(g, &g->pending[i], ok);
    return ok ? n : -1;
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
    return gl->sm.offline ? "offline" : "idle";
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
    int lane = g->cfg->devices[device].lane;
    bool offline = false;
    for (int i = 0; i < g->cfg->ndevices; i++)
        offline |= g->cfg->devices[i].lane == lane && g->dev_state[i] == DEV_OFFLINE;
    lane_set_offline(&g->lanes[lane].sm, offline, loop_now_ms());
    refresh(&g->lanes[lane]);
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
    if (ledger_gate_open(l, &g->sql) < 0 ||
        ledger_gate_sync(g->sql, cfg, g->lane_ids, g->device_ids) < 0 ||
        open_backends(g, backend) < 0)
        goto fail;
    for (int i = 0; i < cfg->nlanes; i++) {
        struct gate_lane *gl = &g->lanes[i];
        lane_init(&gl->sm, cfg->lanes[i].identity, cfg->screening.pair_window_ms);
        refresh(gl); /* the lights start off: the lane is ready */
    }
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
