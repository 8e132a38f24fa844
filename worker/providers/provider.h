/* SPDX-License-Identifier: AGPL-3.0-or-later
 * provider.h — the one interface every carrier provider implements: build
 * the HTTP request that sends one message, and classify the carrier's
 * answer into what the worker does next. Adding a carrier (Bandwidth,
 * SMPP) adds a file here and touches no other provider. */
#ifndef TOCSIN_PROVIDER_H
#define TOCSIN_PROVIDER_H

#include <stddef.h>

#include "http_client.h"
#include "sender_check.h"

struct provider_account {
    const char *base_url;    /* "https://api.twilio.com", or the carrier simulator */
    const char *account_sid; /* Twilio */
    const char *secret;      /* Twilio auth token / Telnyx API key, already unsealed */
};

struct provider_message {
    const char *from, *to, *body;
    const char *status_callback; /* where receipts go (the gateway), or NULL */
    long validity_seconds;       /* > 0: drop at the carrier after this (quiet hours) */
};

struct provider_request {
    char url[512];
    char *body; /* malloc'd; release with provider_request_free() */
    size_t body_len;
    const char *headers[4]; /* NULL-terminated, pointing into header_store */
    char header_store[3][600];
    /* "SID:secret", or "" when the provider authenticates by header. */
    char basic_auth[64 + 1 + TOCSIN_SENDER_SECRET_MAX + 1];
};

enum provider_outcome_kind {
    OUTCOME_SENT,   /* accepted: provider_id is set */
    OUTCOME_RETRY,  /* provably not processed (429, refused before sending): requeue with backoff */
    OUTCOME_FAILED, /* refused for good (4xx): error_code / error_message */
    OUTCOME_UNKNOWN, /* may have been sent (5xx, timeout, reset after sending): never resend blindly
                      */
};

struct provider_outcome {
    enum provider_outcome_kind kind;
    char provider_id[80];
    char error_code[32];
    char error_message[256];
    int opt_out;   /* the carrier says the recipient opted out (Twilio 21610) */
    int slow_down; /* the carrier asked us to send slower (429) */
};

struct tocsin_provider {
    const char *name;
    /* Fills req; returns 0, or -1 with a reason in err. */
    int (*build_request)(const struct provider_account *a, const struct provider_message *m,
                         struct provider_request *req, char *err, size_t errlen);
    /* Classifies a response the transport delivered (see provider_classify). */
    void (*classify_response)(const struct tocsin_http_client_response *r,
                              struct provider_outcome *o);
};

extern const struct tocsin_provider tocsin_provider_twilio;
extern const struct tocsin_provider tocsin_provider_telnyx;

/* "twilio" or "telnyx"; NULL for anything else. */
const struct tocsin_provider *tocsin_provider_find(const char *name);

/* The rules every provider shares, then the provider's own: no response and
 * nothing sent -> RETRY; no response after sending (timeout, reset) or any
 * 5xx -> UNKNOWN; otherwise the provider reads its 2xx/4xx body. */
void provider_classify(const struct tocsin_provider *p, const struct tocsin_http_client_response *r,
                       struct provider_outcome *o);

/* The request as lib/http_client takes it. */
void provider_request_to_client(const struct provider_request *req,
                                struct tocsin_http_client_request *out);

void provider_request_free(struct provider_request *req);

/* The string at path (object member names) in a response's JSON body, into
 * out: scanned without building a tree, parsed with jansson only when the
 * scan cannot copy it (escapes; a longer string is cut to fit, as before).
 * Returns 1 when there is a string there, else 0. */
int provider_json_string(const struct tocsin_http_client_response *r, const char *const *path,
                         size_t npath, char *out, size_t outlen);

#endif
