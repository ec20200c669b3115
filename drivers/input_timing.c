/* The timing of GPIO inputs (see input_timing.h). */
#include "input_timing.h"

#include <string.h>

void edge_merge_init(struct edge_merge *m, int64_t hold_us)
{
    memset(m, 0, sizeof *m);
    m->hold_us = hold_us;
}

int edge_merge_add(struct edge_merge *m, const struct merged_edge *e)
{
    int rc = 0;
    if (m->n == EDGE_MERGE_MAX) { /* a flood, not a reader: keep the newest */
        memmove(m->e, m->e + 1, (EDGE_MERGE_MAX - 1) * sizeof m->e[0]);
        m->n--;
        m->dropped++;
        rc = -1;
    }
    int i = m->n++;
    for (; i > 0 && m->e[i - 1].t_us > e->t_us; i--)
        m->e[i] = m->e[i - 1];
    m->e[i] = *e;
    return rc;
}

int64_t edge_merge_horizon(const struct edge_merge *m, int64_t now_us)
{
    return now_us - m->hold_us;
}

int edge_merge_pop(struct edge_merge *m, int64_t now_us, struct merged_edge *out)
{
    if (m->n == 0 || m->e[0].t_us > edge_merge_horizon(m, now_us))
        return 0;
    *out = m->e[0];
    m->n--;
    memmove(m->e, m->e + 1, (size_t)m->n * sizeof m->e[0]);
    return 1;
}

int64_t edge_merge_due(const struct edge_merge *m)
{
    return m->n > 0 ? m->e[0].t_us + m->hold_us : -1;
}

void debounce_init(struct debounce *d, int64_t quiet_us, bool level)
{
    *d = (struct debounce){.quiet_us = quiet_us, .level = level, .due_us = -1};
}

void debounce_edge(struct debounce *d, int64_t t_us)
{
    int64_t due = t_us + d->quiet_us;
    if (d->due_us < 0 || due > d->due_us) /* quiet counts from the latest edge */
        d->due_us = due;
}

bool debounce_due(const struct debounce *d, int64_t now_us)
{
    return d->due_us >= 0 && now_us >= d->due_us;
}

int debounce_settle(struct debounce *d, bool level)
{
    d->due_us = -1;
    bool rising = level && !d->level;
    d->level = level;
    return rising;
}
