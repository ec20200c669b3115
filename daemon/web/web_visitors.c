/* Visitors on the page (docs/web-api.md "Visitors"): gate staff (and the nurse,
 * administrators) register a visitor; the nurse's list of the day's visitors
 * refused for a fever. The rules are the ledger's (ledger_visitors.h); phones
 * are shown masked everywhere, temperatures to the nurse and administrators only
 * (the gate role sees what it needs at the gate: admitted or refused). */
#include <string.h>

#include "clock.h"
#include "ledger_visitors.h"
#include "textnum.h"
#include "web_api.h"

#define ROLES_VISITORS (ROLE_BIT(ROLE_GATE) | ROLE_BIT(ROLE_NURSE) | ROLE_BIT(ROLE_ADMIN))

/* 13812345678 -> 138****5678; short numbers keep their last two digits. Blanks
 * and dashes stay where they are. */
static void mask_phone(const char *phone, char *out, size_t n)
{
    int digits = 0, i = 0;
    for (const char *c = phone; *c; c++)
        digits += *c >= '0' && *c <= '9';
    int head = digits >= 9 ? 3 : 0, tail = digits >= 9 ? 4 : 2;
    size_t k = 0;
    for (const char *c = phone; *c && k + 1 < n; c++) {
        bool digit = *c >= '0' && *c <= '9';
        out[k++] = digit && i >= head && i < digits - tail ? '*' : *c;
        i += digit;
    }
    out[k] = '\0';
}

static bool sees_temperatures(const struct web_request *rq)
{
    return rq->user->role == ROLE_NURSE || rq->user->role == ROLE_ADMIN;
}

/* ---- register ---------------------------------------------------------------------- */

/* Exactly one of "temp_centi" (entered) and "lane" (its latest reading). */
static int temperature(struct web_request *rq, struct web_response *rs, json_t *body,
                       struct visitor_in *in)
{
    bool entered = json_object_get(body, "temp_centi") != NULL;
    if (entered == (json_object_get(body, "lane") != NULL)) {
        web_error(rs, 400, "give either temp_centi (the temperature taken) or lane (the lane "
                  "where the visitor was just measured), not both or neither");
        return -1;
    }
    if (entered)
        return wa_temp(rq, rs, body, "temp_centi", &in->temp_centi);
    if (wa_text(rs, body, "lane", true, CFG_NAME_MAX, false, &in->lane) < 0)
        return -1;
    for (int i = 0; i < rq->cfg->nlanes; i++)
        if (strcmp(rq->cfg->lanes[i].name, in->lane) == 0) {
            in->from_lane = true;
            return 0;
        }
    char names[256] = "";
    for (int i = 0; i < rq->cfg->nlanes; i++)
        tn_append(names, sizeof names, "%s%s", i ? ", " : "", rq->cfg->lanes[i].name);
    web_error(rs, 400, "lane '%s' is not a lane of this school (lanes: %s)", in->lane, names);
    return -1;
}

static int visitor_values(struct web_request *rq, struct web_response *rs, json_t *body,
                          struct visitor_in *in)
{
    *in = (struct visitor_in){.screening = &rq->cfg->screening, .by = rq->user->name,
                              .at_ms = clock_wall_ms()};
    if (wa_text(rs, body, "name", true, VISITOR_NAME_MAX, false, &in->name) < 0 ||
        wa_text(rs, body, "phone", true, VISITOR_PHONE_MAX, false, &in->phone) < 0 ||
        wa_text(rs, body, "organisation", false, VISITOR_TEXT_MAX, false,
                &in->organisation) < 0 ||
        wa_text(rs, body, "reason", true, VISITOR_TEXT_MAX, false, &in->reason) < 0 ||
        wa_text(rs, body, "host", true, VISITOR_NAME_MAX, false, &in->host) < 0 ||
        wa_text(rs, body, "approved_by", true, VISITOR_NAME_MAX, false, &in->approved_by) < 0)
        return -1;
    return temperature(rq, rs, body, in);
}

static void register_reply(struct web_response *rs, const struct visitor_in *in,
                           const struct visitor_result *out)
{
    char masked[VISITOR_PHONE_MAX + 1], t[16], th[16], msg[256];
    mask_phone(in->phone, masked, sizeof masked);
    snprintf(msg, sizeof msg, out->refused
             ? "%s: %s °C, at or above %s: not admitted; the nurse has been told"
             : "%s: %s °C: admitted", in->name, tn_format_centi(out->temp_centi, t, sizeof t),
             tn_format_centi(out->threshold_centi, th, sizeof th));
    wa_reply(rs, json_pack("{s:I, s:o, s:o, s:o, s:i, s:i, s:s, s:o, s:o}", "id",
                           (json_int_t)out->id, "day", wa_str(out->day), "name",
                           wa_str(in->name), "phone", wa_str(masked), "temp_centi",
                           out->temp_centi, "threshold_centi", out->threshold_centi, "outcome",
                           out->refused ? "refused" : "admitted", "temp_source",
                           wa_str(in->from_lane ? "lane" : "entered"), "message", wa_str(msg)),
             false);
}

/* POST /api/v1/visitors */
static void post_visitor(struct web_request *rq, struct web_response *rs)
{
    static const char *const keys[] = {"name", "phone", "organisation", "reason", "host",
                                       "approved_by", "temp_centi", "lane", NULL};
    struct visitor_in in;
    struct visitor_result out;
    struct ledger *l;
    json_t *body = web_body_object(rq, rs, keys);
    if (body && visitor_values(rq, rs, body, &in) == 0 && (l = web_ledger(rq, rs))) {
        struct wa_errs e;
        if (wa_errs_finish(&e, ledger_visitor_add(l, &in, &out, wa_errs_open(&e)), rs) == 0)
            register_reply(rs, &in, &out);
    }
    json_decref(body);
}

/* ---- the day's visitors ------------------------------------------------------------- */

struct vlist {
    const struct web_request *rq;
    json_t *items;
    bool failed;
};

static void visitor_item(const struct visitor_view *v, void *arg)
{
    struct vlist *ls = arg;
    char masked[VISITOR_PHONE_MAX + 1];
    mask_phone(v->phone, masked, sizeof masked);
    bool temps = sees_temperatures(ls->rq);
    wa_append(ls->items,
              json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                        "id", (json_int_t)v->id, "at_ms", (json_int_t)v->at_ms, "name",
                        wa_str(v->name), "phone", wa_str(masked), "organisation",
                        wa_str(v->organisation), "reason", wa_str(v->reason), "host",
                        wa_str(v->host), "approved_by", wa_str(v->approved_by), "by",
                        wa_str(v->by), "outcome", wa_str(v->outcome), "temp_source",
                        wa_str(v->temp_source), "lane", wa_str_or_null(v->lane), "temp_centi",
                        temps ? json_integer(v->temp_centi) : json_null(), "threshold_centi",
                        temps ? json_integer(v->threshold_centi) : json_null()),
              &ls->failed);
}

/* GET /api/v1/visitors?date=&refused=yes */
static void get_visitors(struct web_request *rq, struct web_response *rs)
{
    char day[LEDGER_DAY_LEN];
    struct ledger *l;
    const char *refused = web_query(rq, "refused");
    bool only = false;
    if (refused && tn_bool(refused, &only) < 0) {
        web_error(rs, 400, "refused must be yes or no");
        return;
    }
    if (wa_query_day(rq, rs, day) < 0 || !(l = web_ledger(rq, rs)))
        return;
    struct vlist ls = {.rq = rq, .items = json_array()};
    struct visitor_figures f;
    bool failed = !ls.items || ledger_list_visitors(l, day, only, visitor_item, &ls) < 0 ||
                  ledger_visitor_figures(l, day, &f) < 0;
    wa_reply(rs, failed ? NULL : json_pack("{s:o, s:{s:i, s:i, s:i}, s:o}", "date", wa_str(day),
                                           "figures", "registered", f.registered, "admitted",
                                           f.admitted, "refused", f.refused, "visitors",
                                           ls.items),
             failed || ls.failed);
    if (failed)
        json_decref(ls.items);
}

const struct web_route web_visitors_routes[] = {
    {"POST", "/api/v1/visitors", ROLES_VISITORS, true, post_visitor},
    {"GET", "/api/v1/visitors", ROLES_VISITORS, false, get_visitors},
    {NULL, NULL, 0, false, NULL},
};
