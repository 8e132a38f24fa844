/* SPDX-License-Identifier: AGPL-3.0-or-later
 * gateway.h — the gateway's shared state: the daemon (config, database,
 * HTTP server), the sender cache, and the webhook counters. */
#ifndef GATEWAY_H
#define GATEWAY_H

#include "daemon.h"
#include "keyword.h"
#include "metrics.h"
#include "ratelimit.h"

/* A sender as the webhooks need it: its org, its carrier secret (unsealed),
 * its org's texts and compiled keywords. */
struct gw_sender {
    long long id, org_id;
    char address[20];
    char provider[8];
    char secret[256]; /* Twilio auth token */
    unsigned char telnyx_pk[32]; /* verifies Telnyx webhooks */
    int has_telnyx_pk;
    char org_name[201];
    char *help_text;
    char *keywords_json; /* the cache key for the compiled set */
    uint64_t fetched_ms;  /* when the database last confirmed this entry */
    struct tocsin_keyword_set *keywords;
    struct gw_keyword_reply {
        long long id;
        char *reply;
    } *replies;
    size_t nreplies;
};

struct gateway {
    struct tocsin_daemon *d;
    struct tocsin_ratelimit *per_ip, *global;
};

/* Takes a token for this request from the per-address and global buckets;
 * returns 1 to go on, or 0 after answering 429 (main.c). */
int gw_admit(struct gateway *g, struct tocsin_http_req *r);

/* senders.c: looks the sender up by its address (the webhook's To); calls
 * cb with NULL and a reason when it does not exist or the lookup failed
 * (status is then 404 or 503). The sender is valid during the callback. */
typedef void (*gw_sender_cb)(struct gw_sender *s, int status, const char *why, void *ctx);
void gw_sender_lookup(struct gateway *g, const char *address, gw_sender_cb cb, void *ctx);
void gw_senders_free(void);
const char *gw_keyword_reply(const struct gw_sender *s, long long keyword_id);

/* twilio_webhooks.c */
void gw_twilio_routes(struct gateway *g);

/* telnyx_webhooks.c */
void gw_telnyx_routes(struct gateway *g);

/* inbound.c: the member-message path both carriers share — classify with
 * the sender's keywords, prepare the reply, apply it in one statement, and
 * answer the carrier (status, content type and body) once it committed. */
struct gw_inbound {
    struct tocsin_http_req *req;
    const char *provider, *message_id, *from, *body;
    int num_media;
    int ok_status;
    const char *ok_type, *ok_body;
};
void gw_inbound_apply(struct gateway *g, struct gw_sender *s, struct gw_inbound *in);
/* Applies a delivery receipt and answers the carrier the same way. */
void gw_receipt_apply(struct gateway *g, struct gw_inbound *in, const char *status, const char *error_code);

extern struct tocsin_metric gw_rejected_signatures;

#endif
