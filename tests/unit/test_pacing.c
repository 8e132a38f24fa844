/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_pacing.c — the worker's pacer: no window of a second ever holds
 * more than the rate in segments, whatever the message sizes and however
 * the caller polls; a backlog is released at (nearly) the full rate; rate
 * changes take effect. Time is simulated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pacing.h"

#define SIM_MS 20000

/* Runs a backlog through the pacer for SIM_MS, polling every step_ms, with
 * message sizes from sizes[] in turn; returns the segments sent and checks
 * every window of window_ms. */
static unsigned long run(double rate, uint64_t step_ms, const unsigned *sizes, unsigned nsizes)
{
    struct tocsin_pacer p;
    assert_int_equal(tocsin_pacer_init(&p, rate, 1000), 0);
    static unsigned sent_at[SIM_MS + 1];
    for (unsigned i = 0; i <= SIM_MS; i++)
        sent_at[i] = 0;
    unsigned long total = 0;
    unsigned k = 0;
    for (uint64_t now = 0; now <= SIM_MS; now += step_ms) {
        while (tocsin_pacer_wait(&p, now, sizes[k % nsizes]) == 0) {
            tocsin_pacer_take(&p, now, sizes[k % nsizes]);
            sent_at[now] += sizes[k % nsizes];
            total += sizes[k % nsizes];
            k++;
        }
    }
    /* Every window [t, t + 1000). */
    unsigned long in_window = 0;
    for (unsigned t = 0; t <= SIM_MS; t++) {
        in_window += sent_at[t];
        if (t >= 1000)
            in_window -= sent_at[t - 1000];
        assert_true(in_window <= (unsigned long)rate || (nsizes == 1 && sizes[0] > rate));
    }
    tocsin_pacer_free(&p);
    return total;
}

static void single_segments_fill_the_rate(void **state)
{
    (void)state;
    static const unsigned one[] = {1};
    unsigned long total = run(40, 1, one, 1);
    /* 20 s at 40/s: at least 99% of 800. */
    assert_true(total >= 792);
    assert_true(total <= 840);
}

static void coarse_polling_never_bursts_over(void **state)
{
    (void)state;
    static const unsigned one[] = {1};
    unsigned long total = run(10, 37, one, 1);
    assert_true(total >= 190);
}

static void mixed_sizes_stay_under(void **state)
{
    (void)state;
    static const unsigned sizes[] = {1, 3, 2, 7, 1, 1, 4};
    unsigned long total = run(20, 1, sizes, 7);
    assert_true(total >= 360); /* 90% of 400: big messages wait for room */
}

static void high_rates_release_many_per_tick(void **state)
{
    (void)state;
    static const unsigned one[] = {1};
    unsigned long total = run(20000, 1, one, 1);
    assert_true(total >= 396000);
}

static void rate_changes_apply(void **state)
{
    (void)state;
    struct tocsin_pacer p;
    assert_int_equal(tocsin_pacer_init(&p, 100, 1000), 0);
    unsigned sent = 0;
    for (uint64_t now = 0; now < 1000; now++)
        while (tocsin_pacer_wait(&p, now, 1) == 0) {
            tocsin_pacer_take(&p, now, 1);
            sent++;
        }
    assert_true(sent >= 99 && sent <= 100);
    assert_int_equal(tocsin_pacer_set_rate(&p, 10), 0);
    sent = 0;
    for (uint64_t now = 1000; now < 3000; now++)
        while (tocsin_pacer_wait(&p, now, 1) == 0) {
            tocsin_pacer_take(&p, now, 1);
            sent++;
        }
    /* The first second's 100 sends fill every window until they age out,
     * then 10 a second: well under the old rate's 200 in 2 s. */
    assert_true(sent >= 9 && sent <= 20);
    assert_int_equal(tocsin_pacer_set_rate(&p, 0), -1);
    tocsin_pacer_free(&p);
}

static void a_message_larger_than_the_rate_goes_alone(void **state)
{
    (void)state;
    struct tocsin_pacer p;
    assert_int_equal(tocsin_pacer_init(&p, 2, 1000), 0);
    assert_int_equal(tocsin_pacer_wait(&p, 0, 5), 0);
    tocsin_pacer_take(&p, 0, 5);
    assert_true(tocsin_pacer_wait(&p, 10, 1) > 0);
    tocsin_pacer_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_segments_fill_the_rate),
        cmocka_unit_test(coarse_polling_never_bursts_over),
        cmocka_unit_test(mixed_sizes_stay_under),
        cmocka_unit_test(high_rates_release_many_per_tick),
        cmocka_unit_test(rate_changes_apply),
        cmocka_unit_test(a_message_larger_than_the_rate_goes_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
