/* The notices' parameters and their JSON and CSV (notice_list.h). What a school
 * sent about the person (a pseudonym and class, or with [upstream] identify = names
 * also the id, name and kind) is passed on as sent: the bureau adds nothing to it
 * and takes nothing from it. */
#include "notice_list.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "csv_out.h"
#include "log.h"
#include "school_list.h"
#include "textnum.h"

/* ---- the query ------------------------------------------------------------------- */

GS_PRINTF(5, 6)
static int fail(const char **param, const char *name, char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    *param = name;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return -1;
}

static int set_day(char *out, const char *v, const char *name, const char **param, char *why,
                   size_t n)
{
    int y, m, d;
    out[0] = '\0';
    if (!v)
        return 0;
    if (strlen(v) != 10 || tn_date(v, &y, &m, &d) < 0)
        return fail(param, name, why, n, "%.60s is not a day (YYYY-MM-DD, a real date from "
                                         "1970)", v);
    memcpy(out, v, ROLLUP_DAY_LEN);
    return 0;
}

int notice_query_set(struct notice_query *q, const char *from, const char *to,
                     const char *unacknowledged, const char *county, const char *school,
                     const char **param, char *why, size_t why_size)
{
    memset(q, 0, sizeof *q);
    if (set_day(q->from, from, "from", param, why, why_size) < 0 ||
        set_day(q->to, to, "to", param, why, why_size) < 0)
        return -1;
    if (q->from[0] && q->to[0] && strcmp(q->from, q->to) > 0)
        return fail(param, "to", why, why_size, "to is before from");
    if (unacknowledged && tn_bool(unacknowledged, &q->unacknowledged) < 0)
        return fail(param, "unacknowledged", why, why_size,
                    "unacknowledged=%.40s is not 1 or 0 (yes/no, true/false)", unacknowledged);
    if (school_filter_set(q->county, sizeof q->county, SF_COUNTY, "county", county, param, why,
                          why_size) < 0 ||
        school_filter_set(q->school, sizeof q->school, SF_CODE, "school", school, param, why,
                          why_size) < 0)
        return -1;
    *param = NULL;
    return 0;
}

const char *notice_note_problem(const char *note)
{
    size_t n = note ? strlen(note) : 0;
    if (n == 0)
        return "the note is empty (say what was done)";
    if (n > NOTICE_NOTE_MAX)
        return "the note is longer than 1000 bytes";
    if (tn_utf8_invalid_at(note, n) >= 0)
        return "the note is not valid UTF-8";
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)note[i] < 0x20 && !strchr("\t\r\n", note[i])) || note[i] == 0x7f)
            return "the note has a control character";
    return NULL;
}

/* ---- what the school sent ---------------------------------------------------------- */

/* The parts of a notice a reader looks for, taken from the document as sent. */
struct sent {
    json_t *doc;
    const json_t *person; /* referral: the person object, or NULL (an unknown card) */
    const char *class_name;
    const char *pseudonym;
};

static void read_sent(struct sent *s, const char *document)
{
    memset(s, 0, sizeof *s);
    s->doc = json_loads(document ? document : "", 0, NULL);
    s->person = json_object_get(s->doc, "person");
    if (!json_is_object(s->person))
        s->person = NULL;
    s->class_name = json_string_value(json_object_get(s->doc, "class"));
    if (s->person) {
        s->class_name = json_string_value(json_object_get(s->person, "class"));
        s->pseudonym = json_string_value(json_object_get(s->person, "pseudonym"));
    }
}

static const char *person_text(const json_t *p, const char *key)
{
    return json_string_value(json_object_get(p, key));
}

/* A number as the school wrote it, for a CSV cell ("" when it is not one). */
static const char *number_text(const json_t *v, char *buf, size_t n)
{
    buf[0] = '\0';
    if (json_is_integer(v))
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, n, "%.6g", json_real_value(v));
    return buf;
}

/* An alert's cases in one cell: "WHO CASE_KIND DAY; ...", WHO the pseudonym, or the
 * id and name when the school identifies people by name. malloc'ed, or NULL. */
static char *cases_text(const json_t *cases)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    size_t i;
    const json_t *c;
    if (!f)
        return NULL;
    json_array_foreach(cases, i, c) {
        const json_t *p = json_object_get(c, "person");
        const char *who = person_text(p, "pseudonym");
        fprintf(f, "%s", i ? "; " : "");
        if (who)
            fprintf(f, "%s", who);
        else
            fprintf(f, "%s %s", person_text(p, "external_id") ? person_text(p, "external_id")
                                                                : "?",
                    person_text(p, "name") ? person_text(p, "name") : "?");
        fprintf(f, " %s %s", person_text(c, "case_kind") ? person_text(c, "case_kind") : "?",
                person_text(c, "day") ? person_text(c, "day") : "?");
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- JSON -------------------------------------------------------------------------- */

static json_t *copy_of(const json_t *doc, const char *key)
{
    json_t *v = json_object_get(doc, key);
    return v ? json_deep_copy(v) : json_null();
}

/* The type's own members, as sent. */
static int type_json(json_t *o, const struct sent *s, bool referral)
{
    static const char *const referral_keys[] = {"person", "screen_temperature", "threshold",
                                                "recheck_temperature", "recheck_instrument"};
    static const char *const alert_keys[] = {"rule", "case_count", "cases"};
    const char *const *keys = referral ? referral_keys : alert_keys;
    size_t n = referral ? 5 : 3;
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        rc |= json_object_set_new(o, keys[i], copy_of(s->doc, keys[i]));
    return rc < 0 ? -1 : 0;
}

static json_t *notice_json(const struct notice_row *r)
{
    struct sent s;
    read_sent(&s, r->document);
    bool ack = r->acknowledged_at != NULL;
    json_t *o = json_pack("{s:{s:s,s:s,s:s},s:s,s:s,s:s,s:s,s:s,s:s?,s:s?}",
                          "school", "code", r->school_code, "name", r->school_name, "county",
                          r->county, "notice_id", r->notice_id, "type", r->type, "day", r->day,
                          "opened_at", r->opened_at, "received_at", r->received_at,
                          "class", s.class_name, "pseudonym", s.pseudonym);
    if (o && type_json(o, &s, strcmp(r->type, "referral_opened") == 0) == 0 &&
        json_object_set_new(o, "acknowledged_at", ack ? json_string(r->acknowledged_at)
                                                      : json_null()) == 0 &&
        json_object_set_new(o, "acknowledged_by", ack ? json_string(r->acknowledged_by)
                                                      : json_null()) == 0 &&
        json_object_set_new(o, "ack_note", ack ? json_string(r->ack_note) : json_null()) == 0) {
        json_decref(s.doc);
        return o;
    }
    json_decref(o);
    json_decref(s.doc);
    return NULL;
}

/* ---- CSV --------------------------------------------------------------------------- */

static const char *const csv_columns[] = {
    "school_code", "school_name", "county", "notice_id", "type", "day", "opened_at",
    "received_at", "class", "pseudonym", "external_id", "name", "kind",
    "screen_temperature", "threshold", "recheck_temperature", "recheck_instrument",
    "rule", "case_count", "cases", "acknowledged_at", "acknowledged_by", "ack_note"};
#define NCOLUMNS (sizeof csv_columns / sizeof csv_columns[0])

static void notice_csv(FILE *f, const struct notice_row *r)
{
    struct sent s;
    char t1[32], t2[32], t3[32], cc[32];
    read_sent(&s, r->document);
    const json_t *d = s.doc;
    char *cases = json_is_array(json_object_get(d, "cases"))
                      ? cases_text(json_object_get(d, "cases")) : NULL;
    const char *cells[NCOLUMNS] = {
        r->school_code, r->school_name, r->county, r->notice_id, r->type, r->day,
        r->opened_at, r->received_at, s.class_name, s.pseudonym,
        person_text(s.person, "external_id"), person_text(s.person, "name"),
        person_text(s.person, "kind"),
        number_text(json_object_get(d, "screen_temperature"), t1, sizeof t1),
        number_text(json_object_get(d, "threshold"), t2, sizeof t2),
        number_text(json_object_get(d, "recheck_temperature"), t3, sizeof t3),
        json_string_value(json_object_get(d, "recheck_instrument")),
        json_string_value(json_object_get(d, "rule")),
        number_text(json_object_get(d, "case_count"), cc, sizeof cc), cases,
        r->acknowledged_at, r->acknowledged_by, r->ack_note};
    csv_out_record(f, cells, (int)NCOLUMNS);
    free(cases);
    json_decref(s.doc);
}

/* ---- the writer -------------------------------------------------------------------- */

struct notice_writer {
    struct row_stream s;
};

struct notice_writer *notice_writer_new(FILE *f, enum rollup_format format,
                                        const struct notice_query *q)
{
    struct notice_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    row_stream_begin(&w->s, f, format,
                     json_pack("{s:s?,s:s?,s:b,s:s?,s:s?}", "from", q->from[0] ? q->from : NULL,
                               "to", q->to[0] ? q->to : NULL, "unacknowledged",
                               q->unacknowledged, "county", q->county[0] ? q->county : NULL,
                               "school", q->school[0] ? q->school : NULL),
                     "notices");
    if (format == ROLLUP_CSV)
        csv_out_record(f, csv_columns, (int)NCOLUMNS);
    return w;
}

void notice_writer_row(const struct notice_row *r, void *writer)
{
    struct notice_writer *w = writer;
    if (w->s.format == ROLLUP_CSV)
        notice_csv(w->s.f, r);
    else
        row_stream_json(&w->s, notice_json(r), JSON_COMPACT | JSON_PRESERVE_ORDER);
}

int notice_writer_end(struct notice_writer *w)
{
    if (!w)
        return -1;
    int rc = row_stream_end(&w->s);
    free(w);
    return rc;
}
