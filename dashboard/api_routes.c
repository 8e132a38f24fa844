/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_routes.c — every /api/ route in one table: method, path, the least
 * role allowed, and either the SQL that answers it or its handler. Each
 * statement scopes itself by the caller: $1 org id, $2 user id, $3 role
 * (volunteers see only conversations assigned to them — anything else is
 * "no row", hence 404). The integration tests read this table to try
 * every route as every role. */
#include "api_outreach_routes.h"
#include "api_leads_sql.h"
#include "api_people_sql.h"
#include "api_sql.h"
#include "dashboard.h"

static const char *const f_count[] = {"count", NULL};
static const char *const f_body[] = {"body", NULL};
static const char *const f_user[] = {"user_id", NULL};
static const char *const f_tag[] = {"tag_id", NULL};
static const char *const f_name[] = {"name", NULL};
static const char *const f_canned[] = {"title", "body", NULL};
static const char *const f_import[] = {"name", "filename", "csv", NULL};
static const char *const f_keyword[] = {"keyword", "pattern", "list_id", "reply", "sender_id", NULL};
static const char *const f_blast[] = {"sender_id", "list_id", "filter_field", "filter_equals", "body", NULL};
static const char *const f_at[] = {"at", NULL};
static const char *const f_csv[] = {"csv", NULL};
static const char *const f_opt_import[] = {"column", "filename", "csv", NULL};
static const char *const f_phone[] = {"phone", NULL};
static const char *const f_undo[] = {"phone", "reason", NULL};
static const char *const f_role[] = {"role", NULL};

const struct api_route api_routes[] = {
    /* accounts (api_auth.c) */
    {"POST", "/api/login", API_VOLUNTEER, API_PUBLIC, NULL, NULL, api_login},
    {"POST", "/api/logout", API_VOLUNTEER, 0, NULL, NULL, api_logout},
    {"GET", "/api/me", API_VOLUNTEER, 0, NULL, NULL, api_me},
    {"POST", "/api/invites", API_ADMIN, 0, NULL, NULL, api_invite_create},
    /* The invite's token is in the body: a path would put it in access logs. */
    {"POST", "/api/invite/show", API_VOLUNTEER, API_PUBLIC, NULL, NULL, api_invite_show},
    {"POST", "/api/invite/accept", API_VOLUNTEER, API_PUBLIC, NULL, NULL, api_invite_accept},
    {"POST", "/api/logout-everywhere", API_VOLUNTEER, 0, NULL, NULL, api_logout_everywhere},
    {"GET", "/api/users", API_LEAD, 0, SQL_USERS, NULL, NULL},
    {"POST", "/api/users/:id/disable", API_ADMIN, 0, SQL_USER_DISABLE, NULL, NULL},
    {"POST", "/api/users/:id/enable", API_ADMIN, 0, SQL_USER_ENABLE, NULL, NULL},
    {"POST", "/api/users/:id/revoke-sessions", API_ADMIN, 0, SQL_USER_REVOKE, NULL, NULL},
    /* the People screen (api_people_sql.h, api_people.c) */
    {"GET", "/api/people", API_ADMIN, 0, SQL_PEOPLE, NULL, NULL},
    {"POST", "/api/users/:id/role", API_ADMIN, 0, SQL_USER_ROLE, f_role, NULL},
    {"POST", "/api/users/:id/reset-password", API_ADMIN, 0, NULL, NULL, api_user_reset_password},
    {"POST", "/api/invites/:id/revoke", API_ADMIN, 0, SQL_INVITE_REVOKE, NULL, NULL},

    /* the inbox (api_conversations.c holds the SQL) */
    {"GET", "/api/conversations", API_VOLUNTEER, 0, SQL_INBOX, NULL, NULL},
    {"GET", "/api/conversations/waiting", API_VOLUNTEER, 0, SQL_WAITING, NULL, NULL},
    {"GET", "/api/conversations/pool", API_LEAD, 0, SQL_POOL, NULL, NULL},
    {"GET", "/api/conversations/all", API_LEAD, 0, SQL_ALL_OPEN, NULL, NULL},
    {"POST", "/api/conversations/claim", API_VOLUNTEER, 0, SQL_CLAIM, f_count, NULL},
    {"GET", "/api/conversations/:id", API_VOLUNTEER, 0, SQL_CONVERSATION, NULL, NULL},
    {"GET", "/api/conversations/:id/handoff", API_VOLUNTEER, 0, SQL_HANDOFF, NULL, NULL},
    {"POST", "/api/conversations/:id/reply", API_VOLUNTEER, 0, NULL, f_body, api_reply},
    {"POST", "/api/conversations/:id/read", API_VOLUNTEER, 0, SQL_READ, NULL, NULL},
    {"POST", "/api/conversations/:id/close", API_VOLUNTEER, 0, SQL_CLOSE, NULL, NULL},
    {"POST", "/api/conversations/:id/release", API_VOLUNTEER, 0, SQL_RELEASE, NULL, NULL},
    {"POST", "/api/conversations/:id/assign", API_LEAD, 0, SQL_ASSIGN, f_user, NULL},
    {"POST", "/api/conversations/:id/opt-out", API_VOLUNTEER, 0, SQL_OPT_OUT, NULL, NULL},
    {"POST", "/api/conversations/:id/keep", API_VOLUNTEER, 0, SQL_KEEP, NULL, NULL},
    {"POST", "/api/conversations/:id/notes", API_VOLUNTEER, 0, SQL_NOTE, f_body, NULL},
    {"POST", "/api/conversations/:id/tags", API_VOLUNTEER, 0, SQL_TAG_ADD, f_tag, NULL},
    {"DELETE", "/api/conversations/:id/tags/:id", API_VOLUNTEER, 0, SQL_TAG_REMOVE, NULL, NULL},

    /* the org's shared texts */
    {"GET", "/api/canned-responses", API_VOLUNTEER, 0, SQL_CANNED, NULL, NULL},
    {"POST", "/api/canned-responses", API_LEAD, 0, SQL_CANNED_ADD, f_canned, NULL},
    {"GET", "/api/tags", API_VOLUNTEER, 0, SQL_TAGS, NULL, NULL},
    {"POST", "/api/tags", API_LEAD, 0, SQL_TAG_CREATE, f_name, NULL},

    /* peer-to-peer outreach campaigns (api_outreach_routes.h) */
    API_OUTREACH_ROUTES,
    /* a campaign lead's: audiences, keywords, blasts, stats (api_leads.c, api_import.c) */
    {"GET", "/api/lists", API_LEAD, 0, SQL_LISTS, NULL, NULL},
    {"POST", "/api/lists/import", API_LEAD, 0, NULL, f_import, api_list_import},
    {"GET", "/api/lists/:id/export", API_LEAD, 0, NULL, NULL, api_list_export},
    {"GET", "/api/senders", API_LEAD, 0, SQL_SENDERS, NULL, NULL},
    {"GET", "/api/keywords", API_LEAD, 0, SQL_KEYWORDS, NULL, NULL},
    {"POST", "/api/keywords", API_ADMIN, 0, NULL, f_keyword, api_keyword_save},
    {"POST", "/api/keywords/:id", API_ADMIN, 0, NULL, f_keyword, api_keyword_save},
    {"GET", "/api/blasts", API_LEAD, 0, SQL_BLASTS, NULL, NULL},
    {"POST", "/api/blasts", API_LEAD, 0, SQL_BLAST_CREATE, f_blast, NULL},
    {"POST", "/api/blasts/preview", API_LEAD, 0, SQL_BLAST_PREVIEW, f_blast, NULL},
    {"GET", "/api/blasts/:id", API_LEAD, 0, SQL_BLAST, NULL, NULL},
    {"POST", "/api/blasts/:id/schedule", API_LEAD, 0, SQL_BLAST_SCHEDULE, f_at, NULL},
    {"POST", "/api/blasts/:id/pause", API_LEAD, 0, SQL_BLAST_PAUSE, NULL, NULL},
    {"POST", "/api/blasts/:id/resume", API_LEAD, 0, SQL_BLAST_RESUME, NULL, NULL},
    {"POST", "/api/blasts/:id/cancel", API_LEAD, 0, SQL_BLAST_CANCEL, NULL, NULL},
    {"GET", "/api/stats", API_LEAD, 0, NULL, NULL, api_stats},

    /* the org's opt-outs (api_opt_outs.c; the import is api_import.c's job).
     * Importing only ever stops texting, so a lead may; export and undo
     * are an admin's. */
    {"POST", "/api/opt-outs/preview", API_LEAD, 0, NULL, f_csv, api_opt_out_preview},
    {"POST", "/api/opt-outs/import", API_LEAD, 0, NULL, f_opt_import, api_opt_out_import},
    {"GET", "/api/opt-outs/export", API_ADMIN, 0, NULL, NULL, api_opt_out_export},
    {"POST", "/api/opt-outs/lookup", API_ADMIN, 0, NULL, f_phone, api_opt_out_lookup},
    {"POST", "/api/opt-outs/undo", API_ADMIN, 0, NULL, f_undo, api_opt_out_undo},

    /* live updates (events.c) */
    {"GET", "/api/events", API_VOLUNTEER, 0, NULL, NULL, api_events},
};

const size_t api_routes_count = ARRAY_SIZE(api_routes);
