/* The enrolment bundle: the one file the bureau gives a school (written by
 * bureau/enrol, installed by `gatescreen upstream enrol`). It is a JSON object,
 * UTF-8, mode 0600 (it holds the school's private key and token):
 *
 *   {
 *     "format": "gatescreen.enrolment/1",
 *     "about": "gatescreen enrolment bundle for school X001 ...",   (free text, optional)
 *     "school": "X001",                       the school code: the certificate's CN
 *     "url": "https://bureau.example.cn/gatescreen/v1",     [upstream] url
 *     "server_ca": "-----BEGIN CERTIFICATE-----\n...",       [upstream] ca_file: what the
 *                                  school trusts for the bureau's server (one or more)
 *     "certificate": "-----BEGIN CERTIFICATE-----\n...",     [upstream] client_cert
 *     "key": "-----BEGIN PRIVATE KEY-----\n...",             [upstream] client_key
 *     "token": "..."                                          [upstream] token_file
 *   }
 *
 * Every key but "about" is required, no other key is allowed, and a key twice is an
 * error; a new format gets a new "format" name. docs/bureau.md, "Enrolment". */
#ifndef GS_BUNDLE_H
#define GS_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BUNDLE_FORMAT "gatescreen.enrolment/1"
#define BUNDLE_MAX_BYTES (256 * 1024) /* a few certificates; a bigger file is the wrong one */
#define BUNDLE_TOKEN_MIN 16
#define BUNDLE_TOKEN_MAX 512

enum bundle_part {
    BUNDLE_SCHOOL,
    BUNDLE_URL,
    BUNDLE_SERVER_CA,
    BUNDLE_CERT,
    BUNDLE_KEY,
    BUNDLE_TOKEN,
    BUNDLE_PARTS
};

struct bundle;

struct bundle *bundle_new(void);
/* Copies text into the part; -1 when out of memory. */
int bundle_set(struct bundle *b, enum bundle_part part, const char *text);
/* The part's text, or NULL when it is not set. */
const char *bundle_get(const struct bundle *b, enum bundle_part part);
/* The part's key in the file ("server_ca"), for messages. */
const char *bundle_part_name(enum bundle_part part);
/* Every check, all problems reported as "NAME: "part": ...": each part there and
 * well-formed (code, https URL, token of printable ASCII), the certificates parse,
 * the certificate is the school's (school_cert_check at `now`, seconds since the
 * epoch), the key is the certificate's. */
int bundle_check(const struct bundle *b, const char *name, int64_t now, FILE *errs);
/* bundle_check, then the file written atomically with mode 0600; an existing file
 * is never replaced (it may be another school's bundle not yet handed over). */
int bundle_write(const struct bundle *b, const char *path, int64_t now, FILE *errs);
/* A bundle from text (`name` for messages: "NAME:LINE:COLUMN: ..." for bad JSON),
 * checked with bundle_check; NULL with every problem on errs. */
struct bundle *bundle_parse(const char *name, const char *text, size_t len, int64_t now,
                            FILE *errs);
/* bundle_parse of a file (at most BUNDLE_MAX_BYTES). */
struct bundle *bundle_read(const char *path, int64_t now, FILE *errs);
/* Frees, the key and token wiped first. */
void bundle_free(struct bundle *b);

#endif
