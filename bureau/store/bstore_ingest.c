/* The collector's statements (bstore_ingest.h). Exactly once rests on one unique
 * constraint, documents (school_code, idem_key): the INSERT ... ON CONFLICT DO
 * NOTHING either inserts (then the revision or notice goes in the same transaction)
 * or finds the key taken, in which case the row that took it is committed (under
 * READ COMMITTED the INSERT waits for a racing transaction to end) and comparing
 * its body's hash says "the same again" or "another document". Nothing is read
 * first and written after. */
#include "bstore_ingest.h"

#include <limits.h>
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

/* The document row: *doc_id when it is new, 0 when the key was taken. */
static int insert_document(struct bstore *s, const struct bstore_doc *d, long long *doc_id)
{
    const char *p[] = {d->school_code, d->kind, d->idem_key, d->body_sha256, d->body,
                       d->received_by};
    PGresult *r = bs_run_prepared(s, BS_SLOT_DOCUMENT,
                                  "INSERT INTO documents (school_code, kind, idem_key, "
                                  "body_sha256, body, doc, received_by) VALUES ($1, $2, $3, $4, "
                                  "$5::text, $5::text::jsonb, $6) "
                                  "ON CONFLICT (school_code, idem_key) DO NOTHING RETURNING id",
                                  6, p);
    long id = 0;
    if (!r)
        return -1;
    *doc_id = 0;
    if (PQntuples(r) == 1 && tn_long(PQgetvalue(r, 0, 0), 1, LONG_MAX, &id) == 0)
        *doc_id = id;
    PQclear(r);
    return 0;
}

/* The key was taken: by the same body (a retry) or another one. */
static int compare_taken(struct bstore *s, const struct bstore_doc *d,
                         enum bstore_outcome *outcome, long long *doc_id)
{
    const char *p[] = {d->school_code, d->idem_key};
    PGresult *r = bs_run(s, "SELECT id, body_sha256 FROM documents "
                            "WHERE school_code = $1 AND idem_key = $2", 2, p);
    long id = 0;
    if (!r)
        return -1;
    int rc = -1;
    if (PQntuples(r) == 1 && tn_long(PQgetvalue(r, 0, 0), 1, LONG_MAX, &id) == 0) {
        *doc_id = id;
        *outcome = strcmp(PQgetvalue(r, 0, 1), d->body_sha256) == 0 ? BSTORE_DUPLICATE
                                                                     : BSTORE_KEY_CONFLICT;
        rc = 0;
    } else {
        s->failed = BSTORE_UNAVAILABLE; /* deleted meanwhile: the sender's retry decides */
    }
    PQclear(r);
    return rc;
}

/* Every revision is kept; the day's latest only ever goes up, whatever order the
 * revisions arrive in. Its figures for the roll-ups follow it, by the same rule
 * (summary_figures_put, sql/bureau/003_rollups.sql). */
static int insert_summary(struct bstore *s, const struct bstore_doc *d, const char *id)
{
    char rev[16];
    snprintf(rev, sizeof rev, "%d", d->revision);
    const char *p[] = {d->school_code, d->day, rev, id, d->generated_at};
    if (bs_exec_prepared(s, BS_SLOT_SUMMARY,
                         "INSERT INTO summaries (school_code, day, revision, document_id, "
                         "generated_at, received_at) VALUES ($1, $2::date, $3::int, $4::bigint, "
                         "$5::timestamptz, now())", 5, p) < 0)
        return -1;
    /* closed (version 2): the day's latest says the school was closed; the missing
     * list reads it from this row, with no second table to join. */
    const char *latest[] = {d->school_code, d->day, rev, id, d->closed ? "t" : "f"};
    if (bs_exec_prepared(s, BS_SLOT_LATEST,
                         "INSERT INTO summary_latest (school_code, day, revision, document_id, "
                         "first_received_at, received_at, closed) "
                         "VALUES ($1, $2::date, $3::int, $4::bigint, now(), now(), $5::boolean) "
                         "ON CONFLICT (school_code, day) DO UPDATE SET "
                         "revision = excluded.revision, document_id = excluded.document_id, "
                         "received_at = excluded.received_at, closed = excluded.closed "
                         "WHERE summary_latest.revision < excluded.revision", 5, latest) < 0)
        return -1;
    const char *doc[] = {id};
    return bs_exec_prepared(s, BS_SLOT_FIGURES, "SELECT summary_figures_put($1::bigint)", 1,
                            doc);
}

static int insert_notice(struct bstore *s, const struct bstore_doc *d, const char *id)
{
    const char *p[] = {d->school_code, d->notice_id, d->notice_type, d->day, d->opened_at, id};
    return bs_exec(s, "INSERT INTO notices (school_code, notice_id, type, day, opened_at, "
                      "document_id, received_at) VALUES ($1, $2, $3, $4::date, "
                      "$5::timestamptz, $6::bigint, now())", 6, p);
}

static int store(struct bstore *s, const struct bstore_doc *d, enum bstore_outcome *outcome,
                 long long *doc_id)
{
    char id[24];
    if (insert_document(s, d, doc_id) < 0)
        return -1;
    if (*doc_id == 0)
        return compare_taken(s, d, outcome, doc_id);
    *outcome = BSTORE_STORED;
    snprintf(id, sizeof id, "%lld", *doc_id);
    return strcmp(d->kind, "summary") == 0 ? insert_summary(s, d, id) : insert_notice(s, d, id);
}

enum bstore_status bstore_ingest(struct bstore *s, const struct bstore_doc *d,
                                 enum bstore_outcome *outcome, long long *doc_id,
                                 char *why, size_t why_size)
{
    int rc = bs_begin(s);
    if (rc == 0)
        rc = store(s, d, outcome, doc_id);
    enum bstore_status st = bs_end(s, rc);
    if (st != BSTORE_OK)
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
