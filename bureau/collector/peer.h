/* The client certificate of a request's TLS connection: present, verified against the
 * bureau's client CA (the trust list libmicrohttpd was given: [collector] client_ca),
 * made for TLS clients, in its dates, and naming a school (certid.h). libmicrohttpd
 * asks for a client certificate but checks nothing: this is where it is checked. */
#ifndef GS_PEER_H
#define GS_PEER_H

#include <microhttpd.h>
#include <stddef.h>

#include "certid.h"

/* 0 with the certificate's identity, or -1 with why it is refused. */
int peer_identify(struct MHD_Connection *conn, struct certid *id, char *why, size_t why_size);

#endif
