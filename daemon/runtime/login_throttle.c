/* Login throttling and the audit budget (login_throttle.h). Fixed tables: when one is
 * full, the entry that matters least goes (the one whose last failure and block end
 * lie furthest back), the same for every name, user or not. */
#include "login_throttle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_ADDRS 16 /* addresses named in a summary's count */

/* Failures of one name from one address (key "NAME\x1fADDRESS": a name has no
 * control character), or from one address whatever the names (key "ADDRESS"). */
struct entry {
    char key[2 * THROTTLE_KEY_MAX];
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
    struct entry pairs[THROTTLE_PAIRS];
    struct entry addrs[THROTTLE_ADDRS];
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

/* ---- the tables ----------------------------------------------------------------- */

static void key_set(char *slot, const char *key)
{
    snprintf(slot, THROTTLE_KEY_MAX, "%s", key);
}

/* What an entry is worth keeping: empty ones nothing; else the later of its last
 * failure and its block's end. */
static int64_t worth(const struct entry *e)
{
    return e->key[0] ? later(e->last_ms, e->blocked_until) : INT64_MIN;
}

/* The entry of `key` in tab[n], made when absent (replacing the one worth least that
 * has no login in progress); NULL when every entry has one. */
static struct entry *entry_of(struct entry *tab, int n, const char *key, bool make)
{
    struct entry *spare = NULL;
    for (int i = 0; i < n; i++) {
        struct entry *e = &tab[i];
        if (e->key[0] && strcmp(e->key, key) == 0)
            return e;
        if (!e->inflight && (!spare || worth(e) < worth(spare)))
            spare = e;
    }
    if (!make || !spare)
        return NULL;
    *spare = (struct entry){0};
    snprintf(spare->key, sizeof spare->key, "%s", key);
    return spare;
}

static struct entry *pair_of(struct throttle *t, const char *name, const char *addr, bool make)
{
    char key[2 * THROTTLE_KEY_MAX];
    snprintf(key, sizeof key, "%s\x1f%s", name, addr);
    return entry_of(t->pairs, THROTTLE_PAIRS, key, make);
}

static struct entry *addr_of(struct throttle *t, const char *addr, bool make)
{
    return entry_of(t->addrs, THROTTLE_ADDRS, addr, make);
}

/* ---- a login -------------------------------------------------------------------- */

enum throttle_verdict throttle_begin(struct throttle *t, const char *name, const char *addr,
                                     int64_t now, int64_t *retry_ms)
{
    *retry_ms = 0;
    struct entry *a = addr_of(t, addr, true);
    if (!a)
        return THROTTLE_BUSY_ADDR;
    struct entry *p = pair_of(t, name, addr, true);
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
    p->inflight = 1;
    a->inflight++;
    return THROTTLE_GO;
}

bool throttle_address_clean(struct throttle *t, const char *addr, int64_t now)
{
    const struct entry *a = addr_of(t, addr, false);
    return !a || a->fails == 0 ||
           (now - a->last_ms > THROTTLE_FORGET_MS && a->blocked_until <= now);
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

/* A failure at `now`: the count, and the block it may start (its length, or 0). */
static int64_t count_failure(struct entry *e, int limit, int64_t now)
{
    /* A quiet hour (and no block) ends a count. */
    if (now - e->last_ms > THROTTLE_FORGET_MS && e->blocked_until <= now)
        e->fails = 0;
    e->fails++;
    e->last_ms = now;
    if (e->fails < limit)
        return 0;
    e->blocked_until = now + block_ms(e->fails, limit);
    return e->blocked_until - now;
}

void throttle_record(struct throttle *t, const char *name, const char *addr,
                     enum throttle_result r, int64_t now, struct throttle_outcome *out)
{
    *out = (struct throttle_outcome){0};
    struct entry *p = pair_of(t, name, addr, false);
    struct entry *a = addr_of(t, addr, false);
    if (!p || !a || r == THROTTLE_NOT_CHECKED)
        return;
    if (r == THROTTLE_RIGHT) {
        /* Only the pair: someone with an account of their own must not be able to
         * wipe their address's count by logging in between guesses. */
        p->fails = 0;
        p->blocked_until = 0;
        return;
    }
    int64_t pb = count_failure(p, THROTTLE_PAIR_FAILS, now);
    int64_t ab = count_failure(a, THROTTLE_ADDR_FAILS, now);
    out->pair_fails = p->fails;
    out->addr_fails = a->fails;
    out->delay_ms = answer_delay(p->fails);
    out->blocked_ms = later(pb, ab);
}

void throttle_release(struct throttle *t, const char *name, const char *addr)
{
    struct entry *p = pair_of(t, name, addr, false);
    struct entry *a = addr_of(t, addr, false);
    if (p)
        p->inflight = 0;
    if (a && a->inflight > 0)
        a->inflight--;
}

void throttle_forget_name(struct throttle *t, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < THROTTLE_PAIRS; i++) {
        struct entry *p = &t->pairs[i];
        if (strncmp(p->key, name, n) == 0 && p->key[n] == '\x1f') {
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
