/* The bureau's database connection (bstore.h): connecting, the session settings
 * every connection needs, reconnecting after a server restart, the statement
 * helpers (bstore_private.h) and the migrations.
 *
 * Migrations: each sql/bureau/NNN_*.sql newer than the database runs in one
 * transaction, and its number goes into schema_migrations in the same one. The whole
 * check-and-apply runs under a session advisory lock, so that two collectors
 * starting together (or a collector and the CLI) do not both apply a file: the
 * second waits, then finds the version already there. A database newer than the
 * program is refused and left untouched. */
#include "bstore_private.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bstore_migrations.h"
#include "log.h"
#include "textnum.h"

/* pg_advisory_lock's key for the migrations: "gsbureau" as a number. */
#define MIGRATION_LOCK "7450488311526322549"

static const char *const status_names[] = {
    [BSTORE_OK] = "ok",           [BSTORE_NOT_FOUND] = "not found",
    [BSTORE_CONFLICT] = "conflict", [BSTORE_INVALID] = "invalid",
    [BSTORE_UNAVAILABLE] = "unavailable", [BSTORE_IO] = "database error",
};

const char *bstore_status_name(enum bstore_status st)
{
    return (unsigned)st < sizeof status_names / sizeof status_names[0] ? status_names[st] : "?";
}

int bstore_latest_version(void)
{
    return bstore_migration_count ? bstore_migrations[bstore_migration_count - 1].version : 0;
}

/* ---- statements ----------------------------------------------------------------- */

/* read_only_sql_transaction: a write sent to a hot standby (docs/bureau.md,
 * "Scale-out": an instance on a replica serves the reads only). */
#define READ_ONLY_STATE "25006"
/* invalid_sql_statement_name: our prepared statements are gone from a session that
 * is still up (DISCARD ALL, or a pooler in transaction mode handing us another
 * server session). Prepared again at the next call; this request is retried. */
#define PREPARED_GONE_STATE "26000"

enum bstore_status bs_status_of(const PGresult *r, PGconn *conn)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!conn || PQstatus(conn) != CONNECTION_OK || !state)
        return BSTORE_UNAVAILABLE; /* no answer at all: the connection broke */
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
        strncmp(state, "57", 2) == 0 || strcmp(state, "40001") == 0 ||
        strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0 ||
        strcmp(state, READ_ONLY_STATE) == 0 || strcmp(state, PREPARED_GONE_STATE) == 0)
        return BSTORE_UNAVAILABLE; /* connection, resources, shutdown, serialization, locks,
                                      a replica (the write belongs on the primary) */
    if (strcmp(state, "23505") == 0)
        return BSTORE_CONFLICT;
    if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0)
        return BSTORE_INVALID; /* a constraint or a value the server refused */
    return BSTORE_IO;
}

/* PostgreSQL's message on one line, for the log and for people. */
static void keep_message(struct bstore *s, const char *m)
{
    size_t n = 0;
    for (; m && *m && n + 1 < sizeof s->msg; m++)
        s->msg[n++] = (*m == '\n' || *m == '\r' || *m == '\t') ? ' ' : *m;
    while (n > 0 && s->msg[n - 1] == ' ')
        n--;
    s->msg[n] = '\0';
}

static PGresult *judge(struct bstore *s, PGresult *r, const char *sql)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    s->failed = bs_status_of(r, s->conn);
    snprintf(s->sqlstate, sizeof s->sqlstate, "%s", state ? state : "");
    keep_message(s, state && strcmp(state, READ_ONLY_STATE) == 0
                        ? "this database is a read-only replica; writes go to the primary"
                        : primary ? primary : PQerrorMessage(s->conn));
    log_msg(s->failed == BSTORE_IO ? LOG_LVL_ERR : LOG_LVL_INFO, "database: %s%s%s (%.60s...)",
            s->sqlstate[0] ? s->sqlstate : "", s->sqlstate[0] ? ": " : "", s->msg, sql);
    PQclear(r);
    return NULL;
}

PGresult *bs_run_bin(struct bstore *s, const char *sql, int n, const char *const *params,
                     const int *lengths, const int *formats)
{
    return judge(s, PQexecParams(s->conn, sql, n, NULL, params, lengths, formats, 0), sql);
}

PGresult *bs_run(struct bstore *s, const char *sql, int n, const char *const *params)
{
    return bs_run_bin(s, sql, n, params, NULL, NULL);
}

int bs_exec(struct bstore *s, const char *sql, int n, const char *const *params)
{
    PGresult *r = bs_run(s, sql, n, params);
    PQclear(r);
    return r ? 0 : -1;
}

PGresult *bs_run_prepared(struct bstore *s, enum bs_slot slot, const char *sql, int n,
                          const char *const *params)
{
    char name[16];
    snprintf(name, sizeof name, "bs%d", (int)slot);
    if (!(s->prepared & 1u << slot)) {
        PGresult *p = judge(s, PQprepare(s->conn, name, sql, n, NULL), sql);
        if (!p)
            return NULL;
        PQclear(p);
        s->prepared |= 1u << slot;
    }
    PGresult *r = judge(s, PQexecPrepared(s->conn, name, n, params, NULL, NULL, 0), sql);
    if (!r && strcmp(s->sqlstate, PREPARED_GONE_STATE) == 0)
        s->prepared = 0; /* all of them went with it: prepare each again when next used */
    return r;
}

int bs_exec_prepared(struct bstore *s, enum bs_slot slot, const char *sql, int n,
                     const char *const *params)
{
    PGresult *r = bs_run_prepared(s, slot, sql, n, params);
    PQclear(r);
    return r ? 0 : -1;
}

int bs_begin(struct bstore *s)
{
    s->failed = BSTORE_OK;
    s->refused = false;
    s->msg[0] = '\0';
    return bs_exec(s, "BEGIN", 0, NULL);
}

enum bstore_status bs_end(struct bstore *s, int rc)
{
    if (rc == 0 && bs_exec(s, "COMMIT", 0, NULL) == 0)
        return BSTORE_OK;
    enum bstore_status st = s->failed != BSTORE_OK ? s->failed : BSTORE_IO;
    if (PQstatus(s->conn) == CONNECTION_OK && PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
        PGresult *r = PQexec(s->conn, "ROLLBACK");
        PQclear(r);
    }
    return st;
}

int bs_refuse(struct bstore *s, FILE *errs, enum bstore_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(errs, fmt, ap);
    fputc('\n', errs);
    va_end(ap);
    s->failed = st;
    s->refused = true;
    return -1;
}

enum bstore_status bs_said(struct bstore *s, enum bstore_status st, FILE *errs)
{
    if (s->refused)
        return st;
    if (st == BSTORE_INVALID || st == BSTORE_CONFLICT)
        fprintf(errs, "the database refused it: %s\n", s->msg);
    else if (st == BSTORE_UNAVAILABLE)
        fprintf(errs, "the database is not available now (%s); nothing was changed, try "
                      "again\n", s->msg[0] ? s->msg : "no connection");
    return st;
}

int bs_audit(struct bstore *s, const char *actor, const char *action, const char *target,
             const char *detail)
{
    const char *p[] = {actor, action, target, detail};
    return bs_exec(s, "INSERT INTO audit_log (actor, action, target, detail) "
                      "VALUES ($1, $2, $3, $4)", 4, p);
}

/* ---- connecting ----------------------------------------------------------------- */

/* Every session: commits durable whatever the server's default (a 2xx promises the
 * row is on disk), a bound on each statement, times shown in UTC. */
static int session_settings(struct bstore *s)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SET synchronous_commit = on; SET statement_timeout = %lld; "
                              "SET TIME ZONE 'UTC'", (long long)s->opts.statement_timeout_ms);
    PGresult *r = judge(s, PQexec(s->conn, sql), sql);
    PQclear(r);
    return r ? 0 : -1;
}

static int connect_now(struct bstore *s, FILE *errs)
{
    char timeout[24];
    /* libpq's connect_timeout is whole seconds, and 1 is taken as 2 */
    snprintf(timeout, sizeof timeout, "%lld",
             (long long)(s->opts.connect_timeout_ms + 999) / 1000);
    const char *const keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *const vals[] = {s->conninfo, timeout, s->app, NULL};
    PQfinish(s->conn);
    s->prepared = 0; /* a new session has none */
    /* expand_dbname: dbname is the whole connection string. The two keys after it
     * override the same keys in it: our timeout and our name in pg_stat_activity. */
    s->conn = PQconnectdbParams(keys, vals, 1);
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
        return session_settings(s);
    keep_message(s, s->conn ? PQerrorMessage(s->conn) : "out of memory");
    s->failed = BSTORE_UNAVAILABLE;
    if (errs)
        fprintf(errs, "cannot connect to the database: %s\n", s->msg);
    return -1;
}

int bstore_ensure(struct bstore *s)
{
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK &&
        PQtransactionStatus(s->conn) == PQTRANS_IDLE)
        return 0;
    if (connect_now(s, NULL) == 0) {
        log_notice("database: connected again");
        return 0;
    }
    log_warn("database: cannot connect: %s", s->msg);
    return -1;
}

/* ---- migrations ----------------------------------------------------------------- */

/* The first column of a one-row result as a number (SQL NULL: 0). */
static int int_of(struct bstore *s, const char *sql, long *out)
{
    PGresult *r = bs_run(s, sql, 0, NULL);
    int rc = -1;
    if (r && PQntuples(r) == 1) {
        rc = PQgetisnull(r, 0, 0) ? (*out = 0, 0)
                                  : tn_long(PQgetvalue(r, 0, 0), LONG_MIN, LONG_MAX, out);
    }
    PQclear(r);
    return rc;
}

int bstore_schema_version(struct bstore *s, int *version)
{
    long exists = 0, v = 0;
    /* Two steps: a statement naming a table that is not there fails when planned. */
    if (int_of(s, "SELECT (to_regclass('schema_migrations') IS NOT NULL)::int", &exists) < 0 ||
        (exists && int_of(s, "SELECT max(version) FROM schema_migrations", &v) < 0))
        return -1;
    *version = (int)v;
    return 0;
}

static int apply(struct bstore *s, const struct bstore_migration *m, FILE *errs)
{
    char version[16];
    snprintf(version, sizeof version, "%d", m->version);
    const char *p[] = {version, m->name};
    int rc = bs_begin(s);
    if (rc == 0) {
        PGresult *r = judge(s, PQexec(s->conn, m->sql), m->name); /* several statements */
        rc = r ? 0 : -1;
        PQclear(r);
    }
    if (rc == 0)
        rc = bs_exec(s, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2, p);
    if (bs_end(s, rc) != BSTORE_OK) {
        fprintf(errs, "migration %s failed: %s%s%s\n", m->name, s->sqlstate,
                s->sqlstate[0] ? ": " : "", s->msg);
        return -1;
    }
    log_notice("database: applied migration %s", m->name);
    return 0;
}

static int migrate_locked(struct bstore *s, FILE *errs)
{
    int v;
    if (bstore_schema_version(s, &v) < 0) {
        fprintf(errs, "cannot read the schema version: %s\n", s->msg);
        return -1;
    }
    if (v > bstore_latest_version()) {
        fprintf(errs, "the database's schema (version %d) is newer than this program's (%d); "
                      "upgrade gatescreen-bureau\n", v, bstore_latest_version());
        return -1;
    }
    long replica = 0;
    if (v < bstore_latest_version() &&
        int_of(s, "SELECT pg_is_in_recovery()::int", &replica) == 0 && replica) {
        fprintf(errs, "the database is a read-only replica with schema version %d, and this "
                      "program needs %d: start a collector of this version on the primary "
                      "first (it migrates; the replica follows)\n", v, bstore_latest_version());
        return -1;
    }
    for (int i = 0; i < bstore_migration_count; i++)
        if (bstore_migrations[i].version > v && apply(s, &bstore_migrations[i], errs) < 0)
            return -1;
    return 0;
}

static int migrate(struct bstore *s, FILE *errs)
{
    if (bs_exec(s, "SELECT pg_advisory_lock(" MIGRATION_LOCK ")", 0, NULL) < 0) {
        fprintf(errs, "cannot take the migration lock: %s\n", s->msg);
        return -1;
    }
    int rc = migrate_locked(s, errs);
    /* Also when it failed: the session keeps the lock until it ends otherwise. */
    bs_exec(s, "SELECT pg_advisory_unlock(" MIGRATION_LOCK ")", 0, NULL);
    return rc;
}

/* ---- open and close ------------------------------------------------------------- */

int bstore_open(const struct bstore_opts *o, struct bstore **out, FILE *errs)
{
    struct bstore *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s || !(s->conninfo = strdup(o->conninfo))) {
        fprintf(errs, "out of memory\n");
        free(s);
        return -1;
    }
    s->opts = *o;
    s->opts.conninfo = s->conninfo;
    snprintf(s->app, sizeof s->app, "%s", o->application_name ? o->application_name
                                                              : "gatescreen-bureau");
    s->opts.application_name = s->app;
    if (connect_now(s, errs) < 0 || (o->migrate && migrate(s, errs) < 0)) {
        bstore_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void bstore_close(struct bstore *s)
{
    if (!s)
        return;
    PQfinish(s->conn);
    explicit_bzero(s->conninfo, strlen(s->conninfo)); /* it may hold a password */
    free(s->conninfo);
    free(s);
}
