/* Health observation on the page (docs/web-api.md "Observation"): start and end
 * one (the same ledger calls and rules as `gatescreen observe`), who is under
 * observation on a day, and one person's observations with every reading and
 * check of their days. Teachers see and act on their class only. */
#include <inttypes.h>
#include <string.h>

#include "clock.h"
#include "ledger_observe.h"
#include "textnum.h"
#include "web_api.h"

/* ---- JSON of one observation ----------------------------------------------------------- */

static json_t *observation_json(const struct observation_view *v)
{
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:i, s:i, s:o, s:o}",
                     "id", (json_int_t)v->id,
                     "person", wa_person_json(v->external_id, v->name, v->class_name),
                     "reason", wa_str(v->reason), "note", wa_str(v->note),
                     "from", wa_str(v->from_day), "to", wa_str(v->to_day),
                     "ended_day", wa_str_or_null(v->ended_day), "by", wa_str(v->by),
                     "readings", v->readings, "referred", v->referred, "fevers", v->fevers,
                     "last_centi", v->last_ms ? json_integer(v->last_centi) : json_null(),
                     "last_ms", wa_id_or_null(v->last_ms));
}

struct obs_list {
    const struct web_request *rq;
    json_t *items;
    bool failed;
};

static void list_item(const struct observation_view *v, void *arg)
{
    struct obs_list *ls = arg;
    if (wa_may_see(ls->rq, v->class_name))
        wa_append(ls->items, observation_json(v), &ls->failed);
}

/* GET /api/v1/observations?date=&class= */
void wa_observations(struct web_request *rq, struct web_response *rs)
{
    char day[LEDGER_DAY_LEN];
    const char *class_name;
    struct ledger *l;
    if (wa_query_day(rq, rs, day) < 0 || wa_query_class(rq, rs, &class_name) < 0 ||
        !(l = web_ledger(rq, rs)))
        return;
    struct obs_list ls = {.rq = rq, .items = json_array()};
    bool failed = !ls.items || ledger_list_observations(l, day, class_name, list_item, &ls) < 0;
    wa_reply(rs, json_pack("{s:o, s:I, s:o}", "date", wa_str(day), "count",
                           (json_int_t)(ls.items ? json_array_size(ls.items) : 0), "people",
                           ls.items),
             failed || ls.failed);
}

/* ---- one person ------------------------------------------------------------------------ */

static void check_item(const struct observed_check_view *v, void *arg)
{
    struct obs_list *ls = arg;
    bool gate = strcmp(v->source, "gate") == 0 && *v->lane;
    wa_append(ls->items,
              json_pack("{s:I, s:I, s:o, s:o, s:o, s:i, s:o, s:o}", "observation_id",
                        (json_int_t)v->observation_id, "at_ms", (json_int_t)v->at_ms, "day",
                        wa_str(v->day), "source", wa_str(v->source), "temp_centi",
                        v->has_temp ? json_integer(v->temp_centi) : json_null(),
                        "threshold_centi", v->threshold_centi,
                        gate ? "outcome" : "window", wa_str(v->outcome), "lane",
                        wa_str_or_null(v->lane)),
              &ls->failed);
}

/* GET /api/v1/people/:id/observation: {"person", "observations", "checks"}. */
void wa_person_observation(struct web_request *rq, struct web_response *rs)
{
    struct ledger *l;
    struct lw_person p;
    if (wa_route_person(rq, rs, &l, &p) < 0)
        return;
    struct obs_list obs = {.rq = rq, .items = json_array()};
    struct obs_list checks = {.rq = rq, .items = json_array()};
    struct wa_errs e;
    FILE *errs = wa_errs_open(&e);
    enum ledger_status st = obs.items && checks.items
        ? ledger_person_observations(l, p.external_id, list_item, &obs, errs) : LEDGER_IO;
    if (st == LEDGER_OK)
        st = ledger_observed_checks(l, p.external_id, check_item, &checks, errs);
    if (wa_errs_finish(&e, st, rs) < 0) {
        json_decref(obs.items);
        json_decref(checks.items);
        return;
    }
    wa_reply(rs, json_pack("{s:o, s:o, s:o}", "person",
                           wa_person_json(p.external_id, p.name, p.class_name), "observations",
                           obs.items, "checks", checks.items),
             obs.failed || checks.failed);
}

/* ---- start and end --------------------------------------------------------------------- */

static int observe_values(struct web_request *rq, struct web_response *rs, json_t *body,
                          struct observe_in *in, char from[LEDGER_DAY_LEN])
{
    bool given;
    json_t *days = json_object_get(body, "days");
    if (wa_enum(rs, body, "reason", true, observe_reasons, &in->reason) < 0 ||
        wa_text(rs, body, "note", false, OBSERVE_NOTE_MAX, false, &in->note) < 0 ||
        wa_day(rs, body, "from", false, false, from, &given) < 0)
        return -1;
    if (!days || !json_is_integer(days) || json_integer_value(days) < 1 ||
        json_integer_value(days) > OBSERVE_DAYS_MAX) {
        web_error(rs, 400, "days must be a whole number of days from 1 to %d",
                  OBSERVE_DAYS_MAX);
        return -1;
    }
    in->days = (int)json_integer_value(days);
    if (!given && wa_today_day(rs, from) < 0)
        return -1;
    in->from_day = from;
    in->by = rq->user->name;
    in->at_ms = clock_wall_ms();
    return 0;
}

/* POST /api/v1/people/:id/observation {"reason", "days", "from"?, "note"?} */
void wa_observe(struct web_request *rq, struct web_response *rs)
{
    static const char *const keys[] = {"reason", "days", "from", "note", NULL};
    struct ledger *l;
    struct lw_person p;
    json_t *body = NULL;
    char from[LEDGER_DAY_LEN], to[LEDGER_DAY_LEN];
    struct observe_in in = {0};
    if (wa_route_person(rq, rs, &l, &p) == 0 && (body = web_body_object(rq, rs, keys)) &&
        observe_values(rq, rs, body, &in, from) == 0) {
        in.person = p.external_id;
        int64_t id = 0;
        struct wa_errs e;
        if (wa_errs_finish(&e, ledger_observe(l, &in, &id, to, wa_errs_open(&e)), rs) == 0) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s: under observation from %s to %s; the gate %s",
                     p.external_id, from, to, rq->cfg->screening.observation_refer
                         ? "sends them to the nurse" : "admits them with a note");
            wa_reply(rs, json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)id,
                                   "person", wa_str(p.external_id), "reason", wa_str(in.reason),
                                   "from", wa_str(from), "to", wa_str(to), "message",
                                   wa_str(msg)),
                     false);
        }
    }
    json_decref(body);
}

/* POST /api/v1/people/:id/observation/end {} */
void wa_observe_end(struct web_request *rq, struct web_response *rs)
{
    static const char *const keys[] = {NULL};
    struct ledger *l;
    struct lw_person p;
    json_t *body = NULL;
    if (wa_route_person(rq, rs, &l, &p) == 0 && (body = web_body_object(rq, rs, keys))) {
        struct wa_errs e;
        if (wa_errs_finish(&e, ledger_observe_end(l, p.external_id, rq->user->name,
                                                  clock_wall_ms(), wa_errs_open(&e)), rs) == 0) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s: observation ended", p.external_id);
            wa_reply(rs, json_pack("{s:o, s:o}", "person", wa_str(p.external_id), "message",
                                   wa_str(msg)),
                     false);
        }
    }
    json_decref(body);
}
