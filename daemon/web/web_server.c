/* The web server (web.h): libmicrohttpd with a thread per connection (an event
 * stream blocks its own thread only), TLS from the config, routing over the
 * modules' route tables, the login and CSRF checks every route declares, security
 * headers and the page's embedded files; the handlers' helpers are web_handler.c.
 *
 * A request is checked when its headers are in (route, session, role, CSRF token,
 * content type, announced size), so a refused request's body is never read; the
 * handler runs once the body is in. */
#include "web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "certs.h"
#include "clock.h"
#include "log.h"
#include "netaddr.h"
#include "textnum.h"
#include "tls_server.h"
#include "web_assets.h"
#include "web_guard.h"
#include "web_private.h"

#define CONN_TIMEOUT_S 60       /* idle (no byte moves): a stream's reader that stopped
                                   reading; streams send every 15 s */
#define DRAIN_MAX (1 << 20)     /* a refused body is read (and dropped) up to this */
/* Our limits come before libmicrohttpd's (its buffer is MHD_MEMORY of which about
 * half holds the request line and headers), so that it is our answer, with the
 * security headers, that a too-large request gets (414, 431). */
#define MHD_MEMORY (64 * 1024)
#define URI_MAX (8 * 1024)
#define HEADERS_MAX (16 * 1024)

static const char CSP[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
                          "base-uri 'none'; form-action 'self'";

struct web {
    struct config_store *store; /* each request reads the snapshot in force */
    const struct config *cfg;   /* the one the server was started from ([web]) */
    struct gate_board *board;
    struct web_sessions *sessions;
    struct MHD_Daemon *mhd;
    struct web_guard *guard;    /* request deadline, stream budget */
    atomic_bool serving;        /* started: libmicrohttpd's messages are about clients */
    char *cert, *key;           /* PEM text; MHD keeps pointers to them */
    size_t key_len;
    bool tls;
};

/* One request, from its headers to the end of its response. */
struct req {
    struct web *w;
    const struct web_route *route;  /* NULL: a static file */
    const struct web_asset *asset;  /* the static file */
    struct web_request rq;
    char *raw;                      /* the path as sent (percent-encoded), for routing */
    size_t uri_len;                 /* the request-target's length, query included */
    char *path;                     /* rq.path: decoded by libmicrohttpd */
    char *params;                   /* the ":x" captures, NUL-separated */
    struct web_user user;
    char *body;
    size_t len, cap;
    struct web_response refusal;    /* status != 0: decided at the headers */
    long long announced;            /* Content-Length; -1 none or chunked */
    size_t drained;                 /* body bytes received and dropped */
    bool too_big, begun, answered;
    bool hang_up;                   /* a framing error: answer, then close */
    int64_t t0_ms;
};

static const struct web_route *const *route_tables(void)
{
    static const struct web_route *const tables[] = {web_auth_routes, web_users_routes,
                                                     web_api_routes, web_gates_routes,
                                                     web_visitors_routes, NULL};
    return tables;
}

/* ---- responses ----------------------------------------------------------------------- */

static bool is_api(const char *path)
{
    return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0;
}

static void security_headers(struct web *w, struct MHD_Response *resp, const char *path)
{
    MHD_add_response_header(resp, "Content-Security-Policy", CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    /* The page is small and changes with upgrades: always revalidated. */
    MHD_add_response_header(resp, "Cache-Control", is_api(path) ? "no-store" : "no-cache");
    if (w->tls)
        MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

static void log_request(const struct req *r, int status)
{
    enum log_level lvl = status >= 500 ? LOG_LVL_WARN : LOG_LVL_DEBUG;
    char path[160];
    /* The path is decoded from the URL: a %0A in it must not start a new log line. */
    snprintf(path, sizeof path, "%s", r->rq.path);
    for (char *p = path; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    log_msg(lvl, "web: %s %s -> %d (%s, %lld ms)", r->rq.method, path, status,
            r->user.name[0] ? r->user.name : "-", (long long)(clock_mono_ms() - r->t0_ms));
}

static enum MHD_Result queue(struct req *r, struct MHD_Connection *conn,
                             struct web_response *rs)
{
    struct MHD_Response *resp = rs->stream;
    if (rs->status == 0) {
        log_err("web: %s %s: the handler set no response", r->rq.method, r->rq.path);
        web_error(rs, 500, "internal error");
    }
    if (!resp) {
        resp = MHD_create_response_from_buffer(rs->len, rs->body, MHD_RESPMEM_MUST_FREE);
        if (!resp)
            return MHD_NO;
        rs->body = NULL; /* MHD frees it */
        if (rs->status != 204)
            MHD_add_response_header(resp, "Content-Type", rs->content_type
                                                              ? rs->content_type
                                                              : "application/json; charset=utf-8");
    }
    for (int i = 0; i < rs->nheaders; i++)
        MHD_add_response_header(resp, rs->header_name[i], rs->header_value[i]);
    security_headers(r->w, resp, r->rq.path);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)rs->status, resp);
    MHD_destroy_response(resp);
    rs->stream = NULL;
    r->answered = true;
    log_request(r, rs->status);
    return ret;
}

/* An answer decided by the server itself (404, 401, 413, ...). */
static enum MHD_Result refuse(struct req *r, struct MHD_Connection *conn,
                              struct web_response *rs)
{
    web_guard_request_in(conn);
    enum MHD_Result ret = queue(r, conn, rs);
    free(rs->body);
    rs->body = NULL;
    return ret;
}

static enum MHD_Result send_asset(struct req *r, struct MHD_Connection *conn,
                                  const struct web_asset *a)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", a->content_type);
    security_headers(r->w, resp, r->rq.path);
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    r->answered = true;
    log_request(r, MHD_HTTP_OK);
    return ret;
}

static const struct web_asset *find_asset(const char *path)
{
    const char *name = strcmp(path, "/") == 0 ? "index.html" : path + 1;
    for (size_t i = 0; i < web_nassets; i++)
        if (strcmp(web_assets[i].path, name) == 0)
            return &web_assets[i];
    return NULL;
}

/* A page file: 0, or -1 with the refusal in rs. */
static int check_static(struct req *r, struct web_response *rs)
{
    if (!(r->asset = find_asset(r->rq.path))) {
        web_error(rs, 404, "not found");
        return -1;
    }
    if (strcmp(r->rq.method, "GET") != 0 && strcmp(r->rq.method, "HEAD") != 0) {
        web_error(rs, 405, "%s is not allowed here (GET only)", r->rq.method);
        web_header(rs, "Allow", "GET, HEAD");
        return -1;
    }
    return 0;
}

/* ---- routing ------------------------------------------------------------------------- */

struct capture {
    size_t off, len;
};

/* Whether path matches the pattern segment by segment (":x" matches one non-empty
 * segment, recorded in cap). */
static bool match(const char *pattern, const char *path, struct capture *cap, int *n)
{
    const char *start = path;
    *n = 0;
    while (*pattern == '/' && *path == '/') {
        pattern++;
        path++;
        size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");
        if (*pattern == ':') {
            if (sl == 0 || *n >= WEB_MAX_PARAMS)
                return false;
            cap[(*n)++] = (struct capture){(size_t)(path - start), sl};
        } else if (pl != sl || memcmp(pattern, path, pl) != 0) {
            return false;
        }
        pattern += pl;
        path += sl;
    }
    return *pattern == '\0' && *path == '\0';
}

/* The route for method and path; NULL with *path_known when only the method is
 * wrong (then `allow` lists the methods that are). */
static const struct web_route *find_route(const char *method, const char *path,
                                          struct capture *cap, int *n, bool *path_known,
                                          char *allow, size_t allow_size)
{
    /* HEAD is GET without the body (MHD leaves the body out). */
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
    *path_known = false;
    allow[0] = '\0';
    for (const struct web_route *const *t = route_tables(); *t; t++) {
        for (const struct web_route *rt = *t; rt->method; rt++) {
            if (!match(rt->pattern, path, cap, n))
                continue;
            if (strcmp(rt->method, m) == 0)
                return rt;
            *path_known = true;
            size_t used = strlen(allow);
            if (!strstr(allow, rt->method))
                snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "", rt->method);
        }
    }
    return NULL;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One path segment, percent-decoded into out (room for n + 1): its length, or -1
 * for a malformed escape or an encoded NUL. A "/" inside a segment arrives as %2F
 * (a person id with a slash): routing split the raw path before this. */
static long pct_decode(const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] != '%') {
            out[o++] = in[i];
            continue;
        }
        if (n - i < 3)
            return -1;
        int hi = hex_digit(in[i + 1]), lo = hex_digit(in[i + 2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return -1;
        out[o++] = (char)(hi << 4 | lo);
        i += 2;
    }
    out[o] = '\0';
    return (long)o;
}

/* The route's ":x" segments, decoded: 0; -1 out of memory, -2 a bad escape
 * (named in rs). */
static int copy_params(struct req *r, const struct capture *cap, int n,
                       struct web_response *rs)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += cap[i].len + 1;
    if (n == 0)
        return 0;
    if (!(r->params = malloc(total)))
        return -1;
    char *p = r->params;
    for (int i = 0; i < n; i++) {
        long len = pct_decode(r->raw + cap[i].off, cap[i].len, p);
        if (len < 0) {
            web_error(rs, 400, "bad percent-encoding in the path segment \"%.*s\"",
                      (int)cap[i].len, r->raw + cap[i].off);
            return -2;
        }
        r->rq.param[i] = p;
        p += len + 1;
    }
    r->rq.nparam = n;
    return 0;
}

/* ---- the checks at the headers ------------------------------------------------------ */

/* The request's media type is application/json (parameters such as charset allowed). */
static bool json_content(struct MHD_Connection *conn)
{
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    if (!ct)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, "; \t");
    return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

/* Whether a body follows the headers, and its announced length (-1: chunked). */
static bool has_body(struct MHD_Connection *conn, long long *announced)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
    *announced = -1;
    if (cl) {
        char *end;
        errno = 0;
        long long v = strtoll(cl, &end, 10);
        *announced = (errno || end == cl || v < 0) ? WEB_MAX_BODY + 1LL : v;
        return *announced > 0;
    }
    return te != NULL;
}

/* The session's user, their role and the CSRF token: 0, or -1 with the answer in rs. */
static int check_login(struct req *r, struct MHD_Connection *conn, struct web_response *rs)
{
    char csrf[64];
    if (web_session_require(&r->rq, rs, &r->user, csrf, sizeof csrf) < 0)
        return -1;
    r->rq.user = &r->user;
    if (!(r->route->roles & ROLE_BIT(r->user.role))) {
        web_error(rs, 403, "the %s role may not do this", web_role_name(r->user.role));
        return -1;
    }
    if (!r->route->csrf)
        return 0;
    const char *got = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
    size_t n = strlen(csrf);
    if (!got || strlen(got) != n || sodium_memcmp(got, csrf, n) != 0) {
        web_error(rs, 403, "missing or wrong X-CSRF-Token header");
        return -1;
    }
    return 0;
}

static int check_body(struct MHD_Connection *conn, struct web_response *rs)
{
    long long announced;
    if (!has_body(conn, &announced))
        return 0;
    if (!json_content(conn)) {
        web_error(rs, 415, "the body must be JSON (Content-Type: application/json)");
        return -1;
    }
    if (announced > WEB_MAX_BODY) {
        web_error(rs, 413, "the body is larger than %d bytes", WEB_MAX_BODY);
        return -1;
    }
    return 0;
}

/* What the header fields say about the request's size and framing. */
struct header_scan {
    size_t bytes;
    int content_lengths;
    const char *first_length;
    bool lengths_differ, transfer_encoding;
};

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct header_scan *h = cls;
    (void)kind;
    h->bytes += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
    if (strcasecmp(key, "Transfer-Encoding") == 0)
        h->transfer_encoding = true;
    if (strcasecmp(key, "Content-Length") != 0)
        return MHD_YES;
    if (h->content_lengths++ == 0)
        h->first_length = value ? value : "";
    else if (strcmp(h->first_length, value ? value : "") != 0)
        h->lengths_differ = true;
    return MHD_YES;
}

/* Sizes and framing, before anything else: 414, 431, or a 400 after which the
 * connection closes (two lengths could frame the body two ways: smuggling). */
static int check_request(struct req *r, struct MHD_Connection *conn, struct web_response *rs)
{
    struct header_scan h = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, scan_header, &h);
    if (r->uri_len > URI_MAX) {
        web_error(rs, 414, "the URL is longer than %d bytes", URI_MAX);
        return -1;
    }
    if (h.bytes > HEADERS_MAX) {
        web_error(rs, 431, "the request's header fields are larger than %d bytes", HEADERS_MAX);
        return -1;
    }
    if (h.lengths_differ || (h.content_lengths && h.transfer_encoding)) {
        web_error(rs, 400, "%s", h.lengths_differ
                                     ? "conflicting Content-Length header fields"
                                     : "both Content-Length and Transfer-Encoding");
        web_header(rs, "Connection", "close");
        r->hang_up = true;
        return -1;
    }
    return 0;
}

/* The headers are in: sizes, route, login, role, CSRF, body type and size. 0, or
 * -1 with the refusal in r->refusal. */
static int begin(struct req *r, struct MHD_Connection *conn)
{
    struct web_response *rs = &r->refusal;
    struct capture cap[WEB_MAX_PARAMS];
    int n;
    bool path_known;
    char allow[32];
    r->begun = true;
    if (check_request(r, conn, rs) < 0)
        return -1;
    if (!is_api(r->path))
        return check_static(r, rs);
    r->route = find_route(r->rq.method, r->raw, cap, &n, &path_known, allow, sizeof allow);
    if (!r->route) {
        if (path_known) {
            web_error(rs, 405, "%s is not allowed on %s", r->rq.method, r->path);
            web_header(rs, "Allow", allow);
        } else {
            web_error(rs, 404, "no such API route: %s", r->path);
        }
        return -1;
    }
    int rc = copy_params(r, cap, n, rs);
    if (rc == -1)
        web_error(rs, 500, "out of memory");
    if (rc < 0)
        return -1;
    if ((r->route->roles && check_login(r, conn, rs) < 0) || check_body(conn, rs) < 0)
        return -1;
    return 0;
}

/* ---- body and handler ---------------------------------------------------------------- */

static void take_body(struct req *r, const char *data, size_t n)
{
    if (r->refusal.status) { /* refused at the headers: read, never kept */
        r->drained += n;
        return;
    }
    if (r->too_big || r->len + n > WEB_MAX_BODY) {
        r->drained += n;
        r->too_big = true; /* a chunked body that grew past the limit: dropped */
        return;
    }
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 1024;
        while (cap < r->len + n + 1)
            cap *= 2;
        char *b = realloc(r->body, cap);
        if (!b) {
            r->too_big = true;
            return;
        }
        r->body = b;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = '\0';
}

static enum MHD_Result answer(struct req *r, struct MHD_Connection *conn)
{
    struct web_response rs = {0};
    web_guard_request_in(conn); /* in: the handler may take its time */
    if (r->refusal.status)
        return refuse(r, conn, &r->refusal);
    if (r->too_big) {
        web_error(&rs, 413, "the body is larger than %d bytes", WEB_MAX_BODY);
        return refuse(r, conn, &rs);
    }
    if (r->asset)
        return send_asset(r, conn, r->asset);
    r->rq.body = r->body ? r->body : "";
    r->rq.body_len = r->len;
    r->route->fn(&r->rq, &rs);
    /* The connection is the request's own: closed before the answer goes out, so a
     * slow client never holds the ledger. Streams read the board only. */
    ledger_close(r->rq.ledger);
    r->rq.ledger = NULL;
    enum MHD_Result ret = queue(r, conn, &rs);
    free(rs.body);
    return ret;
}

/* At the request line (MHD_OPTION_URI_LOG_CALLBACK, before libmicrohttpd decodes
 * the path): the request, with its path as sent. */
static void *req_new(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct web *w = cls;
    struct req *r = calloc(1, sizeof *r);
    if (!r || !(r->raw = strndup(uri, strcspn(uri, "?")))) {
        free(r);
        return NULL;
    }
    r->uri_len = strlen(uri);
    r->w = w;
    r->t0_ms = clock_mono_ms();
    r->rq.conn = conn;
    r->rq.cfg = cfgstore_acquire(w->store);
    r->rq.board = w->board;
    r->rq.tls = w->tls;
    r->rq.sessions = w->sessions;
    r->rq.guard = w->guard;
    r->rq.body = "";
    return r;
}

static void req_free(struct req *r)
{
    if (!r)
        return;
    ledger_close(r->rq.ledger);
    cfgstore_release(r->w->store, r->rq.cfg);
    free(r->refusal.body); /* a refusal never sent (the client went away) */
    if (r->body)
        sodium_memzero(r->body, r->cap); /* it may hold a password */
    free(r->body);
    free(r->params);
    free(r->path);
    free(r->raw);
    free(r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct req *r = *con_cls;
    if (!r)
        return MHD_NO; /* out of memory at the request line */
    if (!r->path) {
        if (!(r->path = strdup(url)))
            return MHD_NO;
        r->rq.method = method; /* MHD's, valid for the whole request */
        r->rq.path = r->path;
        /* The checks run before the body is read: a refused body is dropped as it
         * comes (answering before it is in would reset the connection, losing the
         * answer). One announced too large to be worth reading, or framed two
         * ways, is refused now. */
        if (has_body(conn, &r->announced) && begin(r, conn) < 0 &&
            (r->announced > DRAIN_MAX || r->hang_up))
            return refuse(r, conn, &r->refusal);
        return MHD_YES;
    }
    if (*upload_size) {
        take_body(r, upload_data, *upload_size);
        *upload_size = 0;
        return r->drained > DRAIN_MAX ? MHD_NO : MHD_YES; /* a flood: hang up */
    }
    if (r->answered)
        return MHD_YES;
    if (!r->begun)
        begin(r, conn);
    return answer(r, conn);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)toe;
    web_guard_request_done(conn);
    req_free(*con_cls);
    *con_cls = NULL;
}

/* ---- start and stop ------------------------------------------------------------------ */

/* libmicrohttpd's messages: at start, why it cannot serve (a warning, the reason
 * for the error that follows); once serving, about clients -- a failed handshake,
 * an address past its connection limit, a request too big -- which any client can
 * cause as often as it likes: info, so they cannot flood the log. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct web *w = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_msg(atomic_load(&w->serving) ? LOG_LVL_INFO : LOG_LVL_WARN, "web: %s", msg);
}

/* A PEM file (tls_server.h), its problems logged as "web: tls_cert ..." lines. */
static char *read_pem(const char *what, const char *path, bool secret, size_t *len)
{
    struct log_sink sink;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "web: %s ", what);
    FILE *errs = log_sink_open(&sink);
    char *buf = tls_server_read_pem(what, path, secret, len, errs ? errs : stderr);
    log_sink_close_prefixed(&sink, prefix);
    return buf;
}

static int load_tls(struct web *w)
{
    const struct cfg_web *c = &w->cfg->web;
    size_t len;
    char msg[256];
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        log_err("web: this libmicrohttpd has no TLS support");
        return -1;
    }
    if (cert_check_dates(c->tls_cert, clock_wall_ms(), msg, sizeof msg) != 0)
        log_warn("web: tls_cert: %s", msg); /* browsers will say so too; still serve */
    if (!(w->cert = read_pem("tls_cert", c->tls_cert, false, &len)) ||
        !(w->key = read_pem("tls_key", c->tls_key, true, &w->key_len)))
        return -1;
    w->tls = true;
    return 0;
}

union addr {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
};

static int listen_addr(const struct cfg_web *c, union addr *a, bool *v6)
{
    memset(a, 0, sizeof *a);
    *v6 = false;
    if (inet_pton(AF_INET, c->listen, &a->v4.sin_addr) == 1) {
        a->v4.sin_family = AF_INET;
        a->v4.sin_port = htons((uint16_t)c->port);
        return 0;
    }
    if (inet_pton(AF_INET6, c->listen, &a->v6.sin6_addr) == 1) {
        a->v6.sin6_family = AF_INET6;
        a->v6.sin6_port = htons((uint16_t)c->port);
        *v6 = true;
        return 0;
    }
    log_err("web: listen = %s is not an IPv4 or IPv6 address", c->listen);
    return -1;
}

static struct MHD_Daemon *start_mhd(struct web *w, union addr *a, bool v6)
{
    const struct cfg_web *c = &w->cfg->web;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0) | (w->tls ? MHD_USE_TLS : 0);
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &a->sa},
        {MHD_OPTION_CONNECTION_LIMIT, CFG_WEB_CONNECTIONS, NULL},
        /* One address cannot take every connection thread (issue 16). */
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, c->max_connections_per_address, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, MHD_MEMORY, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)req_new, w},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)web_guard_notify, w->guard},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, w},
        {MHD_OPTION_END, 0, NULL}, /* the TLS options go here */
        {MHD_OPTION_END, 0, NULL},
        {MHD_OPTION_END, 0, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    if (w->tls) {
        opts[8] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, w->cert};
        opts[9] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, w->key};
        opts[10] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                          (void *)tls_server_priorities};
    }
    /* The logger first, so that MHD's messages about the other options come to it. */
    return MHD_start_daemon(flags, (uint16_t)c->port, NULL, NULL, on_request, w,
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, w, MHD_OPTION_ARRAY, opts,
                            MHD_OPTION_END);
}

static void web_free(struct web *w)
{
    web_guard_free(w->guard); /* after the server stopped: no connection is left */
    web_sessions_free(w->sessions);
    cfgstore_release(w->store, w->cfg);
    if (w->key)
        sodium_memzero(w->key, w->key_len);
    free(w->key);
    free(w->cert);
    free(w);
}

struct web *web_start(struct config_store *store, struct gate_board *board)
{
    struct web *w = calloc(1, sizeof *w);
    union addr a;
    bool v6;
    if (!w)
        return NULL;
    w->store = store;
    const struct config *cfg = w->cfg = cfgstore_acquire(store);
    const struct cfg_web *c = &cfg->web;
    w->board = board;
    if (listen_addr(c, &a, &v6) < 0 || (c->tls_cert[0] && load_tls(w) < 0) ||
        !(w->sessions = web_sessions_new(cfg)) || !(w->guard = web_guard_new(c)))
        goto fail;
    if (!(w->mhd = start_mhd(w, &a, v6))) {
        log_err("web: cannot serve on %s port %d (the reason is above)", c->listen, c->port);
        goto fail;
    }
    atomic_store(&w->serving, true);
    if (!w->tls && !netaddr_is_loopback(c->listen))
        log_warn("web: serving plain HTTP on %s, which is not a loopback address: health data "
                 "crosses the network unencrypted (allow_plain_http = yes)", c->listen);
    log_notice("web: serving %s on %s port %d", w->tls ? "HTTPS" : "HTTP", c->listen, c->port);
    return w;
fail:
    web_free(w);
    return NULL;
}

void web_stop(struct web *w)
{
    if (!w)
        return;
    web_sessions_close(w->sessions); /* logins waiting out a delay answer now */
    MHD_stop_daemon(w->mhd);
    web_free(w);
    log_info("web: stopped");
}
