/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_people_sql.h — the People screen's statements (an admin's: the
 * org's users and pending invites, a role changed, an invite revoked).
 * Scoped by $1 org and $2 the acting admin; another org's ids are "no
 * row", hence 404. The rules are schema 023's functions; resetting a
 * password is api_people.c (it makes a token). */
#ifndef DASHBOARD_API_PEOPLE_SQL_H
#define DASHBOARD_API_PEOPLE_SQL_H

#define SQL_PEOPLE "SELECT 200, tocsin_people($1::bigint)"

#define SQL_USER_ROLE                                                                              \
    "SELECT status, body FROM tocsin_user_set_role($1::bigint, $2::bigint, $4::bigint, $5::text)"

/* A pending invite stops working now (a reset link too); the audit keeps
 * whom it was for. */
#define SQL_INVITE_REVOKE                                                                          \
    "WITH i AS (UPDATE invites SET expires_at = now()"                                             \
    "            WHERE id = $4::bigint AND org_id = $1::bigint AND used_at IS NULL"                \
    "              AND expires_at > now() RETURNING id, email, role, user_id),"                    \
    " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)" \
    "       SELECT $1::bigint, $2::bigint, 'invite.revoke', 'invite', id,"                         \
    "              jsonb_build_object('email', email, 'role', role, 'user_id', user_id) FROM i)"   \
    "SELECT 200, json_build_object('id', id, 'revoked', true) FROM i"

#endif
