/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_url.c — absolute http(s) URLs for the outgoing client (see http_url.h). */
#include "http_url.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 3986 reg-name characters we accept in a host: letters, digits, '-',
 * '.', '_' (no percent-encoding, no sub-delims: a carrier's host is a DNS
 * name or an address). */
static int host_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

/* Printable ASCII without space, '#', '\\' or '"': what may follow the
 * authority on the request line. */
static int target_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '#' && c != '\\' && c != '"';
}

int tocsin_http_url_parse(const char *url, struct tocsin_http_url *u, const char **why)
{
    memset(u, 0, sizeof *u);
    size_t len = url ? strnlen(url, TOCSIN_HTTP_URL_MAX + 1) : 0;
    const char *p;
    if (len == 0 || len > TOCSIN_HTTP_URL_MAX) {
        *why = "the URL is empty or longer than 8192 bytes";
        return -1;
    }
    if (strncasecmp(url, "https://", 8) == 0) {
        u->tls = 1;
        p = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        p = url + 7;
    } else {
        *why = "the URL must start with http:// or https://";
        return -1;
    }
    const char *auth = p;
    size_t auth_len = strcspn(p, "/?#");
    if (memchr(p, '@', auth_len)) {
        *why = "the URL may not carry a user name or password";
        return -1;
    }
    if (*p == '[') { /* an IPv6 literal */
        const char *close = strchr(p, ']');
        if (!close || (size_t)(close - p - 1) > TOCSIN_HTTP_HOST_MAX || close == p + 1) {
            *why = "the URL's IPv6 address has no closing bracket";
            return -1;
        }
        memcpy(u->host, p + 1, (size_t)(close - p - 1));
        struct in6_addr a6;
        if (inet_pton(AF_INET6, u->host, &a6) != 1) {
            *why = "the URL's IPv6 address is not valid";
            return -1;
        }
        u->host_is_ip = 1;
        p = close + 1;
    } else {
        while (host_char((unsigned char)*p))
            p++;
        size_t hl = (size_t)(p - auth);
        if (hl == 0 || hl > TOCSIN_HTTP_HOST_MAX) {
            *why = "the URL has no host, or one that is not a DNS name or address";
            return -1;
        }
        memcpy(u->host, auth, hl);
        struct in_addr a4;
        u->host_is_ip = inet_pton(AF_INET, u->host, &a4) == 1;
    }
    u->port = u->tls ? 443 : 80;
    if (*p == ':') {
        long port = 0;
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
            port = port * 10 + (*p - '0');
        if (digits == 0 || port < 1 || port > 65535) {
            *why = "the URL's port is not a number from 1 to 65535";
            return -1;
        }
        u->port = (int)port;
    }
    if (*p != '\0' && *p != '/' && *p != '?') {
        *why = "the URL's host is followed by something that is not a port or path";
        return -1;
    }
    size_t al = (size_t)(p - auth);
    if (al >= sizeof u->authority) {
        *why = "the URL's host is too long";
        return -1;
    }
    memcpy(u->authority, auth, al);
    const char *t = p;
    for (; *p; p++) {
        if (!target_char((unsigned char)*p)) {
            *why = *p == '#'
                       ? "the URL may not carry a fragment (#)"
                       : "the URL's path holds a space, quote, backslash or control character";
            return -1;
        }
    }
    if (p > t) {
        u->target = t;
        u->target_len = (size_t)(p - t);
    }
    return 0;
}

void tocsin_http_url_origin(const struct tocsin_http_url *u, char *buf, size_t size)
{
    snprintf(buf, size, "%s://%s:%d", u->tls ? "https" : "http", u->host, u->port);
}
