/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_login_throttle.c — the dashboard's failed-login windows
 * (dashboard/login_throttle.c, compiled in here: it is not in libtocsin):
 * locking after N failures, Retry-After seconds, the window's end, a
 * success clearing the count, keys kept apart, a full table bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "../../dashboard/login_throttle.c"

static void test_locks_after_max_failures(void **state)
{
    (void)state;
    struct login_throttle *t = login_throttle_new(3, 60000, 64);
    assert_non_null(t);
    for (int i = 0; i < 2; i++) {
        login_throttle_fail(t, "a:ann", 1000 + i);
        assert_int_equal(login_throttle_wait_s(t, "a:ann", 1000 + i), 0);
    }
    login_throttle_fail(t, "a:ann", 2000);
    /* Locked until 60 s after the first failure (at 1000 ms). */
    assert_int_equal(login_throttle_wait_s(t, "a:ann", 2000), 59);
    assert_int_equal(login_throttle_wait_s(t, "a:ann", 60500), 1);
    assert_int_equal(login_throttle_wait_s(t, "a:ann", 61000), 0);
    assert_int_equal(login_throttle_wait_s(t, "a:bob", 2000), 0);
    login_throttle_free(t);
}

static void test_new_window_after_expiry(void **state)
{
    (void)state;
    struct login_throttle *t = login_throttle_new(2, 10000, 64);
    login_throttle_fail(t, "k", 0);
    login_throttle_fail(t, "k", 20000); /* the first window is over: count restarts */
    assert_int_equal(login_throttle_wait_s(t, "k", 20001), 0);
    login_throttle_fail(t, "k", 21000);
    assert_int_equal(login_throttle_wait_s(t, "k", 21000), 9);
    login_throttle_free(t);
}

static void test_clear(void **state)
{
    (void)state;
    struct login_throttle *t = login_throttle_new(1, 10000, 64);
    login_throttle_fail(t, "k", 0);
    assert_true(login_throttle_wait_s(t, "k", 1) > 0);
    login_throttle_clear(t, "k");
    assert_int_equal(login_throttle_wait_s(t, "k", 1), 0);
    login_throttle_clear(t, "never-seen");
    login_throttle_free(t);
}

static void test_bounded_table(void **state)
{
    (void)state;
    /* One slot: a second key takes it over, which only forgets. */
    struct login_throttle *t = login_throttle_new(1, 10000, 1);
    login_throttle_fail(t, "first", 0);
    assert_true(login_throttle_wait_s(t, "first", 1) > 0);
    login_throttle_fail(t, "second", 1);
    assert_int_equal(login_throttle_wait_s(t, "first", 2), 0);
    assert_true(login_throttle_wait_s(t, "second", 2) > 0);
    char key[400];
    memset(key, 'x', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    login_throttle_fail(t, key, 3); /* longer than a slot's key: truncated, still counted */
    assert_true(login_throttle_wait_s(t, key, 4) > 0);
    login_throttle_free(t);
    assert_null(login_throttle_new(0, 1000, 8));
    assert_null(login_throttle_new(1, 1000, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locks_after_max_failures),
        cmocka_unit_test(test_new_window_after_expiry),
        cmocka_unit_test(test_clear),
        cmocka_unit_test(test_bounded_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
