/* The collector's connections (bstore_pool.h): slots under one mutex; connecting and
 * reconnecting happen outside it, so a slow server holds up only the thread that
 * needs the connection. */
#include "bstore_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errbuf.h"
#include "log.h"

struct slot {
    struct bstore *s; /* NULL until first needed */
    bool busy;
};

struct bstore_pool {
    pthread_mutex_t mu;
    pthread_cond_t freed;
    struct bstore_opts opts;
    char *conninfo, *app;
    int size;
    struct slot *slots;
};

struct bstore_pool *bstore_pool_new(const struct bstore_opts *o, int size, struct bstore *first)
{
    struct bstore_pool *p = calloc(1, sizeof *p);
    pthread_condattr_t ca;
    if (!p || !(p->slots = calloc((size_t)size, sizeof *p->slots)) ||
        !(p->conninfo = strdup(o->conninfo)) ||
        !(p->app = strdup(o->application_name ? o->application_name : "gatescreen-bureaud")))
        goto fail;
    p->opts = *o;
    p->opts.conninfo = p->conninfo;
    p->opts.application_name = p->app;
    p->opts.migrate = false;
    p->size = size;
    p->slots[0].s = first;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* clock_mono_deadline's clock */
    pthread_cond_init(&p->freed, &ca);
    pthread_condattr_destroy(&ca);
    return p;
fail:
    if (p) {
        free(p->slots);
        free(p->conninfo);
        free(p->app);
    }
    free(p);
    bstore_close(first);
    return NULL;
}

/* A free slot, preferring one with an open connection; -1 when all are busy. */
static int free_slot(const struct bstore_pool *p)
{
    int any = -1;
    for (int i = 0; i < p->size; i++) {
        if (p->slots[i].busy)
            continue;
        if (p->slots[i].s)
            return i;
        if (any < 0)
            any = i;
    }
    return any;
}

static int take_slot(struct bstore_pool *p, int64_t wait_ms)
{
    struct timespec deadline = clock_mono_deadline(wait_ms);
    int i, rc = 0;
    pthread_mutex_lock(&p->mu);
    while ((i = free_slot(p)) < 0 && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&p->freed, &p->mu, &deadline);
    if (i >= 0)
        p->slots[i].busy = true;
    pthread_mutex_unlock(&p->mu);
    return i;
}

static void release_slot(struct bstore_pool *p, int i)
{
    pthread_mutex_lock(&p->mu);
    p->slots[i].busy = false;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->mu);
}

/* Opens the slot's first connection (outside the lock: it may take a while); its
 * failure is logged. Every write of a slot's s is under the lock. */
static void open_slot(struct bstore_pool *p, struct slot *sl)
{
    struct errbuf e;
    struct bstore *s = NULL;
    FILE *errs = errbuf_open(&e, stderr);
    if (bstore_open(&p->opts, &s, errs) < 0)
        log_warn("database: %s", errbuf_joined(&e, ' '));
    errbuf_free(&e);
    pthread_mutex_lock(&p->mu);
    sl->s = s;
    pthread_mutex_unlock(&p->mu);
}

struct bstore *bstore_pool_get(struct bstore_pool *p, int64_t wait_ms)
{
    int i = take_slot(p, wait_ms);
    if (i < 0) {
        log_warn("database: all %d connections busy for %lld ms", p->size, (long long)wait_ms);
        return NULL;
    }
    struct slot *sl = &p->slots[i]; /* ours while busy: only we change it */
    if (!sl->s)
        open_slot(p, sl);
    else if (bstore_ensure(sl->s) < 0) /* kept: the next get connects again */
        goto unusable;
    if (sl->s)
        return sl->s;
unusable:
    release_slot(p, i);
    return NULL;
}

void bstore_pool_put(struct bstore_pool *p, struct bstore *s)
{
    /* Under the lock: another thread may be setting its own slot's connection. */
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->size; i++)
        if (p->slots[i].busy && p->slots[i].s == s) {
            p->slots[i].busy = false;
            pthread_cond_signal(&p->freed);
            break;
        }
    pthread_mutex_unlock(&p->mu);
}

void bstore_pool_free(struct bstore_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->size; i++)
        bstore_close(p->slots[i].s);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->mu);
    explicit_bzero(p->conninfo, strlen(p->conninfo));
    free(p->conninfo);
    free(p->app);
    free(p->slots);
    free(p);
}
