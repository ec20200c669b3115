/* The bureau's page (docs/bureau.md, "The bureau's page"): a second HTTPS server in
 * gatescreen-bureaud, for bureau staff's browsers, on [page] listen. No client
 * certificate; users log in (page_users, argon2id), sessions in memory, a CSRF token
 * on every POST, the login throttle the school's page uses, the security headers,
 * every file of the page embedded (no outside network). Its API:
 *
 *   POST /api/v1/login          {"name", "password"} -> session cookie + CSRF token
 *   GET  /api/v1/session        who is logged in
 *   POST /api/v1/logout
 *   GET  /api/v1/today          GET /v1/missing's answer, scoped to the user's county
 *   GET  /api/v1/notices        the notices, unacknowledged first, scoped likewise
 *   POST /api/v1/notices/ack    {"school", "notice_id", "note"} (city, county)
 *   GET  /api/v1/figures        a day's roll-up, city, county or school (bpage_figures.c)
 *   GET  /api/v1/trends         a unit's last 30 or 90 days
 *   GET  /api/v1/events         the live notices: server-sent events (bpage_events.c)
 *   GET  <a table's route>.csv  the table as CSV (today/counties, today/schools, figures,
 *                               trends, notices, users)
 */
#ifndef GS_BPAGE_H
#define GS_BPAGE_H

#include <stdio.h>

#include "bconfig.h"
#include "bstore_pool.h"

struct bpage;

/* Reads the TLS files and starts serving [page] with its own pool of
 * [page] threads connections (made from `o`). NULL with the reason on errs. */
struct bpage *bpage_start(const struct bconfig *cfg, const struct bstore_opts *o, FILE *errs);
/* What a reload changes at once: the deadlines. */
void bpage_reconfigure(struct bpage *p, const struct bconfig *cfg);
/* Stops accepting, lets the requests under way finish, stops. NULL is fine. */
void bpage_stop(struct bpage *p);

#endif
