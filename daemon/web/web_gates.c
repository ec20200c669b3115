/* The live gates for the web page (docs/web-api.md, "Gates"): a snapshot of every
 * lane and a server-sent event stream of it, both read from the gate board
 * (gate_board.h), which the main thread keeps up to date. Nothing here touches
 * the lanes. The snapshot also has the arrival slots (错峰上学): which groups are
 * due now and how many of each have come, read from the ledger (ledger_slots.h). */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "clock.h"
#include "ledger_slots.h"
#include "loop.h"
#include "web_guard.h"
#include "web_private.h"

/* A stream checks for a server stop, a vanished client and its session (logged
 * out, expired, the user disabled or changed, also from the CLI) at least this
 * often: it ends within a second of any of them. */
#define SLICE_MS 400
/* A comment line this often when nothing changes: proxies and the browser see
 * the connection alive, and a dead client is noticed when the write fails. */
#define KEEPALIVE_MS 15000
/* How long the browser waits before it reconnects after the stream ends. */
#define RETRY_MS 3000

/* ---- the lanes as JSON ------------------------------------------------------------- */

/* One lane; `full` adds who was screened and their temperature (not for the gate
 * role: gate staff see the lights, not health data). */
static json_t *lane_json(const struct board_lane *l, bool full)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:s, s:I, s:s, s:i, s:b}",
                          "name", l->name, "gate", l->gate, "lamp", l->lamp, "blink", l->blink,
                          "buzzer", l->buzzer, "relay", l->relay, "outcome", l->outcome,
                          "changed_ms", (json_int_t)l->changed_wall_ms, "device_state",
                          l->device_state, "per_minute", l->per_minute, "queue_warning",
                          l->queue_warning);
    if (!o)
        return NULL;
    /* Its terminal's clock, in whole seconds, when off by more than max_clock_skew. */
    json_t *skew = l->clock_skewed ? json_integer((json_int_t)(l->clock_skew_ms / 1000)) : json_null();
    json_object_set_new(o, "clock_skew_s", skew);
    if (!full)
        return o;
    json_object_set_new(o, "person", l->person[0] ? json_string(l->person) : json_null());
    json_object_set_new(o, "body_centi", l->has_body ? json_integer(l->body_centi) : json_null());
    return o;
}

/* {"lanes": [...], "version": N} as of now; *version gets the board's version (0
 * without a board). NULL when out of memory. */
static json_t *gates_json(struct gate_board *b, bool full, uint64_t *version)
{
    json_t *lanes = json_array();
    *version = 0;
    if (b && lanes) {
        /* On the heap: a full board is ~50 KiB, too much for a server thread's stack. */
        struct board_lane *v = calloc(CFG_MAX_LANES, sizeof *v);
        if (!v) {
            json_decref(lanes);
            return NULL;
        }
        int n = 0;
        *version = gate_board_read(b, clock_wall_ms(), v, CFG_MAX_LANES, &n);
        for (int i = 0; i < n; i++)
            json_array_append_new(lanes, lane_json(&v[i], full));
        free(v);
    }
    return json_pack("{s:o?, s:I}", "lanes", lanes, "version", (json_int_t)*version);
}

/* Names and temperatures of every class: the nurse and the administrators only.
 * A teacher sees their own class elsewhere; the gate role needs the lights only. */
static bool full_view(const struct web_request *rq)
{
    return rq->user && (rq->user->role == ROLE_NURSE || rq->user->role == ROLE_ADMIN);
}

/* ---- the arrival slots ------------------------------------------------------------- */

/* "upcoming", "due" (now within the slot) or "over". */
static const char *slot_state(const struct cfg_group *g, int minute)
{
    return minute < g->slot_start ? "upcoming" : minute < g->slot_end ? "due" : "over";
}

static int add_slots(struct web_request *rq, const struct civil *now, const struct cfg_group *g,
                     int n, bool is_class, json_t *list)
{
    for (int i = 0; i < n; i++) {
        struct slot_counts c;
        if (!g[i].has_slot)
            continue;
        if (ledger_slot_counts(rq->ledger, now->day, &rq->cfg->windows, &g[i], is_class, &c) < 0)
            return -1;
        char a[16], b[16];
        snprintf(a, sizeof a, "%02d:%02d", g[i].slot_start / 60, g[i].slot_start % 60);
        snprintf(b, sizeof b, "%02d:%02d", g[i].slot_end / 60, g[i].slot_end % 60);
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i}",
                                              "group", g[i].name, "kind",
                                              is_class ? "class" : "grade", "start", a, "end",
                                              b, "state", slot_state(&g[i], now->minute),
                                              "expected", c.expected, "arrived", c.arrived,
                                              "late", c.late));
    }
    return 0;
}

/* Today's slots, grades first, in the configuration's order; [] without slots. */
static json_t *slots_json(struct web_request *rq, struct web_response *rs)
{
    const struct cfg_windows *w = &rq->cfg->windows;
    struct civil now;
    json_t *list = json_array();
    if (!list || civil_from_ms(clock_wall_ms(), &now) < 0)
        goto fail;
    if (civil_slot_ends(w, (int[CIVIL_MAX_SLOT_ENDS]){0}) == 0)
        return list;
    if (!web_ledger(rq, rs))
        goto fail;
    if (add_slots(rq, &now, w->grades, w->ngrades, false, list) == 0 &&
        add_slots(rq, &now, w->classes, w->nclasses, true, list) == 0)
        return list;
fail:
    json_decref(list);
    return NULL;
}

static void get_gates(struct web_request *rq, struct web_response *rs)
{
    uint64_t version;
    json_t *j = gates_json(rq->board, full_view(rq), &version);
    json_t *slots = j ? slots_json(rq, rs) : NULL;
    if (!j || !slots) {
        json_decref(j);
        if (!rs->status)
            web_error(rs, 500, "the arrival slots could not be read");
        return;
    }
    json_object_set_new(j, "slots", slots);
    web_json(rs, 200, j);
}

/* ---- the event stream -------------------------------------------------------------- */

struct gates_stream {
    struct gate_board *board;   /* NULL: one event, then the stream ends */
    bool full;
    /* The request's copy for the session checks at every slice: its own ledger
     * connection (idle between checks, so it holds no lock), closed at the end. */
    struct web_request rq;
    int64_t user_id;            /* whose budget it counts in (web_guard.h) */
    int fd;                     /* the connection's socket, -1 if unknown */
    uint64_t seen;              /* the board version last sent */
    int64_t sent_ms;            /* monotonic time of the last write */
    char *out;                  /* what is still to be sent: out[off..len) */
    size_t len, off;
};

/* Replaces the pending output with `text` (stolen, malloc'd). */
static void stream_set(struct gates_stream *s, char *text)
{
    free(s->out);
    s->out = text;
    s->len = text ? strlen(text) : 0;
    s->off = 0;
    s->sent_ms = loop_now_ms();
}

/* The current lanes as one `lanes` event (JSON_COMPACT keeps it on one data
 * line); -1 when out of memory. */
static int stream_event(struct gates_stream *s)
{
    uint64_t version;
    json_t *j = gates_json(s->board, s->full, &version);
    char *data = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    char *text = NULL;
    if (data && asprintf(&text, "event: lanes\ndata: %s\n\n", data) < 0)
        text = NULL;
    free(data);
    if (!text)
        return -1;
    s->seen = version;
    stream_set(s, text);
    return 0;
}

/* Whether the client closed the connection, or the server shut the socket down
 * while stopping (libmicrohttpd shuts every connection's socket when it stops). */
static bool peer_gone(int fd)
{
    if (fd < 0)
        return false;
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

/* Logged out, expired or ended (the user disabled or changed, in the ledger): the
 * stream ends with the session, not with the page. Not activity: the idle timer
 * is not refreshed. A ledger that cannot be read now (503) keeps the stream. */
static bool session_alive(struct gates_stream *s)
{
    struct web_response rs = {0};
    struct web_user u;
    int rc = web_session_recheck(&s->rq, &rs, &u);
    free(rs.body);
    return rc == 0 || rs.status == 503;
}

/* Blocks (the server runs a thread per connection, so that is allowed) until
 * there is something to send: the lanes when the board changed, or a keepalive.
 * -1 ends the stream: the board closed (daemon stopping), the peer went away. */
static int stream_next(struct gates_stream *s)
{
    if (!s->board)
        return -1;
    for (;;) {
        uint64_t v = gate_board_wait(s->board, s->seen, SLICE_MS);
        if (v == 0 || peer_gone(s->fd) || !session_alive(s))
            return -1;
        if (v != s->seen)
            return stream_event(s);
        if (loop_now_ms() - s->sent_ms >= KEEPALIVE_MS) {
            stream_set(s, strdup(": keepalive\n\n"));
            return s->out ? 0 : -1;
        }
    }
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct gates_stream *s = cls;
    (void)pos; /* the response is not reused, so pos is just the sum sent so far */
    if (s->off == s->len && stream_next(s) < 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = s->len - s->off < max ? s->len - s->off : max;
    memcpy(buf, s->out + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct gates_stream *s = cls;
    if (s->rq.guard)
        web_guard_stream_give(s->rq.guard, s->user_id);
    ledger_close(s->rq.ledger);
    free(s->out);
    free(s);
}

static int connection_fd(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD) : NULL;
    return ci ? ci->connect_fd : -1;
}

/* The first event, with a retry hint in front, is ready before the response
 * starts, so the page shows the lanes at once. */
static struct gates_stream *stream_new(struct web_request *rq)
{
    struct gates_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->board = rq->board;
    s->full = full_view(rq);
    s->rq = (struct web_request){.method = rq->method, .path = rq->path, .conn = rq->conn,
                                 .body = "", .cfg = rq->cfg, .board = rq->board, .tls = rq->tls,
                                 .sessions = rq->sessions};
    s->fd = connection_fd(rq->conn);
    char *first = NULL;
    if (stream_event(s) < 0 || asprintf(&first, "retry: %d\n%s", RETRY_MS, s->out) < 0) {
        stream_free(s);
        return NULL;
    }
    stream_set(s, first);
    return s;
}

/* A place in the stream budget (issue 16: one user's streams must not take the
 * connection threads everyone needs): 0, or -1 with the refusal in rs. */
static int stream_budget(struct web_request *rq, struct web_response *rs)
{
    switch (web_guard_stream_take(rq->guard, rq->user->id)) {
    case 0:
        return 0;
    case 1:
        web_error(rs, 429, "%s has the most live-gate streams one user may have open "
                  "([web] streams_per_user); close the live view in another page or tab",
                  rq->user->name);
        break;
    default:
        web_error(rs, 503, "too many live-gate streams are open ([web] streams_max); "
                  "try again later");
        break;
    }
    web_header(rs, "Retry-After", "30");
    return -1;
}

static void get_stream(struct web_request *rq, struct web_response *rs)
{
    if (stream_budget(rq, rs) < 0)
        return;
    struct gates_stream *s = stream_new(rq);
    if (s) {
        s->rq.guard = rq->guard; /* from here stream_free gives the place back */
        s->user_id = rq->user->id;
    } else {
        web_guard_stream_give(rq->guard, rq->user->id);
    }
    struct MHD_Response *r =
        s ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s, stream_free)
          : NULL;
    if (!r) {
        if (s)
            stream_free(s);
        web_error(rs, 500, "out of memory");
        return;
    }
    /* Cache-Control: no-store comes with every API answer (web_server.c). */
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream; charset=utf-8");
    rs->status = 200;
    rs->stream = r;
}

const struct web_route web_gates_routes[] = {
    {"GET", "/api/v1/gates", ROLES_ALL, false, get_gates},
    {"GET", "/api/v1/gates/stream", ROLES_ALL, false, get_stream},
    {NULL, NULL, 0, false, NULL},
};
