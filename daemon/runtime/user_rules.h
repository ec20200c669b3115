/* The rules every user name and password follows, the school's page users
 * (daemon/ledger/ledger_users.c) and the bureau's (bureau/store/bstore_users.c) alike
 * (docs/web-api-auth.md, "Users"): a name is stored, looked up and shown in its
 * Unicode NFKC form, 1..63 bytes, of letters of one script (Han, kana and Hangul
 * count as one), digits 0-9, '.', '-', '_' and single spaces between words; a
 * password has at least USER_PASSWORD_MIN characters that are not white space or
 * invisible. Each check writes one sentence per problem to errs; 0, or -1. */
#ifndef GS_USER_RULES_H
#define GS_USER_RULES_H

#include <stdio.h>

#define USER_NAME_MAX 64        /* bytes with the NUL: names are at most 63 bytes */
#define USER_PASSWORD_MIN 10    /* characters (code points) other than spaces */
#define USER_PASSWORD_MAX 1024  /* bytes */

/* A name as stored (already NFKC): all the rules above. */
int user_rules_name(const char *name, FILE *errs);
/* The NFKC form of a name as typed; -1 when it is not UTF-8 or too long. Checks
 * none of the other rules. */
int user_rules_normalize(const char *name, char out[USER_NAME_MAX], FILE *errs);
/* One line of text shown on a page and in the audit log (a class, a county): not
 * empty, shorter than USER_NAME_MAX, UTF-8 without controls, no space at either end.
 * `what` names it in the message. */
int user_rules_text(const char *what, const char *s, FILE *errs);
/* At least USER_PASSWORD_MIN visible characters, at most USER_PASSWORD_MAX bytes, UTF-8. */
int user_rules_password(const char *password, FILE *errs);

#endif
