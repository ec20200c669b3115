/* The enrolment bundle (bundle.h): JSON with jansson, the certificates and key
 * checked with libcrypto. The key and token pass through jansson's strings and the
 * file's buffer; each copy is wiped before it is freed. */
#include "bundle.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "file_set.h"
#include "pem.h"
#include "school_cert.h"
#include "secret_file.h"

struct bundle {
    char *part[BUNDLE_PARTS];
};

static const char *const part_names[BUNDLE_PARTS] = {
    [BUNDLE_SCHOOL] = "school",     [BUNDLE_URL] = "url", [BUNDLE_SERVER_CA] = "server_ca",
    [BUNDLE_CERT] = "certificate", [BUNDLE_KEY] = "key", [BUNDLE_TOKEN] = "token",
};

const char *bundle_part_name(enum bundle_part part)
{
    return part_names[part];
}

struct bundle *bundle_new(void)
{
    return calloc(1, sizeof(struct bundle));
}

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

int bundle_set(struct bundle *b, enum bundle_part part, const char *text)
{
    char *copy = strdup(text);
    if (!copy)
        return -1;
    wipe_free(b->part[part]);
    b->part[part] = copy;
    return 0;
}

const char *bundle_get(const struct bundle *b, enum bundle_part part)
{
    return b->part[part];
}

void bundle_free(struct bundle *b)
{
    if (!b)
        return;
    for (int i = 0; i < BUNDLE_PARTS; i++)
        wipe_free(b->part[i]);
    free(b);
}

/* ---- checks ---------------------------------------------------------------------- */

/* What [upstream] url accepts (config/config_values.c, cp_parse_url). */
static bool url_ok(const char *u)
{
    if (strlen(u) >= CFG_TEXT_MAX || strncasecmp(u, "https://", 8) != 0 || u[8] == '\0' ||
        u[8] == '/')
        return false;
    for (const char *s = u; *s; s++)
        if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
            return false;
    return true;
}

/* What the uploader sends in its Authorization header (upload_creds.c, token_text). */
static bool token_ok(const char *t)
{
    size_t n = strlen(t);
    if (n < BUNDLE_TOKEN_MIN || n > BUNDLE_TOKEN_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
            return false;
    return true;
}

static void where_of(char *buf, size_t n, const char *name, enum bundle_part part)
{
    snprintf(buf, n, "%s: \"%s\"", name, part_names[part]);
}

static int check_texts(const struct bundle *b, const char *name, FILE *errs)
{
    const char *code = b->part[BUNDLE_SCHOOL], *url = b->part[BUNDLE_URL],
               *token = b->part[BUNDLE_TOKEN];
    int bad = 0;
    for (int i = 0; i < BUNDLE_PARTS; i++)
        if (!b->part[i] || !*b->part[i]) {
            fprintf(errs, "%s: \"%s\" is missing or empty\n", name, part_names[i]);
            bad = -1;
        }
    if (code && *code && !school_code_ok(code)) {
        fprintf(errs, "%s: \"school\": not a school code (1 to %d letters, digits, '_' or "
                      "'-')\n", name, SCHOOL_CODE_MAX);
        bad = -1;
    }
    if (url && *url && !url_ok(url)) {
        fprintf(errs, "%s: \"url\": not an https:// URL of at most %d bytes without blanks\n",
                name, CFG_TEXT_MAX - 1);
        bad = -1;
    }
    if (token && *token && !token_ok(token)) {
        fprintf(errs, "%s: \"token\": not %d to %d characters of printable ASCII without "
                      "blanks\n", name, BUNDLE_TOKEN_MIN, BUNDLE_TOKEN_MAX);
        bad = -1;
    }
    return bad;
}

/* The certificate is the school's, the key is its key, the server CA parses. */
static int check_crypto(const struct bundle *b, const char *name, int64_t now, FILE *errs)
{
    char where[256];
    int bad = 0;
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    where_of(where, sizeof where, name, BUNDLE_SERVER_CA);
    if (b->part[BUNDLE_SERVER_CA] && pem_cert_count(b->part[BUNDLE_SERVER_CA], where, errs) < 0)
        bad = -1;
    where_of(where, sizeof where, name, BUNDLE_CERT);
    if (b->part[BUNDLE_CERT] && !(x = pem_cert(b->part[BUNDLE_CERT], where, errs)))
        bad = -1;
    if (x && b->part[BUNDLE_SCHOOL] && school_code_ok(b->part[BUNDLE_SCHOOL]))
        bad |= school_cert_check(x, b->part[BUNDLE_SCHOOL], now, where, errs);
    where_of(where, sizeof where, name, BUNDLE_KEY);
    if (b->part[BUNDLE_KEY] && !(k = pem_key(b->part[BUNDLE_KEY], where, errs)))
        bad = -1;
    if (x && k && !pem_key_matches(x, k)) {
        fprintf(errs, "%s: not the key of the certificate in \"certificate\"\n", where);
        bad = -1;
    }
    X509_free(x);
    EVP_PKEY_free(k);
    return bad;
}

int bundle_check(const struct bundle *b, const char *name, int64_t now, FILE *errs)
{
    int bad = check_texts(b, name, errs);
    return check_crypto(b, name, now, errs) | bad;
}

/* ---- JSON ------------------------------------------------------------------------ */

/* jansson frees its strings without clearing them: clear them first. */
static void wipe_strings(json_t *obj)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (json_is_string(v))
            OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
    }
}

static json_t *to_json(const struct bundle *b)
{
    char about[320];
    snprintf(about, sizeof about, "gatescreen enrolment bundle for school %s. Install it on "
             "the school's gate controller with: gatescreen upstream enrol FILE. It holds the "
             "school's private key and token: keep it secret, delete it once installed.",
             b->part[BUNDLE_SCHOOL]);
    json_t *o = json_object();
    bool ok = o && json_object_set_new(o, "format", json_string(BUNDLE_FORMAT)) == 0 &&
              json_object_set_new(o, "about", json_string(about)) == 0;
    for (int i = 0; ok && i < BUNDLE_PARTS; i++)
        ok = json_object_set_new(o, part_names[i], json_string(b->part[i])) == 0;
    if (!ok && o) {
        wipe_strings(o);
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* The JSON text with a final line end, written 0600, never over another file; the
 * text is wiped, it holds the key. */
static int write_text(char *text, const char *path, FILE *errs)
{
    static const struct file_spec spec = {.mode = 0600, .uid = (uid_t)-1, .gid = (gid_t)-1,
                                          .no_clobber = true};
    size_t n = strlen(text);
    char *line = realloc(text, n + 2);
    int rc = -1;
    if (line) {
        text = line;
        text[n++] = '\n';
        text[n] = '\0';
        rc = file_write_atomic(path, text, n, &spec, errs);
    } else {
        fprintf(errs, "%s: out of memory\n", path);
    }
    OPENSSL_cleanse(text, n);
    free(text);
    return rc;
}

int bundle_write(const struct bundle *b, const char *path, int64_t now, FILE *errs)
{
    if (bundle_check(b, path, now, errs) < 0)
        return -1;
    json_t *o = to_json(b);
    char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    int rc = -1;
    if (text)
        rc = write_text(text, path, errs);
    else
        fprintf(errs, "%s: out of memory\n", path);
    if (o) {
        wipe_strings(o);
        json_decref(o);
    }
    return rc;
}

static int part_of(const char *key)
{
    for (int i = 0; i < BUNDLE_PARTS; i++)
        if (strcmp(key, part_names[i]) == 0)
            return i;
    return -1;
}

/* One member of the object: known, a string, stored. */
static int take(struct bundle *b, const char *name, const char *key, json_t *v, FILE *errs)
{
    int i = part_of(key);
    if (i < 0 && strcmp(key, "format") != 0 && strcmp(key, "about") != 0) {
        fprintf(errs, "%s: unknown key \"%s\" (a bundle has format, about, school, url, "
                      "server_ca, certificate, key and token)\n", name, key);
        return -1;
    }
    if (!json_is_string(v)) {
        fprintf(errs, "%s: \"%s\" must be a string\n", name, key);
        return -1;
    }
    if (strcmp(key, "format") == 0 && strcmp(json_string_value(v), BUNDLE_FORMAT) != 0) {
        fprintf(errs, "%s: format \"%.40s\" is not " BUNDLE_FORMAT " (a bundle from a newer "
                      "bureau? update gatescreen)\n", name, json_string_value(v));
        return -1;
    }
    if (i >= 0 && bundle_set(b, (enum bundle_part)i, json_string_value(v)) < 0) {
        fprintf(errs, "%s: out of memory\n", name);
        return -1;
    }
    return 0;
}

static int from_json(struct bundle *b, const char *name, json_t *o, FILE *errs)
{
    const char *k;
    json_t *v;
    int bad = 0;
    if (!json_is_object(o)) {
        fprintf(errs, "%s: not a bundle (a JSON object is expected)\n", name);
        return -1;
    }
    if (!json_object_get(o, "format")) {
        fprintf(errs, "%s: \"format\" is missing (not a gatescreen enrolment bundle?)\n", name);
        bad = -1;
    }
    json_object_foreach(o, k, v) {
        bad |= take(b, name, k, v, errs);
    }
    return bad;
}

struct bundle *bundle_parse(const char *name, const char *text, size_t len, int64_t now,
                            FILE *errs)
{
    json_error_t e;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    struct bundle *b = o ? bundle_new() : NULL;
    int bad = -1;
    if (!o)
        fprintf(errs, "%s:%d:%d: not a bundle: %s\n", name, e.line, e.column, e.text);
    else if (!b)
        fprintf(errs, "%s: out of memory\n", name);
    else if ((bad = from_json(b, name, o, errs)) == 0)
        bad = bundle_check(b, name, now, errs);
    if (o) {
        wipe_strings(o);
        json_decref(o);
    }
    if (bad) {
        bundle_free(b);
        return NULL;
    }
    return b;
}

static void *heap_alloc(size_t n)
{
    return malloc(n);
}

struct bundle *bundle_read(const char *path, int64_t now, FILE *errs)
{
    static const struct secret_alloc heap = {heap_alloc, free};
    char *text = NULL;
    size_t len = 0;
    if (public_file_read(path, "enrolment bundle", BUNDLE_MAX_BYTES, &heap, &text, &len,
                         errs) < 0)
        return NULL;
    struct bundle *b = bundle_parse(path, text, len, now, errs);
    OPENSSL_cleanse(text, len);
    free(text);
    return b;
}
