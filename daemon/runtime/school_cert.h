/* What makes a certificate a school's client certificate: the one convention the
 * bureau's CA issues by (bureau/enrol), the school's `gatescreen upstream enrol`
 * checks and the bureau's collector relies on.
 *
 *   subject CN        the school code, exactly (and nothing else in the subject)
 *   subjectAltName    URI:urn:gatescreen:school:CODE
 *   extendedKeyUsage  clientAuth
 *
 * A school code is what [school] code and the bureau's schools.code accept: 1 to 31
 * letters, digits, '_' and '-'. */
#ifndef GS_SCHOOL_CERT_H
#define GS_SCHOOL_CERT_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SCHOOL_CODE_MAX 31
#define SCHOOL_URI_PREFIX "urn:gatescreen:school:"

bool school_code_ok(const char *code);
/* "urn:gatescreen:school:CODE" into buf; -1 if the code is not a code or buf too small. */
int school_cert_uri(const char *code, char *buf, size_t n);
/* The school code a certificate names: its one CN, a valid code, and the same as its
 * SAN URI. -1 with "WHERE: ..." on errs otherwise. The collector's question. */
int school_cert_code(X509 *x, char code[SCHOOL_CODE_MAX + 1], const char *where, FILE *errs);
/* x names school `code` (school_cert_code), allows clientAuth, and is valid at `now`
 * (seconds since the epoch). All problems on errs, each after "WHERE: ". */
int school_cert_check(X509 *x, const char *code, int64_t now, const char *where, FILE *errs);

#endif
