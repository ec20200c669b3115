/* The web page's users: the rules for names, roles and passwords, and their SQL. */
#include "ledger_users.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unistr.h>

#include "ledger_private.h"
#include "log.h"
#include "user_rules.h"

static const char *const roles[] = {"nurse", "teacher", "admin", "gate", NULL};

#define USER_COLUMNS "id, name, role, class, password_hash, active, failed_logins, " \
                     "locked_until_ms, created_ms"

static int role_index(const char *role)
{
    for (int i = 0; role && roles[i]; i++)
        if (strcmp(roles[i], role) == 0)
            return i;
    return -1;
}

static int user_check(const char *name, const char *role, const char *class_name, FILE *errs)
{
    int bad = user_rules_name(name, errs);
    bool has_class = class_name && *class_name;
    if (role_index(role) < 0) {
        fprintf(errs, "unknown role '%s' (nurse, teacher, admin or gate)\n", role ? role : "");
        return -1;
    }
    if (strcmp(role, "teacher") == 0 && !has_class) {
        fprintf(errs, "a teacher needs a class (the one class the teacher sees)\n");
        return -1;
    }
    if (strcmp(role, "teacher") != 0 && has_class) {
        fprintf(errs, "only teachers have a class; a %s sees %s\n", role,
                strcmp(role, "gate") == 0 ? "the gates only" : "every class");
        return -1;
    }
    if (has_class && user_rules_text("class", class_name, errs) < 0)
        return -1;
    return bad;
}

enum ledger_status ledger_user_name_normalize(const char *name, char out[USER_NAME_MAX],
                                              FILE *errs)
{
    return user_rules_normalize(name, out, errs) < 0 ? LEDGER_INVALID : LEDGER_OK;
}

enum ledger_status ledger_user_check(const char *name, const char *role, const char *class_name,
                                     FILE *errs)
{
    return user_check(name, role, class_name, errs) < 0 ? LEDGER_INVALID : LEDGER_OK;
}

enum ledger_status ledger_user_check_password(const char *password, FILE *errs)
{
    return user_rules_password(password, errs) < 0 ? LEDGER_INVALID : LEDGER_OK;
}

/* ---- reading ------------------------------------------------------------------------ */

static void read_row(sqlite3_stmt *st, struct user_row *u)
{
    *u = (struct user_row){0};
    u->id = sqlite3_column_int64(st, 0);
    snprintf(u->name, sizeof u->name, "%s", ledger_col_text(st, 1));
    snprintf(u->role, sizeof u->role, "%s", ledger_col_text(st, 2));
    snprintf(u->class_name, sizeof u->class_name, "%s", ledger_col_text(st, 3));
    snprintf(u->password_hash, sizeof u->password_hash, "%s", ledger_col_text(st, 4));
    u->active = sqlite3_column_int(st, 5) != 0;
    u->failed_logins = sqlite3_column_int(st, 6);
    u->locked_until_ms = sqlite3_column_int64(st, 7);
    u->created_ms = sqlite3_column_int64(st, 8);
}

/* The one row by the bound key (NULL st: its prepare failed, logged): *found, and
 * 0 or -1 on error. Finalizes st. */
static int one_row(struct ledger *l, sqlite3_stmt *st, struct user_row *out, int *found)
{
    *found = 0;
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_row(st, out);
    else if (rc != SQLITE_DONE)
        ledger_log_error(l, "users: read");
    sqlite3_finalize(st);
    *found = rc == SQLITE_ROW;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int ledger_user_find(struct ledger *l, const char *name, struct user_row *out, int *found)
{
    sqlite3_stmt *st = ledger_prepare(l, "SELECT " USER_COLUMNS " FROM users WHERE name = ?");
    if (st)
        ledger_bind_text(st, 1, name);
    return one_row(l, st, out, found);
}

int ledger_user_get(struct ledger *l, int64_t id, struct user_row *out, int *found)
{
    sqlite3_stmt *st = ledger_prepare(l, "SELECT " USER_COLUMNS " FROM users WHERE id = ?");
    if (st)
        sqlite3_bind_int64(st, 1, id);
    return one_row(l, st, out, found);
}

struct user_cb {
    void (*fn)(const struct user_row *u, void *arg);
    void *arg;
};

static void user_row(sqlite3_stmt *st, void *ctx)
{
    struct user_cb *cb = ctx;
    struct user_row u;
    read_row(st, &u);
    cb->fn(&u, cb->arg);
}

int ledger_user_list(struct ledger *l, void (*fn)(const struct user_row *u, void *arg),
                     void *arg)
{
    struct user_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(l, "SELECT " USER_COLUMNS " FROM users ORDER BY name");
    return ledger_each_row(l, st, "users: list", user_row, &cb);
}

/* ---- writing ------------------------------------------------------------------------ */

/* Runs one statement (already bound) that returns no rows; *changes = rows changed. */
static int run(struct ledger *l, sqlite3_stmt *st, int *changes)
{
    return ledger_step_done(l, st, changes, "users: write");
}

static int finish(struct ledger *l, int rc)
{
    if (rc == 0 && ledger_commit(l) == 0)
        return 0;
    ledger_rollback(l);
    return -1;
}

struct alike {
    const char *name;
    char other[USER_NAME_MAX]; /* the first user whose name differs only in case */
};

static void alike_row(const struct user_row *u, void *arg)
{
    struct alike *a = arg;
    int cmp = 1;
    if (!a->other[0] &&
        u8_casecmp((const uint8_t *)u->name, strlen(u->name), (const uint8_t *)a->name,
                   strlen(a->name), NULL, UNINORM_NFKC, &cmp) == 0 && cmp == 0)
        snprintf(a->other, sizeof a->other, "%s", u->name);
}

static int add_body(struct ledger *l, const struct user_new *in, FILE *errs)
{
    struct alike a = {.name = in->name};
    /* ADMIN1 beside admin1: the page and the audit log would show two names that
     * read as one. */
    if (ledger_user_list(l, alike_row, &a) < 0)
        return -1;
    if (a.other[0]) {
        fprintf(errs, "a user named '%s' exists already%s\n", a.other,
                strcmp(a.other, in->name) == 0 ? "" : " (names that differ only in case are "
                                                      "the same name)");
        return ledger_refuse(l, LEDGER_CONFLICT);
    }
    const char *cls = in->class_name ? in->class_name : "";
    sqlite3_stmt *st = ledger_prepare(l, "INSERT INTO users (name, role, class, password_hash, "
                                         "created_ms) VALUES (?, ?, ?, ?, ?)");
    if (st) {
        ledger_bind_text(st, 1, in->name);
        ledger_bind_text(st, 2, in->role);
        ledger_bind_text(st, 3, cls);
        ledger_bind_text(st, 4, in->password_hash);
        sqlite3_bind_int64(st, 5, in->at_ms);
    }
    if (run(l, st, NULL) < 0)
        return -1;
    char detail[160];
    snprintf(detail, sizeof detail, "role %s%s%s", in->role, *cls ? ", class " : "", cls);
    return ledger_audit(l, in->by, "user add", in->name, detail);
}

enum ledger_status ledger_user_add(struct ledger *l, const struct user_new *in, FILE *errs)
{
    enum ledger_status st = ledger_user_check(in->name, in->role, in->class_name, errs);
    if (st != LEDGER_OK)
        return st;
    if (!in->password_hash || strncmp(in->password_hash, "$argon2id$", 10) != 0) {
        fprintf(errs, "the password hash is not argon2id\n");
        return LEDGER_INVALID;
    }
    if (ledger_begin(l) < 0)
        return ledger_failure(l);
    return ledger_end(l, add_body(l, in, errs));
}

/* The user must exist: "no user named ..." on errs otherwise. */
static int must_find(struct ledger *l, const char *name, struct user_row *u, FILE *errs)
{
    int found;
    if (ledger_user_find(l, name, u, &found) < 0)
        return -1;
    if (!found) {
        fprintf(errs, "no user named '%s'\n", name);
        return ledger_refuse(l, LEDGER_NOT_FOUND);
    }
    return 0;
}

static int set_active_body(struct ledger *l, const char *name, bool active, const char *by,
                           int *changed, FILE *errs)
{
    struct user_row u;
    if (must_find(l, name, &u, errs) < 0)
        return -1;
    *changed = u.active != active;
    if (!*changed)
        return 0;
    /* Enabling also clears a lockout: that is how an administrator unlocks. */
    sqlite3_stmt *st = ledger_prepare(l, active ? "UPDATE users SET active = 1, "
                                                  "failed_logins = 0, locked_until_ms = 0 "
                                                  "WHERE id = ?"
                                                : "UPDATE users SET active = 0 WHERE id = ?");
    if (st)
        sqlite3_bind_int64(st, 1, u.id);
    if (run(l, st, NULL) < 0)
        return -1;
    return ledger_audit(l, by, active ? "user enable" : "user disable", name, "");
}

enum ledger_status ledger_user_set_active(struct ledger *l, const char *name, bool active,
                                          const char *by, int *changed, FILE *errs)
{
    *changed = 0;
    if (ledger_begin(l) < 0)
        return ledger_failure(l);
    return ledger_end(l, set_active_body(l, name, active, by, changed, errs));
}

static int set_password_body(struct ledger *l, const char *name, const char *hash,
                             const char *by, FILE *errs)
{
    struct user_row u;
    if (must_find(l, name, &u, errs) < 0)
        return -1;
    sqlite3_stmt *st = ledger_prepare(l, "UPDATE users SET password_hash = ?, failed_logins = 0, "
                                         "locked_until_ms = 0 WHERE id = ?");
    if (st) {
        ledger_bind_text(st, 1, hash);
        sqlite3_bind_int64(st, 2, u.id);
    }
    if (run(l, st, NULL) < 0)
        return -1;
    return ledger_audit(l, by, "user password", name, "");
}

enum ledger_status ledger_user_set_password(struct ledger *l, const char *name,
                                            const char *hash, const char *by, FILE *errs)
{
    if (!hash || strncmp(hash, "$argon2id$", 10) != 0) {
        fprintf(errs, "the password hash is not argon2id\n");
        return LEDGER_INVALID;
    }
    if (ledger_begin(l) < 0)
        return ledger_failure(l);
    return ledger_end(l, set_password_body(l, name, hash, by, errs));
}

/* ---- login bookkeeping ---------------------------------------------------------------- */

static int ok_body(struct ledger *l, int64_t id, const char *detail)
{
    struct user_row u;
    int found;
    if (ledger_user_get(l, id, &u, &found) < 0 || !found)
        return -1;
    sqlite3_stmt *st = ledger_prepare(l, "UPDATE users SET failed_logins = 0, "
                                         "locked_until_ms = 0 WHERE id = ? AND "
                                         "(failed_logins != 0 OR locked_until_ms != 0)");
    if (st)
        sqlite3_bind_int64(st, 1, id);
    if (run(l, st, NULL) < 0)
        return -1;
    return ledger_audit(l, u.name, "login", u.name, detail);
}

int ledger_user_login_ok(struct ledger *l, int64_t id, const char *detail)
{
    if (ledger_begin(l) < 0)
        return -1;
    return finish(l, ok_body(l, id, detail));
}
