/* Shared by the ledger's own files (daemon/ledger/) and their unit tests: helpers that
 * run inside the caller's transaction. */
#ifndef GS_LEDGER_HEALTH_PRIVATE_H
#define GS_LEDGER_HEALTH_PRIVATE_H

#include "ledger_health.h"
#include "ledger_private.h"
#include "log.h"

/* Binds the variadic arguments by a type string, one letter per parameter:
 * 't' const char * (NULL binds NULL), 'd' int, 'I' int64_t. -1 (logged, naming
 * the SQL) when the letters are not exactly one per parameter of st. */
int lh_bind(sqlite3_stmt *st, const char *types, ...);
/* Runs a statement that returns no rows; *changes (may be NULL) = rows changed. */
int lh_run(struct ledger *l, int *changes, const char *sql, const char *types, ...);
/* The first column of the first row as int64: 1 row found, 0 none, -1 error. */
int lh_query_i64(struct ledger *l, int64_t *out, const char *sql, const char *types, ...);

struct lh_person {
    int64_t id;
    char class_name[128];
};
/* Looks up an external id; "no one with id ..." on errs (logged when errs is NULL)
 * when unknown (refused as LEDGER_NOT_FOUND, an empty id as LEDGER_INVALID). */
int lh_find_person(struct ledger *l, const char *external_id, struct lh_person *p,
                   FILE *errs);
/* LEDGER_INVALID with "WHAT 'X' is not a date YYYY-MM-DD" on errs. */
enum ledger_status lh_check_day(const char *what, const char *day, FILE *errs);
/* The school's local day of an instant. */
int lh_today(int64_t at_ms, char day[LEDGER_DAY_LEN]);
/* LEDGER_INVALID with "WHAT D is in the future" when day is after the local day of
 * at_ms: nobody can be checked, swept or certified ahead of time. */
enum ledger_status lh_check_not_future(const char *what, const char *day, int64_t at_ms,
                                       FILE *errs);
/* Index of s in a NULL-terminated list of names, or -1. */
int lh_name_index(const char *const *names, const char *s);
/* The SELECT ... FROM of an absence as struct absence_view shows it (followed by the
 * caller's WHERE), and the view of a row of it: one definition for every listing. */
#define LH_ABSENCE_SELECT                                                                  \
    "SELECT p.external_id, p.name, p.class, a.day, a.cause, a.symptoms, "                  \
    "       coalesce(a.onset_day, ''), a.diagnosis, a.note, a.recorded_by, "               \
    "       coalesce(a.clinic_visit, -1), coalesce(a.late_ms, 0), "                        \
    "       coalesce(a.returned_day, ''), "                                                \
    "       (SELECT count(*) FROM absence_followups WHERE absence_id = a.id), "            \
    "       coalesce((SELECT note FROM absence_followups WHERE absence_id = a.id "         \
    "                 ORDER BY at_ms DESC, id DESC LIMIT 1), '') "                         \
    "FROM absences a JOIN people p ON p.id = a.person_id "
struct lh_absence_cb {
    void (*fn)(const struct absence_view *v, void *arg);
    void *arg;
};
/* ledger_each_row's row of LH_ABSENCE_SELECT; ctx is a struct lh_absence_cb. */
void lh_absence_row(sqlite3_stmt *st, void *ctx);
/* The same for a part-day absence (struct part_absence_view). */
#define LH_PART_ABSENCE_SELECT                                                             \
    "SELECT p.external_id, p.name, p.class, a.day, a.part, a.cause, a.recorded_by, "       \
    "       a.recorded_ms, a.symptoms, a.note "                                            \
    "FROM part_absences a JOIN people p ON p.id = a.person_id "
struct lh_part_absence_cb {
    void (*fn)(const struct part_absence_view *v, void *arg);
    void *arg;
};
void lh_part_absence_row(sqlite3_stmt *st, void *ctx);
/* Commits when rc == 0, else rolls back; returns rc (or -1 if the commit failed). */
int lh_finish(struct ledger *l, int rc);
/* Ends a listing stepped to rc: finalizes st; 0 when it ran to SQLITE_DONE, else
 * -1 with the database's error logged as `what`. */
int lh_list_done(struct ledger *l, sqlite3_stmt *st, int rc, const char *what);

/* Inside a transaction. */
int lh_needs_certificate(struct ledger *l, int64_t person_id, const char *day, bool *needs);
int lh_open_case(struct ledger *l, int64_t person_id, bool *open_case);
int lh_cluster_evaluate(struct ledger *l, const struct cfg_screening *s,
                        const char *class_name, const char *day, const char *by,
                        int64_t at_ms, struct opened_alerts *opened);
/* The gate's arrival rules for a manual check: unless the person has the day's
 * morning check, an 'unknown' absence of that day becomes 'late', others get
 * late_ms; earlier absences get their return day. */
int lh_note_arrival(struct ledger *l, int64_t person_id, const char *day, int64_t at_ms);
int lh_store_figures(struct ledger *l, const struct day_figures *f);

/* Observation o covers day ?1 (ledger_observe.c; the day's figures count it too):
 * from_day <= D <= to_day and not ended by D. */
#define LH_UNDER_OBSERVATION                                                             \
    "o.from_day <= ?1 AND o.to_day >= ?1 AND (o.ended_day IS NULL OR o.ended_day > ?1)"
/* The visitors of day ?1, and those refused (ledger_visitors.c, the day's figures). */
#define LH_VISITORS_OF_DAY "SELECT count(*) FROM visitors WHERE day = ?1"
#define LH_VISITORS_REFUSED LH_VISITORS_OF_DAY " AND outcome = 'refused'"

#endif
