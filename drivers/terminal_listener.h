/* The listener face/thermal terminals push their events to ([terminals] listen;
 * README "HTTP terminals"). Plain HTTP (the terminals cannot do modern TLS), one
 * libmicrohttpd daemon with one thread of its own, never the nurse page's port or
 * threads. Only the configured terminals' addresses are served (others: 403);
 * bodies, connections and the time to send a request are bounded. Each person's
 * event goes onto the main loop's queue as EV_TERMINAL and is answered 200 once
 * queued: the HTTP thread never touches the ledger or the lights. */
#ifndef GS_TERMINAL_LISTENER_H
#define GS_TERMINAL_LISTENER_H

#include "config.h"
#include "evqueue.h"

struct term_listener;

/* NULL when [terminals] has no listen (nothing to do) or on failure (`*failed` set,
 * logged). `cfg` must outlive the listener; changing terminals needs a restart. */
struct term_listener *term_listener_start(const struct config *cfg, struct evq *q, int *failed);
void term_listener_stop(struct term_listener *tl);

#endif
