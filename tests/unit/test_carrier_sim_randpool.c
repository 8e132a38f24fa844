/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_carrier_sim_randpool.c — the carrier simulator's buffered random
 * source (ops/carrier_sim/randpool.c): ids drawn across many refills are
 * 32 lower-case hex digits and never repeat, and draws of odd sizes that
 * straddle a refill hand out every byte once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../ops/carrier_sim/randpool.c"

static int by_string(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_ids_are_hex_and_unique(void **state)
{
    (void)state;
    enum { N = 5000 }; /* about 20 refills */
    static struct sim_randpool pool;
    static char ids[N][33];
    assert_int_equal(sodium_init() >= 0, 1);
    for (int i = 0; i < N; i++) {
        sim_randpool_hex16(&pool, ids[i]);
        assert_int_equal(strlen(ids[i]), 32);
        assert_int_equal(strspn(ids[i], "0123456789abcdef"), 32);
    }
    qsort(ids, N, sizeof ids[0], by_string);
    for (int i = 1; i < N; i++)
        assert_string_not_equal(ids[i - 1], ids[i]);
}

static void test_odd_draws_use_each_byte_once(void **state)
{
    (void)state;
    static struct sim_randpool pool;
    static unsigned char got[3 * sizeof pool.buf];
    size_t used = 0;
    assert_int_equal(sodium_init() >= 0, 1);
    /* 7 bytes at a time, so draws straddle the refills. */
    while (used + 7 <= sizeof got) {
        sim_randpool_bytes(&pool, got + used, 7);
        used += 7;
    }
    /* A repeated 16-byte window would mean bytes handed out twice. */
    for (size_t i = 0; i + 16 <= used; i += 16)
        for (size_t j = i + 16; j + 16 <= used; j += 16)
            assert_memory_not_equal(got + i, got + j, 16);
    assert_int_equal(pool.left, (3 * sizeof pool.buf - used) % sizeof pool.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_are_hex_and_unique),
        cmocka_unit_test(test_odd_draws_use_each_byte_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
