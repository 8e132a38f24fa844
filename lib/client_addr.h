/* SPDX-License-Identifier: AGPL-3.0-or-later
 * client_addr.h — who a request is from: the TCP peer, or, when the peer is
 * a proxy the operator trusts (TOCSIN_TRUSTED_PROXIES), the address that
 * proxy (and any trusted proxies before it) put in X-Forwarded-For. Every
 * per-address decision (throttles, rate limits) and log line uses it. Also
 * the key an address is throttled by (an IPv6 /64 is one client). It does
 * not parse Forwarded (RFC 7239): the shipped nginx config does not send it. */
#ifndef TOCSIN_CLIENT_ADDR_H
#define TOCSIN_CLIENT_ADDR_H

#include <stddef.h>

#define TOCSIN_TRUSTED_PROXIES_MAX 32
#define TOCSIN_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

/* An IPv4 network is kept as its IPv4-mapped IPv6 form (::ffff:0:0/96). */
struct tocsin_cidr {
    unsigned char net[16];
    unsigned bits;
};

struct tocsin_trusted_proxies {
    size_t n;
    struct tocsin_cidr nets[TOCSIN_TRUSTED_PROXIES_MAX];
};

/* Parses a comma- or space-separated list of CIDRs ("127.0.0.1/32,
 * 10.0.0.0/8 fd00::/8"; an address alone is a /32 or /128). "" is none.
 * Returns 0, or -1 with a reason in err (out is then empty). */
int tocsin_trusted_proxies_parse(const char *spec, struct tocsin_trusted_proxies *out, char *err,
                                 size_t errlen);

/* Writes the client's address (canonical text, IPv4-mapped IPv6 shown as
 * IPv4) to out (TOCSIN_ADDR_STRLEN bytes): peer when it is not trusted;
 * otherwise X-Forwarded-For is walked from the right, skipping trusted
 * hops, and the first untrusted entry is the client. The values of every
 * X-Forwarded-For header, in the order received, are xff[0..nxff-1]
 * (lengths in xff_len). An entry that is not a bare IP address (empty,
 * a port, junk, too long) ends the walk: the last address believed (a
 * trusted proxy) is the client, so garbage never names anyone. At most 32
 * entries are walked. tp may be NULL (trust nobody). */
void tocsin_client_addr(const struct tocsin_trusted_proxies *tp, const char *peer,
                        const char *const *xff, const size_t *xff_len, size_t nxff, char *out);

/* The key per-address limits use for addr: the address itself for IPv4,
 * its /64 network ("2001:db8:1:2::/64") for IPv6 — one subscriber gets a
 * whole /64, so counting single IPv6 addresses would count nothing. Text
 * that is not an address is copied (truncated). out is
 * TOCSIN_ADDR_STRLEN + 4 bytes. */
#define TOCSIN_ADDR_KEY_LEN (TOCSIN_ADDR_STRLEN + 4)
void tocsin_client_addr_key(const char *addr, char *out);

#endif
