/* What the collector writes and reads for each upload (docs/bureau.md,
 * "Exactly once"): the sender's credential, the document in one transaction, and
 * the quarantine. */
#ifndef GS_BSTORE_INGEST_H
#define GS_BSTORE_INGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "bstore.h"

/* The credential a client certificate's fingerprint names. */
struct bstore_credential {
    long long id;
    char school_code[32];
    char token_sha256[65];
    bool revoked;
    bool school_active;
};

/* BSTORE_OK with *c, BSTORE_NOT_FOUND when no credential has that certificate, or a
 * failure. The collector's path for uploads it refuses before storing (too big, not
 * valid): bstore_ingest reads the credential itself. */
enum bstore_status bstore_credential_by_cert(struct bstore *s, const char *cert_sha256,
                                             struct bstore_credential *c);

/* One checked document: the collector has parsed it, checked it against its schema
 * and taken these fields from it. */
struct bstore_doc {
    const char *school_code;
    const char *kind;          /* "summary" | "notice" */
    const char *idem_key;
    const char *body;          /* as received: valid UTF-8 JSON, no NUL */
    const char *body_sha256;   /* lower-case hex */
    const char *received_by;   /* the collector instance */
    const char *day;           /* summary: date; notice: day (YYYY-MM-DD) */
    int revision;              /* summary */
    const char *generated_at;  /* summary: ISO instant */
    bool closed;               /* summary (version 2): the school says it was closed */
    const char *notice_id;     /* notice */
    const char *notice_type;   /* notice: referral_opened | cluster_alert */
    const char *opened_at;     /* notice: ISO instant */
};

enum bstore_outcome {
    BSTORE_STORED,        /* new: committed now */
    BSTORE_DUPLICATE,     /* the same key with the same body was stored before */
    BSTORE_KEY_CONFLICT,  /* the same key was stored before with another body */
    BSTORE_NOT_STORED,    /* the credential does not allow it: revoked, its school
                           * disabled or another, or the token's digest not its */
};

/* The credential of cert_sha256 and, when it allows it (in force, its school active
 * and d's, token_sha256 its token's digest), d stored, in one statement and one
 * transaction (ingest_document, sql/bureau/008_ingest_one_call.sql): the document
 * (unique per school and key), then its summary revision (and the day's latest,
 * never lowered) or its notice. BSTORE_NOT_FOUND when no credential has that
 * certificate; BSTORE_OK once done, with *c, *outcome (BSTORE_NOT_STORED: *c says
 * why) and the stored document's id; a failure status otherwise
 * (BSTORE_UNAVAILABLE: try again; BSTORE_INVALID: the server refused a value, *why
 * says which). */
enum bstore_status bstore_ingest(struct bstore *s, const char *cert_sha256,
                                 const char *token_sha256, const struct bstore_doc *d,
                                 struct bstore_credential *c, enum bstore_outcome *outcome,
                                 long long *doc_id, char *why, size_t why_size);

/* One refused upload, for the bureau's IT. Strings may be NULL; body may be NULL
 * (not read) and is kept byte for byte. */
struct bstore_quarantine {
    const char *received_by;
    const char *school_code;
    const char *cert_sha256;
    const char *kind;
    const char *idem_key;
    int http_status;
    const char *reason;
    const char *json_pointer;
    const char *body;
    size_t body_len;
};
enum bstore_status bstore_quarantine_add(struct bstore *s, const struct bstore_quarantine *q);

#endif
