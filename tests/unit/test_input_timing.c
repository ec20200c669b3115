/* The timing of GPIO inputs (drivers/input_timing.c): D0/D1 edges merged in
 * timestamp order after a hold, lost markers in their place, floods; presence
 * debounced by quiet time and the level read after it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "input_timing.h"

static void add(struct edge_merge *m, int line, int64_t t)
{
    struct merged_edge e = {.t_us = t, .line = line};
    assert_int_equal(edge_merge_add(m, &e), 0);
}

/* D0's edges read first, then D1's, some of which are older: out in time order. */
static void test_merge_orders_lines(void **state)
{
    (void)state;
    struct edge_merge m;
    edge_merge_init(&m, 3000);
    add(&m, 0, 1000);
    add(&m, 0, 5000);
    add(&m, 1, 3000);
    add(&m, 1, 7000);
    struct merged_edge e;
    assert_int_equal(edge_merge_due(&m), 4000);
    assert_int_equal(edge_merge_pop(&m, 3999, &e), 0); /* not held long enough */
    assert_int_equal(edge_merge_pop(&m, 4000, &e), 1);
    assert_true(e.t_us == 1000 && e.line == 0);
    assert_int_equal(edge_merge_pop(&m, 4000, &e), 0);
    assert_int_equal(edge_merge_pop(&m, 8000, &e), 1);
    assert_true(e.t_us == 3000 && e.line == 1);
    assert_int_equal(edge_merge_pop(&m, 8000, &e), 1);
    assert_true(e.t_us == 5000 && e.line == 0);
    /* An edge of the other line read late, but stamped before the next waiting
     * one, still comes first. */
    add(&m, 0, 6000);
    assert_int_equal(edge_merge_pop(&m, 20000, &e), 1);
    assert_true(e.t_us == 6000 && e.line == 0);
    assert_int_equal(edge_merge_pop(&m, 20000, &e), 1);
    assert_true(e.t_us == 7000 && e.line == 1);
    assert_int_equal(edge_merge_pop(&m, 20000, &e), 0);
    assert_int_equal(edge_merge_due(&m), -1);
    assert_int_equal(edge_merge_horizon(&m, 20000), 17000);
}

static void test_merge_ties_and_markers(void **state)
{
    (void)state;
    struct edge_merge m;
    edge_merge_init(&m, 0);
    add(&m, 0, 100);
    struct merged_edge lost = {.t_us = 100, .line = 1, .lost = true};
    assert_int_equal(edge_merge_add(&m, &lost), 0);
    add(&m, 1, 50);
    struct merged_edge e;
    assert_int_equal(edge_merge_pop(&m, 100, &e), 1);
    assert_int_equal(e.t_us, 50);
    assert_int_equal(edge_merge_pop(&m, 100, &e), 1);
    assert_true(e.t_us == 100 && !e.lost); /* same time: in arrival order */
    assert_int_equal(edge_merge_pop(&m, 100, &e), 1);
    assert_true(e.t_us == 100 && e.lost);
}

/* A flood pushes out the oldest edges, counted, and says so. */
static void test_merge_flood(void **state)
{
    (void)state;
    struct edge_merge m;
    edge_merge_init(&m, 3000);
    for (int i = 0; i < EDGE_MERGE_MAX; i++)
        add(&m, i & 1, 1000 + i);
    struct merged_edge e = {.t_us = 5000, .line = 0};
    assert_int_equal(edge_merge_add(&m, &e), -1);
    assert_int_equal(m.dropped, 1);
    assert_int_equal(m.n, EDGE_MERGE_MAX);
    assert_int_equal(edge_merge_pop(&m, 100000, &e), 1);
    assert_int_equal(e.t_us, 1001); /* 1000 was dropped */
}

static void test_debounce(void **state)
{
    (void)state;
    struct debounce d;
    debounce_init(&d, 30000, false);
    assert_false(debounce_due(&d, 0));
    debounce_edge(&d, 1000);           /* up */
    debounce_edge(&d, 1500);           /* bounce */
    debounce_edge(&d, 2000);           /* down */
    assert_false(debounce_due(&d, 31999));
    assert_true(debounce_due(&d, 32000));
    assert_int_equal(debounce_settle(&d, false), 0); /* quiet and low: nobody came */
    assert_false(debounce_due(&d, 100000));
    debounce_edge(&d, 200000);
    debounce_edge(&d, 150000);         /* an older stamp never shortens the quiet */
    assert_false(debounce_due(&d, 229999));
    assert_true(debounce_due(&d, 230000));
    assert_int_equal(debounce_settle(&d, true), 1);  /* an arrival */
    debounce_edge(&d, 300000);
    assert_int_equal(debounce_settle(&d, true), 0);  /* still there: not a second one */
    debounce_edge(&d, 400000);
    assert_int_equal(debounce_settle(&d, false), 0); /* gone */
    debounce_edge(&d, 500000);
    assert_int_equal(debounce_settle(&d, true), 1);  /* the next person */
    struct debounce present;
    debounce_init(&present, 0, true);    /* someone there at start */
    debounce_edge(&present, 10);
    assert_true(debounce_due(&present, 10));
    assert_int_equal(debounce_settle(&present, true), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_orders_lines), cmocka_unit_test(test_merge_ties_and_markers),
        cmocka_unit_test(test_merge_flood), cmocka_unit_test(test_debounce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
