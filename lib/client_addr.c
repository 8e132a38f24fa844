/* SPDX-License-Identifier: AGPL-3.0-or-later
 * client_addr.c — trusted proxies and X-Forwarded-For (see client_addr.h).
 * Addresses are compared as 16-byte IPv6, IPv4 mapped into ::ffff:0:0/96,
 * so one network list serves both families. */
#include "client_addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XFF_MAX_HOPS 32

/* Parses a bare IPv4 or IPv6 address of len bytes into 16 bytes; 1 for
 * IPv4 (mapped), 2 for IPv6, 0 if it is not one. */
static int addr_parse(const char *s, size_t len, unsigned char out[16])
{
    char buf[TOCSIN_ADDR_STRLEN];
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    unsigned char v4[4];
    if (inet_pton(AF_INET, buf, v4) == 1) {
        static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy(out, prefix, 12);
        memcpy(out + 12, v4, 4);
        return 1;
    }
    if (inet_pton(AF_INET6, buf, out) == 1)
        return 2;
    return 0;
}

static int is_v4_mapped(const unsigned char a[16])
{
    static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a, prefix, 12) == 0;
}

static void addr_text(const unsigned char a[16], char out[TOCSIN_ADDR_STRLEN])
{
    if (is_v4_mapped(a))
        inet_ntop(AF_INET, a + 12, out, TOCSIN_ADDR_STRLEN);
    else
        inet_ntop(AF_INET6, a, out, TOCSIN_ADDR_STRLEN);
}

static int in_net(const struct tocsin_cidr *c, const unsigned char a[16])
{
    unsigned full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->net, a, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (c->net[full] & mask) == (a[full] & mask);
}

static int trusted(const struct tocsin_trusted_proxies *tp, const unsigned char a[16])
{
    for (size_t i = 0; tp && i < tp->n; i++)
        if (in_net(&tp->nets[i], a))
            return 1;
    return 0;
}

int tocsin_trusted_proxies_parse(const char *spec, struct tocsin_trusted_proxies *out, char *err,
                                 size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *p = spec;
    while (*p) {
        p += strspn(p, ", \t");
        size_t len = strcspn(p, ", \t");
        if (len == 0)
            break;
        const char *slash = memchr(p, '/', len);
        size_t alen = slash ? (size_t)(slash - p) : len;
        struct tocsin_cidr c;
        int fam = addr_parse(p, alen, c.net);
        long bits = fam == 1 ? 32 : 128;
        if (fam && slash) {
            char nb[8], *end;
            size_t blen = len - alen - 1;
            if (blen == 0 || blen >= sizeof nb)
                fam = 0;
            else {
                memcpy(nb, slash + 1, blen);
                nb[blen] = '\0';
                bits = strtol(nb, &end, 10);
                if (*end || nb[0] < '0' || nb[0] > '9' || bits > (fam == 1 ? 32 : 128))
                    fam = 0;
            }
        }
        if (!fam) {
            snprintf(
                err, errlen,
                "invalid TOCSIN_TRUSTED_PROXIES entry \"%.*s\": must be an IPv4 or IPv6 address or CIDR",
                (int)(len > 64 ? 64 : len), p);
            memset(out, 0, sizeof *out);
            return -1;
        }
        if (out->n == TOCSIN_TRUSTED_PROXIES_MAX) {
            snprintf(err, errlen, "invalid TOCSIN_TRUSTED_PROXIES: more than %d networks",
                     TOCSIN_TRUSTED_PROXIES_MAX);
            memset(out, 0, sizeof *out);
            return -1;
        }
        c.bits = (unsigned)bits + (fam == 1 ? 96 : 0);
        /* Clear the host bits so matching compares networks only. */
        for (unsigned i = c.bits; i < 128; i++)
            c.net[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
        out->nets[out->n++] = c;
        p += len;
    }
    return 0;
}

void tocsin_client_addr(const struct tocsin_trusted_proxies *tp, const char *peer,
                        const char *const *xff, const size_t *xff_len, size_t nxff, char *out)
{
    unsigned char cur[16];
    if (!addr_parse(peer, strlen(peer), cur)) {
        snprintf(out, TOCSIN_ADDR_STRLEN, "%s", peer); /* a test connection: "test" */
        return;
    }
    int hops = 0;
    /* From the last header's last entry leftwards, while the hop that
     * wrote the entry (cur) is trusted. */
    for (size_t h = nxff; h-- > 0 && trusted(tp, cur);) {
        const char *v = xff[h];
        size_t end = xff_len[h];
        while (trusted(tp, cur)) {
            if (end == 0 || ++hops > XFF_MAX_HOPS)
                goto done;
            size_t start = end;
            while (start > 0 && v[start - 1] != ',')
                start--;
            size_t a = start, b = end;
            while (a < b && (v[a] == ' ' || v[a] == '\t'))
                a++;
            while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
                b--;
            unsigned char next[16];
            if (!addr_parse(v + a, b - a, next))
                goto done; /* junk where a trusted proxy should have written an address */
            memcpy(cur, next, 16);
            if (start == 0)
                break; /* this header is used up: the previous one continues the list */
            end = start - 1;
        }
    }
done:
    addr_text(cur, out);
}

void tocsin_client_addr_key(const char *addr, char *out)
{
    unsigned char a[16];
    if (addr_parse(addr, strlen(addr), a) != 2 || is_v4_mapped(a)) {
        snprintf(out, TOCSIN_ADDR_KEY_LEN, "%s", addr);
        return;
    }
    memset(a + 8, 0, 8);
    char text[TOCSIN_ADDR_STRLEN];
    inet_ntop(AF_INET6, a, text, sizeof text);
    snprintf(out, TOCSIN_ADDR_KEY_LEN, "%s/64", text);
}
