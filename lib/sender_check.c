/* SPDX-License-Identifier: AGPL-3.0-or-later
 * sender_check.c — the rules a new sender's fields must meet (see
 * sender_check.h); the database's CHECK constraints repeat the structural
 * ones as a last line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "sender_check.h"

static int is_short_code(const char *s)
{
    size_t n = strlen(s);
    if (n < 5 || n > 6)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Twilio account SIDs: AC and 32 lower-case hex digits. */
static int account_sid_valid(const char *sid)
{
    if (strlen(sid) != 34 || sid[0] != 'A' || sid[1] != 'C')
        return 0;
    for (size_t i = 2; i < 34; i++)
        if (!((sid[i] >= '0' && sid[i] <= '9') || (sid[i] >= 'a' && sid[i] <= 'f')))
            return 0;
    return 1;
}

/* A rate as typed: a plain decimal number (no exponent, no hex, no
 * infinity), so what is checked is what the database stores. */
static int rate_parse(const char *s, double *out)
{
    if (!s || !*s || strlen(s) > 12)
        return -1;
    int dots = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '.')
            dots++;
        else if (*p < '0' || *p > '9')
            return -1;
    }
    if (dots > 1 || *s == '.')
        return -1;
    char *end;
    *out = strtod(s, &end);
    return *end ? -1 : 0;
}

int tocsin_sender_secret_check(const char *secret, char *err, size_t errlen)
{
    if (!secret || !*secret) {
        snprintf(err, errlen, "missing the carrier secret (Twilio auth token or Telnyx API key)");
        return -1;
    }
    size_t n = strlen(secret);
    if (n > TOCSIN_SENDER_SECRET_MAX) {
        snprintf(err, errlen, "the carrier secret is too long: at most %d characters",
                 TOCSIN_SENDER_SECRET_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)secret[i] <= ' ' || (unsigned char)secret[i] >= 0x7f) {
            snprintf(err, errlen,
                     "the carrier secret has a space or a character outside printable ASCII: "
                     "paste it exactly as the carrier's console shows it");
            return -1;
        }
    return 0;
}

int tocsin_sender_account_limit_check(const char *mps, double *out, char *err, size_t errlen)
{
    if (rate_parse(mps, out) != 0 || *out > 999999) {
        snprintf(err, errlen, "invalid account limit \"%.20s\": must be a number from 0 to 999999",
                 mps ? mps : "");
        return -1;
    }
    return 0;
}

int tocsin_sender_rate_check(const char *mps, char *err, size_t errlen)
{
    double rate = 0;
    if (rate_parse(mps, &rate) != 0 || rate <= 0 || rate > 10000) {
        snprintf(err, errlen,
                 "invalid rate \"%.20s\": must be a number of messages per second above 0 and "
                 "at most 10000",
                 mps ? mps : "");
        return -1;
    }
    return 0;
}

int tocsin_sender_public_key_check(const char *public_key, char *err, size_t errlen)
{
    unsigned char key[64];
    if (!public_key || strlen(public_key) > 88 ||
        tocsin_base64_decode(public_key, strlen(public_key), key, sizeof key) != 32) {
        snprintf(err, errlen,
                 "invalid public key \"%.60s\": must be the base64 of a 32-byte Ed25519 key",
                 public_key ? public_key : "");
        return -1;
    }
    return 0;
}

static int kind_check(const struct tocsin_sender_input *in, int short_code, const char *derived,
                      struct tocsin_sender_checked *out, char *err, size_t errlen)
{
    static const char *const kinds[] = {"short_code", "long_code", "toll_free"};
    out->kind = derived;
    if (!in->kind)
        return 0;
    for (size_t i = 0; i < 3; i++)
        if (strcmp(in->kind, kinds[i]) == 0)
            out->kind = kinds[i];
    if (strcmp(out->kind, in->kind) != 0) {
        snprintf(err, errlen, "invalid kind \"%.20s\": must be short_code, long_code or toll_free",
                 in->kind);
        return -1;
    }
    if (short_code != (strcmp(out->kind, "short_code") == 0)) {
        snprintf(err, errlen,
                 short_code ? "a 5 or 6 digit address is a short code: kind must be short_code"
                            : "a short code has 5 or 6 digits: \"%s\" is a phone number",
                 out->address);
        return -1;
    }
    return 0;
}

int tocsin_sender_check(const struct tocsin_sender_input *in, const char *default_region,
                        int allow_insecure, struct tocsin_sender_checked *out, char *err,
                        size_t errlen)
{
    if (!in->provider || (strcmp(in->provider, "twilio") && strcmp(in->provider, "telnyx"))) {
        snprintf(err, errlen, "invalid provider \"%.20s\": must be twilio or telnyx",
                 in->provider ? in->provider : "");
        return -1;
    }
    if (!in->address || !*in->address) {
        snprintf(err, errlen, "missing the number or short code");
        return -1;
    }
    int short_code = is_short_code(in->address);
    const char *derived = "short_code";
    if (short_code) {
        snprintf(out->address, sizeof out->address, "%s", in->address);
    } else {
        struct tocsin_phone p;
        if (tocsin_phone_parse(in->address, strlen(in->address), default_region, &p, err, errlen))
            return -1;
        snprintf(out->address, sizeof out->address, "%s", p.e164);
        derived = p.type == TOCSIN_PHONE_TOLL_FREE ? "toll_free" : "long_code";
    }
    if (kind_check(in, short_code, derived, out, err, errlen) != 0)
        return -1;
    if (tocsin_sender_rate_check(in->mps, err, errlen) != 0)
        return -1;
    if (!strcmp(in->provider, "twilio") && (!in->account_sid || !*in->account_sid)) {
        snprintf(err, errlen, "a twilio sender needs its account SID");
        return -1;
    }
    if (in->account_sid && !account_sid_valid(in->account_sid)) {
        snprintf(err, errlen,
                 "invalid account SID \"%.40s\": must be AC and 32 lower-case hex digits",
                 in->account_sid);
        return -1;
    }
    if (in->account_sid && strcmp(in->provider, "twilio") != 0) {
        snprintf(err, errlen, "an account SID is Twilio's: a telnyx sender has none");
        return -1;
    }
    if (in->public_key && tocsin_sender_public_key_check(in->public_key, err, errlen) != 0)
        return -1;
    if (in->base_url &&
        ((strncmp(in->base_url, "http://", 7) && strncmp(in->base_url, "https://", 8)) ||
         strlen(in->base_url) > 200)) {
        snprintf(err, errlen,
                 "invalid base URL \"%.60s\": must start with http:// or https:// (at most 200 "
                 "characters)",
                 in->base_url);
        return -1;
    }
    if (in->base_url && strncmp(in->base_url, "http://", 7) == 0 && !allow_insecure) {
        snprintf(err, errlen,
                 "insecure base URL \"%.60s\": carrier credentials travel only over https://, "
                 "unless TOCSIN_ALLOW_INSECURE_CARRIER_URLS=1 (the carrier simulator, tests)",
                 in->base_url);
        return -1;
    }
    return tocsin_sender_secret_check(in->secret, err, errlen);
}
