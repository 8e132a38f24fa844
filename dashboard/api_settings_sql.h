/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_settings_sql.h — the statements behind an admin's org settings and
 * a lead's canned responses and tags (schema/025_org_settings.sql). Each
 * returns one row (status, json) scoped by $1 org, or none (another org's
 * id: 404); the functions write the audit events. $4.. are path
 * parameters, then the route's body fields. */
#ifndef DASHBOARD_API_SETTINGS_SQL_H
#define DASHBOARD_API_SETTINGS_SQL_H

/* $4: the deployment's TOCSIN_DEFAULT_REGION, what an org without a
 * phone_region reads numbers in (api_settings_get). */
#define SQL_SETTINGS                                                                               \
    "SELECT 200, (tocsin_org_settings_json(o)::jsonb"                                              \
    "             || jsonb_build_object('default_phone_region', $4::text))::json"                  \
    "  FROM orgs o WHERE o.id = $1::bigint"

/* An admin's Senders screen (api_senders.c, schema/functions/senders.sql). */
#define SQL_SENDER_DISABLE                                                                         \
    "SELECT * FROM tocsin_sender_set_disabled($1::bigint, $2::bigint, $4::bigint, true)"
#define SQL_SENDER_ENABLE                                                                          \
    "SELECT * FROM tocsin_sender_set_disabled($1::bigint, $2::bigint, $4::bigint, false)"
#define SQL_SENDER_TEST_STATE                                                                      \
    "SELECT 200, j FROM tocsin_sender_test_json($1::bigint, $4::bigint, $5::bigint) j"             \
    " WHERE j IS NOT NULL"

/* What a volunteer's menus offer: the live ones of the org and of its
 * campaigns that are not closed (each names its campaign). */
#define SQL_CANNED                                                                                 \
    "SELECT 200, coalesce(json_agg(json_build_object('id', r.id, 'title', r.title, 'body', "       \
    "r.body,"                                                                                      \
    "       'campaign_id', r.campaign_id, 'campaign', oc.name)"                                    \
    "       ORDER BY oc.name NULLS FIRST, r.title), '[]')"                                         \
    "  FROM canned_responses r LEFT JOIN outreach_campaigns oc ON oc.id = r.campaign_id"           \
    " WHERE r.org_id = $1::bigint AND r.retired_at IS NULL AND coalesce(oc.state, '') <> 'closed'"

#define SQL_TAGS                                                                                   \
    "SELECT 200, coalesce(json_agg(json_build_object('id', t.id, 'name', t.name,"                  \
    "       'campaign_id', t.campaign_id, 'campaign', oc.name) ORDER BY oc.name NULLS FIRST, "     \
    "t.name), '[]')"                                                                               \
    "  FROM tags t LEFT JOIN outreach_campaigns oc ON oc.id = t.campaign_id"                       \
    " WHERE t.org_id = $1::bigint AND t.retired_at IS NULL AND coalesce(oc.state, '') <> 'closed'"

/* A lead's lists: every one, retired too. */
#define SQL_SHARED_ALL(kind, table)                                                                \
    "SELECT 200, coalesce(json_agg(tocsin_shared_text_json('" kind                                 \
    "', x.id) ORDER BY x.id), '[]')"                                                               \
    "  FROM " table " x WHERE x.org_id = $1::bigint"
#define SQL_CANNED_ALL SQL_SHARED_ALL("canned", "canned_responses")
#define SQL_TAGS_ALL SQL_SHARED_ALL("tag", "tags")

#define SQL_CANNED_ADD                                                                             \
    "SELECT * FROM tocsin_shared_text_save('canned', $1::bigint, $2::bigint, NULL, $4, $5, $6)"
#define SQL_CANNED_EDIT                                                                            \
    "SELECT * FROM tocsin_shared_text_save('canned', $1::bigint, $2::bigint, $4::bigint, $5, $6, " \
    "$7)"
#define SQL_TAG_CREATE                                                                             \
    "SELECT * FROM tocsin_shared_text_save('tag', $1::bigint, $2::bigint, NULL, $4, NULL, $5)"
#define SQL_TAG_EDIT                                                                               \
    "SELECT * FROM tocsin_shared_text_save('tag', $1::bigint, $2::bigint, $4::bigint, $5, NULL, "  \
    "$6)"
#define SQL_RETIRE(kind, yes)                                                                      \
    "SELECT * FROM tocsin_shared_text_retire('" kind "', $1::bigint, $2::bigint, $4::bigint, " yes \
    ")"
#define SQL_CANNED_RETIRE SQL_RETIRE("canned", "true")
#define SQL_CANNED_RESTORE SQL_RETIRE("canned", "false")
#define SQL_TAG_RETIRE SQL_RETIRE("tag", "true")
#define SQL_TAG_RESTORE SQL_RETIRE("tag", "false")

#endif
