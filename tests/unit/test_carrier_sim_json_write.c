/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_carrier_sim_json_write.c — the carrier simulator's JSON writer
 * (ops/carrier_sim/json_write.c) against jansson, which it replaces on
 * the hot path: every byte, every code point's UTF-8 and random byte
 * strings must come out exactly as json_dumps(JSON_COMPACT, with and
 * without JSON_ENSURE_ASCII) writes them, and be refused exactly where
 * json_stringn refuses them; members, separators, integers, and growing
 * out of the caller's storage. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../ops/carrier_sim/json_write.c"

#define DUMP_FLAGS (JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY)

/* Writes s[0..n) both ways and checks that they agree, escaping non-ASCII
 * or (raw_utf8) not. */
static void same_as_jansson_in(const char *s, size_t n, int raw_utf8)
{
    json_t *j = json_stringn(s, n);
    char *want = j ? json_dumps(j, raw_utf8 ? DUMP_FLAGS & ~JSON_ENSURE_ASCII : DUMP_FLAGS) : NULL;
    json_decref(j);
    char storage[16];
    struct sim_jw w;
    sim_jw_init(&w, storage, sizeof storage);
    w.raw_utf8 = raw_utf8;
    SIM_JW_LIT(&w, "x");
    int rc = sim_jw_string(&w, s, n);
    assert_false(w.failed);
    if (!want) {
        assert_int_equal(rc, -1);
        assert_int_equal(w.len, 1); /* nothing written */
    } else {
        assert_int_equal(rc, 0);
        if (w.len - 1 != strlen(want) || memcmp(w.base + 1, want, w.len - 1) != 0)
            fail_msg("wrote %.*s, jansson %s", (int)(w.len - 1), w.base + 1, want);
    }
    free(want);
    sim_jw_free(&w);
}

static void same_as_jansson(const char *s, size_t n)
{
    same_as_jansson_in(s, n, 0);
    same_as_jansson_in(s, n, 1);
}

/* cp in UTF-8's bit pattern, surrogates included (they must be refused). */
static size_t utf8(uint32_t cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    size_t n = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    static const unsigned char lead[] = {0, 0, 0xC0, 0xE0, 0xF0};
    for (size_t i = n - 1; i > 0; i--, cp >>= 6)
        o[i] = (char)(0x80 | (cp & 0x3F));
    o[0] = (char)(lead[n] | cp);
    return n;
}

static void test_every_byte_and_code_point(void **state)
{
    (void)state;
    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        same_as_jansson(&c, 1);
    }
    char buf[8];
    /* All of the BMP's first part, then a sample up to U+10FFFF; surrogates
     * (encoded as if they were characters) must be refused. */
    for (uint32_t cp = 0; cp <= 0x10FFFF;
         cp += cp < 0x3000 || (cp >= 0xD700 && cp < 0xE100) ? 1 : 61)
        same_as_jansson(buf, utf8(cp, buf));
    same_as_jansson(buf, utf8(0xFFFF, buf));
    same_as_jansson(buf, utf8(0x10000, buf));
    same_as_jansson(buf, utf8(0x10FFFF, buf));
    same_as_jansson("\xF4\x90\x80\x80", 4); /* U+110000 */
    same_as_jansson("\xC0\xAF", 2);         /* overlong '/' */
    same_as_jansson("\xE0\x80\xAF", 3);     /* overlong '/' */
    same_as_jansson("\xF0\x80\x80\xAF", 4); /* overlong '/' */
    same_as_jansson("\xE2\x82", 2);         /* cut short */
    same_as_jansson("", 0);
    same_as_jansson("a\0b", 3);
    const char *text = "Rally at 5 {bring signs} \"quoted\" back\\slash / tab\t nl\n cr\r "
                       "bell\a del\x7f caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\xA3 \xE2\x80\xA8";
    same_as_jansson(text, strlen(text));
}

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_random_bytes(void **state)
{
    (void)state;
    /* Bytes that matter to UTF-8 and to escaping, more often than chance. */
    static const unsigned char pick[] = {'a',  '"',  '\\', '/',  0x00, 0x01, 0x1F, 0x7F,
                                         0x80, 0x8F, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF,
                                         0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
    char s[16];
    for (int i = 0; i < 200000; i++) {
        size_t n = next() % sizeof s;
        for (size_t k = 0; k < n; k++) {
            uint64_t r = next();
            s[k] = (char)(r & 1 ? pick[(r >> 1) % sizeof pick] : (unsigned char)(r >> 8));
        }
        same_as_jansson(s, n);
    }
}

static void test_members_and_numbers(void **state)
{
    (void)state;
    struct sim_jw w;
    sim_jw_init(&w, NULL, 0); /* all on the heap */
    SIM_JW_LIT(&w, "{");
    assert_int_equal(sim_jw_member(&w, "a", "x"), 0);
    assert_int_equal(sim_jw_member(&w, "bad", "\xFF"), -1); /* left out, no comma */
    assert_int_equal(sim_jw_member(&w, "n", NULL), 0);
    sim_jw_sep(&w);
    SIM_JW_LIT(&w, "\"l\":[");
    sim_jw_sep(&w);
    sim_jw_int(&w, LLONG_MIN);
    sim_jw_sep(&w);
    sim_jw_int(&w, 0);
    sim_jw_sep(&w);
    sim_jw_int(&w, -1);
    sim_jw_sep(&w);
    sim_jw_int(&w, LLONG_MAX);
    SIM_JW_LIT(&w, "],\"o\":{");
    assert_int_equal(sim_jw_member(&w, "bad", "\xC3"), -1);
    assert_int_equal(sim_jw_member(&w, "k", "v"), 0);
    SIM_JW_LIT(&w, "}}");
    assert_false(w.failed);
    const char *want =
        "{\"a\":\"x\",\"n\":null,\"l\":[-9223372036854775808,0,-1,9223372036854775807],"
        "\"o\":{\"k\":\"v\"}}";
    assert_int_equal(w.len, strlen(want));
    assert_memory_equal(w.base, want, w.len);
    /* It is JSON, and the same once jansson writes it back. */
    json_error_t e;
    json_t *j = json_loadb(w.base, w.len, 0, &e);
    assert_non_null(j);
    char *back = json_dumps(j, DUMP_FLAGS);
    assert_string_equal(back, want);
    free(back);
    json_decref(j);
    sim_jw_free(&w);
    sim_jw_free(&w); /* twice is harmless */
}

static void test_outgrows_its_storage(void **state)
{
    (void)state;
    char storage[8], big[5000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i % 3 == 0 ? '\n' : 'a' + i % 26);
    struct sim_jw w;
    sim_jw_init(&w, storage, sizeof storage);
    SIM_JW_LIT(&w, "[");
    assert_int_equal(sim_jw_string(&w, big, sizeof big), 0);
    sim_jw_sep(&w);
    sim_jw_int(&w, 7);
    SIM_JW_LIT(&w, "]");
    assert_false(w.failed);
    assert_true(w.on_heap);
    json_t *want = json_pack("[s%,i]", big, sizeof big, 7);
    char *text = json_dumps(want, DUMP_FLAGS);
    assert_int_equal(w.len, strlen(text));
    assert_memory_equal(w.base, text, w.len);
    free(text);
    json_decref(want);
    sim_jw_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_byte_and_code_point),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_members_and_numbers),
        cmocka_unit_test(test_outgrows_its_storage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
