/* The record of the day's events done (ledger_health.h; table day_events of
 * sql/003_day_events.sql) and whether the gate worked on a day (it has readings):
 * what the day worker asks before it runs a day's event. */
#include "ledger_health_private.h"

#include "civil.h"

int ledger_day_event_done(struct ledger *l, const char *day, const char *event, bool *done)
{
    int64_t v = 0;
    int rc = lh_query_i64(l, &v, "SELECT EXISTS (SELECT 1 FROM day_events WHERE day = ?1 "
                                 "AND event = ?2)", "tt", day, event);
    *done = v != 0;
    return rc < 0 ? -1 : 0;
}

int ledger_day_event_record(struct ledger *l, const char *day, const char *event,
                            int64_t at_ms)
{
    /* OR IGNORE: a second record of the same event keeps the first one's time. */
    return lh_run(l, NULL, "INSERT OR IGNORE INTO day_events (day, event, done_ms) "
                           "VALUES (?1, ?2, ?3)", "ttI", day, event, at_ms);
}

int ledger_day_event_before(struct ledger *l, const char *day, const char *event, bool *found)
{
    int64_t v = 0;
    int rc = lh_query_i64(l, &v, "SELECT EXISTS (SELECT 1 FROM day_events WHERE day < ?1 "
                                 "AND event = ?2)", "tt", day, event);
    *found = v != 0;
    return rc < 0 ? -1 : 0;
}

int ledger_day_worked(struct ledger *l, const char *day, bool *worked)
{
    char next[LEDGER_DAY_LEN];
    int64_t from = 0, to = 0, v = 0;
    *worked = false;
    /* Readings by their instant (readings_at), not by their day (not indexed). */
    if (civil_day_add(day, 1, next) < 0 || civil_ms_at(day, 0, &from) < 0 ||
        civil_ms_at(next, 0, &to) < 0) {
        log_err("day worked: '%s' is not a day", day);
        return -1;
    }
    int rc = lh_query_i64(l, &v, "SELECT EXISTS (SELECT 1 FROM readings WHERE at_ms >= ?1 "
                                 "AND at_ms < ?2)", "II", from, to);
    *worked = v != 0;
    return rc < 0 ? -1 : 0;
}
