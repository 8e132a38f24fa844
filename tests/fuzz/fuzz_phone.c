/* SPDX-License-Identifier: AGPL-3.0-or-later
 * fuzz_phone.c — arbitrary bytes into the phone parser. Whatever parses
 * must re-parse to itself; normalize must agree with parse; and input that
 * takes the E.164 fast path must give what the full parse gives for the
 * same digits written with a space (which the fast path never sees). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "phone.h"

static const char *reason(const char *err)
{
    const char *r = strstr(err, "\": ");
    return r ? r : err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    struct tocsin_phone p, q;
    char err[256] = "", err2[256] = "", e164[TOCSIN_E164_MAX + 1];
    int rc = tocsin_phone_parse(in, size, "US", &p, err, sizeof err);
    int rn = tocsin_phone_normalize(in, size, "US", e164, err2, sizeof err2);
    if (rc != rn || (rc != 0 && strcmp(err, err2) != 0))
        abort();
    if (rc == 0 && (strcmp(p.e164, e164) != 0 || !tocsin_phone_looks_e164(p.e164, strlen(p.e164))))
        abort();
    if (rc == 0 &&
        (tocsin_phone_parse(p.e164, strlen(p.e164), "GB", &q, err2, sizeof err2) != 0 ||
         strcmp(p.e164, q.e164) != 0 || strcmp(p.region, q.region) != 0 || p.type != q.type))
        abort();
    if (tocsin_phone_looks_e164(in, size)) {
        char slow[TOCSIN_E164_MAX + 2];
        memcpy(slow, in, 2);
        slow[2] = ' ';
        memcpy(slow + 3, in + 2, size - 2);
        int rs = tocsin_phone_parse(slow, size + 1, "US", &q, err2, sizeof err2);
        if (rs != rc ||
            (rc == 0 && (strcmp(p.e164, q.e164) != 0 || p.type != q.type ||
                         strcmp(p.region, q.region) != 0)) ||
            (rc != 0 && strcmp(reason(err), reason(err2)) != 0))
            abort();
    }
    return 0;
}
