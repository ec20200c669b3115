/* Who may pull (docs/bureau-api.md, "Authentication"): the level above (the
 * province, the city's dashboards) reads the roll-ups, the notices and the missing
 * schools with a bearer token of [pull] (bconfig.h), no client certificate. The
 * collector keeps only the tokens' SHA-256; a request's token is hashed and
 * compared with every one of them in constant time, so neither the answer's time
 * nor its order tells how much of a guess was right.
 *
 * One pull_auth lives as long as the collector; a reload gives it the new [pull]
 * (pull_auth_reload) while request threads check tokens: a mutex guards the set. */
#ifndef GS_PULL_AUTH_H
#define GS_PULL_AUTH_H

#include <stddef.h>
#include <stdio.h>

#include "bconfig.h"

#define PULL_LABEL_LEN 13 /* the first 12 hex digits of a token's SHA-256, for the log */

struct pull_auth;

/* The tokens of cfg: each token file read (a secret file holding one token) and
 * hashed, each token_sha256 taken as it is. NULL with the reasons on errs. No
 * tokens at all is a pull_auth that lets nobody in (the pull API is off). */
struct pull_auth *pull_auth_new(const struct bcfg_pull *cfg, FILE *errs);
/* The tokens of a new cfg, or -1 with the reasons on errs and the old ones kept. */
int pull_auth_reload(struct pull_auth *a, const struct bcfg_pull *cfg, FILE *errs);
void pull_auth_free(struct pull_auth *a);

/* Whether an Authorization header ("Bearer TOKEN", or NULL when there was none)
 * carries one of the tokens: 0 with the token's label, or the HTTP status to answer
 * with its reason in why: 401 (no token, not Bearer, not one of ours) or 403 (the
 * pull API is off: no tokens configured). */
int pull_auth_check(struct pull_auth *a, const char *authorization,
                    char label[PULL_LABEL_LEN], char *why, size_t why_size);

#endif
