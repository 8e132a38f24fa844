/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_privacy_sql.h — the statements behind an admin's privacy settings
 * (how long the org keeps message texts, sessions and audit rows; which
 * contact fields volunteers see): schema/033_retention.sql and
 * schema/functions/retention.sql, which validates and audits. $4.. are
 * the route's body fields. */
#ifndef DASHBOARD_API_PRIVACY_SQL_H
#define DASHBOARD_API_PRIVACY_SQL_H

/* With the custom field names the org's contacts carry, to choose from. */
#define SQL_PRIVACY                                                                                \
    "SELECT 200, (to_jsonb(tocsin_org_privacy_json(o)) || jsonb_build_object('known_fields',"      \
    " tocsin_org_known_fields(o.id)))::json FROM orgs o WHERE o.id = $1::bigint"

#define SQL_PRIVACY_SAVE                                                                           \
    "SELECT * FROM tocsin_org_privacy_save($1::bigint, $2::bigint, $4, $5, $6, $7, $8)"

#endif
