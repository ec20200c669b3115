/* The school's paper registers and the nurse's trends (docs/web-api.md
 * "Registers", "Trends"). Schools must keep and sign a 晨午检登记表 (morning and
 * noon checks) and a 因病缺勤登记表 (illness absences) per class and day: the page
 * prints them from GET /api/v1/registers (one page per class and day) and offers
 * the same rows as CSV. The trends are the last 30 days' figures as series (the
 * day report's figures, so both agree) and the illness absences per class. */
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "csv_out.h"
#include "ledger_register.h"
#include "textnum.h"
#include "web_api.h"

#define WEEK_DAYS 7
#define TREND_DAYS_DEFAULT 30
#define TREND_DAYS_MAX 92

/* ---- which days ------------------------------------------------------------------- */

struct span {
    char day[LEDGER_DAY_LEN];                  /* the date asked for */
    bool week;
    char days[WEEK_DAYS][LEDGER_DAY_LEN];
    const char *list[WEEK_DAYS];
    int n;
};

static int weekday_of(const char *day)
{
    int64_t ms;
    struct civil c;
    if (civil_ms_at(day, 12 * 3600, &ms) < 0 || civil_from_ms(ms, &c) < 0)
        return -1;
    return c.weekday;
}

/* span=day: the date; span=week: the school days ([windows] days) of its Monday to
 * Sunday week, up to today (a register is never printed ahead). */
static int query_span(struct web_request *rq, struct web_response *rs, struct span *s)
{
    const char *q = web_query(rq, "span");
    char today[LEDGER_DAY_LEN], monday[LEDGER_DAY_LEN];
    if (q && strcmp(q, "day") != 0 && strcmp(q, "week") != 0) {
        web_error(rs, 400, "span must be day or week");
        return -1;
    }
    if (wa_query_day(rq, rs, s->day) < 0 || wa_today_day(rs, today) < 0)
        return -1;
    s->week = q && strcmp(q, "week") == 0;
    s->n = 0;
    int wd = weekday_of(s->day);
    if (!s->week || wd < 0) {
        memcpy(s->days[s->n++], s->day, sizeof s->day); /* both LEDGER_DAY_LEN */
    } else if (civil_day_add(s->day, -((wd + 6) % 7), monday) == 0) {
        for (int i = 0; i < WEEK_DAYS; i++) {
            char *d = s->days[s->n];
            if (civil_day_add(monday, i, d) < 0 || strcmp(d, today) > 0)
                break;
            if (civil_school_date(&rq->cfg->windows, d))
                s->n++;
        }
    }
    for (int i = 0; i < s->n; i++)
        s->list[i] = s->days[i];
    return 0;
}

/* ---- a row's words ---------------------------------------------------------------- */

/* present | late | absent | leave | unchecked (no check and no absence yet). */
static const char *attendance(const struct lr_row *r)
{
    if (r->late)
        return "late";
    if (*r->cause && strcmp(r->cause, "late") != 0)
        return "absent";
    if (r->on_leave)
        return "leave";
    return r->has_morning || r->has_noon ? "present" : "unchecked";
}

/* ---- JSON: one page per class and day ---------------------------------------------- */

struct pages {
    json_t *pages, *page; /* page: the one being filled (borrowed from pages) */
    /* Its class and day as the ledger has them (the JSON's may have had invalid
     * UTF-8 replaced, and would not compare equal). */
    char class_name[ROSTER_CLASS_MAX], day[LEDGER_DAY_LEN];
    bool failed;
};

static json_t *temp_json(bool has, int centi)
{
    return has ? json_integer(centi) : json_null();
}

static json_t *student_json(const struct lr_row *r)
{
    bool absent = *r->cause != '\0';
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                     "id", wa_str(r->external_id), "name", wa_str(r->name), "morning_centi",
                     temp_json(r->has_morning, r->morning_centi), "noon_centi",
                     temp_json(r->has_noon, r->noon_centi), "noon_absence",
                     wa_str_or_null(r->noon_absence), "threshold_centi",
                     r->threshold_centi, "attendance", attendance(r), "cause",
                     absent ? wa_str(r->cause) : json_null(), "symptoms",
                     wa_list_json(r->symptoms), "onset_day", wa_str_or_null(r->onset_day),
                     "clinic_visit", r->clinic_visit < 0 ? json_null()
                                                         : json_boolean(r->clinic_visit),
                     "diagnosis", wa_str_or_null(r->diagnosis), "returned_day",
                     wa_str_or_null(r->returned_day), "note", wa_str_or_null(r->note));
}

static void page_row(const struct lr_row *r, void *arg)
{
    struct pages *p = arg;
    json_t *cur = p->page;
    if (!cur || strcmp(p->class_name, r->class_name) != 0 || strcmp(p->day, r->day) != 0) {
        snprintf(p->class_name, sizeof p->class_name, "%s", r->class_name);
        snprintf(p->day, sizeof p->day, "%s", r->day);
        cur = json_pack("{s:o, s:o, s:o, s:[]}", "class", wa_str(r->class_name), "grade",
                        wa_str(r->grade), "date", wa_str(r->day), "students");
        if (!cur || json_array_append_new(p->pages, cur) < 0) {
            p->failed = true;
            p->page = NULL;
            return;
        }
        p->page = cur;
    }
    wa_append(json_object_get(cur, "students"), student_json(r), &p->failed);
}

void wa_registers(struct web_request *rq, struct web_response *rs)
{
    struct span s;
    const char *class_name;
    struct ledger *l;
    if (query_span(rq, rs, &s) < 0 || wa_query_class(rq, rs, &class_name) < 0 ||
        !(l = web_ledger(rq, rs)))
        return;
    struct pages p = {.pages = json_array()};
    json_t *dates = json_array();
    bool failed = !p.pages || !dates;
    for (int i = 0; !failed && i < s.n; i++)
        wa_append(dates, wa_str(s.days[i]), &failed);
    failed = failed || ledger_register_rows(l, s.list, s.n, class_name, page_row, &p) < 0;
    wa_reply(rs, json_pack("{s:o, s:o, s:s, s:o, s:o, s:o}", "school",
                           wa_str(rq->cfg->school.name), "date", wa_str(s.day), "span",
                           s.week ? "week" : "day", "class", wa_str_or_null(class_name),
                           "dates", dates, "pages", p.pages),
             failed || p.failed);
}

/* ---- CSV: the same rows, in the paper's words --------------------------------------- */

struct term {
    const char *key, *zh;
};

static const struct term words[] = {
    {"present", "出勤"}, {"late", "迟到"}, {"absent", "缺勤"}, {"leave", "请假"},
    {"unchecked", "未检"}, {"illness", "因病"}, {"personal", "事假"}, {"other", "其他"},
    {"unknown", "原因未明"}, {"fever", "发热"}, {"cough", "咳嗽"}, {"sore_throat", "咽痛"},
    {"diarrhoea", "腹泻"}, {"vomiting", "呕吐"}, {"rash", "皮疹"}, {"conjunctivitis", "结膜炎（红眼）"},
    {NULL, NULL},
};

static const char *zh(const char *key)
{
    for (int i = 0; words[i].key; i++)
        if (strcmp(words[i].key, key) == 0)
            return words[i].zh;
    return key;
}

/* "fever,cough" -> "发热、咳嗽". */
static const char *zh_list(const char *list, char *out, size_t n)
{
    char item[32];
    size_t used = 0;
    *out = '\0';
    for (const char *p = list; *p && used < n;) {
        size_t len = strcspn(p, ",");
        snprintf(item, sizeof item, "%.*s", (int)len, p);
        int w = snprintf(out + used, n - used, "%s%s", used ? "、" : "", zh(item));
        used += w > 0 ? (size_t)w : 0;
        p += len + (p[len] == ',');
    }
    return out;
}

/* The noon column of a pupil swept at noon: 午检缺勤, with the cause once recorded. */
static void noon_absence_text(const char *cause, char *out, size_t n)
{
    if (strcmp(cause, "unknown") == 0)
        snprintf(out, n, "午检缺勤");
    else
        snprintf(out, n, "午检缺勤（%s）", zh(cause));
}

static void csv_row(const struct lr_row *r, void *arg)
{
    char m[16] = "", nn[48] = "", sym[160];
    static const char *const clinic[] = {"", "否", "是"};
    if (r->has_morning)
        tn_format_centi(r->morning_centi, m, sizeof m);
    if (r->has_noon)
        tn_format_centi(r->noon_centi, nn, sizeof nn);
    else if (*r->noon_absence)
        noon_absence_text(r->noon_absence, nn, sizeof nn);
    const char *f[] = {r->day, r->class_name, r->external_id, r->name, m, nn,
                       zh(attendance(r)), *r->cause ? zh(r->cause) : "",
                       zh_list(r->symptoms, sym, sizeof sym), r->onset_day,
                       clinic[r->clinic_visit + 1], r->diagnosis, r->returned_day, r->note};
    csv_out_record(arg, f, (int)(sizeof f / sizeof f[0]));
}

struct register_export {
    struct ledger *l;
    struct span *s;
    const char *class_name;
};

static int register_fill(FILE *f, void *ctx)
{
    struct register_export *e = ctx;
    static const char *const head[] = {"日期", "班级", "学号", "姓名", "晨检体温", "午检体温",
                                       "出勤", "缺勤原因", "症状", "发病日期", "是否就诊",
                                       "诊断", "复课日期", "备注"};
    csv_out_record(f, head, (int)(sizeof head / sizeof head[0]));
    return ledger_register_rows(e->l, e->s->list, e->s->n, e->class_name, csv_row, f);
}

void wa_csv_registers(struct web_request *rq, struct web_response *rs)
{
    struct span s;
    struct register_export e = {.s = &s};
    char filename[64];
    if (query_span(rq, rs, &s) < 0 || wa_query_class(rq, rs, &e.class_name) < 0 ||
        !(e.l = web_ledger(rq, rs)))
        return;
    snprintf(filename, sizeof filename, "register-%s%s.csv", s.week ? "week-" : "", s.day);
    wa_csv_reply(rs, filename, register_fill, &e);
}

/* ---- trends ------------------------------------------------------------------------- */

/* The series of the figures below, by their JSON names; then the symptoms. */
enum { S_EXPECTED, S_CHECKED, S_RATE, S_SCREENS, S_CONFIRMED, S_ILLNESS, S_NOON, S_EVENING,
       NSERIES };
static const char *const series_names[NSERIES] = {
    "expected", "morning_checked", "check_rate_permille", "fever_screens", "fever_confirmed",
    "illness_absences", "noon_absences", "evening_absences"};
#define NSYMPTOMS (FIG_SYM_OTHER - FIG_SYM_FEVER + 1)

struct trends {
    int n;
    char (*days)[LEDGER_DAY_LEN];
    int (*v)[NSERIES + NSYMPTOMS]; /* per day; a rate of -1: no school that day */
    json_t *classes;                /* [{"class", "illness_absences": [n per day]}] */
    /* The classes' names as the ledger has them, in the order of `classes` (the
     * JSON's may have had invalid UTF-8 replaced), to place the counts. */
    char (*names)[ROSTER_CLASS_MAX];
    size_t nnames;
    bool failed;
};

static void class_added(struct trends *t, const char *class_name)
{
    char(*more)[ROSTER_CLASS_MAX] = realloc(t->names, (t->nnames + 1) * sizeof *t->names);
    json_t *zeros = json_array();
    for (int i = 0; zeros && i < t->n; i++)
        json_array_append_new(zeros, json_integer(0));
    if (!more) {
        json_decref(zeros);
        t->failed = true;
        return;
    }
    t->names = more;
    snprintf(t->names[t->nnames++], sizeof *t->names, "%s", class_name);
    wa_append(t->classes, json_pack("{s:o, s:o}", "class", wa_str(class_name),
                                    "illness_absences", zeros),
              &t->failed);
}

static void class_series(const char *class_name, const char *day, int count, void *arg)
{
    struct trends *t = arg;
    if (!day) {
        class_added(t, class_name);
        return;
    }
    for (size_t c = 0; c < t->nnames; c++) {
        if (strcmp(t->names[c], class_name) != 0)
            continue;
        json_t *a = json_object_get(json_array_get(t->classes, c), "illness_absences");
        for (int i = 0; i < t->n; i++)
            if (strcmp(t->days[i], day) == 0 &&
                json_array_set_new(a, (size_t)i, json_integer(count)) < 0)
                t->failed = true;
    }
}

static int trend_day(struct web_request *rq, struct ledger *l, const char *day, int *v)
{
    struct day_figures f;
    bool stored;
    /* The trends' figures only: the readings' counts would scan 30 days of them. */
    struct fig_set which = {0};
    which.on[FIG_EXPECTED] = which.on[FIG_MORNING_DONE] = which.on[FIG_SCREENS] = true;
    which.on[FIG_CONFIRMED] = which.on[FIG_ABS_ILLNESS] = true;
    which.on[FIG_PART_NOON] = which.on[FIG_PART_EVENING] = true;
    for (int s = 0; s < NSYMPTOMS; s++)
        which.on[FIG_SYM_FEVER + s] = true;
    if (wa_day_figures(rq, l, day, &which, &f, &stored) < 0)
        return -1;
    bool school = civil_school_date(&rq->cfg->windows, day) && f.v[FIG_EXPECTED] > 0;
    v[S_EXPECTED] = f.v[FIG_EXPECTED];
    v[S_CHECKED] = f.v[FIG_MORNING_DONE];
    v[S_RATE] = school ? f.v[FIG_MORNING_COVERAGE] : -1;
    v[S_SCREENS] = f.v[FIG_SCREENS];
    v[S_CONFIRMED] = f.v[FIG_CONFIRMED];
    v[S_ILLNESS] = f.v[FIG_ABS_ILLNESS];
    v[S_NOON] = f.v[FIG_PART_NOON];
    v[S_EVENING] = f.v[FIG_PART_EVENING];
    for (int s = 0; s < NSYMPTOMS; s++)
        v[NSERIES + s] = f.v[FIG_SYM_FEVER + s];
    return 0;
}

/* ?date= (the last day, default today) and ?days= (1..92, default 30); fills t
 * (t->days and t->v allocated: trends_free). */
static int trends_load(struct web_request *rq, struct web_response *rs, struct trends *t)
{
    char last[LEDGER_DAY_LEN];
    long n = TREND_DAYS_DEFAULT;
    const char *q = web_query(rq, "days");
    struct ledger *l;
    if (q && tn_long(q, 1, TREND_DAYS_MAX, &n) < 0) {
        web_error(rs, 400, "days must be a whole number from 1 to %d", TREND_DAYS_MAX);
        return -1;
    }
    if (wa_query_day(rq, rs, last) < 0 || !(l = web_ledger(rq, rs)))
        return -1;
    t->n = (int)n;
    t->days = calloc((size_t)n, sizeof *t->days);
    t->v = calloc((size_t)n, sizeof *t->v);
    t->classes = json_array();
    bool failed = !t->days || !t->v || !t->classes;
    for (int i = 0; !failed && i < t->n; i++)
        failed = civil_day_add(last, i - t->n + 1, t->days[i]) < 0 ||
                 trend_day(rq, l, t->days[i], t->v[i]) < 0;
    failed = failed || ledger_register_illness(l, t->days[0], last, class_series, t) < 0;
    if (failed || t->failed) {
        web_error(rs, 500, "the trends could not be read (see the daemon's log)");
        return -1;
    }
    return 0;
}

static void trends_free(struct trends *t)
{
    free(t->names);
    free(t->days);
    free(t->v);
    json_decref(t->classes);
}

static json_t *series_json(const struct trends *t, int k)
{
    json_t *a = json_array();
    for (int i = 0; a && i < t->n; i++)
        json_array_append_new(a, t->v[i][k] < 0 ? json_null() : json_integer(t->v[i][k]));
    return a;
}

void wa_trends(struct web_request *rq, struct web_response *rs)
{
    struct trends t = {0};
    if (trends_load(rq, rs, &t) < 0) {
        trends_free(&t);
        return;
    }
    json_t *j = json_pack("{s:o, s:o, s:[], s:{}, s:{}, s:O}", "from", wa_str(t.days[0]), "to",
                          wa_str(t.days[t.n - 1]), "dates", "series", "symptoms", "classes",
                          t.classes);
    bool failed = !j;
    for (int i = 0; j && i < t.n; i++)
        wa_append(json_object_get(j, "dates"), wa_str(t.days[i]), &failed);
    for (int k = 0; j && k < NSERIES; k++)
        failed |= json_object_set_new(json_object_get(j, "series"), series_names[k],
                                      series_json(&t, k)) < 0;
    for (int s = 0; j && s < NSYMPTOMS; s++)
        failed |= json_object_set_new(json_object_get(j, "symptoms"),
                                      day_figure_name(FIG_SYM_FEVER + s) + strlen("symptoms."),
                                      series_json(&t, NSERIES + s)) < 0;
    trends_free(&t);
    wa_reply(rs, j, failed);
}

static const char *number(long long v, char *buf, size_t n)
{
    snprintf(buf, n, "%lld", v);
    return buf;
}

/* One row per day: the series, the symptoms, then each class's illness absences. */
static int trends_fill(FILE *f, void *ctx)
{
    const struct trends *t = ctx;
    size_t nclass = json_array_size(t->classes);
    const char *cells[NSERIES + NSYMPTOMS + 1 + 64];
    char num[NSERIES + NSYMPTOMS + 64][16], head[64][80];
    size_t ncol = 0;
    nclass = nclass > 64 ? 64 : nclass; /* a school has fewer classes on one chart */
    cells[ncol++] = "date";
    for (int k = 0; k < NSERIES; k++)
        cells[ncol++] = series_names[k];
    for (int s = 0; s < NSYMPTOMS; s++)
        cells[ncol++] = day_figure_name(FIG_SYM_FEVER + s);
    for (size_t c = 0; c < nclass; c++) {
        snprintf(head[c], sizeof head[c], "illness_absences.%s",
                 json_string_value(json_object_get(json_array_get(t->classes, c), "class")));
        cells[ncol++] = head[c];
    }
    csv_out_record(f, cells, (int)ncol);
    for (int i = 0; i < t->n; i++) {
        ncol = 0;
        cells[ncol++] = t->days[i];
        for (int k = 0; k < NSERIES + NSYMPTOMS; k++, ncol++)
            cells[ncol] = t->v[i][k] < 0 ? "" : number(t->v[i][k], num[k], sizeof num[k]);
        for (size_t c = 0; c < nclass; c++, ncol++) {
            json_t *a = json_object_get(json_array_get(t->classes, c), "illness_absences");
            cells[ncol] = number(json_integer_value(json_array_get(a, (size_t)i)),
                                 num[NSERIES + NSYMPTOMS + c], sizeof num[0]);
        }
        csv_out_record(f, cells, (int)ncol);
    }
    return 0;
}

void wa_csv_trends(struct web_request *rq, struct web_response *rs)
{
    struct trends t = {0};
    char filename[64];
    if (trends_load(rq, rs, &t) == 0) {
        snprintf(filename, sizeof filename, "trends-%s.csv", t.days[t.n - 1]);
        wa_csv_reply(rs, filename, trends_fill, &t);
    }
    trends_free(&t);
}
