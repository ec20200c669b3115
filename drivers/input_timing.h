/* The timing of GPIO inputs, pure (no I/O, time passed in, µs of CLOCK_MONOTONIC
 * from the kernel's edge timestamps), used by the GPIO input thread:
 *
 * - edge_merge: a Wiegand reader's D0 and D1 are two fds, read one after the
 *   other, so an edge of one line can be read after a later edge of the other.
 *   Edges wait here, sorted by timestamp, until they are `hold_us` old; only then
 *   does the decoder get them, in order. A marker for lost events takes its place
 *   in the same order.
 * - debounce: a presence sensor counts once it has been quiet for the debounce
 *   time after its last edge; then its level is read (edge types reported by the
 *   v1 kernel interface for both edges can be wrong) and compared with the last. */
#ifndef GS_INPUT_TIMING_H
#define GS_INPUT_TIMING_H

#include <stdbool.h>
#include <stdint.h>

/* Room for two full kernel buffers (2 × 128 edges, libgpiod 2.x) of one reader. */
#define EDGE_MERGE_MAX 256

struct merged_edge {
    int64_t t_us;
    int line;       /* 0: D0, 1: D1 */
    bool lost;      /* a marker: edges were lost here, not an edge */
};

struct edge_merge {
    int64_t hold_us;
    int n;
    uint64_t dropped;                   /* oldest edges pushed out by a flood */
    struct merged_edge e[EDGE_MERGE_MAX]; /* sorted by t_us, ties in arrival order */
};

void edge_merge_init(struct edge_merge *m, int64_t hold_us);
/* Adds an edge (or a lost marker). When full, the oldest is dropped and counted,
 * and the caller should treat that as lost events. Returns -1 then, else 0. */
int edge_merge_add(struct edge_merge *m, const struct merged_edge *e);
/* Takes the oldest edge stamped at or before now - hold: 1 and *out, or 0. */
int edge_merge_pop(struct edge_merge *m, int64_t now_us, struct merged_edge *out);
/* When the oldest waiting edge may be taken; -1 when none waits. */
int64_t edge_merge_due(const struct edge_merge *m);
/* The instant up to which edges have been handed out at `now`: now - hold. */
int64_t edge_merge_horizon(const struct edge_merge *m, int64_t now_us);

struct debounce {
    int64_t quiet_us;
    bool level;        /* the level that counts */
    int64_t due_us;    /* when to read the level; -1: nothing pending */
};

void debounce_init(struct debounce *d, int64_t quiet_us, bool level);
/* An edge at t: the level is read once the line has been quiet for quiet_us. */
void debounce_edge(struct debounce *d, int64_t t_us);
/* Whether the level should be read now. */
bool debounce_due(const struct debounce *d, int64_t now_us);
/* The level read when due: 1 when it became active (an arrival), 0 otherwise. */
int debounce_settle(struct debounce *d, bool level);

#endif
