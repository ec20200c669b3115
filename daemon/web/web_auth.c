/* Users, sessions and logins of the web page (docs/web-api-auth.md): sessions in
 * memory under one mutex, at most SESSIONS_PER_USER per user; passwords checked with
 * argon2id (libsodium); failed logins throttled per (name, address) and per address
 * (login_throttle.c), never per name alone, and the same for names that do not exist,
 * so that names cannot be probed and nobody elsewhere can block a user. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "errbuf.h"
#include "ledger_users.h"
#include "log.h"
#include "web_private.h"
#include "login_throttle.h"
#include "slots.h"

#define SESSIONS_MAX 1024
#define SESSIONS_PER_USER 16        /* a user's 17th login ends their oldest session */
#define TOKEN_BYTES 32
#define TOKEN_LEN 44                /* base64url of 32 bytes, no padding, + NUL */
#define STAMP_BYTES 16
#define HASHERS 2                   /* argon2id at once: 64 MiB each */
#define HASHER_WAIT_S 10
#define COOKIE "gs_session"
#define WRONG "wrong name or password"

_Static_assert(WEB_PASSWORD_HASH_MAX == crypto_pwhash_STRBYTES, "argon2id hash text size");
_Static_assert(WEB_NAME_MAX == USER_NAME_MAX, "the same name limit everywhere");

static const char *const role_names[ROLE_COUNT] = {"nurse", "teacher", "admin", "gate"};

struct session {
    char id[TOKEN_LEN], csrf[TOKEN_LEN];
    struct web_user user;
    unsigned char stamp[STAMP_BYTES]; /* of the password hash at login */
    int64_t created_ms, used_ms;      /* monotonic */
};

struct web_sessions {
    const struct config *cfg;
    pthread_mutex_t lock;
    pthread_cond_t wake;            /* ends login delays at shutdown */
    bool closing;
    /* The HASHERS password checks: logins from clean addresses wait in front. */
    struct slots *hashers;
    char dummy_hash[crypto_pwhash_STRBYTES]; /* verified for unknown names: same time */
    int n;
    struct session s[SESSIONS_MAX];
    struct throttle *throttle;      /* failed logins; under `lock` */
};

const char *web_role_name(enum web_role r)
{
    return (unsigned)r < ROLE_COUNT ? role_names[r] : "?";
}

int web_role_parse(const char *s)
{
    for (int i = 0; s && i < ROLE_COUNT; i++)
        if (strcmp(role_names[i], s) == 0)
            return i;
    return -1;
}

/* ---- the store ------------------------------------------------------------------------ */

struct web_sessions *web_sessions_new(const struct config *cfg)
{
    unsigned char junk[32];
    if (sodium_init() < 0) {
        log_err("web: libsodium cannot start");
        return NULL;
    }
    struct web_sessions *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = cfg;
    if (!(s->throttle = throttle_new()) || !(s->hashers = slots_new(HASHERS))) {
        throttle_free(s->throttle);
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &attr);
    pthread_condattr_destroy(&attr);
    randombytes_buf(junk, sizeof junk);
    if (crypto_pwhash_str(s->dummy_hash, (const char *)junk, sizeof junk,
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        log_err("web: cannot make a password hash (out of memory?)");
        web_sessions_free(s);
        return NULL;
    }
    return s;
}

void web_sessions_free(struct web_sessions *s)
{
    if (!s)
        return;
    slots_free(s->hashers);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    sodium_memzero(s->s, sizeof s->s);
    throttle_free(s->throttle);
    free(s);
}

void web_sessions_close(struct web_sessions *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->closing = true;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
}

static void drop_at(struct web_sessions *s, int i)
{
    s->s[i] = s->s[--s->n];
    sodium_memzero(&s->s[s->n], sizeof s->s[s->n]);
}

/* Under the lock: the session of a cookie value, expired ones dropped. */
static struct session *find_locked(struct web_sessions *s, const char *id, int64_t now)
{
    if (!id || strlen(id) != TOKEN_LEN - 1)
        return NULL;
    for (int i = 0; i < s->n; i++) {
        struct session *x = &s->s[i];
        if (sodium_memcmp(x->id, id, TOKEN_LEN - 1) != 0)
            continue;
        if (now - x->used_ms > s->cfg->web.session_idle_ms ||
            now - x->created_ms > s->cfg->web.session_max_ms) {
            drop_at(s, i);
            return NULL;
        }
        return x;
    }
    return NULL;
}

static const char *cookie_of(struct MHD_Connection *conn)
{
    return MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, COOKIE);
}

/* The cookie's session; `touch`: this is activity (refreshes the idle timer). */
static bool session_get(struct web_sessions *s, struct MHD_Connection *conn, struct web_user *out,
                        char *csrf_out, size_t csrf_size, bool touch)
{
    const char *id = cookie_of(conn);
    pthread_mutex_lock(&s->lock);
    struct session *x = find_locked(s, id, clock_mono_ms());
    if (x) {
        if (touch)
            x->used_ms = clock_mono_ms();
        *out = x->user;
        if (csrf_out)
            snprintf(csrf_out, csrf_size, "%s", x->csrf);
    }
    pthread_mutex_unlock(&s->lock);
    return x != NULL;
}

bool web_session_user(struct web_sessions *s, struct MHD_Connection *conn,
                      struct web_user *out, char *csrf_out, size_t csrf_size)
{
    return session_get(s, conn, out, csrf_out, csrf_size, true);
}

static void stamp_of(const char *hash, unsigned char out[STAMP_BYTES])
{
    crypto_generichash(out, STAMP_BYTES, (const unsigned char *)hash, strlen(hash), NULL, 0);
}

/* Ends the sessions of user `id`; only those whose password stamp differs from
 * `keep_stamp` when it is given. */
static void end_sessions(struct web_sessions *s, int64_t id, const unsigned char *keep_stamp)
{
    pthread_mutex_lock(&s->lock);
    for (int i = s->n - 1; i >= 0; i--)
        if (s->s[i].user.id == id &&
            !(keep_stamp && sodium_memcmp(s->s[i].stamp, keep_stamp, STAMP_BYTES) == 0))
            drop_at(s, i);
    pthread_mutex_unlock(&s->lock);
}

void web_sessions_end_user(struct web_sessions *s, int64_t user_id)
{
    end_sessions(s, user_id, NULL);
}

static bool same_user(const struct user_row *row, const struct web_user *u)
{
    return row->active && web_role_parse(row->role) == (int)u->role &&
           strcmp(row->class_name, u->class_name) == 0;
}

static int session_require(struct web_request *rq, struct web_response *rs, struct web_user *out,
                           char *csrf_out, size_t csrf_size, bool touch)
{
    if (!session_get(rq->sessions, rq->conn, out, csrf_out, csrf_size, touch)) {
        web_error(rs, 401, "not logged in, or the session expired");
        return -1;
    }
    struct ledger *l = web_ledger(rq, rs);
    struct user_row row;
    int found;
    if (!l)
        return -1;
    if (ledger_user_get(l, out->id, &row, &found) < 0) {
        web_error(rs, 503, "the ledger cannot be read now; try again");
        return -1;
    }
    /* Disabled, another role or class, or a new password (the CLI may have done it
     * behind the server's back): the sessions of the old state end. */
    unsigned char stamp[STAMP_BYTES];
    stamp_of(row.password_hash, stamp);
    bool same = found && same_user(&row, out);
    end_sessions(rq->sessions, out->id, same ? stamp : NULL);
    if (!same || !session_get(rq->sessions, rq->conn, out, csrf_out, csrf_size, touch)) {
        web_error(rs, 401, "the session ended (the account was changed); log in again");
        return -1;
    }
    return 0;
}

int web_session_require(struct web_request *rq, struct web_response *rs, struct web_user *out,
                        char *csrf_out, size_t csrf_size)
{
    return session_require(rq, rs, out, csrf_out, csrf_size, true);
}

int web_session_recheck(struct web_request *rq, struct web_response *rs, struct web_user *out)
{
    return session_require(rq, rs, out, NULL, 0, false);
}

static void token(char out[TOKEN_LEN])
{
    unsigned char raw[TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, TOKEN_LEN, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

/* Under the lock: how many sessions user `id` has, and the oldest of them. */
static int sessions_of(struct web_sessions *s, int64_t id, int *oldest)
{
    int n = 0;
    *oldest = -1;
    for (int i = 0; i < s->n; i++)
        if (s->s[i].user.id == id) {
            n++;
            if (*oldest < 0 || s->s[i].created_ms < s->s[*oldest].created_ms)
                *oldest = i;
        }
    return n;
}

/* Under the lock: room for a session of user `id`. A user's own sessions go first
 * (the oldest), so one account logging in again and again ends only its own; when
 * the store is full, the oldest session of the user holding the most goes. */
static void make_room(struct web_sessions *s, int64_t id)
{
    int oldest;
    if (sessions_of(s, id, &oldest) >= SESSIONS_PER_USER) {
        drop_at(s, oldest);
        return;
    }
    if (s->n < SESSIONS_MAX)
        return;
    int most = 0, victim = 0;
    for (int i = 0; i < s->n; i++) {
        int first, k = sessions_of(s, s->s[i].user.id, &first);
        if (k > most) {
            most = k;
            victim = first;
        }
    }
    drop_at(s, victim);
}

/* A new session; expired ones go first. */
static void session_add(struct web_sessions *s, const struct web_user *u,
                        const unsigned char stamp[STAMP_BYTES], char id[TOKEN_LEN],
                        char csrf[TOKEN_LEN])
{
    int64_t now = clock_mono_ms();
    pthread_mutex_lock(&s->lock);
    for (int i = s->n - 1; i >= 0; i--)
        if (now - s->s[i].used_ms > s->cfg->web.session_idle_ms ||
            now - s->s[i].created_ms > s->cfg->web.session_max_ms)
            drop_at(s, i);
    make_room(s, u->id);
    struct session *x = &s->s[s->n++];
    token(x->id);
    token(x->csrf);
    x->user = *u;
    memcpy(x->stamp, stamp, STAMP_BYTES);
    x->created_ms = x->used_ms = now;
    memcpy(id, x->id, TOKEN_LEN);
    memcpy(csrf, x->csrf, TOKEN_LEN);
    pthread_mutex_unlock(&s->lock);
}

/* Logout: the cookie's session, if any; its user's name goes to `name`. */
static bool session_remove(struct web_sessions *s, struct MHD_Connection *conn, char *name,
                           size_t n)
{
    pthread_mutex_lock(&s->lock);
    struct session *x = find_locked(s, cookie_of(conn), clock_mono_ms());
    if (x) {
        snprintf(name, n, "%s", x->user.name);
        drop_at(s, (int)(x - s->s));
    }
    pthread_mutex_unlock(&s->lock);
    return x != NULL;
}

/* ---- password checks ------------------------------------------------------------------ */

/* One of the HASHERS slots (runtime/slots.h); false when the server is too busy.
 * `clean`: the login comes from an address with no failed login on record (or an
 * administrator sets a password); those go first, so a nurse is not queued behind
 * the password checks of guesses from elsewhere. */
static bool hasher_take(struct web_sessions *s, bool clean)
{
    return slots_take(s->hashers, clean, HASHER_WAIT_S * 1000);
}

static void hasher_give(struct web_sessions *s)
{
    slots_give(s->hashers);
}

/* 1 right, 0 wrong, -1 busy. */
static int verify(struct web_sessions *s, const char *hash, const char *password, bool clean)
{
    if (!hasher_take(s, clean))
        return -1;
    int ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
    hasher_give(s);
    return ok;
}

int web_password_hash(struct web_sessions *s, const char *password,
                      char out[WEB_PASSWORD_HASH_MAX])
{
    if (!hasher_take(s, true))
        return -1;
    int rc = crypto_pwhash_str(out, password, strlen(password),
                               crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE);
    hasher_give(s);
    return rc == 0 ? 0 : -1;
}

/* Sleeps `ms` in the connection's own thread: the answer delay of a failed login.
 * Shutdown ends it. */
static void failure_delay(struct web_sessions *s, int64_t ms)
{
    struct timespec until = clock_mono_deadline(ms);
    pthread_mutex_lock(&s->lock);
    while (!s->closing && pthread_cond_timedwait(&s->wake, &s->lock, &until) == 0)
        ;
    pthread_mutex_unlock(&s->lock);
}

/* ---- login ---------------------------------------------------------------------------- */

struct attempt {
    struct web_request *rq;
    struct web_response *rs;
    struct web_sessions *s;
    struct ledger *l;
    const char *password;
    char name[WEB_NAME_MAX];     /* as given, in NFKC form */
    char addr[THROTTLE_KEY_MAX]; /* the throttle's key: an IPv4 address, an IPv6 /64 */
    char from[80];               /* "from ADDRESS", for the audit log */
    bool clean;                  /* no failed login from the address on record */
};

/* The client's address for the audit log, and the throttle's key: IPv6 clients
 * choose the low 64 bits of their address at will, so their /64 is one client. */
static void client_address(struct MHD_Connection *conn, struct attempt *a)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char text[INET6_ADDRSTRLEN] = "?";
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    snprintf(a->addr, sizeof a->addr, "?");
    if (sa && sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, text,
                  sizeof text);
        snprintf(a->addr, sizeof a->addr, "%s", text);
    } else if (sa && sa->sa_family == AF_INET6) {
        struct in6_addr net = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        char prefix[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &net, text, sizeof text);
        memset(net.s6_addr + 8, 0, 8);
        inet_ntop(AF_INET6, &net, prefix, sizeof prefix);
        snprintf(a->addr, sizeof a->addr, "%s/64", prefix);
    }
    snprintf(a->from, sizeof a->from, "from %s", text);
}

/* A failed or refused login's audit row, within the audit budget (login_throttle.h):
 * beyond it the login is only counted, and a summary row is written for each
 * minute that had such logins. */
static void audit_failure(struct attempt *a, const char *action, const char *detail)
{
    char summary[256];
    pthread_mutex_lock(&a->s->lock);
    bool own = throttle_audit(a->s->throttle, a->addr, clock_mono_ms(), summary, sizeof summary);
    pthread_mutex_unlock(&a->s->lock);
    if (summary[0])
        ledger_audit(a->l, "-", "login failures summed up", "-", summary);
    if (own)
        ledger_audit(a->l, a->name, action, a->name, detail);
}

static void throttled_answer(struct attempt *a, int64_t retry_ms)
{
    int64_t left = (retry_ms + 999) / 1000;
    char secs[24];
    snprintf(secs, sizeof secs, "%lld", (long long)(left > 0 ? left : 1));
    web_header(a->rs, "Retry-After", secs);
    json_t *j = json_pack("{s:s, s:I}", "error",
                          "too many failed logins from your address: wait before trying again",
                          "retry_after_s", (json_int_t)(left > 0 ? left : 1));
    web_json(a->rs, 429, j);
}

/* Before the password check: false with the answer set when the throttle refuses. */
static bool throttle_admits(struct attempt *a)
{
    int64_t retry_ms;
    pthread_mutex_lock(&a->s->lock);
    enum throttle_verdict v = throttle_begin(a->s->throttle, a->name, a->addr, clock_mono_ms(),
                                             &retry_ms);
    a->clean = throttle_address_clean(a->s->throttle, a->addr, clock_mono_ms());
    pthread_mutex_unlock(&a->s->lock);
    if (v == THROTTLE_GO)
        return true;
    char detail[160];
    snprintf(detail, sizeof detail, "%s; %s",
             v == THROTTLE_BLOCKED ? "throttled" : "another login in progress", a->from);
    audit_failure(a, "login refused", detail);
    if (v == THROTTLE_BLOCKED)
        throttled_answer(a, retry_ms);
    else if (v == THROTTLE_BUSY_NAME)
        web_error(a->rs, 429, "another login for this name is in progress; try again");
    else
        web_error(a->rs, 429, "too many logins in progress from your address; try again");
    return false;
}

/* After the password check (the login still in progress): counted. */
static void throttle_count(struct attempt *a, enum throttle_result r,
                           struct throttle_outcome *out)
{
    pthread_mutex_lock(&a->s->lock);
    throttle_record(a->s->throttle, a->name, a->addr, r, clock_mono_ms(), out);
    pthread_mutex_unlock(&a->s->lock);
}

/* A wrong password or a name that is no user: the same count, audit, delay and
 * answer, so the two cannot be told apart. */
static void login_wrong(struct attempt *a, bool user)
{
    struct throttle_outcome o;
    char detail[200];
    throttle_count(a, THROTTLE_WRONG, &o);
    snprintf(detail, sizeof detail, "%d in a row for this name from this address, %d from the "
             "address; %s%s", o.pair_fails, o.addr_fails, user ? "" : "no such user; ", a->from);
    audit_failure(a, "login failed", detail);
    if (o.blocked_ms > 0) {
        snprintf(detail, sizeof detail, "logins of this name from this address%s wait %lld s; %s",
                 o.addr_fails >= THROTTLE_ADDR_FAILS ? ", or any from this address," : "",
                 (long long)(o.blocked_ms / 1000), a->from);
        audit_failure(a, "login throttled", detail);
    }
    failure_delay(a->s, o.delay_ms);
    if (o.blocked_ms > 0)
        throttled_answer(a, o.blocked_ms);
    else
        web_error(a->rs, 401, WRONG);
}

static json_t *session_json(const struct web_user *u, const char *csrf)
{
    return json_pack("{s:{s:s, s:s, s:s}, s:s}", "user", "name", u->name, "role",
                     web_role_name(u->role), "class", u->class_name, "csrf", csrf);
}

static void login_ok(struct attempt *a, const struct user_row *row)
{
    struct web_user u = {.id = row->id, .role = (enum web_role)web_role_parse(row->role)};
    struct throttle_outcome o;
    char summary[256];
    snprintf(u.name, sizeof u.name, "%s", row->name);
    snprintf(u.class_name, sizeof u.class_name, "%s", row->class_name);
    throttle_count(a, THROTTLE_RIGHT, &o);
    pthread_mutex_lock(&a->s->lock);
    throttle_audit_flush(a->s->throttle, clock_mono_ms(), summary, sizeof summary);
    pthread_mutex_unlock(&a->s->lock);
    if (summary[0])
        ledger_audit(a->l, "-", "login failures summed up", "-", summary);
    if (ledger_user_login_ok(a->l, row->id, a->from) < 0) {
        web_error(a->rs, 503, "the ledger cannot be written now; try again");
        return;
    }
    char id[TOKEN_LEN], csrf[TOKEN_LEN], cookie[128];
    unsigned char stamp[STAMP_BYTES];
    stamp_of(row->password_hash, stamp);
    char old[WEB_NAME_MAX];
    session_remove(a->s, a->rq->conn, old, sizeof old); /* a new login, a new id */
    session_add(a->s, &u, stamp, id, csrf);
    snprintf(cookie, sizeof cookie, COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s", id,
             a->rq->tls ? "; Secure" : "");
    web_header(a->rs, "Set-Cookie", cookie);
    web_json(a->rs, 200, session_json(&u, csrf));
    sodium_memzero(id, sizeof id);
}

/* The password check of a user (`row`), or of a name that is no user (NULL: the
 * dummy hash, the same work). */
static void login_check(struct attempt *a, const struct user_row *row)
{
    int ok = verify(a->s, row ? row->password_hash : a->s->dummy_hash, a->password, a->clean);
    if (ok < 0) {
        web_error(a->rs, 503, "the server is busy; try again");
        return;
    }
    if (!ok || !row || web_role_parse(row->role) < 0) {
        login_wrong(a, row != NULL);
        return;
    }
    if (!row->active) {
        char detail[160];
        struct throttle_outcome o;
        throttle_count(a, THROTTLE_RIGHT, &o);
        snprintf(detail, sizeof detail, "account disabled; %s", a->from);
        ledger_audit(a->l, row->name, "login refused", row->name, detail);
        web_error(a->rs, 403, "this account is disabled; ask an administrator");
        return;
    }
    login_ok(a, row);
}

static const char *string_field(json_t *b, const char *key, struct web_response *rs)
{
    const char *v = json_string_value(json_object_get(b, key));
    if (!v || !*v)
        web_error(rs, 400, "%s: a non-empty string is required", key);
    return v && *v ? v : NULL;
}

/* The name as a user would have it (NFKC; the CLI's rules): false when no user can. */
static bool login_name(const char *given, char out[WEB_NAME_MAX])
{
    struct errbuf e;
    FILE *errs = errbuf_open(&e, NULL);
    bool ok = errs && ledger_user_name_normalize(given, out, errs) == LEDGER_OK &&
              ledger_user_check(out, "nurse", NULL, errs) == LEDGER_OK;
    errbuf_free(&e);
    return ok;
}

static void h_login(struct web_request *rq, struct web_response *rs)
{
    static const char *const keys[] = {"name", "password", NULL};
    json_t *b = web_body_object(rq, rs, keys);
    struct attempt a = {.rq = rq, .rs = rs, .s = rq->sessions};
    const char *given;
    if (!b)
        return;
    if (!(given = string_field(b, "name", rs)) || !(a.password = string_field(b, "password", rs)))
        goto out;
    /* Login needs no session: a name no user can have is refused before it reaches
     * the audit log or the throttle's tables. */
    if (!login_name(given, a.name)) {
        web_error(rs, 400, "name: not a user name");
        goto out;
    }
    if (!(a.l = web_ledger(rq, rs)))
        goto out;
    client_address(rq->conn, &a);
    if (!throttle_admits(&a))
        goto out;
    struct user_row row;
    int found = 0;
    if (ledger_user_find(a.l, a.name, &row, &found) < 0)
        web_error(rs, 503, "the ledger cannot be read now; try again");
    else
        login_check(&a, found ? &row : NULL);
    pthread_mutex_lock(&a.s->lock);
    throttle_release(a.s->throttle, a.name, a.addr);
    pthread_mutex_unlock(&a.s->lock);
    sodium_memzero(&row, sizeof row);
out:
    json_decref(b);
}

void web_sessions_forget_name(struct web_sessions *s, const char *name)
{
    pthread_mutex_lock(&s->lock);
    throttle_forget_name(s->throttle, name);
    pthread_mutex_unlock(&s->lock);
}

static void h_logout(struct web_request *rq, struct web_response *rs)
{
    char name[WEB_NAME_MAX] = "";
    if (session_remove(rq->sessions, rq->conn, name, sizeof name)) {
        struct attempt a = {0};
        client_address(rq->conn, &a);
        struct ledger *l = web_ledger(rq, rs);
        if (l)
            ledger_audit(l, name, "logout", name, a.from);
    }
    char cookie[128];
    snprintf(cookie, sizeof cookie, COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
             rq->tls ? "; Secure" : "");
    web_header(rs, "Set-Cookie", cookie);
    web_json(rs, 204, NULL);
}

static void h_session(struct web_request *rq, struct web_response *rs)
{
    struct web_user u;
    char csrf[TOKEN_LEN];
    /* The server checked the session against the ledger before this (ROLES_ALL):
     * this only reads the CSRF token back. */
    if (!web_session_user(rq->sessions, rq->conn, &u, csrf, sizeof csrf)) {
        web_error(rs, 401, "not logged in, or the session expired");
        return;
    }
    web_json(rs, 200, session_json(&u, csrf));
}

/* The users API (administrators) is web_users.c's: web_users_routes. */
const struct web_route web_auth_routes[] = {
    {"POST", "/api/v1/login", 0, false, h_login},
    {"POST", "/api/v1/logout", ROLES_ALL, true, h_logout},
    {"GET", "/api/v1/session", ROLES_ALL, false, h_session},
    {NULL, NULL, 0, false, NULL},
};
