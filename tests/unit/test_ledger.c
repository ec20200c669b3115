/* The ledger on real SQLite files: migrations and roster import. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger.h"
#include "log.h"

struct fixture { char dir[64]; char path[96]; };

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/gs-ledger-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/ledger.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char p[128];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* A side connection to look at the file the way any SQLite reader would. */
static long long query_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void test_fresh_database_gets_schema_and_pragmas(void **state)
{
    struct fixture *f = *state;
    struct ledger *l;
    assert_int_equal(ledger_open(f->path, NULL, &l), 0);
    assert_int_equal(ledger_schema_version(l), ledger_latest_version());
    assert_true(ledger_latest_version() >= 1);
    assert_int_equal(ledger_integrity_check(l, stderr), 0);
    ledger_close(l);
    assert_int_equal(query_int(f->path, "PRAGMA user_version"), ledger_latest_version());
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                        "('people','cards','readings','checks','flags',"
                                        "'referrals','absences','certificates','alerts',"
                                        "'summaries','outbox','users','audit_log')"), 13);
    /* journal_mode=WAL is persistent in the file. */
    sqlite3 *db;
    sqlite3_open(f->path, &db);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
    /* A clean close folded the WAL back into the file. */
    struct stat sb;
    assert_true(stat(f->path, &sb) == 0 && sb.st_size > 0);
    char wal[128];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_true(stat(wal, &sb) != 0 || sb.st_size == 0);
}

static void test_reopen_is_a_no_op_and_newer_is_refused(void **state)
{
    struct fixture *f = *state;
    struct ledger *l;
    assert_int_equal(ledger_open(f->path, NULL, &l), 0);
    ledger_close(l);
    assert_int_equal(ledger_open(f->path, NULL, &l), 0);
    assert_int_equal(ledger_schema_version(l), ledger_latest_version());
    ledger_close(l);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", ledger_latest_version() + 1);
    query_int(f->path, sql);
    assert_int_equal(ledger_open(f->path, NULL, &l), -1);
    struct ledger_opts ro = {.no_migrate = true};
    assert_int_equal(ledger_open(f->path, &ro, &l), -1);
}

static void test_failed_migration_changes_nothing(void **state)
{
    struct fixture *f = *state;
    static const struct migration ms[] = {
        {1, "001_one.sql", "CREATE TABLE a (x INTEGER);"},
        {2, "002_broken.sql", "CREATE TABLE b (y INTEGER); INSERT INTO nowhere VALUES (1);"},
    };
    struct ledger_opts o = {.synchronous_full = true, .migrations = ms, .nmigrations = 2};
    struct ledger *l;
    assert_int_equal(ledger_open(f->path, &o, &l), -1);
    /* 001 committed on its own; 002 left no trace, not even table b. */
    assert_int_equal(query_int(f->path, "PRAGMA user_version"), 1);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name='a'"), 1);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name='b'"), 0);
}

static void test_open_missing_without_create(void **state)
{
    struct fixture *f = *state;
    struct ledger_opts ro = {.no_migrate = true};
    struct ledger *l;
    assert_int_equal(ledger_open(f->path, &ro, &l), -1);
    assert_int_not_equal(access(f->path, F_OK), 0); /* db check must not create files */
}

/* ---- roster import -------------------------------------------------------- */

static struct roster_row row(int line, const char *id, const char *name, const char *cls,
                             uint64_t card)
{
    struct roster_row r = {.line = line, .kind = PERSON_STUDENT, .active = true};
    snprintf(r.external_id, sizeof r.external_id, "%s", id);
    snprintf(r.name, sizeof r.name, "%s", name);
    snprintf(r.class_name, sizeof r.class_name, "%s", cls);
    snprintf(r.grade, sizeof r.grade, "三年级");
    r.has_card = card != 0;
    r.card = card;
    return r;
}

static int import(struct ledger *l, struct roster_row *rows, int n, bool deact,
                  struct roster_import_stats *s, char **errs)
{
    size_t len;
    FILE *e = open_memstream(errs, &len);
    struct roster r = {.nrows = n, .rows = rows};
    int rc = ledger_import_roster(l, &r, "r.csv", deact, "tester", s, e);
    fclose(e);
    return rc;
}

static void test_roster_import_update_and_swap(void **state)
{
    struct fixture *f = *state;
    struct ledger *l;
    assert_int_equal(ledger_open(f->path, NULL, &l), 0);
    struct roster_row rows[] = {row(2, "S1", "张伟", "三年级1班", 1001),
                                row(3, "S2", "欧阳𠮷", "三年级1班", 1002),
                                row(4, "S3", "买买提·艾力", "三年级2班", 0)};
    struct roster_import_stats s;
    char *errs = NULL;
    assert_int_equal(import(l, rows, 3, false, &s, &errs), 0);
    assert_int_equal(s.added, 3);
    free(errs);
    long long audit = query_int(f->path, "SELECT count(*) FROM audit_log");
    assert_int_equal(audit, 1);

    /* The same again changes nothing at all: no update, no audit row. */
    long long stamp = query_int(f->path, "SELECT sum(updated_ms) FROM people");
    assert_int_equal(import(l, rows, 3, false, &s, &errs), 0);
    free(errs);
    assert_int_equal(s.unchanged, 3);
    assert_int_equal(s.added + s.updated, 0);
    assert_int_equal(query_int(f->path, "SELECT sum(updated_ms) FROM people"), stamp);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM audit_log"), audit);

    /* Two people swap cards in one file; one changes class. */
    rows[0].card = 1002;
    rows[1].card = 1001;
    snprintf(rows[2].class_name, sizeof rows[2].class_name, "三年级3班");
    assert_int_equal(import(l, rows, 3, false, &s, &errs), 0);
    free(errs);
    assert_int_equal(s.updated, 3);
    assert_int_equal(query_int(f->path, "SELECT c.card_no FROM cards c JOIN people p ON "
                                        "p.id = c.person_id WHERE p.external_id = 'S1'"), 1002);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM people WHERE "
                                        "name = '欧阳𠮷' AND class = '三年级1班'"), 1);
    ledger_close(l);
}

static void test_roster_conflict_leaves_ledger_as_it_was(void **state)
{
    struct fixture *f = *state;
    struct ledger *l;
    assert_int_equal(ledger_open(f->path, NULL, &l), 0);
    struct roster_row first[] = {row(2, "S1", "张伟", "1班", 1001), row(3, "S2", "李娜", "1班", 1002)};
    struct roster_import_stats s;
    char *errs = NULL;
    assert_int_equal(import(l, first, 2, false, &s, &errs), 0);
    free(errs);
    /* A file without S1 that gives S1's card to a new person: S1 keeps it. */
    struct roster_row second[] = {row(2, "S2", "李娜", "2班", 1002),
                                  row(3, "S9", "王芳", "1班", 1001)};
    assert_int_equal(import(l, second, 2, true, &s, &errs), LEDGER_CONFLICT);
    assert_non_null(strstr(errs, "r.csv:3: card 1001 already belongs to S1 (张伟)"));
    assert_non_null(strstr(errs, "nothing was changed"));
    free(errs);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM people"), 2);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM people WHERE class='2班'"), 0);
    assert_int_equal(query_int(f->path, "SELECT count(*) FROM people WHERE active=1"), 2);

    /* Without the clash, --deactivate-missing deactivates S1 and only S1. */
    second[1].card = 1003;
    assert_int_equal(import(l, second, 2, true, &s, &errs), 0);
    free(errs);
    assert_int_equal(s.deactivated, 1);
    assert_int_equal(query_int(f->path, "SELECT active FROM people WHERE external_id='S1'"), 0);
    ledger_close(l);
}

int main(void)
{
    log_init("test_ledger", LOG_LVL_ERR, LOG_OUT_PLAIN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_database_gets_schema_and_pragmas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_is_a_no_op_and_newer_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_migration_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_missing_without_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roster_import_update_and_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roster_conflict_leaves_ledger_as_it_was, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
