/* Login throttling and the audit budget (web_throttle.h). Fixed tables: when one is
 * full, the entry that matters least goes (the one whose last failure and block end
 * lie furthest back), the same for every name, user or not. */
#include "web_throttle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_ADDRS 16 /* addresses named in a summary's count */

/* Failures of one name from one address. */
struct pair {
    char name[THROTTLE_KEY_MAX], addr[THROTTLE_KEY_MAX];
    int fails;
    bool inflight;
    int64_t last_ms, blocked_until;
};

/* Failures from one address, whatever the names. */
struct addr {
    char addr[THROTTLE_KEY_MAX];
    int fails, inflight;
    int64_t last_ms, blocked_until;
};

/* The audit budget: rows of their own in the current window, and the logins since
 * the last summary that got none. */
struct audit_window {
    int64_t start;
    int rows;
    int64_t since;              /* the first login not written one by one */
    int unwritten, naddrs, other_addrs;
    char addr[AUDIT_ADDRS][THROTTLE_KEY_MAX];
    int count[AUDIT_ADDRS];
};

struct throttle {
    struct pair pairs[THROTTLE_PAIRS];
    struct addr addrs[THROTTLE_ADDRS];
    struct audit_window audit;
};

struct throttle *throttle_new(void)
{
    return calloc(1, sizeof(struct throttle));
}

void throttle_free(struct throttle *t)
{
    free(t);
}

static int64_t later(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* How long `fails` failures block, once `limit` are reached: doubling, capped. */
static int64_t block_ms(int fails, int limit)
{
    int64_t ms = THROTTLE_BLOCK_FIRST_MS;
    for (int i = limit; i < fails && ms < THROTTLE_BLOCK_MAX_MS; i++)
        ms *= 2;
    return ms < THROTTLE_BLOCK_MAX_MS ? ms : THROTTLE_BLOCK_MAX_MS;
}

/* A quiet hour (and no block) ends a count. */
static void forget_old(int *fails, int64_t last_ms, int64_t blocked_until, int64_t now)
{
    if (now - last_ms > THROTTLE_FORGET_MS && blocked_until <= now)
        *fails = 0;
}

/* ---- the tables ----------------------------------------------------------------- */

static bool key_is(const char *slot, const char *key)
{
    return slot[0] && strcmp(slot, key) == 0;
}

static void key_set(char *slot, const char *key)
{
    snprintf(slot, THROTTLE_KEY_MAX, "%s", key);
}

/* What an entry is worth keeping: empty ones nothing; else the later of its last
 * failure and its block's end. */
static int64_t worth(const char *key, int64_t last_ms, int64_t blocked_until)
{
    return key[0] ? later(last_ms, blocked_until) : INT64_MIN;
}

/* The pair's entry, made when absent (replacing the one worth least that has no
 * login in progress); NULL when every entry has one. */
static struct pair *pair_of(struct throttle *t, const char *name, const char *addr, bool make)
{
    struct pair *spare = NULL;
    for (int i = 0; i < THROTTLE_PAIRS; i++) {
        struct pair *p = &t->pairs[i];
        if (key_is(p->name, name) && strcmp(p->addr, addr) == 0)
            return p;
        if (!p->inflight && (!spare || worth(p->name, p->last_ms, p->blocked_until) <
                                           worth(spare->name, spare->last_ms,
                                                 spare->blocked_until)))
            spare = p;
    }
    if (!make || !spare)
        return NULL;
    *spare = (struct pair){0};
    key_set(spare->name, name);
    key_set(spare->addr, addr);
    return spare;
}

static struct addr *addr_of(struct throttle *t, const char *addr, bool make)
{
    struct addr *spare = NULL;
    for (int i = 0; i < THROTTLE_ADDRS; i++) {
        struct addr *a = &t->addrs[i];
        if (key_is(a->addr, addr))
            return a;
        if (!a->inflight && (!spare || worth(a->addr, a->last_ms, a->blocked_until) <
                                           worth(spare->addr, spare->last_ms,
                                                 spare->blocked_until)))
            spare = a;
    }
    if (!make || !spare)
        return NULL;
    *spare = (struct addr){0};
    key_set(spare->addr, addr);
    return spare;
}

/* ---- a login -------------------------------------------------------------------- */

enum throttle_verdict throttle_begin(struct throttle *t, const char *name, const char *addr,
                                     int64_t now, int64_t *retry_ms)
{
    *retry_ms = 0;
    struct addr *a = addr_of(t, addr, true);
    if (!a)
        return THROTTLE_BUSY_ADDR;
    struct pair *p = pair_of(t, name, addr, true);
    if (!p)
        return THROTTLE_BUSY_ADDR;
    int64_t until = later(a->blocked_until, p->blocked_until);
    if (until > now) {
        *retry_ms = until - now;
        return THROTTLE_BLOCKED;
    }
    if (p->inflight)
        return THROTTLE_BUSY_NAME;
    if (a->inflight >= THROTTLE_ADDR_INFLIGHT)
        return THROTTLE_BUSY_ADDR;
    p->inflight = true;
    a->inflight++;
    return THROTTLE_GO;
}

/* The growing answer delay of the count-th failure in a row: 250 ms doubling, at
 * most 4 s. */
static int64_t answer_delay(int count)
{
    int64_t ms = 250;
    for (int i = 1; i < count && ms < 4000; i++)
        ms *= 2;
    return ms < 4000 ? ms : 4000;
}

/* A failure at `now`: the count, and the block it may start. */
static int64_t count_failure(int *fails, int64_t *last_ms, int64_t *blocked_until, int limit,
                             int64_t now)
{
    forget_old(fails, *last_ms, *blocked_until, now);
    (*fails)++;
    *last_ms = now;
    if (*fails < limit)
        return 0;
    *blocked_until = now + block_ms(*fails, limit);
    return *blocked_until - now;
}

void throttle_record(struct throttle *t, const char *name, const char *addr,
                     enum throttle_result r, int64_t now, struct throttle_outcome *out)
{
    *out = (struct throttle_outcome){0};
    struct pair *p = pair_of(t, name, addr, false);
    struct addr *a = addr_of(t, addr, false);
    if (!p || !a || r == THROTTLE_NOT_CHECKED)
        return;
    if (r == THROTTLE_RIGHT) {
        /* Only the pair: someone with an account of their own must not be able to
         * wipe their address's count by logging in between guesses. */
        p->fails = 0;
        p->blocked_until = 0;
        return;
    }
    int64_t pb = count_failure(&p->fails, &p->last_ms, &p->blocked_until, THROTTLE_PAIR_FAILS,
                               now);
    int64_t ab = count_failure(&a->fails, &a->last_ms, &a->blocked_until, THROTTLE_ADDR_FAILS,
                               now);
    out->pair_fails = p->fails;
    out->addr_fails = a->fails;
    out->delay_ms = answer_delay(p->fails);
    out->blocked_ms = later(pb, ab);
}

void throttle_release(struct throttle *t, const char *name, const char *addr)
{
    struct pair *p = pair_of(t, name, addr, false);
    struct addr *a = addr_of(t, addr, false);
    if (p)
        p->inflight = false;
    if (a && a->inflight > 0)
        a->inflight--;
}

void throttle_forget_name(struct throttle *t, const char *name)
{
    for (int i = 0; i < THROTTLE_PAIRS; i++) {
        struct pair *p = &t->pairs[i];
        if (key_is(p->name, name)) {
            p->fails = 0;
            p->blocked_until = 0;
        }
    }
}

/* ---- the audit budget ------------------------------------------------------------ */

static void window_summary(const struct audit_window *w, int64_t now, char *out, size_t n)
{
    int most = 0;
    for (int i = 1; i < w->naddrs; i++)
        if (w->count[i] > w->count[most])
            most = i;
    snprintf(out, n, "%d failed or refused logins in %lld s not written one by one; from %d%s "
             "addresses, most from %s (%d)", w->unwritten, (long long)((now - w->since) / 1000),
             w->naddrs + w->other_addrs, w->other_addrs ? " or more" : "",
             w->naddrs ? w->addr[most] : "?", w->naddrs ? w->count[most] : 0);
}

void throttle_audit_flush(struct throttle *t, int64_t now, char *summary, size_t n)
{
    struct audit_window *w = &t->audit;
    summary[0] = '\0';
    if (w->unwritten == 0 || now - w->since < THROTTLE_AUDIT_SUMMARY_MS)
        return;
    window_summary(w, now, summary, n);
    w->unwritten = w->naddrs = w->other_addrs = 0;
}

static void window_count(struct audit_window *w, const char *addr, int64_t now)
{
    if (w->unwritten++ == 0)
        w->since = now;
    for (int i = 0; i < w->naddrs; i++)
        if (strcmp(w->addr[i], addr) == 0) {
            w->count[i]++;
            return;
        }
    if (w->naddrs == AUDIT_ADDRS) {
        w->other_addrs++; /* distinct or not: "or more" */
        return;
    }
    key_set(w->addr[w->naddrs], addr);
    w->count[w->naddrs++] = 1;
}

bool throttle_audit(struct throttle *t, const char *addr, int64_t now, char *summary, size_t n)
{
    struct audit_window *w = &t->audit;
    throttle_audit_flush(t, now, summary, n);
    if (w->rows == 0 || now - w->start >= THROTTLE_AUDIT_WINDOW_MS) {
        w->start = now;
        w->rows = 0;
    }
    if (w->rows < THROTTLE_AUDIT_ROWS) {
        w->rows++;
        return true;
    }
    window_count(w, addr, now);
    return false;
}
