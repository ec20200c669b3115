/* The gate's writes and reads (see ledger_gate.h). The contract the lookup
 * applies (open case, needs a certificate, an untraced absence before today) is
 * stated once, as the views of sql/002_contract_views.sql that the nurse's side
 * and the web page read too. */
#include "ledger_gate.h"

#include <stdlib.h>
#include <string.h>

#include "ledger_private.h"
#include "log.h"

enum gate_sql {
    SQL_LOOKUP,
    SQL_STATE,
    SQL_READING,
    SQL_CHECK,
    SQL_FLAG,
    SQL_LATE,
    SQL_RETURNED,
    SQL_LOOKUP_ID,
    SQL_TERM_CLAIM,
    SQL_TERM_LINK,
    SQL_COUNT
};

static const char *const gate_sql_text[SQL_COUNT] = {
    [SQL_LOOKUP] =
        "SELECT p.id, p.external_id, p.name, p.class, p.active"
        " FROM cards c JOIN people p ON p.id = c.person_id WHERE c.card_no = ?1",
    /* Apart from the card lookup, with the person bound: SQLite pushes a bound
     * person_id into each arm of the views, not a correlated p.id (that would
     * scan every illness absence up to the day). */
    [SQL_STATE] =
        "SELECT EXISTS (SELECT 1 FROM contract_open_case WHERE person_id = ?1),"
        " EXISTS (SELECT 1 FROM contract_uncovered_event WHERE person_id = ?1 AND day <= ?2),"
        " EXISTS (SELECT 1 FROM contract_untraced_absence WHERE person_id = ?1 AND day < ?2),"
        /* Under observation on the day: the rule of ledger_observe.c (UNDER_ON). */
        " EXISTS (SELECT 1 FROM observations WHERE person_id = ?1 AND from_day <= ?2"
        " AND to_day >= ?2 AND (ended_day IS NULL OR ended_day > ?2))",
    [SQL_READING] =
        "INSERT INTO readings (at_ms, lane_id, device_id, person_id, card_no, raw_centi,"
        " offset_centi, body_centi, ambient_centi, status, quality, threshold_centi, outcome, day,"
        " note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    [SQL_CHECK] =
        "INSERT OR IGNORE INTO checks (person_id, day, window, temp_centi, threshold_centi,"
        " instrument, reading_id, by_user, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, 'gate', ?6, 'gate', ?7)",
    /* One open flag per person and day: a second screen the same day adds nothing
     * for the nurse to do (the reading itself is stored); a new day's screen is a
     * new case. Unknown people always get one. */
    [SQL_FLAG] =
        "INSERT INTO flags (person_id, reading_id, opened_ms, day, screen_centi, threshold_centi)"
        " SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE ?1 IS NULL OR NOT EXISTS"
        " (SELECT 1 FROM flags WHERE person_id = ?1 AND state = 'open' AND day = ?4)",
    /* A person with a morning check that day did not come late, whatever the clock
     * did since: the check withdrew the sweep's absence (the trigger of
     * sql/003_day_events.sql), and an absence a person has worked on stays as it is.
     * Someone seen only after the window: 'unknown' becomes 'late'. */
    [SQL_LATE] =
        "UPDATE absences SET late_ms = ?1, cause = CASE cause WHEN 'unknown' THEN 'late'"
        " ELSE cause END WHERE person_id = ?2 AND day = ?3 AND late_ms IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM checks WHERE person_id = ?2 AND day = ?3"
        " AND window = 'morning')",
    [SQL_RETURNED] =
        "UPDATE absences SET returned_day = ?1 WHERE person_id = ?2 AND day < ?1"
        " AND returned_day IS NULL",
    /* A terminal names the person by the roster id it was enrolled with. */
    [SQL_LOOKUP_ID] =
        "SELECT p.id, p.external_id, p.name, p.class, p.active FROM people p"
        " WHERE p.external_id = ?1",
    [SQL_TERM_CLAIM] =
        "INSERT INTO terminal_events (terminal, serial, received_ms, device_time, employee_no,"
        " device_abnormal, mask, major, minor, skew_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        " ON CONFLICT (terminal, serial) DO NOTHING",
    [SQL_TERM_LINK] = "UPDATE terminal_events SET reading_id = ?1 WHERE id = ?2",
};

struct ledger_gate {
    struct ledger *l;
    sqlite3_stmt *st[SQL_COUNT];
    int64_t last_reading;
};

void ledger_gate_close(struct ledger_gate *g)
{
    if (!g)
        return;
    for (int i = 0; i < SQL_COUNT; i++)
        sqlite3_finalize(g->st[i]);
    free(g);
}

int ledger_gate_open(struct ledger *l, struct ledger_gate **out)
{
    struct ledger_gate *g = calloc(1, sizeof *g);
    if (!g)
        return -1;
    g->l = l;
    for (int i = 0; i < SQL_COUNT; i++)
        if (!(g->st[i] = ledger_prepare(l, gate_sql_text[i])))
            goto fail;
    *out = g;
    return 0;
fail:
    ledger_gate_close(g);
    return -1;
}

/* Runs a prepared statement to completion and resets it for the next use. */
static int run(struct ledger_gate *g, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return 0;
    ledger_log_error(g->l, what);
    return -1;
}

/* Runs an INSERT ... RETURNING id; the row's id into *id. */
static int step_id(struct ledger *l, sqlite3_stmt *st, const char *name, int64_t *id)
{
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
    if (rc == 0)
        *id = sqlite3_column_int64(st, 0);
    else
        ledger_log_error(l, name);
    return rc;
}

static int upsert_named(struct ledger *l, const char *sql, const char *name, const char *extra,
                        int64_t *id)
{
    sqlite3_stmt *st = ledger_prepare(l, sql);
    if (!st)
        return -1;
    ledger_bind_text(st, 1, name);
    ledger_bind_text(st, 2, extra);
    int rc = step_id(l, st, name, id);
    sqlite3_finalize(st);
    return rc;
}

/* One row of `devices` (a Modbus device or a terminal), its id into *id. */
static int upsert_device(struct ledger *l, sqlite3_stmt *st, const char *name, int64_t lane_id,
                         const char *bus, int unit, const char *profile, int64_t *id)
{
    ledger_bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, lane_id);
    ledger_bind_text(st, 3, bus);
    sqlite3_bind_int(st, 4, unit);
    ledger_bind_text(st, 5, profile);
    int rc = step_id(l, st, name, id);
    sqlite3_reset(st);
    return rc;
}

/* Terminals are devices too (their readings name them), on no bus: "terminal". */
static int sync_devices(struct ledger *l, const struct config *cfg, const int64_t *lane_ids,
                        int64_t *device_ids, int64_t *terminal_ids)
{
    sqlite3_stmt *st = ledger_prepare(
        l, "INSERT INTO devices (name, lane_id, bus, unit_id, profile) VALUES (?, ?, ?, ?, ?)"
           " ON CONFLICT (name) DO UPDATE SET lane_id = excluded.lane_id, bus = excluded.bus,"
           " unit_id = excluded.unit_id, profile = excluded.profile RETURNING id");
    if (!st)
        return -1;
    int rc = 0;
    for (int i = 0; i < cfg->ndevices && rc == 0; i++) {
        const struct cfg_device *d = &cfg->devices[i];
        rc = upsert_device(l, st, d->name, lane_ids[d->lane], cfg->buses[d->bus].name,
                           d->unit_id, cfg->profiles[d->profile].name, &device_ids[i]);
    }
    for (int i = 0; i < cfg->nterminals && rc == 0; i++) {
        const struct cfg_terminal *t = &cfg->terminal[i];
        rc = upsert_device(l, st, t->name, lane_ids[t->lane], "terminal", 0, "hikvision-isapi",
                           &terminal_ids[i]);
    }
    sqlite3_finalize(st);
    return rc;
}

enum ledger_status ledger_gate_sync(struct ledger_gate *g, const struct config *cfg,
                                    int64_t *lane_ids, int64_t *device_ids,
                                    int64_t *terminal_ids)
{
    enum ledger_status st = ledger_try_begin(g->l);
    if (st != LEDGER_OK)
        return st;
    for (int i = 0; i < cfg->nlanes; i++)
        if (upsert_named(g->l,
                         "INSERT INTO lanes (name, gate) VALUES (?, ?) ON CONFLICT (name)"
                         " DO UPDATE SET gate = excluded.gate RETURNING id",
                         cfg->lanes[i].name, cfg->lanes[i].gate, &lane_ids[i]) < 0)
            goto fail;
    if (sync_devices(g->l, cfg, lane_ids, device_ids, terminal_ids) < 0 ||
        ledger_commit(g->l) < 0)
        goto fail;
    return LEDGER_OK;
fail:
    ledger_rollback(g->l);
    return LEDGER_IO;
}

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t n)
{
    snprintf(out, n, "%s", ledger_col_text(st, col));
}

/* The contract's answers for a known person on `day`. */
static int lookup_state(struct ledger_gate *g, const char *day, struct gate_person *out)
{
    sqlite3_stmt *st = g->st[SQL_STATE];
    sqlite3_bind_int64(st, 1, out->id);
    ledger_bind_text(st, 2, day);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->state.open_case = sqlite3_column_int(st, 0) != 0;
        out->state.needs_certificate = sqlite3_column_int(st, 1) != 0;
        out->state.untraced_absence = sqlite3_column_int(st, 2) != 0;
        out->state.observation = sqlite3_column_int(st, 3) != 0;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_ROW)
        return 0;
    ledger_log_error(g->l, "card holder's state");
    return -1;
}

static int lookup_with(struct ledger_gate *g, sqlite3_stmt *st, const char *day,
                       struct gate_person *out)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(st, 0);
        copy_col(st, 1, out->external_id, sizeof out->external_id);
        copy_col(st, 2, out->name, sizeof out->name);
        copy_col(st, 3, out->class_name, sizeof out->class_name);
        out->state.known = true;
        out->state.active = sqlite3_column_int(st, 4) != 0;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc == SQLITE_ROW)
        return lookup_state(g, day, out);
    ledger_log_error(g->l, "person lookup");
    return -1;
}

int ledger_gate_lookup(struct ledger_gate *g, uint64_t card, const char *day,
                       struct gate_person *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_bind_int64(g->st[SQL_LOOKUP], 1, (sqlite3_int64)card);
    return lookup_with(g, g->st[SQL_LOOKUP], day, out);
}

int ledger_gate_lookup_id(struct ledger_gate *g, const char *external_id, const char *day,
                          struct gate_person *out)
{
    memset(out, 0, sizeof *out);
    ledger_bind_text(g->st[SQL_LOOKUP_ID], 1, external_id);
    return lookup_with(g, g->st[SQL_LOOKUP_ID], day, out);
}

int ledger_gate_terminal_claim(struct ledger_gate *g, const char *terminal,
                               const struct terminal_event *ev, int64_t *claim_id)
{
    sqlite3_stmt *st = g->st[SQL_TERM_CLAIM];
    ledger_bind_text(st, 1, terminal);
    if (ev->has_serial)
        sqlite3_bind_int64(st, 2, (sqlite3_int64)ev->serial);
    sqlite3_bind_int64(st, 3, ev->wall_ms);
    ledger_bind_text(st, 4, ev->device_time);
    ledger_bind_text(st, 5, ev->employee);
    if (ev->abnormal >= 0)
        sqlite3_bind_int(st, 6, ev->abnormal);
    ledger_bind_text(st, 7, ev->mask);
    if (ev->major >= 0)
        sqlite3_bind_int(st, 8, ev->major);
    if (ev->minor >= 0)
        sqlite3_bind_int(st, 9, ev->minor);
    if (ev->has_device_ms)
        sqlite3_bind_int64(st, 10, ev->device_ms - ev->wall_ms);
    if (run(g, st, "terminal event") < 0)
        return -1;
    if (sqlite3_changes(g->l->db) == 0)
        return 0;
    *claim_id = sqlite3_last_insert_rowid(g->l->db);
    return 1;
}

int ledger_gate_terminal_link(struct ledger_gate *g, int64_t claim_id)
{
    sqlite3_stmt *st = g->st[SQL_TERM_LINK];
    sqlite3_bind_int64(st, 1, g->last_reading);
    sqlite3_bind_int64(st, 2, claim_id);
    return run(g, st, "terminal event's reading");
}

static void bind_id(sqlite3_stmt *st, int idx, int64_t id)
{
    if (id > 0)
        sqlite3_bind_int64(st, idx, id);
    else
        sqlite3_bind_null(st, idx);
}

static int insert_reading(struct ledger_gate *g, const struct gate_row *r, int64_t *id)
{
    sqlite3_stmt *st = g->st[SQL_READING];
    sqlite3_bind_int64(st, 1, r->at_ms);
    bind_id(st, 2, r->lane_id);
    bind_id(st, 3, r->device_id);
    bind_id(st, 4, r->person_id);
    if (r->has_card)
        sqlite3_bind_int64(st, 5, (sqlite3_int64)r->card);
    if (r->has_reading) {
        sqlite3_bind_int(st, 6, r->raw_centi);
        sqlite3_bind_int(st, 7, r->offset_centi);
        sqlite3_bind_int(st, 8, r->body_centi);
    } else {
        sqlite3_bind_int(st, 7, 0);
    }
    if (r->has_ambient)
        sqlite3_bind_int(st, 9, r->ambient_centi);
    sqlite3_bind_int(st, 10, r->status);
    ledger_bind_text(st, 11, quality_name(r->quality));
    sqlite3_bind_int(st, 12, r->threshold_centi);
    ledger_bind_text(st, 13, outcome_name(r->decision.outcome));
    ledger_bind_text(st, 14, r->day);
    ledger_bind_text(st, 15, r->decision.observed ? "observation" : "");
    if (run(g, st, "insert reading") < 0)
        return -1;
    *id = sqlite3_last_insert_rowid(g->l->db);
    return 0;
}

static int insert_check(struct ledger_gate *g, const struct gate_row *r, int64_t reading_id)
{
    sqlite3_stmt *st = g->st[SQL_CHECK];
    sqlite3_bind_int64(st, 1, r->person_id);
    ledger_bind_text(st, 2, r->day);
    ledger_bind_text(st, 3, check_window_name(r->window));
    sqlite3_bind_int(st, 4, r->body_centi);
    sqlite3_bind_int(st, 5, r->threshold_centi);
    sqlite3_bind_int64(st, 6, reading_id);
    sqlite3_bind_int64(st, 7, r->at_ms);
    return run(g, st, "insert check");
}

static int open_flag(struct ledger_gate *g, const struct gate_row *r, int64_t reading_id)
{
    sqlite3_stmt *st = g->st[SQL_FLAG];
    bind_id(st, 1, r->person_id);
    sqlite3_bind_int64(st, 2, reading_id);
    sqlite3_bind_int64(st, 3, r->at_ms);
    ledger_bind_text(st, 4, r->day);
    sqlite3_bind_int(st, 5, r->body_centi);
    sqlite3_bind_int(st, 6, r->threshold_centi);
    if (run(g, st, "open flag") < 0)
        return -1;
    if (r->person_id > 0 && sqlite3_changes(g->l->db) > 0)
        return ledger_set_health_status(g->l, r->person_id, "screened", "fever screen at the gate",
                                        "gate", r->at_ms);
    return 0;
}

/* Someone we know came through the gate: a same-day absence becomes a late
 * arrival, unless they have the day's morning check (SQL_LATE), and earlier
 * absences end (follow-up stops when the person is back). */
static int mark_arrival(struct ledger_gate *g, const struct gate_row *r)
{
    sqlite3_stmt *late = g->st[SQL_LATE];
    sqlite3_bind_int64(late, 1, r->at_ms);
    sqlite3_bind_int64(late, 2, r->person_id);
    ledger_bind_text(late, 3, r->day);
    if (run(g, late, "late arrival") < 0)
        return -1;
    sqlite3_stmt *back = g->st[SQL_RETURNED];
    ledger_bind_text(back, 1, r->day);
    sqlite3_bind_int64(back, 2, r->person_id);
    return run(g, back, "return after absence");
}

int ledger_gate_record(struct ledger_gate *g, const struct gate_row *r)
{
    int64_t reading_id = 0;
    if (insert_reading(g, r, &reading_id) < 0)
        return -1;
    g->last_reading = reading_id;
    if (r->decision.is_check && r->window != WIN_NONE && insert_check(g, r, reading_id) < 0)
        return -1;
    if (r->decision.opens_flag && open_flag(g, r, reading_id) < 0)
        return -1;
    /* Only someone measured and let in (or sent to the nurse) has arrived: a card
     * tap, an invalid reading or a refused card is not an arrival. */
    enum outcome o = r->decision.outcome;
    bool arrived = o == OUT_ADMIT || o == OUT_FEVER || o == OUT_SEE_NURSE;
    if (r->person_id > 0 && arrived && mark_arrival(g, r) < 0)
        return -1;
    return 0;
}

enum ledger_status ledger_gate_begin(struct ledger_gate *g)
{
    return ledger_try_begin(g->l);
}

int ledger_gate_commit(struct ledger_gate *g)
{
    return ledger_commit(g->l);
}

void ledger_gate_rollback(struct ledger_gate *g)
{
    ledger_rollback(g->l);
}
