/* Arrival slots' counts (ledger_slots.h). */
#include "ledger_slots.h"

#include <string.h>

#include "civil.h"
#include "ledger_calendar.h"
#include "ledger_health_private.h"

/* ?1 day, ?2 kinds, ?3 grades not back, ?4 1 for a class, ?5 the slot's end (ms),
 * ?6 the group's name, ?7 the classes with slots of their own. Pupils only: a
 * class's teacher keeps the whole window. */
#define SLOT_SQL                                                                          \
    "SELECT count(*), coalesce(sum(f IS NOT NULL), 0), coalesce(sum(f > ?5), 0) FROM ("  \
    "SELECT (SELECT min(c.at_ms) FROM checks c WHERE c.person_id = p.id AND c.day = ?1 "  \
    "        AND c.window = 'morning') AS f FROM people p WHERE p.active = 1 "            \
    "AND ((p.kind = 'student' AND (?2 & 1)) OR (p.kind = 'teacher' AND (?2 & 2)) "        \
    "     OR (p.kind = 'staff' AND (?2 & 4))) "                                           \
    "AND instr(?3, char(31) || p.grade || char(31)) = 0 "                                 \
    "AND NOT EXISTS (SELECT 1 FROM leaves v WHERE v.person_id = p.id "                    \
    "                AND ?1 BETWEEN v.from_day AND v.to_day) "                            \
    "AND p.kind = 'student' AND ((?4 = 1 AND p.class = ?6) OR (?4 = 0 AND p.grade = ?6 "   \
    "     AND instr(?7, char(31) || p.class || char(31)) = 0)))"

int ledger_slot_counts(struct ledger *l, const char *day, const struct cfg_windows *w,
                       const struct cfg_group *g, bool is_class, struct slot_counts *out)
{
    char away[CIVIL_GROUP_LIST_LEN];
    struct civil_slot_lists lists;
    int64_t end_ms = 0;
    *out = (struct slot_counts){0};
    int nobody = ledger_day_expects_nobody(l, w, day);
    int kinds = nobody ? 0 : (int)w->absence_kinds;
    civil_slot_lists(w, g->slot_end, &lists);
    if (civil_grades_away(w, day, away, sizeof away) < 0 ||
        civil_ms_at(day, g->slot_end * 60, &end_ms) < 0 || nobody < 0)
        return -1;
    sqlite3_stmt *st = ledger_prepare(l, SLOT_SQL);
    if (!st || lh_bind(st, "tdtdItt", day, kinds, away, is_class, end_ms, g->name,
                       lists.own_classes) < 0) {
        sqlite3_finalize(st);
        return -1;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->expected = sqlite3_column_int(st, 0);
        out->arrived = sqlite3_column_int(st, 1);
        out->late = sqlite3_column_int(st, 2);
    } else {
        ledger_log_error(l, "slot counts");
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}
