/* Terminals' alertStreams (terminal_stream.h). One thread drives every stream
 * terminal's transfer through a curl multi handle; curl_multi_wakeup ends its
 * wait at stop. Everything below runs on that thread but start and stop. */
#include "terminal_stream.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "clock.h"
#include "events.h"
#include "isapi.h"
#include "isapi_stream.h"
#include "log.h"
#include "loop.h"
#include "secret_file.h"

#define PATH "/ISAPI/Event/notification/alertStream"
#define PASSWORD_MAX 256
#define LOG_EVERY_MS 60000
/* One XML or JSON alert is a few KiB; pictures are skipped, never kept. */
#define MAX_PART (64 * 1024)
#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 60000
#define CONNECT_TIMEOUT_S 10L
/* A stream silent this long is taken for dead: terminals send a heartbeat part
 * (eventType videoloss, or heartBeat) every few seconds to a minute. */
#define IDLE_TIMEOUT_S 120L
/* A 401's or an error page's body, read this far and no further. */
#define MAX_OTHER_BODY 4096

struct stream {
    struct term_streams *ts;
    int terminal;
    CURL *easy;             /* NULL between connections */
    char url[160];
    char *password;
    struct isapi_stream *parser; /* of the current connection, made at its first bytes */
    bool refused;           /* this connection is not a 200 multipart: read no further */
    size_t other_bytes;
    bool up;                /* a stream was being read: its end is logged */
    int64_t up_ms;          /* monotonic: when it began */
    struct backoff backoff;
    int64_t retry_at_ms;    /* monotonic; 0: connect now */
    struct log_limit fail_log, part_log, end_log;
};

struct term_streams {
    const struct config *cfg;
    struct evq *q;
    CURLM *multi;
    pthread_t thread;
    bool started;
    atomic_bool stopping;
    uint32_t rng;
    int n;
    struct stream s[CFG_MAX_TERMINALS];
};

/* ---- parts to events ---------------------------------------------------------------- */

static void on_part(void *arg, enum isapi_part kind, const char *data, size_t len)
{
    struct stream *st = arg;
    const struct cfg_terminal *term = &st->ts->cfg->terminal[st->terminal];
    struct event ev = {.kind = EV_TERMINAL, .mono_ms = clock_mono_ms(),
                       .posted_us = loop_now_us()};
    char why[160];
    enum isapi_result r = kind == ISAPI_PART_JSON
                              ? isapi_parse_json(data, len, &ev.terminal, why, sizeof why)
                              : isapi_parse_xml(data, len, &ev.terminal, why, sizeof why);
    if (r == ISAPI_BAD)
        log_limited(&st->part_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                    "terminals: [terminal %s]'s alertStream sent an event we cannot read: %s",
                    term->name, why);
    ev.terminal.terminal = st->terminal;
    ev.terminal.lane = term->lane;
    if (r != ISAPI_EVENT) {
        /* A heartbeat (videoloss, heartBeat) or a door event: nothing to decide, but the
         * terminal is there (README "Online and offline"). */
        if (r == ISAPI_IGNORED) {
            struct event alive = {.kind = EV_TERMINAL_ALIVE, .mono_ms = ev.mono_ms,
                                  .posted_us = ev.posted_us};
            alive.terminal.terminal = st->terminal;
            alive.terminal.lane = term->lane;
            (void)evq_post(st->ts->q, &alive); /* -1 only when stopping */
        }
        return;
    }
    ev.terminal.wall_ms = clock_wall_ms();
    if (evq_post(st->ts->q, &ev) < 0)
        log_warn("terminals: [terminal %s]: stopping; an event from its alertStream is "
                 "not recorded", term->name);
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct stream *st = arg;
    size_t len = size * n;
    long code = 0;
    char *ctype = NULL, why[160];
    curl_easy_getinfo(st->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200 || st->refused) { /* an error page: read a little, for the status */
        st->other_bytes += len;
        return st->other_bytes <= MAX_OTHER_BODY ? len : 0;
    }
    if (!st->parser) {
        curl_easy_getinfo(st->easy, CURLINFO_CONTENT_TYPE, &ctype);
        if (!(st->parser = isapi_stream_new(ctype, MAX_PART, why, sizeof why))) {
            log_limited(&st->fail_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                        "terminals: [terminal %s] at %s: %s; not an alertStream",
                        st->ts->cfg->terminal[st->terminal].name, st->url, why);
            st->refused = true;
            return 0;
        }
        if (!st->up)
            log_notice("terminals: [terminal %s]: alertStream open at %s",
                       st->ts->cfg->terminal[st->terminal].name, st->url);
        st->up = true;
        st->up_ms = clock_mono_ms();
        backoff_reset(&st->backoff);
    }
    if (isapi_stream_feed(st->parser, p, len, on_part, st, why, sizeof why) > 0)
        log_limited(&st->part_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                    "terminals: [terminal %s]'s alertStream: %s",
                    st->ts->cfg->terminal[st->terminal].name, why);
    return len;
}

/* ---- connections ------------------------------------------------------------------- */

static int open_stream(struct stream *st)
{
    const struct cfg_terminal *t = &st->ts->cfg->terminal[st->terminal];
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    st->easy = c;
    st->refused = false;
    st->other_bytes = 0;
    curl_easy_setopt(c, CURLOPT_URL, st->url);
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_DIGEST);
    curl_easy_setopt(c, CURLOPT_USERNAME, t->user);
    curl_easy_setopt(c, CURLOPT_PASSWORD, st->password);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, IDLE_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, st);
    curl_easy_setopt(c, CURLOPT_PRIVATE, st);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    if (curl_multi_add_handle(st->ts->multi, c) != CURLM_OK) {
        curl_easy_cleanup(c);
        st->easy = NULL;
        return -1;
    }
    return 0;
}

/* The transfer ended (it always does, sooner or later): say why, try again later. */
static void closed(struct stream *st, CURLcode rc)
{
    const struct cfg_terminal *t = &st->ts->cfg->terminal[st->terminal];
    long code = 0;
    curl_easy_getinfo(st->easy, CURLINFO_RESPONSE_CODE, &code);
    int64_t delay = backoff_next(&st->backoff, &st->ts->rng);
    /* A stream that lasted is news when it ends; one that keeps ending at once
     * (accepted, then closed) is logged at a falling rate. */
    if (st->up && clock_mono_ms() - st->up_ms >= LOG_EVERY_MS)
        log_limit_reset(&st->end_log);
    if (st->up)
        log_limited(&st->end_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                    "terminals: [terminal %s]: alertStream ended (%s); opening it again in "
                    "%.1f s", t->name,
                    rc == CURLE_OK ? "closed by the terminal" : curl_easy_strerror(rc),
                    (double)delay / 1000.0);
    else if (code == 401)
        log_limited(&st->fail_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                    "terminals: [terminal %s] refused user %s and the password in %s (401); "
                    "trying again in %.1f s", t->name, t->user, t->password_file,
                    (double)delay / 1000.0);
    else if (rc == CURLE_OK || (code != 0 && !st->refused))
        log_limited(&st->fail_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                    "terminals: [terminal %s] answered %ld to GET %s, no stream; trying again "
                    "in %.1f s", t->name, code, st->url, (double)delay / 1000.0);
    else if (!st->refused)
        log_limited(&st->fail_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                    "terminals: [terminal %s]: cannot open its alertStream at %s: %s; trying "
                    "again in %.1f s", t->name, st->url, curl_easy_strerror(rc),
                    (double)delay / 1000.0);
    st->up = false;
    curl_multi_remove_handle(st->ts->multi, st->easy);
    curl_easy_cleanup(st->easy);
    st->easy = NULL;
    isapi_stream_free(st->parser);
    st->parser = NULL;
    st->retry_at_ms = clock_mono_ms() + delay;
}

/* Opens what is due; returns the ms until the next one is (at most 1000). */
static long open_due(struct term_streams *ts)
{
    int64_t now = clock_mono_ms(), wait = 1000;
    for (int i = 0; i < ts->n; i++) {
        struct stream *st = &ts->s[i];
        if (st->easy)
            continue;
        if (st->retry_at_ms <= now && open_stream(st) < 0)
            st->retry_at_ms = now + RETRY_MIN_MS;
        if (!st->easy && st->retry_at_ms - now < wait)
            wait = st->retry_at_ms - now;
    }
    return (long)(wait > 0 ? wait : 0);
}

static void *run(void *arg)
{
    struct term_streams *ts = arg;
    while (!atomic_load(&ts->stopping)) {
        long wait = open_due(ts);
        int running;
        curl_multi_perform(ts->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(ts->multi, &left)) != NULL) {
            struct stream *st = NULL;
            if (m->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&st);
            closed(st, m->data.result);
        }
        curl_multi_poll(ts->multi, NULL, 0, (int)wait, NULL);
    }
    return NULL;
}

/* ---- start and stop ---------------------------------------------------------------- */

static int add_stream(struct term_streams *ts, int i, FILE *errs)
{
    const struct cfg_terminal *t = &ts->cfg->terminal[i];
    struct stream *st = &ts->s[ts->n];
    bool v6 = strchr(t->address, ':') != NULL;
    if (secret_file_read_line(t->password_file, "terminal password file", PASSWORD_MAX,
                              &st->password, errs) < 0)
        return -1;
    st->ts = ts;
    st->terminal = i;
    st->backoff = (struct backoff){.min_ms = RETRY_MIN_MS, .max_ms = RETRY_MAX_MS};
    snprintf(st->url, sizeof st->url, "http://%s%s%s:%d%s", v6 ? "[" : "", t->address,
             v6 ? "]" : "", t->isapi_port, PATH);
    ts->n++;
    return 0;
}

void term_streams_stop(struct term_streams *ts)
{
    if (!ts)
        return;
    if (ts->started) {
        atomic_store(&ts->stopping, true);
        curl_multi_wakeup(ts->multi);
        pthread_join(ts->thread, NULL);
    }
    for (int i = 0; i < ts->n; i++) {
        struct stream *st = &ts->s[i];
        if (st->easy) {
            curl_multi_remove_handle(ts->multi, st->easy);
            curl_easy_cleanup(st->easy);
        }
        isapi_stream_free(st->parser);
        free(st->password);
    }
    if (ts->multi)
        curl_multi_cleanup(ts->multi);
    free(ts);
}

struct term_streams *term_streams_start(const struct config *cfg, struct evq *q, int *failed)
{
    *failed = 0;
    int wanted = 0;
    for (int i = 0; i < cfg->nterminals; i++)
        wanted += cfg->terminal[i].mode == CFG_TERM_STREAM;
    if (!wanted)
        return NULL;
    struct term_streams *ts = calloc(1, sizeof *ts);
    struct log_sink sink;
    FILE *errs = log_sink_open(&sink); /* a password file's problems, into the log */
    int rc = ts && errs && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
    if (ts) {
        ts->cfg = cfg;
        ts->q = q;
        ts->rng = (uint32_t)clock_mono_ms() | 1u;
    }
    for (int i = 0; i < cfg->nterminals && rc == 0; i++)
        if (cfg->terminal[i].mode == CFG_TERM_STREAM)
            rc = add_stream(ts, i, errs);
    if (errs)
        log_sink_close_prefixed(&sink, "terminals: ");
    if (rc < 0 || !(ts->multi = curl_multi_init()) ||
        !(ts->started = pthread_create(&ts->thread, NULL, run, ts) == 0)) {
        log_err("terminals: the alertStream thread did not start");
        term_streams_stop(ts);
        *failed = 1;
        return NULL;
    }
    log_notice("terminals: reading the alertStream of %d terminal(s)", ts->n);
    return ts;
}
