/* Health observation (健康观察, issue 19): a person is watched for N days (back from
 * a risk area, a close contact, after an illness). The gate reads the same rows
 * (ledger_gate.c: person_state.observation) and sends them to the nurse or admits
 * them with a note ([screening] observation); the nurse lists who is under
 * observation and every reading and check of those days. */
#ifndef GS_LEDGER_OBSERVE_H
#define GS_LEDGER_OBSERVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ledger.h"
#include "ledger_health.h"

#define OBSERVE_DAYS_MAX 60
#define OBSERVE_NOTE_MAX 200

/* risk_area, close_contact, after_illness, other; NULL-ended. */
extern const char *const observe_reasons[];

struct observe_in {
    const char *person;
    const char *reason;     /* one of observe_reasons */
    const char *note;       /* may be NULL */
    const char *from_day;   /* the first day under observation */
    int days;               /* 1..OBSERVE_DAYS_MAX, from_day included */
    const char *by;
    int64_t at_ms;
};

/* Starts an observation; *id and to_day (its last day) set. CONFLICT when the
 * person is already under observation on one of those days (the message names it). */
enum ledger_status ledger_observe(struct ledger *l, const struct observe_in *in, int64_t *id,
                                  char to_day[LEDGER_DAY_LEN], FILE *errs);
/* Ends the person's current (or coming) observation from the day of at_ms on.
 * CONFLICT when there is none. */
enum ledger_status ledger_observe_end(struct ledger *l, const char *person, const char *by,
                                      int64_t at_ms, FILE *errs);

struct observation_view {
    int64_t id;
    const char *external_id, *name, *class_name;
    const char *reason, *note, *from_day, *to_day, *ended_day; /* ended_day "" when not ended */
    const char *by;
    int readings;           /* gate readings and manual checks during the observation */
    int referred;           /* of them, sent to the nurse by the gate */
    int fevers;             /* of them, at or above the threshold they were judged by */
    int last_centi;         /* the latest temperature; 0 when none */
    int64_t last_ms;
};
/* People under observation on `day` (class NULL: all), by class then id. */
int ledger_list_observations(struct ledger *l, const char *day, const char *class_name,
                             void (*fn)(const struct observation_view *v, void *arg),
                             void *arg);
/* Every observation of one person, newest first; NOT_FOUND (the message on errs)
 * for an unknown id, IO when the listing failed (logged). */
enum ledger_status ledger_person_observations(struct ledger *l, const char *person,
                                              void (*fn)(const struct observation_view *v,
                                                         void *arg),
                                              void *arg, FILE *errs);

struct observed_check_view {
    int64_t observation_id;
    int64_t at_ms;
    const char *day;
    const char *source;     /* "gate", or the instrument of a manual check */
    bool has_temp;
    int temp_centi, threshold_centi;
    const char *outcome;    /* the gate's decision, or the manual check's window */
    const char *lane;       /* "" for a manual check */
};
/* Every reading and manual check of the person during any of their observations,
 * oldest first; statuses as ledger_person_observations. */
enum ledger_status ledger_observed_checks(struct ledger *l, const char *person,
                                          void (*fn)(const struct observed_check_view *v,
                                                     void *arg),
                                          void *arg, FILE *errs);

/* How many people were under observation on `day` (for the day's figures and the
 * summary: the lead wires it at the merge of issue 19's parts). */
int ledger_count_observed(struct ledger *l, const char *day, int *count);

#endif
