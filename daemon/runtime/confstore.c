/* Configuration snapshots with reference counts (confstore.h). A handful of
 * snapshots exist at a time (the one in force, and the ones a long request or a
 * worker still reads), so they are a short list searched under one mutex; the
 * lock is held only to count, never while a configuration is read. */
#include "confstore.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>

struct snapshot {
    struct config *cfg;
    int refs;
    struct snapshot *next;
};

struct config_store {
    pthread_mutex_t lock;
    struct snapshot *current;  /* in force; also the head of the list */
    void (*destroy)(struct config *);
};

struct config_store *cfgstore_new(struct config *first, void (*destroy)(struct config *))
{
    struct config_store *s = calloc(1, sizeof *s);
    struct snapshot *n = calloc(1, sizeof *n);
    if (!s || !n) {
        free(s);
        free(n);
        destroy(first);
        return NULL;
    }
    n->cfg = first;
    s->current = n;
    s->destroy = destroy;
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

const struct config *cfgstore_acquire(struct config_store *s)
{
    pthread_mutex_lock(&s->lock);
    s->current->refs++;
    const struct config *cfg = s->current->cfg;
    pthread_mutex_unlock(&s->lock);
    return cfg;
}

/* Unlinks and returns the snapshot `n` when nothing holds it any more. */
static struct snapshot *take_if_unused(struct config_store *s, struct snapshot *n)
{
    if (n == s->current || n->refs > 0)
        return NULL;
    for (struct snapshot **p = &s->current->next; *p; p = &(*p)->next)
        if (*p == n) {
            *p = n->next;
            return n;
        }
    return NULL;
}

static void destroy_snapshot(struct config_store *s, struct snapshot *n)
{
    if (n) {
        s->destroy(n->cfg);
        free(n);
    }
}

void cfgstore_release(struct config_store *s, const struct config *cfg)
{
    struct snapshot *n, *gone = NULL;
    if (!cfg)
        return;
    pthread_mutex_lock(&s->lock);
    for (n = s->current; n && n->cfg != cfg; n = n->next)
        ;
    assert(n && n->refs > 0); /* releasing what was never acquired is a bug */
    if (n) {
        n->refs--;
        gone = take_if_unused(s, n);
    }
    pthread_mutex_unlock(&s->lock);
    destroy_snapshot(s, gone); /* outside the lock: readers never wait on a free */
}

int cfgstore_publish(struct config_store *s, struct config *next)
{
    struct snapshot *n = calloc(1, sizeof *n);
    if (!n) {
        s->destroy(next);
        return -1;
    }
    n->cfg = next;
    pthread_mutex_lock(&s->lock);
    struct snapshot *old = s->current;
    n->next = old;
    s->current = n;
    struct snapshot *gone = take_if_unused(s, old);
    pthread_mutex_unlock(&s->lock);
    destroy_snapshot(s, gone);
    return 0;
}

void cfgstore_free(struct config_store *s)
{
    if (!s)
        return;
    for (struct snapshot *n = s->current, *next; n; n = next) {
        next = n->next;
        assert(n->refs == 0);
        destroy_snapshot(s, n);
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}
