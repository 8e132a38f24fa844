/* SPDX-License-Identifier: AGPL-3.0-or-later
 * inbound_requests.c — writes N distinct, correctly signed Twilio inbound
 * webhooks, one per line as "form-body TAB X-Twilio-Signature", for wrk to
 * replay against the gateway (ops/bench/inbound.sh). wrk's Lua has no
 * HMAC, so the signing happens here, with lib/crypto. With MEMBERS, the
 * messages come from that many numbers in turn (members replying), else
 * each from a new number. FIRST numbers the first message (0 by
 * default), so a warm-up set can be made that the measured one does not
 * repeat.
 * Usage: bench_inbound_requests N URL AUTH_TOKEN TO [MEMBERS [FIRST]] > requests.tsv */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "form.h"

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 7)
        return 2;
    long n = atol(argv[1]);
    long members = argc >= 6 ? atol(argv[5]) : 0;
    long first = argc == 7 ? atol(argv[6]) : 0;
    const char *url = argv[2], *token = argv[3], *to = argv[4];
    tocsin_crypto_init();
    for (long i = first; i < first + n; i++) {
        char sid[40], from[20], body[64], form[512], sig[29];
        snprintf(sid, sizeof sid, "SMbench%025ld", i);
        long who = members > 0 ? i % members : i; /* the member number formula of inbound.sh */
        snprintf(from, sizeof from, "+1415%03ld%04ld", 200 + (who / 10000) % 700, who % 10000);
        snprintf(body, sizeof body, "see you at the rally %ld", i);
        struct tocsin_kv p[] = {{TSTR("Body"), tocsin_str_from(body)},
                                {TSTR("From"), tocsin_str_from(from)},
                                {TSTR("MessageSid"), tocsin_str_from(sid)},
                                {TSTR("NumMedia"), TSTR("0")},
                                {TSTR("To"), tocsin_str_from(to)}};
        size_t used = 0;
        for (size_t k = 0; k < sizeof p / sizeof p[0]; k++)
            used = tocsin_form_append(form, sizeof form, used, p[k].key, p[k].value);
        tocsin_twilio_signature(tocsin_str_from(token), tocsin_str_from(url), p, 5, sig);
        printf("%s\t%s\n", form, sig);
    }
    return 0;
}
