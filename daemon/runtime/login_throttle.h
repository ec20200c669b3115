/* Login throttling of the nurse's page and the bureau's page (docs/web-api-auth.md,
 * "Login throttling"; in the runtime so that both servers share it): failed
 * logins are counted per (name, client address) and per client address, never per
 * name alone, so a stranger elsewhere cannot block a user's own logins. Names that are
 * users and names that are not are kept alike (the table does not know which is
 * which), so the state cannot tell a name exists. Also the audit budget: failed and
 * refused logins beyond a few a minute are summed up in one audit row.
 *
 * Pure bookkeeping: the caller passes the monotonic time and serialises the calls
 * (web_auth.c, bureau/page/bpage_auth.c hold their sessions mutex); unit-tested with a fake clock. */
#ifndef GS_LOGIN_THROTTLE_H
#define GS_LOGIN_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define THROTTLE_PAIR_FAILS 5        /* failures in a row of (name, address) that block it */
#define THROTTLE_ADDR_FAILS 20       /* failures from one address (any names) that block it */
#define THROTTLE_BLOCK_FIRST_MS (60 * 1000)       /* doubling with each further failure */
#define THROTTLE_BLOCK_MAX_MS (15 * 60 * 1000)
#define THROTTLE_FORGET_MS (60 * 60 * 1000)       /* a quiet hour: the count starts again */
#define THROTTLE_ADDR_INFLIGHT 4     /* logins in progress at once from one address */
#define THROTTLE_PAIRS 2048
#define THROTTLE_ADDRS 512
#define THROTTLE_AUDIT_WINDOW_MS (60 * 1000)
#define THROTTLE_AUDIT_ROWS 10       /* rows of their own per window; the rest are summed up */
#define THROTTLE_AUDIT_SUMMARY_MS (10 * 1000) /* at most one summary row per 10 s */
#define THROTTLE_KEY_MAX 64          /* bytes of a name or address key, with the NUL */

struct throttle;

struct throttle *throttle_new(void);
void throttle_free(struct throttle *t);

enum throttle_verdict {
    THROTTLE_GO,        /* check the password; throttle_release must follow */
    THROTTLE_BLOCKED,   /* the pair or the address is blocked: *retry_ms to wait */
    THROTTLE_BUSY_NAME, /* a login of this name from this address is in progress */
    THROTTLE_BUSY_ADDR, /* THROTTLE_ADDR_INFLIGHT logins from this address are */
};

/* Before a password check of `name` from `addr` at `now` (ms, monotonic). */
enum throttle_verdict throttle_begin(struct throttle *t, const char *name, const char *addr,
                                     int64_t now, int64_t *retry_ms);

/* Whether no failed login from `addr` is on record (its password checks may go
 * before those of addresses that have failed). */
bool throttle_address_clean(struct throttle *t, const char *addr, int64_t now);

enum throttle_result { THROTTLE_RIGHT, THROTTLE_WRONG, THROTTLE_NOT_CHECKED };

struct throttle_outcome {
    int pair_fails, addr_fails;  /* in a row, after this one */
    int64_t delay_ms;            /* to wait before answering a failure */
    int64_t blocked_ms;          /* > 0: this failure blocked the pair or address for so long */
};

/* After a THROTTLE_GO: the result counted (the login stays in progress). */
void throttle_record(struct throttle *t, const char *name, const char *addr,
                     enum throttle_result r, int64_t now, struct throttle_outcome *out);
/* After a THROTTLE_GO, once answered (after the delay): no longer in progress. */
void throttle_release(struct throttle *t, const char *name, const char *addr);

/* An administrator enabled the user or gave a new password: the name's counts and
 * blocks end at every address (the addresses' own counts stay). */
void throttle_forget_name(struct throttle *t, const char *name);

/* The audit budget: whether a failed or refused login from `addr` gets its own audit
 * row (true: the first THROTTLE_AUDIT_ROWS of a window) or only a place in the next
 * summary. A summary of the logins without a row of their own is due at most every
 * THROTTLE_AUDIT_SUMMARY_MS: then it is put in `summary` (else it is set to ""). At
 * most 10 + 6 rows a minute, whatever the traffic. */
bool throttle_audit(struct throttle *t, const char *addr, int64_t now, char *summary, size_t n);
/* The summary, if one is due (else ""): for a caller that writes no row of its own
 * now (a successful login). */
void throttle_audit_flush(struct throttle *t, int64_t now, char *summary, size_t n);

#endif
