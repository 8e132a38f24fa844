/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_outreach_routes.h — the outreach routes, spliced into the route table
 * (api_routes.c) as API_OUTREACH_ROUTES, with the SQL that answers them.
 * Leads make campaigns and steps, upload audiences, watch progress,
 * release batches and export; volunteers claim a batch and send one
 * initial message per request. Scoped like every route: $1 org, $2 user,
 * $3 role, then path parameters, then body fields. Include only from
 * api_routes.c. */
#ifndef DASHBOARD_API_OUTREACH_ROUTES_H
#define DASHBOARD_API_OUTREACH_ROUTES_H

#include "api_outreach.h"

static const char *const f_outreach_create[] = {"name",        "sender_id", "script", "batch_size",
                                                "hours_start", "hours_end", NULL};
static const char *const f_outreach_update[] = {"name",      "script", "batch_size", "hours_start",
                                                "hours_end", "state",  NULL};
static const char *const f_outreach_send[] = {"contact_id", "body", NULL};
static const char *const f_outreach_contact[] = {"contact_id", NULL};
static const char *const f_outreach_user[] = {"user_id", NULL};
static const char *const f_outreach_step[] = {"question", NULL};
static const char *const f_outreach_choice[] = {"choice_id", NULL};

/* Volunteers see active campaigns and their own batch; leads every
 * campaign with its progress. */
#define SQL_OUTREACH_LIST                                                                          \
    "SELECT 200, coalesce(json_agg(json_build_object('id', c.id, 'name', c.name, 'state', c.state," \
    "       'batch_size', c.batch_size, 'sender_id', c.sender_id, 'hours_start', c.hours_start,"  \
    "       'hours_end', c.hours_end,"                                                            \
    "       'in_my_batch', (SELECT count(*) FROM outreach_batch b WHERE b.claimed_by = $2::bigint" \
    "                        AND b.campaign_id = c.id),"                                          \
    "       'progress', CASE WHEN $3::text <> 'volunteer' THEN tocsin_outreach_progress($1::bigint, c.id) END)" \
    "       ORDER BY c.id DESC), '[]')"                                                           \
    "  FROM outreach_campaigns c WHERE c.org_id = $1::bigint AND ($3::text <> 'volunteer' OR c.state = 'active')"

#define SQL_OUTREACH_SENDERS                                                                       \
    "SELECT 200, coalesce(json_agg(json_build_object('id', id, 'address', address, 'kind', kind)" \
    "       ORDER BY id), '[]') FROM senders WHERE org_id = $1::bigint"

#define SQL_OUTREACH_CREATE                                                                        \
    "SELECT * FROM tocsin_outreach_create($1::bigint, $2::bigint, $4::text, $5::bigint, $6::text," \
    " $7::int, $8::int, $9::int)"

#define SQL_OUTREACH_SHOW                                                                          \
    "SELECT 200, json_build_object('campaign', tocsin_outreach_campaign_json(c),"                 \
    "       'progress', tocsin_outreach_progress($1::bigint, c.id))"                              \
    "  FROM outreach_campaigns c WHERE c.id = $4::bigint AND c.org_id = $1::bigint"

#define SQL_OUTREACH_UPDATE                                                                        \
    "SELECT * FROM tocsin_outreach_update($1::bigint, $2::bigint, $4::bigint, $5::text, $6::text," \
    " $7::int, $8::int, $9::int, $10::text)"

#define SQL_OUTREACH_RELEASE                                                                       \
    "SELECT * FROM tocsin_outreach_release($1::bigint, $2::bigint, $4::bigint, $5::bigint)"

#define SQL_OUTREACH_CLAIM "SELECT * FROM tocsin_outreach_claim($1::bigint, $2::bigint, $4::bigint)"

/* A volunteer never sees a draft (020): 404 as for no campaign. */
#define SQL_OUTREACH_NEXT                                                                          \
    "SELECT * FROM tocsin_outreach_next($1::bigint, $2::bigint, $3::text, $4::bigint, now())"    \
    " WHERE $3::text <> 'volunteer' OR EXISTS (SELECT 1 FROM outreach_campaigns"                 \
    "  WHERE id = $4::bigint AND state <> 'draft')"

#define SQL_OUTREACH_SKIP                                                                          \
    "SELECT * FROM tocsin_outreach_skip($1::bigint, $2::bigint, $4::bigint, $5::bigint, now())"

#define SQL_OUTREACH_OF_CONVERSATION                                                               \
    "SELECT 200, coalesce(tocsin_outreach_for_conversation($1::bigint, $2::bigint, $3::text, $4::bigint)," \
    "       'null'::json)"                                                                        \
    " FROM conversations c WHERE c.id = $4::bigint AND c.org_id = $1::bigint"                     \
    "  AND ($3::text <> 'volunteer' OR c.assignee_id = $2::bigint)"

#define SQL_OUTREACH_ANSWER                                                                        \
    "SELECT * FROM tocsin_outreach_answer($1::bigint, $2::bigint, $3::text, $4::bigint, $5::bigint)"

#define API_OUTREACH_ROUTES                                                                                 \
    {"GET", "/api/outreach/campaigns", API_VOLUNTEER, 0, SQL_OUTREACH_LIST, NULL, NULL},                    \
    {"POST", "/api/outreach/campaigns", API_LEAD, 0, SQL_OUTREACH_CREATE, f_outreach_create, NULL},         \
    {"GET", "/api/outreach/senders", API_LEAD, 0, SQL_OUTREACH_SENDERS, NULL, NULL},                        \
    {"GET", "/api/outreach/campaigns/:id", API_LEAD, 0, SQL_OUTREACH_SHOW, NULL, NULL},                     \
    {"POST", "/api/outreach/campaigns/:id", API_LEAD, 0, SQL_OUTREACH_UPDATE, f_outreach_update, NULL},     \
    {"POST", "/api/outreach/campaigns/:id/steps", API_LEAD, 0, NULL, f_outreach_step, api_outreach_step_add}, \
    {"POST", "/api/outreach/campaigns/:id/audience", API_LEAD, 0, NULL, NULL, api_outreach_upload},         \
    {"POST", "/api/outreach/campaigns/:id/release", API_LEAD, 0, SQL_OUTREACH_RELEASE, f_outreach_user, NULL}, \
    {"GET", "/api/outreach/campaigns/:id/answers.csv", API_LEAD, 0, NULL, NULL, api_outreach_export_answers}, \
    {"GET", "/api/outreach/campaigns/:id/opt-outs.csv", API_LEAD, 0, NULL, NULL, api_outreach_export_opt_outs}, \
    {"POST", "/api/outreach/campaigns/:id/claim", API_VOLUNTEER, 0, SQL_OUTREACH_CLAIM, NULL, NULL},        \
    {"GET", "/api/outreach/campaigns/:id/next", API_VOLUNTEER, 0, SQL_OUTREACH_NEXT, NULL, NULL},           \
    {"POST", "/api/outreach/campaigns/:id/send", API_VOLUNTEER, 0, NULL, f_outreach_send, api_outreach_send}, \
    {"POST", "/api/outreach/campaigns/:id/skip", API_VOLUNTEER, 0, SQL_OUTREACH_SKIP, f_outreach_contact, NULL}, \
    {"GET", "/api/conversations/:id/outreach", API_VOLUNTEER, 0, SQL_OUTREACH_OF_CONVERSATION, NULL, NULL}, \
    {"POST", "/api/conversations/:id/outreach-answer", API_VOLUNTEER, 0, SQL_OUTREACH_ANSWER, f_outreach_choice, NULL}

#endif
