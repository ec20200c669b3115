/* Certificates and keys as PEM text in memory (the enrolment bundle carries them as
 * strings), read and written with OpenSSL's libcrypto, with messages that say what
 * is wrong instead of OpenSSL's error codes; and the hex SHA-256 that identifies a
 * certificate (of its DER) or a token (of its text) at the bureau. */
#ifndef GS_PEM_H
#define GS_PEM_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdio.h>

#define PEM_SHA256_HEX 65 /* 64 lowercase hex digits and the NUL */

/* The one certificate in `text`; NULL with "WHERE: ..." on errs when there is none,
 * more than one, or it does not parse. */
X509 *pem_cert(const char *text, const char *where, FILE *errs);
/* How many certificates `text` holds (at least one, each parsing), or -1. */
int pem_cert_count(const char *text, const char *where, FILE *errs);
/* The one private key in `text`, unencrypted; never asks for a password. */
EVP_PKEY *pem_key(const char *text, const char *where, FILE *errs);
/* 1 when `key` is the private half of the certificate's public key, else 0. */
int pem_key_matches(X509 *x, EVP_PKEY *key);
/* PEM text of a certificate or a private key (PKCS#8), malloc'd and NUL-terminated;
 * NULL when out of memory. The key's text is a secret: wipe it before free. */
char *pem_of_cert(X509 *x);
char *pem_of_key(EVP_PKEY *key);
/* Lowercase hex SHA-256 of data, and of a certificate's DER encoding (the value of
 * `openssl x509 -fingerprint -sha256` without its colons, in lower case). */
/* SHA-256 of any bytes as lowercase hex (certificates, tokens, bodies): the one
 * digest of the tree. -1 (64 'x', equal to no real digest) if libcrypto fails. */
int pem_sha256_hex(const void *data, size_t len, char hex[PEM_SHA256_HEX]);
int pem_cert_sha256(X509 *x, char hex[PEM_SHA256_HEX]);

#endif
