/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_login_throttle.c — the dashboard's login buckets
 * (dashboard/login_throttle.c, compiled in here: it is not in libtocsin):
 * a burst then one attempt per interval, attempts counted when taken (so
 * parallel ones cannot pass together), waits bounded by one interval,
 * refunds and clearing, a keyed hash, and a full table that refuses new
 * keys instead of evicting a live count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "../../dashboard/login_throttle.c"

static void test_burst_then_one_per_interval(void **state)
{
    (void)state;
    struct login_throttle *t = login_throttle_new(3, 10000, 64);
    assert_non_null(t);
    for (int i = 0; i < 3; i++)
        assert_int_equal(login_throttle_take(t, "a:ann", 1000), 0);
    /* The 4th waits for one interval to drain, never for a long window. */
    assert_int_equal(login_throttle_take(t, "a:ann", 1000), 10);
    assert_int_equal(login_throttle_take(t, "a:ann", 5500), 6);
    assert_int_equal(login_throttle_take(t, "a:ann", 11000), 0);
    assert_int_equal(login_throttle_take(t, "a:ann", 11000), 10);
    assert_int_equal(login_throttle_take(t, "a:bob", 11000), 0);
    /* However long it is hammered, a wait is at most one interval. */
    for (uint64_t now = 11000; now < 500000; now += 700) {
        unsigned w = login_throttle_take(t, "a:ann", now);
        assert_true(w <= 10);
    }
    login_throttle_free(t);
}

static void test_parallel_attempts_are_counted_when_taken(void **state)
{
    (void)state;
    /* 50 guesses arrive before any password check finishes: only the
     * burst gets through, because taking counts. */
    struct login_throttle *t = login_throttle_new(5, 15000, 64);
    int passed = 0;
    for (int i = 0; i < 50; i++)
        passed += login_throttle_take(t, "a:vol1", 1000) == 0;
    assert_int_equal(passed, 5);
    assert_true(login_throttle_level(t, "a:vol1", 1000) == 5.0);
    login_throttle_free(t);
}

static void test_refund_and_clear(void **state)
{
    (void)state;
    struct login_throttle *t = login_throttle_new(2, 10000, 64);
    assert_int_equal(login_throttle_take(t, "k", 0), 0);
    assert_int_equal(login_throttle_take(t, "k", 0), 0);
    assert_true(login_throttle_take(t, "k", 0) > 0);
    login_throttle_refund(t, "k", 0);
    assert_int_equal(login_throttle_take(t, "k", 0), 0);
    login_throttle_clear(t, "k");
    assert_true(login_throttle_level(t, "k", 0) == 0);
    assert_int_equal(login_throttle_take(t, "k", 0), 0);
    login_throttle_refund(t, "k", 0);
    login_throttle_refund(t, "k", 0); /* more refunds than takes: stays empty */
    assert_true(login_throttle_level(t, "k", 0) == 0);
    login_throttle_clear(t, "never-seen");
    login_throttle_refund(t, "never-seen", 0);
    login_throttle_free(t);
}

static void test_no_eviction_by_other_keys(void **state)
{
    (void)state;
    /* A tiny table: every key shares the victim's probe window. Before,
     * a colliding key took the victim's slot over and wiped its count. */
    struct login_throttle *t = login_throttle_new(3, 10000, 4);
    for (int i = 0; i < 3; i++)
        assert_int_equal(login_throttle_take(t, "a:victim", 0), 0);
    char key[32];
    unsigned refused = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "a:other%d", i);
        unsigned w = login_throttle_take(t, key, 1);
        if (w) {
            refused++;
            assert_true(w <= 30); /* until a neighbour drains: at most burst intervals */
        }
    }
    assert_int_equal(refused, 1000 - 3);
    assert_true(login_throttle_take(t, "a:victim", 2) > 0);
    assert_true(login_throttle_level(t, "a:victim", 2) > 2.9);
    /* Drained slots are free again. */
    assert_int_equal(login_throttle_take(t, "a:newcomer", 30000), 0);
    login_throttle_free(t);
}

static void test_keyed_hash(void **state)
{
    (void)state;
    /* Two tables place the same keys differently: the hash has a secret key. */
    struct login_throttle *a = login_throttle_new(1, 1000, 1u << 16);
    struct login_throttle *b = login_throttle_new(1, 1000, 1u << 16);
    int differ = 0;
    char key[32];
    for (int i = 0; i < 8; i++) {
        snprintf(key, sizeof key, "a:user%d", i);
        login_throttle_take(a, key, 0);
        login_throttle_take(b, key, 0);
        differ += find(a, key, 0, 0, NULL) - a->slots != find(b, key, 0, 0, NULL) - b->slots;
    }
    assert_true(differ > 0);
    login_throttle_free(a);
    login_throttle_free(b);
}

static void test_long_keys_and_arguments(void **state)
{
    (void)state;
    struct login_throttle *t = login_throttle_new(1, 10000, 8);
    char key[400];
    memset(key, 'x', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    assert_int_equal(login_throttle_take(t, key, 0), 0); /* truncated, still counted */
    assert_true(login_throttle_take(t, key, 1) > 0);
    login_throttle_free(t);
    assert_null(login_throttle_new(0, 1000, 8));
    assert_null(login_throttle_new(1, 1000, 0));
    assert_null(login_throttle_new(1, 0, 8));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_one_per_interval),
        cmocka_unit_test(test_parallel_attempts_are_counted_when_taken),
        cmocka_unit_test(test_refund_and_clear),
        cmocka_unit_test(test_no_eviction_by_other_keys),
        cmocka_unit_test(test_keyed_hash),
        cmocka_unit_test(test_long_keys_and_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
