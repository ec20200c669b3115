/* Opening, migrating, checking and closing the ledger; audit log. */
#include "ledger_private.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"

/* Repeats of a lasting fault: at most once a minute after the first few. */
#define ERROR_LOG_EVERY_MS 60000

void ledger_log_error(struct ledger *l, const char *what)
{
    l->last_rc = sqlite3_errcode(l->db);
    log_limited(&l->errlog, clock_mono_ms(), ERROR_LOG_EVERY_MS, LOG_LVL_ERR, "%s: %s: %s",
                l->path, what, sqlite3_errmsg(l->db));
}

sqlite3_stmt *ledger_prepare(struct ledger *l, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) {
        ledger_log_error(l, "prepare");
        return NULL;
    }
    return st;
}

int ledger_exec(struct ledger *l, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(l->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        l->last_rc = sqlite3_errcode(l->db);
        log_limited(&l->errlog, clock_mono_ms(), ERROR_LOG_EVERY_MS, LOG_LVL_ERR, "%s: %s",
                    l->path, msg ? msg : sqlite3_errmsg(l->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int ledger_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (!s)
        return sqlite3_bind_null(st, idx) == SQLITE_OK ? 0 : -1;
    return sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT) == SQLITE_OK ? 0 : -1;
}

const char *ledger_col_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

int ledger_latest_version(void)
{
    return gs_migration_count ? gs_migrations[gs_migration_count - 1].version : 0;
}

int ledger_query_int(struct ledger *l, const char *sql, int *out)
{
    sqlite3_stmt *st = ledger_prepare(l, sql);
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

const char *ledger_path(const struct ledger *l)
{
    return l->path;
}

int ledger_schema_version(struct ledger *l)
{
    int v = -1;
    return ledger_query_int(l, "PRAGMA user_version", &v) < 0 ? -1 : v;
}

/* SQLite's own busy timeout sleeps 1, 2, 5, 10 ... ms: a gate that meets the day
 * worker's 1 ms write waited 3 ms and more. Short naps first (most locks are held
 * for a commit of a few hundred rows), longer ones once the wait is long anyway. */
#define BUSY_SHORT_NAP_US 200
#define BUSY_SHORT_FOR_US 20000
#define BUSY_LONG_NAP_US 2000

static int busy_wait(void *arg, int count)
{
    struct ledger *l = arg;
    int64_t now = clock_mono_us();
    if (count == 0)
        l->busy_since_us = now;
    int64_t waited = now - l->busy_since_us;
    if (waited >= (int64_t)l->busy_timeout_ms * 1000)
        return 0;
    int64_t nap = waited < BUSY_SHORT_FOR_US ? BUSY_SHORT_NAP_US : BUSY_LONG_NAP_US;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = nap * 1000};
    nanosleep(&ts, NULL);
    return 1;
}

/* WAL so that the web server's readers never block the lanes' writer. */
static int set_pragmas(struct ledger *l, bool synchronous_full, int busy_timeout_ms)
{
    l->busy_timeout_ms = busy_timeout_ms > 0 ? busy_timeout_ms : 5000;
    sqlite3_busy_handler(l->db, busy_wait, l);
    sqlite3_stmt *st = ledger_prepare(l, "PRAGMA journal_mode=WAL");
    if (!st)
        return -1;
    int ok = sqlite3_step(st) == SQLITE_ROW &&
             strcmp(ledger_col_text(st, 0), "wal") == 0;
    sqlite3_finalize(st);
    if (!ok) {
        log_err("%s: cannot switch to WAL journal mode", l->path);
        return -1;
    }
    if (ledger_exec(l, "PRAGMA foreign_keys=ON") < 0)
        return -1;
    return ledger_exec(l, synchronous_full ? "PRAGMA synchronous=FULL"
                                           : "PRAGMA synchronous=NORMAL");
}

/* One migration in one transaction: either the whole file and its version, or
 * nothing. */
static int apply_migration(struct ledger *l, const struct migration *m)
{
    char set_version[64];
    snprintf(set_version, sizeof set_version, "PRAGMA user_version=%d", m->version);
    if (ledger_exec(l, "BEGIN IMMEDIATE") < 0)
        return -1;
    char *msg = NULL;
    if (sqlite3_exec(l->db, m->sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_err("%s: migration %s failed: %s", l->path, m->name,
                msg ? msg : sqlite3_errmsg(l->db));
        sqlite3_free(msg);
        ledger_exec(l, "ROLLBACK");
        return -1;
    }
    if (ledger_exec(l, set_version) < 0 || ledger_exec(l, "COMMIT") < 0) {
        ledger_exec(l, "ROLLBACK");
        return -1;
    }
    log_info("%s: applied migration %s", l->path, m->name);
    return 0;
}

static int migrate(struct ledger *l, const struct ledger_opts *o)
{
    const struct migration *ms = o->migrations ? o->migrations : gs_migrations;
    int n = o->migrations ? o->nmigrations : gs_migration_count;
    int latest = n ? ms[n - 1].version : 0;
    int v = ledger_schema_version(l);
    if (v < 0)
        return -1;
    if (v > latest) {
        log_err("%s: schema version %d is newer than this program knows (%d); "
                "use the gatescreen release that wrote it, or restore a backup",
                l->path, v, latest);
        return -1;
    }
    for (int i = 0; i < n && !o->no_migrate; i++)
        if (ms[i].version > v && apply_migration(l, &ms[i]) < 0)
            return -1;
    return 0;
}

int ledger_open(const char *path, const struct ledger_opts *opts, struct ledger **out)
{
    static const struct ledger_opts defaults = {.synchronous_full = true};
    const struct ledger_opts *o = opts ? opts : &defaults;
    struct ledger *l = calloc(1, sizeof *l);
    if (!l || !(l->path = strdup(path)))
        goto fail;
    l->truncate_on_close = o->truncate_on_close;
    int flags = SQLITE_OPEN_READWRITE | (o->no_migrate ? 0 : SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path, &l->db, flags, NULL) != SQLITE_OK) {
        log_err("%s: cannot open database: %s", path,
                l->db ? sqlite3_errmsg(l->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(l->db, 1);
    if (set_pragmas(l, o->synchronous_full, o->busy_timeout_ms) < 0 || migrate(l, o) < 0)
        goto fail;
    ledger_files_note_wal(l);
    *out = l;
    return 0;
fail:
    if (l && l->db) {
        sqlite3_close(l->db);
        l->db = NULL;
    }
    if (l)
        free(l->path);
    free(l);
    return -1;
}

void ledger_close(struct ledger *l)
{
    if (!l)
        return;
    /* The daemon folds the WAL back so the file is whole on its own (backups,
     * copies); others copy what they can without waiting for anyone. */
    int mode = l->truncate_on_close ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE;
    int rc = sqlite3_wal_checkpoint_v2(l->db, NULL, mode, NULL, NULL);
    /* A passive checkpoint is a courtesy: another connection's checkpoint under way
     * (several web threads closing at once) makes it BUSY, and nothing is lost. */
    bool courtesy = mode == SQLITE_CHECKPOINT_PASSIVE &&
                    ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED);
    if (rc != SQLITE_OK && !courtesy)
        ledger_log_error(l, "WAL checkpoint");
    if (sqlite3_close(l->db) != SQLITE_OK)
        ledger_log_error(l, "close (statements still open)");
    free(l->path);
    free(l);
}

/* Prints every row of a check pragma; returns how many problems it found. */
static int report_rows(struct ledger *l, const char *sql, const char *ok_text, FILE *out)
{
    sqlite3_stmt *st = ledger_prepare(l, sql);
    if (!st)
        return 1;
    int problems = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *first = ledger_col_text(st, 0);
        if (ok_text && strcmp(first, ok_text) == 0)
            continue;
        problems++;
        fprintf(out, "%s:", l->path);
        for (int c = 0; c < sqlite3_column_count(st); c++)
            fprintf(out, " %s", ledger_col_text(st, c));
        fputc('\n', out);
    }
    sqlite3_finalize(st);
    return problems;
}

int ledger_integrity_check(struct ledger *l, FILE *out)
{
    int problems = report_rows(l, "PRAGMA integrity_check", "ok", out);
    problems += report_rows(l, "PRAGMA foreign_key_check", NULL, out);
    return problems ? -1 : 0;
}

int ledger_step_done(struct ledger *l, sqlite3_stmt *st, int *changes, const char *what)
{
    if (!st)
        return -1;
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    if (rc < 0)
        ledger_log_error(l, what);
    else if (changes)
        *changes = sqlite3_changes(l->db);
    sqlite3_finalize(st);
    return rc;
}

int ledger_audit(struct ledger *l, const char *actor, const char *action,
                 const char *target, const char *detail)
{
    sqlite3_stmt *st = ledger_prepare(l, "INSERT INTO audit_log (at_ms, actor, action, "
                                         "target, detail) VALUES (?, ?, ?, ?, ?)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, clock_wall_ms());
    ledger_bind_text(st, 2, actor);
    ledger_bind_text(st, 3, action);
    ledger_bind_text(st, 4, target ? target : "");
    ledger_bind_text(st, 5, detail ? detail : "");
    return ledger_step_done(l, st, NULL, "audit log");
}

int ledger_each_row(struct ledger *l, sqlite3_stmt *st, const char *what,
                    void (*row)(sqlite3_stmt *st, void *ctx), void *ctx)
{
    if (!st)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        row(st, ctx);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
    ledger_log_error(l, what);
    return -1;
}

void ledger_set_busy_timeout(struct ledger *l, int ms)
{
    l->busy_timeout_ms = ms;
}

enum ledger_status ledger_try_begin(struct ledger *l)
{
    l->refused = LEDGER_OK;
    l->last_rc = SQLITE_OK;
    enum ledger_files files = ledger_files_check(l);
    if (files != LEDGER_FILES_OK) {
        log_limited(&l->gonelog, clock_mono_ms(), ERROR_LOG_EVERY_MS, LOG_LVL_ERR,
                    "%s: not writing: %s while this program had it open; restart it once "
                    "the ledger is back", l->path, ledger_files_text(files));
        ledger_refuse(l, LEDGER_IO);
        return LEDGER_IO;
    }
    if (sqlite3_exec(l->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK)
        return LEDGER_OK;
    l->last_rc = sqlite3_errcode(l->db);
    if (ledger_status_of_sqlite(l->last_rc) == LEDGER_BUSY)
        return LEDGER_BUSY;
    ledger_log_error(l, "begin");
    return LEDGER_IO;
}

int ledger_begin(struct ledger *l)
{
    enum ledger_status st = ledger_try_begin(l);
    if (st == LEDGER_BUSY)
        log_warn("%s: another program held the write lock for %d ms; try again", l->path,
                 l->busy_timeout_ms);
    return st == LEDGER_OK ? 0 : -1;
}

int ledger_commit(struct ledger *l)
{
    if (ledger_exec(l, "COMMIT") < 0)
        return -1;
    uint64_t failed = log_limit_reset(&l->errlog);
    if (failed > 1)
        log_notice("%s: writes succeed again (after %llu database errors)", l->path,
                   (unsigned long long)failed);
    return 0;
}

void ledger_rollback(struct ledger *l)
{
    if (!sqlite3_get_autocommit(l->db))
        ledger_exec(l, "ROLLBACK");
}

static int health_history_add(struct ledger *l, int64_t person_id, const char *status,
                              const char *reason, const char *by, int64_t at_ms)
{
    sqlite3_stmt *st = ledger_prepare(l, "INSERT INTO health_status_history "
                                         "(person_id, at_ms, status, reason, by_user) "
                                         "VALUES (?, ?, ?, ?, ?)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, person_id);
    sqlite3_bind_int64(st, 2, at_ms);
    ledger_bind_text(st, 3, status);
    ledger_bind_text(st, 4, reason ? reason : "");
    ledger_bind_text(st, 5, by ? by : "");
    return ledger_step_done(l, st, NULL, "health status history");
}

int ledger_set_health_status(struct ledger *l, int64_t person_id, const char *status,
                             const char *reason, const char *by, int64_t at_ms)
{
    sqlite3_stmt *st = ledger_prepare(l, "UPDATE people SET health_status = ?, updated_ms = ? "
                                         "WHERE id = ? AND health_status <> ?");
    if (!st)
        return -1;
    ledger_bind_text(st, 1, status);
    sqlite3_bind_int64(st, 2, at_ms);
    sqlite3_bind_int64(st, 3, person_id);
    ledger_bind_text(st, 4, status);
    int changed = 0;
    int rc = ledger_step_done(l, st, &changed, "set health status");
    if (rc == 0 && changed > 0)
        rc = health_history_add(l, person_id, status, reason, by, at_ms);
    return rc;
}
