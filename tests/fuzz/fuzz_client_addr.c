/* SPDX-License-Identifier: AGPL-3.0-or-later
 * fuzz_client_addr.c — arbitrary bytes as TOCSIN_TRUSTED_PROXIES and as
 * X-Forwarded-For values (lib/client_addr.c). The input is split at the
 * first two newlines: the proxy list, then header values separated by
 * newlines. Whatever the bytes, the result must be a NUL-terminated
 * address that is the peer or parses as an IP address, and the /64 key of
 * it must fit its buffer. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client_addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nl = memchr(in, '\n', size);
    size_t spec_len = nl ? (size_t)(nl - in) : size;
    char *spec = malloc(spec_len + 1);
    if (!spec)
        return 0;
    memcpy(spec, in, spec_len);
    spec[spec_len] = '\0';
    struct tocsin_trusted_proxies tp;
    char err[200];
    if (tocsin_trusted_proxies_parse(spec, &tp, err, sizeof err) != 0) {
        /* Refused lists are reported and leave nothing trusted. */
        if (tp.n != 0 || !memchr(err, '\0', sizeof err))
            abort();
        /* Go on trusting everything that could be a proxy, to walk far. */
        tocsin_trusted_proxies_parse("0.0.0.0/0, ::/0", &tp, err, sizeof err);
    }
    free(spec);

    const char *v[16];
    size_t len[16], n = 0;
    size_t off = nl ? spec_len + 1 : size;
    while (off <= size && n < 16) {
        const char *next = memchr(in + off, '\n', size - off);
        size_t l = next ? (size_t)(next - (in + off)) : size - off;
        v[n] = in + off; /* not NUL-terminated: lengths only */
        len[n++] = l;
        if (!next)
            break;
        off += l + 1;
    }
    char out[TOCSIN_ADDR_STRLEN];
    tocsin_client_addr(&tp, "127.0.0.1", v, len, n, out);
    if (!memchr(out, '\0', sizeof out))
        abort();
    unsigned char bin[16];
    if (strcmp(out, "127.0.0.1") != 0 && inet_pton(AF_INET, out, bin) != 1 &&
        inet_pton(AF_INET6, out, bin) != 1)
        abort();
    char key[TOCSIN_ADDR_KEY_LEN];
    tocsin_client_addr_key(out, key);
    if (!memchr(key, '\0', sizeof key))
        abort();
    return 0;
}
