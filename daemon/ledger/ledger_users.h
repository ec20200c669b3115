/* The web page's users (table users): who may log in, with which role, their
 * argon2id password hash, and the failed-login count and lockout. Shared by the
 * `gatescreen user` commands and the web server's login (web_auth.c).
 *
 * Functions that change a user run in one transaction and write one audit row
 * (actor = `by`); on bad input they write one plain sentence per problem to `errs`,
 * change nothing and return its enum ledger_status (an unknown user
 * LEDGER_NOT_FOUND, a duplicate name LEDGER_CONFLICT, a bad value LEDGER_INVALID).
 * Database failures are logged and return LEDGER_BUSY or LEDGER_IO. The login
 * bookkeeping returns 0 / -1. */
#ifndef GS_LEDGER_USERS_H
#define GS_LEDGER_USERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ledger.h"
#include "user_rules.h" /* USER_NAME_MAX, USER_PASSWORD_MIN/MAX: the rules */

#define USER_HASH_MAX 128       /* crypto_pwhash_STRBYTES */

struct user_row {
    int64_t id;
    char name[USER_NAME_MAX];
    char role[16];              /* nurse | teacher | admin | gate */
    char class_name[USER_NAME_MAX];
    char password_hash[USER_HASH_MAX];
    bool active;
    /* Left from the lockout of earlier versions: logins no longer set them (the
     * throttle is in memory, login_throttle.h); a success, enable or new password clear. */
    int failed_logins;
    int64_t locked_until_ms;
    int64_t created_ms;
};

/* Whether a new user's values are acceptable: a name of 1..63 bytes of UTF-8 in NFKC
 * form, of letters (one script; Han, kana and Hangul count as one), digits 0-9, '.',
 * '-', '_' and single spaces between words; a known role; teachers need a class
 * (text without control characters), the other roles take none. Messages on errs;
 * LEDGER_OK / LEDGER_INVALID. */
enum ledger_status ledger_user_check(const char *name, const char *role, const char *class_name,
                                     FILE *errs);
/* The NFKC form of a name as typed (a user name is stored, looked up and shown in
 * it): LEDGER_INVALID with a message when it is not UTF-8 or too long. Does not
 * check the other rules: ledger_user_check does. */
enum ledger_status ledger_user_name_normalize(const char *name, char out[USER_NAME_MAX],
                                              FILE *errs);
/* At least USER_PASSWORD_MIN characters that are not white space or invisible
 * (Unicode White_Space, Default_Ignorable_Code_Point), at most USER_PASSWORD_MAX
 * bytes, UTF-8. */
enum ledger_status ledger_user_check_password(const char *password, FILE *errs);

/* *found = 0 when there is no such user (out untouched). */
int ledger_user_find(struct ledger *l, const char *name, struct user_row *out, int *found);
int ledger_user_get(struct ledger *l, int64_t id, struct user_row *out, int *found);
/* Every user, by name. */
int ledger_user_list(struct ledger *l, void (*fn)(const struct user_row *u, void *arg),
                     void *arg);

struct user_new {
    const char *name, *role;
    const char *class_name;     /* NULL or "" for roles other than teacher */
    const char *password_hash;  /* crypto_pwhash_str output */
    const char *by;
    int64_t at_ms;
};
/* Adds an active user (values checked with ledger_user_check; a duplicate name is
 * refused). */
enum ledger_status ledger_user_add(struct ledger *l, const struct user_new *in, FILE *errs);
/* Disables or enables a user; enabling also ends a lockout and the failed count.
 * *changed = 0 when it already was so (nothing written). */
enum ledger_status ledger_user_set_active(struct ledger *l, const char *name, bool active,
                                          const char *by, int *changed, FILE *errs);
/* A new password hash; also ends a lockout and the failed count. */
enum ledger_status ledger_user_set_password(struct ledger *l, const char *name,
                                            const char *hash, const char *by, FILE *errs);

/* ---- login bookkeeping (web_auth.c) --------------------------------------------------- */

/* A successful login: the failed count and lockout are reset; audited as "login". */
int ledger_user_login_ok(struct ledger *l, int64_t id, const char *detail);

#endif
