/* The ledger as the bureau's documents read it (docs/design.md, "Upstream";
 * upstream.h): one referral, one cluster alert and its cases, a lane's stored
 * availability. All their SQL is in ledger_upstream.c; summary.c turns these views
 * into JSON. Read only.
 *
 * Strings in a view point into the row being read: they are valid only during the
 * callback that receives the view, never NULL unless said so. The callbacks get
 * them without a copy or a length limit, so the documents carry the ledger's text
 * exactly as stored. */
#ifndef GS_LEDGER_UPSTREAM_H
#define GS_LEDGER_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"

/* A person a notice names. */
struct notice_person {
    const char *external_id; /* NULL: nobody known (an unknown card); the rest "" then */
    const char *name, *class_name, *kind;
};

struct referral_notice_view {
    int64_t id, opened_ms;
    const char *day;
    struct notice_person person;
    /* Centi-degrees; has_* false when not measured (the value is 0 then). */
    bool has_screen, has_threshold, has_recheck;
    int screen_centi, threshold_centi, recheck_centi;
    const char *recheck_instrument; /* NULL when not recorded */
};
/* Calls fn once with referral `id`: 1 found, 0 no such referral, -1 on a database
 * error (logged). */
int ledger_referral_notice(struct ledger *l, int64_t id,
                           void (*fn)(const struct referral_notice_view *v, void *arg),
                           void *arg);

struct alert_notice_view {
    int64_t id, opened_ms;
    const char *class_name, *rule, *day;
    int cases;
};
/* Calls fn once with cluster alert `id`: 1 found, 0 no such alert, -1 on a
 * database error (logged). fn may list the alert's cases (ledger_list_alert_cases). */
int ledger_alert_notice(struct ledger *l, int64_t id,
                        void (*fn)(const struct alert_notice_view *v, void *arg), void *arg);

struct alert_case_view {
    struct notice_person person; /* always known */
    const char *case_kind, *day;
};
/* The alert's cases, each person once per kind of case and day, by day, kind and
 * external id: 0, or -1 on a database error (logged). */
int ledger_list_alert_cases(struct ledger *l, int64_t alert_id,
                            void (*fn)(const struct alert_case_view *v, void *arg), void *arg);

/* The share of `day` the devices of `lane` were online, in permille, as the daemon
 * stored it ("lane.<name>.availability_permille", ledger_store_figure): 1 and
 * *permille when stored, 0 (and *permille 0) when not, -1 on a database error. */
int ledger_lane_availability(struct ledger *l, const char *day, const char *lane,
                             int *permille);

/* The highest revision of the day in the summaries table, 0 when none (read only:
 * `gatescreen summary` prints the document that revision would hold). */
int summary_latest_revision(struct ledger *l, const char *day, int *revision);

#endif
