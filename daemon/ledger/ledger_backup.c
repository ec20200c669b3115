/* Copies of the whole ledger for the administrator (`gatescreen db backup` and
 * `db restore`), and the claim that keeps a restore and a running daemon apart.
 * Both copies use SQLite's online backup API: the source is read in one read
 * transaction, so a backup taken while the daemon writes is one consistent moment
 * (WAL lets the daemon go on writing meanwhile), and the destination is written
 * through its own pager and journal, so a restore that fails half-way leaves the
 * old ledger as it was. */
#include "ledger_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

/* How long one backup step may wait for a writer's lock before trying again, and
 * how many tries: a busy daemon commits in milliseconds. */
#define STEP_RETRY_MS 50
#define STEP_TRIES 200

/* ---- the claim ----------------------------------------------------------------- */

int ledger_claim(const char *db_path, int *fd_out)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s.lock", db_path) >= sizeof path) {
        log_err("%s.lock: path too long", db_path);
        return -1;
    }
    /* Read-only is enough for flock, and lets the daemon's user open a lock file
     * that root's CLI created first (0644). */
    int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_errno(LOG_LVL_ERR, errno, "%s: cannot open", path);
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return 1;
        log_errno(LOG_LVL_ERR, e, "%s: cannot lock", path);
        return -1;
    }
    *fd_out = fd;
    return 0;
}

void ledger_unclaim(int fd)
{
    if (fd >= 0)
        close(fd); /* closing the only descriptor releases the flock */
}

/* ---- copying ------------------------------------------------------------------- */

/* Copies every page of src's main database into dst's, retrying while a writer
 * holds a lock the copy needs. */
static int copy_pages(sqlite3 *dst, sqlite3 *src, const char *what, FILE *errs)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        fprintf(errs, "%s: %s\n", what, sqlite3_errmsg(dst));
        return -1;
    }
    int rc = SQLITE_OK;
    for (int tries = 0; tries < STEP_TRIES; tries++) {
        rc = sqlite3_backup_step(b, -1);
        if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
            break;
        sqlite3_sleep(STEP_RETRY_MS);
    }
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        fprintf(errs, "%s: %s\n", what, sqlite3_errstr(rc));
        return -1;
    }
    return 0;
}

static int open_db(const char *path, int flags, sqlite3 **out, FILE *errs)
{
    if (sqlite3_open_v2(path, out, flags, NULL) != SQLITE_OK) {
        fprintf(errs, "%s: cannot open: %s\n", path, *out ? sqlite3_errmsg(*out) : "out of memory");
        sqlite3_close(*out);
        *out = NULL;
        return -1;
    }
    sqlite3_busy_timeout(*out, 5000);
    return 0;
}

/* Flushes a finished file to the disk before it is renamed into place or
 * reported as written: a backup that a power cut empties is no backup. */
static int sync_file(const char *path, FILE *errs)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        fprintf(errs, "%s: cannot sync: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* The folder holding path, synced: a file's new name is in its folder's data. */
static int sync_dir_of(const char *path, FILE *errs)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    /* "x": the current folder; "/x": the root; "a/b/x": "a/b". */
    size_t n = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
    if (n >= sizeof dir)
        return -1;
    if (n)
        memcpy(dir, path, n);
    else
        dir[n++] = '.';
    dir[n] = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        fprintf(errs, "%s: cannot sync the folder: %s\n", dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* Writes a copy of the open connection src's database to dest, a new file: the copy goes to "<dest>.partial" first and is renamed only
 * when whole and on disk, so dest is either absent or complete. */
static int backup_to(sqlite3 *src, const char *dest, FILE *errs)
{
    char part[4096];
    if ((size_t)snprintf(part, sizeof part, "%s.partial", dest) >= sizeof part) {
        fprintf(errs, "%s: path too long\n", dest);
        return -1;
    }
    /* O_EXCL: never overwrite a file someone keeps; 0600: it is health data. */
    int fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        fprintf(errs, "%s: cannot create: %s%s\n", part, strerror(e),
                e == EEXIST ? " (a backup cut short left it; delete it and try again)" : "");
        return -1;
    }
    close(fd);
    sqlite3 *dst = NULL;
    int rc = -1;
    if (open_db(part, SQLITE_OPEN_READWRITE, &dst, errs) < 0 ||
        copy_pages(dst, src, dest, errs) < 0)
        goto fail;
    /* The copy keeps the source's WAL mode; a single file is what a backup is. */
    if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(errs, "%s: %s\n", dest, sqlite3_errmsg(dst));
        goto fail;
    }
    sqlite3_close(dst);
    dst = NULL;
    if (sync_file(part, errs) < 0)
        goto fail;
    if (link(part, dest) < 0) { /* link: fails instead of replacing an existing dest */
        fprintf(errs, "%s: %s\n", dest, strerror(errno));
        goto fail;
    }
    rc = sync_dir_of(dest, errs); /* the new name survives a power cut too */
fail:
    sqlite3_close(dst);
    unlink(part);
    return rc;
}

int ledger_backup(struct ledger *l, const char *dest, FILE *errs)
{
    struct stat st;
    if (stat(dest, &st) == 0) {
        fprintf(errs, "%s: exists; a backup never replaces a file (choose a new name)\n", dest);
        return -1;
    }
    return backup_to(l->db, dest, errs);
}

/* ---- restoring ----------------------------------------------------------------- */

/* The file to restore is a gatescreen ledger this program can run: whole (integrity
 * check), written by this or an earlier schema, with the ledger's tables. */
static int check_restorable(sqlite3 *src, const char *path, int latest, FILE *errs)
{
    sqlite3_stmt *st = NULL;
    int version = -1, ok = 0, people = 0;
    if (sqlite3_prepare_v2(src, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        fprintf(errs, "%s: not a gatescreen ledger (%s)\n", path, sqlite3_errmsg(src));
        sqlite3_finalize(st);
        return -1;
    }
    version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(src, "PRAGMA quick_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        ok = strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(src, "SELECT count(*) FROM sqlite_schema WHERE name = 'people'", -1,
                           &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        people = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version < 1 || !people) {
        fprintf(errs, "%s: not a gatescreen ledger (schema version %d, no people table)\n",
                path, version);
        return -1;
    }
    if (!ok) {
        fprintf(errs, "%s: damaged (SQLite's quick_check failed); nothing was restored\n", path);
        return -1;
    }
    if (version > latest) {
        fprintf(errs, "%s: schema version %d is newer than this program knows (%d); use the "
                      "gatescreen release that wrote it\n", path, version, latest);
        return -1;
    }
    return 0;
}

/* "<database>.before-restore-<UTC time>": the ledger as it was, kept beside it. */
static int keep_current(const char *db_path, char *kept, size_t n, FILE *errs)
{
    struct stat st;
    kept[0] = '\0';
    if (stat(db_path, &st) < 0)
        return errno == ENOENT ? 0 : -1; /* nothing to keep */
    char stamp[32];
    time_t now = (time_t)(clock_wall_ms() / 1000);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || !strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm) ||
        (size_t)snprintf(kept, n, "%s.before-restore-%s", db_path, stamp) >= n)
        return -1;
    sqlite3 *cur = NULL;
    int rc = open_db(db_path, SQLITE_OPEN_READONLY, &cur, errs) < 0 ? -1
                                                                    : backup_to(cur, kept, errs);
    sqlite3_close(cur);
    return rc;
}

int ledger_restore(const char *db_path, const char *src_path, char *kept, size_t n, FILE *errs)
{
    sqlite3 *src = NULL, *dst = NULL;
    int rc = -1;
    if (open_db(src_path, SQLITE_OPEN_READONLY, &src, errs) < 0 ||
        check_restorable(src, src_path, ledger_latest_version(), errs) < 0 ||
        keep_current(db_path, kept, n, errs) < 0 ||
        open_db(db_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &dst, errs) < 0 ||
        copy_pages(dst, src, db_path, errs) < 0)
        goto fail;
    /* The daemon runs its ledger in WAL mode; fold the copy in and say so again. */
    if (sqlite3_exec(dst, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_wal_checkpoint_v2(dst, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) !=
            SQLITE_OK) {
        fprintf(errs, "%s: %s\n", db_path, sqlite3_errmsg(dst));
        goto fail;
    }
    rc = 0;
fail:
    sqlite3_close(dst);
    sqlite3_close(src);
    return rc;
}
