/* A bound on the daemon's stop: a watchdog thread that ends the process if the
 * clean stop has not finished in time, naming the step it was stuck in. Joining a
 * worker can block for as long as the worker's own I/O timeout (a Modbus read,
 * an HTTPS transfer); systemd would otherwise kill us without a word. */
#ifndef GS_STOP_GUARD_H
#define GS_STOP_GUARD_H

#include <stdint.h>

#include "log.h"

/* The process exit status when the stop overran its bound. */
#define STOP_GUARD_STATUS 3

struct stop_guard;

/* Starts the watchdog: after timeout_ms it logs an error and _exit()s with
 * STOP_GUARD_STATUS unless stop_guard_done was called. NULL (logged) if the
 * thread cannot be started; the other functions accept NULL. */
struct stop_guard *stop_guard_start(int64_t timeout_ms);
/* What the stop waits for now, as the error will name it ("bus rtu", ...). */
void stop_guard_step(struct stop_guard *g, const char *fmt, ...) GS_PRINTF(2, 3);
/* The stop finished: the watchdog ends without acting. */
void stop_guard_done(struct stop_guard *g);

#endif
