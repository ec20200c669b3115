/* The administrators' users API (docs/web-api-auth.md): list, add, disable, enable,
 * new password. The rules for names, roles and passwords are the ledger's
 * (ledger_users.h); a user disabled or given a new password loses their sessions. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ledger_users.h"
#include "log.h"
#include "web_api.h"

static json_t *user_json(const struct user_row *u, int64_t now)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:i, s:b, s:I, s:I}", "name", u->name, "role",
                     u->role, "class", u->class_name, "active", u->active, "failed_logins",
                     u->failed_logins, "locked", u->locked_until_ms > now, "locked_until_ms",
                     (json_int_t)u->locked_until_ms, "created_ms", (json_int_t)u->created_ms);
}

struct user_list {
    json_t *arr;
    int64_t now;
};

static void add_user(const struct user_row *u, void *arg)
{
    struct user_list *ul = arg;
    json_array_append_new(ul->arr, user_json(u, ul->now));
}

static void h_users(struct web_request *rq, struct web_response *rs)
{
    struct ledger *l = web_ledger(rq, rs);
    struct user_list ul = {json_array(), clock_wall_ms()};
    if (!l) {
        json_decref(ul.arr);
        return;
    }
    if (ledger_user_list(l, add_user, &ul) < 0) {
        json_decref(ul.arr);
        web_error(rs, 503, "the ledger cannot be read now; try again");
        return;
    }
    web_json(rs, 200, json_pack("{s:o}", "users", ul.arr));
}

static const char *string_field(json_t *b, const char *key, struct web_response *rs)
{
    const char *v = json_string_value(json_object_get(b, key));
    if (!v || !*v)
        web_error(rs, 400, "%s: a non-empty string is required", key);
    return v && *v ? v : NULL;
}

/* The user row after a change, as the answer. */
static void answer_user(struct web_request *rq, struct web_response *rs, const char *name,
                        int status)
{
    struct user_row u;
    int found;
    if (ledger_user_find(rq->ledger, name, &u, &found) < 0 || !found) {
        web_error(rs, 503, "the ledger cannot be read now; try again");
        return;
    }
    web_json(rs, status, json_pack("{s:o}", "user", user_json(&u, clock_wall_ms())));
}

/* The body's values; the name in its NFKC form (in `name`), as it is stored. */
static int new_user_values(json_t *b, struct web_response *rs, struct user_new *in,
                           char name[USER_NAME_MAX])
{
    json_t *cls = json_object_get(b, "class");
    const char *given = string_field(b, "name", rs);
    if (!given || !(in->role = string_field(b, "role", rs)))
        return -1;
    if (cls && !json_is_string(cls) && !json_is_null(cls)) {
        web_error(rs, 400, "class: a string is required");
        return -1;
    }
    in->class_name = json_string_value(cls);
    if (!json_is_string(json_object_get(b, "password"))) {
        web_error(rs, 400, "password: a string is required");
        return -1;
    }
    struct wa_errs m;
    FILE *errs = wa_errs_open(&m);
    const char *pw = json_string_value(json_object_get(b, "password"));
    enum ledger_status st = ledger_user_name_normalize(given, name, errs);
    in->name = name;
    if (st == LEDGER_OK)
        st = ledger_user_check(in->name, in->role, in->class_name, errs);
    if (st == LEDGER_OK)
        st = ledger_user_check_password(pw, errs);
    return wa_errs_finish(&m, st, rs);
}

static int hashed(struct web_request *rq, struct web_response *rs, const char *pw,
                  char hash[WEB_PASSWORD_HASH_MAX])
{
    if (web_password_hash(rq->sessions, pw, hash) == 0)
        return 0;
    web_error(rs, 503, "the server is busy; try again");
    return -1;
}

static void h_user_add(struct web_request *rq, struct web_response *rs)
{
    static const char *const keys[] = {"name", "role", "class", "password", NULL};
    json_t *b = web_body_object(rq, rs, keys);
    struct user_new in = {.by = rq->user->name, .at_ms = clock_wall_ms()};
    char hash[WEB_PASSWORD_HASH_MAX], name[USER_NAME_MAX];
    struct user_row old;
    int found;
    struct wa_errs m;
    if (!b || new_user_values(b, rs, &in, name) < 0 || !web_ledger(rq, rs))
        goto out;
    if (ledger_user_find(rq->ledger, in.name, &old, &found) < 0 || found) {
        if (found)
            web_error(rs, 409, "a user named '%s' exists already", in.name);
        else
            web_error(rs, 503, "the ledger cannot be read now; try again");
        goto out;
    }
    if (hashed(rq, rs, json_string_value(json_object_get(b, "password")), hash) < 0)
        goto out;
    in.password_hash = hash;
    if (wa_errs_finish(&m, ledger_user_add(rq->ledger, &in, wa_errs_open(&m)), rs) == 0)
        answer_user(rq, rs, in.name, 201);
out:
    json_decref(b);
}

/* The user named by the route, or NULL with a 404 (503). */
static bool route_user(struct web_request *rq, struct web_response *rs, struct user_row *u)
{
    int found;
    if (!web_ledger(rq, rs))
        return false;
    if (ledger_user_find(rq->ledger, rq->param[0], u, &found) < 0) {
        web_error(rs, 503, "the ledger cannot be read now; try again");
        return false;
    }
    if (!found)
        web_error(rs, 404, "no user named '%s'", rq->param[0]);
    return found;
}

static void set_active(struct web_request *rq, struct web_response *rs, bool active)
{
    struct user_row u;
    int changed;
    struct wa_errs m;
    if (!route_user(rq, rs, &u))
        return;
    if (!active && u.id == rq->user->id) {
        web_error(rs, 409, "you cannot disable your own account");
        return;
    }
    if (wa_errs_finish(&m, ledger_user_set_active(rq->ledger, u.name, active, rq->user->name,
                                                  &changed, wa_errs_open(&m)), rs) < 0)
        return;
    if (!active)
        web_sessions_end_user(rq->sessions, u.id);
    else
        web_sessions_forget_name(rq->sessions, u.name);
    answer_user(rq, rs, u.name, 200);
}

static void h_user_disable(struct web_request *rq, struct web_response *rs)
{
    set_active(rq, rs, false);
}

static void h_user_enable(struct web_request *rq, struct web_response *rs)
{
    set_active(rq, rs, true);
}

static void h_user_password(struct web_request *rq, struct web_response *rs)
{
    static const char *const keys[] = {"password", NULL};
    json_t *b = web_body_object(rq, rs, keys);
    struct user_row u;
    char hash[WEB_PASSWORD_HASH_MAX];
    struct wa_errs m;
    const char *pw = json_string_value(json_object_get(b, "password"));
    if (!b)
        return;
    if (!pw) {
        web_error(rs, 400, "password: a string is required");
        goto out;
    }
    if (wa_errs_finish(&m, ledger_user_check_password(pw, wa_errs_open(&m)), rs) < 0)
        goto out;
    if (!route_user(rq, rs, &u) || hashed(rq, rs, pw, hash) < 0)
        goto out;
    if (wa_errs_finish(&m, ledger_user_set_password(rq->ledger, u.name, hash, rq->user->name,
                                                    wa_errs_open(&m)), rs) < 0)
        goto out;
    web_sessions_end_user(rq->sessions, u.id); /* the old password's sessions */
    web_sessions_forget_name(rq->sessions, u.name);
    answer_user(rq, rs, u.name, 200);
out:
    json_decref(b);
}

#define ADMIN ROLE_BIT(ROLE_ADMIN)

const struct web_route web_users_routes[] = {
    {"GET", "/api/v1/users", ADMIN, false, h_users},
    {"POST", "/api/v1/users", ADMIN, true, h_user_add},
    {"POST", "/api/v1/users/:name/disable", ADMIN, true, h_user_disable},
    {"POST", "/api/v1/users/:name/enable", ADMIN, true, h_user_enable},
    {"POST", "/api/v1/users/:name/password", ADMIN, true, h_user_password},
    {NULL, NULL, 0, false, NULL},
};
