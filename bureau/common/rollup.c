/* The roll-ups' parameters and their JSON and CSV (rollup.h). The JSON groups the
 * figures as a summary does (population, checks, fevers, ...), so that a reader
 * of one knows the other; the CSV has one flat column per figure, named as in
 * summary_figures. Rates are computed here from the sums (the sum of done over
 * the sum of expected, never a mean of the schools' rates), rounded to 3
 * decimals like a summary's coverage. */
#include "rollup.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "csv_out.h"
#include "school_list.h"
#include "textnum.h"

static const char *const level_names[] = {"city", "county", "school"};

static const char *const fig_columns[RF_COUNT] = {
    "population_student", "population_teacher", "population_staff", "population_total",
    "expected", "on_leave",
    "morning_done", "morning_expected", "morning_all",
    "noon_done", "noon_expected", "noon_all",
    "fever_screens", "fever_confirmed", "fever_cleared", "fever_open",
    "referrals_opened", "referrals_sent_home", "referrals_hospital",
    "referrals_returned_to_class", "referrals_pending",
    "absences_all", "absences_illness", "absences_personal", "absences_other",
    "absences_late", "absences_unexplained",
    "symptom_fever", "symptom_cough", "symptom_sore_throat", "symptom_diarrhoea",
    "symptom_vomiting", "symptom_rash", "symptom_conjunctivitis", "symptom_other",
    "returns_after_illness", "certificates_recorded",
    "alerts_opened", "alerts_open",
    "lanes", "lanes_known",
    "schools_closed", "schools_grouped",
    "students_expected", "students_morning_done", "students_absences_all",
    "students_absences_illness",
    "staff_population", "staff_expected", "staff_morning_done", "staff_morning_all",
    "staff_absences_all", "staff_absences_illness",
};

const char *rollup_level_name(enum rollup_level l)
{
    return (unsigned)l < 3 ? level_names[l] : "?";
}

const char *rollup_fig_column(enum rollup_fig f)
{
    return (unsigned)f < RF_COUNT ? fig_columns[f] : "?";
}

double rollup_rate(long long num, long long den)
{
    return den > 0 ? round((double)num * 1000.0 / (double)den) / 1000.0 : -1.0;
}

/* ---- the query ------------------------------------------------------------------- */

static int bad(const char **param, const char *name, char *why, size_t n, const char *text)
{
    *param = name;
    snprintf(why, n, "%s", text);
    return -1;
}

static int set_day(char *out, const char *v, const char *name, const char **param, char *why,
                   size_t n)
{
    int y, m, d;
    *param = name;
    if (!v || !*v) {
        snprintf(why, n, "%s is required (a day, YYYY-MM-DD)", name);
        return -1;
    }
    if (strlen(v) != 10 || tn_date(v, &y, &m, &d) < 0) {
        snprintf(why, n, "%s=%.40s is not a day (YYYY-MM-DD, a real date from 1970)", name, v);
        return -1;
    }
    memcpy(out, v, ROLLUP_DAY_LEN);
    return 0;
}

/* from <= to, and at most ROLLUP_MAX_DAYS days: ISO days compare as text. */
static int check_range(const struct rollup_query *q, const char **param, char *why, size_t n)
{
    char last[CIVIL_DAY_LEN];
    if (strcmp(q->from, q->to) > 0)
        return bad(param, "to", why, n, "to is before from");
    if (civil_day_add(q->from, ROLLUP_MAX_DAYS - 1, last) == 0 && strcmp(q->to, last) > 0) {
        *param = "to";
        snprintf(why, n, "from %s to %s is more than %d days; ask for fewer", q->from, q->to,
                 ROLLUP_MAX_DAYS);
        return -1;
    }
    return 0;
}

static int set_level(struct rollup_query *q, const char *v, const char **param, char *why,
                     size_t n)
{
    q->level = ROLLUP_CITY;
    if (!v)
        return 0;
    for (int i = 0; i < 3; i++)
        if (strcmp(v, level_names[i]) == 0) {
            q->level = (enum rollup_level)i;
            return 0;
        }
    *param = "level";
    snprintf(why, n, "level=%.40s is not one of city, county, school", v);
    return -1;
}

/* The county as a school list's county is checked (school_list.c). */
static int set_county(struct rollup_query *q, const char *v, const char **param, char *why,
                      size_t n)
{
    q->county[0] = '\0';
    if (v && q->level == ROLLUP_CITY)
        return bad(param, "county", why, n, "county narrows level=county or level=school, "
                                            "not the city");
    return school_filter_set(q->county, sizeof q->county, SF_COUNTY, "county", v, param, why, n);
}

int rollup_query_set(struct rollup_query *q, const char *from, const char *to,
                     const char *level, const char *county, const char **param, char *why,
                     size_t why_size)
{
    memset(q, 0, sizeof *q);
    if (set_day(q->from, from, "from", param, why, why_size) < 0 ||
        set_day(q->to, to, "to", param, why, why_size) < 0 ||
        check_range(q, param, why, why_size) < 0 ||
        set_level(q, level, param, why, why_size) < 0 ||
        set_county(q, county, param, why, why_size) < 0)
        return -1;
    *param = NULL;
    return 0;
}

int rollup_query_school(struct rollup_query *q, const char *school, const char **param,
                        char *why, size_t why_size)
{
    q->school[0] = '\0';
    if (school && q->level != ROLLUP_SCHOOL)
        return bad(param, "school", why, why_size, "school narrows level=school only");
    if (school_filter_set(q->school, sizeof q->school, SF_CODE, "school", school, param, why,
                          why_size) < 0)
        return -1;
    *param = NULL;
    return 0;
}

/* ---- JSON -------------------------------------------------------------------------- */

static json_t *rate_json(long long num, long long den)
{
    double r = rollup_rate(num, den);
    return r < 0 ? json_null() : json_real(r);
}

#define FIG(r, f) ((json_int_t)(r)->fig[f])

static json_t *checks_json(const struct rollup_row *r)
{
    json_t *noon = json_null();
    if (r->noon_schools > 0)
        noon = json_pack("{s:I,s:I,s:I,s:o,s:I}", "schools", (json_int_t)r->noon_schools,
                         "done", FIG(r, RF_NOON_DONE), "expected", FIG(r, RF_NOON_EXPECTED),
                         "rate", rate_json(r->fig[RF_NOON_DONE], r->fig[RF_NOON_EXPECTED]),
                         "all", FIG(r, RF_NOON_ALL));
    return json_pack("{s:{s:I,s:I,s:o,s:I},s:o}", "morning", "done", FIG(r, RF_MORNING_DONE),
                     "expected", FIG(r, RF_MORNING_EXPECTED), "rate",
                     rate_json(r->fig[RF_MORNING_DONE], r->fig[RF_MORNING_EXPECTED]), "all",
                     FIG(r, RF_MORNING_ALL), "noon", noon);
}

static json_t *absences_json(const struct rollup_row *r)
{
    return json_pack("{s:I,s:{s:I,s:I,s:I,s:I},s:I,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}}",
                     "all", FIG(r, RF_ABSENCES_ALL), "by_cause",
                     "illness", FIG(r, RF_ABSENCES_ILLNESS),
                     "personal", FIG(r, RF_ABSENCES_PERSONAL),
                     "other", FIG(r, RF_ABSENCES_OTHER), "late", FIG(r, RF_ABSENCES_LATE),
                     "unexplained", FIG(r, RF_ABSENCES_UNEXPLAINED), "by_symptom",
                     "fever", FIG(r, RF_SYMPTOM_FEVER), "cough", FIG(r, RF_SYMPTOM_COUGH),
                     "sore_throat", FIG(r, RF_SYMPTOM_SORE_THROAT),
                     "diarrhoea", FIG(r, RF_SYMPTOM_DIARRHOEA),
                     "vomiting", FIG(r, RF_SYMPTOM_VOMITING), "rash", FIG(r, RF_SYMPTOM_RASH),
                     "conjunctivitis", FIG(r, RF_SYMPTOM_CONJUNCTIVITIS),
                     "other", FIG(r, RF_SYMPTOM_OTHER));
}

static json_t *availability_json(const struct rollup_row *r)
{
    long long known = r->fig[RF_LANES_KNOWN];
    return known > 0 ? json_real(round(r->availability_sum * 1000.0 / (double)known) / 1000.0)
                     : json_null();
}

/* Students and staff apart, from the schools that sent them (version 2
 * summaries); null when none did. */
static json_t *groups_json(const struct rollup_row *r)
{
    if (r->fig[RF_SCHOOLS_GROUPED] == 0)
        return json_null();
    return json_pack(
        "{s:I,s:{s:I,s:I,s:o,s:I,s:I},s:{s:I,s:I,s:I,s:o,s:I,s:I,s:I}}",
        "schools", FIG(r, RF_SCHOOLS_GROUPED),
        "students", "expected", FIG(r, RF_STUDENTS_EXPECTED), "morning_done",
        FIG(r, RF_STUDENTS_MORNING_DONE), "morning_rate",
        rate_json(r->fig[RF_STUDENTS_MORNING_DONE], r->fig[RF_STUDENTS_EXPECTED]),
        "absences_all", FIG(r, RF_STUDENTS_ABSENCES_ALL), "absences_illness",
        FIG(r, RF_STUDENTS_ABSENCES_ILLNESS),
        "staff", "population", FIG(r, RF_STAFF_POPULATION), "expected",
        FIG(r, RF_STAFF_EXPECTED), "morning_done", FIG(r, RF_STAFF_MORNING_DONE),
        "morning_rate", rate_json(r->fig[RF_STAFF_MORNING_DONE], r->fig[RF_STAFF_EXPECTED]),
        "morning_all", FIG(r, RF_STAFF_MORNING_ALL), "absences_all",
        FIG(r, RF_STAFF_ABSENCES_ALL), "absences_illness", FIG(r, RF_STAFF_ABSENCES_ILLNESS));
}

/* The figures of a row with at least one report, grouped as in a summary. */
static int figures_json(json_t *o, const struct rollup_row *r)
{
    json_t *parts[] = {
        json_pack("{s:I,s:I,s:I,s:I}", "student", FIG(r, RF_POPULATION_STUDENT),
                  "teacher", FIG(r, RF_POPULATION_TEACHER), "staff", FIG(r, RF_POPULATION_STAFF),
                  "total", FIG(r, RF_POPULATION_TOTAL)),
        json_integer(FIG(r, RF_EXPECTED)), json_integer(FIG(r, RF_ON_LEAVE)), checks_json(r),
        json_pack("{s:I,s:I,s:I,s:I}", "screens", FIG(r, RF_FEVER_SCREENS),
                  "confirmed", FIG(r, RF_FEVER_CONFIRMED), "cleared", FIG(r, RF_FEVER_CLEARED),
                  "open", FIG(r, RF_FEVER_OPEN)),
        json_pack("{s:I,s:{s:I,s:I,s:I},s:I}", "opened", FIG(r, RF_REFERRALS_OPENED),
                  "by_outcome", "sent_home", FIG(r, RF_REFERRALS_SENT_HOME),
                  "hospital", FIG(r, RF_REFERRALS_HOSPITAL),
                  "returned_to_class", FIG(r, RF_REFERRALS_RETURNED),
                  "pending", FIG(r, RF_REFERRALS_PENDING)),
        absences_json(r),
        json_pack("{s:I,s:I}", "after_illness", FIG(r, RF_RETURNS_AFTER_ILLNESS),
                  "certificates_recorded", FIG(r, RF_CERTIFICATES_RECORDED)),
        json_pack("{s:I,s:I}", "opened", FIG(r, RF_ALERTS_OPENED), "open", FIG(r, RF_ALERTS_OPEN)),
        json_pack("{s:I,s:I,s:o}", "lanes", FIG(r, RF_LANES), "known", FIG(r, RF_LANES_KNOWN),
                  "availability", availability_json(r)),
        groups_json(r),
    };
    static const char *const keys[] = {"population", "expected", "on_leave", "checks", "fevers",
                                       "referrals", "absences", "returns", "alerts", "devices",
                                       "groups"};
    _Static_assert(sizeof parts / sizeof parts[0] == sizeof keys / sizeof keys[0],
                   "a key per part");
    int rc = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!parts[i] || json_object_set_new(o, keys[i], parts[i]) < 0)
            rc = -1;
    return rc;
}

/* The same keys with null: nothing was reported. */
static int no_figures_json(json_t *o)
{
    static const char *const keys[] = {"population", "expected", "on_leave", "checks", "fevers",
                                       "referrals", "absences", "returns", "alerts", "devices",
                                       "groups"};
    int rc = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        rc |= json_object_set_new(o, keys[i], json_null());
    return rc < 0 ? -1 : 0;
}

json_t *rollup_row_json(const struct rollup_row *r, enum rollup_level level)
{
    json_t *o = json_pack("{s:s}", "day", r->day);
    int rc = o ? 0 : -1;
    if (rc == 0 && level != ROLLUP_CITY)
        rc = json_object_set_new(o, "county", json_string(r->county ? r->county : ""));
    if (rc == 0 && level == ROLLUP_SCHOOL)
        rc = json_object_set_new(o, "school", json_pack("{s:s,s:s}", "code", r->school_code,
                                                        "name", r->school_name));
    if (rc == 0 && level == ROLLUP_SCHOOL)
        rc = json_object_set_new(o, "revision", r->revision ? json_integer(r->revision)
                                                            : json_null());
    if (rc == 0)
        rc = json_object_set_new(o, "schools", json_pack(
            "{s:I,s:I,s:o,s:I}", "expected", (json_int_t)r->schools_expected, "reported",
            (json_int_t)r->schools_reported, "completeness",
            rate_json(r->schools_reported, r->schools_expected), "closed",
            (json_int_t)(r->schools_reported > 0 ? r->fig[RF_SCHOOLS_CLOSED] : 0)));
    if (rc == 0)
        rc = r->schools_reported > 0 ? figures_json(o, r) : no_figures_json(o);
    if (rc < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- CSV --------------------------------------------------------------------------- */

/* Each cell of a row in order, as (column, text): with r NULL the texts are NULL,
 * which makes the header, so that header and rows cannot disagree. */
typedef void (*cell_fn)(void *ctx, const char *column, const char *text);

struct cells {
    cell_fn fn;
    void *ctx;
    const struct rollup_row *r;
    bool figures; /* the row has reports */
};

static void cell_num(struct cells *c, const char *column, long long v, bool given)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", v);
    c->fn(c->ctx, column, c->r && given ? buf : NULL);
}

static void cell_rate(struct cells *c, const char *column, double rate, bool given)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%.3f", rate);
    c->fn(c->ctx, column, c->r && given && rate >= 0 ? buf : NULL);
}

static void cell_text(struct cells *c, const char *column, const char *text)
{
    c->fn(c->ctx, column, c->r ? text : NULL);
}

/* After a figure: the columns computed from it. */
static void derived_cells(struct cells *c, enum rollup_fig f)
{
    const struct rollup_row *r = c->r;
    bool noon = r && c->figures && r->noon_schools > 0;
    if (f == RF_MORNING_EXPECTED)
        cell_rate(c, "morning_rate", r ? rollup_rate(r->fig[RF_MORNING_DONE], r->fig[f]) : 0,
                  c->figures);
    else if (f == RF_NOON_EXPECTED)
        cell_rate(c, "noon_rate", r ? rollup_rate(r->fig[RF_NOON_DONE], r->fig[f]) : 0, noon);
    else if (f == RF_LANES_KNOWN)
        cell_rate(c, "availability", r && r->fig[f] > 0 ? round(r->availability_sum * 1000.0 /
                                                               (double)r->fig[f]) / 1000.0 : -1,
                  c->figures);
}

static void all_cells(struct cells *c)
{
    const struct rollup_row *r = c->r;
    bool noon = r && c->figures && r->noon_schools > 0;
    cell_text(c, "day", r ? r->day : NULL);
    cell_text(c, "county", r ? r->county : NULL);
    cell_text(c, "school_code", r ? r->school_code : NULL);
    cell_text(c, "school_name", r ? r->school_name : NULL);
    cell_num(c, "revision", r ? r->revision : 0, r && r->revision > 0);
    cell_num(c, "schools_expected", r ? r->schools_expected : 0, true);
    cell_num(c, "schools_reported", r ? r->schools_reported : 0, true);
    cell_rate(c, "completeness", r ? rollup_rate(r->schools_reported, r->schools_expected) : 0,
              true);
    for (int f = 0; f < RF_COUNT; f++) {
        bool is_noon = f == RF_NOON_DONE || f == RF_NOON_EXPECTED || f == RF_NOON_ALL;
        if (f == RF_NOON_DONE)
            cell_num(c, "noon_schools", r ? r->noon_schools : 0, c->figures);
        cell_num(c, fig_columns[f], r ? r->fig[f] : 0, is_noon ? noon : c->figures);
        derived_cells(c, (enum rollup_fig)f);
    }
}

struct csv_line {
    FILE *f;
    bool first;
    bool header;
};

static void csv_cell(void *ctx, const char *column, const char *text)
{
    struct csv_line *l = ctx;
    csv_out_field(l->f, l->header ? column : text, l->first);
    l->first = false;
}

static void csv_row(FILE *f, const struct rollup_row *r)
{
    struct csv_line l = {f, true, r == NULL};
    struct cells c = {csv_cell, &l, r, r && r->schools_reported > 0};
    all_cells(&c);
    fputs("\r\n", f);
}

/* ---- the writer -------------------------------------------------------------------- */

struct rollup_writer {
    struct row_stream s;
    enum rollup_level level;
};

struct rollup_writer *rollup_writer_new(FILE *f, enum rollup_format format,
                                        const struct rollup_query *q)
{
    struct rollup_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->level = q->level;
    row_stream_begin(&w->s, f, format,
                     json_pack("{s:s,s:s,s:s,s:s?}", "from", q->from, "to", q->to, "level",
                               rollup_level_name(q->level), "county",
                               q->county[0] ? q->county : NULL),
                     "rows");
    if (format == ROLLUP_CSV)
        csv_row(f, NULL);
    return w;
}

void rollup_writer_row(const struct rollup_row *r, void *writer)
{
    struct rollup_writer *w = writer;
    if (w->s.format == ROLLUP_CSV)
        csv_row(w->s.f, r);
    else
        row_stream_json(&w->s, rollup_row_json(r, w->level),
                        JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
}

int rollup_writer_end(struct rollup_writer *w)
{
    if (!w)
        return -1;
    int rc = row_stream_end(&w->s);
    free(w);
    return rc;
}
