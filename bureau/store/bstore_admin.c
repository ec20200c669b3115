/* The administrator's statements (bstore_admin.h). Each change is one transaction
 * with its audit_log row. */
#include "bstore_admin.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bstore_private.h"
#include "log.h"
#include "textnum.h"

/* ---- schools -------------------------------------------------------------------- */

static void school_params(const struct school_row *r, char enrol[24], const char *p[7])
{
    snprintf(enrol, 24, "%ld", r->enrolment);
    p[0] = r->code;
    p[1] = r->name;
    p[2] = r->county;
    p[3] = r->kind;
    p[4] = enrol;
    p[5] = r->contact_name;
    p[6] = r->contact_phone;
}

#define SCHOOL_INSERT                                                                    \
    "INSERT INTO schools (code, name, county, kind, enrolment, contact_name, "           \
    "contact_phone) VALUES ($1, $2, $3, $4, $5::int, $6, $7) "

enum bstore_status bstore_school_add(struct bstore *s, const struct school_row *r,
                                     const char *actor, FILE *errs)
{
    char enrol[24];
    const char *p[7];
    school_params(r, enrol, p);
    int rc = bs_begin(s);
    PGresult *res = rc == 0 ? bs_run(s, SCHOOL_INSERT "ON CONFLICT (code) DO NOTHING "
                                        "RETURNING code", 7, p) : NULL;
    if (rc == 0 && !res)
        rc = -1;
    else if (rc == 0 && PQntuples(res) == 0)
        rc = bs_refuse(s, errs, BSTORE_CONFLICT, "school %s exists already (school import "
                                              "changes a school's details)", r->code);
    PQclear(res);
    if (rc == 0)
        rc = bs_audit(s, actor, "school add", r->code, r->name);
    return bs_said(s, bs_end(s, rc), errs);
}

/* One row of an import: added, updated, or unchanged (no row comes back). */
static int import_row(struct bstore *s, const struct school_row *r,
                      struct bstore_import_stats *st)
{
    char enrol[24];
    const char *p[7];
    school_params(r, enrol, p);
    PGresult *res = bs_run(s, SCHOOL_INSERT
                           "ON CONFLICT (code) DO UPDATE SET name = excluded.name, "
                           "county = excluded.county, kind = excluded.kind, "
                           "enrolment = excluded.enrolment, "
                           "contact_name = excluded.contact_name, "
                           "contact_phone = excluded.contact_phone, updated_at = now() "
                           "WHERE (schools.name, schools.county, schools.kind, "
                           "schools.enrolment, schools.contact_name, schools.contact_phone) "
                           "IS DISTINCT FROM (excluded.name, excluded.county, excluded.kind, "
                           "excluded.enrolment, excluded.contact_name, excluded.contact_phone) "
                           "RETURNING (xmax = 0)::int", 7, p);
    if (!res)
        return -1;
    if (PQntuples(res) == 0)
        st->unchanged++;
    else if (strcmp(PQgetvalue(res, 0, 0), "1") == 0)
        st->added++; /* xmax 0: a new row version nobody replaced, i.e. an insert */
    else
        st->updated++;
    PQclear(res);
    return 0;
}

enum bstore_status bstore_school_import(struct bstore *s, const struct school_list *l,
                                        const char *file, const char *actor,
                                        struct bstore_import_stats *st, FILE *errs)
{
    char detail[160];
    const struct school_row *failed = NULL;
    *st = (struct bstore_import_stats){.rows = l->n};
    int rc = bs_begin(s);
    for (int i = 0; rc == 0 && i < l->n; i++)
        if ((rc = import_row(s, &l->rows[i], st)) < 0)
            failed = &l->rows[i];
    snprintf(detail, sizeof detail, "%d rows: %d added, %d updated, %d unchanged", st->rows,
             st->added, st->updated, st->unchanged);
    if (rc == 0)
        rc = bs_audit(s, actor, "school import", file, detail);
    enum bstore_status res = bs_end(s, rc);
    if (failed && (res == BSTORE_INVALID || res == BSTORE_CONFLICT)) {
        fprintf(errs, "%s:%d: school %s: the database refused it: %s\n", file, failed->line,
                failed->code, s->msg);
        return res;
    }
    return bs_said(s, res, errs);
}

static void school_row_out(PGresult *r, int i,
                           void (*fn)(const struct bstore_school_view *v, void *arg), void *arg)
{
    long enrol = 0, creds = 0;
    tn_long(PQgetvalue(r, i, 4), 0, LONG_MAX, &enrol);
    tn_long(PQgetvalue(r, i, 8), 0, INT_MAX, &creds);
    struct bstore_school_view v = {
        .code = PQgetvalue(r, i, 0), .name = PQgetvalue(r, i, 1), .county = PQgetvalue(r, i, 2),
        .kind = PQgetvalue(r, i, 3), .enrolment = enrol, .contact_name = PQgetvalue(r, i, 5),
        .contact_phone = PQgetvalue(r, i, 6), .active = strcmp(PQgetvalue(r, i, 7), "1") == 0,
        .credentials = (int)creds};
    fn(&v, arg);
}

int bstore_school_list(struct bstore *s, bool all,
                       void (*fn)(const struct bstore_school_view *v, void *arg), void *arg)
{
    const char *p[] = {all ? "1" : "0"};
    PGresult *r = bs_run(s, "SELECT s.code, s.name, s.county, s.kind, s.enrolment, "
                            "s.contact_name, s.contact_phone, s.active::int, "
                            "(SELECT count(*) FROM credentials c WHERE c.school_code = s.code "
                            "AND c.revoked_at IS NULL) FROM schools s "
                            "WHERE s.active OR $1::int = 1 ORDER BY s.county, s.code", 1, p);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++)
        school_row_out(r, i, fn, arg);
    PQclear(r);
    return 0;
}

/* Why no active school had the code. */
static int disable_refusal(struct bstore *s, const char *code, FILE *errs)
{
    const char *p[] = {code};
    PGresult *r = bs_run(s, "SELECT 1 FROM schools WHERE code = $1", 1, p);
    if (!r)
        return -1;
    int known = PQntuples(r) > 0;
    PQclear(r);
    if (known)
        return bs_refuse(s, errs, BSTORE_CONFLICT, "school %s is disabled already", code);
    return bs_refuse(s, errs, BSTORE_NOT_FOUND, "school %s: not found", code);
}

enum bstore_status bstore_school_disable(struct bstore *s, const char *code, const char *actor,
                                         FILE *errs)
{
    const char *p[] = {code};
    int rc = bs_begin(s);
    PGresult *r = rc == 0 ? bs_run(s, "UPDATE schools SET active = false, updated_at = now() "
                                      "WHERE code = $1 AND active RETURNING code", 1, p) : NULL;
    if (rc == 0 && !r)
        rc = -1;
    else if (rc == 0 && PQntuples(r) == 0)
        rc = disable_refusal(s, code, errs);
    PQclear(r);
    if (rc == 0)
        rc = bs_audit(s, actor, "school disable", code, "");
    return bs_said(s, bs_end(s, rc), errs);
}

/* ---- credentials ---------------------------------------------------------------- */

enum bstore_status bstore_credential_add(struct bstore *s, const char *code,
                                         const struct certid *cert, const char *token_sha256,
                                         const char *actor, long long *cred_id, FILE *errs)
{
    char not_after[24];
    long id = 0;
    snprintf(not_after, sizeof not_after, "%.3f", (double)cert->not_after_ms / 1000.0);
    const char *p[] = {code, cert->serial, cert->sha256, token_sha256, not_after, actor};
    int rc = bs_begin(s);
    /* INSERT ... SELECT: no row when the school is not there, instead of a foreign
     * key error to translate. */
    PGresult *r = rc == 0 ? bs_run(s, "INSERT INTO credentials (school_code, cert_serial, "
                                      "cert_sha256, token_sha256, not_after, issued_by) "
                                      "SELECT code, $2, $3, $4, to_timestamp($5::float8), $6 "
                                      "FROM schools WHERE code = $1 RETURNING id", 6, p) : NULL;
    if (rc == 0 && !r)
        rc = -1;
    else if (rc == 0 && PQntuples(r) == 0)
        rc = bs_refuse(s, errs, BSTORE_NOT_FOUND, "school %s: not found", code);
    else if (rc == 0)
        tn_long(PQgetvalue(r, 0, 0), 1, LONG_MAX, &id);
    PQclear(r);
    *cred_id = id;
    if (rc == 0)
        rc = bs_audit(s, actor, "credential add", code, cert->sha256);
    enum bstore_status st = bs_end(s, rc);
    if (st == BSTORE_CONFLICT) {
        fprintf(errs, "this certificate (serial %s) or this token is registered already\n",
                cert->serial);
        return st;
    }
    return bs_said(s, st, errs);
}

enum bstore_status bstore_credential_revoke(struct bstore *s, const char *code,
                                            const char *actor, int *count, FILE *errs)
{
    const char *p[] = {code, actor};
    char detail[32];
    int rc = bs_begin(s);
    PGresult *r = rc == 0 ? bs_run(s, "UPDATE credentials SET revoked_at = now(), revoked_by = $2 "
                                      "WHERE school_code = $1 AND revoked_at IS NULL "
                                      "RETURNING id", 2, p) : NULL;
    *count = r ? PQntuples(r) : 0;
    PQclear(r);
    if (rc == 0 && !r)
        rc = -1;
    else if (rc == 0 && *count == 0)
        rc = bs_refuse(s, errs, BSTORE_CONFLICT, "school %s has no credential in force", code);
    snprintf(detail, sizeof detail, "%d revoked", *count);
    if (rc == 0)
        rc = bs_audit(s, actor, "credential revoke", code, detail);
    return bs_said(s, bs_end(s, rc), errs);
}

/* ---- quarantine ----------------------------------------------------------------- */

static const char *text_or_null(PGresult *r, int i, int col)
{
    return PQgetisnull(r, i, col) ? NULL : PQgetvalue(r, i, col);
}

static void quarantine_row_out(PGresult *r, int i,
                               void (*fn)(const struct bstore_quarantine_view *v, void *arg),
                               void *arg)
{
    long id = 0, status = 0;
    size_t len = 0;
    unsigned char *body = NULL;
    tn_long(PQgetvalue(r, i, 0), 1, LONG_MAX, &id);
    tn_long(PQgetvalue(r, i, 6), 0, 999, &status);
    if (!PQgetisnull(r, i, 9))
        body = PQunescapeBytea((const unsigned char *)PQgetvalue(r, i, 9), &len);
    struct bstore_quarantine_view v = {
        .id = id, .received_at = PQgetvalue(r, i, 1), .received_by = PQgetvalue(r, i, 2),
        .school_code = text_or_null(r, i, 3), .kind = text_or_null(r, i, 4),
        .idem_key = text_or_null(r, i, 5), .http_status = (int)status,
        .reason = PQgetvalue(r, i, 7), .json_pointer = text_or_null(r, i, 8), .body = body,
        .body_len = len};
    fn(&v, arg);
    PQfreemem(body);
}

int bstore_quarantine_list(struct bstore *s, int limit,
                           void (*fn)(const struct bstore_quarantine_view *v, void *arg),
                           void *arg)
{
    char n[16];
    snprintf(n, sizeof n, "%d", limit);
    const char *p[] = {n};
    PGresult *r = bs_run(s, "SELECT id, to_char(received_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                            "received_by, school_code, kind, idem_key, http_status, reason, "
                            "json_pointer, body FROM quarantine ORDER BY id DESC LIMIT $1::int",
                         1, p);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++)
        quarantine_row_out(r, i, fn, arg);
    PQclear(r);
    return 0;
}
