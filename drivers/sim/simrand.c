#include "simrand.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "roster.h"

#define PRESENCE_GAP_MS 1500      /* presence-triggered units need a new edge */
#define UNKNOWN_CARD_MAX 0xFFFFFF /* 24 bits, as a Wiegand-26 reader reports */
#define CARD_REG_MAX 0xFFFFFFFFu  /* what the two card registers hold */

/* Shares of the morning (cumulative thresholds of one uniform draw each). */
#define P_FEVER 0.01
#define P_INVALID 0.03 /* 2% after the fevers */
#define P_NO_CARD 0.01
#define P_UNKNOWN 0.03 /* 2% after those without a card */

struct rdev {
    int device;
    int64_t next_ms;
    double mean_ms;     /* mean gap between arrivals */
    int64_t min_gap_ms; /* so the daemon sees each arrival as its own */
    long step;          /* temperature resolution of the unit, centi-degrees */
};

struct simrand {
    const struct config *cfg;
    uint64_t state;     /* splitmix64 */
    uint32_t *cards;    /* roster cards, sorted */
    int ncards;
    int64_t duration_ms;
    long left;
    int ndevs;
    struct rdev *devs;
};

/* ---- numbers --------------------------------------------------------------- */

static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static double uniform(struct simrand *r) /* [0, 1) */
{
    return (double)(next_u64(&r->state) >> 11) * 0x1.0p-53;
}

static long below(struct simrand *r, long n)
{
    return (long)(uniform(r) * (double)n);
}

/* A multiple of step in [lo, hi] (hi >= lo rounded up to the step). */
static long in_range(struct simrand *r, long lo, long hi, long step)
{
    long first = (lo + step - 1) / step * step;
    return first + step * below(r, (hi - first) / step + 1);
}

/* ---- roster ---------------------------------------------------------------- */

static int read_whole(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    while (b != NULL) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap)
            break; /* end of file or an error, told apart below */
        char *nb = realloc(b, cap *= 2);
        if (nb == NULL)
            free(b);
        b = nb;
    }
    int err = b == NULL ? ENOMEM : ferror(f) ? EIO : 0;
    fclose(f);
    if (err) {
        free(b);
        errno = err;
        return -1;
    }
    *buf = b;
    *len = n;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int collect_cards(struct simrand *r, const struct roster *ro)
{
    r->cards = malloc(((size_t)ro->nrows + 1) * sizeof *r->cards);
    if (r->cards == NULL)
        return -1;
    for (int i = 0; i < ro->nrows; i++) {
        const struct roster_row *row = &ro->rows[i];
        if (row->active && row->has_card && row->card > 0 && row->card <= CARD_REG_MAX)
            r->cards[r->ncards++] = (uint32_t)row->card;
    }
    qsort(r->cards, (size_t)r->ncards, sizeof *r->cards, cmp_u32);
    return 0;
}

static int load_roster(struct simrand *r, const char *path)
{
    char *buf;
    size_t len;
    struct roster *ro = NULL;
    if (read_whole(path, &buf, &len) < 0) {
        log_errno(LOG_LVL_ERR, errno, "%s", path);
        return -1;
    }
    int problems = roster_parse(path, buf, len, &ro, stderr);
    free(buf);
    if (problems)
        return -1;
    int rc = collect_cards(r, ro);
    roster_free(ro);
    if (rc == 0 && r->ncards == 0)
        log_warn("%s: no active person has a card: every card will be unknown", path);
    return rc;
}

/* ---- devices --------------------------------------------------------------- */

static int lane_devices(const struct config *cfg, int lane)
{
    int n = 0;
    for (int i = 0; i < cfg->ndevices; i++)
        n += cfg->devices[i].lane == lane;
    return n;
}

/* At least the gap, then an exponential wait with the mean that keeps the rate. */
static int64_t next_gap(struct simrand *r, const struct rdev *d)
{
    double extra = d->mean_ms - (double)d->min_gap_ms;
    double wait = extra > 0 ? -extra * log(1.0 - uniform(r)) : 0;
    return d->min_gap_ms + llround(wait);
}

static void init_device(struct simrand *r, struct rdev *d, int index, double rate)
{
    const struct cfg_device *dev = &r->cfg->devices[index];
    const struct cfg_profile *p = &r->cfg->profiles[dev->profile];
    const struct cfg_field *body = &p->fields[CFG_F_BODY_TEMP];
    int share = lane_devices(r->cfg, dev->lane);
    d->device = index;
    d->mean_ms = 60000.0 * (share > 0 ? share : 1) / rate;
    d->min_gap_ms = p->trigger != CFG_TRIGGER_SEQUENCE ? PRESENCE_GAP_MS : 2 * dev->poll_ms;
    d->step = body->type == CFG_T_FLOAT32 ? 1 : lround(body->scale * 100.0);
    d->step = d->step < 1 ? 1 : d->step;
    d->next_ms = next_gap(r, d);
    if (d->mean_ms < (double)d->min_gap_ms)
        log_warn("device %s: at most one arrival every %lld ms", dev->name,
                 (long long)d->min_gap_ms);
}

struct simrand *simrand_new(const struct config *cfg, const char *roster_path,
                            const struct simrand_opts *o)
{
    struct simrand *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    *r = (struct simrand){.cfg = cfg, .state = o->seed, .duration_ms = o->duration_ms,
                          .left = o->arrivals};
    if (load_roster(r, roster_path) < 0)
        goto fail;
    r->devs = calloc((size_t)cfg->ndevices + 1, sizeof *r->devs);
    if (r->devs == NULL)
        goto fail;
    for (; r->ndevs < cfg->ndevices; r->ndevs++)
        init_device(r, &r->devs[r->ndevs], r->ndevs, o->rate_per_min);
    return r;
fail:
    simrand_free(r);
    return NULL;
}

void simrand_free(struct simrand *r)
{
    if (r == NULL)
        return;
    free(r->cards);
    free(r->devs);
    free(r);
}

/* ---- arrivals -------------------------------------------------------------- */

static struct rdev *earliest(const struct simrand *r)
{
    struct rdev *best = NULL;
    for (int i = 0; i < r->ndevs; i++)
        if (best == NULL || r->devs[i].next_ms < best->next_ms)
            best = &r->devs[i];
    return best;
}

int64_t simrand_next_due(const struct simrand *r)
{
    const struct rdev *d = r ? earliest(r) : NULL;
    if (d == NULL || r->left == 0 || d->next_ms > r->duration_ms)
        return -1;
    return d->next_ms;
}

static uint32_t draw_card(struct simrand *r)
{
    double u = uniform(r);
    if (u < P_NO_CARD)
        return 0;
    if (u >= P_UNKNOWN && r->ncards > 0)
        return r->cards[below(r, r->ncards)];
    for (;;) { /* a card nobody in the roster has */
        uint32_t c = (uint32_t)(1 + below(r, UNKNOWN_CARD_MAX));
        if (!bsearch(&c, r->cards, (size_t)r->ncards, sizeof c, cmp_u32))
            return c;
    }
}

static void draw_temp(struct simrand *r, const struct rdev *d, struct sim_cmd *cmd)
{
    double u = uniform(r);
    cmd->verb = u >= P_FEVER && u < P_INVALID ? SIM_INVALID : SIM_ARRIVE;
    if (u < P_FEVER)
        cmd->temp_centi = in_range(r, 3730, 3900, d->step);
    else if (u < P_INVALID) /* held too far away: reads cold */
        cmd->temp_centi = in_range(r, 2500, 3390, d->step);
    else
        cmd->temp_centi = in_range(r, 3600, 3710, d->step);
}

void simrand_take(struct simrand *r, struct sim_cmd *cmd)
{
    struct rdev *d = earliest(r);
    *cmd = (struct sim_cmd){.at_ms = d->next_ms, .device = d->device};
    draw_temp(r, d, cmd);
    cmd->card = draw_card(r);
    d->next_ms += next_gap(r, d);
    if (r->left > 0)
        r->left--;
}
