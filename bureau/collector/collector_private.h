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

/* Outcomes counted for the log. */
enum collector_count { CC_STORED, CC_DUPLICATE, CC_REFUSED, CC_QUARANTINED, CC_UNAVAILABLE,
                       CC_COUNT };

struct collector {
    struct MHD_Daemon *mhd;
    struct bstore_pool *pool;
    struct intake *intake;
    char instance[64];
    atomic_long max_body;           /* live: a reload sets it */
    atomic_ullong count[CC_COUNT];
    char *cert, *key, *trust;       /* PEM text; MHD keeps pointers to them */
    size_t key_len;
    /* The read API's (collector_read.c): replaced whole on reload, under read_lock. */
    pthread_mutex_t read_lock;
    struct pull_auth *pull;
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
    long long announced;         /* Content-Length; -1 none or chunked */
    char *body;
    size_t len, cap, drained;
    bool too_big, answered;
    int64_t t0_ms;
};

/* The answer to an upload whose body is in (collector_upload.c): status, JSON body
 * (malloc'ed) and whether to add Retry-After. */
struct canswer {
    int status;
    char *json;
    bool retry_after;
    bool challenge;              /* a 401 of the read API: WWW-Authenticate: Bearer */
};
void collector_upload(struct creq *r, struct canswer *a);
/* Sends the answer (collector.c); the read routes' way out too. */
enum MHD_Result collector_send(struct creq *r, struct MHD_Connection *conn, struct canswer *a);

/* The read API (collector_read.c): its state, and the gate each read route passes
 * first (GET, a pull token: pull_auth.h). The gate answers a refusal into *a and
 * returns -1; 0 with the reader's name and the deadlines in force. */
int collector_read_start(struct collector *c, const struct bconfig *cfg, FILE *errs);
void collector_read_reload(struct collector *c, const struct bconfig *cfg);
void collector_read_stop(struct collector *c);
int collector_read_gate(struct creq *r, struct MHD_Connection *conn, struct canswer *a,
                        char reader[PULL_READER_LEN], struct bcfg_deadlines *deadlines);
/* GET /v1/missing (collector_missing.c). */
enum MHD_Result collector_missing(struct creq *r, struct MHD_Connection *conn);

#endif
