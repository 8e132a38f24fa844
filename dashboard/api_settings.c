/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_settings.c — an org's settings (GET and POST /api/settings, admins):
 * the HELP replies are checked here for the CTIA parts by lib/compliance,
 * the very check a keyword's confirmation gets (api_leads.c), against the
 * name being saved, and the phone region against libphonenumber's
 * regions (lib/phone); everything else (bounds, the hours' order, the
 * audit of old and new values) is tocsin_org_settings_save, schema/025. */
#include <stdio.h>
#include <string.h>

#include "api_settings_sql.h"
#include "compliance.h"
#include "dashboard.h"
#include "phone.h"

#define SETTINGS_HELP_MAX 1600

static const char save_sql[] = "SELECT * FROM tocsin_org_settings_save($1::bigint, $2::bigint, "
                               "$4, $5, $6, $7, $8, $9, $10, $11)";

/* GET /api/settings: the org's, and the deployment's region it falls
 * back to (TOCSIN_DEFAULT_REGION), so the page can say which applies. */
void api_settings_get(struct api_call *call)
{
    if (api_add_param(call, api_default_region(call->dash)) != 0) {
        tocsin_http_error(call->req, 500, "internal", "too many parameters");
        return;
    }
    api_run_sql(call, SQL_SETTINGS);
}

/* Checks one HELP reply (NULL: not changed; "": back to the default).
 * Returns 0, or -1 after answering 400 with the field's name. */
static int help_ok(struct api_call *call, const char *field, const char *text, const char *org_name)
{
    char err[300];
    if (!text || !*text)
        return 0;
    size_t len = strlen(text);
    if (len > SETTINGS_HELP_MAX) {
        tocsin_http_error(call->req, 400, "invalid", "invalid %s: at most %d bytes", field,
                          SETTINGS_HELP_MAX);
        return -1;
    }
    if (tocsin_confirmation_check(text, len, org_name, err, sizeof err) == 0)
        return 0;
    /* The check words its reasons for a confirmation; the rule is the same. */
    const char *why = err;
    if (strncmp(why, "the confirmation ", 17) == 0)
        why += 17;
    tocsin_http_error(call->req, 400, "invalid", "invalid %s: the HELP reply %s", field, why);
    return -1;
}

static void settings_org_found(const struct tocsin_db_result *r, void *ctx)
{
    struct api_call *call = ctx;
    if (r->error) {
        api_db_error(call, "settings", r->error);
        return;
    }
    /* The route's fields follow $1..$3: name, help_text, help_text_es,
     * texting_hours_start, texting_hours_end, release_after_minutes,
     * volunteer_max_conversations, phone_region. */
    if (PQntuples(r->res) != 1) {
        tocsin_http_error(call->req, 404, "not_found", "no such org");
        return;
    }
    const char *name = call->params[3];
    const char *org_name = name && *name ? name : PQgetvalue(r->res, 0, 0);
    /* A new name must be in the HELP replies kept as well as new ones. */
    const char *help = call->params[4], *help_es = call->params[5];
    if (!help && !PQgetisnull(r->res, 0, 1))
        help = PQgetvalue(r->res, 0, 1);
    if (!help_es && !PQgetisnull(r->res, 0, 2))
        help_es = PQgetvalue(r->res, 0, 2);
    if (help_ok(call, "help_text", help, org_name) != 0 ||
        help_ok(call, "help_text_es", help_es, org_name) != 0)
        return;
    api_run_sql(call, save_sql);
}

/* POST /api/settings: the org's name and HELP replies first (a HELP reply
 * must name the org), then the checks, then one function that saves and
 * audits. */
void api_settings_save(struct api_call *call)
{
    /* NULL: unchanged; "default": back to TOCSIN_DEFAULT_REGION. */
    const char *region = call->params[10];
    char err[200];
    if (region && strcmp(region, "default") != 0 &&
        tocsin_phone_region_check("phone_region", region, err, sizeof err) != 0) {
        tocsin_http_error(call->req, 400, "invalid", "%s; or default for the deployment's", err);
        return;
    }
    const char *params[] = {call->org_id};
    if (tocsin_db_query(call->dash->d->db,
                        "SELECT name, help_text, help_text_es FROM orgs WHERE id = $1::bigint", 1,
                        params, settings_org_found, call) != 0)
        tocsin_http_error(call->req, 503, "unavailable", "the dashboard is shutting down");
}
