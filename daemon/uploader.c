/* The uploader (uploader.h): the outbox to the bureau over HTTPS with libcurl.
 *
 * Transfers run on a curl multi handle even though there is one at a time: its
 * curl_multi_poll is the thread's only wait, and curl_multi_wakeup (any thread)
 * interrupts it, so a wake-up or a stop is seen at once, also in the middle of a
 * TLS handshake or a slow server's answer. The thread owns its ledger connection,
 * its copy of the configuration, the credentials and the curl handles; the other
 * threads only touch the atomics and, under the mutex, the requests in `asked`.
 *
 * Backoff is a function of the row's attempts, not of the process: after a restart
 * (or from `gatescreen upload`) a row that failed five times still waits its
 * 16 × retry_min. */
#include "uploader.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "certs.h"
#include "civil.h"
#include "ledger_outbox.h"
#include "log.h"
#include "textnum.h"
#include "upstream.h"

#define RESPONSE_MAX 2048      /* of the server's answer, kept for the message */
#define SERVER_MSG_MAX 300     /* of it in last_error and the log */
#define TOKEN_MAX 4096         /* a bearer token is far shorter; a big file is the wrong one */
#define IDLE_MS 1000           /* a pass at least this often: notices go at once */
#define LOG_EVERY_MS (15 * 60 * 1000) /* a failure that lasts is logged at least this often */
#define MAX_ASKED 8            /* summary days waiting for the thread */
#define NOTICES_RETRY_MIN_MS 1000
#define NOTICES_RETRY_MAX_MS (10 * 60 * 1000)

/* ---- files ------------------------------------------------------------------------------ */

struct creds {
    char *token;          /* NULL without token_file */
    struct pseudonym *ps; /* NULL without secret_file */
};

static void creds_free(struct creds *c)
{
    if (c->token) {
        explicit_bzero(c->token, strlen(c->token)); /* not left lying in freed memory */
        free(c->token);
    }
    pseudonym_free(c->ps);
    *c = (struct creds){0};
}

/* The token without its line end: one line of printable ASCII (it goes into a
 * header: a stray CR or LF there would inject headers). */
static int token_text(const char *path, char *buf, size_t len, FILE *errs)
{
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
        buf[--len] = '\0';
    if (len == 0) {
        fprintf(errs, "%s: the token file is empty\n", path);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)buf[i] <= 0x20 || (unsigned char)buf[i] >= 0x7f) {
            fprintf(errs, "%s: the token must be one line of printable ASCII without "
                          "spaces\n", path);
            return -1;
        }
    return 0;
}

/* Checks the open token file's type, mode and size. */
static int token_stat(const char *path, int fd, struct stat *st, FILE *errs)
{
    if (fstat(fd, st) < 0) {
        fprintf(errs, "%s: cannot read the token file: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        fprintf(errs, "%s: not a regular file; the token must be a file\n", path);
        return -1;
    }
    if (st->st_mode & 077) {
        fprintf(errs, "%s: mode %04o: the token must not be readable by group or others "
                      "(chmod 600)\n", path, (unsigned)(st->st_mode & 07777));
        return -1;
    }
    if (st->st_size == 0)
        fprintf(errs, "%s: the token file is empty\n", path);
    else if (st->st_size > TOKEN_MAX)
        fprintf(errs, "%s: the token file is larger than %d bytes\n", path, TOKEN_MAX);
    return st->st_size == 0 || st->st_size > TOKEN_MAX ? -1 : 0;
}

static int read_token(const char *path, char **token, FILE *errs)
{
    struct stat st;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *token = NULL;
    if (fd < 0) {
        fprintf(errs, "%s: cannot open the token file: %s\n", path, strerror(errno));
        return -1;
    }
    if (token_stat(path, fd, &st, errs) < 0 || !(buf = calloc(1, (size_t)st.st_size + 1)))
        goto fail;
    ssize_t n = read(fd, buf, (size_t)st.st_size);
    if (n < 0) {
        fprintf(errs, "%s: cannot read the token file: %s\n", path, strerror(errno));
        goto fail;
    }
    if (token_text(path, buf, (size_t)n, errs) < 0)
        goto fail;
    close(fd);
    *token = buf;
    return 0;
fail:
    close(fd);
    free(buf);
    return -1;
}

static int check_readable(const char *path, const char *what, FILE *errs)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(errs, "%s: cannot read the %s: %s\n", path, what, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

/* Every file check, all problems reported; *c holds the token and key on success. */
static int creds_load(const struct cfg_upstream *u, struct creds *c, FILE *errs)
{
    int bad = 0;
    *c = (struct creds){0};
    if (!u->enabled)
        return 0;
    if (*u->token_file)
        bad |= read_token(u->token_file, &c->token, errs);
    bad |= check_readable(u->ca_file, "CA file", errs);
    if (*u->client_cert)
        bad |= check_readable(u->client_cert, "client certificate", errs);
    char msg[CFG_TEXT_MAX + 64];
    /* Expired is not a reason to stop the gate: warn now, refuse each send. */
    if (*u->client_cert && cert_check_dates(u->client_cert, ledger_wall_ms(), msg,
                                            sizeof msg) == 1)
        log_warn("upstream: client certificate %s: nothing will be sent until it is renewed",
                 msg);
    if (*u->client_key)
        bad |= check_readable(u->client_key, "client key", errs);
    if (*u->secret_file && !(c->ps = pseudonym_open(u->secret_file, errs)))
        bad = -1;
    if (bad)
        creds_free(c);
    return bad ? -1 : 0;
}

int uploader_check_files(const struct config *cfg, FILE *errs)
{
    struct creds c;
    int rc = creds_load(&cfg->upstream, &c, errs);
    creds_free(&c);
    return rc;
}

/* ---- one request ----------------------------------------------------------------------- */

/* What a pass sends with: the thread's or the CLI's. */
struct sender {
    const struct config *cfg;
    const struct creds *creds;
    CURLM *multi;
    CURL *easy;
    const atomic_int *stop; /* NULL: nobody stops a CLI pass */
    FILE *out;              /* the CLI's lines; NULL in the daemon, which logs */
    uint32_t rng;
    struct log_limit retry_log, parked_log;
    /* A notice that cannot be built fails every pass until someone fixes the
     * cause: its reconciliation is backed off so the log is not flooded. */
    int64_t notices_due_ms; /* monotonic */
    struct backoff notices_backoff;
    char errbuf[CURL_ERROR_SIZE];
    char response[RESPONSE_MAX];
    size_t response_len;
};

enum verdict { V_SENT, V_RETRY, V_PARKED, V_STOPPED };

struct attempt {
    enum verdict verdict;
    long status;                   /* HTTP status, 0 when there was no answer */
    char error[OUTBOX_ERROR_MAX];  /* for last_error and the log */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool stopping(const struct sender *s)
{
    return s->stop && atomic_load(s->stop);
}

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

/* TLS as DESIGN §6 says: the configured CA only, peer and host always verified. */
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

/* Runs the transfer; *stopped when a stop was asked before it ended. */
static CURLcode transfer(struct sender *s, bool *stopped)
{
    CURLcode result = CURLE_FAILED_INIT;
    int running = 1;
    *stopped = false;
    if (curl_multi_add_handle(s->multi, s->easy) != CURLM_OK)
        return result;
    while (running && !(*stopped = stopping(s))) {
        if (curl_multi_perform(s->multi, &running) != CURLM_OK)
            break;
        /* Waits for the sockets, curl's own timers, or curl_multi_wakeup. */
        if (running && curl_multi_poll(s->multi, NULL, 0, IDLE_MS, NULL) != CURLM_OK)
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

/* The server's answer as one short line: control characters and runs of spaces
 * become one space, cut at SERVER_MSG_MAX bytes on a UTF-8 boundary. */
static const char *server_message(struct sender *s)
{
    char *r = s->response;
    size_t n = 0;
    for (size_t i = 0; r[i]; i++) {
        char c = (unsigned char)r[i] < 0x20 || r[i] == 0x7f ? ' ' : r[i];
        if (c != ' ' || (n > 0 && r[n - 1] != ' '))
            r[n++] = c;
    }
    r[n] = '\0';
    if (n > SERVER_MSG_MAX) {
        n = SERVER_MSG_MAX;
        while (n > 0 && ((unsigned char)r[n] & 0xC0) == 0x80)
            n--; /* r[n] continues a sequence: cut before the sequence starts */
    }
    while (n > 0 && r[n - 1] == ' ')
        n--;
    r[n] = '\0';
    return n ? r : "(no message)";
}

/* 408 and 429 say "not now", not "not this": they are retried like a 5xx. */
static enum verdict verdict_of(long status)
{
    if (status >= 200 && status < 300)
        return V_SENT;
    if (status >= 400 && status < 500 && status != 408 && status != 429)
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
    if (a->verdict != V_SENT)
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
    if (!*cert || cert_check_dates(cert, ledger_wall_ms(), msg, sizeof msg) != 1)
        return false;
    a->verdict = V_RETRY;
    set_error(a, "client certificate %s: renew it; nothing was sent", msg);
    return true;
}

/* One POST of one row. */
static void post(struct sender *s, const struct outbox_item *it, struct attempt *a)
{
    if (client_cert_expired(s, a))
        return;
    struct curl_slist *headers = headers_of(s, it);
    bool stopped = false;
    CURLcode cc = CURLE_OUT_OF_MEMORY;
    if (headers && set_request(s, it, headers) == CURLE_OK)
        cc = transfer(s, &stopped);
    else if (headers)
        cc = CURLE_FAILED_INIT; /* an option this libcurl does not take: a build problem */
    curl_slist_free_all(headers);
    if (stopped)
        a->verdict = V_STOPPED;
    else
        judge(s, cc, a);
}

/* retry_min × 2^(attempts - 1) up to retry_max, with backoff's jitter. */
static int64_t retry_delay(struct sender *s, int attempts)
{
    const struct cfg_upstream *u = &s->cfg->upstream;
    struct backoff b = {.min_ms = u->retry_min_ms, .max_ms = u->retry_max_ms};
    for (int i = 1; i < attempts && b.current_ms < b.max_ms; i++)
        b.current_ms = b.current_ms == 0 ? b.min_ms
                       : b.current_ms * 2 > b.max_ms ? b.max_ms : b.current_ms * 2;
    return backoff_next(&b, &s->rng);
}

/* ---- recording ------------------------------------------------------------------------- */

/* "40s", "12min", "2.5h": for people reading when the next attempt is. */
static const char *fmt_delay(int64_t ms, char *buf, size_t n)
{
    long long sec = (long long)((ms + 500) / 1000);
    if (sec < 120)
        snprintf(buf, n, "%ds", (int)sec);
    else if (sec < 7200)
        snprintf(buf, n, "%dmin", (int)((sec + 30) / 60));
    else
        snprintf(buf, n, "%.1fh", (double)sec / 3600.0);
    return buf;
}

static void report_sent(struct sender *s, const struct outbox_item *it, long status)
{
    uint64_t failed = log_limit_reset(&s->retry_log);
    if (s->out)
        fprintf(s->out, "sent %s (HTTP %ld)\n", it->key, status);
    else if (failed)
        log_notice("upstream: %s delivered (HTTP %ld) after %" PRIu64 " failed attempts",
                   it->key, status, failed);
    else
        log_info("upstream: %s delivered (HTTP %ld)", it->key, status);
}

static void report_retry(struct sender *s, const struct outbox_item *it, int attempts,
                         int64_t delay, const char *error)
{
    char at[32];
    if (s->out) {
        fprintf(s->out, "retry %s: %s (attempt %d; next in %s)\n", it->key, error, attempts,
                fmt_delay(delay, at, sizeof at));
        return;
    }
    log_limited(&s->retry_log, mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                "upstream: %s not delivered (attempt %d; next in %s): %s", it->key, attempts,
                fmt_delay(delay, at, sizeof at), error);
}

static void report_parked(struct sender *s, const struct outbox_item *it, const char *error)
{
    if (s->out)
        fprintf(s->out, "parked %s: %s\n", it->key, error);
    else
        log_limited(&s->parked_log, mono_ms(), LOG_EVERY_MS, LOG_LVL_ERR,
                    "upstream: %s refused and parked (gatescreen upload --retry-parked sends "
                    "it again): %s", it->key, error);
}

/* Writes the verdict to the row; -1 when the ledger did not take it. */
static int record(struct sender *s, struct ledger *l, const struct outbox_item *it,
                  const struct attempt *a)
{
    int64_t now = ledger_wall_ms();
    if (a->verdict == V_SENT) {
        report_sent(s, it, a->status);
        return outbox_mark_sent(l, it->id, now);
    }
    if (a->verdict == V_PARKED) {
        report_parked(s, it, a->error);
        return outbox_mark_parked(l, it->id, a->error);
    }
    int64_t delay = retry_delay(s, it->attempts + 1);
    report_retry(s, it, it->attempts + 1, delay, a->error);
    return outbox_mark_retry(l, it->id, it->attempts + 1, now + delay, a->error);
}

/* ---- a pass ---------------------------------------------------------------------------- */

struct pass_result {
    int sent, failed;
    int64_t wait_ms;     /* until the head row's retry, -1 when nothing waits */
    bool notices_failed; /* some notice could not be queued (logged) */
};

/* Sends due rows in order until one must wait, nothing is due, or a stop. */
static int send_due(struct sender *s, struct ledger *l, struct pass_result *r)
{
    struct outbox_item it;
    int due = 0;
    r->wait_ms = -1;
    while (!stopping(s) && (due = outbox_next_due(l, ledger_wall_ms(), &it, &r->wait_ms)) > 0) {
        struct attempt a;
        post(s, &it, &a);
        int rc = a.verdict == V_STOPPED ? 0 : record(s, l, &it, &a);
        r->sent += a.verdict == V_SENT;
        r->failed += a.verdict == V_RETRY || a.verdict == V_PARKED;
        outbox_item_clear(&it);
        if (rc < 0) /* the row would be sent again at once, and again: stop here */
            return -1;
    }
    return stopping(s) ? 0 : due;
}

/* The notices' reconciliation, unless it failed lately and is backing off. */
static void queue_notices(struct sender *s, struct ledger *l, struct pass_result *r)
{
    int queued = 0;
    char in[32];
    if (mono_ms() < s->notices_due_ms)
        return;
    r->notices_failed =
        outbox_queue_notices(l, s->cfg, s->creds->ps, ledger_wall_ms(), &queued) < 0;
    if (queued && s->out)
        fprintf(s->out, "%d notice%s queued\n", queued, queued == 1 ? "" : "s");
    else if (queued)
        log_notice("upstream: %d urgent notice%s queued", queued, queued == 1 ? "" : "s");
    if (!r->notices_failed) {
        backoff_reset(&s->notices_backoff);
        return;
    }
    int64_t delay = backoff_next(&s->notices_backoff, &s->rng);
    s->notices_due_ms = mono_ms() + delay;
    if (!s->out)
        log_warn("upstream: urgent notices not all queued (see above); trying again in %s",
                 fmt_delay(delay, in, sizeof in));
}

/* Notices are queued first, so a referral opened a moment ago goes in this pass. */
static int pass(struct sender *s, struct ledger *l, struct pass_result *r)
{
    *r = (struct pass_result){.wait_ms = -1};
    queue_notices(s, l, r);
    return send_due(s, l, r);
}

static uint32_t seed(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint32_t)ts.tv_nsec ^ (uint32_t)getpid() * 2654435761u) | 1u;
}

int uploader_run_once(const struct config *cfg, struct ledger *l, int *sent, int *failed,
                      FILE *out)
{
    struct creds c = {0};
    struct sender s = {.cfg = cfg, .creds = &c, .out = out, .rng = seed()};
    struct pass_result r = {0};
    int rc = -1;
    *sent = *failed = 0;
    if (!cfg->upstream.enabled) {
        log_err("upstream: [upstream] url is not set; nothing to send to");
        return -1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_err("upstream: libcurl cannot start");
        return -1;
    }
    if (creds_load(&cfg->upstream, &c, stderr) == 0 && (s.multi = curl_multi_init()) &&
        (s.easy = curl_easy_init()))
        rc = pass(&s, l, &r) < 0 || r.notices_failed ? -1 : 0;
    *sent = r.sent;
    *failed = r.failed;
    curl_easy_cleanup(s.easy);
    curl_multi_cleanup(s.multi);
    creds_free(&c);
    curl_global_cleanup();
    return rc;
}

/* ---- the daemon's thread --------------------------------------------------------------- */

#define FAILED_PASS_MIN_MS 1000
#define FAILED_PASS_MAX_MS (60 * 1000)

struct uploader {
    pthread_t thread;
    bool started, curl_started;
    atomic_int stop, woken;
    CURLM *multi;              /* made before the thread: other threads wake it */
    pthread_mutex_t mu;        /* guards next_cfg and asked */
    struct config *next_cfg;   /* from uploader_reconfigure, taken at the next pass */
    int nasked;
    char asked[MAX_ASKED][CIVIL_DAY_LEN];
    /* The thread's own from here on. */
    struct config *cfg;
    struct creds creds;
    struct ledger *l;
    struct sender s;
    struct backoff failed_pass; /* a pass that fails is not tried again at once */
};

/* Adds day to the requests unless it is there already; under u->mu. */
static int ask_locked(struct uploader *u, const char *day)
{
    for (int i = 0; i < u->nasked; i++)
        if (strcmp(u->asked[i], day) == 0)
            return 0;
    if (u->nasked == MAX_ASKED)
        return -1;
    snprintf(u->asked[u->nasked++], CIVIL_DAY_LEN, "%.10s", day); /* checked YYYY-MM-DD */
    return 0;
}

static int queue_day(struct uploader *u, const char *day)
{
    int revision = 0;
    bool queued = false;
    if (outbox_queue_summary(u->l, u->cfg, day, ledger_wall_ms(), &revision, &queued) < 0) {
        log_err("upstream: summary %s not queued (see above); trying again", day);
        pthread_mutex_lock(&u->mu);
        ask_locked(u, day);
        pthread_mutex_unlock(&u->mu);
        return -1;
    }
    if (queued)
        log_notice("upstream: summary %s revision %d queued", day, revision);
    else
        log_info("upstream: summary %s: no new facts, revision %d stands", day, revision);
    return 0;
}

/* The summaries asked for since the last pass. */
static int queue_asked(struct uploader *u)
{
    char days[MAX_ASKED][CIVIL_DAY_LEN];
    pthread_mutex_lock(&u->mu);
    int n = u->nasked, rc = 0;
    memcpy(days, u->asked, sizeof days);
    u->nasked = 0;
    pthread_mutex_unlock(&u->mu);
    for (int i = 0; i < n; i++)
        rc |= queue_day(u, days[i]);
    return rc;
}

/* Logs what the file checks wrote, line by line (stderr may be detached). */
static int load_logged(const struct cfg_upstream *up, struct creds *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *errs = open_memstream(&text, &len);
    int rc = errs ? creds_load(up, c, errs) : -1;
    if (errs)
        fclose(errs);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        log_err("upstream: %s", line);
    free(text);
    return rc;
}

/* A reloaded configuration, taken only if its files pass the checks. */
static void take_config(struct uploader *u)
{
    struct creds c;
    pthread_mutex_lock(&u->mu);
    struct config *next = u->next_cfg;
    u->next_cfg = NULL;
    pthread_mutex_unlock(&u->mu);
    if (!next)
        return;
    if (load_logged(&next->upstream, &c) < 0) {
        log_err("upstream: reload: keeping the previous [upstream] settings");
        config_free(next);
        return;
    }
    creds_free(&u->creds);
    u->creds = c;
    config_free(u->cfg);
    u->cfg = next;
    u->s.cfg = next;
}

/* Until the next pass: a second at most, less when the head row is due sooner;
 * at once when woken. */
static void idle(struct uploader *u, int64_t ms)
{
    if (atomic_exchange(&u->woken, 0) || atomic_load(&u->stop))
        return;
    curl_multi_poll(u->multi, NULL, 0, (int)ms, NULL);
    atomic_store(&u->woken, 0); /* a wake-up during the wait is served by this pass */
}

static void *run(void *arg)
{
    struct uploader *u = arg;
    while (!atomic_load(&u->stop)) {
        struct pass_result r = {.wait_ms = -1};
        take_config(u);
        if (!u->cfg->upstream.enabled) {
            idle(u, IDLE_MS);
            continue;
        }
        int rc = queue_asked(u);
        if (pass(&u->s, u->l, &r) < 0 || rc < 0) {
            idle(u, backoff_next(&u->failed_pass, &u->s.rng)); /* errors were logged */
            continue;
        }
        backoff_reset(&u->failed_pass);
        idle(u, r.wait_ms >= 0 && r.wait_ms < IDLE_MS ? r.wait_ms : IDLE_MS);
    }
    return NULL;
}

static void free_uploader(struct uploader *u)
{
    if (!u)
        return;
    curl_easy_cleanup(u->s.easy);
    curl_multi_cleanup(u->multi);
    if (u->curl_started)
        curl_global_cleanup();
    ledger_close(u->l);
    creds_free(&u->creds);
    config_free(u->cfg);
    config_free(u->next_cfg);
    pthread_mutex_destroy(&u->mu);
    free(u);
}

/* The handles and the ledger connection the thread will own. */
static int open_handles(struct uploader *u, FILE *errs)
{
    struct ledger_opts o = {.synchronous_full = u->cfg->ledger.synchronous_full};
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(errs, "upstream: libcurl cannot start\n");
        return -1;
    }
    u->curl_started = true;
    if (!(u->multi = curl_multi_init()) || !(u->s.easy = curl_easy_init())) {
        fprintf(errs, "upstream: libcurl cannot start (out of memory)\n");
        return -1;
    }
    if (ledger_open(u->cfg->ledger.database, &o, &u->l) < 0) {
        fprintf(errs, "%s: the uploader cannot open the ledger (see the log)\n",
                u->cfg->ledger.database);
        return -1;
    }
    return 0;
}

struct uploader *uploader_start(const struct config *cfg, FILE *errs)
{
    struct uploader *u = calloc(1, sizeof *u);
    if (!u || pthread_mutex_init(&u->mu, NULL) != 0 || !(u->cfg = malloc(sizeof *u->cfg))) {
        fprintf(errs, "upstream: out of memory\n");
        free(u);
        return NULL;
    }
    memcpy(u->cfg, cfg, sizeof *u->cfg);
    atomic_init(&u->stop, 0);
    atomic_init(&u->woken, 0);
    u->s = (struct sender){.cfg = u->cfg, .creds = &u->creds, .stop = &u->stop, .rng = seed(),
                           .notices_backoff = {.min_ms = NOTICES_RETRY_MIN_MS,
                                               .max_ms = NOTICES_RETRY_MAX_MS}};
    u->failed_pass = (struct backoff){.min_ms = FAILED_PASS_MIN_MS, .max_ms = FAILED_PASS_MAX_MS};
    if (creds_load(&cfg->upstream, &u->creds, errs) < 0 || open_handles(u, errs) < 0)
        goto fail;
    u->s.multi = u->multi;
    if (pthread_create(&u->thread, NULL, run, u) != 0) {
        fprintf(errs, "upstream: cannot start the uploader thread\n");
        goto fail;
    }
    u->started = true;
    return u;
fail:
    free_uploader(u);
    return NULL;
}

void uploader_reconfigure(struct uploader *u, const struct config *cfg)
{
    struct config *copy = u ? malloc(sizeof *copy) : NULL;
    if (!u)
        return;
    if (!copy) {
        log_err("upstream: reload: out of memory; keeping the previous settings");
        return;
    }
    memcpy(copy, cfg, sizeof *copy);
    pthread_mutex_lock(&u->mu);
    config_free(u->next_cfg); /* two reloads before a pass: the later one wins */
    u->next_cfg = copy;
    pthread_mutex_unlock(&u->mu);
    uploader_wake(u);
}

void uploader_wake(struct uploader *u)
{
    if (!u)
        return;
    atomic_store(&u->woken, 1);
    curl_multi_wakeup(u->multi);
}

int uploader_queue_summary(struct uploader *u, const char *day)
{
    int y, m, d;
    if (!u)
        return -1;
    if (!day || tn_date(day, &y, &m, &d) < 0) {
        log_err("upstream: '%s' is not a day YYYY-MM-DD; no summary queued", day ? day : "");
        return -1;
    }
    pthread_mutex_lock(&u->mu);
    int rc = ask_locked(u, day);
    pthread_mutex_unlock(&u->mu);
    if (rc < 0)
        log_err("upstream: %d summaries wait already; summary %s not queued", MAX_ASKED, day);
    else
        uploader_wake(u);
    return rc;
}

void uploader_stop(struct uploader *u)
{
    if (!u)
        return;
    atomic_store(&u->stop, 1);
    curl_multi_wakeup(u->multi);
    if (u->started)
        pthread_join(u->thread, NULL);
    free_uploader(u);
}
