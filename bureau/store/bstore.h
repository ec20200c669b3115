/* The bureau's database: every SQL statement of the bureau's programs, on PostgreSQL
 * through libpq (docs/bureau.md, "Tables"). One struct bstore is one connection,
 * used by one thread at a time; the collector's threads take theirs from a pool
 * (bstore_pool.h). The schema is sql/bureau/NNN_*.sql, embedded at build time and
 * applied by bstore_open with `migrate`.
 *
 * Several collectors may write to one database at once: every write that could race
 * is decided by a unique constraint (INSERT ... ON CONFLICT), never by reading first
 * and writing after. */
#ifndef GS_BSTORE_H
#define GS_BSTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* What a call's failure means for its caller; one table turns it into an HTTP status
 * (the collector) or an exit status (the CLI). */
enum bstore_status {
    BSTORE_OK = 0,
    BSTORE_NOT_FOUND,    /* a school or credential that is not there */
    BSTORE_CONFLICT,     /* the database's state: the code exists, already revoked */
    BSTORE_INVALID,      /* a value the database refuses (a constraint, a bad date) */
    BSTORE_UNAVAILABLE,  /* the server is down, restarting or busy: try again */
    BSTORE_IO,           /* anything else (logged) */
};
const char *bstore_status_name(enum bstore_status st);

struct bstore_opts {
    const char *conninfo;          /* a libpq connection string */
    const char *application_name;  /* shown in pg_stat_activity */
    int64_t connect_timeout_ms;
    int64_t statement_timeout_ms;
    bool migrate;                  /* apply the embedded migrations (see bstore.c) */
};

struct bstore;

/* Connects (and migrates): 0, or -1 with the reason on errs. */
int bstore_open(const struct bstore_opts *o, struct bstore **out, FILE *errs);
void bstore_close(struct bstore *s);

/* Whether the connection is usable; one that broke (the server restarted) is made
 * again first. 0, or -1 (logged). */
int bstore_ensure(struct bstore *s);

/* The schema version of the database (0: empty), and of this program. */
int bstore_schema_version(struct bstore *s, int *version);
int bstore_latest_version(void);

#endif
