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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "events.h"
#include "gpio_lines.h"
#include "input_timing.h"
#include "log.h"
#include "loop.h"
#include "wiegand.h"

/* How long an edge waits for a possibly earlier one from the other line: far
 * longer than an interrupt's way into the kernel buffer, far shorter than the
 * frame gap. */
#define REORDER_US 3000
/* Events taken per read; a line is read until it has no more. */
#define READ_BATCH 64
#define LOG_MAX_INTERVAL_MS 60000
#define MAX_POLL_MS 60000

struct reader {
    int lane;
    struct gpio_line *line[2];
    struct wiegand_limits lim;
    struct wiegand dec;
    struct edge_merge merge;
    uint64_t cards, lost, noise[WIEGAND_NOISE_COUNT];
    struct log_limit noise_log[WIEGAND_NOISE_COUNT]; /* each kind is news on its own */
};

struct presence_input {
    int lane;
    struct gpio_line *line;
    struct debounce db;
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
    struct pollfd *fds;         /* [0] is the stop eventfd; -1: a line given up on */
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
        log_limited(&r->noise_log[f->noise], loop_now_ms(), LOG_MAX_INTERVAL_MS, LOG_LVL_WARN,
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

/* Feeds the edges old enough to be in order, then lets silence end a frame. */
static void settle_reader(struct gpio_input *gi, struct reader *r, int64_t now_us)
{
    struct wiegand_frame f;
    struct merged_edge e;
    while (edge_merge_pop(&r->merge, now_us, &e)) {
        int ended = e.lost ? wiegand_lost(&r->dec, e.t_us, &f)
                           : wiegand_edge(&r->dec, (enum wiegand_line)e.line, WIEGAND_FALLING,
                                          e.t_us, &f);
        if (ended)
            on_frame(gi, r, &f);
    }
    if (edge_merge_due(&r->merge) < 0 &&
        wiegand_idle(&r->dec, edge_merge_horizon(&r->merge, now_us), &f))
        on_frame(gi, r, &f);
}

static int64_t reader_deadline(const struct reader *r)
{
    int64_t due = edge_merge_due(&r->merge);
    if (due >= 0)
        return due;
    int64_t d = wiegand_deadline(&r->dec);
    return d < 0 || d > INT64_MAX - REORDER_US ? d : d + REORDER_US;
}

/* A hole in the events poisons the frame it falls in: a frame with a hole could
 * still have a good parity, and that would be someone else's card. */
static void mark_lost(struct reader *r, int64_t t_us, int line)
{
    struct merged_edge marker = {.t_us = t_us, .line = line, .lost = true};
    r->lost++;
    edge_merge_add(&r->merge, &marker);
}

/* Reads one line's events until none wait (a second batch read later would come
 * after the other line's newer edges). Returns 0, or -1 when the line failed. */
static int read_reader(struct reader *r, enum wiegand_line line)
{
    struct gpio_edge_event ev[READ_BATCH];
    int n;
    int64_t lost_at;
    do {
        if ((n = gpio_read_events(r->line[line], ev, READ_BATCH, &lost_at)) < 0)
            return -1;
        if (lost_at >= 0)
            mark_lost(r, lost_at, line);
        for (int i = 0; i < n; i++) {
            struct merged_edge e = {.t_us = ev[i].t_us, .line = line};
            if (ev[i].to_active && edge_merge_add(&r->merge, &e) < 0)
                mark_lost(r, ev[i].t_us, line); /* pushed out by a flood */
        }
    } while (n > 0 && gpio_events_waiting(r->line[line]));
    return 0;
}

/* ---- presence ---------------------------------------------------------------- */

static int read_presence(struct presence_input *p)
{
    struct gpio_edge_event ev[READ_BATCH];
    int n;
    int64_t lost_at; /* a lost edge changes nothing: the level is read after quiet */
    do {
        if ((n = gpio_read_events(p->line, ev, READ_BATCH, &lost_at)) < 0)
            return -1;
        if (n > 0)
            debounce_edge(&p->db, ev[n - 1].t_us);
    } while (n > 0 && gpio_events_waiting(p->line));
    return 0;
}

static void settle_presence(struct gpio_input *gi, struct presence_input *p, int64_t now_us)
{
    if (!debounce_due(&p->db, now_us))
        return;
    int level = gpio_get(p->line);
    if (level < 0 || !debounce_settle(&p->db, level == 1))
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
        int64_t d = gi->presence[i].db.due_us;
        if (d >= 0 && (at < 0 || d < at))
            at = d;
    }
    if (at < 0)
        return -1;
    if (at <= now_us)
        return 0;
    int64_t ms = (at - now_us) / 1000 + 1;
    return ms > MAX_POLL_MS ? MAX_POLL_MS : (int)ms;
}

/* A line that errs or hangs up (its chip unbound, an expander unplugged) would
 * wake poll forever: it is logged and left out until the daemon restarts. */
static void give_up_line(struct gpio_input *gi, int i, int err)
{
    const struct source *s = &gi->sources[i];
    int lane = s->reader ? s->reader->lane : s->presence->lane;
    const char *what = s->reader ? (s->wline == WIEGAND_D0 ? "wiegand_d0" : "wiegand_d1")
                                 : "presence";
    log_errno(LOG_LVL_ERR, err, "lane %s: GPIO %s failed; not read any more",
              gi->cfg->lanes[lane].name, what);
    gi->fds[i].fd = -1;
}

static void read_ready(struct gpio_input *gi)
{
    for (int i = 1; i < gi->nfds; i++) {
        short ev = gi->fds[i].revents;
        if (gi->fds[i].fd < 0 || !ev)
            continue;
        const struct source *s = &gi->sources[i];
        int rc = 0;
        if (ev & POLLIN)
            rc = s->reader ? read_reader(s->reader, s->wline) : read_presence(s->presence);
        if (rc < 0 || (ev & (POLLERR | POLLHUP | POLLNVAL)))
            give_up_line(gi, i, rc < 0 ? errno : EIO);
    }
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
        if (n > 0)
            read_ready(gi);
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
    edge_merge_init(&r->merge, REORDER_US);
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
    p->lane = lane;
    p->line = gpio_input_open(&gi->cfg->lanes[lane].io[CFG_IO_PRESENCE], "gatescreend-presence",
                              GPIO_EDGE_BOTH);
    if (!p->line)
        return -1;
    /* Someone already there at start is not an arrival. */
    debounce_init(&p->db, gi->cfg->gpio.presence_debounce_ms * 1000, gpio_get(p->line) == 1);
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
