/* The outbox and the stored summary revisions: all their SQL (ledger_outbox.h).
 *
 * Exactly once rests on two things. Every document has an idempotency key that
 * is UNIQUE in the outbox, and is queued with INSERT OR IGNORE, so a document
 * queued twice (a restart, the CLI and the daemon at once) is one row. And a
 * summary revision is only made when the facts changed, so the same content never
 * becomes a second revision. The receiver dedupes on the key, so a row sent but
 * not yet marked sent when the power went is harmless to send again. */
#include "ledger_outbox.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_health_private.h"
#include "log.h"

static const char *const kind_names[] = {[OUTBOX_SUMMARY] = "summary",
                                         [OUTBOX_NOTICE] = "notice"};

const char *outbox_kind_name(enum outbox_kind kind)
{
    return kind_names[kind == OUTBOX_NOTICE ? OUTBOX_NOTICE : OUTBOX_SUMMARY];
}

int outbox_enqueue(struct ledger *l, enum outbox_kind kind, const char *key, const char *body,
                   int64_t created_ms, bool *added)
{
    int changes = 0;
    int rc = lh_run(l, &changes,
                    "INSERT OR IGNORE INTO outbox (kind, idempotency_key, body, created_ms, "
                    "next_attempt_ms) VALUES (?, ?, ?, ?, ?)",
                    "tttII", outbox_kind_name(kind), key, body, created_ms, created_ms);
    if (added)
        *added = rc == 0 && changes > 0;
    return rc;
}

/* ---- summaries ------------------------------------------------------------------------ */

int ledger_latest_summary(struct ledger *l, const char *day, int *revision, char **body)
{
    *revision = 0;
    *body = NULL;
    sqlite3_stmt *st = ledger_prepare(l, "SELECT revision, body FROM summaries WHERE day = ? "
                                         "ORDER BY revision DESC LIMIT 1");
    if (!st || lh_bind(st, "t", day) < 0) {
        sqlite3_finalize(st);
        return -1;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *revision = sqlite3_column_int(st, 0);
        if (!(*body = strdup(ledger_col_text(st, 1))))
            log_err("summary %s: out of memory", day);
    } else if (rc != SQLITE_DONE) {
        ledger_log_error(l, "latest summary");
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || (rc == SQLITE_ROW && *body) ? 0 : -1;
}

/* Inside the transaction: the revision and its outbox row. A key already queued
 * would mean a revision number used twice for different content: refuse. */
static int insert_summary(struct ledger *l, const char *key, const char *day, int revision,
                          int64_t now_ms, const char *body)
{
    bool added = false;
    if (lh_run(l, NULL, "INSERT INTO summaries (day, revision, generated_ms, body) "
                        "VALUES (?, ?, ?, ?)", "tdIt", day, revision, now_ms, body) < 0 ||
        outbox_enqueue(l, OUTBOX_SUMMARY, key, body, now_ms, &added) < 0)
        return -1;
    /* The day a parked revision holds back (outbox_next_due). */
    if (added && lh_run(l, NULL, "UPDATE outbox SET day = ? WHERE idempotency_key = ?", "tt",
                        day, key) < 0)
        return -1;
    if (!added)
        log_err("outbox: %s was queued before with other content; not queued again", key);
    return added ? 0 : -1;
}

int ledger_store_summary(struct ledger *l, const char *key, const char *day, int revision,
                         int64_t now_ms, const char *body, bool *raced)
{
    int64_t latest = 0;
    *raced = false;
    if (ledger_begin(l) < 0)
        return -1;
    if (lh_query_i64(l, &latest, "SELECT coalesce(max(revision), 0) FROM summaries "
                                 "WHERE day = ?", "t", day) < 0)
        return lh_finish(l, -1);
    if (latest != revision - 1) {
        *raced = true;
        ledger_rollback(l);
        return 0;
    }
    return lh_finish(l, insert_summary(l, key, day, revision, now_ms, body));
}

/* ---- notices -------------------------------------------------------------------------- */

int ledger_missing_notices(struct ledger *l, const char *code, int64_t since_ms,
                           int (*fn)(bool alert, int64_t id, void *arg), void *arg)
{
    sqlite3_stmt *st = ledger_prepare(l,
        "SELECT 0, r.id, r.opened_ms FROM referrals r WHERE r.opened_ms >= ?2 AND NOT EXISTS "
        "  (SELECT 1 FROM outbox o WHERE o.idempotency_key = ?1 || '/referral/' || r.id) "
        "UNION ALL "
        "SELECT 1, a.id, a.opened_ms FROM alerts a WHERE a.opened_ms >= ?2 AND NOT EXISTS "
        "  (SELECT 1 FROM outbox o WHERE o.idempotency_key = ?1 || '/alert/' || a.id) "
        "ORDER BY 3, 1, 2");
    int rc = SQLITE_ERROR;
    if (st && lh_bind(st, "tI", code, since_ms) == 0)
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            if (fn(sqlite3_column_int(st, 0), sqlite3_column_int64(st, 1), arg) < 0) {
                log_err("notices: out of memory");
                break;
            }
    return st ? lh_list_done(l, st, rc, "missing notices") : -1;
}

/* ---- delivery ------------------------------------------------------------------------- */

void outbox_item_clear(struct outbox_item *it)
{
    free(it->body);
    *it = (struct outbox_item){0};
}

static int item_from_row(sqlite3_stmt *st, struct outbox_item *it)
{
    *it = (struct outbox_item){
        .id = sqlite3_column_int64(st, 0),
        .kind = strcmp(ledger_col_text(st, 1), "notice") == 0 ? OUTBOX_NOTICE : OUTBOX_SUMMARY,
        .attempts = sqlite3_column_int(st, 4),
        .created_ms = sqlite3_column_int64(st, 5),
        .next_attempt_ms = sqlite3_column_int64(st, 6),
    };
    snprintf(it->key, sizeof it->key, "%s", ledger_col_text(st, 2));
    if (!(it->body = strdup(ledger_col_text(st, 3))))
        log_err("outbox: out of memory");
    return it->body ? 0 : -1;
}

/* The head of one kind: the oldest pending row, for a summary one that no parked
 * revision of its day comes before. */
#define HEAD_SQL                                                                           \
    "SELECT id, kind, idempotency_key, body, attempts, created_ms, next_attempt_ms, "     \
    "       lease_until_ms, lease_holder FROM outbox o "                                  \
    "WHERE state = 'pending' AND kind = ?1 AND NOT EXISTS (SELECT 1 FROM outbox p "       \
    "  WHERE ?1 = 'summary' AND p.state = 'parked' AND p.kind = 'summary' "               \
    "    AND p.day = o.day AND p.id < o.id) "                                             \
    "ORDER BY id LIMIT 1"

static void wait_for(struct outbox_wait *w, int64_t ms)
{
    if (w->wait_ms < 0 || ms < w->wait_ms)
        w->wait_ms = ms;
}

/* The head row as a candidate: 1 (*it) when it can be taken now, 0 when it waits
 * for its retry or another sender holds it (*w says until when). */
static int judge_head(sqlite3_stmt *st, int64_t now_ms, const struct outbox_lease *lease,
                      struct outbox_item *it, struct outbox_wait *w)
{
    int64_t next = sqlite3_column_int64(st, 6), until = sqlite3_column_int64(st, 7);
    const char *holder = ledger_col_text(st, 8);
    if (until > now_ms && strcmp(holder, lease->holder) != 0) {
        wait_for(w, until - now_ms);
        if (!*w->busy_key) {
            snprintf(w->busy_key, sizeof w->busy_key, "%s", ledger_col_text(st, 2));
            snprintf(w->busy_holder, sizeof w->busy_holder, "%s", holder);
            w->busy_until_ms = until;
        }
        return 0;
    }
    if (next > now_ms) {
        wait_for(w, next - now_ms);
        return 0;
    }
    return item_from_row(st, it) < 0 ? -1 : 1;
}

/* Inside the transaction: takes the head of one kind if it can be taken. */
static int take_head(struct ledger *l, enum outbox_kind kind, int64_t now_ms,
                     const struct outbox_lease *lease, struct outbox_item *it,
                     struct outbox_wait *w)
{
    sqlite3_stmt *st = ledger_prepare(l, HEAD_SQL);
    int got = -1;
    if (st && lh_bind(st, "t", outbox_kind_name(kind)) == 0) {
        int rc = sqlite3_step(st);
        got = rc == SQLITE_ROW ? judge_head(st, now_ms, lease, it, w)
              : rc == SQLITE_DONE ? 0 : -1;
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            ledger_log_error(l, "next outbox row");
    }
    sqlite3_finalize(st);
    if (got == 1 && lh_run(l, NULL, "UPDATE outbox SET lease_until_ms = ?, lease_holder = ? "
                                    "WHERE id = ?", "ItI", now_ms + lease->ms, lease->holder,
                           it->id) < 0)
        got = -1;
    return got;
}

static int count_held(struct ledger *l, int *held)
{
    int64_t n = 0;
    int rc = lh_query_i64(l, &n, "SELECT count(*) FROM outbox o WHERE state = 'pending' AND "
                                 "kind = 'summary' AND EXISTS (SELECT 1 FROM outbox p WHERE "
                                 "p.state = 'parked' AND p.kind = 'summary' AND "
                                 "p.day = o.day AND p.id < o.id)", "");
    *held = (int)n;
    return rc < 0 ? -1 : 0;
}

int outbox_next_due(struct ledger *l, int64_t now_ms, const struct outbox_lease *lease,
                    struct outbox_item *it, struct outbox_wait *w)
{
    int64_t pending = 0;
    *it = (struct outbox_item){0};
    *w = (struct outbox_wait){.wait_ms = -1};
    /* Nothing pending, the usual case: no write lock taken every second. */
    if (lh_query_i64(l, &pending, "SELECT EXISTS (SELECT 1 FROM outbox WHERE "
                                  "state = 'pending')", "") < 0)
        return -1;
    /* A write transaction from the look to the lease: two senders cannot both see
     * the row free. */
    if (!pending || ledger_begin(l) < 0)
        return pending ? -1 : 0;
    int got = take_head(l, OUTBOX_NOTICE, now_ms, lease, it, w); /* urgent: first */
    if (got == 0)
        got = take_head(l, OUTBOX_SUMMARY, now_ms, lease, it, w);
    if (got == 0)
        got = count_held(l, &w->held);
    if (lh_finish(l, got < 0 ? -1 : 0) < 0) {
        outbox_item_clear(it);
        return -1;
    }
    return got;
}

int outbox_release(struct ledger *l, int64_t id, const char *holder)
{
    return lh_run(l, NULL, "UPDATE outbox SET lease_until_ms = 0, lease_holder = '' "
                           "WHERE id = ? AND lease_holder = ?", "It", id, holder);
}

/* The notices' head, not any notice: one behind a head that waits for its retry
 * could not be sent, and the summary would be set aside again and again. */
int outbox_notice_waiting(struct ledger *l, const char *code, int64_t since_ms, int64_t now_ms,
                          bool *waiting)
{
    int64_t n = 0;
    int rc = lh_query_i64(l, &n,
        "SELECT EXISTS (SELECT 1 FROM outbox WHERE id = (SELECT min(id) FROM outbox "
        "                 WHERE state = 'pending' AND kind = 'notice') "
        "               AND next_attempt_ms <= ?3 AND lease_until_ms <= ?3) "
        "    OR EXISTS (SELECT 1 FROM referrals r WHERE r.opened_ms >= ?2 AND NOT EXISTS "
        "  (SELECT 1 FROM outbox o WHERE o.idempotency_key = ?1 || '/referral/' || r.id)) "
        "    OR EXISTS (SELECT 1 FROM alerts a WHERE a.opened_ms >= ?2 AND NOT EXISTS "
        "  (SELECT 1 FROM outbox o WHERE o.idempotency_key = ?1 || '/alert/' || a.id))",
        "tII", code, since_ms, now_ms);
    *waiting = rc == 1 && n;
    return rc < 0 ? -1 : 0;
}

/* error cut to OUTBOX_ERROR_MAX - 1 bytes without splitting a UTF-8 sequence. */
static const char *bounded(const char *error, char out[OUTBOX_ERROR_MAX])
{
    size_t n = strlen(error ? error : "");
    if (n < OUTBOX_ERROR_MAX)
        return error ? error : "";
    n = OUTBOX_ERROR_MAX - 1;
    while (n > 0 && ((unsigned char)error[n] & 0xC0) == 0x80)
        n--; /* error[n] would start the cut-off part: back to a sequence start */
    memcpy(out, error, n);
    out[n] = '\0';
    return out;
}

int outbox_mark_sent(struct ledger *l, int64_t id, int64_t now_ms)
{
    /* From any state: if the CLI and the daemon both sent it, one ack is enough. */
    return lh_run(l, NULL, "UPDATE outbox SET state = 'sent', sent_ms = ?, "
                           "attempts = attempts + 1, last_error = '', lease_until_ms = 0, "
                           "lease_holder = '' WHERE id = ?", "II", now_ms, id);
}

/* Retry and parked apply to pending rows the caller holds only: a row another
 * process got acknowledged meanwhile stays sent, and one another sender took after
 * the lease expired is theirs to judge. */
int outbox_mark_retry(struct ledger *l, int64_t id, const char *holder, int attempts,
                      int64_t next_attempt_ms, const char *error)
{
    char cut[OUTBOX_ERROR_MAX];
    return lh_run(l, NULL, "UPDATE outbox SET attempts = ?, next_attempt_ms = ?, last_error = ?, "
                           "lease_until_ms = 0, lease_holder = '' "
                           "WHERE id = ? AND state = 'pending' AND lease_holder = ?",
                  "dItIt", attempts, next_attempt_ms, bounded(error, cut), id, holder);
}

int outbox_mark_parked(struct ledger *l, int64_t id, const char *holder, const char *error)
{
    char cut[OUTBOX_ERROR_MAX];
    return lh_run(l, NULL, "UPDATE outbox SET state = 'parked', attempts = attempts + 1, "
                           "last_error = ?, lease_until_ms = 0, lease_holder = '' "
                           "WHERE id = ? AND state = 'pending' AND lease_holder = ?",
                  "tIt", bounded(error, cut), id, holder);
}

int outbox_retry_parked(struct ledger *l, int64_t now_ms, int *count)
{
    int changes = 0;
    int rc = lh_run(l, &changes, "UPDATE outbox SET state = 'pending', next_attempt_ms = ? "
                                 "WHERE state = 'parked'", "I", now_ms);
    if (count)
        *count = rc == 0 ? changes : 0;
    return rc;
}

int outbox_make_due(struct ledger *l, int64_t now_ms, int *count)
{
    int changes = 0;
    int rc = lh_run(l, &changes, "UPDATE outbox SET next_attempt_ms = ? "
                                 "WHERE state = 'pending' AND next_attempt_ms > ?",
                    "II", now_ms, now_ms);
    if (count)
        *count = rc == 0 ? changes : 0;
    return rc;
}

/* ---- listing -------------------------------------------------------------------------- */

struct outbox_cb {
    void (*fn)(const struct outbox_view *v, void *arg);
    void *arg;
};

static void outbox_row(sqlite3_stmt *st, void *ctx)
{
    struct outbox_cb *cb = ctx;
    struct outbox_view v = {
        .id = sqlite3_column_int64(st, 0), .kind = ledger_col_text(st, 1),
        .key = ledger_col_text(st, 2), .state = ledger_col_text(st, 3),
        .attempts = sqlite3_column_int(st, 4), .created_ms = sqlite3_column_int64(st, 5),
        .sent_ms = sqlite3_column_int64(st, 6), .next_attempt_ms = sqlite3_column_int64(st, 7),
        .last_error = ledger_col_text(st, 8), .note = ledger_col_text(st, 9)};
    cb->fn(&v, cb->arg);
}

int outbox_list(struct ledger *l, int64_t now_ms,
                void (*fn)(const struct outbox_view *v, void *arg), void *arg)
{
    struct outbox_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(l,
        "SELECT id, kind, idempotency_key, state, attempts, created_ms, coalesce(sent_ms, 0), "
        "       next_attempt_ms, last_error, "
        "       CASE WHEN state != 'pending' THEN '' "
        "            WHEN lease_until_ms > ? THEN 'being sent by ' || lease_holder "
        "            ELSE coalesce((SELECT 'waits behind parked ' || p.idempotency_key "
        "                 FROM outbox p WHERE o.kind = 'summary' AND p.state = 'parked' "
        "                   AND p.kind = 'summary' AND p.day = o.day AND p.id < o.id "
        "                 ORDER BY p.id LIMIT 1), '') END "
        "FROM outbox o ORDER BY id");
    if (st && lh_bind(st, "I", now_ms) < 0) {
        sqlite3_finalize(st);
        return -1;
    }
    return ledger_each_row(l, st, "outbox list", outbox_row, &cb);
}

int outbox_count(struct ledger *l, struct outbox_counts *c)
{
    sqlite3_stmt *st = ledger_prepare(l, "SELECT state, count(*) FROM outbox GROUP BY state");
    *c = (struct outbox_counts){0};
    if (!st)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *state = ledger_col_text(st, 0);
        int n = sqlite3_column_int(st, 1);
        if (strcmp(state, "pending") == 0)
            c->pending = n;
        else if (strcmp(state, "sent") == 0)
            c->sent = n;
        else
            c->parked = n;
    }
    return lh_list_done(l, st, rc, "outbox count");
}
