/* The bureau page's users (bstore_users.h). */
#include "bstore_users.h"

#include <stdlib.h>
#include <string.h>

#include "bstore_private.h"

static const char *const role_names[PAGE_ROLE_COUNT] = {"city", "county", "auditor", "admin"};

int page_role_parse(const char *word)
{
    for (int i = 0; word && i < PAGE_ROLE_COUNT; i++)
        if (strcmp(word, role_names[i]) == 0)
            return i;
    return -1;
}

const char *page_role_name(enum page_role r)
{
    return (unsigned)r < PAGE_ROLE_COUNT ? role_names[r] : "?";
}

int page_user_check(const char *name, enum page_role role, const char *county, FILE *errs)
{
    int bad = user_rules_name(name, errs);
    bool has_county = county && *county;
    if (role == PAGE_COUNTY && !has_county) {
        fprintf(errs, "a county officer needs a county (--county C: the one county they see)\n");
        return -1;
    }
    if (role != PAGE_COUNTY && has_county) {
        fprintf(errs, "only county officers have a county; a %s sees every county\n",
                page_role_name(role));
        return -1;
    }
    if (has_county && user_rules_text("county", county, errs) < 0)
        return -1;
    return bad;
}

#define USER_COLUMNS "id, name, role, coalesce(county, ''), password_hash, active, " \
                     "to_char(created_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static void read_row(const PGresult *r, int i, struct page_user *u)
{
    memset(u, 0, sizeof *u);
    u->id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
    snprintf(u->name, sizeof u->name, "%s", PQgetvalue(r, i, 1));
    int role = page_role_parse(PQgetvalue(r, i, 2));
    u->role = role < 0 ? PAGE_AUDITOR : (enum page_role)role; /* the CHECK allows no other */
    snprintf(u->county, sizeof u->county, "%s", PQgetvalue(r, i, 3));
    snprintf(u->hash, sizeof u->hash, "%s", PQgetvalue(r, i, 4));
    u->active = strcmp(PQgetvalue(r, i, 5), "t") == 0;
    snprintf(u->created_at, sizeof u->created_at, "%s", PQgetvalue(r, i, 6));
}

static enum bstore_status one_user(struct bstore *s, const char *sql, const char *param,
                                   struct page_user *u, bool *found)
{
    PGresult *r = bs_run(s, sql, 1, &param);
    *found = false;
    if (!r)
        return s->failed;
    if (PQntuples(r) > 0) {
        read_row(r, 0, u);
        *found = true;
    }
    PQclear(r);
    return BSTORE_OK;
}

enum bstore_status bstore_user_find(struct bstore *s, const char *name, struct page_user *u,
                                    bool *found)
{
    return one_user(s, "SELECT " USER_COLUMNS " FROM page_users WHERE name = $1", name, u,
                    found);
}

enum bstore_status bstore_user_get(struct bstore *s, long long id, struct page_user *u,
                                   bool *found)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    return one_user(s, "SELECT " USER_COLUMNS " FROM page_users WHERE id = $1::bigint", ids, u,
                    found);
}

enum bstore_status bstore_user_list(struct bstore *s,
                                    void (*fn)(const struct page_user *u, void *arg), void *arg)
{
    PGresult *r = bs_run(s, "SELECT " USER_COLUMNS " FROM page_users ORDER BY name", 0, NULL);
    if (!r)
        return s->failed;
    for (int i = 0; i < PQntuples(r); i++) {
        struct page_user u;
        read_row(r, i, &u);
        fn(&u, arg);
    }
    PQclear(r);
    return BSTORE_OK;
}

/* Whether any school is in the county: a county officer of no county sees nothing. */
static int county_known(struct bstore *s, const char *county, FILE *errs)
{
    PGresult *r = bs_run(s, "SELECT 1 FROM schools WHERE county = $1 LIMIT 1", 1, &county);
    if (!r)
        return -1;
    int n = PQntuples(r);
    PQclear(r);
    return n ? 0 : bs_refuse(s, errs, BSTORE_NOT_FOUND, "no school is in county '%s' (add "
                                                       "the county's schools first)", county);
}

enum bstore_status bstore_user_add(struct bstore *s, const char *name, enum page_role role,
                                   const char *county, const char *hash, const char *actor,
                                   FILE *errs)
{
    const char *p[] = {name, page_role_name(role), county && *county ? county : NULL, hash};
    int rc = bs_begin(s);
    if (rc == 0 && p[2])
        rc = county_known(s, county, errs);
    PGresult *r = rc == 0 ? bs_run(s, "INSERT INTO page_users (name, role, county, "
                                      "password_hash) VALUES ($1, $2, $3, $4) ON CONFLICT "
                                      "DO NOTHING RETURNING id", 4, p)
                          : NULL;
    if (rc == 0 && !r)
        rc = -1;
    else if (rc == 0 && PQntuples(r) == 0)
        rc = bs_refuse(s, errs, BSTORE_CONFLICT, "user '%s' exists already (names differing "
                                                 "only in case are one name)", name);
    PQclear(r);
    char detail[160];
    snprintf(detail, sizeof detail, "role %s%s%s", p[1], p[2] ? ", county " : "",
             p[2] ? p[2] : "");
    if (rc == 0)
        rc = bs_audit(s, actor, "page user add", name, detail);
    return bs_said(s, bs_end(s, rc), errs);
}

enum bstore_status bstore_user_set_active(struct bstore *s, const char *name, bool active,
                                          const char *actor, FILE *errs)
{
    const char *p[] = {name, active ? "true" : "false"};
    int rc = bs_begin(s);
    PGresult *r = rc == 0 ? bs_run(s, "UPDATE page_users SET active = $2::boolean WHERE "
                                      "name = $1 RETURNING id", 2, p)
                          : NULL;
    if (rc == 0 && !r)
        rc = -1;
    else if (rc == 0 && PQntuples(r) == 0)
        rc = bs_refuse(s, errs, BSTORE_NOT_FOUND, "no user '%s' (gatescreen-bureau user list)",
                       name);
    PQclear(r);
    if (rc == 0)
        rc = bs_audit(s, actor, active ? "page user enable" : "page user disable", name, "");
    return bs_said(s, bs_end(s, rc), errs);
}

enum bstore_status bstore_audit(struct bstore *s, const char *actor, const char *action,
                                const char *target, const char *detail)
{
    return bs_audit(s, actor, action, target, detail) == 0 ? BSTORE_OK : s->failed;
}
