/* GPIO shim on libgpiod 2.x: line requests, edge event buffers and sequence
 * numbers (so lost events are counted). One request per line keeps the handle
 * the same as with 1.6. The kernel applies active-low, also to edges. */
#include "gpio_lines.h"

#include <dirent.h>
#include <errno.h>
#include <gpiod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Events a line may queue in the kernel: a 34-bit Wiegand frame is at most 34
 * pulse starts on one line, so a busy main loop never costs a card. */
#define EVENT_BUFFER 128

struct gpio_line {
    struct gpiod_chip *chip;
    struct gpiod_line_request *req;
    unsigned offset;
    struct gpiod_edge_event_buffer *events;
    unsigned long last_seqno; /* 0 before the first event */
};

const char *gpio_api_name(void)
{
    static char text[48];
    snprintf(text, sizeof text, "libgpiod %s (uAPI v2)", gpiod_api_version());
    return text;
}

static int is_chip(const struct dirent *e)
{
    return strncmp(e->d_name, "gpiochip", 8) == 0;
}

/* The chip that has a line of this name: the first /dev/gpiochipN that does, in
 * name order, as libgpiod 1.6 looks (so both builds find the same line). */
static struct gpiod_chip *chip_with_line(const char *name, unsigned *offset)
{
    struct dirent **names;
    int n = scandir("/dev", &names, is_chip, alphasort);
    if (n < 0)
        return NULL;
    struct gpiod_chip *found = NULL;
    for (int i = 0; i < n; i++) {
        char path[300];
        snprintf(path, sizeof path, "/dev/%s", names[i]->d_name);
        struct gpiod_chip *c = found ? NULL : gpiod_chip_open(path);
        int off = c ? gpiod_chip_get_line_offset_from_name(c, name) : -1;
        if (off >= 0) {
            found = c;
            *offset = (unsigned)off;
        } else if (c) {
            gpiod_chip_close(c);
        }
        free(names[i]);
    }
    free(names);
    if (!found)
        errno = ENOENT;
    return found;
}

static struct gpiod_chip *find_line(const struct cfg_gpio_line *cfg, unsigned *offset)
{
    if (cfg->name[0] != '\0')
        return chip_with_line(cfg->name, offset);
    char path[96];
    snprintf(path, sizeof path, "/dev/%s", cfg->chip); /* the config allows gpiochipN only */
    *offset = (unsigned)cfg->offset;
    return gpiod_chip_open(path);
}

static struct gpiod_line_request *request_line(struct gpio_line *l, const char *consumer,
                                               struct gpiod_line_settings *s)
{
    struct gpiod_line_config *lc = gpiod_line_config_new();
    struct gpiod_request_config *rc = gpiod_request_config_new();
    struct gpiod_line_request *req = NULL;
    if (lc && rc && gpiod_line_config_add_line_settings(lc, &l->offset, 1, s) == 0) {
        gpiod_request_config_set_consumer(rc, consumer);
        gpiod_request_config_set_event_buffer_size(rc, EVENT_BUFFER);
        req = gpiod_chip_request_lines(l->chip, rc, lc);
    }
    int err = errno;
    if (rc)
        gpiod_request_config_free(rc);
    if (lc)
        gpiod_line_config_free(lc);
    errno = err;
    return req;
}

static struct gpio_line *request(const struct cfg_gpio_line *cfg, const char *consumer,
                                 struct gpiod_line_settings *s)
{
    char text[96];
    gpio_line_text(cfg, text, sizeof text);
    struct gpio_line *l = calloc(1, sizeof *l);
    if (!l || !s) {
        log_err("GPIO line %s: out of memory", text);
        goto fail;
    }
    gpiod_line_settings_set_active_low(s, cfg->active_low);
    if (!(l->chip = find_line(cfg, &l->offset))) {
        log_errno(LOG_LVL_ERR, errno, "GPIO line %s", text);
        goto fail;
    }
    if (!(l->req = request_line(l, consumer, s))) {
        log_errno(LOG_LVL_ERR, errno, "GPIO line %s: request as %s", text, consumer);
        goto fail;
    }
    gpiod_line_settings_free(s);
    return l;
fail:
    if (s)
        gpiod_line_settings_free(s);
    gpio_close(l);
    return NULL;
}

struct gpio_line *gpio_output_open(const struct cfg_gpio_line *cfg, const char *consumer,
                                   int active)
{
    struct gpiod_line_settings *s = gpiod_line_settings_new();
    if (s) {
        gpiod_line_settings_set_direction(s, GPIOD_LINE_DIRECTION_OUTPUT);
        gpiod_line_settings_set_output_value(s, active ? GPIOD_LINE_VALUE_ACTIVE
                                                       : GPIOD_LINE_VALUE_INACTIVE);
    }
    return request(cfg, consumer, s);
}

struct gpio_line *gpio_input_open(const struct cfg_gpio_line *cfg, const char *consumer,
                                  enum gpio_edges edges)
{
    struct gpiod_line_settings *s = gpiod_line_settings_new();
    if (s) {
        gpiod_line_settings_set_direction(s, GPIOD_LINE_DIRECTION_INPUT);
        gpiod_line_settings_set_edge_detection(
            s, edges == GPIO_EDGE_TO_ACTIVE ? GPIOD_LINE_EDGE_RISING : GPIOD_LINE_EDGE_BOTH);
    }
    struct gpio_line *l = request(cfg, consumer, s);
    if (l && !(l->events = gpiod_edge_event_buffer_new(EVENT_BUFFER))) {
        gpio_close(l);
        return NULL;
    }
    return l;
}

int gpio_set(struct gpio_line *l, int active)
{
    return gpiod_line_request_set_value(
        l->req, l->offset, active ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE);
}

int gpio_get(struct gpio_line *l)
{
    enum gpiod_line_value v = gpiod_line_request_get_value(l->req, l->offset);
    return v == GPIOD_LINE_VALUE_ERROR ? -1 : v == GPIOD_LINE_VALUE_ACTIVE;
}

int gpio_event_fd(const struct gpio_line *l)
{
    return gpiod_line_request_get_fd(l->req);
}

int gpio_read_events(struct gpio_line *l, struct gpio_edge_event *ev, int max,
                     int64_t *lost_at_us)
{
    *lost_at_us = -1;
    if (max > EVENT_BUFFER)
        max = EVENT_BUFFER;
    int n = gpiod_line_request_read_edge_events(l->req, l->events, (size_t)max);
    for (int i = 0; i < n; i++) {
        struct gpiod_edge_event *e = gpiod_edge_event_buffer_get_event(l->events, (unsigned long)i);
        unsigned long seq = gpiod_edge_event_get_line_seqno(e);
        ev[i].to_active = gpiod_edge_event_get_event_type(e) == GPIOD_EDGE_EVENT_RISING_EDGE;
        ev[i].t_us = (int64_t)(gpiod_edge_event_get_timestamp_ns(e) / 1000);
        if (l->last_seqno && seq > l->last_seqno + 1 && *lost_at_us < 0)
            *lost_at_us = ev[i].t_us - 1; /* the gap is just before this one */
        l->last_seqno = seq;
    }
    return n;
}

void gpio_close(struct gpio_line *l)
{
    if (!l)
        return;
    if (l->events)
        gpiod_edge_event_buffer_free(l->events);
    if (l->req)
        gpiod_line_request_release(l->req);
    if (l->chip)
        gpiod_chip_close(l->chip);
    free(l);
}
