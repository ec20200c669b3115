/* The collector's HTTP side (collector.h): libmicrohttpd with its own thread pool,
 * TLS from GnuTLS with the bureau's client CA as the trust list, the two routes, the
 * body read up to the limit. What an upload does is collector_upload.c.
 *
 * A request is judged at its headers first (route, client certificate, content
 * type, kind, key, token, announced size), so a refused body is read and dropped,
 * not kept; the answer goes out when the body is in (answering earlier resets the
 * connection under a client still sending, and the answer would be lost). */
#include "collector_private.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "growbuf.h"
#include "log.h"
#include "netaddr.h"
#include "peer.h"
#include "tls_server.h"

#define CONN_LIMIT 2048
#define DRAIN_MAX (1L << 20) /* a refused body is read and dropped up to this, then hang up */

/* ---- answers ---------------------------------------------------------------------- */

static enum MHD_Result send_answer(struct creq *r, struct MHD_Connection *conn,
                                   struct canswer *a)
{
    if (!a->json) {
        a->json = strdup("{\"error\":\"out of memory\",\"pointer\":null}");
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
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (a->retry_after > 0) {
        char secs[24];
        snprintf(secs, sizeof secs, "%d", a->retry_after);
        MHD_add_response_header(resp, "Retry-After", secs);
    }
    if (a->disposition[0])
        MHD_add_response_header(resp, "Content-Disposition", a->disposition);
    if (a->bearer_challenge)
        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"gatescreen-bureau\"");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)a->status, resp);
    MHD_destroy_response(resp);
    r->answered = true;
    log_debug("collector: %s %s -> %d (%lld ms)", r->method, r->path, a->status,
              (long long)(clock_mono_ms() - r->t0_ms));
    return ret;
}

/* GET /v1/health: whether this instance reaches the database now. */
static enum MHD_Result health(struct creq *r, struct MHD_Connection *conn)
{
    struct bstore *s = bstore_pool_get(r->c->pool, 2000);
    bool ok = s != NULL;
    if (s)
        bstore_pool_put(r->c->pool, s);
    json_t *j = json_pack("{s:s,s:s}", "status", ok ? "ok" : "database unavailable",
                          "instance", r->c->instance);
    struct canswer a = {.status = ok ? 200 : 503, .json = j ? json_dumps(j, JSON_COMPACT) : NULL,
                        .retry_after = ok ? 0 : RETRY_AFTER_AWAY_S};
    json_decref(j);
    return send_answer(r, conn, &a);
}

/* ---- the checks at the headers ------------------------------------------------------ */

static const char *header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static long long announced_length(struct MHD_Connection *conn)
{
    const char *cl = header(conn, "Content-Length");
    char *end;
    if (!cl)
        return -1;
    errno = 0;
    long long v = strtoll(cl, &end, 10);
    return errno || end == cl || *end || v < 0 ? LLONG_MAX : v;
}

/* Whether the school is over its rate for this kind (rate_limit.h); then the 429
 * waits in r->early. Checked at the headers, before the database is asked anything,
 * so a school flooding the collector costs it a TLS handshake and a lookup. */
static bool over_rate(struct creq *r)
{
    char key[RATE_LIMIT_KEY_MAX];
    snprintf(key, sizeof key, "%s/%s", r->cert.code, r->h.kind);
    struct rate_verdict v = rate_limit_take(r->c->rate, key, clock_mono_ms());
    if (v.wait_ms == 0 && v.run > 0)
        log_notice("collector: %s %s is under its rate again (%llu refused before)",
                   r->cert.code, r->h.kind, (unsigned long long)v.run);
    if (v.wait_ms == 0)
        return false;
    if (v.run == 1) /* the first of a run; the rest are counted, not logged */
        log_notice("collector: %s %s is over its rate of %d uploads a minute; refused with "
                   "429 until it slows down", r->cert.code, r->h.kind,
                   atomic_load(&r->c->rate_per_minute));
    r->rate_wait_ms = v.wait_ms;
    intake_refuse(&r->early, 429, "more than %d %s uploads a minute from %s; send again in "
                                  "%lld ms", atomic_load(&r->c->rate_per_minute), r->h.kind,
                  r->cert.code, (long long)v.wait_ms);
    return true;
}

/* Route, certificate, headers, rate, size. The refusal, if any, waits in r->early. */
static void at_headers(struct creq *r, struct MHD_Connection *conn)
{
    char why[300];
    r->h = (struct intake_headers){
        .content_type = header(conn, "Content-Type"),
        .authorization = header(conn, "Authorization"),
        .idem_key = header(conn, "Idempotency-Key"),
        .kind = header(conn, "X-Gatescreen-Kind")};
    r->announced = announced_length(conn);
    if (strcmp(r->path, COLLECTOR_PATH) != 0)
        intake_refuse(&r->early, 404, "no such route: %s (uploads go to POST %s)", r->path,
                      COLLECTOR_PATH);
    else if (strcmp(r->method, "POST") != 0)
        intake_refuse(&r->early, 405, "%s is not allowed here (POST only)", r->method);
    else if (!(r->cert_ok = peer_identify(conn, &r->cert, why, sizeof why) == 0))
        intake_refuse(&r->early, 403, "%s", why);
    else if (intake_headers(&r->h, &r->kind, &r->token, &r->token_len, &r->early) == 0 &&
             !over_rate(r) && r->announced > atomic_load(&r->c->max_body))
        r->too_big = true; /* answered 413 (and quarantined) once the sender is known */
}

/* ---- the request's life -------------------------------------------------------------- */

static void peer_address(struct creq *r, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    netaddr_text(ci ? ci->client_addr : NULL, r->peer_addr, sizeof r->peer_addr);
}

static struct creq *req_new(struct collector *c, struct MHD_Connection *conn, const char *url,
                            const char *method)
{
    struct creq *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->c = c;
    r->method = method;
    r->t0_ms = clock_mono_ms();
    snprintf(r->path, sizeof r->path, "%s", url);
    peer_address(r, conn);
    return r;
}

static void take_body(struct creq *r, const char *data, size_t n)
{
    long max = atomic_load(&r->c->max_body);
    if (r->early.status || r->too_big || r->len + n > (size_t)max) {
        r->too_big = r->too_big || !r->early.status;
        r->drained += n;
        return;
    }
    if (growbuf_append(&r->body, &r->len, &r->cap, data, n) < 0)
        r->too_big = true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    struct creq *r = *con_cls;
    if (!r) {
        if (!(r = req_new(cls, conn, url, method)))
            return MHD_NO;
        *con_cls = r;
        if (strcmp(url, COLLECTOR_HEALTH_PATH) == 0 && strcmp(method, "GET") == 0)
            return health(r, conn);
        if (strcmp(url, COLLECTOR_MISSING_PATH) == 0) { /* answered at once: no body */
            struct canswer a = {0};
            collector_missing(r, conn, &a);
            return send_answer(r, conn, &a);
        }
        if (collector_pull_route(url)) { /* answered at once: a pull has no body */
            struct canswer a = {0};
            collector_pull(r, conn, &a);
            return send_answer(r, conn, &a);
        }
        at_headers(r, conn);
        /* A body refused at the headers is read only to be able to answer; a huge one
         * is answered at once (the client may not see it, but would not wait). */
        if ((r->early.status || r->too_big) && r->announced > DRAIN_MAX) {
            struct canswer a = {0};
            collector_upload(r, &a);
            return send_answer(r, conn, &a);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        take_body(r, upload_data, *upload_size);
        *upload_size = 0;
        return r->drained > DRAIN_MAX ? MHD_NO : MHD_YES; /* a flood: hang up */
    }
    if (r->answered)
        return MHD_YES;
    struct canswer a = {0};
    collector_upload(r, &a);
    return send_answer(r, conn, &a);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct creq *r = *con_cls;
    if (r)
        free(r->body);
    free(r);
    *con_cls = NULL;
}

/* ---- start and stop -------------------------------------------------------------------- */

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_info("collector: %s", msg); /* mostly clients that failed their handshake */
}

static int load_tls(struct collector *c, const struct bcfg_collector *cc, FILE *errs)
{
    size_t len;
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        fprintf(errs, "this libmicrohttpd has no TLS support\n");
        return -1;
    }
    c->cert = tls_server_read_pem("TLS certificate", cc->tls_cert, false, &len, errs);
    c->key = tls_server_read_pem("TLS key", cc->tls_key, true, &c->key_len, errs);
    c->trust = tls_server_read_pem("client CA", cc->client_ca, false, &len, errs);
    return c->cert && c->key && c->trust ? 0 : -1;
}

static struct MHD_Daemon *start_mhd(struct collector *c, const struct bcfg_collector *cc)
{
    union netaddr_sock a;
    bool v6 = netaddr_listen(cc->address, cc->port, &a); /* checked by the config */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS |
                     MHD_USE_ERROR_LOG | MHD_USE_ITC | (v6 ? MHD_USE_IPv6 : 0);
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &a.sa},
        {MHD_OPTION_THREAD_POOL_SIZE, cc->threads, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)(cc->connection_timeout_ms / 1000), NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, c},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, c->cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, c->key},
        /* A trust list makes libmicrohttpd ask every client for its certificate;
         * peer.c verifies it against this list. */
        {MHD_OPTION_HTTPS_MEM_TRUST, 0, c->trust},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)tls_server_priorities},
        {MHD_OPTION_END, 0, NULL},
    };
    return MHD_start_daemon(flags, (uint16_t)cc->port, NULL, NULL, on_request, c,
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, c, MHD_OPTION_ARRAY, opts,
                            MHD_OPTION_END);
}

static void log_deadlines(const char *when, const struct bcfg_deadlines *d)
{
    log_notice("collector: %sdeadlines morning %02d:%02d, day %02d:%02d (%s)", when,
               d->morning / 60, d->morning % 60, d->day / 60, d->day % 60, d->timezone);
}

static void collector_free(struct collector *c)
{
    intake_free(c->intake);
    pull_auth_free(c->pull);
    rate_limit_free(c->rate);
    pthread_mutex_destroy(&c->deadlines_lock);
    if (c->key)
        explicit_bzero(c->key, c->key_len);
    free(c->key);
    free(c->cert);
    free(c->trust);
    free(c);
}

struct collector *collector_start(const struct bconfig *cfg, struct bstore_pool *pool,
                                  FILE *errs)
{
    const struct bcfg_collector *cc = &cfg->collector;
    struct collector *c = calloc(1, sizeof *c);
    if (!c) {
        fprintf(errs, "out of memory\n");
        return NULL;
    }
    c->pool = pool;
    pthread_mutex_init(&c->deadlines_lock, NULL);
    c->deadlines = cfg->deadlines;
    snprintf(c->instance, sizeof c->instance, "%s", cc->instance);
    atomic_store(&c->max_body, cc->max_body);
    atomic_store(&c->rate_per_minute, cc->rate_per_minute);
    if (!(c->rate = rate_limit_new(cc->rate_per_minute, cc->rate_burst))) {
        fprintf(errs, "out of memory\n");
        goto fail;
    }
    if (load_tls(c, cc, errs) < 0 || !(c->intake = intake_new(errs)) ||
        !(c->pull = pull_auth_new(&cfg->pull, errs)))
        goto fail;
    if (!(c->mhd = start_mhd(c, cc))) {
        fprintf(errs, "cannot serve on %s (the reason is in the log above)\n", cc->listen);
        goto fail;
    }
    log_notice("collector: serving HTTPS on %s with %d threads (instance %s)", cc->listen,
               cc->threads, c->instance);
    log_deadlines("", &c->deadlines);
    return c;
fail:
    collector_free(c);
    return NULL;
}

void collector_reconfigure(struct collector *c, const struct bconfig *cfg)
{
    struct log_sink sink;
    FILE *errs = log_sink_open(&sink);
    atomic_store(&c->max_body, cfg->collector.max_body);
    atomic_store(&c->rate_per_minute, cfg->collector.rate_per_minute);
    rate_limit_set(c->rate, cfg->collector.rate_per_minute, cfg->collector.rate_burst);
    int rc = pull_auth_reload(c->pull, &cfg->pull, errs ? errs : stderr);
    log_sink_close_prefixed(&sink, "reload: ");
    if (rc < 0)
        log_err("reload: the [pull] tokens could not be read; the earlier ones stay in force");
    pthread_mutex_lock(&c->deadlines_lock);
    c->deadlines = cfg->deadlines;
    pthread_mutex_unlock(&c->deadlines_lock);
    log_deadlines("reload: ", &cfg->deadlines);
}

void collector_log_counters(struct collector *c)
{
    log_notice("collector: uploads stored %llu, the same again %llu, refused %llu (of them "
               "quarantined %llu, over the rate %llu), database unavailable %llu",
               (unsigned long long)atomic_load(&c->count[CC_STORED]),
               (unsigned long long)atomic_load(&c->count[CC_DUPLICATE]),
               (unsigned long long)(atomic_load(&c->count[CC_REFUSED]) +
                                    atomic_load(&c->count[CC_QUARANTINED]) +
                                    atomic_load(&c->count[CC_RATE_LIMITED])),
               (unsigned long long)atomic_load(&c->count[CC_QUARANTINED]),
               (unsigned long long)atomic_load(&c->count[CC_RATE_LIMITED]),
               (unsigned long long)atomic_load(&c->count[CC_UNAVAILABLE]));
}

void collector_stop(struct collector *c)
{
    if (!c)
        return;
    /* No new connections (a load balancer moves on), then the threads are joined:
     * requests being handled finish. The listening socket is ours to close, after. */
    MHD_socket fd = MHD_quiesce_daemon(c->mhd);
    MHD_stop_daemon(c->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    collector_log_counters(c);
    collector_free(c);
}
