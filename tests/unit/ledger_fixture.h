/* The fixture the ledger's unit tests share (test_ledger_health.c, test_outbox.c,
 * test_summary.c): a real SQLite ledger in a fresh temporary folder, a side
 * connection to it, an errs stream, and helpers that write rows straight in SQL
 * the way the gate (ledger_gate.c) writes them. Failures go through cmocka. */
#ifndef GS_TESTS_LEDGER_FIXTURE_H
#define GS_TESTS_LEDGER_FIXTURE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "config.h"
#include "ledger.h"
#include "log.h"

struct pseudonym;

struct fx {
    char dir[64], path[96];
    struct ledger *l;
    sqlite3 *db; /* a side connection, as another process's (or the gate's) would be */
    char *errs;
    size_t errs_len;
    FILE *e;
    /* Filled in by the tests that use them; fx_free frees cfg and ps. */
    struct config *cfg;
    struct pseudonym *ps;
    char key[96];              /* test_summary.c: the pseudonym key file */
    struct cfg_screening s;    /* test_ledger_health.c */
    struct cfg_windows w;      /* test_ledger_health.c */
};

/* A fresh ledger in a new /tmp/gs-TAG-XXXXXX folder, the side connection and the errs
 * stream; NULL on failure. */
struct fx *fx_new(const char *tag);
/* Closes and frees everything, removes the folder's files and the folder: rmdir's result. */
int fx_free(struct fx *f);

/* What was written to errs since the last call (a static copy). */
const char *errs(struct fx *f);

/* Runs SQL on the side connection; fails the test on an error. */
void sql(struct fx *f, const char *fmt, ...) GS_PRINTF(2, 3);
/* The first column of the first row as an integer, -1 when there is no row. */
long long qint(struct fx *f, const char *fmt, ...) GS_PRINTF(2, 3);
/* The first column of the first row as text (a static copy), "(null)" for none. */
const char *qtext(struct fx *f, const char *fmt, ...) GS_PRINTF(2, 3);

/* The epoch ms of hour:minute on day in the civil zone. */
int64_t at(const char *day, int hour, int minute);
void write_file(const char *path, const void *data, size_t len, mode_t mode);

#define PID(id) "(SELECT id FROM people WHERE external_id = '" id "')"

void person(struct fx *f, const char *id, const char *kind, const char *cls, int active);
void student(struct fx *f, const char *id, const char *cls);
/* A gate reading as ledger_gate.c writes it (lane 1, east-1); returns its id. */
long long reading(struct fx *f, const char *who, const char *day, int64_t ms, int body,
                  const char *quality, const char *outcome);
void gate_check(struct fx *f, const char *who, const char *day, const char *window,
                long long reading_id);
/* The open flag of a fever reading; returns its id. */
long long gate_flag(struct fx *f, const char *who, const char *day, long long reading_id);
/* A fever at the gate at 07:30: reading, check and open flag; returns the flag's id. */
long long gate_fever(struct fx *f, const char *who, const char *day, int body);

#endif
