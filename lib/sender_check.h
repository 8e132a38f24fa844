/* SPDX-License-Identifier: AGPL-3.0-or-later
 * sender_check.h — what makes a sender (a number or short code sending
 * through a carrier account) acceptable, for every place one is entered:
 * `tocsinctl sender add` and the dashboard's Senders screen. Checks and
 * normalises; stores nothing and seals nothing. */
#ifndef TOCSIN_SENDER_CHECK_H
#define TOCSIN_SENDER_CHECK_H

#include <stddef.h>

#include "phone.h"

/* The fields as typed (NUL-terminated; NULL: not given). */
struct tocsin_sender_input {
    const char *address;  /* E.164 (or national, in the default region) or a 5-6 digit short code */
    const char *kind;     /* short_code, long_code, toll_free; NULL: from the address */
    const char *provider; /* twilio or telnyx */
    const char *account_sid; /* Twilio: AC + 32 lower-case hex digits (required) */
    const char *secret;      /* Twilio auth token or Telnyx API key */
    const char *public_key;  /* Telnyx: base64 of the 32-byte Ed25519 webhook key */
    const char *base_url;    /* carrier API base URL; NULL: the carrier's own */
    const char *mps;         /* messages per second */
};

struct tocsin_sender_checked {
    char address[TOCSIN_E164_MAX + 1]; /* E.164 or the short code */
    const char *kind;                  /* a static string */
};

/* The longest carrier secret accepted (bytes): the gateway and the worker
 * open it into buffers of this size plus one (real ones are 32 to ~70). */
#define TOCSIN_SENDER_SECRET_MAX 255

/* Checks every field of in; allow_insecure is TOCSIN_ALLOW_INSECURE_CARRIER_URLS.
 * Returns 0 and fills out, or -1 with the first problem in err, in words a
 * person understands (the field, the value when it is not a secret, the
 * rule). The secret is never copied into err. */
int tocsin_sender_check(const struct tocsin_sender_input *in, const char *default_region,
                        int allow_insecure, struct tocsin_sender_checked *out, char *err,
                        size_t errlen);

/* A carrier secret alone (replacing a sender's credentials): present, at
 * most TOCSIN_SENDER_SECRET_MAX bytes, printable ASCII without spaces (it
 * goes into an HTTP header). Returns 0, or -1 with the reason in err. */
int tocsin_sender_secret_check(const char *secret, char *err, size_t errlen);

/* A sender's rate alone (messages per second above 0, at most 10000) and a
 * Telnyx public key alone; each returns 0, or -1 with the reason in err. */
int tocsin_sender_rate_check(const char *mps, char *err, size_t errlen);
int tocsin_sender_public_key_check(const char *public_key, char *err, size_t errlen);

/* A carrier account's own rate limit (provider_account_limits): a number
 * from 0 (no limit) to 999999. Returns 0 with *out, or -1 with err. */
int tocsin_sender_account_limit_check(const char *mps, double *out, char *err, size_t errlen);

#endif
