#include "evqueue.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

struct evq {
    pthread_mutex_t lock;
    pthread_cond_t not_full;
    int efd;
    int closed;
    size_t elem_size, capacity;
    size_t head, count; /* ring: elements head .. head+count-1 (mod capacity) */
    unsigned char *ring;
};

struct evq *evq_new(size_t elem_size, size_t capacity)
{
    struct evq *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->efd = -1;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_full, NULL);
    q->elem_size = elem_size;
    q->capacity = capacity;
    q->ring = calloc(capacity, elem_size);
    if (!q->ring)
        goto fail;
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->efd < 0) {
        log_errno(LOG_LVL_ERR, errno, "eventfd");
        goto fail;
    }
    return q;
fail:
    evq_free(q);
    return NULL;
}

void evq_free(struct evq *q)
{
    if (!q)
        return;
    if (q->efd >= 0)
        close(q->efd);
    pthread_cond_destroy(&q->not_full);
    pthread_mutex_destroy(&q->lock);
    free(q->ring);
    free(q);
}

int evq_fd(const struct evq *q) { return q->efd; }

int evq_post(struct evq *q, const void *elem)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == q->capacity && !q->closed)
        pthread_cond_wait(&q->not_full, &q->lock);
    if (q->closed) {
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    size_t tail = (q->head + q->count) % q->capacity;
    memcpy(q->ring + tail * q->elem_size, elem, q->elem_size);
    int wake = q->count++ == 0; /* the loop has seen everything before: wake it */
    pthread_mutex_unlock(&q->lock);
    if (wake) {
        uint64_t one = 1;
        ssize_t unused = write(q->efd, &one, sizeof one);
        (void)unused; /* EAGAIN only when the counter is already non-zero: awake */
    }
    return 0;
}

/* Pops one element into buf; 0 when empty. */
static int pop(struct evq *q, void *buf)
{
    pthread_mutex_lock(&q->lock);
    int got = q->count > 0;
    if (got) {
        memcpy(buf, q->ring + q->head * q->elem_size, q->elem_size);
        q->head = (q->head + 1) % q->capacity;
        q->count--;
        pthread_cond_signal(&q->not_full);
    }
    pthread_mutex_unlock(&q->lock);
    return got;
}

size_t evq_drain(struct evq *q, void (*fn)(const void *elem, void *arg), void *arg)
{
    uint64_t counter;
    ssize_t unused = read(q->efd, &counter, sizeof counter);
    (void)unused; /* EAGAIN: nothing pending, fine */
    unsigned char buf[q->elem_size];
    size_t n = 0;
    /* Bounded so that a flood from workers cannot starve timers and signals;
     * whatever is left is picked up on the next wake-up. */
    while (n < q->capacity && pop(q, buf)) {
        fn(buf, arg);
        n++;
    }
    if (n == q->capacity) {
        uint64_t one = 1;
        unused = write(q->efd, &one, sizeof one);
    }
    return n;
}

void evq_close(struct evq *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}
