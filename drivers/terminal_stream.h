/* Terminals in `mode = stream` (README "HTTP terminals"): gatescreend holds
 * GET /ISAPI/Event/notification/alertStream open on each with HTTP digest
 * (libcurl's multi interface, all of them on one thread of their own), parses
 * the multipart stream as it arrives (isapi_stream.h), and posts each person's
 * event onto the main loop's queue as EV_TERMINAL, the path push events take. A
 * stream that ends, fails or stalls is opened again after a backoff. The gate
 * never waits on these connections. */
#ifndef GS_TERMINAL_STREAM_H
#define GS_TERMINAL_STREAM_H

#include "config.h"
#include "evqueue.h"

struct term_streams;

/* NULL when no terminal is in stream mode (nothing to do) or on failure (`*failed`
 * set, logged). `cfg` must outlive the streams; changing terminals needs a restart. */
struct term_streams *term_streams_start(const struct config *cfg, struct evq *q, int *failed);
/* Wakes the thread, closes every connection, joins. Call it after evq_close, so
 * that an event blocked on a full queue gives up instead of holding the stop. */
void term_streams_stop(struct term_streams *ts);

#endif
