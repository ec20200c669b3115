/* The bureau page's logins and sessions (bpage_private.h), to the school's page's
 * rules (docs/web-api-auth.md): argon2id (at most two checks at once), the login
 * throttle per (name, address) and per address (daemon/runtime/login_throttle.c:
 * nobody can block a user's logins from elsewhere, and names that are no user get
 * the same answers, delays and work), sessions of 32 random bytes in memory (16 per
 * user, 1024 in all) with their CSRF token, ended by idle time, age, logout, or the
 * user's disabling or change in the database. Every login, failure and logout is
 * audited; failures within the throttle's audit budget. */
#include "bpage_private.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "errbuf.h"
#include "log.h"
#include "login_throttle.h"
#include "slots.h"

#define MAX_SESSIONS 1024
#define PER_USER 16
#define TOKEN_B64 44        /* 32 bytes, base64url without padding, with the NUL */
#define HASH_WAIT_MS 10000

struct session {
    char id[TOKEN_B64], csrf[TOKEN_B64];
    struct bpage_user user;
    char hash[PAGE_HASH_MAX];   /* the password hash at login: a new one ends it */
    int64_t born_ms, seen_ms;
    bool used;
};

struct bpage_sessions {
    pthread_mutex_t lock;
    struct session s[MAX_SESSIONS];
};

struct bpage_sessions *bpage_sessions_new(void)
{
    struct bpage_sessions *ss = calloc(1, sizeof *ss);
    if (ss)
        pthread_mutex_init(&ss->lock, NULL);
    return ss;
}

void bpage_sessions_free(struct bpage_sessions *ss)
{
    if (!ss)
        return;
    pthread_mutex_destroy(&ss->lock);
    sodium_memzero(ss, sizeof *ss);
    free(ss);
}

static void random_token(char out[TOKEN_B64])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, TOKEN_B64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* A free slot: an unused one, else the user's oldest when they have PER_USER, else
 * the oldest of all. Under the lock. */
static struct session *slot_for(struct bpage_sessions *ss, long long user_id)
{
    struct session *free_one = NULL, *oldest = NULL, *users_oldest = NULL;
    int users = 0;
    for (int i = 0; i < MAX_SESSIONS; i++) {
        struct session *s = &ss->s[i];
        if (!s->used) {
            free_one = free_one ? free_one : s;
            continue;
        }
        if (!oldest || s->born_ms < oldest->born_ms)
            oldest = s;
        if (s->user.id == user_id && (users++, !users_oldest || s->born_ms < users_oldest->born_ms))
            users_oldest = s;
    }
    return users >= PER_USER ? users_oldest : free_one ? free_one : oldest;
}

static void session_new(struct bpage *p, const struct page_user *u, char id[TOKEN_B64],
                        char csrf[TOKEN_B64])
{
    struct bpage_sessions *ss = p->sessions;
    pthread_mutex_lock(&ss->lock);
    struct session *s = slot_for(ss, u->id);
    memset(s, 0, sizeof *s);
    random_token(s->id);
    random_token(s->csrf);
    s->user.id = u->id;
    s->user.role = u->role;
    snprintf(s->user.name, sizeof s->user.name, "%s", u->name);
    snprintf(s->user.county, sizeof s->user.county, "%s", u->county);
    snprintf(s->hash, sizeof s->hash, "%s", u->hash);
    s->born_ms = s->seen_ms = clock_mono_ms();
    s->used = true;
    memcpy(id, s->id, TOKEN_B64);
    memcpy(csrf, s->csrf, TOKEN_B64);
    pthread_mutex_unlock(&ss->lock);
}

/* Ends the session with this id (NULL: every session of user_id). */
static void session_end(struct bpage *p, const char *id, long long user_id)
{
    struct bpage_sessions *ss = p->sessions;
    pthread_mutex_lock(&ss->lock);
    for (int i = 0; i < MAX_SESSIONS; i++) {
        struct session *s = &ss->s[i];
        if (s->used && (id ? sodium_memcmp(s->id, id, TOKEN_B64) == 0 : s->user.id == user_id))
            memset(s, 0, sizeof *s);
    }
    pthread_mutex_unlock(&ss->lock);
}

/* The live session of this cookie value into *out (refreshed): 0, or -1. */
static int session_find(struct bpage *p, const char *cookie, struct session *out)
{
    struct bpage_sessions *ss = p->sessions;
    char id[TOKEN_B64] = "";
    int64_t now = clock_mono_ms();
    int rc = -1;
    if (!cookie || strlen(cookie) != TOKEN_B64 - 1)
        return -1;
    memcpy(id, cookie, TOKEN_B64 - 1);
    pthread_mutex_lock(&ss->lock);
    for (int i = 0; i < MAX_SESSIONS && rc < 0; i++) {
        struct session *s = &ss->s[i];
        if (!s->used || sodium_memcmp(s->id, id, TOKEN_B64) != 0)
            continue;
        if (now - s->seen_ms > p->session_idle_ms || now - s->born_ms > p->session_max_ms) {
            memset(s, 0, sizeof *s);
            break;
        }
        s->seen_ms = now;
        *out = *s;
        rc = 0;
    }
    pthread_mutex_unlock(&ss->lock);
    return rc;
}

/* Whether the user as the database has them now is the one who logged in. */
static int user_still(struct bpage *p, const struct session *s, struct panswer *a)
{
    struct page_user u;
    bool found = false;
    struct bstore *db = bstore_pool_get(p->pool, BPAGE_POOL_WAIT_MS);
    enum bstore_status st = db ? bstore_user_get(db, s->user.id, &u, &found) : BSTORE_UNAVAILABLE;
    if (db)
        bstore_pool_put(p->pool, db);
    if (st != BSTORE_OK) {
        bpage_error(a, 503, NULL, "the bureau's database is not available now; try again");
        a->retry_after = 5;
        return -1;
    }
    if (found && u.active && u.role == s->user.role && strcmp(u.county, s->user.county) == 0 &&
        strcmp(u.hash, s->hash) == 0)
        return 0;
    session_end(p, NULL, s->user.id);
    bpage_error(a, 401, NULL, "your account was changed or disabled; log in again");
    return -1;
}

int bpage_session_check(struct preq *r, struct MHD_Connection *conn, struct panswer *a,
                        char *csrf, size_t n)
{
    struct session s;
    const char *c = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, BPAGE_COOKIE);
    if (session_find(r->p, c, &s) < 0) {
        bpage_error(a, 401, NULL, "not logged in (or the session ended): log in");
        return -1;
    }
    if (user_still(r->p, &s, a) < 0)
        return -1;
    r->user = s.user;
    memcpy(r->session_id, s.id, TOKEN_B64);
    snprintf(csrf, n, "%s", s.csrf);
    sodium_memzero(&s, sizeof s);
    return 0;
}

/* ---- audit ------------------------------------------------------------------------- */

void bpage_audit(struct bpage *p, const char *actor, const char *action, const char *target,
                 const char *detail)
{
    struct bstore *db = bstore_pool_get(p->pool, BPAGE_POOL_WAIT_MS);
    enum bstore_status st = db ? bstore_audit(db, actor, action, target, detail)
                               : BSTORE_UNAVAILABLE;
    if (db)
        bstore_pool_put(p->pool, db);
    if (st != BSTORE_OK)
        log_warn("page: audit row '%s' of %s not written (%s)", action, actor,
                 bstore_status_name(st));
}

/* A failed or refused login's row, within the throttle's audit budget. */
static void audit_failure(struct preq *r, const char *name, const char *action,
                          const char *detail)
{
    char summary[300], full[400];
    pthread_mutex_lock(&r->p->auth_lock);
    bool own = throttle_audit(r->p->throttle, r->addr_key, clock_mono_ms(), summary,
                              sizeof summary);
    pthread_mutex_unlock(&r->p->auth_lock);
    snprintf(full, sizeof full, "from %s: %s", r->addr, detail);
    if (own)
        bpage_audit(r->p, name, action, name, full);
    if (summary[0])
        bpage_audit(r->p, "-", "page login failures summed up", "-", summary);
}

/* ---- login ----------------------------------------------------------------------- */

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int bpage_hash_password(struct bpage *p, const char *password, char hash[PAGE_HASH_MAX])
{
    if (!slots_take(p->hashers, true, HASH_WAIT_MS)) /* an administrator: first */
        return -1;
    int rc = crypto_pwhash_str(hash, password, strlen(password),
                               crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE);
    slots_give(p->hashers);
    return rc == 0 ? 0 : -1;
}

/* The user of that name (found or not) and whether the password is theirs; the same
 * work for a name that is no user. `clean`: no failed login from the address on
 * record, so the check goes before those of addresses that failed. -1: the database
 * or the checks are busy. */
static int check_password(struct bpage *p, const char *name, const char *pw, bool clean,
                          struct page_user *u, bool *found, bool *right)
{
    struct bstore *db = bstore_pool_get(p->pool, BPAGE_POOL_WAIT_MS);
    enum bstore_status st = db ? bstore_user_find(db, name, u, found) : BSTORE_UNAVAILABLE;
    if (db)
        bstore_pool_put(p->pool, db);
    if (st != BSTORE_OK || !slots_take(p->hashers, clean, HASH_WAIT_MS))
        return -1;
    *right = crypto_pwhash_str_verify(*found ? u->hash : p->dummy_hash, pw, strlen(pw)) == 0 &&
             *found;
    slots_give(p->hashers);
    return 0;
}

static void throttled(struct preq *r, struct panswer *a, int64_t retry_ms)
{
    int secs = (int)((retry_ms + 999) / 1000);
    json_t *j = json_pack("{s:s,s:i}", "error", "too many failed logins from your address: "
                          "wait before trying again", "retry_after_s", secs);
    bpage_json(a, 429, j);
    a->retry_after = secs;
    (void)r;
}

static void logged_in(struct preq *r, struct panswer *a, const struct page_user *u)
{
    char id[TOKEN_B64], csrf[TOKEN_B64], detail[120];
    session_new(r->p, u, id, csrf);
    snprintf(a->cookie, sizeof a->cookie,
             BPAGE_COOKIE "=%s; Path=/; HttpOnly; Secure; SameSite=Strict", id);
    bpage_json(a, 200, json_pack("{s:{s:s,s:s,s:s},s:s}", "user", "name", u->name, "role",
                                 page_role_name(u->role), "county", u->county, "csrf", csrf));
    snprintf(detail, sizeof detail, "from %s", r->addr);
    bpage_audit(r->p, u->name, "page login", u->name, detail);
    sodium_memzero(id, sizeof id);
}

/* After the throttle let the login go: the check, the count, the answer. */
static void login_checked(struct preq *r, struct panswer *a, const char *name, const char *pw,
                          bool clean)
{
    struct page_user u;
    bool found = false, right = false;
    struct throttle_outcome out = {0};
    char detail[160];
    if (check_password(r->p, name, pw, clean, &u, &found, &right) < 0) {
        bpage_error(a, 503, NULL, "the server is busy; try again");
        a->retry_after = 5;
        return;
    }
    pthread_mutex_lock(&r->p->auth_lock);
    throttle_record(r->p->throttle, name, r->addr_key, right ? THROTTLE_RIGHT : THROTTLE_WRONG,
                    clock_mono_ms(), &out);
    pthread_mutex_unlock(&r->p->auth_lock);
    if (right && !u.active) {
        bpage_audit(r->p, name, "page login refused", name, "the account is disabled");
        bpage_error(a, 403, NULL, "this account is disabled; ask an administrator");
    } else if (right) {
        logged_in(r, a, &u);
    } else {
        sleep_ms(out.delay_ms);
        snprintf(detail, sizeof detail, "%d in a row for the name from the address, %d from "
                 "the address%s", out.pair_fails, out.addr_fails,
                 out.blocked_ms > 0 ? "; now waits" : "");
        audit_failure(r, name, out.blocked_ms > 0 ? "page login throttled" : "page login failed",
                      detail);
        if (out.blocked_ms > 0)
            throttled(r, a, out.blocked_ms);
        else
            bpage_error(a, 401, NULL, "wrong name or password");
    }
}

static void login_as(struct preq *r, struct panswer *a, const char *name, const char *pw)
{
    int64_t retry = 0;
    pthread_mutex_lock(&r->p->auth_lock);
    enum throttle_verdict v = throttle_begin(r->p->throttle, name, r->addr_key,
                                             clock_mono_ms(), &retry);
    bool clean = throttle_address_clean(r->p->throttle, r->addr_key, clock_mono_ms());
    pthread_mutex_unlock(&r->p->auth_lock);
    if (v == THROTTLE_BLOCKED) {
        audit_failure(r, name, "page login refused", "the name or address waits");
        throttled(r, a, retry);
        return;
    }
    if (v != THROTTLE_GO) {
        audit_failure(r, name, "page login refused", "another login is in progress");
        bpage_error(a, 429, NULL, "%s", v == THROTTLE_BUSY_NAME
                                            ? "another login for this name is in progress; "
                                              "try again"
                                            : "too many logins in progress from your "
                                              "address; try again");
        return;
    }
    login_checked(r, a, name, pw, clean);
    pthread_mutex_lock(&r->p->auth_lock);
    throttle_release(r->p->throttle, name, r->addr_key);
    pthread_mutex_unlock(&r->p->auth_lock);
}

void bpage_login(struct preq *r, struct MHD_Connection *conn, struct panswer *a)
{
    (void)conn;
    static const char *const fields[] = {"name", "password", NULL};
    char name[USER_NAME_MAX];
    json_t *j = bpage_body(r, a, fields);
    if (!j)
        return;
    const char *given = json_string_value(json_object_get(j, "name"));
    const char *pw = json_string_value(json_object_get(j, "password"));
    struct errbuf e; /* why a name cannot be a user's is not told: "not a user name" */
    FILE *errs = errbuf_open(&e, NULL);
    if (!given || !*given || !pw || !*pw)
        bpage_error(a, 400, !given || !*given ? "name" : "password", "%s: a non-empty string",
                    !given || !*given ? "name" : "password");
    else if (!errs || user_rules_normalize(given, name, errs) < 0 ||
             user_rules_name(name, errs) < 0)
        bpage_error(a, 400, "name", "name: not a user name");
    else
        login_as(r, a, name, pw);
    errbuf_free(&e);
    json_decref(j);
}

void bpage_logout(struct preq *r, struct MHD_Connection *conn, struct panswer *a)
{
    (void)conn;
    char detail[100];
    session_end(r->p, r->session_id, 0);
    snprintf(detail, sizeof detail, "from %s", r->addr);
    bpage_audit(r->p, r->user.name, "page logout", r->user.name, detail);
    snprintf(a->cookie, sizeof a->cookie,
             BPAGE_COOKIE "=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
    bpage_json(a, 200, json_pack("{s:b}", "ok", 1));
}

void bpage_session_get(struct preq *r, struct MHD_Connection *conn, struct panswer *a)
{
    char csrf[64];
    struct session s;
    const char *c = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, BPAGE_COOKIE);
    if (session_find(r->p, c, &s) < 0) {
        bpage_error(a, 401, NULL, "not logged in");
        return;
    }
    snprintf(csrf, sizeof csrf, "%s", s.csrf);
    bpage_json(a, 200, json_pack("{s:{s:s,s:s,s:s},s:s}", "user", "name", r->user.name, "role",
                                 page_role_name(r->user.role), "county", r->user.county, "csrf",
                                 csrf));
    sodium_memzero(&s, sizeof s);
}
