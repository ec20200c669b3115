/* The main thread's event loop: epoll over file descriptors, timers on
 * CLOCK_MONOTONIC (millisecond resolution), and signals through a signalfd.
 * Single-threaded: only the owning thread calls these functions. Callbacks may
 * add and remove watchers and timers, including their own. */
#ifndef GS_LOOP_H
#define GS_LOOP_H

#include <stdint.h>

struct loop;

typedef void (*loop_fd_cb)(struct loop *loop, int fd, uint32_t events, void *arg);
typedef void (*loop_timer_cb)(struct loop *loop, void *arg);
typedef void (*loop_signal_cb)(struct loop *loop, int signo, void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *loop);

/* Watches fd for epoll `events` (EPOLLIN, ...). One watcher per fd. */
int loop_add_fd(struct loop *loop, int fd, uint32_t events, loop_fd_cb cb, void *arg);
int loop_del_fd(struct loop *loop, int fd);

/* Calls cb after delay_ms, then every period_ms if period_ms > 0. Returns a timer
 * id (> 0), or 0 when out of memory. Timers due together fire in deadline order. */
uint64_t loop_timer_add(struct loop *loop, int64_t delay_ms, int64_t period_ms,
                        loop_timer_cb cb, void *arg);
/* Returns -1 if no such timer (already fired or cancelled). */
int loop_timer_cancel(struct loop *loop, uint64_t id);

/* Delivers signo through the loop. Blocks the signal in the calling thread, so call
 * it before starting threads (they inherit the mask). */
int loop_on_signal(struct loop *loop, int signo, loop_signal_cb cb, void *arg);

/* Runs until loop_stop; returns 0, or -1 on an epoll failure. */
int loop_run(struct loop *loop);
void loop_stop(struct loop *loop);

/* CLOCK_MONOTONIC in milliseconds: clock_mono_ms (runtime/clock.h), kept under the
 * loop's name for the callers that time loop events. */
int64_t loop_now_ms(void);
/* The same in microseconds (latency figures). */
int64_t loop_now_us(void);

#endif
