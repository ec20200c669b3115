/* People and cards: roster import and listing. */
#include "ledger_private.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

/* The statements of one import, in import_sql order. */
enum { NOTE_ID, FIND, INSERT, UPDATE, CARDS_OF, DROP_CARDS, ADD_CARD, CARD_HOLDER, NSTMT };

struct import {
    struct ledger *l;
    const char *file;
    FILE *errs;
    int errors;
    int64_t now;
    sqlite3_stmt *st[NSTMT];
};

static const char *const import_sql[] = {
    "INSERT OR IGNORE INTO temp.import_ids (external_id) VALUES (?)",
    "SELECT id, kind, name, grade, class, active, boarder FROM people WHERE external_id = ?",
    "INSERT INTO people (external_id, kind, name, grade, class, active, created_ms, "
    "updated_ms, boarder) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)",
    "UPDATE people SET kind = ?2, name = ?3, grade = ?4, class = ?5, active = ?6, "
    "updated_ms = ?7, boarder = ?8 WHERE id = ?1",
    "SELECT card_no FROM cards WHERE person_id = ? AND source = 'roster'",
    "DELETE FROM cards WHERE person_id = ? AND source = 'roster'",
    "INSERT INTO cards (card_no, person_id, source, added_ms) VALUES (?, ?, 'roster', ?)",
    "SELECT p.external_id, p.name FROM cards c JOIN people p ON p.id = c.person_id "
    "WHERE c.card_no = ?",
};

_Static_assert(sizeof import_sql / sizeof import_sql[0] == NSTMT, "one SQL per statement");

static void import_fini(struct import *im)
{
    for (int i = 0; i < NSTMT; i++)
        sqlite3_finalize(im->st[i]);
}

static int import_init(struct import *im)
{
    if (ledger_exec(im->l, "CREATE TEMP TABLE IF NOT EXISTS import_ids "
                           "(external_id TEXT PRIMARY KEY); DELETE FROM temp.import_ids") < 0)
        return -1;
    for (int i = 0; i < NSTMT; i++)
        if (!(im->st[i] = ledger_prepare(im->l, import_sql[i])))
            return -1;
    return 0;
}

/* Runs a statement that returns no rows, then resets it for the next use. */
static int step_done(struct import *im, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        ledger_log_error(im->l, what);
        return -1;
    }
    return 0;
}

static void bind_person(struct import *im, sqlite3_stmt *st, const struct roster_row *r)
{
    ledger_bind_text(st, 2, person_kind_name(r->kind));
    ledger_bind_text(st, 3, r->name);
    ledger_bind_text(st, 4, r->grade);
    ledger_bind_text(st, 5, r->class_name);
    sqlite3_bind_int(st, 6, r->active);
    sqlite3_bind_int64(st, 7, im->now);
    sqlite3_bind_int(st, 8, r->boarder);
}

static int same_person(sqlite3_stmt *found, const struct roster_row *r)
{
    return strcmp(ledger_col_text(found, 1), person_kind_name(r->kind)) == 0 &&
           strcmp(ledger_col_text(found, 2), r->name) == 0 &&
           strcmp(ledger_col_text(found, 3), r->grade) == 0 &&
           strcmp(ledger_col_text(found, 4), r->class_name) == 0 &&
           sqlite3_column_int(found, 5) == (int)r->active &&
           sqlite3_column_int(found, 6) == (int)r->boarder;
}

/* Inserts or updates one person; *changed tells whether the row was written. */
static int upsert_person(struct import *im, const struct roster_row *r, int64_t *id,
                         int *added, int *changed)
{
    ledger_bind_text(im->st[NOTE_ID], 1, r->external_id);
    if (step_done(im, im->st[NOTE_ID], "roster import") < 0)
        return -1;
    ledger_bind_text(im->st[FIND], 1, r->external_id);
    int rc = sqlite3_step(im->st[FIND]);
    *added = rc == SQLITE_DONE;
    *changed = *added || (rc == SQLITE_ROW && !same_person(im->st[FIND], r));
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(im->st[FIND], 0) : 0;
    sqlite3_reset(im->st[FIND]);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        ledger_log_error(im->l, "roster import");
        return -1;
    }
    if (!*changed)
        return 0;
    sqlite3_stmt *st = *added ? im->st[INSERT] : im->st[UPDATE];
    if (*added)
        ledger_bind_text(st, 1, r->external_id);
    else
        sqlite3_bind_int64(st, 1, *id);
    bind_person(im, st, r);
    if (step_done(im, st, "roster import") < 0)
        return -1;
    if (*added)
        *id = sqlite3_last_insert_rowid(im->l->db);
    return 0;
}

/* 1 when the person's roster cards are not exactly the row's card. */
static int cards_differ(struct import *im, int64_t id, const struct roster_row *r)
{
    int n = 0, match = 0;
    sqlite3_bind_int64(im->st[CARDS_OF], 1, id);
    while (sqlite3_step(im->st[CARDS_OF]) == SQLITE_ROW) {
        n++;
        match += r->has_card && (uint64_t)sqlite3_column_int64(im->st[CARDS_OF], 0) == r->card;
    }
    sqlite3_reset(im->st[CARDS_OF]);
    return !(n == (r->has_card ? 1 : 0) && match == n);
}

static void report_card_holder(struct import *im, const struct roster_row *r)
{
    sqlite3_bind_int64(im->st[CARD_HOLDER], 1, (sqlite3_int64)r->card);
    if (sqlite3_step(im->st[CARD_HOLDER]) == SQLITE_ROW)
        fprintf(im->errs, "%s:%d: card %" PRIu64 " already belongs to %s (%s), who keeps it\n",
                im->file, r->line, r->card, ledger_col_text(im->st[CARD_HOLDER], 0),
                ledger_col_text(im->st[CARD_HOLDER], 1));
    else
        fprintf(im->errs, "%s:%d: card %" PRIu64 ": %s\n", im->file, r->line, r->card,
                sqlite3_errmsg(im->l->db));
    sqlite3_reset(im->st[CARD_HOLDER]);
    im->errors++;
}

static int add_card(struct import *im, int64_t id, const struct roster_row *r)
{
    sqlite3_bind_int64(im->st[ADD_CARD], 1, (sqlite3_int64)r->card);
    sqlite3_bind_int64(im->st[ADD_CARD], 2, id);
    sqlite3_bind_int64(im->st[ADD_CARD], 3, im->now);
    int rc = sqlite3_step(im->st[ADD_CARD]);
    sqlite3_reset(im->st[ADD_CARD]);
    if (rc == SQLITE_DONE)
        return 0;
    if ((rc & 0xff) != SQLITE_CONSTRAINT) {
        ledger_log_error(im->l, "roster import");
        return -1;
    }
    report_card_holder(im, r); /* bad data: reported, import goes on to find more */
    return 0;
}

/* What an import did to one row of the file: counted once, in one bucket. */
enum { ROW_UNCHANGED, ROW_UPDATED, ROW_ADDED };

/* Cards in two passes: first every changed person lets go of their roster cards,
 * then the new ones are taken, so that two people may swap cards in one file. */
static int import_cards(struct import *im, const struct roster *ro, const int64_t *ids,
                        char *changed)
{
    char *moves = calloc((size_t)ro->nrows + 1, 1);
    if (!moves)
        return -1;
    int rc = 0;
    for (int i = 0; i < ro->nrows && rc == 0; i++) {
        moves[i] = (char)cards_differ(im, ids[i], &ro->rows[i]);
        if (!moves[i])
            continue;
        if (changed[i] != ROW_ADDED)
            changed[i] = ROW_UPDATED;
        sqlite3_bind_int64(im->st[DROP_CARDS], 1, ids[i]);
        rc = step_done(im, im->st[DROP_CARDS], "roster import");
    }
    for (int i = 0; i < ro->nrows && rc == 0; i++)
        if (moves[i] && ro->rows[i].has_card)
            rc = add_card(im, ids[i], &ro->rows[i]);
    free(moves);
    return rc;
}

static int count_missing(struct import *im, bool deactivate, struct roster_import_stats *s)
{
    static const char *const sql[] = {
        "SELECT count(*) FROM people WHERE active = 1 AND external_id NOT IN "
        "(SELECT external_id FROM temp.import_ids)",
        "UPDATE people SET active = 0, updated_ms = ? WHERE active = 1 AND external_id "
        "NOT IN (SELECT external_id FROM temp.import_ids)",
    };
    sqlite3_stmt *st = ledger_prepare(im->l, sql[deactivate]);
    if (!st)
        return -1;
    if (deactivate)
        sqlite3_bind_int64(st, 1, im->now);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        s->missing = sqlite3_column_int(st, 0);
    else if (rc == SQLITE_DONE)
        s->deactivated = sqlite3_changes(im->l->db);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int import_people(struct import *im, const struct roster *ro, int64_t *ids,
                         char *changed, struct roster_import_stats *s)
{
    for (int i = 0; i < ro->nrows; i++) {
        int added, upd;
        if (upsert_person(im, &ro->rows[i], &ids[i], &added, &upd) < 0)
            return -1;
        s->added += added;
        changed[i] = added ? ROW_ADDED : upd ? ROW_UPDATED : ROW_UNCHANGED;
    }
    if (import_cards(im, ro, ids, changed) < 0)
        return -1;
    for (int i = 0; i < ro->nrows; i++)
        s->updated += changed[i] == ROW_UPDATED;
    s->rows = ro->nrows;
    s->unchanged = ro->nrows - s->added - s->updated;
    return 0;
}

static int import_body(struct import *im, const struct roster *ro, bool deactivate,
                       const char *by, struct roster_import_stats *s)
{
    int64_t *ids = calloc((size_t)ro->nrows + 1, sizeof *ids);
    char *changed = calloc((size_t)ro->nrows + 1, 1);
    int rc = -1;
    if (!ids || !changed || import_init(im) < 0 || import_people(im, ro, ids, changed, s) < 0)
        goto done;
    if (count_missing(im, false, s) < 0 || (deactivate && count_missing(im, true, s) < 0))
        goto done;
    rc = 0;
    if (im->errors == 0 && s->added + s->updated + s->deactivated > 0) {
        char detail[160];
        snprintf(detail, sizeof detail, "%d rows: %d added, %d updated, %d deactivated",
                 s->rows, s->added, s->updated, s->deactivated);
        rc = ledger_audit(im->l, by, "roster import", im->file, detail);
    }
done:
    free(ids);
    free(changed);
    return rc;
}

enum ledger_status ledger_import_roster(struct ledger *l, const struct roster *r,
                                        const char *file, bool deactivate_missing,
                                        const char *by, struct roster_import_stats *stats,
                                        FILE *errs)
{
    struct import im = {.l = l, .file = file, .errs = errs, .now = clock_wall_ms()};
    *stats = (struct roster_import_stats){0};
    if (ledger_begin(l) < 0)
        return ledger_failure(l);
    int rc = import_body(&im, r, deactivate_missing, by, stats);
    import_fini(&im);
    /* The file's problems (a card held by someone not in it, ...) were reported line
     * by line: the file contradicts the ledger. */
    if (rc == 0 && im.errors)
        rc = ledger_refuse(l, LEDGER_CONFLICT);
    enum ledger_status st = ledger_end(l, rc);
    if (im.errors)
        fprintf(errs, "%s: %d problem%s; nothing was changed\n", file, im.errors,
                im.errors == 1 ? "" : "s");
    return st;
}

struct person_cb {
    void (*fn)(const struct person_view *p, void *arg);
    void *arg;
};

static void person_row(sqlite3_stmt *st, void *ctx)
{
    struct person_cb *cb = ctx;
    struct person_view p = {
        .external_id = ledger_col_text(st, 0), .kind = ledger_col_text(st, 1),
        .name = ledger_col_text(st, 2), .grade = ledger_col_text(st, 3),
        .class_name = ledger_col_text(st, 4), .active = sqlite3_column_int(st, 5),
        .cards = ledger_col_text(st, 6), .boarder = sqlite3_column_int(st, 7),
    };
    cb->fn(&p, cb->arg);
}

int ledger_list_people(struct ledger *l, const char *class_name, bool include_inactive,
                       void (*fn)(const struct person_view *p, void *arg), void *arg)
{
    struct person_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(l,
        "SELECT p.external_id, p.kind, p.name, p.grade, p.class, p.active, "
        "       coalesce((SELECT group_concat(card_no, ',') FROM "
        "                 (SELECT card_no FROM cards WHERE person_id = p.id ORDER BY card_no)),"
        "                ''), p.boarder "
        "FROM people p WHERE (?1 IS NULL OR p.class = ?1) AND (?2 OR p.active = 1) "
        "ORDER BY p.class, p.external_id");
    if (st) {
        ledger_bind_text(st, 1, class_name);
        sqlite3_bind_int(st, 2, include_inactive);
    }
    return ledger_each_row(l, st, "list people", person_row, &cb);
}

int ledger_count_people(struct ledger *l, int *active_count)
{
    return ledger_query_int(l, "SELECT count(*) FROM people WHERE active = 1", active_count);
}
