/* One request of the uploader (uploader.h, upload_private.h): one outbox row as one
 * HTTPS POST, and what its answer means for the row.
 *
 * The transfer runs on the sender's curl multi handle even though there is one at a
 * time: its curl_multi_poll can be interrupted by curl_multi_wakeup from any
 * thread, so a stop is seen at once, also in the middle of a TLS handshake or a
 * slow server's answer. The easy handle is reused from row to row: its connection
 * cache spares a handshake per row. */
#include <curl/curl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "certs.h"
#include "clock.h"
#include "ledger.h"
#include "log.h"
#include "upload_private.h"

#define SERVER_MSG_MAX 300     /* of it in last_error and the log */
#define LOCATION_MAX 200       /* of a 3xx's Location: with the message, within last_error */
#define NOTICE_CHECK_MS 300    /* how often a summary in flight asks about notices */

/* Keeps the start of the answer; the rest is read and dropped. */
static size_t on_response(char *data, size_t size, size_t nmemb, void *arg)
{
    struct sender *s = arg;
    size_t n = size * nmemb, room = sizeof s->response - 1 - s->response_len;
    memcpy(s->response + s->response_len, data, n < room ? n : room);
    s->response_len += n < room ? n : room;
    s->response[s->response_len] = '\0';
    return n;
}

static struct curl_slist *add_header(struct curl_slist *list, const char *name,
                                     const char *value)
{
    size_t len = strlen(name) + strlen(value) + 3;
    char *line = list ? malloc(len) : NULL;
    struct curl_slist *more = NULL;
    if (line) {
        snprintf(line, len, "%s: %s", name, value);
        more = curl_slist_append(list, line);
        explicit_bzero(line, len); /* it may hold the token */
        free(line);
    }
    if (!more)
        curl_slist_free_all(list);
    return more;
}

static struct curl_slist *add_bearer(struct curl_slist *h, const char *token)
{
    size_t len = strlen(token) + 8;
    char *value = malloc(len);
    if (!value) {
        curl_slist_free_all(h);
        return NULL;
    }
    snprintf(value, len, "Bearer %s", token);
    h = add_header(h, "Authorization", value);
    explicit_bzero(value, len);
    free(value);
    return h;
}

static struct curl_slist *headers_of(const struct sender *s, const struct outbox_item *it)
{
    /* "Expect:" off: no 100-continue round trip before a body the server takes anyway. */
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    h = add_header(h, "Content-Type", "application/json; charset=utf-8");
    h = add_header(h, "Idempotency-Key", it->key);
    h = add_header(h, "X-Gatescreen-Kind", outbox_kind_name(it->kind));
    if (h && s->creds->token)
        h = add_bearer(h, s->creds->token);
    return h;
}

/* TLS as docs/design.md ("Upstream") says: the configured CA only, peer and host
 * always verified. */
static CURLcode set_tls(CURL *e, const struct cfg_upstream *u)
{
    CURLcode rc = CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500
    rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
    rc |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
    rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
    rc |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
    rc |= curl_easy_setopt(e, CURLOPT_CAINFO, u->ca_file);
    rc |= curl_easy_setopt(e, CURLOPT_CAPATH, NULL); /* not the system store as well */
    rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    rc |= curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    /* Not from the environment: a proxy nobody configured would see the traffic's
     * endpoints, and could not be told from the bureau when it fails. */
    rc |= curl_easy_setopt(e, CURLOPT_PROXY, "");
#if LIBCURL_VERSION_NUM >= 0x075700
    rc |= curl_easy_setopt(e, CURLOPT_CA_CACHE_TIMEOUT, 0L); /* a replaced ca_file counts */
#endif
    if (*u->client_cert)
        rc |= curl_easy_setopt(e, CURLOPT_SSLCERT, u->client_cert);
    if (*u->client_key)
        rc |= curl_easy_setopt(e, CURLOPT_SSLKEY, u->client_key);
    return rc;
}

static CURLcode set_request(struct sender *s, const struct outbox_item *it,
                            struct curl_slist *headers)
{
    const struct cfg_upstream *u = &s->cfg->upstream;
    CURL *e = s->easy;
    curl_easy_reset(e); /* keeps the connection cache, drops the last row's options */
    CURLcode rc = set_tls(e, u);
    rc |= curl_easy_setopt(e, CURLOPT_URL, u->url);
    rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)u->connect_timeout_ms);
    rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)u->timeout_ms);
    rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_response);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, "gatescreen/" GS_VERSION);
    rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(it->body));
    rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, it->body);
#if LIBCURL_VERSION_NUM >= 0x075700
    /* A stop during a name lookup must not wait for the resolver thread. */
    rc |= curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L);
#endif
    s->errbuf[0] = '\0';
    s->response_len = 0;
    s->response[0] = '\0';
    return rc;
}

/* A summary in flight gives way to an urgent notice: asked at most every
 * NOTICE_CHECK_MS (the question reads the ledger). */
static bool give_way(struct sender *s, const struct outbox_item *it, int64_t *next_check)
{
    int64_t now = clock_mono_ms();
    if (it->kind != OUTBOX_SUMMARY || !s->notice_waiting || now < *next_check)
        return false;
    *next_check = now + NOTICE_CHECK_MS;
    return s->notice_waiting(s);
}

/* Runs the transfer; *stopped (V_STOPPED or V_YIELDED) when it was ended early. */
static CURLcode transfer(struct sender *s, const struct outbox_item *it, enum verdict *stopped)
{
    CURLcode result = CURLE_FAILED_INIT;
    int running = 1;
    int64_t next_check = clock_mono_ms() + NOTICE_CHECK_MS;
    int poll_ms = it->kind == OUTBOX_SUMMARY && s->notice_waiting ? NOTICE_CHECK_MS : IDLE_MS;
    *stopped = V_SENT; /* = not stopped */
    if (curl_multi_add_handle(s->multi, s->easy) != CURLM_OK)
        return result;
    while (running) {
        if (sender_stopping(s) || give_way(s, it, &next_check)) {
            *stopped = sender_stopping(s) ? V_STOPPED : V_YIELDED;
            break;
        }
        if (curl_multi_perform(s->multi, &running) != CURLM_OK)
            break;
        /* Waits for the sockets, curl's own timers, or curl_multi_wakeup. */
        if (running && curl_multi_poll(s->multi, NULL, 0, poll_ms, NULL) != CURLM_OK)
            break;
    }
    int left;
    for (CURLMsg *m; (m = curl_multi_info_read(s->multi, &left));)
        if (m->msg == CURLMSG_DONE)
            result = m->data.result;
    curl_multi_remove_handle(s->multi, s->easy);
    return result;
}

/* ---- verdicts -------------------------------------------------------------------------- */

/* Text from the server (its answer, a Location) as one short line, in place:
 * control characters and runs of spaces become one space, cut at max bytes on a
 * UTF-8 boundary. "" when nothing is left. */
static char *one_line(char *r, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; r[i]; i++) {
        char c = (unsigned char)r[i] < 0x20 || r[i] == 0x7f ? ' ' : r[i];
        if (c != ' ' || (n > 0 && r[n - 1] != ' '))
            r[n++] = c;
    }
    r[n] = '\0';
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)r[n] & 0xC0) == 0x80)
            n--; /* r[n] continues a sequence: cut before the sequence starts */
    }
    while (n > 0 && r[n - 1] == ' ')
        n--;
    r[n] = '\0';
    return r;
}

static const char *server_message(struct sender *s)
{
    const char *m = one_line(s->response, SERVER_MSG_MAX);
    return *m ? m : "(no message)";
}

/* Where a 3xx points, for the administrator: the redirect is not followed (the
 * token and the documents go only to the configured url), but whoever reads the
 * parked row must see where the bureau says it moved. */
static const char *location_of(struct sender *s, char *buf, size_t n)
{
    char *to = NULL;
    if (curl_easy_getinfo(s->easy, CURLINFO_REDIRECT_URL, &to) != CURLE_OK || !to || !*to)
        return "no Location given";
    snprintf(buf, n, "Location: %s", to);
    return one_line(buf, LOCATION_MAX);
}

/* 4xx: the bureau refuses this document; 3xx: the endpoint moved. Both need a
 * person, and retrying would hold every later notice back: parked. 408 and 429
 * mean "not now". */
static enum verdict verdict_of(long status)
{
    if (status >= 200 && status < 300)
        return V_SENT;
    if ((status >= 300 && status < 500) && status != 408 && status != 429)
        return V_PARKED;
    return V_RETRY;
}

/* The attempt's message, cut to fit (last_error is bounded anyway). */
GS_PRINTF(2, 3)
static void set_error(struct attempt *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->error, sizeof a->error, fmt, ap);
    va_end(ap);
}

/* Whether the connection broke once our TLS handshake was done and before any
 * answer: with TLS 1.3 the client finishes its handshake before the server has
 * checked the client certificate, so a server that refuses it (and does not wait
 * to deliver its alert) looks like this. */
static bool dropped_after_handshake(struct sender *s, CURLcode cc)
{
    curl_off_t tls_done = 0;
    if (cc != CURLE_SEND_ERROR && cc != CURLE_RECV_ERROR && cc != CURLE_GOT_NOTHING)
        return false;
    if (curl_easy_getinfo(s->easy, CURLINFO_APPCONNECT_TIME_T, &tls_done) != CURLE_OK)
        return false;
    return tls_done > 0 && s->response_len == 0 && !strstr(s->errbuf, "alert");
}

/* A transfer that failed, in curl's own words ("SSL certificate problem: unable to
 * get local issuer certificate", "Connection refused"): they say more than the
 * code's name. curl (7.88) keeps the first message of a transfer; when the server
 * drops the connection as soon as the handshake is done, that can be a note that
 * the peer's address could not be read, the failure itself coming after it. */
static void transfer_error(struct sender *s, CURLcode cc, struct attempt *a)
{
    const char *url = s->cfg->upstream.url;
    const char *what = *s->errbuf ? s->errbuf : curl_easy_strerror(cc);
    if (strncmp(s->errbuf, "getpeername()", 13) == 0)
        what = curl_easy_strerror(cc);
    if (strncmp(s->errbuf, "getpeername()", 13) == 0 || dropped_after_handshake(s, cc))
        set_error(a, "%s: %s: the server closed the connection right after the TLS "
                     "handshake (with TLS 1.3 this is how a server refuses a missing or "
                     "unaccepted client certificate)", url, what);
    else
        set_error(a, "%s: %s", url, what);
}

static void judge(struct sender *s, CURLcode cc, struct attempt *a)
{
    a->status = 0;
    a->error[0] = '\0';
    if (cc != CURLE_OK) {
        a->verdict = V_RETRY;
        transfer_error(s, cc, a);
        return;
    }
    curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &a->status);
    a->verdict = verdict_of(a->status);
    char to[LOCATION_MAX + 16];
    if (a->status >= 300 && a->status < 400)
        set_error(a, "HTTP %ld from %s: redirected (%s), not followed: if the bureau moved "
                     "its endpoint, set [upstream] url to it and run gatescreen upload "
                     "--retry-parked: %s", a->status, s->cfg->upstream.url,
                  location_of(s, to, sizeof to), server_message(s));
    else if (a->verdict != V_SENT)
        set_error(a, "HTTP %ld from %s: %s", a->status, s->cfg->upstream.url,
                  server_message(s));
}

/* An expired client certificate is refused by the bureau, but over TLS 1.3 curl
 * often reports only a dropped connection: say what is wrong instead, and do not
 * offer it. The row waits (retry) until someone renews the certificate. */
static bool client_cert_expired(struct sender *s, struct attempt *a)
{
    const char *cert = s->cfg->upstream.client_cert;
    char msg[CFG_TEXT_MAX + 64];
    if (!*cert || cert_check_dates(cert, clock_wall_ms(), msg, sizeof msg) != 1)
        return false;
    a->verdict = V_RETRY;
    set_error(a, "client certificate %s: renew it; nothing was sent", msg);
    return true;
}

/* One POST of one row. */
/* A notice is built when queued. One built while identify = names and still
 * waiting after the school went back to pseudonyms must not go out with names:
 * parked, for a person to decide (gatescreen outbox shows why). */
static bool names_no_longer_allowed(struct sender *s, const struct outbox_item *it,
                                    struct attempt *a)
{
    if (it->kind != OUTBOX_NOTICE || s->cfg->upstream.identify_names ||
        !strstr(it->body, "\"external_id\""))
        return false;
    a->verdict = V_PARKED;
    set_error(a, "built with identify = names, which is no longer set: not sent (the "
                 "referral or alert stays in the ledger; send it with names only by setting "
                 "identify = names and running gatescreen upload --retry-parked)");
    return true;
}

void sender_post(struct sender *s, const struct outbox_item *it, struct attempt *a)
{
    if (client_cert_expired(s, a) || names_no_longer_allowed(s, it, a))
        return;
    struct curl_slist *headers = headers_of(s, it);
    enum verdict stopped = V_SENT;
    CURLcode cc = CURLE_OUT_OF_MEMORY;
    if (headers && set_request(s, it, headers) == CURLE_OK)
        cc = transfer(s, it, &stopped);
    else if (headers)
        cc = CURLE_FAILED_INIT; /* an option this libcurl does not take: a build problem */
    curl_slist_free_all(headers);
    if (stopped != V_SENT)
        a->verdict = stopped;
    else
        judge(s, cc, a);
}
