/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_password_work.c — the dashboard's argon2id queue
 * (dashboard/password_work.c, compiled in here: it is not in libtocsin):
 * no more than `concurrency` at once, waiting work served first come first
 * served, a full queue refused at once, and the counters the integration
 * tests read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "../../dashboard/password_work.c"

static int order[16], norder, max_running_seen;

static void done_verify(int ok, void *arg)
{
    assert_int_equal(ok, 0); /* a dummy hash never matches */
    if (q.running + 1 > (unsigned)max_running_seen)
        max_running_seen = (int)q.running + 1;
    order[norder++] = (int)(intptr_t)arg;
}

static void done_hash(const char *hash, void *arg)
{
    assert_non_null(hash);
    assert_int_equal(tocsin_password_verify(hash, "a long password", 15), 1);
    order[norder++] = (int)(intptr_t)arg;
}

static void test_fifo_bounded(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    assert_int_equal(dash_password_init(&loop, 1, 3), 0);
    /* One runs, three wait; the fifth is refused at once. */
    for (intptr_t i = 0; i < 3; i++)
        assert_int_equal(dash_password_verify(NULL, "guess", done_verify, (void *)i), 0);
    assert_int_equal(dash_password_hash("a long password", done_hash, (void *)3), 0);
    assert_int_equal(q.running, 1);
    assert_int_equal(q.waiting, 3);
    assert_int_equal(dash_password_verify(NULL, "guess", done_verify, (void *)9),
                     DASH_PASSWORD_BUSY);
    assert_true(m_refused.value == 1);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(norder, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(order[i], i);
    assert_int_equal(max_running_seen, 1);
    assert_true(m_verifications.value == 3);
    assert_true(m_hashes.value == 1);
    assert_int_equal(q.running + q.waiting, 0);
    uv_loop_close(&loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
