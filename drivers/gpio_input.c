/* The GPIO input thread (see gpio_input.h). Wiegand lines are requested for the
 * pulse start only (one edge type: the v1 interface names the edge of a both-edge
 * request by reading the level late, which is wrong for 50 µs pulses). The two
 * lines of a reader are two fds, so their events are merged by kernel timestamp
 * and handed to the decoder only once they are REORDER_US old: an event of the
 * other line stamped earlier but read later still comes first. Presence is
 * debounced by waiting for quiet and then reading the level, not by trusting the
 * reported edge types. */
#include "gpio_input.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "events.h"
#include "gpio_lines.h"
#include "log.h"
#include "loop.h"
#include "wiegand.h"

/* How long an edge waits for a possibly earlier one from the other line: far
 * longer than an interrupt's way into the kernel buffer, far shorter than the
 * frame gap. */
#define REORDER_US 3000
#define PENDING_MAX 256
#define READ_BATCH 64
#define NOISE_LOG_MAX_INTERVAL_MS 60000

struct wg_edge {
    int64_t t_us;
    enum wiegand_line line;
};

struct reader {
    int lane;
    struct gpio_line *line[2];
    struct wiegand_limits lim;
    struct wiegand dec;
    struct wg_edge pending[PENDING_MAX]; /* sorted by time */
    int npending;
    uint64_t cards, lost, noise[WIEGAND_NOISE_COUNT];
    struct log_limit noise_log[WIEGAND_NOISE_COUNT]; /* each kind is news on its own */
};

struct presence_input {
    int lane;
    struct gpio_line *line;
    bool level;          /* debounced */
    int64_t settle_at;   /* µs; -1: quiet */
    uint64_t rising;
};

/* What a pollfd stands for. */
struct source {
    struct reader *reader;      /* NULL: presence */
    enum wiegand_line wline;
    struct presence_input *presence;
};

struct gpio_input {
    const struct config *cfg;
    struct evq *events;
    struct presence_edges *edges;
    int nreaders, npresence, nfds;
    struct reader *readers;
    struct presence_input *presence;
    struct pollfd *fds;         /* [0] is the stop eventfd */
    struct source *sources;     /* parallel to fds */
    int stop_fd;
    atomic_int stop;
    pthread_t thread;
    bool started;
};

bool gpio_input_needed(const struct config *cfg)
{
    for (int i = 0; i < cfg->nlanes; i++)
        if (cfg->lanes[i].identity == CFG_ID_WIEGAND || cfg->lanes[i].io[CFG_IO_PRESENCE].present)
            return true;
    return false;
}

/* ---- Wiegand ----------------------------------------------------------------- */

static void on_frame(struct gpio_input *gi, struct reader *r, const struct wiegand_frame *f)
{
    const char *lane = gi->cfg->lanes[r->lane].name;
    if (!f->card) {
        r->noise[f->noise]++;
        log_limited(&r->noise_log[f->noise], loop_now_ms(), NOISE_LOG_MAX_INTERVAL_MS, LOG_LVL_WARN,
                    "lane %s: Wiegand noise dropped: %s (%d bits)", lane,
                    wiegand_noise_name(f->noise), f->bits);
        return;
    }
    r->cards++;
    log_debug("lane %s: Wiegand %d-bit card %llu", lane, f->bits, (unsigned long long)f->number);
    struct event ev = {.kind = EV_CARD, .mono_ms = f->end_us / 1000, .posted_us = loop_now_us(),
                       .card = {.lane = r->lane, .number = f->number, .bits = f->bits}};
    evq_post(gi->events, &ev);
}

static void queue_edge(struct reader *r, enum wiegand_line line, int64_t t_us)
{
    if (r->npending == PENDING_MAX) { /* a flood, not a reader: keep the newest */
        memmove(r->pending, r->pending + 1, (PENDING_MAX - 1) * sizeof r->pending[0]);
        r->npending--;
        r->lost++;
    }
    int i = r->npending++;
    for (; i > 0 && r->pending[i - 1].t_us > t_us; i--)
        r->pending[i] = r->pending[i - 1];
    r->pending[i] = (struct wg_edge){.t_us = t_us, .line = line};
}

/* Feeds the edges old enough to be in order, then lets silence end a frame. */
static void settle_reader(struct gpio_input *gi, struct reader *r, int64_t now_us)
{
    struct wiegand_frame f;
    int64_t horizon = now_us - REORDER_US;
    int fed = 0;
    while (fed < r->npending && r->pending[fed].t_us <= horizon) {
        const struct wg_edge *e = &r->pending[fed++];
        if (wiegand_edge(&r->dec, e->line, WIEGAND_FALLING, e->t_us, &f))
            on_frame(gi, r, &f);
    }
    memmove(r->pending, r->pending + fed, (size_t)(r->npending - fed) * sizeof r->pending[0]);
    r->npending -= fed;
    if (r->npending == 0 && wiegand_idle(&r->dec, horizon, &f))
        on_frame(gi, r, &f);
}

static int64_t reader_deadline(const struct reader *r)
{
    if (r->npending > 0)
        return r->pending[0].t_us + REORDER_US;
    int64_t d = wiegand_deadline(&r->dec);
    return d < 0 ? -1 : d + REORDER_US;
}

static void read_reader(struct gpio_input *gi, struct reader *r, enum wiegand_line line)
{
    struct gpio_edge_event ev[READ_BATCH];
    int lost = 0;
    int n = gpio_read_events(r->line[line], ev, READ_BATCH, &lost);
    if (n < 0) {
        log_errno(LOG_LVL_ERR, errno, "lane %s: reading Wiegand events",
                  gi->cfg->lanes[r->lane].name);
        return;
    }
    if (lost > 0) { /* a frame with a hole would be a wrong card: drop what we have */
        r->lost += (uint64_t)lost;
        r->npending = 0;
        wiegand_init(&r->dec, &r->lim);
    }
    for (int i = 0; i < n; i++)
        if (ev[i].to_active)
            queue_edge(r, line, ev[i].t_us);
}

/* ---- presence ---------------------------------------------------------------- */

static void read_presence(struct gpio_input *gi, struct presence_input *p)
{
    struct gpio_edge_event ev[READ_BATCH];
    int lost;
    int n = gpio_read_events(p->line, ev, READ_BATCH, &lost);
    if (n < 0) {
        log_errno(LOG_LVL_ERR, errno, "lane %s: reading presence events",
                  gi->cfg->lanes[p->lane].name);
        return;
    }
    if (n > 0) /* quiet must last debounce from the last edge */
        p->settle_at = ev[n - 1].t_us + gi->cfg->gpio.presence_debounce_ms * 1000;
}

static void settle_presence(struct gpio_input *gi, struct presence_input *p, int64_t now_us)
{
    if (p->settle_at < 0 || now_us < p->settle_at)
        return;
    p->settle_at = -1;
    int level = gpio_get(p->line);
    if (level < 0 || level == p->level)
        return;
    p->level = level;
    if (!level)
        return;
    p->rising++;
    atomic_fetch_add(&gi->edges->rising[p->lane], 1u);
    struct event ev = {.kind = EV_PRESENCE, .mono_ms = now_us / 1000, .posted_us = loop_now_us(),
                       .presence_lane = p->lane};
    evq_post(gi->events, &ev);
}

/* ---- the thread -------------------------------------------------------------- */

static int poll_timeout(const struct gpio_input *gi, int64_t now_us)
{
    int64_t at = -1;
    for (int i = 0; i < gi->nreaders; i++) {
        int64_t d = reader_deadline(&gi->readers[i]);
        if (d >= 0 && (at < 0 || d < at))
            at = d;
    }
    for (int i = 0; i < gi->npresence; i++) {
        int64_t d = gi->presence[i].settle_at;
        if (d >= 0 && (at < 0 || d < at))
            at = d;
    }
    if (at < 0)
        return -1;
    return at <= now_us ? 0 : (int)((at - now_us + 999) / 1000);
}

static void *input_thread(void *arg)
{
    struct gpio_input *gi = arg;
    while (!atomic_load(&gi->stop)) {
        int n = poll(gi->fds, (nfds_t)gi->nfds, poll_timeout(gi, loop_now_us()));
        if (n < 0 && errno != EINTR) {
            log_errno(LOG_LVL_ERR, errno, "GPIO input: poll");
            break;
        }
        for (int i = 1; n > 0 && i < gi->nfds; i++) {
            if (!(gi->fds[i].revents & POLLIN))
                continue;
            const struct source *s = &gi->sources[i];
            if (s->reader)
                read_reader(gi, s->reader, s->wline);
            else
                read_presence(gi, s->presence);
        }
        int64_t now = loop_now_us();
        for (int i = 0; i < gi->nreaders; i++)
            settle_reader(gi, &gi->readers[i], now);
        for (int i = 0; i < gi->npresence; i++)
            settle_presence(gi, &gi->presence[i], now);
    }
    return NULL;
}

/* ---- set-up ------------------------------------------------------------------ */

static void add_fd(struct gpio_input *gi, struct gpio_line *l, struct source src)
{
    gi->fds[gi->nfds] = (struct pollfd){.fd = gpio_event_fd(l), .events = POLLIN};
    gi->sources[gi->nfds++] = src;
}

static int open_reader(struct gpio_input *gi, int lane)
{
    const struct cfg_gpio *g = &gi->cfg->gpio;
    struct reader *r = &gi->readers[gi->nreaders++];
    r->lim = (struct wiegand_limits){
        .pulse_min_us = g->wiegand_pulse_min_us, .pulse_max_us = g->wiegand_pulse_max_us,
        .interval_min_us = g->wiegand_interval_min_us, .frame_gap_us = g->wiegand_frame_gap_us,
    };
    r->lane = lane;
    wiegand_init(&r->dec, &r->lim);
    static const int roles[2] = {CFG_IO_WIEGAND_D0, CFG_IO_WIEGAND_D1};
    for (int k = 0; k < 2; k++) {
        r->line[k] = gpio_input_open(&gi->cfg->lanes[lane].io[roles[k]], "gatescreend-wiegand",
                                     GPIO_EDGE_TO_ACTIVE);
        if (!r->line[k])
            return -1;
        add_fd(gi, r->line[k], (struct source){.reader = r, .wline = (enum wiegand_line)k});
    }
    return 0;
}

static int open_presence(struct gpio_input *gi, int lane)
{
    struct presence_input *p = &gi->presence[gi->npresence++];
    *p = (struct presence_input){.lane = lane, .settle_at = -1};
    p->line = gpio_input_open(&gi->cfg->lanes[lane].io[CFG_IO_PRESENCE], "gatescreend-presence",
                              GPIO_EDGE_BOTH);
    if (!p->line)
        return -1;
    int level = gpio_get(p->line);
    p->level = level > 0; /* someone already there at start is not an arrival */
    add_fd(gi, p->line, (struct source){.presence = p});
    return 0;
}

static int open_lines(struct gpio_input *gi)
{
    int n = gi->cfg->nlanes;
    gi->readers = calloc((size_t)n, sizeof *gi->readers);
    gi->presence = calloc((size_t)n, sizeof *gi->presence);
    gi->fds = calloc((size_t)(3 * n + 1), sizeof *gi->fds);
    gi->sources = calloc((size_t)(3 * n + 1), sizeof *gi->sources);
    if (!gi->readers || !gi->presence || !gi->fds || !gi->sources)
        return -1;
    gi->fds[0] = (struct pollfd){.fd = gi->stop_fd, .events = POLLIN};
    gi->nfds = 1;
    for (int i = 0; i < n; i++) {
        const struct cfg_lane *l = &gi->cfg->lanes[i];
        if ((l->identity == CFG_ID_WIEGAND && open_reader(gi, i) < 0) ||
            (l->io[CFG_IO_PRESENCE].present && open_presence(gi, i) < 0))
            return -1;
    }
    return 0;
}

static void release(struct gpio_input *gi)
{
    for (int i = 0; i < gi->nreaders; i++)
        for (int k = 0; k < 2; k++)
            gpio_close(gi->readers[i].line[k]);
    for (int i = 0; i < gi->npresence; i++)
        gpio_close(gi->presence[i].line);
    if (gi->stop_fd >= 0)
        close(gi->stop_fd);
    free(gi->readers);
    free(gi->presence);
    free(gi->fds);
    free(gi->sources);
    free(gi);
}

struct gpio_input *gpio_input_start(const struct config *cfg, struct evq *events,
                                    struct presence_edges *edges)
{
    struct gpio_input *gi = calloc(1, sizeof *gi);
    if (!gi)
        return NULL;
    gi->cfg = cfg;
    gi->events = events;
    gi->edges = edges;
    if ((gi->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        log_errno(LOG_LVL_ERR, errno, "GPIO input: eventfd");
        goto fail;
    }
    if (open_lines(gi) < 0)
        goto fail;
    int err = pthread_create(&gi->thread, NULL, input_thread, gi);
    if (err != 0) {
        log_errno(LOG_LVL_ERR, err, "GPIO input: thread");
        goto fail;
    }
    gi->started = true;
    return gi;
fail:
    release(gi);
    return NULL;
}

static void log_reader_counters(const struct gpio_input *gi, const struct reader *r)
{
    char text[256];
    size_t n = 0;
    for (int k = 1; k < WIEGAND_NOISE_COUNT && n < sizeof text; k++)
        if (r->noise[k])
            n += (size_t)snprintf(text + n, sizeof text - n, ", %s %llu", wiegand_noise_name(k),
                                  (unsigned long long)r->noise[k]);
    log_info("lane %s: Wiegand cards %llu, events lost %llu%s%s", gi->cfg->lanes[r->lane].name,
             (unsigned long long)r->cards, (unsigned long long)r->lost, n ? "; noise" : "",
             n ? text + 1 : "");
}

void gpio_input_stop(struct gpio_input *gi)
{
    if (!gi)
        return;
    if (gi->started) {
        uint64_t one = 1;
        atomic_store(&gi->stop, 1);
        if (write(gi->stop_fd, &one, sizeof one) < 0)
            log_errno(LOG_LVL_WARN, errno, "GPIO input: cannot wake its thread");
        pthread_join(gi->thread, NULL);
    }
    for (int i = 0; i < gi->nreaders; i++)
        log_reader_counters(gi, &gi->readers[i]);
    for (int i = 0; i < gi->npresence; i++)
        log_info("lane %s: presence arrivals %llu", gi->cfg->lanes[gi->presence[i].lane].name,
                 (unsigned long long)gi->presence[i].rising);
    release(gi);
}
