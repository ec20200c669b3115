/* GPIO indicator: each `indicator = gpio` lane's green, amber and red lamps, its
 * buzzer and (with enforce = hard only) its relay, as kernel GPIO output lines.
 * Runs on the main thread (docs/design.md, "Threads": the main loop owns the
 * outputs): the lane sends what to show, light_pattern.c says which lines are
 * active when, and one loop timer drives the blinking. A lamp test lights each lamp
 * in turn at start. With enforce = soft the relay line is not even requested: staff
 * decide. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpio_lines.h"
#include "indicator.h"
#include "light_pattern.h"
#include "log.h"

struct gpio_lane {
    bool used;
    struct gpio_line *out[LIGHT_COUNT]; /* NULL: not wired (buzzer, relay) */
    bool level[LIGHT_COUNT];
    bool known;                         /* the lines hold `level`: no write failed */
    struct log_limit errlog;            /* failed writes, retried every RETRY_MS */
    struct display shown;
    int64_t since_ms;
};

struct gpio_indicator {
    const struct config *cfg;
    struct loop *loop;
    uint64_t blink_timer;
    int64_t blink_at;
    struct gpio_lane lanes[CFG_MAX_LANES];
};

static const int line_role[LIGHT_COUNT] = {CFG_IO_GREEN, CFG_IO_AMBER, CFG_IO_RED,
                                           CFG_IO_BUZZER, CFG_IO_RELAY};

static int write_line(struct gpio_indicator *gi, int lane, int o, bool on)
{
    struct gpio_lane *gl = &gi->lanes[lane];
    if (!gl->out[o] || (gl->known && gl->level[o] == on))
        return 0;
    if (gpio_set(gl->out[o], on) < 0) {
        log_limited(&gl->errlog, loop_now_ms(), 60000, LOG_LVL_ERR, "lane %s: GPIO %s: %s",
                    gi->cfg->lanes[lane].name, light_output_name(o), strerror(errno));
        return -1;
    }
    gl->level[o] = on;
    return 0;
}

/* Everything that goes off first, the relay before all; then what goes on, the
 * relay last and only when every other line took its state: a failed write never
 * leaves the turnstile open beside a lamp that does not say green. A lane with a
 * failed write is rewritten in full at its next change. */
static int write_levels(struct gpio_indicator *gi, int lane, const bool want[LIGHT_COUNT])
{
    int rc = 0;
    for (int o = LIGHT_COUNT - 1; o >= 0; o--)
        if (!want[o] && write_line(gi, lane, o, false) < 0)
            rc = -1;
    for (int o = 0; o < LIGHT_COUNT; o++)
        if (want[o] && (o != LIGHT_RELAY || rc == 0) && write_line(gi, lane, o, true) < 0)
            rc = -1;
    if (rc == 0 && !gi->lanes[lane].known && log_limit_reset(&gi->lanes[lane].errlog))
        log_notice("lane %s: GPIO lights written again", gi->cfg->lanes[lane].name);
    gi->lanes[lane].known = rc == 0;
    return rc;
}

static int open_lane(struct gpio_indicator *gi, int lane)
{
    const struct cfg_lane *cl = &gi->cfg->lanes[lane];
    struct gpio_lane *gl = &gi->lanes[lane];
    gl->used = true;
    for (int o = 0; o < LIGHT_COUNT; o++) {
        const struct cfg_gpio_line *line = &cl->io[line_role[o]];
        if (!line->present || (o == LIGHT_RELAY && cl->enforce != CFG_ENFORCE_HARD))
            continue;
        if (!(gl->out[o] = gpio_output_open(line, "gatescreend", 0)))
            return -1;
    }
    return 0;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Blocks for LAMP_TEST_STEPS × lamp_test at start, before the lanes take people:
 * gate staff see every lamp (and hear the buzzer) work. */
static void lamp_test(struct gpio_indicator *gi)
{
    bool want[LIGHT_COUNT];
    if (gi->cfg->gpio.lamp_test_ms <= 0)
        return;
    for (int step = 0; pattern_lamp_test(step, want); step++) {
        for (int i = 0; i < gi->cfg->nlanes; i++)
            if (gi->lanes[i].used)
                write_levels(gi, i, want);
        sleep_ms(gi->cfg->gpio.lamp_test_ms);
    }
    for (int i = 0; i < gi->cfg->nlanes; i++)
        if (gi->lanes[i].used)
            write_levels(gi, i, want); /* all off: the gate shows the lanes next */
}

static void gpio_close_all(void *h);

static void *gpio_open(const struct config *cfg, struct loop *loop)
{
    struct gpio_indicator *gi = calloc(1, sizeof *gi);
    if (!gi)
        return NULL;
    gi->cfg = cfg;
    gi->loop = loop;
    log_info("GPIO: %s", gpio_api_name());
    for (int i = 0; i < cfg->nlanes; i++)
        if (cfg->lanes[i].indicator == CFG_IND_GPIO && open_lane(gi, i) < 0) {
            gpio_close_all(gi);
            return NULL;
        }
    lamp_test(gi);
    return gi;
}

static void on_blink(struct loop *loop, void *arg);

/* A lane whose last write failed is written again this soon (a relay that did
 * not release must not wait for the next person). */
#define RETRY_MS 100

/* One timer for every lane: at the earliest next blink edge or retry. */
static void arm_blink(struct gpio_indicator *gi, int64_t now)
{
    int64_t period = gi->cfg->screening.blink_period_ms, at = -1;
    for (int i = 0; i < gi->cfg->nlanes; i++) {
        const struct gpio_lane *gl = &gi->lanes[i];
        int64_t next = !gl->used  ? -1
                       : !gl->known ? now + RETRY_MS
                                    : pattern_next_change(&gl->shown, gl->since_ms, now, period);
        if (next >= 0 && (at < 0 || next < at))
            at = next;
    }
    if (gi->blink_timer && at == gi->blink_at)
        return;
    if (gi->blink_timer)
        loop_timer_cancel(gi->loop, gi->blink_timer);
    gi->blink_timer = at < 0 ? 0 : loop_timer_add(gi->loop, at - now, 0, on_blink, gi);
    gi->blink_at = at;
}

static void show_now(struct gpio_indicator *gi, int lane, int64_t now)
{
    bool want[LIGHT_COUNT];
    struct gpio_lane *gl = &gi->lanes[lane];
    pattern_levels(&gl->shown, gl->since_ms, now, gi->cfg->screening.blink_period_ms, want);
    write_levels(gi, lane, want);
}

static void on_blink(struct loop *loop, void *arg)
{
    (void)loop;
    struct gpio_indicator *gi = arg;
    int64_t now = loop_now_ms();
    gi->blink_timer = 0;
    for (int i = 0; i < gi->cfg->nlanes; i++)
        if (gi->lanes[i].used && (gi->lanes[i].shown.blink || !gi->lanes[i].known))
            show_now(gi, i, now);
    arm_blink(gi, now);
}

static int gpio_set_change(void *h, const struct config *cfg, const struct indicator_change *c)
{
    (void)cfg;
    struct gpio_indicator *gi = h;
    struct gpio_lane *gl = &gi->lanes[c->lane];
    int64_t now = c->mono_us / 1000;
    bool same_blink = gl->shown.blink && c->display.blink && gl->shown.lamp == c->display.lamp;
    gl->shown = c->display;
    if (!same_blink)
        gl->since_ms = now; /* a new pattern starts lit; the same blink keeps its rhythm */
    show_now(gi, c->lane, now);
    arm_blink(gi, now);
    return gl->known ? 0 : -1;
}

static void gpio_close_all(void *h)
{
    struct gpio_indicator *gi = h;
    if (gi->blink_timer)
        loop_timer_cancel(gi->loop, gi->blink_timer);
    for (int i = 0; i < CFG_MAX_LANES; i++)
        for (int o = 0; o < LIGHT_COUNT; o++)
            gpio_close(gi->lanes[i].out[o]);
    free(gi);
}

const struct indicator_ops indicator_gpio = {
    .name = "gpio", .open = gpio_open, .set = gpio_set_change, .close = gpio_close_all,
};
