/* The nurse and gate web page (issue 7): libmicrohttpd serving a JSON API under
 * /api/v1/ (docs/web-api.md) and a static page embedded at build time
 * (daemon/web/page/). Its threads have their own SQLite connections; the lanes never
 * wait for it. */
#ifndef GS_WEB_H
#define GS_WEB_H

#include "config.h"
#include "confstore.h"
#include "gate_board.h"

struct web;

/* Starts the server for [web] of the snapshot in force (TLS when tls_cert is set);
 * NULL on failure (logged). Each request reads the snapshot in force when it came
 * (a reload never changes a configuration under a request). `board` is the gates'
 * live state (may be NULL in tests). store and board must outlive the server. */
struct web *web_start(struct config_store *store, struct gate_board *board);
/* Stops accepting, ends the event streams, joins the threads. NULL is fine. */
void web_stop(struct web *w);

#endif
