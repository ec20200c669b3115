/* What the collector checks about an upload, apart from TLS and the database: the
 * headers, and the document against its kind's schema (config/schema/, through
 * daemon/documents/) and against the school that sent it. No I/O: the unit tests
 * and the fuzz target drive it directly. Every refusal is an HTTP status, a sentence
 * and, for a problem in the document, the JSON pointer of the first one
 * (docs/bureau.md, "Refusals").
 *
 * An upload as gatescreen's uploader sends it (daemon/upstream/upload_request.c):
 *   POST, Content-Type: application/json (parameters such as charset allowed),
 *   X-Gatescreen-Kind: summary | notice, Idempotency-Key: CODE/DAY/REVISION for a
 *   summary, the notice_id (CODE/referral/N, CODE/alert/N) for a notice,
 *   Authorization: Bearer TOKEN, the document as the body. */
#ifndef GS_INTAKE_H
#define GS_INTAKE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "doc_schemas.h"

/* A refusal: status 0 while nothing is refused. */
struct intake_verdict {
    int status;
    char error[400];
    bool has_pointer;       /* a problem in the document: pointer says where */
    char pointer[256];
};

struct intake_headers {
    const char *content_type, *authorization, *idem_key, *kind; /* NULL: absent */
};

/* The headers alone: 0 with the kind and where the token is in authorization, or -1
 * with the refusal (415 not JSON, 400 kind or key missing or malformed, 401 no
 * bearer token). */
int intake_headers(const struct intake_headers *h, enum doc_kind *kind, const char **token,
                   size_t *token_len, struct intake_verdict *v);

/* The schemas, loaded once and then only read, by every request thread. */
struct intake;
struct intake *intake_new(FILE *errs);
void intake_free(struct intake *in);

/* A document that passed: its fields for the database (pointing into root). */
struct intake_doc {
    json_t *root;
    enum doc_kind kind;
    int version;               /* doc_schemas.h's number of the version it is checked by */
    char sha256[65];           /* of the body as received */
    const char *school_code;
    const char *day;           /* summary: date; notice: day */
    int revision;              /* summary */
    const char *generated_at;  /* summary */
    bool closed;               /* summary: version 2's "closed" is an object */
    const char *notice_id, *notice_type, *opened_at; /* notice */
};

/* The body from `school` (the certificate's, already matched to its credential)
 * under key and kind: 0 with d filled (intake_doc_free it), or -1 with the refusal
 * (400 not JSON or not valid against the schema, with the pointer; 403 the key or
 * the body names another school; 400 the key is not the document's own). */
int intake_document(const struct intake *in, const char *school, enum doc_kind kind,
                    const char *key, const char *body, size_t len, struct intake_doc *d,
                    struct intake_verdict *v);
void intake_doc_free(struct intake_doc *d);

/* A refusal's JSON body: {"error": "...", "pointer": "/x" or null}; malloc'ed. */
char *intake_verdict_json(const struct intake_verdict *v);
/* Sets a refusal without a pointer. */
void intake_refuse(struct intake_verdict *v, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
