/* GET /v1/missing's parameters and answer (collector_missing.c), shared with the
 * bureau's page (bureau/page/bpage_api.c, its "Today at the deadline"), so that the
 * page, the pull API and `gatescreen-bureau missing` say the same. */
#ifndef GS_MISSING_JSON_H
#define GS_MISSING_JSON_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>

#include "bstore_missing.h"

/* The query string's day, deadline and county into q (day into the buffer; q->cfg
 * is the caller's): 0, or -1 with *param naming the parameter at fault (also an
 * unknown or repeated one) and the sentence in why. */
int missing_args_read(struct MHD_Connection *conn, struct bstore_missing_query *q,
                      char day[DAY_LEN], const char **param, char *why, size_t n);
/* The answer's JSON (collector_missing.c says its fields); NULL when out of memory. */
json_t *missing_report_json(const struct missing_report *m, const char *zone, const char *county);

#endif
