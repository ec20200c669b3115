/* Console indicator (the demo, and a bench-top controller without lights): one
 * line per change of a lane's lights on stdout, readable by a person watching:
 *   07:31:02 东门 east-1    GREEN            admit           S2020001 王小明 一年级1班 36.52
 * Local time of the school (the process zone is the school's). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "indicator.h"
#include "textnum.h"

static void *console_open(const struct config *cfg, struct loop *loop)
{
    (void)cfg;
    (void)loop;
    static int token;
    return &token; /* stdout needs no state */
}

static void lights_text(const struct display *d, char *out, size_t n)
{
    static const char *const upper[] = {"off", "GREEN", "AMBER", "RED"};
    snprintf(out, n, "%s%s%s%s", upper[d->lamp], d->blink ? " blinking" : "",
             d->buzzer ? " + buzzer" : "", d->relay ? " + relay" : "");
}

static int console_set(void *h, const struct config *cfg, const struct indicator_change *c)
{
    (void)h;
    const struct cfg_lane *lane = &cfg->lanes[c->lane];
    time_t secs = (time_t)(c->wall_ms / 1000);
    struct tm tm;
    char clock[16] = "--:--:--", lights[48], temp[16] = "";
    if (localtime_r(&secs, &tm))
        strftime(clock, sizeof clock, "%H:%M:%S", &tm);
    lights_text(&c->display, lights, sizeof lights);
    if (c->has_body)
        tn_format_centi(c->body_centi, temp, sizeof temp);
    const char *what = c->outcome < OUT_COUNT ? outcome_name(c->outcome) : c->reason;
    printf("%s %s %-10s %-24s %-15s %s%s%s\n", clock, lane->gate, lane->name, lights, what,
           c->person, *c->person && *temp ? " " : "", temp);
    fflush(stdout);
    return 0;
}

static void console_close(void *h)
{
    (void)h;
}

const struct indicator_ops indicator_console = {
    .name = "console", .open = console_open, .set = console_set, .close = console_close,
};
