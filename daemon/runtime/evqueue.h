/* The queue worker threads post events to the main loop through. Fixed-size
 * elements in a bounded ring; an eventfd wakes the loop. A poster blocks while the
 * ring is full (back-pressure: nothing is dropped), and returns -1 once the queue is
 * closed for shutdown. Only the queue itself is locked, never domain state. */
#ifndef GS_EVQUEUE_H
#define GS_EVQUEUE_H

#include <stddef.h>

struct evq;

struct evq *evq_new(size_t elem_size, size_t capacity);
void evq_free(struct evq *q);

/* The eventfd to watch for EPOLLIN in the main loop. */
int evq_fd(const struct evq *q);

/* Copies elem into the queue; any thread. */
int evq_post(struct evq *q, const void *elem);

/* Main loop: clears the wake-up and hands each queued element to fn, in posting
 * order, without holding the lock while fn runs. Returns how many. */
size_t evq_drain(struct evq *q, void (*fn)(const void *elem, void *arg), void *arg);

/* Wakes and fails blocked and later posters (shutdown). */
void evq_close(struct evq *q);

#endif
