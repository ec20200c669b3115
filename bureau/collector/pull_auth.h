/* Who may read: the one check of the collector's read API (GET /v1/missing now, the
 * pull API of the roll-ups and notices beside it). The convention both share:
 *
 *   - read endpoints are GET routes under /v1/ (not /v1/documents, the schools'
 *     uploads, nor /v1/health, the load balancer's);
 *   - the reader sends "Authorization: Bearer TOKEN", TOKEN one of the pull tokens
 *     of [pull] token_file; no client certificate is needed (a province's
 *     dashboard has none from the schools' CA);
 *   - no token: 401 with WWW-Authenticate: Bearer; a token not in the set: 401;
 *     no [pull] token_file: 403 (the read API is off).
 *
 * The token file is a secret file (no group or other permission bit), one token a
 * line (16 to 512 printable ASCII characters, no blanks), blank lines and lines
 * starting with # ignored. Only the tokens' SHA-256 are kept, and a token is
 * compared with every one of them in constant time. A reader is named in the log
 * by the first 8 hex digits of its token's SHA-256. */
#ifndef GS_PULL_AUTH_H
#define GS_PULL_AUTH_H

#include <stddef.h>
#include <stdio.h>

#define PULL_READER_LEN 9 /* 8 hex digits + NUL */

struct pull_auth;

/* The tokens of `path` ("" or NULL: none, the read API is off): NULL with every
 * problem as "PATH:LINE: ..." on errs. */
struct pull_auth *pull_auth_load(const char *path, FILE *errs);
void pull_auth_free(struct pull_auth *a);
int pull_auth_count(const struct pull_auth *a);

/* Whether `authorization` (the header's value, NULL when absent) carries one of the
 * tokens: 0 with the reader's name, or the HTTP status to answer (401, 403) with
 * the reason in why. */
int pull_auth_check(const struct pull_auth *a, const char *authorization,
                    char reader[PULL_READER_LEN], char *why, size_t n);

#endif
