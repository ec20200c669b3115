/* The urgent notices as the bureau lists them (docs/bureau-api.md, "GET
 * /v1/notices"): referrals opened and cluster alerts, each with its school, the
 * class and person as the school sent them, and who at the bureau acknowledged it
 * and when. The pull API and `gatescreen-bureau notice list` check their
 * parameters and write their answers here; the SQL is bureau/store/bstore_rollup.c. */
#ifndef GS_NOTICE_LIST_H
#define GS_NOTICE_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "rollup.h"

#define NOTICE_MAX_ROWS 10000   /* more: the caller is asked to narrow the query */
#define NOTICE_NOTE_MAX 1000    /* an acknowledgement's note, in bytes */

struct notice_query {
    char from[ROLLUP_DAY_LEN], to[ROLLUP_DAY_LEN]; /* "" = no bound (the notice's day) */
    bool unacknowledged;                           /* only those not acknowledged yet */
    char county[64];                               /* "" = every county */
    char school[32];                               /* "" = every school */
};

/* Fills q from the parameters as given (NULL: not given): from and to are days,
 * from <= to; unacknowledged is 1/0, yes/no, true/false; county and school are
 * checked as the schools' list checks them. 0, or -1 with *param naming the
 * parameter at fault and the sentence in why. */
int notice_query_set(struct notice_query *q, const char *from, const char *to,
                     const char *unacknowledged, const char *county, const char *school,
                     const char **param, char *why, size_t why_size);

struct notice_row {
    const char *school_code, *school_name, *county;
    const char *notice_id, *type, *day;        /* type: referral_opened | cluster_alert */
    const char *opened_at, *received_at;       /* ISO 8601 UTC, to the millisecond */
    const char *document;                      /* the notice as the school sent it (JSON) */
    const char *acknowledged_at;               /* NULL: not acknowledged */
    const char *acknowledged_by, *ack_note;
};

/* One answer written to f, as rollup_writer does: JSON {"from", "to",
 * "unacknowledged", "county", "school", "notices": [...]} or CSV (BOM, header, a
 * record per notice). */
struct notice_writer;
struct notice_writer *notice_writer_new(FILE *f, enum rollup_format format,
                                        const struct notice_query *q);
void notice_writer_row(const struct notice_row *r, void *writer);
int notice_writer_end(struct notice_writer *w);

/* Whether note can be an acknowledgement's note: 1 to NOTICE_NOTE_MAX bytes of
 * UTF-8 without control characters but tab and line ends. NULL, or why not. */
const char *notice_note_problem(const char *note);

#endif
