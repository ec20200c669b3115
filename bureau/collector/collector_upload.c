/* What one upload does once its body is in (collector_private.h), in this order:
 *
 *   1. refusals decided at the headers (certificate, type, kind, key, no token);
 *   2. the size, then the document (intake_document: parsing and the schema, no
 *      database);
 *   3. a document that passed: the credential of the certificate's fingerprint and
 *      the document stored, in one statement (bstore_ingest): stored only when the
 *      credential is enrolled, not revoked, its school active and the
 *      certificate's, and the token its; then 201 when it is new, 200 when it is the
 *      same again, 409 when the key was used for another body;
 *   4. a body too big or not valid: the credential alone first (the same checks),
 *      and only for a known school the refusal is kept in the quarantine (if that
 *      cannot be written, the answer is 503: try again); as is a 409.
 *
 * Who is refused for what is the same whichever way: an unknown or revoked sender
 * gets its 401/403 before anything about its body. One statement for the usual
 * upload: seven round trips to the database (the credential, BEGIN, four
 * statements, COMMIT) cost more CPU on both sides than what they did
 * (tests/bench/README.md).
 *
 * A database that is not there gives 503 with Retry-After; the school's uploader
 * tries again later with the same key, which is what makes that safe. */
#include "collector_private.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bstore_ingest.h"
#include "log.h"
#include "token.h"

#define POOL_WAIT_MS 5000

static void count(struct creq *r, enum collector_count k)
{
    atomic_fetch_add(&r->c->count[k], 1);
}

static void answer_json(struct canswer *a, int status, json_t *j)
{
    a->status = status;
    a->json = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
}

static void refusal(struct canswer *a, const struct intake_verdict *v)
{
    a->status = v->status;
    a->json = intake_verdict_json(v);
}

static void unavailable(struct creq *r, struct canswer *a, const char *why)
{
    struct intake_verdict v = {0};
    intake_refuse(&v, 503, "the bureau's database is not available now (%s); send it again "
                           "later", why);
    refusal(a, &v);
    a->retry_after = RETRY_AFTER_AWAY_S;
    count(r, CC_UNAVAILABLE);
}

/* The log line of a refusal: who, what, why. */
static void log_refusal(const struct creq *r, const struct intake_verdict *v)
{
    log_notice("collector: %s %s %s %s -> %d %s%s%s", r->peer_addr,
               r->cert_ok ? r->cert.code : "-", r->h.kind ? r->h.kind : "-",
               r->h.idem_key ? r->h.idem_key : "-", v->status, v->error,
               v->has_pointer ? " at " : "", v->has_pointer ? v->pointer : "");
}

/* A refusal of a known school's upload: kept in the quarantine first. */
static void quarantine(struct creq *r, struct bstore *s, const struct intake_verdict *v,
                       struct canswer *a)
{
    struct bstore_quarantine q = {
        .received_by = r->c->instance, .school_code = r->cert.code,
        .cert_sha256 = r->cert.sha256, .kind = r->h.kind, .idem_key = r->h.idem_key,
        .http_status = v->status, .reason = v->error,
        .json_pointer = v->has_pointer ? v->pointer : NULL,
        .body = r->too_big ? NULL : (r->body ? r->body : ""), .body_len = r->len};
    log_refusal(r, v);
    if (bstore_quarantine_add(s, &q) != BSTORE_OK) {
        unavailable(r, a, "the refusal could not be kept");
        return;
    }
    refusal(a, v);
    count(r, CC_QUARANTINED);
}

/* The credential, looked up again once when the connection broke (the database
 * restarted since this connection was last used): the first statement notices. */
static enum bstore_status credential(struct creq *r, struct bstore *s,
                                     struct bstore_credential *cred)
{
    enum bstore_status st = bstore_credential_by_cert(s, r->cert.sha256, cred);
    if (st == BSTORE_UNAVAILABLE && bstore_ensure(s) == 0)
        st = bstore_credential_by_cert(s, r->cert.sha256, cred);
    return st;
}

/* 0 when the credential (as looked up, st) is in force and the token is its. */
static int judge_sender(struct creq *r, enum bstore_status st,
                        const struct bstore_credential *cred, const char *token_digest,
                        struct intake_verdict *v)
{
    if (st == BSTORE_NOT_FOUND)
        intake_refuse(v, 403, "this client certificate (SHA-256 %s) is not enrolled with the "
                              "bureau", r->cert.sha256);
    else if (st != BSTORE_OK)
        intake_refuse(v, 503, "the bureau's database is not available now; send it again later");
    else if (cred->revoked)
        intake_refuse(v, 403, "this credential of school %s was revoked", cred->school_code);
    else if (!cred->school_active)
        intake_refuse(v, 403, "school %s is disabled at the bureau", cred->school_code);
    else if (strcmp(cred->school_code, r->cert.code) != 0)
        intake_refuse(v, 403, "the certificate names school %s but is enrolled for %s",
                      r->cert.code, cred->school_code);
    else if (!token_digest_equal(token_digest, cred->token_sha256))
        intake_refuse(v, 401, "the bearer token is not this school's");
    else
        return 0;
    return -1;
}

/* A sender refused: logged and answered, not quarantined (not a known school's). */
static void refuse_sender(struct creq *r, const struct intake_verdict *v, struct canswer *a)
{
    log_refusal(r, v);
    refusal(a, v);
    a->retry_after = v->status == 503 ? RETRY_AFTER_AWAY_S : 0;
    count(r, v->status == 503 ? CC_UNAVAILABLE : CC_REFUSED);
}

static void stored(struct creq *r, enum bstore_outcome o, long long id, struct canswer *a)
{
    bool dup = o == BSTORE_DUPLICATE;
    answer_json(a, dup ? 200 : 201,
                json_pack("{s:s,s:s,s:I}", "status", dup ? "duplicate" : "stored", "key",
                          r->h.idem_key, "document", (json_int_t)id));
    count(r, dup ? CC_DUPLICATE : CC_STORED);
    log_info("collector: %s %s %s -> %d %s (document %lld)", r->cert.code, r->h.kind,
             r->h.idem_key, a->status, dup ? "the same again" : "stored", id);
}

/* Step 3, tried twice when the connection broke (the server restarted): the key makes
 * a second try safe whatever the first did. */
static enum bstore_status ingest(struct creq *r, struct bstore *s, const struct bstore_doc *d,
                                 const char *token_digest, struct bstore_credential *cred,
                                 enum bstore_outcome *o, long long *id, char *why, size_t n)
{
    enum bstore_status st =
        bstore_ingest(s, r->cert.sha256, token_digest, d, cred, o, id, why, n);
    if (st == BSTORE_UNAVAILABLE && bstore_ensure(s) == 0)
        st = bstore_ingest(s, r->cert.sha256, token_digest, d, cred, o, id, why, n);
    return st;
}

/* Step 4: a body refused before the database. A known school's refusal is kept in the
 * quarantine; anyone else's sender refusal comes first. */
static void refuse_body(struct creq *r, struct bstore *s, const struct intake_verdict *body,
                        const char *token_digest, struct canswer *a)
{
    struct bstore_credential cred;
    struct intake_verdict v = {0};
    enum bstore_status st = credential(r, s, &cred);
    if (judge_sender(r, st, &cred, token_digest, &v) < 0)
        refuse_sender(r, &v, a);
    else
        quarantine(r, s, body, a);
}

/* ingest_document's answer: the credential's verdict (judged here again, in constant
 * time) and the outcome, which must agree. */
static void answer_call(struct creq *r, struct bstore *s, enum bstore_status st,
                        const struct bstore_credential *cred, enum bstore_outcome o,
                        long long id, const char *token_digest, struct canswer *a)
{
    struct intake_verdict v = {0};
    bool sender_ok = judge_sender(r, st, cred, token_digest, &v) == 0;
    if (!sender_ok && (st == BSTORE_NOT_FOUND || o == BSTORE_NOT_STORED)) {
        refuse_sender(r, &v, a);
    } else if (sender_ok != (o != BSTORE_NOT_STORED)) {
        /* Never expected: both compare the same columns. The log says so, and the
         * school sends it again with the same key. */
        log_err("collector: %s %s: the database's credential check and the collector's "
                "disagree", r->cert.code, r->h.idem_key);
        intake_refuse(&v, 500, "the document could not be stored (the collector's log says "
                               "why); send it again later");
        refusal(a, &v);
    } else if (o != BSTORE_KEY_CONFLICT) {
        stored(r, o, id, a);
    } else {
        intake_refuse(&v, 409, "the Idempotency-Key %s was used for another document "
                               "(document %lld); this one is kept aside", r->h.idem_key, id);
        quarantine(r, s, &v, a);
    }
}

static void store(struct creq *r, struct bstore *s, const struct intake_doc *doc,
                  const char *token_digest, struct canswer *a)
{
    struct bstore_doc d = {
        .school_code = doc->school_code, .kind = doc_kind_name(doc->kind),
        .idem_key = r->h.idem_key, .body = r->body, .body_sha256 = doc->sha256,
        .received_by = r->c->instance, .day = doc->day, .revision = doc->revision,
        .generated_at = doc->generated_at, .closed = doc->closed, .notice_id = doc->notice_id,
        .notice_type = doc->notice_type, .opened_at = doc->opened_at};
    struct bstore_credential cred;
    enum bstore_outcome o = BSTORE_NOT_STORED;
    long long id = 0;
    char why[256] = "";
    struct intake_verdict v = {0};
    enum bstore_status st = ingest(r, s, &d, token_digest, &cred, &o, &id, why, sizeof why);
    if (st == BSTORE_OK || st == BSTORE_NOT_FOUND) {
        answer_call(r, s, st, &cred, o, id, token_digest, a);
    } else if (st == BSTORE_INVALID) {
        /* The call failed as a whole, perhaps before the credential was read: the
         * sender is judged first, as for a body refused before the database. */
        intake_refuse(&v, 400, "the database refused the document: %s", why);
        refuse_body(r, s, &v, token_digest, a);
    } else if (st == BSTORE_UNAVAILABLE) {
        unavailable(r, a, why[0] ? why : "no connection");
    } else {
        intake_refuse(&v, 500, "the document could not be stored (the collector's log says "
                               "why); send it again later");
        refusal(a, &v);
    }
}

static void upload(struct creq *r, struct bstore *s, struct canswer *a)
{
    struct intake_verdict v = {0};
    struct intake_doc doc = {0};
    char token_digest[65];
    token_sha256_hex(r->token, r->token_len, token_digest);
    if (r->too_big) {
        intake_refuse(&v, 413, "the body is larger than %ld bytes (not read)",
                      atomic_load(&r->c->max_body));
        refuse_body(r, s, &v, token_digest, a);
        return;
    }
    if (intake_document(r->c->intake, r->cert.code, r->kind, r->h.idem_key,
                        r->body ? r->body : "", r->len, &doc, &v) < 0)
        refuse_body(r, s, &v, token_digest, a);
    else
        store(r, s, &doc, token_digest, a);
    intake_doc_free(&doc);
}

void collector_upload(struct creq *r, struct canswer *a)
{
    if (r->rate_wait_ms > 0) { /* logged at the start and end of the run (collector.c) */
        refusal(a, &r->early);
        a->retry_after = (int)((r->rate_wait_ms + 999) / 1000);
        count(r, CC_RATE_LIMITED);
        return;
    }
    if (r->early.status) {
        log_refusal(r, &r->early);
        refusal(a, &r->early);
        count(r, CC_REFUSED);
        return;
    }
    struct bstore *s = bstore_pool_get(r->c->pool, POOL_WAIT_MS);
    if (!s) {
        unavailable(r, a, "no connection");
        return;
    }
    upload(r, s, a);
    bstore_pool_put(r->c->pool, s);
}
