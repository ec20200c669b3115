/* Absences and their causes (因病缺勤登记、病因追踪), follow-ups, leave, return
 * certificates (复学证明) and the listings; the gate's certificate contract. The
 * sweeps that make the absences are ledger_sweep.c. */
#include "ledger_health_private.h"

#include <string.h>
#include <strings.h>

#include "log.h"
#include "textnum.h"

static const char *const symptom_names[] = {"fever", "cough", "sore_throat", "diarrhoea",
                                            "vomiting", "rash", "conjunctivitis", "other",
                                            NULL};
/* ledger_health's list of the causes, which the web checks against too. */
static const char *const *const causes = ledger_absence_causes;
static const char *const clinic_names[] = {"no", "yes", "unknown", NULL};

/* ---- symptoms --------------------------------------------------------------------- */

static int symptom_index(const char *s, size_t len)
{
    for (int i = 0; symptom_names[i]; i++)
        if (strlen(symptom_names[i]) == len && strncasecmp(symptom_names[i], s, len) == 0)
            return i;
    return -1;
}

/* The bit set of symptoms in a comma list; -1 and a message for a bad item. */
static int symptom_bits(const char *in, unsigned *bits, FILE *errs)
{
    const char *p = in + strspn(in, " ");
    if (!*p)
        return 0; /* "" or blanks: no symptoms */
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        size_t lead = strspn(p, " ");
        while (len > lead && p[len - 1] == ' ')
            len--;
        int i = symptom_index(p + lead, len - lead);
        if (len == lead) {
            fprintf(errs, "symptoms '%s' has an empty item\n", in);
            return -1;
        }
        if (i < 0) {
            fprintf(errs, "symptom '%.*s' is not one of fever, cough, sore_throat, diarrhoea, "
                    "vomiting, rash, conjunctivitis, other\n", (int)(len - lead), p + lead);
            return -1;
        }
        *bits |= 1u << i;
        if (!end)
            return 0;
        p = end + 1;
    }
}

enum ledger_status ledger_symptoms_normalise(const char *in, char *out, size_t n, FILE *errs)
{
    unsigned bits = 0;
    if (symptom_bits(in ? in : "", &bits, errs) < 0)
        return LEDGER_INVALID;
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; symptom_names[i]; i++) {
        if (!(bits & (1u << i)))
            continue;
        int w = snprintf(out + used, n - used, "%s%s", used ? "," : "", symptom_names[i]);
        if (w < 0 || (size_t)w >= n - used)
            return LEDGER_IO; /* the caller's buffer is too small: a programming error */
        used += (size_t)w;
    }
    return 0;
}

/* ---- the gate's contract ---------------------------------------------------------- */

/* The rules are the views of sql/002_contract_views.sql, which the gate and the
 * web page read too; the person is bound, so the views stay on their indexes. */
int lh_needs_certificate(struct ledger *l, int64_t person_id, const char *day, bool *needs)
{
    int64_t v = 0;
    int rc = lh_query_i64(l, &v,
        "SELECT EXISTS (SELECT 1 FROM contract_uncovered_event WHERE person_id = ?1 "
        "AND day <= ?2)", "It", person_id, day);
    *needs = v != 0;
    return rc < 0 ? -1 : 0;
}

int lh_open_case(struct ledger *l, int64_t person_id, bool *open_case)
{
    int64_t v = 0;
    int rc = lh_query_i64(l, &v,
        "SELECT EXISTS (SELECT 1 FROM contract_open_case WHERE person_id = ?1)", "I", person_id);
    *open_case = v != 0;
    return rc < 0 ? -1 : 0;
}

int ledger_needs_certificate(struct ledger *l, const char *person, const char *day, bool *needs)
{
    struct lh_person p;
    int y, m, d;
    if (!day || tn_date(day, &y, &m, &d) < 0) {
        log_err("needs certificate: '%s' is not a day", day ? day : "");
        return -1;
    }
    if (lh_find_person(l, person, &p, NULL) < 0)
        return -1;
    return lh_needs_certificate(l, p.id, day, needs);
}

int ledger_open_case(struct ledger *l, const char *person, bool *open_case)
{
    struct lh_person p;
    if (lh_find_person(l, person, &p, NULL) < 0)
        return -1;
    return lh_open_case(l, p.id, open_case);
}

int lh_note_arrival(struct ledger *l, int64_t person_id, const char *day, int64_t at_ms)
{
    /* The same rules as the gate's (ledger_gate.c, SQL_LATE): a same-day absence
     * becomes a late arrival unless the person has the day's morning check (which
     * withdrew the sweep's absence: sql/003's trigger), earlier absences end. */
    if (lh_run(l, NULL, "UPDATE absences SET late_ms = ?3, cause = CASE cause WHEN 'unknown' "
                        "THEN 'late' ELSE cause END WHERE person_id = ?1 AND day = ?2 "
                        "AND late_ms IS NULL AND NOT EXISTS (SELECT 1 FROM checks WHERE "
                        "person_id = ?1 AND day = ?2 AND window = 'morning')",
               "ItI", person_id, day, at_ms) < 0)
        return -1;
    return lh_run(l, NULL, "UPDATE absences SET returned_day = ?2 WHERE person_id = ?1 "
                           "AND day < ?2 AND returned_day IS NULL", "It", person_id, day);
}

/* ---- absence cause ---------------------------------------------------------------- */

struct absence_row {
    int64_t id;
    char cause[16];
};

/* The first row of sql (?1 the person, ?2 a day, and ?3 a part when the SQL has
 * it), an absence's id and one text column: 1 and *id, text; 0 when none; -1 on a
 * database error (logged as `what`). */
static int absence_id_text(struct ledger *l, const char *sql, int64_t pid, const char *day,
                           const char *part, int64_t *id, char *text, size_t n,
                           const char *what)
{
    sqlite3_stmt *st = ledger_prepare(l, sql);
    if (!st)
        return -1;
    lh_bind(st, part ? "Itt" : "It", pid, day, part);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        snprintf(text, n, "%s", ledger_col_text(st, 1));
    } else if (rc != SQLITE_DONE) {
        ledger_log_error(l, what);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* 1 and the row when the person has an absence that day, 0 when not. */
static int find_absence(struct ledger *l, int64_t pid, const char *day, struct absence_row *row)
{
    return absence_id_text(l, "SELECT id, cause FROM absences WHERE person_id = ?1 AND day = ?2",
                           pid, day, NULL, &row->id, row->cause, sizeof row->cause, "find absence");
}

static enum ledger_status validate_cause(const struct absence_cause *in, char *symptoms,
                                         FILE *errs)
{
    enum ledger_status st = lh_check_day("date", in->day, errs);
    if (st != LEDGER_OK)
        return st;
    if (lh_name_index(causes, in->cause) < 0) {
        fprintf(errs, "cause '%s' is not illness, personal or other\n",
                in->cause ? in->cause : "");
        return LEDGER_INVALID;
    }
    if (in->symptoms &&
        (st = ledger_symptoms_normalise(in->symptoms, symptoms, LEDGER_SYMPTOMS_LEN, errs)) !=
            LEDGER_OK)
        return st;
    if (in->onset_day && (st = lh_check_day("onset date", in->onset_day, errs)) != LEDGER_OK)
        return st;
    if (in->onset_day && strcmp(in->onset_day, in->day) > 0) {
        fprintf(errs, "onset %s is after the absence day %s\n", in->onset_day, in->day);
        return LEDGER_INVALID;
    }
    if (in->clinic && lh_name_index(clinic_names, in->clinic) < 0) {
        fprintf(errs, "clinic visit '%s' is not yes, no or unknown\n", in->clinic);
        return LEDGER_INVALID;
    }
    return LEDGER_OK;
}

/* The clinic answer as SQL text: "1", "0" or NULL (not known). */
static const char *clinic_value(const char *clinic)
{
    static const char *const values[] = {"0", "1", NULL};
    int i = lh_name_index(clinic_names, clinic);
    return i >= 0 ? values[i] : NULL;
}

static int write_absence(struct ledger *l, int64_t pid, const struct absence_cause *in,
                         const char *symptoms, const struct absence_row *row)
{
    if (!row)
        return lh_run(l, NULL,
            "INSERT INTO absences (person_id, day, cause, symptoms, onset_day, clinic_visit, "
            "diagnosis, note, recorded_by, recorded_ms) VALUES (?1, ?2, ?3, coalesce(?4, ''), "
            "?5, CAST(?6 AS INTEGER), coalesce(?7, ''), coalesce(?8, ''), ?9, ?10)",
            "IttttttttI", pid, in->day, in->cause, symptoms, in->onset_day,
            clinic_value(in->clinic), in->diagnosis, in->note, in->by, in->at_ms);
    return lh_run(l, NULL,
        "UPDATE absences SET cause = ?2, symptoms = coalesce(?3, symptoms), "
        "onset_day = coalesce(?4, onset_day), "
        "clinic_visit = CASE WHEN ?5 THEN CAST(?6 AS INTEGER) ELSE clinic_visit END, "
        "diagnosis = coalesce(?7, diagnosis), note = coalesce(?8, note), recorded_by = ?9, "
        "recorded_ms = ?10 WHERE id = ?1",
        "ItttdttttI", row->id, in->cause, symptoms, in->onset_day, in->clinic != NULL,
        clinic_value(in->clinic), in->diagnosis, in->note, in->by, in->at_ms);
}

static int stored_symptoms(struct ledger *l, int64_t pid, const char *day, char *out, size_t n)
{
    sqlite3_stmt *st = ledger_prepare(l, "SELECT symptoms FROM absences "
                                         "WHERE person_id = ?1 AND day = ?2");
    if (!st)
        return -1;
    lh_bind(st, "It", pid, day);
    int rc = sqlite3_step(st);
    snprintf(out, n, "%s", rc == SQLITE_ROW ? ledger_col_text(st, 0) : "");
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* A cause corrected away from illness: the person is normal again, unless a
 * certificate or an open case still holds them. */
static int undo_absent_ill(struct ledger *l, int64_t pid, const struct absence_cause *in)
{
    char today[LEDGER_DAY_LEN];
    bool needs, open;
    int64_t ill = 0;
    if (lh_today(in->at_ms, today) < 0 || lh_needs_certificate(l, pid, today, &needs) < 0 ||
        lh_open_case(l, pid, &open) < 0 ||
        lh_query_i64(l, &ill, "SELECT health_status = 'absent_ill' FROM people WHERE id = ?",
                     "I", pid) < 0)
        return -1;
    if (needs || open || !ill)
        return 0;
    return ledger_set_health_status(l, pid, "normal", "absence cause no longer illness", in->by,
                                    in->at_ms);
}

/* After the write: the person's status and the class's clusters follow the cause. */
static int after_cause(struct ledger *l, const struct cfg_screening *s, const struct lh_person *p,
                       const struct absence_cause *in, bool was_illness,
                       struct absence_result *out)
{
    if (strcmp(in->cause, "illness") != 0)
        return was_illness ? undo_absent_ill(l, p->id, in) : 0;
    bool needs;
    /* An absence a certificate already covers (a cause recorded late) leaves the
     * person as they are. */
    if (lh_needs_certificate(l, p->id, in->day, &needs) < 0 ||
        (needs && ledger_set_health_status(l, p->id, "absent_ill", "illness absence", in->by,
                                           in->at_ms) < 0))
        return -1;
    return lh_cluster_evaluate(l, s, p->class_name, in->day, in->by, in->at_ms, &out->alerts);
}

static int audit_cause(struct ledger *l, const struct absence_cause *in,
                       const struct absence_result *out)
{
    char detail[512] = "";
    tn_append(detail, sizeof detail, "%s: %s", in->day, in->cause);
    if (!out->created && strcmp(out->previous_cause, in->cause) != 0)
        tn_append(detail, sizeof detail, " (was %s)", out->previous_cause);
    if (out->created)
        tn_append(detail, sizeof detail, " (registered before the sweep)");
    if (*out->symptoms)
        tn_append(detail, sizeof detail, "; symptoms %s", out->symptoms);
    if (in->onset_day)
        tn_append(detail, sizeof detail, "; onset %s", in->onset_day);
    if (in->clinic)
        tn_append(detail, sizeof detail, "; clinic visit %s", in->clinic);
    if (in->diagnosis && *in->diagnosis)
        tn_append(detail, sizeof detail, "; diagnosis %s", in->diagnosis);
    if (in->note && *in->note)
        tn_append(detail, sizeof detail, "; note %s", in->note);
    return ledger_audit(l, in->by, "absence cause", in->person, detail);
}

static int set_cause_body(struct ledger *l, const struct cfg_screening *s,
                          const struct lh_person *p, const struct absence_cause *in,
                          const char *symptoms, struct absence_result *out, FILE *errs)
{
    struct absence_row row;
    int found = find_absence(l, p->id, in->day, &row);
    if (found < 0)
        return -1;
    if (found && strcmp(row.cause, "late") == 0 && strcmp(in->cause, "illness") == 0) {
        fprintf(errs, "%s came to school late on %s: a day at school cannot be an illness "
                "absence (record a fever with a check instead)\n", in->person, in->day);
        return ledger_refuse(l, LEDGER_CONFLICT);
    }
    out->created = !found;
    snprintf(out->previous_cause, sizeof out->previous_cause, "%s", found ? row.cause : "");
    if (write_absence(l, p->id, in, in->symptoms ? symptoms : NULL, found ? &row : NULL) < 0 ||
        stored_symptoms(l, p->id, in->day, out->symptoms, sizeof out->symptoms) < 0 ||
        after_cause(l, s, p, in, found && strcmp(row.cause, "illness") == 0, out) < 0)
        return -1;
    return audit_cause(l, in, out);
}

/* ---- the cause of a noon or evening absence (sql/012) -------------------------------- */

/* What a part-day absence cannot hold: it records cause, symptoms and note only. */
static enum ledger_status validate_part(const struct absence_cause *in, FILE *errs)
{
    if (lh_name_index(ledger_absence_parts, in->part) < 0) {
        fprintf(errs, "part '%s' is not noon or evening\n", in->part);
        return LEDGER_INVALID;
    }
    if (in->onset_day || in->clinic || in->diagnosis) {
        fprintf(errs, "the onset, clinic visit and diagnosis belong to a day's absence, not "
                "to a %s absence (give only the cause, symptoms and note)\n", in->part);
        return LEDGER_INVALID;
    }
    return LEDGER_OK;
}

static int audit_part_cause(struct ledger *l, const struct absence_cause *in,
                            const struct absence_result *out)
{
    char detail[512] = "";
    tn_append(detail, sizeof detail, "%s %s: %s", in->day, in->part, in->cause);
    if (strcmp(out->previous_cause, in->cause) != 0)
        tn_append(detail, sizeof detail, " (was %s)", out->previous_cause);
    if (*out->symptoms)
        tn_append(detail, sizeof detail, "; symptoms %s", out->symptoms);
    if (in->note && *in->note)
        tn_append(detail, sizeof detail, "; note %s", in->note);
    return ledger_audit(l, in->by, "absence cause", in->person, detail);
}

static int set_part_cause_body(struct ledger *l, const struct lh_person *p,
                               const struct absence_cause *in, const char *symptoms,
                               struct absence_result *out, FILE *errs)
{
    int64_t id = 0;
    int found = absence_id_text(l, "SELECT id, cause FROM part_absences WHERE person_id = ?1 "
                                   "AND day = ?2 AND part = ?3",
                                p->id, in->day, in->part, &id, out->previous_cause,
                                sizeof out->previous_cause, "find part absence");
    if (found < 0)
        return -1;
    if (found == 0) {
        fprintf(errs, "%s has no %s absence on %s (the %s sweep records them)\n", in->person,
                in->part, in->day, in->part);
        return ledger_refuse(l, LEDGER_NOT_FOUND);
    }
    if (lh_run(l, NULL, "UPDATE part_absences SET cause = ?2, symptoms = coalesce(?3, symptoms), "
                        "note = coalesce(?4, note), recorded_by = ?5, recorded_ms = ?6 "
                        "WHERE id = ?1",
               "IttttI", id, in->cause, symptoms, in->note, in->by, in->at_ms) < 0 ||
        absence_id_text(l, "SELECT id, symptoms FROM part_absences WHERE person_id = ?1 "
                           "AND day = ?2 AND part = ?3",
                        p->id, in->day, in->part, &id, out->symptoms, sizeof out->symptoms,
                        "part absence symptoms") < 0)
        return -1;
    return audit_part_cause(l, in, out);
}

enum ledger_status ledger_absence_set_cause(struct ledger *l, const struct cfg_screening *s,
                                            const struct absence_cause *in,
                                            struct absence_result *out, FILE *errs)
{
    char symptoms[LEDGER_SYMPTOMS_LEN] = "";
    *out = (struct absence_result){0};
    enum ledger_status st = validate_cause(in, symptoms, errs);
    if (st == LEDGER_OK && in->part)
        st = validate_part(in, errs);
    if (st != LEDGER_OK)
        return st;
    struct lh_person p;
    if (ledger_begin(l) < 0)
        return ledger_failure(l);
    int rc = lh_find_person(l, in->person, &p, errs);
    if (rc == 0 && in->part)
        rc = set_part_cause_body(l, &p, in, in->symptoms ? symptoms : NULL, out, errs);
    else if (rc == 0)
        rc = set_cause_body(l, s, &p, in, symptoms, out, errs);
    return ledger_end(l, rc);
}

/* ---- follow-up, leave ------------------------------------------------------------- */

static int followup_body(struct ledger *l, const char *person, const char *day,
                         const char *note, const char *by, int64_t at_ms, FILE *errs)
{
    struct lh_person p;
    struct absence_row row;
    if (lh_find_person(l, person, &p, errs) < 0)
        return -1;
    int found = find_absence(l, p.id, day, &row);
    if (found < 0)
        return -1;
    if (found == 0) {
        fprintf(errs, "%s has no absence on %s to follow up\n", person, day);
        return ledger_refuse(l, LEDGER_NOT_FOUND);
    }
    if (lh_run(l, NULL, "INSERT INTO absence_followups (absence_id, at_ms, by_user, note) "
                        "VALUES (?1, ?2, ?3, ?4)", "IItt", row.id, at_ms, by, note) < 0)
        return -1;
    char detail[512] = "";
    tn_append(detail, sizeof detail, "%s: %s", day, note);
    return ledger_audit(l, by, "absence follow-up", person, detail);
}

enum ledger_status ledger_absence_followup(struct ledger *l, const char *person,
                                           const char *day, const char *note, const char *by,
                                           int64_t at_ms, FILE *errs)
{
    enum ledger_status st = lh_check_day("date", day, errs);
    if (st != LEDGER_OK)
        return st;
    if (!note || !*note) {
        fprintf(errs, "the follow-up note is empty\n");
        return LEDGER_INVALID;
    }
    if (ledger_begin(l) < 0)
        return ledger_failure(l);
    return ledger_end(l, followup_body(l, person, day, note, by, at_ms, errs));
}

static int leave_body(struct ledger *l, const char *person, const char *from_day,
                      const char *to_day, const char *reason, const char *by, int64_t at_ms,
                      FILE *errs)
{
    struct lh_person p;
    if (lh_find_person(l, person, &p, errs) < 0 ||
        lh_run(l, NULL, "INSERT INTO leaves (person_id, from_day, to_day, reason, by_user, "
                        "at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
               "IttttI", p.id, from_day, to_day, reason ? reason : "", by, at_ms) < 0)
        return -1;
    char detail[512] = "";
    tn_append(detail, sizeof detail, "%s..%s", from_day, to_day);
    if (reason && *reason)
        tn_append(detail, sizeof detail, ": %s", reason);
    return ledger_audit(l, by, "leave", person, detail);
}

enum ledger_status ledger_leave_add(struct ledger *l, const char *person,
                                    const char *from_day, const char *to_day,
                                    const char *reason, const char *by, int64_t at_ms,
                                    FILE *errs)
{
    enum ledger_status st;
    if ((st = lh_check_day("from date", from_day, errs)) != LEDGER_OK ||
        (st = lh_check_day("to date", to_day, errs)) != LEDGER_OK)
        return st;
    if (strcmp(from_day, to_day) > 0) {
        fprintf(errs, "leave from %s to %s ends before it begins\n", from_day, to_day);
        return LEDGER_INVALID;
    }
    if (ledger_begin(l) < 0)
        return ledger_failure(l);
    return ledger_end(l, leave_body(l, person, from_day, to_day, reason, by, at_ms, errs));
}

/* ---- certificates ----------------------------------------------------------------- */

/* The latest illness absence up to the issue day: what the certificate covers. */
static int latest_illness(struct ledger *l, int64_t pid, const char *issued_day,
                          struct certificate_result *out)
{
    int rc = absence_id_text(l, "SELECT id, day FROM absences WHERE person_id = ?1 AND "
                                "cause = 'illness' AND day <= ?2 ORDER BY day DESC LIMIT 1",
                             pid, issued_day, NULL, &out->absence_id, out->absence_day,
                             sizeof out->absence_day, "latest illness absence");
    return rc < 0 ? -1 : 0;
}

static int audit_certificate(struct ledger *l, const char *person, const char *issuer,
                             const char *issued_day, const char *by,
                             const struct certificate_result *out)
{
    char detail[512] = "";
    tn_append(detail, sizeof detail, "issued %s by %s", issued_day, issuer);
    if (out->absence_id)
        tn_append(detail, sizeof detail, "; for the illness absence of %s", out->absence_day);
    if (!out->was_needed)
        tn_append(detail, sizeof detail, "; none was needed");
    if (out->still_needed)
        tn_append(detail, sizeof detail, "; still needs one issued after the last illness");
    return ledger_audit(l, by, "certificate", person, detail);
}

static int certificate_body(struct ledger *l, const char *person, const char *issuer,
                            const char *issued_day, const char *by, int64_t at_ms,
                            struct certificate_result *out, FILE *errs)
{
    struct lh_person p;
    char today[LEDGER_DAY_LEN];
    if (lh_find_person(l, person, &p, errs) < 0 || lh_today(at_ms, today) < 0 ||
        lh_needs_certificate(l, p.id, today, &out->was_needed) < 0 ||
        latest_illness(l, p.id, issued_day, out) < 0)
        return -1;
    if (lh_run(l, NULL, "INSERT INTO certificates (person_id, absence_id, issuer, issued_day, "
                        "checked_by, recorded_ms) VALUES (?1, nullif(?2, 0), ?3, ?4, ?5, ?6)",
               "IItttI", p.id, out->absence_id, issuer, issued_day, by, at_ms) < 0 ||
        lh_needs_certificate(l, p.id, today, &out->still_needed) < 0)
        return -1;
    if (!out->still_needed &&
        ledger_set_health_status(l, p.id, "returned", "return certificate checked", by, at_ms) < 0)
        return -1;
    return audit_certificate(l, person, issuer, issued_day, by, out);
}

enum ledger_status ledger_certificate_add(struct ledger *l, const char *person,
                                          const char *issuer, const char *issued_day,
                                          const char *by, int64_t at_ms,
                                          struct certificate_result *out, FILE *errs)
{
    *out = (struct certificate_result){0};
    if (!issuer || !*issuer) {
        fprintf(errs, "the certificate's issuer is empty\n");
        return LEDGER_INVALID;
    }
    enum ledger_status st;
    if ((st = lh_check_day("issue date", issued_day, errs)) != LEDGER_OK ||
        (st = lh_check_not_future("the issue date", issued_day, at_ms, errs)) != LEDGER_OK)
        return st;
    if (ledger_begin(l) < 0)
        return ledger_failure(l);
    return ledger_end(l, certificate_body(l, person, issuer, issued_day, by, at_ms, out, errs));
}

/* ---- listing ---------------------------------------------------------------------- */

void lh_absence_row(sqlite3_stmt *st, void *ctx)
{
    struct lh_absence_cb *cb = ctx;
    struct absence_view v = {
        .external_id = ledger_col_text(st, 0), .name = ledger_col_text(st, 1),
        .class_name = ledger_col_text(st, 2), .day = ledger_col_text(st, 3),
        .cause = ledger_col_text(st, 4), .symptoms = ledger_col_text(st, 5),
        .onset_day = ledger_col_text(st, 6), .diagnosis = ledger_col_text(st, 7),
        .note = ledger_col_text(st, 8), .recorded_by = ledger_col_text(st, 9),
        .clinic_visit = sqlite3_column_int(st, 10), .late_ms = sqlite3_column_int64(st, 11),
        .returned_day = ledger_col_text(st, 12), .followups = sqlite3_column_int(st, 13),
        .last_followup = ledger_col_text(st, 14),
    };
    cb->fn(&v, cb->arg);
}

int ledger_list_absences(struct ledger *l, const char *day, const char *class_name,
                         void (*fn)(const struct absence_view *v, void *arg), void *arg)
{
    struct lh_absence_cb cb = {fn, arg};
    sqlite3_stmt *st = ledger_prepare(l, LH_ABSENCE_SELECT
        "WHERE a.day = ?1 AND (?2 IS NULL OR p.class = ?2) ORDER BY p.class, p.external_id");
    if (st)
        lh_bind(st, "tt", day, class_name);
    return ledger_each_row(l, st, "list absences", lh_absence_row, &cb);
}

void lh_part_absence_row(sqlite3_stmt *st, void *ctx)
{
    const struct lh_part_absence_cb *cb = ctx;
    struct part_absence_view v = {
        .external_id = ledger_col_text(st, 0), .name = ledger_col_text(st, 1),
        .class_name = ledger_col_text(st, 2), .day = ledger_col_text(st, 3),
        .part = ledger_col_text(st, 4), .cause = ledger_col_text(st, 5),
        .recorded_by = ledger_col_text(st, 6), .recorded_ms = sqlite3_column_int64(st, 7),
        .symptoms = ledger_col_text(st, 8), .note = ledger_col_text(st, 9),
    };
    cb->fn(&v, cb->arg);
}

int ledger_list_part_absences(struct ledger *l, const char *day, const char *class_name,
                              bool unknown_only,
                              void (*fn)(const struct part_absence_view *v, void *arg),
                              void *arg)
{
    struct lh_part_absence_cb cb = {fn, arg};
    /* 'noon' sorts before 'evening' only by the CASE: the day's order, not the alphabet's. */
    sqlite3_stmt *st = ledger_prepare(l, LH_PART_ABSENCE_SELECT
        "WHERE a.day = ?1 AND (?2 IS NULL OR p.class = ?2) AND (?3 = 0 OR a.cause = 'unknown') "
        "ORDER BY CASE a.part WHEN 'noon' THEN 0 ELSE 1 END, p.class, p.external_id");
    if (st)
        lh_bind(st, "ttd", day, class_name, (int)unknown_only);
    return ledger_each_row(l, st, "list part-day absences", lh_part_absence_row, &cb);
}
