/* The collector's statements (bstore_ingest.h). Exactly once rests on one unique
 * constraint, documents (school_code, idem_key): ingest_document's INSERT ... ON
 * CONFLICT DO NOTHING (sql/bureau/008_ingest_one_call.sql) either inserts (then the
 * revision or notice goes in the same transaction) or finds the key taken, in which
 * case the row that took it is committed (under READ COMMITTED the INSERT waits for
 * a racing transaction to end) and comparing its body's hash says "the same again"
 * or "another document". Nothing is read first and written after. One upload is one
 * statement, one round trip: seven cost more than the statements themselves. */
#include "bstore_ingest.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bstore_private.h"
#include "textnum.h"

enum bstore_status bstore_credential_by_cert(struct bstore *s, const char *cert_sha256,
                                             struct bstore_credential *c)
{
    const char *p[] = {cert_sha256};
    PGresult *r = bs_run_prepared(s, BS_SLOT_CREDENTIAL,
                                  "SELECT c.id, c.school_code, c.token_sha256, "
                                  "(c.revoked_at IS NOT NULL)::int, s.active::int "
                                  "FROM credentials c JOIN schools s ON s.code = c.school_code "
                                  "WHERE c.cert_sha256 = $1", 1, p);
    if (!r)
        return s->failed;
    enum bstore_status st = BSTORE_NOT_FOUND;
    long id;
    memset(c, 0, sizeof *c);
    if (PQntuples(r) == 1 && tn_long(PQgetvalue(r, 0, 0), 1, LONG_MAX, &id) == 0) {
        c->id = id;
        snprintf(c->school_code, sizeof c->school_code, "%s", PQgetvalue(r, 0, 1));
        snprintf(c->token_sha256, sizeof c->token_sha256, "%s", PQgetvalue(r, 0, 2));
        c->revoked = strcmp(PQgetvalue(r, 0, 3), "1") == 0;
        c->school_active = strcmp(PQgetvalue(r, 0, 4), "1") == 0;
        st = BSTORE_OK;
    }
    PQclear(r);
    return st;
}

/* The credential's columns of ingest_document's answer (columns 2 to 6). */
static void credential_of(const PGresult *r, struct bstore_credential *c)
{
    long id = 0;
    memset(c, 0, sizeof *c);
    if (tn_long(PQgetvalue(r, 0, 2), 1, LONG_MAX, &id) == 0)
        c->id = id;
    snprintf(c->school_code, sizeof c->school_code, "%s", PQgetvalue(r, 0, 3));
    snprintf(c->token_sha256, sizeof c->token_sha256, "%s", PQgetvalue(r, 0, 4));
    c->revoked = strcmp(PQgetvalue(r, 0, 5), "t") == 0;
    c->school_active = strcmp(PQgetvalue(r, 0, 6), "t") == 0;
}

/* ingest_document's outcome, as the collector answers it. */
static enum bstore_status outcome_of(struct bstore *s, const PGresult *r,
                                     enum bstore_outcome *outcome, long long *doc_id)
{
    static const struct {
        const char *word;
        enum bstore_outcome outcome;
    } words[] = {{"stored", BSTORE_STORED}, {"duplicate", BSTORE_DUPLICATE},
                 {"conflict", BSTORE_KEY_CONFLICT}, {"refused", BSTORE_NOT_STORED}};
    const char *w = PQgetvalue(r, 0, 0);
    long id = 0;
    *doc_id = tn_long(PQgetvalue(r, 0, 1), 1, LONG_MAX, &id) == 0 ? id : 0;
    if (strcmp(w, "unknown") == 0)
        return BSTORE_NOT_FOUND;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strcmp(w, words[i].word) == 0) {
            *outcome = words[i].outcome;
            return BSTORE_OK;
        }
    }
    /* "gone": the row that took the key was deleted meanwhile; the sender's retry
     * with the same key decides. */
    snprintf(s->msg, sizeof s->msg, "the document that took this key is gone (%s)", w);
    return BSTORE_UNAVAILABLE;
}

enum bstore_status bstore_ingest(struct bstore *s, const char *cert_sha256,
                                 const char *token_sha256, const struct bstore_doc *d,
                                 struct bstore_credential *c, enum bstore_outcome *outcome,
                                 long long *doc_id, char *why, size_t why_size)
{
    bool summary = strcmp(d->kind, "summary") == 0;
    char rev[16];
    snprintf(rev, sizeof rev, "%d", d->revision);
    const char *p[] = {cert_sha256, token_sha256, d->school_code, d->kind, d->idem_key,
                       d->body_sha256, d->body, d->received_by, d->day,
                       summary ? rev : NULL, summary ? d->generated_at : NULL,
                       summary ? (d->closed ? "t" : "f") : NULL,
                       summary ? NULL : d->notice_id, summary ? NULL : d->notice_type,
                       summary ? NULL : d->opened_at};
    s->failed = BSTORE_OK;
    s->refused = false;
    s->msg[0] = '\0';
    memset(c, 0, sizeof *c);
    *outcome = BSTORE_NOT_STORED;
    *doc_id = 0;
    /* Outside BEGIN: the call is its own transaction, committed (durably, as the
     * session asks) before its answer comes back. */
    PGresult *r = bs_run_prepared(s, BS_SLOT_INGEST,
                                  "SELECT * FROM ingest_document($1, $2, $3, $4, $5, $6, "
                                  "$7, $8, $9::date, $10::int, $11::timestamptz, "
                                  "$12::boolean, $13, $14, $15::timestamptz)",
                                  15, p);
    enum bstore_status st = r ? BSTORE_IO : s->failed;
    if (r && PQntuples(r) == 1 && PQnfields(r) == 7) {
        credential_of(r, c);
        st = outcome_of(s, r, outcome, doc_id);
    }
    PQclear(r);
    if (st != BSTORE_OK && st != BSTORE_NOT_FOUND)
        snprintf(why, why_size, "%s", s->msg);
    return st;
}

enum bstore_status bstore_quarantine_add(struct bstore *s, const struct bstore_quarantine *q)
{
    char status[16];
    snprintf(status, sizeof status, "%d", q->http_status);
    const char *p[] = {q->received_by, q->school_code, q->cert_sha256, q->kind, q->idem_key,
                       status, q->reason, q->json_pointer, q->body};
    int len[] = {0, 0, 0, 0, 0, 0, 0, 0, (int)q->body_len};
    int fmt[] = {0, 0, 0, 0, 0, 0, 0, 0, 1}; /* the body as bytes, whatever they are */
    s->failed = BSTORE_OK;
    PGresult *r = bs_run_bin(s, "INSERT INTO quarantine (received_by, school_code, cert_sha256, "
                                "kind, idem_key, http_status, reason, json_pointer, body) "
                                "VALUES ($1, $2, $3, $4, $5, $6::int, $7, $8, $9)",
                             9, p, len, fmt);
    PQclear(r);
    return r ? BSTORE_OK : s->failed;
}
