/* Shared by the ledger's source files only (ledger*.c): the handle's body and
 * statement helpers. Nothing outside the ledger includes this. */
#ifndef GS_LEDGER_PRIVATE_H
#define GS_LEDGER_PRIVATE_H

#include <sqlite3.h>
#include <sys/types.h>

#include "ledger.h"
#include "log.h"

struct ledger {
    sqlite3 *db;
    char *path;
    bool truncate_on_close; /* the daemon folds the WAL back at a clean stop */
    int busy_timeout_ms;    /* how long a writer waits for another's lock */
    int64_t busy_since_us;  /* monotonic start of the current wait */
    /* Why the current call failed (reset by ledger_begin): the class a refusal gave
     * where its message was written (ledger_refuse), else the SQLite code of the
     * last database error (ledger_log_error, ledger_exec), classified once by
     * ledger_failure. Kept here because the failure happens several helpers deep,
     * and a rollback clears sqlite3_errcode before the top of the call can read it. */
    enum ledger_status refused;
    int last_rc;
    /* Database errors repeat while a fault lasts (a full disk fails every
     * decision): logged at a decreasing rate, reset by the next commit. */
    struct log_limit errlog;
    /* Writes refused because the files were deleted or replaced (ledger_try_begin). */
    struct log_limit gonelog;
    dev_t wal_dev;          /* the WAL this connection uses (ledger_files.c); 0: not seen */
    ino_t wal_ino;
};

/* Remembers which file the WAL is (ledger_files_check compares). */
void ledger_files_note_wal(struct ledger *l);
/* Prepares sql on l's connection; logs and returns NULL on failure. */
sqlite3_stmt *ledger_prepare(struct ledger *l, const char *sql);
/* The first column of the first row of a one-value query (count, pragma). */
int ledger_query_int(struct ledger *l, const char *sql, int *out);
/* Runs SQL without results or parameters (fixed text only, never user data). */
int ledger_exec(struct ledger *l, const char *sql);
/* Binds text, or NULL when s is NULL. */
int ledger_bind_text(sqlite3_stmt *st, int idx, const char *s);
/* Column text as a non-NULL string. */
const char *ledger_col_text(sqlite3_stmt *st, int col);
/* Sets people.health_status and, when it changes, appends to
 * health_status_history (who, when, why). Inside the caller's transaction. */
int ledger_set_health_status(struct ledger *l, int64_t person_id, const char *status,
                             const char *reason, const char *by, int64_t at_ms);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK (a writer takes the lock up front, so two
 * writers wait on the busy timeout instead of failing half-way). */
int ledger_begin(struct ledger *l);
int ledger_commit(struct ledger *l);
void ledger_rollback(struct ledger *l);
/* Logs the connection's last error with context (and keeps its code for
 * ledger_failure). */
void ledger_log_error(struct ledger *l, const char *what);
/* Steps a bound statement that returns no rows (NULL: its prepare or bind failed,
 * logged) and finalizes it: 0 and *changes (may be NULL) = rows changed, or -1 with
 * the database's error logged as `what`. */
int ledger_step_done(struct ledger *l, sqlite3_stmt *st, int *changes, const char *what);
/* Every listing's loop: steps a prepared and bound statement (NULL: it failed
 * already, and was logged) to the end, handing each row to `row`, and finalizes it.
 * 0, or -1 with the database's error logged as `what`. */
int ledger_each_row(struct ledger *l, sqlite3_stmt *st, const char *what,
                    void (*row)(sqlite3_stmt *st, void *ctx), void *ctx);

/* SQLITE_BUSY / SQLITE_LOCKED -> BUSY, SQLITE_CONSTRAINT -> CONFLICT, any other
 * code -> IO: the one place a database failure gets its class. */
enum ledger_status ledger_status_of_sqlite(int rc);
/* Records why the current call refuses (its message is on errs already) and
 * returns -1, so that an int helper can refuse in one line. */
int ledger_refuse(struct ledger *l, enum ledger_status st);
/* The status of the current call's failure: the refusal's class, else the last
 * database error's (IO when neither was recorded: a failure outside SQLite). */
enum ledger_status ledger_failure(struct ledger *l);
/* Commits when rc == 0, else rolls back; the call's status (ledger_failure when rc
 * != 0 or the commit failed). */
enum ledger_status ledger_end(struct ledger *l, int rc);

#endif
