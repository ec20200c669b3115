/* What one client may hold of the web server (issue 16): a deadline for sending a
 * whole request, and the budget of event streams. The per-address connection limit
 * is libmicrohttpd's own (web_server.c). Used by web_server.c and web_gates.c. */
#ifndef GS_WEB_GUARD_H
#define GS_WEB_GUARD_H

#include <microhttpd.h>
#include <stdint.h>

#include "config.h"

struct web_guard;

/* Starts the watchdog thread; NULL (logged) when it cannot. */
struct web_guard *web_guard_new(const struct cfg_web *c);
/* Stops the watchdog; after MHD_stop_daemon (no connection is left). */
void web_guard_free(struct web_guard *g);

/* MHD_OPTION_NOTIFY_CONNECTION's callback (cls: the guard): a new connection's
 * deadline starts (it covers the TLS handshake too); a closed one is forgotten. */
void web_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode code);
/* The request is in and its answer queued: no deadline while it is answered (a
 * handler may wait, a stream may last). */
void web_guard_request_in(struct MHD_Connection *conn);
/* The answer went out: the next request on the connection has its own deadline
 * (an idle keep-alive connection is closed when it passes). */
void web_guard_request_done(struct MHD_Connection *conn);

/* One more event stream for user_id: 0; 1 when the user has streams_per_user open;
 * 2 when all users together have streams_max. */
int web_guard_stream_take(struct web_guard *g, int64_t user_id);
void web_guard_stream_give(struct web_guard *g, int64_t user_id);

#endif
