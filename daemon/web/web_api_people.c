/* The Person page's API (docs/web-api.md "People"): search by name, id, class or
 * card, and one person's history of readings, checks, flags, referrals,
 * absences (the day's, and noon and evening ones), certificates and leave. Teachers search their own class only and get
 * a 403 for anyone else's history. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "clock.h"
#include "textnum.h"
#include "web_api.h"

#define SEARCH_LIMIT 50
#define SEARCH_TEXT_MAX 64
#define DAYS_DEFAULT 30
#define DAYS_MAX 120 /* the retention of readings ([ledger] retention) by default */

static const char *const clinic_names[] = {"unknown", "no", "yes"}; /* clinic_visit + 1 */

struct list {
    json_t *items;
    bool failed;
};

/* "1001,1002" -> [1001, 1002]. */
static json_t *cards_json(const char *cards)
{
    json_t *a = json_array();
    for (const char *p = cards; a && *p;) {
        char num[24];
        int64_t n;
        size_t len = strcspn(p, ",");
        snprintf(num, sizeof num, "%.*s", (int)(len < sizeof num ? len : sizeof num - 1), p);
        if (tn_int64(num, 0, INT64_MAX, &n) == 0 && json_array_append_new(a, json_integer(n)) < 0) {
            json_decref(a);
            return NULL;
        }
        p += len + (p[len] == ',');
    }
    return a;
}

/* PERSON with what the Person page shows of them. */
static json_t *person_full(const struct lw_person *p)
{
    json_t *j = wa_person_json(p->external_id, p->name, p->class_name);
    json_t *more = json_pack("{s:o, s:o, s:b, s:o, s:o}", "kind", wa_str(p->kind), "grade",
                             wa_str(p->grade), "active", p->active, "status", wa_str(p->status),
                             "cards", cards_json(p->cards));
    if (j && more && json_object_update(j, more) == 0) {
        json_decref(more);
        return j;
    }
    json_decref(j);
    json_decref(more);
    return NULL;
}

/* ---- search ----------------------------------------------------------------------- */

static void search_item(const struct lw_person *p, void *arg)
{
    struct list *ls = arg;
    wa_append(ls->items, person_full(p), &ls->failed);
}

/* ?q=, trimmed of blanks: 1..64 bytes of UTF-8 without control characters. */
static int search_text(struct web_request *rq, struct web_response *rs, char *out, size_t n)
{
    const char *q = web_query(rq, "q");
    q = q ? q + strspn(q, " ") : "";
    size_t len = strlen(q);
    while (len > 0 && q[len - 1] == ' ')
        len--;
    bool ok = len > 0 && len <= SEARCH_TEXT_MAX && len < n && tn_utf8_invalid_at(q, len) < 0;
    for (size_t i = 0; ok && i < len; i++)
        ok = (unsigned char)q[i] >= 0x20 && q[i] != 0x7f;
    if (!ok) {
        web_error(rs, 400, "q must be 1 to %d bytes of text: a name, an id, a class or a "
                  "card number", SEARCH_TEXT_MAX);
        return -1;
    }
    snprintf(out, n, "%.*s", (int)len, q);
    return 0;
}

void wa_people_search(struct web_request *rq, struct web_response *rs)
{
    char text[SEARCH_TEXT_MAX + 1];
    struct ledger *l;
    if (search_text(rq, rs, text, sizeof text) < 0 || !(l = web_ledger(rq, rs)))
        return;
    struct list ls = {.items = json_array()};
    bool failed = !ls.items || ledger_web_search(l, text, wa_scope(rq), SEARCH_LIMIT,
                                                 search_item, &ls) < 0;
    wa_reply(rs, json_pack("{s:o}", "people", ls.items), failed || ls.failed);
}

/* ---- history items ---------------------------------------------------------------- */

static void reading_item(const struct lw_reading *v, void *arg)
{
    struct list *ls = arg;
    wa_append(ls->items, json_pack("{s:I, s:o, s:o, s:o, s:o}", "at_ms", (json_int_t)v->at_ms,
                                   "lane", wa_str_or_null(v->lane), "body_centi",
                                   v->has_body ? json_integer(v->body_centi) : json_null(),
                                   "quality", wa_str(v->quality), "outcome", wa_str(v->outcome)),
              &ls->failed);
}

static void check_item(const struct lw_check *v, void *arg)
{
    struct list *ls = arg;
    bool gate = strcmp(v->instrument, "gate") == 0;
    wa_append(ls->items, json_pack("{s:o, s:o, s:i, s:i, s:s, s:o, s:o, s:I}", "day",
                                   wa_str(v->day), "window", wa_str(v->window), "temp_centi",
                                   v->temp_centi, "threshold_centi", v->threshold_centi, "source",
                                   gate ? "gate" : "manual", "instrument", wa_str(v->instrument),
                                   "by", wa_str(v->by), "at_ms", (json_int_t)v->at_ms),
              &ls->failed);
}

static void flag_item(const struct lw_flag *v, void *arg)
{
    struct list *ls = arg;
    wa_append(ls->items,
              json_pack("{s:I, s:o, s:I, s:o, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                        "id", (json_int_t)v->id, "day", wa_str(v->day), "opened_ms",
                        (json_int_t)v->opened_ms, "status", wa_str(v->state), "screen_centi",
                        v->screen_centi, "threshold_centi", v->threshold_centi, "lane",
                        wa_str_or_null(v->lane), "recheck_centi",
                        v->has_recheck ? json_integer(v->recheck_centi) : json_null(),
                        "recheck_instrument", wa_str_or_null(v->recheck_instrument),
                        "recheck_by", wa_str_or_null(v->recheck_by), "recheck_ms",
                        wa_id_or_null(v->recheck_ms), "referral_id",
                        wa_id_or_null(v->referral_id), "referral_outcome",
                        wa_str_or_null(v->referral_outcome)),
              &ls->failed);
}

static void referral_item(const struct lw_referral *v, void *arg)
{
    struct list *ls = arg;
    wa_append(ls->items, json_pack("{s:I, s:I, s:o, s:I, s:o, s:o, s:o, s:o}", "id",
                                   (json_int_t)v->id, "flag_id", (json_int_t)v->flag_id, "day",
                                   wa_str(v->day), "opened_ms", (json_int_t)v->opened_ms,
                                   "outcome", wa_str_or_null(v->outcome), "outcome_by",
                                   wa_str_or_null(v->outcome_by), "outcome_ms",
                                   wa_id_or_null(v->outcome_ms), "note", wa_str_or_null(v->note)),
              &ls->failed);
}

static void absence_item(const struct absence_view *v, void *arg)
{
    struct list *ls = arg;
    int clinic = v->clinic_visit >= -1 && v->clinic_visit <= 1 ? v->clinic_visit + 1 : 0;
    wa_append(ls->items,
              json_pack("{s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:i, s:o, s:o}", "day",
                        wa_str(v->day), "cause", wa_str(v->cause), "symptoms",
                        wa_list_json(v->symptoms), "onset_day", wa_str_or_null(v->onset_day),
                        "clinic", clinic_names[clinic], "diagnosis",
                        wa_str_or_null(v->diagnosis), "note", wa_str_or_null(v->note),
                        "late_ms", wa_id_or_null(v->late_ms), "returned_day",
                        wa_str_or_null(v->returned_day), "followups", v->followups,
                        "last_followup", wa_str_or_null(v->last_followup), "recorded_by",
                        wa_str(v->recorded_by)),
              &ls->failed);
}

static void part_absence_item(const struct part_absence_view *v, void *arg)
{
    struct list *ls = arg;
    wa_append(ls->items,
              json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:I}", "day", wa_str(v->day), "part",
                        wa_str(v->part), "cause", wa_str(v->cause), "symptoms",
                        wa_list_json(v->symptoms), "note", wa_str_or_null(v->note),
                        "recorded_by", wa_str(v->recorded_by), "recorded_ms",
                        (json_int_t)v->recorded_ms),
              &ls->failed);
}

static void certificate_item(const struct lw_certificate *v, void *arg)
{
    struct list *ls = arg;
    wa_append(ls->items, json_pack("{s:o, s:o, s:o, s:I, s:o}", "issued_day",
                                   wa_str(v->issued_day), "issuer", wa_str(v->issuer),
                                   "checked_by", wa_str(v->checked_by), "recorded_ms",
                                   (json_int_t)v->recorded_ms, "absence_day",
                                   wa_str_or_null(v->absence_day)),
              &ls->failed);
}

static void leave_item(const struct lw_leave *v, void *arg)
{
    struct list *ls = arg;
    wa_append(ls->items, json_pack("{s:o, s:o, s:o, s:o, s:I}", "from", wa_str(v->from_day),
                                   "to", wa_str(v->to_day), "reason", wa_str_or_null(v->reason),
                                   "by", wa_str(v->by), "at_ms", (json_int_t)v->at_ms),
              &ls->failed);
}

/* ---- one person ------------------------------------------------------------------- */

enum { L_READINGS, L_CHECKS, L_FLAGS, L_REFERRALS, L_ABSENCES, L_PARTS, L_CERTIFICATES,
       L_LEAVE, NLISTS };

static const char *const list_names[NLISTS] = {"readings", "checks", "flags", "referrals",
                                               "absences", "part_absences", "certificates",
                                               "leave"};

static int history(struct ledger *l, int64_t pid, const char *since, int64_t since_ms,
                   struct list *ls)
{
    if (ledger_web_readings(l, pid, since_ms, reading_item, &ls[L_READINGS]) < 0 ||
        ledger_web_person_checks(l, pid, since, check_item, &ls[L_CHECKS]) < 0 ||
        ledger_web_person_flags(l, pid, since, flag_item, &ls[L_FLAGS]) < 0 ||
        ledger_web_person_referrals(l, pid, since, referral_item, &ls[L_REFERRALS]) < 0 ||
        ledger_web_person_absences(l, pid, since, absence_item, &ls[L_ABSENCES]) < 0 ||
        ledger_web_person_part_absences(l, pid, since, part_absence_item, &ls[L_PARTS]) < 0 ||
        ledger_web_person_certificates(l, pid, since, certificate_item,
                                       &ls[L_CERTIFICATES]) < 0 ||
        ledger_web_person_leaves(l, pid, since, leave_item, &ls[L_LEAVE]) < 0)
        return -1;
    return 0;
}

/* ?days= (1..120, default 30): the first day shown and its first instant. */
static int history_span(struct web_request *rq, struct web_response *rs, long *days,
                        char since[LEDGER_DAY_LEN], int64_t *since_ms)
{
    const char *q = web_query(rq, "days");
    char today[LEDGER_DAY_LEN];
    *days = DAYS_DEFAULT;
    if (q && tn_long(q, 1, DAYS_MAX, days) < 0) {
        web_error(rs, 400, "days must be an integer from 1 to %d", DAYS_MAX);
        return -1;
    }
    if (wa_today_day(rs, today) < 0)
        return -1;
    if (civil_day_add(today, 1 - (int)*days, since) < 0 || civil_ms_at(since, 0, since_ms) < 0) {
        web_error(rs, 500, "cannot tell the day %ld days ago", *days);
        return -1;
    }
    return 0;
}

/* PERSON in full, with whether the gate holds them now. */
static json_t *person_now(struct ledger *l, const struct lw_person *p, bool *failed)
{
    char today[LEDGER_DAY_LEN];
    bool needs = false, open = false;
    if (civil_day_of(clock_wall_ms(), today) < 0 ||
        ledger_needs_certificate(l, p->external_id, today, &needs) < 0 ||
        ledger_open_case(l, p->external_id, &open) < 0)
        *failed = true;
    json_t *j = person_full(p);
    if (!j || json_object_set_new(j, "needs_certificate", json_boolean(needs)) < 0 ||
        json_object_set_new(j, "open_case", json_boolean(open)) < 0)
        *failed = true;
    return j;
}

void wa_person(struct web_request *rq, struct web_response *rs)
{
    struct ledger *l;
    struct lw_person p;
    long days;
    char since[LEDGER_DAY_LEN];
    int64_t since_ms;
    if (history_span(rq, rs, &days, since, &since_ms) < 0 || wa_route_person(rq, rs, &l, &p) < 0)
        return;
    struct list ls[NLISTS];
    bool failed = false;
    json_t *j = json_pack("{s:o, s:i, s:o}", "person", person_now(l, &p, &failed), "days",
                          (int)days, "since", wa_str(since));
    for (int i = 0; j && i < NLISTS; i++) {
        ls[i] = (struct list){.items = json_array()};
        if (json_object_set_new(j, list_names[i], ls[i].items) < 0)
            failed = true; /* the list is gone with the failed set */
    }
    /* The lists belong to j, which lives until the reply. */
    failed = failed || !j || history(l, p.id, since, since_ms, ls) < 0;
    for (int i = 0; j && i < NLISTS; i++)
        failed = failed || ls[i].failed;
    wa_reply(rs, j, failed);
}
