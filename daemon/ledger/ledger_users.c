/* The web page's users: the rules for names, roles and passwords, and their SQL. */
#include "ledger_users.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "ledger_private.h"
#include "log.h"
#include "textnum.h"

static const char *const roles[] = {"nurse", "teacher", "admin", "gate", NULL};

#define USER_COLUMNS "id, name, role, class, password_hash, active, failed_logins, " \
                     "locked_until_ms, created_ms"

/* ---- values --------------------------------------------------------------------------- */

static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

/* A name or class as shown on the page and in the audit log: one line of text. */
static int check_text(const char *what, const char *s, FILE *errs)
{
    size_t len = strlen(s);
    if (len == 0) {
        fprintf(errs, "the %s is empty\n", what);
        return -1;
    }
    if (len >= USER_NAME_MAX) {
        fprintf(errs, "the %s is too long (%zu bytes; at most %d)\n", what, len,
                USER_NAME_MAX - 1);
        return -1;
    }
    if (tn_utf8_length(s, strlen(s)) < 0 || has_control(s)) {
        fprintf(errs, "the %s must be UTF-8 text without control characters\n", what);
        return -1;
    }
    if (s[0] == ' ' || s[len - 1] == ' ') {
        fprintf(errs, "the %s must not begin or end with a space\n", what);
        return -1;
    }
    return 0;
}

/* ---- names: NFKC and a safe set (docs/web-api-auth.md, "User names") ---------------- */

/* The NFKC form of UTF-8 text (libunistring), NUL-terminated, malloc'd; NULL when
 * the text is not UTF-8 or memory ran out. */
static char *nfkc(const char *s)
{
    size_t n = strlen(s), len = 0;
    if (u8_check((const uint8_t *)s, n) != NULL)
        return NULL;
    uint8_t *t = u8_normalize(UNINORM_NFKC, (const uint8_t *)s, n, NULL, &len);
    char *out = t ? realloc(t, len + 1) : NULL;
    if (!out) {
        free(t);
        return NULL;
    }
    out[len] = '\0';
    return out;
}

/* Han, kana and Hangul are written together: one group, as one script. */
static const char *script_group(ucs4_t c)
{
    const uc_script_t *sc = uc_script(c);
    const char *name = sc ? sc->name : "Unknown";
    static const char *const cjk[] = {"Han", "Hiragana", "Katakana", "Hangul", "Bopomofo", NULL};
    for (int i = 0; cjk[i]; i++)
        if (strcmp(name, cjk[i]) == 0)
            return "CJK";
    return name;
}

/* One character of a name: ASCII letters and digits, '.', '-', '_', a single space
 * between words, letters and marks of any one script (or script group). */
static int name_char(ucs4_t c, ucs4_t prev, const char **script, FILE *errs)
{
    if (c < 0x80 && (c == '.' || c == '-' || c == '_' || (c >= '0' && c <= '9')))
        return 0;
    if (c == ' ' && prev != ' ')
        return 0;
    bool letter = uc_is_general_category(c, UC_CATEGORY_L);
    if (!letter && !(uc_is_general_category(c, UC_CATEGORY_M) && prev && prev != ' ')) {
        fprintf(errs, "the user name contains U+%04X, which user names cannot have (letters, "
                "digits 0-9, '.', '-', '_' and single spaces between words)\n", (unsigned)c);
        return -1;
    }
    const char *g = script_group(c);
    if (strcmp(g, "Common") == 0 || strcmp(g, "Inherited") == 0)
        return 0;
    if (*script && strcmp(*script, g) != 0) {
        fprintf(errs, "the user name mixes letters of two scripts (%s and %s); a name is "
                "written in one script\n", *script, g);
        return -1;
    }
    *script = g;
    return 0;
}

/* The safe set, and the name must already be in NFKC form: the form it is stored,
 * looked up and shown in. */
static int name_rules(const char *name, FILE *errs)
{
    char *norm = nfkc(name);
    if (!norm || strcmp(norm, name) != 0) {
        fprintf(errs, "the user name is not in its normal form (NFKC)%s%s%s\n",
                norm ? "; it would be '" : "", norm ? norm : "", norm ? "'" : "");
        free(norm);
        return -1;
    }
    free(norm);
    const uint8_t *p = (const uint8_t *)name, *end = p + strlen(name);
    const char *script = NULL;
    ucs4_t c, prev = 0;
    for (int k; p < end; p += k, prev = c)
        if ((k = u8_mbtouc(&c, p, (size_t)(end - p))) <= 0 || name_char(c, prev, &script, errs) < 0)
            return -1;
    return 0;
}

enum ledger_status ledger_user_name_normalize(const char *name, char out[USER_NAME_MAX],
                                              FILE *errs)
{
    char *norm = nfkc(name);
    if (!norm) {
        fprintf(errs, "the user name is not UTF-8 text\n");
        return LEDGER_INVALID;
    }
    size_t len = strlen(norm);
    if (len >= USER_NAME_MAX) {
        fprintf(errs, "the user name is too long (%zu bytes; at most %d)\n", len,
                USER_NAME_MAX - 1);
        free(norm);
        return LEDGER_INVALID;
    }
    memcpy(out, norm, len + 1);
    free(norm);
    return LEDGER_OK;
}

static int role_index(const char *role)
{
    for (int i = 0; role && roles[i]; i++)
        if (strcmp(roles[i], role) == 0)
            return i;
    return -1;
}

static int user_check(const char *name, const char *role, const char *class_name, FILE *errs)
{
    int bad = check_text("user name", name, errs);
    /* Names are URL path segments of the users API (/api/v1/users/NAME/...). */
    if (bad == 0 && strchr(name, '/')) {
        fprintf(errs, "the user name must not contain '/'\n");
        bad = -1;
    }
    if (bad == 0)
        bad = name_rules(name, errs);
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
    if (has_class && check_text("class", class_name, errs) < 0)
        return -1;
    return bad;
}

/* Characters that count towards the minimum: not white space, not invisible. */
static long visible_chars(const char *s)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + strlen(s);
    long n = 0;
    ucs4_t c;
    for (int k; p < end; p += k) {
        if ((k = u8_mbtouc(&c, p, (size_t)(end - p))) <= 0)
            return -1;
        n += !uc_is_property_white_space(c) && !uc_is_property_default_ignorable_code_point(c);
    }
    return n;
}

static int check_password(const char *password, FILE *errs)
{
    if (strlen(password) > USER_PASSWORD_MAX) {
        fprintf(errs, "the password is too long (at most %d bytes)\n", USER_PASSWORD_MAX);
        return -1;
    }
    if (tn_utf8_length(password, strlen(password)) < 0) {
        fprintf(errs, "the password is not valid UTF-8 text\n");
        return -1;
    }
    long chars = visible_chars(password);
    if (chars < USER_PASSWORD_MIN) {
        fprintf(errs, "the password is too short (%ld characters that are not spaces; at least "
                "%d)\n", chars, USER_PASSWORD_MIN);
        return -1;
    }
    return 0;
}

enum ledger_status ledger_user_check(const char *name, const char *role, const char *class_name,
                                     FILE *errs)
{
    return user_check(name, role, class_name, errs) < 0 ? LEDGER_INVALID : LEDGER_OK;
}

enum ledger_status ledger_user_check_password(const char *password, FILE *errs)
{
    return check_password(password, errs) < 0 ? LEDGER_INVALID : LEDGER_OK;
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
