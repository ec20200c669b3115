/* GPIO shim on libgpiod 1.6 (Debian 12): one fd per line, the kernel's 16-event
 * buffer per line, no sequence numbers (lost events cannot be told). Requests
 * ask for one edge type where they can: with both edges, the v1 kernel interface
 * reads the level when it handles the interrupt to name the edge, which can be
 * wrong for short pulses. The kernel applies active-low, also to edges. */
#include "gpio_lines.h"

#include <errno.h>
#include <gpiod.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

/* The v1 kernel interface keeps at most this many events per line. */
#define KERNEL_EVENTS 16

struct gpio_line {
    struct gpiod_line *line;  /* its chip is closed with it */
};

const char *gpio_api_name(void)
{
    static char text[48];
    snprintf(text, sizeof text, "libgpiod %s (uAPI v1)", gpiod_version_string());
    return text;
}

static struct gpiod_line *find_line(const struct cfg_gpio_line *cfg)
{
    if (cfg->name[0] != '\0')
        return gpiod_line_find(cfg->name); /* NULL with errno ENOENT when no chip has it */
    struct gpiod_chip *chip = gpiod_chip_open_lookup(cfg->chip);
    if (!chip)
        return NULL;
    struct gpiod_line *line = gpiod_chip_get_line(chip, (unsigned)cfg->offset);
    if (!line) {
        int err = errno;
        gpiod_chip_close(chip);
        errno = err;
    }
    return line;
}

static struct gpio_line *request(const struct cfg_gpio_line *cfg, const char *consumer,
                                 int type, int active)
{
    char text[96];
    gpio_line_text(cfg, text, sizeof text);
    struct gpio_line *l = calloc(1, sizeof *l);
    if (!l) {
        log_err("GPIO line %s: out of memory", text);
        return NULL;
    }
    if (!(l->line = find_line(cfg))) {
        log_errno(LOG_LVL_ERR, errno, "GPIO line %s", text);
        goto fail;
    }
    struct gpiod_line_request_config rc = {
        .consumer = consumer, .request_type = type,
        .flags = cfg->active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0,
    };
    if (gpiod_line_request(l->line, &rc, active) < 0) {
        log_errno(LOG_LVL_ERR, errno, "GPIO line %s: request as %s", text, consumer);
        goto fail;
    }
    return l;
fail:
    if (l->line)
        gpiod_line_close_chip(l->line);
    free(l);
    return NULL;
}

struct gpio_line *gpio_output_open(const struct cfg_gpio_line *cfg, const char *consumer,
                                   int active)
{
    return request(cfg, consumer, GPIOD_LINE_REQUEST_DIRECTION_OUTPUT, active);
}

struct gpio_line *gpio_input_open(const struct cfg_gpio_line *cfg, const char *consumer,
                                  enum gpio_edges edges)
{
    int type = edges == GPIO_EDGE_TO_ACTIVE ? GPIOD_LINE_REQUEST_EVENT_RISING_EDGE
                                            : GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES;
    return request(cfg, consumer, type, 0);
}

int gpio_set(struct gpio_line *l, int active)
{
    return gpiod_line_set_value(l->line, active);
}

int gpio_get(struct gpio_line *l)
{
    return gpiod_line_get_value(l->line);
}

int gpio_event_fd(const struct gpio_line *l)
{
    return gpiod_line_event_get_fd(l->line);
}

int gpio_read_events(struct gpio_line *l, struct gpio_edge_event *ev, int max,
                     int64_t *lost_at_us)
{
    struct gpiod_line_event raw[KERNEL_EVENTS];
    *lost_at_us = -1;
    if (max > KERNEL_EVENTS)
        max = KERNEL_EVENTS;
    int n = gpiod_line_event_read_multiple(l->line, raw, (unsigned)max);
    for (int i = 0; i < n; i++) {
        ev[i].to_active = raw[i].event_type == GPIOD_LINE_EVENT_RISING_EDGE;
        ev[i].t_us = (int64_t)raw[i].ts.tv_sec * 1000000 + raw[i].ts.tv_nsec / 1000;
    }
    if (n == KERNEL_EVENTS) /* the buffer was full: newer events may have been dropped */
        *lost_at_us = ev[n - 1].t_us + 1;
    return n;
}

void gpio_close(struct gpio_line *l)
{
    if (!l)
        return;
    gpiod_line_release(l->line);
    gpiod_line_close_chip(l->line);
    free(l);
}
