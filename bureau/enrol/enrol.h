/* Enrolling a school with the bureau: its client certificate from the bureau's CA,
 * its bearer token, and the bundle file that carries them to the school.
 *
 * What `gatescreen-bureau school enrol CODE` calls (today the stand-in is
 * tests/tools/bureau_enrol_tool.c, which does exactly this):
 *
 *     struct enrol_ca *ca = enrol_ca_load(ca_cert, ca_key, now, errs);   enrol_ca.h
 *     struct enrol_credential *c = enrol_issue(ca, code, days, now, errs);
 *     const struct enrol_record *r = enrol_record(c);
 *     BEGIN;
 *     INSERT INTO credentials (school_code, cert_serial, cert_sha256, token_sha256,
 *                              not_after, issued_by)
 *         VALUES (r->code, r->cert_serial, r->cert_sha256, r->token_sha256,
 *                 to_timestamp(r->not_after), who);
 *     enrol_write_bundle(c, url, server_ca_file, out_path, now, errs);  -- or ROLLBACK
 *     COMMIT;                      -- if the commit fails, unlink(out_path)
 *     enrol_credential_free(c); enrol_ca_free(ca);
 *
 * So a bundle exists only for a credential the collector knows, and the token
 * itself is never stored at the bureau (only its SHA-256).
 *
 * The collector identifies a school the same way: the SHA-256 of the client
 * certificate's DER (enrol_der_sha256) is a credentials.cert_sha256, and the SHA-256
 * of the Authorization header's token (enrol_token_sha256) is that row's
 * token_sha256. The certificate's CN and SAN URI name the school
 * (runtime/school_cert.h: school_cert_code). docs/bureau.md, "Enrolment". */
#ifndef GS_ENROL_H
#define GS_ENROL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "enrol_ca.h"
#include "pem.h"
#include "school_cert.h"

#define ENROL_DAYS_MAX 3650     /* a school's certificate: at most 10 years */
#define ENROL_TOKEN_BYTES 32    /* random bytes of a token */
#define ENROL_TOKEN_LEN 43      /* ... as base64url without padding */

/* What the bureau keeps of an enrolment (the credentials row); nothing secret. */
struct enrol_record {
    char code[SCHOOL_CODE_MAX + 1];
    char cert_serial[41];             /* lowercase hex: credentials.cert_serial */
    char cert_sha256[PEM_SHA256_HEX]; /* SHA-256 of the certificate's DER */
    char token_sha256[PEM_SHA256_HEX];/* SHA-256 of the token's text */
    int64_t not_before, not_after;    /* seconds since the epoch, UTC */
};

/* A school's new key, certificate and token: secret, wiped when freed. */
struct enrol_credential;

/* Issues school `code` a certificate from `ca`: a new EC P-256 key, subject CN=code,
 * subjectAltName URI urn:gatescreen:school:CODE, extendedKeyUsage clientAuth, a random
 * 128-bit serial, valid from an hour before `now` (seconds since the epoch) for
 * `days` days (1..ENROL_DAYS_MAX, and not beyond the CA's own end); and a token of
 * ENROL_TOKEN_BYTES random bytes in base64url. NULL with the reasons on errs. */
struct enrol_credential *enrol_issue(const struct enrol_ca *ca, const char *code, int days,
                                     int64_t now, FILE *errs);
const struct enrol_record *enrol_record(const struct enrol_credential *c);
/* The token's text (what the school sends as "Authorization: Bearer TOKEN"). */
const char *enrol_token(const struct enrol_credential *c);
/* The school's certificate and private key as PEM, what the bundle carries: for a
 * program that issues credentials and uses them itself at once (the ingest
 * benchmark's load generator, tests/bench/ingest_load.c), without a bundle file each. */
const char *enrol_cert_pem(const struct enrol_credential *c);
const char *enrol_key_pem(const struct enrol_credential *c);
/* Writes the school's bundle (runtime/bundle.h) to out_path, mode 0600, atomically,
 * never over an existing file: the school code, `url` (the collector's https://
 * upload URL), the CA certificate(s) in server_ca_file that the school is to trust
 * for the collector's server certificate (the bureau's server CA; it need not be
 * the CA that issues client certificates), the certificate, key and token. */
int enrol_write_bundle(const struct enrol_credential *c, const char *url,
                       const char *server_ca_file, const char *out_path, int64_t now,
                       FILE *errs);
void enrol_credential_free(struct enrol_credential *c);

/* The bureau's identifiers, lowercase hex: of a certificate's DER, of a token. */
void enrol_der_sha256(const unsigned char *der, size_t len, char hex[PEM_SHA256_HEX]);
void enrol_token_sha256(const char *token, char hex[PEM_SHA256_HEX]);

#endif
