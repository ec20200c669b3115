/* Token buckets per key (rate_limit.h). Levels are kept in thousandths of a request
 * so the refill needs no floating point; a hash table with chaining finds the key. */
#include "rate_limit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MILLI 1000 /* one request, in bucket units */
#define NSLOTS 4096

struct bucket {
    struct bucket *next;
    int64_t level;   /* requests × MILLI available at `at` */
    int64_t at;      /* ms */
    uint64_t refused; /* refusals in a row */
    char key[RATE_LIMIT_KEY_MAX];
};

struct rate_limit {
    pthread_mutex_t lock;
    int per_minute, burst;
    int nkeys;
    struct bucket *slot[NSLOTS];
};

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a: short keys, no adversary (only enrolled schools) */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % NSLOTS;
}

struct rate_limit *rate_limit_new(int per_minute, int burst)
{
    struct rate_limit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    pthread_mutex_init(&rl->lock, NULL);
    rl->per_minute = per_minute;
    rl->burst = burst;
    return rl;
}

/* The bucket's level at now: refilled since `at`, capped at the burst. */
static int64_t level_at(const struct rate_limit *rl, const struct bucket *b, int64_t now)
{
    int64_t cap = (int64_t)rl->burst * MILLI;
    int64_t dt = now > b->at ? now - b->at : 0;
    if (dt > 1000000000) /* ~11 days refill any bucket; keeps the product in range */
        dt = 1000000000;
    int64_t refill = dt * rl->per_minute * MILLI / 60000;
    int64_t level = b->level + refill;
    return level < cap ? level : cap;
}

/* Forgets the buckets that are full at now: the same as never having seen them. */
static void forget_full(struct rate_limit *rl, int64_t now)
{
    int64_t cap = (int64_t)rl->burst * MILLI;
    for (int i = 0; i < NSLOTS; i++) {
        struct bucket **pp = &rl->slot[i];
        while (*pp) {
            struct bucket *b = *pp;
            if (level_at(rl, b, now) >= cap) {
                *pp = b->next;
                free(b);
                rl->nkeys--;
            } else {
                pp = &b->next;
            }
        }
    }
}

static struct bucket *find_or_add(struct rate_limit *rl, const char *key, int64_t now)
{
    char k[RATE_LIMIT_KEY_MAX];
    size_t n = strnlen(key, sizeof k - 1);
    memcpy(k, key, n);
    k[n] = '\0';
    uint32_t h = hash(k);
    for (struct bucket *b = rl->slot[h]; b; b = b->next)
        if (strcmp(b->key, k) == 0)
            return b;
    if (rl->nkeys >= RATE_LIMIT_KEYS_MAX)
        forget_full(rl, now);
    struct bucket *b = rl->nkeys < RATE_LIMIT_KEYS_MAX ? calloc(1, sizeof *b) : NULL;
    if (!b)
        return NULL;
    memcpy(b->key, k, n + 1);
    b->level = (int64_t)rl->burst * MILLI;
    b->at = now;
    b->next = rl->slot[h];
    rl->slot[h] = b;
    rl->nkeys++;
    return b;
}

struct rate_verdict rate_limit_take(struct rate_limit *rl, const char *key, int64_t now_ms)
{
    struct rate_verdict v = {0, 0};
    pthread_mutex_lock(&rl->lock);
    struct bucket *b = rl->per_minute > 0 ? find_or_add(rl, key, now_ms) : NULL;
    if (b) {
        int64_t level = level_at(rl, b, now_ms);
        b->at = now_ms > b->at ? now_ms : b->at;
        if (level >= MILLI) {
            b->level = level - MILLI;
            v.run = b->refused;
            b->refused = 0;
        } else {
            b->level = level;
            /* ms until the level reaches one request, rounded up */
            int64_t units_per_min = (int64_t)rl->per_minute * MILLI;
            v.wait_ms = ((MILLI - level) * 60000 + units_per_min - 1) / units_per_min;
            v.run = ++b->refused;
        }
    }
    pthread_mutex_unlock(&rl->lock);
    return v;
}

void rate_limit_set(struct rate_limit *rl, int per_minute, int burst)
{
    pthread_mutex_lock(&rl->lock);
    rl->per_minute = per_minute;
    rl->burst = burst;
    int64_t cap = (int64_t)burst * MILLI;
    for (int i = 0; i < NSLOTS; i++)
        for (struct bucket *b = rl->slot[i]; b; b = b->next)
            if (b->level > cap)
                b->level = cap;
    pthread_mutex_unlock(&rl->lock);
}

int rate_limit_keys(struct rate_limit *rl)
{
    pthread_mutex_lock(&rl->lock);
    int n = rl->nkeys;
    pthread_mutex_unlock(&rl->lock);
    return n;
}

void rate_limit_free(struct rate_limit *rl)
{
    if (!rl)
        return;
    for (int i = 0; i < NSLOTS; i++) {
        struct bucket *b = rl->slot[i];
        while (b) {
            struct bucket *next = b->next;
            free(b);
            b = next;
        }
    }
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}
