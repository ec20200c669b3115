/* The bureau page's live notices (bpage_private.h): GET /api/v1/events, a stream of
 * server-sent events (text/event-stream) that says "notices" whenever a notice
 * arrives or is acknowledged, whichever collector instance or program did it. The
 * event carries no notice: the page reads them again through GET /api/v1/notices,
 * so the county scoping and the order (unacknowledged first) stay in one place,
 * and a stream that outlives its session tells nothing.
 *
 * One query, at most once a second for all streams together, reads the notices'
 * state (bstore_notices_state); the stream whose turn it is reads it, the others
 * wait on a condition variable for its answer. Each stream is a libmicrohttpd
 * response from a callback, run in its connection's own thread (a thread per
 * connection), so waiting there holds nobody else. A stream ends after
 * EVENTS_LIFE_S (the browser opens it again after `retry`, which checks the
 * session again) or when the page stops. At most EVENTS_PER_USER streams per user
 * and EVENTS_ALL in all: more is 429, so streams cannot take every connection. */
#include "bpage_private.h"

#include <stdlib.h>
#include <string.h>

#include "bstore_rollup.h"
#include "clock.h"
#include "log.h"

#define EVENTS_POLL_MS 1000
#define EVENTS_PING_MS 5000
#define EVENTS_LIFE_MS (300 * 1000)
#define STATE_LEN 64

struct bpage_events {
    pthread_mutex_t lock;
    pthread_cond_t changed;          /* a new state was read, or the page stops */
    int total;
    struct {
        long long user;
        int n;
    } users[EVENTS_ALL];
    char state[STATE_LEN];           /* the notices' state last read ("" : never) */
    int64_t read_ms;                 /* when (monotonic) */
    bool reading, stopping;
};

struct stream {
    struct bpage *p;
    long long user;
    char seen[STATE_LEN];            /* the state this stream told last */
    int64_t started_ms, sent_ms;
    char out[160];
    size_t len, off;                 /* out[off..len) still to send */
};

struct bpage_events *bpage_events_new(void)
{
    struct bpage_events *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    pthread_mutex_init(&e->lock, NULL);
    clock_cond_init(&e->changed);
    return e;
}

void bpage_events_stop(struct bpage_events *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    e->stopping = true;
    pthread_cond_broadcast(&e->changed);
    pthread_mutex_unlock(&e->lock);
}

void bpage_events_free(struct bpage_events *e)
{
    if (!e)
        return;
    pthread_cond_destroy(&e->changed);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

/* ---- the counts ------------------------------------------------------------------------ */

/* One more stream for user, under e->lock: false when over a bound. */
static bool take_slot(struct bpage_events *e, long long user)
{
    int free_at = -1;
    if (e->total >= EVENTS_ALL)
        return false;
    for (int i = 0; i < EVENTS_ALL; i++) {
        if (e->users[i].n > 0 && e->users[i].user == user) {
            if (e->users[i].n >= EVENTS_PER_USER)
                return false;
            e->users[i].n++;
            e->total++;
            return true;
        }
        if (e->users[i].n == 0 && free_at < 0)
            free_at = i;
    }
    e->users[free_at].user = user; /* total < EVENTS_ALL: a free entry is there */
    e->users[free_at].n = 1;
    e->total++;
    return true;
}

static void give_slot(struct bpage_events *e, long long user)
{
    pthread_mutex_lock(&e->lock);
    for (int i = 0; i < EVENTS_ALL; i++)
        if (e->users[i].n > 0 && e->users[i].user == user) {
            e->users[i].n--;
            e->total--;
            break;
        }
    pthread_mutex_unlock(&e->lock);
}

/* ---- the notices' state ----------------------------------------------------------------- */

/* The state, read from the database when the last reading is older than
 * EVENTS_POLL_MS and no other stream is reading it; else waits (up to that) for
 * the reader. Called and returns with e->lock held. */
static void fresh_state(struct bpage *p, struct bpage_events *e)
{
    int64_t now = clock_mono_ms();
    if (e->reading || now - e->read_ms < EVENTS_POLL_MS) {
        struct timespec until = clock_mono_deadline(EVENTS_POLL_MS);
        pthread_cond_timedwait(&e->changed, &e->lock, &until);
        return;
    }
    e->reading = true;
    pthread_mutex_unlock(&e->lock);
    char state[STATE_LEN] = "";
    struct bstore *s = bstore_pool_get(p->pool, EVENTS_POLL_MS);
    enum bstore_status st = s ? bstore_notices_state(s, state, sizeof state) : BSTORE_UNAVAILABLE;
    if (st == BSTORE_UNAVAILABLE && s && bstore_ensure(s) == 0)
        st = bstore_notices_state(s, state, sizeof state);
    if (s)
        bstore_pool_put(p->pool, s);
    pthread_mutex_lock(&e->lock);
    e->reading = false;
    e->read_ms = clock_mono_ms();
    if (st == BSTORE_OK)
        snprintf(e->state, sizeof e->state, "%s", state); /* else: the last one known */
    pthread_cond_broadcast(&e->changed);
}

/* ---- a stream ---------------------------------------------------------------------------- */

/* What to send next into st->out: an event, a ping, or nothing yet (0); -1 to end. */
static int next_out(struct stream *st)
{
    struct bpage_events *e = st->p->events;
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(&e->lock);
    bool end = e->stopping || now - st->started_ms >= EVENTS_LIFE_MS;
    if (!end)
        fresh_state(st->p, e);
    char state[STATE_LEN];
    snprintf(state, sizeof state, "%s", e->state);
    end = end || e->stopping;
    pthread_mutex_unlock(&e->lock);
    if (end)
        return -1;
    int n = 0;
    if (state[0] && strcmp(state, st->seen) != 0) {
        snprintf(st->seen, sizeof st->seen, "%s", state);
        n = snprintf(st->out, sizeof st->out, "event: notices\ndata: {\"state\":\"%s\"}\n\n",
                     state);
    } else if (now - st->sent_ms >= EVENTS_PING_MS)
        n = snprintf(st->out, sizeof st->out, ": ping\n\n");
    if (n > 0) {
        st->len = (size_t)n < sizeof st->out ? (size_t)n : sizeof st->out - 1;
        st->off = 0;
        st->sent_ms = now;
    }
    return 0;
}

/* libmicrohttpd's reader: blocks (in the connection's own thread) until there is
 * something to send. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *st = cls;
    while (st->off == st->len)
        if (next_out(st) < 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = st->len - st->off < max ? st->len - st->off : max;
    memcpy(buf, st->out + st->off, n);
    st->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream *st = cls;
    give_slot(st->p->events, st->user);
    free(st);
}

void bpage_events(struct preq *r, struct MHD_Connection *conn, struct panswer *a)
{
    (void)conn;
    struct bpage_events *e = r->p->events;
    struct stream *st = calloc(1, sizeof *st);
    if (!st) {
        bpage_error(a, 500, NULL, "out of memory");
        return;
    }
    pthread_mutex_lock(&e->lock);
    bool ok = !e->stopping && take_slot(e, r->user.id);
    /* The state the stream starts from is one read before it opens: one read
     * earlier can only cause an event too many, never one too few. */
    for (int i = 0; ok && !e->state[0] && !e->stopping && i < 3; i++)
        fresh_state(r->p, e);
    snprintf(st->seen, sizeof st->seen, "%s", e->state);
    pthread_mutex_unlock(&e->lock);
    if (!ok) {
        free(st);
        bpage_error(a, 429, NULL, "too many live connections (at most %d for a user, %d in all): "
                                  "close another tab", EVENTS_PER_USER, EVENTS_ALL);
        a->retry_after = 30;
        return;
    }
    st->p = r->p;
    st->user = r->user.id;
    st->started_ms = st->sent_ms = clock_mono_ms();
    /* the first bytes at once, so that the browser knows the stream is open */
    st->len = (size_t)snprintf(st->out, sizeof st->out, "retry: 3000\n: open\n\n");
    a->stream = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, stream_read, st,
                                                  stream_free);
    if (!a->stream) {
        stream_free(st);
        bpage_error(a, 500, NULL, "out of memory");
        return;
    }
    a->status = 200;
    a->content_type = "text/event-stream; charset=utf-8";
    log_debug("page: %s listens to notices (%s)", r->user.name, r->addr);
}
