/* Shared by uploader.c, upload_creds.c and upload_request.c only: the uploader's
 * credentials and the state one request is sent with. Nothing else includes it;
 * the rest of the program sees uploader.h. */
#ifndef GS_UPLOAD_PRIVATE_H
#define GS_UPLOAD_PRIVATE_H

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "backoff.h"
#include "config.h"
#include "ledger_outbox.h"
#include "log.h"

#define RESPONSE_MAX 2048      /* of the server's answer, kept for the message */
#define IDLE_MS 1000           /* a pass at least this often: notices go at once */

/* ---- files (upload_creds.c) ------------------------------------------------------------ */

struct creds {
    char *token;          /* NULL without token_file */
    struct pseudonym *ps; /* NULL without secret_file */
};

/* Every file check, all problems reported; *c holds the token and key on success. */
int creds_load(const struct cfg_upstream *u, struct creds *c, FILE *errs);
/* Wipes the token and frees both; *c is empty after, and may be freed again. */
void creds_free(struct creds *c);

/* ---- one request (upload_request.c) ---------------------------------------------------- */

/* What a pass sends with: the thread's or the CLI's. */
struct sender {
    const struct config *cfg;
    const struct creds *creds;
    CURLM *multi;
    CURL *easy;
    const atomic_int *stop; /* NULL: nobody stops a CLI pass */
    /* Asked now and then during a summary's transfer: true sets the summary aside
     * (V_YIELDED) so that an urgent notice goes first. NULL: never. */
    bool (*notice_waiting)(struct sender *s);
    struct ledger *l;       /* the pass's ledger, for notice_waiting */
    char holder[OUTBOX_HOLDER_MAX]; /* this sender's name on the rows it holds */
    FILE *out;              /* the CLI's lines; NULL in the daemon, which logs */
    uint32_t rng;
    struct log_limit retry_log, held_log;
    /* A notice that cannot be built fails every pass until someone fixes the
     * cause: its reconciliation is backed off so the log is not flooded. */
    int64_t notices_due_ms; /* monotonic */
    struct backoff notices_backoff;
    char errbuf[CURL_ERROR_SIZE];
    char response[RESPONSE_MAX];
    size_t response_len;
};

enum verdict { V_SENT, V_RETRY, V_PARKED, V_STOPPED, V_YIELDED };

struct attempt {
    enum verdict verdict;
    long status;                   /* HTTP status, 0 when there was no answer */
    char error[OUTBOX_ERROR_MAX];  /* for last_error and the log */
};

static inline bool sender_stopping(const struct sender *s)
{
    return s->stop && atomic_load(s->stop);
}

/* One POST of one row; *a says what became of it (V_STOPPED: a stop was asked
 * during the transfer; V_YIELDED: a summary set aside for a notice; the row is
 * left as it was either way). */
void sender_post(struct sender *s, const struct outbox_item *it, struct attempt *a);

#endif
