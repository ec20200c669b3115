/* The health rules of the ledger, shared by the nurse's CLI and the daemon: manual
 * checks, fever rechecks and isolation referrals, absences and their causes, leave,
 * return certificates, cluster alerts, the absence sweep, the day's figures and the
 * purge of old readings.
 *
 * People are named by people.external_id. Days are 'YYYY-MM-DD' in the school's
 * zone (zone_set must have been called). Every function that changes the
 * ledger runs in one transaction and writes one audit row (actor = `by`). The
 * functions a person's action calls (they take `errs`, but the day worker's sweep)
 * return an enum ledger_status: on bad input they write one plain sentence per
 * problem to `errs`, change nothing and return its class (an unknown person
 * LEDGER_NOT_FOUND, a wrong state LEDGER_CONFLICT, a bad value LEDGER_INVALID);
 * database failures are logged and return LEDGER_BUSY or LEDGER_IO. The others
 * return 0 / -1 (logged). */
#ifndef GS_LEDGER_HEALTH_H
#define GS_LEDGER_HEALTH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "ledger.h"

/* The names the ledger accepts, NULL-terminated: one table each, which the web's
 * validation uses too. A check's instrument; a referral's outcome; an absence's
 * cause. */
extern const char *const ledger_instruments[];
extern const char *const ledger_referral_outcomes[];
extern const char *const ledger_absence_causes[];
/* The parts of a part-day absence (part_absences.part): noon, evening. */
extern const char *const ledger_absence_parts[];

#define LEDGER_DAY_LEN 11      /* "YYYY-MM-DD" + NUL */
#define LEDGER_SYMPTOMS_LEN 96 /* the whole vocabulary, comma-separated, fits */

/* Cluster alerts a call opened, so that the caller can report them (and notify the
 * bureau). Alerts that only gained cases are not listed. */
#define LEDGER_MAX_OPENED 8
struct opened_alerts {
    int count;
    int64_t id[LEDGER_MAX_OPENED];
};

/* ---- checks, rechecks, referrals ------------------------------------------------- */

struct manual_check {
    const char *person;
    const char *day;        /* not after the day of at_ms */
    const char *window;     /* morning | noon | evening (a manual check only) */
    int temp_centi;
    const char *instrument; /* infrared | ear | axillary | oral */
    int threshold_centi;    /* in force, stored with the check */
    const char *by;
    int64_t at_ms;
};

struct manual_check_result {
    bool existed;           /* the person had a check for that window: it stays */
    int temp_centi;         /* the check in the ledger (the earlier one when existed) */
    char instrument[16];
    int64_t at_ms;
    int64_t flag_id;        /* > 0: at or above the threshold, a fever flag was opened */
    int64_t open_flag_id;   /* > 0: at or above, but the person had this flag open */
};

/* A check entered by a nurse or teacher. At or above the threshold it also opens a
 * fever flag, as a gate screen does (unless one is open that day: one per person
 * and day) — also when the window already had its check (existed: the check
 * stays, the fever still goes to the recheck queue; below the threshold nothing
 * changes then). An absence of that day is marked as a late arrival, and earlier
 * absences get their return day, as the gate does. */
enum ledger_status ledger_manual_check(struct ledger *l, const struct manual_check *in,
                                       struct manual_check_result *out, FILE *errs);

struct recheck {
    const char *person;
    int temp_centi;
    const char *instrument; /* infrared | ear | axillary | oral */
    int threshold_centi;
    const char *by;
    int64_t at_ms;
};

struct recheck_result {
    bool confirmed;          /* else cleared */
    int flags;               /* open flags settled (normally 1) */
    int64_t flag_id;         /* the latest of them */
    int64_t referral_id;     /* when confirmed */
    char referral_day[LEDGER_DAY_LEN];
    struct opened_alerts alerts;
};

/* Settles the person's open fever flags with a contact-thermometer reading: at or
 * above the threshold they are confirmed, an isolation referral is opened (on the
 * latest flag, day = the day of at_ms), the person becomes confirmed then isolated
 * and the class is evaluated for clusters; below it they are cleared and the person
 * is normal again. Error when the person has no open flag. */
enum ledger_status ledger_recheck(struct ledger *l, const struct cfg_screening *s,
                                  const struct recheck *in, struct recheck_result *out, FILE *errs);

/* Records the outcome (sent_home | hospital | returned_to_class) of the person's
 * referral still waiting for one; *referral_id is set to it. Sent home and hospital
 * make the person absent_ill (a return certificate is needed); returned_to_class
 * normal. note may be NULL. */
enum ledger_status ledger_referral_outcome(struct ledger *l, const char *person,
                                           const char *outcome, const char *note, const char *by,
                                           int64_t at_ms, int64_t *referral_id, FILE *errs);

/* ---- absences, leave, certificates ----------------------------------------------- */

struct absence_cause {
    const char *person;
    const char *day;
    const char *cause;      /* illness | personal | other */
    const char *symptoms;   /* comma list (ledger_symptoms_normalise); NULL: keep */
    const char *onset_day;  /* not after day; NULL: keep */
    const char *clinic;     /* yes | no | unknown; NULL: keep */
    const char *diagnosis;  /* NULL: keep */
    const char *note;       /* NULL: keep */
    const char *by;
    int64_t at_ms;
    const char *part;       /* NULL: the day's absence; "noon" | "evening": that part-day
                               absence of the sweeps (part_absences), which must exist */
};

struct absence_result {
    bool created;           /* no absence row yet (registered ahead of the sweep) */
    char previous_cause[16];
    char symptoms[LEDGER_SYMPTOMS_LEN]; /* as stored */
    struct opened_alerts alerts;
};

/* Creates or updates the person's absence of that day with its cause. A day the
 * person came late (cause 'late') cannot become an illness absence. Illness makes
 * the person absent_ill (when the absence is not already covered by a certificate)
 * and evaluates the class for clusters.
 * With in->part: updates the sweep's noon or evening absence of that day (cause,
 * symptoms, note; LEDGER_NOT_FOUND when there is none, LEDGER_INVALID for an onset,
 * clinic visit or diagnosis, which are the day's absence's). The pupil was at
 * school that day: no status change, no cluster. Audited as "absence cause". */
enum ledger_status ledger_absence_set_cause(struct ledger *l, const struct cfg_screening *s,
                                            const struct absence_cause *in,
                                            struct absence_result *out, FILE *errs);
/* Adds a follow-up note (called the family, ...) to an existing absence. */
enum ledger_status ledger_absence_followup(struct ledger *l, const char *person, const char *day,
                                           const char *note, const char *by, int64_t at_ms,
                                           FILE *errs);
/* Leave from_day..to_day inclusive (overlaps are fine); reason may be NULL. */
enum ledger_status ledger_leave_add(struct ledger *l, const char *person, const char *from_day,
                                    const char *to_day, const char *reason, const char *by,
                                    int64_t at_ms, FILE *errs);

struct certificate_result {
    int64_t absence_id;     /* the illness absence it is linked to, 0 = none */
    char absence_day[LEDGER_DAY_LEN];
    bool was_needed;        /* the person needed a certificate (today) before this one */
    bool still_needed;      /* ... and still does: issued before the last illness */
};

/* Records a return-to-school certificate, linked to the person's latest illness
 * absence up to issued_day (if any); the person becomes 'returned' unless the
 * certificate predates what it should cover. Recording one that is not needed is
 * allowed (out->was_needed tells). issued_day must not be after today. */
enum ledger_status ledger_certificate_add(struct ledger *l, const char *person, const char *issuer,
                                          const char *issued_day, const char *by, int64_t at_ms,
                                          struct certificate_result *out, FILE *errs);

/* The gate's contract, as the gate applies it (the views of
 * sql/002_contract_views.sql). Needs a certificate on `day`: an illness absence,
 * or a referral sent home / to hospital, on or before `day` and later than the
 * person's latest certificate (issued_day). Open case: a flag 'open' or a
 * referral without outcome. -1 for an unknown person. */
int ledger_needs_certificate(struct ledger *l, const char *person, const char *day,
                             bool *needs);
int ledger_open_case(struct ledger *l, const char *person, bool *open_case);

/* Run when the morning window closes (+ grace): every active person of
 * w->absence_kinds without a morning check on `day`, leave covering it or an
 * absence row, and who did not come before the morning window closed, gets an
 * absence: cause 'late' (late_ms = first arrival) when an identified reading or a
 * check of that day after the window shows they came, else 'unknown'. People who
 * came before the window closed but have no check (an early arrival, an invalid
 * reading only) are present: no absence; they count as unchecked in the figures.
 * *created counts all new absences, *late those that were late. Idempotent; an
 * audit row only when something was created; by NULL means "gatescreend". A
 * morning check recorded after the sweep (the clock set back into the window, a
 * window stretched by a reload) withdraws the absence it made, unless someone
 * gave it a cause or a follow-up (the trigger of sql/003_day_events.sql).
 * Written 500 people a transaction (the gate's writes wait for one batch, not the
 * school): a failure keeps the batches before it, and a second sweep does the rest. */
int ledger_absence_sweep(struct ledger *l, const char *day, const struct cfg_windows *w,
                         const char *by, int64_t at_ms, int *created, int *late, FILE *errs);
/* The same for the groups arriving in the slots that end at slot_end (错峰上学,
 * civil.h's civil_slot_lists), at that end + grace: they are absent sooner than the
 * others. Someone who still comes within the morning window gets a check, which
 * withdraws the absence (as above); the slot lateness stays in the figures. */
int ledger_absence_sweep_slot(struct ledger *l, const char *day, const struct cfg_windows *w,
                              int slot_end, const char *by, int64_t at_ms, int *created,
                              int *late, FILE *errs);

/* The part-day sweeps (sql/010's part_absences, cause 'unknown'), part "noon" or
 * "evening", run at that window's end + absence_grace, never on a closed day,
 * holiday or out of term (told on errs, 0 made). Noon ([windows] noon_sweep):
 * who was at school in the morning (a morning check or a late arrival) and has
 * no noon check — left at noon and did not come back (午检缺勤). Evening
 * ([windows] evening): the boarders (people.boarder) not absent for the day
 * without an evening check (晚检). Neither touches people on leave or whose grade
 * is not back, nor anyone swept for that part already; a check of the part
 * recorded later withdraws the absence (sql/010's trigger). -1 with a message when
 * the part is not enabled or its time has not come. */
int ledger_part_sweep(struct ledger *l, const char *day, const struct cfg_windows *w,
                      const char *part, const char *by, int64_t at_ms, int *created, FILE *errs);

/* Checks and normalises a symptom list: "cough, fever,cough" -> "fever,cough"
 * (vocabulary order, no duplicates, "" for none). LEDGER_INVALID with a message on errs for an
 * unknown symptom or an empty item. */
enum ledger_status ledger_symptoms_normalise(const char *in, char *out, size_t n, FILE *errs);

/* ---- cluster alerts -------------------------------------------------------------- */

/* Illness cases (confirmed fevers by flag day, illness absences by day; distinct
 * people, by current class) of `class_name` around `day`: rule 'day' (at least
 * cluster_day_cases on day) and 'three_days' (cluster_3day_cases over day-2..day,
 * unless an alert of that rule has a day in that span). Existing alerts gain the
 * cases that arrived after them. People without a class are not evaluated. */
int ledger_cluster_evaluate(struct ledger *l, const struct cfg_screening *s,
                            const char *class_name, const char *day, const char *by,
                            int64_t at_ms, struct opened_alerts *opened);
enum ledger_status ledger_alert_close(struct ledger *l, int64_t alert_id, const char *by,
                                      int64_t at_ms, FILE *errs);

/* ---- listings -------------------------------------------------------------------- */

struct flag_view {
    int64_t id;
    const char *external_id, *name, *class_name; /* "" for an unknown card */
    const char *day, *lane;                      /* lane "" when not known */
    int64_t opened_ms;
    int screen_centi, threshold_centi;
    bool has_card;
    uint64_t card;
};
/* Open fever flags, oldest first. */
int ledger_list_open_flags(struct ledger *l, void (*fn)(const struct flag_view *v, void *arg),
                           void *arg);

struct referral_view {
    int64_t id;
    const char *external_id, *name, *class_name, *day;
    int64_t opened_ms;
    int screen_centi, recheck_centi;
    const char *recheck_instrument;
};
/* Referrals waiting for an outcome, oldest first. */
int ledger_list_open_referrals(struct ledger *l,
                               void (*fn)(const struct referral_view *v, void *arg), void *arg);

struct absence_view {
    const char *external_id, *name, *class_name, *day;
    const char *cause, *symptoms, *onset_day, *diagnosis, *note, *recorded_by;
    int clinic_visit;        /* -1 unknown, 0 no, 1 yes */
    int64_t late_ms;         /* 0: did not come */
    const char *returned_day; /* "" not yet */
    int followups;
    const char *last_followup; /* "" none */
};
/* Absences of a day, by class then person; class_name NULL = all. */
int ledger_list_absences(struct ledger *l, const char *day, const char *class_name,
                         void (*fn)(const struct absence_view *v, void *arg), void *arg);

/* A part-day absence (sql/010's part_absences): absent for the afternoon (part
 * "noon", 午检缺勤) or at the boarders' evening check ("evening", 晚检缺勤). */
struct part_absence_view {
    const char *external_id, *name, *class_name, *day, *part, *cause, *recorded_by;
    const char *symptoms, *note; /* "" none */
    int64_t recorded_ms;
};
/* The part-day absences of a day, by part (noon first), class and person;
 * class_name NULL = all; unknown_only: only those whose cause is still 'unknown'
 * (the nurse's queue). Index part_absences_day. */
int ledger_list_part_absences(struct ledger *l, const char *day, const char *class_name,
                              bool unknown_only,
                              void (*fn)(const struct part_absence_view *v, void *arg),
                              void *arg);

struct alert_view {
    int64_t id;
    const char *class_name, *rule, *day;
    int64_t opened_ms, closed_ms; /* closed_ms 0: open */
    const char *closed_by;
    int cases;
    const char *people;           /* external ids of the cases, comma-separated */
};
/* Open alerts first, then closed ones; the latest day first. */
int ledger_list_alerts(struct ledger *l, void (*fn)(const struct alert_view *v, void *arg),
                       void *arg);

/* ---- day figures and purge ------------------------------------------------------- */

/* Every figure of a day: its enum name and the name stored in day_figures. */
#define LEDGER_DAY_FIGURES(X)                                   \
    X(FIG_POP_STUDENT, "population.student")                    \
    X(FIG_POP_TEACHER, "population.teacher")                    \
    X(FIG_POP_STAFF, "population.staff")                        \
    X(FIG_POP_TOTAL, "population.total")                        \
    X(FIG_EXPECTED, "expected")                                 \
    X(FIG_ON_LEAVE, "expected.on_leave")                        \
    X(FIG_MORNING_DONE, "checks.morning.expected_done")         \
    X(FIG_MORNING_ALL, "checks.morning.all")                    \
    X(FIG_MORNING_COVERAGE, "checks.morning.coverage_permille") \
    X(FIG_NOON_DONE, "checks.noon.expected_done")               \
    X(FIG_NOON_ALL, "checks.noon.all")                          \
    X(FIG_NOON_COVERAGE, "checks.noon.coverage_permille")       \
    X(FIG_READINGS, "readings.all")                             \
    X(FIG_READINGS_VALID, "readings.valid")                     \
    X(FIG_READINGS_INVALID, "readings.invalid")                 \
    X(FIG_READINGS_NO_MEASUREMENT, "readings.no_measurement")   \
    X(FIG_OUT_ADMIT, "decisions.admit")                         \
    X(FIG_OUT_FEVER, "decisions.fever")                         \
    X(FIG_OUT_INVALID, "decisions.invalid")                     \
    X(FIG_OUT_UNKNOWN_CARD, "decisions.unknown_card")           \
    X(FIG_OUT_NO_IDENTITY, "decisions.no_identity")             \
    X(FIG_OUT_SEE_NURSE, "decisions.see_nurse")                 \
    X(FIG_OUT_NO_MEASUREMENT, "decisions.no_measurement")       \
    X(FIG_SCREENS, "fevers.screens")                            \
    X(FIG_CONFIRMED, "fevers.confirmed")                        \
    X(FIG_CLEARED, "fevers.cleared")                            \
    X(FIG_SCREENS_OPEN, "fevers.open")                          \
    X(FIG_REFERRALS, "referrals.opened")                        \
    X(FIG_REF_SENT_HOME, "referrals.sent_home")                 \
    X(FIG_REF_HOSPITAL, "referrals.hospital")                   \
    X(FIG_REF_RETURNED, "referrals.returned_to_class")          \
    X(FIG_REF_PENDING, "referrals.pending")                     \
    X(FIG_ABSENCES, "absences.all")                             \
    X(FIG_ABS_UNKNOWN, "absences.unknown")                      \
    X(FIG_ABS_ILLNESS, "absences.illness")                      \
    X(FIG_ABS_PERSONAL, "absences.personal")                    \
    X(FIG_ABS_OTHER, "absences.other")                          \
    X(FIG_ABS_LATE, "absences.late")                            \
    X(FIG_SYM_FEVER, "symptoms.fever")                          \
    X(FIG_SYM_COUGH, "symptoms.cough")                          \
    X(FIG_SYM_SORE_THROAT, "symptoms.sore_throat")              \
    X(FIG_SYM_DIARRHOEA, "symptoms.diarrhoea")                  \
    X(FIG_SYM_VOMITING, "symptoms.vomiting")                    \
    X(FIG_SYM_RASH, "symptoms.rash")                            \
    X(FIG_SYM_CONJUNCTIVITIS, "symptoms.conjunctivitis")        \
    X(FIG_SYM_OTHER, "symptoms.other")                          \
    X(FIG_RETURNS_AFTER_ILLNESS, "returns.after_illness")       \
    X(FIG_CERTIFICATES, "certificates.recorded")                \
    X(FIG_ALERTS_OPENED, "alerts.opened")                       \
    X(FIG_ALERTS_OPEN, "alerts.open_now")                      \
    X(FIG_OBSERVED, "observation.under")                        \
    X(FIG_VISITORS, "visitors.registered")                      \
    X(FIG_VISITORS_REFUSED, "visitors.refused")                 \
    LEDGER_PART_FIGURES(X, NOON, "noon")                        \
    LEDGER_PART_FIGURES(X, EVENING, "evening")                  \
    LEDGER_GROUP_FIGURES(X, STU, "students")                    \
    LEDGER_GROUP_FIGURES(X, STF, "staff")

/* Students, and staff (teachers and other staff: 教职工) apart: the bureau asks for
 * the staff's illness absences separately. Expected as above, of the group. */
#define LEDGER_GROUP_FIGURES(X, G, name)                            \
    X(FIG_##G##_EXPECTED, "groups." name ".expected")               \
    X(FIG_##G##_MORNING_DONE, "groups." name ".morning.expected_done") \
    X(FIG_##G##_MORNING_ALL, "groups." name ".morning.all")         \
    X(FIG_##G##_MORNING_COVERAGE, "groups." name ".morning.coverage_permille") \
    X(FIG_##G##_NOON_DONE, "groups." name ".noon.expected_done")    \
    X(FIG_##G##_NOON_ALL, "groups." name ".noon.all")               \
    X(FIG_##G##_NOON_COVERAGE, "groups." name ".noon.coverage_permille") \
    X(FIG_##G##_ABSENCES, "groups." name ".absences.all")           \
    X(FIG_##G##_ABS_ILLNESS, "groups." name ".absences.illness")

/* The part-day absences (part_absences) of the day: noon (午检缺勤) and evening
 * (晚检缺勤), all and by cause, in this order (summary.c relies on it). */
#define LEDGER_PART_FIGURES(X, P, part)                                  \
    X(FIG_PART_##P, "part_absences." part ".all")                        \
    X(FIG_PART_##P##_UNKNOWN, "part_absences." part ".unknown")          \
    X(FIG_PART_##P##_ILLNESS, "part_absences." part ".illness")          \
    X(FIG_PART_##P##_PERSONAL, "part_absences." part ".personal")        \
    X(FIG_PART_##P##_OTHER, "part_absences." part ".other")

#define LEDGER_FIG_ENUM(e, name) e,
enum day_figure { LEDGER_DAY_FIGURES(LEDGER_FIG_ENUM) FIG_COUNT };
#undef LEDGER_FIG_ENUM

struct day_figures {
    char day[LEDGER_DAY_LEN];
    int v[FIG_COUNT];
};

/* "population.student", ... */
const char *day_figure_name(enum day_figure f);

/* The day's figures from the ledger as it is now. Expected = active people of the
 * kinds in w->absence_kinds without leave that day, their grade back (staged
 * return), nobody on a closed day (a closure, a holiday, outside the term); the
 * population is today's roster (the ledger keeps no roster history);
 * certificates count by the day they were recorded; alerts.open_now is the
 * state at the time of the call. All the counts in one read transaction (one
 * snapshot; no write lock), or in the caller's. */
int ledger_day_figures(struct ledger *l, const char *day, const struct cfg_windows *w,
                       struct day_figures *f);
/* A set of figures: on[FIG_EXPECTED] = true, ... (more than 64 of them since the
 * students' and staff's groups: no bit mask). */
struct fig_set {
    bool on[FIG_COUNT];
};
/* Every figure. */
struct fig_set ledger_fig_all(void);
/* ledger_day_figures counting only the figures in `which` (the others 0; the
 * coverages are computed when their counts are in the set): the trends of 30 days
 * need a few of them, and the readings' counts scan the day's readings. */
int ledger_day_figures_of(struct ledger *l, const char *day, const struct cfg_windows *w,
                          const struct fig_set *which, struct day_figures *f);
/* Writes them to day_figures (replacing that day's), in one transaction. */
int ledger_store_day_figures(struct ledger *l, const struct day_figures *f);
/* One named figure of a day outside the fixed list (INSERT OR REPLACE), e.g. the
 * daemon's "lane.<name>.availability_permille". */
int ledger_store_figure(struct ledger *l, const char *day, const char *name, int value);
/* Reads stored figures back; *found = 0 when none were stored for the day. */
int ledger_load_day_figures(struct ledger *l, const char *day, struct day_figures *f,
                            int *found);

/* Deletes the readings of the days before the local day of before_ms (whole days,
 * so that a day's figures are computed once, from all its readings, and stored
 * first). Checks and flags that pointed at a deleted reading keep their values and
 * lose the link (reading_id NULL). *deleted = readings deleted; *days = days whose
 * figures were stored. Each day's figures in their own transaction, then 500
 * readings a transaction: a failure keeps what was done, a second purge does the rest. */
int ledger_purge(struct ledger *l, const struct cfg_windows *w, int64_t before_ms,
                 const char *by, int *deleted, int *days);

/* The record of the day's events done (table day_events, sql/003_day_events.sql):
 * the day worker looks an event up before its job and records it once the job is
 * done, so each runs once a day however the wall clock or the configuration moves.
 * `event` is civil.h's day_event_name. */
int ledger_day_event_done(struct ledger *l, const char *day, const char *event, bool *done);
int ledger_day_event_record(struct ledger *l, const char *day, const char *event,
                            int64_t at_ms);
/* Whether `event` was recorded on a day before `day` (the box was in service before
 * it: the start's catch-up of closed days goes no further back than that). */
int ledger_day_event_before(struct ledger *l, const char *day, const char *event, bool *found);
/* Whether the gate worked on `day`: it recorded a reading (any decision) that day.
 * Readings by their instant, on the readings_at index. */
int ledger_day_worked(struct ledger *l, const char *day, bool *worked);

#endif
