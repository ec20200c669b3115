/* The outbox (docs/design.md, "Upstream"): everything the bureau is to receive, in
 * order, kept in the ledger until the server acknowledged it, and the stored
 * summary revisions. All SQL of the outbox and summaries tables is in
 * ledger_outbox.c. Safe to use from several connections and processes at once (the
 * daemon's uploader, the main loop, `gatescreen upload`): every change is one short
 * transaction, and the idempotency key is unique, so racing writers cannot queue a
 * thing twice. */
#ifndef GS_LEDGER_OUTBOX_H
#define GS_LEDGER_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"

enum outbox_kind { OUTBOX_SUMMARY, OUTBOX_NOTICE };

#define OUTBOX_KEY_MAX 128   /* "CODE/YYYY-MM-DD/REVISION", "CODE/referral/ID" */
#define OUTBOX_ERROR_MAX 512 /* last_error is cut to this (a server may say a lot) */
/* Referrals and alerts older than this get no notice: an urgent notice a week late
 * is no longer urgent, and the reconciliation stays a small query. */
#define OUTBOX_NOTICE_DAYS 7

/* "summary" | "notice". */
const char *outbox_kind_name(enum outbox_kind kind);

/* Queues a document under its idempotency key; a key already in the outbox (in
 * any state) changes nothing: *added (may be NULL) tells which. */
int outbox_enqueue(struct ledger *l, enum outbox_kind kind, const char *key, const char *body,
                   int64_t created_ms, bool *added);

/* The day's highest stored revision and its body (NULL and revision 0 when none;
 * the body is malloc'd). */
int ledger_latest_summary(struct ledger *l, const char *day, int *revision, char **body);
/* Stores revision `revision` of the day's summary and queues it under `key`, in one
 * transaction, unless another writer stored a revision since revision - 1 was read
 * (*raced then, nothing written). */
int ledger_store_summary(struct ledger *l, const char *key, const char *day, int revision,
                         int64_t now_ms, const char *body, bool *raced);
/* Referrals and alerts opened since since_ms without their notice in the outbox
 * ("CODE/referral/ID", "CODE/alert/ID"), oldest first, each given to fn; fn
 * returning -1 stops the list (-1 then). */
int ledger_missing_notices(struct ledger *l, const char *code, int64_t since_ms,
                           int (*fn)(bool alert, int64_t id, void *arg), void *arg);

/* A pending row, as the uploader sends it. */
struct outbox_item {
    int64_t id;
    enum outbox_kind kind;
    char key[OUTBOX_KEY_MAX];
    char *body; /* malloc'd; outbox_item_clear frees it */
    int attempts; /* failed attempts so far: every earlier attempt failed */
    int64_t created_ms, next_attempt_ms;
};
void outbox_item_clear(struct outbox_item *it);

#define OUTBOX_HOLDER_MAX 64

/* Who takes a row, and for how long. Only one sender holds a row at a time, also
 * across processes (the daemon's uploader, `gatescreen upload`): the lease is
 * taken in a write transaction, and ends with the verdict, or when it expires (a
 * holder that died). */
struct outbox_lease {
    const char *holder; /* unique per sender: "gatescreend[1234]/5f0c..." */
    int64_t ms;         /* longer than one attempt can take */
};

/* Why no row was taken. */
struct outbox_wait {
    int64_t wait_ms; /* until a kind's head is due or its lease ends; -1: nothing waits */
    /* A head row another sender holds ("" when none). */
    char busy_key[OUTBOX_KEY_MAX], busy_holder[OUTBOX_HOLDER_MAX];
    int64_t busy_until_ms;
    int held; /* pending summaries behind a parked revision of their day */
};

/* Takes (leases to lease->holder) the next row to send at now_ms: 1 and *it. Each
 * kind keeps its own order, and notices go first: the oldest pending notice, else
 * the oldest pending summary, each only when it is due and nobody else holds it;
 * a kind's later rows never overtake its head. A parked row does not hold back
 * its kind, except that a parked summary holds back the later revisions of its
 * day (the bureau gets a day's revisions in order). 0 and *w when nothing can be
 * taken now. */
int outbox_next_due(struct ledger *l, int64_t now_ms, const struct outbox_lease *lease,
                    struct outbox_item *it, struct outbox_wait *w);
/* Gives a row back untouched (a transfer stopped or set aside). */
int outbox_release(struct ledger *l, int64_t id, const char *holder);
/* Whether a notice should go before a summary in flight: the oldest pending notice
 * is due and free, or a referral or alert opened since since_ms has no notice yet. */
int outbox_notice_waiting(struct ledger *l, const char *code, int64_t since_ms, int64_t now_ms,
                          bool *waiting);

/* The outcome of an attempt; each ends the lease. Sent and parked count it
 * (attempts + 1); retry sets the count given. Retry and parked change only a row
 * still pending and still the holder's (one another sender took after the lease
 * expired is theirs). error is cut to OUTBOX_ERROR_MAX bytes (at a UTF-8
 * boundary). */
int outbox_mark_sent(struct ledger *l, int64_t id, int64_t now_ms);
int outbox_mark_retry(struct ledger *l, int64_t id, const char *holder, int attempts,
                      int64_t next_attempt_ms, const char *error);
int outbox_mark_parked(struct ledger *l, int64_t id, const char *holder, const char *error);
/* Every parked row back to pending, due at now_ms, attempts and last error kept;
 * each kind's order (and each day's) is the order the rows were queued in. */
int outbox_retry_parked(struct ledger *l, int64_t now_ms, int *count);

/* Every pending row due at now_ms: someone asked to send now (`upload --now`),
 * and the backoff only spaces out the uploader's own retries. */
int outbox_make_due(struct ledger *l, int64_t now_ms, int *count);

struct outbox_view {
    int64_t id;
    const char *kind, *key, *state; /* state: pending | sent | parked */
    int attempts;
    int64_t created_ms, sent_ms, next_attempt_ms; /* sent_ms 0 = not sent */
    const char *last_error;                       /* "" = none */
    /* Why a pending row is not sent now, beyond its retry (outbox_list only; NULL
     * elsewhere): "being sent by HOLDER", "waits behind parked KEY", or "". */
    const char *note;
};
/* Calls fn for every row in outbox order (oldest first); leases count as held
 * until now_ms. */
int outbox_list(struct ledger *l, int64_t now_ms,
                void (*fn)(const struct outbox_view *v, void *arg), void *arg);

struct outbox_counts {
    int pending, sent, parked;
};
int outbox_count(struct ledger *l, struct outbox_counts *c);

#endif
