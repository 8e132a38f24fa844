/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_auth.c — logging in and out, who am I, and invite links. Passwords
 * are argon2id, checked and hashed off the loop; a session is a random
 * token whose SHA-256 alone is stored, sent as an HttpOnly SameSite=Strict
 * cookie (Secure and __Host- prefixed behind https), with its own CSRF
 * token, and lives at most TOCSIN_SESSION_MAX_AGE_S whatever its use. Login
 * attempts are counted per account and per client address before any
 * argon2id runs (lib/ratelimit), and password work waits in a bounded
 * queue (password_work.c). Invite tokens travel only in request bodies,
 * never in a path the access log records. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "dashboard.h"
#include "client_addr.h"
#include "log.h"
#include "ratelimit.h"

#define USER_JSON                                                                                  \
    "json_build_object('id', u.id, 'email', u.email, 'display_name', u.display_name,"              \
    " 'role', u.role, 'org', json_build_object('slug', o.slug, 'name', o.name))"

#define PASSWORD_MIN 10
#define PASSWORD_MAX 1024

struct login {
    struct api_call *call;
    char *password;
    char account_key[300], ip_key[TOCSIN_ADDR_KEY_LEN + 2];
    char token[64], csrf[64];
};

static uint64_t now_ms(struct api_call *call)
{
    return uv_now(call->dash->d->loop);
}

const char *api_session_cookie_name(const struct dashboard *dash)
{
    return dash->secure_cookies ? API_SESSION_COOKIE_HOST : API_SESSION_COOKIE;
}

static void set_cookie(struct api_call *call, const char *token, int clear)
{
    char v[256];
    snprintf(v, sizeof v, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s",
             api_session_cookie_name(call->dash), token, clear ? "; Max-Age=0" : "",
             call->dash->secure_cookies ? "; Secure" : "");
    tocsin_http_add_header(call->req, "Set-Cookie", v);
}

/* The attempt login_begin counted did not reach a password check (or its
 * password was right): it does not count against the account or address. */
static void give_back(struct login *l)
{
    struct dashboard *dash = l->call->dash;
    tocsin_ratelimit_refund(dash->throttle, l->account_key, now_ms(l->call));
    tocsin_ratelimit_refund(dash->throttle_ip, l->ip_key, now_ms(l->call));
}

void api_password_busy(struct api_call *call)
{
    tocsin_http_add_header(call->req, "Retry-After", "2");
    tocsin_http_error(call->req, 503, "busy",
                      "too many password checks in progress; retry shortly");
}

static void too_many(struct api_call *call, unsigned wait_s)
{
    char v[16];
    snprintf(v, sizeof v, "%u", wait_s);
    tocsin_http_add_header(call->req, "Retry-After", v);
    tocsin_http_error(call->req, 429, "too_many_attempts",
                      "too many login attempts; try again in %u seconds", wait_s);
}

/* The User-Agent a session shows its owner (sessions.user_agent): its
 * printable ASCII, at most 256 bytes, into the request's arena; NULL when
 * absent. Password and single sign-on logins both record it. */
const char *dash_user_agent(struct tocsin_http_req *req)
{
    tocsin_str ua = tocsin_http_header(req, "User-Agent");
    char *out = ua.base ? tocsin_arena_alloc(tocsin_http_arena(req), 257) : NULL;
    size_t n = 0;
    for (size_t i = 0; out && i < ua.len && n < 256; i++)
        if (ua.base[i] >= 0x20 && ua.base[i] < 0x7f)
            out[n++] = ua.base[i];
    if (out)
        out[n] = '\0';
    return out;
}

/* The password was right. The session starts at the stage the user owes
 * (schema 030): 'code' when she has an authenticator, 'enrol' when her
 * org requires one for her role and she has none, else 'full'. A
 * half-logged-in session lives API_HALF_LOGIN_S and opens only the
 * second step's routes; the answer is then 202 with the stage. */
static void session_created(struct login *l)
{
    struct api_call *call = l->call;
    char hex[67], ttl[16], half[16];
    api_token_hash_hex(l->token, strlen(l->token), hex);
    const struct tocsin_config *cfg = &call->dash->d->cfg;
    /* The first expiry is the sliding one, unless the absolute end is nearer. */
    snprintf(ttl, sizeof ttl, "%u",
             cfg->session_ttl_s < cfg->session_max_age_s ? cfg->session_ttl_s
                                                         : cfg->session_max_age_s);
    snprintf(half, sizeof half, "%d", API_HALF_LOGIN_S);
    call->nparams = 3; /* $1 org, $2 user (from the users row) */
    api_add_param(call, hex);
    api_add_param(call, l->csrf);
    api_add_param(call, ttl);
    api_add_param(call, tocsin_http_remote_addr(call->req));
    api_add_param(call, dash_user_agent(call->req));
    api_add_param(call, half);
    set_cookie(call, l->token, 0);
    api_run_sql(
        call,
        "WITH st AS (SELECT CASE WHEN EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = u.id"
        "                                        AND t.confirmed_at IS NOT NULL) THEN 'code'"
        "                        WHEN o.require_two_factor AND u.role IN ('admin', 'lead')"
        "                        THEN 'enrol' ELSE 'full' END AS stage"
        "              FROM users u JOIN orgs o ON o.id = u.org_id"
        "             WHERE u.id = $2::bigint AND u.org_id = $1::bigint),"
        " s AS (INSERT INTO sessions (org_id, user_id, token_hash, csrf_token, expires_at,"
        "                             remote_addr, user_agent, stage)"
        "       SELECT $1::bigint, $2::bigint, $4::bytea, $5::text,"
        "              now() + make_interval(secs => CASE st.stage WHEN 'full' THEN $6::int"
        "                                                 ELSE least($6::int, $9::int) END),"
        "              $7::text, $8::text, st.stage FROM st"
        "       RETURNING org_id, user_id, csrf_token, stage),"
        " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id,"
        "                                 details)"
        "       SELECT org_id, user_id,"
        "              CASE stage WHEN 'full' THEN 'session.login' ELSE 'session.password_ok' END,"
        "              'user', user_id, jsonb_build_object('stage', stage) FROM s)"
        "SELECT CASE s.stage WHEN 'full' THEN 200 ELSE 202 END,"
        "       json_build_object('user', " USER_JSON ", 'csrf_token', s.csrf_token,"
        "                         'stage', s.stage)"
        "  FROM s JOIN users u ON u.id = s.user_id JOIN orgs o ON o.id = u.org_id");
}

static void refused(const struct tocsin_db_result *r, void *ctx)
{
    struct api_call *call = ctx;
    if (r->error)
        log_warn("login_failed_audit", "reason=audit row not written");
    tocsin_http_error(call->req, 401, "invalid_login", "wrong email or password");
}

/* A wrong password for an account that exists is written to its org's
 * audit (the account as subject, no actor, the address it came from);
 * an unknown email has no org and is only logged. The answer is the
 * same either way. */
static void login_failed_audit(struct api_call *call)
{
    const char *params[] = {call->org_id, call->user_id, tocsin_http_remote_addr(call->req)};
    if (strcmp(call->user_id, "0") == 0 || /* no such account */
        tocsin_db_query(call->dash->d->db,
                        "SELECT tocsin_audit($1::bigint, NULL, 'session.login_failed', 'user',"
                        " $2::bigint, jsonb_build_object('address', $3::text))",
                        3, params, refused, call) != 0)
        tocsin_http_error(call->req, 401, "invalid_login", "wrong email or password");
}

static void verified(int ok, void *arg)
{
    struct login *l = arg;
    struct api_call *call = l->call;
    if (!ok) { /* the attempt stays counted */
        log_info("login_failed", "addr=%s", tocsin_http_remote_addr(call->req));
        login_failed_audit(call);
        return;
    }
    tocsin_ratelimit_clear(call->dash->throttle, l->account_key);
    tocsin_ratelimit_refund(call->dash->throttle_ip, l->ip_key, now_ms(call));
    if (tocsin_random_token(32, l->token, sizeof l->token) != 0 ||
        tocsin_random_token(32, l->csrf, sizeof l->csrf) != 0) {
        tocsin_http_error(call->req, 500, "internal", "could not make a session token");
        return;
    }
    session_created(l);
}

static void user_found(const struct tocsin_db_result *r, void *ctx)
{
    struct login *l = ctx;
    struct api_call *call = l->call;
    if (r->error) {
        give_back(l);
        api_db_error(call, "login", r->error);
        return;
    }
    static const char *const names[] = {"org_id", "id", "role", "password_hash"};
    enum { I_ORG, I_ID, I_ROLE, I_HASH };
    int col[ARRAY_SIZE(names)];
    const char *hash = NULL;
    if (dash_columns(r->res, names, ARRAY_SIZE(names), col)) {
        give_back(l);
        tocsin_http_error(call->req, 500, "internal", "the request failed");
        return;
    }
    if (PQntuples(r->res) == 1) {
        snprintf(call->org_id, sizeof call->org_id, "%s", PQgetvalue(r->res, 0, col[I_ORG]));
        snprintf(call->user_id, sizeof call->user_id, "%s", PQgetvalue(r->res, 0, col[I_ID]));
        snprintf(call->role, sizeof call->role, "%s", PQgetvalue(r->res, 0, col[I_ROLE]));
        hash = PQgetvalue(r->res, 0, col[I_HASH]);
    }
    int rc = dash_password_verify(hash, l->password, verified, l);
    if (rc != 0)
        give_back(l);
    if (rc == DASH_PASSWORD_BUSY)
        api_password_busy(call);
    else if (rc != 0)
        tocsin_http_error(call->req, 500, "internal", "out of memory");
}

void api_login(struct api_call *call)
{
    struct login *l = tocsin_arena_alloc(tocsin_http_arena(call->req), sizeof *l);
    const char *email = api_body_text(call, "email");
    const char *password = api_body_text(call, "password");
    if (!l || !email || !password || !*email || !*password || strlen(email) > 254 ||
        strlen(password) > PASSWORD_MAX) {
        tocsin_http_error(call->req, 400, "invalid", "give an email and a password");
        return;
    }
    memset(l, 0, sizeof *l);
    l->call = call;
    l->password = (char *)password; /* in the request's arena */
    int n = snprintf(l->account_key, sizeof l->account_key, "a:%s", email);
    for (int i = 2; i < n && l->account_key[i]; i++)
        l->account_key[i] = (char)tolower((unsigned char)l->account_key[i]);
    char addr_key[TOCSIN_ADDR_KEY_LEN];
    tocsin_client_addr_key(tocsin_http_remote_addr(call->req), addr_key);
    snprintf(l->ip_key, sizeof l->ip_key, "i:%s", addr_key);
    /* Counted now, before the database and argon2id: parallel guesses all
     * see each other. An attempt one key refuses is not held against the
     * other. */
    uint64_t wait = tocsin_ratelimit_wait(call->dash->throttle_ip, l->ip_key, now_ms(call));
    if (!wait) {
        wait = tocsin_ratelimit_wait(call->dash->throttle, l->account_key, now_ms(call));
        if (wait)
            tocsin_ratelimit_refund(call->dash->throttle_ip, l->ip_key, now_ms(call));
    }
    if (wait) {
        log_warn("login_throttled", "addr=%s", tocsin_http_remote_addr(call->req));
        too_many(call, (unsigned)((wait + 999) / 1000));
        return;
    }
    const char *params[] = {email};
    if (tocsin_db_query(call->dash->d->db,
                        "SELECT org_id, id, role, password_hash FROM users"
                        " WHERE lower(email) = lower($1) AND disabled_at IS NULL"
                        "   AND password_hash IS NOT NULL",
                        1, params, user_found, l) != 0) {
        give_back(l);
        tocsin_http_error(call->req, 503, "unavailable", "the dashboard is shutting down");
    }
}

/* The session is the one its cookie found: while its user acts in a
 * chapter, $1 and $2 are the chapter's, not the session's own. */
void api_logout(struct api_call *call)
{
    set_cookie(call, "", 1);
    dash_events_end_session(call->dash->events, call->session_id);
    api_add_param(call, call->session_id);
    api_run_sql(call, "WITH d AS (DELETE FROM sessions WHERE id = $4::bigint RETURNING id)"
                      "SELECT 200, json_build_object('logged_out', true) FROM d");
}

/* "Log out everywhere": every session of the caller ends, this one too,
 * or with {"keep_this": true} every other one ("everywhere else").
 * Deleting them notifies tocsin_sessions, which closes their streams in
 * every dashboard process. The caller is the session's own user (API_OWN:
 * not her acting account while she acts in a chapter), audited in her own
 * org. */
void api_logout_everywhere(struct api_call *call)
{
    const char *keep = api_body_text(call, "keep_this");
    int keep_this = keep && strcmp(keep, "true") == 0;
    if (!keep_this)
        set_cookie(call, "", 1);
    api_add_param(call, call->session_id);
    api_add_param(call, keep_this ? "true" : "false");
    api_run_sql(
        call, "WITH me AS (SELECT org_id, user_id FROM sessions WHERE id = $4::bigint),"
              " d AS (DELETE FROM sessions s USING me WHERE s.user_id = me.user_id"
              "          AND s.org_id = me.org_id AND NOT ($5::boolean AND s.id = $4::bigint)"
              "       RETURNING s.id),"
              " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id,"
              "                                 details)"
              "       SELECT org_id, user_id, 'session.logout_everywhere', 'user', user_id,"
              "              jsonb_build_object('sessions', (SELECT count(*) FROM d),"
              "                                 'kept_this', $5::boolean) FROM me)"
              "SELECT 200, json_build_object('logged_out', (SELECT count(*) FROM d))");
}

/* Who the caller is, as the session resolves her: national (her org may
 * have chapters), and acting (the chapter she acts in, until when, and her
 * own org) while a window lasts (schema 028); and the stage of her login:
 * "full", or the step still owed ("code", "enrol"; the page then asks for
 * it). */
void api_me(struct api_call *call)
{
    api_add_param(call, call->session_id);
    api_run_sql(call,
                "SELECT 200, json_build_object('user', " USER_JSON ", 'csrf_token', s.csrf_token,"
                "       'stage', s.stage, 'national', o.national,"
                "       'acting', CASE WHEN s.org_id <> o.id THEN json_build_object("
                "           'org', json_build_object('id', o.id, 'name', o.name),"
                "           'until', s.acting_until, 'home', h.name) END)"
                "  FROM sessions s JOIN users u ON u.id = $2::bigint AND u.org_id = $1::bigint"
                "  JOIN orgs o ON o.id = u.org_id JOIN orgs h ON h.id = s.org_id"
                " WHERE s.id = $4::bigint");
}

/* A second factor's attempts are counted per user in their own limiter
 * (CODE_BURST_PER_USER at once, then one per CODE_INTERVAL_PER_USER_MS:
 * main.c), before the code is looked at, as passwords are. */
static void code_key(struct api_call *call, char key[40])
{
    snprintf(key, 40, "t:%s", call->user_id);
}

int api_code_attempt(struct api_call *call)
{
    char key[40];
    code_key(call, key);
    uint64_t wait = tocsin_ratelimit_wait(call->dash->throttle_code, key, now_ms(call));
    if (!wait)
        return 0;
    log_warn("code_throttled", "user=%s addr=%s", call->user_id,
             tocsin_http_remote_addr(call->req));
    char v[16];
    unsigned s = (unsigned)((wait + 999) / 1000);
    snprintf(v, sizeof v, "%u", s);
    tocsin_http_add_header(call->req, "Retry-After", v);
    tocsin_http_error(call->req, 429, "too_many_attempts",
                      "too many codes tried; try again in %u seconds", s);
    return -1;
}

void api_code_attempts_clear(struct api_call *call)
{
    char key[40];
    code_key(call, key);
    tocsin_ratelimit_clear(call->dash->throttle_code, key);
}

/* --- invites --- */

int api_invite_token(struct api_call *call, char hex[67], char url[600])
{
    char token[64];
    if (tocsin_random_token(32, token, sizeof token) != 0) {
        tocsin_http_error(call->req, 500, "internal", "could not make an invite token");
        return -1;
    }
    api_token_hash_hex(token, strlen(token), hex);
    /* In the fragment: browsers never send it, so no server or proxy logs it. */
    snprintf(url, 600, "%s/#token=%s", call->dash->d->cfg.dashboard_url, token);
    return 0;
}

void api_invite_create(struct api_call *call)
{
    const char *email = api_body_text(call, "email");
    const char *role = api_body_text(call, "role");
    char hex[67], url[600];
    if (role && strcmp(role, "volunteer") != 0 && strcmp(role, "lead") != 0 &&
        strcmp(role, "admin") != 0) {
        tocsin_http_error(call->req, 400, "invalid", "a role is admin, lead or volunteer");
        return;
    }
    /* The address the account will have (users' CHECK): refused now, not
     * when the invitee has chosen a password. */
    if (email && *email &&
        (strlen(email) > 254 || !strchr(email, '@') || strpbrk(email, " \t\r\n"))) {
        tocsin_http_error(call->req, 400, "invalid", "that email address is not valid");
        return;
    }
    if (api_invite_token(call, hex, url) != 0)
        return;
    api_add_param(call, email && *email ? email : NULL);
    api_add_param(call, role ? role : "volunteer");
    api_add_param(call, hex);
    api_add_param(call, url);
    api_run_sql(
        call,
        "WITH i AS (INSERT INTO invites (org_id, token_hash, email, role, created_by, expires_at)"
        "           VALUES ($1::bigint, $6::bytea, $4::text, $5::text, $2::bigint,"
        "                   now() + interval '7 days') RETURNING id, expires_at, role, email),"
        " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id,"
        "                                 details)"
        "       SELECT $1::bigint, $2::bigint, 'invite.create', 'invite', id,"
        "              jsonb_build_object('role', role, 'email', email) FROM i)"
        "SELECT 201, json_build_object('id', id, 'url', $7::text, 'role', role,"
        "       'expires_at', expires_at) FROM i");
}

/* The invite's token from the body becomes parameter $4 as its SHA-256;
 * returns 0, or -1 after answering 404 (a token that cannot exist). */
static int add_token_hash(struct api_call *call)
{
    const char *token = api_body_text(call, "token");
    size_t n = token ? strlen(token) : 0;
    int ok = n > 0 && n <= 128;
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)token[i]) || token[i] == '-' || token[i] == '_';
    if (!ok) {
        tocsin_http_error(call->req, 404, "not_found", "no such invite");
        return -1;
    }
    char hex[67];
    api_token_hash_hex(token, n, hex);
    call->nparams = 3;
    api_add_param(call, hex);
    return 0;
}

void api_invite_show(struct api_call *call)
{
    if (add_token_hash(call) != 0)
        return;
    /* reset: the link an admin made to reset this user's password. */
    api_run_sql(call,
                "SELECT 200, json_build_object('email', i.email, 'role', i.role, 'org', o.name,"
                "       'reset', i.user_id IS NOT NULL, 'display_name', u.display_name)"
                "  FROM invites i JOIN orgs o ON o.id = i.org_id"
                "  LEFT JOIN users u ON u.org_id = i.org_id AND u.id = i.user_id"
                " WHERE i.token_hash = $4::bytea AND i.used_at IS NULL AND i.expires_at > now()");
}

static void invite_hashed(const char *hash, void *arg)
{
    struct api_call *call = arg;
    if (!hash) {
        tocsin_http_error(call->req, 500, "internal", "could not hash the password");
        return;
    }
    api_add_param(call, hash);
    /* The invite is spent and the user made in one statement: a second
     * use of the link finds no unused invite, a taken email fails both.
     * A reset link (invites.user_id, schema 023) sets that user's
     * password instead, unless she was disabled since. */
    api_run_sql(
        call, "WITH i AS (UPDATE invites SET used_at = now()"
              "            WHERE token_hash = $4::bytea AND used_at IS NULL AND expires_at > now()"
              "           RETURNING id, org_id, role, coalesce(email, $6::text) AS email, user_id),"
              " u AS (INSERT INTO users (org_id, email, display_name, role, password_hash)"
              "       SELECT org_id, email, coalesce($5::text, ''), role, $7::text FROM i"
              "        WHERE i.user_id IS NULL"
              "       RETURNING id, org_id, email, role),"
              " r AS (UPDATE users SET password_hash = $7::text,"
              "              display_name = coalesce(nullif($5::text, ''), users.display_name)"
              "         FROM i WHERE users.org_id = i.org_id AND users.id = i.user_id"
              "          AND users.disabled_at IS NULL"
              "       RETURNING users.id, users.org_id, users.email, users.role),"
              " x AS (SELECT *, 'invite.accept' AS action FROM u"
              "       UNION ALL SELECT *, 'user.password_set' FROM r),"
              " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id)"
              "       SELECT org_id, id, action, 'user', id FROM x)"
              "SELECT 201, json_build_object('email', email, 'role', role) FROM x");
}

struct accept {
    struct api_call *call;
    char *password; /* in the request's arena (the JSON body is gone by then) */
};

/* The invite is live: only now is the password worth 64 MiB of argon2id. */
static void invite_checked(const struct tocsin_db_result *r, void *ctx)
{
    struct accept *a = ctx;
    struct api_call *call = a->call;
    if (r->error) {
        api_db_error(call, "invite", r->error);
        return;
    }
    if (PQntuples(r->res) != 1) {
        tocsin_http_error(call->req, 404, "not_found", "no such invite");
        return;
    }
    int rc = dash_password_hash(a->password, invite_hashed, call);
    if (rc == DASH_PASSWORD_BUSY)
        api_password_busy(call);
    else if (rc != 0)
        tocsin_http_error(call->req, 500, "internal", "out of memory");
}

void api_invite_accept(struct api_call *call)
{
    const char *name = api_body_text(call, "display_name");
    const char *email = api_body_text(call, "email");
    const char *password = api_body_text(call, "password");
    size_t pl = password ? strlen(password) : 0;
    if (add_token_hash(call) != 0)
        return;
    if (pl < PASSWORD_MIN || pl > PASSWORD_MAX) {
        tocsin_http_error(call->req, 400, "weak_password",
                          "choose a password of at least %d characters", PASSWORD_MIN);
        return;
    }
    struct tocsin_arena *arena = tocsin_http_arena(call->req);
    struct accept *a = tocsin_arena_alloc(arena, sizeof *a);
    if (!a || !(a->password = tocsin_arena_strndup(arena, password, pl))) {
        tocsin_http_error(call->req, 500, "internal", "out of memory");
        return;
    }
    a->call = call;
    api_add_param(call, name);
    api_add_param(call, email && *email ? email : NULL);
    const char *params[] = {call->params[3]};
    if (tocsin_db_query(call->dash->d->db,
                        "SELECT 1 FROM invites WHERE token_hash = $1::bytea AND used_at IS NULL"
                        "   AND expires_at > now()",
                        1, params, invite_checked, a) != 0)
        tocsin_http_error(call->req, 503, "unavailable", "the dashboard is shutting down");
}
