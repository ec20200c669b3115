/* Users, sessions and logins of the web page (docs/web-api-auth.md): sessions in
 * memory under one mutex; passwords checked with argon2id (libsodium); a growing
 * delay and a lockout after failed logins, the same for names that do not exist,
 * so that names cannot be probed. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "errbuf.h"
#include "ledger_users.h"
#include "log.h"
#include "web_private.h"

#define SESSIONS_MAX 1024
#define TOKEN_BYTES 32
#define TOKEN_LEN 44                /* base64url of 32 bytes, no padding, + NUL */
#define STAMP_BYTES 16
#define FAILS_TO_LOCK 5
#define LOCK_MS (15 * 60 * 1000)
#define DELAY_FIRST_MS 250
#define DELAY_MAX_MS 4000
#define STRANGERS 256               /* unknown names whose failures are remembered */
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

/* Failed logins of a name that is not a user: counted like a user's. */
struct stranger {
    char name[WEB_NAME_MAX];
    int failed;
    int64_t locked_until_ms, seen_ms; /* wall clock, monotonic */
};

#define INFLIGHT_MAX 64

struct web_sessions {
    const struct config *cfg;
    pthread_mutex_t lock;
    pthread_cond_t wake;            /* ends login delays at shutdown */
    bool closing;
    sem_t hashers;
    char dummy_hash[crypto_pwhash_STRBYTES]; /* verified for unknown names: same time */
    int n;
    struct session s[SESSIONS_MAX];
    struct stranger strangers[STRANGERS];
    /* Names with a login in progress: one at a time per name, so parallel guesses
     * cannot outrun the failure count and its lockout. */
    char inflight[INFLIGHT_MAX][WEB_NAME_MAX];
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
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &attr);
    pthread_condattr_destroy(&attr);
    sem_init(&s->hashers, 0, HASHERS);
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
    sem_destroy(&s->hashers);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    sodium_memzero(s->s, sizeof s->s);
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

/* A new session; when the store is full the one unused longest goes. */
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
    if (s->n == SESSIONS_MAX) {
        int oldest = 0;
        for (int i = 1; i < s->n; i++)
            if (s->s[i].used_ms < s->s[oldest].used_ms)
                oldest = i;
        drop_at(s, oldest);
    }
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

/* Waits for one of the HASHERS slots; false when the server is too busy. */
static bool hasher_take(struct web_sessions *s)
{
    /* monotonic: a wall-clock step must not shorten the wait */
    struct timespec until = clock_mono_deadline(HASHER_WAIT_S * 1000);
    while (sem_clockwait(&s->hashers, CLOCK_MONOTONIC, &until) < 0)
        if (errno != EINTR)
            return false;
    return true;
}

/* 1 right, 0 wrong, -1 busy. */
static int verify(struct web_sessions *s, const char *hash, const char *password)
{
    if (!hasher_take(s))
        return -1;
    int ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
    sem_post(&s->hashers);
    return ok;
}

int web_password_hash(struct web_sessions *s, const char *password,
                      char out[WEB_PASSWORD_HASH_MAX])
{
    if (!hasher_take(s))
        return -1;
    int rc = crypto_pwhash_str(out, password, strlen(password),
                               crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE);
    sem_post(&s->hashers);
    return rc == 0 ? 0 : -1;
}

/* The growing answer delay of the count-th failure in a row: 250 ms doubling, at
 * most 4 s. Slept in the connection's own thread; shutdown ends it. */
static void failure_delay(struct web_sessions *s, int count)
{
    int64_t ms = DELAY_FIRST_MS;
    for (int i = 1; i < count && ms < DELAY_MAX_MS; i++)
        ms *= 2;
    if (ms > DELAY_MAX_MS)
        ms = DELAY_MAX_MS;
    struct timespec until = clock_mono_deadline(ms);
    pthread_mutex_lock(&s->lock);
    while (!s->closing && pthread_cond_timedwait(&s->wake, &s->lock, &until) == 0)
        ;
    pthread_mutex_unlock(&s->lock);
}

/* ---- unknown names --------------------------------------------------------------------- */

/* Under the lock: the name's entry, made (replacing the one seen longest ago). */
static struct stranger *stranger_locked(struct web_sessions *s, const char *name)
{
    struct stranger *oldest = &s->strangers[0];
    for (int i = 0; i < STRANGERS; i++) {
        struct stranger *x = &s->strangers[i];
        if (x->name[0] && strcmp(x->name, name) == 0)
            return x;
        if (!x->name[0] || (oldest->name[0] && x->seen_ms < oldest->seen_ms))
            oldest = x;
    }
    *oldest = (struct stranger){0};
    snprintf(oldest->name, sizeof oldest->name, "%s", name);
    return oldest;
}

/* Like ledger_user_login_failed for a name that is no user. `count` 0: only read
 * the lock. */
static void stranger_fail(struct web_sessions *s, const char *name, int64_t now, bool count,
                          int *failed, int64_t *locked_until)
{
    pthread_mutex_lock(&s->lock);
    struct stranger *x = stranger_locked(s, name);
    x->seen_ms = clock_mono_ms();
    if (count) {
        if (x->locked_until_ms && x->locked_until_ms <= now) {
            x->failed = 0;
            x->locked_until_ms = 0;
        }
        if (++x->failed >= FAILS_TO_LOCK && x->locked_until_ms <= now)
            x->locked_until_ms = now + LOCK_MS;
    }
    *failed = x->failed;
    *locked_until = x->locked_until_ms;
    pthread_mutex_unlock(&s->lock);
}

/* ---- login ---------------------------------------------------------------------------- */

struct attempt {
    struct web_request *rq;
    struct web_response *rs;
    struct ledger *l;
    const char *name, *password;
    char from[80];               /* "from ADDRESS", for the audit log */
    int64_t now;                 /* wall clock */
};

static void client_address(struct MHD_Connection *conn, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char addr[INET6_ADDRSTRLEN] = "?";
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, addr,
                  sizeof addr);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, addr,
                  sizeof addr);
    snprintf(out, n, "from %s", addr);
}

static void locked_answer(struct attempt *a, int64_t locked_until)
{
    int64_t left = (locked_until - a->now + 999) / 1000;
    json_t *j = json_pack("{s:s, s:I}", "error",
                          "too many failed logins: this account is locked for a while",
                          "retry_after_s", (json_int_t)(left > 0 ? left : 1));
    web_json(a->rs, 429, j);
}

/* After a failed check: the count, the delay, then 401 or 429 (it just locked). */
static void failed_answer(struct attempt *a, int count, int64_t locked_until)
{
    failure_delay(a->rq->sessions, count);
    if (locked_until > a->now)
        locked_answer(a, locked_until);
    else
        web_error(a->rs, 401, WRONG);
}

static void refused_locked(struct attempt *a, const char *actor, int64_t locked_until)
{
    char detail[160];
    snprintf(detail, sizeof detail, "account locked; %s", a->from);
    ledger_audit(a->l, actor, "login refused", a->name, detail);
    failure_delay(a->rq->sessions, FAILS_TO_LOCK);
    locked_answer(a, locked_until);
}

/* A name that is no user: the same work, delays and answers as a wrong password. */
static void login_stranger(struct attempt *a)
{
    int failed;
    int64_t until;
    stranger_fail(a->rq->sessions, a->name, a->now, false, &failed, &until);
    if (until > a->now) {
        refused_locked(a, a->name, until);
        return;
    }
    if (verify(a->rq->sessions, a->rq->sessions->dummy_hash, a->password) < 0) {
        web_error(a->rs, 503, "the server is busy; try again");
        return;
    }
    stranger_fail(a->rq->sessions, a->name, a->now, true, &failed, &until);
    char detail[160];
    snprintf(detail, sizeof detail, "%d in a row; no such user; %s", failed, a->from);
    ledger_audit(a->l, a->name, "login failed", a->name, detail);
    if (until > a->now)
        ledger_audit(a->l, a->name, "login locked", a->name, detail);
    failed_answer(a, failed, until);
}

static json_t *session_json(const struct web_user *u, const char *csrf)
{
    return json_pack("{s:{s:s, s:s, s:s}, s:s}", "user", "name", u->name, "role",
                     web_role_name(u->role), "class", u->class_name, "csrf", csrf);
}

static void login_ok(struct attempt *a, const struct user_row *row)
{
    struct web_user u = {.id = row->id, .role = (enum web_role)web_role_parse(row->role)};
    snprintf(u.name, sizeof u.name, "%s", row->name);
    snprintf(u.class_name, sizeof u.class_name, "%s", row->class_name);
    if (ledger_user_login_ok(a->l, row->id, a->from) < 0) {
        web_error(a->rs, 503, "the ledger cannot be written now; try again");
        return;
    }
    char id[TOKEN_LEN], csrf[TOKEN_LEN], cookie[128];
    unsigned char stamp[STAMP_BYTES];
    stamp_of(row->password_hash, stamp);
    char old[WEB_NAME_MAX];
    session_remove(a->rq->sessions, a->rq->conn, old, sizeof old); /* a new login, a new id */
    session_add(a->rq->sessions, &u, stamp, id, csrf);
    snprintf(cookie, sizeof cookie, COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s", id,
             a->rq->tls ? "; Secure" : "");
    web_header(a->rs, "Set-Cookie", cookie);
    web_json(a->rs, 200, session_json(&u, csrf));
    sodium_memzero(id, sizeof id);
}

static void login_user(struct attempt *a, const struct user_row *row)
{
    if (row->locked_until_ms > a->now) {
        refused_locked(a, row->name, row->locked_until_ms);
        return;
    }
    int ok = verify(a->rq->sessions, row->password_hash, a->password);
    if (ok < 0) {
        web_error(a->rs, 503, "the server is busy; try again");
        return;
    }
    if (ok && !row->active) {
        char detail[160];
        snprintf(detail, sizeof detail, "account disabled; %s", a->from);
        ledger_audit(a->l, row->name, "login refused", row->name, detail);
        web_error(a->rs, 403, "this account is disabled; ask an administrator");
        return;
    }
    if (ok && web_role_parse(row->role) >= 0) {
        login_ok(a, row);
        return;
    }
    int count;
    int64_t until;
    if (ledger_user_login_failed(a->l, row->id, a->now, FAILS_TO_LOCK, LOCK_MS, a->from,
                                 &count, &until) < 0) {
        web_error(a->rs, 503, "the ledger cannot be written now; try again");
        return;
    }
    failed_answer(a, count, until);
}

static const char *string_field(json_t *b, const char *key, struct web_response *rs)
{
    const char *v = json_string_value(json_object_get(b, key));
    if (!v || !*v)
        web_error(rs, 400, "%s: a non-empty string is required", key);
    return v && *v ? v : NULL;
}

/* Takes the name's login slot: false when a login for it is already in progress
 * (or too many are). */
static bool inflight_take(struct web_sessions *s, const char *name)
{
    int free_slot = -1;
    bool busy = false;
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < INFLIGHT_MAX && !busy; i++) {
        if (s->inflight[i][0] == '\0')
            free_slot = free_slot < 0 ? i : free_slot;
        else
            busy = strcmp(s->inflight[i], name) == 0;
    }
    bool taken = !busy && free_slot >= 0;
    if (taken)
        snprintf(s->inflight[free_slot], WEB_NAME_MAX, "%s", name);
    pthread_mutex_unlock(&s->lock);
    return taken;
}

static void inflight_give(struct web_sessions *s, const char *name)
{
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < INFLIGHT_MAX; i++)
        if (strcmp(s->inflight[i], name) == 0)
            s->inflight[i][0] = '\0';
    pthread_mutex_unlock(&s->lock);
}

/* Whether a user could have this name (the CLI's rules). */
static bool user_name_shape(const char *name)
{
    struct errbuf e;
    FILE *errs = errbuf_open(&e, NULL);
    bool ok = errs && strlen(name) < WEB_NAME_MAX &&
              ledger_user_check(name, "nurse", NULL, errs) == LEDGER_OK;
    errbuf_free(&e);
    return ok;
}

static void h_login(struct web_request *rq, struct web_response *rs)
{
    static const char *const keys[] = {"name", "password", NULL};
    json_t *b = web_body_object(rq, rs, keys);
    struct attempt a = {.rq = rq, .rs = rs, .now = clock_wall_ms()};
    if (!b)
        return;
    if (!(a.name = string_field(b, "name", rs)) || !(a.password = string_field(b, "password", rs)))
        goto out;
    /* Login needs no session: a name no user can have is refused before it reaches
     * the audit log, so nobody can fill the ledger with junk. */
    if (!user_name_shape(a.name)) {
        web_error(rs, 400, "name: not a user name");
        goto out;
    }
    if (!(a.l = web_ledger(rq, rs)))
        goto out;
    if (!inflight_take(rq->sessions, a.name)) {
        web_error(rs, 429, "another login for this name is in progress; try again");
        goto out;
    }
    client_address(rq->conn, a.from, sizeof a.from);
    struct user_row row;
    int found = 0;
    /* Read after taking the slot: the previous attempt's count and lock are in. */
    if (ledger_user_find(a.l, a.name, &row, &found) < 0)
        web_error(rs, 503, "the ledger cannot be read now; try again");
    else if (found)
        login_user(&a, &row);
    else
        login_stranger(&a);
    inflight_give(rq->sessions, a.name);
    sodium_memzero(&row, sizeof row);
out:
    json_decref(b);
}

static void h_logout(struct web_request *rq, struct web_response *rs)
{
    char name[WEB_NAME_MAX] = "", from[80];
    if (session_remove(rq->sessions, rq->conn, name, sizeof name)) {
        client_address(rq->conn, from, sizeof from);
        struct ledger *l = web_ledger(rq, rs);
        if (l)
            ledger_audit(l, name, "logout", name, from);
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
