/* GET /v1/missing?day=D&deadline=morning|day&county=C (collector_private.h): the
 * missing-schools list of `gatescreen-bureau missing` as JSON, from the same query
 * (bstore_missing.h) and the same parsers (deadline.h); all parameters optional
 * (today in the bureau's zone, deadline_default's deadline, every county).
 *
 *   200 {"day", "weekday", "deadline", "deadline_at", "deadline_local", "timezone",
 *        "now", "deadline_passed", "school_day", "calendar": null | {"kind", "name"},
 *        "county": null | C, "closures": [{"county": null | C, "reason"}],
 *        "counts": {"expected", "on_time", "late", "missing", "closed",
 *                   "reported_closed"},
 *        "counties": [{"county", "expected", "on_time", "late", "missing", "closed",
 *                      "reported_closed",
 *                      "schools": [{"code", "name", "contact_name", "contact_phone",
 *                                   "status": "missing" | "late", "received_at",
 *                                   "received_local", "late_seconds"}]}]}
 * In the pull API's order and words (collector_pull.c, docs/bureau-api.md): the
 * method (405), a [pull] bearer token (401; 403 when the API is off; no client
 * certificate), the parameters (400, naming the parameter, also an unknown or
 * repeated one), then the database (404 no active school in that county, 503 with
 * Retry-After when it is away). Refusals are {"error", "parameter"}. Instants are
 * UTC (…Z); *_local are the bureau's zone, as the command line shows. */
#include "collector_private.h"

#include <stdlib.h>
#include <string.h>

#include "bstore_missing.h"
#include "deadline.h"
#include "log.h"
#include "missing_json.h"
#include "pull_auth.h"
#include "textnum.h"

#define POOL_WAIT_MS 5000

struct args {
    const char *day, *deadline, *county;
    const char *bad;   /* the first unknown or repeated parameter, or the bad one */
    bool repeated;
    char why[200];
};

static enum MHD_Result one_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    struct args *a = cls;
    const char **slot = strcmp(key, "day") == 0        ? &a->day
                        : strcmp(key, "deadline") == 0 ? &a->deadline
                        : strcmp(key, "county") == 0   ? &a->county
                                                       : NULL;
    if (!a->bad && (!slot || *slot)) {
        a->bad = key;
        a->repeated = slot != NULL;
    }
    if (slot)
        *slot = value ? value : "";
    return MHD_YES;
}

/* A parameter's refusal: its name and why. -1. */
static int bad_arg(struct args *a, const char *name, const char *why)
{
    a->bad = name;
    snprintf(a->why, sizeof a->why, "%s: %s", name, why);
    return -1;
}

/* The query string into q (day into the buffer): 0, or -1 with the parameter and
 * why in a. */
static int read_args(struct MHD_Connection *conn, struct bstore_missing_query *q,
                     char day[DAY_LEN], struct args *a)
{
    char why[160];
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, one_arg, a);
    if (a->bad) {
        snprintf(a->why, sizeof a->why, "%.60s: %s", a->bad,
                 a->repeated ? "given twice" : "no such parameter here");
        return -1;
    }
    if (a->day && day_parse(a->day, day, why, sizeof why) < 0)
        return bad_arg(a, "day", why);
    if (a->deadline && deadline_parse(a->deadline, &q->deadline, why, sizeof why) < 0)
        return bad_arg(a, "deadline", why);
    if (a->county && county_check(a->county, why, sizeof why) < 0)
        return bad_arg(a, "county", why);
    q->day = a->day ? day : NULL;
    q->deadline_given = a->deadline != NULL;
    q->county = a->county;
    return 0;
}

int missing_args_read(struct MHD_Connection *conn, struct bstore_missing_query *q,
                      char day[DAY_LEN], const char **param, char *why, size_t n)
{
    struct args a = {0};
    int rc = read_args(conn, q, day, &a);
    *param = a.bad;
    snprintf(why, n, "%s", a.why);
    return rc;
}

/* ---- JSON ------------------------------------------------------------------------- */

static json_t *school_json(const struct missing_school *s)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o}", "code", s->code, "name", s->name,
                     "contact_name", s->contact_name, "contact_phone", s->contact_phone,
                     "status", s->late ? "late" : "missing", "received_at",
                     s->late ? json_string(s->received_utc) : json_null(), "received_local",
                     s->late ? json_string(s->received_local) : json_null(), "late_seconds",
                     s->late ? json_integer(s->late_s) : json_null());
}

/* The counties, each with its schools (both lists are by county). */
static json_t *counties_json(const struct missing_report *m)
{
    json_t *all = json_array();
    int k = 0, n = missing_report_schools(m);
    for (int i = 0; all && i < missing_report_counties(m); i++) {
        struct missing_county c;
        struct missing_school s;
        missing_report_county(m, i, &c);
        json_t *schools = json_array();
        for (; schools && k < n; k++) {
            missing_report_school(m, k, &s);
            if (strcmp(s.county, c.county) != 0)
                break;
            json_array_append_new(schools, school_json(&s));
        }
        json_array_append_new(all, json_pack("{s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:o}", "county",
                                             c.county, "expected", c.expected, "on_time",
                                             c.on_time, "late", c.late, "missing", c.missing,
                                             "closed", c.closed, "reported_closed",
                                             c.reported_closed, "schools", schools));
    }
    return all;
}

static json_t *closures_json(const struct missing_report *m)
{
    json_t *all = json_array();
    for (int i = 0; all && i < missing_report_closures(m); i++) {
        struct missing_closure c;
        missing_report_closure(m, i, &c);
        json_array_append_new(all, json_pack("{s:o,s:s}", "county",
                                             c.county ? json_string(c.county) : json_null(),
                                             "reason", c.reason));
    }
    return all;
}

json_t *missing_report_json(const struct missing_report *m, const char *zone, const char *county)
{
    const struct missing_day *d = missing_report_day(m);
    json_t *cal = d->calendar_kind ? json_pack("{s:s,s:s}", "kind", d->calendar_kind, "name",
                                               d->calendar_name)
                                   : json_null();
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:o,s:o,s:o,"
                     "s:{s:i,s:i,s:i,s:i,s:i,s:i},s:o}",
                     "day", d->day, "weekday", d->weekday, "deadline",
                     deadline_name(d->deadline), "deadline_at", d->deadline_utc,
                     "deadline_local", d->deadline_local, "timezone", zone, "now", d->now_utc,
                     "deadline_passed", d->past_s >= 0, "school_day", d->school_day,
                     "calendar", cal, "county", county ? json_string(county) : json_null(),
                     "closures", closures_json(m), "counts", "expected", d->expected,
                     "on_time", d->on_time, "late", d->late, "missing", d->missing, "closed",
                     d->closed, "reported_closed", d->reported_closed, "counties",
                     counties_json(m));
}

/* ---- the request ------------------------------------------------------------------- */

static enum bstore_status query(struct creq *r, const struct bstore_missing_query *q,
                                struct missing_report **m, char *why, size_t n)
{
    struct errbuf e;
    struct bstore *s = bstore_pool_get(r->c->pool, POOL_WAIT_MS);
    if (!s)
        return BSTORE_UNAVAILABLE;
    FILE *errs = errbuf_open(&e, stderr);
    enum bstore_status st = bstore_missing(s, q, m, errs);
    /* The connection broke since it was last used (PostgreSQL restarted): once more. */
    if (st == BSTORE_UNAVAILABLE && bstore_ensure(s) == 0)
        st = bstore_missing(s, q, m, errs);
    snprintf(why, n, "%s", errbuf_joined(&e, ' '));
    errbuf_free(&e);
    bstore_pool_put(r->c->pool, s);
    return st;
}

static void answer(struct creq *r, struct canswer *a, const struct bstore_missing_query *q,
                   const struct missing_report *m)
{
    const struct missing_day *d = missing_report_day(m);
    json_t *j = missing_report_json(m, q->cfg->timezone, q->county);
    a->status = 200;
    a->json = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    log_info("pull: %s missing %s %s%s%s -> 200 (%d missing, %d late)", r->pull_label, d->day,
             deadline_name(d->deadline), q->county ? " county " : "", q->county ? q->county : "",
             d->missing, d->late);
}

void collector_missing(struct creq *r, struct MHD_Connection *conn, struct canswer *a)
{
    struct bcfg_deadlines dl;
    struct bstore_missing_query q = {.cfg = &dl};
    struct missing_report *m = NULL;
    struct args args = {0};
    char day[DAY_LEN], why[300];
    if (collector_pull_gate(r, conn, a) < 0)
        return;
    pthread_mutex_lock(&r->c->deadlines_lock);
    dl = r->c->deadlines;
    pthread_mutex_unlock(&r->c->deadlines_lock);
    if (read_args(conn, &q, day, &args) < 0) {
        collector_pull_refuse(a, 400, args.bad, args.why);
        return;
    }
    enum bstore_status st = query(r, &q, &m, why, sizeof why);
    if (st == BSTORE_OK)
        answer(r, a, &q, m);
    else if (st == BSTORE_NOT_FOUND)
        collector_pull_refuse(a, 404, "county", why);
    else if (st == BSTORE_UNAVAILABLE)
        collector_pull_refuse(a, 503, NULL,
                              "the bureau's database is not available now; ask again later");
    else
        collector_pull_refuse(a, 500, NULL,
                              "the answer could not be made (the collector's log says why)");
    missing_report_free(m);
}
