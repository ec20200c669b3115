/* Shared by the web server's modules (web_server.c: HTTP, TLS, routing, static
 * files; web_auth.c: users, sessions, CSRF, lockout; web_api.c: the nurse's data
 * and actions; web_gates.c: the live gates). Not for the rest of the daemon. */
#ifndef GS_WEB_PRIVATE_H
#define GS_WEB_PRIVATE_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "gate_board.h"
#include "ledger.h"

struct web_sessions;
struct web_guard;

enum web_role { ROLE_NURSE, ROLE_TEACHER, ROLE_ADMIN, ROLE_GATE, ROLE_COUNT };
#define ROLE_BIT(r) (1u << (r))
#define ROLES_STAFF (ROLE_BIT(ROLE_NURSE) | ROLE_BIT(ROLE_TEACHER) | ROLE_BIT(ROLE_ADMIN))
#define ROLES_ALL (ROLES_STAFF | ROLE_BIT(ROLE_GATE))
const char *web_role_name(enum web_role r);   /* "nurse", ... */
int web_role_parse(const char *s);             /* -1 when unknown */

#define WEB_NAME_MAX 64

struct web_user {
    int64_t id;
    char name[WEB_NAME_MAX];
    enum web_role role;
    char class_name[WEB_NAME_MAX]; /* teachers: the one class they see; else "" */
};

#define WEB_MAX_PARAMS 4
#define WEB_MAX_BODY (64 * 1024) /* larger bodies: 413, nothing read further */

struct web_request {
    const char *method;                 /* "GET", "POST", ... */
    const char *path;                   /* "/api/v1/people/S1/recheck" */
    const char *param[WEB_MAX_PARAMS];  /* the route's ":x" segments, in order */
    int nparam;
    struct MHD_Connection *conn;        /* for web_query */
    const char *body;                   /* NUL-terminated; "" when none */
    size_t body_len;
    const struct web_user *user;        /* NULL on routes open to all */
    const struct config *cfg;
    struct gate_board *board;
    /* This request's own ledger connection, opened on first use (web_ledger). */
    struct ledger *ledger;
    bool tls;                           /* served over TLS (the cookie is Secure) */
    struct web_sessions *sessions;      /* the server's session store */
    struct web_guard *guard;            /* the stream budget (web_guard.h) */
};

struct web_response {
    int status;                         /* 0 until a handler sets it */
    const char *content_type;           /* NULL: application/json; charset=utf-8 */
    char *body;                         /* malloc'd, freed by the server */
    size_t len;
    char header_name[2][32];            /* extra headers (Set-Cookie, Content-Disposition) */
    char header_value[2][512];
    int nheaders;
    struct MHD_Response *stream;        /* a handler's own response (event stream) */
};

typedef void (*web_handler)(struct web_request *rq, struct web_response *rs);

struct web_route {
    const char *method;     /* "GET" or "POST" */
    const char *pattern;    /* "/api/v1/people/:id/recheck": ":x" matches one segment */
    unsigned roles;         /* ROLE_BIT mask allowed; 0 = no login needed */
    bool csrf;              /* state-changing: the X-CSRF-Token header must match */
    web_handler fn;
};

/* Each module's routes, ending with {NULL}. */
extern const struct web_route web_auth_routes[];
extern const struct web_route web_api_routes[];
extern const struct web_route web_gates_routes[];
extern const struct web_route web_users_routes[]; /* web_users.c: administrators */
extern const struct web_route web_visitors_routes[]; /* web_visitors.c: gate staff */

/* ---- helpers for handlers (web_server.c) ---------------------------------------- */

/* Sets a JSON body (steals j; NULL = {}), status and content type. */
void web_json(struct web_response *rs, int status, json_t *j);
/* {"error": "..."} with status. */
void web_error(struct web_response *rs, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The request body as a JSON object whose keys are all in `allowed` (NULL-ended);
 * on bad JSON, a non-object or an unknown key: NULL and a 400 with a message
 * naming the problem (and the line:column for bad JSON). The caller json_decref's. */
json_t *web_body_object(struct web_request *rq, struct web_response *rs,
                        const char *const *allowed);
/* A query argument, or NULL. */
const char *web_query(struct web_request *rq, const char *key);
/* The request's ledger connection (opened on first call; closed by the server
 * after the response). NULL and a 503 set when it cannot be opened. */
struct ledger *web_ledger(struct web_request *rq, struct web_response *rs);
/* Adds a header to the response (at most 2). */
void web_header(struct web_response *rs, const char *name, const char *value);
/* Teachers are scoped to their class: whether the user may see or act on a
 * person of `class_name`. */
bool web_may_see_class(const struct web_user *u, const char *class_name);

/* ---- sessions (web_auth.c), used by web_server.c --------------------------------- */

struct web_sessions;
struct web_sessions *web_sessions_new(const struct config *cfg);
void web_sessions_free(struct web_sessions *s);
/* The user of the request's session cookie, refreshed (idle expiry); false when
 * none or expired. `csrf_out` (may be NULL) receives the session's CSRF token. */
bool web_session_user(struct web_sessions *s, struct MHD_Connection *conn,
                      struct web_user *out, char *csrf_out, size_t csrf_size);
/* web_session_user, then the user as the ledger has it now (rq's connection, see
 * web_ledger): still active, same role, class and password — otherwise all that
 * user's sessions end. 0, or -1 with a 401 (503: no ledger) set in rs. */
int web_session_require(struct web_request *rq, struct web_response *rs, struct web_user *out,
                        char *csrf_out, size_t csrf_size);
/* web_session_require without refreshing the idle timer: for an open event stream,
 * which is not activity (issue 16). 0, or -1 with a 401 (503: no ledger) in rs. */
int web_session_recheck(struct web_request *rq, struct web_response *rs, struct web_user *out);
/* At shutdown: logins waiting out a failed-login delay answer at once. */
void web_sessions_close(struct web_sessions *s);
/* Ends every session of the user (disabled, new password). */
void web_sessions_end_user(struct web_sessions *s, int64_t user_id);
/* An administrator enabled the user or gave a new password: the failed-login
 * throttle of that name ends at every address (login_throttle.h). */
void web_sessions_forget_name(struct web_sessions *s, const char *name);
/* argon2id (libsodium crypto_pwhash_str, interactive limits), at most 2 at once
 * (64 MiB each): 0, or -1 when busy or out of memory. */
#define WEB_PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES */
int web_password_hash(struct web_sessions *s, const char *password,
                      char out[WEB_PASSWORD_HASH_MAX]);

#endif
