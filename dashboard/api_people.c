/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_people.c — an admin resets a user's password: the old one stops
 * working, her sessions end, and a one-time link (an invite bound to her,
 * the token in the #token= fragment as every invite's) is shown once to
 * the admin, who passes it on. The rule is schema 023's
 * tocsin_user_reset_password; the other People routes are SQL
 * (api_people_sql.h). */
#include <stdio.h>
#include <string.h>

#include "dashboard.h"

void api_user_reset_password(struct api_call *call)
{
    char hex[67], url[600];
    if (api_invite_token(call, hex, url) != 0)
        return;
    api_add_param(call, hex);
    api_add_param(call, url);
    api_run_sql(
        call, "SELECT r.status, CASE WHEN r.status = 201"
              "  THEN (r.body::jsonb || jsonb_build_object('url', $6::text))::json ELSE r.body END"
              "  FROM tocsin_user_reset_password($1::bigint, $2::bigint, $4::bigint, $5::bytea) r");
}
