/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_chapters.c — a national admin's chapters: invite a chapter's admin
 * (a link shown once, made as every invite's), enter a chapter for a
 * bounded window with a reason, and leave it. The handlers add what SQL
 * cannot make (a token, the session's id); the rules and the audit of
 * both orgs are schema/functions/chapters.sql. Creating a chapter checks
 * its phone region against libphonenumber's regions here (lib/phone); the
 * list is SQL but for the deployment's default region it names. */
#include <string.h>

#include "api_chapters_sql.h"
#include "dashboard.h"
#include "phone.h"

/* GET /api/chapters: the chapters, and the region those without their
 * own fall back to, so the page can say which applies. */
void api_chapters_list(struct api_call *call)
{
    if (api_add_param(call, api_default_region(call->dash)) != 0) {
        tocsin_http_error(call->req, 500, "internal", "too many parameters");
        return;
    }
    api_run_sql(call, SQL_CHAPTERS);
}

/* Fields: name, slug, phone_region (absent or null: the deployment's). */
void api_chapter_create(struct api_call *call)
{
    const char *region = call->params[5];
    char err[200];
    if (region && tocsin_phone_region_check("phone_region", region, err, sizeof err) != 0) {
        tocsin_http_error(call->req, 400, "invalid", "%s", err);
        return;
    }
    api_run_sql(call, SQL_CHAPTER_CREATE);
}

void api_chapter_invite(struct api_call *call)
{
    char hex[67], url[600];
    if (api_invite_token(call, hex, url) != 0)
        return;
    api_add_param(call, api_body_text(call, "email"));
    api_add_param(call, hex);
    api_add_param(call, url);
    api_run_sql(
        call, "SELECT r.status, CASE WHEN r.status = 201"
              "  THEN (r.body::jsonb || jsonb_build_object('url', $7::text))::json ELSE r.body END"
              "  FROM tocsin_chapter_invite($1::bigint, $2::bigint, $4::bigint, $5::text,"
              "                             $6::bytea) r");
}

/* The session is the caller's own (authenticated by its cookie), so the
 * window can only ever be opened on it. */
void api_chapter_enter(struct api_call *call)
{
    api_add_param(call, call->session_id);
    api_run_sql(call, "SELECT status, body FROM tocsin_chapter_enter($1::bigint, $2::bigint,"
                      " $7::bigint, $4::bigint, $5::text, $6::int)");
}

void api_chapter_leave(struct api_call *call)
{
    api_add_param(call, call->session_id);
    api_run_sql(call, "SELECT status, body FROM tocsin_chapter_leave($4::bigint)");
}
