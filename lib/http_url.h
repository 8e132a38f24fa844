/* SPDX-License-Identifier: AGPL-3.0-or-later
 * http_url.h — splits an absolute http:// or https:// URL into what an
 * HTTP/1.1 client needs: the scheme, the host to resolve (an IPv6 literal
 * without its brackets), the port, the request target and the Host header
 * value. Strict by design: no user info, no fragment, no whitespace or
 * control characters, bounded lengths; anything else is refused with a
 * reason. Pure: no I/O, no allocation. */
#ifndef TOCSIN_HTTP_URL_H
#define TOCSIN_HTTP_URL_H

#include <stddef.h>

#define TOCSIN_HTTP_URL_MAX 8192
#define TOCSIN_HTTP_HOST_MAX 253

struct tocsin_http_url {
    int tls;                                  /* https */
    char host[TOCSIN_HTTP_HOST_MAX + 1];      /* for DNS and the certificate check */
    int host_is_ip;                           /* an IPv4 or IPv6 literal: no SNI */
    char authority[TOCSIN_HTTP_HOST_MAX + 9]; /* the Host header: as written, with any port */
    int port;
    const char *target; /* into the URL: path and query, or NULL for "/" */
    size_t target_len;
};

/* Fills *u from url, which must outlive the target view. Returns 0, or -1
 * with *why set to a static sentence. */
int tocsin_http_url_parse(const char *url, struct tocsin_http_url *u, const char **why);

/* The key that groups connections: "https://host:port" into buf. */
void tocsin_http_url_origin(const struct tocsin_http_url *u, char *buf, size_t size);

#endif
