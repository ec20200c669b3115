/* The pull API (docs/bureau-api.md): the level above reads what the schools sent.
 *
 *   GET /v1/rollup?from=D&to=D[&level=city|county|school][&county=C][&format=json|csv]
 *   GET /v1/notices?[from=D][&to=D][&unacknowledged=1][&county=C][&school=CODE][&format=]
 *
 * In this order: the method (405), the bearer token of [pull] (401; 403 when the
 * API is off), the parameters (400, naming the parameter: an unknown or repeated
 * one too, so a typing mistake is never taken for "everything"), then the answer
 * from the database (404 for a county or school that is not there, 400 for an
 * answer over its row limit, 503 with Retry-After when the database is away). No
 * client certificate is needed. Every answer that is not 200 is JSON: {"error",
 * "parameter"}. The figures and their formats are bureau/common/rollup.c and
 * notice_list.c, which gatescreen-bureau report and notice list also use. */
#include "collector_private.h"

#include <stdlib.h>
#include <string.h>

#include "bstore_rollup.h"
#include "log.h"
#include "pull_auth.h"
#include "textnum.h"

#define POOL_WAIT_MS 5000
#define PARAMS_MAX 8

/* ---- the query string ---------------------------------------------------------------- */

struct params {
    const char *const *names;  /* the route's parameters, NULL-terminated */
    const char *value[PARAMS_MAX];
    bool given[PARAMS_MAX];
    const char *bad;           /* the first unknown or repeated parameter */
    bool repeated;
};

static enum MHD_Result take_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    struct params *p = cls;
    for (int i = 0; p->names[i]; i++) {
        if (strcmp(key, p->names[i]) != 0)
            continue;
        if (p->given[i] && !p->bad)
            p->bad = p->names[i], p->repeated = true;
        p->given[i] = true;
        p->value[i] = value ? value : "";
        return MHD_YES;
    }
    if (!p->bad)
        p->bad = key;
    return MHD_YES;
}

/* A parameter's value (NULL: not given). */
static const char *param(const struct params *p, const char *name)
{
    for (int i = 0; p->names[i]; i++)
        if (strcmp(p->names[i], name) == 0)
            return p->value[i];
    return NULL;
}

/* ---- answers --------------------------------------------------------------------------- */

/* The refusal's JSON. Its sentence may quote what was sent (a parameter, a value,
 * cut to a length), which need not be UTF-8: JSON strings must be, so what is not
 * becomes '?'. */
void collector_pull_refuse(struct canswer *a, int status, const char *parameter,
                           const char *why)
{
    char text[400], name[80];
    snprintf(text, sizeof text, "%s", why);
    snprintf(name, sizeof name, "%s", parameter ? parameter : "");
    tn_utf8_scrub(text, '?');
    tn_utf8_scrub(name, '?');
    json_t *j = json_pack("{s:s,s:s?}", "error", text, "parameter", parameter ? name : NULL);
    a->status = status;
    a->json = j ? json_dumps(j, JSON_COMPACT) : NULL;
    a->retry_after = status == 503 ? RETRY_AFTER_AWAY_S : 0;
    a->bearer_challenge = status == 401;
    json_decref(j);
}

/* What a query named that is not there: the parameter and the sentence. */
struct missing {
    const char *param;
    char why[160];
};

/* An answer of the database's call: the body made, or the refusal for st. */
static void answered(struct canswer *a, enum bstore_status st, long rows, long max_rows,
                     const struct missing *m, char *body, bool made)
{
    char why[200];
    if (st == BSTORE_OK && rows <= max_rows && made) {
        a->status = 200;
        a->json = body;
        return;
    }
    free(body);
    if (st == BSTORE_NOT_FOUND) {
        collector_pull_refuse(a, 404, m->param, m->why);
    } else if (st == BSTORE_OK && rows > max_rows) {
        snprintf(why, sizeof why, "the answer would have more than %ld rows: ask for fewer days, "
                                  "or one county", max_rows);
        collector_pull_refuse(a, 400, NULL, why);
    } else if (st == BSTORE_UNAVAILABLE) {
        collector_pull_refuse(a, 503, NULL,
                              "the bureau's database is not available now; ask again later");
    } else {
        collector_pull_refuse(a, 500, NULL,
                              "the answer could not be made (the collector's log says why)");
    }
}

/* format=json (the default) or csv. */
static int format_of(const char *v, enum rollup_format *f, struct canswer *a)
{
    *f = ROLLUP_JSON;
    if (!v || strcmp(v, "json") == 0)
        return 0;
    if (strcmp(v, "csv") == 0) {
        *f = ROLLUP_CSV;
        return 0;
    }
    collector_pull_refuse(a, 400, "format", "format must be json or csv");
    return -1;
}

static void set_type(struct canswer *a, enum rollup_format f, const char *file)
{
    if (a->status != 200 || f != ROLLUP_CSV)
        return;
    a->content_type = "text/csv; charset=utf-8";
    snprintf(a->disposition, sizeof a->disposition, "attachment; filename=\"%s.csv\"", file);
}

/* ---- the two routes --------------------------------------------------------------------- */

static const char *const rollup_params[] = {"from", "to", "level", "county", "format", NULL};
static const char *const notice_params[] = {"from", "to", "unacknowledged", "county", "school",
                                            "format", NULL};

/* The roll-up's answer into *body (malloc'ed): the store's status; *made when the
 * whole body could be written. */
static enum bstore_status rollup_body(struct bstore *s, const struct rollup_query *q,
                                      enum rollup_format f, char **body, long *rows, bool *made)
{
    size_t len = 0;
    FILE *out = open_memstream(body, &len);
    if (!out)
        return BSTORE_IO;
    struct rollup_writer *w = rollup_writer_new(out, f, q);
    enum bstore_status st = w ? bstore_rollup(s, q, ROLLUP_MAX_ROWS, rollup_writer_row, w, rows)
                              : BSTORE_IO;
    *made = rollup_writer_end(w) == 0;
    *made = fclose(out) == 0 && *made;
    return st;
}

static enum bstore_status notice_body(struct bstore *s, const struct notice_query *q,
                                      enum rollup_format f, char **body, long *rows, bool *made)
{
    size_t len = 0;
    FILE *out = open_memstream(body, &len);
    if (!out)
        return BSTORE_IO;
    struct notice_writer *w = notice_writer_new(out, f, q);
    enum bstore_status st = w ? bstore_notices(s, q, NOTICE_MAX_ROWS, notice_writer_row, w, rows)
                              : BSTORE_IO;
    *made = notice_writer_end(w) == 0;
    *made = fclose(out) == 0 && *made;
    return st;
}

static void rollup(struct creq *r, struct bstore *s, const struct params *p,
                   struct canswer *a)
{
    struct rollup_query q;
    enum rollup_format f;
    enum bstore_status st;
    const char *bad_param;
    char why[256], file[96], *body = NULL;
    struct missing m = {"county", ""};
    long rows = 0;
    bool made = false;
    if (format_of(param(p, "format"), &f, a) < 0)
        return;
    if (rollup_query_set(&q, param(p, "from"), param(p, "to"), param(p, "level"),
                         param(p, "county"), &bad_param, why, sizeof why) < 0) {
        collector_pull_refuse(a, 400, bad_param, why);
        return;
    }
    st = rollup_body(s, &q, f, &body, &rows, &made);
    if (st == BSTORE_UNAVAILABLE && bstore_ensure(s) == 0) { /* see notices() */
        free(body);
        body = NULL;
        st = rollup_body(s, &q, f, &body, &rows, &made);
    }
    snprintf(m.why, sizeof m.why, "no school is in county %s", q.county);
    answered(a, st, rows, ROLLUP_MAX_ROWS, &m, body, made);
    snprintf(file, sizeof file, "rollup-%s-%s-%s", rollup_level_name(q.level), q.from, q.to);
    set_type(a, f, file);
    log_info("pull: %s rollup %s..%s %s%s%s %s -> %d (%ld rows)", r->pull_label, q.from, q.to,
             rollup_level_name(q.level), q.county[0] ? " county " : "", q.county,
             f == ROLLUP_CSV ? "csv" : "json", a->status, rows);
}

static void notices(struct creq *r, struct bstore *s, const struct params *p,
                    struct canswer *a)
{
    struct notice_query q;
    enum rollup_format f;
    enum bstore_status st;
    const char *bad_param;
    char why[256], *body = NULL;
    struct missing m = {"school", ""};
    long rows = 0;
    bool made = false;
    if (format_of(param(p, "format"), &f, a) < 0)
        return;
    if (notice_query_set(&q, param(p, "from"), param(p, "to"), param(p, "unacknowledged"),
                         param(p, "county"), param(p, "school"), &bad_param, why,
                         sizeof why) < 0) {
        collector_pull_refuse(a, 400, bad_param, why);
        return;
    }
    st = notice_body(s, &q, f, &body, &rows, &made);
    /* A connection that broke since it was last used (PostgreSQL restarted) is made
     * again and the read tried once more: reading twice is harmless. */
    if (st == BSTORE_UNAVAILABLE && bstore_ensure(s) == 0) {
        free(body);
        body = NULL;
        st = notice_body(s, &q, f, &body, &rows, &made);
    }
    if (q.school[0] && q.county[0])
        snprintf(m.why, sizeof m.why, "school %s: not found, or county %s has no school",
                 q.school, q.county);
    else if (q.school[0])
        snprintf(m.why, sizeof m.why, "school %s: not found", q.school);
    else {
        m.param = "county";
        snprintf(m.why, sizeof m.why, "no school is in county %s", q.county);
    }
    answered(a, st, rows, NOTICE_MAX_ROWS, &m, body, made);
    set_type(a, f, "notices");
    log_info("pull: %s notices %s..%s%s -> %d (%ld rows)", r->pull_label, q.from, q.to,
             q.unacknowledged ? " unacknowledged" : "", a->status, rows);
}

/* ---- the entry ---------------------------------------------------------------------------- */

bool collector_pull_route(const char *path)
{
    return strcmp(path, PULL_ROLLUP_PATH) == 0 || strcmp(path, PULL_NOTICES_PATH) == 0;
}

int collector_pull_gate(struct creq *r, struct MHD_Connection *conn, struct canswer *a)
{
    char why[160];
    if (strcmp(r->method, "GET") != 0) {
        snprintf(why, sizeof why, "%.20s is not allowed here (GET only)", r->method);
        collector_pull_refuse(a, 405, NULL, why);
        return -1;
    }
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    int status = pull_auth_check(r->c->pull, h, r->pull_label, why, sizeof why);
    if (status == 0)
        return 0;
    log_notice("pull: %s %s %s -> %d %s", r->peer_addr, r->method, r->path, status, why);
    collector_pull_refuse(a, status, NULL, why);
    return -1;
}

void collector_pull(struct creq *r, struct MHD_Connection *conn, struct canswer *a)
{
    bool is_rollup = strcmp(r->path, PULL_ROLLUP_PATH) == 0;
    struct params p = {.names = is_rollup ? rollup_params : notice_params};
    char why[200];
    if (collector_pull_gate(r, conn, a) < 0)
        return;
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, take_param, &p);
    if (p.bad) {
        snprintf(why, sizeof why, "%.60s: %s", p.bad, p.repeated ? "given twice"
                                                                  : "no such parameter here");
        collector_pull_refuse(a, 400, p.bad, why);
        return;
    }
    struct bstore *s = bstore_pool_get(r->c->pool, POOL_WAIT_MS);
    if (!s) {
        collector_pull_refuse(a, 503, NULL,
                              "the bureau's database is not available now; ask again later");
        return;
    }
    if (is_rollup)
        rollup(r, s, &p, a);
    else
        notices(r, s, &p, a);
    bstore_pool_put(r->c->pool, s);
}
