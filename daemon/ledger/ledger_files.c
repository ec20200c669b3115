/* The ledger's files under a running program (see ledger.h): noticing that the
 * database or its WAL was deleted or replaced, saving what the open connection
 * still holds, and the marker that says a ledger is expected at the path. */
#include "ledger_private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

/* SQLite's own test of the main file (unix VFS): it has no links left, or the
 * path names another inode now. */
static bool main_moved(struct ledger *l)
{
    sqlite3_file *f = NULL;
    int moved = 0;
    if (sqlite3_file_control(l->db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || !f ||
        !f->pMethods || !f->pMethods->xFileControl)
        return false;
    return f->pMethods->xFileControl(f, SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK && moved;
}

static int wal_path(const struct ledger *l, char *out, size_t n)
{
    return (size_t)snprintf(out, n, "%s-wal", l->path) < n ? 0 : -1;
}

/* SQLite opens the WAL without its inode bookkeeping (HAS_MOVED is always false
 * for it), so the WAL's identity is kept here: it exists from the first read of a
 * WAL-mode database until the last connection closes, and is never replaced in
 * between. */
void ledger_files_note_wal(struct ledger *l)
{
    char path[4096];
    struct stat st;
    if (wal_path(l, path, sizeof path) == 0 && stat(path, &st) == 0) {
        l->wal_dev = st.st_dev;
        l->wal_ino = st.st_ino;
    }
}

static bool wal_moved(struct ledger *l)
{
    char path[4096];
    struct stat st;
    if (l->wal_ino == 0) {
        ledger_files_note_wal(l);
        return false;
    }
    if (wal_path(l, path, sizeof path) < 0)
        return false;
    return stat(path, &st) < 0 ? errno == ENOENT
                               : st.st_dev != l->wal_dev || st.st_ino != l->wal_ino;
}

enum ledger_files ledger_files_check(struct ledger *l)
{
    if (main_moved(l))
        return LEDGER_FILES_DB_GONE;
    if (wal_moved(l))
        return LEDGER_FILES_WAL_GONE;
    return LEDGER_FILES_OK;
}

const char *ledger_files_text(enum ledger_files f)
{
    return f == LEDGER_FILES_DB_GONE    ? "the database file was deleted or replaced"
           : f == LEDGER_FILES_WAL_GONE ? "its write-ahead log (-wal) was deleted or replaced"
                                        : "the files are in place";
}

/* The database file is gone: everything committed is still readable through this
 * connection's open descriptors, so a copy beside it keeps it (VACUUM INTO writes
 * a whole, consistent database). */
static int rescue_copy(struct ledger *l, char *out, size_t n)
{
    char stamp[32];
    time_t now = (time_t)(clock_wall_ms() / 1000);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || !strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm))
        return -1;
    if ((size_t)snprintf(out, n, "%s.rescued-%s", l->path, stamp) >= n)
        return -1;
    sqlite3_stmt *st = ledger_prepare(l, "VACUUM INTO ?1");
    if (!st || ledger_bind_text(st, 1, out) < 0) {
        sqlite3_finalize(st);
        return -1;
    }
    return ledger_step_done(l, st, NULL, "rescue copy (VACUUM INTO)");
}

/* The WAL is gone but the database file is there: fold every frame the open WAL
 * holds into the database file, so a restart finds all committed rows. A reader
 * still on an older snapshot can keep frames back: then the caller tries again. */
static int rescue_wal(struct ledger *l, char *out, size_t n)
{
    int in_log = 0, done = 0;
    /* TRUNCATE, not FULL: it also resets the WAL index, so that a program opening
     * the database now starts from the file alone, not from frames it cannot see. */
    int rc = sqlite3_wal_checkpoint_v2(l->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &in_log, &done);
    snprintf(out, n, "%s", l->path);
    if (rc != SQLITE_OK || done < in_log) {
        log_warn("%s: saving the deleted WAL: %d of %d frames copied so far (%s)", l->path,
                 done, in_log, sqlite3_errstr(rc));
        return -1;
    }
    return 0; /* the checkpoint synced the database file before it returned */
}

int ledger_files_rescue(struct ledger *l, enum ledger_files what, char *out, size_t n)
{
    if (what == LEDGER_FILES_DB_GONE)
        return rescue_copy(l, out, n);
    if (what == LEDGER_FILES_WAL_GONE)
        return rescue_wal(l, out, n);
    return 0;
}

/* ---- the marker -------------------------------------------------------------- */

static int marker_path(const char *db_path, char *out, size_t n)
{
    return (size_t)snprintf(out, n, "%s.expected", db_path) < n ? 0 : -1;
}

int ledger_expect_note(struct ledger *l)
{
    char path[4096];
    int people = 0;
    if (marker_path(l->path, path, sizeof path) < 0 || access(path, F_OK) == 0 ||
        ledger_count_people(l, &people) < 0 || people == 0)
        return 0;
    FILE *f = fopen(path, "wx");
    if (!f)
        return errno == EEXIST ? 0 : -1;
    fprintf(f, "# %s held a roster (%d people when this was written).\n"
               "# While this file exists, gatescreend refuses to start when that ledger is\n"
               "# missing, instead of starting with an empty one: restore the ledger from a\n"
               "# backup (or a .rescued-* copy beside it), or start once with --new-ledger.\n",
            l->path, people);
    return fclose(f) == 0 ? 0 : -1;
}

bool ledger_expected_but_missing(const char *db_path)
{
    char path[4096];
    return marker_path(db_path, path, sizeof path) == 0 && access(db_path, F_OK) < 0 &&
           errno == ENOENT && access(path, F_OK) == 0;
}

int ledger_expect_forget(const char *db_path)
{
    char path[4096];
    if (marker_path(db_path, path, sizeof path) < 0)
        return -1;
    return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}
