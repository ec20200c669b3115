/* Upstream to the education bureau (docs/design.md, "Upstream"): the daily summary
 * and urgent notices as JSON documents, queued in the ledger's outbox and delivered
 * over HTTPS by the uploader. This header is the contract between the parts:
 *   summary.c    builds documents (pure apart from reading the ledger)
 *   pseudonym.c  keyed pseudonyms of people (HMAC-SHA-256, libsodium)
 *   ledger_outbox.c  the outbox and summaries tables (all their SQL)
 *   uploader.c   sends what is pending (libcurl, its own thread or one pass)
 * Documents are UTF-8 JSON (jansson), validated in tests against
 * config/schema/summary.schema.json and config/schema/notice.schema.json. */
#ifndef GS_UPSTREAM_H
#define GS_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "ledger.h"

/* ---- pseudonyms ------------------------------------------------------------------ */

struct pseudonym;
/* Reads the key from [upstream] secret_file (at least 32 bytes; its mode must
 * not let group or others read it). NULL with a FILE-prefixed message on errs. */
struct pseudonym *pseudonym_open(const char *secret_file, FILE *errs);
void pseudonym_free(struct pseudonym *p);
/* Lower-case hex HMAC-SHA-256(key, external_id): 64 characters + NUL. */
void pseudonym_of(const struct pseudonym *p, const char *external_id, char out[65]);

/* ---- documents ------------------------------------------------------------------- */

/* The day's summary (schema summary.schema.json), compact JSON, malloc'd into
 * *json. Aggregates only: never a name or an id. */
int summary_build(struct ledger *l, const struct config *cfg, const char *day, int revision,
                  int64_t generated_ms, char **json);
/* Whether two summaries say the same, ignoring revision and generated_at: a send
 * after no new facts is not a new revision. */
int summary_same_facts(const char *a, const char *b, bool *same);
/* Any document (summary or notice) indented by 2 for people to read, numbers
 * printed as in the compact form; malloc'd into *out. */
int summary_pretty(const char *json, char **out);

/* Urgent notices (schema notice.schema.json). The person appears as a pseudonym
 * plus class, or by name and id with [upstream] identify = names. */
int notice_build_referral(struct ledger *l, const struct config *cfg,
                          const struct pseudonym *ps, int64_t referral_id, int64_t generated_ms,
                          char **json);
int notice_build_alert(struct ledger *l, const struct config *cfg, const struct pseudonym *ps,
                       int64_t alert_id, int64_t generated_ms, char **json);

/* ---- queueing into the outbox (outbox_queue.c) ---- */

/* Builds the day's summary as revision latest + 1. When the latest stored revision
 * says the same (summary_same_facts), nothing is stored: *queued false, *revision
 * the revision that stands. Otherwise the revision goes into `summaries` and the
 * outbox (key "CODE/DAY/REVISION") in one transaction: *queued true, *revision the
 * new one. The document is built outside the write transaction, so the lanes never
 * wait on it; if another writer stored a revision meanwhile, it is built again on
 * top of that one. */
int outbox_queue_summary(struct ledger *l, const struct config *cfg, const char *day,
                         int64_t now_ms, int *revision, bool *queued);

/* Reconciliation of the urgent notices: every referral and cluster alert opened in
 * the last OUTBOX_NOTICE_DAYS without its notice in the outbox ("CODE/referral/ID",
 * "CODE/alert/ID") gets one, oldest first, one transaction each. Exactly once even
 * when several processes run it. *queued = notices added. A notice that cannot be
 * built (no pseudonym key, ...) is logged and the others still go; -1 then. */
int outbox_queue_notices(struct ledger *l, const struct config *cfg, const struct pseudonym *ps,
                         int64_t now_ms, int *queued);

#endif
