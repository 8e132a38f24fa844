/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_test_client.h — a blocking raw-HTTP/1.1 client for the HTTP unit
 * tests: connect, send bytes, read whole responses (Content-Length framed)
 * or until the peer closes. Header-only: static functions, cmocka asserts. */
#ifndef TOCSIN_HTTP_TEST_CLIENT_H
#define TOCSIN_HTTP_TEST_CLIENT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int test_client(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    /* Every read expects an answer or a close: the timeout only bounds a
     * hung test, so it leaves a loaded machine room. */
    struct timeval tv = {.tv_sec = 30};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

__attribute__((unused)) static void send_all(int fd, const char *s, size_t len)
{
    while (len) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        assert_true(n > 0);
        s += n;
        len -= (size_t)n;
    }
}

__attribute__((unused)) static void send_str(int fd, const char *s)
{
    send_all(fd, s, strlen(s));
}

/* Reads until the peer closes or `want` occurrences of "HTTP/1.1 " with
 * complete bodies arrived (Content-Length based), into a static buffer. */
static char rbuf[65536];

static int count_complete(const char *buf)
{
    int n = 0;
    const char *p = buf;
    while ((p = strstr(p, "HTTP/1.1 "))) {
        const char *hend = strstr(p, "\r\n\r\n");
        if (!hend)
            break;
        const char *cl = strstr(p, "Content-Length: ");
        size_t len = 0;
        if (cl && cl < hend)
            len = strtoul(cl + 16, NULL, 10);
        if (strncmp(p, "HTTP/1.1 100", 12) == 0) {
            p = hend + 4;
            continue;
        }
        if (strlen(hend + 4) < len)
            break;
        n++;
        p = hend + 4 + len;
    }
    return n;
}

static const char *read_responses(int fd, int want)
{
    size_t used = 0;
    rbuf[0] = '\0';
    while (used < sizeof rbuf - 1) {
        if (want > 0 && count_complete(rbuf) >= want)
            break;
        ssize_t n = recv(fd, rbuf + used, sizeof rbuf - 1 - used, 0);
        if (n <= 0)
            break;
        used += (size_t)n;
        rbuf[used] = '\0';
    }
    return rbuf;
}

static int peer_closed(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, 0);
    return n == 0;
}

#endif
