/* The bureau page's HTTPS server (bpage.h): libmicrohttpd, a thread per connection
 * (a failed login waits before its answer), TLS with the one priority string
 * (daemon/runtime/tls_server.c) and no client certificate, the security headers on
 * every answer, the embedded files, and the checks every API route gets at its
 * headers: route (404/405), session (401), role (403), CSRF token on a POST (403),
 * JSON body type (415) and size (413). A refused body is read and dropped. */
#include "bpage_private.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bpage_assets.h"
#include "login_throttle.h"
#include "growbuf.h"
#include "log.h"
#include "netaddr.h"
#include "slots.h"
#include "textnum.h"
#include "tls_server.h"

#define CONN_LIMIT 256
#define PER_ADDRESS 32
#define CONN_TIMEOUT_S 60
#define DRAIN_MAX (1L << 20)

/* The same policy as the nurse's page (docs/web-api-auth.md, "Every response"). */
#define CSP "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

/* Every table the page shows is also a CSV at its route's path + ".csv". */
static const struct bpage_route routes[] = {
    {"POST", "/api/v1/login", 0, NULL, bpage_login},
    {"GET", "/api/v1/session", ROLES_ALL, NULL, bpage_session_get},
    {"POST", "/api/v1/logout", ROLES_ALL, NULL, bpage_logout},
    {"GET", "/api/v1/today", ROLES_ALL, NULL, bpage_today},
    {"GET", "/api/v1/today/counties.csv", ROLES_ALL, "counties", bpage_today},
    {"GET", "/api/v1/today/schools.csv", ROLES_ALL, "schools", bpage_today},
    {"GET", "/api/v1/figures", ROLES_ALL, NULL, bpage_figures},
    {"GET", "/api/v1/figures.csv", ROLES_ALL, "figures", bpage_figures},
    {"GET", "/api/v1/trends", ROLES_ALL, NULL, bpage_trends},
    {"GET", "/api/v1/trends.csv", ROLES_ALL, "trends", bpage_trends},
    {"GET", "/api/v1/notices", ROLES_ALL, NULL, bpage_notices},
    {"GET", "/api/v1/notices.csv", ROLES_ALL, "notices", bpage_notices},
    {"GET", "/api/v1/events", ROLES_ALL, NULL, bpage_events},
    {"POST", "/api/v1/notices/ack", ROLES_ACK, NULL, bpage_notice_ack},
    {"GET", "/api/v1/users", ROLES_ADMIN, NULL, bpage_users_list},
    {"GET", "/api/v1/users.csv", ROLES_ADMIN, "users", bpage_users_list},
    {"POST", "/api/v1/users", ROLES_ADMIN, NULL, bpage_users_add},
    {"POST", "/api/v1/users/disable", ROLES_ADMIN, NULL, bpage_users_disable},
    {"POST", "/api/v1/users/enable", ROLES_ADMIN, NULL, bpage_users_enable},
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* ---- answers ------------------------------------------------------------------------ */

void bpage_error(struct panswer *a, int status, const char *parameter, const char *fmt, ...)
{
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    /* It may quote what was sent (a path cut to its buffer, %ff): JSON strings are
     * UTF-8, so what is not becomes '?' rather than failing the answer. */
    tn_utf8_scrub(why, '?');
    json_t *j = json_pack("{s:s%}", "error", why, strlen(why));
    if (j && parameter)
        json_object_set_new(j, "parameter", json_string(parameter));
    bpage_json(a, status, j);
}

void bpage_unavailable(struct panswer *a)
{
    bpage_error(a, 503, NULL, "the bureau's database is not available now; try again");
    a->retry_after = 5;
}

void bpage_body_answer(struct panswer *a, char *body, bool csv, const char *file)
{
    free(a->json);
    a->json = body;
    a->status = body ? 200 : 500;
    if (!csv || !body)
        return;
    a->content_type = "text/csv; charset=utf-8";
    snprintf(a->disposition, sizeof a->disposition, "attachment; filename=\"%s.csv\"", file);
}

struct params {
    const char *const *names;
    const char **v;
    const char *bad;
};

static enum MHD_Result take_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    struct params *p = cls;
    for (int i = 0; p->names[i]; i++)
        if (strcmp(key, p->names[i]) == 0 && !p->v[i]) {
            p->v[i] = value ? value : "";
            return MHD_YES;
        }
    p->bad = p->bad ? p->bad : key;
    return MHD_YES;
}

int bpage_params(struct MHD_Connection *conn, const char *const *names, const char **v,
                 struct panswer *a)
{
    struct params p = {names, v, NULL};
    for (int i = 0; names[i]; i++)
        v[i] = NULL;
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, take_param, &p);
    if (!p.bad)
        return 0;
    bpage_error(a, 400, p.bad, "%.60s: no such parameter here (or given twice)", p.bad);
    return -1;
}

void bpage_json(struct panswer *a, int status, json_t *j)
{
    free(a->json);
    a->json = j ? json_dumps(j, JSON_COMPACT) : NULL;
    a->status = a->json ? status : 500;
    json_decref(j);
}

static void security_headers(struct MHD_Response *resp, bool api)
{
    MHD_add_response_header(resp, "Content-Security-Policy", CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Cache-Control", api ? "no-store" : "no-cache");
    MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

/* The live notices' stream (bpage_events.c) with its headers. */
static enum MHD_Result send_stream(struct preq *r, struct MHD_Connection *conn,
                                   struct panswer *a)
{
    MHD_add_response_header(a->stream, "Content-Type", a->content_type);
    security_headers(a->stream, true);
    MHD_add_response_header(a->stream, "X-Accel-Buffering", "no"); /* a proxy: pass it on */
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)a->status, a->stream);
    MHD_destroy_response(a->stream);
    r->answered = true;
    log_debug("page: %s %s %s -> %d (stream)", r->addr, r->method, r->path, a->status);
    return ret;
}

static enum MHD_Result send_answer(struct preq *r, struct MHD_Connection *conn,
                                   struct panswer *a)
{
    if (a->stream)
        return send_stream(r, conn, a);
    if (!a->json) {
        a->json = strdup("{\"error\":\"out of memory\"}");
        a->status = 500;
    }
    size_t n = a->json ? strlen(a->json) : 0;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(n, a->json, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(a->json);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type",
                            a->content_type ? a->content_type : "application/json; charset=utf-8");
    if (a->disposition[0])
        MHD_add_response_header(resp, "Content-Disposition", a->disposition);
    security_headers(resp, true);
    if (a->cookie[0])
        MHD_add_response_header(resp, "Set-Cookie", a->cookie);
    if (a->retry_after > 0) {
        char secs[24];
        snprintf(secs, sizeof secs, "%d", a->retry_after);
        MHD_add_response_header(resp, "Retry-After", secs);
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)a->status, resp);
    MHD_destroy_response(resp);
    r->answered = true;
    log_debug("page: %s %s %s -> %d", r->addr, r->method, r->path, a->status);
    return ret;
}

/* A page file at "/" or "/<name>", GET or HEAD only; else 404/405 as JSON. */
static enum MHD_Result send_file(struct preq *r, struct MHD_Connection *conn)
{
    const char *name = strcmp(r->path, "/") == 0 ? "index.html" : r->path + 1;
    struct panswer a = {0};
    for (size_t i = 0; i < bpage_nassets; i++) {
        const struct bpage_asset *f = &bpage_assets[i];
        if (strcmp(f->path, name) != 0)
            continue;
        if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
            bpage_error(&a, 405, NULL, "%s is not allowed on %s", r->method, r->path);
            return send_answer(r, conn, &a);
        }
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        MHD_add_response_header(resp, "Content-Type", f->content_type);
        security_headers(resp, false);
        enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
        MHD_destroy_response(resp);
        r->answered = true;
        return ret;
    }
    bpage_error(&a, 404, NULL, "no such page: %s", r->path);
    return send_answer(r, conn, &a);
}

/* ---- the checks at the headers ----------------------------------------------------- */

static const struct bpage_route *find_route(const char *method, const char *path, bool *known)
{
    *known = false;
    for (size_t i = 0; i < NROUTES; i++) {
        if (strcmp(routes[i].path, path) != 0)
            continue;
        *known = true;
        if (strcmp(routes[i].method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0))
            return &routes[i];
    }
    return NULL;
}

static bool json_content(struct MHD_Connection *conn)
{
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    if (!ct)
        return false;
    ct += strspn(ct, " \t");
    size_t n = strcspn(ct, "; \t");
    return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

static int check_login(struct preq *r, struct MHD_Connection *conn, struct panswer *a)
{
    char csrf[64];
    if (bpage_session_check(r, conn, a, csrf, sizeof csrf) < 0)
        return -1;
    if (!(r->route->roles & ROLE_BIT(r->user.role))) {
        bpage_error(a, 403, NULL, "the %s role may not do this", page_role_name(r->user.role));
        return -1;
    }
    if (strcmp(r->route->method, "POST") != 0)
        return 0;
    const char *got = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
    size_t n = strlen(csrf);
    if (!got || strlen(got) != n || sodium_memcmp(got, csrf, n) != 0) {
        bpage_error(a, 403, NULL, "missing or wrong X-CSRF-Token header");
        return -1;
    }
    return 0;
}

static int check_body(struct MHD_Connection *conn, struct panswer *a)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
    char *end = NULL;
    long long n = cl ? strtoll(cl, &end, 10) : -1;
    if (cl && te) {
        bpage_error(a, 400, NULL, "both Content-Length and Transfer-Encoding");
        return -1;
    }
    if ((!cl && !te) || n == 0)
        return 0;
    if (!json_content(conn)) {
        bpage_error(a, 415, NULL, "the body must be JSON (Content-Type: application/json)");
        return -1;
    }
    if (cl && (end == cl || *end || n < 0 || n > BPAGE_MAX_BODY)) {
        bpage_error(a, 413, NULL, "the body is larger than %d bytes", BPAGE_MAX_BODY);
        return -1;
    }
    return 0;
}

/* The headers of an API request: 0, or -1 with the refusal in a. */
static int begin(struct preq *r, struct MHD_Connection *conn, struct panswer *a)
{
    bool known;
    if (!(r->route = find_route(r->method, r->path, &known))) {
        if (known)
            bpage_error(a, 405, NULL, "%s is not allowed on %s", r->method, r->path);
        else
            bpage_error(a, 404, NULL, "no such API route: %s", r->path);
        return -1;
    }
    if (r->route->roles && check_login(r, conn, a) < 0)
        return -1;
    return check_body(conn, a);
}

/* ---- the request's life --------------------------------------------------------------- */

static void peer_address(struct preq *r, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    netaddr_text(sa, r->addr, sizeof r->addr);
    snprintf(r->addr_key, sizeof r->addr_key, "%s", r->addr);
    if (sa && sa->sa_family == AF_INET6) { /* one client: its /64 */
        struct in6_addr net = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        memset(net.s6_addr + 8, 0, 8);
        inet_ntop(AF_INET6, &net, r->addr_key, sizeof r->addr_key);
    }
}

static void take_body(struct preq *r, const char *data, size_t n)
{
    if (r->early_status || r->too_big || r->len + n > BPAGE_MAX_BODY) {
        r->too_big = r->too_big || !r->early_status;
        r->drained += n;
        return;
    }
    if (growbuf_append(&r->body, &r->len, &r->cap, data, n) < 0)
        r->too_big = true;
}

static enum MHD_Result first_call(struct bpage *p, struct MHD_Connection *conn, const char *url,
                                  const char *method, void **con_cls)
{
    struct preq *r = calloc(1, sizeof *r);
    if (!r)
        return MHD_NO;
    *con_cls = r;
    r->p = p;
    r->method = method;
    snprintf(r->path, sizeof r->path, "%s", url);
    peer_address(r, conn);
    if (strncmp(url, "/api/", 5) != 0)
        return send_file(r, conn);
    struct panswer a = {0};
    if (begin(r, conn, &a) < 0) { /* answered when the body (if any) is in */
        r->early_status = a.status;
        r->early_json = a.json; /* NULL (out of memory): send_answer says so */
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    struct preq *r = *con_cls;
    if (!r)
        return first_call(cls, conn, url, method, con_cls);
    if (*upload_size) {
        take_body(r, upload_data, *upload_size);
        *upload_size = 0;
        return r->drained > DRAIN_MAX ? MHD_NO : MHD_YES; /* a flood: hang up */
    }
    if (r->answered)
        return MHD_YES;
    struct panswer a = {0};
    if (r->early_status) {
        a.status = r->early_status;
        a.json = r->early_json;
        r->early_json = NULL;
    } else if (r->too_big) {
        bpage_error(&a, 413, NULL, "the body is larger than %d bytes", BPAGE_MAX_BODY);
    } else {
        r->route->fn(r, conn, &a);
    }
    return send_answer(r, conn, &a);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct preq *r = *con_cls;
    if (r) {
        free(r->body);
        free(r->early_json);
    }
    free(r);
    *con_cls = NULL;
}

json_t *bpage_body(struct preq *r, struct panswer *a, const char *const *fields)
{
    json_error_t err;
    json_t *j = r->body ? json_loadb(r->body, r->len, 0, &err) : NULL;
    const char *key;
    json_t *v;
    if (!j || !json_is_object(j)) {
        bpage_error(a, 400, NULL, "the body must be a JSON object");
        json_decref(j);
        return NULL;
    }
    json_object_foreach(j, key, v) {
        bool known = false;
        for (int i = 0; fields[i]; i++)
            known = known || strcmp(fields[i], key) == 0;
        if (!known || !json_is_string(v)) {
            bpage_error(a, 400, key, known ? "%s: must be a string" : "unknown field \"%s\"",
                        key);
            json_decref(j);
            return NULL;
        }
    }
    return j;
}

/* ---- start and stop --------------------------------------------------------------------- */

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\r\n")] = '\0';
    log_info("page: %s", msg);
}

static struct MHD_Daemon *start_mhd(struct bpage *p, const struct bcfg_page *pc)
{
    union netaddr_sock a;
    bool v6 = netaddr_listen(pc->address, pc->port, &a); /* checked by the config */
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | MHD_USE_TLS | MHD_USE_ITC | (v6 ? MHD_USE_IPv6 : 0);
    /* No MHD_OPTION_HTTPS_MEM_TRUST: browsers are not asked for a certificate. */
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &a.sa},
        {MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, PER_ADDRESS, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, p},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, p->cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, p->key},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)tls_server_priorities},
        {MHD_OPTION_END, 0, NULL},
    };
    return MHD_start_daemon(flags, (uint16_t)pc->port, NULL, NULL, on_request, p,
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, p, MHD_OPTION_ARRAY, opts,
                            MHD_OPTION_END);
}

static void bpage_free(struct bpage *p)
{
    bstore_pool_free(p->pool);
    bpage_events_free(p->events);
    bpage_sessions_free(p->sessions);
    throttle_free(p->throttle);
    pthread_mutex_destroy(&p->auth_lock);
    slots_free(p->hashers);
    pthread_mutex_destroy(&p->deadlines_lock);
    if (p->key)
        explicit_bzero(p->key, p->key_len);
    free(p->key);
    free(p->cert);
    free(p);
}

/* A hash of random bytes: names that are no user get the same argon2id work. */
static int make_dummy_hash(struct bpage *p, FILE *errs)
{
    unsigned char junk[32];
    randombytes_buf(junk, sizeof junk);
    if (crypto_pwhash_str(p->dummy_hash, (const char *)junk, sizeof junk,
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        fprintf(errs, "page: out of memory (argon2id)\n");
        return -1;
    }
    return 0;
}

static int load(struct bpage *p, const struct bconfig *cfg, const struct bstore_opts *o,
                FILE *errs)
{
    size_t len;
    if (sodium_init() < 0 || MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        fprintf(errs, "page: libsodium or libmicrohttpd's TLS is not usable\n");
        return -1;
    }
    p->cert = tls_server_read_pem("page TLS certificate", cfg->page.tls_cert, false, &len, errs);
    p->key = tls_server_read_pem("page TLS key", cfg->page.tls_key, true, &p->key_len, errs);
    if (!p->cert || !p->key || make_dummy_hash(p, errs) < 0)
        return -1;
    p->pool = bstore_pool_new(o, cfg->page.threads, NULL);
    p->sessions = bpage_sessions_new();
    p->events = bpage_events_new();
    p->throttle = throttle_new();
    p->hashers = slots_new(HASHES_AT_ONCE);
    if (!p->pool || !p->sessions || !p->events || !p->throttle || !p->hashers) {
        fprintf(errs, "out of memory\n");
        return -1;
    }
    return 0;
}

struct bpage *bpage_start(const struct bconfig *cfg, const struct bstore_opts *o, FILE *errs)
{
    struct bpage *p = calloc(1, sizeof *p);
    if (!p) {
        fprintf(errs, "out of memory\n");
        return NULL;
    }
    pthread_mutex_init(&p->auth_lock, NULL);
    pthread_mutex_init(&p->deadlines_lock, NULL);
    p->deadlines = cfg->deadlines;
    p->session_idle_ms = cfg->page.session_idle_ms;
    p->session_max_ms = cfg->page.session_max_ms;
    if (load(p, cfg, o, errs) < 0)
        goto fail;
    if (!(p->mhd = start_mhd(p, &cfg->page))) {
        fprintf(errs, "page: cannot serve on %s (the reason is in the log above)\n",
                cfg->page.listen);
        goto fail;
    }
    log_notice("page: serving HTTPS on %s", cfg->page.listen);
    return p;
fail:
    bpage_free(p);
    return NULL;
}

void bpage_reconfigure(struct bpage *p, const struct bconfig *cfg)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->deadlines_lock);
    p->deadlines = cfg->deadlines;
    pthread_mutex_unlock(&p->deadlines_lock);
}

void bpage_stop(struct bpage *p)
{
    if (!p)
        return;
    MHD_socket fd = MHD_quiesce_daemon(p->mhd);
    bpage_events_stop(p->events); /* MHD_stop_daemon waits for the streams' threads */
    MHD_stop_daemon(p->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    bpage_free(p);
}
