/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_outreach_sql.h — the SQL that answers the outreach routes of the
 * route table (api_routes.c). Leads make campaigns and steps, upload
 * audiences, watch progress, release batches and export; volunteers claim
 * a batch and send one initial message per request. Scoped like every
 * route: $1 org, $2 user, $3 role, then path parameters, then body
 * fields. Include only from api_routes.c. */
#ifndef DASHBOARD_API_OUTREACH_SQL_H
#define DASHBOARD_API_OUTREACH_SQL_H

/* Volunteers see active campaigns and their own batch; leads every
 * campaign with its progress. */
#define SQL_OUTREACH_LIST                                                                                       \
    "SELECT 200, coalesce(json_agg(json_build_object('id', c.id, 'name', c.name, 'state', c.state,"             \
    "       'batch_size', c.batch_size, 'sender_id', c.sender_id, 'hours_start', c.hours_start,"                \
    "       'hours_end', c.hours_end,"                                                                          \
    "       'in_my_batch', (SELECT count(*) FROM outreach_batch b WHERE b.claimed_by = $2::bigint"              \
    "                        AND b.campaign_id = c.id),"                                                        \
    "       'progress', CASE WHEN $3::text <> 'volunteer' THEN tocsin_outreach_progress($1::bigint, c.id) END)" \
    "       ORDER BY c.id DESC), '[]')"                                                                         \
    "  FROM outreach_campaigns c WHERE c.org_id = $1::bigint AND ($3::text <> 'volunteer' OR c.state = 'active')"

#define SQL_OUTREACH_SENDERS                                                                       \
    "SELECT 200, coalesce(json_agg(json_build_object('id', id, 'address', address, 'kind', kind)"  \
    "       ORDER BY id), '[]') FROM senders WHERE org_id = $1::bigint AND disabled_at IS NULL"

#define SQL_OUTREACH_CREATE                                                                        \
    "SELECT * FROM tocsin_outreach_create($1::bigint, $2::bigint, $4::text, $5::bigint, $6::text," \
    " $7::int, $8::int, $9::int)"

#define SQL_OUTREACH_SHOW                                                                          \
    "SELECT 200, json_build_object('campaign', tocsin_outreach_campaign_json(c),"                  \
    "       'progress', tocsin_outreach_progress($1::bigint, c.id))"                               \
    "  FROM outreach_campaigns c WHERE c.id = $4::bigint AND c.org_id = $1::bigint"

#define SQL_OUTREACH_UPDATE                                                                        \
    "SELECT * FROM tocsin_outreach_update($1::bigint, $2::bigint, $4::bigint, $5::text, $6::text," \
    " $7::int, $8::int, $9::int, $10::text)"

#define SQL_OUTREACH_RELEASE                                                                       \
    "SELECT * FROM tocsin_outreach_release($1::bigint, $2::bigint, $4::bigint, $5::bigint)"

#define SQL_OUTREACH_CLAIM "SELECT * FROM tocsin_outreach_claim($1::bigint, $2::bigint, $4::bigint)"

/* A volunteer never sees a draft (020): 404 as for no campaign. */
#define SQL_OUTREACH_NEXT                                                                          \
    "SELECT * FROM tocsin_outreach_next($1::bigint, $2::bigint, $3::text, $4::bigint, now())"      \
    " WHERE $3::text <> 'volunteer' OR EXISTS (SELECT 1 FROM outreach_campaigns"                   \
    "  WHERE id = $4::bigint AND state <> 'draft')"

#define SQL_OUTREACH_SKIP                                                                          \
    "SELECT * FROM tocsin_outreach_skip($1::bigint, $2::bigint, $4::bigint, $5::bigint, now())"

#define SQL_OUTREACH_OF_CONVERSATION                                                                       \
    "SELECT 200, coalesce(tocsin_outreach_for_conversation($1::bigint, $2::bigint, $3::text, $4::bigint)," \
    "       'null'::json)"                                                                                 \
    " FROM conversations c WHERE c.id = $4::bigint AND c.org_id = $1::bigint"                              \
    "  AND ($3::text <> 'volunteer' OR c.assignee_id = $2::bigint)"

#define SQL_OUTREACH_ANSWER                                                                        \
    "SELECT * FROM tocsin_outreach_answer($1::bigint, $2::bigint, $3::text, $4::bigint, $5::bigint)"

#endif
