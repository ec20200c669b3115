/* bench_gate: decision latency and committed decisions per second (issue 4).
 *
 * One process mirrors the daemon's path from a reading to a light: producer
 * threads (standing in for the bus threads) post EV_READING events into a real
 * evq; the main thread runs a real loop with the queue's eventfd watched, drains
 * it and calls gate_on_reading + gate_flush exactly as daemon.c's
 * on_events_readable does (one SQLite transaction per drained batch, lights after
 * the commit), on a real ledger file (WAL, synchronous=FULL) holding a 2,000
 * person roster. An indicator backend given to gate_new records every light
 * change a decision causes:
 *   latency     = indicator set - the reading's post time as the gate got it
 *                 (ev->posted_us, as daemon.c passes it: queue, wake-up,
 *                 decision, ledger rows, commit, light);
 *   post->light = the same span from the bench's own record of each post (per
 *                 lane, in order): a check on the gate's figure.
 * Not covered: the Modbus poll (tests/bench/bench_modbus.py) and the daemon's
 * one info log line per reading.
 *
 * Scenarios, run in every round, interleaved; medians over the rounds:
 *   4-lanes      4 lanes, one reading on each together every 100-200 ms
 *   64-burst     64 lanes, all 64 readings posted at once (4 producers), every
 *                100 ms, 50 bursts
 *   sustained    64 lanes, 4 producers posting as fast as the queue takes, for
 *                --seconds; committed decisions per second (group commit)
 *   per-reading  the same with a commit after every single reading
 *   5k-quiet     issue 13: a ledger of 5,000 people and 30 days of readings, 8
 *                lanes, one reading on each together every 50-100 ms, 100 times
 *   5k-fig-loop  the same while the day's figures are built and stored again and
 *                again on the main loop, between the lanes' events (how
 *                schedule.c built them before issue 13)
 *   5k-fig-worker the same with the figures built and stored over and over by the
 *                day worker (daemon/gate/dayworker.c: its own thread and SQLite
 *                connection), as schedule.c has them built since issue 13
 *
 *   bench_gate [--rounds 3] [--seconds 10] [--db-dir DIR] [--only PREFIX]
 *
 * DIR (default: a new folder under /var/tmp) must be on a real disk: tmpfs is
 * refused, since an fsync there costs nothing. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "civil.h"
#include "clock.h"
#include "config_load.h"
#include "dayworker.h"
#include "events.h"
#include "evqueue.h"
#include "gate.h"
#include "indicator.h"
#include "ledger.h"
#include "ledger_health.h"
#include "log.h"
#include "loop.h"
#include "roster.h"
#include "zone.h"

#define EVENT_QUEUE_CAPACITY 4096 /* as daemon.c */
#define PEOPLE 2000
#define BIG_PEOPLE 5000  /* issue 13: the day's figures for a big school */
#define BIG_DAYS 30      /* days of readings and checks in that ledger, today included */
#define FIGURES_EVERY_MS 100 /* a new build of the day's figures at most this often */
#define CARD_BASE 10000000ULL
#define UNKNOWN_CARD_BASE 90000000ULL
#define MAX_PRODUCERS 4
#define FIFO 2048      /* per lane: received, not yet shown (the gate holds <= 128) */
#define MAX_ROUNDS 15

enum mode { PACED, FLOOD };
enum figures { FIG_NONE, FIG_LOOP, FIG_WORKER };

struct scenario {
    const char *key, *title;
    int lanes, producers;
    enum mode mode;
    int ticks;            /* PACED: readings per lane */
    int gap_min_ms, gap_max_ms;
    int flush_every;      /* also commit after every N readings of a batch (0: never) */
    bool big;             /* the 5,000-person ledger with BIG_DAYS of readings */
    enum figures figures; /* the day's figures built during the run, and where */
};

static const struct scenario scenarios[] = {
    {"4-lanes", "4 lanes, one reading on each together every 100-200 ms, 50 times",
     4, 1, PACED, 50, 100, 200, 0, false, FIG_NONE},
    {"64-burst", "64 lanes, all 64 posted at once by 4 producers, every 100 ms, 50 bursts",
     64, 4, PACED, 50, 100, 100, 0, false, FIG_NONE},
    {"sustained", "64 lanes, 4 producers flat out, one commit per drained batch",
     64, 4, FLOOD, 0, 0, 0, 0, false, FIG_NONE},
    {"per-reading", "the same, a commit after every single reading (no group commit)",
     64, 4, FLOOD, 0, 0, 0, 1, false, FIG_NONE},
    {"5k-quiet", "5,000 people, 30 days of readings; 8 lanes, one reading on each together "
     "every 50-100 ms, 100 times", 8, 1, PACED, 100, 50, 100, 0, true, FIG_NONE},
    {"5k-fig-loop", "the same, the day's figures built and stored over and over on the main "
     "loop (before issue 13)", 8, 1, PACED, 100, 50, 100, 0, true, FIG_LOOP},
    {"5k-fig-worker", "the same, built and stored over and over by the day worker's thread "
     "(since issue 13)", 8, 1, PACED, 100, 50, 100, 0, true, FIG_WORKER},
};
#define NSCEN ((int)(sizeof scenarios / sizeof scenarios[0]))

struct samples {
    int64_t *v;
    size_t n, cap;
};

struct fifo {
    int64_t posted_us[FIFO];
    unsigned head, tail;
};

struct result {
    long long decisions, errors, discarded, rows, checks, flags, commits;
    double seconds, per_s, cpu_us;
    int64_t lat[3], e2e[3]; /* p50, p99, max */
    long long builds;        /* the day's figures built and stored during the run */
    int64_t build_ms[3];     /* how long one build took: p50, p99, max */
    bool ok;
};

struct run {
    const struct scenario *sc;
    struct config *cfg;
    struct loop *loop;
    struct evq *q;
    struct ledger *ledger;
    struct gate *gate;
    int64_t t0_us, stop_at_us, deadline_us, end_us, base_wall_ms;
    pthread_t threads[MAX_PRODUCERS];
    atomic_int stop, producers_left;
    atomic_llong posted;
    /* main thread only */
    struct fifo fifo[CFG_MAX_LANES];
    long long shown, errors, commits;
    int unflushed;
    struct samples lat, e2e;
    bool timed_out;
    char day[CIVIL_DAY_LEN];  /* the readings' day: the figures' day */
    struct samples builds;    /* ms a build of the day's figures took */
    long long seeded;         /* readings rows in the template */
    struct dayworker *worker; /* FIG_WORKER */
    int64_t posted_job_us;    /* FIG_WORKER: when the build under way was asked for */
};

struct producer {
    struct run *r;
    int index;
    uint64_t rng;
};

static struct run *current; /* what the indicator backend records into */
static bool chosen[NSCEN];  /* scenarios this invocation runs (--only) */

/* ---- small helpers --------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717ULL;
}

static void sleep_until_us(int64_t at_us)
{
    struct timespec ts = {.tv_sec = at_us / 1000000, .tv_nsec = (at_us % 1000000) * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static int64_t thread_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void samples_add(struct samples *s, int64_t v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        int64_t *nv = realloc(s->v, cap * sizeof *nv);
        if (!nv) {
            fprintf(stderr, "bench_gate: out of memory\n");
            exit(1);
        }
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = v;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* p50, p99 (nearest rank) and max. */
static void percentiles(struct samples *s, int64_t out[3])
{
    out[0] = out[1] = out[2] = -1;
    if (s->n == 0)
        return;
    qsort(s->v, s->n, sizeof *s->v, cmp_i64);
    size_t i50 = (s->n * 50 + 99) / 100, i99 = (s->n * 99 + 99) / 100;
    out[0] = s->v[i50 ? i50 - 1 : 0];
    out[1] = s->v[i99 ? i99 - 1 : 0];
    out[2] = s->v[s->n - 1];
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- the indicator backend: records, shows nothing ------------------------- */

/* A paced run is over when every reading posted has been shown. */
static bool paced_done(struct run *r)
{
    return r->sc->mode == PACED && atomic_load(&r->producers_left) == 0 &&
           r->shown + r->errors == atomic_load(&r->posted);
}

static void *rec_open(const struct config *cfg, struct loop *loop)
{
    (void)loop;
    (void)cfg;
    return current;
}

static int rec_set(void *h, const struct config *cfg, const struct indicator_change *c)
{
    (void)cfg;
    struct run *r = h;
    if (c->decided_from_us <= 0)
        return 0; /* idle at start, end of a hold, safe state: not a decision */
    struct fifo *f = &r->fifo[c->lane];
    int64_t posted = f->head != f->tail ? f->posted_us[f->tail++ % FIFO] : c->decided_from_us;
    if (c->outcome == OUT_COUNT) { /* ledger-error: the commit failed, amber */
        r->errors++;
        return 0;
    }
    r->shown++;
    samples_add(&r->lat, c->mono_us - c->decided_from_us);
    samples_add(&r->e2e, c->mono_us - posted);
    if (paced_done(r)) {
        r->end_us = c->mono_us;
        loop_stop(r->loop);
    }
    return 0;
}

static void rec_close(void *h)
{
    (void)h;
}

static const struct indicator_ops indicator_record = {
    .name = "bench", .open = rec_open, .set = rec_set, .close = rec_close,
};

/* ---- the main thread: daemon.c's path -------------------------------------- */

static void count_flush(struct run *r, int n)
{
    if (n != 0)
        r->commits++;
}

/* daemon.c's on_event for EV_READING (without its info log line). */
static void on_event(const void *elem, void *arg)
{
    const struct event *ev = elem;
    struct run *r = arg;
    if (ev->kind != EV_READING)
        return;
    struct fifo *f = &r->fifo[ev->reading.lane];
    if (f->head - f->tail == FIFO) {
        fprintf(stderr, "bench_gate: lane %d: more than %d readings waiting\n", ev->reading.lane,
                FIFO);
        exit(1);
    }
    f->posted_us[f->head++ % FIFO] = ev->posted_us;
    long long before = r->shown + r->errors;
    gate_on_reading(r->gate, &ev->reading, ev->posted_us);
    if (r->sc->flush_every && ++r->unflushed == r->sc->flush_every) {
        r->unflushed = 0;
        count_flush(r, gate_flush(r->gate));
    } else if (r->shown + r->errors > before) {
        r->commits++; /* the gate flushed by itself: 128 decisions pending */
    }
}

/* Copied from daemon.c. */
static void on_events_readable(struct loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    struct run *r = arg;
    evq_drain(r->q, on_event, r);
    count_flush(r, gate_flush(r->gate)); /* one commit for the whole batch, then the lights */
    r->unflushed = 0;
}

/* schedule.c before issue 13: the day's figures built and stored on the main
 * loop's thread and the gate's connection, between the lanes' events. */
static void on_figures_loop(struct loop *loop, void *arg)
{
    (void)loop;
    struct run *r = arg;
    struct day_figures f;
    int64_t t = loop_now_us();
    if (ledger_day_figures(r->ledger, r->day, &r->cfg->windows, &f) < 0 ||
        ledger_store_day_figures(r->ledger, &f) < 0) {
        fprintf(stderr, "bench_gate: the day's figures failed\n");
        exit(1);
    }
    samples_add(&r->builds, (loop_now_us() - t) / 1000);
}

/* Since issue 13: the day worker builds and stores them (a day-end job), on its
 * own thread and connection; as soon as one build is done the next is asked for. */
static void post_figures_job(struct run *r)
{
    struct day_job j = {.event = DAY_END, .windows = r->cfg->windows, .again = true};
    snprintf(j.day, sizeof j.day, "%s", r->day);
    for (int i = 0; i < CFG_MAX_LANES; i++)
        j.permille[i] = -1;
    r->posted_job_us = loop_now_us();
    if (dayworker_post(r->worker, &j) < 0) {
        fprintf(stderr, "bench_gate: the day worker took no job\n");
        exit(1);
    }
}

static void on_figures_done(const struct day_done *d, void *arg)
{
    struct run *r = arg;
    if (!d->ok || !d->off_main) {
        fprintf(stderr, "bench_gate: the day worker's figures failed\n");
        exit(1);
    }
    samples_add(&r->builds, (loop_now_us() - r->posted_job_us) / 1000);
    post_figures_job(r);
}

/* Is the run over? A flood ends at stop_at: the queue is closed and what is still
 * in it never reaches the gate (counted as discarded). A paced run normally ends
 * in rec_set; this catches the last producer finishing after the last light. */
static void on_check(struct loop *loop, void *arg)
{
    struct run *r = arg;
    int64_t now = loop_now_us();
    if (r->sc->mode == FLOOD && now >= r->stop_at_us) {
        atomic_store(&r->stop, 1);
        evq_close(r->q);
        r->end_us = now;
        loop_stop(loop);
    } else if (paced_done(r)) {
        r->end_us = now;
        loop_stop(loop);
    } else if (now > r->deadline_us) {
        r->timed_out = true;
        r->end_us = now;
        atomic_store(&r->stop, 1);
        evq_close(r->q);
        loop_stop(loop);
    }
}

/* ---- producers (the bus threads) ------------------------------------------- */

/* 3% unknown cards, 2% fevers, 1% out of range, the rest 36.00-37.19 with a
 * roster card. */
static void make_event(struct run *r, struct producer *p, int lane, uint32_t seq,
                       struct event *ev)
{
    int64_t now = loop_now_us();
    *ev = (struct event){.kind = EV_READING, .mono_ms = now / 1000, .posted_us = now};
    struct reading *rd = &ev->reading;
    uint64_t x = rng_next(&p->rng);
    int kind = (int)(x % 100), person = (int)((x >> 8) % PEOPLE);
    int32_t body = 3600 + (int32_t)((x >> 24) % 120);
    if (kind >= 3 && kind < 5)
        body = 3750 + (int32_t)((x >> 24) % 150);
    else if (kind == 5)
        body = 3000;
    rd->device = rd->lane = lane;
    rd->mono_ms = now / 1000;
    rd->wall_ms = r->base_wall_ms + (now - r->t0_us) / 1000;
    rd->raw_centi = rd->body_centi = body;
    rd->has_ambient = true;
    rd->ambient_centi = 2150;
    rd->has_status = true;
    rd->status = 0x5;
    rd->device_valid = true;
    rd->has_card = true;
    rd->card = (kind < 3 ? UNKNOWN_CARD_BASE : CARD_BASE) + (uint64_t)person;
    rd->has_sequence = true;
    rd->sequence = seq;
}

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    struct run *r = p->r;
    const struct scenario *sc = r->sc;
    uint64_t ticks = 0x9e3779b97f4a7c15ULL; /* same seed in every producer: same ticks */
    int64_t at = r->t0_us;
    uint32_t seq = 0;
    sleep_until_us(r->t0_us);
    for (int k = 0; sc->mode == FLOOD || k < sc->ticks; k++) {
        if (sc->mode == PACED) {
            sleep_until_us(at);
            int span = sc->gap_max_ms - sc->gap_min_ms + 1;
            at += (sc->gap_min_ms + (int)(rng_next(&ticks) % (uint64_t)span)) * 1000;
        }
        for (int lane = p->index; lane < sc->lanes; lane += sc->producers) {
            struct event ev;
            if (atomic_load(&r->stop))
                goto out;
            make_event(r, p, lane, seq++, &ev);
            if (evq_post(r->q, &ev) < 0)
                goto out;
            atomic_fetch_add(&r->posted, 1);
        }
    }
out:
    atomic_fetch_sub(&r->producers_left, 1);
    return NULL;
}

/* ---- set-up ---------------------------------------------------------------- */

static struct config *make_config(int lanes, const char *db)
{
    size_t cap = 1024 + strlen(db) + (size_t)lanes * 160, len = 0;
    char *t = malloc(cap);
    if (!t)
        return NULL;
    len += (size_t)snprintf(t + len, cap - len,
                            "[daemon]\nlog_level = warning\n"
                            "[school]\ncode = BENCH\nname = bench\ntimezone = Asia/Shanghai\n"
                            "[ledger]\ndatabase = %s\nsynchronous = full\n"
                            "[windows]\nmorning = 07:00-08:30\ndays = mon-sun\n"
                            "[bus gw]\ntcp = 127.0.0.1:1\n", db);
    for (int i = 0; i < lanes; i++)
        len += (size_t)snprintf(t + len, cap - len,
                                "[lane l%d]\ngate = g\nidentity = device\nindicator = console\n"
                                "[device d%d]\nbus = gw\nunit = %d\nlane = l%d\n",
                                i, i, i + 1, i);
    struct config *cfg = config_parse("bench.conf", t, len, "/", stderr);
    free(t);
    return cfg;
}

/* One statement with ?1 a day, ?2 a time and ?3 a number. */
static int exec_sql(sqlite3 *h, const char *sql, const char *day, int64_t at_ms, int n)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
                     sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC) == SQLITE_OK &&
                     sqlite3_bind_int64(st, 2, at_ms) == SQLITE_OK &&
                     sqlite3_bind_int(st, 3, n) == SQLITE_OK && sqlite3_step(st) == SQLITE_DONE
                 ? 0
                 : -1;
    if (rc < 0)
        fprintf(stderr, "bench_gate: %s\n", sqlite3_errmsg(h));
    sqlite3_finalize(st);
    return rc;
}

/* BIG_DAYS of a school's mornings: a reading and a morning check for everyone on
 * each past day, for 4 in 5 so far today; a fever flag and an absence now and then. */
static int seed_days(const char *path)
{
    char today[CIVIL_DAY_LEN], day[CIVIL_DAY_LEN];
    sqlite3 *h = NULL;
    int rc = civil_day_of(clock_wall_ms(), today) == 0 &&
                     sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
                     sqlite3_exec(h, "BEGIN", NULL, NULL, NULL) == SQLITE_OK
                 ? 0
                 : -1;
    for (int k = 0; rc == 0 && k < BIG_DAYS; k++) {
        int64_t at = 0;
        rc = civil_day_add(today, -k, day) == 0 && civil_ms_at(day, 7 * 3600, &at) == 0 &&
                     exec_sql(h, "INSERT INTO readings (at_ms, person_id, card_no, raw_centi, "
                                 "body_centi, quality, threshold_centi, outcome, day) SELECT "
                                 "?2 + id * 300, id, 10000000 + id - 1, 3600 + id % 100, "
                                 "3600 + id % 100, 'valid', 3730, 'admit', ?1 FROM people "
                                 "WHERE id % 5 <> 0 OR ?3 > 0",
                              day, at, k) == 0 &&
                     exec_sql(h, "INSERT INTO checks (person_id, day, window, temp_centi, "
                                 "threshold_centi, instrument, reading_id, by_user, at_ms) "
                                 "SELECT person_id, day, 'morning', body_centi, 3730, 'gate', "
                                 "id, 'gate', at_ms FROM readings WHERE day = ?1 AND ?2 > ?3",
                              day, at, 0) == 0 &&
                     exec_sql(h, "INSERT INTO absences (person_id, day, cause, recorded_by, "
                                 "recorded_ms) SELECT id, ?1, 'illness', 'bench', ?2 FROM "
                                 "people WHERE id % 97 = 0 AND ?3 = 0", day, at, 0) == 0
                 ? 0
                 : -1;
    }
    if (rc == 0 && sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = -1;
    sqlite3_close(h);
    return rc;
}

/* The template ledger: schema and roster (`people` people, one card each). */
static int make_template(const char *path, int people)
{
    size_t cap = (size_t)people * 96 + 64, len = 0;
    char *csv = malloc(cap);
    if (!csv)
        return -1;
    len += (size_t)snprintf(csv, cap, "external_id,kind,name,grade,class,card\n");
    for (int i = 0; i < people; i++) {
        bool student = i < people - people / 20;
        len += (size_t)snprintf(csv + len, cap - len, "%s%05d,%s,学生%d,%d年级,%d年级%d班,%llu\n",
                                student ? "S" : "T", i, student ? "student" : "teacher", i,
                                1 + i % 6, 1 + i % 6, 1 + (i / 6) % 8,
                                CARD_BASE + (unsigned long long)i);
    }
    struct roster *ro = NULL;
    struct ledger *l = NULL;
    struct roster_import_stats st;
    struct ledger_opts lo = {.synchronous_full = true};
    int rc = roster_parse("bench.csv", csv, len, &ro, stderr) == 0 &&
                     ledger_open(path, &lo, &l) == 0 &&
                     ledger_import_roster(l, ro, "bench.csv", false, "bench", &st, stderr) == 0
                 ? 0
                 : -1;
    ledger_close(l);
    roster_free(ro);
    free(csv);
    return rc == 0 && people == BIG_PEOPLE ? seed_days(path) : rc;
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    char buf[1 << 16];
    ssize_t n = 0;
    int rc = in >= 0 && out >= 0 ? 0 : -1;
    while (rc == 0 && (n = read(in, buf, sizeof buf)) > 0)
        rc = write(out, buf, (size_t)n) == n ? 0 : -1;
    if (rc == 0 && (n < 0 || fsync(out) < 0))
        rc = -1;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return rc;
}

static void remove_db(const char *db)
{
    char p[PATH_MAX + 8];
    unlink(db);
    snprintf(p, sizeof p, "%s-wal", db);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", db);
    unlink(p);
}

/* ---- one run ---------------------------------------------------------------- */

static long long count_rows(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    long long n = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

static int start_run(struct run *r, const char *tmpl, const char *db, double seconds)
{
    remove_db(db);
    if (copy_file(tmpl, db) < 0 ||
        (r->seeded = count_rows(db, "SELECT count(*) FROM readings")) < 0 ||
        !(r->cfg = make_config(r->sc->lanes, db)) ||
        !(r->loop = loop_new()) || !(r->q = evq_new(sizeof(struct event), EVENT_QUEUE_CAPACITY)) ||
        loop_add_fd(r->loop, evq_fd(r->q), EPOLLIN, on_events_readable, r) < 0 ||
        !loop_timer_add(r->loop, 10, r->sc->mode == FLOOD ? 10 : 50, on_check, r))
        return -1;
    struct ledger_opts lo = {.synchronous_full = r->cfg->ledger.synchronous_full};
    if (!lo.synchronous_full || ledger_open(db, &lo, &r->ledger) < 0)
        return -1;
    current = r;
    if (!(r->gate = gate_new(r->cfg, r->ledger, r->loop, &indicator_record)))
        return -1;
    /* 07:30 today in the school's zone: inside the morning window, so checks are
     * written too. */
    if (civil_day_of(clock_wall_ms(), r->day) < 0 ||
        civil_ms_at(r->day, 7 * 3600 + 1800, &r->base_wall_ms) < 0)
        return -1;
    if (r->sc->figures == FIG_LOOP &&
        !loop_timer_add(r->loop, 20, FIGURES_EVERY_MS, on_figures_loop, r))
        return -1;
    if (r->sc->figures == FIG_WORKER) {
        if (!(r->worker = dayworker_start(r->cfg, r->loop, on_figures_done, r)))
            return -1;
        post_figures_job(r);
    }
    r->t0_us = loop_now_us() + 20000;
    r->stop_at_us = r->t0_us + (int64_t)(seconds * 1e6);
    r->deadline_us = r->t0_us + 60 * 1000000LL;
    return 0;
}

static void finish_run(struct run *r, const char *db, int64_t cpu_us, struct result *out)
{
    *out = (struct result){.decisions = r->shown, .errors = r->errors, .commits = r->commits};
    out->discarded = atomic_load(&r->posted) - r->shown - r->errors;
    out->seconds = (double)(r->end_us - r->t0_us) / 1e6;
    out->per_s = out->seconds > 0 ? (double)r->shown / out->seconds : 0;
    out->cpu_us = r->shown ? (double)cpu_us / (double)r->shown : 0;
    percentiles(&r->lat, out->lat);
    percentiles(&r->e2e, out->e2e);
    dayworker_stop(r->worker); /* the build under way finishes */
    out->builds = (long long)r->builds.n;
    percentiles(&r->builds, out->build_ms);
    gate_free(r->gate);
    ledger_close(r->ledger);
    out->rows = count_rows(db, "SELECT count(*) FROM readings") - r->seeded;
    out->checks = count_rows(db, "SELECT count(*) FROM checks");
    out->flags = count_rows(db, "SELECT count(*) FROM flags");
    out->ok = !r->timed_out && out->rows == r->shown && r->errors == 0 &&
              (r->sc->mode == FLOOD || out->discarded == 0);
    evq_free(r->q);
    loop_free(r->loop);
    config_free(r->cfg);
    free(r->lat.v);
    free(r->e2e.v);
    free(r->builds.v);
}

static int run_scenario(const struct scenario *sc, const char *dir, const char *const tmpl[2],
                        double seconds, struct result *out)
{
    char db[PATH_MAX];
    snprintf(db, sizeof db, "%s/ledger-%s.db", dir, sc->key);
    struct run *r = calloc(1, sizeof *r);
    struct producer prod[MAX_PRODUCERS];
    if (!r)
        return -1;
    r->sc = sc;
    if (start_run(r, tmpl[sc->big], db, seconds) < 0) {
        fprintf(stderr, "bench_gate: %s: set-up failed\n", sc->key);
        exit(1);
    }
    atomic_store(&r->producers_left, sc->producers);
    for (int i = 0; i < sc->producers; i++) {
        prod[i] = (struct producer){.r = r, .index = i, .rng = 0x1234567ULL * (uint64_t)(i + 1)};
        if (pthread_create(&r->threads[i], NULL, producer_main, &prod[i]) != 0)
            exit(1);
    }
    int64_t cpu0 = thread_cpu_us();
    loop_run(r->loop);
    int64_t cpu = thread_cpu_us() - cpu0;
    for (int i = 0; i < sc->producers; i++)
        pthread_join(r->threads[i], NULL);
    finish_run(r, db, cpu, out);
    remove_db(db);
    free(r);
    return 0;
}

/* ---- the machine ------------------------------------------------------------- */

static const char *fs_name(long type)
{
    switch ((unsigned long)type) {
    case 0xEF53: return "ext2/3/4";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0xF2F52010: return "f2fs";
    case 0x01021994: return "tmpfs";
    case 0x858458f6: return "ramfs";
    case 0x794c7630: return "overlayfs";
    case 0x6969: return "nfs";
    case 0x2fc12fc1: return "zfs";
    default: return "unknown";
    }
}

/* Appends the block device's cache mode ("write back": an fsync makes the kernel
 * send a flush to the device; "write through": no flush needed). */
static void write_cache(const char *mount, char *out, size_t size)
{
    char dev[256], path[600], mode[64];
    static const char *const where[] = {"/sys/class/block/%s/queue/write_cache",
                                        "/sys/class/block/%s/../queue/write_cache"};
    if (sscanf(mount, "/dev/%255s", dev) != 1)
        return;
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, where[i], dev);
        FILE *f = fopen(path, "r");
        if (f && fgets(mode, sizeof mode, f)) {
            mode[strcspn(mode, "\n")] = 0;
            size_t n = strlen(out);
            snprintf(out + n, size - n, ", %s cache", mode);
            fclose(f);
            return;
        }
        if (f)
            fclose(f);
    }
}

/* The mount holding `dir` (longest mount point that prefixes it), from
 * /proc/self/mounts: "SOURCE on MOUNTPOINT type TYPE". */
static void describe_mount(const char *dir, char *out, size_t size)
{
    char real[PATH_MAX], src[512], mnt[512], type[64], best[1200] = "";
    size_t best_len = 0;
    FILE *f = fopen("/proc/self/mounts", "r");
    if (!realpath(dir, real) || !f) {
        snprintf(out, size, "?");
        if (f)
            fclose(f);
        return;
    }
    while (fscanf(f, "%511s %511s %63s %*[^\n]", src, mnt, type) == 3) {
        size_t n = strlen(mnt);
        bool under = strncmp(real, mnt, n) == 0 && (n == 1 || real[n] == '/' || real[n] == 0);
        if (under && n >= best_len) {
            best_len = n;
            snprintf(best, sizeof best, "%s on %s type %s", src, mnt, type);
        }
    }
    fclose(f);
    snprintf(out, size, "%s", best[0] ? best : "?");
    write_cache(best, out, size);
}

/* What one commit's fsync costs here: 100 appends of 4 KiB, each fdatasync'ed. */
static void disk_probe(const char *dir, int64_t out[3])
{
    char path[PATH_MAX], buf[4096];
    struct samples s = {0};
    memset(buf, 'x', sizeof buf);
    snprintf(path, sizeof path, "%s/fsync-probe", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    for (int i = 0; fd >= 0 && i < 100; i++) {
        int64_t t = loop_now_us();
        if (pwrite(fd, buf, sizeof buf, (off_t)i * (off_t)sizeof buf) != (ssize_t)sizeof buf ||
            fdatasync(fd) < 0)
            break;
        samples_add(&s, loop_now_us() - t);
    }
    if (fd >= 0)
        close(fd);
    unlink(path);
    percentiles(&s, out);
    free(s.v);
}

/* ---- reporting ----------------------------------------------------------------- */

static void print_run(const struct scenario *sc, const struct result *x)
{
    printf("  %-13s %6lld decisions in %5.2f s = %7.0f/s, %5lld commits (%.1f a commit); "
           "readings rows %lld %s (checks %lld, flags %lld)",
           sc->key, x->decisions, x->seconds, x->per_s, x->commits,
           x->commits ? (double)x->decisions / (double)x->commits : 0.0, x->rows,
           x->ok ? "= decisions" : "MISMATCH/FAILED", x->checks, x->flags);
    if (x->errors)
        printf(", %lld NOT recorded", x->errors);
    if (x->discarded)
        printf(", %lld still queued at the stop", x->discarded);
    printf("\n  %-13s latency p50/p99/max %lld/%lld/%lld us; post->light %lld/%lld/%lld us; "
           "main thread CPU %.0f us a decision\n",
           "", (long long)x->lat[0], (long long)x->lat[1], (long long)x->lat[2],
           (long long)x->e2e[0], (long long)x->e2e[1], (long long)x->e2e[2], x->cpu_us);
    if (x->builds)
        printf("  %-13s the day's figures built and stored %lld times, %lld/%lld/%lld ms "
               "p50/p99/max a build\n", "", x->builds, (long long)x->build_ms[0],
               (long long)x->build_ms[1], (long long)x->build_ms[2]);
    fflush(stdout);
}

struct medians {
    double per_s, commits, batch, lat[3], e2e[3], cpu, builds, build_ms;
};

static void take_medians(const struct result *res, int rounds, struct medians *m)
{
    double v[MAX_ROUNDS];
#define MED(field, expr)                  \
    do {                                  \
        for (int i = 0; i < rounds; i++)  \
            v[i] = (double)(res[i].expr); \
        m->field = median(v, rounds);     \
    } while (0)
    MED(per_s, per_s);
    MED(commits, commits);
    MED(batch, commits ? (double)res[i].decisions / (double)res[i].commits : 0);
    MED(cpu, cpu_us);
    MED(builds, builds);
    MED(build_ms, build_ms[0]);
    for (int k = 0; k < 3; k++) {
        MED(lat[k], lat[k]);
        MED(e2e[k], e2e[k]);
    }
#undef MED
}

static void print_targets(const struct medians *m);
static void print_figures_case(const struct medians *m);

static void print_summary(struct result res[][MAX_ROUNDS], int rounds, const double *fsync_p50)
{
    struct medians m[NSCEN];
    printf("\nmedians over %d rounds (latency, as the gate measures it: reading posted by the "
           "driver -> queue -> ledger committed -> light set;\npost->light: the same span from "
           "the bench's own record of each post; us)\n", rounds);
    printf("  %-13s %9s %8s %7s %7s %7s %7s   %9s %9s %9s %8s %7s %6s\n", "scenario",
           "decis./s", "commits", "batch", "p50", "p99", "max", "post p50", "post p99",
           "post max", "CPU us", "builds", "ms");
    for (int s = 0; s < NSCEN; s++) {
        if (!chosen[s])
            continue;
        take_medians(res[s], rounds, &m[s]);
        printf("  %-13s %9.0f %8.0f %7.1f %7.0f %7.0f %7.0f   %9.0f %9.0f %9.0f %8.0f %7.0f "
               "%6.0f\n", scenarios[s].key, m[s].per_s, m[s].commits, m[s].batch, m[s].lat[0],
               m[s].lat[1], m[s].lat[2], m[s].e2e[0], m[s].e2e[1], m[s].e2e[2], m[s].cpu,
               m[s].builds, m[s].build_ms);
    }
    double fs[MAX_ROUNDS];
    memcpy(fs, fsync_p50, sizeof(double) * (size_t)rounds);
    printf("  disk: fdatasync of a 4 KiB append, median p50 %.0f us\n", median(fs, rounds));
    print_targets(m);
    print_figures_case(m);
}

static void print_targets(const struct medians *m)
{
    if (!chosen[0] || !chosen[1] || !chosen[2] || !chosen[3])
        return;
    printf("targets:\n");
    printf("  p99 <= 10 ms at 64 lanes under a burst: %.0f us gate latency (%s), "
           "%.0f us post->light (%s)\n",
           m[1].lat[1], m[1].lat[1] <= 10000 ? "met" : "NOT met", m[1].e2e[1],
           m[1].e2e[1] <= 10000 ? "met" : "NOT met");
    printf("  p99 at 4 lanes (no target): %.0f us gate latency, %.0f us post->light\n",
           m[0].lat[1], m[0].e2e[1]);
    printf("  >= 1000 committed decisions/s, synchronous=FULL: %.0f /s (%s)\n", m[2].per_s,
           m[2].per_s >= 1000 ? "met" : "NOT met");
    printf("  group commit vs a commit per reading: %.0f /s vs %.0f /s = %.1fx\n", m[2].per_s,
           m[3].per_s, m[3].per_s > 0 ? m[2].per_s / m[3].per_s : 0.0);
}

/* Issue 13: the gate's p99 while the day's figures are built, against without. */
static void print_figures_case(const struct medians *m)
{
    int quiet = -1;
    for (int s = 0; s < NSCEN; s++)
        if (chosen[s] && scenarios[s].big && scenarios[s].figures == FIG_NONE)
            quiet = s;
    if (quiet < 0)
        return;
    printf("the day's figures for %d people (issue 13): gate p50/p99 without them %.0f/%.0f us\n",
           BIG_PEOPLE, m[quiet].lat[0], m[quiet].lat[1]);
    for (int s = 0; s < NSCEN; s++)
        if (chosen[s] && scenarios[s].big && scenarios[s].figures != FIG_NONE)
            printf("  %-13s p50/p99 %.0f/%.0f us (p99 %+.0f us), %.0f builds of %.0f ms\n",
                   scenarios[s].key, m[s].lat[0], m[s].lat[1], m[s].lat[1] - m[quiet].lat[1],
                   m[s].builds, m[s].build_ms);
}

/* ---- main ---------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: bench_gate [--rounds N] [--seconds S] [--db-dir DIR] "
                    "[--only PREFIX]\n");
    exit(2);
}

static void parse_args(int argc, char **argv, int *rounds, double *seconds, const char **dir)
{
    static const struct option opts[] = {{"rounds", required_argument, NULL, 'r'},
                                         {"seconds", required_argument, NULL, 's'},
                                         {"db-dir", required_argument, NULL, 'd'},
                                         {"only", required_argument, NULL, 'o'},
                                         {NULL, 0, NULL, 0}};
    int c;
    char *end;
    const char *only = "";
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        errno = 0;
        if (c == 'r') {
            long v = strtol(optarg, &end, 10);
            if (errno || *end || v < 1 || v > MAX_ROUNDS)
                usage();
            *rounds = (int)v;
        } else if (c == 's') {
            double v = strtod(optarg, &end);
            if (errno || *end || !(v >= 1 && v <= 120))
                usage();
            *seconds = v;
        } else if (c == 'd') {
            *dir = optarg;
        } else if (c == 'o') {
            only = optarg;
        } else {
            usage();
        }
    }
    if (optind != argc)
        usage();
    for (int s = 0; s < NSCEN; s++)
        chosen[s] = strncmp(scenarios[s].key, only, strlen(only)) == 0;
}

static void print_machine(const char *dir)
{
    struct statfs sf;
    char mount[1400];
    describe_mount(dir, mount, sizeof mount);
    if (statfs(dir, &sf) < 0) {
        fprintf(stderr, "bench_gate: statfs %s: %s\n", dir, strerror(errno));
        exit(1);
    }
    printf("machine: %ld CPUs online; SQLite %s; ledger files in %s: %s (statfs type 0x%lx, %s)\n",
           sysconf(_SC_NPROCESSORS_ONLN), sqlite3_libversion(), dir, fs_name((long)sf.f_type),
           (unsigned long)sf.f_type, mount);
    if ((unsigned long)sf.f_type == 0x01021994 || (unsigned long)sf.f_type == 0x858458f6) {
        fprintf(stderr, "bench_gate: %s is in memory (tmpfs/ramfs): an fsync costs nothing "
                        "there; give --db-dir on a real disk\n", dir);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    int rounds = 3;
    double seconds = 10;
    const char *dir = NULL;
    char made[] = "/var/tmp/gatescreen-bench-XXXXXX";
    parse_args(argc, argv, &rounds, &seconds, &dir);
    log_init("bench_gate", LOG_LVL_WARN, LOG_OUT_PLAIN);
    if (!dir && !(dir = mkdtemp(made))) {
        fprintf(stderr, "bench_gate: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    print_machine(dir);
    char paths[2][PATH_MAX];
    const char *tmpl[2] = {paths[0], paths[1]};
    bool big = false;
    for (int s = 0; s < NSCEN; s++)
        big |= chosen[s] && scenarios[s].big;
    if (zone_set("Asia/Shanghai") < 0)
        return 1;
    for (int k = 0; k < 2; k++) {
        snprintf(paths[k], sizeof paths[k], "%s/template%s.db", dir, k ? "-5k" : "");
        remove_db(paths[k]);
        if ((k == 0 || big) && make_template(paths[k], k ? BIG_PEOPLE : PEOPLE) < 0) {
            fprintf(stderr, "bench_gate: cannot make the template ledger %s\n", paths[k]);
            return 1;
        }
    }
    printf("ledger: WAL, synchronous=FULL; roster of %d people with a card each (5k-*: %d "
           "people, %d days of readings and checks); readings: 3%% unknown card, 2%% fever, "
           "1%% out of range, the rest normal\n", PEOPLE, BIG_PEOPLE, BIG_DAYS);
    for (int s = 0; s < NSCEN; s++)
        if (chosen[s])
            printf("  %-13s %s\n", scenarios[s].key, scenarios[s].title);
    printf("%d rounds, sustained runs %.0f s\n", rounds, seconds);
    static struct result res[NSCEN][MAX_ROUNDS];
    double fsync_p50[MAX_ROUNDS];
    bool all_ok = true;
    for (int i = 0; i < rounds; i++) {
        int64_t probe[3];
        disk_probe(dir, probe);
        fsync_p50[i] = (double)probe[0];
        printf("round %d (disk: fdatasync of a 4 KiB append p50 %lld us, p99 %lld us)\n", i + 1,
               (long long)probe[0], (long long)probe[1]);
        for (int s = 0; s < NSCEN; s++) {
            if (!chosen[s])
                continue;
            run_scenario(&scenarios[s], dir, tmpl, seconds, &res[s][i]);
            print_run(&scenarios[s], &res[s][i]);
            all_ok &= res[s][i].ok;
        }
    }
    print_summary(res, rounds, fsync_p50);
    remove_db(paths[0]);
    remove_db(paths[1]);
    if (dir == made)
        rmdir(made);
    if (!all_ok)
        printf("SOME RUNS FAILED: rows in the ledger differ from the decisions shown, or a "
               "commit failed\n");
    return all_ok ? 0 : 1;
}
