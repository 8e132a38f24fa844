/* SPDX-License-Identifier: AGPL-3.0-or-later
 * statements.h — the one declaration of what the gateway sends PostgreSQL
 * for a webhook: each kind's parameters (name and SQL type, in the SQL
 * functions' order: tocsin_receive_inbound, schema/004 and 019;
 * tocsin_apply_receipt, schema/017) and the result columns it reads. The
 * enums, the counts, the spool's field order and every SQL text (one
 * webhook, a batch of them, a burst) are derived from these lists, so a
 * parameter is added in one place. Owns no state: the texts are built once
 * into a struct gw_statements at startup. */
#ifndef GW_STATEMENTS_H
#define GW_STATEMENTS_H

/* X(NAME, sql type) for each parameter of tocsin_receive_inbound. */
#define GW_INBOUND_FIELDS(X)                                                                       \
    X(PROVIDER, text)                                                                              \
    X(MESSAGE_ID, text)                                                                            \
    X(SENDER_ID, bigint)                                                                           \
    X(FROM, text)                                                                                  \
    X(BODY, text)                                                                                  \
    X(NUM_MEDIA, int)                                                                              \
    X(INTENT, text)                                                                                \
    X(KEYWORD_ID, bigint)                                                                          \
    X(LIKELY_REVOCATION, boolean)                                                                  \
    X(REPLY, text)                                                                                 \
    X(REPLY_ENCODING, text)                                                                        \
    X(REPLY_SEGMENTS, int)

/* X(NAME, sql type) for each parameter of tocsin_apply_receipt. */
#define GW_RECEIPT_FIELDS(X)                                                                       \
    X(PROVIDER, text)                                                                              \
    X(MESSAGE_ID, text)                                                                            \
    X(SENDER_ID, bigint)                                                                           \
    X(STATUS, text)                                                                                \
    X(ERROR_CODE, text)                                                                            \
    X(PAYLOAD, jsonb)

#define GW_FIELD_ENUM_IN(name, type) GW_IN_##name,
#define GW_FIELD_ENUM_RC(name, type) GW_RC_##name,
enum gw_inbound_param { GW_INBOUND_FIELDS(GW_FIELD_ENUM_IN) GW_INBOUND_PARAMS };
enum gw_receipt_param { GW_RECEIPT_FIELDS(GW_FIELD_ENUM_RC) GW_RECEIPT_PARAMS };
#undef GW_FIELD_ENUM_IN
#undef GW_FIELD_ENUM_RC

/* The most parameters of any kind (the size of a parameter array). */
#define GW_MAX_PARAMS                                                                              \
    ((int)GW_INBOUND_PARAMS > (int)GW_RECEIPT_PARAMS ? (int)GW_INBOUND_PARAMS                      \
                                                     : (int)GW_RECEIPT_PARAMS)

/* The message id is where every kind has it (logs name a record by it). */
_Static_assert((int)GW_IN_MESSAGE_ID == (int)GW_RC_MESSAGE_ID, "message id position differs");
#define GW_FIELD_MESSAGE_ID GW_IN_MESSAGE_ID

/* Result columns, by name (found with PQfnumber once per result): the
 * one-webhook and batch functions return the webhook's row; the batch ones
 * add its 1-based position in the batch as "ord". */
#define GW_COL_INBOUND_ID "inbound_id"
#define GW_COL_ACTION "action"
#define GW_COL_OUTCOME "outcome"
#define GW_COL_ORD "ord"

/* The SQL texts of every kind, built by gw_statements_build. */
struct gw_statements {
    char inbound_one[256], inbound_batch[512], inbound_burst[512];
    char receipt_one[256], receipt_batch[512];
};
void gw_statements_build(struct gw_statements *s);

/* How many parameters a kind (enum gw_spool_kind) has, or -1. */
int gw_kind_params(int kind);
/* The column of a kind's result that says what became of the webhook
 * ("action" for a member message, "outcome" for a receipt). */
const char *gw_kind_verdict_column(int kind);

#endif
