/* The bureau page's views (bpage_private.h). Each reads through the same store
 * calls and writes the same JSON as the pull API (GET /v1/missing, GET /v1/notices)
 * and `gatescreen-bureau missing|notice`, and each is scoped: a county officer
 * only ever sees their own county, whatever the query asks (another county: 403). */
#include "bpage_private.h"

#include <stdlib.h>
#include <string.h>

#include "bstore_missing.h"
#include "bstore_rollup.h"
#include "errbuf.h"
#include "log.h"
#include "missing_json.h"
#include "notice_list.h"

#define PAGE_NOTICE_ROWS 2000

int bpage_scope(const struct preq *r, const char *asked, const char **county,
                struct panswer *a)
{
    *county = asked && *asked ? asked : NULL;
    if (r->user.role != PAGE_COUNTY)
        return 0;
    if (*county && strcmp(*county, r->user.county) != 0) {
        bpage_error(a, 403, "county", "county: you see county %s only", r->user.county);
        return -1;
    }
    *county = r->user.county;
    return 0;
}

/* ---- today at the deadline --------------------------------------------------------- */

/* The JSON, or the CSV of the table the route names (counties, schools). */
static void today_answer(struct preq *r, struct panswer *a, const struct missing_report *m,
                         const char *zone, const char *county)
{
    char *body = NULL, file[64];
    size_t len = 0;
    if (!r->route->csv) {
        bpage_json(a, 200, missing_report_json(m, zone, county));
        return;
    }
    FILE *out = open_memstream(&body, &len);
    if (!out) {
        bpage_error(a, 500, NULL, "out of memory");
        return;
    }
    if (strcmp(r->route->csv, "counties") == 0)
        missing_report_csv_counties(out, m);
    else
        missing_report_csv_schools(out, m);
    bool made = !ferror(out);
    made = fclose(out) == 0 && made;
    if (!made) {
        free(body);
        body = NULL;
    }
    snprintf(file, sizeof file, "today-%s-%s", r->route->csv, missing_report_day(m)->day);
    bpage_body_answer(a, body, true, file);
}

void bpage_today(struct preq *r, struct MHD_Connection *conn, struct panswer *a)
{
    struct bcfg_deadlines dl;
    struct bstore_missing_query q = {.cfg = &dl};
    struct missing_report *m = NULL;
    const char *param = NULL;
    char day[DAY_LEN], why[300];
    pthread_mutex_lock(&r->p->deadlines_lock);
    dl = r->p->deadlines;
    pthread_mutex_unlock(&r->p->deadlines_lock);
    if (missing_args_read(conn, &q, day, &param, why, sizeof why) < 0) {
        bpage_error(a, 400, param, "%s", why);
        return;
    }
    if (bpage_scope(r, q.county, &q.county, a) < 0)
        return;
    struct errbuf e;
    struct bstore *s = bstore_pool_get(r->p->pool, BPAGE_POOL_WAIT_MS);
    FILE *errs = errbuf_open(&e, stderr);
    enum bstore_status st = s ? bstore_missing(s, &q, &m, errs) : BSTORE_UNAVAILABLE;
    if (st == BSTORE_UNAVAILABLE && s && bstore_ensure(s) == 0)
        st = bstore_missing(s, &q, &m, errs);
    if (s)
        bstore_pool_put(r->p->pool, s);
    if (st == BSTORE_OK)
        today_answer(r, a, m, dl.timezone, q.county);
    else if (st == BSTORE_NOT_FOUND)
        bpage_error(a, 404, "county", "%s", errbuf_joined(&e, ' '));
    else if (st == BSTORE_UNAVAILABLE)
        bpage_unavailable(a);
    else
        bpage_error(a, 500, NULL, "the answer could not be made (the log says why)");
    errbuf_free(&e);
    missing_report_free(m);
}

/* ---- notices ------------------------------------------------------------------------ */

static const char *const notice_params[] = {"from", "to", "unacknowledged", "county", "school",
                                            NULL};

/* The rows of the second pass: only those acknowledged (the first had the others). */
static void acked_row(const struct notice_row *row, void *writer)
{
    if (row->acknowledged_at)
        notice_writer_row(row, writer);
}

/* Unacknowledged first, then those acknowledged, one answer into *body. */
static enum bstore_status notices_body(struct bstore *s, struct notice_query *q,
                                       enum rollup_format f, char **body)
{
    size_t len = 0;
    long rows = 0, rows2 = 0;
    FILE *out = open_memstream(body, &len);
    if (!out)
        return BSTORE_IO;
    bool all = !q->unacknowledged;
    struct notice_writer *w = notice_writer_new(out, f, q);
    q->unacknowledged = true;
    enum bstore_status st = w ? bstore_notices(s, q, PAGE_NOTICE_ROWS, notice_writer_row, w,
                                               &rows)
                              : BSTORE_IO;
    q->unacknowledged = false;
    if (st == BSTORE_OK && all)
        st = bstore_notices(s, q, PAGE_NOTICE_ROWS, acked_row, w, &rows2);
    if (st == BSTORE_OK && (rows > PAGE_NOTICE_ROWS || rows2 > PAGE_NOTICE_ROWS))
        st = BSTORE_INVALID;
    int made = notice_writer_end(w) == 0;
    made = fclose(out) == 0 && made;
    return st == BSTORE_OK && !made ? BSTORE_IO : st;
}

void bpage_notices(struct preq *r, struct MHD_Connection *conn, struct panswer *a)
{
    const char *v[6];
    struct notice_query q;
    const char *param = NULL, *county;
    char why[256], *body = NULL;
    bool csv = r->route->csv != NULL;
    if (bpage_params(conn, notice_params, v, a) < 0 || bpage_scope(r, v[3], &county, a) < 0)
        return;
    if (notice_query_set(&q, v[0], v[1], v[2], county, v[4], &param, why, sizeof why) < 0) {
        bpage_error(a, 400, param, "%s", why);
        return;
    }
    struct bstore *s = bstore_pool_get(r->p->pool, BPAGE_POOL_WAIT_MS);
    enum bstore_status st = s ? notices_body(s, &q, csv ? ROLLUP_CSV : ROLLUP_JSON, &body)
                              : BSTORE_UNAVAILABLE;
    if (s)
        bstore_pool_put(r->p->pool, s);
    if (st == BSTORE_OK) {
        bpage_body_answer(a, body, csv, "notices");
        return;
    }
    free(body);
    if (st == BSTORE_NOT_FOUND)
        bpage_error(a, 404, NULL, "no such county or school");
    else if (st == BSTORE_INVALID)
        bpage_error(a, 400, NULL, "more than %d notices: narrow the query (from, to, county, "
                                  "school)", PAGE_NOTICE_ROWS);
    else if (st == BSTORE_UNAVAILABLE)
        bpage_unavailable(a);
    else
        bpage_error(a, 500, NULL, "the answer could not be made (the log says why)");
}

/* ---- acknowledging ------------------------------------------------------------------ */

struct find_notice {
    const char *id;
    bool found;
};

static void match_notice(const struct notice_row *row, void *arg)
{
    struct find_notice *f = arg;
    f->found = f->found || strcmp(row->notice_id, f->id) == 0;
}

/* Whether a county officer's county has this notice: one of another county is "no
 * such notice" to them, as if it did not exist. */
static enum bstore_status in_scope(struct preq *r, struct bstore *s, const char *school,
                                   const char *id, bool *ok)
{
    struct notice_query q;
    const char *param;
    char why[200];
    struct find_notice f = {id, false};
    long rows;
    *ok = true;
    if (r->user.role != PAGE_COUNTY)
        return BSTORE_OK;
    if (notice_query_set(&q, NULL, NULL, NULL, r->user.county, school, &param, why,
                         sizeof why) < 0) {
        *ok = false;
        return BSTORE_OK;
    }
    enum bstore_status st = bstore_notices(s, &q, NOTICE_MAX_ROWS, match_notice, &f, &rows);
    *ok = st == BSTORE_OK && f.found;
    return st == BSTORE_NOT_FOUND ? BSTORE_OK : st;
}

static void ack_answer(struct panswer *a, enum bstore_status st, const struct bstore_ack *ack,
                       struct errbuf *e)
{
    if (st == BSTORE_OK)
        bpage_json(a, 200, json_pack("{s:s,s:s}", "acknowledged_at", ack->at,
                                     "acknowledged_by", ack->by));
    else if (st == BSTORE_CONFLICT)
        bpage_json(a, 409, json_pack("{s:s,s:s,s:s}", "error", errbuf_joined(e, ' '),
                                     "acknowledged_at", ack->at, "acknowledged_by", ack->by));
    else if (st == BSTORE_NOT_FOUND)
        bpage_error(a, 404, NULL, "no such notice");
    else if (st == BSTORE_UNAVAILABLE)
        bpage_unavailable(a);
    else
        bpage_error(a, 500, NULL, "the acknowledgement could not be stored (the log says why)");
}

void bpage_notice_ack(struct preq *r, struct MHD_Connection *conn, struct panswer *a)
{
    (void)conn;
    static const char *const fields[] = {"school", "notice_id", "note", NULL};
    json_t *j = bpage_body(r, a, fields);
    if (!j)
        return;
    const char *school = json_string_value(json_object_get(j, "school"));
    const char *id = json_string_value(json_object_get(j, "notice_id"));
    const char *note = json_string_value(json_object_get(j, "note"));
    const char *bad = !school || !*school ? "school" : !id || !*id ? "notice_id" : NULL;
    const char *why = bad ? "a non-empty string" : note ? notice_note_problem(note) : "the "
                                                   "acknowledgement needs a note";
    if (bad || why) {
        bpage_error(a, 400, bad ? bad : "note", "%s: %s", bad ? bad : "note", why);
        json_decref(j);
        return;
    }
    struct errbuf e;
    struct bstore_ack ack = {"", ""};
    bool ok = false;
    FILE *errs = errbuf_open(&e, stderr);
    struct bstore *s = bstore_pool_get(r->p->pool, BPAGE_POOL_WAIT_MS);
    enum bstore_status st = s ? in_scope(r, s, school, id, &ok) : BSTORE_UNAVAILABLE;
    if (st == BSTORE_OK && !ok)
        st = BSTORE_NOT_FOUND;
    if (st == BSTORE_OK)
        st = bstore_notice_ack(s, school, id, r->user.name, note, &ack, errs);
    if (s)
        bstore_pool_put(r->p->pool, s);
    ack_answer(a, st, &ack, &e);
    if (st == BSTORE_OK)
        log_info("page: %s acknowledged notice %s of %s", r->user.name, id, school);
    errbuf_free(&e);
    json_decref(j);
}
