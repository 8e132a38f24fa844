/* SPDX-License-Identifier: AGPL-3.0-or-later
 * gateway.h — the gateway's shared state: the daemon (config, database,
 * HTTP server), the sender cache, and the webhook counters. */
#ifndef GATEWAY_H
#define GATEWAY_H

#include "daemon.h"
#include "keyword.h"
#include "metrics.h"

/* A sender as the webhooks need it: its org, its carrier secret (unsealed),
 * its org's texts and compiled keywords. */
struct gw_sender {
    long long id, org_id;
    char address[20];
    char provider[8];
    char secret[256]; /* Twilio auth token */
    char org_name[201];
    char *help_text;
    char *keywords_json; /* the cache key for the compiled set */
    struct tocsin_keyword_set *keywords;
    struct gw_keyword_reply {
        long long id;
        char *reply;
    } *replies;
    size_t nreplies;
};

struct gateway {
    struct tocsin_daemon *d;
};

/* senders.c: looks the sender up by its address (the webhook's To); calls
 * cb with NULL and a reason when it does not exist or the lookup failed
 * (status is then 404 or 503). The sender is valid during the callback. */
typedef void (*gw_sender_cb)(struct gw_sender *s, int status, const char *why, void *ctx);
void gw_sender_lookup(struct gateway *g, const char *address, gw_sender_cb cb, void *ctx);
void gw_senders_free(void);
const char *gw_keyword_reply(const struct gw_sender *s, long long keyword_id);

/* twilio_webhooks.c */
void gw_twilio_routes(struct gateway *g);

extern struct tocsin_metric gw_rejected_signatures;

#endif
