/* Configuration snapshots (daemon/runtime/confstore.c): a reader keeps the snapshot
 * it took, whole, across a publish; a replaced snapshot is freed with its last
 * reference, not before; and readers on threads racing a publisher never see a
 * half-written configuration (run under ThreadSanitizer in make test-tsan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "confstore.h"

static atomic_int freed;

static void count_free(struct config *cfg)
{
    atomic_fetch_add(&freed, 1);
    free(cfg);
}

static struct config *make(int threshold)
{
    struct config *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->screening.threshold_centi = threshold;
    c->screening.valid_min_centi = threshold - 300; /* a pair that must stay together */
    return c;
}

static void test_reader_keeps_its_snapshot(void **state)
{
    (void)state;
    freed = 0;
    struct config_store *s = cfgstore_new(make(3730), count_free);
    const struct config *a = cfgstore_acquire(s);
    assert_int_equal(cfgstore_publish(s, make(3750)), 0);
    assert_int_equal(a->screening.threshold_centi, 3730); /* still the old one, whole */
    assert_int_equal(freed, 0);                           /* held: not freed */
    const struct config *b = cfgstore_acquire(s);
    assert_int_equal(b->screening.threshold_centi, 3750);
    cfgstore_release(s, a);
    assert_int_equal(freed, 1); /* the last reference to a replaced one frees it */
    cfgstore_release(s, b);
    assert_int_equal(freed, 1); /* the one in force stays */
    cfgstore_free(s);
    assert_int_equal(freed, 2);
}

static void test_unheld_snapshot_freed_at_publish(void **state)
{
    (void)state;
    freed = 0;
    struct config_store *s = cfgstore_new(make(3730), count_free);
    assert_int_equal(cfgstore_publish(s, make(3740)), 0);
    assert_int_equal(freed, 1);
    assert_int_equal(cfgstore_publish(s, make(3750)), 0);
    assert_int_equal(freed, 2);
    const struct config *c = cfgstore_acquire(s);
    assert_int_equal(c->screening.threshold_centi, 3750);
    cfgstore_release(s, c);
    cfgstore_free(s);
    assert_int_equal(freed, 3);
}

#define READERS 4
#define ROUNDS 20000
#define PUBLISHES 500

static void *reader(void *arg)
{
    struct config_store *s = arg;
    long torn = 0;
    for (int i = 0; i < ROUNDS; i++) {
        const struct config *c = cfgstore_acquire(s);
        torn += c->screening.valid_min_centi != c->screening.threshold_centi - 300;
        cfgstore_release(s, c);
    }
    return (void *)torn;
}

static void test_readers_race_publisher(void **state)
{
    (void)state;
    freed = 0;
    struct config_store *s = cfgstore_new(make(3000), count_free);
    pthread_t t[READERS];
    for (int i = 0; i < READERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, reader, s), 0);
    for (int i = 1; i <= PUBLISHES; i++)
        assert_int_equal(cfgstore_publish(s, make(3000 + i)), 0);
    long torn = 0;
    for (int i = 0; i < READERS; i++) {
        void *r;
        pthread_join(t[i], &r);
        torn += (long)r;
    }
    assert_int_equal(torn, 0);
    assert_int_equal(freed, PUBLISHES); /* every replaced snapshot, once */
    cfgstore_free(s);
    assert_int_equal(freed, PUBLISHES + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_keeps_its_snapshot),
        cmocka_unit_test(test_unheld_snapshot_freed_at_publish),
        cmocka_unit_test(test_readers_race_publisher),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
