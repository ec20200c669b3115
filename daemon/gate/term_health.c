/* The terminals' health (term_health.h). */
#include "term_health.h"

#include "log.h"

void term_health_init(struct term_health *h, int64_t now_ms)
{
    *h = (struct term_health){.since_ms = now_ms};
}

/* Logged once when it goes off, once when it is back; the page shows the latest. */
static bool check_skew(struct term_state *s, const struct config *cfg,
                       const struct terminal_event *ev)
{
    if (!ev->has_device_ms || ev->backlog)
        return false;
    int64_t skew = ev->device_ms - ev->wall_ms, lim = cfg->terminals.max_clock_skew_ms;
    bool off = skew > lim || skew < -lim, was = s->skewed;
    const char *name = cfg->terminal[ev->terminal].name;
    int64_t moved = skew - s->skew_ms;
    if (off && !was)
        log_warn("terminals: [terminal %s]'s clock is %.0f s %s ours (more than max_clock_skew "
                 "%.0f s); set its time or NTP server (its times are recorded as sent)", name,
                 (double)(skew < 0 ? -skew : skew) / 1000.0, skew < 0 ? "behind" : "ahead of",
                 (double)lim / 1000.0);
    else if (!off && was)
        log_notice("terminals: [terminal %s]'s clock is within max_clock_skew again", name);
    s->skewed = off;
    s->skew_ms = skew;
    return off != was || (off && (moved > 1000 || moved < -1000));
}

bool term_health_heard(struct term_health *h, const struct config *cfg,
                       const struct terminal_event *ev, int64_t now_ms)
{
    if (ev->terminal < 0 || ev->terminal >= cfg->nterminals)
        return false;
    struct term_state *s = &h->t[ev->terminal];
    bool changed = s->state != DEV_OK;
    if (s->state == DEV_OFFLINE)
        log_notice("terminals: [terminal %s] is heard from again; lane %s is back",
                   cfg->terminal[ev->terminal].name, cfg->lanes[cfg->terminal[ev->terminal].lane].name);
    s->state = DEV_OK;
    s->heard_ms = now_ms;
    return check_skew(s, cfg, ev) || changed;
}

int term_health_tick(struct term_health *h, const struct config *cfg, int64_t now_ms,
                     int out[CFG_MAX_TERMINALS])
{
    int n = 0;
    for (int i = 0; i < cfg->nterminals; i++) {
        const struct cfg_terminal *t = &cfg->terminal[i];
        struct term_state *s = &h->t[i];
        int64_t last = s->heard_ms ? s->heard_ms : h->since_ms;
        if (t->offline_after_ms <= 0 || s->state == DEV_OFFLINE ||
            now_ms - last < t->offline_after_ms)
            continue;
        s->state = DEV_OFFLINE;
        log_warn("terminals: [terminal %s] not heard from for %.0f s (offline_after); lane %s "
                 "blinks amber until it is", t->name, (double)(now_ms - last) / 1000.0,
                 cfg->lanes[t->lane].name);
        out[n++] = i;
    }
    return n;
}

bool term_health_watched(const struct config *cfg)
{
    for (int i = 0; i < cfg->nterminals; i++)
        if (cfg->terminal[i].offline_after_ms > 0)
            return true;
    return false;
}
