/* GPIO inputs: each lane's Wiegand card reader (D0/D1) and presence sensor, read by
 * one dedicated thread (docs/design.md, "Threads") so the kernel's small per-line
 * event buffer (16 events with libgpiod 1.6) never overflows while the main loop
 * commits to disk. Cards and presence become events on the main loop's queue;
 * presence rising edges are also counted for the bus threads (presence.h). */
#ifndef GS_GPIO_INPUT_H
#define GS_GPIO_INPUT_H

#include <stdbool.h>

#include "config.h"
#include "evqueue.h"
#include "presence.h"

struct gpio_input;

/* True when some lane has Wiegand (identity = wiegand) or presence lines. */
bool gpio_input_needed(const struct config *cfg);
/* Requests the lines and starts the thread; NULL on failure (logged). `cfg` and
 * `edges` must outlive it. */
struct gpio_input *gpio_input_start(const struct config *cfg, struct evq *events,
                                    struct presence_edges *edges);
/* Stops and joins the thread, logs each lane's counters, releases the lines. */
void gpio_input_stop(struct gpio_input *gi);

#endif
