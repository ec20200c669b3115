/* The bureau page's users API, for administrators (bpage_private.h): the list, a new
 * user, disable and enable; the same rules and store calls as `gatescreen-bureau
 * user ...` (bstore_users.h), audited with the administrator as actor. A disabled
 * user's sessions end at their next request (bpage_auth.c reads the user again). */
#include "bpage_private.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "csv_out.h"
#include "errbuf.h"
#include "log.h"
#include "login_throttle.h"

static void user_row(const struct page_user *u, void *arg)
{
    json_array_append_new(arg, json_pack("{s:s,s:s,s:s,s:b,s:s}", "name", u->name, "role",
                                         page_role_name(u->role), "county", u->county,
                                         "active", u->active, "created_at", u->created_at));
}

/* The users' table as CSV (the page's columns; csv_out.h's guarded cells). */
static char *users_csv(json_t *all)
{
    static const char *const head[] = {"name", "role", "county", "active", "created_at"};
    char *body = NULL;
    size_t len = 0, i;
    json_t *u;
    FILE *out = open_memstream(&body, &len);
    if (!out)
        return NULL;
    fputs(CSV_OUT_BOM, out);
    csv_out_record(out, head, 5);
    json_array_foreach(all, i, u) {
        const char *v[5];
        for (int k = 0; k < 5; k++) {
            json_t *x = json_object_get(u, head[k]);
            v[k] = json_is_boolean(x) ? (json_is_true(x) ? "yes" : "no") : json_string_value(x);
        }
        csv_out_record(out, v, 5);
    }
    bool made = !ferror(out);
    if (fclose(out) != 0 || !made) {
        free(body);
        return NULL;
    }
    return body;
}

void bpage_users_list(struct preq *r, struct MHD_Connection *conn, struct panswer *a)
{
    (void)conn;
    json_t *all = json_array();
    struct bstore *s = bstore_pool_get(r->p->pool, BPAGE_POOL_WAIT_MS);
    enum bstore_status st = s ? bstore_user_list(s, user_row, all) : BSTORE_UNAVAILABLE;
    if (s)
        bstore_pool_put(r->p->pool, s);
    if (st == BSTORE_OK && r->route->csv) {
        bpage_body_answer(a, users_csv(all), true, "users");
        json_decref(all);
    } else if (st == BSTORE_OK)
        bpage_json(a, 200, json_pack("{s:o}", "users", all));
    else {
        json_decref(all);
        bpage_error(a, 503, NULL, "the bureau's database is not available now; try again");
    }
}

/* A store call's refusal or failure as the answer (its sentences in e). */
static void store_answer(struct panswer *a, enum bstore_status st, struct errbuf *e)
{
    static const int status[] = {[BSTORE_OK] = 200, [BSTORE_NOT_FOUND] = 404,
                                 [BSTORE_CONFLICT] = 409, [BSTORE_INVALID] = 400,
                                 [BSTORE_UNAVAILABLE] = 503, [BSTORE_IO] = 500};
    const char *why = errbuf_joined(e, ' ');
    bpage_error(a, status[st], NULL, "%s", why[0] ? why : "the change could not be stored");
}

/* The new user's values checked and the password hashed into hash (one of the
 * password-check slots): 0, or -1 with the 400/503 in a. */
static int new_user(struct preq *r, json_t *j, enum page_role *role, char hash[PAGE_HASH_MAX],
                    struct panswer *a)
{
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *county = json_string_value(json_object_get(j, "county"));
    const char *pw = json_string_value(json_object_get(j, "password"));
    int rl = page_role_parse(json_string_value(json_object_get(j, "role")));
    struct errbuf e;
    FILE *errs = errbuf_open(&e, stderr);
    int bad = !name || !pw || rl < 0 ? -1 : 0;
    if (bad)
        fprintf(errs, "give name, role (city, county, auditor or admin) and password\n");
    else if ((bad = page_user_check(name, (enum page_role)rl, county, errs)) == 0)
        bad = user_rules_password(pw, errs);
    if (bad) {
        bpage_error(a, 400, NULL, "%s", errbuf_joined(&e, ' '));
        errbuf_free(&e);
        return -1;
    }
    errbuf_free(&e);
    *role = (enum page_role)rl;
    if (bpage_hash_password(r->p, pw, hash) < 0) {
        bpage_error(a, 503, NULL, "the server is busy; try again");
        return -1;
    }
    return 0;
}

void bpage_users_add(struct preq *r, struct MHD_Connection *conn, struct panswer *a)
{
    (void)conn;
    static const char *const fields[] = {"name", "role", "county", "password", NULL};
    char hash[PAGE_HASH_MAX];
    enum page_role role;
    json_t *j = bpage_body(r, a, fields);
    if (!j || new_user(r, j, &role, hash, a) < 0) {
        json_decref(j);
        return;
    }
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *county = json_string_value(json_object_get(j, "county"));
    struct errbuf e;
    FILE *errs = errbuf_open(&e, stderr);
    struct bstore *s = bstore_pool_get(r->p->pool, BPAGE_POOL_WAIT_MS);
    enum bstore_status st = s ? bstore_user_add(s, name, role, county, hash, r->user.name, errs)
                              : BSTORE_UNAVAILABLE;
    if (s)
        bstore_pool_put(r->p->pool, s);
    if (st == BSTORE_OK)
        bpage_json(a, 201, json_pack("{s:{s:s,s:s,s:s}}", "user", "name", name, "role",
                                     page_role_name(role), "county", county ? county : ""));
    else
        store_answer(a, st, &e);
    errbuf_free(&e);
    sodium_memzero(hash, sizeof hash);
    json_decref(j);
}

static void set_active(struct preq *r, struct panswer *a, bool active)
{
    static const char *const fields[] = {"name", NULL};
    json_t *j = bpage_body(r, a, fields);
    const char *name = j ? json_string_value(json_object_get(j, "name")) : NULL;
    if (j && !name)
        bpage_error(a, 400, "name", "name: a user's name");
    else if (j && !active && strcmp(name, r->user.name) == 0)
        bpage_error(a, 409, "name", "you cannot disable your own account");
    if (!name || a->status) {
        json_decref(j);
        return;
    }
    struct errbuf e;
    FILE *errs = errbuf_open(&e, stderr);
    struct bstore *s = bstore_pool_get(r->p->pool, BPAGE_POOL_WAIT_MS);
    enum bstore_status st = s ? bstore_user_set_active(s, name, active, r->user.name, errs)
                              : BSTORE_UNAVAILABLE;
    if (s)
        bstore_pool_put(r->p->pool, s);
    if (st == BSTORE_OK && active) { /* enabled: the name's login waits end everywhere */
        pthread_mutex_lock(&r->p->auth_lock);
        throttle_forget_name(r->p->throttle, name);
        pthread_mutex_unlock(&r->p->auth_lock);
    }
    if (st == BSTORE_OK)
        bpage_json(a, 200, json_pack("{s:s,s:b}", "name", name, "active", active));
    else
        store_answer(a, st, &e);
    errbuf_free(&e);
    json_decref(j);
}

void bpage_users_disable(struct preq *r, struct MHD_Connection *conn, struct panswer *a)
{
    (void)conn;
    set_active(r, a, false);
}

void bpage_users_enable(struct preq *r, struct MHD_Connection *conn, struct panswer *a)
{
    (void)conn;
    set_active(r, a, true);
}
