/* Private to bureau/collector/: the server's state and one request's, shared by
 * collector.c (the HTTP side) and collector_upload.c (what an upload does). */
#ifndef GS_COLLECTOR_PRIVATE_H
#define GS_COLLECTOR_PRIVATE_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "certid.h"
#include "collector.h"
#include "intake.h"
#include "pull_auth.h"
#include "rate_limit.h"

/* Outcomes counted for the log. */
enum collector_count { CC_STORED, CC_DUPLICATE, CC_REFUSED, CC_QUARANTINED, CC_UNAVAILABLE,
                       CC_RATE_LIMITED, CC_COUNT };

struct collector {
    struct MHD_Daemon *mhd;
    struct bstore_pool *pool;
    struct intake *intake;
    struct pull_auth *pull;         /* the pull API's tokens (collector_pull.c) */
    struct rate_limit *rate;        /* uploads per school and kind (live on reload) */
    char instance[64];
    atomic_long max_body;           /* live: a reload sets it */
    atomic_int rate_per_minute;     /* live: for the 429's message */
    atomic_ullong count[CC_COUNT];
    char *cert, *key, *trust;       /* PEM text; MHD keeps pointers to them */
    size_t key_len;
    pthread_mutex_t deadlines_lock; /* a reload replaces deadlines while requests read */
    struct bcfg_deadlines deadlines;
};

/* One request, from its headers to its answer. */
struct creq {
    struct collector *c;
    const char *method;          /* MHD's, valid for the whole request */
    char path[128];
    char peer_addr[64];          /* for the log */
    struct intake_headers h;     /* MHD's header values, valid for the whole request */
    enum doc_kind kind;
    const char *token;           /* in h.authorization */
    size_t token_len;
    struct certid cert;
    bool cert_ok;
    struct intake_verdict early; /* a refusal decided at the headers */
    int64_t rate_wait_ms;        /* > 0: over the school's rate; early is the 429 */
    long long announced;         /* Content-Length; -1 none or chunked */
    char *body;
    size_t len, cap, drained;
    bool too_big, answered;
    int64_t t0_ms;
    char pull_label[PULL_LABEL_LEN]; /* a pull: which token, for the log */
};

/* The answer to an upload whose body is in (collector_upload.c) or to a pull
 * (collector_pull.c): status, body (malloc'ed; JSON unless content_type says
 * otherwise), a Retry-After in seconds (0: none), a Content-Disposition and a
 * Bearer challenge (WWW-Authenticate). */
#define RETRY_AFTER_AWAY_S 5 /* the database is away: come back in a few seconds */
struct canswer {
    int status;
    char *json;
    int retry_after;
    const char *content_type;   /* NULL: application/json; charset=utf-8 */
    char disposition[160];      /* "": none */
    bool bearer_challenge;
};
void collector_upload(struct creq *r, struct canswer *a);

/* The pull API's routes (collector_pull.c): whether path is one, and its answer. */
bool collector_pull_route(const char *path);
void collector_pull(struct creq *r, struct MHD_Connection *conn, struct canswer *a);

/* What the pull routes and GET /v1/missing share (collector_pull.c): a refusal
 * {"error", "parameter"} (both scrubbed to UTF-8; 401 with a Bearer challenge, 503
 * with Retry-After), and the gate: GET only, then a [pull] token (logged when
 * refused). The gate is 0, or -1 with the refusal in *a. */
void collector_pull_refuse(struct canswer *a, int status, const char *parameter,
                           const char *why);
int collector_pull_gate(struct creq *r, struct MHD_Connection *conn, struct canswer *a);

/* GET /v1/missing (collector_missing.c): the missing-schools list, for a [pull]
 * token, no client certificate. */
void collector_missing(struct creq *r, struct MHD_Connection *conn, struct canswer *a);

#endif
