/* The login throttle and audit budget (login_throttle.c) on a fake clock: blocks per
 * (name, address) and per address, never per name alone; their growth, cap and end;
 * logins in progress; names kept alike whatever else is in the tables; the audit
 * budget and its summary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "login_throttle.h"

#define MIN_MS (60 * 1000)

/* One whole wrong login of name from addr at now; the outcome. */
static struct throttle_outcome wrong(struct throttle *t, const char *name, const char *addr,
                                     int64_t now)
{
    int64_t retry;
    struct throttle_outcome o = {0};
    assert_int_equal(throttle_begin(t, name, addr, now, &retry), THROTTLE_GO);
    throttle_record(t, name, addr, THROTTLE_WRONG, now, &o);
    throttle_release(t, name, addr);
    return o;
}

static enum throttle_verdict try_at(struct throttle *t, const char *name, const char *addr,
                                    int64_t now, int64_t *retry)
{
    int64_t ignored;
    enum throttle_verdict v = throttle_begin(t, name, addr, now, retry ? retry : &ignored);
    if (v == THROTTLE_GO)
        throttle_release(t, name, addr);
    return v;
}

static int setup(void **state)
{
    *state = throttle_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    throttle_free(*state);
    return 0;
}

/* Five wrong passwords block the name from that address only; the delays grow. */
static void test_pair_block_is_local(void **state)
{
    struct throttle *t = *state;
    int64_t now = 1000, want[] = {250, 500, 1000, 2000, 4000}, retry;
    for (int i = 0; i < 5; i++) {
        struct throttle_outcome o = wrong(t, "nurse", "10.0.0.9", now);
        assert_int_equal(o.pair_fails, i + 1);
        assert_int_equal(o.delay_ms, want[i]);
        assert_int_equal(o.blocked_ms, i < 4 ? 0 : THROTTLE_BLOCK_FIRST_MS);
        now += 100;
    }
    assert_int_equal(try_at(t, "nurse", "10.0.0.9", now, &retry), THROTTLE_BLOCKED);
    assert_true(retry > 0 && retry <= THROTTLE_BLOCK_FIRST_MS);
    /* The nurse at her own desk is not touched by a stranger's guesses. */
    assert_int_equal(try_at(t, "nurse", "10.0.0.1", now, NULL), THROTTLE_GO);
    /* Another name from the stranger's address: only the address's count applies. */
    assert_int_equal(try_at(t, "other", "10.0.0.9", now, NULL), THROTTLE_GO);
}

/* Each failure after a block doubles the next block, up to 15 minutes; a right
 * password ends it; a quiet hour forgets the count. */
static void test_pair_block_grows_and_ends(void **state)
{
    struct throttle *t = *state;
    int64_t now = 1000;
    for (int i = 0; i < 4; i++)
        wrong(t, "n", "a", now);
    int64_t block = THROTTLE_BLOCK_FIRST_MS;
    for (int i = 0; i < 8; i++) {
        struct throttle_outcome o = wrong(t, "n", "a", now);
        assert_int_equal(o.blocked_ms, block);
        assert_int_equal(try_at(t, "n", "a", now + o.blocked_ms - 1, NULL), THROTTLE_BLOCKED);
        now += o.blocked_ms;
        block = block * 2 < THROTTLE_BLOCK_MAX_MS ? block * 2 : THROTTLE_BLOCK_MAX_MS;
    }
    assert_int_equal(block, THROTTLE_BLOCK_MAX_MS);
    int64_t retry;
    struct throttle_outcome o;
    assert_int_equal(throttle_begin(t, "n", "a", now, &retry), THROTTLE_GO);
    throttle_record(t, "n", "a", THROTTLE_RIGHT, now, &o);
    throttle_release(t, "n", "a");
    assert_int_equal(wrong(t, "n", "a", now).pair_fails, 1);
    now += THROTTLE_FORGET_MS + 1;
    assert_int_equal(wrong(t, "n", "a", now).pair_fails, 1);
}

/* Twenty failures from one address, each with a new name, block the address for
 * every name; a success there does not wipe the address's count. */
static void test_address_block(void **state)
{
    struct throttle *t = *state;
    char name[32];
    int64_t now = 5000;
    struct throttle_outcome o = {0};
    for (int i = 0; i < THROTTLE_ADDR_FAILS; i++) {
        snprintf(name, sizeof name, "random%d", i);
        if (i == 3) { /* the attacker's own account */
            int64_t retry;
            assert_int_equal(throttle_begin(t, "mine", "6.6.6.6", now, &retry), THROTTLE_GO);
            throttle_record(t, "mine", "6.6.6.6", THROTTLE_RIGHT, now, &o);
            throttle_release(t, "mine", "6.6.6.6");
        }
        o = wrong(t, name, "6.6.6.6", now++);
        assert_int_equal(o.addr_fails, i + 1);
    }
    assert_int_equal(o.blocked_ms, THROTTLE_BLOCK_FIRST_MS);
    /* The clean address's password checks go first. */
    assert_false(throttle_address_clean(t, "6.6.6.6", now));
    assert_true(throttle_address_clean(t, "10.0.0.1", now));
    assert_int_equal(try_at(t, "nurse", "6.6.6.6", now, NULL), THROTTLE_BLOCKED);
    assert_int_equal(try_at(t, "mine", "6.6.6.6", now, NULL), THROTTLE_BLOCKED);
    assert_int_equal(try_at(t, "nurse", "10.0.0.1", now, NULL), THROTTLE_GO);
}

/* One login per (name, address) at a time; at most THROTTLE_ADDR_INFLIGHT per address;
 * other addresses are not held up. */
static void test_in_progress(void **state)
{
    struct throttle *t = *state;
    int64_t r;
    char name[16];
    assert_int_equal(throttle_begin(t, "x", "a", 0, &r), THROTTLE_GO);
    assert_int_equal(throttle_begin(t, "x", "a", 0, &r), THROTTLE_BUSY_NAME);
    assert_int_equal(throttle_begin(t, "x", "b", 0, &r), THROTTLE_GO);
    for (int i = 1; i < THROTTLE_ADDR_INFLIGHT; i++) {
        snprintf(name, sizeof name, "y%d", i);
        assert_int_equal(throttle_begin(t, name, "a", 0, &r), THROTTLE_GO);
    }
    assert_int_equal(throttle_begin(t, "z", "a", 0, &r), THROTTLE_BUSY_ADDR);
    assert_int_equal(throttle_begin(t, "z", "c", 0, &r), THROTTLE_GO);
    throttle_release(t, "x", "a");
    assert_int_equal(throttle_begin(t, "z", "a", 0, &r), THROTTLE_GO);
}

/* Two names blocked alike stay alike however many other names fail meanwhile (the
 * table cannot know which is a user): item 5's probe finds no difference. */
static void test_names_stay_alike(void **state)
{
    struct throttle *t = *state;
    char name[32], addr[32];
    int64_t now = 1000;
    for (int i = 0; i < THROTTLE_PAIR_FAILS; i++) {
        wrong(t, "realuser", "9.9.9.9", now);
        wrong(t, "ghost", "9.9.9.9", now);
    }
    for (int i = 0; i < 3 * THROTTLE_PAIRS; i++) {
        snprintf(name, sizeof name, "other%d", i);
        snprintf(addr, sizeof addr, "10.1.%d.%d", i / 10 / 250, i / 10 % 250);
        wrong(t, name, addr, now + i);
        if (i % 500 == 0) {
            int64_t r1, r2;
            assert_int_equal(try_at(t, "realuser", "9.9.9.9", now + i, &r1),
                             try_at(t, "ghost", "9.9.9.9", now + i, &r2));
            assert_int_equal(r1, r2);
        }
    }
    int64_t later = now + THROTTLE_BLOCK_FIRST_MS + 1;
    assert_int_equal(try_at(t, "realuser", "9.9.9.9", later, NULL),
                     try_at(t, "ghost", "9.9.9.9", later, NULL));
}

/* An administrator's unlock ends the name's blocks at every address. */
static void test_forget_name(void **state)
{
    struct throttle *t = *state;
    for (int i = 0; i < THROTTLE_PAIR_FAILS; i++)
        wrong(t, "n", "a", 0);
    assert_int_equal(try_at(t, "n", "a", 1, NULL), THROTTLE_BLOCKED);
    throttle_forget_name(t, "n");
    assert_int_equal(try_at(t, "n", "a", 1, NULL), THROTTLE_GO);
}

/* Ten rows of their own a minute; the rest summed up at most every 10 s, naming the
 * address with the most. */
static void test_audit_budget(void **state)
{
    struct throttle *t = *state;
    char summary[256];
    int own = 0;
    for (int i = 0; i < 1000; i++) {
        own += throttle_audit(t, i % 10 ? "1.1.1.1" : "2.2.2.2", i, summary, sizeof summary);
        assert_string_equal(summary, "");
    }
    assert_int_equal(own, THROTTLE_AUDIT_ROWS);
    throttle_audit_flush(t, 5000, summary, sizeof summary);
    assert_string_equal(summary, "");
    int64_t due = 10 + THROTTLE_AUDIT_SUMMARY_MS; /* the first unwritten was at 10 ms */
    assert_false(throttle_audit(t, "1.1.1.1", due, summary, sizeof summary));
    assert_non_null(strstr(summary, "990 failed or refused logins"));
    assert_non_null(strstr(summary, "from 2 addresses, most from 1.1.1.1 (891)"));
    assert_true(throttle_audit(t, "3.3.3.3", THROTTLE_AUDIT_WINDOW_MS + 20, summary,
                               sizeof summary));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pair_block_is_local, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pair_block_grows_and_ends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_address_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_progress, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_stay_alike, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_budget, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
