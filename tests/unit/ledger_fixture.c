/* The shared ledger fixture: see ledger_fixture.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger_fixture.h"

#include "civil.h"
#include "config_load.h"
#include "ledger.h"
#include "upstream.h"

struct fx *fx_new(const char *tag)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    snprintf(f->dir, sizeof f->dir, "/tmp/gs-%s-XXXXXX", tag);
    if (!mkdtemp(f->dir)) {
        free(f);
        return NULL;
    }
    snprintf(f->path, sizeof f->path, "%s/ledger.db", f->dir);
    if (ledger_open(f->path, NULL, &f->l) < 0 || sqlite3_open(f->path, &f->db) != SQLITE_OK)
        return NULL;
    sqlite3_busy_timeout(f->db, 5000);
    f->e = open_memstream(&f->errs, &f->errs_len);
    return f->e ? f : NULL;
}

int fx_free(struct fx *f)
{
    char p[sizeof f->dir + 256 + 2];
    fclose(f->e);
    free(f->errs);
    sqlite3_close(f->db);
    ledger_close(f->l);
    config_free(f->cfg);
    pseudonym_free(f->ps);
    DIR *d = opendir(f->dir); /* the ledger, its WAL, key files: no subfolders */
    for (struct dirent *e; d && (e = readdir(d));) {
        snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
        if (*e->d_name != '.')
            unlink(p);
    }
    if (d)
        closedir(d);
    int rc = rmdir(f->dir);
    free(f);
    return rc;
}

const char *errs(struct fx *f)
{
    static char copy[2048];
    fflush(f->e);
    snprintf(copy, sizeof copy, "%s", f->errs ? f->errs : "");
    fclose(f->e);
    free(f->errs);
    f->errs = NULL;
    f->e = open_memstream(&f->errs, &f->errs_len);
    return copy;
}

void sql(struct fx *f, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    char *msg = NULL;
    if (sqlite3_exec(f->db, text, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", text, msg);
}

long long qint(struct fx *f, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(f->db, text, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", text, sqlite3_errmsg(f->db));
    long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

const char *qtext(struct fx *f, const char *fmt, ...)
{
    static char out[2048];
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(f->db, text, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", text, sqlite3_errmsg(f->db));
    const unsigned char *v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    snprintf(out, sizeof out, "%s", v ? (const char *)v : "(null)");
    sqlite3_finalize(st);
    return out;
}

int64_t at(const char *day, int hour, int minute)
{
    int64_t ms = 0;
    assert_int_equal(civil_ms_at(day, hour * 3600 + minute * 60, &ms), 0);
    return ms;
}

void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

void person(struct fx *f, const char *id, const char *kind, const char *cls, int active)
{
    sql(f, "INSERT INTO people (external_id, kind, name, class, active, created_ms, updated_ms) "
           "VALUES ('%s', '%s', '学生%s', '%s', %d, 0, 0)", id, kind, id, cls, active);
}

void student(struct fx *f, const char *id, const char *cls)
{
    person(f, id, "student", cls, 1);
}

long long reading(struct fx *f, const char *who, const char *day, int64_t ms, int body,
                  const char *quality, const char *outcome)
{
    char pid[96] = "NULL";
    if (who)
        snprintf(pid, sizeof pid, "(SELECT id FROM people WHERE external_id = '%s')", who);
    sql(f, "INSERT OR IGNORE INTO lanes (id, name, gate) VALUES (1, 'east-1', '东门')");
    sql(f, "INSERT INTO readings (at_ms, lane_id, person_id, card_no, raw_centi, body_centi, "
           "quality, threshold_centi, outcome, day) VALUES (%lld, 1, %s, 4242, %d, %d, '%s', "
           "3730, '%s', '%s')", (long long)ms, pid, body, body, quality, outcome, day);
    return (long long)sqlite3_last_insert_rowid(f->db);
}

void gate_check(struct fx *f, const char *who, const char *day, const char *window,
                long long reading_id)
{
    /* OR IGNORE: the first valid reading of a window is the check, as at the gate. */
    sql(f, "INSERT OR IGNORE INTO checks (person_id, day, window, temp_centi, threshold_centi, "
           "instrument, reading_id, by_user, at_ms) SELECT (SELECT id FROM people WHERE "
           "external_id = '%s'), '%s', '%s', body_centi, 3730, 'gate', id, 'gate', at_ms "
           "FROM readings WHERE id = %lld", who, day, window, reading_id);
}

long long gate_flag(struct fx *f, const char *who, const char *day, long long reading_id)
{
    sql(f, "INSERT INTO flags (person_id, reading_id, opened_ms, day, screen_centi, "
           "threshold_centi) SELECT person_id, id, at_ms, '%s', body_centi, 3730 FROM readings "
           "WHERE id = %lld", day, reading_id);
    (void)who;
    return (long long)sqlite3_last_insert_rowid(f->db);
}

long long gate_fever(struct fx *f, const char *who, const char *day, int body)
{
    long long r = reading(f, who, day, at(day, 7, 30), body, "valid", "fever");
    gate_check(f, who, day, "morning", r);
    return gate_flag(f, who, day, r);
}
