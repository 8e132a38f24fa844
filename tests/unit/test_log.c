/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_log.c — log lines cannot be forged: a value with CR/LF or quotes,
 * quoted or not by its caller, never starts a new line, and quoted
 * values come back escaped. stderr is captured through a pipe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static char captured[8192];

/* Runs fn with stderr going into a pipe; leaves what it wrote in captured. */
static void capture(void (*fn)(void))
{
    int fds[2], saved = dup(STDERR_FILENO);
    assert_int_equal(pipe(fds), 0);
    assert_true(dup2(fds[1], STDERR_FILENO) >= 0);
    close(fds[1]);
    fn();
    assert_true(dup2(saved, STDERR_FILENO) >= 0); /* closes the pipe's last writer */
    close(saved);
    size_t n = 0;
    ssize_t r;
    while (n < sizeof captured - 1 && (r = read(fds[0], captured + n, sizeof captured - 1 - n)) > 0)
        n += (size_t)r;
    captured[n] = '\0';
    close(fds[0]);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static const char forged_to[] = "+1\r\n2026-01-01T00:00:00.000Z level=error event=forged \"x";

static void log_unquoted(void)
{
    /* A caller that prints a raw value, as the gateway printed To. */
    log_warn("webhook_refused", "to=%s status=404", forged_to);
}

static void log_quoted(void)
{
    log_warn("webhook_refused", "to=%s status=404 note=%s", tocsin_log_q(forged_to),
             tocsin_log_qn("a b", 3));
}

static void test_raw_value_cannot_start_a_line(void **state)
{
    (void)state;
    tocsin_log_init("test", TOCSIN_LOG_INFO);
    capture(log_unquoted);
    assert_int_equal(count_lines(captured), 1);
    assert_non_null(strstr(captured, "to=+1\\x0d\\x0a2026-01-01T00:00:00.000Z level=error"));
    assert_null(strstr(captured, "\nlevel"));
}

static void test_quoted_value(void **state)
{
    (void)state;
    tocsin_log_init("test", TOCSIN_LOG_INFO);
    capture(log_quoted);
    assert_int_equal(count_lines(captured), 1);
    assert_non_null(strstr(
        captured, "to=\"+1\\x0d\\n2026-01-01T00:00:00.000Z level=error event=forged \\\"x\""));
    assert_non_null(strstr(captured, " status=404 note=\"a b\"\n"));
}

static void test_quote_helpers(void **state)
{
    (void)state;
    assert_string_equal(tocsin_log_q("SM123-abc"), "SM123-abc");
    assert_string_equal(tocsin_log_q(""), "\"\"");
    assert_string_equal(tocsin_log_q(NULL), "\"\"");
    assert_string_equal(tocsin_log_qn("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
    assert_string_equal(tocsin_log_qn("nul\0x", 5), "\"nul\\x00x\"");
    /* Eight values in one line keep their own buffers. */
    const char *v[8];
    char want[8][16];
    for (int i = 0; i < 8; i++) {
        snprintf(want[i], sizeof want[i], "v %d", i);
        v[i] = tocsin_log_q(want[i]);
    }
    for (int i = 0; i < 8; i++) {
        char q[24];
        snprintf(q, sizeof q, "\"v %d\"", i);
        assert_string_equal(v[i], q);
    }
    /* Long values are cut, still closed by a quote. */
    char big[2000];
    memset(big, '"', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    const char *q = tocsin_log_q(big);
    assert_true(strlen(q) < TOCSIN_LOG_Q_MAX);
    assert_int_equal(q[strlen(q) - 1], '"');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_value_cannot_start_a_line),
        cmocka_unit_test(test_quoted_value),
        cmocka_unit_test(test_quote_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
