/* Building X.509 certificates with libcrypto for the bureau's CA and the schools'
 * client certificates (enrol_ca.c, enrol.c): EC P-256 keys, random 128-bit serials,
 * extensions given in OpenSSL's configuration syntax, SHA-256 signatures. Internal
 * to bureau/enrol; every function reports OpenSSL's reason on errs after `what`. */
#ifndef GS_X509_BUILD_H
#define GS_X509_BUILD_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>

#define XB_SERIAL_HEX 41 /* at most 40 lowercase hex digits (RFC 5280: 20 octets) */

/* A new EC P-256 key. */
EVP_PKEY *xb_new_key(const char *what, FILE *errs);
/* A version 3 certificate for `key`, subject CN=cn, a random positive 128-bit serial,
 * valid from not_before to not_after (seconds since the epoch), issued by `issuer`'s
 * subject (NULL: by itself). Not yet signed; no extensions. */
X509 *xb_new_cert(EVP_PKEY *key, const char *cn, X509 *issuer, int64_t not_before,
                  int64_t not_after, const char *what, FILE *errs);
/* Adds extension `nid` with `value` as in openssl.cnf ("critical,CA:TRUE"). */
int xb_add_ext(X509 *x, X509 *issuer, int nid, const char *value, const char *what,
               FILE *errs);
/* Signs with SHA-256. */
int xb_sign(X509 *x, EVP_PKEY *issuer_key, const char *what, FILE *errs);
/* The serial number in lowercase hex. */
int xb_serial_hex(X509 *x, char out[XB_SERIAL_HEX]);
/* The notAfter as seconds since the epoch. */
int xb_not_after(X509 *x, int64_t *out);
/* "WHAT: MESSAGE (OpenSSL's reason)" on errs; the error queue cleared. */
void xb_fail(FILE *errs, const char *what, const char *message);

#endif
