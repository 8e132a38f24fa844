/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_client_addr.c — TOCSIN_TRUSTED_PROXIES and X-Forwarded-For
 * (lib/client_addr.c): parsing networks, walking the header from the
 * right past trusted hops only, refusing to believe junk, padded or
 * oversized values, and the /64 key of IPv6 clients. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client_addr.h"

static struct tocsin_trusted_proxies tp;

static const char *walk(const char *peer, const char *h1, const char *h2)
{
    static char out[TOCSIN_ADDR_STRLEN];
    const char *v[2] = {h1, h2};
    size_t len[2] = {h1 ? strlen(h1) : 0, h2 ? strlen(h2) : 0};
    tocsin_client_addr(&tp, peer, v, len, h2 ? 2 : h1 ? 1 : 0, out);
    return out;
}

static void test_parse(void **state)
{
    (void)state;
    char err[200];
    assert_int_equal(tocsin_trusted_proxies_parse("", &tp, err, sizeof err), 0);
    assert_int_equal(tp.n, 0);
    assert_int_equal(tocsin_trusted_proxies_parse(" 127.0.0.1/32, 10.0.0.0/8 fd00::/8,::1", &tp,
                                                  err, sizeof err),
                     0);
    assert_int_equal(tp.n, 4);
    const char *bad[] = {"10.0.0.0/33", "fd00::/129", "10.0.0.0/",    "10.0.0.0/x", "10.0.0.0/-1",
                         "nonsense",    "1.2.3.4:80", "10.0.0.0/8/8", "[::1]",      NULL};
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(tocsin_trusted_proxies_parse(bad[i], &tp, err, sizeof err), -1);
        assert_non_null(strstr(err, "TOCSIN_TRUSTED_PROXIES"));
        assert_int_equal(tp.n, 0);
    }
    char many[2000] = "";
    for (int i = 0; i < 33; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "10.0.%d.0/24,", i);
    assert_int_equal(tocsin_trusted_proxies_parse(many, &tp, err, sizeof err), -1);
}

static void test_untrusted_peer_is_the_client(void **state)
{
    (void)state;
    char err[200];
    assert_int_equal(tocsin_trusted_proxies_parse("", &tp, err, sizeof err), 0);
    assert_string_equal(walk("127.0.0.1", "203.0.113.9", NULL), "127.0.0.1");
    assert_int_equal(tocsin_trusted_proxies_parse("10.0.0.0/8", &tp, err, sizeof err), 0);
    assert_string_equal(walk("127.0.0.1", "203.0.113.9", NULL), "127.0.0.1");
    assert_string_equal(walk("192.0.2.1", NULL, NULL), "192.0.2.1");
}

static void test_walk_from_the_right(void **state)
{
    (void)state;
    char err[200];
    assert_int_equal(tocsin_trusted_proxies_parse("127.0.0.1/32, 10.0.0.0/8, 2001:db8:ffff::/48",
                                                  &tp, err, sizeof err),
                     0);
    assert_string_equal(walk("127.0.0.1", "203.0.113.9", NULL), "203.0.113.9");
    /* What a client claims on the left is not believed. */
    assert_string_equal(walk("127.0.0.1", "198.51.100.1, 203.0.113.9", NULL), "203.0.113.9");
    assert_string_equal(walk("127.0.0.1", "127.0.0.1, 203.0.113.9", NULL), "203.0.113.9");
    /* Trusted hops are skipped. */
    assert_string_equal(walk("127.0.0.1", "203.0.113.9,10.1.2.3 ,  10.9.9.9", NULL), "203.0.113.9");
    /* Two headers are one list in order. */
    assert_string_equal(walk("127.0.0.1", "203.0.113.9", "10.1.2.3"), "203.0.113.9");
    assert_string_equal(walk("127.0.0.1", "198.51.100.7", "203.0.113.9, 10.1.2.3"), "203.0.113.9");
    /* Every hop trusted: the leftmost is the client. */
    assert_string_equal(walk("127.0.0.1", "10.1.1.1, 10.2.2.2", NULL), "10.1.1.1");
    /* IPv6 and IPv4-mapped peers. */
    assert_string_equal(walk("::ffff:127.0.0.1", "2001:db8::5", NULL), "2001:db8::5");
    assert_string_equal(walk("2001:db8:ffff:1::9", "2001:DB8:0:0::5", NULL), "2001:db8::5");
    assert_string_equal(walk("127.0.0.1", "::ffff:203.0.113.9", NULL), "203.0.113.9");
}

static void test_junk_is_not_believed(void **state)
{
    (void)state;
    char err[200];
    assert_int_equal(tocsin_trusted_proxies_parse("127.0.0.1/32", &tp, err, sizeof err), 0);
    const char *junk[] = {"",
                          " ",
                          ",",
                          "203.0.113.9,",
                          "203.0.113.9, ",
                          "not-an-ip",
                          "300.1.1.1",
                          "203.0.113.9:443",
                          "[2001:db8::1]",
                          "2001:db8::1%eth0",
                          "1.2.3.4 5.6.7.8",
                          "unknown",
                          "\x01\xff",
                          NULL};
    for (int i = 0; junk[i]; i++)
        assert_string_equal(walk("127.0.0.1", junk[i], NULL), "127.0.0.1");
    /* An oversized header, or more hops than we walk. */
    size_t n = 200000;
    char *big = malloc(n + 1);
    memset(big, '1', n);
    big[n] = '\0';
    assert_string_equal(walk("127.0.0.1", big, NULL), "127.0.0.1");
    size_t off = 0;
    for (int i = 0; i < 40; i++)
        off += (size_t)snprintf(big + off, n - off, "127.0.0.1,");
    snprintf(big + off, n - off, "127.0.0.1");
    assert_string_equal(walk("127.0.0.1", big, NULL), "127.0.0.1");
    free(big);
    /* Not NUL-terminated where the length ends. */
    const char v[] = "203.0.113.9XXXX";
    const char *vv[1] = {v};
    size_t len[1] = {11};
    char out[TOCSIN_ADDR_STRLEN];
    tocsin_client_addr(&tp, "127.0.0.1", vv, len, 1, out);
    assert_string_equal(out, "203.0.113.9");
}

static void test_key(void **state)
{
    (void)state;
    char k[TOCSIN_ADDR_KEY_LEN];
    tocsin_client_addr_key("203.0.113.9", k);
    assert_string_equal(k, "203.0.113.9");
    tocsin_client_addr_key("2001:db8:1:2:3:4:5:6", k);
    assert_string_equal(k, "2001:db8:1:2::/64");
    tocsin_client_addr_key("2001:db8:1:2::ffff", k);
    assert_string_equal(k, "2001:db8:1:2::/64");
    tocsin_client_addr_key("test", k);
    assert_string_equal(k, "test");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_untrusted_peer_is_the_client),
        cmocka_unit_test(test_walk_from_the_right),
        cmocka_unit_test(test_junk_is_not_believed),
        cmocka_unit_test(test_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
