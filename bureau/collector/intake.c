/* The collector's checks of an upload (intake.h). */
#include "intake.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "docschema.h"
#include "log.h"
#include "pem.h"
#include "textnum.h"

#define KEY_MAX 200 /* the longest key gatescreen makes is ~60 bytes */

#define MAX_VERSIONS 8

struct intake {
    struct docschema *schema[MAX_VERSIONS]; /* by doc_schemas.h's version number */
};

void intake_refuse(struct intake_verdict *v, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->error, sizeof v->error, fmt, ap);
    va_end(ap);
    tn_utf8_scrub(v->error, '?'); /* it may quote a header: JSON wants UTF-8 */
    v->status = status;
    v->has_pointer = false;
    v->pointer[0] = '\0';
}

/* A refusal at a place in the document. */
GS_PRINTF(4, 5)
static void refuse_at(struct intake_verdict *v, int status, const char *pointer,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->error, sizeof v->error, fmt, ap);
    va_end(ap);
    tn_utf8_scrub(v->error, '?');
    v->status = status;
    v->has_pointer = true;
    snprintf(v->pointer, sizeof v->pointer, "%s", pointer);
}

char *intake_verdict_json(const struct intake_verdict *v)
{
    json_t *j = json_pack("{s:s,s:o}", "error", v->error, "pointer",
                          v->has_pointer ? json_string(v->pointer) : json_null());
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return text;
}

/* ---- headers -------------------------------------------------------------------- */

/* application/json, with or without parameters (charset=utf-8). */
static bool is_json(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, "; \t");
    return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

/* Printable ASCII, no spaces: a key goes into logs, messages and the database. */
static bool key_chars(const char *k)
{
    for (; *k; k++)
        if ((unsigned char)*k <= 0x20 || (unsigned char)*k >= 0x7f)
            return false;
    return true;
}

static int bearer(const char *auth, const char **token, size_t *len)
{
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return -1;
    const char *t = auth + 7;
    while (*t == ' ')
        t++;
    *token = t;
    *len = strlen(t);
    while (*len > 0 && t[*len - 1] == ' ')
        (*len)--;
    return *len > 0 ? 0 : -1;
}

int intake_headers(const struct intake_headers *h, enum doc_kind *kind, const char **token,
                   size_t *token_len, struct intake_verdict *v)
{
    int k = h->kind ? doc_kind_parse(h->kind) : -1;
    if (!is_json(h->content_type))
        intake_refuse(v, 415, "the body must be JSON (Content-Type: application/json)");
    else if (k < 0)
        intake_refuse(v, 400, "X-Gatescreen-Kind must name the document's kind: summary or "
                              "notice%s", h->kind ? "" : " (the header is missing)");
    else if (!h->idem_key || !*h->idem_key)
        intake_refuse(v, 400, "the Idempotency-Key header is missing");
    else if (strlen(h->idem_key) > KEY_MAX || !key_chars(h->idem_key))
        intake_refuse(v, 400, "the Idempotency-Key must be at most %d printable ASCII "
                              "characters without spaces", KEY_MAX);
    else if (bearer(h->authorization, token, token_len) < 0)
        intake_refuse(v, 401, "no bearer token (Authorization: Bearer TOKEN from the "
                              "school's enrolment)");
    else {
        *kind = (enum doc_kind)k;
        return 0;
    }
    return -1;
}

/* ---- the document ----------------------------------------------------------------- */

struct intake *intake_new(FILE *errs)
{
    struct intake *in = calloc(1, sizeof *in);
    if (!in) {
        fprintf(errs, "out of memory\n");
        return NULL;
    }
    for (int v = 0; v < doc_version_count() && v < MAX_VERSIONS; v++)
        if (!(in->schema[v] = doc_version_load(v, errs))) {
            intake_free(in);
            return NULL;
        }
    return in;
}

void intake_free(struct intake *in)
{
    if (!in)
        return;
    for (int v = 0; v < MAX_VERSIONS; v++)
        docschema_free(in->schema[v]);
    free(in);
}

static const char *str_at(const json_t *root, const char *a, const char *b)
{
    const json_t *j = json_object_get(root, a);
    return json_string_value(b ? json_object_get(j, b) : j);
}

/* The schema's patterns allow 2026-02-30 and 25:61:61; the database would not. */
static bool real_day(const char *s)
{
    int y, m, d;
    return s && strlen(s) == 10 && tn_date(s, &y, &m, &d) == 0;
}

static bool real_instant(const char *s)
{
    char day[11];
    long h, mi, sec;
    char part[3] = {0};
    if (!s || strlen(s) != 24)
        return false;
    memcpy(day, s, 10);
    day[10] = '\0';
    memcpy(part, s + 11, 2);
    bool ok = tn_long(part, 0, 23, &h) == 0;
    memcpy(part, s + 14, 2);
    ok = ok && tn_long(part, 0, 59, &mi) == 0;
    memcpy(part, s + 17, 2);
    return ok && tn_long(part, 0, 59, &sec) == 0 && real_day(day);
}

/* The fields the database keeps beside the document, and what the patterns cannot
 * say about them. */
static int summary_fields(struct intake_doc *d, struct intake_verdict *v)
{
    json_int_t rev = json_integer_value(json_object_get(d->root, "revision"));
    d->day = str_at(d->root, "date", NULL);
    d->generated_at = str_at(d->root, "generated_at", NULL);
    d->closed = json_is_object(json_object_get(d->root, "closed"));
    if (!real_day(d->day))
        refuse_at(v, 400, "/date", "%s is not a date of the calendar", d->day);
    else if (!real_instant(d->generated_at))
        refuse_at(v, 400, "/generated_at", "%s is not a real instant", d->generated_at);
    else if (rev < 1 || rev > 1000000)
        refuse_at(v, 400, "/revision", "a sent summary's revision is 1 or more (0 means never "
                                       "sent), at most 1000000");
    else {
        d->revision = (int)rev;
        return 0;
    }
    return -1;
}

static int notice_fields(struct intake_doc *d, struct intake_verdict *v)
{
    d->day = str_at(d->root, "day", NULL);
    d->opened_at = str_at(d->root, "opened_at", NULL);
    d->notice_id = str_at(d->root, "notice_id", NULL);
    d->notice_type = str_at(d->root, "type", NULL);
    if (!real_day(d->day))
        refuse_at(v, 400, "/day", "%s is not a date of the calendar", d->day);
    else if (!real_instant(d->opened_at))
        refuse_at(v, 400, "/opened_at", "%s is not a real instant", d->opened_at);
    else if (!real_instant(str_at(d->root, "generated_at", NULL)))
        refuse_at(v, 400, "/generated_at", "not a real instant");
    else
        return 0;
    return -1;
}

/* The key the document itself names: school/date/revision, or its notice_id. */
static int own_key(const struct intake_doc *d, const char *key, struct intake_verdict *v)
{
    char want[KEY_MAX + 64];
    if (d->kind == DOC_SUMMARY)
        snprintf(want, sizeof want, "%s/%s/%d", d->school_code, d->day, d->revision);
    else
        snprintf(want, sizeof want, "%s", d->notice_id);
    if (strcmp(key, want) == 0)
        return 0;
    intake_refuse(v, 400, "the Idempotency-Key %s is not this %s's own key %s (%s)", key,
                  doc_kind_name(d->kind), want,
                  d->kind == DOC_SUMMARY ? "school/date/revision" : "its notice_id");
    return -1;
}

static int parse(const struct intake *in, enum doc_kind kind, const char *body, size_t len,
                 struct intake_doc *d, struct intake_verdict *v)
{
    json_error_t err;
    struct docschema_problem p;
    d->root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    if (!d->root) {
        refuse_at(v, 400, "", "not JSON: %s at line %d column %d", err.text, err.line,
                  err.column);
        return -1;
    }
    /* The version the document names; anything else (no such version, no
     * "schema" member) is judged by the current one, whose first problem then says
     * what is wrong where. */
    const char *named = str_at(d->root, "schema", NULL);
    int version = doc_version_find(kind, named);
    d->version = version < 0 ? (int)kind : version;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "gatescreen.%s/", doc_kind_name(kind));
    if (version < 0 && named && strncmp(named, prefix, strlen(prefix)) == 0) {
        char known[160] = "";
        for (int i = 0; i < doc_version_count(); i++)
            if (doc_version_kind(i) == kind)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                         known[0] ? ", " : "", doc_version_id(i));
        refuse_at(v, 400, "/schema", "not a valid %s: /schema: %s is not a version this "
                                     "collector accepts (%s)", doc_kind_name(kind), named, known);
        return -1;
    }
    if (docschema_check(in->schema[d->version], d->root, &p) < 0) {
        refuse_at(v, 400, p.pointer, "not a valid %s: %s: %s", doc_kind_name(kind),
                  p.pointer[0] ? p.pointer : "(the document)", p.message);
        return -1;
    }
    return 0;
}

int intake_document(const struct intake *in, const char *school, enum doc_kind kind,
                    const char *key, const char *body, size_t len, struct intake_doc *d,
                    struct intake_verdict *v)
{
    size_t n = strlen(school);
    memset(d, 0, sizeof *d);
    d->kind = kind;
    if (strncmp(key, school, n) != 0 || key[n] != '/') {
        intake_refuse(v, 403, "the Idempotency-Key %s does not start with %s/, the school of "
                              "the client certificate", key, school);
        return -1;
    }
    if (parse(in, kind, body, len, d, v) < 0)
        return -1;
    d->school_code = str_at(d->root, "school", "code");
    if (strcmp(d->school_code, school) != 0) {
        refuse_at(v, 403, "/school/code", "the document is school %s's; the client certificate "
                                          "is school %s's", d->school_code, school);
        return -1;
    }
    if ((kind == DOC_SUMMARY ? summary_fields(d, v) : notice_fields(d, v)) < 0 ||
        own_key(d, key, v) < 0)
        return -1;
    pem_sha256_hex(body, len, d->sha256);
    return 0;
}

void intake_doc_free(struct intake_doc *d)
{
    json_decref(d->root);
    memset(d, 0, sizeof *d);
}
