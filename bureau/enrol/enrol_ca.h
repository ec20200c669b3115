/* The bureau's CA for schools' client certificates: made once (`gatescreen-bureau ca
 * init`, for now tests/tools/bureau_enrol_tool init-ca), then loaded for every
 * enrolment. An EC P-256 key and a self-signed certificate: CA:TRUE with pathlen 0
 * (it signs schools, never other CAs), keyUsage keyCertSign and cRLSign.
 *
 * The CA's certificate is what the collector's TLS trusts for client certificates;
 * its key signs every school's certificate and must stay with the bureau (mode
 * 0600, refused otherwise). See enrol.h and docs/bureau.md, "Enrolment". */
#ifndef GS_ENROL_CA_H
#define GS_ENROL_CA_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>

#define ENROL_CA_CERT "ca.pem" /* file names in the CA's folder */
#define ENROL_CA_KEY "ca.key"
#define ENROL_CA_DAYS_MAX 7300 /* 20 years */
#define ENROL_CA_NAME_MAX 64

struct enrol_ca;

/* Makes DIR/ca.key (0600) and DIR/ca.pem (0644), subject CN=name, valid from an hour
 * before `now` (seconds since the epoch) for `days` days. DIR is made (0700) if
 * missing. Never replaces an existing CA: each school's certificate depends on it.
 * 0, or -1 with the reasons on errs and nothing written. */
int enrol_ca_create(const char *dir, const char *name, int days, int64_t now, FILE *errs);
/* Loads a CA: the certificate must be a CA valid at `now`, the key its key, mode
 * 0600. NULL with the reasons on errs. */
struct enrol_ca *enrol_ca_load(const char *cert_path, const char *key_path, int64_t now,
                               FILE *errs);
/* The two files in one folder, as enrol_ca_create names them. */
struct enrol_ca *enrol_ca_load_dir(const char *dir, int64_t now, FILE *errs);
void enrol_ca_free(struct enrol_ca *ca);
/* The CA's certificate and key, owned by ca (enrol.c signs with them). */
X509 *enrol_ca_cert(const struct enrol_ca *ca);
EVP_PKEY *enrol_ca_key(const struct enrol_ca *ca);

#endif
