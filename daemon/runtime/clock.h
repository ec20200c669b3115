/* The program's two clocks, read in one place. Timers, timeouts and rate limits use
 * the monotonic clock (a wall-clock step must not stretch or cut them); instants
 * that are stored or shown use the wall clock (UTC ms). docs/design.md, "Time". */
#ifndef GS_CLOCK_H
#define GS_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* CLOCK_REALTIME in ms since the epoch (UTC). */
int64_t clock_wall_ms(void);
/* Tests: clock_wall_ms returns fake() from now on (NULL: CLOCK_REALTIME again), for
 * the whole process. Set it before starting threads that read the clock. */
void clock_fake_wall(int64_t (*fake)(void));
/* CLOCK_MONOTONIC in ms and in µs. */
int64_t clock_mono_ms(void);
int64_t clock_mono_us(void);
/* The CLOCK_MONOTONIC instant `ms` from now, for pthread_cond_timedwait on a
 * condition variable set to that clock, and for sem_clockwait. */
struct timespec clock_mono_deadline(int64_t ms);
/* A condition variable whose timed waits use CLOCK_MONOTONIC (clock_mono_deadline),
 * so that a wall-clock step neither shortens nor stretches them. */
void clock_cond_init(pthread_cond_t *cond);

#endif
