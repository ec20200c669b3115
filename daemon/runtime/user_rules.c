/* The rules for users' names and passwords (user_rules.h), moved here from the
 * school's ledger so that the bureau's users follow the same ones. */
#include "user_rules.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "textnum.h"

/* ---- values --------------------------------------------------------------------------- */

static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

/* A name or class as shown on the page and in the audit log: one line of text. */
int user_rules_text(const char *what, const char *s, FILE *errs)
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

int user_rules_normalize(const char *name, char out[USER_NAME_MAX], FILE *errs)
{
    char *norm = nfkc(name);
    if (!norm) {
        fprintf(errs, "the user name is not UTF-8 text\n");
        return -1;
    }
    size_t len = strlen(norm);
    if (len >= USER_NAME_MAX) {
        fprintf(errs, "the user name is too long (%zu bytes; at most %d)\n", len,
                USER_NAME_MAX - 1);
        free(norm);
        return -1;
    }
    memcpy(out, norm, len + 1);
    free(norm);
    return 0;
}


int user_rules_name(const char *name, FILE *errs)
{
    if (user_rules_text("user name", name, errs) < 0)
        return -1;
    /* Names are URL path segments of the users API (/api/v1/users/NAME/...). */
    if (strchr(name, '/')) {
        fprintf(errs, "the user name must not contain '/'\n");
        return -1;
    }
    return name_rules(name, errs);
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

int user_rules_password(const char *password, FILE *errs)
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

