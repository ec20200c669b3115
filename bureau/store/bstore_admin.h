/* What the bureau's administrator changes and reads with gatescreen-bureau: schools,
 * credentials, the quarantine. The calls that change something take `errs` for the
 * person's sentence when they refuse, and `actor` for audit_log. */
#ifndef GS_BSTORE_ADMIN_H
#define GS_BSTORE_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bstore.h"
#include "certid.h"
#include "school_list.h"

/* One new school: BSTORE_CONFLICT when the code exists. */
enum bstore_status bstore_school_add(struct bstore *s, const struct school_row *r,
                                     const char *actor, FILE *errs);

struct bstore_import_stats {
    int rows, added, updated, unchanged;
};
/* The whole list in one transaction: new codes added, known ones updated (their
 * active flag stays as it is). Nothing changes when anything fails. */
enum bstore_status bstore_school_import(struct bstore *s, const struct school_list *l,
                                        const char *file, const char *actor,
                                        struct bstore_import_stats *st, FILE *errs);

struct bstore_school_view {
    const char *code, *name, *county, *kind, *contact_name, *contact_phone;
    long enrolment;
    bool active;
    int credentials; /* not revoked */
};
/* Active schools (all with `all`) by county and code; 0, or -1. */
int bstore_school_list(struct bstore *s, bool all,
                       void (*fn)(const struct bstore_school_view *v, void *arg), void *arg);

/* From now on the school's uploads are refused (403). */
enum bstore_status bstore_school_disable(struct bstore *s, const char *code, const char *actor,
                                         FILE *errs);

/* Registers a certificate (its fingerprint, serial, expiry) and a token's SHA-256 as
 * one credential of the school. The one way a credential comes into being: `school
 * enrol` (bureau/enrol/, issuing them from the bureau's CA) registers through this
 * too. BSTORE_NOT_FOUND: no such school; BSTORE_CONFLICT: the certificate or token
 * is registered already. */
enum bstore_status bstore_credential_add(struct bstore *s, const char *code,
                                         const struct certid *cert, const char *token_sha256,
                                         const char *actor, long long *cred_id, FILE *errs);
/* Revokes every credential of the school still in force; *count of them.
 * BSTORE_NOT_FOUND: no such school; BSTORE_CONFLICT: none in force. */
enum bstore_status bstore_credential_revoke(struct bstore *s, const char *code,
                                            const char *actor, int *count, FILE *errs);

struct bstore_quarantine_view {
    long long id;
    const char *received_at, *received_by, *school_code, *kind, *idem_key, *reason,
        *json_pointer;
    int http_status;
    const unsigned char *body; /* NULL: not kept */
    size_t body_len;
};
/* The latest `limit` rows, newest first; 0, or -1. */
int bstore_quarantine_list(struct bstore *s, int limit,
                           void (*fn)(const struct bstore_quarantine_view *v, void *arg),
                           void *arg);

#endif
