/* The registers' and trends' reads of the ledger (ledger_register.h). */
#include "ledger_register.h"

#include <stdio.h>
#include <string.h>

#include "ledger_health_private.h"
#include "ledger_private.h"

/* The days as a JSON array for json_each: one statement for a week of pages
 * instead of one per day. The days are checked YYYY-MM-DD by the caller. */
static int days_json(const char *const *days, int ndays, char *out, size_t n)
{
    size_t used = 0;
    for (int i = 0; i < ndays; i++) {
        int w = snprintf(out + used, n - used, "%s\"%s\"", i ? "," : "[", days[i]);
        if (w < 0 || (size_t)w >= n - used)
            return -1;
        used += (size_t)w;
    }
    return snprintf(out + used, n - used, ndays ? "]" : "[]") < (int)(n - used) ? 0 : -1;
}

/* st with its two text parameters bound; NULL (logged, st finalized) when that
 * failed, or when st is NULL already (its prepare failed, logged). */
static sqlite3_stmt *bound(struct ledger *l, sqlite3_stmt *st, const char *a, const char *b,
                           const char *what)
{
    if (st && lh_bind(st, "tt", a, b) < 0) {
        ledger_log_error(l, what);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

struct row_cb {
    void (*fn)(const struct lr_row *r, void *arg);
    void *arg;
};

static void register_row(sqlite3_stmt *st, void *ctx)
{
    struct row_cb *cb = ctx;
    bool has_m = sqlite3_column_type(st, 5) != SQLITE_NULL;
    bool has_n = sqlite3_column_type(st, 7) != SQLITE_NULL;
    struct lr_row r = {
        .day = ledger_col_text(st, 0), .class_name = ledger_col_text(st, 1),
        .grade = ledger_col_text(st, 2), .external_id = ledger_col_text(st, 3),
        .name = ledger_col_text(st, 4), .has_morning = has_m, .has_noon = has_n,
        .morning_centi = sqlite3_column_int(st, 5),
        .noon_centi = sqlite3_column_int(st, 7),
        .threshold_centi = sqlite3_column_int(st, has_m ? 6 : 8),
        .on_leave = sqlite3_column_int(st, 9) != 0, .cause = ledger_col_text(st, 10),
        .symptoms = ledger_col_text(st, 11), .onset_day = ledger_col_text(st, 12),
        .clinic_visit = sqlite3_column_type(st, 13) == SQLITE_NULL ? -1
                                                                   : sqlite3_column_int(st, 13),
        .diagnosis = ledger_col_text(st, 14), .returned_day = ledger_col_text(st, 15),
        .note = ledger_col_text(st, 16), .late = sqlite3_column_type(st, 17) != SQLITE_NULL,
        .noon_absence = ledger_col_text(st, 18),
    };
    cb->fn(&r, cb->arg);
}

int ledger_register_rows(struct ledger *l, const char *const *days, int ndays,
                         const char *class_name,
                         void (*fn)(const struct lr_row *r, void *arg), void *arg)
{
    char list[16 * 32];
    if (ndays < 0 || ndays > 31 || days_json(days, ndays, list, sizeof list) < 0)
        return -1;
    struct row_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(
        l, "SELECT d.value, p.class, p.grade, p.external_id, p.name, "
           "  m.temp_centi, m.threshold_centi, n.temp_centi, n.threshold_centi, "
           "  EXISTS (SELECT 1 FROM leaves v WHERE v.person_id = p.id "
           "          AND d.value BETWEEN v.from_day AND v.to_day), "
           "  coalesce(a.cause, ''), a.symptoms, a.onset_day, a.clinic_visit, a.diagnosis, "
           "  a.returned_day, a.note, a.late_ms, coalesce(pa.cause, '') "
           "FROM people p CROSS JOIN json_each(?1) d "
           "LEFT JOIN checks m ON m.person_id = p.id AND m.day = d.value "
           "  AND m.window = 'morning' "
           "LEFT JOIN checks n ON n.person_id = p.id AND n.day = d.value AND n.window = 'noon' "
           "LEFT JOIN absences a ON a.person_id = p.id AND a.day = d.value "
           "LEFT JOIN part_absences pa ON pa.person_id = p.id AND pa.day = d.value "
           "  AND pa.part = 'noon' "
           "WHERE p.active = 1 AND p.kind = 'student' AND (?2 IS NULL OR p.class = ?2) "
           "ORDER BY p.class, d.value, p.external_id");
    return ledger_each_row(l, bound(l, st, list, class_name, "register rows"), "register rows",
                           register_row, &cb);
}

struct illness_cb {
    void (*fn)(const char *class_name, const char *day, int count, void *arg);
    void *arg;
};

static void illness_row(sqlite3_stmt *st, void *ctx)
{
    struct illness_cb *cb = ctx;
    bool whole = sqlite3_column_type(st, 1) == SQLITE_NULL;
    cb->fn(ledger_col_text(st, 0), whole ? NULL : ledger_col_text(st, 1),
           sqlite3_column_int(st, 2), cb->arg);
}

int ledger_register_illness(struct ledger *l, const char *from, const char *to,
                            void (*fn)(const char *class_name, const char *day, int count,
                                       void *arg),
                            void *arg)
{
    struct illness_cb cb = {fn, arg};
    /* The classes first (day NULL), then the counts: one pass builds the series. A
     * class whose pupils have all left still shows when it had illness then. */
    sqlite3_stmt *st = ledger_prepare(
        l, "WITH ill AS (SELECT p.class AS class, a.day AS day, count(*) AS n "
           "  FROM absences a JOIN people p ON p.id = a.person_id "
           "  WHERE a.day BETWEEN ?1 AND ?2 AND a.cause = 'illness' GROUP BY p.class, a.day) "
           "SELECT c, d, n FROM (SELECT class AS c, NULL AS d, 0 AS n FROM "
           "  (SELECT class FROM people WHERE active = 1 AND kind = 'student' "
           "   UNION SELECT class FROM ill) "
           "  UNION ALL SELECT class, day, n FROM ill) "
           "ORDER BY d IS NOT NULL, c, d");
    return ledger_each_row(l, bound(l, st, from, to, "illness by class"), "illness by class",
                           illness_row, &cb);
}
