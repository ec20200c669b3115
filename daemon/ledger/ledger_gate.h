/* The gate's side of the ledger: who holds a card (and what the nurse still has
 * open for them), and recording each lane decision with everything it implies
 * (reading, check, recheck flag, late arrival, return after absence). Prepared
 * statements are kept for the life of the handle: the lanes decide hundreds of
 * times a minute at 7:30. Main thread only. */
#ifndef GS_LEDGER_GATE_H
#define GS_LEDGER_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include "civil.h"
#include "config.h"
#include "events.h"
#include "ledger.h"
#include "screening.h"

struct ledger_gate;

int ledger_gate_open(struct ledger *l, struct ledger_gate **out);
void ledger_gate_close(struct ledger_gate *g);

/* Makes the config's lanes and devices rows (kept when they leave the config) and
 * returns their ids, indexed like the config, in one transaction. BUSY (not
 * logged): another writer holds the lock; try again later. */
enum ledger_status ledger_gate_sync(struct ledger_gate *g, const struct config *cfg,
                                    int64_t *lane_ids, int64_t *device_ids,
                                    int64_t *terminal_ids);

struct gate_person {
    int64_t id;          /* 0 when the card is unknown */
    char external_id[64];
    char name[128];
    char class_name[64];
    struct person_state state;
};

/* The holder of `card` on local `day` (needs_certificate is judged for that day). */
int ledger_gate_lookup(struct ledger_gate *g, uint64_t card, const char *day,
                       struct gate_person *out);

/* The person with this roster id (a terminal's employeeNoString), like
 * ledger_gate_lookup. */
int ledger_gate_lookup_id(struct ledger_gate *g, const char *external_id, const char *day,
                          struct gate_person *out);

/* Records a terminal's event once per (terminal, serial), inside the open
 * transaction: 1 new (*claim_id set), 0 a repeat (record nothing more), -1 error.
 * An event without a serial is always new. */
int ledger_gate_terminal_claim(struct ledger_gate *g, const char *terminal,
                               const struct terminal_event *ev, int64_t *claim_id);
/* Links the claimed event to the reading ledger_gate_record wrote last. */
int ledger_gate_terminal_link(struct ledger_gate *g, int64_t claim_id);

struct gate_row {
    int64_t at_ms;
    const char *day;
    enum check_window window;
    int64_t lane_id, device_id;   /* 0: none */
    int64_t person_id;            /* 0: none or unknown */
    bool has_card;
    uint64_t card;
    bool has_reading;             /* else a no-measurement row */
    int32_t raw_centi, offset_centi, body_centi;
    bool has_ambient;
    int32_t ambient_centi;
    int status;
    enum reading_quality quality;
    int threshold_centi;
    struct decision decision;
};

/* Writes the decision and its consequences. Call inside a transaction
 * (ledger_gate_begin); the lights wait for ledger_gate_commit. */
int ledger_gate_record(struct ledger_gate *g, const struct gate_row *row);

/* One transaction around a batch of decisions (group commit across lanes). BUSY
 * (not logged): another writer held the lock past the handle's busy timeout. */
enum ledger_status ledger_gate_begin(struct ledger_gate *g);
int ledger_gate_commit(struct ledger_gate *g);
void ledger_gate_rollback(struct ledger_gate *g);

#endif
