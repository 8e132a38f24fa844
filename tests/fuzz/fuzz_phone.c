/* SPDX-License-Identifier: AGPL-3.0-or-later
 * fuzz_phone.c — arbitrary bytes into the phone parser; whatever parses
 * must re-parse to itself, and normalize must agree with parse. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "phone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tocsin_phone p, q;
    char err[256], e164[TOCSIN_E164_MAX + 1];
    int rc = tocsin_phone_parse((const char *)data, size, "US", &p, err, sizeof err);
    int rn = tocsin_phone_normalize((const char *)data, size, "US", e164, err, sizeof err);
    if (rc != rn)
        abort();
    if (rc != 0)
        return 0;
    if (strcmp(p.e164, e164) != 0 || !tocsin_phone_looks_e164(p.e164, strlen(p.e164)))
        abort();
    if (tocsin_phone_parse(p.e164, strlen(p.e164), "GB", &q, err, sizeof err) != 0 ||
        strcmp(p.e164, q.e164) != 0)
        abort();
    return 0;
}
