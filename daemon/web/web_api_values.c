/* The nurse API's request values (path, query, body fields: every one checked,
 * every refusal a 400 that names the field), the ledger's messages as responses,
 * and the JSON pieces the API modules share (web_api.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "clock.h"
#include "log.h"
#include "textnum.h"
#include "web_api.h"

/* A value worth echoing in a message: short printable ASCII (dates, numbers);
 * anything else is not repeated back. */
static const char *shown(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= 40 || s[n] < 0x20 || s[n] > 0x7e)
            return "(not shown)";
    return s;
}

/* ---- the path and the query ------------------------------------------------------- */

/* What the roster accepts as an external id (roster.c set_id): 1..63 bytes of
 * UTF-8 without blanks of any width or control characters. A '/' is allowed: it
 * comes percent-encoded in one path segment (%2F), which web_server.c decodes
 * after routing. */
static bool id_shape_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= ROSTER_ID_MAX || tn_utf8_invalid_at(s, n) >= 0)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return false;
    return !strstr(s, "\xE3\x80\x80") && !strstr(s, "\xC2\xA0");
}

bool wa_may_see(const struct web_request *rq, const char *class_name)
{
    return web_may_see_class(rq->user, class_name ? class_name : "");
}

const char *wa_scope(const struct web_request *rq)
{
    return rq->user && rq->user->role == ROLE_TEACHER ? rq->user->class_name : NULL;
}

int wa_route_person(struct web_request *rq, struct web_response *rs, struct ledger **l,
                    struct lw_person *p)
{
    const char *id = rq->nparam > 0 ? rq->param[0] : "";
    if (!id_shape_ok(id)) {
        web_error(rs, 400, "the person id in the path is not a roster id (1 to %d bytes, no "
                  "spaces or control characters)", ROSTER_ID_MAX - 1);
        return -1;
    }
    if (!(*l = web_ledger(rq, rs)))
        return -1;
    int found = ledger_web_find_person(*l, id, p);
    if (found < 0) {
        web_error(rs, 500, "the ledger could not be read (see the daemon's log)");
        return -1;
    }
    if (found == 0) {
        web_error(rs, 404, "no one with id '%s' in the roster", id);
        return -1;
    }
    if (!wa_may_see(rq, p->class_name)) {
        web_error(rs, 403, "not your class");
        return -1;
    }
    return 0;
}

int wa_today_day(struct web_response *rs, char day[LEDGER_DAY_LEN])
{
    if (civil_day_of(clock_wall_ms(), day) == 0)
        return 0;
    web_error(rs, 500, "cannot tell today's date");
    return -1;
}

/* A real date the school's calendar can place (civil: 1970..9999), not after today
 * when not_future. `what` names the field in the messages. */
static int check_day(struct web_response *rs, const char *what, const char *s, bool not_future)
{
    int y, m, d;
    int64_t ms;
    char today[LEDGER_DAY_LEN];
    if (tn_date(s, &y, &m, &d) < 0 || civil_ms_at(s, 0, &ms) < 0) {
        web_error(rs, 400, "%s '%s' is not a date YYYY-MM-DD", what, shown(s));
        return -1;
    }
    if (!not_future)
        return 0;
    if (wa_today_day(rs, today) < 0)
        return -1;
    if (strcmp(s, today) > 0) {
        web_error(rs, 400, "%s %s is in the future (today is %s)", what, s, today);
        return -1;
    }
    return 0;
}

int wa_query_day(struct web_request *rq, struct web_response *rs, char day[LEDGER_DAY_LEN])
{
    const char *q = web_query(rq, "date");
    if (!q)
        return wa_today_day(rs, day);
    if (check_day(rs, "date", q, true) < 0)
        return -1;
    snprintf(day, LEDGER_DAY_LEN, "%s", q);
    return 0;
}

int wa_query_class(struct web_request *rq, struct web_response *rs, const char **class_name)
{
    const char *q = web_query(rq, "class");
    if (q && (!*q || strlen(q) >= ROSTER_CLASS_MAX || tn_utf8_invalid_at(q, strlen(q)) >= 0)) {
        web_error(rs, 400, "class must be a class name of 1 to %d bytes of UTF-8",
                  ROSTER_CLASS_MAX - 1);
        return -1;
    }
    const char *scope = wa_scope(rq);
    if (scope && q && strcmp(q, scope) != 0) {
        web_error(rs, 403, "not your class");
        return -1;
    }
    *class_name = scope ? scope : q;
    return 0;
}

/* ---- body fields ------------------------------------------------------------------ */

/* The field, or NULL when absent or null: a 400 then if it was required. */
static json_t *field(struct web_response *rs, json_t *body, const char *key, bool required)
{
    json_t *v = json_object_get(body, key);
    if (v && !json_is_null(v))
        return v;
    if (required)
        web_error(rs, 400, "%s is required", key);
    return NULL;
}

int wa_temp(struct web_request *rq, struct web_response *rs, json_t *body, const char *key,
            int *out)
{
    const struct cfg_screening *s = &rq->cfg->screening;
    json_t *v = field(rs, body, key, true);
    if (!v)
        return -1;
    json_int_t n = json_is_integer(v) ? json_integer_value(v) : s->valid_min_centi - 1LL;
    if (n < s->valid_min_centi || n > s->valid_max_centi) {
        char lo[16], hi[16];
        web_error(rs, 400, "%s must be an integer from %d to %d (centi-degrees: 3760 is "
                  "37.60 °C; the plausible range is %s to %s °C)", key, s->valid_min_centi,
                  s->valid_max_centi, tn_format_centi(s->valid_min_centi, lo, sizeof lo),
                  tn_format_centi(s->valid_max_centi, hi, sizeof hi));
        return -1;
    }
    *out = (int)n;
    return 0;
}

int wa_enum(struct web_response *rs, json_t *body, const char *key, bool required,
            const char *const *names, const char **out)
{
    *out = NULL;
    json_t *v = field(rs, body, key, required);
    if (!v)
        return required ? -1 : 0;
    for (int i = 0; names[i] && json_is_string(v); i++)
        if (strcmp(names[i], json_string_value(v)) == 0) {
            *out = names[i];
            return 0;
        }
    char list[256] = "";
    for (int i = 0; names[i]; i++)
        tn_append(list, sizeof list, "%s%s", i ? ", " : "", names[i]);
    web_error(rs, 400, "%s must be one of %s", key, list);
    return -1;
}

int wa_day(struct web_response *rs, json_t *body, const char *key, bool required,
           bool not_future, char out[LEDGER_DAY_LEN], bool *given)
{
    if (given)
        *given = false;
    json_t *v = field(rs, body, key, required);
    if (!v)
        return required ? -1 : 0;
    if (!json_is_string(v)) {
        web_error(rs, 400, "%s must be a date \"YYYY-MM-DD\"", key);
        return -1;
    }
    if (check_day(rs, key, json_string_value(v), not_future) < 0)
        return -1;
    snprintf(out, LEDGER_DAY_LEN, "%s", json_string_value(v));
    if (given)
        *given = true;
    return 0;
}

int wa_text(struct web_response *rs, json_t *body, const char *key, bool required, size_t max,
            bool multiline, const char **out)
{
    *out = NULL;
    json_t *v = field(rs, body, key, required);
    if (!v)
        return required ? -1 : 0;
    if (!json_is_string(v)) {
        web_error(rs, 400, "%s must be a string", key);
        return -1;
    }
    const char *s = json_string_value(v);
    bool blank = strspn(s, " \t\r\n") == strlen(s);
    if (json_string_length(v) > max) {
        web_error(rs, 400, "%s is longer than %zu bytes", key, max);
        return -1;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && !(multiline && (*p == '\n' || *p == '\r' || *p == '\t'))) ||
            *p == 0x7f) {
            web_error(rs, 400, "%s contains a control character", key);
            return -1;
        }
    if (required && blank) {
        web_error(rs, 400, "%s must not be empty", key);
        return -1;
    }
    *out = s;
    return 0;
}

/* ---- the ledger's messages -------------------------------------------------------- */

FILE *wa_errs_open(struct wa_errs *e)
{
    return errbuf_open(&e->b, stderr);
}

/* The one table from a ledger call's status to its answer. The message is the
 * ledger's sentence when it wrote one; busy and database failures write none (the
 * log has the database's words, which are not for the nurse). */
static const struct {
    int http;
    const char *text; /* when the ledger wrote no message */
} ledger_answers[] = {
    [LEDGER_OK] = {200, ""},
    [LEDGER_NOT_FOUND] = {404, "not found"},
    [LEDGER_CONFLICT] = {409, "the action does not apply"},
    [LEDGER_INVALID] = {400, "a value is not valid"},
    [LEDGER_BUSY] = {503, "the ledger is busy; try again"},
    [LEDGER_IO] = {500, "the ledger could not be written (see the daemon's log)"},
};

int wa_http_status(enum ledger_status st)
{
    if ((size_t)st >= sizeof ledger_answers / sizeof ledger_answers[0])
        st = LEDGER_IO;
    return ledger_answers[st].http;
}

int wa_errs_finish(struct wa_errs *e, enum ledger_status st, struct web_response *rs)
{
    if ((size_t)st >= sizeof ledger_answers / sizeof ledger_answers[0])
        st = LEDGER_IO;
    /* One sentence per line from the ledger: one message, lines joined. */
    const char *text = errbuf_joined(&e->b, ';');
    if (st != LEDGER_OK)
        web_error(rs, ledger_answers[st].http, "%s", *text ? text : ledger_answers[st].text);
    errbuf_free(&e->b);
    return st == LEDGER_OK ? 0 : -1;
}

/* ---- JSON ------------------------------------------------------------------------- */

/* A copy with every invalid byte replaced by U+FFFD (text the ledger got from
 * somewhere other than the roster or this API, e.g. a command-line argument). */
static json_t *repaired(const char *s, size_t n)
{
    char *buf = malloc(n * 3 + 1), *o = buf;
    if (!buf)
        return NULL;
    while (n > 0) {
        long bad = tn_utf8_invalid_at(s, n);
        size_t good = bad < 0 ? n : (size_t)bad;
        memcpy(o, s, good);
        o += good;
        s += good;
        n -= good;
        if (n > 0) {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            s++;
            n--;
        }
    }
    json_t *j = json_stringn(buf, (size_t)(o - buf));
    free(buf);
    return j;
}

json_t *wa_str(const char *s)
{
    if (!s)
        s = "";
    json_t *j = json_string(s);
    return j ? j : repaired(s, strlen(s));
}

json_t *wa_str_or_null(const char *s)
{
    return s && *s ? wa_str(s) : json_null();
}

json_t *wa_id_or_null(int64_t n)
{
    return n ? json_integer(n) : json_null();
}

json_t *wa_person_json(const char *external_id, const char *name, const char *class_name)
{
    return json_pack("{s:o, s:o, s:o}", "id", wa_str(external_id), "name", wa_str(name),
                     "class", wa_str(class_name));
}

json_t *wa_list_json(const char *comma_list)
{
    json_t *a = json_array();
    for (const char *p = comma_list; a && p && *p;) {
        size_t n = strcspn(p, ",");
        if (n && json_array_append_new(a, json_stringn(p, n)) < 0) {
            json_decref(a);
            return NULL;
        }
        p += n + (p[n] == ',');
    }
    return a;
}

void wa_append(json_t *array, json_t *item, bool *failed)
{
    if (!item || json_array_append_new(array, item) < 0)
        *failed = true;
}

void wa_reply(struct web_response *rs, json_t *j, bool failed)
{
    if (j && !failed) {
        web_json(rs, 200, j);
        return;
    }
    json_decref(j);
    web_error(rs, 500, "the answer could not be made (see the daemon's log)");
}

