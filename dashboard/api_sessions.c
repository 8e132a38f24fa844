/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_sessions.c — a person's own sessions: the list (device from the
 * User-Agent, the client address as the trusted-proxy rules read it,
 * when it began and was last used) and ending any one of them. Ending a
 * session deletes it: NOTIFY tocsin_sessions then closes its live streams
 * in every dashboard (events.c). "Log out everywhere" is api_auth.c's; an
 * admin ending another user's sessions is SQL_USER_REVOKE. Both routes
 * are API_OWN: while a national admin acts in a chapter, $1 and $2 are
 * still her own org and account, never the acting account's. */
#include <string.h>

#include "dashboard.h"

void api_sessions_list(struct api_call *call)
{
    api_add_param(call, call->session_id);
    api_run_sql(
        call,
        "SELECT 200, json_build_object('sessions', coalesce(json_agg(json_build_object("
        "       'id', s.id, 'device', tocsin_session_device(s.user_agent),"
        "       'user_agent', s.user_agent, 'address', s.remote_addr, 'created_at', s.created_at,"
        "       'last_seen_at', s.last_seen_at, 'stage', s.stage, 'current', s.id = $4::bigint)"
        "       ORDER BY s.id = $4::bigint DESC, s.last_seen_at DESC, s.id DESC), '[]'))"
        "  FROM sessions s"
        " WHERE s.user_id = $2::bigint AND s.org_id = $1::bigint AND s.expires_at > now()");
}

void api_session_end(struct api_call *call)
{
    api_add_param(call, call->session_id);
    if (call->nparams == 5 && call->params[3] && call->params[4] &&
        strcmp(call->params[3], call->params[4]) == 0)
        dash_events_end_session(call->dash->events, call->session_id);
    api_run_sql(
        call, "WITH d AS (DELETE FROM sessions WHERE id = $4::bigint AND user_id = $2::bigint"
              "             AND org_id = $1::bigint"
              "           RETURNING id, tocsin_session_device(user_agent) AS device, remote_addr),"
              " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id,"
              "                                 details)"
              "       SELECT $1::bigint, $2::bigint, 'session.end', 'session', id,"
              "              jsonb_build_object('device', device, 'address', remote_addr,"
              "                                 'current', id = $5::bigint) FROM d)"
              "SELECT 200, json_build_object('ended', id, 'current', id = $5::bigint) FROM d");
}
