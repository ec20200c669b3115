/* The uploader (docs/design.md, "Upstream"): delivers the outbox to the bureau over
 * HTTPS, one POST per row, strictly in order, with libcurl. In the daemon it runs
 * in its own thread with its own ledger connection, so the gate never waits on the
 * network; `gatescreen upload --now` runs the same pass synchronously.
 *
 * Each row goes to [upstream] url with the headers Idempotency-Key (the row's key),
 * X-Gatescreen-Kind (summary | notice), Content-Type application/json and, with
 * token_file, Authorization: Bearer. TLS verification is always on (ca_file only;
 * the system store is not used), client certificate and key when configured.
 * The answer decides:
 *   2xx                                     sent
 *   3xx, 4xx (but 408, 429)                 parked with the server's message, until
 *                                           `gatescreen upload --retry-parked`
 *                                           (3xx: the endpoint moved; a person acts:
 *                                           the Location is in the message)
 *   5xx, 408, 429, timeouts, TLS and
 *   connection errors                       retried with exponential backoff and
 *                                           jitter (retry_min..retry_max), forever
 * Notices go first, and each kind keeps its own order: a row waiting for its
 * retry holds back the later rows of its kind only; a summary in flight is set
 * aside when a notice is waiting. A parked row does not hold back its kind, but a
 * parked summary holds back the later revisions of its day. One sender per row
 * (a lease in the outbox), also across the daemon and `gatescreen upload`. */
#ifndef GS_UPLOADER_H
#define GS_UPLOADER_H

#include <stdio.h>

#include "config.h"
#include "ledger.h"

/* Drops what the environment could make libcurl do on its own: SSLKEYLOGFILE would
 * write the TLS secrets (the token, the notices) to a file. Call first thing in
 * main, before any thread starts (the environment is not thread-safe). */
void uploader_forget_environment(void);

/* Checks the files [upstream] needs, writing every problem to errs as
 * "FILE: message": the token file exists, is a non-empty single line and is not
 * readable by group or others; the CA file, client certificate and key are
 * readable; the pseudonym key is valid. 0 when all is well or url is not set.
 * The very checks uploader_start runs (creds_load): gatescreend --check-config,
 * `gatescreen upload` and enrolment call this, so none can pass what the start
 * refuses. */
int uploader_check_files(const struct config *cfg, FILE *errs);

struct uploader;

/* Starts the uploader thread on a copy of cfg (its [ledger] database must exist:
 * start it after the daemon opened the ledger). Every second, or at once when
 * woken, a pass queues the urgent notices (outbox_queue_notices), the summaries
 * asked for with uploader_queue_summary, and sends every row that is due. Without
 * [upstream] url it idles until a reload sets one. NULL, with the reasons on errs,
 * when the files fail uploader_check_files or the thread cannot start: the daemon
 * must not start then. */
struct uploader *uploader_start(const struct config *cfg, FILE *errs);
/* Main thread, after a reload: the thread takes the new configuration at its next
 * pass (cfg is copied; only [school], [windows], [screening] and [upstream] matter
 * to it). If the new files fail the checks, it logs why and keeps the old settings. */
void uploader_reconfigure(struct uploader *u, const struct config *cfg);
/* Asks for a pass now (a referral or alert was opened, a summary queued). Never
 * blocks; any thread. NULL is fine (as for reconfigure and queue_summary). */
void uploader_wake(struct uploader *u);
/* Asks the thread to build and queue the day's summary (a new revision only when
 * the facts changed), then send: the build reads the whole day, so the main loop
 * does not do it. At most 8 days wait at once; -1 (logged) when full or day is
 * not YYYY-MM-DD. Never blocks. */
int uploader_queue_summary(struct uploader *u, const char *day);
/* Stops the thread, also in the middle of a transfer (the row stays pending, and
 * is sent again under the same key later), and frees it. Returns within about
 * 100 ms. NULL is fine. */
void uploader_stop(struct uploader *u);

/* One synchronous pass, as the thread does it, on the caller's ledger: queue the
 * notices, then send what is due now, in order, until a row has to wait for its
 * retry. One line per row on out: "sent KEY (HTTP 200)", "retry KEY: ERROR
 * (attempt N; next in 5s)", "parked KEY: ERROR" (with out NULL they are logged as
 * the daemon does). *sent and *failed (retry or parked) count the rows. -1 when it
 * could not run (no url, files, database, libcurl) or a notice could not be queued. */
int uploader_run_once(const struct config *cfg, struct ledger *l, int *sent, int *failed,
                      FILE *out);

#endif
