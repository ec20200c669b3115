/* The school's health ledger in SQLite: the one module that holds SQL.
 * One handle per thread; the main thread's handle is the only one that writes
 * decisions. Every function returns 0 / -1 and logs what went wrong. */
#ifndef GS_LEDGER_H
#define GS_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "migrations.h"
#include "roster.h"

struct ledger;

/* What a ledger call that a person asked for (a nurse's, a teacher's or an admin's
 * action) came to. The message for a person is written to the call's `errs`; the
 * status tells the caller what to answer (the web: one HTTP table in web_api.c; the
 * CLI: one exit-code table in cli.c). OK is 0 and every failure is positive. */
enum ledger_status {
    LEDGER_OK = 0,    /* done, committed */
    LEDGER_NOT_FOUND, /* the caller named a person, flag, absence, alert or user that is
                       * not in the ledger: show the message, nothing to retry */
    LEDGER_CONFLICT,  /* the request contradicts the ledger's state (already recorded,
                       * already closed, a duplicate name, no open flag): show the
                       * message; the person may reload and decide again */
    LEDGER_INVALID,   /* a bad value (date, cause, temperature, name, password):
                       * show the message; the person corrects the value */
    LEDGER_BUSY,      /* another writer held the lock past the busy timeout: nothing
                       * changed, the same request may be tried again shortly */
    LEDGER_IO,        /* any other database failure (logged, no message on errs):
                       * nothing changed; an operator should look at the log */
};

struct ledger_opts {
    bool synchronous_full; /* PRAGMA synchronous = FULL, else NORMAL */
    bool no_migrate;       /* open as is (e.g. `db check`); still refuse a newer schema */
    int busy_timeout_ms;   /* wait this long for another writer's lock; 0: 5 s */
    bool truncate_on_close; /* fold the WAL into the file at close (the daemon only: a
                             * TRUNCATE checkpoint holds the lock while readers finish,
                             * which would make the running daemon's writes wait) */
    const struct migration *migrations; /* NULL: the embedded ones */
    int nmigrations;
};

int ledger_open(const char *path, const struct ledger_opts *opts, struct ledger **out);
/* Checkpoints the WAL into the main file and closes. NULL is fine. */
void ledger_close(struct ledger *l);

/* How long a writer on this handle waits for another's lock from now on (the
 * daemon opens with a long wait for its migrations, then the gate's short one). */
void ledger_set_busy_timeout(struct ledger *l, int ms);

/* BEGIN IMMEDIATE without waiting longer than the busy timeout, for a caller that
 * retries by itself (the gate): BUSY is not logged; IO is (rate-limited). Refuses
 * (IO) to write to files nobody else can see (ledger_files_check). */
enum ledger_status ledger_try_begin(struct ledger *l);

/* ---- the files under a running program (ledger_files.c) ---- */

/* Whether the database file or its WAL was deleted or replaced under the open
 * connection (an `rm`, a restore copied over it). Writing on would put rows where
 * no other program, and no restart, would find them. */
enum ledger_files { LEDGER_FILES_OK, LEDGER_FILES_DB_GONE, LEDGER_FILES_WAL_GONE };
enum ledger_files ledger_files_check(struct ledger *l);
const char *ledger_files_text(enum ledger_files f);
/* Saves what the open connection still holds: DB_GONE, a whole copy beside the
 * path ("<database>.rescued-<UTC time>", written to out); WAL_GONE, the WAL's
 * frames folded into the database file (out: its path). 0 when everything
 * committed is saved; -1 (logged): try again later. */
int ledger_files_rescue(struct ledger *l, enum ledger_files what, char *out, size_t n);

/* "<database>.expected" marks a ledger that held people: written once there are
 * any (the daemon at start, the CLI after a roster import), so that a ledger that
 * disappears is noticed at the next start instead of replaced by an empty one. */
int ledger_expect_note(struct ledger *l);
/* The database file is missing but its marker is there. */
bool ledger_expected_but_missing(const char *db_path);
/* Removes the marker (gatescreend --new-ledger). */
int ledger_expect_forget(const char *db_path);

/* ---- whole copies (ledger_backup.c) ---- */

/* Claims the ledger at db_path for this process ("<database>.lock", an flock held
 * until ledger_unclaim or exit): the daemon for its life, `db restore` while it
 * copies, so that neither runs under the other. 0 claimed (*fd_out), 1 another
 * process holds it, -1 error (logged). */
int ledger_claim(const char *db_path, int *fd_out);
void ledger_unclaim(int fd);
/* A consistent copy of the open ledger (even while the daemon writes) in a new file
 * dest (mode 0600, one file, never replacing one): 0, or -1 with the reason on errs
 * and no dest left behind. */
int ledger_backup(struct ledger *l, const char *dest, FILE *errs);
/* Replaces the ledger at db_path with the copy at src_path, after checking that it
 * is a whole gatescreen ledger no newer than this program; the ledger as it was is
 * kept first as "<database>.before-restore-<UTC time>" (its name in kept; empty
 * when there was none). The caller holds the claim. An older copy is migrated by
 * the next start. 0, or -1 with the reason on errs. */
int ledger_restore(const char *db_path, const char *src_path, char *kept, size_t n, FILE *errs);

/* The database file's path as opened. */
const char *ledger_path(const struct ledger *l);
int ledger_schema_version(struct ledger *l);
/* The schema version this program creates (the highest embedded migration). */
int ledger_latest_version(void);
/* PRAGMA integrity_check and foreign_key_check; problems written to `out`. */
int ledger_integrity_check(struct ledger *l, FILE *out);

struct roster_import_stats {
    int rows, added, updated, unchanged;
    int deactivated; /* with deactivate_missing */
    int missing;     /* active people not in the file (left as they are) */
};

/* Applies a parsed roster in one transaction: any conflict (a card held by someone
 * not in the file, ...) is reported as FILE:LINE on errs and nothing changes.
 * An import that changes nothing writes nothing, not even an audit row.
 * LEDGER_CONFLICT when the file contradicts the ledger. */
enum ledger_status ledger_import_roster(struct ledger *l, const struct roster *r, const char *file,
                         bool deactivate_missing, const char *by,
                         struct roster_import_stats *stats, FILE *errs);

struct person_view {
    const char *external_id, *kind, *name, *grade, *class_name;
    const char *cards; /* comma-separated card numbers, "" if none */
    bool active;
    bool boarder;      /* 住校生: sleeps at school */
};
/* Calls fn for each person ordered by class then external id; class NULL = all. */
int ledger_list_people(struct ledger *l, const char *class_name, bool include_inactive,
                       void (*fn)(const struct person_view *p, void *arg), void *arg);
int ledger_count_people(struct ledger *l, int *active_count);

int ledger_audit(struct ledger *l, const char *actor, const char *action,
                 const char *target, const char *detail);


#endif
