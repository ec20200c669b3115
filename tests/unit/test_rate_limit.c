/* The collector's per-school rate limit (bureau/collector/rate_limit.h, issue 15
 * "Size and rate limits"): a bucket of `burst` requests refilled at `per_minute`,
 * one per key, driven by a fake clock; the runs that say when a flood starts and
 * ends; reload; the key table's bound; several threads at once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "rate_limit.h"

static void test_burst_then_rate(void **state)
{
    (void)state;
    struct rate_limit *rl = rate_limit_new(60, 3); /* one a second, three at once */
    assert_non_null(rl);
    for (int i = 0; i < 3; i++)
        assert_int_equal(rate_limit_take(rl, "4401010001/summary", 1000).wait_ms, 0);
    struct rate_verdict v = rate_limit_take(rl, "4401010001/summary", 1000);
    assert_int_equal(v.wait_ms, 1000); /* empty: the next in one second */
    assert_int_equal(v.run, 1);
    v = rate_limit_take(rl, "4401010001/summary", 1400);
    assert_int_equal(v.wait_ms, 600);
    assert_int_equal(v.run, 2);
    /* another key (the same school's notices) has its own bucket */
    assert_int_equal(rate_limit_take(rl, "4401010001/notice", 1400).wait_ms, 0);
    v = rate_limit_take(rl, "4401010001/summary", 2000);
    assert_int_equal(v.wait_ms, 0);
    assert_int_equal(v.run, 2); /* two were refused before this one */
    v = rate_limit_take(rl, "4401010001/summary", 2000);
    assert_int_equal(v.wait_ms, 1000);
    assert_int_equal(v.run, 1);
    /* a long quiet time refills to the burst, not beyond */
    for (int i = 0; i < 3; i++)
        assert_int_equal(rate_limit_take(rl, "4401010001/summary", 500000).wait_ms, 0);
    assert_true(rate_limit_take(rl, "4401010001/summary", 500000).wait_ms > 0);
    rate_limit_free(rl);
}

static void test_refused_requests_do_not_drain(void **state)
{
    (void)state;
    /* 6 a minute: one per 10 s. Hammering while empty must not push the next
     * allowed request further away. */
    struct rate_limit *rl = rate_limit_new(6, 1);
    assert_int_equal(rate_limit_take(rl, "k", 0).wait_ms, 0);
    for (int t = 0; t < 10000; t += 100)
        assert_true(rate_limit_take(rl, "k", t).wait_ms > 0);
    assert_int_equal(rate_limit_take(rl, "k", 10000).wait_ms, 0);
    rate_limit_free(rl);
}

static void test_off_and_reload(void **state)
{
    (void)state;
    struct rate_limit *rl = rate_limit_new(0, 1);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(rate_limit_take(rl, "k", 0).wait_ms, 0);
    assert_int_equal(rate_limit_keys(rl), 0); /* off: nothing kept */
    rate_limit_set(rl, 60, 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(rate_limit_take(rl, "k", 0).wait_ms, 0);
    assert_true(rate_limit_take(rl, "k", 0).wait_ms > 0);
    rate_limit_set(rl, 60, 2); /* a smaller burst caps the full buckets */
    assert_int_equal(rate_limit_take(rl, "k", 3600000).wait_ms, 0);
    assert_int_equal(rate_limit_take(rl, "k", 3600000).wait_ms, 0);
    assert_true(rate_limit_take(rl, "k", 3600000).wait_ms > 0);
    rate_limit_set(rl, 0, 2); /* and off again */
    assert_int_equal(rate_limit_take(rl, "k", 3600000).wait_ms, 0);
    rate_limit_free(rl);
}

static void test_key_table_bound(void **state)
{
    (void)state;
    struct rate_limit *rl = rate_limit_new(60, 2);
    char key[32];
    for (int i = 0; i < RATE_LIMIT_KEYS_MAX; i++) {
        snprintf(key, sizeof key, "s%d", i);
        assert_int_equal(rate_limit_take(rl, key, 0).wait_ms, 0);
    }
    assert_int_equal(rate_limit_keys(rl), RATE_LIMIT_KEYS_MAX);
    /* nothing is full at t=0: a new key is let through, not kept */
    assert_int_equal(rate_limit_take(rl, "new", 0).wait_ms, 0);
    assert_int_equal(rate_limit_keys(rl), RATE_LIMIT_KEYS_MAX);
    /* a minute later every bucket is full again: they are forgotten for the new one */
    assert_int_equal(rate_limit_take(rl, "new", 60000).wait_ms, 0);
    assert_int_equal(rate_limit_keys(rl), 1);
    /* a key past the length is cut, and still limited */
    char long_key[200];
    memset(long_key, 'x', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    assert_int_equal(rate_limit_take(rl, long_key, 60000).wait_ms, 0);
    assert_int_equal(rate_limit_take(rl, long_key, 60000).wait_ms, 0);
    assert_true(rate_limit_take(rl, long_key, 60000).wait_ms > 0);
    rate_limit_free(rl);
}

#define THREADS 4
#define TRIES 5000
static struct rate_limit *shared;
static int allowed[THREADS];

static void *hammer(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int i = 0; i < TRIES; i++)
        allowed[t] += rate_limit_take(shared, "one", 0).wait_ms == 0;
    return NULL;
}

static void test_threads_share_one_budget(void **state)
{
    (void)state;
    shared = rate_limit_new(60, 100);
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, hammer, (void *)(intptr_t)t), 0);
    int sum = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        sum += allowed[t];
    }
    assert_int_equal(sum, 100); /* exactly the burst, across all threads */
    rate_limit_free(shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_rate), cmocka_unit_test(test_refused_requests_do_not_drain),
        cmocka_unit_test(test_off_and_reload), cmocka_unit_test(test_key_table_bound),
        cmocka_unit_test(test_threads_share_one_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
