/* What the roll-ups, the notices' list and their acknowledgement read and write
 * (docs/bureau-api.md; bureau/common/rollup.h and notice_list.h say what a query
 * asks and what a row holds). The reads add up summary_figures (sql/bureau/
 * 003_rollups.sql), never the documents' jsonb, and may run on a read replica. */
#ifndef GS_BSTORE_ROLLUP_H
#define GS_BSTORE_ROLLUP_H

#include <stdio.h>

#include "bstore.h"
#include "notice_list.h"
#include "rollup.h"

/* The rows of q in order (day, county, school code), each given to fn; its strings
 * live until fn returns. *rows is their count. When there would be more than
 * max_rows, fn is not called and *rows is max_rows + 1. BSTORE_OK; BSTORE_NOT_FOUND
 * when q names a county no school is in, or a school that is not there (in that
 * county); or a failure. */
enum bstore_status bstore_rollup(struct bstore *s, const struct rollup_query *q, int max_rows,
                                 void (*fn)(const struct rollup_row *r, void *arg), void *arg,
                                 long *rows);

/* The notices of q, oldest first (opened_at), as bstore_rollup gives its rows.
 * BSTORE_NOT_FOUND when q names a school or county that is not there. */
enum bstore_status bstore_notices(struct bstore *s, const struct notice_query *q, int max_rows,
                                  void (*fn)(const struct notice_row *r, void *arg), void *arg,
                                  long *rows);

/* A short text that changes whenever a notice arrives or is acknowledged (the
 * bureau page's live notices compare it): BSTORE_OK with it in out, or a failure. */
enum bstore_status bstore_notices_state(struct bstore *s, char *out, size_t n);

/* Who acknowledged a notice and when (ISO 8601 UTC). */
struct bstore_ack {
    char at[32];
    char by[128];
};

/* Acknowledges the notice once, with its audit_log row, in one transaction; *ack
 * says who and when. Safe with several programs at once: the UPDATE only takes a
 * notice not acknowledged yet, so one of two racing acknowledgements wins and the
 * other is told who won. BSTORE_NOT_FOUND: no such notice; BSTORE_CONFLICT: it was
 * acknowledged already (*ack: by whom, when); a sentence on errs for either. */
enum bstore_status bstore_notice_ack(struct bstore *s, const char *school, const char *notice_id,
                                     const char *actor, const char *note, struct bstore_ack *ack,
                                     FILE *errs);

#endif
