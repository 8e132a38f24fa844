/* SPDX-License-Identifier: AGPL-3.0-or-later
 * sim.h — the carrier simulator's shared state: accounts, the messages it
 * accepted, per-(to, body) and per-second counts, phones' threads, fault
 * settings. Everything lives in memory and goes with the process. */
#ifndef CARRIER_SIM_H
#define CARRIER_SIM_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "http.h"
#include "http_client.h"
#include "randpool.h"
#include "table.h"

#define SIM_MAX_ACCOUNTS 16

struct sim_account {
    char sid[35]; /* AC + 32 hex */
    char token[65];
};

struct sim_faults {
    double p429, p500, ptimeout, preset, pslow;
    unsigned slow_ms;
    int duplicate_receipts;
    int receipts_before_response;
    json_t *fail_prefixes; /* array of strings: recipients that end undelivered */
};

struct sim_message {
    char sid[35];
    char account[35];
    char from[32], to[32];
    char *body;
    char *status_callback; /* NULL if none */
    char status[16];
    int segments;
    uint64_t created_ms; /* wall clock */
    int outbound;        /* 1: sent by Tocsin through the API; 0: a member's message */
    int telnyx;          /* sent through Telnyx's API: receipts are signed JSON events */
    int carrier;         /* written by the carrier itself (its opt-out confirmation) */
};

/* One sender's accepted segments per wall-clock second, in the order the
 * seconds were first seen. */
struct sim_second {
    uint64_t second;
    uint64_t segments;
};
struct sim_sender {
    struct sim_second *v;
    size_t n, cap;
};

struct sim {
    uv_loop_t *loop;
    struct tocsin_http_server *http;
    struct tocsin_http_client *client;
    struct sim_account accounts[SIM_MAX_ACCOUNTS];
    int naccounts;
    char telnyx_keys[SIM_MAX_ACCOUNTS][129]; /* API keys accepted as Bearer tokens */
    int ntelnyx;
    unsigned char telnyx_pk[32], telnyx_sk[64]; /* signs Telnyx webhooks */
    char gateway_url[256];
    unsigned receipt_delay_ms;
    int benchmark; /* answer as fast as possible: no receipts, no thread keeping */
    struct sim_faults faults;
    struct sim_table messages; /* sid -> index into list */
    struct sim_message **list;
    size_t nlist, caplist;
    struct sim_table counts; /* "to\nbody" -> messages accepted */
    struct sim_table rates;  /* from -> index into senders */
    struct sim_sender *senders;
    size_t nsenders, capsenders;
    struct sim_table opted_out; /* "to\nfrom" -> 1 (numbers that texted STOP) */
    struct sim_table handling;  /* sender number -> SIM_OPT_OUT_* (set by POST /sim/senders) */
    struct sim_randpool random; /* sids and event ids */
    uint64_t seq;
    unsigned long long accepted_total;
};

/* store.c */
struct sim_message *sim_store_add(struct sim *s, const char *account, const char *from,
                                  const char *to, tocsin_str body, const char *callback,
                                  int outbound);
struct sim_message *sim_store_find(struct sim *s, const char *sid);
/* Counts m as accepted: per (to, body), and its segments per second for
 * its sender. */
void sim_store_count(struct sim *s, struct sim_message *m);
/* Messages accepted for (to, body). */
uint64_t sim_store_accepted(struct sim *s, const char *to, const char *body);
/* from's segments per second, or NULL if it sent nothing since the reset. */
const struct sim_sender *sim_store_sender(struct sim *s, const char *from);
/* Whether to opted out of texts from from (texted STOP to it); set or
 * lift that. */
int sim_store_opted_out(struct sim *s, const char *to, const char *from);
void sim_store_set_opted_out(struct sim *s, const char *to, const char *from, int out);
/* Who answers the opt-out words texted to a sender number: the carrier
 * (SIM_OPT_OUT_CARRIER: it keeps its own opt-out list, sends its own
 * confirmation and refuses later messages with 21610, as Twilio's default
 * handling on long codes and toll-free numbers) or the program
 * (SIM_OPT_OUT_PROGRAM: a standalone short code, nothing filtered). Unless
 * set, a Twilio E.164 number is carrier-handled and anything else (short
 * codes, Telnyx) is not, the defaults Tocsin assumes
 * (tocsin_sender_opt_out_handling, schema/functions/consent.sql). */
enum { SIM_OPT_OUT_CARRIER = 1, SIM_OPT_OUT_PROGRAM = 2 };
int sim_store_handling(struct sim *s, const char *number, const char *provider);
int sim_store_set_handling(struct sim *s, const char *number, int handling);
void sim_store_reset(struct sim *s);
uint64_t sim_now_ms(void);
json_t *sim_message_json(const struct sim_message *m);

/* twilio_api.c */
void sim_twilio_routes(struct sim *s);
const struct sim_account *sim_account_find(struct sim *s, tocsin_str sid);

/* telnyx_api.c */
void sim_telnyx_routes(struct sim *s);
/* Posts a Telnyx event (JSON, Ed25519-signed) about m to url. */
void sim_telnyx_event(struct sim *s, const struct sim_message *m, const char *event_type,
                      const char *status, const char *url, tocsin_http_client_cb cb, void *ctx);

/* receipts.c */
void sim_receipts_schedule(struct sim *s, struct sim_message *m);
/* Posts a signed Twilio form to url with the account's token. */
void sim_post_signed(struct sim *s, const char *token, const char *url, struct tocsin_kv *params,
                     size_t n, tocsin_http_client_cb cb, void *ctx);

/* phones_page.c */
void sim_phones_routes(struct sim *s);

/* control.c */
void sim_control_routes(struct sim *s);
void sim_faults_default(struct sim_faults *f);
int sim_faults_apply(struct sim_faults *f, json_t *j, char *err, size_t errlen);
json_t *sim_faults_json(const struct sim_faults *f);

#endif
