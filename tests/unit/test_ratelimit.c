/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_ratelimit.c — token buckets: burst, refill, separate keys, disable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ratelimit.h"

static void test_burst_then_refill(void **state)
{
    (void)state;
    struct tocsin_ratelimit *rl = tocsin_ratelimit_new(10, 5, 64);
    int allowed = 0;
    for (int i = 0; i < 20; i++)
        allowed += tocsin_ratelimit_take(rl, "10.0.0.1", 1000);
    assert_int_equal(allowed, 5); /* the burst, then nothing in the same instant */
    assert_int_equal(tocsin_ratelimit_take(rl, "10.0.0.1", 1100), 1); /* 100 ms = 1 token */
    assert_int_equal(tocsin_ratelimit_take(rl, "10.0.0.1", 1100), 0);
    allowed = 0;
    for (int t = 2000; t < 3000; t += 10)
        allowed += tocsin_ratelimit_take(rl, "10.0.0.1", (uint64_t)t);
    assert_true(allowed >= 14 && allowed <= 16); /* ~rate per second after a full bucket */
    assert_int_equal(tocsin_ratelimit_take(rl, "10.0.0.2", 3000), 1); /* another key */
    tocsin_ratelimit_free(rl);
}

static void test_disabled(void **state)
{
    (void)state;
    struct tocsin_ratelimit *rl = tocsin_ratelimit_new(0, 0, 4);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(tocsin_ratelimit_take(rl, "x", 0), 1);
    tocsin_ratelimit_free(rl);
}

static void test_peek_takes_nothing(void **state)
{
    (void)state;
    struct tocsin_ratelimit *rl = tocsin_ratelimit_new(1, 2, 16);
    assert_int_equal(tocsin_ratelimit_peek(rl, "a", 0), 1); /* never seen: full */
    assert_int_equal(tocsin_ratelimit_take(rl, "a", 0), 1);
    assert_int_equal(tocsin_ratelimit_peek(rl, "a", 0), 1);
    assert_int_equal(tocsin_ratelimit_peek(rl, "a", 0), 1); /* still one left */
    assert_int_equal(tocsin_ratelimit_take(rl, "a", 0), 1);
    assert_int_equal(tocsin_ratelimit_peek(rl, "a", 0), 0);
    assert_int_equal(tocsin_ratelimit_peek(rl, "a", 1000), 1); /* refilled */
    tocsin_ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_refill),
        cmocka_unit_test(test_disabled),
        cmocka_unit_test(test_peek_takes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
