/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_ratelimit.c — the one rate limiter (lib/ratelimit), as the gateway
 * uses it (a rate per second with a burst, per address and for
 * everything) and as the dashboard's login throttle does (a burst, then
 * one attempt per interval, counted when taken, with refunds): waits
 * bounded by one interval, a keyed hash, and a full table that refuses
 * new keys instead of evicting a live count (it used to hand a colliding
 * key the victim's slot, full). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ratelimit.h"

static void test_rate_and_burst(void **state)
{
    (void)state;
    struct tocsin_ratelimit *rl = tocsin_ratelimit_new(10, 5, 64);
    int allowed = 0;
    for (int i = 0; i < 20; i++)
        allowed += tocsin_ratelimit_take(rl, "10.0.0.1", 1000);
    assert_int_equal(allowed, 5);
    assert_int_equal(tocsin_ratelimit_take(rl, "10.0.0.1", 1100), 1); /* 100 ms = 1 more */
    assert_int_equal(tocsin_ratelimit_take(rl, "10.0.0.1", 1100), 0);
    allowed = 0;
    for (int t = 1110; t <= 2100; t += 10) /* passes at 1200, 1300, ... 2100 */
        allowed += tocsin_ratelimit_take(rl, "10.0.0.1", (uint64_t)t);
    assert_int_equal(allowed, 10); /* 10 per second once the burst is spent */
    assert_int_equal(tocsin_ratelimit_take(rl, "10.0.0.2", 3000), 1); /* another key */
    tocsin_ratelimit_free(rl);
}

static void test_unlimited(void **state)
{
    (void)state;
    struct tocsin_ratelimit *rl = tocsin_ratelimit_new(0, 0, 4);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(tocsin_ratelimit_take(rl, "x", 0), 1);
    assert_int_equal(tocsin_ratelimit_peek(rl, "x", 0), 1);
    tocsin_ratelimit_free(rl);
}

static void test_peek(void **state)
{
    (void)state;
    struct tocsin_ratelimit *rl = tocsin_ratelimit_new(1, 2, 16);
    assert_int_equal(tocsin_ratelimit_peek(rl, "a", 0), 1); /* never seen: full */
    assert_int_equal(tocsin_ratelimit_take(rl, "a", 0), 1);
    assert_int_equal(tocsin_ratelimit_peek(rl, "a", 0), 1);
    assert_int_equal(tocsin_ratelimit_peek(rl, "a", 0), 1); /* peeking takes nothing */
    assert_int_equal(tocsin_ratelimit_take(rl, "a", 0), 1);
    assert_int_equal(tocsin_ratelimit_peek(rl, "a", 0), 0);
    assert_int_equal(tocsin_ratelimit_peek(rl, "a", 1000), 1); /* refilled */
    tocsin_ratelimit_free(rl);
}

/* The login throttle's shape: burst 3, then one per 10 s. */
static struct tocsin_ratelimit *per_interval(unsigned burst, unsigned interval_ms, unsigned slots)
{
    return tocsin_ratelimit_new(1000.0 / interval_ms, burst, slots);
}

static void test_burst_then_one_per_interval(void **state)
{
    (void)state;
    struct tocsin_ratelimit *t = per_interval(3, 10000, 64);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tocsin_ratelimit_wait(t, "a:ann", 1000), 0);
    /* Refused for one interval at most, never a 15-minute lockout. */
    assert_int_equal(tocsin_ratelimit_wait(t, "a:ann", 1000), 10000);
    assert_int_equal(tocsin_ratelimit_wait(t, "a:ann", 5500), 5500);
    assert_int_equal(tocsin_ratelimit_wait(t, "a:ann", 11000), 0);
    assert_int_equal(tocsin_ratelimit_wait(t, "a:ann", 11000), 10000);
    assert_int_equal(tocsin_ratelimit_wait(t, "a:bob", 11000), 0);
    /* However hard a key is hammered, a wait is never above one interval. */
    for (uint64_t now = 11000; now < 200000; now += 137) {
        uint64_t w = tocsin_ratelimit_wait(t, "a:ann", now);
        assert_true(w <= 10000);
    }
    tocsin_ratelimit_free(t);
}

static void test_counted_when_taken(void **state)
{
    (void)state;
    /* 50 attempts at the same instant (parallel logins): only the burst passes. */
    struct tocsin_ratelimit *t = per_interval(5, 15000, 64);
    int passed = 0;
    for (int i = 0; i < 50; i++)
        passed += tocsin_ratelimit_wait(t, "a:vol1", 1000) == 0;
    assert_int_equal(passed, 5);
    assert_true(tocsin_ratelimit_level(t, "a:vol1", 1000) == 5.0);
    tocsin_ratelimit_free(t);
}

static void test_refund_and_clear(void **state)
{
    (void)state;
    struct tocsin_ratelimit *t = per_interval(2, 10000, 64);
    assert_int_equal(tocsin_ratelimit_wait(t, "k", 0), 0);
    assert_int_equal(tocsin_ratelimit_wait(t, "k", 0), 0);
    assert_true(tocsin_ratelimit_wait(t, "k", 0) > 0);
    tocsin_ratelimit_refund(t, "k", 0);
    assert_int_equal(tocsin_ratelimit_wait(t, "k", 0), 0);
    tocsin_ratelimit_clear(t, "k");
    assert_true(tocsin_ratelimit_level(t, "k", 0) == 0);
    assert_int_equal(tocsin_ratelimit_wait(t, "k", 0), 0);
    tocsin_ratelimit_refund(t, "k", 0);
    tocsin_ratelimit_refund(t, "k", 0); /* more refunds than takes: stays empty */
    assert_true(tocsin_ratelimit_level(t, "k", 0) == 0);
    tocsin_ratelimit_clear(t, "never-seen");
    tocsin_ratelimit_refund(t, "never-seen", 0);
    tocsin_ratelimit_free(t);
}

static void test_no_eviction_by_other_keys(void **state)
{
    (void)state;
    /* A tiny table: every key shares the victim's probe window. A
     * colliding key used to take the victim's slot over, full. */
    struct tocsin_ratelimit *t = per_interval(3, 10000, 4);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tocsin_ratelimit_wait(t, "a:victim", 0), 0);
    char key[32];
    unsigned refused = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "a:other%d", i);
        uint64_t w = tocsin_ratelimit_wait(t, key, 1);
        if (w) {
            refused++;
            assert_true(w <= 30000); /* until a neighbour drains: at most burst intervals */
        }
    }
    assert_int_equal(refused, 1000 - 3);
    assert_int_equal(tocsin_ratelimit_peek(t, "a:stranger", 2), 0); /* peek agrees */
    assert_true(tocsin_ratelimit_wait(t, "a:victim", 2) > 0);
    assert_true(tocsin_ratelimit_level(t, "a:victim", 2) > 2.9);
    /* Drained slots are free again. */
    assert_int_equal(tocsin_ratelimit_wait(t, "a:newcomer", 30000), 0);
    tocsin_ratelimit_free(t);
}

static void test_keyed_hash(void **state)
{
    (void)state;
    /* With a one-slot probe window left per key, two tables agree on which
     * of 64 keys collide only if their hashes were the same function: a
     * secret key makes the collisions differ. */
    struct tocsin_ratelimit *a = per_interval(1, 100000, 64), *b = per_interval(1, 100000, 64);
    char key[32];
    int differ = 0;
    for (int i = 0; i < 64; i++) {
        snprintf(key, sizeof key, "a:user%d", i);
        differ +=
            (tocsin_ratelimit_wait(a, key, 0) == 0) != (tocsin_ratelimit_wait(b, key, 0) == 0);
    }
    assert_true(differ > 0);
    tocsin_ratelimit_free(a);
    tocsin_ratelimit_free(b);
}

static void test_long_keys_and_arguments(void **state)
{
    (void)state;
    struct tocsin_ratelimit *t = per_interval(1, 10000, 8);
    char key[400];
    memset(key, 'x', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    assert_int_equal(tocsin_ratelimit_wait(t, key, 0), 0); /* truncated, still counted */
    assert_true(tocsin_ratelimit_wait(t, key, 1) > 0);
    tocsin_ratelimit_free(t);
    assert_null(tocsin_ratelimit_new(1, 1, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_and_burst),
        cmocka_unit_test(test_unlimited),
        cmocka_unit_test(test_peek),
        cmocka_unit_test(test_burst_then_one_per_interval),
        cmocka_unit_test(test_counted_when_taken),
        cmocka_unit_test(test_refund_and_clear),
        cmocka_unit_test(test_no_eviction_by_other_keys),
        cmocka_unit_test(test_keyed_hash),
        cmocka_unit_test(test_long_keys_and_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
