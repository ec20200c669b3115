/* Checks of the X.509 certificates the program is given (the bureau's client
 * certificate): say plainly that one expired, instead of leaving it to a TLS
 * handshake whose error text depends on timing (TLS 1.3 reports a refused client
 * certificate after the handshake, and curl often only sees the connection drop). */
#ifndef GS_CERTS_H
#define GS_CERTS_H

#include <stddef.h>
#include <stdint.h>

/* 0 when the PEM certificate at `path` is valid at `now_ms`; 1 when it is not
 * (expired, or not valid yet), with "FILE expired on 2020-01-02 00:00 UTC" in msg;
 * -1 when it cannot be read or parsed, with the reason in msg. */
int cert_check_dates(const char *path, int64_t now_ms, char *msg, size_t n);

#endif
