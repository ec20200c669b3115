/* The collector's HTTPS server (docs/bureau.md, "The collector"): libmicrohttpd with
 * GnuTLS, a pool of request threads each with its own database connection, mutual
 * TLS against the bureau's client CA, and the upload routes:
 *
 *   POST /v1/documents   an upload (intake.h): 201 stored, 200 the same again, 4xx
 *                        refused with {"error", "pointer"}, 503 try again
 *   GET  /v1/health      200 when this instance can reach the database, else 503
 *                        (for load balancers; no client certificate needed)
 *   GET  /v1/rollup      the pull API (docs/bureau-api.md): the roll-ups and the
 *   GET  /v1/notices     notices as JSON or CSV, for a [pull] bearer token, no
 *                        client certificate needed
 *   GET  /v1/missing     the schools missing or late at a deadline (the read API:
 *                        a pull token, no client certificate; collector_missing.c)
 *
 * A 2xx is sent only once the document is committed. */
#ifndef GS_COLLECTOR_H
#define GS_COLLECTOR_H

#include <stdio.h>

#include "bconfig.h"
#include "bstore_pool.h"

#define COLLECTOR_PATH "/v1/documents"
#define COLLECTOR_HEALTH_PATH "/v1/health"
#define PULL_ROLLUP_PATH "/v1/rollup"
#define PULL_NOTICES_PATH "/v1/notices"
#define COLLECTOR_MISSING_PATH "/v1/missing"

struct collector;

/* Reads the TLS files, loads the schemas and starts serving on [collector] listen
 * with [collector] threads request threads, taking connections from pool (which
 * must have as many). NULL with the reason on errs. */
struct collector *collector_start(const struct bconfig *cfg, struct bstore_pool *pool,
                                  FILE *errs);
/* What a reload may change while serving: the body limit, the deadlines and the
 * pull tokens (kept as they were, and logged, when the new ones cannot be read). */
void collector_reconfigure(struct collector *c, const struct bconfig *cfg);
/* Logs the counts of uploads by outcome (also done by collector_stop). */
void collector_log_counters(struct collector *c);
/* Stops accepting, lets the requests being handled finish, stops. */
void collector_stop(struct collector *c);

#endif
