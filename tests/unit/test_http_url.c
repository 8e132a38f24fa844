/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_http_url.c — the outgoing client's URL splitting: schemes, default
 * and explicit ports, IPv6 literals, the request target, and every shape
 * it must refuse (user info, fragments, bad ports, control characters,
 * oversized hosts and URLs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http_url.h"

static void ok(const char *url, int tls, const char *host, int port, const char *target,
               const char *authority)
{
    struct tocsin_http_url u;
    const char *why = NULL;
    assert_int_equal(tocsin_http_url_parse(url, &u, &why), 0);
    assert_int_equal(u.tls, tls);
    assert_string_equal(u.host, host);
    assert_int_equal(u.port, port);
    assert_string_equal(u.authority, authority);
    if (target) {
        assert_non_null(u.target);
        assert_int_equal(u.target_len, strlen(target));
        assert_memory_equal(u.target, target, u.target_len);
    } else {
        assert_null(u.target);
    }
}

static void refused(const char *url, const char *why_part)
{
    struct tocsin_http_url u;
    const char *why = NULL;
    assert_int_equal(tocsin_http_url_parse(url, &u, &why), -1);
    assert_non_null(why);
    if (!strstr(why, why_part))
        fail_msg("%s: \"%s\" does not say \"%s\"", url ? url : "(null)", why, why_part);
}

static void test_accepted(void **state)
{
    (void)state;
    ok("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json", 1, "api.twilio.com", 443,
       "/2010-04-01/Accounts/AC1/Messages.json", "api.twilio.com");
    ok("http://127.0.0.1:8090/x?y=1&z=%2B", 0, "127.0.0.1", 8090, "/x?y=1&z=%2B", "127.0.0.1:8090");
    ok("HTTPS://Api.Example.ORG", 1, "Api.Example.ORG", 443, NULL, "Api.Example.ORG");
    ok("http://h?q=1", 0, "h", 80, "?q=1", "h");
    ok("https://[::1]:8443/v2/messages", 1, "::1", 8443, "/v2/messages", "[::1]:8443");
    ok("http://[2001:db8::7]/", 0, "2001:db8::7", 80, "/", "[2001:db8::7]");
    ok("http://a:65535", 0, "a", 65535, NULL, "a:65535");
    struct tocsin_http_url u;
    const char *why;
    assert_int_equal(tocsin_http_url_parse("https://10.0.0.1/", &u, &why), 0);
    assert_int_equal(u.host_is_ip, 1);
    assert_int_equal(tocsin_http_url_parse("https://api.telnyx.com/", &u, &why), 0);
    assert_int_equal(u.host_is_ip, 0);
}

static void test_refused(void **state)
{
    (void)state;
    refused("", "empty");
    refused(NULL, "empty");
    refused("ftp://x/", "http:// or https://");
    refused("//x/", "http:// or https://");
    refused("http://user:pw@host/", "user name");
    refused("http://user@host/", "user name");
    refused("http:///path", "no host");
    refused("http://host:0/", "port");
    refused("http://host:65536/", "port");
    refused("http://host:/", "port");
    refused("http://host:80x/", "port");
    refused("http://host:1234567/", "port");
    refused("http://host/a#frag", "fragment");
    refused("http://host/a b", "space");
    refused("http://host/a\r\nX-Injected: 1", "control");
    refused("http://host/\"", "quote");
    refused("http://ho st/", "not a port or path");
    refused("http://host%2e/", "not a port or path");
    refused("http://[::1/", "closing bracket");
    refused("http://[zz::1]/", "not valid");
    refused("http://[]/", "closing bracket");
    char big[TOCSIN_HTTP_URL_MAX + 32];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, "http://h/", 9);
    refused(big, "longer than 8192");
    char host[400] = "http://";
    memset(host + 7, 'b', 300);
    refused(host, "no host");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
