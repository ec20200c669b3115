/* The uploader (uploader.h): the outbox to the bureau over HTTPS with libcurl. This
 * file has the passes and the daemon's thread; the files it needs are checked in
 * upload_creds.c, and one row is sent in upload_request.c (upload_private.h).
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
 * 16 × retry_min.
 *
 * One sender per row: a pass takes each row with a lease in the ledger
 * (outbox_next_due), so the daemon and `gatescreen upload --now` never POST the
 * same row at once; the lease outlasts one attempt ([upstream] timeout +
 * LEASE_MARGIN_MS), so a holder killed mid-send frees its row when it expires. */
#include "uploader.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "civil.h"
#include "clock.h"
#include "ledger_outbox.h"
#include "log.h"
#include "textnum.h"
#include "upload_private.h"
#include "upstream.h"

#define LOG_EVERY_MS (15 * 60 * 1000) /* a failure that lasts is logged at least this often */
#define MAX_ASKED 8            /* summary days waiting for the thread */
#define NOTICES_RETRY_MIN_MS 1000
#define NOTICES_RETRY_MAX_MS (10 * 60 * 1000)
#define LEASE_MARGIN_MS 2000   /* beyond [upstream] timeout: the verdict's ledger write */
#define DAY_MS (24 * 3600 * 1000LL)

/* libcurl; uploader_forget_environment has run before any thread started. */
static int start_curl(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void uploader_forget_environment(void)
{
    unsetenv("SSLKEYLOGFILE");
}

/* ---- recording ------------------------------------------------------------------------- */

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

/* The failed attempts are the row's, stored: they survive a restart. */
static void report_sent(struct sender *s, const struct outbox_item *it, long status)
{
    log_limit_reset(&s->retry_log);
    if (s->out)
        fprintf(s->out, "sent %s (HTTP %ld)\n", it->key, status);
    else if (it->attempts)
        log_notice("upstream: %s delivered (HTTP %ld) after %d failed attempt%s", it->key,
                   status, it->attempts, it->attempts == 1 ? "" : "s");
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
    log_limited(&s->retry_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                "upstream: %s not delivered (attempt %d; next in %s): %s", it->key, attempts,
                fmt_delay(delay, at, sizeof at), error);
}

static void report_parked(struct sender *s, const struct outbox_item *it, const char *error)
{
    if (s->out)
        fprintf(s->out, "parked %s: %s\n", it->key, error);
    else /* each row is parked once: every one is logged */
        log_err("upstream: %s refused and parked (gatescreen upload --retry-parked sends "
                "it again): %s", it->key, error);
}

/* Writes the verdict to the row; -1 when the ledger did not take it. */
static int record(struct sender *s, struct ledger *l, const struct outbox_item *it,
                  const struct attempt *a)
{
    int64_t now = clock_wall_ms();
    if (a->verdict == V_SENT) {
        report_sent(s, it, a->status);
        return outbox_mark_sent(l, it->id, now);
    }
    if (a->verdict == V_PARKED) {
        report_parked(s, it, a->error);
        return outbox_mark_parked(l, it->id, s->holder, a->error);
    }
    if (a->verdict == V_STOPPED || a->verdict == V_YIELDED) /* untouched: free at once */
        return outbox_release(l, it->id, s->holder);
    int64_t delay = retry_delay(s, it->attempts + 1);
    report_retry(s, it, it->attempts + 1, delay, a->error);
    return outbox_mark_retry(l, it->id, s->holder, it->attempts + 1, now + delay, a->error);
}

/* ---- a pass ---------------------------------------------------------------------------- */

struct pass_result {
    int sent, failed;
    struct outbox_wait w; /* why the pass ended: w.wait_ms until a head row is due */
    bool notices_failed;  /* some notice could not be queued (logged) */
};

static void queue_notices(struct sender *s, struct ledger *l, struct pass_result *r);

/* A summary in flight asks this: a notice due, or a referral or alert without its
 * notice (unless their reconciliation is backing off after a failure: then it
 * would set every summary aside for nothing). */
static bool notice_waiting(struct sender *s)
{
    int64_t now = clock_wall_ms();
    int64_t since = clock_mono_ms() < s->notices_due_ms ? INT64_MAX
                                                        : now - OUTBOX_NOTICE_DAYS * DAY_MS;
    bool waiting = false;
    return outbox_notice_waiting(s->l, s->cfg->school.code, since, now, &waiting) == 0 &&
           waiting;
}

static void report_yield(struct sender *s, const struct outbox_item *it)
{
    if (s->out)
        fprintf(s->out, "set aside %s: an urgent notice goes first\n", it->key);
    else
        log_info("upstream: %s set aside: an urgent notice goes first; it is sent again "
                 "after it", it->key);
}

/* Why the pass left rows behind: another sender holds one (the CLI says so), or
 * summaries wait behind a parked revision of their day. */
static void report_waiting(struct sender *s, const struct outbox_wait *w)
{
    char until[32];
    if (*w->busy_key && s->out)
        fprintf(s->out, "busy %s: being sent by %s (its lease ends at %s); not sent again\n",
                w->busy_key, w->busy_holder,
                civil_local_text(w->busy_until_ms, CIVIL_DAY_HHMMSS, "-", until, sizeof until));
    if (w->held && s->out)
        fprintf(s->out, "%d summar%s wait%s behind a parked revision of the same day "
                        "(gatescreen outbox; gatescreen upload --retry-parked)\n", w->held,
                w->held == 1 ? "y" : "ies", w->held == 1 ? "s" : "");
    else if (w->held)
        log_limited(&s->held_log, clock_mono_ms(), LOG_EVERY_MS, LOG_LVL_WARN,
                    "upstream: %d summar%s wait%s behind a parked revision of the same day "
                    "(gatescreen outbox; gatescreen upload --retry-parked)", w->held,
                    w->held == 1 ? "y" : "ies", w->held == 1 ? "s" : "");
}

/* Sends due rows, notices first, each kind in its order, until nothing is due,
 * or a stop. */
static int send_due(struct sender *s, struct ledger *l, struct pass_result *r)
{
    struct outbox_item it;
    struct outbox_lease lease = {s->holder, s->cfg->upstream.timeout_ms + LEASE_MARGIN_MS};
    int due = 0;
    s->l = l;
    while (!sender_stopping(s) &&
           (due = outbox_next_due(l, clock_wall_ms(), &lease, &it, &r->w)) > 0) {
        struct attempt a;
        sender_post(s, &it, &a);
        int rc = record(s, l, &it, &a);
        r->sent += a.verdict == V_SENT;
        r->failed += a.verdict == V_RETRY || a.verdict == V_PARKED;
        if (a.verdict == V_YIELDED) {
            report_yield(s, &it);
            queue_notices(s, l, r); /* the notice may not be queued yet */
        }
        outbox_item_clear(&it);
        if (rc < 0) /* the row would be sent again at once, and again: stop here */
            return -1;
    }
    if (due == 0)
        report_waiting(s, &r->w);
    return sender_stopping(s) ? 0 : due;
}

/* The notices' reconciliation, unless it failed lately and is backing off. */
static void queue_notices(struct sender *s, struct ledger *l, struct pass_result *r)
{
    int queued = 0;
    char in[32];
    if (clock_mono_ms() < s->notices_due_ms)
        return;
    r->notices_failed =
        outbox_queue_notices(l, s->cfg, s->creds->ps, clock_wall_ms(), &queued) < 0;
    if (queued && s->out)
        fprintf(s->out, "%d notice%s queued\n", queued, queued == 1 ? "" : "s");
    else if (queued)
        log_notice("upstream: %d urgent notice%s queued", queued, queued == 1 ? "" : "s");
    if (!r->notices_failed) {
        backoff_reset(&s->notices_backoff);
        return;
    }
    int64_t delay = backoff_next(&s->notices_backoff, &s->rng);
    s->notices_due_ms = clock_mono_ms() + delay;
    if (!s->out)
        log_warn("upstream: urgent notices not all queued (see above); trying again in %s",
                 fmt_delay(delay, in, sizeof in));
}

/* Notices are queued first, so a referral opened a moment ago goes in this pass. */
static int pass(struct sender *s, struct ledger *l, struct pass_result *r)
{
    *r = (struct pass_result){.w.wait_ms = -1};
    queue_notices(s, l, r);
    return send_due(s, l, r);
}

static uint32_t seed(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint32_t)ts.tv_nsec ^ (uint32_t)getpid() * 2654435761u) | 1u;
}

/* The sender's name on the rows it holds: the program and pid for the person
 * reading `gatescreen outbox`, a random part so that a pid used again after a
 * crash is not taken for the dead holder. */
static void name_holder(struct sender *s, const char *program)
{
    snprintf(s->holder, sizeof s->holder, "%s[%ld]/%08x", program, (long)getpid(),
             (unsigned)s->rng); /* seed(): the clock's nanoseconds */
}

int uploader_run_once(const struct config *cfg, struct ledger *l, int *sent, int *failed,
                      FILE *out)
{
    struct creds c = {0};
    struct sender s = {.cfg = cfg, .creds = &c, .out = out, .rng = seed(),
                       .notice_waiting = notice_waiting};
    name_holder(&s, "gatescreen upload");
    struct pass_result r = {0};
    int rc = -1;
    *sent = *failed = 0;
    if (!cfg->upstream.enabled) {
        log_err("upstream: [upstream] url is not set; nothing to send to");
        return -1;
    }
    if (start_curl() < 0) {
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
    if (outbox_queue_summary(u->l, u->cfg, day, clock_wall_ms(), &revision, &queued) < 0) {
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
    struct log_sink sink;
    FILE *errs = log_sink_open(&sink);
    int rc = errs ? creds_load(up, c, errs) : -1;
    log_sink_close_prefixed(&sink, "upstream: ");
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
        free(next); /* our flat copies: malloc + memcpy */
        return;
    }
    creds_free(&u->creds);
    u->creds = c;
    free(u->cfg);
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
        struct pass_result r = {.w.wait_ms = -1};
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
        idle(u, r.w.wait_ms >= 0 && r.w.wait_ms < IDLE_MS ? r.w.wait_ms : IDLE_MS);
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
    free(u->cfg);
    free(u->next_cfg);
    pthread_mutex_destroy(&u->mu);
    free(u);
}

/* The handles and the ledger connection the thread will own. */
static int open_handles(struct uploader *u, FILE *errs)
{
    struct ledger_opts o = {.synchronous_full = u->cfg->ledger.synchronous_full};
    if (start_curl() < 0) {
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
                           .notice_waiting = notice_waiting,
                           .notices_backoff = {.min_ms = NOTICES_RETRY_MIN_MS,
                                               .max_ms = NOTICES_RETRY_MAX_MS}};
    name_holder(&u->s, "gatescreend");
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
    free(u->next_cfg); /* two reloads before a pass: the later one wins */
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
