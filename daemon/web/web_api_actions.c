/* The nurse's actions on the page (docs/web-api.md "Actions"): the same ledger
 * calls as the CLI's nurse commands (cli_nurse.c), with the same rules, values
 * and audit rows (by = the signed-in user). Each handler checks the person and
 * the body completely before the ledger sees anything, so a refused request
 * writes nothing; what the ledger itself refuses (no open flag, a late day made
 * an illness, ...) comes back as a 409 with its own sentence. Each answer has
 * what the ledger did, and "message": the sentence the CLI would print. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "clock.h"
#include "textnum.h"
#include "web_api.h"

#define MSG_MAX 512
#define NOTE_MAX 1000  /* notes and diagnoses: a paragraph */
#define LINE_TEXT_MAX 200  /* an issuer, a reason: a line */

static const char *const clinics[] = {"yes", "no", "unknown", NULL};

/* The request's person, then its body with only `keys`: 0, or -1 with the
 * response set. *body is the caller's to json_decref. */
static int begin(struct web_request *rq, struct web_response *rs, const char *const *keys,
                 struct ledger **l, struct lw_person *p, json_t **body)
{
    *body = NULL;
    if (wa_route_person(rq, rs, l, p) < 0)
        return -1;
    *body = web_body_object(rq, rs, keys);
    return *body ? 0 : -1;
}

static json_t *alerts_json(const struct opened_alerts *o)
{
    json_t *a = json_array();
    for (int i = 0; a && i < o->count; i++)
        if (json_array_append_new(a, json_integer(o->id[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* The CLI's line for each cluster alert a call opened. */
static void alerts_message(char *msg, const struct opened_alerts *o)
{
    for (int i = 0; i < o->count; i++)
        tn_append(msg, MSG_MAX, "; cluster alert %" PRId64 " opened: report it to the bureau",
                   o->id[i]);
}

/* ---- recheck ---------------------------------------------------------------------- */

static void recheck_reply(struct web_response *rs, const struct recheck *in,
                          const struct recheck_result *out)
{
    char msg[MSG_MAX] = "", t[16], th[16];
    tn_append(msg, sizeof msg, "%s: recheck %s °C (%s), threshold %s: ", in->person,
               tn_format_centi(in->temp_centi, t, sizeof t), in->instrument,
               tn_format_centi(in->threshold_centi, th, sizeof th));
    if (out->confirmed)
        tn_append(msg, sizeof msg, "fever confirmed; referral %" PRId64 " to the isolation "
                   "room opened", out->referral_id);
    else
        tn_append(msg, sizeof msg, "cleared");
    alerts_message(msg, &out->alerts);
    wa_reply(rs, json_pack("{s:o, s:b, s:I, s:i, s:o, s:o, s:i, s:o, s:o}", "person",
                           wa_str(in->person), "confirmed", out->confirmed, "flag_id",
                           (json_int_t)out->flag_id, "flags", out->flags, "referral_id",
                           wa_id_or_null(out->referral_id), "referral_day",
                           wa_str_or_null(out->referral_day), "threshold_centi",
                           in->threshold_centi, "alerts_opened", alerts_json(&out->alerts),
                           "message", wa_str(msg)),
             false);
}

void wa_recheck(struct web_request *rq, struct web_response *rs)
{
    static const char *const keys[] = {"temp_centi", "instrument", NULL};
    struct ledger *l;
    struct lw_person p;
    json_t *body;
    struct recheck in = {.person = p.external_id};
    if (begin(rq, rs, keys, &l, &p, &body) == 0 && wa_temp(rq, rs, body, "temp_centi",
                                                           &in.temp_centi) == 0 &&
        wa_enum(rs, body, "instrument", true, ledger_instruments, &in.instrument) == 0) {
        in.threshold_centi = rq->cfg->screening.threshold_centi;
        in.by = rq->user->name;
        in.at_ms = clock_wall_ms();
        struct recheck_result out;
        struct wa_errs e;
        enum ledger_status rc = ledger_recheck(l, &rq->cfg->screening, &in, &out, wa_errs_open(&e));
        if (wa_errs_finish(&e, rc, rs) == 0)
            recheck_reply(rs, &in, &out);
    }
    json_decref(body);
}

/* ---- referral outcome ------------------------------------------------------------- */

static void referral_reply(struct web_response *rs, const char *person, const char *outcome,
                           int64_t id)
{
    bool back = strcmp(outcome, "returned_to_class") == 0;
    char msg[MSG_MAX] = "";
    tn_append(msg, sizeof msg, "%s: referral %" PRId64 ": %s", person, id, outcome);
    if (!back)
        tn_append(msg, sizeof msg, "; a return-to-school certificate is needed before %s "
                   "comes back", person);
    wa_reply(rs, json_pack("{s:o, s:I, s:o, s:b, s:o}", "person", wa_str(person), "referral_id",
                           (json_int_t)id, "outcome", wa_str(outcome), "certificate_needed",
                           !back, "message", wa_str(msg)),
             false);
}

void wa_referral(struct web_request *rq, struct web_response *rs)
{
    static const char *const keys[] = {"outcome", "note", NULL};
    struct ledger *l;
    struct lw_person p;
    json_t *body;
    const char *outcome, *note;
    if (begin(rq, rs, keys, &l, &p, &body) == 0 &&
        wa_enum(rs, body, "outcome", true, ledger_referral_outcomes, &outcome) == 0 &&
        wa_text(rs, body, "note", false, NOTE_MAX, true, &note) == 0) {
        int64_t id;
        struct wa_errs e;
        enum ledger_status rc = ledger_referral_outcome(l, p.external_id, outcome, note,
                                                        rq->user->name, clock_wall_ms(), &id,
                                                        wa_errs_open(&e));
        if (wa_errs_finish(&e, rc, rs) == 0)
            referral_reply(rs, p.external_id, outcome, id);
    }
    json_decref(body);
}

/* ---- absence cause ---------------------------------------------------------------- */

/* The JSON list as the ledger's comma list: -1 when it is not a list of names. */
static int symptoms_text(json_t *v, char *list, size_t n)
{
    size_t i;
    json_t *item;
    if (!json_is_array(v) || json_array_size(v) > 16)
        return -1;
    json_array_foreach(v, i, item) {
        if (!json_is_string(item) || json_string_length(item) == 0 ||
            json_string_length(item) >= 32 || strchr(json_string_value(item), ','))
            return -1;
        tn_append(list, n, "%s%s", i ? "," : "", json_string_value(item));
    }
    return 0;
}

/* "symptoms": ["fever", "cough"], checked and ordered by the ledger's own vocabulary
 * (ledger_symptoms_normalise) into out. *given false: not in the body. */
static int symptoms_value(struct web_response *rs, json_t *body, char *out, size_t n,
                          bool *given)
{
    json_t *v = json_object_get(body, "symptoms");
    char list[LEDGER_SYMPTOMS_LEN * 2] = "";
    *given = v && !json_is_null(v);
    if (!*given)
        return 0;
    if (symptoms_text(v, list, sizeof list) < 0) {
        web_error(rs, 400, "symptoms must be a list of symptom names, like [\"fever\", "
                  "\"cough\"]");
        return -1;
    }
    struct wa_errs e;
    enum ledger_status st = ledger_symptoms_normalise(list, out, n, wa_errs_open(&e));
    const char *text = errbuf_text(&e.b);
    if (st != LEDGER_OK) /* the first line: the first unknown symptom */
        web_error(rs, 400, "symptoms: %.*s", (int)strcspn(text, "\n"),
                  *text ? text : "not known");
    errbuf_free(&e.b);
    return st == LEDGER_OK ? 0 : -1;
}

static int absence_values(struct web_response *rs, json_t *body, struct absence_cause *in,
                          char *day, char *onset, char *symptoms)
{
    bool listed, onset_given;
    if (wa_day(rs, body, "day", true, true, day, NULL) < 0 ||
        wa_enum(rs, body, "cause", true, ledger_absence_causes, &in->cause) < 0 ||
        symptoms_value(rs, body, symptoms, LEDGER_SYMPTOMS_LEN, &listed) < 0 ||
        wa_day(rs, body, "onset_day", false, true, onset, &onset_given) < 0 ||
        wa_enum(rs, body, "clinic", false, clinics, &in->clinic) < 0 ||
        wa_text(rs, body, "diagnosis", false, LINE_TEXT_MAX, false, &in->diagnosis) < 0 ||
        wa_text(rs, body, "note", false, NOTE_MAX, true, &in->note) < 0 ||
        wa_enum(rs, body, "part", false, ledger_absence_parts, &in->part) < 0)
        return -1;
    if (onset_given && strcmp(onset, day) > 0) {
        web_error(rs, 400, "onset_day %s is after the absence day %s", onset, day);
        return -1;
    }
    in->day = day;
    in->onset_day = onset_given ? onset : NULL;
    in->symptoms = listed ? symptoms : NULL;
    return 0;
}

static void absence_reply(struct web_response *rs, const struct absence_cause *in,
                          const struct absence_result *out)
{
    char msg[MSG_MAX] = "";
    bool changed = !out->created && strcmp(out->previous_cause, in->cause) != 0;
    tn_append(msg, sizeof msg, "%s: %s%sabsence on %s %s: %s", in->person,
              in->part ? in->part : "", in->part ? " " : "", in->day,
              out->created ? "registered" : "updated", in->cause);
    if (*out->symptoms)
        tn_append(msg, sizeof msg, " (%s)", out->symptoms);
    if (changed)
        tn_append(msg, sizeof msg, ", was %s", out->previous_cause);
    alerts_message(msg, &out->alerts);
    wa_reply(rs, json_pack("{s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o}", "person",
                           wa_str(in->person), "day", wa_str(in->day), "part",
                           in->part ? wa_str(in->part) : json_null(), "cause", wa_str(in->cause),
                           "created", out->created, "previous_cause",
                           wa_str_or_null(out->previous_cause), "symptoms",
                           wa_list_json(out->symptoms), "alerts_opened",
                           alerts_json(&out->alerts), "message", wa_str(msg)),
             false);
}

void wa_absence(struct web_request *rq, struct web_response *rs)
{
    static const char *const keys[] = {"day", "cause", "symptoms", "onset_day", "clinic",
                                       "diagnosis", "note", "part", NULL};
    struct ledger *l;
    struct lw_person p;
    json_t *body;
    char day[LEDGER_DAY_LEN], onset[LEDGER_DAY_LEN], symptoms[LEDGER_SYMPTOMS_LEN];
    struct absence_cause in = {.person = p.external_id};
    if (begin(rq, rs, keys, &l, &p, &body) == 0 &&
        absence_values(rs, body, &in, day, onset, symptoms) == 0) {
        in.by = rq->user->name;
        in.at_ms = clock_wall_ms();
        struct absence_result out;
        struct wa_errs e;
        enum ledger_status rc = ledger_absence_set_cause(l, &rq->cfg->screening, &in, &out,
                                                         wa_errs_open(&e));
        if (wa_errs_finish(&e, rc, rs) == 0)
            absence_reply(rs, &in, &out);
    }
    json_decref(body);
}

/* ---- leave, certificate ----------------------------------------------------------- */

/* The leave's days: both dates, the first not after the last. */
static int leave_values(struct web_response *rs, json_t *body, char *from, char *to,
                        const char **reason)
{
    if (wa_day(rs, body, "from", true, false, from, NULL) < 0 ||
        wa_day(rs, body, "to", true, false, to, NULL) < 0 ||
        wa_text(rs, body, "reason", false, LINE_TEXT_MAX, false, reason) < 0)
        return -1;
    if (strcmp(from, to) > 0) {
        web_error(rs, 400, "leave from %s to %s ends before it begins", from, to);
        return -1;
    }
    return 0;
}

static void leave_reply(struct web_response *rs, const char *person, const char *from,
                        const char *to)
{
    char msg[MSG_MAX] = "";
    tn_append(msg, sizeof msg, "%s: leave from %s to %s recorded", person, from, to);
    wa_reply(rs, json_pack("{s:o, s:o, s:o, s:o}", "person", wa_str(person), "from",
                           wa_str(from), "to", wa_str(to), "message", wa_str(msg)),
             false);
}

void wa_leave(struct web_request *rq, struct web_response *rs)
{
    static const char *const keys[] = {"from", "to", "reason", NULL};
    struct ledger *l;
    struct lw_person p;
    json_t *body;
    char from[LEDGER_DAY_LEN], to[LEDGER_DAY_LEN];
    const char *reason;
    if (begin(rq, rs, keys, &l, &p, &body) == 0 &&
        leave_values(rs, body, from, to, &reason) == 0) {
        struct wa_errs e;
        enum ledger_status rc = ledger_leave_add(l, p.external_id, from, to, reason, rq->user->name,
                                                 clock_wall_ms(), wa_errs_open(&e));
        if (wa_errs_finish(&e, rc, rs) == 0)
            leave_reply(rs, p.external_id, from, to);
    }
    json_decref(body);
}

static void certificate_reply(struct web_response *rs, const char *person, const char *issued,
                              const struct certificate_result *out)
{
    char msg[MSG_MAX] = "";
    tn_append(msg, sizeof msg, "%s: certificate issued %s recorded", person, issued);
    if (out->absence_id)
        tn_append(msg, sizeof msg, " (for the illness absence of %s)", out->absence_day);
    if (!out->was_needed)
        tn_append(msg, sizeof msg, "; note: %s did not need a certificate; it is kept for "
                   "when they do", person);
    if (out->still_needed)
        tn_append(msg, sizeof msg, "; note: %s still needs a certificate issued after their "
                   "last illness; the gate keeps sending them to the nurse", person);
    wa_reply(rs, json_pack("{s:o, s:o, s:o, s:o, s:b, s:b, s:o}", "person", wa_str(person),
                           "issued_day", wa_str(issued), "absence_id",
                           wa_id_or_null(out->absence_id), "absence_day",
                           wa_str_or_null(out->absence_day), "was_needed", out->was_needed,
                           "still_needed", out->still_needed, "message", wa_str(msg)),
             false);
}

void wa_certificate(struct web_request *rq, struct web_response *rs)
{
    static const char *const keys[] = {"issuer", "issued_day", NULL};
    struct ledger *l;
    struct lw_person p;
    json_t *body;
    char issued[LEDGER_DAY_LEN];
    const char *issuer;
    if (begin(rq, rs, keys, &l, &p, &body) == 0 &&
        wa_text(rs, body, "issuer", true, LINE_TEXT_MAX, false, &issuer) == 0 &&
        wa_day(rs, body, "issued_day", true, true, issued, NULL) == 0) {
        struct certificate_result out;
        struct wa_errs e;
        enum ledger_status rc = ledger_certificate_add(l, p.external_id, issuer, issued,
                                                       rq->user->name, clock_wall_ms(), &out,
                                                       wa_errs_open(&e));
        if (wa_errs_finish(&e, rc, rs) == 0)
            certificate_reply(rs, p.external_id, issued, &out);
    }
    json_decref(body);
}

/* ---- manual check ----------------------------------------------------------------- */

static int check_values(struct web_request *rq, struct web_response *rs, json_t *body,
                        struct manual_check *in, char *day)
{
    bool given;
    if (wa_enum(rs, body, "window", true, check_window_names, &in->window) < 0 ||
        wa_temp(rq, rs, body, "temp_centi", &in->temp_centi) < 0 ||
        wa_enum(rs, body, "instrument", true, ledger_instruments, &in->instrument) < 0 ||
        wa_day(rs, body, "day", false, true, day, &given) < 0 ||
        (!given && wa_today_day(rs, day) < 0))
        return -1;
    if (strcmp(in->window, "noon") == 0 && !rq->cfg->windows.noon_enabled) {
        web_error(rs, 400, "noon checks are not enabled in this school's configuration "
                  "([windows] noon)");
        return -1;
    }
    if (strcmp(in->window, "evening") == 0 && !rq->cfg->windows.evening_enabled) {
        web_error(rs, 400, "evening checks are not enabled in this school's configuration "
                  "([windows] evening)");
        return -1;
    }
    in->day = day;
    return 0;
}

/* As the CLI: the window had its check, and this one is no fever: nothing changed. */
static void check_unchanged(struct web_response *rs, const struct manual_check *in,
                            const struct manual_check_result *out)
{
    struct civil c = {0};
    char t[16];
    civil_from_ms(out->at_ms, &c);
    web_error(rs, 409, "%s already has a %s check on %s: %s °C (%s) at %02d:%02d; nothing "
              "changed", in->person, in->window, in->day,
              tn_format_centi(out->temp_centi, t, sizeof t), out->instrument, c.minute / 60,
              c.minute % 60);
}

/* As the CLI: a check the window already had stays, a fever still goes to the
 * recheck queue. */
static void check_reply(struct web_response *rs, const struct manual_check *in,
                        const struct manual_check_result *out)
{
    char msg[MSG_MAX] = "", t[16], th[16];
    int64_t flag = out->flag_id ? out->flag_id : out->open_flag_id;
    if (out->existed && !flag) {
        check_unchanged(rs, in, out);
        return;
    }
    if (out->existed)
        tn_append(msg, sizeof msg, "%s: %s check on %s kept (%s °C, %s); %s °C is a fever: flag "
                   "%" PRId64 " %s for a recheck", in->person, in->window, in->day,
                   tn_format_centi(out->temp_centi, t, sizeof t), out->instrument,
                   tn_format_centi(in->temp_centi, th, sizeof th), flag,
                   out->flag_id ? "opened" : "already open");
    else
        tn_append(msg, sizeof msg, "%s: %s check on %s: %s °C (%s), threshold %s%s", in->person,
                   in->window, in->day, tn_format_centi(in->temp_centi, t, sizeof t),
                   in->instrument, tn_format_centi(in->threshold_centi, th, sizeof th),
                   out->flag_id ? "; at or above the threshold: fever flag opened for a recheck"
                   : out->open_flag_id ? "; at or above the threshold: a fever flag is "
                                         "already open for a recheck" : "");
    wa_reply(rs, json_pack("{s:o, s:o, s:o, s:b, s:i, s:o, s:o, s:o, s:o}", "person",
                           wa_str(in->person), "day", wa_str(in->day), "window",
                           wa_str(in->window), "existed", out->existed, "temp_centi",
                           out->temp_centi, "instrument", wa_str(out->instrument), "flag_id",
                           wa_id_or_null(out->flag_id), "open_flag_id",
                           wa_id_or_null(out->open_flag_id), "message", wa_str(msg)),
             false);
}

void wa_check(struct web_request *rq, struct web_response *rs)
{
    static const char *const keys[] = {"window", "temp_centi", "instrument", "day", NULL};
    struct ledger *l;
    struct lw_person p;
    json_t *body;
    char day[LEDGER_DAY_LEN];
    struct manual_check in = {.person = p.external_id};
    if (begin(rq, rs, keys, &l, &p, &body) == 0 && check_values(rq, rs, body, &in, day) == 0) {
        in.threshold_centi = rq->cfg->screening.threshold_centi;
        in.by = rq->user->name;
        in.at_ms = clock_wall_ms();
        struct manual_check_result out;
        struct wa_errs e;
        enum ledger_status rc = ledger_manual_check(l, &in, &out, wa_errs_open(&e));
        if (wa_errs_finish(&e, rc, rs) == 0)
            check_reply(rs, &in, &out);
    }
    json_decref(body);
}

/* ---- alert close ------------------------------------------------------------------ */

/* The alert of the path: a number (400), an alert (404) of the user's class (403). */
static int route_alert(struct web_request *rq, struct web_response *rs, struct ledger **l,
                       int64_t *id)
{
    long n;
    char class_name[ROSTER_CLASS_MAX];
    if (rq->nparam < 1 || tn_long(rq->param[0], 1, INT32_MAX, &n) < 0) {
        web_error(rs, 400, "the alert id in the path is not a number");
        return -1;
    }
    if (!(*l = web_ledger(rq, rs)))
        return -1;
    int found = ledger_web_alert_class(*l, n, class_name, sizeof class_name);
    if (found < 0) {
        web_error(rs, 500, "the ledger could not be read (see the daemon's log)");
        return -1;
    }
    if (found == 0) {
        web_error(rs, 404, "no cluster alert %ld", n);
        return -1;
    }
    if (!wa_may_see(rq, class_name)) {
        web_error(rs, 403, "not your class");
        return -1;
    }
    *id = n;
    return 0;
}

/* ledger_alert_close keeps no note: it goes to the audit log, next to the close
 * (a note that cannot be written does not undo the close; the answer says so). */
static void alert_closed(struct web_response *rs, struct ledger *l, const char *by, int64_t id,
                         const char *note)
{
    char target[32], msg[MSG_MAX] = "";
    snprintf(target, sizeof target, "alert %" PRId64, id);
    bool noted = !note || !*note || ledger_audit(l, by, "alert note", target, note) == 0;
    tn_append(msg, sizeof msg, "alert %" PRId64 " closed%s", id,
               noted ? "" : " (the note could not be written)");
    wa_reply(rs, json_pack("{s:I, s:b, s:o}", "id", (json_int_t)id, "closed", 1, "message",
                           wa_str(msg)),
             false);
}

void wa_alert_close(struct web_request *rq, struct web_response *rs)
{
    static const char *const keys[] = {"note", NULL};
    struct ledger *l;
    int64_t id;
    const char *note;
    json_t *body = NULL;
    if (route_alert(rq, rs, &l, &id) == 0 && (body = web_body_object(rq, rs, keys)) &&
        wa_text(rs, body, "note", false, NOTE_MAX, true, &note) == 0) {
        struct wa_errs e;
        enum ledger_status rc = ledger_alert_close(l, id, rq->user->name, clock_wall_ms(),
                                                   wa_errs_open(&e));
        if (wa_errs_finish(&e, rc, rs) == 0)
            alert_closed(rs, l, rq->user->name, id, note);
    }
    json_decref(body);
}
