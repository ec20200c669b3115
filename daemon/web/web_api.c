/* The nurse's API (docs/web-api.md): its routes, the Today queue and the day
 * report. Actions are in web_api_actions.c, people in web_api_people.c, the CSV
 * exports in web_csv.c. The lists are the CLI's own listings (gatescreen flags,
 * alerts, absences), so the page and the command line never disagree; teachers
 * get only their class's rows. */
#include <string.h>

#include "ledger_health.h"
#include "ledger_web.h"
#include "textnum.h"
#include "web_api.h"

const struct web_route web_api_routes[] = {
    {"GET", "/api/v1/today", ROLES_STAFF, false, wa_today},
    {"GET", "/api/v1/people", ROLES_STAFF, false, wa_people_search},
    {"GET", "/api/v1/people/:id", ROLES_STAFF, false, wa_person},
    {"POST", "/api/v1/people/:id/recheck", ROLES_STAFF, true, wa_recheck},
    {"POST", "/api/v1/people/:id/referral", ROLES_STAFF, true, wa_referral},
    {"POST", "/api/v1/people/:id/absence", ROLES_STAFF, true, wa_absence},
    {"POST", "/api/v1/people/:id/leave", ROLES_STAFF, true, wa_leave},
    {"POST", "/api/v1/people/:id/certificate", ROLES_STAFF, true, wa_certificate},
    {"POST", "/api/v1/people/:id/check", ROLES_STAFF, true, wa_check},
    {"POST", "/api/v1/alerts/:id/close", ROLES_STAFF, true, wa_alert_close},
    {"GET", "/api/v1/day", ROLES_STAFF, false, wa_day_report},
    {"GET", "/api/v1/export/checks.csv", ROLES_STAFF, false, wa_csv_checks},
    {"GET", "/api/v1/export/absences.csv", ROLES_STAFF, false, wa_csv_absences},
    {"GET", "/api/v1/export/flags.csv", ROLES_STAFF, false, wa_csv_flags},
    {"GET", "/api/v1/registers", ROLES_STAFF, false, wa_registers},
    {"GET", "/api/v1/export/registers.csv", ROLES_STAFF, false, wa_csv_registers},
    {"GET", "/api/v1/trends", ROLE_BIT(ROLE_NURSE) | ROLE_BIT(ROLE_ADMIN), false, wa_trends},
    {"GET", "/api/v1/export/trends.csv", ROLE_BIT(ROLE_NURSE) | ROLE_BIT(ROLE_ADMIN), false,
     wa_csv_trends},
    {"GET", "/api/v1/observations", ROLES_STAFF, false, wa_observations},
    {"GET", "/api/v1/people/:id/observation", ROLES_STAFF, false, wa_person_observation},
    {"POST", "/api/v1/people/:id/observation", ROLES_STAFF, true, wa_observe},
    {"POST", "/api/v1/people/:id/observation/end", ROLES_STAFF, true, wa_observe_end},
    {NULL, NULL, 0, false, NULL},
};

/* The queue's lists are cut at this many items (the page cannot show more, and a
 * backlog must not make every request slow); "totals" has the full counts. */
#define TODAY_LIST_MAX 200

/* One list of the queue being filled by a ledger listing. */
struct list {
    const struct web_request *rq;
    json_t *items;
    bool failed;
    int total; /* items the user may see, listed or not */
};

/* Whether an item of that class goes into the list: the user may see it, and the
 * list is not full (it is counted either way). */
static bool take(struct list *ls, const char *class_name)
{
    if (!wa_may_see(ls->rq, class_name))
        return false;
    return ++ls->total <= TODAY_LIST_MAX;
}

/* ---- Today ------------------------------------------------------------------------ */

static void flag_item(const struct flag_view *v, void *arg)
{
    struct list *ls = arg;
    if (!take(ls, v->class_name))
        return; /* an unknown card has no class: the nurse's alone */
    json_t *person = *v->external_id ? wa_person_json(v->external_id, v->name, v->class_name)
                                     : json_null();
    wa_append(ls->items, json_pack("{s:I, s:o, s:o, s:o, s:o, s:I, s:i, s:i}", "id",
                                   (json_int_t)v->id, "person", person, "card",
                                   v->has_card ? json_integer((json_int_t)v->card) : json_null(),
                                   "day", wa_str(v->day), "lane", wa_str_or_null(v->lane),
                                   "opened_ms", (json_int_t)v->opened_ms, "screen_centi",
                                   v->screen_centi, "threshold_centi", v->threshold_centi),
              &ls->failed);
}

static void referral_item(const struct referral_view *v, void *arg)
{
    struct list *ls = arg;
    if (!take(ls, v->class_name))
        return;
    wa_append(ls->items, json_pack("{s:I, s:o, s:o, s:I, s:i, s:i, s:o}", "id", (json_int_t)v->id,
                                   "person", wa_person_json(v->external_id, v->name, v->class_name),
                                   "day", wa_str(v->day), "opened_ms", (json_int_t)v->opened_ms,
                                   "screen_centi", v->screen_centi, "recheck_centi",
                                   v->recheck_centi, "recheck_instrument",
                                   wa_str(v->recheck_instrument)),
              &ls->failed);
}

static void absence_item(const struct absence_view *v, void *arg)
{
    struct list *ls = arg;
    if (!take(ls, v->class_name))
        return;
    wa_append(ls->items, json_pack("{s:o, s:o, s:o, s:o, s:i, s:o}", "person",
                                   wa_person_json(v->external_id, v->name, v->class_name), "day",
                                   wa_str(v->day), "cause", wa_str(v->cause), "late_ms",
                                   wa_id_or_null(v->late_ms), "followups", v->followups,
                                   "last_followup", wa_str_or_null(v->last_followup)),
              &ls->failed);
}

/* A noon or evening absence (午检缺勤, 晚检缺勤) still without a cause. */
static void part_absence_item(const struct part_absence_view *v, void *arg)
{
    struct list *ls = arg;
    if (!take(ls, v->class_name))
        return;
    wa_append(ls->items, json_pack("{s:o, s:o, s:o, s:I}", "person",
                                   wa_person_json(v->external_id, v->name, v->class_name), "day",
                                   wa_str(v->day), "part", wa_str(v->part), "recorded_ms",
                                   (json_int_t)v->recorded_ms),
              &ls->failed);
}

static void return_item(const struct lw_return *v, void *arg)
{
    struct list *ls = arg;
    if (!take(ls, v->class_name))
        return;
    wa_append(ls->items, json_pack("{s:o, s:o, s:o, s:I}", "person",
                                   wa_person_json(v->external_id, v->name, v->class_name),
                                   "absence_day", wa_str(v->event_day), "cause", wa_str(v->cause),
                                   "arrived_ms", (json_int_t)v->arrived_ms),
              &ls->failed);
}

static void alert_item(const struct alert_view *v, void *arg)
{
    struct list *ls = arg;
    if (v->closed_ms || !take(ls, v->class_name))
        return; /* the queue holds the open ones; closed ones are history */
    wa_append(ls->items, json_pack("{s:I, s:o, s:o, s:o, s:I, s:i, s:o}", "id", (json_int_t)v->id,
                                   "class", wa_str(v->class_name), "rule", wa_str(v->rule), "day",
                                   wa_str(v->day), "opened_ms", (json_int_t)v->opened_ms, "cases",
                                   v->cases, "people", wa_list_json(v->people)),
              &ls->failed);
}

enum { L_FLAGS, L_REFERRALS, L_ABSENCES, L_PARTS, L_RETURNS, L_ALERTS, NLISTS };

static const char *const list_names[NLISTS] = {"flags", "referrals", "absences",
                                               "part_absences", "returns", "alerts"};

/* Fills the lists; -1 when the ledger failed (logged). The absences are cut by
 * the ledger (a backlog of them is the one list that grows without anyone's
 * doing), and counted there. */
static int today_lists(struct ledger *l, const struct web_request *rq, const char *day,
                       struct list *ls)
{
    const char *scope = wa_scope(rq);
    if (ledger_list_open_flags(l, flag_item, &ls[L_FLAGS]) < 0 ||
        ledger_list_open_referrals(l, referral_item, &ls[L_REFERRALS]) < 0 ||
        ledger_web_unexplained(l, day, scope, TODAY_LIST_MAX, absence_item,
                               &ls[L_ABSENCES]) < 0 ||
        ledger_web_count_unexplained(l, day, scope, &ls[L_ABSENCES].total) < 0 ||
        ledger_list_part_absences(l, day, scope, true, part_absence_item, &ls[L_PARTS]) < 0 ||
        ledger_web_returns(l, day, scope, return_item, &ls[L_RETURNS]) < 0 ||
        ledger_list_alerts(l, alert_item, &ls[L_ALERTS]) < 0)
        return -1;
    return 0;
}

/* {"date", the lists by name, "totals": {name: count}}; NULL when out of memory
 * (the lists are freed either way). */
static json_t *today_json(const char *day, struct list *ls)
{
    json_t *j = json_pack("{s:o, s:{}}", "date", wa_str(day), "totals");
    json_t *totals = j ? json_object_get(j, "totals") : NULL;
    bool failed = !totals;
    for (int i = 0; i < NLISTS; i++) {
        if (!j || json_object_set_new(j, list_names[i], ls[i].items) < 0 ||
            json_object_set_new(totals, list_names[i], json_integer(ls[i].total)) < 0)
            failed = true;
    }
    if (failed && j)
        json_decref(j);
    else if (failed)
        for (int i = 0; i < NLISTS; i++)
            json_decref(ls[i].items);
    return failed ? NULL : j;
}

void wa_today(struct web_request *rq, struct web_response *rs)
{
    char day[LEDGER_DAY_LEN];
    struct ledger *l;
    if (wa_query_day(rq, rs, day) < 0 || !(l = web_ledger(rq, rs)))
        return;
    struct list ls[NLISTS];
    bool failed = false;
    for (int i = 0; i < NLISTS; i++) {
        ls[i] = (struct list){.rq = rq, .items = json_array()};
        failed = failed || !ls[i].items;
    }
    failed = failed || today_lists(l, rq, day, ls) < 0;
    for (int i = 0; i < NLISTS; i++)
        failed = failed || ls[i].failed;
    wa_reply(rs, today_json(day, ls), failed);
}

/* ---- day report ------------------------------------------------------------------- */

static json_t *figures_json(const struct day_figures *f)
{
    json_t *o = json_object();
    for (int i = 0; o && i < FIG_COUNT; i++)
        if (json_object_set_new(o, day_figure_name(i), json_integer(f->v[i])) < 0) {
            json_decref(o);
            return NULL;
        }
    return o;
}

/* A summary's revision is the last part of its key ("CODE/DAY/REV"). */
static json_t *revision_of(const struct outbox_view *v)
{
    const char *slash = strrchr(v->key, '/');
    long rev;
    if (strcmp(v->kind, "summary") != 0 || !slash || tn_long(slash + 1, 0, INT32_MAX, &rev) < 0)
        return json_null();
    return json_integer(rev);
}

static void upload_item(const struct outbox_view *v, void *arg)
{
    struct list *ls = arg;
    bool pending = strcmp(v->state, "pending") == 0;
    wa_append(ls->items,
              json_pack("{s:I, s:o, s:o, s:o, s:o, s:i, s:o, s:I, s:o, s:o}", "id",
                        (json_int_t)v->id, "kind", wa_str(v->kind), "key", wa_str(v->key),
                        "revision", revision_of(v), "state", wa_str(v->state), "attempts",
                        v->attempts, "last_error", wa_str_or_null(v->last_error), "created_ms",
                        (json_int_t)v->created_ms, "sent_ms", wa_id_or_null(v->sent_ms),
                        "next_attempt_ms", pending ? json_integer(v->next_attempt_ms)
                                                   : json_null()),
              &ls->failed);
}

int wa_day_figures(struct web_request *rq, struct ledger *l, const char *day,
                   const struct fig_set *which, struct day_figures *f, bool *stored)
{
    struct day_figures kept;
    int found = 0;
    struct fig_set w = *which;
    w.on[FIG_READINGS] = true; /* tells whether the day was purged */
    if (ledger_day_figures_of(l, day, &rq->cfg->windows, &w, f) < 0 ||
        ledger_load_day_figures(l, day, &kept, &found) < 0)
        return -1;
    /* As `gatescreen day`: once a day's readings are purged only the stored figures
     * still tell it whole (a day that never had readings is the ledger's). */
    *stored = found && f->v[FIG_READINGS] == 0 && kept.v[FIG_READINGS] > 0;
    if (*stored)
        *f = kept;
    return 0;
}

void wa_day_report(struct web_request *rq, struct web_response *rs)
{
    char day[LEDGER_DAY_LEN];
    struct ledger *l;
    if (wa_query_day(rq, rs, day) < 0 || !(l = web_ledger(rq, rs)))
        return;
    struct day_figures f;
    bool stored = false;
    struct fig_set all = ledger_fig_all();
    struct list up = {.rq = rq, .items = json_array()};
    bool failed = !up.items || wa_day_figures(rq, l, day, &all, &f, &stored) < 0 ||
                  ledger_web_uploads(l, rq->cfg->school.code, day, upload_item, &up) < 0;
    wa_reply(rs, json_pack("{s:o, s:o, s:o, s:o, s:b}", "date", wa_str(day), "source",
                           wa_str(stored ? "stored" : "ledger"), "figures",
                           failed ? json_null() : figures_json(&f),
                           "upload", up.items, "upstream", rq->cfg->upstream.enabled),
             failed || up.failed);
}
