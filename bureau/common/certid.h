/* Who a school's client certificate says it is: its SHA-256 fingerprint (the key of
 * credentials.cert_sha256), serial, expiry and the school code it carries. The CLI
 * reads the PEM file an administrator registers here, with libcrypto; the collector
 * reads the certificate a school presented in the TLS handshake with GnuTLS
 * (bureau/collector/peer.c: libcrypto's parse cost 7.5% of its CPU per fresh upload).
 * Both take the SHA-256 of the same DER and the code by certid_pick_code, a pure
 * function, so both agree on the fingerprint and the code.
 *
 * The school code in a certificate (docs/bureau.md, "Identity"):
 *   - a subjectAltName URI "urn:gatescreen:school:CODE" (the form the bureau's CA
 *     issues; every such URI must name the same code), or, when there is none,
 *   - the subject's commonName, which must then be the code itself.
 *   CODE is 1 to 31 of [A-Za-z0-9_-], as in the documents' schemas. */
#ifndef GS_CERTID_H
#define GS_CERTID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "school_cert.h"

/* The code and the URI's form are runtime/school_cert.h's: one rule for what a school
 * code is, shared with the bureau's CA and the school's `upstream enrol`. This file
 * adds the collector's one leniency: a certificate made by hand may carry the code
 * in its CN alone. */
#define CERTID_CODE_MAX (SCHOOL_CODE_MAX + 1)

struct certid {
    char sha256[65];              /* lower-case hex of SHA-256 over the DER */
    char serial[84];              /* lower-case hex */
    char code[CERTID_CODE_MAX];   /* the school it names */
    int64_t not_after_ms;         /* UTC ms */
};

/* The school code from the subject's commonName (NULL: none) and the certificate's
 * subjectAltName URIs, by the rule above. 0, or -1 with the reason in why. */
int certid_pick_code(const char *cn, const char *const *uris, int nuris,
                     char code[CERTID_CODE_MAX], char *why, size_t why_size);

/* Everything above from a PEM file (its first certificate); problems as "PATH: ..." on
 * errs. */
int certid_from_pem_file(const char *path, struct certid *id, FILE *errs);

#endif
