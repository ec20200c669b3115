/* What the HTTPS servers (the nurse's page, daemon/web; the bureau's collector,
 * bureau/collector) share about TLS: the one priority string, and reading the PEM
 * files they give libmicrohttpd. One place, so the two servers cannot drift. */
#ifndef GS_TLS_SERVER_H
#define GS_TLS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* GnuTLS priorities: TLS 1.3, and TLS 1.2 with ECDHE key exchange (forward
 * secrecy) and AEAD ciphers only -- no static RSA, no finite-field DHE, no CBC, no
 * SHA-1 MACs, nothing older than 1.2. docs/web.md ("TLS") lists what is offered. */
extern const char tls_server_priorities[];

/* A PEM file, whole and NUL-terminated, malloc'd (the caller frees; a key should
 * be wiped first). A secret one (a key) goes through secret_file_read, the policy
 * every key file follows (no group or other bit); a certificate is public. NULL
 * with "PATH: ..." lines on errs when it cannot be read, is too large or empty. */
char *tls_server_read_pem(const char *what, const char *path, bool secret, size_t *len,
                          FILE *errs);

#endif
