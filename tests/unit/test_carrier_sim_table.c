/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_carrier_sim_table.c — the carrier simulator's hash table
 * (ops/carrier_sim/table.c): empty tables, put/get/del, keys that differ
 * only in length or bytes past a NUL, growth, and a long random run of
 * puts and deletes checked against a plain array after every step (the
 * backward-shift deletion has to keep every key reachable, also across the
 * end of the slots). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../ops/carrier_sim/table.c"

static void test_an_empty_table(void **state)
{
    (void)state;
    struct sim_table t = {0};
    assert_null(sim_table_get(&t, "a", 1));
    assert_int_equal(sim_table_del(&t, "a", 1), 0);
    sim_table_clear(&t);
    sim_table_clear(&t);
    assert_null(sim_table_get(&t, "", 0));
}

static void test_put_get_del(void **state)
{
    (void)state;
    struct sim_table t = {0};
    int created = -1;
    uint64_t *v = sim_table_put(&t, "SM1", 3, &created);
    assert_non_null(v);
    assert_int_equal(created, 1);
    assert_int_equal(*v, 0);
    *v = 41;
    v = sim_table_put(&t, "SM1", 3, &created);
    assert_int_equal(created, 0);
    assert_int_equal(++*v, 42);
    assert_int_equal(*sim_table_get(&t, "SM1", 3), 42);
    /* A prefix, a longer key, a key with a NUL inside, the empty key. */
    assert_null(sim_table_get(&t, "SM", 2));
    assert_null(sim_table_get(&t, "SM1\0", 4));
    *sim_table_put(&t, "SM1\0x", 5, NULL) = 7;
    *sim_table_put(&t, "", 0, NULL) = 9;
    assert_int_equal(*sim_table_get(&t, "SM1", 3), 42);
    assert_int_equal(*sim_table_get(&t, "SM1\0x", 5), 7);
    assert_int_equal(*sim_table_get(&t, "", 0), 9);
    assert_int_equal(t.n, 3);
    assert_int_equal(sim_table_del(&t, "SM1", 3), 1);
    assert_int_equal(sim_table_del(&t, "SM1", 3), 0);
    assert_null(sim_table_get(&t, "SM1", 3));
    assert_int_equal(*sim_table_get(&t, "SM1\0x", 5), 7);
    assert_int_equal(t.n, 2);
    /* The table owns copies of its keys. */
    char key[] = "+14155550100\nRally at 5";
    *sim_table_put(&t, key, strlen(key), NULL) = 1;
    key[0] = '-';
    assert_null(sim_table_get(&t, key, strlen(key)));
    key[0] = '+';
    assert_int_equal(*sim_table_get(&t, key, strlen(key)), 1);
    sim_table_clear(&t);
    assert_int_equal(t.n, 0);
    assert_null(sim_table_get(&t, key, strlen(key)));
    /* Usable again after a clear. */
    *sim_table_put(&t, "a", 1, NULL) = 5;
    assert_int_equal(*sim_table_get(&t, "a", 1), 5);
    sim_table_clear(&t);
}

static void test_grows_and_keeps_every_key(void **state)
{
    (void)state;
    struct sim_table t = {0};
    char key[40];
    for (uint64_t i = 0; i < 100000; i++) {
        int n = snprintf(key, sizeof key, "SM%032llx", (unsigned long long)i);
        uint64_t *v = sim_table_put(&t, key, (size_t)n, NULL);
        assert_non_null(v);
        *v = i;
    }
    assert_int_equal(t.n, 100000);
    assert_true(t.cap >= 2 * t.n); /* at most half full */
    assert_int_equal(t.cap & (t.cap - 1), 0);
    for (uint64_t i = 0; i < 100000; i++) {
        int n = snprintf(key, sizeof key, "SM%032llx", (unsigned long long)i);
        uint64_t *v = sim_table_get(&t, key, (size_t)n);
        assert_non_null(v);
        assert_int_equal(*v, i);
    }
    assert_null(sim_table_get(&t, "SM", 2));
    sim_table_clear(&t);
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Random puts, updates and deletes over a small key space, so the table
 * stays small, its probe runs wrap around the end, and deletes shift
 * entries back; after each step the table must agree with the model. */
static void random_run(int keys, int steps)
{
    static int64_t model[300]; /* -1: absent */
    char key[24];
    assert_true(keys <= 300);
    struct sim_table t = {0};
    for (int i = 0; i < keys; i++)
        model[i] = -1;
    size_t present = 0;
    for (int step = 0; step < steps; step++) {
        int k = (int)(next() % keys);
        int n = snprintf(key, sizeof key, "k%d", k);
        uint64_t op = next() % 3;
        if (op < 2) {
            int created = -1;
            uint64_t *v = sim_table_put(&t, key, (size_t)n, &created);
            assert_non_null(v);
            assert_int_equal(created, model[k] < 0);
            assert_int_equal(*v, model[k] < 0 ? 0 : (uint64_t)model[k]);
            present += model[k] < 0;
            *v = (uint64_t)step;
            model[k] = step;
        } else {
            assert_int_equal(sim_table_del(&t, key, (size_t)n), model[k] >= 0);
            if (model[k] >= 0)
                present--;
            model[k] = -1;
        }
        assert_int_equal(t.n, present);
        if (step % 97 == 0 || op == 2) {
            for (int i = 0; i < keys; i++) {
                n = snprintf(key, sizeof key, "k%d", i);
                uint64_t *v = sim_table_get(&t, key, (size_t)n);
                if (model[i] < 0)
                    assert_null(v);
                else
                    assert_true(v && *v == (uint64_t)model[i]);
            }
        }
    }
    sim_table_clear(&t);
}

static void test_random_against_a_model(void **state)
{
    (void)state;
    random_run(12, 20000);   /* 16 or 32 slots */
    random_run(300, 100000); /* 512 slots */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_empty_table),
        cmocka_unit_test(test_put_get_del),
        cmocka_unit_test(test_grows_and_keeps_every_key),
        cmocka_unit_test(test_random_against_a_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
