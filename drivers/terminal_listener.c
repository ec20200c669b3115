/* The terminals' listener (terminal_listener.h). All callbacks run on the one
 * thread of its MHD daemon (MHD_USE_INTERNAL_POLLING_THREAD without a thread per
 * connection), so its counters and rate-limited logs need no lock. */
#include "terminal_listener.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "adms.h"
#include "civil.h"
#include "clock.h"
#include "events.h"
#include "isapi.h"
#include "log.h"
#include "loop.h"
#include "secret_file.h"
#include "textnum.h"

#define REALM "gatescreen terminals"
#define LOG_EVERY_MS 60000
#define PASSWORD_MAX 256
/* Connections from addresses that are no terminal's, at once: enough to answer a
 * mistaken sender 403, too few for strangers to take the terminals' connections
 * (each may hold one until request_timeout while it dribbles its headers). */
#define STRANGER_CONNECTIONS 2

struct term_listener {
    const struct config *cfg;
    struct evq *q;
    struct MHD_Daemon *mhd;
    char *passwords[CFG_MAX_TERMINALS]; /* NULL: push without credentials */
    unsigned char nonce_seed[32];
    int strangers;              /* open connections from non-terminal addresses */
    struct log_limit stranger_log, bad_log, big_log, auth_log, basic_log, crowd_log, backlog_log;
};

/* One request: its terminal, its deadline and the body so far. */
struct req {
    int terminal;
    int64_t deadline_ms;
    bool too_big;
    size_t declared;  /* Content-Length, 0 when not sent (chunked) */
    bool adms_cdata;  /* an ADMS upload (/iclock/cdata), not a command's result */
    char *body;
    size_t len, cap;
};

union addr {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
};

/* The configured terminal at this peer address, -1 for anyone else. An IPv4
 * terminal reaching an IPv6 listener arrives as ::ffff:a.b.c.d. */
static int terminal_of(const struct term_listener *tl, const struct sockaddr *sa)
{
    unsigned char peer[16], want[16];
    int fam = sa->sa_family;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
    if (fam == AF_INET) {
        memcpy(peer, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (fam == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
        memcpy(peer, s6->sin6_addr.s6_addr + 12, 4);
        fam = AF_INET;
    } else if (fam == AF_INET6) {
        memcpy(peer, &s6->sin6_addr, 16);
    } else {
        return -1;
    }
    for (int i = 0; i < tl->cfg->nterminals; i++)
        if (inet_pton(fam, tl->cfg->terminal[i].address, want) == 1 &&
            memcmp(want, peer, fam == AF_INET ? 4 : 16) == 0)
            return i;
    return -1;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static const char *peer_text(struct MHD_Connection *c, char *buf, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    const void *a = !sa ? NULL
                    : sa->sa_family == AF_INET
                        ? (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr
                        : (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (!a || !inet_ntop(sa->sa_family, a, buf, (socklen_t)n))
        snprintf(buf, n, "?");
    return buf;
}

/* 401 with a Digest challenge (MD5, as the terminals do it). */
static enum MHD_Result auth_challenge(struct MHD_Connection *c)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_auth_fail_response2(c, REALM, "gatescreen", r, MHD_NO,
                                                        MHD_DIGEST_ALG_MD5);
    MHD_destroy_response(r);
    return ret;
}

/* Digest (MD5) only. Basic would carry the password - the terminal's own login, which
 * `gatescreen terminal setup` uses too - in clear over this plain-HTTP listener: it is
 * refused even when right (README "Security"), told apart in the log so that the
 * administrator knows what to change on the terminal. */
static enum MHD_Result check_auth(struct term_listener *tl, struct MHD_Connection *c, int t,
                                  bool *ok)
{
    const struct cfg_terminal *term = &tl->cfg->terminal[t];
    const char *pw = tl->passwords[t];
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    *ok = pw == NULL;
    if (*ok)
        return MHD_YES;
    if (h && strncasecmp(h, "Digest ", 7) == 0)
        *ok = MHD_digest_auth_check2(c, REALM, term->user, pw, 300, MHD_DIGEST_ALG_MD5) ==
              MHD_YES;
    else if (h && strncasecmp(h, "Basic ", 6) == 0) {
        log_limited(&tl->basic_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                    "terminals: [terminal %s] sent Basic credentials (its password in clear); "
                    "only Digest is taken: set its httpAuthenticationMethod to MD5digest "
                    "(gatescreen terminal setup does); answered 401", term->name);
        return auth_challenge(c);
    }
    if (*ok)
        return MHD_YES;
    log_limited(&tl->auth_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                "terminals: [terminal %s] pushed without valid credentials; answered 401",
                term->name);
    return auth_challenge(c);
}

/* Queues what terminal t said (`te`: a person's event), or only that it is there
 * (EV_TERMINAL_ALIVE, te NULL: README "Online and offline"); -1 when stopping. */
static int post(struct term_listener *tl, enum event_kind kind, int t,
                const struct terminal_event *te)
{
    struct event ev = {.kind = kind, .mono_ms = clock_mono_ms(), .posted_us = loop_now_us()};
    if (te)
        ev.terminal = *te;
    ev.terminal.terminal = t;
    ev.terminal.lane = tl->cfg->terminal[t].lane;
    ev.terminal.wall_ms = clock_wall_ms();
    return evq_post(tl->q, &ev);
}

static void post_alive(struct term_listener *tl, int t)
{
    post(tl, EV_TERMINAL_ALIVE, t, NULL); /* -1 only when stopping: nobody listens then */
}

static enum MHD_Result take_body(struct term_listener *tl, struct MHD_Connection *c, int t,
                                 void **con_cls);

/* ---- ZKTeco ADMS (README "ZKTeco ADMS") ------------------------------------------- */

/* A path we do not serve: said in the log, since a terminal with another firmware
 * (ZKTeco's access-control "Security PUSH", which starts at /iclock/registry) would
 * otherwise just never show up. */
static enum MHD_Result adms_unknown(struct term_listener *tl, struct MHD_Connection *c, int t,
                                    const char *method, const char *url)
{
    char shown[81];
    snprintf(shown, sizeof shown, "%s", url);
    adms_printable(shown);
    log_limited(&tl->bad_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                "terminals: [terminal %s] asked %s %s, not an ADMS request we serve (another "
                "firmware's protocol?); answered 404", tl->cfg->terminal[t].name, method, shown);
    return reply(c, MHD_HTTP_NOT_FOUND, "not an ADMS request\n");
}

/* The handshake (GET /iclock/cdata) gets the options block, a heartbeat (GET
 * /iclock/getrequest) "OK" (no commands for it, ever); uploads and command results
 * are POSTs with bodies. Each request names the terminal's SN, which must be the
 * configured serial of the terminal at that address. */
static enum MHD_Result adms_admit(struct term_listener *tl, struct MHD_Connection *c, int t,
                                  const char *url, const char *method, void **con_cls)
{
    const struct cfg_terminal *term = &tl->cfg->terminal[t];
    const char *sn = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "SN");
    bool cdata = strcmp(url, "/iclock/cdata") == 0;
    if (!sn || strcmp(sn, term->serial) != 0) {
        char shown[65]; /* what it sent, made printable for the log */
        snprintf(shown, sizeof shown, "%s", sn ? sn : "(none)");
        adms_printable(shown);
        log_limited(&tl->auth_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                    "terminals: [terminal %s] sent SN %s, not its serial %s; answered 403",
                    term->name, shown, term->serial);
        return reply(c, MHD_HTTP_FORBIDDEN, "not this terminal's SN\n");
    }
    if (strcmp(method, "GET") == 0) {
        char options[512];
        if (cdata && adms_options(term->serial, options, sizeof options) == 0) {
            post_alive(tl, t);
            return reply(c, MHD_HTTP_OK, options);
        }
        if (strcmp(url, "/iclock/getrequest") != 0 && strcmp(url, "/iclock/ping") != 0)
            return adms_unknown(tl, c, t, method, url);
        post_alive(tl, t);
        return reply(c, MHD_HTTP_OK, "OK\n");
    }
    if (strcmp(method, "POST") != 0 || (!cdata && strcmp(url, "/iclock/devicecmd") != 0))
        return adms_unknown(tl, c, t, method, url);
    enum MHD_Result ret = take_body(tl, c, t, con_cls);
    if (*con_cls)
        ((struct req *)*con_cls)->adms_cdata = cdata;
    return ret;
}

/* An ATTLOG upload: each readable line is a person's event (a line we cannot read
 * is logged and skipped: sending it again would not make it readable); the answer
 * counts the lines taken. Other tables and command results are acknowledged. */
static enum MHD_Result adms_finish(struct term_listener *tl, struct MHD_Connection *c,
                                   struct req *r)
{
    const struct cfg_terminal *term = &tl->cfg->terminal[r->terminal];
    const char *table = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "table");
    if (r->too_big)
        return reply(c, MHD_HTTP_CONTENT_TOO_LARGE, "body over max_body\n");
    if (!r->adms_cdata || !table || strcmp(table, "ATTLOG") != 0) {
        post_alive(tl, r->terminal);
        return reply(c, MHD_HTTP_OK, "OK\n");
    }
    const struct adms_columns cols = {term->temperature_column, term->mask_column,
                                      term->temperature_scale, term->temperature_unit == 1};
    const char *body = r->body ? r->body : "", *line;
    size_t pos = 0, n, lines = 0, probe = 0;
    while (adms_next_line(body, r->len, &probe, &line, &n))
        lines++;
    int taken = 0, earlier = 0;
    char today[CIVIL_DAY_LEN], day[CIVIL_DAY_LEN], oldest[40] = "";
    if (civil_day_of(clock_wall_ms(), today) < 0)
        today[0] = '\0';
    for (int k = 1; adms_next_line(body, r->len, &pos, &line, &n); k++) {
        struct terminal_event te;
        char why[160];
        if (adms_parse_line(line, n, &cols, &te, why, sizeof why) < 0) {
            log_limited(&tl->bad_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                        "terminals: [terminal %s] ATTLOG line %d: %s; line skipped",
                        term->name, k, why);
            continue;
        }
        te.backlog = lines > 1;
        /* A backlog's lines of an earlier day are no screening of today's and were
         * never the gate's to decide (README "Late lines"). */
        if (te.backlog && civil_day_of(te.device_ms, day) == 0 && strcmp(day, today) < 0) {
            if (earlier++ == 0 || strcmp(te.device_time, oldest) < 0)
                snprintf(oldest, sizeof oldest, "%s", te.device_time);
            continue;
        }
        if (post(tl, EV_TERMINAL, r->terminal, &te) < 0)
            return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "stopping\n");
        taken++;
    }
    if (earlier > 0)
        log_limited(&tl->backlog_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_NOTICE,
                    "terminals: [terminal %s] uploaded %d line(s) of an earlier day (the oldest "
                    "%s): its log of a time it did not reach us; not decided or recorded",
                    term->name, earlier, oldest);
    if (taken == 0)
        post_alive(tl, r->terminal);
    taken += earlier; /* taken all the same: sending them again changes nothing */
    char answer[32];
    snprintf(answer, sizeof answer, "OK: %d\n", taken);
    return reply(c, MHD_HTTP_OK, answer);
}

/* ---- requests ------------------------------------------------------------------- */

/* The first call: who it is, what it asks, how big it says it is. */
static enum MHD_Result admit(struct term_listener *tl, struct MHD_Connection *c,
                             const char *url, const char *method, void **con_cls)
{
    char who[INET6_ADDRSTRLEN];
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    int t = ci && ci->client_addr ? terminal_of(tl, ci->client_addr) : -1;
    if (t < 0) {
        log_limited(&tl->stranger_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                    "terminals: refused a request from %s, not a configured terminal's address",
                    peer_text(c, who, sizeof who));
        return reply(c, MHD_HTTP_FORBIDDEN, "not a configured terminal\n");
    }
    if (tl->cfg->terminal[t].kind == CFG_TERM_ZKTECO_ADMS)
        return adms_admit(tl, c, t, url, method, con_cls);
    if (strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "terminals POST their events here\n");
    return take_body(tl, c, t, con_cls);
}

/* A request with a body: its size and credentials checked, its buffer made. */
static enum MHD_Result take_body(struct term_listener *tl, struct MHD_Connection *c, int t,
                                 void **con_cls)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    long n = 0; /* MHD refused a malformed Content-Length already; too big is ours */
    if (cl && tn_long(cl, 0, tl->cfg->terminals.max_body, &n) < 0) {
        log_limited(&tl->big_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                    "terminals: [terminal %s] sent a body of %s bytes, over max_body %d; "
                    "answered 413", tl->cfg->terminal[t].name, cl, tl->cfg->terminals.max_body);
        return reply(c, MHD_HTTP_CONTENT_TOO_LARGE, "body over max_body\n");
    }
    bool ok;
    enum MHD_Result auth = check_auth(tl, c, t, &ok);
    if (!ok)
        return auth; /* the 401 is queued (MHD_YES), or it could not be (MHD_NO: closed) */
    struct req *r = calloc(1, sizeof *r);
    if (!r)
        return MHD_NO;
    r->terminal = t;
    r->declared = cl ? (size_t)n : 0;
    r->deadline_ms = clock_mono_ms() + tl->cfg->terminals.request_timeout_ms;
    *con_cls = r;
    return MHD_YES;
}

/* Room for `need` bytes: the declared length at once, else doubling from 64 KiB,
 * never past max_body (so 16 connections hold 16 x max_body at the very most). */
static int reserve(struct req *r, size_t need, size_t max)
{
    if (need <= r->cap)
        return 0;
    size_t cap = r->cap ? r->cap : r->declared ? r->declared : 65536;
    while (cap < need)
        cap *= 2;
    cap = cap < max ? cap : max;
    char *b = realloc(r->body, cap);
    if (!b)
        return -1;
    r->body = b;
    r->cap = cap;
    return 0;
}

static void take(struct term_listener *tl, struct req *r, const char *data, size_t n)
{
    size_t max = (size_t)tl->cfg->terminals.max_body;
    if (r->too_big || n > max - r->len || reserve(r, r->len + n, max) < 0) {
        r->too_big = true; /* a chunked body: read to its end, kept nowhere */
        return;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
}

/* The whole body is in: parse it and queue the person's event. */
static enum MHD_Result finish(struct term_listener *tl, struct MHD_Connection *c, struct req *r)
{
    const struct cfg_terminal *term = &tl->cfg->terminal[r->terminal];
    if (r->too_big)
        return reply(c, MHD_HTTP_CONTENT_TOO_LARGE, "body over max_body\n");
    const char *ctype =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    struct terminal_event te;
    char why[160];
    enum isapi_result res = isapi_parse(ctype, r->body ? r->body : "", r->len, &te, why,
                                        sizeof why);
    if (res == ISAPI_BAD) {
        log_limited(&tl->bad_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                    "terminals: [terminal %s] sent an event we cannot read: %s; answered 400",
                    term->name, why);
        return reply(c, MHD_HTTP_BAD_REQUEST, "unreadable event\n");
    }
    if (res == ISAPI_IGNORED) { /* a heartbeat, a door: it is alive */
        post_alive(tl, r->terminal);
        return reply(c, MHD_HTTP_OK, "");
    }
    /* Queued is enough for 200: the ledger row follows on the main thread, and a
     * repeat of the same serialNo is recognised there. */
    if (post(tl, EV_TERMINAL, r->terminal, &te) < 0)
        return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "stopping\n");
    return reply(c, MHD_HTTP_OK, "");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    struct term_listener *tl = cls;
    struct req *r = *con_cls;
    if (!r)
        return admit(tl, c, url, method, con_cls);
    if (clock_mono_ms() > r->deadline_ms)
        return MHD_NO; /* a terminal that sends this slowly holds a connection for nothing */
    if (*upload_size > 0) {
        take(tl, r, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (tl->cfg->terminal[r->terminal].kind == CFG_TERM_ZKTECO_ADMS)
        return adms_finish(tl, c, r);
    return finish(tl, c, r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    struct req *r = *con_cls;
    if (r)
        free(r->body);
    free(r);
    *con_cls = NULL;
}

/* Strangers beyond STRANGER_CONNECTIONS are closed at accept, unanswered. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
    (void)len;
    struct term_listener *tl = cls;
    if (terminal_of(tl, addr) >= 0 || tl->strangers < STRANGER_CONNECTIONS)
        return MHD_YES;
    log_limited(&tl->crowd_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                "terminals: closed a connection from a non-terminal address at once (%d such "
                "connections open already)", tl->strangers);
    return MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct term_listener *tl = cls;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        tl->strangers -= *socket_context != NULL;
        return;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr || terminal_of(tl, ci->client_addr) < 0) {
        *socket_context = tl; /* any non-NULL mark */
        tl->strangers++;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[256];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_warn("terminals: %s", line);
}

static int listen_addr(const struct cfg_terminals *t, union addr *a, bool *v6)
{
    memset(a, 0, sizeof *a);
    *v6 = inet_pton(AF_INET, t->listen, &a->v4.sin_addr) != 1;
    if (!*v6) {
        a->v4.sin_family = AF_INET;
        a->v4.sin_port = htons((uint16_t)t->port);
        return 0;
    }
    a->v6.sin6_family = AF_INET6;
    a->v6.sin6_port = htons((uint16_t)t->port);
    return inet_pton(AF_INET6, t->listen, &a->v6.sin6_addr) == 1 ? 0 : -1;
}

static int load_passwords(struct term_listener *tl)
{
    static const struct secret_alloc heap = {malloc, free};
    struct log_sink sink;
    FILE *errs = log_sink_open(&sink); /* the reasons, into the log */
    int rc = errs ? 0 : -1;
    for (int i = 0; i < tl->cfg->nterminals && rc == 0; i++) {
        const struct cfg_terminal *t = &tl->cfg->terminal[i];
        size_t n;
        if (!t->password_file[0])
            continue;
        rc = secret_file_read(t->password_file, "terminal password file", PASSWORD_MAX, &heap,
                              &tl->passwords[i], &n, errs);
        if (rc == 0)
            tl->passwords[i][strcspn(tl->passwords[i], "\r\n")] = '\0';
    }
    if (errs)
        log_sink_close_prefixed(&sink, "terminals: ");
    return rc;
}

void term_listener_stop(struct term_listener *tl)
{
    if (!tl)
        return;
    if (tl->mhd)
        MHD_stop_daemon(tl->mhd);
    for (int i = 0; i < CFG_MAX_TERMINALS; i++)
        free(tl->passwords[i]);
    free(tl);
}

static struct MHD_Daemon *start_mhd(struct term_listener *tl, union addr *a, bool v6)
{
    const struct cfg_terminals *t = &tl->cfg->terminals;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
                     (v6 ? MHD_USE_IPv6 : 0);
    unsigned timeout_s = (unsigned)((t->request_timeout_ms + 999) / 1000);
    return MHD_start_daemon(
        flags, (uint16_t)t->port, on_accept, tl, on_request, tl, MHD_OPTION_EXTERNAL_LOGGER,
        on_mhd_log, tl, MHD_OPTION_SOCK_ADDR, &a->sa, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)t->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, 4u,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)16384, MHD_OPTION_DIGEST_AUTH_RANDOM, sizeof tl->nonce_seed, tl->nonce_seed,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, tl, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, tl, MHD_OPTION_END);
}

struct term_listener *term_listener_start(const struct config *cfg, struct evq *q, int *failed)
{
    *failed = 0;
    if (!cfg->terminals.enabled)
        return NULL;
    struct term_listener *tl = calloc(1, sizeof *tl);
    union addr a;
    bool v6;
    if (!tl)
        goto fail;
    tl->cfg = cfg;
    tl->q = q;
    FILE *rnd = fopen("/dev/urandom", "rb");
    bool seeded = rnd && fread(tl->nonce_seed, sizeof tl->nonce_seed, 1, rnd) == 1;
    if (rnd)
        fclose(rnd);
    if (!seeded || listen_addr(&cfg->terminals, &a, &v6) < 0 || load_passwords(tl) < 0)
        goto fail;
    if (!(tl->mhd = start_mhd(tl, &a, v6))) {
        log_err("terminals: cannot listen on %s port %d (in use, or not this host's address)",
                cfg->terminals.listen, cfg->terminals.port);
        goto fail;
    }
    log_notice("terminals: listening on %s port %d (plain HTTP) for %d terminal(s)",
               cfg->terminals.listen, cfg->terminals.port, cfg->nterminals);
    return tl;
fail:
    term_listener_stop(tl);
    *failed = 1;
    return NULL;
}
