/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_routes.c — every /api/ route in one table: method, path, the least
 * role allowed, and either the SQL that answers it or its handler. Each
 * statement scopes itself by the caller: $1 org id, $2 user id, $3 role
 * (volunteers see only conversations assigned to them — anything else is
 * "no row", hence 404). `tocsin-dashboard --routes` prints the table, and
 * the integration tests try every route it lists as every role. */
#include <stdio.h>

#include "api_chapters_sql.h"
#include "api_leads_sql.h"
#include "api_settings_sql.h"
#include "api_outreach.h"
#include "api_outreach_sql.h"
#include "api_privacy_sql.h"
#include "api_people_sql.h"
#include "api_review_sql.h"
#include "api_audit_sql.h"
#include "api_sql.h"
#include "api_two_factor_sql.h"
#include "dashboard.h"
#include "sso.h"

/* A route answered by one SQL statement, or by a handler; the row keeps
 * the statement's or handler's name for --routes. */
#define ROUTE_SQL(method, path, role, flags, fields, sql)                                          \
    {                                                                                              \
        method, path, role, flags, sql, fields, NULL, #sql                                         \
    }
#define ROUTE_FN(method, path, role, flags, fields, fn)                                            \
    {                                                                                              \
        method, path, role, flags, NULL, fields, fn, #fn                                           \
    }

static const char *const f_count[] = {"count", NULL};
static const char *const f_body[] = {"body", NULL};
static const char *const f_user[] = {"user_id", NULL};
static const char *const f_tag[] = {"tag_id", NULL};
static const char *const f_canned[] = {"title", "body", "campaign_id", NULL};
static const char *const f_tag_save[] = {"name", "campaign_id", NULL};
static const char *const f_settings[] = {"name",
                                         "help_text",
                                         "help_text_es",
                                         "texting_hours_start",
                                         "texting_hours_end",
                                         "release_after_minutes",
                                         "volunteer_max_conversations",
                                         "phone_region",
                                         NULL};
static const char *const f_privacy[] = {"retain_outbound_days", "retain_inbound_days",
                                        "retain_session_days",  "retain_audit_days",
                                        "volunteer_fields",     NULL};
static const char *const f_forget[] = {"phone", "confirm", NULL};
static const char *const f_sso[] = {"enabled",       "issuer",       "client_id",
                                    "client_secret", "clear_secret", NULL};
static const char *const f_import[] = {"name", "filename", "csv", NULL};
static const char *const f_keyword[] = {"keyword", "pattern",   "list_id",
                                        "reply",   "sender_id", NULL};
static const char *const f_blast[] = {"sender_id",     "list_id", "filter_field",
                                      "filter_equals", "body",    NULL};
static const char *const f_at[] = {"at", NULL};
static const char *const f_csv[] = {"csv", NULL};
static const char *const f_opt_import[] = {"column", "filename", "csv", NULL};
static const char *const f_phone[] = {"phone", NULL};
static const char *const f_import_preview[] = {"csv", "preset", "mapping", NULL};
static const char *const f_import_start[] = {"filename", "size", "preset", "mapping", "list", NULL};
static const char *const f_import_chunk[] = {"offset", "data", NULL};
static const char *const f_undo[] = {"phone", "reason", NULL};
static const char *const f_role[] = {"role", NULL};
static const char *const f_required[] = {"required", NULL};
static const char *const f_outreach_create[] = {"name",        "sender_id", "script", "batch_size",
                                                "hours_start", "hours_end", NULL};
static const char *const f_outreach_update[] = {"name",      "script", "batch_size", "hours_start",
                                                "hours_end", "state",  NULL};
static const char *const f_outreach_send[] = {"contact_id", "body", NULL};
static const char *const f_outreach_contact[] = {"contact_id", NULL};
static const char *const f_outreach_user[] = {"user_id", NULL};
static const char *const f_outreach_step[] = {"question", NULL};
static const char *const f_outreach_choice[] = {"choice_id", NULL};
static const char *const f_review_answer[] = {"step_id", "choice_id", NULL};
static const char *const f_protection[] = {"alert_export_over", "alert_claims_per_hour",
                                           "blast_approval_over", NULL};
static const char *const f_chapter_create[] = {"name", "slug", "phone_region", NULL};
static const char *const f_chapter_enter[] = {"reason", "minutes", NULL};

/* An upload's state and progress: the uploader's own only. */
#define SQL_IMPORT_UPLOAD_SHOW                                                                     \
    "SELECT status, body FROM tocsin_import_upload_show($1::bigint, $2::bigint, $4::bigint)"

const struct api_route api_routes[] = {
    /* accounts (api_auth.c) */
    ROUTE_FN("POST", "/api/login", API_VOLUNTEER, API_PUBLIC, NULL, api_login),
    ROUTE_FN("POST", "/api/logout", API_VOLUNTEER, API_HALF, NULL, api_logout),
    ROUTE_FN("GET", "/api/me", API_VOLUNTEER, API_HALF, NULL, api_me),
    /* the second factor (api_two_factor.c, api_two_factor_sql.h): the
     * login's second step and enrolment are open to a half-logged-in
     * session, and only they are. It is the session's own account's: read
     * as hers even while she acts in a chapter (API_OWN), changed only
     * when she does not (API_NOT_ACTING). */
    ROUTE_FN("POST", "/api/login/code", API_VOLUNTEER, API_HALF | API_NOT_ACTING, NULL,
             api_login_code),
    ROUTE_SQL("GET", "/api/two-factor", API_VOLUNTEER, API_OWN, NULL, SQL_TF_STATUS),
    ROUTE_FN("POST", "/api/two-factor/enrol", API_VOLUNTEER, API_HALF | API_NOT_ACTING, NULL,
             api_two_factor_enrol),
    ROUTE_FN("POST", "/api/two-factor/enrol/confirm", API_VOLUNTEER, API_HALF | API_NOT_ACTING,
             NULL, api_two_factor_confirm),
    ROUTE_FN("POST", "/api/two-factor/disable", API_VOLUNTEER, API_NOT_ACTING, NULL,
             api_two_factor_disable),
    ROUTE_FN("POST", "/api/two-factor/recovery-codes", API_VOLUNTEER, API_NOT_ACTING, NULL,
             api_two_factor_renew),
    /* a person's own sessions (api_sessions.c): her own account's even
     * while she acts in a chapter (API_OWN) */
    ROUTE_FN("GET", "/api/sessions", API_VOLUNTEER, API_OWN, NULL, api_sessions_list),
    ROUTE_FN("POST", "/api/sessions/:id/end", API_VOLUNTEER, API_OWN, NULL, api_session_end),
    ROUTE_FN("POST", "/api/invites", API_ADMIN, 0, NULL, api_invite_create),
    /* The invite's token is in the body: a path would put it in access logs. */
    ROUTE_FN("POST", "/api/invite/show", API_VOLUNTEER, API_PUBLIC, NULL, api_invite_show),
    ROUTE_FN("POST", "/api/invite/accept", API_VOLUNTEER, API_PUBLIC, NULL, api_invite_accept),
    ROUTE_FN("POST", "/api/logout-everywhere", API_VOLUNTEER, API_OWN, NULL, api_logout_everywhere),
    ROUTE_SQL("GET", "/api/users", API_LEAD, 0, NULL, SQL_USERS),
    ROUTE_SQL("POST", "/api/users/:id/disable", API_ADMIN, 0, NULL, SQL_USER_DISABLE),
    ROUTE_SQL("POST", "/api/users/:id/enable", API_ADMIN, 0, NULL, SQL_USER_ENABLE),
    ROUTE_SQL("POST", "/api/users/:id/revoke-sessions", API_ADMIN, 0, NULL, SQL_USER_REVOKE),
    ROUTE_SQL("POST", "/api/users/:id/reset-two-factor", API_ADMIN, 0, NULL, SQL_TF_RESET),
    /* the People screen (api_people_sql.h, api_people.c) */
    ROUTE_SQL("GET", "/api/people", API_ADMIN, 0, NULL, SQL_PEOPLE),
    ROUTE_SQL("POST", "/api/users/:id/role", API_ADMIN, 0, f_role, SQL_USER_ROLE),
    ROUTE_FN("POST", "/api/users/:id/reset-password", API_ADMIN, 0, NULL, api_user_reset_password),
    ROUTE_SQL("POST", "/api/invites/:id/revoke", API_ADMIN, 0, NULL, SQL_INVITE_REVOKE),

    /* the inbox (api_sql.h holds the SQL, api_messages.c the reply) */
    ROUTE_SQL("GET", "/api/conversations", API_VOLUNTEER, 0, NULL, SQL_INBOX),
    ROUTE_SQL("GET", "/api/conversations/waiting", API_VOLUNTEER, 0, NULL, SQL_WAITING),
    ROUTE_SQL("GET", "/api/conversations/pool", API_LEAD, 0, NULL, SQL_POOL),
    ROUTE_SQL("GET", "/api/conversations/all", API_LEAD, 0, NULL, SQL_ALL_OPEN),
    ROUTE_SQL("POST", "/api/conversations/claim", API_VOLUNTEER, 0, f_count, SQL_CLAIM),
    ROUTE_SQL("GET", "/api/conversations/:id", API_VOLUNTEER, 0, NULL, SQL_CONVERSATION),
    ROUTE_SQL("GET", "/api/conversations/:id/handoff", API_VOLUNTEER, 0, NULL, SQL_HANDOFF),
    ROUTE_FN("POST", "/api/conversations/:id/reply", API_VOLUNTEER, 0, f_body, api_reply),
    ROUTE_SQL("POST", "/api/conversations/:id/read", API_VOLUNTEER, 0, NULL, SQL_READ),
    ROUTE_SQL("POST", "/api/conversations/:id/close", API_VOLUNTEER, 0, NULL, SQL_CLOSE),
    ROUTE_SQL("POST", "/api/conversations/:id/release", API_VOLUNTEER, 0, NULL, SQL_RELEASE),
    ROUTE_SQL("POST", "/api/conversations/:id/assign", API_LEAD, 0, f_user, SQL_ASSIGN),
    ROUTE_SQL("POST", "/api/conversations/:id/opt-out", API_VOLUNTEER, 0, NULL, SQL_OPT_OUT),
    ROUTE_SQL("POST", "/api/conversations/:id/keep", API_VOLUNTEER, 0, NULL, SQL_KEEP),
    ROUTE_SQL("POST", "/api/conversations/:id/notes", API_VOLUNTEER, 0, f_body, SQL_NOTE),
    ROUTE_SQL("POST", "/api/conversations/:id/tags", API_VOLUNTEER, 0, f_tag, SQL_TAG_ADD),
    ROUTE_SQL("DELETE", "/api/conversations/:id/tags/:id", API_VOLUNTEER, 0, NULL, SQL_TAG_REMOVE),

    /* the org's settings (api_settings.c, schema/025) */
    ROUTE_FN("GET", "/api/settings", API_ADMIN, 0, NULL, api_settings_get),
    ROUTE_FN("POST", "/api/settings", API_ADMIN, 0, f_settings, api_settings_save),
    /* keeping less: retention, what volunteers see, forgetting a member
     * (api_privacy.c, schema/functions/retention.sql and forget.sql) */
    ROUTE_SQL("GET", "/api/settings/privacy", API_ADMIN, 0, NULL, SQL_PRIVACY),
    ROUTE_SQL("POST", "/api/settings/privacy", API_ADMIN, 0, f_privacy, SQL_PRIVACY_SAVE),
    ROUTE_FN("POST", "/api/contacts/forget/preview", API_ADMIN, 0, f_phone,
             api_contact_forget_preview),
    ROUTE_FN("POST", "/api/contacts/forget", API_ADMIN, 0, f_forget, api_contact_forget),
    ROUTE_SQL("GET", "/api/settings/two-factor", API_ADMIN, 0, NULL, SQL_TF_ORG_SETTING),
    ROUTE_SQL("POST", "/api/settings/two-factor", API_ADMIN, 0, f_required,
              SQL_TF_ORG_SETTING_SAVE),
    /* single sign-on's provider (api_sso.c; the sign-in is sso_flow.c, outside /api/) */
    ROUTE_FN("GET", "/api/sso", API_ADMIN, 0, NULL, api_sso_show),
    ROUTE_FN("POST", "/api/sso", API_ADMIN, 0, f_sso, api_sso_save),

    /* the org's senders and carrier credentials (api_senders.c); the
     * secret goes in and is never read back */
    ROUTE_FN("GET", "/api/senders/manage", API_ADMIN, 0, NULL, api_senders_list),
    ROUTE_FN("POST", "/api/senders", API_ADMIN, 0, NULL, api_sender_add),
    ROUTE_FN("POST", "/api/senders/:id", API_ADMIN, 0, NULL, api_sender_update),
    ROUTE_FN("POST", "/api/senders/:id/credentials", API_ADMIN, 0, NULL, api_sender_credentials),
    ROUTE_SQL("POST", "/api/senders/:id/disable", API_ADMIN, 0, NULL, SQL_SENDER_DISABLE),
    ROUTE_SQL("POST", "/api/senders/:id/enable", API_ADMIN, 0, NULL, SQL_SENDER_ENABLE),
    ROUTE_FN("POST", "/api/senders/:id/test", API_ADMIN, 0, NULL, api_sender_test),
    ROUTE_SQL("GET", "/api/senders/:id/tests/:id", API_ADMIN, 0, NULL, SQL_SENDER_TEST_STATE),

    /* the org's shared texts: volunteers use the live ones, leads manage (api_settings_sql.h) */
    ROUTE_SQL("GET", "/api/canned-responses", API_VOLUNTEER, 0, NULL, SQL_CANNED),
    ROUTE_SQL("GET", "/api/canned-responses/all", API_LEAD, 0, NULL, SQL_CANNED_ALL),
    ROUTE_SQL("POST", "/api/canned-responses", API_LEAD, 0, f_canned, SQL_CANNED_ADD),
    ROUTE_SQL("POST", "/api/canned-responses/:id", API_LEAD, 0, f_canned, SQL_CANNED_EDIT),
    ROUTE_SQL("POST", "/api/canned-responses/:id/retire", API_LEAD, 0, NULL, SQL_CANNED_RETIRE),
    ROUTE_SQL("POST", "/api/canned-responses/:id/restore", API_LEAD, 0, NULL, SQL_CANNED_RESTORE),
    ROUTE_SQL("GET", "/api/tags", API_VOLUNTEER, 0, NULL, SQL_TAGS),
    ROUTE_SQL("GET", "/api/tags/all", API_LEAD, 0, NULL, SQL_TAGS_ALL),
    ROUTE_SQL("POST", "/api/tags", API_LEAD, 0, f_tag_save, SQL_TAG_CREATE),
    ROUTE_SQL("POST", "/api/tags/:id", API_LEAD, 0, f_tag_save, SQL_TAG_EDIT),
    ROUTE_SQL("POST", "/api/tags/:id/retire", API_LEAD, 0, NULL, SQL_TAG_RETIRE),
    ROUTE_SQL("POST", "/api/tags/:id/restore", API_LEAD, 0, NULL, SQL_TAG_RESTORE),

    /* peer-to-peer outreach campaigns (api_outreach*.c, api_outreach_sql.h) */
    ROUTE_SQL("GET", "/api/outreach/campaigns", API_VOLUNTEER, 0, NULL, SQL_OUTREACH_LIST),
    ROUTE_SQL("POST", "/api/outreach/campaigns", API_LEAD, 0, f_outreach_create,
              SQL_OUTREACH_CREATE),
    ROUTE_SQL("GET", "/api/outreach/senders", API_LEAD, 0, NULL, SQL_OUTREACH_SENDERS),
    ROUTE_SQL("GET", "/api/outreach/campaigns/:id", API_LEAD, 0, NULL, SQL_OUTREACH_SHOW),
    ROUTE_SQL("POST", "/api/outreach/campaigns/:id", API_LEAD, 0, f_outreach_update,
              SQL_OUTREACH_UPDATE),
    ROUTE_FN("POST", "/api/outreach/campaigns/:id/steps", API_LEAD, 0, f_outreach_step,
             api_outreach_step_add),
    ROUTE_FN("POST", "/api/outreach/campaigns/:id/audience", API_LEAD, 0, NULL,
             api_outreach_upload),
    ROUTE_SQL("POST", "/api/outreach/campaigns/:id/release", API_LEAD, 0, f_outreach_user,
              SQL_OUTREACH_RELEASE),
    ROUTE_FN("GET", "/api/outreach/campaigns/:id/answers.csv", API_LEAD, 0, NULL,
             api_outreach_export_answers),
    ROUTE_FN("GET", "/api/outreach/campaigns/:id/opt-outs.csv", API_LEAD, 0, NULL,
             api_outreach_export_opt_outs),
    ROUTE_SQL("POST", "/api/outreach/campaigns/:id/claim", API_VOLUNTEER, 0, NULL,
              SQL_OUTREACH_CLAIM),
    ROUTE_SQL("GET", "/api/outreach/campaigns/:id/next", API_VOLUNTEER, 0, NULL, SQL_OUTREACH_NEXT),
    ROUTE_FN("POST", "/api/outreach/campaigns/:id/send", API_VOLUNTEER, 0, f_outreach_send,
             api_outreach_send),
    ROUTE_SQL("POST", "/api/outreach/campaigns/:id/skip", API_VOLUNTEER, 0, f_outreach_contact,
              SQL_OUTREACH_SKIP),
    ROUTE_SQL("GET", "/api/conversations/:id/outreach", API_VOLUNTEER, 0, NULL,
              SQL_OUTREACH_OF_CONVERSATION),
    ROUTE_SQL("POST", "/api/conversations/:id/outreach-answer", API_VOLUNTEER, 0, f_outreach_choice,
              SQL_OUTREACH_ANSWER),
    /* a campaign lead's: audiences, keywords, blasts, stats (api_leads.c, api_import.c) */
    ROUTE_SQL("GET", "/api/lists", API_LEAD, 0, NULL, SQL_LISTS),
    ROUTE_FN("POST", "/api/lists/import", API_LEAD, 0, f_import, api_list_import),
    ROUTE_FN("GET", "/api/lists/:id/export", API_LEAD, 0, NULL, api_list_export),
    ROUTE_SQL("GET", "/api/senders", API_LEAD, 0, NULL, SQL_SENDERS),
    ROUTE_SQL("GET", "/api/keywords", API_LEAD, 0, NULL, SQL_KEYWORDS),
    ROUTE_FN("POST", "/api/keywords", API_ADMIN, 0, f_keyword, api_keyword_save),
    ROUTE_FN("POST", "/api/keywords/:id", API_ADMIN, 0, f_keyword, api_keyword_save),
    ROUTE_SQL("GET", "/api/blasts", API_LEAD, 0, NULL, SQL_BLASTS),
    ROUTE_SQL("POST", "/api/blasts", API_LEAD, 0, f_blast, SQL_BLAST_CREATE),
    ROUTE_SQL("POST", "/api/blasts/preview", API_LEAD, 0, f_blast, SQL_BLAST_PREVIEW),
    ROUTE_SQL("GET", "/api/blasts/:id", API_LEAD, 0, NULL, SQL_BLAST),
    ROUTE_SQL("POST", "/api/blasts/:id/schedule", API_LEAD, 0, f_at, SQL_BLAST_SCHEDULE),
    ROUTE_SQL("POST", "/api/blasts/:id/pause", API_LEAD, 0, NULL, SQL_BLAST_PAUSE),
    ROUTE_SQL("POST", "/api/blasts/:id/resume", API_LEAD, 0, NULL, SQL_BLAST_RESUME),
    ROUTE_SQL("POST", "/api/blasts/:id/cancel", API_LEAD, 0, NULL, SQL_BLAST_CANCEL),
    /* the two-person rule (schema/functions/blast_approval.sql): a second
     * lead or an admin, never the blast's creator, approves the count seen */
    ROUTE_SQL("POST", "/api/blasts/:id/approve", API_LEAD, 0, f_count, SQL_BLAST_APPROVE),
    ROUTE_FN("GET", "/api/stats", API_LEAD, 0, NULL, api_stats),

    /* the org's opt-outs (api_opt_outs.c; the import is api_import.c's job).
     * Importing only ever stops texting, so a lead may; export and undo
     * are an admin's. */
    ROUTE_FN("POST", "/api/opt-outs/preview", API_LEAD, 0, f_csv, api_opt_out_preview),
    ROUTE_FN("POST", "/api/opt-outs/import", API_LEAD, 0, f_opt_import, api_opt_out_import),
    ROUTE_FN("GET", "/api/opt-outs/export", API_ADMIN, 0, NULL, api_opt_out_export),
    ROUTE_FN("POST", "/api/opt-outs/lookup", API_ADMIN, 0, f_phone, api_opt_out_lookup),
    ROUTE_FN("POST", "/api/opt-outs/undo", API_ADMIN, 0, f_undo, api_opt_out_undo),

    /* moving in: presets, a preview mapped, a large file in chunks, its
     * import (api_import_upload.c, schema/functions/import_uploads.sql) */
    ROUTE_FN("GET", "/api/imports/presets", API_LEAD, 0, NULL, api_import_presets),
    ROUTE_FN("POST", "/api/imports/preview", API_LEAD, 0, f_import_preview, api_import_preview),
    ROUTE_FN("POST", "/api/imports", API_LEAD, 0, f_import_start, api_import_upload_start),
    ROUTE_SQL("GET", "/api/imports/:id", API_LEAD, 0, NULL, SQL_IMPORT_UPLOAD_SHOW),
    ROUTE_FN("POST", "/api/imports/:id/chunk", API_LEAD, 0, f_import_chunk,
             api_import_upload_chunk),
    ROUTE_FN("POST", "/api/imports/:id/commit", API_LEAD, 0, NULL, api_import_upload_commit),

    /* a lead's Message review: every conversation of the org, filtered and
     * paged; bulk reassign and close; an outreach answer corrected
     * (api_review.c, api_review_sql.h, schema/functions/review.sql) */
    ROUTE_FN("GET", "/api/review/conversations", API_LEAD, 0, NULL, api_review_list),
    ROUTE_FN("POST", "/api/review/reassign", API_LEAD, 0, f_user, api_review_reassign),
    ROUTE_FN("POST", "/api/review/close", API_LEAD, 0, NULL, api_review_close),
    ROUTE_SQL("POST", "/api/review/conversations/:id/answer", API_LEAD, 0, f_review_answer,
              SQL_REVIEW_ANSWER),

    /* what happened to member data: the audit screen, its export, alerts
     * and their thresholds (api_audit.c, schema/functions/audit.sql) */
    ROUTE_FN("GET", "/api/audit", API_ADMIN, 0, NULL, api_audit_list),
    ROUTE_FN("GET", "/api/audit.csv", API_ADMIN, 0, NULL, api_audit_export),
    ROUTE_SQL("GET", "/api/alerts", API_ADMIN, 0, NULL, SQL_ALERTS),
    ROUTE_SQL("POST", "/api/alerts/:id/acknowledge", API_ADMIN, 0, NULL, SQL_ALERT_ACK),
    ROUTE_SQL("GET", "/api/settings/protection", API_ADMIN, 0, NULL, SQL_PROTECTION),
    ROUTE_SQL("POST", "/api/settings/protection", API_ADMIN, 0, f_protection, SQL_PROTECTION_SAVE),
    /* a national admin's chapters (api_chapters.c, schema/functions/chapters.sql):
     * another org's ids are 404 unless the caller is the national admin of
     * that chapter, and then only to create, invite, or enter it (audited) */
    ROUTE_FN("GET", "/api/chapters", API_ADMIN, 0, NULL, api_chapters_list),
    ROUTE_FN("POST", "/api/chapters", API_ADMIN, 0, f_chapter_create, api_chapter_create),
    ROUTE_FN("POST", "/api/chapters/:id/invites", API_ADMIN, 0, NULL, api_chapter_invite),
    ROUTE_FN("POST", "/api/chapters/:id/enter", API_ADMIN, 0, f_chapter_enter, api_chapter_enter),
    /* Leaving is the session's own: whatever role the acting account has. */
    ROUTE_FN("POST", "/api/chapters/leave", API_VOLUNTEER, 0, NULL, api_chapter_leave),

    /* live updates (events.c) */
    ROUTE_FN("GET", "/api/events", API_VOLUNTEER, 0, NULL, api_events),
};

const size_t api_routes_count = ARRAY_SIZE(api_routes);

static const char *const role_names[] = {"volunteer", "lead", "admin"};

void api_routes_print(FILE *out)
{
    for (size_t i = 0; i < api_routes_count; i++) {
        const struct api_route *r = &api_routes[i];
        fprintf(out, "%s %s %s %s %s\n", r->method, r->pattern, role_names[r->min_role],
                r->flags & API_PUBLIC ? "public" : "session", r->name);
    }
}
