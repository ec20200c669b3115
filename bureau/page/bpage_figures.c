/* The bureau page's figures (bpage_private.h): a day's drill-down and the trends.
 *
 *   GET /api/v1/figures?day=D&level=city|county|school&county=C      (and .csv)
 *   GET /api/v1/trends?to=D&days=30|90&level=city|county|school&county=C&school=S
 *                                                                    (and .csv)
 *
 * Both are the pull API's roll-ups (bstore_rollup, rollup.c's row JSON and CSV), so
 * the page, GET /v1/rollup and `gatescreen-bureau report` show the same figures;
 * the page adds one, illness absences per 1,000 students of the reporting schools
 * (illness_per_1000), and orders the day's rows by it, highest first (the schools
 * to look at). A county officer only ever gets their own county: the city level is
 * refused (403), another county too, and another county's school is "not found". */
#include "bpage_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bstore_rollup.h"
#include "civil.h"
#include "deadline.h"
#include "log.h"

#define FIGURES_MAX_ROWS 20000   /* a county's schools on a day, a unit's 90 days */

/* A row kept past the store's callback (its strings copied), for sorting. */
struct krow {
    struct rollup_row r;
    char *text[4];               /* day, county, school code, name: owned */
    double per1000;              /* -1: no report or no students */
};

struct rows {
    struct krow *v;
    size_t n, cap;
    bool failed;
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Illness absences per 1,000 students, to one decimal; -1 without a figure. */
static double per_1000(const struct rollup_row *r)
{
    long long students = r->fig[RF_POPULATION_STUDENT];
    if (r->schools_reported <= 0 || students <= 0)
        return -1;
    return round((double)r->fig[RF_ABSENCES_ILLNESS] * 10000.0 / (double)students) / 10.0;
}

static void keep_row(const struct rollup_row *r, void *arg)
{
    struct rows *rs = arg;
    if (rs->failed)
        return;
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 64;
        struct krow *v = realloc(rs->v, cap * sizeof *v);
        if (!v) {
            rs->failed = true;
            return;
        }
        rs->v = v;
        rs->cap = cap;
    }
    struct krow *k = &rs->v[rs->n++];
    k->r = *r;
    const char *src[4] = {r->day, r->county, r->school_code, r->school_name};
    for (int i = 0; i < 4; i++) {
        k->text[i] = dup_or_null(src[i]);
        rs->failed = rs->failed || (src[i] && !k->text[i]);
    }
    k->r.day = k->text[0];
    k->r.county = k->text[1];
    k->r.school_code = k->text[2];
    k->r.school_name = k->text[3];
    k->per1000 = per_1000(r);
}

static void rows_free(struct rows *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        for (int k = 0; k < 4; k++)
            free(rs->v[i].text[k]);
    free(rs->v);
}

static int text_cmp(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

/* Highest illness rate first; rows without one last; then county, school code. */
static int by_illness(const void *x, const void *y)
{
    const struct krow *a = x, *b = y;
    if (a->per1000 != b->per1000)
        return a->per1000 < b->per1000 ? 1 : -1;
    int c = text_cmp(a->r.county, b->r.county);
    return c ? c : text_cmp(a->r.school_code, b->r.school_code);
}

/* ---- the answer ---------------------------------------------------------------------- */

static json_t *rows_json(const struct rows *rs, enum rollup_level level, json_t *head)
{
    json_t *arr = json_array();
    if (!head || !arr || json_object_set_new(head, "rows", arr) < 0) {
        json_decref(head);
        return NULL;
    }
    for (size_t i = 0; i < rs->n; i++) {
        const struct krow *k = &rs->v[i];
        json_t *o = rollup_row_json(&k->r, level);
        if (!o || json_object_set_new(o, "illness_per_1000", k->per1000 < 0
                                                                 ? json_null()
                                                                 : json_real(k->per1000)) < 0 ||
            json_array_append_new(arr, o) < 0) {
            json_decref(head);
            return NULL;
        }
    }
    return head;
}

/* The rows as the roll-up's CSV, in their order here. */
static char *rows_csv(const struct rows *rs, const struct rollup_query *q)
{
    char *body = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&body, &len);
    if (!out)
        return NULL;
    struct rollup_writer *w = rollup_writer_new(out, ROLLUP_CSV, q);
    for (size_t i = 0; w && i < rs->n; i++)
        rollup_writer_row(&rs->v[i].r, w);
    bool made = rollup_writer_end(w) == 0;
    if (fclose(out) != 0 || !made) {
        free(body);
        return NULL;
    }
    return body;
}

/* The roll-up of q into rs: 0, or -1 with the refusal in a. */
static int read_rows(struct preq *r, const struct rollup_query *q, struct rows *rs,
                     struct panswer *a)
{
    long n = 0;
    struct bstore *s = bstore_pool_get(r->p->pool, BPAGE_POOL_WAIT_MS);
    enum bstore_status st = s ? bstore_rollup(s, q, FIGURES_MAX_ROWS, keep_row, rs, &n)
                              : BSTORE_UNAVAILABLE;
    if (st == BSTORE_UNAVAILABLE && s && bstore_ensure(s) == 0) {
        rows_free(rs);
        memset(rs, 0, sizeof *rs);
        st = bstore_rollup(s, q, FIGURES_MAX_ROWS, keep_row, rs, &n);
    }
    if (s)
        bstore_pool_put(r->p->pool, s);
    if (st == BSTORE_OK && n > FIGURES_MAX_ROWS)
        bpage_error(a, 400, NULL, "more than %d rows: ask for one county", FIGURES_MAX_ROWS);
    else if (st == BSTORE_OK && rs->failed)
        bpage_error(a, 500, NULL, "out of memory");
    else if (st == BSTORE_NOT_FOUND)
        bpage_error(a, 404, q->school[0] ? "school" : "county", "%s %s: not found%s",
                    q->school[0] ? "school" : "county", q->school[0] ? q->school : q->county,
                    r->user.role == PAGE_COUNTY ? " in your county" : "");
    else if (st == BSTORE_UNAVAILABLE)
        bpage_unavailable(a);
    else if (st != BSTORE_OK)
        bpage_error(a, 500, NULL, "the answer could not be made (the log says why)");
    return st == BSTORE_OK && n <= FIGURES_MAX_ROWS && !rs->failed ? 0 : -1;
}

static void answer(struct preq *r, struct panswer *a, const struct rollup_query *q,
                   const struct rows *rs, json_t *head, const char *file)
{
    if (r->route->csv) {
        json_decref(head);
        bpage_body_answer(a, rows_csv(rs, q), true, file);
        return;
    }
    json_t *j = rows_json(rs, q->level, head);
    if (j)
        bpage_json(a, 200, j);
    else
        bpage_error(a, 500, NULL, "out of memory");
}

/* The query's level and county as the user may have them: a county officer's county
 * is theirs whatever was asked, and the city is not theirs to see. */
static int scoped_query(struct preq *r, struct rollup_query *q, const char *from,
                        const char *to, const char *level, const char *county,
                        const char *school, struct panswer *a)
{
    const char *param = NULL;
    char why[256];
    if (bpage_scope(r, county, &county, a) < 0)
        return -1;
    if (r->user.role == PAGE_COUNTY && (!level || strcmp(level, "city") == 0)) {
        if (level) {
            bpage_error(a, 403, "level", "level: you see county %s only", r->user.county);
            return -1;
        }
        level = "county";
    }
    if (rollup_query_set(q, from, to, level, county, &param, why, sizeof why) < 0 ||
        rollup_query_school(q, school, &param, why, sizeof why) < 0) {
        bpage_error(a, 400, param, "%s", why);
        return -1;
    }
    return 0;
}

/* ---- a day, city → county → school ----------------------------------------------------- */

void bpage_figures(struct preq *r, struct MHD_Connection *conn, struct panswer *a)
{
    static const char *const names[] = {"day", "level", "county", NULL};
    const char *v[4];
    struct rollup_query q;
    struct rows rs = {0};
    char file[96], day[DAY_LEN], why[160];
    if (bpage_params(conn, names, v, a) < 0)
        return;
    if (!v[0] || day_parse(v[0], day, why, sizeof why) < 0) {
        bpage_error(a, 400, "day", "day: %s", v[0] ? why : "required (YYYY-MM-DD)");
        return;
    }
    if (scoped_query(r, &q, day, day, v[1], v[2], NULL, a) < 0)
        return;
    if (q.level == ROLLUP_SCHOOL && !q.county[0]) {
        bpage_error(a, 400, "county", "county: level=school needs a county (city, then county, "
                                      "then its schools)");
        return;
    }
    if (read_rows(r, &q, &rs, a) == 0) {
        qsort(rs.v, rs.n, sizeof *rs.v, by_illness);
        snprintf(file, sizeof file, "figures-%s-%s%s%s", q.from, rollup_level_name(q.level),
                 q.county[0] ? "-" : "", q.county);
        answer(r, a, &q, &rs,
               json_pack("{s:s,s:s,s:s?}", "day", q.from, "level", rollup_level_name(q.level),
                         "county", q.county[0] ? q.county : NULL), file);
    }
    rows_free(&rs);
}

/* ---- trends: a unit's last 30 or 90 days ------------------------------------------------ */

/* days=30 (default) or 90, and from = to - days + 1: 0, or -1 with the 400 in a. */
static int trend_days(const char *to, const char *days, char from[CIVIL_DAY_LEN],
                      struct panswer *a)
{
    int n = !days || strcmp(days, "30") == 0 ? 30 : strcmp(days, "90") == 0 ? 90 : 0;
    if (!n) {
        bpage_error(a, 400, "days", "days: 30 or 90");
        return -1;
    }
    if (!to || !*to) {
        bpage_error(a, 400, "to", "to is required (the last day, YYYY-MM-DD)");
        return -1;
    }
    if (strlen(to) != 10 || civil_day_add(to, 1 - n, from) < 0) {
        bpage_error(a, 400, "to", "to=%.40s is not a day (YYYY-MM-DD, a real date from 1970)",
                    to);
        return -1;
    }
    return 0;
}

void bpage_trends(struct preq *r, struct MHD_Connection *conn, struct panswer *a)
{
    static const char *const names[] = {"to", "days", "level", "county", "school", NULL};
    const char *v[6];
    struct rollup_query q;
    struct rows rs = {0};
    char from[CIVIL_DAY_LEN], file[128];
    if (bpage_params(conn, names, v, a) < 0 || trend_days(v[0], v[1], from, a) < 0 ||
        scoped_query(r, &q, from, v[0], v[2], v[3], v[4], a) < 0)
        return;
    if ((q.level == ROLLUP_COUNTY && !q.county[0]) || (q.level == ROLLUP_SCHOOL && !q.school[0])) {
        bool county = q.level == ROLLUP_COUNTY;
        bpage_error(a, 400, county ? "county" : "school", "%s: a trend is of one %s",
                    county ? "county" : "school", county ? "county" : "school");
        return;
    }
    if (read_rows(r, &q, &rs, a) == 0) {
        snprintf(file, sizeof file, "trends-%s-%s-%s%s%s", q.from, q.to,
                 rollup_level_name(q.level), q.county[0] || q.school[0] ? "-" : "",
                 q.school[0] ? q.school : q.county);
        answer(r, a, &q, &rs,
               json_pack("{s:s,s:s,s:s,s:s?,s:s?}", "from", q.from, "to", q.to, "level",
                         rollup_level_name(q.level), "county", q.county[0] ? q.county : NULL,
                         "school", q.school[0] ? q.school : NULL), file);
    }
    rows_free(&rs);
}
