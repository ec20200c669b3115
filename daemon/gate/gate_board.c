/* The gates' live state (see gate_board.h). */
#include "gate_board.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

/* Decisions remembered per lane for the per-minute rate: a lane decides at most
 * about one person a second. */
#define RECENT 128
#define MINUTE_MS 60000

struct lane_state {
    struct board_lane view;
    int64_t recent[RECENT];      /* wall ms of the latest decisions, a ring */
    int next;
};

struct gate_board {
    const struct config *cfg;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    uint64_t version;
    bool closed;
    enum device_state dev[CFG_MAX_DEVICES];
    struct lane_state lanes[CFG_MAX_LANES];
};

struct gate_board *gate_board_new(const struct config *cfg)
{
    struct gate_board *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->cfg = cfg;
    b->version = 1;
    pthread_mutex_init(&b->lock, NULL);
    clock_cond_init(&b->changed);
    for (int i = 0; i < cfg->nlanes; i++) {
        struct board_lane *v = &b->lanes[i].view;
        snprintf(v->name, sizeof v->name, "%s", cfg->lanes[i].name);
        snprintf(v->gate, sizeof v->gate, "%s", cfg->lanes[i].gate);
        v->lamp = "off";
        v->outcome = "idle";
        v->device_state = device_state_name(DEV_UNKNOWN);
    }
    return b;
}

void gate_board_free(struct gate_board *b)
{
    if (!b)
        return;
    pthread_cond_destroy(&b->changed);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

static void bump(struct gate_board *b)
{
    b->version++;
    pthread_cond_broadcast(&b->changed);
}

void gate_board_lights(struct gate_board *b, const struct indicator_change *c)
{
    if (!b || c->lane < 0 || c->lane >= b->cfg->nlanes)
        return;
    pthread_mutex_lock(&b->lock);
    struct lane_state *ls = &b->lanes[c->lane];
    struct board_lane *v = &ls->view;
    v->lamp = lamp_name(c->display.lamp);
    v->blink = c->display.blink;
    v->buzzer = c->display.buzzer;
    v->relay = c->display.relay;
    v->outcome = c->outcome < OUT_COUNT ? outcome_name(c->outcome) : c->reason;
    snprintf(v->person, sizeof v->person, "%s", c->external_id ? c->external_id : "");
    v->has_body = c->has_body;
    v->body_centi = c->body_centi;
    v->changed_wall_ms = c->wall_ms;
    if (c->outcome < OUT_COUNT && c->decided_from_us > 0) { /* a new decision, not a hold ending */
        ls->recent[ls->next] = c->wall_ms;
        ls->next = (ls->next + 1) % RECENT;
    }
    bump(b);
    pthread_mutex_unlock(&b->lock);
}

void gate_board_device(struct gate_board *b, int device, enum device_state s)
{
    if (!b || device < 0 || device >= b->cfg->ndevices)
        return;
    pthread_mutex_lock(&b->lock);
    b->dev[device] = s;
    int lane = b->cfg->devices[device].lane;
    if (lane >= 0) {
        enum device_state worst = DEV_UNKNOWN;
        for (int i = 0; i < b->cfg->ndevices; i++)
            if (b->cfg->devices[i].lane == lane && b->dev[i] > worst)
                worst = b->dev[i];
        b->lanes[lane].view.device_state = device_state_name(worst);
    }
    bump(b);
    pthread_mutex_unlock(&b->lock);
}

void gate_board_terminal(struct gate_board *b, int lane, enum device_state s, bool skewed,
                         int64_t skew_ms)
{
    if (!b || lane < 0 || lane >= b->cfg->nlanes)
        return;
    pthread_mutex_lock(&b->lock);
    struct board_lane *v = &b->lanes[lane].view;
    v->device_state = device_state_name(s); /* a terminal's lane has no other device */
    v->clock_skewed = skewed;
    v->clock_skew_ms = skew_ms;
    bump(b);
    pthread_mutex_unlock(&b->lock);
}

/* A lane that keeps deciding more people a minute than its shortest pattern
 * allows (hold_admit per person, plus a second to measure) has people waiting. */
static bool outpaced(const struct config *cfg, int per_minute)
{
    int64_t per_person = cfg->screening.hold_admit_ms + 1000;
    return per_minute > 0 && (int64_t)per_minute * per_person >= MINUTE_MS;
}

uint64_t gate_board_read(struct gate_board *b, int64_t now_wall_ms, struct board_lane *out,
                         int max, int *n)
{
    pthread_mutex_lock(&b->lock);
    *n = b->cfg->nlanes < max ? b->cfg->nlanes : max;
    for (int i = 0; i < *n; i++) {
        const struct lane_state *ls = &b->lanes[i];
        out[i] = ls->view;
        int count = 0;
        for (int k = 0; k < RECENT; k++)
            count += ls->recent[k] > 0 && now_wall_ms - ls->recent[k] < MINUTE_MS;
        out[i].per_minute = count;
        out[i].queue_warning = outpaced(b->cfg, count);
    }
    uint64_t v = b->version;
    pthread_mutex_unlock(&b->lock);
    return v;
}

uint64_t gate_board_wait(struct gate_board *b, uint64_t seen, int timeout_ms)
{
    struct timespec until = clock_mono_deadline(timeout_ms);
    pthread_mutex_lock(&b->lock);
    while (!b->closed && b->version == seen)
        if (pthread_cond_timedwait(&b->changed, &b->lock, &until) == ETIMEDOUT)
            break;
    uint64_t v = b->closed ? 0 : b->version;
    pthread_mutex_unlock(&b->lock);
    return v;
}

void gate_board_close(struct gate_board *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->lock);
    b->closed = true;
    pthread_cond_broadcast(&b->changed);
    pthread_mutex_unlock(&b->lock);
}
