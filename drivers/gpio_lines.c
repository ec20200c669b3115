/* What both libgpiod shims share. */
#include "gpio_lines.h"

#include <poll.h>
#include <stdio.h>

void gpio_line_text(const struct cfg_gpio_line *cfg, char *out, size_t size)
{
    if (cfg->name[0] != '\0')
        snprintf(out, size, "%s%s", cfg->name, cfg->active_low ? " (active-low)" : "");
    else
        snprintf(out, size, "%s:%d%s", cfg->chip, cfg->offset,
                 cfg->active_low ? " (active-low)" : "");
}

bool gpio_events_waiting(const struct gpio_line *l)
{
    struct pollfd p = {.fd = gpio_event_fd(l), .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}
