/* The absence sweeps (缺勤排查): the morning's, each arrival slot's (错峰上学) and the
 * part-day ones (午检, the boarders' 晚检), in batches of a few hundred people so the
 * gate's BEGIN waits milliseconds at most (daemon/gate/dayworker.h). Split from
 * ledger_absence.c, which keeps the causes, follow-ups, leave and certificates. */
#include "civil.h"
#include "ledger_calendar.h"
#include "ledger_health_private.h"

#include <string.h>

/* Who is expected on day ?1 at all, of the people with ids ?6 to ?7 (one batch):
 * active, of the kinds ?2, their grade back (not in ?8, civil.h's
 * civil_grades_away), not on leave. The morning's and the part-day sweeps'. */
#define SWEEP_EXPECTED                                                                       \
    "p.id BETWEEN ?6 AND ?7 AND p.active = 1 "                                               \
    "  AND ((p.kind = 'student' AND (?2 & 1)) OR (p.kind = 'teacher' AND (?2 & 2)) "        \
    "       OR (p.kind = 'staff' AND (?2 & 4))) "                                           \
    "  AND instr(?8, char(31) || p.grade || char(31)) = 0 "                                 \
    "  AND NOT EXISTS (SELECT 1 FROM leaves v WHERE v.person_id = p.id "                    \
    "                  AND ?1 BETWEEN v.from_day AND v.to_day) "

/* People expected on day ?1 (SWEEP_EXPECTED) who left no trace of a morning check or
 * absence, with their first arrival (reading or check) that day, NULL if none. With
 * ?9 = 1, only the pupils arriving in one slot (civil_slot_lists: their class in
 * ?10, or their grade in ?11 and their class not in ?12, which have slots of their
 * own); teachers and staff keep the whole window, also those with a class. A
 * boarder who did not leave passes no gate in the morning: present without a gate
 * reading when the dormitory check of the evening before was recorded (a manual
 * check with window = evening on the day before, issue 19), or with the dormitory
 * staff's manual morning check. */
#define SWEEP_CANDIDATES                                                                     \
    "SELECT id, CASE WHEN r IS NULL THEN c WHEN c IS NULL THEN r ELSE min(r, c) END AS first_ms " \
    "FROM (SELECT p.id AS id, "                                                              \
    "  (SELECT min(at_ms) FROM readings WHERE person_id = p.id AND day = ?1) AS r, "        \
    "  (SELECT min(at_ms) FROM checks WHERE person_id = p.id AND day = ?1) AS c "           \
    "  FROM people p WHERE " SWEEP_EXPECTED                                                  \
    "  AND (?9 = 0 OR (p.kind = 'student' "                                                 \
    "       AND (instr(?10, char(31) || p.class || char(31)) > 0 "                          \
    "            OR (instr(?11, char(31) || p.grade || char(31)) > 0 "                      \
    "                AND instr(?12, char(31) || p.class || char(31)) = 0)))) "              \
    "  AND NOT EXISTS (SELECT 1 FROM checks c WHERE c.person_id = p.id AND c.day = ?1 "     \
    "                  AND c.window = 'morning') "                                           \
    "  AND NOT (p.boarder = 1 AND EXISTS (SELECT 1 FROM checks c WHERE c.person_id = p.id "  \
    "           AND c.window = 'evening' AND c.day = date(?1, '-1 day'))) "                  \
    "  AND NOT EXISTS (SELECT 1 FROM absences a WHERE a.person_id = p.id AND a.day = ?1))"

/* The part-day sweep of part ?5 ('noon', 'evening'): the people expected on day ?1
 * (SWEEP_EXPECTED) without that part's check or absence. Noon: those at school in
 * the morning (a morning check, or a late arrival) — who left at noon and did not
 * come back. Evening: the boarders not absent for the day. */
#define PART_SWEEP                                                                           \
    "INSERT INTO part_absences (person_id, day, part, cause, recorded_by, recorded_ms) "    \
    "SELECT p.id, ?1, ?5, 'unknown', ?3, ?4 FROM people p WHERE " SWEEP_EXPECTED             \
    "  AND NOT EXISTS (SELECT 1 FROM checks c WHERE c.person_id = p.id AND c.day = ?1 "     \
    "                  AND c.window = ?5) "                                                  \
    "  AND NOT EXISTS (SELECT 1 FROM part_absences a WHERE a.person_id = p.id "             \
    "                  AND a.day = ?1 AND a.part = ?5) "                                     \
    "  AND CASE ?5 WHEN 'noon' THEN "                                                        \
    "    EXISTS (SELECT 1 FROM checks c WHERE c.person_id = p.id AND c.day = ?1 "           \
    "            AND c.window = 'morning') "                                                 \
    "    OR EXISTS (SELECT 1 FROM absences a WHERE a.person_id = p.id AND a.day = ?1 "      \
    "               AND a.cause = 'late') "                                                  \
    "  ELSE p.boarder = 1 AND NOT EXISTS (SELECT 1 FROM absences a "                        \
    "       WHERE a.person_id = p.id AND a.day = ?1 AND a.cause <> 'late') END"

/* People per sweep transaction: a batch writes its absences in a few ms, so the
 * gate's BEGIN never waits for a whole school. Each batch asks again who is missing
 * under the write lock, so an arrival between batches is never made absent; a sweep
 * cut short keeps whole batches and the next sweep does the rest. */
#define SWEEP_BATCH 500

struct sweep_run {
    const char *day, *by;
    const char *part;                /* NULL: the morning's; 'noon', 'evening' */
    char away[CIVIL_GROUP_LIST_LEN]; /* grades not back yet */
    bool slot;                       /* one slot's groups only */
    struct civil_slot_lists lists;
    int kinds;
    int64_t window_end_ms, at_ms;
    int late, unknown;
};

static int part_batch(struct ledger *l, struct sweep_run *r, int64_t from, int64_t to)
{
    int unknown = 0;
    if (ledger_begin(l) < 0)
        return -1;
    int rc = lh_run(l, &unknown, PART_SWEEP, "tdtItIIt", r->day, r->kinds, r->by, r->at_ms,
                    r->part, from, to, r->away);
    if (lh_finish(l, rc < 0 ? -1 : 0) < 0)
        return -1;
    r->unknown += unknown;
    return 0;
}

static int sweep_batch(struct ledger *l, struct sweep_run *r, int64_t from, int64_t to)
{
    int late = 0, unknown = 0;
    if (r->part)
        return part_batch(l, r, from, to);
    if (ledger_begin(l) < 0)
        return -1;
    /* Late ones first: the second statement then finds only those who never came. */
    int rc = lh_run(l, &late, "INSERT INTO absences (person_id, day, cause, recorded_by, "
                              "recorded_ms, late_ms) SELECT id, ?1, 'late', ?3, ?4, first_ms FROM ("
                              SWEEP_CANDIDATES ") WHERE first_ms >= ?5",
                    "tdtIIIItdttt", r->day, r->kinds, r->by, r->at_ms, r->window_end_ms, from,
                    to, r->away, r->slot, r->lists.classes, r->lists.grades,
                    r->lists.own_classes) < 0 ||
                     lh_run(l, &unknown, "INSERT INTO absences (person_id, day, cause, "
                                         "recorded_by, recorded_ms) SELECT id, ?1, 'unknown', ?3, "
                                         "?4 FROM (" SWEEP_CANDIDATES ") WHERE first_ms IS NULL",
                            "tdtIIIItdttt", r->day, r->kinds, r->by, r->at_ms,
                            r->window_end_ms, from, to, r->away, r->slot, r->lists.classes,
                            r->lists.grades, r->lists.own_classes) < 0
                 ? -1
                 : 0;
    if (lh_finish(l, rc) < 0)
        return -1;
    r->late += late;
    r->unknown += unknown;
    return 0;
}

static int sweep_audit(struct ledger *l, const struct sweep_run *r)
{
    char detail[128];
    if (r->part)
        snprintf(detail, sizeof detail, "%d %s absences without a cause yet", r->unknown,
                 r->part);
    else
        snprintf(detail, sizeof detail, "%d absences: %d late, %d without a cause yet",
                 r->late + r->unknown, r->late, r->unknown);
    if (ledger_begin(l) < 0)
        return -1;
    return lh_finish(l, ledger_audit(l, r->by, r->part ? "part-day absence sweep"
                                                       : "absence sweep", r->day, detail));
}

static int sweep_all(struct ledger *l, struct sweep_run *r)
{
    int64_t last = 0;
    if (lh_query_i64(l, &last, "SELECT max(id) FROM people", "") < 0)
        return -1;
    int rc = 0;
    for (int64_t from = 1; rc == 0 && from <= last; from += SWEEP_BATCH)
        rc = sweep_batch(l, r, from, from + SWEEP_BATCH - 1);
    /* Nothing changed: no audit row either. What the batches wrote is told even when
     * a later one failed. */
    if (r->late + r->unknown > 0 && sweep_audit(l, r) < 0)
        rc = -1;
    return rc;
}

/* Nobody is absent on a day the school is closed (ledger_calendar.h) or that the
 * calendar says is a holiday or out of term: 1 (told on errs) when the sweep has
 * nothing to do, 0 when it runs, -1 on error. Weekends are not refused: a sweep
 * asked for on a Saturday by hand is the administrator's call, as before. */
static int sweep_closed(struct ledger *l, const char *day, const struct cfg_windows *w,
                        FILE *errs)
{
    char reason[LEDGER_REASON_MAX * 4 + 1];
    int closed = ledger_day_closed(l, day, reason, sizeof reason);
    enum civil_day_kind k = civil_day_kind(w, day);
    if (closed > 0)
        fprintf(errs, "%s: the school is closed (%s): nobody is absent, no sweep\n", day, reason);
    else if (closed == 0 && (k == CIVIL_HOLIDAY || k == CIVIL_OUT_OF_TERM))
        fprintf(errs, "%s: %s by [calendar]: nobody is absent, no sweep\n", day,
                k == CIVIL_HOLIDAY ? "a holiday" : "outside the term");
    else
        return closed;
    return 1;
}

/* The sweep of everyone (slot_end < 0) at the morning's end + grace, or of one
 * slot's groups at that slot's end + grace. */
static int sweep_day(struct ledger *l, const char *day, const struct cfg_windows *w,
                     int slot_end, const char *by, int64_t at_ms, int *created, int *late,
                     FILE *errs)
{
    *created = *late = 0;
    int64_t window_end_ms = 0;
    int end = slot_end >= 0 ? slot_end : w->morning_end;
    if (lh_check_day("date", day, errs) != LEDGER_OK ||
        lh_check_not_future("the sweep's day", day, at_ms, errs) != LEDGER_OK ||
        civil_ms_at(day, end * 60, &window_end_ms) < 0)
        return -1;
    /* Before the window (or slot) and its grace are over, everyone still on the way
     * would become absent. */
    if (at_ms < window_end_ms + w->absence_grace_ms) {
        fprintf(errs, "the sweep of %s runs after the %s and its grace: %02d:%02d + %lld min\n",
                day, slot_end >= 0 ? "arrival slot" : "morning window", end / 60, end % 60,
                (long long)(w->absence_grace_ms / 60000));
        return -1;
    }
    int closed = sweep_closed(l, day, w, errs);
    if (closed != 0)
        return closed < 0 ? -1 : 0;
    struct sweep_run r = {.day = day, .by = by ? by : "gatescreend", .kinds = (int)w->absence_kinds,
                          .window_end_ms = window_end_ms, .at_ms = at_ms, .slot = slot_end >= 0};
    if (r.slot)
        civil_slot_lists(w, slot_end, &r.lists);
    if (civil_grades_away(w, day, r.away, sizeof r.away) < 0 || sweep_all(l, &r) < 0)
        return -1;
    *late = r.late;
    *created = r.late + r.unknown;
    return 0;
}

int ledger_absence_sweep(struct ledger *l, const char *day, const struct cfg_windows *w,
                         const char *by, int64_t at_ms, int *created, int *late, FILE *errs)
{
    return sweep_day(l, day, w, -1, by, at_ms, created, late, errs);
}

int ledger_absence_sweep_slot(struct ledger *l, const char *day, const struct cfg_windows *w,
                              int slot_end, const char *by, int64_t at_ms, int *created,
                              int *late, FILE *errs)
{
    return sweep_day(l, day, w, slot_end < 0 ? 0 : slot_end, by, at_ms, created, late, errs);
}

/* The noon (午检缺勤) or the boarders' evening (晚检) sweep, at its window's end +
 * grace: their absences are part_absences rows (sql/010). */
int ledger_part_sweep(struct ledger *l, const char *day, const struct cfg_windows *w,
                      const char *part, const char *by, int64_t at_ms, int *created, FILE *errs)
{
    *created = 0;
    bool noon = strcmp(part, "noon") == 0;
    bool on = noon ? w->noon_enabled && w->noon_sweep : w->evening_enabled;
    int end = noon ? w->noon_end : w->evening_end;
    int64_t end_ms = 0;
    if (!on) {
        fprintf(errs, "the %s sweep is not enabled ([windows] %s)\n", part,
                noon ? "noon and noon_sweep" : "evening");
        return -1;
    }
    if (lh_check_day("date", day, errs) != LEDGER_OK ||
        lh_check_not_future("the sweep's day", day, at_ms, errs) != LEDGER_OK ||
        civil_ms_at(day, end * 60, &end_ms) < 0)
        return -1;
    if (at_ms < end_ms + w->absence_grace_ms) {
        fprintf(errs, "the %s sweep of %s runs after the %s window and its grace: %02d:%02d + "
                "%lld min\n", part, day, part, end / 60, end % 60,
                (long long)(w->absence_grace_ms / 60000));
        return -1;
    }
    int closed = sweep_closed(l, day, w, errs);
    if (closed != 0)
        return closed < 0 ? -1 : 0;
    struct sweep_run r = {.day = day, .by = by ? by : "gatescreend", .part = part,
                          .kinds = (int)w->absence_kinds, .at_ms = at_ms};
    if (civil_grades_away(w, day, r.away, sizeof r.away) < 0 || sweep_all(l, &r) < 0)
        return -1;
    *created = r.unknown;
    return 0;
}

