/* The gate on a real SQLite ledger (temp dir, synchronous full) and a real event
 * loop: decisions become ledger rows, the lights change only after the commit
 * (checked from inside the indicator through a second connection), checks,
 * flags, absences, the Wiegand lane, device state, commit failures, shutdown and
 * group commit. Timing assertions are one-sided (never early). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "civil.h"
#include "clock.h"
#include "config_load.h"
#include "gate.h"
#include "indicator.h"
#include "ledger.h"
#include "log.h"
#include "loop.h"
#include "zone.h"

/* 2026-11-30 (a Monday) 07:30 and 10:00 in Asia/Shanghai. */
#define T0730 INT64_C(1795995000000)
#define T1000 INT64_C(1796004000000)
#define MIN_MS INT64_C(60000)
#define DAY "2026-11-30"

#define HOLD_ADMIT 150
#define HOLD_FEVER 300
#define BUZZER 100
#define HOLD_INVALID 200
#define PAIR_WINDOW 200

#define GATE_CONF                                                                          \
    "[school]\ncode = T001\nname = 测试学校\ntimezone = Asia/Shanghai\n"                   \
    "[ledger]\ndatabase = ledger.db\n"                                                     \
    "[windows]\nmorning = 07:00-08:10\n"                                                   \
    "[screening]\npair_window = 200ms\nhold_admit = 150ms\nhold_fever = 300ms\n"           \
    "buzzer = 100ms\nhold_invalid = 200ms\nhold_deny = 150ms\nhold_nurse = 150ms\n"        \
    "hold_no_measurement = 150ms\n"                                                        \
    "[bus gw]\ntcp = 127.0.0.1:1502\n"                                                     \
    "[lane a]\ngate = 东门\nidentity = device\n"                                           \
    "[lane w]\ngate = 北门\nidentity = wiegand\nwiegand_d0 = gpiochip0:1\n"               \
    "wiegand_d1 = gpiochip0:2\n"                                                           \
    "[device ir-a]\nbus = gw\nunit = 1\nlane = a\n"                                        \
    "[device ir-w]\nbus = gw\nunit = 2\nprofile = pyrometer\nlane = w\n"

enum { LANE_A, LANE_W };
enum { DEV_A, DEV_W };

/* ---- the recording indicator ---------------------------------------------------- */

struct change {
    int lane;
    enum lamp lamp;
    bool blink, buzzer, relay;
    enum outcome outcome;
    char reason[32];
    char person[300];
    int64_t mono_us;
    long long committed_same; /* committed readings of this lane with this outcome */
    long long committed_all;  /* all committed readings */
};

#define MAX_CHANGES 1024

static struct recorder {
    sqlite3 *side; /* a second connection: what any reader of the file sees */
    int n;
    struct change c[MAX_CHANGES];
} rec;

static long long side_count(const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(rec.side, sql, -1, &st, NULL), SQLITE_OK);
    if (a)
        sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

static void *rec_open(const struct config *cfg, struct loop *loop)
{
    (void)loop;
    (void)cfg;
    return &rec;
}

static int rec_set(void *h, const struct config *cfg, const struct indicator_change *c)
{
    struct recorder *r = h;
    assert_true(r->n < MAX_CHANGES);
    struct change *x = &r->c[r->n++];
    *x = (struct change){.lane = c->lane, .lamp = c->display.lamp, .blink = c->display.blink,
                         .buzzer = c->display.buzzer, .relay = c->display.relay,
                         .outcome = c->outcome, .mono_us = c->mono_us};
    snprintf(x->reason, sizeof x->reason, "%s", c->reason ? c->reason : "");
    snprintf(x->person, sizeof x->person, "%s", c->person ? c->person : "");
    if (c->outcome < OUT_COUNT) {
        x->committed_same = side_count(
            "SELECT count(*) FROM readings r JOIN lanes l ON l.id = r.lane_id"
            " WHERE l.name = ?1 AND r.outcome = ?2",
            cfg->lanes[c->lane].name, outcome_name(c->outcome));
        x->committed_all = side_count("SELECT count(*) FROM readings", NULL, NULL);
    }
    return 0;
}

static void rec_close(void *h)
{
    (void)h;
}

static const struct indicator_ops recording = {
    .name = "recording", .open = rec_open, .set = rec_set, .close = rec_close,
};

/* ---- fixture ------------------------------------------------------------------------ */

struct fx {
    char dir[64], path[96];
    struct config *cfg;
    struct ledger *l;
    struct loop *loop;
    struct gate *g;
    int64_t p1, p2, p3; /* S001 (card 1001), S002 (card 1002), S003 inactive (card 1003) */
};

static void side_exec(const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(rec.side, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

static long long q_int(const char *sql)
{
    return side_count(sql, NULL, NULL);
}

/* The first column of the first row as text ("" if NULL, "(none)" if no row). */
static const char *q_text(const char *sql)
{
    static char buf[512];
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(rec.side, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(buf, sizeof buf, "%s", t ? (const char *)t : "");
    } else {
        snprintf(buf, sizeof buf, "(none)");
    }
    sqlite3_finalize(st);
    return buf;
}

static int64_t add_person(const char *ext, const char *name, int active, long long card)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO people (external_id, kind, name, grade, class, active, created_ms,"
             " updated_ms) VALUES ('%s', 'student', '%s', '一年级', '一年级1班', %d, 0, 0);"
             "INSERT INTO cards (card_no, person_id, added_ms) VALUES (%lld,"
             " last_insert_rowid(), 0);",
             ext, name, active, card);
    side_exec(sql);
    snprintf(sql, sizeof sql, "SELECT id FROM people WHERE external_id = '%s'", ext);
    return q_int(sql);
}

static struct config *parse_conf(const char *text)
{
    char *errs = NULL;
    size_t n;
    FILE *f = open_memstream(&errs, &n);
    struct config *cfg = config_parse("gate.conf", text, strlen(text), "/tmp", f);
    fclose(f);
    if (!cfg)
        fail_msg("config: %s", errs);
    free(errs);
    return cfg;
}

static int start(void **state, const char *conf)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/gs-gate-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/ledger.db", f->dir);
    *state = f;
    if (zone_set("Asia/Shanghai") < 0)
        return -1;
    f->cfg = parse_conf(conf);
    struct ledger_opts opts = {.synchronous_full = true};
    if (ledger_open(f->path, &opts, &f->l) < 0 ||
        sqlite3_open(f->path, &rec.side) != SQLITE_OK)
        return -1;
    sqlite3_busy_timeout(rec.side, 5000);
    rec.n = 0;
    f->loop = loop_new();
    f->g = gate_new(f->cfg, f->l, f->loop, &recording);
    if (!f->loop || !f->g)
        return -1;
    f->p1 = add_person("S001", "王小明", 1, 1001);
    f->p2 = add_person("S002", "李小红", 1, 1002);
    f->p3 = add_person("S003", "张离校", 0, 1003);
    return 0;
}

static int setup(void **state)
{
    return start(state, GATE_CONF);
}

/* Whatever happened in the test: no lane ever showed a decision that was not in
 * the ledger, and no green without its committed row. */
static int no_light_without_row(void)
{
    for (int i = 0; i < rec.n; i++) {
        const struct change *c = &rec.c[i];
        if (c->outcome < OUT_COUNT && c->committed_same < 1) {
            fprintf(stderr, "change %d: lane %d shows %s without a committed row\n", i,
                    c->lane, outcome_name(c->outcome));
            return -1;
        }
        if (c->lamp == LAMP_GREEN && c->outcome != OUT_ADMIT) {
            fprintf(stderr, "change %d: green without an admit decision\n", i);
            return -1;
        }
    }
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    gate_free(f->g);
    int rc = no_light_without_row();
    loop_free(f->loop);
    ledger_close(f->l);
    sqlite3_close(rec.side);
    rec.side = NULL;
    config_free(f->cfg);
    char p[128];
    const char *suffix[] = {"", "-wal", "-shm", "-journal"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return rc;
}

/* ---- driving the gate ------------------------------------------------------------ */

static void feed(struct fx *f, int dev, int32_t body, uint64_t card, int64_t wall_ms)
{
    struct reading r = {.device = dev, .lane = f->cfg->devices[dev].lane,
                        .mono_ms = loop_now_ms(), .wall_ms = wall_ms, .raw_centi = body,
                        .body_centi = body, .has_status = true, .status = 1,
                        .device_valid = true, .has_card = card != 0, .card = card};
    gate_on_reading(f->g, &r, loop_now_us());
}

/* One reading, decided and shown. */
static void decide(struct fx *f, int dev, int32_t body, uint64_t card, int64_t wall_ms)
{
    feed(f, dev, body, card, wall_ms);
    assert_int_equal(gate_flush(f->g), 1);
}

static void stop_cb(struct loop *loop, void *arg)
{
    (void)arg;
    loop_stop(loop);
}

static void run_ms(struct fx *f, int64_t ms)
{
    assert_true(loop_timer_add(f->loop, ms, 0, stop_cb, NULL) > 0);
    assert_int_equal(loop_run(f->loop), 0);
}

static const struct change *last_on(int lane)
{
    for (int i = rec.n - 1; i >= 0; i--)
        if (rec.c[i].lane == lane)
            return &rec.c[i];
    fail_msg("no change on lane %d", lane);
    return NULL;
}

/* The changes on `lane` from index `from` on, into out; returns their count. */
static int changes_on(int lane, int from, const struct change **out, int max)
{
    int n = 0;
    for (int i = from; i < rec.n && n < max; i++)
        if (rec.c[i].lane == lane)
            out[n++] = &rec.c[i];
    return n;
}

static void assert_shows(const struct change *c, enum lamp lamp, bool blink, bool buzzer,
                         enum outcome o, const char *reason)
{
    if (c->lamp != lamp || c->blink != blink || c->buzzer != buzzer || c->outcome != o ||
        (reason && strcmp(c->reason, reason) != 0))
        fail_msg("lane %d shows %s blink=%d buzzer=%d %s/%s; want %s blink=%d buzzer=%d %s/%s",
                 c->lane, lamp_name(c->lamp), c->blink, c->buzzer, outcome_name(c->outcome),
                 c->reason, lamp_name(lamp), blink, buzzer, outcome_name(o),
                 reason ? reason : "*");
}

/* ---- decisions and the ledger ---------------------------------------------------- */

static void test_admit_row_committed_before_green(void **state)
{
    struct fx *f = *state;
    decide(f, DEV_A, 3650, 1001, T0730);
    const struct change *c = last_on(LANE_A);
    assert_shows(c, LAMP_GREEN, false, false, OUT_ADMIT, NULL);
    assert_false(c->relay); /* enforce = soft */
    assert_int_equal(c->committed_same, 1);
    assert_non_null(strstr(c->person, "S001"));
    assert_string_equal(q_text("SELECT quality || ',' || outcome || ',' || threshold_centi"
                               " || ',' || body_centi || ',' || card_no || ',' || day"
                               " FROM readings"),
                        "valid,admit,3730,3650,1001," DAY);
    assert_int_equal(q_int("SELECT person_id FROM readings"), f->p1);
    assert_int_equal(q_int("SELECT count(*) FROM readings r JOIN lanes l ON l.id = r.lane_id"
                           " JOIN devices d ON d.id = r.device_id"
                           " WHERE l.name = 'a' AND d.name = 'ir-a'"), 1);
    assert_int_equal(q_int("SELECT at_ms FROM readings"), T0730);
}

static void test_check_only_inside_the_window(void **state)
{
    struct fx *f = *state;
    decide(f, DEV_A, 3650, 1001, T1000);
    assert_int_equal(q_int("SELECT count(*) FROM checks"), 0);
    decide(f, DEV_A, 3660, 1001, T0730);
    assert_string_equal(q_text("SELECT day || ',' || window || ',' || temp_centi || ','"
                               " || threshold_centi || ',' || instrument FROM checks"),
                        DAY ",morning,3660,3730,gate");
    assert_int_equal(q_int("SELECT c.reading_id = r.id FROM checks c, readings r"
                           " WHERE r.at_ms = 1795995000000"), 1);
}

static void test_first_valid_reading_wins_the_check(void **state)
{
    struct fx *f = *state;
    decide(f, DEV_A, 3000, 1001, T0730 - 10 * MIN_MS); /* out of range: not a check */
    assert_int_equal(last_on(LANE_A)->outcome, OUT_INVALID);
    assert_int_equal(q_int("SELECT count(*) FROM checks"), 0);
    decide(f, DEV_A, 3650, 1001, T0730);
    decide(f, DEV_A, 3680, 1001, T0730 + 10 * MIN_MS);
    assert_int_equal(q_int("SELECT count(*) FROM checks"), 1);
    assert_int_equal(q_int("SELECT temp_centi FROM checks"), 3650);
    assert_int_equal(q_int("SELECT count(*) FROM readings"), 3);
}

static void test_fever_opens_flag_then_buzzer_off_then_hold_end(void **state)
{
    struct fx *f = *state;
    int from = rec.n;
    decide(f, DEV_A, 3800, 1001, T0730);
    assert_int_equal(q_int("SELECT count(*) FROM flags WHERE state = 'open'"), 1);
    assert_int_equal(q_int("SELECT person_id FROM flags"), f->p1);
    assert_string_equal(q_text("SELECT screen_centi || ',' || threshold_centi || ',' || day"
                               " FROM flags"), "3800,3730," DAY);
    assert_string_equal(q_text("SELECT health_status FROM people WHERE external_id = 'S001'"),
                        "screened");
    assert_int_equal(q_int("SELECT count(*) FROM health_status_history"
                           " WHERE status = 'screened'"), 1);
    run_ms(f, HOLD_FEVER + 200);
    const struct change *c[8];
    assert_int_equal(changes_on(LANE_A, from, c, 8), 3);
    assert_shows(c[0], LAMP_RED, false, true, OUT_FEVER, NULL);
    assert_shows(c[1], LAMP_RED, false, false, OUT_FEVER, NULL);
    assert_shows(c[2], LAMP_OFF, false, false, OUT_COUNT, "idle");
    assert_true(c[1]->mono_us - c[0]->mono_us >= (BUZZER - 1) * 1000);
    assert_true(c[2]->mono_us - c[0]->mono_us >= (HOLD_FEVER - 1) * 1000);
}

static void test_second_fever_opens_no_second_flag(void **state)
{
    struct fx *f = *state;
    decide(f, DEV_A, 3800, 1001, T0730);
    decide(f, DEV_A, 3790, 1001, T0730 + MIN_MS);
    assert_int_equal(last_on(LANE_A)->outcome, OUT_FEVER);
    assert_int_equal(q_int("SELECT count(*) FROM readings WHERE outcome = 'fever'"), 2);
    assert_int_equal(q_int("SELECT count(*) FROM flags"), 1);
    assert_int_equal(q_int("SELECT count(*) FROM health_status_history"), 1);
}

static void test_unknown_card_red_flag_only_with_fever(void **state)
{
    struct fx *f = *state;
    decide(f, DEV_A, 3650, 9999, T0730);
    const struct change *c = last_on(LANE_A);
    assert_shows(c, LAMP_RED, false, false, OUT_UNKNOWN_CARD, NULL);
    assert_string_equal(c->person, "card 9999");
    assert_int_equal(q_int("SELECT count(*) FROM flags"), 0);
    assert_int_equal(q_int("SELECT count(*) FROM checks"), 0);
    assert_string_equal(q_text("SELECT coalesce(person_id, 'null') || ',' || card_no"
                               " FROM readings"), "null,9999");
    decide(f, DEV_A, 3800, 9999, T0730 + MIN_MS);
    assert_shows(last_on(LANE_A), LAMP_RED, false, true, OUT_FEVER, NULL);
    assert_int_equal(q_int("SELECT count(*) FROM flags WHERE person_id IS NULL"), 1);
}

static void test_inactive_holder_is_unknown_card(void **state)
{
    struct fx *f = *state;
    decide(f, DEV_A, 3650, 1003, T0730);
    assert_shows(last_on(LANE_A), LAMP_RED, false, false, OUT_UNKNOWN_CARD, NULL);
    assert_int_equal(q_int("SELECT count(*) FROM checks"), 0);
}

static void test_no_card_is_no_identity(void **state)
{
    struct fx *f = *state;
    decide(f, DEV_A, 3650, 0, T0730);
    assert_shows(last_on(LANE_A), LAMP_RED, false, false, OUT_NO_IDENTITY, NULL);
    assert_string_equal(q_text("SELECT outcome || ',' || coalesce(card_no, 'null')"
                               " FROM readings"), "no_identity,null");
}

static void test_open_flag_sends_to_nurse(void **state)
{
    struct fx *f = *state;
    decide(f, DEV_A, 3800, 1001, T0730);
    decide(f, DEV_A, 3650, 1001, T0730 + MIN_MS);
    assert_shows(last_on(LANE_A), LAMP_AMBER, false, false, OUT_SEE_NURSE, NULL);
    assert_int_equal(q_int("SELECT count(*) FROM readings WHERE outcome = 'see_nurse'"), 1);
}

static void test_certificate_clears_see_nurse(void **state)
{
    struct fx *f = *state;
    side_exec("INSERT INTO absences (person_id, day, cause, recorded_ms)"
              " SELECT id, '2026-11-29', 'illness', 0 FROM people WHERE external_id = 'S001'");
    decide(f, DEV_A, 3650, 1001, T0730);
    assert_shows(last_on(LANE_A), LAMP_AMBER, false, false, OUT_SEE_NURSE, NULL);
    side_exec("INSERT INTO certificates (person_id, issuer, issued_day, checked_by, recorded_ms)"
              " SELECT id, '许昌市人民医院', '2026-11-29', 'nurse', 0 FROM people"
              " WHERE external_id = 'S001'");
    decide(f, DEV_A, 3650, 1001, T0730 + MIN_MS);
    assert_shows(last_on(LANE_A), LAMP_GREEN, false, false, OUT_ADMIT, NULL);
}

/* The sweep's absence (cause 'unknown') of someone who then comes after the window
 * (08:10) becomes a late arrival. */
static void test_unknown_absence_today_becomes_late(void **state)
{
    struct fx *f = *state;
    side_exec("INSERT INTO absences (person_id, day, recorded_ms)"
              " SELECT id, '" DAY "', 0 FROM people WHERE external_id = 'S001'");
    decide(f, DEV_A, 3650, 1001, T0730 + 60 * MIN_MS);
    assert_string_equal(q_text("SELECT cause || ',' || late_ms || ','"
                               " || coalesce(returned_day, 'null') FROM absences"),
                        "late,1795998600000,null");
}

/* Issue 14: a check in the morning window after the sweep (the clock was set back,
 * the window stretched by a reload) withdraws the sweep's absence instead: a check
 * and a late absence never stand together. The withdrawal is audited. */
static void test_unknown_absence_withdrawn_by_a_check_in_the_window(void **state)
{
    struct fx *f = *state;
    side_exec("INSERT INTO absences (person_id, day, cause, recorded_ms)"
              " SELECT id, '" DAY "', 'unknown', 0 FROM people WHERE external_id = 'S001';"
              "INSERT INTO absences (person_id, day, cause, recorded_ms, late_ms)"
              " SELECT id, '" DAY "', 'late', 0, 1 FROM people WHERE external_id = 'S002'");
    decide(f, DEV_A, 3650, 1001, T0730);
    decide(f, DEV_A, 3650, 1002, T0730 + MIN_MS);
    assert_shows(last_on(LANE_A), LAMP_GREEN, false, false, OUT_ADMIT, NULL);
    assert_int_equal(q_int("SELECT count(*) FROM checks WHERE window = 'morning'"), 2);
    assert_int_equal(q_int("SELECT count(*) FROM absences"), 0);
    assert_string_equal(q_text("SELECT group_concat(x, '; ') FROM (SELECT actor || ' ' || target"
                               " || ' ' || detail AS x FROM audit_log"
                               " WHERE action = 'absence withdrawn' ORDER BY id)"),
                        "gate S001 " DAY ": unknown absence of the sweep; a morning check came; "
                        "gate S002 " DAY ": late absence of the sweep; a morning check came");
}

/* A cause someone gave stays. A check in the window is no late arrival; after the
 * window the arrival time is noted, the first one's. */
static void test_illness_absence_today_keeps_cause(void **state)
{
    struct fx *f = *state;
    side_exec("INSERT INTO absences (person_id, day, cause, recorded_ms) SELECT id, '" DAY "',"
              " 'illness', 0 FROM people WHERE external_id IN ('S001', 'S002')");
    decide(f, DEV_A, 3650, 1001, T0730);
    assert_string_equal(q_text("SELECT cause || ',' || coalesce(late_ms, 'null') FROM absences"
                               " WHERE person_id = (SELECT id FROM people"
                               " WHERE external_id = 'S001')"),
                        "illness,null");
    decide(f, DEV_A, 3650, 1002, T0730 + 60 * MIN_MS);
    decide(f, DEV_A, 3650, 1002, T0730 + 61 * MIN_MS);
    assert_string_equal(q_text("SELECT cause || ',' || late_ms FROM absences WHERE person_id ="
                               " (SELECT id FROM people WHERE external_id = 'S002')"),
                        "illness,1795998600000");
}

static void test_earlier_absence_gets_returned_day(void **state)
{
    struct fx *f = *state;
    side_exec("INSERT INTO absences (person_id, day, cause, recorded_ms)"
              " SELECT id, '2026-11-27', 'personal', 0 FROM people WHERE external_id = 'S001';"
              "INSERT INTO absences (person_id, day, cause, recorded_ms, returned_day)"
              " SELECT id, '2026-11-20', 'personal', 0, '2026-11-23' FROM people"
              " WHERE external_id = 'S001';"
              "INSERT INTO absences (person_id, day, cause, recorded_ms)"
              " SELECT id, '2026-11-27', 'personal', 0 FROM people WHERE external_id = 'S002'");
    decide(f, DEV_A, 3650, 1001, T0730);
    assert_shows(last_on(LANE_A), LAMP_GREEN, false, false, OUT_ADMIT, NULL);
    assert_string_equal(q_text("SELECT returned_day || ',' || coalesce(late_ms, 'null')"
                               " FROM absences WHERE day = '2026-11-27' AND person_id ="
                               " (SELECT id FROM people WHERE external_id = 'S001')"),
                        DAY ",null");
    assert_string_equal(q_text("SELECT returned_day FROM absences WHERE day = '2026-11-20'"),
                        "2026-11-23");
    assert_int_equal(q_int("SELECT count(*) FROM absences WHERE returned_day IS NULL"), 1);
}

/* ---- the Wiegand lane ------------------------------------------------------------ */

static void test_wiegand_card_then_reading_pairs(void **state)
{
    struct fx *f = *state;
    gate_on_card(f->g, LANE_W, 1002, loop_now_us());
    assert_int_equal(gate_flush(f->g), 0);
    decide(f, DEV_W, 3650, 0, T0730);
    assert_shows(last_on(LANE_W), LAMP_GREEN, false, false, OUT_ADMIT, NULL);
    assert_non_null(strstr(last_on(LANE_W)->person, "S002"));
    assert_int_equal(q_int("SELECT count(*) FROM readings r JOIN lanes l ON l.id = r.lane_id"
                           " JOIN devices d ON d.id = r.device_id WHERE l.name = 'w'"
                           " AND d.name = 'ir-w' AND r.card_no = 1002"), 1);
    assert_int_equal(q_int("SELECT person_id FROM readings"), f->p2);
    assert_int_equal(q_int("SELECT count(*) FROM checks"), 1);
}

static void test_wiegand_card_alone_becomes_no_measurement(void **state)
{
    struct fx *f = *state;
    int from = rec.n;
    int64_t shown_at = loop_now_us();
    gate_on_card(f->g, LANE_W, 1002, shown_at);
    assert_int_equal(gate_flush(f->g), 0);
    run_ms(f, PAIR_WINDOW + 100);
    const struct change *c[4];
    assert_int_equal(changes_on(LANE_W, from, c, 4), 1);
    assert_shows(c[0], LAMP_AMBER, false, false, OUT_NO_MEASUREMENT, NULL);
    assert_true(c[0]->mono_us - shown_at >= PAIR_WINDOW * 1000);
    assert_string_equal(q_text("SELECT quality || ',' || outcome || ',' || card_no || ','"
                               " || coalesce(raw_centi, 'null') || ','"
                               " || coalesce(body_centi, 'null') || ','"
                               " || coalesce(device_id, 'null') FROM readings"),
                        "no_measurement,no_measurement,1002,null,null,null");
    assert_int_equal(q_int("SELECT person_id FROM readings"), f->p2);
    assert_int_equal(q_int("SELECT count(*) FROM checks"), 0);
}

/* ---- device state ------------------------------------------------------------------ */

static void test_offline_blinks_only_that_lane(void **state)
{
    struct fx *f = *state;
    int from = rec.n;
    gate_on_device_state(f->g, DEV_W, DEV_OFFLINE);
    assert_int_equal(rec.n, from + 1);
    assert_int_equal(rec.c[from].lane, LANE_W);
    assert_shows(&rec.c[from], LAMP_AMBER, true, false, OUT_COUNT, "offline");
    gate_on_device_state(f->g, DEV_W, DEV_DEGRADED); /* degraded is not offline */
    assert_int_equal(rec.n, from + 2);
    assert_shows(&rec.c[from + 1], LAMP_OFF, false, false, OUT_COUNT, "idle");
    gate_on_device_state(f->g, DEV_W, DEV_OFFLINE);
    gate_on_device_state(f->g, DEV_W, DEV_OK);
    assert_int_equal(rec.n, from + 4);
    assert_shows(&rec.c[from + 3], LAMP_OFF, false, false, OUT_COUNT, "idle");
    const struct change *c[8];
    assert_int_equal(changes_on(LANE_A, from, c, 8), 0);
}

static void test_decision_overrides_blink_then_it_returns(void **state)
{
    struct fx *f = *state;
    gate_on_device_state(f->g, DEV_A, DEV_OFFLINE);
    decide(f, DEV_A, 3650, 1001, T0730);
    assert_shows(last_on(LANE_A), LAMP_GREEN, false, false, OUT_ADMIT, NULL);
    run_ms(f, HOLD_ADMIT + 100);
    assert_shows(last_on(LANE_A), LAMP_AMBER, true, false, OUT_COUNT, "offline");
}

/* ---- failures and shutdown ---------------------------------------------------------- */

/* ---- a busy, locked or lost ledger ---------------------------------------------- */

static sqlite3 *lock_ledger(const struct fx *f)
{
    sqlite3 *locker;
    assert_int_equal(sqlite3_open(f->path, &locker), SQLITE_OK);
    assert_int_equal(sqlite3_exec(locker, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    return locker;
}

static void unlock_ledger(sqlite3 *locker)
{
    assert_int_equal(sqlite3_exec(locker, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(locker);
}

static void unlock_cb(struct loop *loop, void *arg)
{
    (void)loop;
    unlock_ledger(arg);
}

/* A flush while another writer holds the lock returns at once (the loop never
 * waits on the ledger for more than the gate's few-ms busy timeout). */
static int64_t timed_flush(struct fx *f, int *shown)
{
    int64_t t0 = clock_mono_us();
    *shown = gate_flush(f->g);
    return clock_mono_us() - t0;
}

/* A lock held for a moment (another thread's commit) only delays the decision:
 * retried from a timer, it is green once the lock ends. */
static void test_short_lock_delays_the_light(void **state)
{
    struct fx *f = *state;
    sqlite3 *locker = lock_ledger(f);
    int from = rec.n, shown;
    feed(f, DEV_A, 3650, 1001, T0730);
    assert_true(timed_flush(f, &shown) < 20000);
    assert_int_equal(shown, 0);
    assert_true(loop_timer_add(f->loop, 100, 0, unlock_cb, locker) > 0);
    run_ms(f, 200);
    const struct change *c[4];
    assert_int_equal(changes_on(LANE_A, from, c, 4), 1);
    assert_shows(c[0], LAMP_GREEN, false, false, OUT_ADMIT, NULL);
    assert_int_equal(q_int("SELECT count(*) FROM readings"), 1);
}

/* While the next person's decision waits for the ledger, the previous person's
 * green is not left on for them to walk through. */
static void test_waiting_decision_ends_the_previous_green(void **state)
{
    struct fx *f = *state;
    decide(f, DEV_A, 3650, 1001, T0730);
    assert_shows(last_on(LANE_A), LAMP_GREEN, false, false, OUT_ADMIT, NULL);
    sqlite3 *locker = lock_ledger(f);
    int shown;
    feed(f, DEV_A, 3650, 1002, T0730 + 1000);
    timed_flush(f, &shown);
    assert_int_equal(shown, 0);
    assert_shows(last_on(LANE_A), LAMP_OFF, false, false, OUT_COUNT, "idle");
    unlock_ledger(locker);
    run_ms(f, 50);
    assert_shows(last_on(LANE_A), LAMP_GREEN, false, false, OUT_ADMIT, NULL);
}

/* Another program holds the lock (an sqlite3 shell): after 1 s the decision is
 * amber, every lane blinks "ledger-locked", later decisions are amber at once
 * without waiting, and the lock's end is noticed within the probe interval. */
static void test_held_lock_amber_then_alarm_then_recovers(void **state)
{
    struct fx *f = *state;
    sqlite3 *locker = lock_ledger(f);
    int from = rec.n, shown;
    feed(f, DEV_A, 3650, 1001, T0730);
    assert_true(timed_flush(f, &shown) < 20000);
    assert_int_equal(shown, 0);
    run_ms(f, 1100);
    const struct change *c[8];
    assert_true(changes_on(LANE_A, from, c, 8) >= 1);
    assert_shows(c[0], LAMP_AMBER, false, false, OUT_COUNT, "ledger-error");
    assert_false(c[0]->relay);
    run_ms(f, HOLD_INVALID + 100);
    assert_shows(last_on(LANE_A), LAMP_AMBER, true, false, OUT_COUNT, "ledger-locked");
    assert_shows(last_on(LANE_W), LAMP_AMBER, true, false, OUT_COUNT, "ledger-locked");
    /* Locked: the next decision is amber at once. */
    feed(f, DEV_A, 3650, 1002, T0730 + 2000);
    assert_true(timed_flush(f, &shown) < 20000);
    assert_int_equal(shown, -1);
    assert_shows(last_on(LANE_A), LAMP_AMBER, false, false, OUT_COUNT, "ledger-error");
    assert_int_equal(q_int("SELECT count(*) FROM readings"), 0);
    unlock_ledger(locker);
    run_ms(f, 100);
    run_ms(f, HOLD_INVALID);
    assert_shows(last_on(LANE_W), LAMP_OFF, false, false, OUT_COUNT, "idle");
    assert_shows(last_on(LANE_A), LAMP_OFF, false, false, OUT_COUNT, "idle");
    decide(f, DEV_A, 3650, 1001, T0730 + MIN_MS);
    assert_shows(last_on(LANE_A), LAMP_GREEN, false, false, OUT_ADMIT, NULL);
}

static void unlink_ledger(const struct fx *f, const char *suffix)
{
    char p[160];
    snprintf(p, sizeof p, "%s%s", f->path, suffix);
    assert_int_equal(unlink(p), 0);
}

static long long count_in(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* `rm ledger.db*` under the running gate: the next decision is amber, every lane
 * blinks "ledger-lost", and a copy beside the path keeps every committed row. */
static void test_deleted_database_alarm_and_rescue(void **state)
{
    struct fx *f = *state;
    decide(f, DEV_A, 3650, 1001, T0730);
    unlink_ledger(f, "");
    unlink_ledger(f, "-wal");
    unlink_ledger(f, "-shm");
    int from = rec.n, shown;
    feed(f, DEV_A, 3650, 1002, T0730 + 1000);
    timed_flush(f, &shown);
    assert_int_equal(shown, -1);
    const struct change *c[8];
    assert_true(changes_on(LANE_A, from, c, 8) >= 1);
    for (int i = 0; i < changes_on(LANE_A, from, c, 8); i++)
        assert_int_not_equal(c[i]->lamp, LAMP_GREEN);
    run_ms(f, HOLD_INVALID + 100);
    assert_shows(last_on(LANE_W), LAMP_AMBER, true, false, OUT_COUNT, "ledger-lost");
    char cmd[256], rescued[200] = "";
    snprintf(cmd, sizeof cmd, "ls %s/ledger.db.rescued-* 2>/dev/null", f->dir);
    FILE *ls = popen(cmd, "r");
    assert_non_null(ls);
    assert_non_null(fgets(rescued, sizeof rescued, ls));
    pclose(ls);
    rescued[strcspn(rescued, "\n")] = '\0';
    assert_int_equal(count_in(rescued, "SELECT count(*) FROM readings"), 1);
    assert_int_equal(unlink(rescued), 0);
    /* The lost ledger is never written again: amber at once. */
    feed(f, DEV_A, 3650, 1001, T0730 + 2000);
    assert_int_equal(gate_flush(f->g), -1);
}

/* `rm ledger.db-wal`: noticed by the idle check within a second, and the rows the
 * WAL held are folded into the database file, where a fresh reader finds them. */
static void test_deleted_wal_alarm_and_saved(void **state)
{
    struct fx *f = *state;
    decide(f, DEV_A, 3650, 1001, T0730);
    decide(f, DEV_A, 3650, 1002, T0730 + 1000);
    unlink_ledger(f, "-wal");
    run_ms(f, 1100);
    assert_shows(last_on(LANE_W), LAMP_AMBER, true, false, OUT_COUNT, "ledger-lost");
    sqlite3_close(rec.side); /* a fresh connection reads the file as a restart would */
    rec.side = NULL;
    assert_int_equal(count_in(f->path, "SELECT count(*) FROM readings"), 2);
    assert_int_equal(sqlite3_open(f->path, &rec.side), SQLITE_OK);
    feed(f, DEV_A, 3650, 1001, T0730 + 2000);
    assert_int_equal(gate_flush(f->g), -1);
}

static void test_free_commits_then_every_lane_amber_stopped(void **state)
{
    struct fx *f = *state;
    feed(f, DEV_A, 3650, 1001, T0730); /* not flushed yet */
    gate_free(f->g);
    f->g = NULL;
    assert_int_equal(q_int("SELECT count(*) FROM readings"), 1);
    for (int lane = LANE_A; lane <= LANE_W; lane++) {
        const struct change *c = last_on(lane);
        assert_shows(c, LAMP_AMBER, false, false, OUT_COUNT, "stopped");
        assert_false(c->relay);
    }
    assert_int_equal(rec.c[rec.n - 3].outcome, OUT_ADMIT); /* shown before stopping */
}

/* A stop shows the safe state at once; readings drained after it are committed
 * but never shown, and freeing the gate does not show the safe state twice. */
static void test_stop_safe_first_then_rows_not_lights(void **state)
{
    struct fx *f = *state;
    feed(f, DEV_A, 3650, 1001, T0730);
    gate_stop(f->g);
    int after_stop = rec.n;
    assert_int_equal(q_int("SELECT count(*) FROM readings"), 1);
    assert_shows(last_on(LANE_A), LAMP_AMBER, false, false, OUT_COUNT, "stopped");
    gate_stop(f->g); /* again: nothing */
    assert_int_equal(rec.n, after_stop);
    feed(f, DEV_A, 3660, 1001, T0730 + 1000); /* drained during the stop */
    assert_int_equal(gate_flush(f->g), 1);
    assert_int_equal(q_int("SELECT count(*) FROM readings"), 2);
    gate_free(f->g);
    f->g = NULL;
    assert_int_equal(rec.n, after_stop); /* no light for it, no second safe state */
    assert_shows(last_on(LANE_A), LAMP_AMBER, false, false, OUT_COUNT, "stopped");
}

/* Runs body(path, cfg) in a child with its own ledger file, loop and side
 * connection (nothing shared with the parent's); returns its wait status. */
static int in_child(struct fx *f, int (*body)(const char *path, const struct config *cfg),
                    const struct config *cfg)
{
    char path[128];
    snprintf(path, sizeof path, "%s/child.db", f->dir);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL); /* not cmocka's handlers: the parent judges the crash */
        signal(SIGBUS, SIG_DFL);
        signal(SIGABRT, SIG_DFL);
        _exit(body(path, cfg));
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
    return status;
}

static void assert_child_ok(int status, const char *what)
{
    if (!WIFEXITED(status))
        fail_msg("%s crashed (signal %d)", what, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    if (WEXITSTATUS(status) != 0)
        fail_msg("%s: child exit status %d", what, WEXITSTATUS(status));
}

static int new_without_backend(const char *path, const struct config *cfg)
{
    struct ledger *l;
    struct loop *loop = loop_new();
    if (ledger_open(path, NULL, &l) < 0 || !loop)
        return 2;
    return gate_new(cfg, l, loop, NULL) == NULL ? 0 : 3;
}

/* Mixed backends, one of them missing (indicator = gpio): gate_new fails with a
 * message and cleans up after itself, without crashing. */
static void test_new_fails_cleanly_without_a_backend(void **state)
{
    struct fx *f = *state;
    struct config *cfg = parse_conf(
        "[school]\ncode = T001\nname = x\n[ledger]\ndatabase = ledger.db\n"
        "[windows]\nmorning = 07:00-08:10\n[bus gw]\ntcp = 127.0.0.1:1502\n"
        "[lane a]\ngate = 东门\nindicator = console\n"
        "[lane b]\ngate = 东门\nindicator = gpio\ngreen = gpiochip0:1\n"
        "amber = gpiochip0:2\nred = gpiochip0:3\n"
        "[device d1]\nbus = gw\nunit = 1\nlane = a\n[device d2]\nbus = gw\nunit = 2\nlane = b\n");
    int status = in_child(f, new_without_backend, cfg);
    config_free(cfg);
    assert_child_ok(status, "gate_new");
}

/* Wiegand lane: an invalid reading paired with a card, and a second reading in
 * the same batch; the flush re-arms the card while that reading waits. The main
 * thread then stalls past the pair window (a slow commit) before the next
 * reading. Nothing may be written past the lane's request array. */
static int stall_after_rearm(const char *path, const struct config *cfg)
{
    struct ledger *l;
    struct loop *loop = loop_new();
    if (ledger_open(path, NULL, &l) < 0 || !loop || sqlite3_open(path, &rec.side) != SQLITE_OK)
        return 2;
    struct gate *g = gate_new(cfg, l, loop, &recording);
    if (!g)
        return 2;
    add_person("S002", "李小红", 1, 1002);
    struct reading r = {.device = DEV_W, .lane = LANE_W, .wall_ms = T0730, .body_centi = 3000,
                        .raw_centi = 3000, .device_valid = true};
    gate_on_card(g, LANE_W, 1002, loop_now_us());
    gate_on_reading(g, &r, loop_now_us());
    r.body_centi = r.raw_centi = 3650;
    gate_on_reading(g, &r, loop_now_us());
    if (gate_flush(g) != 1)
        return 4;
    usleep((PAIR_WINDOW + 200) * 1000);
    r.body_centi = r.raw_centi = 3660;
    gate_on_reading(g, &r, loop_now_us());
    return gate_flush(g) >= 0 ? 0 : 5;
}

static void test_rearmed_card_with_waiting_reading_survives_a_stall(void **state)
{
    struct fx *f = *state;
    assert_child_ok(in_child(f, stall_after_rearm, f->cfg), "gate_on_reading after a stall");
}

/* ---- group commit ------------------------------------------------------------------- */

#define NLANES 64

static int setup_64(void **state)
{
    static char conf[16384];
    int n = snprintf(conf, sizeof conf,
                     "[school]\ncode = T001\nname = x\n[ledger]\ndatabase = ledger.db\n"
                     "[windows]\nmorning = 07:00-08:10\n[bus gw]\ntcp = 127.0.0.1:1502\n");
    for (int i = 0; i < NLANES; i++)
        n += snprintf(conf + n, sizeof conf - (size_t)n,
                      "[lane l%d]\ngate = g\n[device d%d]\nbus = gw\nunit = %d\nlane = l%d\n", i,
                      i, i + 1, i);
    assert_true(n < (int)sizeof conf);
    return start(state, conf);
}

static void test_group_commit_64_lanes(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < NLANES; i++) {
        char ext[16];
        snprintf(ext, sizeof ext, "G%03d", i);
        add_person(ext, "学生", 1, 5000 + i);
    }
    int from = rec.n;
    for (int i = 0; i < NLANES; i++)
        feed(f, i, 3650, 5000 + (uint64_t)i, T0730 + i);
    assert_int_equal(rec.n, from); /* nothing shown before the commit */
    assert_int_equal(q_int("SELECT count(*) FROM readings"), 0);
    assert_int_equal(gate_flush(f->g), NLANES);
    assert_int_equal(rec.n, from + NLANES);
    for (int i = 0; i < NLANES; i++) {
        const struct change *c = &rec.c[from + i];
        assert_int_equal(c->lane, i);
        assert_shows(c, LAMP_GREEN, false, false, OUT_ADMIT, NULL);
        assert_int_equal(c->committed_all, NLANES);
    }
    assert_int_equal(q_int("SELECT count(*) FROM checks"), NLANES);
}

int main(void)
{
    log_init("test_gate", LOG_LVL_ERR, LOG_OUT_PLAIN);
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_admit_row_committed_before_green),
        T(test_check_only_inside_the_window),
        T(test_first_valid_reading_wins_the_check),
        T(test_fever_opens_flag_then_buzzer_off_then_hold_end),
        T(test_second_fever_opens_no_second_flag),
        T(test_unknown_card_red_flag_only_with_fever),
        T(test_inactive_holder_is_unknown_card),
        T(test_no_card_is_no_identity),
        T(test_open_flag_sends_to_nurse),
        T(test_certificate_clears_see_nurse),
        T(test_unknown_absence_today_becomes_late),
        T(test_unknown_absence_withdrawn_by_a_check_in_the_window),
        T(test_illness_absence_today_keeps_cause),
        T(test_earlier_absence_gets_returned_day),
        T(test_wiegand_card_then_reading_pairs),
        T(test_wiegand_card_alone_becomes_no_measurement),
        T(test_offline_blinks_only_that_lane),
        T(test_decision_overrides_blink_then_it_returns),
        T(test_short_lock_delays_the_light),
        T(test_waiting_decision_ends_the_previous_green),
        T(test_held_lock_amber_then_alarm_then_recovers),
        T(test_deleted_database_alarm_and_rescue),
        T(test_deleted_wal_alarm_and_saved),
        T(test_free_commits_then_every_lane_amber_stopped),
        T(test_stop_safe_first_then_rows_not_lights),
        T(test_new_fails_cleanly_without_a_backend),
        T(test_rearmed_card_with_waiting_reading_survives_a_stall),
        cmocka_unit_test_setup_teardown(test_group_commit_64_lanes, setup_64, teardown),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
