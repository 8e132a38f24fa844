/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_routes.c — every /api/ route in one table: method, path, the least
 * role allowed, and either the SQL that answers it or its handler. Each
 * statement scopes itself by the caller: $1 org id, $2 user id, $3 role
 * (volunteers see only conversations assigned to them — anything else is
 * "no row", hence 404). The integration tests read this table to try
 * every route as every role. */
#include "api_outreach_routes.h"
#include "api_leads_sql.h"
#include "api_settings_sql.h"
#include "api_sql.h"
#include "dashboard.h"

static const char *const f_count[] = {"count", NULL};
static const char *const f_body[] = {"body", NULL};
static const char *const f_user[] = {"user_id", NULL};
static const char *const f_tag[] = {"tag_id", NULL};
static const char *const f_canned[] = {"title", "body", "campaign_id", NULL};
static const char *const f_tag_save[] = {"name", "campaign_id", NULL};
static const char *const f_settings[] = {"name", "help_text", "help_text_es", "texting_hours_start", "texting_hours_end", "release_after_minutes", "volunteer_max_conversations", NULL};
static const char *const f_import[] = {"name", "filename", "csv", NULL};
static const char *const f_keyword[] = {"keyword", "pattern", "list_id", "reply", "sender_id", NULL};
static const char *const f_blast[] = {"sender_id", "list_id", "filter_field", "filter_equals", "body", NULL};
static const char *const f_at[] = {"at", NULL};

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

    /* the org's settings (api_settings.c, schema/025) */
    {"GET", "/api/settings", API_ADMIN, 0, SQL_SETTINGS, NULL, NULL},
    {"POST", "/api/settings", API_ADMIN, 0, NULL, f_settings, api_settings_save},

    /* the org's shared texts: volunteers use the live ones, leads manage (api_settings_sql.h) */
    {"GET", "/api/canned-responses", API_VOLUNTEER, 0, SQL_CANNED, NULL, NULL},
    {"GET", "/api/canned-responses/all", API_LEAD, 0, SQL_CANNED_ALL, NULL, NULL},
    {"POST", "/api/canned-responses", API_LEAD, 0, SQL_CANNED_ADD, f_canned, NULL},
    {"POST", "/api/canned-responses/:id", API_LEAD, 0, SQL_CANNED_EDIT, f_canned, NULL},
    {"POST", "/api/canned-responses/:id/retire", API_LEAD, 0, SQL_RETIRE("canned", "true"), NULL, NULL},
    {"POST", "/api/canned-responses/:id/restore", API_LEAD, 0, SQL_RETIRE("canned", "false"), NULL, NULL},
    {"GET", "/api/tags", API_VOLUNTEER, 0, SQL_TAGS, NULL, NULL},
    {"GET", "/api/tags/all", API_LEAD, 0, SQL_TAGS_ALL, NULL, NULL},
    {"POST", "/api/tags", API_LEAD, 0, SQL_TAG_CREATE, f_tag_save, NULL},
    {"POST", "/api/tags/:id", API_LEAD, 0, SQL_TAG_EDIT, f_tag_save, NULL},
    {"POST", "/api/tags/:id/retire", API_LEAD, 0, SQL_RETIRE("tag", "true"), NULL, NULL},
    {"POST", "/api/tags/:id/restore", API_LEAD, 0, SQL_RETIRE("tag", "false"), NULL, NULL},

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

    /* live updates (events.c) */
    {"GET", "/api/events", API_VOLUNTEER, 0, NULL, NULL, api_events},
};

const size_t api_routes_count = ARRAY_SIZE(api_routes);
