/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_sso.c — an admin's single sign-on settings (GET and POST /api/sso):
 * the org's OpenID provider (issuer, client id, client secret) and
 * whether it is on. The secret is write-only: answers say only whether
 * one is set. Every change is audited (sso.configure) without the secret.
 * The sign-in itself is sso_flow.c's. */
#include <string.h>

#include "sso.h"

/* GET: $4 is the redirect URI the admin registers at the provider. */
void api_sso_show(struct api_call *call)
{
    char redirect[600];
    snprintf(redirect, sizeof redirect, "%s/sso/callback", call->dash->d->cfg.dashboard_url);
    api_add_param(call, redirect);
    api_run_sql(call,
                "SELECT 200, json_build_object("
                "  'enabled', coalesce(s.enabled, false), 'issuer', s.issuer,"
                "  'client_id', s.client_id, 'client_secret_set', s.client_secret IS NOT NULL,"
                "  'updated_at', s.updated_at, 'redirect_uri', $4::text,"
                "  'login_url', '/sso/start?org=' || o.slug)"
                "  FROM orgs o LEFT JOIN org_sso s ON s.org_id = o.id WHERE o.id = $1::bigint");
}

static int printable(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* POST: fields $4 enabled, $5 issuer, $6 client_id, $7 client_secret (absent
 * or empty: keep the one stored), $8 clear_secret ("true": remove it, a
 * public client with PKCE alone). */
void api_sso_save(struct api_call *call)
{
    const char *enabled = call->params[3], *issuer = call->params[4];
    const char *client_id = call->params[5], *secret = call->params[6];
    const char *clear = call->params[7];
    if (!enabled || (strcmp(enabled, "true") != 0 && strcmp(enabled, "false") != 0)) {
        tocsin_http_error(call->req, 400, "invalid", "enabled is true or false");
        return;
    }
    if (!issuer || !sso_url_allowed(call->dash, issuer) || strlen(issuer) > SSO_ISSUER_MAX ||
        strchr(issuer, '?')) {
        tocsin_http_error(call->req, 400, "invalid",
                          "the issuer is the provider's https:// URL, without a query (at most "
                          "%d characters)",
                          SSO_ISSUER_MAX);
        return;
    }
    if (!client_id || !printable(client_id, 255)) {
        tocsin_http_error(call->req, 400, "invalid",
                          "the client id is 1 to 255 printable characters");
        return;
    }
    if (secret && *secret && !printable(secret, 500)) {
        tocsin_http_error(call->req, 400, "invalid",
                          "the client secret is at most 500 printable characters");
        return;
    }
    if (secret && !*secret)
        call->params[6] = NULL;
    if (clear && strcmp(clear, "true") != 0 && strcmp(clear, "false") != 0) {
        tocsin_http_error(call->req, 400, "invalid", "clear_secret is true or false");
        return;
    }
    api_run_sql(
        call,
        "WITH before AS (SELECT client_secret IS NOT NULL AS had FROM org_sso"
        "                 WHERE org_id = $1::bigint),"
        " s AS (INSERT INTO org_sso (org_id, enabled, issuer, client_id, client_secret,"
        "                            updated_by)"
        "       VALUES ($1::bigint, $4::boolean, $5::text, $6::text,"
        "               CASE WHEN $8::boolean THEN NULL ELSE $7::text END, $2::bigint)"
        "       ON CONFLICT (org_id) DO UPDATE SET enabled = EXCLUDED.enabled,"
        "              issuer = EXCLUDED.issuer, client_id = EXCLUDED.client_id,"
        "              client_secret = CASE WHEN $8::boolean THEN NULL"
        "                                   ELSE coalesce($7::text, org_sso.client_secret) END,"
        "              updated_by = EXCLUDED.updated_by, updated_at = now()"
        "       RETURNING enabled, issuer, client_id, client_secret IS NOT NULL AS secret_set),"
        " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id,"
        "                                 details)"
        "       SELECT $1::bigint, $2::bigint, 'sso.configure', 'org', $1::bigint,"
        "              jsonb_build_object('enabled', enabled, 'issuer', issuer,"
        "                'client_id', client_id, 'secret', CASE"
        "                  WHEN $8::boolean THEN 'cleared' WHEN $7::text IS NOT NULL THEN 'set'"
        "                  WHEN coalesce((SELECT had FROM before), false) THEN 'kept'"
        "                  ELSE 'none' END) FROM s)"
        "SELECT 200, json_build_object('enabled', enabled, 'issuer', issuer,"
        "       'client_id', client_id, 'client_secret_set', secret_set) FROM s");
}
