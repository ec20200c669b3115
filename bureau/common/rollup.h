/* The bureau's roll-ups (docs/bureau-api.md, "GET /v1/rollup"): what a query asks
 * for, the figures of one row, and the row written as JSON or CSV. The pull API
 * (bureau/collector/collector_pull.c) and `gatescreen-bureau report` (bureau/cli/)
 * both check their parameters and write their answers here, so that they accept
 * the same things and print the same figures; the SQL is bureau/store/
 * bstore_rollup.c.
 *
 * A row is one day of one unit: the city, a county, or a school. Its figures are
 * the sums over the unit's schools of each school-day's latest summary revision
 * (summary_figures). Schools: `expected` are the active schools of the unit plus
 * any disabled since that reported on the day; `reported` those with a summary for
 * the day. A row with no report has no figures (null), not zeros. */
#ifndef GS_ROLLUP_H
#define GS_ROLLUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "row_stream.h"

#define ROLLUP_DAY_LEN 11       /* "YYYY-MM-DD" + NUL */
#define ROLLUP_MAX_DAYS 366     /* from..to, both included */
#define ROLLUP_MAX_ROWS 50000   /* more: the caller is asked to narrow the query */

enum rollup_level { ROLLUP_CITY, ROLLUP_COUNTY, ROLLUP_SCHOOL };
const char *rollup_level_name(enum rollup_level l);

struct rollup_query {
    char from[ROLLUP_DAY_LEN], to[ROLLUP_DAY_LEN];
    enum rollup_level level;
    char county[64];            /* "" = every county */
    char school[32];            /* "" = every school (rollup_query_school) */
};

/* Fills q from the parameters as given (NULL: not given). from and to are
 * required (a real day each, from <= to, at most ROLLUP_MAX_DAYS days); level is
 * city (the default), county or school; county narrows a county or school level.
 * 0, or -1 with *param naming the parameter at fault and the sentence in why. */
int rollup_query_set(struct rollup_query *q, const char *from, const char *to,
                     const char *level, const char *county, const char **param, char *why,
                     size_t why_size);

/* Narrows a school-level q to one school (its code, checked as the schools' list
 * checks it; NULL: not given): 0, or -1 with *param and why as above. */
int rollup_query_school(struct rollup_query *q, const char *school, const char **param,
                        char *why, size_t why_size);

/* The summed figures, in summary_figures' column order (sql/bureau/003_rollups.sql). */
enum rollup_fig {
    RF_POPULATION_STUDENT, RF_POPULATION_TEACHER, RF_POPULATION_STAFF, RF_POPULATION_TOTAL,
    RF_EXPECTED, RF_ON_LEAVE,
    RF_MORNING_DONE, RF_MORNING_EXPECTED, RF_MORNING_ALL,
    RF_NOON_DONE, RF_NOON_EXPECTED, RF_NOON_ALL,
    RF_FEVER_SCREENS, RF_FEVER_CONFIRMED, RF_FEVER_CLEARED, RF_FEVER_OPEN,
    RF_REFERRALS_OPENED, RF_REFERRALS_SENT_HOME, RF_REFERRALS_HOSPITAL,
    RF_REFERRALS_RETURNED, RF_REFERRALS_PENDING,
    RF_ABSENCES_ALL, RF_ABSENCES_ILLNESS, RF_ABSENCES_PERSONAL, RF_ABSENCES_OTHER,
    RF_ABSENCES_LATE, RF_ABSENCES_UNEXPLAINED,
    RF_SYMPTOM_FEVER, RF_SYMPTOM_COUGH, RF_SYMPTOM_SORE_THROAT, RF_SYMPTOM_DIARRHOEA,
    RF_SYMPTOM_VOMITING, RF_SYMPTOM_RASH, RF_SYMPTOM_CONJUNCTIVITIS, RF_SYMPTOM_OTHER,
    RF_RETURNS_AFTER_ILLNESS, RF_CERTIFICATES_RECORDED,
    RF_ALERTS_OPENED, RF_ALERTS_OPEN,
    RF_LANES, RF_LANES_KNOWN,
    /* Summary version 2's (sql/bureau/007_summary_v2.sql): the schools that said they
     * were closed, those that sent students and staff apart (version 2), and those
     * figures, summed over the schools_grouped schools only. */
    RF_SCHOOLS_CLOSED, RF_SCHOOLS_GROUPED,
    RF_STUDENTS_EXPECTED, RF_STUDENTS_MORNING_DONE, RF_STUDENTS_ABSENCES_ALL,
    RF_STUDENTS_ABSENCES_ILLNESS,
    RF_STAFF_POPULATION, RF_STAFF_EXPECTED, RF_STAFF_MORNING_DONE, RF_STAFF_MORNING_ALL,
    RF_STAFF_ABSENCES_ALL, RF_STAFF_ABSENCES_ILLNESS,
    RF_COUNT
};
/* The figure's column in summary_figures, which is also its CSV column. */
const char *rollup_fig_column(enum rollup_fig f);

struct rollup_row {
    const char *day;
    const char *county;               /* NULL at city level */
    const char *school_code;          /* school level only, else NULL */
    const char *school_name;
    long long revision;               /* school level: the revision counted (0: none) */
    long long schools_expected, schools_reported;
    long long noon_schools;           /* reporting schools that have noon checks */
    long long fig[RF_COUNT];          /* sums; meaningless when schools_reported is 0 */
    double availability_sum;          /* of the lanes whose availability is known */
};

/* One row as the JSON answer has it (the figures grouped as in a summary); NULL
 * when out of memory. */
json_t *rollup_row_json(const struct rollup_row *r, enum rollup_level level);

/* One answer written to f: JSON {"from", "to", "level", "county", "rows": [...]} or
 * CSV (BOM, a header, a record per row), row by row, so that a long answer is never
 * held twice. */
struct rollup_writer;
struct rollup_writer *rollup_writer_new(FILE *f, enum rollup_format format,
                                        const struct rollup_query *q);
/* One row (its signature is the store's callback's). */
void rollup_writer_row(const struct rollup_row *r, void *writer);
/* Ends the answer and frees the writer: 0, or -1 when something could not be made
 * (out of memory) or written. */
int rollup_writer_end(struct rollup_writer *w);

/* done / den rounded to 3 decimals; -1 when den is 0 (no rate). */
double rollup_rate(long long num, long long den);

#endif
