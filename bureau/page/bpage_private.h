/* Private to bureau/page/: the server's state, one request, and what the server
 * (bpage_server.c), the logins and sessions (bpage_auth.c) and the views' API
 * (bpage_api.c) share. */
#ifndef GS_BPAGE_PRIVATE_H
#define GS_BPAGE_PRIVATE_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bpage.h"
#include "bstore_users.h"

#define BPAGE_MAX_BODY 65536
#define BPAGE_COOKIE "gsb_session"
#define BPAGE_POOL_WAIT_MS 5000
#define HASHES_AT_ONCE 2             /* argon2id checks at once: 64 MiB each */
#define EVENTS_PER_USER 4            /* live-notice streams of one user at once */
#define EVENTS_ALL 64                /* ... of everyone (a thread and a connection each) */

struct bpage_events;
struct bpage_sessions;
struct slots;
struct throttle;

struct bpage {
    struct MHD_Daemon *mhd;
    struct bstore_pool *pool;
    struct bpage_sessions *sessions;
    struct bpage_events *events;     /* the live notices' streams */
    struct throttle *throttle;       /* under auth_lock */
    pthread_mutex_t auth_lock;
    struct slots *hashers;           /* HASHES_AT_ONCE password checks, clean addresses first */
    char dummy_hash[PAGE_HASH_MAX];  /* checked for names that are no user */
    int64_t session_idle_ms, session_max_ms;
    pthread_mutex_t deadlines_lock;  /* a reload replaces them */
    struct bcfg_deadlines deadlines;
    char *cert, *key;
    size_t key_len;
};

/* The logged-in user of a request. */
struct bpage_user {
    long long id;
    enum page_role role;
    char name[USER_NAME_MAX];
    char county[PAGE_COUNTY_MAX];    /* a county officer's; else "" */
};

/* One request, from its headers to its answer. */
struct preq {
    struct bpage *p;
    const char *method;
    char path[256];
    char addr[64];                   /* the client's address, for the log and audit */
    char addr_key[64];               /* the throttle's: IPv4, or the IPv6 /64 */
    const struct bpage_route *route;
    struct bpage_user user;
    char session_id[64];
    char *body;
    size_t len, cap, drained;        /* drained: bytes of a refused body read and dropped */
    bool too_big, answered;
    int early_status;                /* refused at the headers: */
    char *early_json;                /* its answer, whole (malloc'ed) */
};

/* The answer: a status, a body (malloc'ed; JSON unless content_type says otherwise),
 * a cookie, a Retry-After, a Content-Disposition (a file to save: the CSVs). */
struct panswer {
    int status;
    char *json;
    const char *content_type;        /* NULL: JSON */
    struct MHD_Response *stream;     /* instead of the body: a stream (the live notices) */
    char disposition[128];
    char cookie[200];
    int retry_after;
};

#define ROLE_BIT(r) (1u << (r))
#define ROLES_ALL (ROLE_BIT(PAGE_CITY) | ROLE_BIT(PAGE_COUNTY) | ROLE_BIT(PAGE_AUDITOR) | \
                   ROLE_BIT(PAGE_ADMIN))
#define ROLES_ACK (ROLE_BIT(PAGE_CITY) | ROLE_BIT(PAGE_COUNTY))
#define ROLES_ADMIN ROLE_BIT(PAGE_ADMIN)

struct bpage_route {
    const char *method, *path;
    unsigned roles;                  /* 0: no session needed (login) */
    const char *csv;                 /* the table this route gives as CSV, or NULL */
    void (*fn)(struct preq *r, struct MHD_Connection *conn, struct panswer *a);
};

/* {"error": why} with status; also {"parameter"} when not NULL. */
void bpage_error(struct panswer *a, int status, const char *parameter, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* j (taken) as the 200 answer's body. */
void bpage_json(struct panswer *a, int status, json_t *j);
/* The request's JSON object body with only `fields` (NULL-terminated), each a
 * string: NULL with a 400 in a. The caller json_decref's it. */
json_t *bpage_body(struct preq *r, struct panswer *a, const char *const *fields);

/* The query string's parameters of `names` (NULL-terminated, at most 8) into v in
 * that order (NULL: not given): 0, or -1 with a 400 naming an unknown or repeated
 * one. */
int bpage_params(struct MHD_Connection *conn, const char *const *names, const char **v,
                 struct panswer *a);
/* The body written to *body (a memstream's, taken) as the 200 answer: JSON, or CSV
 * saved as `file`.csv when csv. */
void bpage_body_answer(struct panswer *a, char *body, bool csv, const char *file);
/* 503 with Retry-After: the database is away. */
void bpage_unavailable(struct panswer *a);
/* The county the user may ask about: a county officer's own (asking for another is
 * a 403), anyone else's choice (NULL: every county). 0, or -1 with the 403 in a. */
int bpage_scope(const struct preq *r, const char *asked, const char **county,
                struct panswer *a);

/* bpage_auth.c: sessions and logins. */
struct bpage_sessions *bpage_sessions_new(void);
void bpage_sessions_free(struct bpage_sessions *s);
/* The session of the request's cookie, checked against the user as the database has
 * it now (disabled, another role or county, a new password: the sessions end): 0
 * with r->user, or -1 with the 401 in a. */
int bpage_session_check(struct preq *r, struct MHD_Connection *conn, struct panswer *a,
                        char *csrf, size_t n);
void bpage_login(struct preq *r, struct MHD_Connection *conn, struct panswer *a);
void bpage_logout(struct preq *r, struct MHD_Connection *conn, struct panswer *a);
void bpage_session_get(struct preq *r, struct MHD_Connection *conn, struct panswer *a);
/* A new password's argon2id hash (in one of the password-check slots): 0, or -1
 * when none was free in time. */
int bpage_hash_password(struct bpage *p, const char *password, char hash[PAGE_HASH_MAX]);
/* One audit_log row with the user and address (logged when it cannot be written). */
void bpage_audit(struct bpage *p, const char *actor, const char *action, const char *target,
                 const char *detail);

/* bpage_api.c: the views. */
void bpage_today(struct preq *r, struct MHD_Connection *conn, struct panswer *a);
void bpage_notices(struct preq *r, struct MHD_Connection *conn, struct panswer *a);
void bpage_notice_ack(struct preq *r, struct MHD_Connection *conn, struct panswer *a);

/* bpage_figures.c: a day's figures (city, county, school) and the trends. */
void bpage_figures(struct preq *r, struct MHD_Connection *conn, struct panswer *a);
void bpage_trends(struct preq *r, struct MHD_Connection *conn, struct panswer *a);

/* bpage_events.c: the live notices (server-sent events). */
struct bpage_events *bpage_events_new(void);
/* Ends every stream within a second (before the server stops: it waits for them). */
void bpage_events_stop(struct bpage_events *e);
void bpage_events_free(struct bpage_events *e);
void bpage_events(struct preq *r, struct MHD_Connection *conn, struct panswer *a);

/* bpage_users.c: administrators' users API. */
void bpage_users_list(struct preq *r, struct MHD_Connection *conn, struct panswer *a);
void bpage_users_add(struct preq *r, struct MHD_Connection *conn, struct panswer *a);
void bpage_users_disable(struct preq *r, struct MHD_Connection *conn, struct panswer *a);
void bpage_users_enable(struct preq *r, struct MHD_Connection *conn, struct panswer *a);

#endif
