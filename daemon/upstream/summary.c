/* The documents the bureau receives (docs/design.md, "Upstream"), built with
 * jansson: the daily summary (config/schema/summary.schema.json) and the urgent
 * notices (config/schema/notice.schema.json). Keys are sorted and numbers printed
 * the same way every time, so that one day's facts always give the same text: the
 * uploader and summary_same_facts rely on that.
 *
 * The summary holds aggregates only. A notice names a person by a keyed pseudonym
 * plus class, or, with [upstream] identify = names, by id, name and kind too.
 *
 * The reads the documents need beyond ledger_health.h (one referral, one alert and
 * its cases, a lane's availability) are the views of ledger_upstream.h: this file
 * runs no SQL of its own. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "civil.h"
#include "config.h"
#include "ledger_calendar.h"
#include "ledger_health.h"
#include "ledger_slots.h"
#include "ledger_upstream.h"
#include "log.h"
#include "upstream.h"

#define SUMMARY_SCHEMA "gatescreen.summary/2"
#define NOTICE_SCHEMA "gatescreen.notice/1"
/* Permille and centi-degrees divided by 1000 and 100 have at most 4 significant
 * digits: %.4g prints them exactly (0.571, 37.85) instead of 0.57099999999999995. */
#define DUMP_FLAGS (JSON_SORT_KEYS | JSON_REAL_PRECISION(4))

/* ---- shared pieces ----------------------------------------------------------------- */

static json_t *school_json(const struct config *cfg)
{
    return json_pack("{s:s, s:s}", "code", cfg->school.code, "name", cfg->school.name);
}

/* Compact text of a finished document (which it releases); -1 when building any
 * part of it failed (doc NULL: out of memory or text that is not UTF-8). */
static int finish(json_t *doc, const char *what, char **json)
{
    *json = doc ? json_dumps(doc, JSON_COMPACT | DUMP_FLAGS) : NULL;
    json_decref(doc);
    if (!*json)
        log_err("%s: cannot build the JSON document (out of memory, or text that is not "
                "UTF-8 in the ledger)", what);
    return *json ? 0 : -1;
}

/* doc with the members of `more` added; both released if either is NULL (a part
 * failed: json_pack gives NULL when one of its parts is NULL) or on failure. */
static json_t *merge(json_t *doc, json_t *more)
{
    if (doc && more && json_object_update(doc, more) == 0) {
        json_decref(more);
        return doc;
    }
    json_decref(doc);
    json_decref(more);
    return NULL;
}

int summary_pretty(const char *json, char **out)
{
    json_error_t e;
    json_t *doc = json_loads(json, 0, &e);
    *out = doc ? json_dumps(doc, JSON_INDENT(2) | DUMP_FLAGS) : NULL;
    json_decref(doc);
    if (!*out)
        log_err("document: %s", doc ? "out of memory" : e.text);
    return *out ? 0 : -1;
}

/* ---- the daily summary ------------------------------------------------------------- */

/* {"name": n, ...} for the figures first..last (one group, in the ledger's order),
 * named as in day_figures without the group's prefix: "absences.illness" is
 * "illness". The ledger's table names the document's keys, so no second list. */
static json_t *group_json(const struct day_figures *f, enum day_figure first,
                          enum day_figure last)
{
    json_t *o = json_object();
    for (int i = (int)first; o && i <= (int)last; i++) {
        const char *name = day_figure_name(i);
        const char *dot = strchr(name, '.');
        if (json_object_set_new(o, dot ? dot + 1 : name, json_integer(f->v[i])) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* A window's figures: done, all and coverage follow each other in the ledger's
 * order (LEDGER_DAY_FIGURES), for everyone and for each group. */
static json_t *window_of(const struct day_figures *f, enum day_figure expected,
                         enum day_figure done, enum day_figure all, enum day_figure coverage)
{
    return json_pack("{s:i, s:i, s:f, s:i}", "done", f->v[done], "expected", f->v[expected],
                     "coverage", f->v[coverage] / 1000.0, "all", f->v[all]);
}

static json_t *window_json(const struct day_figures *f, enum day_figure done,
                           enum day_figure all, enum day_figure coverage)
{
    return window_of(f, FIG_EXPECTED, done, all, coverage);
}

/* Noon is null for a school without noon checks, rather than a row of zeros that
 * would read as nobody checked. */
static bool has_noon(const struct config *cfg, const struct day_figures *f)
{
    return cfg->windows.noon_enabled || f->v[FIG_NOON_ALL] > 0;
}

static json_t *checks_json(const struct config *cfg, const struct day_figures *f)
{
    return json_pack("{s:o, s:o}", "morning",
                     window_json(f, FIG_MORNING_DONE, FIG_MORNING_ALL, FIG_MORNING_COVERAGE),
                     "noon", has_noon(cfg, f)
                                 ? window_json(f, FIG_NOON_DONE, FIG_NOON_ALL, FIG_NOON_COVERAGE)
                                 : json_null());
}

/* One group of people (students, or staff: teachers and other staff), from its
 * figures FIG_xxx_EXPECTED .. FIG_xxx_ABS_ILLNESS; population is the roster's. */
static json_t *group_of(const struct config *cfg, const struct day_figures *f, int population,
                        enum day_figure first)
{
    enum day_figure e = first, md = e + 1, ma = e + 2, mc = e + 3, nd = e + 4, na = e + 5,
                    nc = e + 6, abs = e + 7, ill = e + 8;
    return json_pack("{s:i, s:i, s:{s:o, s:o}, s:{s:i, s:i}}", "population", population,
                     "expected", f->v[e], "checks", "morning", window_of(f, e, md, ma, mc),
                     "noon", has_noon(cfg, f) ? window_of(f, e, nd, na, nc) : json_null(),
                     "absences", "all", f->v[abs], "illness", f->v[ill]);
}

static json_t *groups_json(const struct config *cfg, const struct day_figures *f)
{
    _Static_assert(FIG_STU_ABS_ILLNESS == FIG_STU_EXPECTED + 8 &&
                       FIG_STF_ABS_ILLNESS == FIG_STF_EXPECTED + 8,
                   "group_of's order of a group's figures");
    return json_pack("{s:o, s:o}", "students",
                     group_of(cfg, f, f->v[FIG_POP_STUDENT], FIG_STU_EXPECTED), "staff",
                     group_of(cfg, f, f->v[FIG_POP_TEACHER] + f->v[FIG_POP_STAFF],
                              FIG_STF_EXPECTED));
}

/* Why the school was closed on the day: a closure in the ledger (its reason), a
 * holiday or a day outside the term of [calendar]; null on a school day and on a
 * weekend (the bureau's calendar knows weekends). */
static json_t *closed_json(struct ledger *l, const struct config *cfg, const char *day)
{
    char reason[LEDGER_REASON_MAX * 4 + 1];
    const struct cfg_calendar *c = &cfg->windows.calendar;
    int closed = ledger_day_closed(l, day, reason, sizeof reason);
    enum civil_day_kind kind = civil_day_kind(&cfg->windows, day);
    if (closed < 0)
        return NULL;
    if (closed)
        return json_pack("{s:s, s:s}", "kind", "closure", "reason", reason);
    if (kind == CIVIL_HOLIDAY)
        return json_pack("{s:s, s:s}", "kind", "holiday", "reason", "节假日 (holidays)");
    if (kind == CIVIL_OUT_OF_TERM) {
        snprintf(reason, sizeof reason, "假期 (outside the term %s..%s)",
                 c->term_start[0] ? c->term_start : "", c->term_end[0] ? c->term_end : "");
        return json_pack("{s:s, s:s}", "kind", "out_of_term", "reason", reason);
    }
    return json_null();
}

/* One entry per [grade] or [class] with its own arrival slot (错峰上学). */
static int add_slots(struct ledger *l, const struct cfg_windows *w, const char *day,
                     const struct cfg_group *g, int n, bool is_class, json_t *list)
{
    char a[16], b[16];
    for (int i = 0; i < n; i++) {
        struct slot_counts c;
        if (!g[i].has_slot)
            continue;
        if (ledger_slot_counts(l, day, w, &g[i], is_class, &c) < 0)
            return -1;
        snprintf(a, sizeof a, "%02d:%02d", g[i].slot_start / 60, g[i].slot_start % 60);
        snprintf(b, sizeof b, "%02d:%02d", g[i].slot_end / 60, g[i].slot_end % 60);
        if (json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:i, s:i, s:i}", "group",
                                                  g[i].name, "start", a, "end", b, "expected",
                                                  c.expected, "arrived", c.arrived, "late",
                                                  c.late)) < 0)
            return -1;
    }
    return 0;
}

static json_t *slots_json(struct ledger *l, const struct config *cfg, const char *day)
{
    const struct cfg_windows *w = &cfg->windows;
    json_t *list = json_array();
    if (!list || add_slots(l, w, day, w->grades, w->ngrades, false, list) < 0 ||
        add_slots(l, w, day, w->classes, w->nclasses, true, list) < 0) {
        json_decref(list);
        return NULL;
    }
    return list;
}

/* all = by_cause (illness, personal, other, late) + unexplained (cause unknown). */
static json_t *absences_json(const struct day_figures *f)
{
    return json_pack("{s:i, s:o, s:i, s:o}", "all", f->v[FIG_ABSENCES], "by_cause",
                     group_json(f, FIG_ABS_ILLNESS, FIG_ABS_LATE), "unexplained",
                     f->v[FIG_ABS_UNKNOWN], "by_symptom", group_json(f, FIG_SYM_FEVER, FIG_SYM_OTHER));
}

/* One part of the day's absences (午检缺勤, 晚检缺勤) from its figures `all` ..
 * (LEDGER_PART_FIGURES: all, unknown, illness, personal, other); null when the
 * school does not sweep that part and has none, rather than zeros that would read
 * as nobody missing. */
static json_t *part_json(const struct day_figures *f, enum day_figure all, bool swept)
{
    if (!swept && f->v[all] == 0)
        return json_null();
    return json_pack("{s:i, s:i, s:{s:i, s:i, s:i}}", "all", f->v[all], "unexplained",
                     f->v[all + 1], "by_cause", "illness", f->v[all + 2], "personal",
                     f->v[all + 3], "other", f->v[all + 4]);
}

/* {"part_absences": {"noon", "evening"}}, or {} when both would be null: a school
 * without part-day sweeps sends the document it sent before the member existed,
 * which a collector built before then still accepts (the schema's top level allows
 * no unknown member). */
static json_t *part_absences_json(const struct config *cfg, const struct day_figures *f)
{
    _Static_assert(FIG_PART_NOON_OTHER == FIG_PART_NOON + 4 &&
                       FIG_PART_EVENING_OTHER == FIG_PART_EVENING + 4,
                   "part_json's order of a part's figures");
    const struct cfg_windows *w = &cfg->windows;
    json_t *noon = part_json(f, FIG_PART_NOON, w->noon_enabled && w->noon_sweep);
    json_t *evening = part_json(f, FIG_PART_EVENING, w->evening_enabled);
    if (json_is_null(noon) && json_is_null(evening))
        return json_object();
    return json_pack("{s:{s:o, s:o}}", "part_absences", "noon", noon, "evening", evening);
}

static json_t *referrals_json(const struct day_figures *f)
{
    return json_pack("{s:i, s:o, s:i}", "opened", f->v[FIG_REFERRALS], "by_outcome",
                     group_json(f, FIG_REF_SENT_HOME, FIG_REF_RETURNED),
                     "pending", f->v[FIG_REF_PENDING]);
}

struct open_alerts {
    const char *day;
    json_t *list;
    bool failed;
};

/* Alerts open now, of the summary's day or before (a summary of an earlier day
 * does not report what came later). The class is a group, not a person. */
static void add_open_alert(const struct alert_view *v, void *arg)
{
    struct open_alerts *o = arg;
    if (v->closed_ms || strcmp(v->day, o->day) > 0)
        return;
    json_t *a = json_pack("{s:s, s:s, s:s, s:i}", "class", v->class_name, "rule", v->rule,
                          "day", v->day, "cases", v->cases);
    if (json_array_append_new(o->list, a) < 0)
        o->failed = true;
}

static json_t *alerts_json(struct ledger *l, const struct day_figures *f)
{
    struct open_alerts o = {.day = f->day, .list = json_array()};
    if (!o.list || ledger_list_alerts(l, add_open_alert, &o) < 0 || o.failed) {
        json_decref(o.list);
        return NULL;
    }
    return json_pack("{s:i, s:I, s:o}", "opened", f->v[FIG_ALERTS_OPENED], "open_count",
                     (json_int_t)json_array_size(o.list), "open", o.list);
}

/* Every configured lane, with the share of the school day its devices were online
 * as the daemon stored it; null before the daemon stored any for the day. */
static json_t *devices_json(struct ledger *l, const struct config *cfg, const char *day)
{
    json_t *list = json_array();
    for (int i = 0; list && i < cfg->nlanes; i++) {
        int permille = 0, found = ledger_lane_availability(l, day, cfg->lanes[i].name, &permille);
        json_t *d = found < 0 ? NULL
                              : json_pack("{s:s, s:s, s:o}", "lane", cfg->lanes[i].name, "gate",
                                          cfg->lanes[i].gate,
                                          "availability", found ? json_real(permille / 1000.0)
                                                                : json_null());
        if (json_array_append_new(list, d) < 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

/* The day's figures as the ledger tells them now; once the day's readings are
 * purged, the ones stored before the purge (as `gatescreen day` shows them). */
static int figures_of(struct ledger *l, const struct config *cfg, const char *day,
                      struct day_figures *f)
{
    struct day_figures kept;
    int stored = 0;
    if (ledger_day_figures(l, day, &cfg->windows, f) < 0)
        return -1;
    if (f->v[FIG_READINGS] > 0)
        return 0;
    if (ledger_load_day_figures(l, day, &kept, &stored) < 0)
        return -1;
    if (kept.v[FIG_READINGS] > 0)
        *f = kept;
    return 0;
}

static json_t *summary_json(struct ledger *l, const struct config *cfg,
                            const struct day_figures *f, int revision, int64_t generated_ms)
{
    char at[CIVIL_ISO_LEN];
    json_t *doc = json_pack(
        "{s:s, s:o, s:s, s:i, s:s, s:o, s:i, s:i, s:o, s:o, s:o, s:o}", "schema", SUMMARY_SCHEMA,
        "school", school_json(cfg), "date", f->day, "revision", revision, "generated_at",
        civil_utc_iso(generated_ms, at), "population",
        group_json(f, FIG_POP_STUDENT, FIG_POP_TOTAL),
        "expected", f->v[FIG_EXPECTED], "on_leave", f->v[FIG_ON_LEAVE], "checks",
        checks_json(cfg, f), "fevers",
        group_json(f, FIG_SCREENS, FIG_SCREENS_OPEN),
        "referrals", referrals_json(f), "absences", absences_json(f));
    /* In two parts, to keep each json_pack call readable. */
    /* Returns are two groups of the ledger's (returns., certificates.). */
    doc = merge(doc, json_pack("{s:{s:i, s:i}, s:o, s:o}", "returns", "after_illness",
                               f->v[FIG_RETURNS_AFTER_ILLNESS], "certificates_recorded",
                               f->v[FIG_CERTIFICATES],
                               "alerts", alerts_json(l, f), "devices",
                               devices_json(l, cfg, f->day)));
    /* Version 2's: closed (null on a school day), the groups, the arrival slots, the
     * people under health observation, the day's visitors (counts only) and the noon
     * and evening absences (optional in the schema: older v2 senders lack it). */
    doc = merge(doc, json_pack("{s:{s:i}, s:{s:i, s:i, s:i}}", "observation", "under",
                               f->v[FIG_OBSERVED], "visitors", "registered", f->v[FIG_VISITORS],
                               "admitted", f->v[FIG_VISITORS] - f->v[FIG_VISITORS_REFUSED],
                               "refused", f->v[FIG_VISITORS_REFUSED]));
    doc = merge(doc, part_absences_json(cfg, f));
    return merge(doc, json_pack("{s:o, s:o, s:o}", "closed", closed_json(l, cfg, f->day), "groups",
                                groups_json(cfg, f), "arrival_slots",
                                slots_json(l, cfg, f->day)));
}

int summary_build(struct ledger *l, const struct config *cfg, const char *day, int revision,
                  int64_t generated_ms, char **json)
{
    struct day_figures f;
    *json = NULL;
    if (figures_of(l, cfg, day, &f) < 0)
        return -1;
    return finish(summary_json(l, cfg, &f, revision, generated_ms), "summary", json);
}

/* The document without what changes from one send to the next; NULL if not JSON. */
static json_t *facts_of(const char *json)
{
    json_error_t e;
    json_t *doc = json_loads(json, 0, &e);
    if (!doc || !json_is_object(doc)) {
        log_err("summary: not a JSON object: %s", doc ? "another type" : e.text);
        json_decref(doc);
        return NULL;
    }
    json_object_del(doc, "revision");
    json_object_del(doc, "generated_at");
    return doc;
}

int summary_same_facts(const char *a, const char *b, bool *same)
{
    json_t *da = facts_of(a), *db = da ? facts_of(b) : NULL;
    if (db)
        *same = json_equal(da, db);
    json_decref(da);
    json_decref(db);
    return db ? 0 : -1;
}

/* ---- urgent notices ---------------------------------------------------------------- */

/* What a notice is built from, and the document a callback built (NULL: a part
 * failed, or the ledger has no such row). */
struct notice_build {
    struct ledger *l;
    const struct config *cfg;
    const struct pseudonym *ps;
    int64_t generated_ms;
    json_t *doc;
};

/* The person as the configuration allows them upstream: pseudonym and class; with
 * identify = names also id, name and kind. Not the kind in pseudonym mode: a
 * teacher is one person per class, staff a handful, so with a pseudonym that never
 * changes the kind would name them. null for an unknown card. */
static json_t *person_json(const struct config *cfg, const struct pseudonym *ps,
                           const struct notice_person *p)
{
    char pseud[65];
    if (!p->external_id)
        return json_null();
    json_t *o = json_pack("{s:s}", "class", p->class_name);
    if (o && ps) {
        pseudonym_of(ps, p->external_id, pseud);
        if (json_object_set_new(o, "pseudonym", json_string(pseud)) < 0)
            goto fail;
    }
    if (o && cfg->upstream.identify_names &&
        (json_object_set_new(o, "external_id", json_string(p->external_id)) < 0 ||
         json_object_set_new(o, "name", json_string(p->name)) < 0 ||
         json_object_set_new(o, "kind", json_string(p->kind)) < 0))
        goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}

/* A notice names people by pseudonym unless names are configured: without a key it
 * cannot be built at all (rather than built with less in it). */
static int can_name(const struct config *cfg, const struct pseudonym *ps)
{
    if (ps || cfg->upstream.identify_names)
        return 0;
    log_err("notice: no pseudonym key ([upstream] secret_file) to name people with");
    return -1;
}

/* What every notice starts with. */
static json_t *notice_head(const struct notice_build *n, const char *type, const char *what,
                           int64_t id, int64_t opened_ms, const char *day)
{
    char nid[CFG_NAME_MAX + 48], gen[CIVIL_ISO_LEN], opened[CIVIL_ISO_LEN];
    /* The uploader's idempotency key: the same notice always has the same id. */
    snprintf(nid, sizeof nid, "%s/%s/%" PRId64, n->cfg->school.code, what, id);
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:s}", "schema", NOTICE_SCHEMA, "type", type,
                     "notice_id", nid, "school", school_json(n->cfg), "generated_at",
                     civil_utc_iso(n->generated_ms, gen), "opened_at", civil_utc_iso(opened_ms, opened),
                     "day", day);
}

/* Centi-degrees as °C, or null when not measured. */
static json_t *celsius(bool known, int centi)
{
    return known ? json_real(centi / 100.0) : json_null();
}

static json_t *text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static void referral_json(const struct referral_notice_view *v, void *arg)
{
    struct notice_build *n = arg;
    json_t *head = notice_head(n, "referral_opened", "referral", v->id, v->opened_ms, v->day);
    n->doc = merge(head, json_pack("{s:o, s:o, s:o, s:o, s:o}",
                                   "person", person_json(n->cfg, n->ps, &v->person),
                                   "screen_temperature", celsius(v->has_screen, v->screen_centi),
                                   "threshold", celsius(v->has_threshold, v->threshold_centi),
                                   "recheck_temperature", celsius(v->has_recheck, v->recheck_centi),
                                   "recheck_instrument", text_or_null(v->recheck_instrument)));
}

/* The end of a notice: found is the ledger's read (1 found, 0 no such case, -1
 * error); the document goes to *json when it was found. `what` names the case
 * ("referral") in the logs. */
static int notice_done(const struct notice_build *n, int found, const char *what, int64_t id,
                       char **json)
{
    if (found == 0)
        log_err("notice: no %s %" PRId64 " in the ledger", what, id);
    char label[64];
    snprintf(label, sizeof label, "%s notice", what);
    return found == 1 ? finish(n->doc, label, json) : -1;
}

int notice_build_referral(struct ledger *l, const struct config *cfg,
                          const struct pseudonym *ps, int64_t referral_id, int64_t generated_ms,
                          char **json)
{
    struct notice_build n = {l, cfg, ps, generated_ms, NULL};
    *json = NULL;
    if (can_name(cfg, ps) < 0)
        return -1;
    return notice_done(&n, ledger_referral_notice(l, referral_id, referral_json, &n),
                       "referral", referral_id, json);
}

struct case_list {
    const struct notice_build *n;
    json_t *list;
    bool failed;
};

static void add_case(const struct alert_case_view *v, void *arg)
{
    struct case_list *c = arg;
    if (c->failed)
        return;
    json_t *o = json_pack("{s:o, s:s, s:s}", "person", person_json(c->n->cfg, c->n->ps, &v->person),
                          "case_kind", v->case_kind, "day", v->day);
    if (json_array_append_new(c->list, o) < 0)
        c->failed = true;
}

/* The alert's cases, each person once per kind of case and day. */
static json_t *alert_cases(const struct notice_build *n, int64_t alert_id)
{
    struct case_list c = {.n = n, .list = json_array()};
    if (!c.list || ledger_list_alert_cases(n->l, alert_id, add_case, &c) < 0 || c.failed) {
        json_decref(c.list);
        return NULL;
    }
    return c.list;
}

static void alert_json(const struct alert_notice_view *v, void *arg)
{
    struct notice_build *n = arg;
    json_t *head = notice_head(n, "cluster_alert", "alert", v->id, v->opened_ms, v->day);
    n->doc = merge(head, json_pack("{s:s, s:s, s:i, s:o}", "class", v->class_name, "rule",
                                   v->rule, "case_count", v->cases, "cases",
                                   alert_cases(n, v->id)));
}

int notice_build_alert(struct ledger *l, const struct config *cfg, const struct pseudonym *ps,
                       int64_t alert_id, int64_t generated_ms, char **json)
{
    struct notice_build n = {l, cfg, ps, generated_ms, NULL};
    *json = NULL;
    if (can_name(cfg, ps) < 0)
        return -1;
    return notice_done(&n, ledger_alert_notice(l, alert_id, alert_json, &n), "cluster alert",
                       alert_id, json);
}
