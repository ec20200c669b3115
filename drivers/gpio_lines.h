/* GPIO lines through the kernel's character device: one small shim over libgpiod,
 * chosen at build time (gpio_v1.c for libgpiod 1.6, Debian 12; gpio_v2.c for 2.x).
 * A handle is one requested line; its polarity (active-low) is applied by the
 * kernel, so callers speak in active/inactive. Edge timestamps are the kernel's,
 * CLOCK_MONOTONIC. Not thread-safe per handle: one owner each. */
#ifndef GS_GPIO_LINES_H
#define GS_GPIO_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct gpio_line;

enum gpio_edges {
    GPIO_EDGE_TO_ACTIVE, /* only the edge into the active level (Wiegand: the pulse start) */
    GPIO_EDGE_BOTH,      /* both; with the v1 interface the reported type may be wrong */
};

struct gpio_edge_event {
    bool to_active;      /* the kernel's idea of the edge type */
    int64_t t_us;        /* kernel timestamp, CLOCK_MONOTONIC µs */
};

/* "libgpiod 1.6.3 (uAPI v1)": for the start-up log and --version. */
const char *gpio_api_name(void);

/* Text for messages: "gpiochip0:17" or the line's name. */
void gpio_line_text(const struct cfg_gpio_line *cfg, char *out, size_t size);

/* Requests an output at `active` (0/1). NULL on failure, logged with the line. */
struct gpio_line *gpio_output_open(const struct cfg_gpio_line *cfg, const char *consumer,
                                   int active);
/* Requests an input with edge events. NULL on failure, logged. */
struct gpio_line *gpio_input_open(const struct cfg_gpio_line *cfg, const char *consumer,
                                  enum gpio_edges edges);
int gpio_set(struct gpio_line *l, int active);
/* 1 active, 0 inactive, -1 error. */
int gpio_get(struct gpio_line *l);
/* The fd that polls readable when edge events wait (inputs). */
int gpio_event_fd(const struct gpio_line *l);
/* Reads up to `max` waiting events (call when the fd is readable). Returns how many,
 * -1 on error. `*lost_at_us` is -1, or the instant at which events went missing:
 * with 2.x, just before the first event after a gap in the sequence numbers; with
 * 1.6, which cannot tell, just after the last event of a read that emptied a full
 * kernel buffer (the kernel drops the newest). */
int gpio_read_events(struct gpio_line *l, struct gpio_edge_event *ev, int max,
                     int64_t *lost_at_us);
/* Whether more events wait on an input line (a read would not block). */
bool gpio_events_waiting(const struct gpio_line *l);
/* Releases the line (the kernel then leaves it to the controller: see README). */
void gpio_close(struct gpio_line *l);

#endif
