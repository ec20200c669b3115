#include "slots.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"

struct slots {
    pthread_mutex_t lock;
    pthread_cond_t wake;         /* CLOCK_MONOTONIC */
    int free, first_waiting;
};

struct slots *slots_new(int n)
{
    struct slots *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->lock, NULL);
    clock_cond_init(&s->wake);
    s->free = n;
    return s;
}

void slots_free(struct slots *s)
{
    if (!s)
        return;
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

bool slots_take(struct slots *s, bool first, int64_t wait_ms)
{
    /* monotonic: a wall-clock step must not shorten the wait */
    struct timespec until = clock_mono_deadline(wait_ms);
    bool ok = true;
    pthread_mutex_lock(&s->lock);
    s->first_waiting += first;
    while (ok && (s->free == 0 || (!first && s->first_waiting > 0)))
        ok = pthread_cond_timedwait(&s->wake, &s->lock, &until) != ETIMEDOUT;
    s->first_waiting -= first;
    s->free -= ok;
    pthread_mutex_unlock(&s->lock);
    if (first && !ok)
        pthread_cond_broadcast(&s->wake); /* the others may go now */
    return ok;
}

void slots_give(struct slots *s)
{
    pthread_mutex_lock(&s->lock);
    s->free++;
    pthread_mutex_unlock(&s->lock);
    pthread_cond_broadcast(&s->wake);
}
