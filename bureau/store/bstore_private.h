/* Private to bureau/store/: the connection's body and the statement helpers its
 * files share. */
#ifndef GS_BSTORE_PRIVATE_H
#define GS_BSTORE_PRIVATE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>

#include "bstore.h"

struct bstore {
    PGconn *conn;
    char *conninfo;               /* kept to connect again */
    struct bstore_opts opts;      /* its strings point at conninfo and app */
    char app[128];
    enum bstore_status failed;    /* of the last statement that failed, or a refusal */
    bool refused;                 /* failed is a refusal, its sentence already written */
    char sqlstate[6];
    char msg[256];                /* PostgreSQL's primary message, one line */
    unsigned prepared;            /* bit N: statement "bsN" is prepared on this connection */
};

/* Runs one statement with text parameters (NULL = SQL NULL). The result (the caller
 * PQclears it) when it succeeded; NULL when it failed, with s->failed, s->sqlstate
 * and s->msg set and the failure logged. */
PGresult *bs_run(struct bstore *s, const char *sql, int n, const char *const *params);
/* The same with lengths and formats (1 = binary) per parameter, for bytea. */
PGresult *bs_run_bin(struct bstore *s, const char *sql, int n, const char *const *params,
                     const int *lengths, const int *formats);
/* A statement whose result is not needed: 0, or -1 as above. */
int bs_exec(struct bstore *s, const char *sql, int n, const char *const *params);

/* The statements every upload runs (bstore_ingest.c), each prepared once per
 * connection (named "bsN" after its slot) and then only executed: parsing and
 * planning them again on every upload cost the database ~0.7 ms of the upload's CPU
 * (tests/bench/bench_ingest.py). Slots are BS_SLOT_*, each always the same SQL. */
enum bs_slot { BS_SLOT_CREDENTIAL, BS_SLOT_INGEST, BS_SLOT_COUNT };
PGresult *bs_run_prepared(struct bstore *s, enum bs_slot slot, const char *sql, int n,
                          const char *const *params);
int bs_exec_prepared(struct bstore *s, enum bs_slot slot, const char *sql, int n,
                     const char *const *params);

int bs_begin(struct bstore *s);
/* COMMIT when rc is 0 (its failure is the call's), else ROLLBACK: the status. */
enum bstore_status bs_end(struct bstore *s, int rc);

/* The class of a failed result (SQLSTATE, or the connection's state). */
enum bstore_status bs_status_of(const PGresult *r, PGconn *conn);

/* A refusal: the person's sentence on errs, and the status the transaction ends
 * with (s->failed, s->refused). Returns -1, for `rc = bs_refuse(...)`. */
int bs_refuse(struct bstore *s, FILE *errs, enum bstore_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The status a change ended with; when the database refused it (not bs_refuse), its
 * reason in PostgreSQL's words on errs, or "not available now, try again". */
enum bstore_status bs_said(struct bstore *s, enum bstore_status st, FILE *errs);

/* One row in audit_log, in the caller's transaction. */
int bs_audit(struct bstore *s, const char *actor, const char *action, const char *target,
             const char *detail);

#endif
