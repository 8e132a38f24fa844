/* SPDX-License-Identifier: AGPL-3.0-or-later
 * fuzz_http_url.c — any bytes as a carrier URL for the outgoing client
 * (lib/http_url.c): accepted ones have a host, a port in 1..65535, a
 * target made only of printable ASCII without space, '#', '"' or '\\'
 * (nothing that could split a request line), a Host value with no
 * CR/LF/space, and an origin that fits its buffer; refused ones say why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    struct tocsin_http_url u;
    const char *why = NULL;
    if (tocsin_http_url_parse(s, &u, &why) == 0) {
        if (!u.host[0] || u.port < 1 || u.port > 65535)
            abort();
        if (u.target && (u.target < s || u.target + u.target_len > s + strlen(s)))
            abort();
        for (size_t i = 0; u.target && i < u.target_len; i++) {
            unsigned char c = (unsigned char)u.target[i];
            if (c <= 0x20 || c >= 0x7f || c == '#' || c == '"' || c == '\\')
                abort();
        }
        for (const char *p = u.authority; *p; p++)
            if ((unsigned char)*p <= 0x20 || *p == '@')
                abort();
        char origin[TOCSIN_HTTP_HOST_MAX + 24];
        tocsin_http_url_origin(&u, origin, sizeof origin);
        if (strncmp(origin, u.tls ? "https://" : "http://", u.tls ? 8 : 7) != 0)
            abort();
    } else if (!why || !why[0]) {
        abort();
    }
    free(s);
    return 0;
}
