/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_arena.c — the request arena: alignment, strndup, blocks larger than
 * a chunk, many small blocks, reset and free (ASan builds check that every
 * block is released and that none overlap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"

static void test_alignment_and_strndup(void **state)
{
    (void)state;
    struct tocsin_arena a;
    tocsin_arena_init(&a, 512);
    for (size_t n = 1; n < 40; n++) {
        void *p = tocsin_arena_alloc(&a, n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        memset(p, 0xab, n);
    }
    char *s = tocsin_arena_strndup(&a, "hello world", 5);
    assert_string_equal(s, "hello");
    char *e = tocsin_arena_strndup(&a, NULL, 0);
    assert_non_null(e);
    assert_string_equal(e, "");
    tocsin_arena_free(&a);
}

static void test_blocks_do_not_overlap(void **state)
{
    (void)state;
    struct tocsin_arena a;
    tocsin_arena_init(&a, 256);
    unsigned char *blocks[300];
    size_t sizes[300];
    for (size_t i = 0; i < 300; i++) {
        sizes[i] = (i * 37) % 700 + 1; /* some larger than a chunk */
        blocks[i] = tocsin_arena_alloc(&a, sizes[i]);
        assert_non_null(blocks[i]);
        memset(blocks[i], (int)(i & 0xff), sizes[i]);
    }
    for (size_t i = 0; i < 300; i++)
        for (size_t k = 0; k < sizes[i]; k++)
            assert_int_equal(blocks[i][k], i & 0xff);
    assert_true(a.total >= 300);
    tocsin_arena_free(&a);
}

static void test_reset_reuses(void **state)
{
    (void)state;
    struct tocsin_arena a;
    tocsin_arena_init(&a, 4096);
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 50; i++)
            memset(tocsin_arena_alloc(&a, 64), round, 64);
        memset(tocsin_arena_alloc(&a, 10000), round, 10000); /* a big block */
        tocsin_arena_reset(&a);
        assert_int_equal(a.total, 0);
    }
    void *p = tocsin_arena_alloc(&a, 16);
    assert_non_null(p);
    tocsin_arena_free(&a);
    assert_null(a.chunks);
    tocsin_arena_free(&a); /* twice is harmless */
}

static void test_overflow_refused(void **state)
{
    (void)state;
    struct tocsin_arena a;
    tocsin_arena_init(&a, 1024);
    assert_null(tocsin_arena_alloc(&a, SIZE_MAX - 3));
    assert_null(tocsin_arena_strndup(&a, "x", SIZE_MAX));
    assert_non_null(tocsin_arena_alloc(&a, 8));
    tocsin_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_and_strndup),
        cmocka_unit_test(test_blocks_do_not_overlap),
        cmocka_unit_test(test_reset_reuses),
        cmocka_unit_test(test_overflow_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
