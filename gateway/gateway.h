/* SPDX-License-Identifier: AGPL-3.0-or-later
 * gateway.h — the gateway's state and its modules' interfaces. All state
 * is in one struct gateway on the heap (the daemon's app pointer), each
 * module's part opaque to the others; callbacks take their context last. */
#ifndef GATEWAY_H
#define GATEWAY_H

#include "daemon.h"
#include "keyword.h"
#include "metrics.h"
#include "pgarray.h"
#include "ratelimit.h"
#include "sender_check.h"
#include "spool.h"
#include "statements.h"

/* A sender as the webhooks need it: its org, its carrier secret (unsealed),
 * its org's texts and compiled keywords. */
struct gw_sender {
    long long id, org_id;
    char address[20];
    char provider[8];
    char secret[TOCSIN_SENDER_SECRET_MAX + 1]; /* Twilio auth token */
    unsigned char telnyx_pk[32];               /* verifies Telnyx webhooks */
    int has_telnyx_pk;
    char org_name[201];
    char *help_text;
    char *keywords_json; /* the cache key for the compiled set */
    char *sealed;        /* its sealed credential and Telnyx key as stored: */
    char *telnyx_pk_b64; /* a change to either rebuilds the entry */
    uint64_t fetched_ms; /* when the database last confirmed this entry */
    struct tocsin_keyword_set *keywords;
    struct gw_keyword_reply {
        long long id;
        char *reply;
    } * replies;
    size_t nreplies;
};

/* Budgets (main.c). A webhook's signature is checked before any budget is
 * spent on it: correctly signed ones take from `authentic`, which nothing
 * else touches; the rest (bad signature, unknown sender, malformed) take
 * from their address's `junk_per_ip` and from `junk_global`. An address
 * (or everyone) out of junk budget is "suspect": its webhooks are still
 * verified, but only against senders already cached, so junk stops costing
 * database lookups while a carrier's real webhook from the same address,
 * for a sender it has been using, still gets through. */
struct gateway {
    struct tocsin_daemon *d;
    struct tocsin_ratelimit *junk_per_ip, *junk_global, *authentic;
    struct gw_statements sql;   /* built at start */
    struct gw_senders *senders; /* senders.c */
    struct gw_store *store;     /* store.c */
    struct gw_batches *batches; /* batch.c */
    struct gw_journal *journal; /* journal.c */
};

/* 1 when r's address, or all unverified traffic, has spent its junk budget. */
int gw_suspect(struct gateway *g, struct tocsin_http_req *r);
/* Charges r, which failed verification, to its address and the junk total. */
void gw_junk(struct gateway *g, struct tocsin_http_req *r);
/* Answers a webhook whose sender lookup failed (gw_sender_lookup's status:
 * 429 suspect and not cached; 503; a 404, unknown, is answered by the
 * caller exactly as a bad signature and charged as junk). */
void gw_sender_refused(struct tocsin_http_req *r, int status, const char *why);
/* Takes a token for an authentic webhook; 1 to go on, or 0 after answering
 * 429 with Retry-After (the carrier retries). */
int gw_admit(struct gateway *g, struct tocsin_http_req *r);

/* senders.c: looks the sender up by its address (the webhook's To); calls
 * cb with NULL and a reason when it does not exist or the lookup failed
 * (status is then 404 or 503). With cache_only (a suspect address) only a
 * cached sender, however old, is used, and one not cached gets status 429.
 * The sender is valid during the callback. Callers answer 404 exactly as
 * their bad signature, so that which numbers are configured cannot be
 * probed. */
typedef void (*gw_sender_cb)(struct gw_sender *s, int status, const char *why, void *ctx);
void gw_sender_lookup(struct gateway *g, const char *address, int cache_only, gw_sender_cb cb,
                      void *ctx);
void gw_senders_free(struct gateway *g);
/* Registers the lookup counters and LISTENs on tocsin_senders; 0 or -1. */
int gw_senders_start(struct gateway *g);
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
/* Registers the message and receipt counters (at startup). */
void gw_inbound_metrics_register(void);
/* Applies a delivery receipt to a message of sender s (whose credentials
 * verified it: another sender's message is never touched) and answers the
 * carrier the same way. */
void gw_receipt_apply(struct gateway *g, const struct gw_sender *s, struct gw_inbound *in,
                      const char *status, const char *error_code);

/* store.c: applies an authentic webhook's statement (kind and parameters
 * as in spool.h) directly, or spools it while the database is unreachable
 * or the spool is not yet drained. cb runs once (inside the call only for
 * an immediate failure):
 * status GW_STORE_APPLIED with the statement's result and the webhook's row
 * in it (valid during the call), GW_STORE_SPOOLED once the spool append is durable, or -1 with a
 * reason (a SQL error that is the data's fault, a full spool, shutdown). */
enum { GW_STORE_APPLIED = 0, GW_STORE_SPOOLED = 1 };
typedef void (*gw_store_cb)(int status, const PGresult *res, int row, const char *why, void *ctx);
void gw_store_apply(struct gateway *g, int kind, const char *const *params, int n, gw_store_cb cb,
                    void *ctx);
/* The statement that applies one webhook of a kind (in g->sql). */
const char *gw_store_sql(const struct gateway *g, int kind);
/* 1 when a failure (its SQLSTATE, "" when not from the server) says the
 * database could not be reached rather than that it refused the data. */
int gw_db_error_transient(const char *sqlstate, int ambiguous);
/* Opens the spool and replays what it holds (0, or -1 after logging). */
int gw_store_start(struct gateway *g);
/* 1 while webhooks can be spooled (the spool is open and has room). */
int gw_store_can_spool(const struct gateway *g);
void gw_store_stop(struct gateway *g);
void gw_store_free(struct gateway *g);

/* batch.c: queues a webhook's parameters (those of the one-webhook
 * function, valid until cb) for the next batch of its kind. cb runs once,
 * after its batch: with the result and the webhook's row (its first
 * columns are the one-webhook function's), or with an error, its SQLSTATE
 * ("" when not from the server) and whether its outcome is unknown.
 * Returns 0, or -1 (cb not called) for a kind or count it does not batch. */
typedef void (*gw_batch_cb)(const PGresult *res, int row, const char *error, const char *sqlstate,
                            int ambiguous, void *ctx);
int gw_batch_add(struct gateway *g, int kind, const char *const *params, int n, gw_batch_cb cb,
                 void *ctx);
/* The call of a kind's batch function for n webhooks in order (params[i]:
 * the i-th webhook's parameters, the kind's count of them): *sql (static)
 * and out[] (the array literals, in a: caller-owned, reusable, freed with
 * gw_batch_call_free). Returns the number of parameters, or -1 for a kind
 * it does not batch or no memory. Result rows carry the webhook's 1-based
 * position in column GW_COL_ORD. */
struct gw_batch_call {
    struct tocsin_pgarray cols[GW_MAX_PARAMS]; /* zeroed = not yet initialised */
};
int gw_batch_call(const struct gateway *g, int kind, const char *const *const *params, int n,
                  struct gw_batch_call *a, const char **sql, const char **out);
void gw_batch_call_free(struct gw_batch_call *a);
/* Registers the batch counters and readies the queues (0 or -1). */
int gw_batch_start(struct gateway *g);
/* Sends what is queued and stops batching at the end of loop turns. */
void gw_batch_stop(struct gateway *g);
void gw_batch_free(struct gateway *g);
/* 1 when no webhook of a kind waits or runs and none came for quiet_ms. */
int gw_batch_quiet(const struct gateway *g, int kind, uint64_t now, uint64_t quiet_ms);

/* journal.c: threads replies journaled by big batches (schema/015) into
 * conversations whenever member messages stop coming for a moment, and at
 * least once a second while any wait. */
int gw_journal_start(struct gateway *g);
/* 1 when a big batch may journal its replies (enabled, backlog under
 * TOCSIN_GATEWAY_JOURNAL_MAX). */
int gw_journal_has_room(const struct gateway *g);
/* A committed batch journaled n replies. */
void gw_journal_added(struct gateway *g, int n);
void gw_journal_stop(struct gateway *g);
void gw_journal_free(struct gateway *g);

extern struct tocsin_metric gw_rejected_signatures;

#endif
