/* Visitors (来访登记, issue 19): gate staff register an outsider who comes in
 * (an official, a repair worker, a parent fetching a sick child). The screening
 * rule is the gate's: a temperature at or above [screening] threshold refuses the
 * visitor, and the refusal is on the nurse's list for the day. The register is
 * personal data: purged with the readings after [ledger] retention_days. */
#ifndef GS_LEDGER_VISITORS_H
#define GS_LEDGER_VISITORS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ledger.h"
#include "ledger_health.h"

#define VISITOR_NAME_MAX 64     /* name, host, approved by: bytes */
#define VISITOR_TEXT_MAX 200    /* organisation, reason */
#define VISITOR_PHONE_MAX 24
/* A lane's reading is the visitor's only when this fresh and nobody's card. */
#define VISITOR_LANE_MAX_AGE_MS (2 * 60 * 1000)

struct visitor_in {
    const char *name, *phone, *organisation, *reason, *host, *approved_by;
    bool from_lane;          /* take the lane's latest anonymous reading */
    const char *lane;        /* from_lane: the lane's name */
    int temp_centi;          /* !from_lane: as entered (checked in the plausible range) */
    const struct cfg_screening *screening;
    const char *by;
    int64_t at_ms;
};

struct visitor_result {
    int64_t id;
    char day[LEDGER_DAY_LEN];
    int temp_centi, threshold_centi;
    bool refused;            /* a fever: not let in, on the nurse's list */
};

/* Registers a visitor. INVALID (the message names the field) for a missing or bad
 * value, or a lane without a fresh anonymous valid reading (measure again). */
enum ledger_status ledger_visitor_add(struct ledger *l, const struct visitor_in *in,
                                      struct visitor_result *out, FILE *errs);

struct visitor_view {
    int64_t id, at_ms;
    const char *day, *name, *phone, *organisation, *reason, *host, *approved_by, *by;
    const char *temp_source, *lane, *outcome;   /* lane|entered; admitted|refused */
    int temp_centi, threshold_centi;
};
/* The visitors of a day in order of arrival; refused_only: the fevers. */
int ledger_list_visitors(struct ledger *l, const char *day, bool refused_only,
                         void (*fn)(const struct visitor_view *v, void *arg), void *arg);

/* The day's visitor figures (for the day report and the summary: the lead wires
 * them at the merge of issue 19's parts). */
struct visitor_figures {
    int registered, admitted, refused;
};
int ledger_visitor_figures(struct ledger *l, const char *day, struct visitor_figures *out);

/* Deletes the visitors of days before `cut` (ledger_purge: the same retention as
 * the readings), audited; *deleted their number. */
int ledger_purge_visitors(struct ledger *l, const char *cut, const char *by, int *deleted);

#endif
