/* Shared by the nurse's API modules only (docs/web-api.md: Today, People,
 * Actions, Day report, CSV exports): web_api.c (the routes, Today, the day
 * report), web_api_actions.c, web_api_people.c, web_csv.c, and the request values
 * and JSON pieces they have in common (web_api_values.c). Every helper that
 * fails has set the response (status and {"error"}) already: the handler just
 * returns. */
#ifndef GS_WEB_API_H
#define GS_WEB_API_H

#include <stdio.h>

#include "errbuf.h"
#include "ledger_health.h"
#include "ledger_web.h"
#include "web_private.h"

/* ---- handlers (the route table is in web_api.c) ----------------------------------- */

void wa_today(struct web_request *rq, struct web_response *rs);
void wa_day_report(struct web_request *rq, struct web_response *rs);
void wa_people_search(struct web_request *rq, struct web_response *rs);
void wa_person(struct web_request *rq, struct web_response *rs);
void wa_recheck(struct web_request *rq, struct web_response *rs);
void wa_referral(struct web_request *rq, struct web_response *rs);
void wa_absence(struct web_request *rq, struct web_response *rs);
void wa_leave(struct web_request *rq, struct web_response *rs);
void wa_certificate(struct web_request *rq, struct web_response *rs);
void wa_check(struct web_request *rq, struct web_response *rs);
void wa_alert_close(struct web_request *rq, struct web_response *rs);
void wa_csv_checks(struct web_request *rq, struct web_response *rs);
void wa_csv_absences(struct web_request *rq, struct web_response *rs);
void wa_csv_flags(struct web_request *rq, struct web_response *rs);
/* web_register.c: the paper registers and the trends. */
void wa_registers(struct web_request *rq, struct web_response *rs);
void wa_csv_registers(struct web_request *rq, struct web_response *rs);
void wa_trends(struct web_request *rq, struct web_response *rs);
void wa_csv_trends(struct web_request *rq, struct web_response *rs);
/* web_api_observe.c: health observation. */
void wa_observations(struct web_request *rq, struct web_response *rs);
void wa_person_observation(struct web_request *rq, struct web_response *rs);
void wa_observe(struct web_request *rq, struct web_response *rs);
void wa_observe_end(struct web_request *rq, struct web_response *rs);

/* ---- CSV (web_csv.c) --------------------------------------------------------------- */

/* A CSV download named `filename`: the BOM, then what fill writes (with
 * csv_out_record); a 500 when fill returns -1 (it has logged why). */
void wa_csv_reply(struct web_response *rs, const char *filename,
                  int (*fill)(FILE *f, void *ctx), void *ctx);

/* ---- figures (web_api.c) ------------------------------------------------------------ */

/* A day's figures as the day report shows them: the ledger's, or the stored ones
 * once the day's readings are purged (*stored then true). Only those in `which`
 * (which->on) are counted from the ledger. 0, or -1 (logged). */
int wa_day_figures(struct web_request *rq, struct ledger *l, const char *day,
                   const struct fig_set *which, struct day_figures *f, bool *stored);

/* ---- the request ------------------------------------------------------------------ */

/* The route's person (param 0, the roster's external id): checked for shape (400),
 * looked up (404), within the user's class (403 "not your class"). 0 and *p,
 * *l the request's ledger. */
int wa_route_person(struct web_request *rq, struct web_response *rs, struct ledger **l,
                    struct lw_person *p);
/* ?date=YYYY-MM-DD, or today: not in the future (400). */
int wa_query_day(struct web_request *rq, struct web_response *rs, char day[LEDGER_DAY_LEN]);
/* The class a listing is limited to: ?class= (NULL when absent); a teacher always
 * gets their own, and asking for another is a 403. */
int wa_query_class(struct web_request *rq, struct web_response *rs, const char **class_name);
/* The class a teacher's lists are limited to, NULL for everyone else. */
const char *wa_scope(const struct web_request *rq);
/* Whether the user may see a person (or alert) of that class. */
bool wa_may_see(const struct web_request *rq, const char *class_name);

/* The school's local day now. */
int wa_today_day(struct web_response *rs, char day[LEDGER_DAY_LEN]);

/* ---- body fields ------------------------------------------------------------------ */
/* Each refuses a missing required field, a wrong type or value with a 400 naming
 * it; an absent optional field (or JSON null) leaves *given false / *out NULL. */

/* A thermometer reading in the configured plausible range ([screening] valid). */
int wa_temp(struct web_request *rq, struct web_response *rs, json_t *body, const char *key,
            int *out);
/* One of names (NULL-ended); *out points into `names`. */
int wa_enum(struct web_response *rs, json_t *body, const char *key, bool required,
            const char *const *names, const char **out);
/* YYYY-MM-DD; not after today when not_future. *given (may be NULL) tells whether
 * an optional one came. */
int wa_day(struct web_response *rs, json_t *body, const char *key, bool required,
           bool not_future, char out[LEDGER_DAY_LEN], bool *given);
/* Text of at most max bytes, no control characters (newlines too when !multiline);
 * required text must not be blank. *out points into body. */
int wa_text(struct web_response *rs, json_t *body, const char *key, bool required, size_t max,
            bool multiline, const char **out);

/* ---- the ledger's messages -------------------------------------------------------- */

/* What a ledger call writes to its `errs`, kept in memory. */
struct wa_errs {
    struct errbuf b;
};
/* The FILE to pass as `errs` (stderr, i.e. the log, when out of memory). */
FILE *wa_errs_open(struct wa_errs *e);
/* The HTTP status of a ledger call's failure: the one table (web_api_values.c,
 * docs/design.md "Errors"). 200 for LEDGER_OK (a route may answer 201). */
int wa_http_status(enum ledger_status st);
/* After the call: 0 when st is LEDGER_OK; else -1 with the answer wa_http_status
 * gives, carrying the ledger's message (lines joined), or for a failure without
 * one (busy, a database error) a sentence of its own. */
int wa_errs_finish(struct wa_errs *e, enum ledger_status st, struct web_response *rs);

/* ---- JSON ------------------------------------------------------------------------- */

/* Text as JSON (invalid UTF-8 replaced by U+FFFD); NULL only when out of memory. */
json_t *wa_str(const char *s);
/* Like wa_str; "" is null. */
json_t *wa_str_or_null(const char *s);
/* n, or null when 0 (ids and instants the ledger has not set). */
json_t *wa_id_or_null(int64_t n);
/* PERSON: {"id", "name", "class"}. */
json_t *wa_person_json(const char *external_id, const char *name, const char *class_name);
/* "fever,cough" -> ["fever", "cough"]. */
json_t *wa_list_json(const char *comma_list);
/* A list item built by a listing callback: appended, or the listing marked failed. */
void wa_append(json_t *array, json_t *item, bool *failed);
/* 200 with j; a 500 when j is NULL or `failed` (something ran out of memory or the
 * ledger failed: logged). Steals j. */
void wa_reply(struct web_response *rs, json_t *j, bool failed);

#endif
